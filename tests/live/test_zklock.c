/* test_zklock.c — the ZooKeeper lock on a real ZooKeeper, at a small N:
 *  - every release hands the lock to exactly one waiter (useful = events);
 *  - the predecessor recipe wakes exactly one waiter per release (wakes = events, nothing
 *    wasted), notify-all wakes every waiter still queued (all but one wasted), and the
 *    server's own count of notifications it pushed says the same;
 *  - the server's start-up is measured, and nothing is left: no JVM, no directory, no
 *    thread, no descriptor.
 * Counts only: no latency is asserted. Skipped with the reason without ZooKeeper. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <herd/error.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/live/svc.h"
#include "live_test.h"

/* This process's server directories in /tmp (herd-svc-PID.*): other herds on the machine
 * come and go. */
static int count_svc_dirs(void)
{
    DIR *d = opendir("/tmp");
    int n = 0;
    struct dirent *e;
    char mine[32];
    int len = snprintf(mine, sizeof mine, "herd-svc-%ld.", (long)getpid());
    if (!d)
        return 0;
    while ((e = readdir(d)))
        n += strncmp(e->d_name, mine, (size_t)len) == 0;
    closedir(d);
    return n;
}

static void run(const char *strategy, int64_t n, int64_t events, struct herd_report *r)
{
    struct herd_run_spec spec;
    char err[512];
    herd_spec_init(&spec, herd_scenario_find("zk-lock"));
    spec.n = n;
    spec.events = events;
    cr_assert_eq(herd_spec_use(&spec, strategy), 0);
    cr_assert_eq(herd_spec_set(&spec, "hold_us=0", err, sizeof err), 0, "%s", err);
    int rc = live_test_run(&spec, r, err, sizeof err);
    cr_assert_eq(rc, 0, "%s: %s", strategy, err);
    cr_assert_eq(r->useful, (uint64_t)events, "%s: one new holder per release", strategy);
    cr_assert_eq(r->failed, 0);
    cr_assert_gt(live_test_extra(r, "service_startup_s"), 0);
}

Test(live_zklock, predecessor_wakes_one_notify_all_wakes_all, .timeout = 120)
{
    char why[256];
    if (!herd__svc_installed(HERD_SVC_ZOOKEEPER, why, sizeof why))
        cr_skip_test("%s", why);
    int dirs0 = count_svc_dirs();
    struct live_test_census c0 = live_test_census();
    const int64_t n = 10, events = 4;
    struct herd_report all, pred;

    run("notify-all", n, events, &all);
    /* Release e wakes the n - e waiters that have not held the lock yet. */
    uint64_t want = 0;
    for (int64_t e = 0; e < events; e++)
        want += (uint64_t)(n - e - 1);
    cr_assert_geq(all.wasted, want, "notify-all: every queued waiter woke and lost");

    run("predecessor", n, events, &pred);
    cr_assert_eq(pred.wakes, (uint64_t)events, "predecessor: one watch event per release");
    cr_assert_eq(pred.wasted, 0);
    cr_assert_gt(live_test_extra(&all, "zk_notifications_per_release"),
                 live_test_extra(&pred, "zk_notifications_per_release"),
                 "the server pushed more notifications for notify-all");
    herd_report_fini(&all);
    herd_report_fini(&pred);

    struct live_test_census c1 = live_test_census();
    cr_assert_eq(c1.tasks, c0.tasks, "threads left");
    cr_assert_eq(c1.fds, c0.fds, "descriptors left");
    cr_assert_eq(count_svc_dirs(), dirs0, "a herd-svc directory left");
    errno = 0;
    cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "the JVM left as a child");
}

Test(live_zklock, events_beyond_n_are_refused)
{
    struct herd_run_spec spec;
    char err[256];
    herd_spec_init(&spec, herd_scenario_find("zk-lock"));
    spec.n = 3;
    spec.events = 4;
    cr_assert_lt(live_test_check(&spec, err, sizeof err), 0);
    cr_assert(strstr(err, "--events"), "%s", err);
}
