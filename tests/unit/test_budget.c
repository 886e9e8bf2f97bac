/* test_budget.c — herd/budget.h: the four models' published numbers pinned exactly, on a
 * fake clock (a plain int64 the test sets).
 *
 *   AWS      500 tokens / 5 per retry = exactly 100 retries, 50 after timeouts; a retry
 *            that succeeds refunds its own cost, a first-attempt success adds 1, cap 500.
 *   FINAGLE  with no traffic the reserve allows 10/s x 10 s = 100 retries; each request
 *            adds 0.2; deposits and withdrawals leave the window 10 s later (1 s buckets).
 *   GRPC     A6: max 10, failures 1-4 may retry, the 5th is throttled, one success
 *            (5 -> 5.1 tokens) re-enables, the count stays in [0, 10].
 *   ENVOY    retries in flight <= max(20 % of active, 3); a retry waiting in backoff
 *            holds its place until released.
 * Everything here is deterministic: no randomness, the clock is an argument.
 */
#include <criterion/criterion.h>
#include <herd/budget.h>
#include <herd/clock.h>
#include <herd/error.h>
#include <stdlib.h>

#include "torture.h"

#define S HERD_NS_PER_S
#define MS HERD_NS_PER_MS

static struct herd_budget *make(enum herd_budget_model model, int64_t now)
{
    struct herd_budget_config cfg;
    herd_budget_defaults(&cfg, model);
    struct herd_budget *b = NULL;
    cr_assert_eq(herd_budget_new(&cfg, now, &b), 0);
    cr_assert_not_null(b);
    return b;
}

static struct herd_budget_stats stats(struct herd_budget *b, int64_t now)
{
    struct herd_budget_stats st;
    herd_budget_stats(b, now, &st);
    return st;
}

Test(budget, aws_quota_pinned)
{
    struct herd_budget *b = make(HERD_BUDGET_AWS, 0);
    struct herd_budget_ticket t[200];
    for (int i = 0; i < 100; i++)
        cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY, 0, &t[i]), HERD_BUDGET_GO, "retry %d",
                     i + 1);
    struct herd_budget_ticket x = {.cost = 77};
    cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY, 0, &x), HERD_BUDGET_QUOTA);
    cr_assert_eq(x.cost, 77, "ticket not written on a reject");
    struct herd_budget_stats st = stats(b, 0);
    cr_assert_eq(st.balance, 0);
    cr_assert_eq(st.retries, 100);
    cr_assert_eq(st.rejected[HERD_BUDGET_QUOTA], 1);
    cr_assert_eq(st.in_flight, 100);

    /* A failed retry refunds nothing; a successful one refunds exactly its cost. */
    herd_budget_release(b, &t[0], HERD_BUDGET_FAILURE, 0);
    cr_assert_eq(stats(b, 0).balance, 0);
    herd_budget_release(b, &t[1], HERD_BUDGET_SUCCESS, 0);
    cr_assert_eq(stats(b, 0).balance, 5);
    /* 5 tokens: a timeout retry (10) is refused, an ordinary one (5) granted. */
    cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY_TIMEOUT, 0, &x), HERD_BUDGET_QUOTA);
    cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY, 0, &x), HERD_BUDGET_GO);
    cr_assert_eq(stats(b, 0).balance, 0);
    herd_budget_release(b, &x, HERD_BUDGET_CANCELED, 0);
    /* First-attempt successes add 1 each. */
    for (int i = 0; i < 7; i++)
        herd_budget_record(b, HERD_BUDGET_SUCCESS, 0);
    herd_budget_record(b, HERD_BUDGET_FAILURE, 0); /* no effect on the AWS quota */
    cr_assert_eq(stats(b, 0).balance, 7);
    for (int i = 2; i < 100; i++)
        herd_budget_release(b, &t[i], HERD_BUDGET_SUCCESS, 0);
    cr_assert_eq(stats(b, 0).balance, 7 + 98 * 5);
    cr_assert_eq(stats(b, 0).in_flight, 0);
    /* Capacity caps the refunds: 497 + 5 + 1 ... never above 500. */
    for (int i = 0; i < 10; i++)
        herd_budget_record(b, HERD_BUDGET_SUCCESS, 0);
    cr_assert_eq(stats(b, 0).balance, 500);
    herd_budget_free(b);

    /* Timeouts cost 10: exactly 50 from a full bucket. */
    b = make(HERD_BUDGET_AWS, 0);
    int granted = 0;
    while (herd_budget_decide(b, HERD_BUDGET_RETRY_TIMEOUT, 0, &x) == HERD_BUDGET_GO)
        granted++;
    cr_assert_eq(granted, 50);
    herd_budget_free(b);
}

Test(budget, aws_refund_is_only_the_successful_retry)
{
    /* One call: first attempt fails, retry 1 fails, retry 2 succeeds. The SDKs refund
     * retry 2's cost only: 500 - 5 - 5 + 5 = 495. */
    struct herd_budget *b = make(HERD_BUDGET_AWS, 0);
    struct herd_budget_ticket r1, r2;
    herd_budget_begin(b, 0);
    herd_budget_record(b, HERD_BUDGET_FAILURE, 0);
    cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY, 0, &r1), HERD_BUDGET_GO);
    herd_budget_release(b, &r1, HERD_BUDGET_FAILURE, 0);
    cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY, 0, &r2), HERD_BUDGET_GO);
    herd_budget_release(b, &r2, HERD_BUDGET_SUCCESS, 0);
    herd_budget_end(b, 0);
    cr_assert_eq(stats(b, 0).balance, 495);
    cr_assert_eq(stats(b, 0).active, 0);
    herd_budget_free(b);
}

Test(budget, grpc_a6_sequence_pinned)
{
    struct herd_budget *b = make(HERD_BUDGET_GRPC, 0);
    struct herd_budget_ticket t;
    cr_assert_eq(stats(b, 0).balance, 10000); /* starts at max_tokens, in thousandths */
    for (int f = 1; f <= 4; f++) {
        herd_budget_record(b, HERD_BUDGET_FAILURE, 0);
        cr_assert_eq(stats(b, 0).balance, (10 - f) * 1000);
        cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY, 0, &t), HERD_BUDGET_GO,
                     "failure %d may retry", f);
        herd_budget_release(b, &t, HERD_BUDGET_CANCELED, 0); /* no signal: count unchanged */
    }
    herd_budget_record(b, HERD_BUDGET_FAILURE, 0);
    cr_assert_eq(stats(b, 0).balance, 5000);
    cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY, 0, &t), HERD_BUDGET_THROTTLED,
                 "the 5th failure is throttled (5 is not > 10/2)");
    cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_HEDGE, 0, &t), HERD_BUDGET_THROTTLED,
                 "hedges stop with retries");
    herd_budget_record(b, HERD_BUDGET_SUCCESS, 0);
    cr_assert_eq(stats(b, 0).balance, 5100);
    cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY, 0, &t), HERD_BUDGET_GO,
                 "one success re-enables");
    /* The retry itself fails: its failure counts like any attempt's. */
    herd_budget_release(b, &t, HERD_BUDGET_FAILURE, 0);
    cr_assert_eq(stats(b, 0).balance, 4100);
    cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY, 0, &t), HERD_BUDGET_THROTTLED);
    /* It takes 10 successes of 0.1 to climb from 4.1 back above 5. */
    for (int i = 0; i < 9; i++)
        herd_budget_record(b, HERD_BUDGET_SUCCESS, 0);
    cr_assert_eq(stats(b, 0).balance, 5000);
    cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY, 0, &t), HERD_BUDGET_THROTTLED);
    herd_budget_record(b, HERD_BUDGET_SUCCESS, 0);
    cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY, 0, &t), HERD_BUDGET_GO);
    herd_budget_release(b, &t, HERD_BUDGET_SUCCESS, 0);
    /* Clamped to [0, max]. */
    for (int i = 0; i < 30; i++)
        herd_budget_record(b, HERD_BUDGET_TIMEOUT, 0);
    cr_assert_eq(stats(b, 0).balance, 0);
    for (int i = 0; i < 300; i++)
        herd_budget_record(b, HERD_BUDGET_SUCCESS, 0);
    cr_assert_eq(stats(b, 0).balance, 10000);
    struct herd_budget_stats st = stats(b, 0);
    cr_assert_eq(st.rejected[HERD_BUDGET_THROTTLED], 4);
    cr_assert_eq(st.rejected_hedges, 1);
    herd_budget_free(b);
}

Test(budget, finagle_reserve_and_ratio_pinned)
{
    const int64_t t0 = 1000 * S;
    struct herd_budget *b = make(HERD_BUDGET_FINAGLE, t0);
    struct herd_budget_ticket t;
    /* No traffic yet: the reserve, 10/s over 10 s, allows exactly 100. */
    cr_assert_eq(stats(b, t0).balance, 100);
    int granted = 0;
    while (herd_budget_decide(b, HERD_BUDGET_RETRY, t0, &t) == HERD_BUDGET_GO) {
        herd_budget_release(b, &t, HERD_BUDGET_FAILURE, t0);
        granted++;
    }
    cr_assert_eq(granted, 100);
    cr_assert_eq(stats(b, t0).rejected[HERD_BUDGET_RATIO], 1);
    /* 1000 requests earn 20 % more: 200. */
    for (int i = 0; i < 1000; i++) {
        herd_budget_begin(b, t0);
        herd_budget_end(b, t0);
    }
    granted = 0;
    while (herd_budget_decide(b, HERD_BUDGET_RETRY, t0, &t) == HERD_BUDGET_GO) {
        herd_budget_release(b, &t, HERD_BUDGET_FAILURE, t0);
        granted++;
    }
    cr_assert_eq(granted, 200);
    /* 4 requests earn 0.8 of a retry: nothing; the 5th makes one. */
    for (int i = 0; i < 4; i++)
        herd_budget_begin(b, t0);
    cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY, t0, &t), HERD_BUDGET_RATIO);
    herd_budget_begin(b, t0);
    cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY, t0, &t), HERD_BUDGET_GO);
    herd_budget_release(b, &t, HERD_BUDGET_SUCCESS, t0);
    /* Still inside the window 9.999 s later: everything spent is still spent. */
    cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY, t0 + 10 * S - 1, &t), HERD_BUDGET_RATIO);
    /* 10 s later the t0 bucket has left the window: deposits and withdrawals expire
     * together, and the reserve of 100 is back. */
    cr_assert_eq(stats(b, t0 + 10 * S).balance, 100);
    herd_budget_free(b);
}

Test(budget, finagle_window_is_time_bucketed)
{
    const int64_t t0 = 0;
    struct herd_budget_config cfg;
    herd_budget_defaults(&cfg, HERD_BUDGET_FINAGLE);
    cfg.finagle.min_per_s = 0; /* no reserve: only deposits count */
    struct herd_budget *b = NULL;
    cr_assert_eq(herd_budget_new(&cfg, t0, &b), 0);
    for (int i = 0; i < 50; i++)
        herd_budget_begin(b, t0); /* 10 retries' worth at t = 0 */
    for (int i = 0; i < 25; i++)
        herd_budget_begin(b, t0 + 5 * S); /* 5 more at t = 5 s */
    cr_assert_eq(stats(b, 5 * S).balance, 15);
    cr_assert_eq(stats(b, 10 * S - 1).balance, 15);
    cr_assert_eq(stats(b, 10 * S).balance, 5); /* the t = 0 bucket left */
    cr_assert_eq(stats(b, 15 * S).balance, 0); /* and the t = 5 s one */
    struct herd_budget_ticket t;
    cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY, 15 * S, &t), HERD_BUDGET_RATIO);
    /* A clock that steps back never counts a bucket twice. */
    herd_budget_begin(b, 3 * S);
    cr_assert_eq(stats(b, 15 * S).balance, 0); /* 0.2 of a retry, rounded down */
    herd_budget_free(b);
}

Test(budget, finagle_long_run_rate)
{
    /* 100 requests/s for 60 s, every request asks for one retry (a dead dependency).
     * Over the 10 s window at most reserve + 20 % of deposits can be withdrawn: 100 +
     * 200 = 300 per 10 s, i.e. 30/s in the long run. Because both deposits and
     * withdrawals leave the window in 1 s buckets, the grant rate over any whole 10 s
     * stays within [300 - 30, 300 + 30] (one bucket of slack on each side). */
    struct herd_budget *b = make(HERD_BUDGET_FINAGLE, 0);
    int64_t per_s[60] = {0};
    for (int ms = 0; ms < 60000; ms += 10) {
        int64_t now = (int64_t)ms * MS;
        struct herd_budget_ticket t;
        herd_budget_begin(b, now);
        if (herd_budget_decide(b, HERD_BUDGET_RETRY, now, &t) == HERD_BUDGET_GO) {
            per_s[ms / 1000]++;
            herd_budget_release(b, &t, HERD_BUDGET_FAILURE, now);
        }
        herd_budget_end(b, now);
    }
    for (int s0 = 10; s0 + 10 <= 60; s0++) {
        int64_t sum = 0;
        for (int s = s0; s < s0 + 10; s++)
            sum += per_s[s];
        cr_assert(sum >= 270 && sum <= 330, "10 s from %d s: %lld retries", s0, (long long)sum);
    }
    herd_budget_free(b);
}

Test(budget, envoy_concurrency_pinned)
{
    struct herd_budget *b = make(HERD_BUDGET_ENVOY, 0);
    struct herd_budget_ticket t[64];
    /* No active requests: the floor of 3. */
    for (int i = 0; i < 3; i++)
        cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY, 0, &t[i]), HERD_BUDGET_GO);
    cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY, 0, &t[3]), HERD_BUDGET_CONCURRENCY);
    /* A retry waiting in backoff still holds its place: time passes, nothing changes
     * until it is released. */
    cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY, 30 * S, &t[3]), HERD_BUDGET_CONCURRENCY);
    herd_budget_release(b, &t[0], HERD_BUDGET_FAILURE, 30 * S);
    cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY, 30 * S, &t[0]), HERD_BUDGET_GO);
    /* 20 % of active, floored, never under 3: 14 -> 3, 20 -> 4, 100 -> 20. */
    const struct {
        int active, cap;
    } table[] = {{14, 3}, {15, 3}, {19, 3}, {20, 4}, {24, 4}, {25, 5}, {100, 20}};
    int active = 0;
    for (size_t k = 0; k < sizeof table / sizeof table[0]; k++) {
        while (active < table[k].active) {
            herd_budget_begin(b, 0);
            active++;
        }
        struct herd_budget_stats st = stats(b, 0);
        cr_assert_eq(st.active, (uint32_t)table[k].active);
        int held = (int)st.in_flight;
        int extra = 0;
        while (herd_budget_decide(b, HERD_BUDGET_RETRY, 0, &t[held + extra]) == HERD_BUDGET_GO)
            extra++;
        cr_assert_eq(held + extra, table[k].cap, "active %d: cap %d, got %d", table[k].active,
                     table[k].cap, held + extra);
        cr_assert_eq(stats(b, 0).balance, 0);
    }
    cr_assert_eq(stats(b, 0).max_in_flight, 20);
    for (int i = 0; i < 20; i++)
        herd_budget_release(b, &t[i], HERD_BUDGET_SUCCESS, 0);
    cr_assert_eq(stats(b, 0).in_flight, 0);
    cr_assert_eq(stats(b, 0).balance, 20);
    herd_budget_free(b);
}

Test(budget, hedges_counted_apart)
{
    struct herd_budget *b = make(HERD_BUDGET_ENVOY, 0);
    struct herd_budget_ticket t[4];
    cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_HEDGE, 0, &t[0]), HERD_BUDGET_GO);
    cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY, 0, &t[1]), HERD_BUDGET_GO);
    cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY_TIMEOUT, 0, &t[2]), HERD_BUDGET_GO);
    cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_HEDGE, 0, &t[3]), HERD_BUDGET_CONCURRENCY);
    struct herd_budget_stats st = stats(b, 0);
    cr_assert_eq(st.hedges, 1);
    cr_assert_eq(st.retries, 2);
    cr_assert_eq(st.rejected[HERD_BUDGET_CONCURRENCY], 1);
    cr_assert_eq(st.rejected_hedges, 1);
    for (int i = 0; i < 3; i++)
        herd_budget_release(b, &t[i], HERD_BUDGET_CANCELED, 0);
    herd_budget_free(b);
}

Test(budget, invalid_configs)
{
    struct herd_budget_config cfg;
    struct herd_budget *b = (struct herd_budget *)0x1;
    herd_budget_defaults(&cfg, HERD_BUDGET_FINAGLE);
    cfg.finagle.window_ns = 500 * MS;
    cr_assert_eq(herd_budget_new(&cfg, 0, &b), -HERD_EINVAL);
    cr_assert_eq(b, (struct herd_budget *)0x1, "out-param untouched on failure");
    herd_budget_defaults(&cfg, HERD_BUDGET_GRPC);
    cfg.grpc.max_tokens = 0;
    cr_assert_eq(herd_budget_new(&cfg, 0, &b), -HERD_EINVAL);
    herd_budget_defaults(&cfg, HERD_BUDGET_ENVOY);
    cfg.envoy.percent = 101;
    cr_assert_eq(herd_budget_new(&cfg, 0, &b), -HERD_EINVAL);
    herd_budget_defaults(&cfg, HERD_BUDGET_AWS);
    cfg.aws.retry_cost = -1;
    cr_assert_eq(herd_budget_new(&cfg, 0, &b), -HERD_EINVAL);
    cfg.model = (enum herd_budget_model)9;
    cr_assert_eq(herd_budget_new(&cfg, 0, &b), -HERD_EINVAL);
}

Test(budget, allocation_failure_each_in_turn)
{
    for (int model = HERD_BUDGET_AWS; model <= HERD_BUDGET_ENVOY; model++) {
        int allocs = 0;
        for (int fail_at = 1;; fail_at++) {
            struct torture tt = {0, fail_at, 0};
            struct herd_allocator a = {torture_realloc, &tt};
            struct herd_budget_config cfg;
            herd_budget_defaults(&cfg, (enum herd_budget_model)model);
            cfg.alloc = &a;
            struct herd_budget *b = NULL;
            int rc = herd_budget_new(&cfg, 0, &b);
            if (rc == 0) {
                herd_budget_free(b);
                cr_assert_eq(tt.live, 0);
                allocs = tt.calls;
                break;
            }
            cr_assert_eq(rc, -HERD_ENOMEM);
            cr_assert_null(b);
            cr_assert_eq(tt.live, 0, "leak after failing allocation %d", fail_at);
        }
        cr_assert_eq(allocs, 1, "one allocation at init");
    }
}

Test(budget, names)
{
    cr_assert_str_eq(herd_budget_model_name(HERD_BUDGET_GRPC), "grpc");
    cr_assert_str_eq(herd_budget_reason_name(HERD_BUDGET_CONCURRENCY), "concurrency");
    cr_assert_str_eq(herd_budget_reason_name(HERD_BUDGET_GO), "go");
    cr_assert_str_eq(herd_budget_reason_name(99), "unknown");
}
