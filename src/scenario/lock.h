/* lock.h — the distributed-lock retry storm's strategies and typed settings (row: lock.c).
 * N workers need the same lock, stored in a real Redis, at the same moment.
 */
#ifndef HERD_SCENARIO_LOCK_H
#define HERD_SCENARIO_LOCK_H

#include <stdbool.h>
#include <stdint.h>

/* X(ID, name, FAMILY, help): the naive strategy first. */
#define HERD_LOCK_STRATEGIES(X)                                                                    \
    X(SAME_TIMEOUT, "same-timeout", NAIVE,                                                         \
      "every worker that finds the lock taken retries SET NX after the same retry_ms")             \
    X(BACKOFF, "backoff", SPREAD_TIME,                                                             \
      "retry after a full-jitter exponential backoff (herd/backoff.h: U[retry_ms, "                \
      "min(cap_ms, retry_ms * 2^n)])")                                                             \
    X(QUEUE, "queue", WAKE_FEWER,                                                                  \
      "notify-one: workers block in BLPOP on a list holding one token; a release pushes "          \
      "it back and Redis hands it to the longest waiter")

enum herd_lock_strategy {
#define HERD__LOCK_ENUM(id, name, family, help) HERD_LOCK_##id,
    HERD_LOCK_STRATEGIES(HERD__LOCK_ENUM)
#undef HERD__LOCK_ENUM
};

enum herd_lock_service {
    HERD_LOCK_REDIS, /* redis-server: SET NX PX, a compare-and-delete script, BLPOP */
};

struct herd_lock_config {
    enum herd_lock_strategy strategy;
    enum herd_lock_service service;
    int64_t hold_ns;     /* the holder's work with the lock held */
    int64_t retry_ns;    /* same-timeout: the retry interval; backoff: its base */
    int64_t cap_ns;      /* backoff: the longest wait */
    int64_t lease_ns;    /* PX: the lock expires this long after it was taken */
    int64_t deadline_ns; /* a worker gives up this long after the trigger (failed) */
    bool external;       /* the user's server (the spec's text is its URL), not a private one */
};

#endif
