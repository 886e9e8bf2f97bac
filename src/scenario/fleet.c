/* fleet.c — the catalogue's `fleet` row: scenario files (file.h) as a kind of scenario.
 *
 * Each loaded file has a row of its own (herd_fleet_file_scenario), with the file's name,
 * summary and mitigations; those rows are what `herd run FILE.yaml` and `herd run NAME`
 * resolve to. This one is the kind's place in the one list (list.h): its id, its column
 * (simulator only), its member of the config union. It names no file, so the simulator
 * refuses to run it (model_fleet.c) with a line that says how to name one.
 */
#include "scenario.h"

#include "scenario_int.h"

static const struct herd_strategy_def strategies[] = {
    {"naive", HERD_FAMILY_NAIVE, "the scenario file as written"},
    {"mitigated", HERD_FAMILY_PROTECT,
     "one of the file's own mitigations (or several: --mitigation a+b)"},
    {NULL, 0, NULL},
};

static const struct herd_param_def params[] = {
    {NULL, 0, 0, 0, 0, NULL, {NULL}, NULL},
};

static void decode(const double *p, int strategy, union herd_scenario_config *out)
{
    (void)p;
    out->fleet = (struct herd_fleet_config){NULL, strategy};
}

HERD__TABLES_FIT(params, strategies);

const struct herd_scenario herd_scenario_fleet = {
    .id = HERD_SC_FLEET,
    .name = "fleet",
    .backends = HERD_BACKENDS_FLEET,
    .summary = "a scenario file (YAML): client fleets, services, caches, load balancers and "
               "coordination services wired by calls with timeouts and retries, faults on a "
               "timeline (herd run FILE.yaml or NAME)",
    .trigger = "the file's faults and arrivals",
    .waiters = "attempts that reach the file's herd resource",
    .resource = "the component the file names as its herd",
    .n_default = 1,
    .events_default = 1,
    .waiter_noun = "attempt",
    .strategies = strategies,
    .default_mitigation = 1,
    .params = params,
    .decode = decode,
    .fixed_size = true,
};
