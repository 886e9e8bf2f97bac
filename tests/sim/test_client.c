/* test_client.c — the client fleet component (src/sim/client.h) and the network hop (hop.h).
 *
 * A tiny "server" answers every attempt after a fixed delay (or never, or with a
 * failure) and records when each attempt was sent; the tests check the arrival modes
 * (triggered with skew, periodic with phase, open Poisson, closed loop), timeouts (the
 * timer of an answered attempt never fires, late replies are counted), and the retry
 * policy (backoff bounds, the budget's cap, the breaker's rejects). Fixed seeds: the
 * statistical checks have tolerances of several standard errors and never flake.
 */
#include <criterion/criterion.h>
#include <herd/error.h>
#include <herd/jitter.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/sim/client.h"
#include "../../src/sim/engine.h"
#include "../../src/sim/hop.h"

#define MAXLOG 200000

enum answer { ANSWER_OK, ANSWER_FAIL, ANSWER_NEVER, ANSWER_ODD_NEVER };

struct server {
    struct herd_client_fleet *fl;
    enum answer answer;
    int64_t delay_ns;
    long nsend;
    int64_t *send_t; /* MAXLOG */
    uint32_t *send_c;
    uint32_t *send_attempt;
    long ndone;
    int64_t lat_sum;
    long outcome[4];
    int64_t last_done_t;
};

static void on_answer(struct herd_sim *sim, void *ctx, uint64_t tag)
{
    struct server *s = ctx;
    (void)sim;
    herd_client_reply(s->fl, tag, s->answer == ANSWER_FAIL ? -HERD_EREJECT : 0);
}

static void srv_send(struct herd_sim *sim, void *ctx, uint32_t client, uint64_t tag)
{
    struct server *s = ctx;
    if (s->nsend < MAXLOG) {
        s->send_t[s->nsend] = herd_sim_now(sim);
        s->send_c[s->nsend] = client;
        s->send_attempt[s->nsend] = herd_client_attempt(s->fl, client);
    }
    s->nsend++;
    if (s->answer == ANSWER_NEVER || (s->answer == ANSWER_ODD_NEVER && client % 2))
        return;
    herd_sim_after(sim, s->delay_ns, on_answer, s, tag, NULL);
}

static void srv_done(struct herd_sim *sim, void *ctx, uint32_t client, enum herd_client_outcome out,
                     int64_t latency_ns)
{
    struct server *s = ctx;
    (void)client;
    s->ndone++;
    s->lat_sum += latency_ns;
    s->outcome[out]++;
    s->last_done_t = herd_sim_now(sim);
}

struct rig {
    struct herd_sim sim;
    struct herd_client_fleet fl;
    struct server srv;
};

static struct rig *rig_new(struct herd_client_config *cfg, enum answer a, int64_t delay_ns)
{
    struct rig *g = calloc(1, sizeof *g);
    cr_assert_not_null(g);
    cr_assert_eq(herd_sim_init(&g->sim, 42), 0);
    g->srv.answer = a;
    g->srv.delay_ns = delay_ns;
    g->srv.send_t = calloc(MAXLOG, sizeof *g->srv.send_t);
    g->srv.send_c = calloc(MAXLOG, sizeof *g->srv.send_c);
    g->srv.send_attempt = calloc(MAXLOG, sizeof *g->srv.send_attempt);
    g->srv.fl = &g->fl;
    cfg->send = srv_send;
    cfg->done = srv_done;
    cfg->ctx = &g->srv;
    cr_assert_eq(herd_client_init(&g->fl, &g->sim, cfg), 0);
    return g;
}

static void rig_free(struct rig *g)
{
    herd_client_fini(&g->fl);
    herd_sim_fini(&g->sim);
    free(g->srv.send_t);
    free(g->srv.send_c);
    free(g->srv.send_attempt);
    free(g);
}

Test(client, triggered_with_skew)
{
    struct herd_client_config cfg = {
        .arrival = HERD_CLIENT_TRIGGERED, .n = 20000, .skew_sd_ns = 1e6};
    struct rig *g = rig_new(&cfg, ANSWER_OK, 1000);
    int64_t t0 = 100 * 1000000;
    cr_assert_eq(herd_client_trigger(&g->fl, t0), 0);
    cr_assert_eq(herd_sim_run_until(&g->sim, HERD_SIM_FOREVER), 0);
    struct server *s = &g->srv;
    cr_assert_eq(s->nsend, 20000);
    cr_assert_eq(s->ndone, 20000);
    cr_assert_eq(s->outcome[HERD_CLIENT_OK], 20000);
    /* Everyone fires when its own clock reads t0: at true time t0 - skew, in time order. */
    double sum = 0, ss = 0;
    for (long k = 0; k < s->nsend; k++) {
        uint32_t i = s->send_c[k];
        cr_assert_eq(s->send_t[k], t0 - herd_client_skew(&g->fl, i));
        if (k)
            cr_assert_geq(s->send_t[k], s->send_t[k - 1]);
        double d = (double)(s->send_t[k] - t0);
        sum += d;
        ss += d * d;
    }
    double mean = sum / 20000, sd = sqrt(ss / 20000 - mean * mean);
    /* se of the mean 1 ms / sqrt(20000) = 7 µs; of the sd ~5 µs. */
    cr_assert_lt(fabs(mean), 40e3, "mean skew %.0f ns", mean);
    cr_assert_float_eq(sd, 1e6, 0.03e6, "skew sd %.0f ns", sd);
    /* The skew is a fixed property of the client: a second trigger repeats it. */
    cr_assert_eq(herd_client_skew(&g->fl, 7), herd_client_skew(&g->fl, 7));
    cr_assert_eq(s->lat_sum, 20000 * 1000); /* latency from each client's own firing */
    cr_assert_eq(herd_client_stats(&g->fl)->in_flight, 0);
    rig_free(g);
}

Test(client, triggered_jitter_and_splay_offsets)
{
    struct herd_client_config cfg = {.arrival = HERD_CLIENT_TRIGGERED,
                                     .n = 1000,
                                     .offset = HERD_CLIENT_OFFSET_SPLAY,
                                     .window_ns = 500000000,
                                     .splay_prefix = "cron-client-",
                                     .splay_salt = 9};
    struct rig *g = rig_new(&cfg, ANSWER_OK, 1000);
    cr_assert_eq(herd_client_trigger(&g->fl, 0), 0);
    cr_assert_eq(herd_sim_run_until(&g->sim, HERD_SIM_FOREVER), 0);
    for (long k = 0; k < g->srv.nsend; k++) {
        char name[32];
        int len = snprintf(name, sizeof name, "cron-client-%u", g->srv.send_c[k]);
        cr_assert_eq(g->srv.send_t[k], herd_jitter_splay(name, (size_t)len, 500000000, 9));
    }
    rig_free(g);

    cfg.offset = HERD_CLIENT_OFFSET_JITTER;
    g = rig_new(&cfg, ANSWER_OK, 1000);
    cr_assert_eq(herd_client_trigger(&g->fl, 0), 0);
    cr_assert_eq(herd_sim_run_until(&g->sim, HERD_SIM_FOREVER), 0);
    /* Client i's offset is the first herd_jitter_window draw of its own stream i. */
    for (long k = 0; k < g->srv.nsend; k++) {
        struct herd_rng r;
        herd_sim_rng(&g->sim, g->srv.send_c[k], &r);
        cr_assert_eq(g->srv.send_t[k], herd_jitter_window(500000000, &r));
    }
    rig_free(g);
}

/* Firings come out in (time, client) order whatever the span of the times (the trigger
 * sorts packed keys in 2 to 6 radix passes: both parities are covered here). */
Test(client, triggered_order)
{
    int64_t windows[] = {0, 1000000, 300LL * 1000000000, 1000LL * 1000000000};
    for (int w = 0; w < 4; w++) {
        struct herd_client_config cfg = {.arrival = HERD_CLIENT_TRIGGERED,
                                         .n = 5000,
                                         .offset = w ? HERD_CLIENT_OFFSET_JITTER
                                                     : HERD_CLIENT_OFFSET_NONE,
                                         .window_ns = windows[w]};
        struct rig *g = rig_new(&cfg, ANSWER_OK, 1);
        cr_assert_eq(herd_client_trigger(&g->fl, 0), 0);
        cr_assert_eq(herd_sim_run_until(&g->sim, HERD_SIM_FOREVER), 0);
        cr_assert_eq(g->srv.nsend, 5000);
        for (long k = 1; k < g->srv.nsend; k++) {
            int64_t a = g->srv.send_t[k - 1], b = g->srv.send_t[k];
            cr_assert(a < b || (a == b && g->srv.send_c[k - 1] < g->srv.send_c[k]),
                      "window %lld: firing %ld out of order", (long long)windows[w], k);
        }
        rig_free(g);
    }
}

Test(client, periodic_with_phase)
{
    int64_t period = 100 * 1000000;
    struct herd_client_config cfg = {.arrival = HERD_CLIENT_PERIODIC,
                                     .n = 50,
                                     .period_ns = period,
                                     .offset = HERD_CLIENT_OFFSET_SPLAY,
                                     .window_ns = period,
                                     .splay_prefix = "host-",
                                     .splay_salt = 1};
    struct rig *g = rig_new(&cfg, ANSWER_OK, 1000000);
    cr_assert_eq(herd_client_start(&g->fl, 0, 10 * period - 1), 0);
    cr_assert_eq(herd_sim_run_until(&g->sim, HERD_SIM_FOREVER), 0);
    struct server *s = &g->srv;
    cr_assert_eq(s->nsend, 50 * 10, "each client fires once per period: %ld", s->nsend);
    /* Every firing of client i is at its own phase within the period. */
    for (long k = 0; k < s->nsend; k++) {
        char name[16];
        int len = snprintf(name, sizeof name, "host-%u", s->send_c[k]);
        int64_t phase = herd_jitter_splay(name, (size_t)len, period, 1);
        cr_assert_eq(s->send_t[k] % period, phase);
    }
    cr_assert_eq(herd_client_stats(&g->fl)->skipped, 0);
    rig_free(g);

    /* A server slower than the period: firings that find the client busy are skipped. */
    cfg.offset = HERD_CLIENT_OFFSET_NONE;
    g = rig_new(&cfg, ANSWER_OK, period + period / 2);
    cr_assert_eq(herd_client_start(&g->fl, 0, 10 * period - 1), 0);
    cr_assert_eq(herd_sim_run_until(&g->sim, HERD_SIM_FOREVER), 0);
    cr_assert_eq(herd_client_stats(&g->fl)->skipped, 50 * 5);
    cr_assert_eq(g->srv.nsend, 50 * 5);
    rig_free(g);
}

Test(client, poisson_rate)
{
    struct herd_client_config cfg = {.arrival = HERD_CLIENT_POISSON, .n = 1000, .rate_per_s = 2000};
    struct rig *g = rig_new(&cfg, ANSWER_OK, 1000000); /* 1 ms: ~2 open at a time */
    int64_t dur = 50LL * 1000000000;
    cr_assert_eq(herd_client_start(&g->fl, 0, dur), 0);
    cr_assert_eq(herd_sim_run_until(&g->sim, HERD_SIM_FOREVER), 0);
    double expect = 2000.0 * 50; /* sd sqrt(1e5) = 316: 1.5 % is ~5 sd */
    cr_assert_float_eq((double)g->srv.nsend, expect, 0.015 * expect, "%ld arrivals", g->srv.nsend);
    cr_assert_eq(herd_client_stats(&g->fl)->overflow, 0);
    /* Gaps are exponential: their coefficient of variation is 1. */
    double m = 0, ss = 0;
    long n = g->srv.nsend < MAXLOG ? g->srv.nsend : MAXLOG;
    for (long k = 1; k < n; k++) {
        double d = (double)(g->srv.send_t[k] - g->srv.send_t[k - 1]);
        m += d;
        ss += d * d;
    }
    m /= (double)(n - 1);
    double cv = sqrt(ss / (double)(n - 1) - m * m) / m;
    cr_assert_float_eq(cv, 1.0, 0.03, "cv %.3f", cv);
    rig_free(g);

    /* Too few clients for the load: the surplus overflows instead of queueing. */
    cfg.n = 1;
    g = rig_new(&cfg, ANSWER_OK, 10000000); /* 10 ms each at 2000/s: most overflow */
    cr_assert_eq(herd_client_start(&g->fl, 0, 1000000000), 0);
    cr_assert_eq(herd_sim_run_until(&g->sim, HERD_SIM_FOREVER), 0);
    const struct herd_client_stats *st = herd_client_stats(&g->fl);
    cr_assert_leq(st->fired, 101);
    cr_assert_gt(st->overflow, 1500);
    rig_free(g);
}

Test(client, closed_loop)
{
    /* 10 clients, think Exp(10 ms), service 10 ms: each cycle averages 20 ms, so the
     * fleet completes 10 / 20 ms = 500 requests/s (Little's law, exact in the mean). */
    struct herd_client_config cfg = {.arrival = HERD_CLIENT_CLOSED, .n = 10, .think_ns = 10000000};
    struct rig *g = rig_new(&cfg, ANSWER_OK, 10000000);
    cr_assert_eq(herd_client_start(&g->fl, 0, 100LL * 1000000000), 0);
    cr_assert_eq(herd_sim_run_until(&g->sim, HERD_SIM_FOREVER), 0);
    double expect = 500.0 * 100; /* sd of the count ~ 0.5 % */
    cr_assert_float_eq((double)g->srv.ndone, expect, 0.02 * expect, "%ld done", g->srv.ndone);
    /* Never two requests of one client at once. */
    cr_assert_eq(herd_client_stats(&g->fl)->skipped, 0);
    cr_assert_eq(g->srv.lat_sum, g->srv.ndone * 10000000);
    rig_free(g);
}

Test(client, timeouts_cancelled_by_replies)
{
    struct herd_client_config cfg = {
        .arrival = HERD_CLIENT_TRIGGERED, .n = 1000, .timeout_ns = 5000000};
    /* Even clients are answered after 1 ms (their timer must never fire), odd ones never. */
    struct rig *g = rig_new(&cfg, ANSWER_ODD_NEVER, 1000000);
    cr_assert_eq(herd_client_trigger(&g->fl, 0), 0);
    cr_assert_eq(herd_sim_run_until(&g->sim, HERD_SIM_FOREVER), 0);
    const struct herd_client_stats *st = herd_client_stats(&g->fl);
    cr_assert_eq(st->timeouts, 500);
    cr_assert_eq(st->replies, 500);
    cr_assert_eq(st->done[HERD_CLIENT_OK], 500);
    cr_assert_eq(st->done[HERD_CLIENT_TIMEDOUT], 500);
    cr_assert_eq(g->srv.lat_sum, 500LL * 1000000 + 500LL * 5000000);
    /* Only the 500 timeouts that fired are events besides firings and answers. */
    cr_assert_eq(herd_sim_events(&g->sim), 1000 + 500 + 500);
    rig_free(g);

    /* Replies after the timeout are late: counted, ignored. */
    g = rig_new(&cfg, ANSWER_OK, 7000000);
    cr_assert_eq(herd_client_trigger(&g->fl, 0), 0);
    cr_assert_eq(herd_sim_run_until(&g->sim, HERD_SIM_FOREVER), 0);
    st = herd_client_stats(&g->fl);
    cr_assert_eq(st->timeouts, 1000);
    cr_assert_eq(st->late, 1000);
    cr_assert_eq(st->done[HERD_CLIENT_TIMEDOUT], 1000);
    rig_free(g);
}

Test(client, retries_honour_backoff_bounds)
{
    int64_t base = 10000000, cap = 80000000;
    struct herd_client_config cfg = {
        .arrival = HERD_CLIENT_TRIGGERED,
        .n = 2000,
        .backoff = {.kind = HERD_BACKOFF_FULL, .base_ns = base, .cap_ns = cap, .max_attempts = 5},
    };
    struct rig *g = rig_new(&cfg, ANSWER_FAIL, 1000000); /* every attempt fails after 1 ms */
    cr_assert_eq(herd_client_trigger(&g->fl, 0), 0);
    cr_assert_eq(herd_sim_run_until(&g->sim, HERD_SIM_FOREVER), 0);
    struct server *s = &g->srv;
    const struct herd_client_stats *st = herd_client_stats(&g->fl);
    cr_assert_eq(st->attempts, 2000 * 5);
    cr_assert_eq(st->retries, 2000 * 4);
    cr_assert_eq(st->done[HERD_CLIENT_FAILED], 2000);
    cr_assert_eq(st->backoff_gave_up, 2000);
    /* Per client, the wait after failure n (the reply, 1 ms after the send) lies in
     * [base, min(cap, base 2^n)] (herd/backoff.h's full jitter). */
    int64_t *last = calloc(2000, sizeof *last);
    double mean_wait[5] = {0};
    for (long k = 0; k < s->nsend; k++) {
        uint32_t i = s->send_c[k], a = s->send_attempt[k];
        if (a > 1) {
            int64_t wait = s->send_t[k] - (last[i] + 1000000);
            int64_t e = base << (a - 1);
            if (e > cap)
                e = cap;
            cr_assert(wait >= base && wait <= e, "attempt %u waited %lld not in [%lld, %lld]", a,
                      (long long)wait, (long long)base, (long long)e);
            mean_wait[a - 1] += (double)wait / 2000;
        }
        last[i] = s->send_t[k];
    }
    /* ... and is spread over that range (uniform: mean (base + e) / 2). */
    cr_assert_float_eq(mean_wait[1], (base + 2 * base) / 2.0, 0.05 * base);
    cr_assert_float_eq(mean_wait[4], (base + cap) / 2.0, 0.05 * cap);
    free(last);
    rig_free(g);
}

Test(client, budget_caps_retries)
{
    struct herd_budget_config bc;
    herd_budget_defaults(&bc, HERD_BUDGET_AWS); /* 500 tokens, a retry costs 5 */
    struct herd_budget *b;
    cr_assert_eq(herd_budget_new(&bc, 0, &b), 0);
    struct herd_client_config cfg = {
        .arrival = HERD_CLIENT_TRIGGERED,
        .n = 1000,
        .backoff = {.kind = HERD_BACKOFF_EXPONENTIAL, .base_ns = 1000000, .max_attempts = 3},
        .budget = b,
    };
    struct rig *g = rig_new(&cfg, ANSWER_FAIL, 1000000);
    cr_assert_eq(herd_client_trigger(&g->fl, 0), 0);
    cr_assert_eq(herd_sim_run_until(&g->sim, HERD_SIM_FOREVER), 0);
    const struct herd_client_stats *st = herd_client_stats(&g->fl);
    /* Without the budget: 2,000 retries. With it: the 500 tokens buy 100. */
    cr_assert_eq(st->retries, 100);
    cr_assert_eq(st->attempts, 1100);
    /* 900 denied at their first failure, the 100 that retried denied at their second. */
    cr_assert_eq(st->budget_denied, 1000);
    cr_assert_eq(st->done[HERD_CLIENT_FAILED], 1000);
    struct herd_budget_stats bs;
    herd_budget_stats(b, herd_sim_now(&g->sim), &bs);
    cr_assert_eq(bs.retries, 100);
    cr_assert_eq(bs.active, 0, "every request begun was ended");
    cr_assert_eq(bs.in_flight, 0, "every granted retry was released");
    rig_free(g);
    herd_budget_free(b);
}

Test(client, breaker_fails_fast)
{
    struct herd_breaker_config bc;
    herd_breaker_config_default(&bc); /* trips after 5 failures in a row, open 5 s */
    struct herd_breaker *br;
    cr_assert_eq(herd_breaker_new(&bc, &br), 0);
    struct herd_client_config cfg = {
        .arrival = HERD_CLIENT_TRIGGERED, .n = 1000, .skew_sd_ns = 1e6, .breaker = br};
    struct rig *g = rig_new(&cfg, ANSWER_FAIL, 1000000);
    cr_assert_eq(herd_client_trigger(&g->fl, 10000000), 0);
    cr_assert_eq(herd_sim_run_until(&g->sim, HERD_SIM_FOREVER), 0);
    const struct herd_client_stats *st = herd_client_stats(&g->fl);
    /* Attempts sent before the 5th failure came back (1 ms after the first send) go out;
     * after it, every firing is refused without reaching the server. */
    cr_assert_gt(st->breaker_rejects, 500);
    cr_assert_eq(st->attempts + st->breaker_rejects, 1000);
    cr_assert_eq((long)st->attempts, g->srv.nsend);
    cr_assert_eq(st->done[HERD_CLIENT_REJECTED], st->breaker_rejects);
    cr_assert_eq(herd_breaker_state(br), HERD_BREAKER_OPEN);
    rig_free(g);
    herd_breaker_free(br);
}

Test(client, memory_per_client)
{
    struct herd_client_config cfg = {.arrival = HERD_CLIENT_TRIGGERED, .n = 10};
    struct rig *g = rig_new(&cfg, ANSWER_OK, 1);
    cr_assert_eq(herd_client_bytes(&g->fl), 16, "core record only");
    rig_free(g);
    cfg.offset = HERD_CLIENT_OFFSET_JITTER;
    cfg.backoff = (struct herd_backoff_policy){
        .kind = HERD_BACKOFF_DECORRELATED, .base_ns = 1, .cap_ns = 10, .max_attempts = 3};
    g = rig_new(&cfg, ANSWER_OK, 1);
    /* record 16 + rng 32 + failures 2, one 64-byte line; decorrelated backoff's memory 8 */
    cr_assert_eq(herd_client_bytes(&g->fl), 64 + 8);
    rig_free(g);
    cfg.backoff.kind = HERD_BACKOFF_FULL;
    cfg.offset = HERD_CLIENT_OFFSET_NONE;
    cfg.user_bytes = 32; /* the model's bytes join the record, which then spans two lines */
    g = rig_new(&cfg, ANSWER_OK, 1);
    cr_assert_eq(herd_client_bytes(&g->fl), 128);
    cr_assert_eq((uintptr_t)herd_client_user(&g->fl, 1) - (uintptr_t)herd_client_user(&g->fl, 0),
                 128);
    rig_free(g);
    cfg.user_bytes = 33;
    struct herd_sim sim;
    struct herd_client_fleet fl;
    cr_assert_eq(herd_sim_init(&sim, 1), 0);
    cr_assert_eq(herd_client_init(&fl, &sim, &cfg), -HERD_EINVAL, "at most 32 model bytes");
    herd_sim_fini(&sim);
}

/* The network hop: each distribution has the mean it is asked for (and |Normal| folds). */
Test(client, hop_distributions)
{
    struct herd_hop h;
    struct herd_rng rng;
    herd_rng_stream(&rng, 7, 1);
    cr_assert_eq(herd_hop_init(&h, HERD_HOP_CONSTANT, 80000, 0), 0);
    cr_assert_eq(herd_hop_draw(&h, NULL), 80000);
    cr_assert_eq(herd_hop_init(&h, HERD_HOP_NORMAL, -1, 0), -HERD_EINVAL);
    enum herd_hop_dist d[] = {HERD_HOP_NORMAL, HERD_HOP_EXPONENTIAL, HERD_HOP_LOGNORMAL};
    double spread[] = {2e6, 0, 0.5};
    for (int k = 0; k < 3; k++) {
        cr_assert_eq(herd_hop_init(&h, d[k], 10000000, spread[k]), 0);
        double sum = 0;
        for (int i = 0; i < 200000; i++) {
            int64_t v = herd_hop_draw(&h, &rng);
            cr_assert_geq(v, 0);
            sum += (double)v;
        }
        /* se of the mean: at most 10 ms / sqrt(2e5) = 22 µs (exponential). */
        cr_assert_float_eq(sum / 200000, 1e7, 1.5e5, "%s mean %.0f", herd_hop_dist_name(d[k]),
                           sum / 200000);
    }
}
