/* test_singleflight.c — one flight per key, shared results, errors reach every waiter,
 * abandoned and stalled leaders never hang a waiter, per-waiter deadlines and cancel,
 * the work cancelled only when the last caller leaves, forget, shedding, a full table,
 * stall takeover (first success wins), fixed value buffers, every allocation failing
 * in turn, and the property "at most one flight per key at any moment" under threads.
 * Stall ages are on a fake clock (begin's now_ns) except where a blocked wait must
 * meet them on CLOCK_MONOTONIC. */
#include <criterion/criterion.h>
#include <herd/alloc.h>
#include <herd/clock.h>
#include <herd/error.h>
#include <herd/singleflight.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "torture.h"

static struct herd_singleflight *make(const struct herd_singleflight_config *cfg)
{
    struct herd_singleflight *sf = NULL;
    cr_assert_eq(herd_singleflight_new(cfg, &sf), 0);
    return sf;
}

Test(singleflight, leader_then_joiners_share_one_copy)
{
    struct herd_singleflight *sf = make(NULL);
    struct herd_singleflight_ticket lead, j1, j2, other;
    struct herd_singleflight_result res;
    char value[16] = "hello";

    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &lead), HERD_SINGLEFLIGHT_LEADER);
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &j1), HERD_SINGLEFLIGHT_JOINED);
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &j2), HERD_SINGLEFLIGHT_JOINED);
    cr_assert_eq(herd_singleflight_begin(sf, "kk", 2, 0, &other), HERD_SINGLEFLIGHT_LEADER);
    cr_assert_eq(herd_singleflight_waiting(sf, &j1), 2);
    cr_assert_not(herd_singleflight_poll(sf, &j1, &res));
    cr_assert_eq(herd_singleflight_complete(sf, &lead, value, 6, 0), 0);
    /* The leader's buffer is the leader's: joiners read the library's copy. */
    strcpy(value, "XXXXX");
    cr_assert(herd_singleflight_poll(sf, &j1, &res));
    cr_assert_eq(res.error, 0);
    cr_assert_eq(res.len, 6);
    cr_assert_str_eq(res.val, "hello");
    /* The flight left the table on completion: a new begin leads a new flight, and the
     * old joiners' copy is untouched by it. */
    struct herd_singleflight_ticket lead2;
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &lead2), HERD_SINGLEFLIGHT_LEADER);
    cr_assert_eq(herd_singleflight_complete(sf, &lead2, "other", 6, 0), 0);
    cr_assert_eq(herd_singleflight_wait(sf, &j2, HERD_SINGLEFLIGHT_NO_DEADLINE, &res), 0);
    cr_assert_str_eq(res.val, "hello");
    herd_singleflight_release(sf, &j1);
    herd_singleflight_release(sf, &j2);
    herd_singleflight_complete(sf, &other, NULL, 0, 0);

    struct herd_singleflight_stats st;
    herd_singleflight_stats(sf, &st);
    cr_assert_eq(st.flights, 3);
    cr_assert_eq(st.joins, 2);
    cr_assert_eq(st.shared, 2);
    cr_assert_eq(st.errors, 0);
    herd_singleflight_free(sf);
}

struct errctx {
    struct herd_singleflight *sf;
    atomic_int got_error, got_value, joined;
};

static void *error_waiter(void *arg)
{
    struct errctx *c = arg;
    struct herd_singleflight_ticket t;
    struct herd_singleflight_result res;
    int64_t deadline = herd_clock_monotonic_ns() + 10 * HERD_NS_PER_S;
    int role = herd_singleflight_join(c->sf, "key", 3, 0, deadline, &t, &res);
    if (role == HERD_SINGLEFLIGHT_JOINED) {
        if (res.error == -HERD_EINVAL && res.val == NULL && res.len == 0)
            atomic_fetch_add(&c->got_error, 1);
        else
            atomic_fetch_add(&c->got_value, 1);
        herd_singleflight_release(c->sf, &t);
    }
    return NULL;
}

Test(singleflight, leader_error_reaches_every_waiter, .timeout = 30)
{
    struct errctx c = {.sf = make(NULL)};
    struct herd_singleflight_ticket lead;
    pthread_t th[16];
    cr_assert_eq(herd_singleflight_begin(c.sf, "key", 3, 0, &lead), HERD_SINGLEFLIGHT_LEADER);
    for (int i = 0; i < 16; i++)
        pthread_create(&th[i], NULL, error_waiter, &c);
    /* Fail only once all 16 have joined, so every one of them depends on us. */
    while (herd_singleflight_waiting(c.sf, &lead) < 16)
        sched_yield();
    cr_assert_eq(herd_singleflight_complete(c.sf, &lead, NULL, 0, -HERD_EINVAL), 0);
    for (int i = 0; i < 16; i++)
        pthread_join(th[i], NULL);
    cr_assert_eq(atomic_load(&c.got_error), 16);
    cr_assert_eq(atomic_load(&c.got_value), 0);
    struct herd_singleflight_stats st;
    herd_singleflight_stats(c.sf, &st);
    cr_assert_eq(st.errors, 1);
    cr_assert_eq(st.failed, 16);
    herd_singleflight_free(c.sf);
}

Test(singleflight, waiter_times_out_and_cancels, .timeout = 30)
{
    struct herd_singleflight *sf = make(NULL);
    struct herd_singleflight_ticket lead, j, next;
    struct herd_singleflight_result res;
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &lead), HERD_SINGLEFLIGHT_LEADER);
    int64_t t0 = herd_clock_monotonic_ns();
    int rc = herd_singleflight_join(sf, "k", 1, 0, t0 + 50 * HERD_NS_PER_MS, &j, &res);
    int64_t took = herd_clock_monotonic_ns() - t0;
    cr_assert_eq(rc, -HERD_ETIMEDOUT);
    cr_assert_geq(took, 49 * HERD_NS_PER_MS);
    cr_assert_lt(took, 5 * HERD_NS_PER_S);
    /* join released the ticket itself; the plain wait keeps it. */
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &j), HERD_SINGLEFLIGHT_JOINED);
    cr_assert_eq(herd_singleflight_wait(sf, &j, herd_clock_monotonic_ns() + HERD_NS_PER_MS, &res),
                 -HERD_ETIMEDOUT);
    cr_assert_eq(herd_singleflight_waiting(sf, &lead), 1);
    herd_singleflight_release(sf, &j);
    cr_assert_eq(herd_singleflight_waiting(sf, &lead), 0);
    herd_singleflight_complete(sf, &lead, "v", 1, 0);
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &next), HERD_SINGLEFLIGHT_LEADER);
    herd_singleflight_complete(sf, &next, "v", 1, 0);
    struct herd_singleflight_stats st;
    herd_singleflight_stats(sf, &st);
    cr_assert_eq(st.timeouts, 2);
    cr_assert_eq(st.canceled, 2);
    herd_singleflight_free(sf);
}

Test(singleflight, forget_starts_a_new_flight)
{
    struct herd_singleflight *sf = make(NULL);
    struct herd_singleflight_ticket a, ja, b;
    struct herd_singleflight_result res;
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &a), HERD_SINGLEFLIGHT_LEADER);
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &ja), HERD_SINGLEFLIGHT_JOINED);
    cr_assert_eq(herd_singleflight_forget(sf, "k", 1), 0);
    cr_assert_eq(herd_singleflight_forget(sf, "k", 1), -HERD_ENOENT);
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &b), HERD_SINGLEFLIGHT_LEADER);
    herd_singleflight_complete(sf, &b, "new", 4, 0);
    herd_singleflight_complete(sf, &a, "old", 4, 0);
    cr_assert(herd_singleflight_poll(sf, &ja, &res));
    cr_assert_str_eq(res.val, "old"); /* the forgotten flight still serves its joiners */
    herd_singleflight_release(sf, &ja);
    herd_singleflight_free(sf);
}

Test(singleflight, shed_full_and_bad_keys)
{
    struct herd_singleflight_config cfg = {.max_flights = 2, .max_key_len = 4, .max_waiters = 2};
    struct herd_singleflight *sf = make(&cfg);
    struct herd_singleflight_ticket a, b, j1, j2, x;
    cr_assert_eq(herd_singleflight_begin(sf, "a", 1, 0, &a), HERD_SINGLEFLIGHT_LEADER);
    cr_assert_eq(herd_singleflight_begin(sf, "a", 1, 0, &j1), HERD_SINGLEFLIGHT_JOINED);
    cr_assert_eq(herd_singleflight_begin(sf, "a", 1, 0, &j2), HERD_SINGLEFLIGHT_JOINED);
    cr_assert_eq(herd_singleflight_begin(sf, "a", 1, 0, &x), -HERD_ESHED);
    cr_assert_eq(herd_singleflight_begin(sf, "b", 1, 0, &b), HERD_SINGLEFLIGHT_LEADER);
    cr_assert_eq(herd_singleflight_begin(sf, "c", 1, 0, &x), -HERD_EBUSY);
    cr_assert_eq(herd_singleflight_begin(sf, "toolong", 7, 0, &x), -HERD_EINVAL);
    herd_singleflight_complete(sf, &a, NULL, 0, 0);
    herd_singleflight_complete(sf, &b, NULL, 0, 0);
    /* Slot a is still pinned by its joiners; b's slot is free again. */
    cr_assert_eq(herd_singleflight_begin(sf, "c", 1, 0, &x), HERD_SINGLEFLIGHT_LEADER);
    cr_assert_eq(herd_singleflight_begin(sf, "d", 1, 0, &b), -HERD_EBUSY);
    herd_singleflight_release(sf, &j1);
    herd_singleflight_release(sf, &j2);
    cr_assert_eq(herd_singleflight_begin(sf, "d", 1, 0, &b), HERD_SINGLEFLIGHT_LEADER);
    herd_singleflight_complete(sf, &x, NULL, 0, 0);
    herd_singleflight_complete(sf, &b, NULL, 0, 0);
    struct herd_singleflight_stats st;
    herd_singleflight_stats(sf, &st);
    cr_assert_eq(st.shed, 1);
    cr_assert_eq(st.full, 2);
    herd_singleflight_free(sf);
}

Test(singleflight, stalled_leader_is_taken_over)
{
    struct herd_singleflight_config cfg = {.stall_ns = 100};
    struct herd_singleflight *sf = make(&cfg);
    struct herd_singleflight_ticket slow, j, fresh;
    struct herd_singleflight_result res;
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &slow), HERD_SINGLEFLIGHT_LEADER);
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 50, &j), HERD_SINGLEFLIGHT_JOINED);
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 200, &fresh), HERD_SINGLEFLIGHT_LEADER);
    herd_singleflight_complete(sf, &fresh, "new", 4, 0);
    cr_assert(herd_singleflight_poll(sf, &j, &res));
    cr_assert_str_eq(res.val, "new");
    /* The stalled leader finally completes: too late, ignored, no error. */
    cr_assert_eq(herd_singleflight_complete(sf, &slow, "old", 4, -HERD_EINVAL), 0);
    cr_assert(herd_singleflight_poll(sf, &j, &res));
    cr_assert_eq(res.error, 0);
    herd_singleflight_release(sf, &j);
    struct herd_singleflight_stats st;
    herd_singleflight_stats(sf, &st);
    cr_assert_eq(st.takeovers, 1);
    cr_assert_eq(st.errors, 0);
    herd_singleflight_free(sf);
}

Test(singleflight, stall_age_boundary_on_a_fake_clock)
{
    struct herd_singleflight_config cfg = {.stall_ns = 100};
    struct herd_singleflight *sf = make(&cfg);
    struct herd_singleflight_ticket a, j, b, c;
    int64_t now = 1000;
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, now, &a), HERD_SINGLEFLIGHT_LEADER);
    now += 99;
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, now, &j), HERD_SINGLEFLIGHT_JOINED);
    now += 1; /* exactly stall_ns old */
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, now, &b), HERD_SINGLEFLIGHT_LEADER);
    /* The takeover restarted the age: the next caller joins the new leader. */
    now += 99;
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, now, &c), HERD_SINGLEFLIGHT_JOINED);
    herd_singleflight_release(sf, &c);
    herd_singleflight_complete(sf, &b, "b", 1, 0);
    herd_singleflight_complete(sf, &a, "a", 1, 0);
    herd_singleflight_release(sf, &j);
    herd_singleflight_free(sf);
}

Test(singleflight, takeover_first_success_wins_superseded_error_dropped)
{
    struct herd_singleflight_config cfg = {.stall_ns = 10};
    struct herd_singleflight *sf = make(&cfg);
    struct herd_singleflight_ticket old, j, neu;
    struct herd_singleflight_result res;
    struct herd_singleflight_stats st;

    /* The superseded leader finishes first with a value: delivered. */
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &old), HERD_SINGLEFLIGHT_LEADER);
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 1, &j), HERD_SINGLEFLIGHT_JOINED);
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 10, &neu), HERD_SINGLEFLIGHT_LEADER);
    cr_assert_not(herd_singleflight_cancelled(sf, &neu));
    cr_assert_eq(herd_singleflight_complete(sf, &old, "old", 4, 0), 0);
    cr_assert(herd_singleflight_cancelled(sf, &neu), "done: the new leader may stop");
    cr_assert_eq(herd_singleflight_complete(sf, &neu, "new", 4, 0), 0); /* late */
    cr_assert(herd_singleflight_poll(sf, &j, &res));
    cr_assert_str_eq(res.val, "old");
    herd_singleflight_release(sf, &j);

    /* The superseded leader fails while its replacement works: dropped; the newest
     * leader's error is the flight's. */
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 100, &old), HERD_SINGLEFLIGHT_LEADER);
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 101, &j), HERD_SINGLEFLIGHT_JOINED);
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 110, &neu), HERD_SINGLEFLIGHT_LEADER);
    herd_singleflight_abandon(sf, &old);
    cr_assert_not(herd_singleflight_poll(sf, &j, &res), "a superseded failure must not end it");
    cr_assert_eq(herd_singleflight_complete(sf, &neu, NULL, 0, -HERD_EREJECT), 0);
    cr_assert(herd_singleflight_poll(sf, &j, &res));
    cr_assert_eq(res.error, -HERD_EREJECT);
    herd_singleflight_release(sf, &j);
    herd_singleflight_stats(sf, &st);
    cr_assert_eq(st.takeovers, 2);
    cr_assert_eq(st.late, 2);
    cr_assert_eq(st.errors, 1);
    cr_assert_eq(st.abandoned, 0, "the dropped abandon is late, not the flight's outcome");
    herd_singleflight_free(sf);
}

struct blocked {
    struct herd_singleflight *sf;
    struct herd_singleflight_ticket t;
    int64_t deadline;
    int rc;
    struct herd_singleflight_result res;
    atomic_int started;
};

static void *blocked_wait(void *arg)
{
    struct blocked *b = arg;
    atomic_store(&b->started, 1);
    b->rc = herd_singleflight_wait(b->sf, &b->t, b->deadline, &b->res);
    return NULL;
}

Test(singleflight, abandoned_leader_gives_every_waiter_eleader, .timeout = 30)
{
    struct herd_singleflight *sf = make(NULL);
    struct herd_singleflight_ticket lead;
    struct blocked b[8];
    pthread_t th[8];
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &lead), HERD_SINGLEFLIGHT_LEADER);
    for (int i = 0; i < 8; i++) {
        b[i] = (struct blocked){.sf = sf, .deadline = HERD_SINGLEFLIGHT_NO_DEADLINE};
        cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &b[i].t), HERD_SINGLEFLIGHT_JOINED);
        pthread_create(&th[i], NULL, blocked_wait, &b[i]);
    }
    struct herd_singleflight_stats st;
    do {
        sched_yield();
        herd_singleflight_stats(sf, &st);
    } while (st.waits < 8);
    herd_singleflight_abandon(sf, &lead);
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(b[i].rc, 0);
        cr_assert_eq(b[i].res.error, -HERD_ELEADER);
        cr_assert_null(b[i].res.val);
        herd_singleflight_release(sf, &b[i].t);
    }
    herd_singleflight_stats(sf, &st);
    cr_assert_eq(st.abandoned, 1);
    cr_assert_eq(st.errors, 1);
    cr_assert_eq(st.failed, 8);
    cr_assert_eq(st.waits, 8);
    herd_singleflight_free(sf);
}

Test(singleflight, cancel_wakes_one_blocked_waiter, .timeout = 30)
{
    struct herd_singleflight *sf = make(NULL);
    struct herd_singleflight_ticket lead;
    struct blocked a = {.sf = sf, .deadline = HERD_SINGLEFLIGHT_NO_DEADLINE};
    struct blocked b = {.sf = sf, .deadline = HERD_SINGLEFLIGHT_NO_DEADLINE};
    pthread_t ta, tb;
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &lead), HERD_SINGLEFLIGHT_LEADER);
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &a.t), HERD_SINGLEFLIGHT_JOINED);
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &b.t), HERD_SINGLEFLIGHT_JOINED);
    pthread_create(&ta, NULL, blocked_wait, &a);
    pthread_create(&tb, NULL, blocked_wait, &b);
    struct herd_singleflight_stats st;
    do {
        sched_yield();
        herd_singleflight_stats(sf, &st);
    } while (st.waits < 2);
    herd_singleflight_cancel(sf, &a.t); /* from this thread, while a's owner blocks */
    herd_singleflight_cancel(sf, &a.t); /* idempotent */
    pthread_join(ta, NULL);
    cr_assert_eq(a.rc, -HERD_ECANCELED);
    cr_assert_eq(herd_singleflight_waiting(sf, &lead), 1, "b still wants the value");
    cr_assert_not(herd_singleflight_cancelled(sf, &lead));
    herd_singleflight_release(sf, &a.t);
    herd_singleflight_complete(sf, &lead, "v", 2, 0);
    pthread_join(tb, NULL);
    cr_assert_eq(b.rc, 0);
    cr_assert_str_eq(b.res.val, "v");
    herd_singleflight_release(sf, &b.t);
    herd_singleflight_stats(sf, &st);
    cr_assert_eq(st.canceled, 1);
    cr_assert_eq(st.shared, 1);
    cr_assert_eq(st.cancelled_flights, 0);
    herd_singleflight_free(sf);
}

Test(singleflight, work_cancelled_only_when_last_caller_leaves)
{
    struct herd_singleflight *sf = make(NULL);
    struct herd_singleflight_ticket lead, j1, j2, fresh, again;
    struct herd_singleflight_stats st;
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &lead), HERD_SINGLEFLIGHT_LEADER);
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &j1), HERD_SINGLEFLIGHT_JOINED);
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &j2), HERD_SINGLEFLIGHT_JOINED);
    herd_singleflight_cancel(sf, &lead); /* the leader's own caller gave up */
    cr_assert_not(herd_singleflight_cancelled(sf, &lead), "two joiners still want it");
    herd_singleflight_cancel(sf, &j1);
    cr_assert_not(herd_singleflight_cancelled(sf, &lead), "one joiner still wants it");
    herd_singleflight_release(sf, &j1);
    cr_assert_not(herd_singleflight_cancelled(sf, &lead));
    herd_singleflight_release(sf, &j2); /* the last caller leaves without cancel() */
    cr_assert(herd_singleflight_cancelled(sf, &lead));
    /* The doomed flight left the table: a newcomer starts a fresh one. */
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &fresh), HERD_SINGLEFLIGHT_LEADER);
    cr_assert_neq(fresh.slot, lead.slot);
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &again), HERD_SINGLEFLIGHT_JOINED);
    cr_assert_eq(again.slot, fresh.slot);
    herd_singleflight_release(sf, &again);
    cr_assert_not(herd_singleflight_cancelled(sf, &fresh), "its leader's caller still wants it");
    herd_singleflight_abandon(sf, &lead); /* the leader still ends its ticket */
    herd_singleflight_complete(sf, &fresh, "v", 2, 0);

    /* A leader alone whose caller leaves: cancelled at once. */
    cr_assert_eq(herd_singleflight_begin(sf, "z", 1, 0, &lead), HERD_SINGLEFLIGHT_LEADER);
    herd_singleflight_cancel(sf, &lead);
    cr_assert(herd_singleflight_cancelled(sf, &lead));
    herd_singleflight_complete(sf, &lead, "late", 5, 0);
    herd_singleflight_stats(sf, &st);
    cr_assert_eq(st.cancelled_flights, 2);
    cr_assert_eq(st.canceled, 3, "j1 (cancel), j2 and again (release before completion)");
    herd_singleflight_free(sf);
}

Test(singleflight, blocked_waiter_gives_up_on_a_stalled_leader, .timeout = 30)
{
    /* Blocking waits meet the stall age on CLOCK_MONOTONIC, so begin gets real time. */
    struct herd_singleflight_config cfg = {.stall_ns = 50 * HERD_NS_PER_MS};
    struct herd_singleflight *sf = make(&cfg);
    struct herd_singleflight_ticket dead, j, t;
    struct herd_singleflight_result res;
    int64_t t0 = herd_clock_monotonic_ns();
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, t0, &dead), HERD_SINGLEFLIGHT_LEADER);
    /* The leader "crashes": it never completes. A waiter without a deadline still
     * comes back, at the stall age, with -HERD_ELEADER and its ticket held. */
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, t0, &j), HERD_SINGLEFLIGHT_JOINED);
    cr_assert_eq(herd_singleflight_wait(sf, &j, HERD_SINGLEFLIGHT_NO_DEADLINE, &res),
                 -HERD_ELEADER);
    int64_t took = herd_clock_monotonic_ns() - t0;
    cr_assert_geq(took, 49 * HERD_NS_PER_MS);
    cr_assert_lt(took, 5 * HERD_NS_PER_S);
    herd_singleflight_release(sf, &j);
    /* join() does the recovery itself: it takes the flight over and returns LEADER. */
    int role = herd_singleflight_join(sf, "k", 1, t0, HERD_SINGLEFLIGHT_NO_DEADLINE, &t, &res);
    cr_assert_eq(role, HERD_SINGLEFLIGHT_LEADER);
    herd_singleflight_complete(sf, &t, "v", 2, 0);
    herd_singleflight_complete(sf, &dead, "zombie", 7, 0); /* late, discarded */
    struct herd_singleflight_stats st;
    herd_singleflight_stats(sf, &st);
    cr_assert_eq(st.stalls, 2, "our wait, then join's own wait before it took over");
    cr_assert_eq(st.takeovers, 1);
    cr_assert_eq(st.late, 1);
    herd_singleflight_free(sf);
}

Test(singleflight, fixed_value_buffers_never_allocate)
{
    struct herd_singleflight_config cfg = {.max_flights = 2, .max_value_len = 4};
    struct herd_singleflight *sf = make(&cfg);
    struct herd_singleflight_ticket l, j;
    struct herd_singleflight_result res;
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &l), HERD_SINGLEFLIGHT_LEADER);
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &j), HERD_SINGLEFLIGHT_JOINED);
    cr_assert_eq(herd_singleflight_complete(sf, &l, "12345", 5, 0), -HERD_EINVAL);
    cr_assert(herd_singleflight_poll(sf, &j, &res));
    cr_assert_eq(res.error, -HERD_EINVAL, "joiners get what the leader got");
    herd_singleflight_release(sf, &j);
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &l), HERD_SINGLEFLIGHT_LEADER);
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &j), HERD_SINGLEFLIGHT_JOINED);
    cr_assert_eq(herd_singleflight_complete(sf, &l, "1234", 4, 0), 0);
    cr_assert(herd_singleflight_poll(sf, &j, &res));
    cr_assert_eq(memcmp(res.val, "1234", 4), 0);
    herd_singleflight_release(sf, &j);
    herd_singleflight_free(sf);
}

/* ---- allocation failures: fail the 1st, 2nd, ... allocation in turn ---------------- */

Test(singleflight, every_init_allocation_failing_in_turn_is_clean)
{
    for (size_t vlen = 0; vlen <= 16; vlen += 16) {
        int n = 1, made = 0;
        for (;; n++) {
            struct torture ta = {.fail_at = n};
            struct herd_allocator al = {torture_realloc, &ta};
            struct herd_singleflight_config cfg = {.max_flights = 8, .max_value_len = vlen,
                                                   .alloc = &al};
            struct herd_singleflight *sf = (void *)0x1;
            int rc = herd_singleflight_new(&cfg, &sf);
            if (rc == 0) {
                made = ta.calls;
                cr_assert_gt(ta.live, 0);
                herd_singleflight_free(sf);
                cr_assert_eq(ta.live, 0, "free leaked %d blocks", ta.live);
                break;
            }
            cr_assert_eq(rc, -HERD_ENOMEM, "allocation %d failed: %s", n, herd_strerror(rc));
            cr_assert_eq(sf, (void *)0x1, "out-param written on failure");
            cr_assert_eq(ta.live, 0, "allocation %d failed: %d blocks leaked", n, ta.live);
        }
        /* The struct, slots, buckets, keys (and values in fixed mode): each failed once,
         * then the next round succeeded with that many allocations. */
        cr_assert_eq(made, vlen ? 5 : 4);
        cr_assert_eq(n, made + 1);
    }
}

Test(singleflight, grow_mode_allocation_failure_reaches_joiners)
{
    struct torture ta = {0};
    struct herd_allocator al = {torture_realloc, &ta};
    struct herd_singleflight_config cfg = {.max_flights = 2, .alloc = &al};
    struct herd_singleflight *sf = make(&cfg);
    struct herd_singleflight_ticket l, j;
    struct herd_singleflight_result res;
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &l), HERD_SINGLEFLIGHT_LEADER);
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, &j), HERD_SINGLEFLIGHT_JOINED);
    ta.fail_at = ta.calls + 1;
    cr_assert_eq(herd_singleflight_complete(sf, &l, "value", 6, 0), -HERD_ENOMEM);
    cr_assert(herd_singleflight_poll(sf, &j, &res));
    cr_assert_eq(res.error, -HERD_ENOMEM);
    herd_singleflight_release(sf, &j);
    herd_singleflight_free(sf);
    cr_assert_eq(ta.live, 0);
}

/* ---- the property under threads ------------------------------------------------- */

#define KEYS 4
#define THREADS 8
#define ROUNDS 3000

struct prop {
    struct herd_singleflight *sf;
    atomic_int running[KEYS]; /* leaders inside their work, per key */
    atomic_int max_running;
    atomic_long computed[KEYS]; /* flight serial numbers, per key */
    atomic_int bad;             /* joiners that got a value no leader published */
    atomic_long leaders, joiners;
};

static void *prop_thread(void *arg)
{
    struct prop *p = arg;
    for (int i = 0; i < ROUNDS; i++) {
        int k = i % KEYS;
        char key[8];
        snprintf(key, sizeof key, "key%d", k);
        struct herd_singleflight_ticket t;
        struct herd_singleflight_result res;
        int role = herd_singleflight_join(p->sf, key, strlen(key), 0, HERD_SINGLEFLIGHT_NO_DEADLINE,
                                          &t, &res);
        if (role == HERD_SINGLEFLIGHT_LEADER) {
            int now = atomic_fetch_add(&p->running[k], 1) + 1;
            int mx = atomic_load(&p->max_running);
            while (now > mx && !atomic_compare_exchange_weak(&p->max_running, &mx, now))
                ;
            for (int s = 0; s < 20; s++)
                sched_yield(); /* let others pile up on the flight */
            long serial = atomic_fetch_add(&p->computed[k], 1) + 1;
            long v[2] = {k, serial};
            atomic_fetch_sub(&p->running[k], 1);
            herd_singleflight_complete(p->sf, &t, v, sizeof v, 0);
            atomic_fetch_add(&p->leaders, 1);
        } else {
            cr_assert_eq(role, HERD_SINGLEFLIGHT_JOINED);
            const long *v = res.val;
            if (res.error || res.len != 2 * sizeof(long) || v[0] != k || v[1] < 1 ||
                v[1] > atomic_load(&p->computed[k]))
                atomic_fetch_add(&p->bad, 1);
            herd_singleflight_release(p->sf, &t);
            atomic_fetch_add(&p->joiners, 1);
        }
    }
    return NULL;
}

Test(singleflight, at_most_one_flight_per_key_under_threads, .timeout = 60)
{
    struct herd_singleflight_config cfg = {.max_flights = 16};
    struct prop p = {.sf = make(&cfg)};
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, prop_thread, &p);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    cr_assert_eq(atomic_load(&p.max_running), 1, "two leaders of one key ran at once");
    cr_assert_eq(atomic_load(&p.bad), 0);
    cr_assert_eq(atomic_load(&p.leaders) + atomic_load(&p.joiners), (long)THREADS * ROUNDS);
    struct herd_singleflight_stats st;
    herd_singleflight_stats(p.sf, &st);
    cr_assert_eq(st.flights, (uint64_t)atomic_load(&p.leaders));
    cr_assert_eq(st.shared, (uint64_t)atomic_load(&p.joiners));
    cr_assert_gt(st.joins, 0, "threads never met on a flight: the test proves nothing");
    herd_singleflight_free(p.sf);
}
