/* live_test.h — what the live tests share: a watch whose stop flag a test raises (from
 * another thread, as a signal handler or a departed HTTP client would), running a spec on
 * the live backend through it, and the backend's up-front check. Header-only, for tests.
 */
#ifndef HERD_TESTS_LIVE_TEST_H
#define HERD_TESTS_LIVE_TEST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../src/live/live.h"

static atomic_int live_test_stop;

static inline bool live_test_poll(void *ctx, int64_t progress_ns, uint64_t events)
{
    (void)ctx;
    (void)progress_ns;
    (void)events;
    return atomic_load(&live_test_stop) != 0;
}

static const struct herd_watch live_test_watch = {live_test_poll, NULL};

/** Ask the running live run to stop (any thread). */
static inline void live_test_interrupt(void)
{
    atomic_store(&live_test_stop, 1);
}

/** Let the next run go. */
static inline void live_test_clear(void)
{
    atomic_store(&live_test_stop, 0);
}

/** herd_live_backend's run of @p spec watched by the test's stop flag. */
static inline int live_test_run(const struct herd_run_spec *spec, struct herd_report *r,
                                char *err, size_t errlen)
{
    struct herd_run_env env = {.watch = &live_test_watch};
    return herd_live_backend.run(spec, &env, r, err, errlen);
}

/** herd_live_backend's up-front check of @p spec. */
static inline int live_test_check(const struct herd_run_spec *spec, char *err, size_t errlen)
{
    return herd_live_backend.check(spec, err, errlen);
}

/** Does the live backend run scenario @p name? */
static inline bool live_test_supports(const char *name)
{
    const struct herd_scenario *sc = herd_scenario_find(name);
    return sc && herd_backend_supports(&herd_live_backend, sc);
}

#endif
