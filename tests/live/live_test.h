/* live_test.h — what the live tests share: a watch whose stop flag a test raises (from
 * another thread, as a signal handler or a departed HTTP client would), running a spec on
 * the live backend through it, and the backend's up-front check; counting what a run must
 * leave as it found (threads, descriptors); reading a report (an extra, the tiles' sum
 * per outcome class). Header-only, for Criterion tests.
 */
#ifndef HERD_TESTS_LIVE_TEST_H
#define HERD_TESTS_LIVE_TEST_H

#include <criterion/criterion.h>
#include <dirent.h>
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

/** Entries of directory @p path but "." and ".." (it must exist). Reading /proc/self/fd
 *  holds one descriptor of its own: it is in every count alike, so counts compare. */
static inline int live_test_count_dir(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    int k = 0;
    cr_assert_not_null(d, "opendir %s", path);
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            k++;
    closedir(d);
    return k;
}

/** What a run must leave as it found it: this process's threads and descriptors. */
struct live_test_census {
    int tasks, fds;
};

static inline struct live_test_census live_test_census(void)
{
    return (struct live_test_census){live_test_count_dir("/proc/self/task"),
                                     live_test_count_dir("/proc/self/fd")};
}

/** The report's extra figure @p name, which must be there. */
static inline double live_test_extra(const struct herd_report *r, const char *name)
{
    double v = -1;
    cr_assert(herd_report_get_extra(r, name, &v), "extra %s missing", name);
    return v;
}

/** Reactions of class @p o summed over the report's tiles: every waiter's when the
 *  population fits them (HERD_REPORT_WAITERS), and then the report's counter of @p o. */
static inline uint64_t live_test_tiles(const struct herd_report *r, enum herd_outcome o)
{
    uint64_t k = 0;
    for (size_t i = 0; i < r->nwaiters; i++)
        k += r->waiters[i].n[o];
    return k;
}

#endif
