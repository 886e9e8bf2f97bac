/* clock.c — the two clock readers of herd/clock.h, for callers. No libherd decision
 * calls them: time is always an argument there. */
#include <herd/clock.h>

#include <time.h>

static int64_t read_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * HERD_NS_PER_S + ts.tv_nsec;
}

int64_t herd_clock_monotonic_ns(void)
{
    return read_clock(CLOCK_MONOTONIC);
}

int64_t herd_clock_realtime_ns(void)
{
    return read_clock(CLOCK_REALTIME);
}
