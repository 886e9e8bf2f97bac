/* accept.c — the accept herd's catalogue row, parameters and decoder (accept.h). */
#include "scenario.h"

#include "scenario_int.h"

static const struct herd_strategy_def strategies[] = {
    HERD_ACCEPT_STRATEGIES(HERD_STRATEGY_DEF){NULL, 0, NULL},
};

enum { P_WORKERS, P_PATTERN, P_SETTLE_MS, P_CORES };

static const struct herd_param_def params[] = {
    [P_WORKERS] = {"workers", HERD_PARAM_ENUM, 0, 0, 0, "", {"thread", "process", NULL},
                   "waiters are threads of one process or forked processes"},
    [P_PATTERN] = {"pattern", HERD_PARAM_ENUM, 0, 0, 0, "", {"serial", "burst", NULL},
                   "serial: one connection at a time, each settled before the next; burst: all "
                   "at once"},
    [P_SETTLE_MS] = {"settle_ms", HERD_PARAM_INT, 500, 1, 10000, "ms", {NULL},
                     "longest wait for the woken waiters to go back to sleep after an event"},
    [P_CORES] = {"cores", HERD_PARAM_INT, 0, 0, 4096, "cores", {NULL},
                 "sim: CPUs the workers share (0: the calibrated profile's)"},
    {NULL, 0, 0, 0, 0, NULL, {NULL}, NULL},
};

static void decode(const double *p, int strategy, union herd_scenario_config *out)
{
    out->accept = (struct herd_accept_config){
        .strategy = (enum herd_accept_strategy)strategy,
        .workers = (enum herd_accept_workers)p[P_WORKERS],
        .pattern = (enum herd_accept_pattern)p[P_PATTERN],
        .settle_ns = herd__ms_ns(p[P_SETTLE_MS]),
        .cores = (int)p[P_CORES],
    };
}

HERD__TABLES_FIT(params, strategies);

const struct herd_scenario herd_scenario_accept = {
    .id = HERD_SC_ACCEPT,
    .name = "accept",
    .backends = HERD_BACKENDS_ACCEPT,
    .summary = "N workers wait on one listening socket; a connection arrives",
    .trigger = "a connection arrives on 127.0.0.1",
    .waiters = "N workers (threads or processes), each in epoll_wait or accept",
    .resource = "the listening socket and the CPUs",
    .n_default = 1000,
    .events_default = 100, /* x 3 live runs: 300 samples, a p99 bounded above at 95 % */
    .waiter_noun = "worker",
    .strategies = strategies,
    .default_mitigation = HERD_ACCEPT_EPOLL_EXCLUSIVE,
    .params = params,
    .decode = decode,
};
