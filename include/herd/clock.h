/* herd/clock.h — time as an input.
 *
 * Every libherd decision takes now_ns, a signed 64-bit count of nanoseconds on a
 * clock the caller chooses (CLOCK_MONOTONIC in a server, simulated time in the
 * simulator). libherd's decisions never read a clock; the two readers below are
 * conveniences for callers that want the usual clocks (src/lib/clock.c).
 */
#ifndef HERD_CLOCK_H
#define HERD_CLOCK_H

#include <stdint.h>
#include <time.h>

#define HERD_NS_PER_US INT64_C(1000)
#define HERD_NS_PER_MS INT64_C(1000000)
#define HERD_NS_PER_S INT64_C(1000000000)

/** Nanoseconds on CLOCK_MONOTONIC: for callers; never used inside libherd's decisions. */
int64_t herd_clock_monotonic_ns(void);

/** Nanoseconds on CLOCK_REALTIME (wall clock): for schedules aligned to boundaries. */
int64_t herd_clock_realtime_ns(void);

static inline struct timespec herd_clock_timespec(int64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / HERD_NS_PER_S),
                          .tv_nsec = (long)(ns % HERD_NS_PER_S)};
    return ts;
}

#endif
