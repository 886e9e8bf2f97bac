/* model_condvar.h — the condvar herd's simulation model, with a trace hook for tests.
 *
 * The front door (sim.c) runs the model through herd__sim_condvar; tests that diff a
 * golden trace call the traced entry point below, which is the same run with every
 * dispatched event reported to @p trace (see engine.h, herd_sim_trace_fn).
 */
#ifndef HERD_SIM_MODEL_CONDVAR_H
#define HERD_SIM_MODEL_CONDVAR_H

#include <stddef.h>

#include "../scenario/profile.h"
#include "../report/report.h"
#include "../scenario/scenario.h"
#include "engine.h"

/**
 * Simulate the condvar herd of @p spec with the costs of @p prof into @p r (already
 * initialised by herd_report_init). @p hooks (may be NULL; borrowed) trace every
 * event and watch the run (engine.h). @return 0 or a negative code with one line in @p err.
 */
int herd__sim_condvar_run_hooked(const struct herd_run_spec *spec, const struct herd_profile *prof,
                                 struct herd_report *r, const struct herd_sim_hooks *hooks,
                                 char *err, size_t errlen);

#endif
