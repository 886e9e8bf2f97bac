/* sim.h — the simulated backend's front door (DESIGN §5).
 *
 * Front ends call herd_sim_run() with the same spec they give the live backend and get
 * the same report (DESIGN §1), plus sim_time_ns. A run is a pure function of its spec
 * and profile: same parameters and seed, byte-identical report. Its elapsed_ns is the
 * simulated span (= sim_time_ns), not wall time: the simulator reads no clock, and the
 * caller may report the wall time on its own (herd run prints it on stderr).
 * Thread safety: runs share nothing; several may run at once on different threads.
 */
#ifndef HERD_SIM_SIM_H
#define HERD_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>

#include "../report/profile.h"
#include "../report/report.h"
#include "engine.h" /* struct herd_sim_watch */

/** Has @p scenario a simulation model? */
bool herd_sim_supports(const char *scenario);

/**
 * Simulate @p spec with the machine costs of @p prof (herd calibrate's profile, or the
 * defaults) and fill @p r (initialised here; the caller calls herd_report_fini).
 * @return 0 or a negative code with one line in @p err.
 */
int herd_sim_run(const struct herd_run_spec *spec, const struct herd_profile *prof,
                 struct herd_report *r, char *err, size_t errlen);

/**
 * herd_sim_run() watched by @p watch (may be NULL; borrowed; see engine.h): its poll
 * sees the run's progress every HERD_SIM_WATCH_EVERY units of work and may stop it, which
 * makes this return -HERD_EINTR. Watching changes nothing in the report.
 */
int herd_sim_run_watched(const struct herd_run_spec *spec, const struct herd_profile *prof,
                         const struct herd_sim_watch *watch, struct herd_report *r, char *err,
                         size_t errlen);

#endif
