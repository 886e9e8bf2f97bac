/* cron.c — the cron herd's catalogue row, parameters and decoder (cron.h). */
#include "scenario.h"

#include "scenario_int.h"

static const struct herd_strategy_def strategies[] = {
    HERD_CRON_STRATEGIES(HERD_STRATEGY_DEF){NULL, 0, NULL},
};

enum { P_WINDOW_MS, P_PERIOD_MS, P_BACKEND_WORKERS, P_WORK_US, P_TIMEOUT_MS, P_SKEW_MS };

static const struct herd_param_def params[] = {
    [P_WINDOW_MS] = {"window_ms", HERD_PARAM_INT, 500, 1, 600000, "ms", {NULL},
                     "jitter or splay window (time compressed: 500 ms stands for a minute)"},
    [P_PERIOD_MS] = {"period_ms", HERD_PARAM_INT, 1000, 100, 3600000, "ms", {NULL},
                     "the schedule: clients fire at wall-clock multiples of this period"},
    [P_BACKEND_WORKERS] = {"backend_workers", HERD_PARAM_INT, 4, 1, 256, "workers", {NULL},
                           "the backend's fixed pool of workers"},
    [P_WORK_US] = {"work_us", HERD_PARAM_INT, 200, 1, 1000000, "us", {NULL},
                   "real CPU work the backend does per request"},
    [P_TIMEOUT_MS] = {"timeout_ms", HERD_PARAM_INT, 10000, 1, 600000, "ms", {NULL},
                      "a client gives up on its request after this long"},
    [P_SKEW_MS] = {"skew_ms", HERD_PARAM_DOUBLE, 1.0, 0, 60000, "ms", {NULL},
                   "sim: standard deviation of the clients' clock skew (NTP-synced hosts: "
                   "~1 ms)"},
    {NULL, 0, 0, 0, 0, NULL, {NULL}, NULL},
};

static void decode(const double *p, int strategy, union herd_scenario_config *out)
{
    out->cron = (struct herd_cron_config){
        .strategy = (enum herd_cron_strategy)strategy,
        .window_ns = herd__ms_ns(p[P_WINDOW_MS]),
        .period_ns = herd__ms_ns(p[P_PERIOD_MS]),
        .backend_workers = (int)p[P_BACKEND_WORKERS],
        .work_ns = herd__us_ns(p[P_WORK_US]),
        .timeout_ns = herd__ms_ns(p[P_TIMEOUT_MS]),
        .skew_sd_ns = p[P_SKEW_MS] * 1e6,
    };
}

HERD__TABLES_FIT(params, strategies);

const struct herd_scenario herd_scenario_cron = {
    .id = HERD_SC_CRON,
    .name = "cron",
    .backends = HERD_BACKENDS_CRON,
    .summary = "N clients with the same crontab line call one backend at the boundary",
    .trigger = "the wall clock reaches the schedule's boundary",
    .waiters = "N client threads sleeping until the boundary (CLOCK_REALTIME)",
    .resource = "the backend's worker pool and queue",
    .n_default = 500,
    .events_default = 1,
    .waiter_noun = "client",
    .strategies = strategies,
    .default_mitigation = HERD_CRON_JITTER,
    .params = params,
    .decode = decode,
};
