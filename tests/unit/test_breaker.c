/* test_breaker.c — circuit breaker on a fake clock: the trip rules and the min-calls
 * guard (with the consecutive rule still tripping a low-traffic service), count and time
 * windows, half-open probes (K at a time, M to close, any failure reopens, timeout so it
 * never wedges), the jittered open-interval backoff and its bounds, manual moves, late
 * permits, allocation failures, and the property "only legal transitions" under random
 * operation sequences. */
#include <criterion/criterion.h>
#include <herd/breaker.h>
#include <herd/error.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "torture.h"

#define S INT64_C(1000000000)
#define MS INT64_C(1000000)

static struct herd_breaker_config base_cfg(void)
{
    struct herd_breaker_config c;
    herd_breaker_config_default(&c);
    return c;
}

static struct herd_breaker *make(const struct herd_breaker_config *c)
{
    struct herd_breaker *b = NULL;
    cr_assert_eq(herd_breaker_new(c, &b), 0);
    return b;
}

/* One call at @p now that ends with @p out, reported at @p now with latency @p lat;
 * returns the verdict. */
static enum herd_breaker_verdict call(struct herd_breaker *b, struct herd_rng *rng, int64_t now,
                                      enum herd_breaker_outcome out, int64_t lat)
{
    struct herd_breaker_permit p;
    enum herd_breaker_verdict v = herd_breaker_allow(b, now, rng, &p);
    if (v == HERD_BREAKER_GO)
        herd_breaker_record(b, &p, out, lat, now);
    return v;
}

/* ---- transitions log for the callback -------------------------------------------- */

struct tlog {
    int n;
    struct herd_breaker_transition t[4096];
};

static void log_fn(void *ctx, const struct herd_breaker_transition *t)
{
    struct tlog *l = ctx;
    if (l->n < 4096)
        l->t[l->n] = *t;
    l->n++;
}

Test(breaker, defaults_and_config_validation)
{
    struct herd_breaker_config c = base_cfg();
    cr_assert_eq(c.window, HERD_BREAKER_WINDOW_TIME);
    cr_assert_eq(c.window_ns, 10 * S);
    cr_assert_eq(c.min_calls, 20);
    cr_assert_eq(c.consecutive_failures, 5);
    cr_assert_float_eq(c.failure_rate, 0.5, 1e-12);
    cr_assert_eq(c.open_base_ns, 5 * S);
    cr_assert_eq(c.open_cap_ns, 300 * S);
    cr_assert_eq(c.half_open_probes, 1);
    cr_assert_eq(c.half_open_successes, 3);

    struct herd_breaker *b = NULL;
    cr_assert_eq(herd_breaker_new(NULL, &b), 0);
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_CLOSED);
    herd_breaker_free(b);
    herd_breaker_free(NULL);

    struct herd_breaker_config bad[10];
    for (int i = 0; i < 10; i++)
        bad[i] = base_cfg();
    bad[0].failure_rate = 1.5;
    bad[1].failure_rate = NAN;
    bad[2].open_base_ns = 0;
    bad[3].open_cap_ns = bad[3].open_base_ns - 1;
    bad[4].half_open_probes = 0;
    bad[5].half_open_successes = 0;
    bad[6].probe_timeout_ns = 0;
    bad[7].window = HERD_BREAKER_WINDOW_COUNT;
    bad[7].window_calls = 10;
    bad[7].min_calls = 11; /* a guard the window can never satisfy */
    bad[8].window_buckets = 0;
    bad[9].open_jitter = -0.1;
    for (int i = 0; i < 10; i++) {
        b = (struct herd_breaker *)0x1;
        cr_assert_eq(herd_breaker_new(&bad[i], &b), -HERD_EINVAL, "case %d", i);
        cr_assert_eq(b, (struct herd_breaker *)0x1, "out written on failure, case %d", i);
    }
}

/* The min-calls pitfall: a service seeing one call a minute never gets 20 calls into a
 * 10 s window, so the rate rules are silent, but 5 failures in a row still trip it. */
Test(breaker, low_traffic_trips_on_consecutive_failures_despite_min_calls)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 1);
    struct herd_breaker_config c = base_cfg();
    struct tlog *log = calloc(1, sizeof *log);
    c.on_transition = log_fn;
    c.on_transition_ctx = log;
    struct herd_breaker *b = make(&c);
    int64_t now = 0;
    for (int i = 1; i <= 4; i++) {
        now += 60 * S;
        cr_assert_eq(call(b, &rng, now, HERD_BREAKER_FAILURE, MS), HERD_BREAKER_GO);
        cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_CLOSED, "tripped after %d", i);
    }
    now += 60 * S;
    cr_assert_eq(call(b, &rng, now, HERD_BREAKER_FAILURE, MS), HERD_BREAKER_GO);
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_OPEN);
    cr_assert_eq(log->n, 1);
    cr_assert_eq(log->t[0].from, HERD_BREAKER_CLOSED);
    cr_assert_eq(log->t[0].to, HERD_BREAKER_OPEN);
    cr_assert_eq(log->t[0].cause, HERD_BREAKER_CAUSE_CONSECUTIVE);
    cr_assert_eq(log->t[0].seq, 1);
    cr_assert_eq(log->t[0].level, 1);
    struct herd_breaker_stats st;
    herd_breaker_stats(b, now, &st);
    cr_assert_eq(st.trips_consecutive, 1);
    cr_assert_eq(st.window_calls, 1, "only the last call is inside the 10 s window");
    herd_breaker_free(b);

    /* The same traffic with the consecutive rule off never trips: the guard holds the
     * rate rules back, which is why the consecutive rule must stay on by default. */
    c.consecutive_failures = 0;
    log->n = 0;
    b = make(&c);
    for (int i = 1; i <= 50; i++)
        call(b, &rng, (int64_t)i * 60 * S, HERD_BREAKER_FAILURE, MS);
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_CLOSED);
    cr_assert_eq(log->n, 0);
    herd_breaker_free(b);
    free(log);
}

Test(breaker, consecutive_count_resets_on_success)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 2);
    struct herd_breaker_config c = base_cfg();
    c.failure_rate = 0; /* only the consecutive rule */
    c.slow_rate = 0;
    struct herd_breaker *b = make(&c);
    for (int round = 0; round < 10; round++) {
        for (int i = 0; i < 4; i++)
            call(b, &rng, round * S, HERD_BREAKER_FAILURE, MS);
        call(b, &rng, round * S, HERD_BREAKER_SUCCESS, MS);
        /* IGNORED neither breaks nor extends a run */
        call(b, &rng, round * S, HERD_BREAKER_IGNORED, MS);
    }
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_CLOSED);
    for (int i = 0; i < 4; i++)
        call(b, &rng, 20 * S, HERD_BREAKER_FAILURE, MS);
    call(b, &rng, 20 * S, HERD_BREAKER_IGNORED, MS);
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_CLOSED);
    call(b, &rng, 20 * S, HERD_BREAKER_FAILURE, MS);
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_OPEN);
    herd_breaker_free(b);
}

/* Count window of 10, guard 10, rate 50 %: 9 failures are below the guard; the 10th call
 * (a success) reaches it with 9/10 failed and trips. 5/10 trips (>= is inclusive), 4/10
 * does not. */
Test(breaker, failure_rate_count_window_and_guard)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 3);
    struct herd_breaker_config c = base_cfg();
    c.window = HERD_BREAKER_WINDOW_COUNT;
    c.window_calls = 10;
    c.min_calls = 10;
    c.consecutive_failures = 0;
    struct herd_breaker *b = make(&c);
    for (int i = 0; i < 9; i++)
        call(b, &rng, 0, HERD_BREAKER_FAILURE, MS);
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_CLOSED);
    call(b, &rng, 0, HERD_BREAKER_SUCCESS, MS);
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_OPEN);
    struct herd_breaker_stats st;
    herd_breaker_stats(b, 0, &st);
    cr_assert_eq(st.trips_failure_rate, 1);
    herd_breaker_free(b);

    for (int fails = 4; fails <= 5; fails++) {
        b = make(&c);
        for (int i = 0; i < 10; i++) /* failures spread out, never 5 in a row needed */
            call(b, &rng, 0,
                 i % 2 == 0 && i / 2 < fails ? HERD_BREAKER_FAILURE : HERD_BREAKER_SUCCESS, MS);
        cr_assert_eq(herd_breaker_state(b), fails == 5 ? HERD_BREAKER_OPEN : HERD_BREAKER_CLOSED,
                     "%d failures of 10", fails);
        herd_breaker_free(b);
    }

    /* The ring forgets: 4 failures then 100 successes then 4 failures never reach 5/10. */
    b = make(&c);
    for (int i = 0; i < 4; i++)
        call(b, &rng, 0, HERD_BREAKER_FAILURE, MS);
    for (int i = 0; i < 100; i++)
        call(b, &rng, 0, HERD_BREAKER_SUCCESS, MS);
    herd_breaker_stats(b, 0, &st);
    cr_assert_eq(st.window_calls, 10);
    cr_assert_eq(st.window_failures, 0);
    for (int i = 0; i < 4; i++)
        call(b, &rng, 0, HERD_BREAKER_FAILURE, MS);
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_CLOSED);
    herd_breaker_free(b);
}

/* A time window of 10 s in 10 buckets: failures older than the window no longer count. */
Test(breaker, failure_rate_time_window_expires)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 4);
    struct herd_breaker_config c = base_cfg();
    c.min_calls = 10;
    c.consecutive_failures = 0;
    struct herd_breaker *b = make(&c);
    /* t = 0.5 s: 4 failures + 4 successes (8 calls, under the guard) */
    for (int i = 0; i < 4; i++) {
        call(b, &rng, 500 * MS, HERD_BREAKER_FAILURE, 0);
        call(b, &rng, 500 * MS, HERD_BREAKER_SUCCESS, 0);
    }
    struct herd_breaker_stats st;
    herd_breaker_stats(b, 9 * S + 999 * MS, &st);
    cr_assert_eq(st.window_calls, 8, "still inside the window at 9.999 s");
    herd_breaker_stats(b, 10 * S, &st);
    cr_assert_eq(st.window_calls, 0, "bucket [0, 1 s) left the window at 10 s");
    /* With the old calls still in, 2 successes would have made 10 calls with 4 failures
     * (40 %). Gone, the new calls alone decide: 2 successes + 7 failures are 9 calls,
     * under the guard of 10 whatever their rate; one more failure makes 8/10 and trips. */
    call(b, &rng, 10 * S, HERD_BREAKER_SUCCESS, 0);
    call(b, &rng, 10 * S, HERD_BREAKER_SUCCESS, 0);
    for (int i = 0; i < 7; i++)
        call(b, &rng, 10 * S + i * MS, HERD_BREAKER_FAILURE, 0);
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_CLOSED);
    call(b, &rng, 11 * S, HERD_BREAKER_FAILURE, 0);
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_OPEN);
    herd_breaker_free(b);
}

Test(breaker, slow_call_rate_trips)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 5);
    struct herd_breaker_config c = base_cfg();
    c.window = HERD_BREAKER_WINDOW_COUNT;
    c.window_calls = 20;
    c.min_calls = 20;
    c.slow_rate = 0.5;
    c.slow_call_ns = 100 * MS;
    struct herd_breaker *b = make(&c);
    /* 100 ms exactly is not slower than the threshold */
    for (int i = 0; i < 20; i++)
        call(b, &rng, 0, HERD_BREAKER_SUCCESS, i < 10 ? 100 * MS : MS);
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_CLOSED);
    for (int i = 0; i < 9; i++)
        call(b, &rng, 0, HERD_BREAKER_SUCCESS, 101 * MS);
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_CLOSED);
    call(b, &rng, 0, HERD_BREAKER_SUCCESS, 101 * MS); /* 10 slow of the last 20 */
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_OPEN);
    struct herd_breaker_stats st;
    herd_breaker_stats(b, 0, &st);
    cr_assert_eq(st.trips_slow_rate, 1);
    cr_assert_eq(st.slow, 10);
    herd_breaker_free(b);
}

/* Trip at t0; the first allow draws the interval; reject OPEN with retry_after until it
 * passes; then half-open with K probes, the (K+1)-th rejected as full; M successes close. */
Test(breaker, open_then_half_open_probes_then_close)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 6);
    struct herd_breaker_config c = base_cfg();
    c.half_open_probes = 2;
    c.half_open_successes = 3;
    c.open_jitter = 0;
    struct tlog *log = calloc(1, sizeof *log);
    c.on_transition = log_fn;
    c.on_transition_ctx = log;
    struct herd_breaker *b = make(&c);
    for (int i = 0; i < 5; i++)
        call(b, &rng, 0, HERD_BREAKER_FAILURE, MS);
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_OPEN);

    struct herd_breaker_permit p, q, r;
    cr_assert_eq(herd_breaker_allow(b, 1 * S, &rng, &p), HERD_BREAKER_REJECT_OPEN);
    cr_assert_eq(p.retry_after_ns, 4 * S, "5 s base, no jitter, asked at 1 s");
    cr_assert_eq(herd_breaker_allow(b, 5 * S - 1, &rng, &p), HERD_BREAKER_REJECT_OPEN);
    cr_assert_eq(p.retry_after_ns, 1);

    int64_t t = 5 * S;
    cr_assert_eq(herd_breaker_allow(b, t, &rng, &p), HERD_BREAKER_GO);
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_HALF_OPEN);
    cr_assert(p.probe);
    cr_assert_eq(p.retry_after_ns, 0);
    cr_assert_eq(herd_breaker_allow(b, t, &rng, &q), HERD_BREAKER_GO);
    cr_assert_eq(herd_breaker_allow(b, t + MS, &rng, &r), HERD_BREAKER_REJECT_HALF_OPEN_FULL);
    cr_assert_eq(r.retry_after_ns, c.probe_timeout_ns - MS, "a slot frees by its timeout");
    herd_breaker_record(b, &p, HERD_BREAKER_SUCCESS, MS, t + MS);
    herd_breaker_record(b, &q, HERD_BREAKER_SUCCESS, MS, t + MS);
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_HALF_OPEN, "2 of 3 successes");
    cr_assert_eq(herd_breaker_allow(b, t + 2 * MS, &rng, &p), HERD_BREAKER_GO);
    herd_breaker_record(b, &p, HERD_BREAKER_SUCCESS, MS, t + 3 * MS);
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_CLOSED);

    cr_assert_eq(log->n, 3);
    cr_assert_eq(log->t[1].from, HERD_BREAKER_OPEN);
    cr_assert_eq(log->t[1].to, HERD_BREAKER_HALF_OPEN);
    cr_assert_eq(log->t[1].cause, HERD_BREAKER_CAUSE_INTERVAL);
    cr_assert_eq(log->t[2].to, HERD_BREAKER_CLOSED);
    cr_assert_eq(log->t[2].cause, HERD_BREAKER_CAUSE_PROBES_PASSED);

    struct herd_breaker_stats st;
    herd_breaker_stats(b, t + 3 * MS, &st);
    cr_assert_eq(st.rejected_open, 2);
    cr_assert_eq(st.rejected_half_open_full, 1);
    cr_assert_eq(st.probes, 3);
    cr_assert_eq(st.closes, 1);
    cr_assert_eq(st.window_calls, 0, "closing starts a clean window");
    herd_breaker_free(b);
    free(log);
}

/* Any probe failure reopens and doubles the interval; a slow probe counts as a failure. */
Test(breaker, probe_failure_reopens_with_backoff)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 7);
    struct herd_breaker_config c = base_cfg();
    c.open_jitter = 0;
    c.half_open_probes = 3;
    c.slow_call_ns = S;
    struct herd_breaker *b = make(&c);
    for (int i = 0; i < 5; i++)
        call(b, &rng, 0, HERD_BREAKER_FAILURE, MS);
    int64_t t = 0, expect = 5 * S;
    for (int level = 1; level <= 9; level++) {
        struct herd_breaker_permit p, q;
        cr_assert_eq(herd_breaker_allow(b, t, &rng, &p), HERD_BREAKER_REJECT_OPEN);
        cr_assert_eq(p.retry_after_ns, expect, "level %d", level);
        t += expect;
        cr_assert_eq(herd_breaker_allow(b, t, &rng, &p), HERD_BREAKER_GO);
        cr_assert_eq(herd_breaker_allow(b, t, &rng, &q), HERD_BREAKER_GO);
        herd_breaker_record(b, &p, HERD_BREAKER_SUCCESS, MS, t);
        if (level % 2)
            herd_breaker_record(b, &q, HERD_BREAKER_FAILURE, MS, t);
        else
            herd_breaker_record(b, &q, HERD_BREAKER_SUCCESS, 2 * S, t); /* slow */
        cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_OPEN);
        expect = expect * 2 > 300 * S ? 300 * S : expect * 2; /* 5, 10, ..., 160, 300, 300 */
    }
    struct herd_breaker_stats st;
    herd_breaker_stats(b, t, &st);
    cr_assert_eq(st.reopens, 9);
    cr_assert_eq(st.level, 10);
    herd_breaker_free(b);
}

/* A probe that never reports back fails after probe_timeout_ns: half-open never wedges.
 * Its late record changes nothing. */
Test(breaker, probe_timeout_unwedges_half_open)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 8);
    struct herd_breaker_config c = base_cfg();
    c.open_jitter = 0;
    c.probe_timeout_ns = 2 * S;
    struct tlog *log = calloc(1, sizeof *log);
    c.on_transition = log_fn;
    c.on_transition_ctx = log;
    struct herd_breaker *b = make(&c);
    for (int i = 0; i < 5; i++)
        call(b, &rng, 0, HERD_BREAKER_FAILURE, MS);
    struct herd_breaker_permit lost, p;
    herd_breaker_allow(b, 0, &rng, &p); /* draws the 5 s interval */
    cr_assert_eq(herd_breaker_allow(b, 5 * S, &rng, &lost), HERD_BREAKER_GO);
    cr_assert_eq(herd_breaker_allow(b, 7 * S - 1, &rng, &p), HERD_BREAKER_REJECT_HALF_OPEN_FULL);
    cr_assert_eq(p.retry_after_ns, 1);
    cr_assert_eq(herd_breaker_allow(b, 7 * S, &rng, &p), HERD_BREAKER_REJECT_OPEN);
    cr_assert_eq(p.retry_after_ns, 10 * S, "reopened at level 2");
    cr_assert_eq(log->t[log->n - 1].cause, HERD_BREAKER_CAUSE_PROBE_TIMEOUT);

    herd_breaker_record(b, &lost, HERD_BREAKER_SUCCESS, 3 * S, 8 * S);
    struct herd_breaker_stats st;
    herd_breaker_stats(b, 8 * S, &st);
    cr_assert_eq(st.probe_timeouts, 1);
    cr_assert_eq(st.late, 1);
    cr_assert_eq(st.successes, 0, "a late success is not counted");
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_OPEN);
    /* record() reaps too: the probe reporting at its own deadline has timed out, so the
     * breaker reopens first and the report is late. */
    cr_assert_eq(herd_breaker_allow(b, 17 * S, &rng, &lost), HERD_BREAKER_GO);
    cr_assert_eq(herd_breaker_allow(b, 17 * S, &rng, &p), HERD_BREAKER_REJECT_HALF_OPEN_FULL);
    herd_breaker_record(b, &lost, HERD_BREAKER_SUCCESS, 2 * S, 19 * S);
    herd_breaker_stats(b, 19 * S, &st);
    cr_assert_eq(st.probe_timeouts, 2);
    cr_assert_eq(st.late, 2);
    cr_assert_eq(st.state, HERD_BREAKER_OPEN);
    cr_assert_eq(st.level, 3);
    herd_breaker_free(b);
    free(log);
}

/* The jittered open interval: within [d - jitter·d, d] at every level, spread over that
 * range (so a fleet does not probe in lock step), mean near d·(1 − jitter/2). */
Test(breaker, jittered_open_interval_bounds)
{
    struct herd_breaker_config c = base_cfg();
    c.open_base_ns = 1 * S;
    c.open_cap_ns = 64 * S;
    c.open_jitter = 0.5;
    c.half_open_successes = 1;
    enum { TRIALS = 2000, LEVELS = 9 };
    double sum[LEVELS + 1] = {0};
    int64_t lo_seen[LEVELS + 1], hi_seen[LEVELS + 1];
    for (int l = 0; l <= LEVELS; l++) {
        lo_seen[l] = INT64_MAX;
        hi_seen[l] = INT64_MIN;
    }
    for (int trial = 0; trial < TRIALS; trial++) {
        struct herd_rng rng;
        herd_rng_stream(&rng, 99, (uint64_t)trial);
        struct herd_breaker *b = make(&c);
        int64_t t = 0;
        for (int i = 0; i < 5; i++)
            call(b, &rng, t, HERD_BREAKER_FAILURE, 0);
        for (int level = 1; level <= LEVELS; level++) {
            struct herd_breaker_permit p;
            cr_assert_eq(herd_breaker_allow(b, t, &rng, &p), HERD_BREAKER_REJECT_OPEN);
            int64_t d = (INT64_C(1) << (level - 1)) * S;
            if (d > 64 * S)
                d = 64 * S;
            cr_assert(p.retry_after_ns >= d - d / 2 && p.retry_after_ns <= d,
                      "level %d: %lld not in [%lld, %lld]", level, (long long)p.retry_after_ns,
                      (long long)(d / 2), (long long)d);
            sum[level] += (double)p.retry_after_ns / (double)d;
            if (p.retry_after_ns < lo_seen[level])
                lo_seen[level] = p.retry_after_ns;
            if (p.retry_after_ns > hi_seen[level])
                hi_seen[level] = p.retry_after_ns;
            t += p.retry_after_ns;
            cr_assert_eq(herd_breaker_allow(b, t, &rng, &p), HERD_BREAKER_GO);
            herd_breaker_record(b, &p, HERD_BREAKER_FAILURE, 0, t); /* reopen, level + 1 */
        }
        herd_breaker_free(b);
    }
    for (int level = 1; level <= LEVELS; level++) {
        int64_t d = (INT64_C(1) << (level - 1)) * S;
        if (d > 64 * S)
            d = 64 * S;
        /* The fraction of d is U(0.5, 1): mean 0.75, sd 0.5/sqrt(12) = 0.144; the mean
         * of 2000 has sd 0.0032, so ±0.02 is over 6 sd. */
        cr_assert_float_eq(sum[level] / TRIALS, 0.75, 0.02, "level %d", level);
        /* Spread: the extremes of 2000 uniforms come within 1 % of both ends. */
        cr_assert(lo_seen[level] < d / 2 + d / 100 && hi_seen[level] > d - d / 100);
    }
}

/* A trip soon after closing continues the backoff (flapping); a trip long after a
 * close starts again at level 1. */
Test(breaker, flapping_keeps_backing_off)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 9);
    struct herd_breaker_config c = base_cfg();
    c.open_jitter = 0;
    c.half_open_successes = 1;
    struct herd_breaker *b = make(&c);
    int64_t t = 0;
    struct herd_breaker_permit p;
    for (int i = 0; i < 5; i++)
        call(b, &rng, t, HERD_BREAKER_FAILURE, 0);
    herd_breaker_allow(b, t, &rng, &p);
    t += 5 * S;
    cr_assert_eq(call(b, &rng, t, HERD_BREAKER_SUCCESS, 0), HERD_BREAKER_GO);
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_CLOSED);
    t += 10 * S; /* well within the 300 s cap of the close */
    for (int i = 0; i < 5; i++)
        call(b, &rng, t, HERD_BREAKER_FAILURE, 0);
    herd_breaker_allow(b, t, &rng, &p);
    cr_assert_eq(p.retry_after_ns, 10 * S, "level 2 after flapping");
    t += 10 * S;
    call(b, &rng, t, HERD_BREAKER_SUCCESS, 0);
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_CLOSED);
    t += 301 * S;
    for (int i = 0; i < 5; i++)
        call(b, &rng, t, HERD_BREAKER_FAILURE, 0);
    herd_breaker_allow(b, t, &rng, &p);
    cr_assert_eq(p.retry_after_ns, 5 * S, "level 1 after a quiet spell");
    herd_breaker_free(b);
}

Test(breaker, isolate_force_close_reset)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 10);
    struct herd_breaker_config c = base_cfg();
    struct tlog *log = calloc(1, sizeof *log);
    c.on_transition = log_fn;
    c.on_transition_ctx = log;
    struct herd_breaker *b = make(&c);
    struct herd_breaker_permit inflight, p;
    cr_assert_eq(herd_breaker_allow(b, 0, &rng, &inflight), HERD_BREAKER_GO);

    herd_breaker_isolate(b, S);
    herd_breaker_isolate(b, S); /* idempotent: no second transition */
    cr_assert_eq(log->n, 1);
    cr_assert_eq(herd_breaker_allow(b, 2 * S, &rng, &p), HERD_BREAKER_REJECT_ISOLATED);
    cr_assert_eq(p.retry_after_ns, HERD_BREAKER_NO_RETRY_AFTER);
    cr_assert_eq(herd_breaker_allow(b, 1000 * S, &rng, &p), HERD_BREAKER_REJECT_ISOLATED,
                 "isolation does not time out");
    herd_breaker_record(b, &inflight, HERD_BREAKER_FAILURE, 0, 1000 * S);

    herd_breaker_force_close(b, 1001 * S);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(call(b, &rng, 1001 * S, HERD_BREAKER_FAILURE, 0), HERD_BREAKER_GO);
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_FORCED_CLOSED, "forced closed never trips");
    struct herd_breaker_stats st;
    herd_breaker_stats(b, 1001 * S, &st);
    cr_assert_eq(st.window_failures, 100, "but it still watches");
    cr_assert_eq(st.late, 1);
    cr_assert_eq(st.rejected_isolated, 2);

    herd_breaker_reset(b, 1002 * S);
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_CLOSED);
    herd_breaker_stats(b, 1002 * S, &st);
    cr_assert_eq(st.window_calls, 0);
    cr_assert_eq(log->n, 3);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(log->t[i].cause, HERD_BREAKER_CAUSE_MANUAL);
    cr_assert_eq(log->t[0].to, HERD_BREAKER_ISOLATED);
    cr_assert_eq(log->t[1].to, HERD_BREAKER_FORCED_CLOSED);
    cr_assert_eq(log->t[2].to, HERD_BREAKER_CLOSED);
    herd_breaker_free(b);
    free(log);
}

/* A call admitted while closed that ends after the trip does not count in the new
 * state (nor against the probes). */
Test(breaker, late_permits_do_not_count)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 11);
    struct herd_breaker_config c = base_cfg();
    c.open_jitter = 0;
    c.half_open_successes = 1;
    struct herd_breaker *b = make(&c);
    struct herd_breaker_permit old[3], p;
    for (int i = 0; i < 3; i++)
        herd_breaker_allow(b, 0, &rng, &old[i]);
    for (int i = 0; i < 5; i++)
        call(b, &rng, 0, HERD_BREAKER_FAILURE, 0);
    herd_breaker_allow(b, 0, &rng, &p);
    cr_assert_eq(herd_breaker_allow(b, 5 * S, &rng, &p), HERD_BREAKER_GO); /* the probe */
    herd_breaker_record(b, &old[0], HERD_BREAKER_SUCCESS, 0, 5 * S);       /* must not close it */
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_HALF_OPEN);
    herd_breaker_record(b, &old[1], HERD_BREAKER_FAILURE, 0, 5 * S); /* must not reopen it */
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_HALF_OPEN);
    herd_breaker_record(b, &p, HERD_BREAKER_SUCCESS, 0, 5 * S);
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_CLOSED);
    herd_breaker_record(b, &old[2], HERD_BREAKER_FAILURE, 0, 6 * S);
    struct herd_breaker_stats st;
    herd_breaker_stats(b, 6 * S, &st);
    cr_assert_eq(st.late, 3);
    cr_assert_eq(st.window_calls, 0);
    cr_assert_eq(st.consecutive, 0);
    herd_breaker_free(b);
}

/* Time going backwards (threads racing between reading the clock and the lock) is
 * treated as the latest time seen: an interval never restarts, the window never
 * un-expires. */
Test(breaker, time_never_runs_backwards)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 12);
    struct herd_breaker_config c = base_cfg();
    c.open_jitter = 0;
    struct herd_breaker *b = make(&c);
    for (int i = 0; i < 5; i++)
        call(b, &rng, 100 * S, HERD_BREAKER_FAILURE, 0);
    struct herd_breaker_permit p;
    cr_assert_eq(herd_breaker_allow(b, 50 * S, &rng, &p), HERD_BREAKER_REJECT_OPEN);
    cr_assert_eq(p.retry_after_ns, 5 * S, "asked at 50 s, treated as 100 s");
    herd_breaker_free(b);
}

/* ---- property: only legal transitions under random operation sequences ----------- */

static bool legal(const struct herd_breaker_transition *t)
{
    if (t->from == t->to)
        return false;
    if (t->cause == HERD_BREAKER_CAUSE_MANUAL)
        return t->to == HERD_BREAKER_ISOLATED || t->to == HERD_BREAKER_FORCED_CLOSED ||
               t->to == HERD_BREAKER_CLOSED;
    switch (t->from) {
    case HERD_BREAKER_CLOSED:
        return t->to == HERD_BREAKER_OPEN && (t->cause == HERD_BREAKER_CAUSE_CONSECUTIVE ||
                                              t->cause == HERD_BREAKER_CAUSE_FAILURE_RATE ||
                                              t->cause == HERD_BREAKER_CAUSE_SLOW_RATE);
    case HERD_BREAKER_OPEN:
        return t->to == HERD_BREAKER_HALF_OPEN && t->cause == HERD_BREAKER_CAUSE_INTERVAL;
    case HERD_BREAKER_HALF_OPEN:
        return (t->to == HERD_BREAKER_CLOSED && t->cause == HERD_BREAKER_CAUSE_PROBES_PASSED) ||
               (t->to == HERD_BREAKER_OPEN && (t->cause == HERD_BREAKER_CAUSE_PROBE_FAILED ||
                                               t->cause == HERD_BREAKER_CAUSE_PROBE_TIMEOUT));
    default:
        return false; /* isolated and forced-closed leave only by hand */
    }
}

Test(breaker, property_only_legal_transitions, .timeout = 60)
{
    struct tlog *log = calloc(1, sizeof *log);
    uint64_t total_transitions = 0, seen_edges = 0;
    for (uint64_t seed = 1; seed <= 200; seed++) {
        struct herd_rng rng, ops;
        herd_rng_stream(&rng, seed, 0);
        herd_rng_stream(&ops, seed, 1);
        struct herd_breaker_config c = base_cfg();
        c.window = herd_rng_below(&ops, 2) ? HERD_BREAKER_WINDOW_COUNT : HERD_BREAKER_WINDOW_TIME;
        c.window_calls = 1 + (uint32_t)herd_rng_below(&ops, 30);
        c.min_calls = (uint32_t)herd_rng_below(&ops, c.window_calls + 1);
        c.window_ns = (1 + (int64_t)herd_rng_below(&ops, 20)) * S;
        c.window_buckets = 1 + (uint32_t)herd_rng_below(&ops, 10);
        c.consecutive_failures = (uint32_t)herd_rng_below(&ops, 6);
        c.slow_rate = herd_rng_uniform(&ops);
        c.slow_call_ns = (int64_t)herd_rng_below(&ops, 200) * MS;
        c.open_base_ns = (1 + (int64_t)herd_rng_below(&ops, 3000)) * MS;
        c.open_cap_ns = c.open_base_ns * (1 + (int64_t)herd_rng_below(&ops, 64));
        c.open_jitter = herd_rng_uniform(&ops);
        c.half_open_probes = 1 + (uint32_t)herd_rng_below(&ops, 4);
        c.half_open_successes = 1 + (uint32_t)herd_rng_below(&ops, 4);
        c.probe_timeout_ns = (1 + (int64_t)herd_rng_below(&ops, 2000)) * MS;
        c.on_transition = log_fn;
        c.on_transition_ctx = log;
        log->n = 0;
        struct herd_breaker *b = make(&c);

        enum { NP = 16 };
        struct herd_breaker_permit held[NP];
        int nheld = 0;
        int64_t now = (int64_t)herd_rng_below(&ops, 1000) * S - 500 * S; /* negative too */
        double p_fail = herd_rng_uniform(&ops);
        enum herd_breaker_state last = HERD_BREAKER_CLOSED;
        for (int step = 0; step < 3000; step++) {
            now += (int64_t)herd_rng_below(&ops, 300) * MS;
            uint64_t op = herd_rng_below(&ops, 100);
            if (op < 45) {
                struct herd_breaker_permit p;
                enum herd_breaker_verdict v = herd_breaker_allow(b, now, &rng, &p);
                if (v == HERD_BREAKER_GO && nheld < NP)
                    held[nheld++] = p;
                else if (v == HERD_BREAKER_GO)
                    herd_breaker_record(b, &p, HERD_BREAKER_SUCCESS, 0, now);
                else
                    cr_assert(v == HERD_BREAKER_REJECT_ISOLATED || p.retry_after_ns > 0,
                              "a reject says when to come back");
            } else if (op < 90 && nheld > 0) {
                int i = (int)herd_rng_below(&ops, (uint64_t)nheld);
                struct herd_breaker_permit p = held[i];
                held[i] = held[--nheld];
                if (herd_rng_below(&ops, 10) == 0)
                    continue; /* a caller that never reports back */
                enum herd_breaker_outcome o =
                    herd_rng_uniform(&ops) < p_fail
                        ? HERD_BREAKER_FAILURE
                        : (herd_rng_below(&ops, 10) == 0 ? HERD_BREAKER_IGNORED
                                                         : HERD_BREAKER_SUCCESS);
                herd_breaker_record(b, &p, o, (int64_t)herd_rng_below(&ops, 300) * MS, now);
            } else if (op == 97) {
                herd_breaker_isolate(b, now);
            } else if (op == 98) {
                herd_breaker_force_close(b, now);
            } else if (op == 99) {
                herd_breaker_reset(b, now);
            } else if (op >= 90 && herd_rng_below(&ops, 4) == 0) {
                now -= (int64_t)herd_rng_below(&ops, 1000) * MS; /* clock skew between threads */
            }
            struct herd_breaker_stats st;
            herd_breaker_stats(b, now, &st);
            cr_assert_leq(st.probes_in_flight, c.half_open_probes);
            if (st.state != HERD_BREAKER_HALF_OPEN)
                cr_assert_eq(st.probes_in_flight, 0);
            cr_assert_leq(st.window_failures, st.window_calls);
            cr_assert_leq(st.window_slow, st.window_calls);
            if (c.window == HERD_BREAKER_WINDOW_COUNT)
                cr_assert_leq(st.window_calls, c.window_calls);
            last = st.state;
        }
        cr_assert_leq(log->n, 4096);
        for (int i = 0; i < log->n; i++) {
            const struct herd_breaker_transition *t = &log->t[i];
            cr_assert(legal(t), "seed %llu: illegal %s -> %s (cause %d)", (unsigned long long)seed,
                      herd_breaker_state_name(t->from), herd_breaker_state_name(t->to),
                      (int)t->cause);
            cr_assert_eq(t->seq, (uint64_t)i + 1);
            if (i > 0) {
                cr_assert_eq(t->from, log->t[i - 1].to, "transitions chain");
                cr_assert_geq(t->now_ns, log->t[i - 1].now_ns, "monotone time");
            } else {
                cr_assert_eq(t->from, HERD_BREAKER_CLOSED);
            }
            if (!(t->cause == HERD_BREAKER_CAUSE_MANUAL))
                seen_edges |= UINT64_C(1) << (t->from * 5 + t->to);
        }
        if (log->n > 0)
            cr_assert_eq(last, log->t[log->n - 1].to);
        total_transitions += (uint64_t)log->n;
        herd_breaker_free(b);
    }
    /* The sequences must have exercised all four automatic edges, or the property
     * proved little. */
    uint64_t want = (UINT64_C(1) << (HERD_BREAKER_CLOSED * 5 + HERD_BREAKER_OPEN)) |
                    (UINT64_C(1) << (HERD_BREAKER_OPEN * 5 + HERD_BREAKER_HALF_OPEN)) |
                    (UINT64_C(1) << (HERD_BREAKER_HALF_OPEN * 5 + HERD_BREAKER_CLOSED)) |
                    (UINT64_C(1) << (HERD_BREAKER_HALF_OPEN * 5 + HERD_BREAKER_OPEN));
    cr_assert_eq(seen_edges, want);
    cr_assert_gt(total_transitions, 1000);
    free(log);
}

/* ---- allocation failures ------------------------------------------------------- */

/* torture.h's allocator: the module allocates fresh blocks and frees them, never
 * reallocates one, so its calls are the allocations. */
Test(breaker, allocation_failure_each_step_is_clean)
{
    for (int kind = 0; kind < 2; kind++) {
        struct torture ca = {0};
        struct herd_allocator al = {torture_realloc, &ca};
        struct herd_breaker_config c = base_cfg();
        c.window = kind ? HERD_BREAKER_WINDOW_COUNT : HERD_BREAKER_WINDOW_TIME;
        c.alloc = &al;
        /* Count the allocations of a successful init first. */
        struct herd_breaker *b = NULL;
        cr_assert_eq(herd_breaker_new(&c, &b), 0);
        int needed = ca.calls;
        cr_assert_eq(needed, 3);
        herd_breaker_free(b);
        cr_assert_eq(ca.live, 0);
        for (int n = 1; n <= needed; n++) {
            ca = (struct torture){.fail_at = n};
            b = (struct herd_breaker *)0x1;
            cr_assert_eq(herd_breaker_new(&c, &b), -HERD_ENOMEM, "fail at %d", n);
            cr_assert_eq(b, (struct herd_breaker *)0x1);
            cr_assert_eq(ca.live, 0, "leak after failing allocation %d", n);
        }
    }
}

Test(breaker, names)
{
    cr_assert_str_eq(herd_breaker_state_name(HERD_BREAKER_HALF_OPEN), "half-open");
    cr_assert_str_eq(herd_breaker_state_name(HERD_BREAKER_FORCED_CLOSED), "forced-closed");
    cr_assert_str_eq(herd_breaker_verdict_name(HERD_BREAKER_REJECT_HALF_OPEN_FULL),
                     "half-open-full");
    cr_assert_str_eq(herd_breaker_verdict_name(HERD_BREAKER_REJECT_ISOLATED), "isolated");
    cr_assert_str_eq(herd_breaker_verdict_name((enum herd_breaker_verdict)42), "?");
}
