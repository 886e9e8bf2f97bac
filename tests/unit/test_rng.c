/* test_rng.c — determinism, independent streams, ranges and moments. */
#include <criterion/criterion.h>
#include <herd/rng.h>
#include <math.h>

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
