/* test_queue.c — the timing wheel against a reference: random schedules, cancels and
 * bounded pops must come out in exactly the (time, seq) order a plain sort gives. */
#include <criterion/criterion.h>
#include <herd/error.h>
#include <herd/rng.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/sim/queue.h"

/* Reference model: the live events, popped by linear scan for the (time, seq) minimum. */
struct ref_ev {
    int64_t t;
    uint64_t seq;
    uint64_t arg;
    struct herd_queue_handle h;
};

struct ref {
    struct ref_ev *v;
    size_t n, cap;
};

static void ref_add(struct ref *r, struct ref_ev e)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 1024;
        r->v = realloc(r->v, r->cap * sizeof *r->v);
        cr_assert_not_null(r->v);
    }
    r->v[r->n++] = e;
}

static size_t ref_min(const struct ref *r)
{
    size_t best = 0;
    for (size_t i = 1; i < r->n; i++)
        if (r->v[i].t < r->v[best].t || (r->v[i].t == r->v[best].t && r->v[i].seq < r->v[best].seq))
            best = i;
    return best;
}

static void ref_del(struct ref *r, size_t i)
{
    r->v[i] = r->v[--r->n];
}

/* A delay with every shape the wheel must get right: zero (simultaneous with now),
 * a few ns, every level of the wheel, and times near the end of int64. */
static int64_t draw_delay(struct herd_rng *rng, int64_t now)
{
    switch (herd_rng_below(rng, 8)) {
    case 0:
        return 0;
    case 1:
        return (int64_t)herd_rng_below(rng, 4);
    case 2:
        return (int64_t)herd_rng_below(rng, 300);
    case 3:
        return (int64_t)herd_rng_below(rng, 70000);
    case 4: /* any level: a random number of random bits */
        return (int64_t)(herd_rng_u64(rng) >> (1 + herd_rng_below(rng, 63)));
    case 5: /* round numbers: many events land on the same instant */
        return (int64_t)herd_rng_below(rng, 6) * 1000000;
    case 6: /* far future, up to INT64_MAX */
        return (INT64_MAX - now) - (int64_t)herd_rng_below(rng, 1000);
    default:
        return (int64_t)herd_rng_below(rng, 1 << 20);
    }
}

static void run_property(uint64_t seed, int ops, int target)
{
    struct herd_queue q;
    cr_assert_eq(herd_queue_init(&q), 0);
    struct herd_rng rng;
    herd_rng_seed(&rng, seed);
    struct ref r = {0};
    struct herd_queue_handle *gone = calloc((size_t)ops, sizeof *gone); /* popped/cancelled */
    size_t ngone = 0;
    int64_t now = 0;
    uint64_t seq = 1, pops = 0, cancels = 0;
    for (int op = 0; op < ops; op++) {
        uint64_t what = herd_rng_below(&rng, 100);
        int want_push = (int)r.n < target ? what < 60 : what < 40;
        if (want_push) {
            int64_t d = draw_delay(&rng, now);
            int64_t t = d > INT64_MAX - now ? INT64_MAX : now + d;
            struct ref_ev e = {t, seq, herd_rng_u64(&rng), {0, 0}};
            cr_assert_eq(herd_queue_push(&q, t, 1 + (uint16_t)(seq % 7), NULL, e.arg, &e.h), 0);
            cr_assert_eq(e.h.seq, seq);
            seq++;
            ref_add(&r, e);
        } else if (what < 75 && r.n) { /* cancel a random live event */
            size_t i = herd_rng_below(&rng, r.n);
            cr_assert_eq(herd_queue_cancel(&q, &r.v[i].h), 0, "op %d: cancel of a live event", op);
            cr_assert_eq(herd_queue_cancel(&q, &r.v[i].h), -HERD_ENOENT, "double cancel");
            gone[ngone++] = r.v[i].h;
            ref_del(&r, i);
            cancels++;
        } else if (what < 80 && ngone) { /* cancel something already gone */
            size_t i = herd_rng_below(&rng, ngone);
            cr_assert_eq(herd_queue_cancel(&q, &gone[i]), -HERD_ENOENT);
        } else { /* pop, sometimes with a limit */
            int64_t limit = INT64_MAX;
            if (herd_rng_below(&rng, 3) == 0)
                limit = now + draw_delay(&rng, now) / 2;
            struct herd_queue_entry e;
            int rc = herd_queue_pop(&q, limit, &e);
            if (r.n == 0) {
                cr_assert_eq(rc, -HERD_ENOENT);
                cr_assert_leq(herd_queue_cursor(&q), limit);
                if (limit > now && limit != INT64_MAX)
                    now = limit;
                continue;
            }
            size_t m = ref_min(&r);
            if (r.v[m].t > limit) {
                cr_assert_eq(rc, -HERD_ENOENT, "op %d: nothing due by %ld", op, (long)limit);
                cr_assert_leq(herd_queue_cursor(&q), limit);
                now = limit; /* what the engine does after run_until(limit) */
                continue;
            }
            cr_assert_eq(rc, 0, "op %d: pop", op);
            cr_assert_eq(e.time_ns, r.v[m].t, "op %d: time %ld, want %ld", op, (long)e.time_ns,
                         (long)r.v[m].t);
            cr_assert_eq(e.key >> 16, r.v[m].seq, "op %d: seq %lu, want %lu (time %ld)", op,
                         (unsigned long)(e.key >> 16), (unsigned long)r.v[m].seq, (long)e.time_ns);
            cr_assert_eq(e.arg, r.v[m].arg);
            cr_assert_eq(e.key & 0xffff, 1 + r.v[m].seq % 7);
            now = e.time_ns;
            gone[ngone++] = r.v[m].h;
            ref_del(&r, m);
            pops++;
        }
        cr_assert_eq(herd_queue_size(&q), r.n);
        cr_assert_leq(herd_queue_cursor(&q), now);
        if (op % 97 == 0) {
            int64_t pt;
            int rc = herd_queue_peek(&q, &pt);
            if (r.n) {
                cr_assert_eq(rc, 0);
                cr_assert_eq(pt, r.v[ref_min(&r)].t, "op %d: peek", op);
            } else {
                cr_assert_eq(rc, -HERD_ENOENT);
            }
        }
    }
    /* Drain: the rest comes out in reference order too. */
    while (r.n) {
        struct herd_queue_entry e;
        size_t m = ref_min(&r);
        cr_assert_eq(herd_queue_pop(&q, INT64_MAX, &e), 0);
        cr_assert_eq(e.time_ns, r.v[m].t);
        cr_assert_eq(e.key >> 16, r.v[m].seq);
        ref_del(&r, m);
    }
    struct herd_queue_entry e;
    cr_assert_eq(herd_queue_pop(&q, INT64_MAX, &e), -HERD_ENOENT);
    cr_assert_eq(q.dead, 0u, "every cancelled entry was dropped on the way");
    cr_assert_gt(pops, (uint64_t)ops / 10);
    cr_assert_gt(cancels, (uint64_t)ops / 20);
    herd_queue_fini(&q);
    free(r.v);
    free(gone);
}

Test(queue, random_schedules_match_reference_small)
{
    for (uint64_t seed = 1; seed <= 20; seed++)
        run_property(seed, 20000, 50);
}

Test(queue, random_schedules_match_reference_large)
{
    for (uint64_t seed = 100; seed <= 102; seed++)
        run_property(seed, 200000, 2000);
}

/* A herd: many events at one instant, pushed at different times so that some were
 * cascaded down from far levels and some arrive directly; they must keep push order. */
Test(queue, simultaneous_events_keep_push_order_across_cascades)
{
    struct herd_queue q;
    cr_assert_eq(herd_queue_init(&q), 0);
    const int64_t T = INT64_C(5000000000); /* 5 s */
    struct herd_rng rng;
    herd_rng_seed(&rng, 7);
    uint64_t n = 0;
    /* Phase: advance time by popping fillers, pushing T-events as we go. */
    int64_t filler = 1;
    for (int round = 0; round < 40; round++) {
        for (int i = 0; i < 1000; i++)
            cr_assert_eq(herd_queue_push(&q, T, 1, NULL, n++, NULL), 0);
        cr_assert_eq(herd_queue_push(&q, filler, 2, NULL, 0, NULL), 0);
        struct herd_queue_entry e;
        cr_assert_eq(herd_queue_pop(&q, INT64_MAX, &e), 0);
        cr_assert_eq(e.key & 0xffff, 2);
        filler = e.time_ns + (T - e.time_ns) / 3 + (int64_t)herd_rng_below(&rng, 1000);
        if (filler >= T)
            filler = T - 1;
    }
    uint64_t want = 0;
    struct herd_queue_entry e;
    while (herd_queue_pop(&q, INT64_MAX, &e) == 0) {
        cr_assert_eq(e.time_ns, T);
        cr_assert_eq(e.arg, want, "event %lu came out as %lu", (unsigned long)want,
                     (unsigned long)e.arg);
        want++;
        if (want % 777 == 0) /* joining the herd while it is being served */
            cr_assert_eq(herd_queue_push(&q, T, 1, NULL, n++, NULL), 0);
    }
    cr_assert_eq(want, n);
    herd_queue_fini(&q);
}

Test(queue, cancel_edge_cases)
{
    struct herd_queue q;
    cr_assert_eq(herd_queue_init(&q), 0);
    struct herd_queue_handle none = {0, 0}, a, b, c;
    cr_assert_eq(herd_queue_cancel(&q, &none), -HERD_ENOENT);
    cr_assert_eq(herd_queue_push(&q, 100, 1, NULL, 1, &a), 0);
    cr_assert_eq(herd_queue_push(&q, INT64_MAX, 1, NULL, 2, &b), 0);
    cr_assert_eq(herd_queue_push(&q, 0, 1, NULL, 3, &c), 0);
    struct herd_queue_entry e;
    cr_assert_eq(herd_queue_pop(&q, INT64_MAX, &e), 0);
    cr_assert_eq(e.arg, 3);
    cr_assert_eq(herd_queue_cancel(&q, &c), -HERD_ENOENT, "already popped");
    cr_assert_eq(herd_queue_cancel(&q, &a), 0);
    cr_assert_eq(herd_queue_pop(&q, 1000000, &e), -HERD_ENOENT);
    cr_assert_leq(herd_queue_cursor(&q), 1000000);
    cr_assert_eq(herd_queue_size(&q), 1);
    cr_assert_eq(herd_queue_pop(&q, INT64_MAX, &e), 0);
    cr_assert_eq(e.time_ns, INT64_MAX);
    cr_assert_eq(herd_queue_cancel(&q, &b), -HERD_ENOENT);
    cr_assert_eq(herd_queue_size(&q), 0);
    herd_queue_fini(&q);
}

/* Most timeouts never fire: a million cancelled timers cost nothing at pop time and
 * leave nothing behind. */
Test(queue, mass_cancel)
{
    struct herd_queue q;
    cr_assert_eq(herd_queue_init(&q), 0);
    enum { N = 1000000 };
    struct herd_queue_handle *h = malloc(N * sizeof *h);
    for (int i = 0; i < N; i++)
        cr_assert_eq(
            herd_queue_push(&q, 1000000000 + (int64_t)i * 1000, 1, NULL, (uint64_t)i, &h[i]), 0);
    for (int i = 0; i < N; i++)
        if (i % 1000 != 0)
            cr_assert_eq(herd_queue_cancel(&q, &h[i]), 0);
    cr_assert_eq(herd_queue_size(&q), N / 1000);
    struct herd_queue_entry e;
    for (int i = 0; i < N; i += 1000) {
        cr_assert_eq(herd_queue_pop(&q, INT64_MAX, &e), 0);
        cr_assert_eq(e.arg, (uint64_t)i);
    }
    cr_assert_eq(herd_queue_pop(&q, INT64_MAX, &e), -HERD_ENOENT);
    cr_assert_eq(q.dead, 0u);
    free(h);
    herd_queue_fini(&q);
}
