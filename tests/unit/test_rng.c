/* test_rng.c — determinism, independent streams, ranges and moments. */
#include <criterion/criterion.h>
#include <herd/rng.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

Test(rng, same_seed_same_sequence)
{
    struct herd_rng a, b;
    herd_rng_seed(&a, 123);
    herd_rng_seed(&b, 123);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(herd_rng_u64(&a), herd_rng_u64(&b));
    herd_rng_seed(&b, 124);
    int same = 0;
    herd_rng_seed(&a, 123);
    for (int i = 0; i < 1000; i++)
        same += herd_rng_u64(&a) == herd_rng_u64(&b);
    cr_assert_lt(same, 2);
}

Test(rng, streams_differ)
{
    struct herd_rng a, b, c;
    herd_rng_stream(&a, 1, 0);
    herd_rng_stream(&b, 1, 1);
    herd_rng_stream(&c, 2, 0);
    uint64_t x = herd_rng_u64(&a), y = herd_rng_u64(&b), z = herd_rng_u64(&c);
    cr_assert_neq(x, y);
    cr_assert_neq(x, z);
    cr_assert_neq(y, z);
}

Test(rng, uniform_ranges_and_mean)
{
    struct herd_rng r;
    herd_rng_seed(&r, 9);
    double sum = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double u = herd_rng_uniform(&r), p = herd_rng_uniform_pos(&r);
        cr_assert(u >= 0 && u < 1);
        cr_assert(p > 0 && p <= 1);
        sum += u;
    }
    /* mean of U(0,1) has sd 1/sqrt(12 n) = 0.00065: 5 sd */
    cr_assert_float_eq(sum / n, 0.5, 0.0033);
}

Test(rng, below_is_unbiased_and_in_range)
{
    struct herd_rng r;
    herd_rng_seed(&r, 5);
    int counts[7] = {0};
    const int n = 70000;
    for (int i = 0; i < n; i++) {
        uint64_t v = herd_rng_below(&r, 7);
        cr_assert_lt(v, 7);
        counts[v]++;
    }
    /* each count ~ Binomial(70000, 1/7): mean 10000, sd 92; 5 sd */
    for (int i = 0; i < 7; i++)
        cr_assert(abs(counts[i] - 10000) < 460, "bucket %d has %d", i, counts[i]);
    for (int i = 0; i < 1000; i++) {
        int64_t v = herd_rng_range(&r, -3, 3);
        cr_assert(v >= -3 && v <= 3);
    }
}

Test(rng, exponential_and_normal_moments)
{
    struct herd_rng r;
    herd_rng_seed(&r, 11);
    const int n = 200000;
    double se = 0, sn = 0, sn2 = 0;
    for (int i = 0; i < n; i++) {
        se += herd_rng_exp(&r, 2.0);
        double x = herd_rng_normal(&r, 10.0, 2.0);
        sn += x;
        sn2 += x * x;
    }
    /* exp mean 2 with sd 2/sqrt(n) = 0.0045; normal mean sd 0.0045; 5 sd */
    cr_assert_float_eq(se / n, 2.0, 0.023);
    cr_assert_float_eq(sn / n, 10.0, 0.023);
    double var = sn2 / n - (sn / n) * (sn / n);
    cr_assert_float_eq(sqrt(var), 2.0, 0.02);
}

Test(rng, secure_seed_works)
{
    struct herd_rng a, b;
    cr_assert_eq(herd_rng_seed_secure(&a), 0);
    cr_assert_eq(herd_rng_seed_secure(&b), 0);
    cr_assert_neq(herd_rng_u64(&a), herd_rng_u64(&b));
}

Test(rng, hashes_are_stable)
{
    cr_assert_eq(herd_hash64(1), herd_hash64(1));
    cr_assert_neq(herd_hash64(1), herd_hash64(2));
    cr_assert_eq(herd_hash_bytes("abc", 3), herd_hash_bytes("abc", 3));
    cr_assert_neq(herd_hash_bytes("abc", 3), herd_hash_bytes("abd", 3));
}

/* ---- the ziggurat samplers (herd_rng_exp_fast, herd_rng_normal_fast) ---------------
 * Each sample is mapped through the exact CDF F of its distribution (the probability
 * integral transform): for a correct sampler u = F(x) is U(0, 1). Two tests on u, with
 * the seed fixed (so a pass is reproducible) and the bounds set so that a CORRECT
 * sampler fails with probability below about 1e-5 for any seed:
 *   - Kolmogorov-Smirnov, n = 10^6: sqrt(n) D_n has P(> 2.5) ~ 2 exp(-2 * 2.5^2) = 7e-6;
 *     at this n it sees any error of the CDF above 0.0025 anywhere;
 *   - chi-square on 1,024 equal-probability bins, n = 4 x 10^6 (3,906 per bin):
 *     df = 1023, mean 1023, sd sqrt(2046) = 45; bound mean + 5.5 sd = 1,272
 *     (Wilson-Hilferty puts P(> 1,272) near 3e-6). One bin is 1/1024 of the mass, about
 *     the size of one ziggurat layer's wedge, so a wrong table entry or a broken wedge
 *     test shows up here even when the CDF error is too small for KS.
 * And the tails, which neither test weighs: the share beyond the base layer's edge r
 * (where the tail algorithm takes over) and far out, each a binomial count checked to
 * 5 sd. Plus the moments, to 5 sd of their sampling error. */

#define ZN_KS 1000000
#define ZN_CHI 4000000
#define Z_BINS 1024

static double normal_cdf(double x)
{
    return 0.5 * erfc(-x / sqrt(2.0));
}

static double exp_cdf(double x)
{
    return -expm1(-x);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double ks_stat(double *u, size_t n)
{
    qsort(u, n, sizeof *u, cmp_d);
    double d = 0;
    for (size_t i = 0; i < n; i++) {
        double lo = u[i] - (double)i / (double)n, hi = (double)(i + 1) / (double)n - u[i];
        if (lo > d)
            d = lo;
        if (hi > d)
            d = hi;
    }
    return d * sqrt((double)n);
}

static double draw_std(struct herd_rng *r, bool normal)
{
    return normal ? herd_rng_normal_fast(r, 0, 1) : herd_rng_exp_fast(r, 1);
}

static void check_fit(bool normal, uint64_t seed)
{
    struct herd_rng r;
    herd_rng_seed(&r, seed);
    double *u = malloc(ZN_KS * sizeof *u);
    cr_assert_not_null(u);
    for (size_t i = 0; i < ZN_KS; i++) {
        double x = draw_std(&r, normal);
        u[i] = normal ? normal_cdf(x) : exp_cdf(x);
    }
    double ks = ks_stat(u, ZN_KS);
    free(u);
    cr_assert_lt(ks, 2.5, "%s: sqrt(n) D_n = %.3f", normal ? "normal" : "exp", ks);

    static uint32_t bins[Z_BINS];
    memset(bins, 0, sizeof bins);
    for (size_t i = 0; i < ZN_CHI; i++) {
        double x = draw_std(&r, normal);
        double p = normal ? normal_cdf(x) : exp_cdf(x);
        size_t b = (size_t)(p * Z_BINS);
        bins[b < Z_BINS ? b : Z_BINS - 1]++;
    }
    double e = (double)ZN_CHI / Z_BINS, chi = 0;
    for (int b = 0; b < Z_BINS; b++)
        chi += ((double)bins[b] - e) * ((double)bins[b] - e) / e;
    cr_assert_lt(chi, 1272, "%s: chi-square %.1f on %d bins", normal ? "normal" : "exp", chi,
                 Z_BINS);
}

Test(rng, exp_fast_fits_the_exponential, .timeout = 60)
{
    check_fit(false, 21);
}

Test(rng, normal_fast_fits_the_normal, .timeout = 60)
{
    check_fit(true, 22);
}

/* Binomial count of n draws beyond a point of probability p: within 5 sd of n p. */
static void check_tail(uint64_t count, double n, double p, const char *what)
{
    double mean = n * p, sd = sqrt(n * p * (1 - p));
    cr_assert(fabs((double)count - mean) < 5 * sd + 1, "%s: %llu beyond, expected %.1f +- %.1f",
              what, (unsigned long long)count, mean, sd);
}

Test(rng, fast_samplers_tails_and_moments, .timeout = 60)
{
    struct herd_rng r;
    herd_rng_seed(&r, 23);
    const int n = 4000000;
    /* 3.6541528853610092: the normal ziggurat's r; 7.69711747013105: the exponential's. */
    uint64_t n_r = 0, n_5 = 0, neg = 0, e_r = 0, e_10 = 0;
    double sn = 0, sn2 = 0, sn4 = 0, se = 0, se2 = 0;
    for (int i = 0; i < n; i++) {
        double x = herd_rng_normal_fast(&r, 0, 1);
        n_r += fabs(x) > 3.6541528853610092;
        n_5 += fabs(x) > 5;
        neg += x < 0;
        sn += x;
        sn2 += x * x;
        sn4 += x * x * x * x;
        double y = herd_rng_exp_fast(&r, 1);
        cr_assert(y >= 0);
        e_r += y > 7.69711747013105;
        e_10 += y > 10;
        se += y;
        se2 += y * y;
    }
    check_tail(n_r, n, 2 * normal_cdf(-3.6541528853610092), "normal beyond r");
    check_tail(n_5, n, 2 * normal_cdf(-5), "normal beyond 5 sd");
    check_tail(neg, n, 0.5, "normal below 0");
    check_tail(e_r, n, exp(-7.69711747013105), "exp beyond r");
    check_tail(e_10, n, exp(-10), "exp beyond 10");
    /* sd of the sample mean: 1/sqrt(n) = 0.0005 (both); of the mean square: sqrt(2/n) =
     * 0.0007 (normal), sqrt(20/n) = 0.0022 (exp: E y^4 - (E y^2)^2 = 24 - 4); of the
     * mean fourth power of the normal: sqrt(96/n) = 0.0049. Bounds are 5 sd. */
    cr_assert_float_eq(sn / n, 0.0, 0.0025);
    cr_assert_float_eq(sn2 / n, 1.0, 0.0036);
    cr_assert_float_eq(sn4 / n, 3.0, 0.025);
    cr_assert_float_eq(se / n, 1.0, 0.0025);
    cr_assert_float_eq(se2 / n, 2.0, 0.011);
}

Test(rng, fast_samplers_scale_and_are_deterministic)
{
    struct herd_rng a, b;
    herd_rng_seed(&a, 77);
    herd_rng_seed(&b, 77);
    for (int i = 0; i < 10000; i++) {
        double x = herd_rng_exp_fast(&a, 3.5), y = herd_rng_exp_fast(&b, 1.0);
        cr_assert_eq(x, 3.5 * y);
        x = herd_rng_normal_fast(&a, 10, 2);
        y = herd_rng_normal_fast(&b, 0, 1);
        cr_assert_eq(x, 10 + 2 * y);
    }
    cr_assert_eq(herd_rng_u64(&a), herd_rng_u64(&b)); /* same number of u64s consumed */
}
