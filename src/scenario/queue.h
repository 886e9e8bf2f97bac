/* queue.h — the organic-traffic baseline's strategies and typed settings (row: queue.c):
 * open Poisson arrivals into c workers (simulator only). */
#ifndef HERD_SCENARIO_QUEUE_H
#define HERD_SCENARIO_QUEUE_H

#include <stdint.h>

/* X(ID, name, FAMILY, help): the naive strategy first. */
#define HERD_QUEUE_STRATEGIES(X)                                                            \
    X(FIFO, "fifo", NAIVE, "an unbounded (or queue_cap) first-in first-out queue")          \
    X(SHED, "shed", PROTECT,                                                                \
      "load shedding: a request that waited longer than shed_ms is dropped before service")

enum herd_queue_strategy {
#define HERD__QUEUE_ENUM(id, name, family, help) HERD_QUEUE_##id,
    HERD_QUEUE_STRATEGIES(HERD__QUEUE_ENUM)
#undef HERD__QUEUE_ENUM
};

enum herd_queue_service {
    HERD_QUEUE_EXP,       /* exponential service times: M/M/c */
    HERD_QUEUE_DET,       /* deterministic: M/D/c */
    HERD_QUEUE_LOGNORMAL, /* log-normal */
};

struct herd_queue_config {
    enum herd_queue_strategy strategy;
    double rate;        /* arrivals per second (Poisson) */
    int servers;        /* workers serving the queue */
    enum herd_queue_service service;
    double service_ns;  /* mean service time */
    double duration_ns; /* simulated time of arrivals */
    int64_t queue_cap;  /* 0: unbounded */
    int64_t shed_ns;    /* shed: the longest wait allowed */
    int64_t timeout_ns; /* a client gives up after this long; 0: never */
};

#endif
