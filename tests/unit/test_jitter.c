/* test_jitter.c — herd/jitter.h: ranges, uniformity, splay stability and spread,
 * determinism for a seed.
 *
 * Uniformity is checked with Pearson's chi-square over B equal buckets. The seeds are
 * fixed, so every test is deterministic (no flakiness); the threshold is the 99.9 %
 * quantile of chi-square with B−1 degrees of freedom, so a correct generator would
 * pass for 999 seeds in 1000 and a generator whose buckets are off by a few percent
 * of 10^5 draws fails by a wide margin (a 5 % excess in one of 20 buckets adds
 * ~ (250²/5000) = 12.5 to the statistic; a constant or half-range output adds
 * thousands). */
#include <criterion/criterion.h>
#include <herd/jitter.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define DRAWS 100000
#define BUCKETS 20
/* chi-square 0.999 quantile, 19 degrees of freedom */
#define CHI2_19_999 43.82

static double chi_square(const long *count, int buckets, long total)
{
    double expect = (double)total / buckets, x = 0;
    for (int i = 0; i < buckets; i++) {
        double d = (double)count[i] - expect;
        x += d * d / expect;
    }
    return x;
}

Test(jitter, pct_range_and_zero)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 7);
    const int64_t values[] = {0, 1, 1000, -1000, 60000000000, INT64_MAX, INT64_MIN};
    const double pcts[] = {0, 1, 10, 50, 100};
    for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
        for (size_t p = 0; p < sizeof pcts / sizeof pcts[0]; p++) {
            int64_t val = values[v];
            double d = floor(fabs((double)val) * pcts[p] / 100.0);
            double lo = (double)val - d, hi = (double)val + d;
            for (int i = 0; i < 2000; i++) {
                int64_t x = herd_jitter_pct(val, pcts[p], &rng);
                cr_assert((double)x >= lo - 2048 && (double)x <= hi + 2048,
                          "value %lld pct %g gave %lld", (long long)val, pcts[p], (long long)x);
                if (pcts[p] == 0)
                    cr_assert_eq(x, val);
            }
        }
    }
    /* Exact integer bounds where doubles are exact: 1000 ± 10 % is [900, 1100]. */
    int64_t mn = INT64_MAX, mx = INT64_MIN;
    for (int i = 0; i < DRAWS; i++) {
        int64_t x = herd_jitter_pct(1000, 10, &rng);
        mn = x < mn ? x : mn;
        mx = x > mx ? x : mx;
    }
    cr_assert_eq(mn, 900);
    cr_assert_eq(mx, 1100);
    /* Saturation: INT64_MAX ± 100 % never wraps negative-side values above it. */
    for (int i = 0; i < 1000; i++) {
        int64_t x = herd_jitter_pct(INT64_MAX, 100, &rng);
        cr_assert_geq(x, -1);
    }
}

Test(jitter, pct_uniform)
{
    struct herd_rng rng;
    long count[BUCKETS] = {0};
    herd_rng_seed(&rng, 11);
    /* 60 s ± 20 %: [48 s, 72 s], 24 s over 20 buckets of 1.2 s. */
    const int64_t v = 60000000000, lo = 48000000000;
    for (int i = 0; i < DRAWS; i++) {
        int64_t x = herd_jitter_pct(v, 20, &rng);
        int b = (int)((x - lo) / 1200000000);
        if (b == BUCKETS) /* x == hi exactly */
            b = BUCKETS - 1;
        cr_assert(b >= 0 && b < BUCKETS);
        count[b]++;
    }
    double x2 = chi_square(count, BUCKETS, DRAWS);
    cr_assert_lt(x2, CHI2_19_999, "chi-square %.1f", x2);
}

Test(jitter, window_range_and_uniform)
{
    struct herd_rng rng;
    long count[BUCKETS] = {0};
    herd_rng_seed(&rng, 3);
    cr_assert_eq(herd_jitter_window(0, &rng), 0);
    cr_assert_eq(herd_jitter_window(1, &rng), 0);
    const int64_t w = 500000000; /* 500 ms */
    double sum = 0;
    for (int i = 0; i < DRAWS; i++) {
        int64_t x = herd_jitter_window(w, &rng);
        cr_assert(x >= 0 && x < w, "%lld out of [0, %lld)", (long long)x, (long long)w);
        count[x / (w / BUCKETS)]++;
        sum += (double)x;
    }
    double x2 = chi_square(count, BUCKETS, DRAWS);
    cr_assert_lt(x2, CHI2_19_999, "chi-square %.1f", x2);
    /* Mean of U[0, w) is w/2 with sd w/sqrt(12·n) ≈ 0.09 % of w: allow 1 %. */
    cr_assert(fabs(sum / DRAWS - w / 2.0) < 0.01 * w, "mean %.0f", sum / DRAWS);
    /* Small windows hit every value: w = 3 gives 0, 1 and 2. */
    int seen[3] = {0};
    for (int i = 0; i < 300; i++)
        seen[herd_jitter_window(3, &rng)]++;
    cr_assert(seen[0] && seen[1] && seen[2]);
}

Test(jitter, determinism_for_a_seed)
{
    struct herd_rng a, b, c;
    herd_rng_stream(&a, 42, 5);
    herd_rng_stream(&b, 42, 5);
    herd_rng_stream(&c, 42, 6);
    int same_as_other_stream = 0;
    for (int i = 0; i < 1000; i++) {
        int64_t xa = herd_jitter_window(1000000000, &a);
        int64_t xb = herd_jitter_window(1000000000, &b);
        int64_t xc = herd_jitter_window(1000000000, &c);
        cr_assert_eq(xa, xb);
        same_as_other_stream += xa == xc;
        cr_assert_eq(herd_jitter_pct(1000000, 30, &a), herd_jitter_pct(1000000, 30, &b));
        (void)herd_jitter_pct(1000000, 30, &c);
    }
    cr_assert_lt(same_as_other_stream, 3);
}

Test(jitter, splay_stable_and_in_range)
{
    const int64_t w = 60000000000; /* systemd's typical RandomizedDelaySec=60 */
    char id[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(id, sizeof id, "host-%04d", i);
        int64_t a = herd_jitter_splay(id, strlen(id), w, 99);
        cr_assert(a >= 0 && a < w);
        for (int k = 0; k < 3; k++)
            cr_assert_eq(herd_jitter_splay(id, strlen(id), w, 99), a);
    }
    cr_assert_eq(herd_jitter_splay("x", 1, 0, 1), 0);
    cr_assert_eq(herd_jitter_splay(NULL, 0, 1, 1), 0);
    /* Extreme window: still in range. */
    for (uint64_t s = 0; s < 1000; s++) {
        int64_t x = herd_jitter_splay("host", 4, INT64_MAX, s);
        cr_assert(x >= 0 && x < INT64_MAX);
    }
    /* Pinned values: a splay must not move between releases (a fleet upgraded host by
     * host would otherwise re-deal its phases and bunch up mid-rollout). */
    cr_assert_eq(herd_jitter_splay("host-0001", 9, w, 99), 3078634244);
    cr_assert_eq(herd_jitter_splay("cron-client-0", 13, 500000000, 1), 225831113);
}

Test(jitter, splay_salt_redeals)
{
    const int64_t w = 1000000000;
    int same = 0;
    char id[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(id, sizeof id, "host-%04d", i);
        same += herd_jitter_splay(id, strlen(id), w, 1) == herd_jitter_splay(id, strlen(id), w, 2);
    }
    /* Two independent offsets in 10^9 values coincide with probability 10^-9 each. */
    cr_assert_lt(same, 2);
}

Test(jitter, splay_spreads_across_ids)
{
    /* 10^5 distinct, very similar ids (sequential host names): the hash must spread
     * them as a uniform draw would, or a fleet named web-0001..web-9999 bunches up. */
    const int64_t w = 500000000;
    long count[BUCKETS] = {0};
    char id[32];
    double sxy = 0, sx = 0, sxx = 0;
    int64_t prev = -1;
    for (int i = 0; i < DRAWS; i++) {
        snprintf(id, sizeof id, "web-%06d", i);
        int64_t x = herd_jitter_splay(id, strlen(id), w, 7);
        count[x / (w / BUCKETS)]++;
        if (prev >= 0) {
            /* lag-1 correlation of neighbours' offsets (names differing in one digit) */
            sxy += (double)prev * (double)x;
            sx += (double)x;
            sxx += (double)x * (double)x;
        }
        prev = x;
    }
    double x2 = chi_square(count, BUCKETS, DRAWS);
    cr_assert_lt(x2, CHI2_19_999, "chi-square %.1f", x2);
    double n = DRAWS - 1, mean = sx / n, var = sxx / n - mean * mean;
    double corr = (sxy / n - mean * mean) / var;
    /* sd of the lag-1 correlation of n independent values is 1/sqrt(n) ≈ 0.003. */
    cr_assert(fabs(corr) < 0.02, "lag-1 correlation %.4f", corr);

    /* The cron herd's case: 500 clients in a 500 ms window. In 1 ms buckets the busiest
     * holds a handful (a Poisson(1) maximum over 500 buckets is ~5–6), never dozens. */
    int ms[500] = {0}, busiest = 0;
    for (int i = 0; i < 500; i++) {
        snprintf(id, sizeof id, "cron-client-%d", i);
        int64_t x = herd_jitter_splay(id, strlen(id), w, 1);
        int b = (int)(x / 1000000);
        if (++ms[b] > busiest)
            busiest = ms[b];
    }
    cr_assert_leq(busiest, 9, "busiest 1 ms bucket has %d clients", busiest);
}

Test(jitter, next_fire)
{
    const int64_t p = 60000000000;
    cr_assert_eq(herd_jitter_next_fire(0, p, 0), p);
    cr_assert_eq(herd_jitter_next_fire(1, p, 0), p);
    cr_assert_eq(herd_jitter_next_fire(p - 1, p, 0), p);
    cr_assert_eq(herd_jitter_next_fire(p, p, 0), 2 * p);
    cr_assert_eq(herd_jitter_next_fire(0, p, 5), 5);
    cr_assert_eq(herd_jitter_next_fire(5, p, 5), p + 5);
    cr_assert_eq(herd_jitter_next_fire(-1, p, 0), 0);
    cr_assert_eq(herd_jitter_next_fire(-p, p, 0), 0);
    cr_assert_eq(herd_jitter_next_fire(-p - 1, p, 3), -p + 3);
    /* A wall-clock instant (2024-01-01T00:00:30Z) and a 1-minute period. */
    int64_t now = INT64_C(1704067230) * 1000000000;
    cr_assert_eq(herd_jitter_next_fire(now, p, 0), INT64_C(1704067260) * 1000000000);
}
