/* accept.h — the accept herd's strategies and typed settings (catalogue row: accept.c).
 *
 * N workers wait on one listening socket on 127.0.0.1; a connection arrives. The live
 * backend (src/live/accept.c) runs it for real, the simulator (src/sim/model_accept.c)
 * models it from calibrated costs.
 */
#ifndef HERD_SCENARIO_ACCEPT_H
#define HERD_SCENARIO_ACCEPT_H

#include <stdint.h>

/* X(ID, name, FAMILY, help): the naive strategy first. */
#define HERD_ACCEPT_STRATEGIES(X)                                                           \
    X(EPOLL, "epoll", NAIVE,                                                                \
      "each worker's own epoll watches the shared socket, level-triggered, without "        \
      "EPOLLEXCLUSIVE: every connection wakes every worker")                                \
    X(EPOLL_EXCLUSIVE, "epoll-exclusive", WAKE_FEWER,                                       \
      "each worker's epoll adds the socket with EPOLLEXCLUSIVE (Linux 4.5): one wake per "  \
      "connection")                                                                         \
    X(REUSEPORT, "reuseport", SPREAD_SPACE,                                                 \
      "a listening socket per worker with SO_REUSEPORT: the kernel hashes each connection " \
      "to one socket")                                                                      \
    X(BLOCKING_ACCEPT, "blocking-accept", WAKE_FEWER,                                       \
      "workers sleep in accept() itself, which wakes exclusively (since Linux 2.6)")

enum herd_accept_strategy {
#define HERD__ACCEPT_ENUM(id, name, family, help) HERD_ACCEPT_##id,
    HERD_ACCEPT_STRATEGIES(HERD__ACCEPT_ENUM)
#undef HERD__ACCEPT_ENUM
};

enum herd_accept_workers {
    HERD_ACCEPT_THREADS,   /* threads of one process */
    HERD_ACCEPT_PROCESSES, /* forked processes */
};

enum herd_accept_pattern {
    HERD_ACCEPT_SERIAL, /* one connection per event, each settled before the next */
    HERD_ACCEPT_BURST,  /* all connections back to back, as one event */
};

struct herd_accept_config {
    enum herd_accept_strategy strategy;
    enum herd_accept_workers workers;
    enum herd_accept_pattern pattern;
    int64_t settle_ns; /* longest wait for the herd to go back to sleep after an event */
    int cores;         /* sim: CPUs the workers share; 0 = the calibrated profile's */
};

#endif
