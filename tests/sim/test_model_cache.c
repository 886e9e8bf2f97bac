/* test_model_cache.c — the cache-stampede herd's simulation model.
 *
 *   - determinism: two runs of every strategy give byte-identical JSON; the seed matters;
 *   - the herd and its mitigations at N = 200 (issue 2's live acceptance, on the sim):
 *     singleflight and swr put exactly 1 query per expiry on the origin, naive puts N
 *     with a higher p99; swr counts its stale serves; xfetch refreshes early; ttl-jitter
 *     cannot help one key and, with 10 keys, lowers the origin's peak;
 *   - the origin's queueing + USL: p99(N) for N = 100 .. 800. Without a coherency cost
 *     (usl_kappa=0) the origin is a c-server FIFO and p99 grows LINEARLY (Little); with
 *     the default kappa over every query held it grows faster than linearly past a few
 *     hundred (p99(800)/p99(400) > 2.8);
 *   - a golden trace (tests/sim/golden/cache.trace; HERD_UPDATE_GOLDEN=1 rewrites it);
 *   - scale: N = 100,000 runs every strategy (N = 1,000,000 is timed by hand: see the note).
 * Live vs sim (a fleet's herd, calibrated by the live runs' own query) is `herd fidelity`
 * (src/cli/cmd_fidelity.c): it compares live latencies, with intervals, where a busy
 * machine cannot fail the suite.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <herd/error.h>
#include <math.h>
#include <stdio.h>

#include "../../src/live/live.h"
#include "../../src/sim/model_cache.h"
#include "../../src/sim/sim.h"
#include "../live/live_test.h"
#include "model_test.h"

static const char *const strategies[] = {NULL, "singleflight", "swr", "xfetch", "ttl-jitter"};
#define NSTRAT 5

static const char *label(const char *mitigation)
{
    return mitigation ? mitigation : "every-miss";
}

/* A fixed profile: golden trace and hand-checked numbers must not move when the
 * built-in defaults are re-measured. */
static void fixed_profile(struct herd_profile *p)
{
    herd_profile_defaults(p);
    p->cores = 2;
    p->origin_query_ns = 6e6;
}

static void make_spec(struct herd_run_spec *spec, const char *mitigation, int64_t n, int64_t events)
{
    model_spec(spec, "cache", mitigation, 4242, NULL);
    spec->n = n;
    spec->events = events;
}

/* run_sim, and a cache run reports every event it was asked for. */
static void run(const struct herd_run_spec *spec, const struct herd_profile *prof,
                struct herd_report *r)
{
    run_sim(spec, prof, r);
    cr_assert_eq(r->nevents, (size_t)spec->events);
}

Test(model_cache, deterministic)
{
    struct herd_profile prof;
    herd_profile_defaults(&prof);
    for (int m = 0; m < NSTRAT; m++) {
        struct herd_run_spec spec;
        make_spec(&spec, strategies[m], 500, 3);
        set(&spec, "keys=3");
        check_deterministic(&spec, &prof, true, label(strategies[m]), run);
    }
}

/* What every run must satisfy. */
static void sane(const struct herd_report *r)
{
    cr_assert_gt(r->latency.count, 0);
    cr_assert_eq((double)r->latency.count, extra(r, "requests"), "a request without a latency");
    cr_assert_eq(extra(r, "errors"), 0);
    cr_assert_eq((double)r->failed, extra(r, "timed_out"), "failed: past the deadline");
    cr_assert_eq(series_sum(r, "arrivals"), (int64_t)r->ev.origin[0]);
    cr_assert_gt(r->sim_time_ns, 0);
    for (size_t e = 0; e < r->nevents; e++)
        cr_assert_geq(r->ev.useful[e], 1, "event %zu refreshed nothing", e);
}

Test(model_cache, herd_and_mitigations_at_200)
{
    struct herd_profile prof;
    fixed_profile(&prof);
    struct herd_report r[NSTRAT];
    for (int m = 0; m < NSTRAT; m++) {
        struct herd_run_spec spec;
        make_spec(&spec, strategies[m], 200, 5);
        run(&spec, &prof, &r[m]);
        sane(&r[m]);
        cr_log_info("%-12s wakes/ev %.0f origin/ev %.0f peak %llu p50 %.2f ms p99 %.2f ms "
                    "stale %.0f early %.0f shared %.0f",
                    label(strategies[m]), r[m].ev.wakes[0], r[m].ev.origin[0],
                    (unsigned long long)r[m].peak, herd_hist_quantile(&r[m].latency, 0.5) / 1e6,
                    p99(&r[m]) / 1e6, extra(&r[m], "stale_serves"), extra(&r[m], "early_refreshes"),
                    extra(&r[m], "shared_results"));
    }
    const struct herd_report *naive = &r[0], *sf = &r[1], *swr = &r[2], *xf = &r[3];
    /* Naive: every requester misses within one period, long before the first of the
     * 2-worker origin's 6 ms queries returns: all 200 query, the queue drains in
     * 200 x 6 / 2 = 600 ms, and one refresh of the 200 was needed. */
    for (size_t e = 0; e < naive->nevents; e++) {
        cr_assert_eq(naive->ev.origin[e], 200, "naive event %zu", e);
        cr_assert_eq(naive->ev.wakes[e], 200);
        cr_assert_eq(naive->ev.useful[e], 1);
    }
    cr_assert_eq(naive->peak, 200);
    cr_assert(p99(naive) > 450e6 && p99(naive) < 620e6, "naive p99 %.1f ms", p99(naive) / 1e6);
    cr_assert_eq(live_test_tiles(naive, HERD_OUT_USEFUL), 5); /* one refresh per expiry */
    cr_assert_eq(live_test_tiles(naive, HERD_OUT_WASTED), 199 * 5);
    cr_assert_eq(naive->wasted, 199 * 5);
    /* Singleflight and swr: one query per expiry, in every event. */
    for (size_t e = 0; e < sf->nevents; e++) {
        cr_assert_eq(sf->ev.origin[e], 1, "singleflight event %zu", e);
        cr_assert_eq(swr->ev.origin[e], 1, "swr event %zu", e);
        cr_assert_eq(xf->ev.origin[e], 1, "xfetch event %zu", e);
    }
    cr_assert_eq(sf->peak, 1);
    cr_assert_eq(swr->peak, 1);
    /* Singleflight: the others wait for the leader and are served its result: served,
     * never wasted (one query's time). */
    cr_assert_eq(sf->ev.wakes[0], 200);
    cr_assert_eq(extra(sf, "shared_results"), 199 * 5);
    cr_assert_eq(live_test_tiles(sf, HERD_OUT_SERVED), 199 * 5);
    cr_assert_eq(sf->served, 199 * 5);
    cr_assert_eq(sf->wasted, 0);
    cr_assert(p99(sf) < 6.5e6 && p99(sf) > 4e6, "singleflight p99 %.2f ms", p99(sf) / 1e6);
    cr_assert(p99(naive) > 50 * p99(sf));
    /* swr: the refresher serves stale, as does everyone during the refresh: no wait.
     * One refresh (useful), every stale serve served, nothing wasted. */
    for (size_t e = 0; e < swr->nevents; e++) {
        cr_assert_eq(swr->ev.useful[e], 1);
        cr_assert_eq(swr->ev.wasted[e], 0);
    }
    cr_assert_geq(extra(swr, "stale_serves"), 200 * 5, "stale serves %.0f",
                  extra(swr, "stale_serves"));
    cr_assert_eq((double)swr->served, extra(swr, "stale_serves"));
    cr_assert_gt(series_sum(swr, "stale"), 0);
    cr_assert_eq(live_test_tiles(swr, HERD_OUT_USEFUL), 5);
    cr_assert_eq((double)live_test_tiles(swr, HERD_OUT_SERVED), extra(swr, "stale_serves"));
    cr_assert(p99(swr) < 1e6, "swr p99 %.2f ms", p99(swr) / 1e6);
    /* xfetch: 200 readers per 2 ms of a 6 ms query: one refreshes early, nobody misses. */
    cr_assert_eq(extra(xf, "early_refreshes"), 5);
    cr_assert_eq(extra(xf, "stale_serves"), 0);
    cr_assert(p99(xf) < 1e6, "xfetch p99 %.2f ms", p99(xf) / 1e6);
    /* ttl-jitter with ONE key: the lone key just expires at another moment: no help. */
    cr_assert_eq(r[4].ev.origin[0], 200);
    cr_assert_eq(r[4].peak, naive->peak);
    cr_assert(p99(&r[4]) > 0.9 * p99(naive));
    for (int m = 0; m < NSTRAT; m++)
        herd_report_fini(&r[m]);
}

/* ttl-jitter with 10 keys filled together: naive, all 10 expire at once and their 200
 * requesters pile on the origin; jittered, the keys expire apart and the peak falls. */
Test(model_cache, ttl_jitter_spreads_keys)
{
    struct herd_profile prof;
    fixed_profile(&prof);
    struct herd_run_spec ns, js;
    struct herd_report n, j;
    make_spec(&ns, NULL, 200, 5);
    make_spec(&js, "ttl-jitter", 200, 5);
    set(&ns, "keys=10");
    set(&js, "keys=10");
    set(&ns, "jitter_pct=50");
    set(&js, "jitter_pct=50");
    run(&ns, &prof, &n);
    run(&js, &prof, &j);
    sane(&n);
    sane(&j);
    cr_log_info(
        "keys=10 naive peak %llu p99 %.1f ms; ttl-jitter peak %llu p99 %.1f ms spread %.1f ms",
        (unsigned long long)n.peak, p99(&n) / 1e6, (unsigned long long)j.peak, p99(&j) / 1e6,
        extra(&j, "expiry_spread_ms"));
    cr_assert_eq(n.peak, 200);
    cr_assert_eq(extra(&n, "expiry_spread_ms"), 0);
    cr_assert_gt(extra(&j, "expiry_spread_ms"), 50);
    cr_assert_lt(j.peak, n.peak, "ttl-jitter peak %llu vs naive %llu", (unsigned long long)j.peak,
                 (unsigned long long)n.peak);
    cr_assert_eq(j.ev.useful[0], 10);
    herd_report_fini(&n);
    herd_report_fini(&j);
}

static double naive_p99(const struct herd_profile *prof, int64_t n, const char *workers)
{
    struct herd_run_spec spec;
    struct herd_report r;
    make_spec(&spec, NULL, n, 3);
    if (workers)
        set(&spec, workers);
    run(&spec, prof, &r);
    double v = p99(&r);
    herd_report_fini(&r);
    return v;
}

Test(model_cache, origin_p99_versus_n)
{
    struct herd_profile prof;
    fixed_profile(&prof);
    const int64_t ns[] = {100, 200, 400, 800};
    double plain[4], dflt[4];
    for (int i = 0; i < 4; i++) {
        plain[i] = naive_p99(&prof, ns[i], "usl_kappa=0");
        dflt[i] = naive_p99(&prof, ns[i], NULL);
        cr_log_info("N=%lld p99: plain queueing %.1f ms, with the origin's coherency cost "
                    "(defaults) %.1f ms",
                    (long long)ns[i], plain[i] / 1e6, dflt[i] / 1e6);
    }
    /* Without a coherency cost the origin is a FIFO drained at `cores` queries per query
     * time: every requester waits its turn, so p99 ~ 0.9 x N x 3 ms, linear in N. */
    for (int i = 1; i < 4; i++) {
        double ratio = plain[i] / plain[i - 1];
        cr_assert(ratio > 1.9 && ratio < 2.1, "kappa 0: p99 ratio %.2f at N=%lld", ratio,
                  (long long)ns[i]);
    }
    /* With the default kappa over every query the origin holds, N = 100 is still plain
     * queueing (what the live herd shows), but past a few hundred requesters each query
     * slows with the crowd inside the database and p99 grows faster than linearly:
     * seed 004's saturating origin, out of the model's mechanics. */
    cr_assert(dflt[0] < 1.1 * plain[0], "N=100: %.1f vs %.1f ms", dflt[0] / 1e6, plain[0] / 1e6);
    cr_assert(dflt[1] / dflt[0] < 2.4, "p99(200)/p99(100) = %.2f", dflt[1] / dflt[0]);
    cr_assert(dflt[2] / dflt[1] > 2.2, "p99(400)/p99(200) = %.2f", dflt[2] / dflt[1]);
    cr_assert(dflt[3] / dflt[2] > 2.8, "p99(800)/p99(400) = %.2f", dflt[3] / dflt[2]);
}

/* ---- golden trace --------------------------------------------------------------------- */

static void trace_line(void *ctx, int64_t t_ns, const char *kind, uint64_t entity)
{
    fprintf(ctx, "%lld.%06lld %s %llu\n", (long long)(t_ns / 1000000), (long long)(t_ns % 1000000),
            kind, (unsigned long long)entity);
}

Test(model_cache, golden_trace)
{
    struct herd_profile prof;
    fixed_profile(&prof);
    struct golden g;
    FILE *f = golden_open(&g);
    for (int m = 0; m < NSTRAT - 1; m++) {
        struct herd_run_spec spec;
        struct herd_report r;
        make_spec(&spec, strategies[m], 5, 2);
        set(&spec, "ttl_ms=20");
        set(&spec, "lead_ms=3");
        set(&spec, "period_us=1000");
        set(&spec, "stale_ms=50");
        fprintf(f, "# %s, N=5, 2 events, ttl 20 ms, lead 3 ms, period 1 ms, query 6 ms\n",
                label(strategies[m]));
        run_hooked(herd__sim_cache_run_hooked, &spec, &prof, trace_line, f, &r);
        fprintf(f, "# wakes %llu useful %llu origin %llu peak %llu sim_time_ns %lld\n",
                (unsigned long long)r.wakes, (unsigned long long)r.useful,
                (unsigned long long)r.origin_load, (unsigned long long)r.peak,
                (long long)r.sim_time_ns);
        herd_report_fini(&r);
    }
    golden_check(&g, "cache.trace");
}

/* Every strategy at N = 100,000 (the 1,000,000 run is timed by hand: ~2 s mitigated). */
Test(model_cache, scale, .timeout = 120)
{
    struct herd_profile prof;
    fixed_profile(&prof);
    for (int m = 1; m < NSTRAT; m++) {
        struct herd_run_spec spec;
        struct herd_report r;
        make_spec(&spec, strategies[m], 100000, 2);
        run(&spec, &prof, &r);
        sane(&r);
        cr_log_info("N=100000 %-12s origin/ev %.0f peak %llu p99 %.2f ms events %.0f requests %.0f",
                    label(strategies[m]), r.ev.origin[0], (unsigned long long)r.peak, p99(&r) / 1e6,
                    extra(&r, "sim_events"), extra(&r, "requests"));
        if (m != NSTRAT - 1)
            cr_assert_eq(r.ev.origin[0], 1, "%s", label(strategies[m]));
        herd_report_fini(&r);
    }
}

/* ---- live vs sim ---------------------------------------------------------------------- */
