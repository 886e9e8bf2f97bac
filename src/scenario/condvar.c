/* condvar.c — the condition-variable herd's catalogue row, parameters and decoder. */
#include "scenario.h"

#include "scenario_int.h"

static const struct herd_strategy_def strategies[] = {
    HERD_CONDVAR_STRATEGIES(HERD_STRATEGY_DEF){NULL, 0, NULL},
};

enum { P_PRIMITIVE, P_SETTLE_MS, P_CORES };

static const struct herd_param_def params[] = {
    [P_PRIMITIVE] = {"primitive", HERD_PARAM_ENUM, 0, 0, 0, "", {"pthread", "futex", NULL},
                     "pthread_cond_t guarding a queue, or a raw futex word (FUTEX_WAKE all vs 1)"},
    [P_SETTLE_MS] = {"settle_ms", HERD_PARAM_INT, 500, 1, 10000, "ms", {NULL},
                     "longest wait for the woken waiters to go back to sleep after an event"},
    [P_CORES] = {"cores", HERD_PARAM_INT, 0, 0, 4096, "cores", {NULL},
                 "sim: CPUs the threads share (0: the calibrated profile's)"},
    {NULL, 0, 0, 0, 0, NULL, {NULL}, NULL},
};

static void decode(const double *p, int strategy, union herd_scenario_config *out)
{
    out->condvar = (struct herd_condvar_config){
        .strategy = (enum herd_condvar_strategy)strategy,
        .primitive = (enum herd_condvar_primitive)p[P_PRIMITIVE],
        .settle_ns = herd__ms_ns(p[P_SETTLE_MS]),
        .cores = (int)p[P_CORES],
    };
}

/* On a raw futex the mechanism is FUTEX_WAKE of all or of one: say so in reports. */
static const char *strategy_name(const struct herd_run_spec *spec)
{
    const struct herd_condvar_config *c = &spec->cfg.condvar;
    if (c->primitive != HERD_CONDVAR_FUTEX)
        return NULL;
    switch (c->strategy) {
    case HERD_CONDVAR_BROADCAST:
        return "futex-wake-all";
    case HERD_CONDVAR_SIGNAL:
        return "futex-wake-one";
    }
    return NULL;
}

HERD__TABLES_FIT(params, strategies);

const struct herd_scenario herd_scenario_condvar = {
    .id = HERD_SC_CONDVAR,
    .name = "condvar",
    .backends = HERD_BACKENDS_CONDVAR,
    .summary = "N threads wait on a condition variable; one item is queued",
    .trigger = "the producer queues one item",
    .waiters = "N threads in pthread_cond_wait (or FUTEX_WAIT)",
    .resource = "the mutex guarding the queue",
    .n_default = 1000,
    .events_default = 100,
    .waiter_noun = "thread",
    .strategies = strategies,
    .default_mitigation = HERD_CONDVAR_SIGNAL,
    .params = params,
    .decode = decode,
    .strategy_name = strategy_name,
};
