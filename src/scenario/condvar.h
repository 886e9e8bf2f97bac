/* condvar.h — the condition-variable herd's strategies and typed settings (row:
 * condvar.c). N threads wait on a condition variable (or a raw futex); one item is queued.
 */
#ifndef HERD_SCENARIO_CONDVAR_H
#define HERD_SCENARIO_CONDVAR_H

#include <stdint.h>

/* X(ID, name, FAMILY, help): the naive strategy first. */
#define HERD_CONDVAR_STRATEGIES(X)                                                          \
    X(BROADCAST, "broadcast", NAIVE,                                                        \
      "pthread_cond_broadcast (futex-wake-all with primitive=futex): every waiter wakes "   \
      "and races for the mutex")                                                            \
    X(SIGNAL, "signal", WAKE_FEWER,                                                         \
      "pthread_cond_signal (or FUTEX_WAKE of 1 with primitive=futex): one item, one wake")

enum herd_condvar_strategy {
#define HERD__CONDVAR_ENUM(id, name, family, help) HERD_CONDVAR_##id,
    HERD_CONDVAR_STRATEGIES(HERD__CONDVAR_ENUM)
#undef HERD__CONDVAR_ENUM
};

enum herd_condvar_primitive {
    HERD_CONDVAR_PTHREAD, /* pthread_cond_t guarding a queue under one mutex */
    HERD_CONDVAR_FUTEX,   /* a raw futex word, FUTEX_WAKE all vs 1; the item taken by CAS */
};

struct herd_condvar_config {
    enum herd_condvar_strategy strategy;
    enum herd_condvar_primitive primitive;
    int64_t settle_ns; /* longest wait for the herd to go back to sleep after an event */
    int cores;         /* sim: CPUs the threads share; 0 = the calibrated profile's */
};

#endif
