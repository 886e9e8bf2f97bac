/* test_hedge.c — herd/hedge.h on a fake clock: the order and counting of the reasons,
 * fixed and percentile delays (within the histogram's documented 12.5 %), adaptation,
 * and the budget shared with retries (hedging stops when retries have spent it).
 *
 * Percentile inputs are deterministic lists (no randomness), so the expected
 * percentile is exact and the only tolerance is the histogram's bucket width: the
 * delay must lie in [true, true x 1.125].
 */
#include <criterion/criterion.h>
#include <herd/budget.h>
#include <herd/clock.h>
#include <herd/error.h>
#include <herd/hedge.h>
#include <stdlib.h>

#include "torture.h"

#define MS HERD_NS_PER_MS
#define US HERD_NS_PER_US

static struct herd_hedge *make(double pct, int64_t delay, struct herd_budget *budget)
{
    struct herd_hedge_config cfg;
    herd_hedge_defaults(&cfg);
    cfg.percentile = pct;
    cfg.delay_ns = delay;
    cfg.min_delay_ns = 0;
    cfg.budget = budget;
    struct herd_hedge *h = NULL;
    cr_assert_eq(herd_hedge_new(&cfg, &h), 0);
    return h;
}

static struct herd_hedge_stats hstats(struct herd_hedge *h)
{
    struct herd_hedge_stats st;
    herd_hedge_stats(h, &st);
    return st;
}

Test(hedge, reasons_in_order_and_counted)
{
    struct herd_budget_config bc;
    herd_budget_defaults(&bc, HERD_BUDGET_ENVOY);
    bc.envoy.min_concurrency = 1;
    struct herd_budget *b = NULL;
    cr_assert_eq(herd_budget_new(&bc, 0, &b), 0);
    struct herd_hedge *h = make(0, 10 * MS, b);
    struct herd_budget_ticket t = {.cost = 99}, t2;

    herd_hedge_set_enabled(h, false);
    cr_assert_eq(herd_hedge_decide(h, true, 0, 0, 20 * MS, &t), HERD_HEDGE_DISABLED);
    herd_hedge_set_enabled(h, true);
    cr_assert_eq(herd_hedge_decide(h, false, 0, 0, 20 * MS, &t), HERD_HEDGE_NOT_IDEMPOTENT);
    cr_assert_eq(herd_hedge_decide(h, true, 1, 0, 20 * MS, &t), HERD_HEDGE_LIMIT);
    cr_assert_eq(herd_hedge_decide(h, true, 0, 0, 10 * MS - 1, &t), HERD_HEDGE_TOO_EARLY);
    cr_assert_eq(t.cost, 99, "ticket untouched on a refusal");
    /* None of the refusals above took from the budget. */
    struct herd_budget_stats bs;
    herd_budget_stats(b, 0, &bs);
    cr_assert_eq(bs.in_flight, 0);
    cr_assert_eq(bs.hedges + bs.rejected_hedges, 0);

    cr_assert_eq(herd_hedge_decide(h, true, 0, 0, 10 * MS, &t), HERD_HEDGE_GO);
    cr_assert_eq(herd_hedge_decide(h, true, 0, 0, 10 * MS, &t2), HERD_HEDGE_BUDGET);
    herd_hedge_done(h, &t, HERD_BUDGET_CANCELED, 12 * MS);
    cr_assert_eq(herd_hedge_decide(h, true, 0, 0, 12 * MS, &t2), HERD_HEDGE_GO);
    herd_hedge_done(h, &t2, HERD_BUDGET_SUCCESS, 13 * MS);

    struct herd_hedge_stats st = hstats(h);
    cr_assert_eq(st.hedged, 2);
    for (int r = HERD_HEDGE_DISABLED; r < HERD_HEDGE_NREASONS; r++)
        cr_assert_eq(st.rejected[r], 1, "reason %s counted %llu", herd_hedge_reason_name(r),
                     (unsigned long long)st.rejected[r]);
    herd_budget_stats(b, 0, &bs);
    cr_assert_eq(bs.hedges, 2);
    cr_assert_eq(bs.rejected_hedges, 1);
    cr_assert_eq(bs.in_flight, 0);
    herd_hedge_free(h);
    herd_budget_free(b);
}

Test(hedge, fixed_delay_and_due_times)
{
    struct herd_hedge_config cfg;
    herd_hedge_defaults(&cfg);
    cfg.percentile = 0;
    cfg.delay_ns = 7 * MS;
    cfg.min_delay_ns = 0;
    cfg.max_hedges = 3;
    struct herd_hedge *h = NULL;
    cr_assert_eq(herd_hedge_new(&cfg, &h), 0);
    for (int i = 0; i < 1000; i++)
        herd_hedge_record(h, 50 * MS); /* ignored by a fixed delay */
    cr_assert_eq(herd_hedge_delay(h), 7 * MS);
    const int64_t sent = 5000 * MS;
    struct herd_budget_ticket t;
    for (uint32_t k = 0; k < 3; k++) {
        int64_t due = sent + (int64_t)(k + 1) * 7 * MS;
        cr_assert_eq(herd_hedge_due(h, sent, k), due);
        cr_assert_eq(herd_hedge_decide(h, true, k, sent, due - 1, &t), HERD_HEDGE_TOO_EARLY);
        cr_assert_eq(herd_hedge_decide(h, true, k, sent, due, &t), HERD_HEDGE_GO);
        herd_hedge_done(h, &t, HERD_BUDGET_CANCELED, due); /* no budget: a no-op */
    }
    cr_assert_eq(herd_hedge_decide(h, true, 3, sent, sent + 100 * MS, &t), HERD_HEDGE_LIMIT);
    cr_assert_eq(hstats(h).samples, 1000);
    herd_hedge_free(h);
}

Test(hedge, percentile_within_bucket_width)
{
    /* Latencies 1 us, 2 us, ..., 1000 us: the p95 is exactly 950 us (rank 950). */
    struct herd_hedge *h = make(95.0, 10 * MS, NULL);
    for (int i = 1; i <= 1000; i++) {
        herd_hedge_record(h, i * US);
        if (i < 100)
            cr_assert_eq(herd_hedge_delay(h), 10 * MS, "fixed until min_samples");
    }
    int64_t d = herd_hedge_delay(h);
    cr_assert(d >= 950 * US && d <= 950 * US * 9 / 8, "p95 delay %lld", (long long)d);
    herd_hedge_free(h);

    /* Property over many magnitudes: n copies of v give a p99 in [v, v x 1.125]. */
    for (int64_t v = 1; v < (INT64_C(1) << 40); v = v * 3 + 1) {
        h = make(99.0, 1, NULL);
        for (int i = 0; i < 200; i++)
            herd_hedge_record(h, v);
        d = herd_hedge_delay(h);
        cr_assert(d >= v && (double)d <= (double)v * 1.125, "v %lld: %lld", (long long)v,
                  (long long)d);
        herd_hedge_free(h);
    }
}

Test(hedge, min_delay_floor)
{
    struct herd_hedge_config cfg;
    herd_hedge_defaults(&cfg);
    cfg.min_delay_ns = 2 * MS;
    struct herd_hedge *h = NULL;
    cr_assert_eq(herd_hedge_new(&cfg, &h), 0);
    for (int i = 0; i < 500; i++)
        herd_hedge_record(h, 10 * US);
    cr_assert_eq(herd_hedge_delay(h), 2 * MS);
    herd_hedge_free(h);
}

Test(hedge, follows_a_drifting_latency)
{
    /* The median, window 1024: the histogram halves every 1024 samples, so it holds
     * between 512 and 1024 samples' weight. 20 000 samples at 1 ms, then the service
     * slows to 10 ms: after 100 slow samples the old era still dominates (>= 512 vs
     * 100); after 3000 it has been halved at least 4 more times (weight <= 1024/16 =
     * 64 vs >= 448 of the new era). A histogram that never forgot would still say 1 ms
     * (20 000 vs 3000). */
    struct herd_hedge *h = make(50.0, 1, NULL);
    for (int i = 0; i < 20000; i++)
        herd_hedge_record(h, MS);
    int64_t d = herd_hedge_delay(h);
    cr_assert(d >= MS && d <= MS * 9 / 8);
    for (int i = 0; i < 100; i++)
        herd_hedge_record(h, 10 * MS);
    d = herd_hedge_delay(h);
    cr_assert(d >= MS && d <= MS * 9 / 8, "too forgetful: %lld", (long long)d);
    for (int i = 0; i < 2900; i++)
        herd_hedge_record(h, 10 * MS);
    d = herd_hedge_delay(h);
    cr_assert(d >= 10 * MS && d <= 10 * MS * 9 / 8, "after the drift: %lld", (long long)d);
    herd_hedge_free(h);
}

Test(hedge, budget_shared_with_retries_switches_hedging_off)
{
    /* gRPC A6 throttling shared by retries and hedges: 5 failed attempts (retries
     * included) leave 5 tokens, and from then on neither retries nor hedges go. */
    struct herd_budget_config bc;
    herd_budget_defaults(&bc, HERD_BUDGET_GRPC);
    struct herd_budget *b = NULL;
    cr_assert_eq(herd_budget_new(&bc, 0, &b), 0);
    struct herd_hedge *h = make(0, 10 * MS, b);
    struct herd_budget_ticket t;
    cr_assert_eq(herd_hedge_decide(h, true, 0, 0, 10 * MS, &t), HERD_HEDGE_GO);
    herd_hedge_done(h, &t, HERD_BUDGET_FAILURE, 11 * MS); /* 9 */
    for (int i = 0; i < 4; i++)
        herd_budget_record(b, HERD_BUDGET_FAILURE, 0); /* 5 */
    cr_assert_eq(herd_hedge_decide(h, true, 0, 0, 10 * MS, &t), HERD_HEDGE_BUDGET);
    herd_budget_record(b, HERD_BUDGET_SUCCESS, 0); /* 5.1 */
    cr_assert_eq(herd_hedge_decide(h, true, 0, 0, 10 * MS, &t), HERD_HEDGE_GO);
    herd_hedge_done(h, &t, HERD_BUDGET_CANCELED, 0);
    herd_hedge_free(h);
    herd_budget_free(b);

    /* AWS quota: retries spend it, and hedges find it empty. */
    herd_budget_defaults(&bc, HERD_BUDGET_AWS);
    cr_assert_eq(herd_budget_new(&bc, 0, &b), 0);
    h = make(0, 10 * MS, b);
    struct herd_budget_ticket r[100];
    for (int i = 0; i < 99; i++)
        cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY, 0, &r[i]), HERD_BUDGET_GO);
    cr_assert_eq(herd_hedge_decide(h, true, 0, 0, 10 * MS, &t), HERD_HEDGE_GO); /* last 5 */
    cr_assert_eq(herd_hedge_decide(h, true, 0, 0, 10 * MS, &r[99]), HERD_HEDGE_BUDGET);
    cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY, 0, &r[99]), HERD_BUDGET_QUOTA);
    herd_hedge_done(h, &t, HERD_BUDGET_SUCCESS, 0); /* the winning hedge refunds its 5 */
    struct herd_budget_stats bs;
    herd_budget_stats(b, 0, &bs);
    cr_assert_eq(bs.balance, 5);
    for (int i = 0; i < 99; i++)
        herd_budget_release(b, &r[i], HERD_BUDGET_CANCELED, 0);
    herd_hedge_free(h);
    herd_budget_free(b);
}

Test(hedge, invalid_configs)
{
    struct herd_hedge_config cfg;
    struct herd_hedge *h = NULL;
    herd_hedge_defaults(&cfg);
    cfg.percentile = 100;
    cr_assert_eq(herd_hedge_new(&cfg, &h), -HERD_EINVAL);
    herd_hedge_defaults(&cfg);
    cfg.max_hedges = 0;
    cr_assert_eq(herd_hedge_new(&cfg, &h), -HERD_EINVAL);
    herd_hedge_defaults(&cfg);
    cfg.delay_ns = -1;
    cr_assert_eq(herd_hedge_new(&cfg, &h), -HERD_EINVAL);
    cr_assert_null(h);
}

Test(hedge, allocation_failure_each_in_turn)
{
    for (int fail_at = 1;; fail_at++) {
        struct torture tt = {0, fail_at, 0};
        struct herd_allocator a = {torture_realloc, &tt};
        struct herd_hedge_config cfg;
        herd_hedge_defaults(&cfg);
        cfg.alloc = &a;
        struct herd_hedge *h = NULL;
        int rc = herd_hedge_new(&cfg, &h);
        if (rc == 0) {
            herd_hedge_free(h);
            cr_assert_eq(tt.live, 0);
            cr_assert_eq(tt.calls, 1, "one allocation at init");
            break;
        }
        cr_assert_eq(rc, -HERD_ENOMEM);
        cr_assert_null(h);
        cr_assert_eq(tt.live, 0, "leak after failing allocation %d", fail_at);
    }
}

Test(hedge, names)
{
    cr_assert_str_eq(herd_hedge_reason_name(HERD_HEDGE_NOT_IDEMPOTENT), "not_idempotent");
    cr_assert_str_eq(herd_hedge_reason_name(HERD_HEDGE_BUDGET), "budget");
    cr_assert_str_eq(herd_hedge_reason_name(42), "unknown");
}
