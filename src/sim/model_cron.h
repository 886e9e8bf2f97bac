/* model_cron.h — the cron herd's simulation model, with a trace hook for golden tests.
 *
 * The front door (sim.c) runs the model through herd__sim_cron.run, which calls
 * herd__sim_cron_run_hooked() with no trace. Tests call it with a trace function to
 * record every dispatched event (simulated time, kind, entity).
 */
#ifndef HERD_SIM_MODEL_CRON_H
#define HERD_SIM_MODEL_CRON_H

#include <stddef.h>

#include "../scenario/profile.h"
#include "../report/report.h"
#include "../scenario/scenario.h"
#include "engine.h"

/**
 * Simulate the cron herd of @p spec with the costs of @p prof into @p r (initialised by
 * the caller, backend "sim"). @p hooks (may be NULL; borrowed) trace every event
 * and watch the run (engine.h). @return 0 or a negative code with one line in @p err.
 */
int herd__sim_cron_run_hooked(const struct herd_run_spec *spec, const struct herd_profile *prof,
                              struct herd_report *r, const struct herd_sim_hooks *hooks,
                              char *err, size_t errlen);

#endif
