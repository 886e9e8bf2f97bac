/* test_xfetch.c — XFetch's decision: its sign, its switches, and its probability.
 *
 * The analytic early-refresh probability at time-to-expiry tau is exp(-tau/(delta*beta))
 * (U <= exp(-tau/(delta*beta)) <=> now - delta*beta*ln U >= expiry). Each check draws
 * n = 10^6 decisions; the observed frequency is binomial with standard deviation
 * sqrt(p(1-p)/n) <= 0.0005, so a 5-sigma band fails by chance about once in 3.5
 * million runs, and is tighter than issue 3's "within 2 %" for every p tested.
 */
#include <criterion/criterion.h>
#include <herd/xfetch.h>
#include <math.h>

#define MS INT64_C(1000000)

static double frequency(int64_t tau, int64_t delta, double beta, int n, uint64_t seed)
{
    struct herd_rng rng;
    int64_t expiry = 1000 * MS;
    int yes = 0;
    herd_rng_seed(&rng, seed);
    for (int i = 0; i < n; i++)
        yes += herd_xfetch_should_refresh(expiry - tau, expiry, delta, beta, &rng);
    return (double)yes / n;
}

Test(xfetch, at_or_past_expiry_always_refreshes)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 1);
    for (int i = 0; i < 10000; i++) {
        cr_assert(herd_xfetch_should_refresh(100, 100, 5, 1.0, &rng));
        cr_assert(herd_xfetch_should_refresh(150, 100, 5, 1.0, &rng));
        cr_assert(herd_xfetch_should_refresh(150, 100, 5, 0.0, &rng));
        cr_assert(herd_xfetch_should_refresh(150, 100, 0, 1.0, &rng));
    }
}

Test(xfetch, sign_refreshes_early_never_late)
{
    /* Far from the expiry (tau = 50 delta: p = e^-50) a refresh essentially never
     * happens; close to it (tau = delta/100) almost always. A flipped sign in the
     * formula (now + delta*beta*ln U) would give the opposite. */
    cr_assert_eq(frequency(50 * MS, 1 * MS, 1.0, 100000, 2), 0.0);
    cr_assert_gt(frequency(MS / 100, 1 * MS, 1.0, 100000, 3), 0.98);
    /* Monotone: the closer to expiry, the likelier. */
    double far = frequency(3 * MS, MS, 1.0, 200000, 4);
    double near = frequency(1 * MS, MS, 1.0, 200000, 4);
    cr_assert_lt(far, near);
}

Test(xfetch, beta_zero_or_no_delta_disables)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 5);
    for (int i = 0; i < 100000; i++) {
        cr_assert_not(herd_xfetch_should_refresh(99, 100, 1000000, 0.0, &rng));
        cr_assert_not(herd_xfetch_should_refresh(99, 100, 0, 1.0, &rng));
        cr_assert_not(herd_xfetch_should_refresh(99, 100, -5, 1.0, &rng));
    }
}

Test(xfetch, frequency_matches_exp_minus_tau_over_delta_beta, .timeout = 60)
{
    static const struct {
        int64_t tau, delta;
        double beta;
    } cases[] = {
        {1 * MS, 2 * MS, 1.0},   /* x = 0.5 */
        {5 * MS, 5 * MS, 1.0},   /* x = 1 */
        {10 * MS, 5 * MS, 1.0},  /* x = 2 */
        {30 * MS, 5 * MS, 2.0},  /* x = 3, beta scales delta */
        {12 * MS, 10 * MS, 0.4}, /* x = 3 */
    };
    const int n = 1000000;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double p = exp(-(double)cases[i].tau / ((double)cases[i].delta * cases[i].beta));
        double sd = sqrt(p * (1 - p) / n);
        double f = frequency(cases[i].tau, cases[i].delta, cases[i].beta, n, 100 + i);
        cr_assert_leq(fabs(f - p), 5 * sd, "case %zu: frequency %.5f, expected %.5f (sd %.5f)", i,
                      f, p, sd);
        cr_assert_leq(fabs(f - p), 0.02 * p, "case %zu: not within 2 %%", i);
        cr_assert_float_eq(herd_xfetch_probability(cases[i].tau, cases[i].delta, cases[i].beta), p,
                           1e-12);
    }
}

Test(xfetch, probability_edges)
{
    cr_assert_eq(herd_xfetch_probability(0, MS, 1.0), 1.0);
    cr_assert_eq(herd_xfetch_probability(-5, MS, 1.0), 1.0);
    cr_assert_eq(herd_xfetch_probability(5, MS, 0.0), 0.0);
    cr_assert_eq(herd_xfetch_probability(5, 0, 1.0), 0.0);
}
