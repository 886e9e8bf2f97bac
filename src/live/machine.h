/* machine.h — sampling the machine around a live run (Linux: /proc/stat, /proc/loadavg,
 * getrusage). The figures and their verdict are the report's (report/machine.h); this
 * file only takes the two samples and computes them.
 *
 * Cost: begin and end each read /proc/stat (the first 1 KiB) and /proc/loadavg and call
 * getrusage twice, clock_gettime and sysconf: tens of microseconds, with system calls
 * and file reads. Call them OUTSIDE any timed path: begin before the run's first
 * trigger, end after its last measurement, never between events.
 * Thread safety: a struct herd_machine is one caller's state; nothing global is kept.
 */
#ifndef HERD_LIVE_MACHINE_H
#define HERD_LIVE_MACHINE_H

#include "../report/machine.h"

/**
 * Start a window: initialise @p m and sample the machine. Call just before the run,
 * outside its timed path. @return 0, or a negated errno when /proc/stat could not be
 * read; then @p m is still usable, untrusted, with the reason among its warnings.
 */
int herd_machine_begin(struct herd_machine *m);

/**
 * End the window begun on @p m: sample again, compute the figures and the verdict.
 * Call just after the run (and after reaping its worker processes), outside its timed
 * path. @return 0, or a negated errno when /proc/stat could not be read (then the
 * shares are 0 and @p m is untrusted with the reason).
 */
int herd_machine_end(struct herd_machine *m);

#endif
