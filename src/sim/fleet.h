/* fleet.h — the simulator of scenario files: a struct herd_fleet (scenario/fleet.h) run on
 * the discrete-event engine (DESIGN §8).
 *
 * Each kind of component is one small module with its own state and figures (client
 * fleets, services, caches; faults on a timeline); this is their one entry point. The run
 * is a pure function of the model and the seed: same model and seed, byte-identical report.
 *
 * Thread safety: runs share nothing; several may run at once on different threads.
 */
#ifndef HERD_SIM_FLEET_H
#define HERD_SIM_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include "../report/report.h"
#include "../scenario/fleet.h"
#include "engine.h"

/**
 * Simulate @p m with run seed @p seed into @p r (initialised by the caller with
 * herd_report_init; backend "sim"): the DESIGN §1 figures for the herd's resource
 * (m->herd), the client fleets' end-to-end latency, the timeline, and per component its
 * figures and timelines, retry amplification, the recovery time and verdict. @p hooks
 * (may be NULL) are attached to the engine. @return 0, -HERD_EINTR when the watch stopped
 * it, or a negative code with one line in @p err.
 */
int herd_sim_fleet(const struct herd_fleet *m, uint64_t seed, const struct herd_sim_hooks *hooks,
                   struct herd_report *r, char *err, size_t errlen);

struct herd_fleet_file;
struct herd_fleet_claim_verdict;

/**
 * Run strategy @p name of file @p f ("naive", a mitigation, "a+b") once with @p seed into
 * @p r (initialised here; the caller finis it on success). @p f and @p name are borrowed by
 * the report and must outlive it. @return 0, or a negative code with one line in @p err
 * (an unknown strategy: -HERD_EINVAL).
 */
int herd_sim_fleet_run_named(const struct herd_fleet_file *f, const char *name, uint64_t seed,
                             struct herd_report *r, char *err, size_t errlen);

/**
 * Judge @p f's claims (scenario/file.h) on the simulator with run seed @p seed: each
 * strategy a claim names is run once; @p out (herd_fleet_file_nclaims(f) entries) gets
 * each claim's measured value and verdict. @return how many failed (0: all hold), or a
 * negative code with one line in @p err (a run failed).
 */
int herd_sim_fleet_check(const struct herd_fleet_file *f, uint64_t seed,
                         struct herd_fleet_claim_verdict *out, char *err, size_t errlen);

/**
 * The memory a run of @p m takes before any backlog, in bytes, estimated before anything
 * is allocated: its clients' records, cache keys, timelines, and its open fleets' calls
 * in flight at most. The front ends refuse a run above their memory ceiling
 * (--max-memory) on it; a backlog of retries that grows past it (lb-restart-tls naive
 * holds ~850 MB of attempts) is stopped by their watch near the ceiling.
 */
int64_t herd_sim_fleet_bytes(const struct herd_fleet *m);

#endif
