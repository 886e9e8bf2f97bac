/* test_model_queue.c — the queue preset (src/sim/model_queue.c), end to end.
 *
 * tests/sim/test_validation.c checks the service component against queueing theory
 * directly; this checks the PRESET through the front door (herd_sim_run with a spec, as
 * `herd run queue --backend sim` does): the closed forms again, on shorter runs, seed
 * 000's bathtub, shedding and rejection, determinism, the report's meaning, and a golden
 * trace.
 *
 * Closed forms. Each figure is the mean over RUNS independent runs (seeds
 * herd_run_seed(s, i), as --runs uses), and the runs' spread gives its standard error.
 * A check asserts the figure within 2 % of the closed form AND a standard error below
 * 0.5 %, so 2 % is at least four standard errors of what the sim itself measured: a pass
 * is not luck. The loads are moderate (rho 0.5-0.6) so that a few million customers,
 * about a second of CPU, suffice. Each run starts empty; at these loads the transient
 * lasts a few dozen service times, which moves a mean of 10^5..10^6 customers by far
 * less than its standard error.
 */
#include <criterion/criterion.h>
#include <herd/error.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../src/sim/model_queue.h"
#include "../../src/sim/sim.h"
#include "model_test.h"
#include "closed_forms.h"

static void spec_for(struct herd_run_spec *spec, bool shed, uint64_t seed, const char *const *sets)
{
    model_spec(spec, "queue", shed ? "shed" : NULL, seed, sets);
}

/* A run on the default profile. */
static void run(struct herd_report *r, bool shed, uint64_t seed, const char *const *sets)
{
    struct herd_run_spec spec;
    spec_for(&spec, shed, seed, sets);
    run_sim(&spec, NULL, r);
}

/* ---- closed forms --------------------------------------------------------------------- */

#define RUNS 8

struct est {
    double mean, se;
};

struct figures {
    struct est sojourn, wait, pwait;
    double events;
};

static struct est estimate(const double *v, int n)
{
    double m = 0, ss = 0;
    for (int i = 0; i < n; i++)
        m += v[i];
    m /= n;
    for (int i = 0; i < n; i++)
        ss += (v[i] - m) * (v[i] - m);
    return (struct est){m, sqrt(ss / (n - 1) / n)};
}

static struct figures measure(const char *const *sets, uint64_t seed)
{
    double soj[RUNS], wq[RUNS], pw[RUNS], events = 0;
    for (int i = 0; i < RUNS; i++) {
        struct herd_report r;
        run(&r, false, herd_run_seed(seed, i), sets);
        cr_assert_eq(r.wakes, r.useful, "unbounded FIFO: everyone is served");
        soj[i] = herd_hist_mean(&r.latency);
        wq[i] = extra(&r, "mean_wait_ns");
        pw[i] = extra(&r, "p_wait");
        events += extra(&r, "events_dispatched");
        herd_report_fini(&r);
    }
    return (struct figures){estimate(soj, RUNS), estimate(wq, RUNS), estimate(pw, RUNS), events};
}

static void check(const char *what, struct est e, double want)
{
    double err = e.mean / want - 1, rse = e.se / want;
    fprintf(stderr, "# %-24s sim %12.4f  closed form %12.4f  error %+6.2f %%  std err %.2f %%\n",
            what, e.mean, want, 100 * err, 100 * rse);
    cr_assert(rse < 0.005, "%s: std error %.2f %% is too large to judge a 2 %% tolerance", what,
              100 * rse);
    cr_assert(fabs(err) < 0.02, "%s: %.4f vs closed form %.4f (%+.2f %%)", what, e.mean, want,
              100 * err);
}

/* M/M/1, rho = 0.5: mean time in system 1/(mu - lambda). 8 x 400,000 customers. */
Test(model_queue, mm1_mean_time_in_system, .timeout = 60)
{
    const double S = 100e3, lambda = 0.5 / S; /* per ns */
    const char *sets[] = {"rate=5000", "service_us=100", "service=exp",
                          "servers=1", "duration_s=80",  NULL};
    struct figures f = measure(sets, 101);
    check("M/M/1 W (ns)", f.sojourn, 1 / (1 / S - lambda));
}

/* M/M/4, rho = 0.6 (a = 2.4): Erlang C P(wait) and mean wait C / (c mu - lambda). */
Test(model_queue, mmc_erlang_c_and_mean_wait, .timeout = 60)
{
    const int c = 4;
    const double S = 100e3, a = 2.4, lambda = a / S;
    const char *sets[] = {"rate=24000", "service_us=100", "service=exp",
                          "servers=4",  "duration_s=80",  NULL};
    struct figures f = measure(sets, 202);
    double pw = erlang_c(c, a);
    check("M/M/4 P(wait)", f.pwait, pw);
    check("M/M/4 Wq (ns)", f.wait, pw / (c / S - lambda));
}

/* M/D/1, rho = 0.6: Pollaczek-Khinchine mean wait lambda / (2 mu (mu - lambda)). */
Test(model_queue, md1_mean_wait, .timeout = 60)
{
    const double S = 100e3, mu = 1 / S, lambda = 0.6 * mu;
    const char *sets[] = {"rate=6000", "service_us=100", "service=det",
                          "servers=1", "duration_s=60",  NULL};
    struct figures f = measure(sets, 303);
    check("M/D/1 Wq (ns)", f.wait, lambda / (2 * mu * (mu - lambda)));
}

/* ---- seed 000's bathtub ------------------------------------------------------------ */

/* Clients that wait however long it takes (timeout_ms=0): the drain is the closed form. */
static const char *const bathtub[] = {"rate=20000",     "duration_s=1", "servers=1", "service=det",
                                      "service_us=500", "timeout_ms=0", NULL};

/* 20,000 requests/s for one second into 2,000 req/s of capacity: the backlog drains at
 * ~10 s. Poisson arrivals: 20,000 ± 141 of them, each 0.5 ms of work, and the worker
 * never idles once the backlog formed (within the first milliseconds), so the last
 * completion is arrivals x 0.5 ms to within a few ms, and 10 s within 3 % (4 sd). */
Test(model_queue, bathtub_drains_in_ten_seconds)
{
    struct herd_report r;
    run(&r, false, 0, bathtub);
    double t = (double)r.sim_time_ns / 1e9, work = (double)r.wakes * 0.5e-3;
    fprintf(stderr,
            "# bathtub: %" PRIu64 " arrivals, last done at %.4f s (their work %.4f s), peak "
            "%" PRIu64 " in system, p99 %.3f s\n",
            r.wakes, t, work, r.peak, herd_hist_quantile(&r.latency, 0.99) / 1e9);
    cr_assert_eq(r.useful, r.wakes);
    cr_assert(t >= work && t < work + 0.005, "drained at %.4f s for %.4f s of work", t, work);
    cr_assert(fabs(t / 10 - 1) < 0.03, "drained at %.4f s", t);
    /* the bathtub's shape: the backlog peaks around 1 s at ~18,000, then drains */
    cr_assert(r.peak > 17000 && r.peak < 19000, "peak %" PRIu64, r.peak);
    int64_t *q = herd_report_series(&r, "queue");
    cr_assert(q && r.timeline.len > 10);
    size_t at_peak = 0;
    for (size_t i = 0; i < r.timeline.len; i++)
        if (q[i] > q[at_peak])
            at_peak = i;
    double t_peak = (double)at_peak * (double)r.timeline.bucket_ns / 1e9;
    cr_assert(t_peak > 0.9 && t_peak < 1.1, "queue peaks at %.3f s", t_peak);
    cr_assert_lt(q[r.timeline.len - 1], 100, "drained by the last bucket");
    cr_assert(fabs(extra(&r, "utilisation") - 1) < 0.001, "the worker never idled");
    herd_report_fini(&r);
}

/* Shedding turns the bathtub's 9 s tail into a 0.1 s one, and the work it drops is the
 * wasted figure; rejecting at a small queue does the same at the door. */
Test(model_queue, shed_and_reject_cut_the_tail)
{
    struct herd_report naive, shed, cap;
    run(&naive, false, 0, bathtub);
    const char *shed_sets[] = {"rate=20000",     "duration_s=1", "servers=1",    "service=det",
                               "service_us=500", "shed_ms=100",  "timeout_ms=0", NULL};
    run(&shed, true, 0, shed_sets);
    const char *cap_sets[] = {"rate=20000",     "duration_s=1",  "servers=1",    "service=det",
                              "service_us=500", "queue_cap=100", "timeout_ms=0", NULL};
    run(&cap, false, 0, cap_sets);

    cr_assert_eq(shed.wakes, naive.wakes, "same seed, same arrivals");
    cr_assert_eq((double)shed.failed, extra(&shed, "shed"), "a shed request failed");
    cr_assert_eq(shed.wasted, 0, "clients that never give up waste nothing");
    cr_assert_eq(shed.useful + shed.failed, shed.wakes);
    cr_assert_eq(shed.origin_load, shed.useful, "shed requests never reach a worker");
    cr_assert(shed.useful > 1900 && shed.useful <= 2210,
              "capacity 2,000/s for the 1 s burst + shed_ms: %" PRIu64 " served", shed.useful);
    int64_t p99n = herd_hist_quantile(&naive.latency, 0.99);
    int64_t p99s = herd_hist_quantile(&shed.latency, 0.99);
    cr_assert_leq(shed.latency.max, 101000000, "served within shed_ms + service");
    cr_assert_gt(p99n, 50 * p99s, "p99 %" PRId64 " vs %" PRId64, p99n, p99s);
    cr_assert_lt(shed.sim_time_ns, 2000000000, "no 10 s drain");

    cr_assert_eq((double)cap.failed, extra(&cap, "rejected"), "a rejected request failed");
    cr_assert_leq(cap.peak, 101, "queue_cap 100 + one in service");
    cr_assert_leq(cap.latency.max, 101 * 500000 + 1, "never more than 100 ahead");
    int64_t *err = herd_report_series(&cap, "errors");
    cr_assert(err);
    fprintf(stderr,
            "# bathtub: naive p99 %.3f s, shed p99 %.1f ms (%" PRIu64 " shed), cap=100 p99 %.1f "
            "ms (%" PRIu64 " rejected)\n",
            p99n / 1e9, p99s / 1e6, shed.wasted, herd_hist_quantile(&cap.latency, 0.99) / 1e6,
            cap.wasted);
    herd_report_fini(&naive);
    herd_report_fini(&shed);
    herd_report_fini(&cap);
}

/* ---- the report ------------------------------------------------------------------- */

Test(model_queue, deterministic)
{
    const char *logn[] = {"service=lognormal", "rate=1800",    "servers=2",
                          "service_us=900",    "duration_s=2", NULL};
    for (int shed = 0; shed < 2; shed++) {
        struct herd_run_spec spec;
        spec_for(&spec, shed, 9, logn);
        check_deterministic(&spec, NULL, false, shed ? "shed" : "fifo", NULL);
    }
}

/* At its defaults (utilisation 0.95, clients that give up at 20 ms) the preset shows what
 * shedding is for: naive does work for clients already gone (wasted), shed fails those
 * requests fast instead, wastes far less and cuts the tail. (Its defaults used to be a
 * queue that never waited 100 ms: naive and shed gave the same report.) */
Test(model_queue, defaults_show_naive_vs_shed)
{
    struct herd_report naive, shed;
    run(&naive, false, 1, NULL);
    run(&shed, true, 1, NULL);
    cr_assert_eq(naive.wakes, shed.wakes, "same arrivals");
    cr_assert_gt(naive.wasted, naive.wakes / 20, "naive wastes work: %" PRIu64, naive.wasted);
    cr_assert_eq(naive.failed, 0);
    cr_assert_gt(shed.failed, 0, "shed fails requests fast");
    cr_assert_lt(shed.wasted * 10, naive.wasted, "%" PRIu64 " vs %" PRIu64, shed.wasted,
                 naive.wasted);
    cr_assert_gt(herd_hist_quantile(&naive.latency, 0.99),
                 herd_hist_quantile(&shed.latency, 0.99) * 3 / 2);
    cr_assert_eq(naive.useful + naive.wasted + naive.failed, naive.wakes);
    cr_assert_eq(shed.useful + shed.wasted + shed.failed, shed.wakes);
    herd_report_fini(&naive);
    herd_report_fini(&shed);
}

Test(model_queue, report_means_what_it_says)
{
    struct herd_run_spec spec;
    const char *sets[] = {"rate=1000",       "duration_s=4", "servers=2",
                          "service_us=1500", "timeout_ms=0", NULL};
    spec_for(&spec, false, 4, sets);
    spec.events = 4;
    struct herd_report r;
    run_sim(&spec, NULL, &r);
    cr_assert_eq(r.nevents, 4, "--events 4: four windows of the arrival period");
    double sum = 0;
    for (size_t k = 0; k < 4; k++) {
        sum += r.ev.wakes[k];
        cr_assert(r.ev.wakes[k] > 850 && r.ev.wakes[k] < 1150, "window %zu: %.0f", k,
                  r.ev.wakes[k]);
    }
    cr_assert_eq(sum, (double)r.wakes);
    cr_assert_eq(r.origin_load, r.useful);
    cr_assert_eq(r.latency.count, r.useful);
    cr_assert_eq(r.nwaiters, 240, "requests are the waiters");
    cr_assert_eq((uint64_t)r.population, r.wakes, "as many waiters as requests, whatever -n");
    for (size_t i = 0; i < 240; i++)
        cr_assert_eq(herd_waiter_class(&r.waiters[i]), HERD_OUT_USEFUL);
    cr_assert(extra(&r, "utilisation") > 0.65 && extra(&r, "utilisation") < 0.85);
    cr_assert_leq(r.timeline.len, 1000);
    int64_t *arr = herd_report_series(&r, "arrivals"), *inf = herd_report_series(&r, "inflight");
    cr_assert(arr && inf);
    int64_t total = 0, most = 0;
    for (size_t i = 0; i < r.timeline.len; i++) {
        total += arr[i];
        most = inf[i] > most ? inf[i] : most;
    }
    cr_assert_eq((uint64_t)total, r.wakes);
    cr_assert_eq(most, 2, "two workers busy at some point, never more");
    cr_assert_eq(extra(&r, "events_dispatched"), 2 * (double)r.wakes);

    /* -n is not used: any N gives the same figures */
    struct herd_report r2;
    spec.n = 100000;
    run_sim(&spec, NULL, &r2);
    cr_assert_eq(r2.wakes, r.wakes);
    cr_assert_eq(r2.sim_time_ns, r.sim_time_ns);
    cr_assert_eq(r2.latency.sum, r.latency.sum);
    herd_report_fini(&r);
    herd_report_fini(&r2);
}

Test(model_queue, refuses_runs_that_cannot_finish)
{
    struct herd_run_spec spec;
    const char *sets[] = {"rate=1e9", "duration_s=1000", NULL};
    spec_for(&spec, false, 1, sets);
    struct herd_profile prof;
    herd_profile_defaults(&prof);
    struct herd_report r;
    char err[256] = "";
    cr_assert_eq(herd_sim_run(&spec, &prof, NULL, &r, err, sizeof err), -HERD_ELIMIT);
    cr_assert(strstr(err, "rate x duration_s"), "%s", err);
    herd_report_fini(&r);
}

/* ---- golden trace ------------------------------------------------------------------ */

static void trace_line(void *ctx, int64_t t, const char *kind, uint64_t entity)
{
    fprintf(ctx, "%" PRId64 " %s %" PRIu64 "\n", t, kind, entity);
}

/* Ten requests at 1,000/s into one exponential worker of 0.5 ms, shedding after 0.2 ms:
 * arrivals, completions and one shed, in simulated ns. */
Test(model_queue, golden_trace)
{
    struct herd_run_spec spec;
    const char *sets[] = {"rate=1000", "duration_s=0.01", "service_us=500", "shed_ms=0.2", NULL};
    spec_for(&spec, true, 5, sets);
    struct golden g;
    struct herd_report r;
    run_hooked(herd__sim_queue_run_hooked, &spec, NULL, trace_line, golden_open(&g), &r);
    herd_report_fini(&r);
    golden_check(&g, "queue.trace");
}
