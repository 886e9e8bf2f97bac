/* test_ratelimit.c — the token bucket on a fake clock (a plain int64 we advance).
 *
 * Properties: no interval [s, e] ever admits more than burst + rate·(e − s) tokens
 * (checked over every pair of grant times, random workloads with takes, reservations and
 * cancels); retry_after is exact to the nanosecond; accrual has no drift; after idle
 * exactly burst is available; reserve + cancel restores the bucket exactly; the per-key
 * table drops idle keys losslessly and fails each init allocation cleanly. */
#include <criterion/criterion.h>
#include <herd/error.h>
#include <herd/ratelimit.h>
#include <herd/rng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S INT64_C(1000000000)
#define MS INT64_C(1000000)

static void mk(struct herd_ratelimit *rl, uint64_t rate, int64_t per, uint64_t burst, int64_t now)
{
    struct herd_ratelimit_config c = {.rate = rate, .per_ns = per, .burst = burst};
    cr_assert_eq(herd_ratelimit_init(rl, &c, now), 0);
}

Test(ratelimit, rejects_bad_config)
{
    struct herd_ratelimit rl;
    struct herd_ratelimit_config c = {.rate = 0, .burst = 1};
    cr_assert_eq(herd_ratelimit_init(&rl, &c, 0), -HERD_EINVAL);
    c = (struct herd_ratelimit_config){.rate = 1, .burst = 0};
    cr_assert_eq(herd_ratelimit_init(&rl, &c, 0), -HERD_EINVAL);
    c = (struct herd_ratelimit_config){.rate = 1, .burst = 1, .per_ns = -1};
    cr_assert_eq(herd_ratelimit_init(&rl, &c, 0), -HERD_EINVAL);
    /* burst · per_ns beyond 2^61 units */
    c = (struct herd_ratelimit_config){.rate = 1, .burst = UINT64_C(3) << 30, .per_ns = S};
    cr_assert_eq(herd_ratelimit_init(&rl, &c, 0), -HERD_EINVAL);
    c = (struct herd_ratelimit_config){.rate = 1, .burst = UINT64_C(2) << 30, .per_ns = S};
    cr_assert_eq(herd_ratelimit_init(&rl, &c, 0), 0);
    herd_ratelimit_fini(&rl);
}

Test(ratelimit, starts_full_and_retry_after_is_exact)
{
    struct herd_ratelimit rl;
    mk(&rl, 10, S, 5, 1000); /* 10/s, burst 5: one token per 100 ms */
    int64_t ra = -7;
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(herd_ratelimit_take(&rl, 1, 1000, &ra), HERD_RATELIMIT_GO);
        cr_assert_eq(ra, 0);
    }
    cr_assert_eq(herd_ratelimit_take(&rl, 1, 1000, &ra), HERD_RATELIMIT_RATE);
    cr_assert_eq(ra, 100 * MS);
    cr_assert_eq(herd_ratelimit_take(&rl, 2, 1000, &ra), HERD_RATELIMIT_RATE);
    cr_assert_eq(ra, 200 * MS);
    cr_assert_eq(herd_ratelimit_take(&rl, 1, 1000 + 100 * MS - 1, &ra), HERD_RATELIMIT_RATE);
    cr_assert_eq(ra, 1);
    cr_assert_eq(herd_ratelimit_take(&rl, 1, 1000 + 100 * MS, &ra), HERD_RATELIMIT_GO);
    cr_assert_eq(herd_ratelimit_take(&rl, 6, 1000 + 100 * MS, &ra), HERD_RATELIMIT_TOO_BIG);
    cr_assert_eq(ra, HERD_RATELIMIT_NEVER);
    struct herd_ratelimit_stats st;
    herd_ratelimit_stats(&rl, &st);
    cr_assert_eq(st.granted, 6);
    cr_assert_eq(st.tokens, 6);
    cr_assert_eq(st.rate, 3);
    cr_assert_eq(st.too_big, 1);
    herd_ratelimit_fini(&rl);
}

/* Random states: retry_after r is the exact wait, at t + r − 1 the take still fails and
 * at t + r it succeeds (a refused take changes nothing, so the probes do not disturb). */
Test(ratelimit, retry_after_exact_random)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 11);
    const uint64_t rates[] = {1, 3, 7, 1000, 999983};
    const int64_t pers[] = {S, 7 * MS, 3, S, 13 * S};
    for (int c = 0; c < 5; c++) {
        struct herd_ratelimit rl;
        uint64_t burst = 1 + herd_rng_below(&rng, 20);
        mk(&rl, rates[c], pers[c], burst, 0);
        int64_t now = 0;
        for (int i = 0; i < 2000; i++) {
            now += (int64_t)herd_rng_below(&rng, (uint64_t)pers[c] / rates[c] + 2);
            uint64_t n = 1 + herd_rng_below(&rng, burst);
            int64_t ra;
            if (herd_ratelimit_take(&rl, n, now, &ra) == HERD_RATELIMIT_GO)
                continue;
            cr_assert_gt(ra, 0);
            int64_t ra2;
            if (ra > 1) {
                cr_assert_eq(herd_ratelimit_take(&rl, n, now + ra - 1, &ra2), HERD_RATELIMIT_RATE);
                cr_assert_eq(ra2, 1);
            }
            now += ra;
            cr_assert_eq(herd_ratelimit_take(&rl, n, now, &ra2), HERD_RATELIMIT_GO,
                         "config %d step %d n %llu", c, i, (unsigned long long)n);
        }
        herd_ratelimit_fini(&rl);
    }
}

/* Tokens accrue as integers: a million 1-ns steps give exactly the level of one jump,
 * even for a rate (7 per 3 s) that is no whole number of units per ns in tokens. */
Test(ratelimit, no_drift)
{
    struct herd_ratelimit a, b;
    mk(&a, 7, 3 * S, 1000, 0);
    mk(&b, 7, 3 * S, 1000, 0);
    cr_assert_eq(herd_ratelimit_take(&a, 1000, 0, NULL), HERD_RATELIMIT_GO);
    cr_assert_eq(herd_ratelimit_take(&b, 1000, 0, NULL), HERD_RATELIMIT_GO);
    int64_t t = 0;
    for (int i = 0; i < 1000000; i++) {
        t += 1 + (i % 3);
        (void)herd_ratelimit_take(&a, 1000, t, NULL); /* refused, but advances the state */
    }
    cr_assert_eq(herd_ratelimit_level(&a, t), herd_ratelimit_level(&b, t));
    cr_assert_eq(herd_ratelimit_level(&b, t), 7 * t); /* units: 7 per ns exactly */
    herd_ratelimit_fini(&a);
    herd_ratelimit_fini(&b);
}

/* A fixed window of 100 per second lets 200 through around its edge; the bucket does not. */
Test(ratelimit, no_double_burst_at_window_edge)
{
    struct herd_ratelimit rl;
    mk(&rl, 100, S, 100, 0);
    int granted = 0;
    for (int i = 0; i < 100; i++)
        granted += herd_ratelimit_take(&rl, 1, S - MS, NULL) == HERD_RATELIMIT_GO;
    for (int i = 0; i < 100; i++)
        granted += herd_ratelimit_take(&rl, 1, S + MS, NULL) == HERD_RATELIMIT_GO;
    /* 2 ms at 100/s is 0.2 token: none of the second hundred */
    cr_assert_eq(granted, 100);
    cr_assert_eq(herd_ratelimit_take(&rl, 1, S - MS + 10 * MS, NULL), HERD_RATELIMIT_GO);
    herd_ratelimit_fini(&rl);
}

Test(ratelimit, after_idle_exactly_burst)
{
    struct herd_ratelimit rl;
    struct herd_ratelimit_reservation r;
    mk(&rl, 5, S, 8, 0);
    cr_assert_eq(herd_ratelimit_take(&rl, 8, 0, NULL), HERD_RATELIMIT_GO);
    /* and go into debt with reservations */
    cr_assert_eq(herd_ratelimit_reserve(&rl, 8, 0, INT64_MAX, &r, NULL), HERD_RATELIMIT_GO);
    cr_assert_eq(r.wait_ns, 8 * S / 5);
    cr_assert_eq(herd_ratelimit_level(&rl, 0), -8 * S);
    int64_t later = 3600 * S;
    cr_assert_eq(herd_ratelimit_tokens(&rl, later), 8);
    cr_assert_eq(herd_ratelimit_level(&rl, later), 8 * S);
    cr_assert_eq(herd_ratelimit_take(&rl, 8, later, NULL), HERD_RATELIMIT_GO);
    cr_assert_eq(herd_ratelimit_take(&rl, 1, later, NULL), HERD_RATELIMIT_RATE);
    herd_ratelimit_fini(&rl);
}

Test(ratelimit, reserve_waits_and_max_wait)
{
    struct herd_ratelimit rl;
    struct herd_ratelimit_reservation r;
    int64_t ra;
    mk(&rl, 2, S, 4, 0); /* one token per 500 ms */
    cr_assert_eq(herd_ratelimit_reserve(&rl, 3, 0, 0, &r, &ra), HERD_RATELIMIT_GO);
    cr_assert_eq(r.wait_ns, 0);
    cr_assert_eq(r.act_ns, 0);
    /* 1 left: 3 more need 2 tokens of debt = 1 s */
    cr_assert_eq(herd_ratelimit_reserve(&rl, 3, 0, S - 1, &r, &ra), HERD_RATELIMIT_RATE);
    cr_assert_eq(ra, 1);
    cr_assert_eq(herd_ratelimit_level(&rl, 0), S); /* nothing reserved by the refusal */
    cr_assert_eq(herd_ratelimit_reserve(&rl, 3, 0, S, &r, &ra), HERD_RATELIMIT_GO);
    cr_assert_eq(r.wait_ns, S);
    cr_assert_eq(r.act_ns, S);
    /* while in debt, a take waits for the debt and its own tokens */
    cr_assert_eq(herd_ratelimit_take(&rl, 1, 0, &ra), HERD_RATELIMIT_RATE);
    cr_assert_eq(ra, S + S / 2);
    cr_assert_eq(herd_ratelimit_reserve(&rl, 5, 0, INT64_MAX, &r, &ra), HERD_RATELIMIT_TOO_BIG);
    cr_assert_eq(ra, HERD_RATELIMIT_NEVER);
    herd_ratelimit_fini(&rl);
}

/* Pinned: x/time/rate's CancelAt rule, in tokens. 1 token/s, burst 10, drained at 0.
 * R1 = 3 acts at 3 s, R2 = 2 acts at 5 s. Cancelling R1 at 1 s gives back 3 − 2 = 1
 * (R2's 2 were promised against R1's debt); cancelling R2 (now the latest) gives back 2. */
Test(ratelimit, cancel_returns_only_the_unpromised_part)
{
    struct herd_ratelimit rl;
    struct herd_ratelimit_reservation r1, r2, r3;
    mk(&rl, 1, S, 10, 0);
    cr_assert_eq(herd_ratelimit_take(&rl, 10, 0, NULL), HERD_RATELIMIT_GO);
    cr_assert_eq(herd_ratelimit_reserve(&rl, 3, 0, INT64_MAX, &r1, NULL), HERD_RATELIMIT_GO);
    cr_assert_eq(r1.act_ns, 3 * S);
    cr_assert_eq(herd_ratelimit_reserve(&rl, 2, 0, INT64_MAX, &r2, NULL), HERD_RATELIMIT_GO);
    cr_assert_eq(r2.act_ns, 5 * S);
    cr_assert_eq(herd_ratelimit_level(&rl, S), -4 * S);
    cr_assert_eq(herd_ratelimit_cancel(&rl, &r1, S), 1 * S);
    cr_assert_eq(herd_ratelimit_cancel(&rl, &r1, S), 0); /* twice: nothing */
    cr_assert_eq(herd_ratelimit_level(&rl, S), -3 * S);
    cr_assert_eq(herd_ratelimit_cancel(&rl, &r2, S), 2 * S);
    cr_assert_eq(herd_ratelimit_level(&rl, S), -1 * S);
    /* consumed: cancelling at or after the act time... after it returns nothing */
    cr_assert_eq(herd_ratelimit_reserve(&rl, 1, S, INT64_MAX, &r3, NULL), HERD_RATELIMIT_GO);
    cr_assert_eq(r3.act_ns, 3 * S);
    cr_assert_eq(herd_ratelimit_cancel(&rl, &r3, 3 * S + 1), 0);
    struct herd_ratelimit_stats st;
    herd_ratelimit_stats(&rl, &st);
    cr_assert_eq(st.canceled, 3);
    cr_assert_eq((int64_t)st.restored, 3 * S);
    herd_ratelimit_fini(&rl);
}

/* Twin buckets see the same takes; one also makes k reservations and cancels them,
 * latest first, before their act times: from then on both have exactly the same level,
 * at every later time. */
Test(ratelimit, reserve_cancel_restores_exactly)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 5);
    for (int round = 0; round < 300; round++) {
        struct herd_ratelimit a, b;
        uint64_t rate = 1 + herd_rng_below(&rng, 1000);
        int64_t per = 1 + (int64_t)herd_rng_below(&rng, (uint64_t)S);
        uint64_t burst = 1 + herd_rng_below(&rng, 50);
        mk(&a, rate, per, burst, 0);
        mk(&b, rate, per, burst, 0);
        int64_t now = 0;
        for (int i = 0; i < 20; i++) {
            now += (int64_t)herd_rng_below(&rng, (uint64_t)per / rate + 1);
            uint64_t n = 1 + herd_rng_below(&rng, burst);
            int da = herd_ratelimit_take(&a, n, now, NULL);
            cr_assert_eq(da, herd_ratelimit_take(&b, n, now, NULL));
        }
        struct herd_ratelimit_reservation rs[8];
        int k = 1 + (int)herd_rng_below(&rng, 8);
        for (int i = 0; i < k; i++)
            cr_assert_eq(herd_ratelimit_reserve(&a, 1 + herd_rng_below(&rng, burst), now, INT64_MAX,
                                                &rs[i], NULL),
                         HERD_RATELIMIT_GO);
        /* cancel at now (act >= now for every one), latest first: each gives back all */
        for (int i = k - 1; i >= 0; i--) {
            /* n·per units plus under one ns of accrual charged for rounding act_ns up */
            int64_t given = herd_ratelimit_cancel(&a, &rs[i], now);
            cr_assert_geq(given, (int64_t)rs[i].n * per);
            cr_assert_lt(given, (int64_t)rs[i].n * per + (int64_t)rate);
        }
        for (int j = 0; j < 5; j++) {
            int64_t t = now + (int64_t)herd_rng_below(&rng, (uint64_t)(burst * per / rate) + 2);
            cr_assert_eq(herd_ratelimit_level(&a, t), herd_ratelimit_level(&b, t), "round %d",
                         round);
        }
        herd_ratelimit_fini(&a);
        herd_ratelimit_fini(&b);
    }
}

/* ---- the main property: over any interval, granted <= burst + rate · time ---------- */

struct grant {
    int64_t t;
    uint64_t n;
};

static int by_time(const void *a, const void *b)
{
    const struct grant *x = a, *y = b;
    return (x->t > y->t) - (x->t < y->t);
}

/* In units (1/per token): for every s <= e among grant times,
 * sum of n·per over grants in [s, e] <= burst·per + rate·(e − s). O(G²). */
static void check_envelope(struct grant *g, size_t ng, uint64_t rate, int64_t per, uint64_t burst)
{
    qsort(g, ng, sizeof *g, by_time);
    for (size_t i = 0; i < ng; i++) {
        /* include every grant at the same instant as g[i] */
        size_t s = i;
        while (s > 0 && g[s - 1].t == g[i].t)
            s--;
        if (s != i)
            continue;
        unsigned __int128 sum = 0;
        for (size_t j = s; j < ng; j++) {
            sum += (unsigned __int128)g[j].n * (uint64_t)per;
            if (j + 1 < ng && g[j + 1].t == g[j].t)
                continue;
            unsigned __int128 allow = (unsigned __int128)burst * (uint64_t)per +
                                      (unsigned __int128)rate * (uint64_t)(g[j].t - g[s].t);
            cr_assert(sum <= allow, "over-grant in [%lld, %lld]: %llu units > %llu",
                      (long long)g[s].t, (long long)g[j].t, (unsigned long long)sum,
                      (unsigned long long)allow);
        }
    }
}

static void envelope_run(uint64_t seed, uint64_t rate, int64_t per, uint64_t burst, int steps)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, seed);
    struct herd_ratelimit rl;
    mk(&rl, rate, per, burst, 0);
    struct grant *g = calloc((size_t)steps, sizeof *g);
    size_t ng = 0;
    struct herd_ratelimit_reservation res[16];
    int used[16] = {0};
    int64_t now = 0, tok = per / (int64_t)rate + 1; /* ns per token, roughly */
    for (int i = 0; i < steps; i++) {
        /* bursts of calls at one instant, then gaps from 0 to a few token times */
        if (herd_rng_below(&rng, 3) == 0)
            now += (int64_t)herd_rng_below(&rng, (uint64_t)tok * 3);
        /* mostly small requests, sometimes up to the whole burst */
        uint64_t n = herd_rng_below(&rng, 4) == 0 ? 1 + herd_rng_below(&rng, burst)
                                                  : 1 + herd_rng_below(&rng, burst < 3 ? burst : 3);
        uint64_t op = herd_rng_below(&rng, 10);
        if (op < 6) {
            if (herd_ratelimit_take(&rl, n, now, NULL) == HERD_RATELIMIT_GO)
                g[ng++] = (struct grant){now, n};
        } else if (op < 8) {
            int slot = (int)herd_rng_below(&rng, 16);
            if (used[slot]) { /* the holder uses it: count it at its act time */
                g[ng++] = (struct grant){res[slot].act_ns, res[slot].n};
                used[slot] = 0;
            }
            int64_t mw = (int64_t)herd_rng_below(&rng, (uint64_t)tok * 12);
            if (herd_ratelimit_reserve(&rl, n, now, mw, &res[slot], NULL) == HERD_RATELIMIT_GO)
                used[slot] = 1;
        } else {
            int slot = (int)herd_rng_below(&rng, 16);
            if (used[slot]) {
                /* cancelled after its act time it counts as used (it may have been) */
                if (res[slot].act_ns < now)
                    g[ng++] = (struct grant){res[slot].act_ns, res[slot].n};
                herd_ratelimit_cancel(&rl, &res[slot], now);
                used[slot] = 0;
            }
        }
    }
    for (int s = 0; s < 16; s++)
        if (used[s])
            g[ng++] = (struct grant){res[s].act_ns, res[s].n};
    cr_assert_gt(ng, (size_t)steps / 20, "the workload granted too little to test anything");
    check_envelope(g, ng, rate, per, burst);
    free(g);
    herd_ratelimit_fini(&rl);
}

Test(ratelimit, never_over_grants_takes_reservations_cancels)
{
    for (uint64_t seed = 1; seed <= 12; seed++) {
        envelope_run(seed, 10, S, 5, 1500);
        envelope_run(seed, 1, S, 1, 1500);
        envelope_run(seed, 7, 3, 4, 1500); /* 7 per 3 ns: sub-ns tokens */
        envelope_run(seed, 1000, S, 100, 1500);
        envelope_run(seed, 3, 10 * S, 2, 1500); /* 0.3 per second */
    }
}

/* A stale clock reading (a thread that read the clock earlier) never grants early. */
Test(ratelimit, clock_going_back_grants_nothing_early)
{
    struct herd_ratelimit rl;
    int64_t ra;
    mk(&rl, 1, S, 1, 0);
    cr_assert_eq(herd_ratelimit_take(&rl, 1, 10 * S, NULL), HERD_RATELIMIT_GO);
    cr_assert_eq(herd_ratelimit_take(&rl, 1, 10 * S + S / 2, &ra), HERD_RATELIMIT_RATE);
    cr_assert_eq(ra, S / 2);
    cr_assert_eq(herd_ratelimit_take(&rl, 1, 9 * S, &ra), HERD_RATELIMIT_RATE);
    cr_assert_eq(ra, 2 * S); /* measured from the stale now: 9 s + 2 s = 11 s */
    cr_assert_eq(herd_ratelimit_take(&rl, 1, 11 * S, NULL), HERD_RATELIMIT_GO);
    herd_ratelimit_fini(&rl);
}

/* ---- per-key table ------------------------------------------------------------------ */

static struct herd_ratelimit_table *mktable(size_t keys, int64_t idle,
                                            const struct herd_allocator *a)
{
    struct herd_ratelimit_table_config c = {.bucket = {.rate = 10, .per_ns = S, .burst = 5},
                                            .max_keys = keys,
                                            .max_key_len = 16,
                                            .idle_ns = idle,
                                            .alloc = a};
    struct herd_ratelimit_table *t = NULL;
    cr_assert_eq(herd_ratelimit_table_new(&c, &t), 0);
    return t;
}

static int ktake(struct herd_ratelimit_table *t, const char *k, uint64_t n, int64_t now,
                 int64_t *ra)
{
    return herd_ratelimit_table_take(t, k, strlen(k), n, now, ra);
}

Test(ratelimit, table_keys_are_independent)
{
    struct herd_ratelimit_table *t = mktable(8, 0, NULL);
    int64_t ra;
    cr_assert_eq(ktake(t, "alice", 5, 0, &ra), HERD_RATELIMIT_GO);
    cr_assert_eq(ktake(t, "alice", 1, 0, &ra), HERD_RATELIMIT_RATE);
    cr_assert_eq(ra, 100 * MS);
    cr_assert_eq(ktake(t, "bob", 5, 0, &ra), HERD_RATELIMIT_GO);
    cr_assert_eq(herd_ratelimit_table_tokens(t, "carol", 5, 0), 5);
    cr_assert_eq(herd_ratelimit_table_tokens(t, "alice", 5, 250 * MS), 2);
    cr_assert_eq(ktake(t, "alice", 6, 0, &ra), HERD_RATELIMIT_TOO_BIG);
    char longkey[17] = "0123456789abcdef";
    cr_assert_eq(herd_ratelimit_table_take(t, longkey, 17, 1, 0, &ra), -HERD_EINVAL);
    cr_assert_eq(herd_ratelimit_table_count(t), 2);
    herd_ratelimit_table_free(t);
}

/* idle_ns is raised to the refill time (5 tokens at 10/s = 500 ms), so a dropped key
 * always had a full bucket: its next take sees exactly what it would have seen. */
Test(ratelimit, table_drops_idle_keys_losslessly)
{
    struct herd_ratelimit_table *t = mktable(4, 1, NULL);
    cr_assert_eq(herd_ratelimit_table_idle_ns(t), 500 * MS);
    struct herd_ratelimit twin;
    mk(&twin, 10, S, 5, 0);
    cr_assert_eq(ktake(t, "a", 5, 0, NULL), HERD_RATELIMIT_GO);
    cr_assert_eq(herd_ratelimit_take(&twin, 5, 0, NULL), HERD_RATELIMIT_GO);
    cr_assert_eq(ktake(t, "b", 1, 100 * MS, NULL), HERD_RATELIMIT_GO);
    cr_assert_eq(herd_ratelimit_table_expire(t, 500 * MS - 1), 0);
    cr_assert_eq(herd_ratelimit_table_expire(t, 500 * MS), 1); /* a, not yet b */
    cr_assert_eq(herd_ratelimit_table_count(t), 1);
    /* the dropped key's bucket was full, as the twin's is */
    cr_assert_eq(herd_ratelimit_tokens(&twin, 500 * MS), 5);
    for (int i = 0; i < 7; i++) {
        int64_t now = 500 * MS + i * 30 * MS;
        cr_assert_eq(ktake(t, "a", 1, now, NULL), herd_ratelimit_take(&twin, 1, now, NULL));
    }
    /* takes drop idle keys as they go */
    cr_assert_eq(ktake(t, "c", 1, 2 * S, NULL), HERD_RATELIMIT_GO);
    cr_assert_eq(herd_ratelimit_table_count(t), 1);
    struct herd_ratelimit_stats st;
    herd_ratelimit_table_stats(t, &st);
    cr_assert_eq(st.keys_idle, 3);
    cr_assert_eq(st.keys_added, 4);
    herd_ratelimit_fini(&twin);
    herd_ratelimit_table_free(t);
}

Test(ratelimit, table_full_rejects_with_its_own_reason)
{
    struct herd_ratelimit_table *t = mktable(2, 0, NULL);
    int64_t ra;
    cr_assert_eq(ktake(t, "a", 1, 0, NULL), HERD_RATELIMIT_GO);
    cr_assert_eq(ktake(t, "b", 1, 100 * MS, NULL), HERD_RATELIMIT_GO);
    cr_assert_eq(ktake(t, "c", 1, 200 * MS, &ra), HERD_RATELIMIT_FULL);
    cr_assert_eq(ra, 300 * MS);                                        /* "a" frees at 500 ms */
    cr_assert_eq(ktake(t, "a", 1, 200 * MS, NULL), HERD_RATELIMIT_GO); /* a is now newest */
    cr_assert_eq(ktake(t, "c", 1, 600 * MS, &ra), HERD_RATELIMIT_GO);  /* b (oldest) freed */
    cr_assert_eq(herd_ratelimit_table_tokens(t, "a", 1, 600 * MS), 5);
    struct herd_ratelimit_stats st;
    herd_ratelimit_table_stats(t, &st);
    cr_assert_eq(st.full, 1);
    herd_ratelimit_table_free(t);
}

/* Many keys, random order: a table key behaves exactly like its own private bucket. */
Test(ratelimit, table_matches_private_buckets)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 3);
    struct herd_ratelimit_table *t = mktable(64, 0, NULL);
    struct herd_ratelimit twins[40];
    for (int i = 0; i < 40; i++)
        mk(&twins[i], 10, S, 5, 0);
    int64_t now = 0;
    for (int i = 0; i < 20000; i++) {
        now += (int64_t)herd_rng_below(&rng, 20 * MS);
        int k = (int)herd_rng_below(&rng, 40);
        uint64_t n = 1 + herd_rng_below(&rng, 3);
        char key[8];
        snprintf(key, sizeof key, "k%d", k);
        int64_t r1, r2;
        cr_assert_eq(ktake(t, key, n, now, &r1), herd_ratelimit_take(&twins[k], n, now, &r2));
        cr_assert_eq(r1, r2);
    }
    for (int i = 0; i < 40; i++)
        herd_ratelimit_fini(&twins[i]);
    herd_ratelimit_table_free(t);
}

/* ---- allocation failure --------------------------------------------------------------- */

struct counting {
    int allocs, frees, fail_at; /* fail the fail_at-th allocation (1-based); 0: never */
};

static void *counting_realloc(void *ctx, void *p, size_t size)
{
    struct counting *c = ctx;
    if (size == 0) {
        if (p)
            c->frees++;
        free(p);
        return NULL;
    }
    if (p == NULL) {
        if (++c->allocs == c->fail_at) {
            c->allocs--;
            return NULL;
        }
    }
    return realloc(p, size);
}

Test(ratelimit, table_init_fails_each_allocation_cleanly)
{
    int total = -1;
    for (int k = 1; k < 10; k++) {
        struct counting c = {.fail_at = k};
        struct herd_allocator a = {.realloc = counting_realloc, .ctx = &c};
        struct herd_ratelimit_table_config cfg = {.bucket = {.rate = 1, .burst = 1}, .alloc = &a};
        struct herd_ratelimit_table *t = (void *)0x1;
        int rc = herd_ratelimit_table_new(&cfg, &t);
        if (rc == 0) {
            total = k - 1;
            cr_assert_eq(ktake(t, "x", 1, 0, NULL), HERD_RATELIMIT_GO);
            herd_ratelimit_table_free(t);
            cr_assert_eq(c.allocs, c.frees);
            break;
        }
        cr_assert_eq(rc, -HERD_ENOMEM, "allocation %d", k);
        cr_assert_eq(t, (void *)0x1, "out written on failure");
        cr_assert_eq(c.allocs, c.frees, "leak when allocation %d fails", k);
    }
    cr_assert_eq(total, 4, "init makes 4 allocations, each failed in turn");
}
