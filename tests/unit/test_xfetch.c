/* test_xfetch.c — XFetch's decision: its sign (replayed draw for draw against the
 * paper's inequality), its switches, its probability, delta measured per key, and early
 * refreshes coalesced through singleflight.
 *
 * The analytic early-refresh probability at time-to-expiry tau is exp(-tau/(delta*beta))
 * (U <= exp(-tau/(delta*beta)) <=> now - delta*beta*ln U >= expiry). Each check draws
 * n = 10^6 decisions; the observed frequency is binomial with standard deviation
 * sqrt(p(1-p)/n) <= 0.0005, so a 5-sigma band fails by chance about once in 1.7
 * million runs. Issue 3's "within 2 %" is checked as well: it is the tighter band for
 * the smallest p tested (x = 3, p = 0.0498: 2 % of p is 4.6 sd, a chance failure about
 * once in 200 000 runs). Seeds are fixed, so a run is reproducible either way.
 */
#include <criterion/criterion.h>
#include <herd/error.h>
#include <herd/singleflight.h>
#include <herd/xfetch.h>
#include <math.h>
#include <string.h>

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

Test(xfetch, decision_is_exactly_the_papers_inequality)
{
    /* Replay each draw on a copy of the rng: the decision must be
     * now - delta*beta*ln(U) >= expiry for that very U, draw for draw. This pins the
     * sign (a "+" or a "<=" flips decisions) and the use of a (0, 1] uniform. */
    struct herd_rng rng, pick;
    herd_rng_seed(&rng, 11);
    herd_rng_seed(&pick, 12);
    int early = 0, checked = 0;
    for (int i = 0; i < 200000; i++) {
        int64_t expiry = 10 * MS;
        int64_t delta = 1 + (int64_t)herd_rng_below(&pick, 4 * MS);
        int64_t now = expiry - (int64_t)herd_rng_below(&pick, 8 * MS) - 1;
        double beta = 0.25 + 3 * herd_rng_uniform(&pick);
        struct herd_rng copy = rng;
        double u = herd_rng_uniform_pos(&copy);
        bool want = (double)now - (double)delta * beta * log(u) >= (double)expiry;
        bool got = herd_xfetch_should_refresh(now, expiry, delta, beta, &rng);
        cr_assert_eq(got, want, "draw %d: now %lld delta %lld beta %g u %g", i, (long long)now,
                     (long long)delta, beta, u);
        cr_assert_eq(memcmp(&rng, &copy, sizeof rng), 0, "exactly one draw per decision");
        early += got;
        checked++;
    }
    cr_assert_gt(early, 1000, "the sample never refreshed early: it proves little");
    cr_assert_lt(early, checked - 1000);
}

Test(xfetch, delta_is_measured_and_stored_per_key)
{
    struct herd_xfetch_key a = {0}, b = {0};
    struct herd_rng rng;
    herd_rng_seed(&rng, 9);
    /* Never measured: no early refresh, but at the expiry always. */
    cr_assert_not(herd_xfetch_key_should_refresh(&a, -1, 1.0, &rng));
    herd_xfetch_key_store(&a, 100, 100 + 5 * MS, 1000 * MS); /* a slow key */
    herd_xfetch_key_store(&b, 200, 200 + 50000, 1000 * MS);  /* a fast key */
    cr_assert_eq(a.delta_ns, 5 * MS);
    cr_assert_eq(b.delta_ns, 50000);
    cr_assert_eq(a.expiry_ns, 1000 * MS);
    /* 5 ms before the expiry the slow key refreshes early with p = e^-1, the fast key
     * with p = e^-100: delta is per key. */
    int ea = 0, eb = 0;
    for (int i = 0; i < 100000; i++) {
        ea += herd_xfetch_key_should_refresh(&a, 995 * MS, 1.0, &rng);
        eb += herd_xfetch_key_should_refresh(&b, 995 * MS, 1.0, &rng);
    }
    /* binomial sd at p = 0.368, n = 1e5: 0.0015; 5 sd = 0.0076 */
    cr_assert_lt(fabs(ea / 1e5 - exp(-1.0)), 0.0076);
    cr_assert_eq(eb, 0);
    cr_assert(herd_xfetch_key_should_refresh(&b, 1000 * MS, 1.0, &rng));
    herd_xfetch_key_store(&a, 50, 40, 7); /* a clock step backwards: delta 0, not negative */
    cr_assert_eq(a.delta_ns, 0);
}

Test(xfetch, early_refreshes_go_through_singleflight)
{
    struct herd_singleflight_config cfg = {.max_flights = 1};
    struct herd_singleflight *sf = NULL;
    struct herd_singleflight_ticket t, lead = {0};
    struct herd_rng rng;
    int leads = 0, serves = 0;
    herd_rng_seed(&rng, 21);
    cr_assert_eq(herd_singleflight_new(&cfg, &sf), 0);
    /* 1000 readers 1 delta before the expiry: about 37 % draw "refresh", only the first
     * leads; the rest serve their valid value without waiting. */
    for (int i = 0; i < 1000; i++) {
        int rc = herd_xfetch_begin(sf, "k", 1, 99 * MS, 100 * MS, MS, 1.0, &rng, &t);
        if (rc == HERD_XFETCH_LEAD) {
            leads++;
            lead = t;
        } else {
            cr_assert_eq(rc, HERD_XFETCH_SERVE);
            serves++;
        }
    }
    cr_assert_eq(leads, 1);
    cr_assert_eq(serves, 999);
    struct herd_singleflight_stats st;
    herd_singleflight_stats(sf, &st);
    cr_assert_gt(st.joins, 300, "the other 'refresh' draws met the leader's flight");
    cr_assert_lt(st.joins, 450);
    /* With the one slot busy, another key's early refresh is skipped, not queued. */
    int rc;
    do
        rc = herd_xfetch_begin(sf, "other", 5, 99 * MS, 100 * MS, MS, 1.0, &rng, &t);
    while (rc == HERD_XFETCH_SERVE);
    cr_assert_eq(rc, -HERD_EBUSY);
    herd_singleflight_complete(sf, &lead, "v", 2, 0);
    /* beta = 0: never early, never touches the table. */
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(herd_xfetch_begin(sf, "k", 1, 99 * MS, 100 * MS, MS, 0.0, &rng, &t),
                     HERD_XFETCH_SERVE);
    herd_singleflight_stats(sf, &st);
    cr_assert_eq(st.flights, 1);
    herd_singleflight_free(sf);
}
