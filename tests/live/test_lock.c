/* test_lock.c — the distributed-lock retry storm on a real redis-server, at a small N:
 *  - every worker takes the lock once per event (useful = n x events), none fails;
 *  - the notify-one queue wastes no attempt and Redis executed exactly one BLPOP and one
 *    RPUSH per worker per event (counted by the server, INFO commandstats);
 *  - same-timeout's refused attempts are wasted, and Redis executed at least every attempt;
 *  - the server's start-up is measured, and nothing of it is left after the run, also
 *    when the run is interrupted (no child, no thread, no descriptor, no herd-svc dir).
 * Counts only: no latency is asserted. Skipped with the reason without redis-server. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <herd/error.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <time.h>

#include "../../src/live/svc.h"
#include "live_test.h"

static void need_redis(void)
{
    char why[256];
    if (!herd__svc_installed(HERD_SVC_REDIS, why, sizeof why))
        cr_skip_test("%s", why);
}

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

static void spec_for(struct herd_run_spec *spec, const char *strategy, int64_t n)
{
    char err[256];
    herd_spec_init(spec, herd_scenario_find("lock"));
    spec->n = n;
    spec->events = 2;
    cr_assert_eq(herd_spec_use(spec, strategy), 0);
    cr_assert_eq(herd_spec_set(spec, "hold_us=200", err, sizeof err), 0, "%s", err);
    cr_assert_eq(herd_spec_set(spec, "retry_ms=2", err, sizeof err), 0, "%s", err);
    cr_assert_eq(herd_spec_set(spec, "cap_ms=20", err, sizeof err), 0, "%s", err);
}

static void run_ok(const char *strategy, int64_t n, struct herd_report *r)
{
    struct herd_run_spec spec;
    char err[512];
    spec_for(&spec, strategy, n);
    int rc = live_test_run(&spec, r, err, sizeof err);
    cr_assert_eq(rc, 0, "%s: %s", strategy, err);
    cr_assert_eq(r->useful, (uint64_t)(n * spec.events), "%s: every worker held it once", strategy);
    cr_assert_eq(r->failed, 0, "%s", strategy);
    cr_assert_eq(r->latency.count, (uint64_t)(n * spec.events), "%s", strategy);
    cr_assert_gt(live_test_extra(r, "service_startup_s"), 0, "%s: start-up measured", strategy);
    cr_assert_eq(live_test_extra(r, "errors"), 0, "%s", strategy);
}

Test(live_lock, queue_wakes_one_and_redis_counts_it, .timeout = 60)
{
    need_redis();
    struct herd_report r;
    struct live_test_census c0 = live_test_census();
    int dirs0 = count_svc_dirs();
    run_ok("queue", 16, &r);
    cr_assert_eq(r.wasted, 0, "notify-one wastes no attempt");
    cr_assert_eq(r.wakes, r.useful);
    cr_assert_eq(r.origin_load, 2 * r.useful, "one BLPOP and one RPUSH per holder, at Redis");
    herd_report_fini(&r);
    struct live_test_census c1 = live_test_census();
    cr_assert_eq(c1.tasks, c0.tasks, "threads left");
    cr_assert_eq(c1.fds, c0.fds, "descriptors left");
    cr_assert_eq(count_svc_dirs(), dirs0, "a herd-svc directory left");
    errno = 0;
    cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "redis-server left as a child");
}

Test(live_lock, same_timeout_wastes_attempts_that_redis_executed, .timeout = 60)
{
    need_redis();
    struct herd_report r;
    run_ok("same-timeout", 16, &r);
    cr_assert_gt(r.wasted, 0, "16 workers on one lock held 200 us: someone was refused");
    cr_assert_eq(r.wakes, r.useful + r.wasted);
    /* Every SET and every release reached the server (a release script also runs its GET
     * and DEL there, which Redis counts too). */
    cr_assert_geq(r.origin_load, r.wakes + r.useful, "Redis executed every attempt");
    herd_report_fini(&r);
}

Test(live_lock, backoff_takes_the_lock_once_each, .timeout = 60)
{
    need_redis();
    struct herd_report r;
    run_ok("backoff", 16, &r);
    cr_assert_eq(r.wakes, r.useful + r.wasted);
    herd_report_fini(&r);
}

static void *interrupter(void *arg)
{
    struct timespec ts = {0, *(long *)arg * 1000000L};
    nanosleep(&ts, NULL);
    live_test_interrupt();
    return NULL;
}

Test(live_lock, interrupt_leaves_nothing, .timeout = 60)
{
    need_redis();
    int dirs0 = count_svc_dirs();
    struct live_test_census c0 = live_test_census();
    const char *strategies[] = {"queue", "same-timeout"};
    for (int i = 0; i < 2; i++) {
        struct herd_run_spec spec;
        struct herd_report r;
        char err[512];
        spec_for(&spec, strategies[i], 64);
        char e[256];
        cr_assert_eq(herd_spec_set(&spec, "hold_us=20000", e, sizeof e), 0, "%s", e);
        spec.events = 100;
        long ms = 300;
        pthread_t th;
        live_test_clear();
        pthread_create(&th, NULL, interrupter, &ms);
        int rc = live_test_run(&spec, &r, err, sizeof err);
        pthread_join(th, NULL);
        live_test_clear();
        cr_assert_eq(rc, -HERD_EINTR, "%s: rc %d (%s)", strategies[i], rc, err);
    }
    struct live_test_census c1 = live_test_census();
    cr_assert_eq(c1.tasks, c0.tasks, "threads left");
    cr_assert_eq(c1.fds, c0.fds, "descriptors left");
    cr_assert_eq(count_svc_dirs(), dirs0, "a herd-svc directory left");
    errno = 0;
    cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "redis-server left as a child");
}
