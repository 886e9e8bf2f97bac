/* zklock.h — the ZooKeeper lock's strategies and typed settings (row: zklock.c).
 * N workers need the same lock, kept in a real ZooKeeper, at the same moment.
 */
#ifndef HERD_SCENARIO_ZKLOCK_H
#define HERD_SCENARIO_ZKLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* X(ID, name, FAMILY, help): the naive strategy first. */
#define HERD_ZKLOCK_STRATEGIES(X)                                                                  \
    X(NOTIFY_ALL, "notify-all", NAIVE,                                                             \
      "the herd recipe: every waiter watches the lock node; its deletion wakes them all "          \
      "and they race to create it again")                                                          \
    X(PREDECESSOR, "predecessor", WAKE_FEWER,                                                      \
      "ZooKeeper's own recipe: each waiter creates a sequential ephemeral node and "               \
      "watches only the one just below it; a release wakes exactly its successor")

enum herd_zklock_strategy {
#define HERD__ZKLOCK_ENUM(id, name, family, help) HERD_ZKLOCK_##id,
    HERD_ZKLOCK_STRATEGIES(HERD__ZKLOCK_ENUM)
#undef HERD__ZKLOCK_ENUM
};

struct herd_zklock_config {
    enum herd_zklock_strategy strategy;
    int64_t hold_ns;     /* the holder's work with the lock held */
    int64_t session_ns;  /* each worker's ZooKeeper session timeout */
    int64_t deadline_ns; /* a worker gives up this long after the trigger (failed) */
    bool external;       /* the user's ZooKeeper (the spec's text[0] is host:port) */
};

#endif
