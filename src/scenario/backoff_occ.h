/* backoff_occ.h — Brooker's 2015 backoff study as a scenario (row: backoff_occ.c): N
 * clients race to update one row under optimistic concurrency (simulator only). */
#ifndef HERD_SCENARIO_BACKOFF_OCC_H
#define HERD_SCENARIO_BACKOFF_OCC_H

#include <stdint.h>

/* X(ID, name, FAMILY, help): the naive strategy first. */
#define HERD_BACKOFF_OCC_STRATEGIES(X)                                                      \
    X(NO_BACKOFF, "no-backoff", NAIVE, "a failed client re-reads at once (after one hop)")  \
    X(EXPONENTIAL, "exponential", SPREAD_TIME,                                              \
      "wait expo(n) = min(cap, base * 2^n): lock step, spread out")                         \
    X(FULL_JITTER, "full-jitter", SPREAD_TIME, "wait U(0, expo(n)): least total work (AWS 2015)") \
    X(EQUAL_JITTER, "equal-jitter", SPREAD_TIME, "wait expo(n)/2 + U(0, expo(n)/2)")        \
    X(DECORRELATED_JITTER, "decorrelated-jitter", SPREAD_TIME,                              \
      "per client: sleep = min(cap, U(base, 3 * sleep)), starting at base")

enum herd_backoff_occ_strategy {
#define HERD__BACKOFF_OCC_ENUM(id, name, family, help) HERD_BACKOFF_OCC_##id,
    HERD_BACKOFF_OCC_STRATEGIES(HERD__BACKOFF_OCC_ENUM)
#undef HERD__BACKOFF_OCC_ENUM
};

struct herd_backoff_occ_config {
    enum herd_backoff_occ_strategy strategy;
    double hop_ns;    /* mean network hop (Normal) */
    double hop_sd_ns; /* its standard deviation; a hop takes |Normal(hop, sd)| */
    int64_t base_ns;  /* backoff base */
    int64_t cap_ns;   /* backoff cap */
};

#endif
