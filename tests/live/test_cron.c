/* test_cron.c — the live cron herd: naive vs jitter vs splay at N = 500.
 *
 * Acceptance (issue 2): the backend's peak concurrency at the boundary (naive) is at
 * least 5× the mitigated one, and the timeline shows a spike vs a band. What the
 * thresholds rest on, for a noisy 2-core machine:
 *   - naive: 500 clients fire at one instant; the backend (4 workers, 200 µs of CPU
 *     each, 2 cores) drains ~10 requests per ms, so hundreds are in flight at once
 *     (measured 250–490 on a quiet box); the test needs only >= 5× the mitigated peak.
 *   - jitter/splay: ~1 arrival per ms against a ~10/ms drain: the peak is 3–5 on a
 *     quiet box (ratio ~100). Noise works against the check from both sides (a stall of
 *     a backend worker piles up arrivals in the mitigated run; starved clients stretch
 *     the naive burst), and with other test suites loading the box to a load average of
 *     30 single pairs gave ratios down to ~5. So each comparison runs up to 5 pairs,
 *     stops once 3 agree, and checks the median ratio: a disturbed pair cannot decide,
 *     while a broken mitigation (ratios near 1) fails every pair.
 *   - spike vs band: share of the window's 1 ms buckets that saw any arrival: 500
 *     uniform arrivals over 500 buckets cover 1 − e^−1 ≈ 63 % of them (> 40 % asked);
 *     the naive burst covers a few dozen (1–8 %); the band must cover at least twice
 *     the spike's share (medians over the pairs).
 * Every run must also record a latency for all N, account for every client, and leave
 * no descriptor or thread behind. The period is set to 100 ms so a run takes about the
 * window plus a fraction of a second.
 */
#include <criterion/criterion.h>
#include <herd/clock.h>
#include <herd/error.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "live_test.h"

#define N 500

static void make_spec(struct herd_run_spec *spec, const char *mitigation, int64_t n)
{
    char err[256];
    const struct herd_scenario *sc = herd_scenario_find("cron");
    cr_assert_not_null(sc);
    herd_spec_init(spec, sc);
    spec->n = n;
    spec->seed = 12345;
    cr_assert_eq(herd_spec_set(spec, "period_ms=100", err, sizeof err), 0, "%s", err);
    if (mitigation) {
        cr_assert_eq(herd_spec_use(spec, mitigation), 0);
    } else {
        herd_spec_use_index(spec, 0);
    }
}

/* Run one mode, check the invariants every run must meet, return its peak and the
 * share of the window's buckets that saw an arrival. */
static void run_one(const char *mitigation, uint64_t *peak, double *coverage)
{
    struct herd_run_spec spec;
    struct herd_report r;
    char err[256] = "";
    int fds0 = live_test_count_dir("/proc/self/fd"),
        tasks0 = live_test_count_dir("/proc/self/task");

    make_spec(&spec, mitigation, N);
    live_test_clear();
    int64_t t0 = herd_clock_monotonic_ns();
    int rc = live_test_run(&spec, &r, err, sizeof err);
    int64_t elapsed = herd_clock_monotonic_ns() - t0;
    cr_assert_eq(rc, 0, "%s: %s", mitigation ? mitigation : "naive", err);

    const char *m = mitigation ? mitigation : "naive";
    cr_assert_eq(r.nevents, 1);
    cr_assert_eq(r.wakes, N, "%s: wakes %llu", m, (unsigned long long)r.wakes);
    cr_assert_eq(r.origin_load, N, "%s: origin_load %llu", m, (unsigned long long)r.origin_load);
    cr_assert_eq(r.useful + r.wasted + r.failed, N, "one outcome per client");
    cr_assert_eq(r.latency.count, N, "%s: latency for %llu of %d", m,
                 (unsigned long long)r.latency.count, N);
    double served = 0, timeouts = 0, errors = 0;
    cr_assert(herd_report_get_extra(&r, "served", &served));
    cr_assert(herd_report_get_extra(&r, "timeouts", &timeouts));
    cr_assert(herd_report_get_extra(&r, "errors", &errors));
    cr_assert_eq(served, N, "%s: served %.0f timeouts %.0f errors %.0f", m, served, timeouts,
                 errors);
    /* Every request answered in time, queued behind others or not: useful, not waste. */
    cr_assert_eq(r.useful, N, "%s: useful %llu (queued requests are not waste)", m,
                 (unsigned long long)r.useful);
    for (size_t i = 0; i < r.nwaiters; i++)
        cr_assert_eq(herd_waiter_class(&r.waiters[i]), HERD_OUT_USEFUL, "%s: waiter %zu", m, i);
    cr_assert(r.spread.present);
    cr_assert_geq(r.spread.workers_used, 1);

    /* Timeline: non-empty, every arrival in it, its in-flight never above the peak. */
    cr_assert_gt(r.timeline.len, 0);
    cr_assert_leq(r.timeline.bucket_ns, 1000000, "500 ms window fits 1 ms buckets");
    int64_t *arr = NULL, *inf = NULL;
    for (int s = 0; s < r.timeline.nseries; s++) {
        if (strcmp(r.timeline.series[s].name, "arrivals") == 0)
            arr = r.timeline.series[s].v;
        if (strcmp(r.timeline.series[s].name, "inflight") == 0)
            inf = r.timeline.series[s].v;
    }
    cr_assert(arr && inf);
    int64_t total = 0, inf_max = 0;
    size_t window_buckets = (size_t)(500000000 / r.timeline.bucket_ns), hit = 0;
    for (size_t b = 0; b < r.timeline.len; b++) {
        total += arr[b];
        inf_max = inf[b] > inf_max ? inf[b] : inf_max;
        if (b < window_buckets && arr[b] > 0)
            hit++;
    }
    cr_assert_eq(total, N);
    cr_assert_leq((uint64_t)inf_max, r.peak);
    cr_assert_geq((uint64_t)inf_max, r.peak / 2, "timeline in-flight %lld vs peak %llu",
                  (long long)inf_max, (unsigned long long)r.peak);

    *peak = r.peak;
    cr_assert_gt(r.peak, 0);
    *coverage = (double)hit / (double)window_buckets;
    cr_log_info("%-6s peak %4llu  buckets-with-arrivals %.2f  useful %llu  p99 %.1f ms  "
                "elapsed %.2f s",
                m, (unsigned long long)r.peak, *coverage, (unsigned long long)r.useful,
                herd_hist_quantile(&r.latency, 0.99) / 1e6, (double)elapsed / 1e9);
    herd_report_fini(&r);

    cr_assert_eq(live_test_count_dir("/proc/self/fd"), fds0, "descriptors left behind");
    cr_assert_eq(live_test_count_dir("/proc/self/task"), tasks0, "threads left behind");
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof v[0], cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Up to 5 naive/mitigated pairs; stop as soon as 3 agree on the verdict, so a quiet
 * machine pays 3 pairs (~5 s) and one disturbed pair cannot decide. */
static void check_mitigation(const char *mitigation)
{
    double ratio[5], cov_n[5], cov_m[5];
    int n = 0, pass = 0, fail = 0;
    while (n < 5 && pass < 3 && fail < 3) {
        uint64_t pn, pm;
        run_one(NULL, &pn, &cov_n[n]);
        run_one(mitigation, &pm, &cov_m[n]);
        ratio[n] = (double)pn / (double)(pm ? pm : 1);
        if (ratio[n] >= 5.0)
            pass++;
        else
            fail++;
        n++;
    }
    double r = median(ratio, n), cn = median(cov_n, n), cm = median(cov_m, n);
    cr_log_info("%s: median naive/mitigated peak ratio %.1f over %d pairs; share of 1 ms "
                "buckets with arrivals: naive %.2f, %s %.2f",
                mitigation, r, n, cn, mitigation, cm);
    cr_assert_geq(r, 5.0, "naive peak only %.1fx the %s peak (median of %d)", r, mitigation, n);
    cr_assert_gt(cm, 0.40, "%s arrivals should be a band (coverage %.2f)", mitigation, cm);
    cr_assert_geq(cm, 2 * cn, "naive arrivals should be one spike (coverage %.2f vs %.2f)", cn, cm);
}

Test(cron, jitter_flattens_the_spike, .timeout = 60)
{
    check_mitigation("jitter");
}

Test(cron, splay_flattens_the_spike, .timeout = 60)
{
    check_mitigation("splay");
}

static void *interrupter(void *arg)
{
    struct timespec ts = {0, 300 * 1000000};
    (void)arg;
    nanosleep(&ts, NULL);
    live_test_interrupt();
    return NULL;
}

Test(cron, interrupt_cleans_up, .timeout = 30)
{
    struct herd_run_spec spec;
    struct herd_report r;
    char err[256];
    pthread_t th;
    int fds0 = live_test_count_dir("/proc/self/fd"),
        tasks0 = live_test_count_dir("/proc/self/task");

    make_spec(&spec, "jitter", N);
    /* A long window and period: the interrupt lands while clients sleep. */
    cr_assert_eq(herd_spec_set(&spec, "window_ms=5000", err, sizeof err), 0);
    cr_assert_eq(herd_spec_set(&spec, "period_ms=1000", err, sizeof err), 0);
    live_test_clear();
    int64_t t0 = herd_clock_monotonic_ns();
    pthread_create(&th, NULL, interrupter, NULL);
    int rc = live_test_run(&spec, &r, err, sizeof err);
    int64_t took = herd_clock_monotonic_ns() - t0;
    pthread_join(th, NULL);
    live_test_clear();
    cr_assert_eq(rc, -HERD_EINTR, "rc %d: %s", rc, err);
    /* Teardown is prompt: interrupted at 0.3 s, slices of 100 ms. */
    cr_assert_lt(took, 1500000000LL, "took %.2f s", (double)took / 1e9);
    cr_assert_eq(live_test_count_dir("/proc/self/fd"), fds0, "descriptors left behind");
    cr_assert_eq(live_test_count_dir("/proc/self/task"), tasks0, "threads left behind");
}

Test(cron, several_events, .timeout = 30)
{
    struct herd_run_spec spec;
    struct herd_report r;
    char err[256];
    make_spec(&spec, "splay", 100);
    spec.events = 3;
    cr_assert_eq(herd_spec_set(&spec, "window_ms=200", err, sizeof err), 0);
    live_test_clear();
    cr_assert_eq(live_test_run(&spec, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(r.nevents, 3);
    cr_assert_eq(r.wakes, 300);
    cr_assert_eq(r.origin_load, 300);
    cr_assert_eq(r.latency.count, 300);
    /* That a splay repeats each client's offset at every boundary is pinned in
     * tests/unit/test_jitter.c; here the arrivals of the event-relative timeline would
     * show it only up to the machine's scheduling noise, which on a loaded 2-core box
     * moves arrivals by tens of ms, so only the accounting is checked. */
    int64_t *arr = NULL, total = 0;
    for (int s = 0; s < r.timeline.nseries; s++)
        if (strcmp(r.timeline.series[s].name, "arrivals") == 0)
            arr = r.timeline.series[s].v;
    cr_assert(arr);
    for (size_t b = 0; b < r.timeline.len; b++)
        total += arr[b];
    cr_assert_eq(total, 300);
    double served;
    cr_assert(herd_report_get_extra(&r, "served", &served));
    cr_assert_eq(served, 300);
    herd_report_fini(&r);
}
