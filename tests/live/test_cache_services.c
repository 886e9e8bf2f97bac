/* test_cache_services.c — the cache stampede on real services: requesters read through a
 * private Redis (store=redis) to a private PostgreSQL (origin=postgres), at a small N:
 *  - the queries the origin reports are PostgreSQL's own count (pg_stat_statements), and
 *    each is a requester's refresh: useful or wasted, nothing else;
 *  - singleflight and the Redis lock per key query once per expiry and waste nothing,
 *    the lock's losers poll Redis instead (its commands are counted by the server);
 *  - nothing is left: no server process, directory, thread or descriptor.
 * Counts only, no latency. Skipped with the reason when a server is not installed. */
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

static void need_services(void)
{
    char why[256];
    if (!herd__svc_installed(HERD_SVC_REDIS, why, sizeof why) ||
        !herd__svc_installed(HERD_SVC_POSTGRES, why, sizeof why))
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

static void run(const char *strategy, const char *coalesce, struct herd_report *r)
{
    struct herd_run_spec spec;
    char err[512], set[64];
    herd_spec_init(&spec, herd_scenario_find("cache"));
    spec.n = 12;
    spec.events = 2;
    cr_assert_eq(herd_spec_use(&spec, strategy), 0);
    const char *sets[] = {"origin=postgres", "store=redis",    "rows=20000", "ttl_ms=100",
                          "lead_ms=10",      "period_us=5000", NULL};
    for (const char *const *s = sets; *s; s++)
        cr_assert_eq(herd_spec_set(&spec, *s, err, sizeof err), 0, "%s", err);
    snprintf(set, sizeof set, "coalesce=%s", coalesce);
    cr_assert_eq(herd_spec_set(&spec, set, err, sizeof err), 0, "%s", err);
    int rc = live_test_run(&spec, r, err, sizeof err);
    cr_assert_eq(rc, 0, "%s: %s", strategy, err);
    cr_assert_eq(live_test_extra(r, "origin_counted_by_server"), 1, "pg_stat_statements counts");
    cr_assert_gt(live_test_extra(r, "service_startup_s"), 0);
    cr_assert_gt(live_test_extra(r, "redis_startup_s"), 0);
    cr_assert_gt(live_test_extra(r, "redis_commands"), 0);
    cr_assert_eq(live_test_extra(r, "errors"), 0);
    /* Every query PostgreSQL ran was one requester's refresh. */
    cr_assert_eq(r->origin_load, r->useful + r->wasted, "%s: server %llu, refreshes %llu", strategy,
                 (unsigned long long)r->origin_load, (unsigned long long)(r->useful + r->wasted));
    cr_assert_geq(r->useful, (uint64_t)spec.events, "%s: at least one refresh per expiry",
                  strategy);
}

Test(cache_services, redis_and_postgres_naive_singleflight_and_lock, .timeout = 120)
{
    need_services();
    int dirs0 = count_svc_dirs();
    struct live_test_census c0 = live_test_census();
    struct herd_report r;

    run("every-miss", "process", &r);
    herd_report_fini(&r);

    run("singleflight", "process", &r);
    cr_assert_eq(r.wasted, 0, "a singleflight joiner is served, never wasted");
    cr_assert_gt(r.served, 0);
    herd_report_fini(&r);

    run("singleflight", "redis-lock", &r);
    cr_assert_str_eq(r.run.strategy, "redis-lock");
    cr_assert_eq(r.wasted, 0, "the lock's losers wait for one result: served");
    cr_assert_gt(live_test_extra(&r, "redis_lock_polls"), 0, "the losers polled Redis");
    herd_report_fini(&r);

    struct live_test_census c1 = live_test_census();
    cr_assert_eq(c1.tasks, c0.tasks, "threads left");
    cr_assert_eq(c1.fds, c0.fds, "descriptors left");
    cr_assert_eq(count_svc_dirs(), dirs0, "a herd-svc directory left");
    errno = 0;
    cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "a server left as a child");
}

Test(cache_services, redis_lock_needs_the_redis_store)
{
    struct herd_run_spec spec;
    char err[256];
    herd_spec_init(&spec, herd_scenario_find("cache"));
    cr_assert_eq(herd_spec_set(&spec, "coalesce=redis-lock", err, sizeof err), 0, "%s", err);
    cr_assert_neq(herd_spec_validate(&spec, err, sizeof err), 0);
    cr_assert(strstr(err, "store=redis"), "%s", err);
}
