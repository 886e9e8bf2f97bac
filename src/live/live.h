/* live.h — the live backend: real herds on this kernel (DESIGN §4).
 *
 * Front ends call herd_live_check() before anything starts (it compares what the
 * run needs with the machine's limits and says so in one line), then
 * herd_live_run(). A run cleans up every thread, process, socket and file it
 * made, also when herd_live_interrupt() is called from a signal handler: the run
 * then tears down and returns -HERD_EINTR.
 * Thread safety: one live run at a time per process.
 */
#ifndef HERD_LIVE_LIVE_H
#define HERD_LIVE_LIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "../report/profile.h"
#include "../report/report.h"

/** Is @p scenario runnable on the live backend? */
bool herd_live_supports(const char *scenario);

/**
 * Check that @p spec fits this machine (threads, processes, descriptors, pid_max).
 * @return 0, or -HERD_ELIMIT with one line naming the limit in @p err.
 */
int herd_live_check(const struct herd_run_spec *spec, char *err, size_t errlen);

/** The largest N this machine allows for @p spec's scenario with its other settings. */
long herd_live_max_n(const struct herd_run_spec *spec);

/**
 * Run @p spec for real and fill @p r (initialised here; the caller calls
 * herd_report_fini). @return 0, -HERD_EINTR when interrupted, or another negative
 * code with one line in @p err.
 */
int herd_live_run(const struct herd_run_spec *spec, struct herd_report *r, char *err,
                  size_t errlen);

/**
 * Measure this machine's herd costs with real runs (about 5-10 s) into @p p.
 * @return 0, -HERD_EINTR, or a negative code with one line in @p err.
 */
int herd_live_calibrate(struct herd_profile *p, bool quiet, char *err, size_t errlen);

/** Ask the running live run to stop (async-signal-safe). */
void herd_live_interrupt(void);

/** Reset the stop request (before a new run). */
void herd_live_clear_interrupt(void);

#endif
