/* live.h — the live backend: real herds on this kernel (DESIGN §4).
 *
 * herd_live_backend (scenario/backend.h): check() compares what a run needs with the
 * machine's limits and says so in one line before anything starts; run() runs it. A run
 * cleans up every thread, process, socket and file it made, also when its watch says
 * stop: it then tears down and returns -HERD_EINTR.
 * Thread safety: one live run at a time per process (a second concurrent run is refused
 * with -HERD_EBUSY): herds measured side by side would measure each other.
 */
#ifndef HERD_LIVE_LIVE_H
#define HERD_LIVE_LIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "../report/report.h"
#include "../scenario/backend.h"
#include "../scenario/profile.h"

/** The live backend. */
extern const struct herd_backend herd_live_backend;

/** The largest N this machine allows for @p spec's scenario with its other settings. */
long herd_live_max_n(const struct herd_run_spec *spec);

/**
 * Measure this machine's herd costs with real runs (about 5-10 s) into @p p, watched by
 * @p watch (may be NULL). @return 0, -HERD_EINTR, or a negative code with one line in
 * @p err.
 */
int herd_live_calibrate(struct herd_profile *p, bool quiet, const struct herd_watch *watch,
                        char *err, size_t errlen);

#endif
