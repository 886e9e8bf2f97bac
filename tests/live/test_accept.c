/* test_accept.c — the live accept herd against issue 2's acceptance figures.
 *
 * Runs the real herd on this kernel (127.0.0.1 only). Figures are checked with medians
 * over events and with tolerances meant for a noisy 2-core machine; each assertion can
 * fail if the herd (or its measurement) breaks. Every test also checks that no thread,
 * child process or descriptor is left behind.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h> /* cr_log_info only: Criterion 2.4 exits 1 after any warning */
#include <errno.h>
#include <herd/error.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "live_test.h"
#include "../machine_load.h"

static void expect_clean(struct live_test_census before)
{
    struct live_test_census after = live_test_census();
    cr_expect_eq(after.fds, before.fds, "descriptors before %d, after %d", before.fds, after.fds);
    cr_expect_eq(after.tasks, before.tasks, "threads before %d, after %d", before.tasks,
                 after.tasks);
    errno = 0;
    cr_expect_eq(waitpid(-1, NULL, WNOHANG), -1, "a child process was left behind");
    cr_expect_eq(errno, ECHILD);
}

/* Run the accept herd: @p mitigation NULL for naive. Fills @p r (caller finis it). */
static int run_accept(const char *mitigation, int64_t n, int64_t events, const char *workers,
                      const char *pattern, struct herd_report *r)
{
    const struct herd_scenario *sc = herd_scenario_find("accept");
    struct herd_run_spec spec;
    char err[256] = "", kv[64];
    cr_assert_not_null(sc);
    herd_spec_init(&spec, sc);
    spec.n = n;
    spec.events = events;
    if (mitigation) {
        cr_assert_eq(herd_spec_use(&spec, mitigation), 0, "unknown mitigation %s", mitigation);
    }
    snprintf(kv, sizeof kv, "workers=%s", workers);
    cr_assert_eq(herd_spec_set(&spec, kv, err, sizeof err), 0, "%s", err);
    snprintf(kv, sizeof kv, "pattern=%s", pattern);
    cr_assert_eq(herd_spec_set(&spec, kv, err, sizeof err), 0, "%s", err);
    /* Zeroed, so herd_report_fini is safe whether or not the run initialised it. */
    memset(r, 0, sizeof *r);
    live_test_clear();
    int rc = live_test_run(&spec, r, err, sizeof err);
    if (rc != 0 && rc != -HERD_EINTR && rc != -HERD_ELIMIT)
        cr_log_error("accept %s: %s", mitigation ? mitigation : "naive", err);
    return rc;
}

static void log_run(const char *label, const struct herd_report *r)
{
    cr_log_info("%-16s wakes/ev %.0f useful/ev %.0f peak %llu p50 %lld us p99 %lld us "
                "used %lld share %.2f eagain %.0f user_returns %.0f",
                label, herd_median(r->ev.wakes, r->nevents), herd_median(r->ev.useful, r->nevents),
                (unsigned long long)r->peak, (long long)herd_hist_quantile(&r->latency, 0.5) / 1000,
                (long long)herd_hist_quantile(&r->latency, 0.99) / 1000,
                (long long)r->spread.workers_used, r->spread.max_share,
                live_test_extra(r, "eagain"), live_test_extra(r, "user_returns"));
}

/* Common checks of a serial run of @p events connections. */
static void expect_serial_basics(const struct herd_report *r, int64_t events)
{
    cr_expect_eq(r->nevents, (size_t)events);
    cr_expect_eq(r->useful, (uint64_t)events, "every connection accepted once");
    cr_expect_eq(r->latency.count, (uint64_t)events, "every connection timed");
    cr_expect(r->spread.present, "spread reported");
    cr_expect_gt(r->spread.workers_used, 0);
    cr_expect_eq(live_test_extra(r, "settle_timeouts"), 0);
    cr_expect_eq(live_test_extra(r, "connect_errors"), 0);
    cr_expect_gt(r->timeline.len, 0);
}

/* The acceptance run of issue 2 at N = 1000 (fewer events to keep the suite short). */
Test(accept, naive_herd_vs_every_mitigation, .timeout = 120)
{
    const int64_t n = 1000, events = 20;
    static const char *const mit[] = {"epoll-exclusive", "reuseport", "blocking-accept"};
    struct live_test_census before = live_test_census();
    struct herd_report naive, m[3];

    cr_assert_eq(run_accept(NULL, n, events, "thread", "serial", &naive), 0);
    log_run("epoll (naive)", &naive);
    expect_serial_basics(&naive, events);
    cr_expect_geq(herd_median(naive.ev.wakes, naive.nevents), 0.8 * n, "naive: every worker wakes");
    cr_expect_geq(naive.peak, (uint64_t)(0.8 * n), "naive: distinct workers woken");
    /* Most of those wakes never reach user space: returns under-count the herd. */
    cr_expect_lt(live_test_extra(&naive, "user_returns") * 10, (double)naive.wakes);

    int64_t naive_p50 = herd_hist_quantile(&naive.latency, 0.5);
    int64_t naive_p99 = herd_hist_quantile(&naive.latency, 0.99);
    for (int i = 0; i < 3; i++) {
        /* The p99 of 20 events is nearly their max, and this 2-core machine is shared:
         * one event delayed by someone else's load moves a mitigated p99 from ~0.2 ms
         * to several ms. Such noise only ever slows a run down, so a mitigated run whose
         * p99 ratio falls short is repeated (at most three times, logged); a systematic
         * loss of the 10x fails every attempt. The p50 ratio is checked on every run. */
        double ratio = 0, ratio50 = 0, busy = 0;
        for (int attempt = 0; attempt < 4; attempt++) {
            if (attempt > 0) {
                cr_log_info("%s: p50 %.1fx / p99 %.1fx < 10x, repeating the run (noise?)",
                            mit[i], ratio50, ratio);
                herd_report_fini(&m[i]);
            }
            struct cpu_sample c0 = cpu_sample();
            cr_assert_eq(run_accept(mit[i], n, events, "thread", "serial", &m[i]), 0);
            busy = others_busy(c0, cpu_sample());
            log_run(mit[i], &m[i]);
            expect_serial_basics(&m[i], events);
            cr_expect_leq(herd_median(m[i].ev.wakes, m[i].nevents), 1.2, "%s: one wake", mit[i]);
            cr_expect_leq(m[i].peak, 2, "%s: one worker per connection", mit[i]);
            cr_expect_eq(live_test_extra(&m[i], "eagain"), 0, "%s: nobody loses a race", mit[i]);
            int64_t p50 = herd_hist_quantile(&m[i].latency, 0.5);
            int64_t p99 = herd_hist_quantile(&m[i].latency, 0.99);
            ratio = (double)naive_p99 / (double)p99;
            ratio50 = (double)naive_p50 / (double)p50;
            cr_log_info("%s: naive/mitigated p50 %.1fx, p99 %.1fx; others used %.0f%% CPU", mit[i],
                        ratio50, ratio, 100 * busy);
            if (ratio >= 10 && ratio50 >= 10)
                break;
        }
        /* The p50 ratio (20x-60x on a quiet machine) holds on the last attempt unless the
         * machine was saturated by others, as for the p99 below. */
        if (busy <= 0.2)
            cr_expect_geq(ratio50, 10, "%s: p50 ratio %.1fx", mit[i], ratio50);
        else if (ratio50 < 10)
            cr_log_info("%s: p50 ratio %.1fx not checked: other processes used %.0f%% of the "
                        "CPUs during the run",
                        mit[i], ratio50, 100 * busy);
        /* When other processes kept the 2 CPUs busy (a shared machine: parallel builds,
         * other tests), a woken worker waits for their time slices and the mitigated
         * tail measures them, not the herd: then the p99 shortfall is reported, not
         * failed. On a quiet machine it fails. */
        if (ratio < 10 && busy > 0.2)
            cr_log_info("%s: p99 ratio %.1fx not checked: other processes used %.0f%% of "
                        "the CPUs during the run",
                        mit[i], ratio, 100 * busy);
        else
            cr_expect_geq(ratio, 10,
                          "%s: naive p99 / mitigated p99 = %.1f (others used "
                          "%.0f%% of the CPUs)",
                          mit[i], ratio, 100 * busy);
    }
    /* What this kernel does with the work (DESIGN §4): EPOLLEXCLUSIVE keeps handing it
     * to the same idle worker, blocking accept round-robins, reuseport hashes. */
    cr_expect_geq(m[0].spread.max_share, 0.5, "epoll-exclusive: one worker takes most");
    cr_expect_geq(m[2].spread.workers_used, events * 8 / 10, "blocking accept: round robin");
    cr_expect_geq(m[1].spread.workers_used, events / 2, "reuseport: hashed over sockets");

    herd_report_fini(&naive);
    for (int i = 0; i < 3; i++)
        herd_report_fini(&m[i]);
    expect_clean(before);
}

Test(accept, forked_worker_processes, .timeout = 120)
{
    const int64_t n = 64, events = 10;
    static const char *const mit[] = {"epoll-exclusive", "reuseport", "blocking-accept"};
    struct live_test_census before = live_test_census();
    struct herd_report r;

    cr_assert_eq(run_accept(NULL, n, events, "process", "serial", &r), 0);
    log_run("process naive", &r);
    expect_serial_basics(&r, events);
    cr_expect_geq(herd_median(r.ev.wakes, r.nevents), 0.8 * n);
    herd_report_fini(&r);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(run_accept(mit[i], n, events, "process", "serial", &r), 0);
        log_run(mit[i], &r);
        expect_serial_basics(&r, events);
        cr_expect_leq(herd_median(r.ev.wakes, r.nevents), 1.2, "%s (processes)", mit[i]);
        herd_report_fini(&r);
    }
    expect_clean(before);
}

Test(accept, burst_pattern, .timeout = 120)
{
    const int64_t n = 300, events = 100;
    struct live_test_census before = live_test_census();
    struct herd_report naive, excl, blk;

    cr_assert_eq(run_accept(NULL, n, events, "thread", "burst", &naive), 0);
    cr_assert_eq(run_accept("epoll-exclusive", n, events, "thread", "burst", &excl), 0);
    cr_assert_eq(run_accept("blocking-accept", n, events, "thread", "burst", &blk), 0);
    const struct herd_report *all[] = {&naive, &excl, &blk};
    for (int i = 0; i < 3; i++) {
        log_run(i == 0 ? "burst naive" : i == 1 ? "burst exclusive" : "burst blocking", all[i]);
        cr_expect_eq(all[i]->nevents, 1, "a burst is one event");
        cr_expect_eq(all[i]->useful, (uint64_t)events);
        cr_expect_eq(all[i]->latency.count, (uint64_t)events);
        cr_expect_eq(live_test_extra(all[i], "settle_timeouts"), 0);
        cr_expect(all[i]->spread.present);
    }
    /* A burst lets one woken worker take several connections, so the naive herd
     * wakes fewer than N per connection, but still many times the mitigated count (the
     * kernel's context switches: the burst is one event, its reactions one a worker). */
    double sn = live_test_extra(&naive, "kernel_switches"),
           se = live_test_extra(&excl, "kernel_switches");
    cr_expect_geq(sn, 5 * se, "naive %.0f vs exclusive %.0f switches", sn, se);
    cr_expect_leq(se, 1.2 * events);
    cr_expect_leq(live_test_extra(&blk, "kernel_switches"), 1.2 * events);
    for (int i = 0; i < 3; i++)
        cr_expect_eq(all[i]->useful + all[i]->wasted + all[i]->idle, (uint64_t)n + all[i]->useful -
                         (uint64_t)all[i]->spread.workers_used,
                     "one outcome per worker, one useful per connection");
    cr_expect_geq(naive.peak, (uint64_t)(0.8 * n));
    herd_report_fini(&naive);
    herd_report_fini(&excl);
    herd_report_fini(&blk);
    expect_clean(before);
}

Test(accept, burst_beyond_backlog_is_refused, .timeout = 30)
{
    struct live_test_census before = live_test_census();
    struct herd_report r;
    FILE *f = fopen("/proc/sys/net/core/somaxconn", "r");
    int smc = 4096;
    if (f) {
        cr_assert_eq(fscanf(f, "%d", &smc), 1);
        fclose(f);
    }
    int rc = run_accept(NULL, 4, smc + 1, "thread", "burst", &r);
    cr_expect_eq(rc, -HERD_ELIMIT);
    herd_report_fini(&r);
    expect_clean(before);
}

/* Many short runs of every kind in a row: nothing accumulates. */
Test(accept, leaves_nothing_behind, .timeout = 120)
{
    static const char *const mit[] = {NULL, "epoll-exclusive", "reuseport", "blocking-accept"};
    struct live_test_census before = live_test_census();
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 4; i++) {
            struct herd_report r;
            const char *w = round == 1 ? "process" : "thread";
            const char *p = round == 2 ? "burst" : "serial";
            cr_assert_eq(run_accept(mit[i], 40, 5, w, p, &r), 0);
            cr_expect_eq(r.useful, 5);
            herd_report_fini(&r);
        }
    }
    expect_clean(before);
}

static void *interrupt_later(void *arg)
{
    struct timespec ts = {0, *(long *)arg};
    nanosleep(&ts, NULL);
    live_test_interrupt();
    return NULL;
}

static void interrupt_mid_run(const char *mitigation, const char *workers)
{
    struct live_test_census before = live_test_census();
    struct herd_report r;
    pthread_t th;
    long delay = 400 * 1000 * 1000;
    struct timespec t0, t1;

    live_test_clear();
    /* run_accept clears the flag first; the helper fires once the run is under way. */
    cr_assert_eq(pthread_create(&th, NULL, interrupt_later, &delay), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = run_accept(mitigation, 300, 100000, workers, "serial", &r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(th, NULL);
    live_test_clear();
    cr_expect_eq(rc, -HERD_EINTR);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_expect_lt(took, 3.0, "the run stopped %.2f s after it started", took);
    herd_report_fini(&r);
    expect_clean(before);
}

Test(accept, interrupt_cleans_up_threads, .timeout = 60)
{
    interrupt_mid_run(NULL, "thread");
    interrupt_mid_run("blocking-accept", "thread");
}

Test(accept, interrupt_cleans_up_processes, .timeout = 60)
{
    interrupt_mid_run("reuseport", "process");
    interrupt_mid_run(NULL, "process");
}
