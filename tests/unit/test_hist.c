/* test_hist.c — the log-linear histogram: error bound, quantiles, merging. */
#include <criterion/criterion.h>
#include <herd/rng.h>
#include <math.h>
#include <stdlib.h>

#include "../../src/report/hist.h"

static struct herd_hist *new_hist(void)
{
    struct herd_hist *h = malloc(sizeof *h);
    cr_assert_not_null(h);
    herd_hist_init(h);
    return h;
}

Test(hist, bucket_bounds_are_contiguous_and_monotone)
{
    int64_t prev_hi = -1;
    for (int i = 0; i < HERD_HIST_BUCKETS; i++) {
        int64_t lo = herd_hist_bucket_lo(i), hi = herd_hist_bucket_hi(i);
        cr_assert_eq(lo, prev_hi + 1, "bucket %d starts at %ld after %ld", i, (long)lo,
                     (long)prev_hi);
        cr_assert_geq(hi, lo);
        cr_assert_eq(herd_hist_index(lo), i);
        cr_assert_eq(herd_hist_index(hi), i);
        prev_hi = hi;
        if (hi == INT64_MAX)
            break;
    }
    cr_assert_eq(prev_hi, INT64_MAX, "the buckets cover every int64");
}

Test(hist, every_value_within_one_percent)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 42);
    for (int i = 0; i < 200000; i++) {
        /* log-uniform over 1 ns .. 2^50 ns */
        int64_t v = (int64_t)exp(herd_rng_uniform(&rng) * 50 * log(2.0));
        int idx = herd_hist_index(v);
        int64_t lo = herd_hist_bucket_lo(idx), hi = herd_hist_bucket_hi(idx);
        cr_assert(v >= lo && v <= hi);
        double mid = (double)lo + (double)(hi - lo) / 2;
        cr_assert_leq(fabs(mid - (double)v) / (double)(v ? v : 1), 0.01,
                      "value %ld reported as %.0f", (long)v, mid);
    }
}

Test(hist, quantiles_of_a_uniform_sample)
{
    struct herd_hist *h = new_hist();
    for (int64_t v = 1; v <= 100000; v++)
        herd_hist_record(h, v * 1000); /* 1 us .. 100 ms */
    cr_assert_eq(h->count, 100000);
    double qs[] = {0.5, 0.9, 0.99, 0.999};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        double want = qs[i] * 100000 * 1000;
        double got = (double)herd_hist_quantile(h, qs[i]);
        cr_assert_leq(fabs(got - want) / want, 0.01, "q%.3f: got %.0f want %.0f", qs[i], got,
                      want);
    }
    cr_assert_eq(herd_hist_quantile(h, 1.0), 100000 * 1000);
    cr_assert_eq(herd_hist_quantile(h, 0.0), 1000);
    cr_assert_float_eq(herd_hist_mean(h), 50000.5 * 1000, 1.0);
    free(h);
}

Test(hist, merge_equals_recording_everything_in_one)
{
    struct herd_hist *a = new_hist(), *b = new_hist(), *all = new_hist();
    struct herd_rng rng;
    herd_rng_seed(&rng, 7);
    for (int i = 0; i < 50000; i++) {
        int64_t v = (int64_t)herd_rng_exp(&rng, 1e6);
        herd_hist_record(i % 3 ? a : b, v);
        herd_hist_record(all, v);
    }
    herd_hist_merge(a, b);
    cr_assert_eq(a->count, all->count);
    cr_assert_eq(a->min, all->min);
    cr_assert_eq(a->max, all->max);
    for (double q = 0.01; q < 1.0; q += 0.01)
        cr_assert_eq(herd_hist_quantile(a, q), herd_hist_quantile(all, q));
    free(a);
    free(b);
    free(all);
}

Test(hist, empty_and_negative)
{
    struct herd_hist *h = new_hist();
    cr_assert_eq(herd_hist_quantile(h, 0.99), 0);
    cr_assert_eq(herd_hist_mean(h), 0);
    herd_hist_record(h, -5);
    cr_assert_eq(h->count, 1);
    cr_assert_eq(herd_hist_quantile(h, 0.5), 0);
    herd_hist_record_n(h, 300, 0);
    cr_assert_eq(h->count, 1);
    free(h);
}
