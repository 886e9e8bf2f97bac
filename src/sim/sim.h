/* sim.h — the simulated backend's front door (DESIGN §5).
 *
 * herd_sim_backend (scenario/backend.h) runs the same specs as the live backend and fills
 * the same report (DESIGN §1), plus sim_time_ns. A run is a pure function of its spec and
 * profile: same parameters and seed, byte-identical report. The simulator reads no clock:
 * wall time is the front end's to measure (the report's provenance).
 * Thread safety: runs share nothing; several may run at once on different threads.
 */
#ifndef HERD_SIM_SIM_H
#define HERD_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>

#include "../report/report.h"
#include "../scenario/backend.h"
#include "../scenario/profile.h"
#include "engine.h"

/** The simulator as a backend: check() and run() for every scenario with a model. */
extern const struct herd_backend herd_sim_backend;

/**
 * Simulate @p spec with the machine costs of @p prof (herd calibrate's profile, or NULL
 * for the defaults), watched by @p watch (may be NULL) and fill @p r (initialised here;
 * the caller calls herd_report_fini). Watching changes nothing in the report.
 * @return 0, -HERD_EINTR when the watch stopped it, or a negative code with one line in
 * @p err.
 */
int herd_sim_run(const struct herd_run_spec *spec, const struct herd_profile *prof,
                 const struct herd_watch *watch, struct herd_report *r, char *err,
                 size_t errlen);

/** herd_sim_run() with every hook of @p hooks (NULL: none): the watch, per-request records
 *  (herd run --trace) and the engine's trace. */
int herd_sim_run_hooks(const struct herd_run_spec *spec, const struct herd_profile *prof,
                       const struct herd_sim_hooks *hooks, struct herd_report *r, char *err,
                       size_t errlen);

/**
 * The most memory a simulation of @p spec may take, in bytes, estimated from its
 * parameters before it starts (what the front ends hold against their memory ceiling),
 * with what drives it in @p why (one phrase, "" when nothing in particular).
 */
int64_t herd_sim_bytes(const struct herd_run_spec *spec, char *why, size_t whylen);

#endif
