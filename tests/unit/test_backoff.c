/* test_backoff.c — herd/backoff.h on a fake clock (a plain int64 the test advances).
 *
 * Properties: every wait of a jittered kind lies in [base in use, cap] (a Retry-After
 * may exceed the cap); the first retry is spread, not in lock step; attempts and both
 * deadlines are respected; Retry-After is honoured and clamped to the deadline; the
 * deterministic kinds follow their formulas exactly; the means of the jittered draws
 * match the formulas.
 *
 * Tolerances for means: N = 200 000 independent draws of a variable bounded in an
 * interval of width W has standard deviation at most W/2 (for a uniform exactly
 * W/sqrt(12)), so the sample mean's standard error is at most W/(2 sqrt(N)). We allow
 * 6 standard errors: a correct implementation fails with probability < 2e-9, and as
 * the seeds are fixed the tests are deterministic anyway. A formula off by 5 % of W
 * (e.g. a full-jitter draw over [0, e] instead of [base, e] moves the mean by base/2)
 * exceeds 6 standard errors (6 x W/(2 x 447) ~ 0.7 % of W) by a wide margin.
 */
#include <criterion/criterion.h>
#include <herd/backoff.h>
#include <herd/clock.h>
#include <herd/error.h>
#include <math.h>

#define MS HERD_NS_PER_MS
#define S HERD_NS_PER_S
#define N_MEAN 200000

static const enum herd_backoff_kind jittered[] = {HERD_BACKOFF_FULL, HERD_BACKOFF_EQUAL,
                                                  HERD_BACKOFF_DECORRELATED};

static struct herd_backoff_policy policy(enum herd_backoff_kind k, int64_t base, int64_t cap)
{
    struct herd_backoff_policy p = {0};
    p.kind = k;
    p.base_ns = base;
    p.cap_ns = cap;
    return p;
}

Test(backoff, never_below_base_nor_above_cap)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 1);
    const int64_t bases[] = {1, 7, 100 * MS, S};
    const int64_t caps_x[] = {1, 2, 3, 50, 1000};
    for (size_t k = 0; k < 3; k++) {
        for (size_t bi = 0; bi < 4; bi++) {
            for (size_t ci = 0; ci < 5; ci++) {
                struct herd_backoff_policy p =
                    policy(jittered[k], bases[bi], bases[bi] * caps_x[ci]);
                p.throttle_base_ns = p.cap_ns / 2 > p.base_ns ? p.cap_ns / 2 : p.base_ns;
                for (int call = 0; call < 200; call++) {
                    struct herd_backoff b;
                    int64_t now = 0;
                    herd_backoff_init(&b, &p, now);
                    for (int n = 0; n < 40; n++) {
                        enum herd_backoff_signal sig = herd_rng_below(&rng, 4) == 0
                                                           ? HERD_BACKOFF_THROTTLED
                                                           : HERD_BACKOFF_FAILED;
                        int64_t w;
                        cr_assert_eq(
                            herd_backoff_next(&b, &rng, now, sig, HERD_BACKOFF_NO_RETRY_AFTER, &w),
                            0);
                        int64_t lo = sig == HERD_BACKOFF_THROTTLED ? p.throttle_base_ns : p.base_ns;
                        cr_assert(w >= lo && w <= p.cap_ns,
                                  "%s base %lld cap %lld: wait %lld at failure %d",
                                  herd_backoff_kind_name(p.kind), (long long)p.base_ns,
                                  (long long)p.cap_ns, (long long)w, n + 1);
                        now += w + 1;
                    }
                }
            }
        }
    }
}

Test(backoff, first_retry_is_spread_not_lock_step)
{
    /* 10 000 clients failing at the same instant: with jitter their first retries cover
     * [base, 2 base] (full, equal) or [base, 3 base] (decorrelated); at most a handful
     * may coincide. Lock step would put all 10 000 on one value. */
    struct herd_rng rng;
    herd_rng_seed(&rng, 2);
    const int64_t base = 100 * MS;
    for (size_t k = 0; k < 3; k++) {
        struct herd_backoff_policy p = policy(jittered[k], base, 20 * S);
        int64_t mn = INT64_MAX, mx = 0, at_base = 0;
        for (int c = 0; c < 10000; c++) {
            struct herd_backoff b;
            int64_t w;
            herd_backoff_init(&b, &p, 0);
            cr_assert_eq(herd_backoff_next(&b, &rng, 0, HERD_BACKOFF_FAILED,
                                           HERD_BACKOFF_NO_RETRY_AFTER, &w),
                         0);
            mn = w < mn ? w : mn;
            mx = w > mx ? w : mx;
            at_base += w == base;
        }
        cr_assert_geq(mn, base);
        cr_assert_lt(mn, base + base / 100, "%s: smallest first wait %lld",
                     herd_backoff_kind_name(p.kind), (long long)mn);
        int64_t top = p.kind == HERD_BACKOFF_DECORRELATED ? 3 * base : 2 * base;
        cr_assert_leq(mx, top);
        cr_assert_gt(mx, top - base / 100);
        cr_assert_leq(at_base, 2, "%s: %lld of 10000 first retries exactly at base",
                      herd_backoff_kind_name(p.kind), (long long)at_base);
    }
}

Test(backoff, deterministic_kinds_exact)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 3);
    struct herd_backoff b;
    int64_t w;
    struct herd_backoff_policy none = policy(HERD_BACKOFF_NONE, 100 * MS, S);
    struct herd_backoff_policy cons = policy(HERD_BACKOFF_CONSTANT, 100 * MS, S);
    struct herd_backoff_policy expo = policy(HERD_BACKOFF_EXPONENTIAL, 100 * MS, S);
    const int64_t expo_seq[] = {100 * MS, 200 * MS, 400 * MS, 800 * MS, S, S, S};

    herd_backoff_init(&b, &none, 0);
    for (int n = 0; n < 7; n++) {
        cr_assert_eq(
            herd_backoff_next(&b, &rng, 0, HERD_BACKOFF_FAILED, HERD_BACKOFF_NO_RETRY_AFTER, &w),
            0);
        cr_assert_eq(w, 0);
    }
    herd_backoff_init(&b, &cons, 0);
    for (int n = 0; n < 7; n++) {
        cr_assert_eq(
            herd_backoff_next(&b, &rng, 0, HERD_BACKOFF_FAILED, HERD_BACKOFF_NO_RETRY_AFTER, &w),
            0);
        cr_assert_eq(w, 100 * MS);
    }
    herd_backoff_init(&b, &expo, 0);
    for (int n = 0; n < 7; n++) {
        cr_assert_eq(
            herd_backoff_next(&b, &rng, 0, HERD_BACKOFF_FAILED, HERD_BACKOFF_NO_RETRY_AFTER, &w),
            0);
        cr_assert_eq(w, expo_seq[n], "failure %d: %lld", n + 1, (long long)w);
    }
}

Test(backoff, no_overflow_without_cap)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 4);
    for (int k = HERD_BACKOFF_EXPONENTIAL; k <= HERD_BACKOFF_DECORRELATED; k++) {
        struct herd_backoff_policy p = policy((enum herd_backoff_kind)k, S, 0);
        struct herd_backoff b;
        herd_backoff_init(&b, &p, 0);
        int64_t prev = 0;
        for (int n = 0; n < 200; n++) {
            int64_t w;
            cr_assert_eq(herd_backoff_next(&b, &rng, 0, HERD_BACKOFF_FAILED,
                                           HERD_BACKOFF_NO_RETRY_AFTER, &w),
                         0);
            cr_assert_geq(w, S);
            if (k == HERD_BACKOFF_EXPONENTIAL)
                cr_assert_geq(w, prev); /* saturates, never wraps */
            prev = w;
        }
    }
}

/* Mean of N_MEAN draws of the @p n-th wait (fresh call each time, n-1 earlier failures
 * at time 0) against @p expect, with 6 standard errors of a width-@p width variable. */
static void check_mean(const struct herd_backoff_policy *p, int n, double expect, double width,
                       uint64_t seed)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, seed);
    double sum = 0;
    for (int i = 0; i < N_MEAN; i++) {
        struct herd_backoff b;
        int64_t w = 0;
        herd_backoff_init(&b, p, 0);
        for (int k = 0; k < n; k++)
            cr_assert_eq(herd_backoff_next(&b, &rng, 0, HERD_BACKOFF_FAILED,
                                           HERD_BACKOFF_NO_RETRY_AFTER, &w),
                         0);
        sum += (double)w;
    }
    double mean = sum / N_MEAN;
    double tol = 6.0 * width / (2.0 * sqrt((double)N_MEAN));
    cr_assert(fabs(mean - expect) <= tol, "%s failure %d: mean %.0f, expected %.0f +- %.0f",
              herd_backoff_kind_name(p->kind), n, mean, expect, tol);
}

Test(backoff, means_match_formulas)
{
    const double base = 100 * MS, cap = 10 * S;
    struct herd_backoff_policy full = policy(HERD_BACKOFF_FULL, 100 * MS, 10 * S);
    struct herd_backoff_policy equal = policy(HERD_BACKOFF_EQUAL, 100 * MS, 10 * S);
    struct herd_backoff_policy decor = policy(HERD_BACKOFF_DECORRELATED, 100 * MS, 10 * S);
    /* full: U[base, e(n)], e(n) = min(cap, base 2^n) */
    for (int n = 1; n <= 8; n++) {
        double e = fmin(cap, base * pow(2, n));
        check_mean(&full, n, (base + e) / 2, e - base, 10 + n);
    }
    /* equal: U[max(base, e/2), e] */
    for (int n = 1; n <= 8; n++) {
        double e = fmin(cap, base * pow(2, n));
        double lo = fmax(base, e / 2);
        check_mean(&equal, n, (lo + e) / 2, e - lo, 20 + n);
    }
    /* decorrelated: first U[base, 3 base], mean 2 base; second U[base, 3 X1] with
     * E[X1] = 2 base, mean (base + 6 base)/2 = 3.5 base, range [base, 9 base]. */
    check_mean(&decor, 1, 2 * base, 2 * base, 31);
    check_mean(&decor, 2, 3.5 * base, 8 * base, 32);
}

/* HERD_BACKOFF_FORMULA_AWS2015: the article's formulas verbatim (Brooker 2015, and the
 * simulator of aws-samples/aws-arch-backoff-simulator), expo(n) = min(cap, base 2^n) from
 * n = 1. Each line below differs measurably from the default formula: exponential starts
 * at 2 base (not base), full jitter's mean is e/2 (not (base + e)/2) and it goes below
 * the base, decorrelated clamps its draw to the cap (a point mass there). */
Test(backoff, aws2015_formulas_verbatim)
{
    const double base = 100 * MS, cap = 10 * S;
    struct herd_backoff_policy ex = policy(HERD_BACKOFF_EXPONENTIAL, 100 * MS, 10 * S);
    struct herd_backoff_policy full = policy(HERD_BACKOFF_FULL, 100 * MS, 10 * S);
    struct herd_backoff_policy equal = policy(HERD_BACKOFF_EQUAL, 100 * MS, 10 * S);
    struct herd_backoff_policy decor = policy(HERD_BACKOFF_DECORRELATED, 100 * MS, 200 * MS);
    ex.formula = full.formula = equal.formula = decor.formula = HERD_BACKOFF_FORMULA_AWS2015;

    struct herd_rng rng;
    herd_rng_seed(&rng, 77);
    struct herd_backoff b;
    int64_t w;
    herd_backoff_init(&b, &ex, 0);
    for (int n = 1; n <= 10; n++) {
        cr_assert_eq(
            herd_backoff_next(&b, &rng, 0, HERD_BACKOFF_FAILED, HERD_BACKOFF_NO_RETRY_AFTER, &w),
            0);
        cr_assert_eq(w, (int64_t)fmin(cap, base * pow(2, n)), "failure %d: %lld", n, (long long)w);
    }
    for (int n = 1; n <= 8; n++) {
        double e = fmin(cap, base * pow(2, n));
        check_mean(&full, n, e / 2, e, 40 + n);         /* U[0, e] */
        check_mean(&equal, n, 0.75 * e, e / 2, 50 + n); /* e/2 + U[0, e/2] */
    }
    /* First full-jitter waits reach below the base: the article's U(0, 2 base). */
    int64_t mn = INT64_MAX;
    for (int i = 0; i < 1000; i++) {
        herd_backoff_init(&b, &full, 0);
        cr_assert_eq(
            herd_backoff_next(&b, &rng, 0, HERD_BACKOFF_FAILED, HERD_BACKOFF_NO_RETRY_AFTER, &w),
            0);
        cr_assert(w >= 0 && w <= 2 * 100 * MS);
        mn = w < mn ? w : mn;
    }
    cr_assert_lt(mn, 10 * MS, "smallest of 1000 U(0, 200 ms) draws: %lld ns", (long long)mn);
    /* Decorrelated, cap 2 base: min(cap, U[base, 3 base]) is cap with probability 1/2,
     * mean (1/2)(1.5 base) + (1/2)(2 base) = 1.75 base; the default would give 1.5 base. */
    check_mean(&decor, 1, 1.75 * base, base, 61);
    int at_cap = 0;
    for (int i = 0; i < 10000; i++) {
        herd_backoff_init(&b, &decor, 0);
        for (int k = 0; k < 3; k++) {
            cr_assert_eq(herd_backoff_next(&b, &rng, 0, HERD_BACKOFF_FAILED,
                                           HERD_BACKOFF_NO_RETRY_AFTER, &w),
                         0);
            cr_assert(w >= 100 * MS && w <= 200 * MS);
        }
        at_cap += w == 200 * MS;
    }
    /* Third draw: sleep >= base so U[base, 3 sleep] exceeds the cap at least half the time. */
    cr_assert_gt(at_cap, 5000, "%d of 10000 third sleeps at the cap", at_cap);
}

Test(backoff, attempts_respected)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 5);
    struct herd_backoff_policy p = policy(HERD_BACKOFF_FULL, 10 * MS, S);
    for (int max = 1; max <= 6; max++) {
        p.max_attempts = max;
        struct herd_backoff b;
        herd_backoff_init(&b, &p, 0);
        int attempts = 1, rc;
        int64_t w = -5;
        while ((rc = herd_backoff_next(&b, &rng, 0, HERD_BACKOFF_FAILED,
                                       HERD_BACKOFF_NO_RETRY_AFTER, &w)) == 0)
            attempts++;
        cr_assert_eq(rc, -HERD_EGIVEUP);
        cr_assert_eq(attempts, max, "max_attempts %d made %d attempts", max, attempts);
        cr_assert_eq(b.stop, HERD_BACKOFF_STOP_ATTEMPTS);
        /* given up stays given up, and the out-parameter is not written */
        w = -5;
        cr_assert_eq(
            herd_backoff_next(&b, &rng, 0, HERD_BACKOFF_FAILED, HERD_BACKOFF_NO_RETRY_AFTER, &w),
            -HERD_EGIVEUP);
        cr_assert_eq(w, -5);
    }
}

Test(backoff, deadline_from_start_respected)
{
    /* Property: whatever the draws, no retry starts after start + deadline, and the
     * sequence ends by giving up on the deadline. Attempts take a random 0..50 ms. */
    struct herd_rng rng;
    herd_rng_seed(&rng, 6);
    for (size_t k = 0; k < 3; k++) {
        struct herd_backoff_policy p = policy(jittered[k], 50 * MS, 2 * S);
        p.deadline_ns = 10 * S;
        for (int call = 0; call < 2000; call++) {
            const int64_t start = 1000 * S + call;
            int64_t now = start + (int64_t)herd_rng_below(&rng, 50 * MS);
            struct herd_backoff b;
            herd_backoff_init(&b, &p, start);
            int64_t w;
            int rc;
            while ((rc = herd_backoff_next(&b, &rng, now, HERD_BACKOFF_FAILED,
                                           HERD_BACKOFF_NO_RETRY_AFTER, &w)) == 0) {
                cr_assert_leq(now + w, start + p.deadline_ns);
                now += w + (int64_t)herd_rng_below(&rng, 50 * MS);
            }
            cr_assert_eq(b.stop, HERD_BACKOFF_STOP_DEADLINE);
        }
    }
}

Test(backoff, deadline_from_first_failure)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 7);
    struct herd_backoff_policy p = policy(HERD_BACKOFF_CONSTANT, S, S);
    p.failure_deadline_ns = 5 * S;
    struct herd_backoff b;
    herd_backoff_init(&b, &p, 0);
    cr_assert_eq(herd_backoff_deadline(&b), INT64_MAX); /* no failure yet */
    int64_t now = 100 * S, w; /* the first attempt took 100 s: irrelevant here */
    int retries = 0;
    while (herd_backoff_next(&b, &rng, now, HERD_BACKOFF_FAILED, HERD_BACKOFF_NO_RETRY_AFTER, &w) ==
           0) {
        cr_assert_eq(herd_backoff_deadline(&b), 105 * S);
        now += w;
        retries++;
    }
    /* failures at 100, 101, 102, 103, 104 retry; at 105 the deadline has come */
    cr_assert_eq(retries, 5);
    cr_assert_eq(b.stop, HERD_BACKOFF_STOP_DEADLINE);

    /* Both deadlines: the earlier wins. */
    p.deadline_ns = 102 * S;
    herd_backoff_init(&b, &p, 0);
    cr_assert_eq(
        herd_backoff_next(&b, &rng, 100 * S, HERD_BACKOFF_FAILED, HERD_BACKOFF_NO_RETRY_AFTER, &w),
        0);
    cr_assert_eq(herd_backoff_deadline(&b), 102 * S);
}

Test(backoff, retry_after_honoured_above_cap_and_clamped_to_deadline)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 8);
    const int64_t base = 100 * MS;
    for (size_t k = 0; k < 3; k++) {
        struct herd_backoff_policy p = policy(jittered[k], base, S);
        struct herd_backoff b;
        int64_t w;
        int64_t mn = INT64_MAX, mx = 0;
        /* Retry-After 30 s, far above the 1 s cap: honoured, spread over one base. */
        for (int i = 0; i < 5000; i++) {
            herd_backoff_init(&b, &p, 0);
            cr_assert_eq(herd_backoff_next(&b, &rng, 0, HERD_BACKOFF_FAILED, 30 * S, &w), 0);
            cr_assert(w >= 30 * S && w <= 30 * S + base, "wait %lld", (long long)w);
            mn = w < mn ? w : mn;
            mx = w > mx ? w : mx;
        }
        cr_assert_gt(mx - mn, base / 2, "a fleet told the same Retry-After stays spread");
        /* A Retry-After shorter than the draw does not shorten the wait below base. */
        for (int i = 0; i < 1000; i++) {
            herd_backoff_init(&b, &p, 0);
            cr_assert_eq(herd_backoff_next(&b, &rng, 0, HERD_BACKOFF_FAILED, 0, &w), 0);
            cr_assert_geq(w, base);
        }
        /* Deadline 5 s from the start: a 60 s Retry-After at t = 2 s is clamped to 3 s. */
        p.deadline_ns = 5 * S;
        herd_backoff_init(&b, &p, 0);
        cr_assert_eq(herd_backoff_next(&b, &rng, 2 * S, HERD_BACKOFF_FAILED, 60 * S, &w), 0);
        cr_assert_eq(w, 3 * S);
        /* ... and with less than the base left it gives up. */
        herd_backoff_init(&b, &p, 0);
        w = -1;
        cr_assert_eq(herd_backoff_next(&b, &rng, 5 * S - base / 2, HERD_BACKOFF_FAILED, 60 * S, &w),
                     -HERD_EGIVEUP);
        cr_assert_eq(w, -1);
        cr_assert_eq(b.stop, HERD_BACKOFF_STOP_DEADLINE);
    }
    /* Deterministic kinds honour it exactly. */
    struct herd_backoff_policy c = policy(HERD_BACKOFF_CONSTANT, base, S);
    struct herd_backoff b;
    int64_t w;
    herd_backoff_init(&b, &c, 0);
    cr_assert_eq(herd_backoff_next(&b, &rng, 0, HERD_BACKOFF_FAILED, 7 * S, &w), 0);
    cr_assert_eq(w, 7 * S);
}

Test(backoff, throttle_base)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 9);
    /* The AWS SDKs' figures: base 100 ms, throttling base 500 ms, cap 20 s. */
    struct herd_backoff_policy p = policy(HERD_BACKOFF_FULL, 100 * MS, 20 * S);
    p.throttle_base_ns = 500 * MS;
    int64_t tmin = INT64_MAX, fmin_ = INT64_MAX;
    for (int i = 0; i < 20000; i++) {
        struct herd_backoff b;
        int64_t w;
        herd_backoff_init(&b, &p, 0);
        cr_assert_eq(
            herd_backoff_next(&b, &rng, 0, HERD_BACKOFF_THROTTLED, HERD_BACKOFF_NO_RETRY_AFTER, &w),
            0);
        cr_assert(w >= 500 * MS && w <= 1000 * MS);
        tmin = w < tmin ? w : tmin;
        herd_backoff_init(&b, &p, 0);
        cr_assert_eq(
            herd_backoff_next(&b, &rng, 0, HERD_BACKOFF_FAILED, HERD_BACKOFF_NO_RETRY_AFTER, &w),
            0);
        cr_assert(w >= 100 * MS && w <= 200 * MS);
        fmin_ = w < fmin_ ? w : fmin_;
    }
    cr_assert_lt(tmin, 505 * MS);
    cr_assert_lt(fmin_, 101 * MS);
}

Test(backoff, same_seed_same_waits)
{
    struct herd_backoff_policy p = policy(HERD_BACKOFF_DECORRELATED, 10 * MS, 5 * S);
    struct herd_rng r1, r2;
    herd_rng_seed(&r1, 42);
    herd_rng_seed(&r2, 42);
    struct herd_backoff a, b;
    herd_backoff_init(&a, &p, 0);
    herd_backoff_init(&b, &p, 0);
    for (int n = 0; n < 50; n++) {
        int64_t wa, wb;
        cr_assert_eq(
            herd_backoff_next(&a, &r1, 0, HERD_BACKOFF_FAILED, HERD_BACKOFF_NO_RETRY_AFTER, &wa),
            0);
        cr_assert_eq(
            herd_backoff_next(&b, &r2, 0, HERD_BACKOFF_FAILED, HERD_BACKOFF_NO_RETRY_AFTER, &wb),
            0);
        cr_assert_eq(wa, wb);
    }
}

Test(backoff, names)
{
    cr_assert_str_eq(herd_backoff_kind_name(HERD_BACKOFF_FULL), "full");
    cr_assert_str_eq(herd_backoff_kind_name(HERD_BACKOFF_DECORRELATED), "decorrelated");
    cr_assert_str_eq(herd_backoff_kind_name((enum herd_backoff_kind)99), "unknown");
}
