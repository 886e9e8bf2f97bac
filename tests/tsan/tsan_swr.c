/* tsan_swr.c — the swr cache hammered from 4 threads, under ThreadSanitizer.
 *
 * A plain program printing TAP. Time is a shared fake clock: an atomic counter every
 * operation advances by one tick, so entries go fresh -> stale -> refreshed many times
 * over. Hot keys (0..3) have a stale window longer than the run, so only the refresh
 * turn moves them on: a thread that gets STALE_REFRESH refreshes (set) or fails
 * (refresh_failed); others mark keys expired. Churn keys (4..7) live in a second,
 * smaller cache, where they are also deleted, refilled on a miss and evicted
 * (max_entries is below their count); the hot cache never evicts, so a hot key's turn
 * can move only through its holder. Checks:
 *   1. at most one refresher per hot key at any moment (the turn's holder lets go
 *      just before its set/refresh_failed, which is what hands the turn back);
 *   2. every value read is intact and belongs to its key (no torn or foreign bytes);
 *   3. no refresh turn is lost: after the run every hot key hands out a turn again
 *      (a lost turn would leave it STALE forever: a hang in disguise);
 *   4. the get() counters add up with the calls the threads made.
 */
#include <herd/error.h>
#include <herd/rng.h>
#include <herd/swr.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define THREADS 4
#define HOT 4
#define KEYS 8
#define ROUNDS 20000

struct val {
    uint32_t key, writer, seq, check;
};

static struct herd_swr *C, *CHURN;
static atomic_llong clock_ticks;
static atomic_int refreshing[HOT];
static atomic_int max_refreshing;
static atomic_long bad, gets;

static int64_t tick(void)
{
    return (int64_t)atomic_fetch_add(&clock_ticks, 1) + 1;
}

static struct val make_val(uint32_t key, uint32_t writer, uint32_t seq)
{
    struct val v = {key, writer, seq, 0};
    v.check = (uint32_t)herd_hash64(((uint64_t)key << 40) ^ ((uint64_t)writer << 32) ^ seq);
    return v;
}

static bool intact(const struct val *v, uint32_t key)
{
    struct val w = make_val(v->key, v->writer, v->seq);
    return v->key == key && v->check == w.check;
}

static void keyname(char *b, size_t n, int k)
{
    snprintf(b, n, "key%d", k);
}

static void *hammer(void *arg)
{
    uint32_t me = (uint32_t)(uintptr_t)arg;
    struct herd_rng rng;
    herd_rng_stream(&rng, 5, me);
    for (uint32_t i = 0; i < ROUNDS; i++) {
        int k = (int)herd_rng_below(&rng, KEYS);
        char key[8];
        keyname(key, sizeof key, k);
        size_t kl = strlen(key);
        struct herd_swr *c = k < HOT ? C : CHURN;
        struct val v;
        struct herd_swr_info info;
        int st = herd_swr_get(c, key, kl, tick(), &v, sizeof v, &info);
        atomic_fetch_add(&gets, 1);
        if (st != HERD_SWR_MISS && (info.len != sizeof v || !intact(&v, (uint32_t)k)))
            atomic_fetch_add(&bad, 1);
        struct val nv = make_val((uint32_t)k, me, i);
        if (st == HERD_SWR_STALE_REFRESH && k < HOT) {
            int now = atomic_fetch_add(&refreshing[k], 1) + 1;
            int mx = atomic_load(&max_refreshing);
            while (now > mx && !atomic_compare_exchange_weak(&max_refreshing, &mx, now))
                ;
            bool fail = herd_rng_below(&rng, 4) == 0;
            atomic_fetch_sub(&refreshing[k], 1);
            if (fail)
                herd_swr_refresh_failed(c, key, kl, tick());
            else
                herd_swr_set(c, key, kl, &nv, sizeof nv, tick(), NULL, 3, &rng);
        } else if (st == HERD_SWR_STALE_REFRESH || st == HERD_SWR_MISS) {
            herd_swr_set(c, key, kl, &nv, sizeof nv, tick(), NULL, 3, &rng);
        }
        uint64_t r = herd_rng_below(&rng, 50);
        if (r == 0)
            herd_swr_mark_expired(c, key, kl, tick());
        else if (r == 1 && k >= HOT)
            herd_swr_delete(c, key, kl);
    }
    return NULL;
}

static int n_test, failures;

static void check(bool ok, const char *what)
{
    printf("%sok %d - %s\n", ok ? "" : "not ", ++n_test, what);
    if (!ok)
        failures++;
}

int main(void)
{
    struct herd_swr_config cfg = {
        .max_entries = HOT, /* every hot key fits: no eviction */
        .max_key_len = 8,
        .max_value_len = sizeof(struct val),
        .ttl_ns = 64,
        .stale_ns = INT64_C(1) << 40,
        .retry_base_ns = 8,
        .retry_cap_ns = 64,
        .jitter_pct = 25,
    };
    pthread_t th[THREADS];
    printf("1..4\n");
    struct herd_swr_config churn = cfg;
    churn.max_entries = KEYS - HOT - 1; /* below the churn keys' count: evictions */
    churn.stale_ns = 32;
    if (herd_swr_new(&cfg, &C) != 0 || herd_swr_new(&churn, &CHURN) != 0) {
        printf("Bail out! cannot make the cache\n");
        return 1;
    }
    for (int k = 0; k < HOT; k++) {
        char key[8];
        struct val v = make_val((uint32_t)k, 0, 0);
        keyname(key, sizeof key, k);
        herd_swr_set(C, key, strlen(key), &v, sizeof v, 0, NULL, 3, NULL);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, hammer, (void *)(uintptr_t)(i + 1));
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);

    struct herd_swr_stats st, st2;
    herd_swr_stats(C, &st);
    herd_swr_stats(CHURN, &st2);
    printf("# gets %ld; hot cache: hits %llu stale %llu refresh %llu misses %llu failures %llu;"
           " churn cache: evictions %llu\n",
           atomic_load(&gets), (unsigned long long)st.hits, (unsigned long long)st.stale,
           (unsigned long long)st.stale_refresh, (unsigned long long)st.misses,
           (unsigned long long)st.refresh_failures, (unsigned long long)st2.evictions);
    check(atomic_load(&max_refreshing) == 1 && st.stale_refresh > 0,
          "at most one refresher per hot key at any moment");
    check(atomic_load(&bad) == 0, "every value read is intact and belongs to its key");
    /* Far past any backoff, each hot key that is still cached must hand out a turn. */
    bool turns = true;
    int64_t later = atomic_load(&clock_ticks) + 1000;
    for (int k = 0; k < HOT; k++) {
        char key[8];
        keyname(key, sizeof key, k);
        herd_swr_mark_expired(C, key, strlen(key), later);
        int s = herd_swr_get(C, key, strlen(key), later, NULL, 0, NULL);
        if (s != HERD_SWR_STALE_REFRESH)
            turns = false;
    }
    check(turns, "no refresh turn was lost");
    check(st.hits + st.stale + st.stale_refresh + st.misses + st2.hits + st2.stale +
                  st2.stale_refresh + st2.misses ==
              (uint64_t)atomic_load(&gets) && st.misses == 0 && st2.evictions > 0,
          "get() counters add up");
    herd_swr_free(C);
    herd_swr_free(CHURN);
    return failures ? 1 : 0;
}
