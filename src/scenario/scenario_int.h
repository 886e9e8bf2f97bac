/* scenario_int.h — what the scenario files share: unit conversions for their decoders
 * and the catalogue rows' declarations (generated from list.h). */
#ifndef HERD_SCENARIO_INT_H
#define HERD_SCENARIO_INT_H

#include <math.h>
#include <stdint.h>

#include "scenario.h"

/* Decoded durations are whole nanoseconds, rounded (params are validated and finite). */
static inline int64_t herd__ms_ns(double ms)
{
    return (int64_t)llround(ms * 1e6);
}

static inline int64_t herd__us_ns(double us)
{
    return (int64_t)llround(us * 1e3);
}

/* Each scenario file's tables fit the arrays a run spec and a request hold them in
 * (both end with a NULL row): a too-long table fails to compile, not to run. */
#define HERD__TABLES_FIT(params, strategies)                                                \
    _Static_assert(sizeof(params) / sizeof((params)[0]) - 1 <= HERD_MAX_PARAMS,             \
                   "more parameters than HERD_MAX_PARAMS");                                 \
    _Static_assert(sizeof(strategies) / sizeof((strategies)[0]) - 1 <= HERD_MAX_STRATEGIES, \
                   "more strategies than HERD_MAX_STRATEGIES")

#define HERD__SCENARIO_ROW(name, NAME, live, sim) extern const struct herd_scenario herd_scenario_##name;
HERD_SCENARIO_LIST(HERD__SCENARIO_ROW)
#undef HERD__SCENARIO_ROW

#endif
