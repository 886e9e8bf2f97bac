/* model_backoff_occ.h — the `backoff-occ` preset's internal entry point, for golden-trace
 * tests. herd_sim_run() is the front door; this adds a trace hook to the same run. */
#ifndef HERD_SIM_MODEL_BACKOFF_OCC_H
#define HERD_SIM_MODEL_BACKOFF_OCC_H

#include <stddef.h>

#include "engine.h"
#include "sim_int.h"

/**
 * Simulate the backoff-occ preset @p spec into @p r (initialised by the caller with
 * herd_report_init(r, spec, "sim")), calling @p hooks (may be NULL; engine.h): its trace
 * sees every dispatched event (entity = client index). @p prof is not used (the
 * study's costs are the preset's parameters). @return 0 or a negative code with one
 * line in @p err.
 */
int herd__sim_backoff_occ_run_hooked(const struct herd_run_spec *spec,
                                     const struct herd_profile *prof, struct herd_report *r,
                                     const struct herd_sim_hooks *hooks, char *err,
                                     size_t errlen);

#endif
