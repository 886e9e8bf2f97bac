/* test_cleanup.c — 100 live runs in a row leave nothing behind: no thread, no child
 * process (a private redis-server included), no descriptor (sockets included), no
 * temporary file or directory (herd-cache-*, herd-svc-*). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <herd/error.h>
#include <string.h>
#include <sys/wait.h>

#include "../../src/live/svc.h"
#include "live_test.h"

static int count_tmp_herd(void)
{
    DIR *d = opendir("/tmp");
    int n = 0;
    struct dirent *e;
    if (!d)
        return 0;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, "herd", 4) == 0)
            n++;
    closedir(d);
    return n;
}

static void run_one(const char *scenario, int mode, int64_t n, const char *const *sets)
{
    struct herd_run_spec spec;
    struct herd_report r;
    char err[512];
    const struct herd_scenario *sc = herd_scenario_find(scenario);
    herd_spec_init(&spec, sc);
    spec.n = n;
    spec.events = 2;
    herd_spec_use_index(&spec, mode ? 1 + (mode - 1) % (herd_scenario_nstrategies(sc) - 1) : 0);
    for (; sets && *sets; sets++)
        cr_assert_eq(herd_spec_set(&spec, *sets, err, sizeof err), 0, "%s", err);
    int rc = live_test_run(&spec, &r, err, sizeof err);
    cr_assert_eq(rc, 0, "%s %d: %s", scenario, mode, err);
    cr_assert_gt(r.latency.count, 0, "%s measured something", scenario);
    herd_report_fini(&r);
}

Test(cleanup, hundred_runs_leave_nothing_behind, .timeout = 600)
{
    static const char *const fast_cron[] = {"period_ms=100", "window_ms=20", "work_us=50", NULL};
    static const char *const small_cache[] = {"rows=2000", "ttl_ms=20", "lead_ms=2", NULL};
    static const char *const procs[] = {"workers=process", NULL};
    static const char *const fast_lock[] = {"hold_us=200", "retry_ms=2", "cap_ms=20", NULL};
    char why[256];
    bool redis = herd__svc_installed(HERD_SVC_REDIS, why, sizeof why);
    if (!redis)
        cr_log_info("lock runs skipped: %s", why);
    /* Two cache runs on both servers (PostgreSQL's start is ~1 s: not more). */
    static const char *const services[] = {"rows=2000", "ttl_ms=20", "lead_ms=2",
                                           "origin=postgres", "store=redis", NULL};
    bool pg = redis && herd__svc_installed(HERD_SVC_POSTGRES, why, sizeof why);
    if (!pg)
        cr_log_info("cache runs on PostgreSQL and Redis skipped: %s", why);
    /* Two ZooKeeper runs (a JVM starts in ~0.5-2 s). */
    static const char *const zk_fast[] = {"hold_us=0", NULL};
    bool zk = herd__svc_installed(HERD_SVC_ZOOKEEPER, why, sizeof why);
    if (!zk)
        cr_log_info("zk-lock runs skipped: %s", why);
    int tasks0 = live_test_count_dir("/proc/self/task"),
        fds0 = live_test_count_dir("/proc/self/fd");
    int tmp0 = count_tmp_herd();

    for (int i = 0; i < 100; i++) {
        int mode = i % 4; /* naive, then each mitigation in turn */
        if (i % 50 == 47 && pg) {
            run_one("cache", mode, 8, services);
            continue;
        }
        if (i % 50 == 23 && zk) {
            run_one("zk-lock", mode % 2, 8, zk_fast);
            continue;
        }
        switch (i % 6) {
        case 0:
            run_one("accept", mode, 16, NULL);
            break;
        case 1:
            run_one("accept", mode, 8, procs);
            break;
        case 2:
            run_one("condvar", mode % 2, 16, NULL);
            break;
        case 3:
            run_one("cache", mode, 8, small_cache);
            break;
        case 4:
            run_one("cron", mode % 3, 16, fast_cron);
            break;
        default:
            if (redis)
                run_one("lock", mode % 3, 8, fast_lock);
            break;
        }
    }
    cr_assert_eq(live_test_count_dir("/proc/self/task"), tasks0, "threads left behind");
    cr_assert_eq(live_test_count_dir("/proc/self/fd"), fds0, "descriptors left behind");
    cr_assert_eq(count_tmp_herd(), tmp0, "temporary files left behind in /tmp");
    errno = 0;
    cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "a child process is left behind");
    cr_assert_eq(errno, ECHILD);
}
