/* test_throttle.c — SRE-book adaptive throttling on a fake clock: the formula pinned,
 * the reject frequency against the formula within binomial tolerance, K = 2 never
 * rejecting while accepts >= requests/2, locally rejected requests counted as requests,
 * window expiry (whole and partial), the steady state near K × what the backend accepts,
 * clock skew, config errors and an allocation failure. */
#include <criterion/criterion.h>
#include <herd/error.h>
#include <herd/throttle.h>
#include <math.h>
#include <stdlib.h>

#include "torture.h"

#define S INT64_C(1000000000)
#define MS INT64_C(1000000)

static struct herd_throttle *make(const struct herd_throttle_config *c)
{
    struct herd_throttle *t = NULL;
    cr_assert_eq(herd_throttle_new(c, &t), 0);
    return t;
}

Test(throttle, formula_pinned)
{
    /* max(0, (requests − K·accepts) / (requests + 1)) */
    cr_assert_eq(herd_throttle_probability(0, 0, 2), 0.0);
    cr_assert_eq(herd_throttle_probability(10, 5, 2), 0.0, "accepts = requests/2: none");
    cr_assert_eq(herd_throttle_probability(10, 10, 2), 0.0);
    cr_assert_float_eq(herd_throttle_probability(10, 4, 2), 2.0 / 11.0, 1e-15);
    cr_assert_float_eq(herd_throttle_probability(100, 0, 2), 100.0 / 101.0, 1e-15);
    cr_assert_float_eq(herd_throttle_probability(1000, 300, 2), 400.0 / 1001.0, 1e-15);
    cr_assert_float_eq(herd_throttle_probability(1000, 300, 1.1), 670.0 / 1001.0, 1e-15);
    cr_assert_eq(herd_throttle_probability(1000, 910, 1.1), 0.0);
    /* the +1: a single request with no accepts is rejected with p = 1/2, not 1 */
    cr_assert_float_eq(herd_throttle_probability(1, 0, 2), 0.5, 1e-15);
}

Test(throttle, config_defaults_and_errors)
{
    struct herd_throttle *t = NULL;
    cr_assert_eq(herd_throttle_new(NULL, &t), 0);
    struct herd_throttle_stats st;
    herd_throttle_stats(t, 0, &st);
    cr_assert_eq(st.window_requests, 0);
    cr_assert_eq(st.probability, 0.0);
    herd_throttle_free(t);
    herd_throttle_free(NULL);

    struct herd_throttle_config bad[4] = {
        {.k = 0.5},
        {.k = NAN},
        {.window_ns = 10, .buckets = 11},
        {.buckets = HERD_THROTTLE_MAX_BUCKETS + 1},
    };
    for (int i = 0; i < 4; i++) {
        t = (struct herd_throttle *)0x1;
        cr_assert_eq(herd_throttle_new(&bad[i], &t), -HERD_EINVAL, "case %d", i);
        cr_assert_eq(t, (struct herd_throttle *)0x1);
    }
}

/* The reject frequency follows the formula. allow() counts itself, so over N draws
 * starting from R0 requests and A accepts, draw i rejects with the exactly known
 * p_i = f(R0 + i, A). The number of rejects is Poisson-binomial: mean Σp_i, variance
 * Σp_i(1 − p_i) <= N/4. We allow 5 standard deviations (a false alarm under the normal
 * approximation has probability 6e-7; the seeds are fixed, so it is reproducible). */
Test(throttle, reject_frequency_matches_formula)
{
    const struct {
        uint64_t r0, a0;
        double k;
    } cases[] = {{200000, 60000, 2.0},
                 {200000, 20000, 2.0},
                 {200000, 99000, 2.0},
                 {100000, 60000, 1.1},
                 {50000, 0, 2.0}};
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        struct herd_rng rng;
        herd_rng_seed(&rng, 100 + ci);
        struct herd_throttle_config c = {.k = cases[ci].k};
        struct herd_throttle *t = make(&c);
        int64_t now = 10 * S;
        for (uint64_t i = 0; i < cases[ci].r0; i++)
            herd_throttle_allow(t, now, &rng);
        for (uint64_t i = 0; i < cases[ci].a0; i++)
            herd_throttle_record(t, now, true);
        struct herd_throttle_stats st;
        herd_throttle_stats(t, now, &st);
        cr_assert_eq(st.window_requests, cases[ci].r0);
        cr_assert_eq(st.window_accepts, cases[ci].a0);
        cr_assert_float_eq(
            st.probability,
            herd_throttle_probability((double)cases[ci].r0, (double)cases[ci].a0, cases[ci].k),
            1e-15);

        const int N = 40000;
        double mean = 0, var = 0;
        uint64_t rejects = 0;
        for (int i = 0; i < N; i++) {
            double p = herd_throttle_probability((double)(cases[ci].r0 + (uint64_t)i),
                                                 (double)cases[ci].a0, cases[ci].k);
            mean += p;
            var += p * (1 - p);
            if (herd_throttle_allow(t, now, &rng) == HERD_THROTTLE_REJECT_THROTTLED)
                rejects++;
        }
        double sd = sqrt(var);
        cr_assert(fabs((double)rejects - mean) <= 5 * sd + 1,
                  "case %zu: %llu rejects, expected %.1f ± %.1f", ci, (unsigned long long)rejects,
                  mean, 5 * sd);
        herd_throttle_stats(t, now, &st);
        cr_assert_eq(st.throttled + st.allowed, cases[ci].r0 + (uint64_t)N);
        cr_assert_eq(st.window_requests, cases[ci].r0 + (uint64_t)N,
                     "locally rejected requests are counted as requests (the book)");
        herd_throttle_free(t);
    }
}

/* K = 2: no rejection while accepts >= requests/2, whatever the sequence; and
 * rejections do come once the backend accepts less than half. */
Test(throttle, k2_no_rejection_until_accepts_below_half)
{
    uint64_t rejects_when_below = 0;
    for (uint64_t seed = 1; seed <= 50; seed++) {
        struct herd_rng rng, ops;
        herd_rng_stream(&rng, seed, 0);
        herd_rng_stream(&ops, seed, 1);
        struct herd_throttle *t = make(NULL);
        double accept_p = 0.3 + 0.4 * herd_rng_uniform(&ops); /* 30 % .. 70 % accepted */
        int64_t now = 0;
        for (int i = 0; i < 5000; i++) {
            now += (int64_t)herd_rng_below(&ops, 100) * MS;
            struct herd_throttle_stats st;
            herd_throttle_stats(t, now, &st);
            enum herd_throttle_verdict v = herd_throttle_allow(t, now, &rng);
            if (2 * st.window_accepts >= st.window_requests)
                cr_assert_eq(v, HERD_THROTTLE_GO, "seed %llu step %d: R %llu A %llu",
                             (unsigned long long)seed, i, (unsigned long long)st.window_requests,
                             (unsigned long long)st.window_accepts);
            else if (v != HERD_THROTTLE_GO)
                rejects_when_below++;
            if (v == HERD_THROTTLE_GO)
                herd_throttle_record(t, now, herd_rng_uniform(&ops) < accept_p);
        }
        herd_throttle_free(t);
    }
    cr_assert_gt(rejects_when_below, 1000, "the property was exercised");
}

/* Counts leave the 2-minute window: all at once after a quiet spell, and bucket by
 * bucket otherwise (24 buckets of 5 s: a count made in [0, 5 s) is gone at 120 s). */
Test(throttle, window_expiry)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 7);
    struct herd_throttle *t = make(NULL);
    for (int i = 0; i < 1000; i++) /* a dead backend: nothing accepted */
        herd_throttle_allow(t, 1 * S, &rng);
    struct herd_throttle_stats st;
    herd_throttle_stats(t, 1 * S, &st);
    cr_assert_gt(st.probability, 0.99);
    cr_assert_gt(st.throttled, 900);

    for (int i = 0; i < 500; i++) /* later demand, half accepted */
        herd_throttle_allow(t, 60 * S, &rng);
    for (int i = 0; i < 100; i++)
        herd_throttle_record(t, 60 * S, true);
    herd_throttle_stats(t, 119 * S, &st);
    cr_assert_eq(st.window_requests, 1500);
    cr_assert_eq(st.window_accepts, 100);
    herd_throttle_stats(t, 120 * S, &st);
    cr_assert_eq(st.window_requests, 500, "the t = 1 s bucket left at 120 s");
    cr_assert_eq(st.window_accepts, 100);
    cr_assert_float_eq(st.probability, herd_throttle_probability(500, 100, 2), 1e-15);
    herd_throttle_stats(t, 180 * S, &st);
    cr_assert_eq(st.window_requests, 0);
    cr_assert_eq(st.probability, 0.0);
    /* After two quiet minutes the dead spell is forgotten: a healthy backend is never
     * throttled (each request accepted keeps accepts = requests). */
    for (int i = 0; i < 1000; i++) {
        cr_assert_eq(herd_throttle_allow(t, 180 * S, &rng), HERD_THROTTLE_GO);
        herd_throttle_record(t, 180 * S, true);
    }
    herd_throttle_free(t);
}

/* A backend that can accept 10 requests/s, asked for 100/s. The client settles at about
 * K × 10 = 20 sent/s: p → (D − K·C)/(D + 1) with D = 12,000 and C = 1,200 per 2-minute
 * window, i.e. 0.8. Measured over the last 2 minutes of a 10-minute run; ±10 %. */
Test(throttle, steady_state_sends_about_k_times_capacity)
{
    for (int kk = 0; kk < 2; kk++) {
        double k = kk ? 3.0 : 2.0;
        struct herd_rng rng;
        herd_rng_seed(&rng, 11 + (uint64_t)kk);
        struct herd_throttle_config c = {.k = k};
        struct herd_throttle *t = make(&c);
        uint64_t sent_late = 0, accepted_late = 0;
        for (int64_t sec = 0; sec < 600; sec++) {
            int capacity = 10;
            for (int i = 0; i < 100; i++) {
                int64_t now = sec * S + i * 10 * MS;
                if (herd_throttle_allow(t, now, &rng) != HERD_THROTTLE_GO)
                    continue;
                bool ok = capacity > 0;
                capacity -= ok;
                herd_throttle_record(t, now + MS, ok);
                if (sec >= 480) {
                    sent_late++;
                    accepted_late += ok;
                }
            }
        }
        double sent_per_s = (double)sent_late / 120.0;
        cr_assert_float_eq(sent_per_s, k * 10.0, k * 10.0 * 0.1, "K %.0f: sent %.1f/s", k,
                           sent_per_s);
        cr_assert_float_eq((double)accepted_late / 120.0, 10.0, 0.5);
        herd_throttle_free(t);
    }
}

/* The documented pitfall: a backend that refuses a FIXED share whatever the load. With
 * accept share a, sent = R(1 − p) and A = a·sent, so p = 1 − K·a·(1 − p) asymptotically:
 * when K·a < 1 the only fixed point is p → 1; when K·a > 1, A > R/2 and p stays 0. */
Test(throttle, fixed_share_refusals_drive_p_to_one_below_1_over_k)
{
    const double shares[2] = {0.3, 0.6};
    for (int si = 0; si < 2; si++) {
        struct herd_rng rng, be;
        herd_rng_seed(&rng, 21);
        herd_rng_seed(&be, 22);
        struct herd_throttle *t = make(NULL);
        uint64_t late = 0, late_throttled = 0;
        for (int64_t ms = 0; ms < 300000; ms += 10) { /* 100 requests/s for 5 minutes */
            int64_t now = ms * MS;
            enum herd_throttle_verdict v = herd_throttle_allow(t, now, &rng);
            if (v == HERD_THROTTLE_GO)
                herd_throttle_record(t, now, herd_rng_uniform(&be) < shares[si]);
            if (ms >= 240000) {
                late++;
                late_throttled += v != HERD_THROTTLE_GO;
            }
        }
        double frac = (double)late_throttled / (double)late;
        if (si == 0)
            /* The fixed point is p = 1 − 1/(R(1 − K·a) + 1) ≈ 0.9998 at R = 12,000 per
             * window; it is approached over several windows (0.98 in the 5th minute). */
            cr_assert_gt(frac, 0.9, "share 0.3 < 1/K: throttled %.3f", frac);
        else
            cr_assert_lt(frac, 0.05, "share 0.6 > 1/K: throttled %.3f", frac);
        herd_throttle_free(t);
    }
}

/* A now_ns earlier than one seen counts as the latest: a late thread cannot resurrect
 * an expired bucket or put counts where they will outlive the window. */
Test(throttle, clock_skew_is_clamped)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 3);
    struct herd_throttle *t = make(NULL);
    herd_throttle_allow(t, 200 * S, &rng);
    herd_throttle_allow(t, 10 * S, &rng); /* counted at 200 s */
    herd_throttle_record(t, 10 * S, true);
    struct herd_throttle_stats st;
    herd_throttle_stats(t, 319 * S, &st);
    cr_assert_eq(st.window_requests, 2);
    cr_assert_eq(st.window_accepts, 1);
    herd_throttle_stats(t, 320 * S, &st);
    cr_assert_eq(st.window_requests, 0);
    herd_throttle_free(t);
}

Test(throttle, negative_times_and_small_windows)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 4);
    struct herd_throttle_config c = {.window_ns = 3, .buckets = 3}; /* 1 ns buckets */
    struct herd_throttle *t = make(&c);
    herd_throttle_allow(t, -5, &rng);
    herd_throttle_allow(t, -4, &rng);
    struct herd_throttle_stats st;
    herd_throttle_stats(t, -3, &st);
    cr_assert_eq(st.window_requests, 2);
    herd_throttle_stats(t, -2, &st);
    cr_assert_eq(st.window_requests, 1);
    herd_throttle_stats(t, 1000, &st);
    cr_assert_eq(st.window_requests, 0);
    herd_throttle_free(t);
}

/* ---- allocation failure ---------------------------------------------------------- */

/* torture.h's allocator: the module allocates fresh blocks and frees them, never
 * reallocates one, so its calls are the allocations. */
Test(throttle, allocation_failure_is_clean)
{
    struct torture ca = {0};
    struct herd_allocator al = {torture_realloc, &ca};
    struct herd_throttle_config c = {.alloc = &al};
    struct herd_throttle *t = NULL;
    cr_assert_eq(herd_throttle_new(&c, &t), 0);
    cr_assert_eq(ca.calls, 1, "one block: the struct and its buckets");
    herd_throttle_free(t);
    cr_assert_eq(ca.live, 0);
    ca = (struct torture){.fail_at = 1};
    t = (struct herd_throttle *)0x1;
    cr_assert_eq(herd_throttle_new(&c, &t), -HERD_ENOMEM);
    cr_assert_eq(t, (struct herd_throttle *)0x1);
    cr_assert_eq(ca.live, 0);
}

Test(throttle, names)
{
    cr_assert_str_eq(herd_throttle_verdict_name(HERD_THROTTLE_GO), "go");
    cr_assert_str_eq(herd_throttle_verdict_name(HERD_THROTTLE_REJECT_THROTTLED), "throttled");
    cr_assert_str_eq(herd_throttle_verdict_name((enum herd_throttle_verdict)9), "?");
}
