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

#define HERD__SCENARIO_ROW(name, NAME, live, sim) extern const struct herd_scenario herd_scenario_##name;
HERD_SCENARIO_LIST(HERD__SCENARIO_ROW)
#undef HERD__SCENARIO_ROW

#endif
