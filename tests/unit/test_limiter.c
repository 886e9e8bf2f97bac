/* test_limiter.c — adaptive concurrency limits on a fake clock (a plain int64).
 *
 * Properties: in flight never exceeds the limit at an admission; AIMD grows by exactly one
 * per window of `limit` successes and not when app-limited, and shrinks ×0.9 per loss
 * event (pinned sequence), once per congestion event; Gradient2 falls when the RTT
 * doubles and recovers when it returns; near-zero RTTs and IGNORE move nothing; a
 * timeout is a loss and never an RTT sample. */
#include <criterion/criterion.h>
#include <herd/error.h>
#include <herd/limiter.h>
#include <herd/rng.h>

#define MS INT64_C(1000000)
#define S INT64_C(1000000000)

static void mk(struct herd_limiter *l, enum herd_limiter_algo algo, uint32_t init, uint32_t min,
               uint32_t max)
{
    struct herd_limiter_config c = {
        .algo = algo, .initial_limit = init, .min_limit = min, .max_limit = max};
    cr_assert_eq(herd_limiter_init(l, &c), 0);
}

Test(limiter, defaults_and_bad_config)
{
    struct herd_limiter l;
    struct herd_limiter_token t[21];
    cr_assert_eq(herd_limiter_init(&l, NULL), 0);
    cr_assert_eq(herd_limiter_limit(&l), 20); /* Netflix's initial limit */
    for (int i = 0; i < 20; i++)
        cr_assert_eq(herd_limiter_acquire(&l, 0, &t[i]), HERD_LIMITER_GO);
    cr_assert_eq(herd_limiter_acquire(&l, 0, &t[20]), HERD_LIMITER_LIMIT);
    cr_assert_eq(herd_limiter_inflight(&l), 20);
    for (int i = 0; i < 20; i++)
        herd_limiter_release(&l, &t[i], HERD_LIMITER_IGNORE, MS);
    struct herd_limiter_stats st;
    herd_limiter_stats(&l, &st);
    cr_assert_eq(st.acquired, 20);
    cr_assert_eq(st.rejected, 1);
    cr_assert_eq(st.ignored, 20);
    cr_assert_eq(herd_limiter_limit(&l), 20);
    herd_limiter_fini(&l);

    struct herd_limiter_config c = {.min_limit = 10, .max_limit = 5};
    cr_assert_eq(herd_limiter_init(&l, &c), -HERD_EINVAL);
    c = (struct herd_limiter_config){.backoff_ratio = 1.0};
    cr_assert_eq(herd_limiter_init(&l, &c), -HERD_EINVAL);
    c = (struct herd_limiter_config){.backoff_ratio = 0.4};
    cr_assert_eq(herd_limiter_init(&l, &c), -HERD_EINVAL);
    c = (struct herd_limiter_config){.rtt_tolerance = 0.9};
    cr_assert_eq(herd_limiter_init(&l, &c), -HERD_EINVAL);
    c = (struct herd_limiter_config){.smoothing = 1.5};
    cr_assert_eq(herd_limiter_init(&l, &c), -HERD_EINVAL);
    /* the initial limit is clamped into [min, max] */
    c = (struct herd_limiter_config){.initial_limit = 500, .min_limit = 1, .max_limit = 50};
    cr_assert_eq(herd_limiter_init(&l, &c), 0);
    cr_assert_eq(herd_limiter_limit(&l), 50);
    herd_limiter_fini(&l);
}

/* Random workload, both algorithms: every admission happens with inflight <= limit, and
 * every refusal with inflight >= limit; the limit stays in [min, max]. */
Test(limiter, inflight_never_exceeds_limit)
{
    for (int algo = 0; algo < 2; algo++) {
        struct herd_rng rng;
        herd_rng_seed(&rng, 100 + (uint64_t)algo);
        struct herd_limiter l;
        struct herd_limiter_config c = {.algo = (enum herd_limiter_algo)algo,
                                        .initial_limit = 10,
                                        .min_limit = 2,
                                        .max_limit = 64,
                                        .window_ns = 50 * MS};
        cr_assert_eq(herd_limiter_init(&l, &c), 0);
        struct herd_limiter_token tok[128];
        int held[128] = {0};
        int64_t now = 0;
        uint64_t go = 0;
        for (int i = 0; i < 200000; i++) {
            now += (int64_t)herd_rng_below(&rng, 2 * MS);
            int k = (int)herd_rng_below(&rng, 128);
            if (!held[k]) {
                int d = herd_limiter_acquire(&l, now, &tok[k]);
                uint32_t inf = herd_limiter_inflight(&l), lim = herd_limiter_limit(&l);
                if (d == HERD_LIMITER_GO) {
                    held[k] = 1;
                    go++;
                    cr_assert_leq(inf, lim, "step %d: %u in flight, limit %u", i, inf, lim);
                } else {
                    cr_assert_geq(inf, lim);
                }
            } else {
                /* losses get likelier as in flight grows: a service with capacity ~30 */
                uint32_t inf = herd_limiter_inflight(&l);
                enum herd_limiter_outcome o = HERD_LIMITER_SUCCESS;
                uint64_t u = herd_rng_below(&rng, 100);
                if (inf > 30 && u < 20)
                    o = HERD_LIMITER_DROPPED;
                else if (u < 2)
                    o = HERD_LIMITER_TIMEOUT;
                else if (u < 5)
                    o = HERD_LIMITER_IGNORE;
                herd_limiter_release(&l, &tok[k], o, now);
                held[k] = 0;
            }
            uint32_t lim = herd_limiter_limit(&l);
            cr_assert(lim >= 2 && lim <= 64);
        }
        cr_assert_gt(go, 20000, "only %llu admissions", (unsigned long long)go);
        struct herd_limiter_stats st;
        herd_limiter_stats(&l, &st);
        cr_assert_gt(st.cuts, 0);
        cr_assert_gt(st.rejected, 0);
        herd_limiter_fini(&l);
    }
}

/* Keep the limiter full: acquire until refused, then release one SUCCESS and re-acquire. */
static int success_full(struct herd_limiter *l, struct herd_limiter_token *tok, int *nheld,
                        int64_t now, int64_t rtt)
{
    while (herd_limiter_acquire(l, now - rtt, &tok[*nheld]) == HERD_LIMITER_GO)
        (*nheld)++;
    herd_limiter_release(l, &tok[--(*nheld)], HERD_LIMITER_SUCCESS, now);
    return (int)herd_limiter_limit(l);
}

Test(limiter, aimd_grows_by_one_per_window_of_successes)
{
    struct herd_limiter l;
    mk(&l, HERD_LIMITER_AIMD, 10, 1, 1000);
    struct herd_limiter_token tok[64];
    int nheld = 0;
    int64_t now = S;
    for (uint32_t L = 10; L < 40; L++) {
        for (uint32_t i = 1; i <= L; i++) {
            now += MS;
            int lim = success_full(&l, tok, &nheld, now, 10 * MS);
            cr_assert_eq(lim, (int)(i < L ? L : L + 1), "limit %u, success %u: %d", L, i, lim);
        }
    }
    herd_limiter_fini(&l);
}

Test(limiter, aimd_app_limited_does_not_grow)
{
    struct herd_limiter l;
    mk(&l, HERD_LIMITER_AIMD, 10, 1, 1000);
    struct herd_limiter_token t;
    for (int i = 0; i < 1000; i++) { /* one at a time: 1 < 10 / 2 */
        cr_assert_eq(herd_limiter_acquire(&l, i * MS, &t), HERD_LIMITER_GO);
        herd_limiter_release(&l, &t, HERD_LIMITER_SUCCESS, i * MS + 500000);
    }
    cr_assert_eq(herd_limiter_limit(&l), 10);
    herd_limiter_fini(&l);
}

/* One loss per event, each from a request started after the last cut: limit ← floor(0.9·limit)
 * (at least −1), down to min. */
Test(limiter, aimd_shrinks_multiplicatively_on_drops)
{
    static const uint32_t seq[] = {100, 90, 81, 72, 64, 57, 51, 45, 40, 36, 32, 28, 25, 22, 19,
                                   17,  15, 13, 11, 9,  8,  7,  6,  5,  4,  3,  2,  1,  1};
    struct herd_limiter l;
    mk(&l, HERD_LIMITER_AIMD, 100, 1, 1000);
    struct herd_limiter_token t;
    for (size_t i = 0; i + 1 < sizeof seq / sizeof *seq; i++) {
        cr_assert_eq(herd_limiter_limit(&l), seq[i]);
        cr_assert_eq(herd_limiter_acquire(&l, (int64_t)i * S, &t), HERD_LIMITER_GO);
        herd_limiter_release(&l, &t, i % 2 ? HERD_LIMITER_DROPPED : HERD_LIMITER_TIMEOUT,
                             (int64_t)i * S + MS);
        cr_assert_eq(herd_limiter_limit(&l), seq[i + 1], "step %zu", i);
    }
    herd_limiter_fini(&l);
}

/* 50 requests time out together: one congestion event, one cut (not 0.9^50). */
Test(limiter, one_cut_per_congestion_event)
{
    for (int algo = 0; algo < 2; algo++) {
        struct herd_limiter l;
        mk(&l, (enum herd_limiter_algo)algo, 100, 1, 1000);
        struct herd_limiter_token t[50], u;
        for (int i = 0; i < 50; i++)
            cr_assert_eq(herd_limiter_acquire(&l, 0, &t[i]), HERD_LIMITER_GO);
        for (int i = 0; i < 50; i++)
            herd_limiter_release(&l, &t[i], HERD_LIMITER_TIMEOUT, S);
        cr_assert_eq(herd_limiter_limit(&l), 90);
        cr_assert_eq(herd_limiter_acquire(&l, S, &u), HERD_LIMITER_GO); /* after the cut */
        herd_limiter_release(&l, &u, HERD_LIMITER_DROPPED, 2 * S);
        cr_assert_eq(herd_limiter_limit(&l), 81);
        struct herd_limiter_stats st;
        herd_limiter_stats(&l, &st);
        cr_assert_eq(st.cuts, 2);
        cr_assert_eq(st.timeouts, 50);
        cr_assert_eq(st.dropped, 1);
        herd_limiter_fini(&l);
    }
}

/* A SUCCESS slower than timeout_ns is a timeout: a loss, not a latency sample. */
Test(limiter, slow_success_is_a_timeout)
{
    struct herd_limiter l;
    struct herd_limiter_config c = {
        .algo = HERD_LIMITER_AIMD, .initial_limit = 50, .min_limit = 1, .timeout_ns = S};
    cr_assert_eq(herd_limiter_init(&l, &c), 0);
    struct herd_limiter_token t;
    cr_assert_eq(herd_limiter_acquire(&l, 0, &t), HERD_LIMITER_GO);
    herd_limiter_release(&l, &t, HERD_LIMITER_SUCCESS, S + 1);
    cr_assert_eq(herd_limiter_limit(&l), 45);
    struct herd_limiter_stats st;
    herd_limiter_stats(&l, &st);
    cr_assert_eq(st.timeouts, 1);
    cr_assert_eq(st.successes, 0);
    herd_limiter_fini(&l);
}

/* Drive Gradient2 in batches: each batch fills the limit at `t`, all answer after `rtt`,
 * one batch per 1 s window. Returns the limit after the batch. */
static uint32_t g2_batch(struct herd_limiter *l, int64_t *t, int64_t rtt)
{
    static struct herd_limiter_token tok[256];
    int n = 0;
    while (n < 256 && herd_limiter_acquire(l, *t, &tok[n]) == HERD_LIMITER_GO)
        n++;
    for (int i = 0; i < n; i++)
        herd_limiter_release(l, &tok[i], HERD_LIMITER_SUCCESS, *t + rtt);
    *t += S;
    return herd_limiter_limit(l);
}

Test(limiter, gradient2_falls_when_rtt_doubles_and_recovers)
{
    struct herd_limiter l;
    mk(&l, HERD_LIMITER_GRADIENT2, 50, 5, 200);
    int64_t t = S;
    uint32_t lim = 0, prev;
    for (int i = 0; i < 60; i++) /* steady 10 ms: gradient 1, grows by queue·smoothing */
        lim = g2_batch(&l, &t, 10 * MS);
    uint32_t steady = lim;
    cr_assert_gt(steady, 50, "a busy, steady service lets the limit grow (%u)", steady);
    /* RTT doubles: gradient 1.5 · 10 / 20 = 0.75, the limit falls every window (a
     * window closes at its first sample past its end, so the first slow batch still
     * closes a window of fast samples: one window of lag) */
    lim = g2_batch(&l, &t, 20 * MS);
    prev = lim;
    for (int i = 0; i < 10; i++) {
        lim = g2_batch(&l, &t, 20 * MS);
        cr_assert_lt(lim, prev, "window %d: %u then %u", i, prev, lim);
        prev = lim;
    }
    cr_assert_lt(lim, steady * 3 / 4, "after 10 slow windows %u vs %u", lim, steady);
    uint32_t low = lim;
    /* RTT back to 10 ms: gradient min(1, 1.5·long/short) = 1, the limit climbs back past
     * where it was, never falling on the way */
    int w = 0;
    g2_batch(&l, &t, 10 * MS);
    while (lim < steady && w < 200) {
        uint32_t before = lim;
        lim = g2_batch(&l, &t, 10 * MS);
        cr_assert_geq(lim, before);
        w++;
    }
    cr_assert_geq(lim, steady, "recovered to %u from %u in %d windows (was %u)", lim, low, w,
                  steady);
    herd_limiter_fini(&l);
}

/* Cache hits (RTT below 100 µs) interleaved with real samples change nothing: the twin
 * that never saw them ends with the same limit, for both algorithms. */
Test(limiter, near_zero_latencies_do_not_move_the_limit)
{
    for (int algo = 0; algo < 2; algo++) {
        struct herd_limiter a, b;
        mk(&a, (enum herd_limiter_algo)algo, 40, 5, 200);
        mk(&b, (enum herd_limiter_algo)algo, 40, 5, 200);
        int64_t t = S;
        uint64_t hits = 0;
        for (int w = 0; w < 40; w++) {
            int64_t rtt = (w / 10) % 2 ? 20 * MS : 10 * MS;
            int64_t t0 = t;
            g2_batch(&a, &t, rtt);
            t = t0;
            g2_batch(&b, &t, rtt);
            /* bursts of cache hits on b only, between windows, filling the limit (so an
             * AIMD that counted them would not be app-limited) */
            static struct herd_limiter_token h[256];
            for (int k = 0; k < 5; k++) {
                int64_t at = t - S / 2 + k * MS;
                int n = 0;
                while (n < 256 && herd_limiter_acquire(&b, at, &h[n]) == HERD_LIMITER_GO)
                    n++;
                cr_assert_gt(n, 0);
                hits += (uint64_t)n;
                for (int i = 0; i < n; i++)
                    herd_limiter_release(&b, &h[i], HERD_LIMITER_SUCCESS, at + 50000);
            }
            cr_assert_eq(herd_limiter_limit(&a), herd_limiter_limit(&b), "algo %d window %d", algo,
                         w);
        }
        struct herd_limiter_stats st;
        herd_limiter_stats(&b, &st);
        cr_assert_eq(st.fast, hits);
        herd_limiter_fini(&a);
        herd_limiter_fini(&b);
    }
}

/* Why the floor matters: without it (min_rtt_ns < 0), 1 µs cache hits mixed into the
 * windows drag Gradient2's long RTT down to ~5 ms; when traffic is back to plain 10 ms
 * requests, 10 ms looks like queueing (gradient 0.75) and the limit falls for nothing.
 * With the floor the same traffic leaves the limit growing. */
Test(limiter, near_zero_latencies_would_move_it_without_the_floor)
{
    struct herd_limiter a, b;
    struct herd_limiter_config c = {
        .algo = HERD_LIMITER_GRADIENT2, .initial_limit = 40, .min_limit = 5, .max_limit = 200};
    cr_assert_eq(herd_limiter_init(&a, &c), 0);
    c.min_rtt_ns = -1;
    cr_assert_eq(herd_limiter_init(&b, &c), 0);
    int64_t ta = S, tb = S;
    uint32_t la = 0, lb = 0;
    for (int w = 0; w < 30; w++) {
        int64_t rtt = (w < 20 && w % 2) ? 1000 : 10 * MS;
        la = g2_batch(&a, &ta, rtt);
        lb = g2_batch(&b, &tb, rtt);
        if (w == 19)
            cr_assert_eq(la, lb); /* so far both saw gradient 1 */
    }
    cr_assert_gt(la, 50);
    cr_assert_lt(lb, 40, "without the floor the limit fell to %u (with it: %u)", lb, la);
    herd_limiter_fini(&a);
    herd_limiter_fini(&b);
}

Test(limiter, ignore_frees_the_slot_and_nothing_else)
{
    struct herd_limiter l;
    mk(&l, HERD_LIMITER_AIMD, 3, 1, 10);
    struct herd_limiter_token t[4];
    for (int round = 0; round < 100; round++) {
        for (int i = 0; i < 3; i++)
            cr_assert_eq(herd_limiter_acquire(&l, round * S, &t[i]), HERD_LIMITER_GO);
        cr_assert_eq(herd_limiter_acquire(&l, round * S, &t[3]), HERD_LIMITER_LIMIT);
        for (int i = 0; i < 3; i++)
            herd_limiter_release(&l, &t[i], HERD_LIMITER_IGNORE, round * S + 10 * MS);
    }
    cr_assert_eq(herd_limiter_limit(&l), 3);
    cr_assert_eq(herd_limiter_inflight(&l), 0);
    herd_limiter_fini(&l);
}

Test(limiter, gradient2_drop_cuts_and_timeout_feeds_no_rtt)
{
    struct herd_limiter l;
    mk(&l, HERD_LIMITER_GRADIENT2, 100, 5, 200);
    struct herd_limiter_token t;
    cr_assert_eq(herd_limiter_acquire(&l, 0, &t), HERD_LIMITER_GO);
    herd_limiter_release(&l, &t, HERD_LIMITER_DROPPED, MS);
    cr_assert_eq(herd_limiter_limit(&l), 90);
    /* Timeouts after 30 s never enter the window: no window closes on them */
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(herd_limiter_acquire(&l, i * S, &t), HERD_LIMITER_GO);
        herd_limiter_release(&l, &t, HERD_LIMITER_TIMEOUT, i * S + 30 * S);
    }
    struct herd_limiter_stats st;
    herd_limiter_stats(&l, &st);
    cr_assert_eq(st.windows, 0);
    cr_assert_eq(st.successes, 0);
    herd_limiter_fini(&l);
}
