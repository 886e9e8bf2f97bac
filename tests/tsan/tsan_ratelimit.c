/* tsan_ratelimit.c — the token bucket and the keyed table hammered by 4 threads under
 * ThreadSanitizer (a plain program printing TAP: Criterion's runner crashes under TSan).
 *
 * Invariant checked: never over-grant. Threads share a fake clock (an atomic counter each
 * call advances) or the real CLOCK_MONOTONIC, so their now_ns readings reach the mutex out
 * of order, as in a real server; whatever the order, the tokens granted over the run stay
 * within burst + rate · elapsed, per bucket and per key. */
#include <herd/clock.h>
#include <herd/ratelimit.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define THREADS 4
#define OPS 100000

static int failures, testno;

static void ok(int cond, const char *what)
{
    testno++;
    printf("%s %d - %s\n", cond ? "ok" : "not ok", testno, what);
    if (!cond)
        failures++;
}

/* ---- 1: one bucket, fake clock -------------------------------------------------------- */

static struct herd_ratelimit bucket;
static _Atomic int64_t fake_now;
static _Atomic uint64_t granted_tokens;

static void *take_fake(void *arg)
{
    uint64_t mine = 0, n = 1 + (uint64_t)(uintptr_t)arg % 3;
    for (int i = 0; i < OPS; i++) {
        int64_t now = atomic_fetch_add(&fake_now, 37) + 37;
        if (herd_ratelimit_take(&bucket, n, now, NULL) == HERD_RATELIMIT_GO)
            mine += n;
    }
    atomic_fetch_add(&granted_tokens, mine);
    return NULL;
}

/* ---- 2: one bucket, real clock, reservations and cancels -------------------------------- */

static _Atomic int64_t max_act;

static void *reserve_real(void *arg)
{
    uint64_t mine = 0;
    unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u;
    for (int i = 0; i < OPS / 4; i++) {
        int64_t now = herd_clock_monotonic_ns();
        seed = seed * 1103515245u + 12345u;
        uint64_t n = 1 + (seed >> 16) % 4;
        if (seed % 3 == 0) {
            if (herd_ratelimit_take(&bucket, n, now, NULL) == HERD_RATELIMIT_GO)
                mine += n;
            continue;
        }
        struct herd_ratelimit_reservation r;
        if (herd_ratelimit_reserve(&bucket, n, now, 2 * HERD_NS_PER_MS, &r, NULL) !=
            HERD_RATELIMIT_GO)
            continue;
        if (seed % 5 == 0) { /* the holder gives up: it never uses these tokens */
            herd_ratelimit_cancel(&bucket, &r, herd_clock_monotonic_ns());
            continue;
        }
        mine += n;
        int64_t m = atomic_load(&max_act);
        while (r.act_ns > m && !atomic_compare_exchange_weak(&max_act, &m, r.act_ns)) {
        }
    }
    atomic_fetch_add(&granted_tokens, mine);
    return NULL;
}

/* ---- 3: keyed table, fake clock ----------------------------------------------------------- */

#define KEYS 12
static struct herd_ratelimit_table *table;
static _Atomic uint64_t per_key[KEYS];
static _Atomic uint64_t full_rejects;

static void *take_keyed(void *arg)
{
    unsigned seed = 1 + (unsigned)(uintptr_t)arg;
    uint64_t mine[KEYS] = {0};
    for (int i = 0; i < OPS; i++) {
        int64_t now = atomic_fetch_add(&fake_now, 101) + 101;
        seed = seed * 1103515245u + 12345u;
        int k = (int)((seed >> 16) % KEYS);
        char key[8];
        snprintf(key, sizeof key, "key%d", k);
        int d = herd_ratelimit_table_take(table, key, strlen(key), 1, now, NULL);
        if (d == HERD_RATELIMIT_GO)
            mine[k]++;
        else if (d == HERD_RATELIMIT_FULL)
            atomic_fetch_add(&full_rejects, 1);
    }
    for (int k = 0; k < KEYS; k++)
        atomic_fetch_add(&per_key[k], mine[k]);
    return NULL;
}

static void run(void *(*fn)(void *))
{
    pthread_t th[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, fn, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
}

int main(void)
{
    printf("1..7\n");
    char msg[160];

    /* 1. 1 token per 1000 ns, burst 50, clock advancing 37 ns per call */
    struct herd_ratelimit_config c = {.rate = 1, .per_ns = 1000, .burst = 50};
    herd_ratelimit_init(&bucket, &c, 0);
    run(take_fake);
    int64_t T = atomic_load(&fake_now);
    uint64_t g = atomic_load(&granted_tokens), bound = 50 + (uint64_t)T / 1000;
    snprintf(msg, sizeof msg, "fake clock: granted %" PRIu64 " <= burst + rate*T = %" PRIu64, g,
             bound);
    ok(g <= bound, msg);
    /* everyone is hammering, so the bucket is drained almost continuously */
    snprintf(msg, sizeof msg, "fake clock: granted %" PRIu64 " >= 90%% of rate*T", g);
    ok(g * 10 >= (uint64_t)T / 1000 * 9, msg);
    struct herd_ratelimit_stats st;
    herd_ratelimit_stats(&bucket, &st);
    ok(st.tokens == g && st.granted + st.rate == (uint64_t)THREADS * OPS,
       "counters add up: every call is one grant or one reject");
    herd_ratelimit_fini(&bucket);

    /* 2. real clock: 200 000 tokens/s, burst 20, takes + reservations + cancels */
    c = (struct herd_ratelimit_config){.rate = 200000, .per_ns = HERD_NS_PER_S, .burst = 20};
    int64_t t0 = herd_clock_monotonic_ns();
    herd_ratelimit_init(&bucket, &c, t0);
    atomic_store(&granted_tokens, 0);
    atomic_store(&max_act, t0);
    run(reserve_real);
    int64_t t1 = herd_clock_monotonic_ns();
    int64_t end = atomic_load(&max_act) > t1 ? atomic_load(&max_act) : t1;
    g = atomic_load(&granted_tokens);
    bound = 20 + (uint64_t)((end - t0) / 5000); /* 200 000/s = one per 5 µs */
    snprintf(msg, sizeof msg,
             "real clock with reservations: granted %" PRIu64 " <= %" PRIu64 " over %.3f s", g,
             bound, (double)(end - t0) / 1e9);
    ok(g <= bound, msg);
    int64_t later = end + HERD_NS_PER_S;
    ok(herd_ratelimit_tokens(&bucket, later) == 20, "after idle exactly burst is available");
    herd_ratelimit_fini(&bucket);

    /* 3. keyed: 12 keys in an 8-slot table, 10 tokens per 100 µs per key, burst 5 */
    struct herd_ratelimit_table_config tc = {
        .bucket = {.rate = 10, .per_ns = 100000, .burst = 5}, .max_keys = 8, .max_key_len = 8};
    herd_ratelimit_table_new(&tc, &table);
    atomic_store(&fake_now, 0);
    run(take_keyed);
    T = atomic_load(&fake_now);
    int bad = 0;
    for (int k = 0; k < KEYS; k++) {
        /* a key may be dropped and re-added many times: each time it was idle and full,
         * so the bound for its whole history is still burst + rate·T */
        uint64_t b = 5 + (uint64_t)T * 10 / 100000;
        if (atomic_load(&per_key[k]) > b) {
            printf("# key%d: %" PRIu64 " > %" PRIu64 "\n", k, atomic_load(&per_key[k]), b);
            bad++;
        }
    }
    ok(bad == 0, "keyed: no key granted more than burst + rate*T");
    ok(herd_ratelimit_table_count(table) <= 8, "keyed: the table never holds more than max_keys");
    herd_ratelimit_table_free(table);

    printf("# %d failed\n", failures);
    return failures ? 1 : 0;
}
