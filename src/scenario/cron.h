/* cron.h — the cron herd's strategies and typed settings (row: cron.c). N clients with
 * the same crontab line call one backend at the schedule's boundary.
 */
#ifndef HERD_SCENARIO_CRON_H
#define HERD_SCENARIO_CRON_H

#include <stdint.h>

/* X(ID, name, FAMILY, help): the naive strategy first. */
#define HERD_CRON_STRATEGIES(X)                                                             \
    X(AT_BOUNDARY, "at-boundary", NAIVE, "every client fires at the boundary itself")      \
    X(JITTER, "jitter", SPREAD_TIME,                                                        \
      "each client sleeps a uniform random delay in [0, window) after the boundary "        \
      "(sleep $((RANDOM % 60)))")                                                           \
    X(SPLAY, "splay", SPREAD_TIME,                                                          \
      "each client waits a stable offset in [0, window) from a hash of its id, as "         \
      "systemd's RandomizedDelaySec with FixedRandomDelay=yes")

enum herd_cron_strategy {
#define HERD__CRON_ENUM(id, name, family, help) HERD_CRON_##id,
    HERD_CRON_STRATEGIES(HERD__CRON_ENUM)
#undef HERD__CRON_ENUM
};

struct herd_cron_config {
    enum herd_cron_strategy strategy;
    int64_t window_ns;   /* jitter or splay window */
    int64_t period_ns;   /* clients fire at wall-clock multiples of this period */
    int backend_workers; /* the backend's fixed pool of workers */
    int64_t work_ns;     /* CPU work the backend does per request */
    int64_t timeout_ns;  /* a client gives up on its request after this long */
    double skew_sd_ns;   /* sim: standard deviation of the clients' clock skew */
};

#endif
