/* zklock.c — the ZooKeeper lock's catalogue row, parameters and decoder (zklock.h).
 * Seed 000: a distributed lock stored in ZooKeeper; the textbook fix of its herd is
 * ZooKeeper's own lock recipe (watch your predecessor, not the lock node). */
#include "scenario.h"

#include "scenario_int.h"

static const struct herd_strategy_def strategies[] = {
    HERD_ZKLOCK_STRATEGIES(HERD_STRATEGY_DEF){NULL, 0, NULL},
};

enum {
    P_HOLD_US,
    P_SESSION_MS,
    P_DEADLINE_MS,
    P_URL,
};

static const struct herd_param_def params[] = {
    [P_HOLD_US] = {"hold_us",
                   HERD_PARAM_INT,
                   1000,
                   0,
                   1000000,
                   "us",
                   {NULL},
                   "the holder's work with the lock held"},
    [P_SESSION_MS] = {"session_ms",
                      HERD_PARAM_INT,
                      20000,
                      2000,
                      60000,
                      "ms",
                      {NULL},
                      "each worker's ZooKeeper session timeout"},
    [P_DEADLINE_MS] = {"deadline_ms",
                       HERD_PARAM_INT,
                       60000,
                       10,
                       3600000,
                       "ms",
                       {NULL},
                       "a worker gives up (failed) this long after the trigger"},
    [P_URL] = {"url",
               HERD_PARAM_TEXT,
               0,
               0,
               0,
               "",
               {NULL},
               "your own ZooKeeper (HOST:PORT) instead of the private one herd starts for the "
               "run; herd creates and deletes only nodes under /herd-lock, and its counts "
               "(mntr) then include the server's other clients"},
    {NULL, 0, 0, 0, 0, NULL, {NULL}, NULL},
};

static void decode(const double *p, int strategy, union herd_scenario_config *out)
{
    out->zklock = (struct herd_zklock_config){
        .strategy = (enum herd_zklock_strategy)strategy,
        .hold_ns = herd__us_ns(p[P_HOLD_US]),
        .session_ns = herd__ms_ns(p[P_SESSION_MS]),
        .deadline_ns = herd__ms_ns(p[P_DEADLINE_MS]),
        .external = p[P_URL] != 0,
    };
}

HERD__TABLES_FIT(params, strategies);

const struct herd_scenario herd_scenario_zklock = {
    .id = HERD_SC_ZKLOCK,
    .name = "zk-lock",
    .backends = HERD_BACKENDS_ZKLOCK,
    .summary = "N workers need the same ZooKeeper lock at once; a release wakes its watchers",
    .trigger = "N workers need the lock at the same moment",
    .waiters = "N worker threads, each with its own ZooKeeper session",
    .resource = "the coordination service (a real ZooKeeper)",
    .n_default = 200,
    .events_default = 5,
    .waiter_noun = "worker",
    .strategies = strategies,
    .default_mitigation = HERD_ZKLOCK_PREDECESSOR,
    .params = params,
    .decode = decode,
};
