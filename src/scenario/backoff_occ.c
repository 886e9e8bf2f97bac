/* backoff_occ.c — the backoff study's catalogue row, parameters and decoder. */
#include "scenario.h"

#include "scenario_int.h"

#include <stdio.h>

static const struct herd_strategy_def strategies[] = {
    HERD_BACKOFF_OCC_STRATEGIES(HERD_STRATEGY_DEF){NULL, 0, NULL},
};

enum { P_HOP_MS, P_HOP_SD_MS, P_BASE_MS, P_CAP_MS };

static const struct herd_param_def params[] = {
    [P_HOP_MS] = {"hop_ms", HERD_PARAM_DOUBLE, 10, 0, 60000, "ms", {NULL},
                  "mean network hop (Normal)"},
    [P_HOP_SD_MS] = {"hop_sd_ms", HERD_PARAM_DOUBLE, 2, 0, 60000, "ms", {NULL},
                     "hop standard deviation; a hop takes |Normal(hop_ms, hop_sd_ms)|"},
    [P_BASE_MS] = {"base_ms", HERD_PARAM_DOUBLE, 5, 0, 60000, "ms", {NULL}, "backoff base"},
    [P_CAP_MS] = {"cap_ms", HERD_PARAM_DOUBLE, 2000, 0, 3600000, "ms", {NULL}, "backoff cap"},
    {NULL, 0, 0, 0, 0, NULL, {NULL}, NULL},
};

static void decode(const double *p, int strategy, union herd_scenario_config *out)
{
    out->backoff_occ = (struct herd_backoff_occ_config){
        .strategy = (enum herd_backoff_occ_strategy)strategy,
        .hop_ns = p[P_HOP_MS] * 1e6,
        .hop_sd_ns = p[P_HOP_SD_MS] * 1e6,
        .base_ns = herd__ms_ns(p[P_BASE_MS]),
        .cap_ns = herd__ms_ns(p[P_CAP_MS]),
    };
}

static int validate(const struct herd_run_spec *spec, char *err, size_t errlen)
{
    if (spec->params[P_CAP_MS] < spec->params[P_BASE_MS]) {
        snprintf(err, errlen, "cap_ms (%g) must be at least base_ms (%g)", spec->params[P_CAP_MS],
                 spec->params[P_BASE_MS]);
        return -1;
    }
    return 0;
}

HERD__TABLES_FIT(params, strategies);

const struct herd_scenario herd_scenario_backoff_occ = {
    .id = HERD_SC_BACKOFF_OCC,
    .name = "backoff-occ",
    .backends = HERD_BACKENDS_BACKOFF_OCC,
    .summary = "N clients race to update one row under optimistic concurrency (AWS 2015 study)",
    .trigger = "every client starts at t = 0",
    .waiters = "N clients reading a version, then writing conditionally",
    .resource = "the row (every conditional write received is work)",
    .n_default = 100,
    .events_default = 1,
    .waiter_noun = "client",
    .strategies = strategies,
    .default_mitigation = HERD_BACKOFF_OCC_FULL_JITTER,
    .params = params,
    .decode = decode,
    .validate = validate,
};
