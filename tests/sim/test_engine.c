/* test_engine.c — the engine: order, cancel, run_until semantics, traces, RNG streams,
 * and determinism (same seed, same event trace). */
#include <criterion/criterion.h>
#include <herd/error.h>
#include <herd/rng.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../src/sim/engine.h"

struct log {
    int64_t t[64];
    uint64_t a[64];
    int n;
};

static void rec(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct log *l = ctx;
    cr_assert_lt(l->n, 64);
    l->t[l->n] = herd_sim_now(sim);
    l->a[l->n++] = arg;
}

Test(engine, simultaneous_events_run_in_scheduling_order)
{
    struct herd_sim sim;
    cr_assert_eq(herd_sim_init(&sim, 1), 0);
    struct log l = {0};
    for (uint64_t i = 0; i < 10; i++)
        herd_sim_at(&sim, 1000 - (int64_t)(i % 2) * 500, rec, &l, i, NULL);
    cr_assert_eq(herd_sim_run_until(&sim, HERD_SIM_FOREVER), 0);
    cr_assert_eq(l.n, 10);
    uint64_t want[10] = {1, 3, 5, 7, 9, 0, 2, 4, 6, 8};
    for (int i = 0; i < 10; i++)
        cr_assert_eq(l.a[i], want[i], "position %d", i);
    cr_assert_eq(herd_sim_now(&sim), 1000, "FOREVER leaves now at the last event");
    cr_assert_eq(herd_sim_events(&sim), 10);
    herd_sim_fini(&sim);
}

Test(engine, run_until_and_cancel)
{
    struct herd_sim sim;
    cr_assert_eq(herd_sim_init(&sim, 1), 0);
    struct log l = {0};
    struct herd_sim_timer t1, t2, zero = {{0, 0}};
    herd_sim_at(&sim, 100, rec, &l, 1, &t1);
    herd_sim_at(&sim, 5000, rec, &l, 2, &t2);
    herd_sim_at(&sim, 200, rec, &l, 3, NULL);
    cr_assert_eq(herd_sim_cancel(&sim, &zero), -HERD_ENOENT);
    cr_assert_eq(herd_sim_cancel(&sim, &t1), 0);
    cr_assert_eq(herd_sim_cancel(&sim, &t1), -HERD_ENOENT, "a cancelled timer is zeroed");
    cr_assert_eq(herd_sim_pending(&sim), 2);
    cr_assert_eq(herd_sim_run_until(&sim, 1000), 0);
    cr_assert_eq(l.n, 1);
    cr_assert_eq(l.a[0], 3);
    cr_assert_eq(herd_sim_now(&sim), 1000, "now moves to until");
    int64_t next;
    cr_assert_eq(herd_sim_next_time(&sim, &next), 0);
    cr_assert_eq(next, 5000);
    /* Scheduling between until and the next event is legal. */
    herd_sim_after(&sim, 10, rec, &l, 4, NULL);
    cr_assert_eq(herd_sim_step(&sim), 0);
    cr_assert_eq(l.t[1], 1010);
    cr_assert_eq(herd_sim_run_until(&sim, HERD_SIM_FOREVER), 0);
    cr_assert_eq(l.n, 3);
    cr_assert_eq(herd_sim_cancel(&sim, &t2), -HERD_ENOENT, "already ran");
    cr_assert_eq(herd_sim_step(&sim), -HERD_ENOENT);
    herd_sim_fini(&sim);
}

static void stopper(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    (void)ctx;
    if (arg == 2)
        herd_sim_stop(sim);
}

Test(engine, stop_returns_after_the_current_event)
{
    struct herd_sim sim;
    cr_assert_eq(herd_sim_init(&sim, 1), 0);
    for (uint64_t i = 1; i <= 4; i++)
        herd_sim_at(&sim, (int64_t)i * 10, stopper, NULL, i, NULL);
    cr_assert_eq(herd_sim_run_until(&sim, 1000), 0);
    cr_assert_eq(herd_sim_now(&sim), 20);
    cr_assert_eq(herd_sim_pending(&sim), 2);
    cr_assert_eq(herd_sim_run_until(&sim, 1000), 0);
    cr_assert_eq(herd_sim_now(&sim), 1000);
    herd_sim_fini(&sim);
}

/* A small randomised model: N entities, each with its own stream, that schedule
 * themselves, set timeouts and cancel most of them. Its trace is the run. */
struct model {
    struct herd_sim *sim;
    struct herd_rng rng[64];
    struct herd_sim_timer timeout[64];
    uint64_t fired;
};

static void on_timeout(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    struct model *m = ctx;
    m->timeout[arg] = (struct herd_sim_timer){{0, 0}};
    m->fired++;
}

static void on_wake(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct model *m = ctx;
    struct herd_rng *r = &m->rng[arg];
    herd_sim_cancel(sim, &m->timeout[arg]);
    herd_sim_after(sim, (int64_t)herd_rng_below(r, 3) * 1000, on_wake, m, arg, NULL);
    herd_sim_after(sim, 1500 + (int64_t)herd_rng_below(r, 1000), on_timeout, m, arg,
                   &m->timeout[arg]);
}

struct digest {
    uint64_t h;
    uint64_t n;
    char first[8][48];
};

static void trace(void *ctx, int64_t t, const char *kind, uint64_t entity)
{
    struct digest *d = ctx;
    d->h = herd_hash64(d->h ^ (uint64_t)t) ^ herd_hash64(entity + 1) ^
           herd_hash_bytes(kind, strlen(kind));
    if (d->n < 8)
        snprintf(d->first[d->n], sizeof d->first[0], "%ld %s %lu", (long)t, kind,
                 (unsigned long)entity);
    d->n++;
}

static struct digest run_model(uint64_t seed, int entities)
{
    struct herd_sim sim;
    cr_assert_eq(herd_sim_init(&sim, seed), 0);
    cr_assert_eq(herd_sim_name(&sim, on_wake, "wake"), 0);
    cr_assert_eq(herd_sim_name(&sim, on_timeout, "timeout"), 0);
    struct digest d = {0};
    herd_sim_set_trace(&sim, trace, &d);
    static struct model m;
    memset(&m, 0, sizeof m);
    for (int i = 0; i < entities; i++) {
        herd_sim_rng(&sim, (uint64_t)i, &m.rng[i]);
        herd_sim_at(&sim, 0, on_wake, &m, (uint64_t)i, NULL);
    }
    cr_assert_eq(herd_sim_run_until(&sim, 50000000), 0);
    cr_assert_gt(m.fired, 0, "some timeouts fire");
    cr_assert_eq(herd_sim_events(&sim), d.n);
    herd_sim_fini(&sim);
    return d;
}

Test(engine, two_runs_are_identical)
{
    struct digest a = run_model(42, 64), b = run_model(42, 64), c = run_model(43, 64);
    cr_assert_eq(a.n, b.n);
    cr_assert_eq(a.h, b.h, "same seed, same trace");
    cr_assert_neq(a.h, c.h, "another seed, another trace");
    cr_assert_gt(a.n, 100000);
    cr_assert_str_eq(a.first[0], "0 wake 0");
    cr_assert_str_eq(a.first[1], "0 wake 1");
}

Test(engine, unnamed_kinds_are_numbered_by_first_use)
{
    struct herd_sim sim;
    cr_assert_eq(herd_sim_init(&sim, 1), 0);
    struct digest d = {0};
    herd_sim_set_trace(&sim, trace, &d);
    struct log l = {0};
    herd_sim_at(&sim, 5, stopper, NULL, 7, NULL);
    herd_sim_at(&sim, 6, rec, &l, 8, NULL);
    cr_assert_eq(herd_sim_run_until(&sim, HERD_SIM_FOREVER), 0);
    cr_assert_str_eq(d.first[0], "5 k1 7");
    cr_assert_str_eq(d.first[1], "6 k2 8");
    herd_sim_fini(&sim);
}

/* Per-entity streams: entity 3's draws do not depend on how many entities exist. */
Test(engine, rng_streams_are_independent_of_other_components)
{
    struct herd_sim a, b;
    cr_assert_eq(herd_sim_init(&a, 9), 0);
    cr_assert_eq(herd_sim_init(&b, 9), 0);
    struct herd_rng r1, r2, other;
    herd_sim_rng(&a, 3, &r1);
    for (uint64_t s = 100; s < 200; s++) { /* b has a hundred more components */
        herd_sim_rng(&b, s, &other);
        herd_rng_u64(&other);
    }
    herd_sim_rng(&b, 3, &r2);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(herd_rng_u64(&r1), herd_rng_u64(&r2));
    herd_sim_rng(&a, 4, &other);
    herd_sim_rng(&a, 3, &r1);
    cr_assert_neq(herd_rng_u64(&r1), herd_rng_u64(&other));
    herd_sim_fini(&a);
    herd_sim_fini(&b);
}

/* The watch hook: polled about every HERD_SIM_WATCH_EVERY events with the run's progress;
 * returning true stops the run with -HERD_EINTR, and a watch that never stops changes
 * nothing (same trace as an unwatched run). Prefetch hints change nothing either. */
struct watch_log {
    int polls, stop_at;
    int64_t last_t;
    uint64_t last_events;
};

static bool poll_fn(void *ctx, int64_t sim_ns, uint64_t events)
{
    struct watch_log *w = ctx;
    cr_assert_geq(sim_ns, w->last_t, "simulated time only grows");
    cr_assert_geq(events, w->last_events, "events never go back");
    w->last_t = sim_ns;
    w->last_events = events;
    return ++w->polls == w->stop_at;
}

static void prefetch_nothing(void *ctx, uint64_t arg)
{
    (void)ctx;
    (void)arg;
}

static int watched_run(struct watch_log *w, struct digest *d, uint64_t *events)
{
    struct herd_sim sim;
    cr_assert_eq(herd_sim_init(&sim, 7), 0);
    cr_assert_eq(herd_sim_name(&sim, on_wake, "wake"), 0);
    cr_assert_eq(herd_sim_name(&sim, on_timeout, "timeout"), 0);
    struct herd_watch watch = {poll_fn, w};
    herd_sim_set_hooks(&sim, &(struct herd_sim_hooks){trace, d, &watch});
    herd_sim_prefetch(&sim, on_wake, prefetch_nothing);
    static struct model m;
    memset(&m, 0, sizeof m);
    for (int i = 0; i < 64; i++) {
        herd_sim_rng(&sim, (uint64_t)i, &m.rng[i]);
        herd_sim_at(&sim, 0, on_wake, &m, (uint64_t)i, NULL);
    }
    int rc = herd_sim_run_until(&sim, 50000000);
    *events = herd_sim_events(&sim);
    herd_sim_fini(&sim);
    return rc;
}

Test(engine, watch_sees_progress_and_can_stop_the_run)
{
    struct watch_log free_run = {.stop_at = -1}, stopped = {.stop_at = 2};
    struct digest d1 = {0}, d2 = {0};
    uint64_t ev1, ev2;
    cr_assert_eq(watched_run(&free_run, &d1, &ev1), 0);
    cr_assert_gt(free_run.polls, 2, "a long run is polled (%d polls, %lu events)", free_run.polls,
                 (unsigned long)ev1);
    cr_assert_eq(watched_run(&stopped, &d2, &ev2), -HERD_EINTR);
    cr_assert_eq(stopped.polls, 2);
    cr_assert_lt(ev2, ev1);
    cr_assert_leq(ev2, 2 * HERD_SIM_WATCH_EVERY + 1, "stops at the poll that asked");
    struct digest plain = run_model(7, 64);
    cr_assert_eq(plain.h, d1.h, "watching and prefetching change nothing");
    cr_assert_eq(plain.n, d1.n);
}

/* An event doing a million requesters' work (a sweep) counts it with herd_sim_work: the
 * watch is polled inside the event and a stop ends the loop within a poll's worth of
 * work, where it used to wait for the event's end. Unwatched, herd_sim_work is inert. */
struct sweep {
    long done, size;
};

static void on_sweep(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    struct sweep *s = ctx;
    for (long i = 0; i < s->size; i++) {
        if (herd_sim_work(sim, 1))
            return;
        s->done++;
    }
}

static int sweep_run(struct watch_log *w, struct sweep *s)
{
    struct herd_sim sim;
    cr_assert_eq(herd_sim_init(&sim, 7), 0);
    struct herd_watch watch = {poll_fn, w};
    if (w)
        herd_sim_set_hooks(&sim, &(struct herd_sim_hooks){.watch = &watch});
    herd_sim_at(&sim, 10, on_sweep, s, 0, NULL);
    herd_sim_at(&sim, 20, on_sweep, s, 0, NULL);
    int rc = herd_sim_run_until(&sim, HERD_SIM_FOREVER);
    herd_sim_fini(&sim);
    return rc;
}

Test(engine, work_inside_an_event_is_polled)
{
    const long size = 1000000;
    struct sweep plain = {.size = size}, watched = {.size = size}, stopped = {.size = size};
    struct watch_log free_run = {.stop_at = -1}, stop = {.stop_at = 2};
    cr_assert_eq(sweep_run(NULL, &plain), 0);
    cr_assert_eq(plain.done, 2 * size);
    cr_assert_eq(sweep_run(&free_run, &watched), 0);
    cr_assert_eq(watched.done, 2 * size, "a watch that never stops changes nothing");
    cr_assert_geq(free_run.polls, 2 * size / (long)HERD_SIM_WATCH_EVERY - 1, "%d polls",
                  free_run.polls);
    cr_assert_eq(sweep_run(&stop, &stopped), -HERD_EINTR);
    cr_assert_eq(stop.polls, 2);
    cr_assert_leq(stopped.done, 2 * (long)HERD_SIM_WATCH_EVERY, "stopped %ld units in",
                  stopped.done);
}

/* herd_sim_round_ns is llround without the call: the same integer for halves, both
 * signs, values near 2^52 and 2^53 where the fraction vanishes, and random draws. */
Test(engine, round_ns_matches_llround)
{
    const double fixed[] = {0.0,  0.5,   1.5,   2.5,       -0.5,     -1.5, 0.49999999999999994,
                            -0.49999999999999994, 4503599627370495.5, 4503599627370497.0,
                            9007199254740993.0, 1e18, -1e18, 123456.4999, 123456.5001};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        cr_expect_eq(herd_sim_round_ns(fixed[i]), llround(fixed[i]), "x = %.17g", fixed[i]);
    struct herd_rng r;
    herd_rng_stream(&r, 7, 1);
    for (int i = 0; i < 1000000; i++) {
        double x = herd_rng_exp_fast(&r, 1e6) - 2e5;
        if (herd_sim_round_ns(x) != llround(x)) {
            cr_assert_fail("x = %.17g: %lld vs %lld", x, (long long)herd_sim_round_ns(x),
                           (long long)llround(x));
        }
        double h = (double)(int64_t)x + 0.5; /* exact halves */
        cr_expect_eq(herd_sim_round_ns(h), llround(h), "x = %.17g", h);
    }
}
