/* queue.c — the organic baseline's catalogue row, parameters and decoder (queue.h). */
#include "scenario.h"

#include "scenario_int.h"

static const struct herd_strategy_def strategies[] = {
    HERD_QUEUE_STRATEGIES(HERD_STRATEGY_DEF){NULL, 0, NULL},
};

enum {
    P_RATE,
    P_SERVERS,
    P_SERVICE,
    P_SERVICE_US,
    P_DURATION_S,
    P_QUEUE_CAP,
    P_TIMEOUT_MS,
    P_SHED_MS,
};

static const struct herd_param_def params[] = {
    /* Defaults: utilisation 0.95, where an M/M/1 queue's mean wait is 9.5 ms and 12.8 %
     * of requests wait longer than 20 ms (0.95 e^-2): the clients that give up at 20 ms
     * leave work behind (wasted) that shedding at 20 ms turns into fast failures. */
    [P_RATE] = {"rate", HERD_PARAM_DOUBLE, 1900, 0.001, 1e9, "req/s", {NULL},
                "open Poisson arrival rate (lambda)"},
    [P_SERVERS] = {"servers", HERD_PARAM_INT, 1, 1, 100000, "workers", {NULL},
                   "workers serving the queue (c)"},
    [P_SERVICE] = {"service", HERD_PARAM_ENUM, 0, 0, 0, "", {"exp", "det", "lognormal", NULL},
                   "service-time distribution: exponential (M/M/c), deterministic (M/D/c), "
                   "log-normal"},
    [P_SERVICE_US] = {"service_us", HERD_PARAM_DOUBLE, 500, 0.001, 1e9, "us", {NULL},
                      "mean service time (1/mu)"},
    [P_DURATION_S] = {"duration_s", HERD_PARAM_DOUBLE, 10, 0.001, 1e6, "s", {NULL},
                      "simulated time of arrivals"},
    [P_QUEUE_CAP] = {"queue_cap", HERD_PARAM_INT, 0, 0, 100000000, "requests", {NULL},
                     "queue capacity (0: unbounded)"},
    [P_TIMEOUT_MS] = {"timeout_ms", HERD_PARAM_DOUBLE, 20, 0, 1e9, "ms", {NULL},
                      "a client gives up after this long in the system; work finished later "
                      "is wasted (0: clients wait for ever)"},
    [P_SHED_MS] = {"shed_ms", HERD_PARAM_DOUBLE, 20, 0, 1e9, "ms", {NULL},
                   "shed: the longest wait allowed"},
    {NULL, 0, 0, 0, 0, NULL, {NULL}, NULL},
};

static void decode(const double *p, int strategy, union herd_scenario_config *out)
{
    out->queue = (struct herd_queue_config){
        .strategy = (enum herd_queue_strategy)strategy,
        .rate = p[P_RATE],
        .servers = (int)p[P_SERVERS],
        .service = (enum herd_queue_service)p[P_SERVICE],
        .service_ns = p[P_SERVICE_US] * 1e3,
        .duration_ns = p[P_DURATION_S] * 1e9,
        .queue_cap = (int64_t)p[P_QUEUE_CAP],
        .shed_ns = herd__ms_ns(p[P_SHED_MS]),
        .timeout_ns = herd__ms_ns(p[P_TIMEOUT_MS]),
    };
}

HERD__TABLES_FIT(params, strategies);

const struct herd_scenario herd_scenario_queue = {
    .id = HERD_SC_QUEUE,
    .name = "queue",
    .backends = HERD_BACKENDS_QUEUE,
    .summary = "open Poisson traffic into c workers: the organic baseline a herd is compared to",
    .trigger = "requests arrive at random (Poisson) times",
    .waiters = "requests queued for c workers",
    .resource = "the workers",
    .n_default = 1,
    .events_default = 1,
    .waiter_noun = "request",
    .strategies = strategies,
    .default_mitigation = HERD_QUEUE_SHED,
    .params = params,
    .decode = decode,
};
