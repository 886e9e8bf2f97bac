/* test_model_cron.c — the cron herd's simulation model.
 *
 *   - determinism: two runs of each strategy give byte-identical JSON;
 *   - the herd and its mitigations at N = 500 (issue 2's live acceptance, on the sim):
 *     naive peak >= 5x the jitter and splay peaks, the timeline shows a spike (few 1 ms
 *     buckets of the window see arrivals) vs a band (most do), every client accounted;
 *   - the backend's mechanics: a lone request takes hop + S, a saturated one drains at
 *     cores / S, timeouts give up at timeout_ms and the backend serves them anyway;
 *   - a golden trace (tests/sim/golden/cron.trace; HERD_UPDATE_GOLDEN=1 rewrites it).
 * Live vs sim after calibration is `herd fidelity` (src/cli/cmd_fidelity.c).
 */
#include <criterion/criterion.h>
#include <herd/error.h>
#include <stdio.h>

#include "../../src/live/live.h"
#include "../../src/sim/model_cron.h"
#include "../../src/sim/sim.h"
#include "model_test.h"

static void make_spec(struct herd_run_spec *spec, const char *mitigation, int64_t n)
{
    model_spec(spec, "cron", mitigation, 12345, (const char *const[]){"period_ms=100", NULL});
    spec->n = n;
}

/* Share of the window's buckets that saw at least one arrival. */
static double band_share(const struct herd_report *r, int64_t window_ns)
{
    const int64_t *arr = series(r, "arrivals");
    size_t nb = (size_t)(window_ns / r->timeline.bucket_ns), hit = 0;
    cr_assert_leq(nb, r->timeline.len);
    for (size_t i = 0; i < nb; i++)
        hit += arr[i] > 0;
    return (double)hit / (double)nb;
}

Test(model_cron, deterministic)
{
    struct herd_profile prof;
    herd_profile_defaults(&prof);
    const char *mits[] = {NULL, "jitter", "splay"};
    for (int m = 0; m < 3; m++) {
        struct herd_run_spec spec;
        make_spec(&spec, mits[m], 2000);
        spec.events = 3;
        /* A different seed must change something (the draws are really used). */
        check_deterministic(&spec, &prof, true, mits[m] ? mits[m] : "naive", NULL);
    }
}

Test(model_cron, herd_vs_jitter_and_splay_at_500)
{
    struct herd_profile prof;
    herd_profile_defaults(&prof);
    struct herd_run_spec spec;
    struct herd_report naive, mit[2];
    const char *names[] = {"jitter", "splay"};
    make_spec(&spec, NULL, 500);
    run_sim(&spec, &prof, &naive);
    int64_t window = spec.cfg.cron.window_ns;
    double spike = band_share(&naive, window);
    cr_assert_eq(naive.wakes, 500);
    cr_assert_eq(naive.origin_load, 500);
    cr_assert_eq(naive.latency.count, 500);
    cr_assert_eq(naive.useful, 500, "answered in time, queued or not: useful");
    cr_assert_gt(extra(&naive, "served_after_queueing"), 475,
                 "naive: only the first few find a free worker (%.0f queued)",
                 extra(&naive, "served_after_queueing"));
    cr_assert_lt(spike, 0.05, "naive spike covers %.3f of the window", spike);
    for (int m = 0; m < 2; m++) {
        make_spec(&spec, names[m], 500);
        run_sim(&spec, &prof, &mit[m]);
        const struct herd_report *r = &mit[m];
        double band = band_share(r, window);
        cr_log_info("cron sim N=500: naive peak %lu p99 %.1f ms band %.3f | %s peak %lu p99 "
                    "%.2f ms band %.3f useful %lu",
                    (unsigned long)naive.peak, herd_hist_quantile(&naive.latency, 0.99) / 1e6,
                    spike, names[m], (unsigned long)r->peak,
                    herd_hist_quantile(&r->latency, 0.99) / 1e6, band, (unsigned long)r->useful);
        cr_assert_eq(r->wakes, 500);
        cr_assert_eq(r->origin_load, 500);
        cr_assert_eq(r->latency.count, 500);
        cr_assert_geq(naive.peak, 5 * r->peak, "%s: naive peak %lu < 5x %lu", names[m],
                      (unsigned long)naive.peak, (unsigned long)r->peak);
        cr_assert_gt(band, 0.40, "%s: band covers only %.3f", names[m], band);
        cr_assert_geq(band, 2 * spike);
        cr_assert_gt(r->useful, 400, "%s: most requests should find a free worker", names[m]);
        cr_assert_lt(herd_hist_quantile(&r->latency, 0.99) * 10,
                     herd_hist_quantile(&naive.latency, 0.99), "%s: p99 not 10x lower", names[m]);
        cr_assert(r->spread.present && r->spread.workers_used == 4);
        herd_report_fini(&mit[m]);
    }
    /* Splay is stable: the same offsets at every boundary, so two events of one run
     * deliver identical arrival timelines (jitter re-draws). */
    herd_report_fini(&naive);
}

/* The mechanics the model is built from, on numbers that can be checked by hand. */
Test(model_cron, backend_mechanics)
{
    struct herd_profile prof;
    herd_profile_defaults(&prof);
    prof.cores = 2;
    struct herd_run_spec spec;
    struct herd_report r;
    double S = 200e3 + 2 * prof.accept_ns + 4 * prof.ctx_switch_ns;

    /* One client alone: hop + S exactly (no skew to matter: latency is from its own
     * scheduled firing). */
    make_spec(&spec, NULL, 1);
    run_sim(&spec, &prof, &r);
    cr_assert_eq(r.useful, 1);
    cr_assert_float_eq((double)r.latency.max, prof.accept_ns + S, 0.01 * S);
    herd_report_fini(&r);

    /* 1,000 at once, no skew: 4 workers on 2 cores drain 2 per S, so the last reply
     * comes about 1000/2 S after the boundary. */
    make_spec(&spec, NULL, 1000);
    set(&spec, "skew_ms=0");
    run_sim(&spec, &prof, &r);
    double drain = 1000 / 2.0 * S;
    cr_assert_float_eq((double)r.latency.max, drain, 0.02 * drain, "max %.1f ms vs %.1f ms",
                       r.latency.max / 1e6, drain / 1e6);
    cr_assert_eq(r.peak, 1000);
    cr_assert_eq(r.useful, 1000, "every reply in time");
    cr_assert_eq(extra(&r, "served_after_queueing"), 996, "all but the 4 workers' first");
    cr_assert_float_eq(r.spread.max_share, 0.25, 0.01);
    herd_report_fini(&r);

    /* Timeouts: with timeout 20 ms only the first ~2 · 20 ms / S finish; the rest give
     * up at 20 ms and the backend serves them anyway (late replies). */
    set(&spec, "timeout_ms=20");
    run_sim(&spec, &prof, &r);
    double served = extra(&r, "served"), timeouts = extra(&r, "timeouts");
    double expect = 2 * 20e6 / S;
    cr_assert_eq(served + timeouts, 1000);
    cr_assert_float_eq(served, expect, 0.05 * expect + 4, "served %.0f vs %.0f", served, expect);
    cr_assert_eq(extra(&r, "late_replies"), timeouts);
    cr_assert_eq((double)r.wasted, timeouts, "work done for clients that gave up: wasted");
    cr_assert_eq((double)r.useful, served);
    cr_assert_float_eq((double)r.latency.max, 20e6, 0.01 * 20e6);
    cr_assert_float_eq((double)r.sim_time_ns - 100e6, drain, 0.05 * drain,
                       "the backend still works off every request");
    herd_report_fini(&r);
}

/* ---- golden trace --------------------------------------------------------------------- */

static void trace_line(void *ctx, int64_t t_ns, const char *kind, uint64_t entity)
{
    fprintf(ctx, "%14lld %-18s %llu\n", (long long)t_ns, kind,
            (unsigned long long)(entity & 0xffffffffu)); /* client index / request tag's low half */
}

static void trace_run(FILE *f, const char *title, const char *mitigation, int64_t events)
{
    struct herd_run_spec spec;
    make_spec(&spec, mitigation, 5);
    spec.events = events;
    set(&spec, "window_ms=10");
    struct herd_report r;
    fprintf(f, "# %s\n", title);
    /* the default profile, not this machine's: the golden file must not move */
    run_hooked(herd__sim_cron_run_hooked, &spec, NULL, trace_line, f, &r);
    fprintf(f, "# wakes %lu useful %lu origin %lu peak %lu p99 %lld\n", (unsigned long)r.wakes,
            (unsigned long)r.useful, (unsigned long)r.origin_load, (unsigned long)r.peak,
            (long long)herd_hist_quantile(&r.latency, 0.99));
    herd_report_fini(&r);
}

Test(model_cron, golden_trace)
{
    struct golden g;
    FILE *f = golden_open(&g);
    fprintf(f, "# cron sim golden trace: N = 5, seed 12345, period 100 ms, window 10 ms,\n"
               "# skew 1 ms, default profile. Columns: simulated ns, event kind, entity.\n");
    trace_run(f, "naive, 2 events", NULL, 2);
    trace_run(f, "jitter, 1 event", "jitter", 1);
    trace_run(f, "splay, 1 event", "splay", 1);
    golden_check(&g, "cron.trace");
}
