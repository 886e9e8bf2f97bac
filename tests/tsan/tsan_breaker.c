/* tsan_breaker.c — four threads hammer one breaker with allow/record under
 * ThreadSanitizer, on a shared fake clock that each operation advances (so threads
 * reach the lock with times out of order, as real threads do).
 *
 * Checks, printed as TAP:
 *  1. every transition the callback sees is legal and chains from the previous one;
 *  2. half-open probes in flight <= K: the probe permits callers hold for one half-open
 *     episode (one epoch) never exceed K, and the breaker's own count never does;
 *  3. the counters add up: every GO was recorded once (as counted or late), and the
 *     state query agrees with the last transition;
 *  4. with probes that never report back and short probe timeouts, half-open never
 *     wedges: once the clock passes the timeouts, calls get through again.
 * A plain program, not Criterion: Criterion's runner crashes under TSan.
 */
#include <herd/breaker.h>
#include <herd/rng.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS INT64_C(1000000)
#define S INT64_C(1000000000)
#define THREADS 4
#define OPS 150000
#define K 2
#define EPOCHS 4096
#define EDGE(a, b) (1u << (HERD_BREAKER_##a * 5 + HERD_BREAKER_##b))
#define ALL_EDGES                                                                                  \
    (EDGE(CLOSED, OPEN) | EDGE(OPEN, HALF_OPEN) | EDGE(HALF_OPEN, CLOSED) | EDGE(HALF_OPEN, OPEN))

struct watch { /* written only by the callback, i.e. under the breaker's mutex */
    uint64_t n, illegal, chain_breaks;
    enum herd_breaker_state last;
    unsigned edges; /* bit from*5+to of automatic edges seen */
};

static struct herd_breaker *br;
static struct watch w = {.last = HERD_BREAKER_CLOSED};
static _Atomic int64_t fake_clock;
static _Atomic uint64_t gos, records, probe_excess, inflight_excess;
static bool drop_probes; /* phase 2: some probes never report; set before threads start */

static pthread_mutex_t held_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned held[EPOCHS]; /* probe permits held by callers, per epoch mod EPOCHS */

static bool legal(const struct herd_breaker_transition *t)
{
    if (t->cause == HERD_BREAKER_CAUSE_MANUAL)
        return t->to == HERD_BREAKER_ISOLATED || t->to == HERD_BREAKER_FORCED_CLOSED ||
               t->to == HERD_BREAKER_CLOSED;
    return (t->from == HERD_BREAKER_CLOSED && t->to == HERD_BREAKER_OPEN) ||
           (t->from == HERD_BREAKER_OPEN && t->to == HERD_BREAKER_HALF_OPEN) ||
           (t->from == HERD_BREAKER_HALF_OPEN && t->to == HERD_BREAKER_CLOSED) ||
           (t->from == HERD_BREAKER_HALF_OPEN && t->to == HERD_BREAKER_OPEN);
}

static void on_transition(void *ctx, const struct herd_breaker_transition *t)
{
    struct watch *wt = ctx;
    if (!legal(t))
        wt->illegal++;
    if (t->from != wt->last || t->seq != wt->n + 1)
        wt->chain_breaks++;
    if (t->cause != HERD_BREAKER_CAUSE_MANUAL)
        wt->edges |= 1u << (t->from * 5 + t->to);
    wt->last = t->to;
    wt->n++;
}

static int64_t tick(struct herd_rng *rng)
{
    return atomic_fetch_add(&fake_clock, (int64_t)herd_rng_below(rng, 3 * MS));
}

static void *worker(void *arg)
{
    struct herd_rng rng;
    herd_rng_stream(&rng, 2024, (uint64_t)(uintptr_t)arg);
    struct herd_breaker_permit mine[8];
    int nmine = 0;
    for (int i = 0; i < OPS; i++) {
        int64_t now = tick(&rng);
        /* The dependency is sick in the first 4 s of every 10 s of fake time. */
        bool sick = (now / S) % 10 < 4;
        if (nmine < 8 && herd_rng_below(&rng, 2) == 0) {
            struct herd_breaker_permit p;
            if (herd_breaker_allow(br, now, &rng, &p) != HERD_BREAKER_GO)
                continue;
            atomic_fetch_add(&gos, 1);
            if (p.probe) {
                pthread_mutex_lock(&held_mu);
                if (++held[p.epoch % EPOCHS] > K)
                    atomic_fetch_add(&probe_excess, 1);
                pthread_mutex_unlock(&held_mu);
            }
            mine[nmine++] = p;
        } else if (nmine > 0) {
            int j = (int)herd_rng_below(&rng, (uint64_t)nmine);
            struct herd_breaker_permit p = mine[j];
            mine[j] = mine[--nmine];
            if (p.probe) {
                /* Decrement before record: our count never exceeds the breaker's. */
                pthread_mutex_lock(&held_mu);
                held[p.epoch % EPOCHS]--;
                pthread_mutex_unlock(&held_mu);
                if (drop_probes && herd_rng_below(&rng, 3) == 0) {
                    atomic_fetch_add(&records, 1); /* abandoned: the timeout decides */
                    continue;
                }
            }
            bool fail = herd_rng_uniform(&rng) < (sick ? 0.9 : 0.02);
            herd_breaker_record(br, &p, fail ? HERD_BREAKER_FAILURE : HERD_BREAKER_SUCCESS,
                                (int64_t)herd_rng_below(&rng, 50) * MS, tick(&rng));
            atomic_fetch_add(&records, 1);
        }
        if (i % 64 == 0) {
            struct herd_breaker_stats st;
            herd_breaker_stats(br, now, &st);
            if (st.probes_in_flight > K ||
                (st.state != HERD_BREAKER_HALF_OPEN && st.probes_in_flight != 0))
                atomic_fetch_add(&inflight_excess, 1);
        }
    }
    for (int j = 0; j < nmine; j++) {
        if (mine[j].probe) {
            pthread_mutex_lock(&held_mu);
            held[mine[j].epoch % EPOCHS]--;
            pthread_mutex_unlock(&held_mu);
        }
        herd_breaker_record(br, &mine[j], HERD_BREAKER_SUCCESS, 0, tick(&rng));
        atomic_fetch_add(&records, 1);
    }
    return NULL;
}

static int run_phase(bool drop)
{
    struct herd_breaker_config c;
    herd_breaker_config_default(&c);
    c.window = HERD_BREAKER_WINDOW_TIME;
    c.window_ns = 2 * S;
    c.min_calls = 20;
    c.open_base_ns = 200 * MS;
    c.open_cap_ns = 2 * S;
    c.half_open_probes = K;
    c.half_open_successes = 4;
    /* Phase 1: probes always report, so a long timeout; phase 2: short. */
    c.probe_timeout_ns = drop ? 100 * MS : 3600 * S;
    c.on_transition = on_transition;
    c.on_transition_ctx = &w;
    if (herd_breaker_new(&c, &br) != 0)
        return -1;
    drop_probes = drop;
    pthread_t th[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        if (pthread_create(&th[i], NULL, worker, (void *)(i + (drop ? 10 : 0))) != 0)
            return -1;
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    return 0;
}

int main(void)
{
    int failed = 0;
    printf("1..4\n");
    if (run_phase(false) != 0) {
        printf("Bail out! could not create the breaker or threads\n");
        return 1;
    }
    struct herd_breaker_stats st;
    herd_breaker_stats(br, atomic_load(&fake_clock), &st);

    bool ok1 = w.illegal == 0 && w.chain_breaks == 0 && w.n > 20 && w.edges == ALL_EDGES;
    printf("%s 1 - only legal transitions (%llu, illegal %llu, chain breaks %llu, edges %#x)\n",
           ok1 ? "ok" : "not ok", (unsigned long long)w.n, (unsigned long long)w.illegal,
           (unsigned long long)w.chain_breaks, w.edges);
    failed += !ok1;

    bool ok2 =
        atomic_load(&probe_excess) == 0 && atomic_load(&inflight_excess) == 0 && st.probes > 0;
    printf("%s 2 - half-open probes in flight <= %d (%llu probes, excess %llu/%llu)\n",
           ok2 ? "ok" : "not ok", K, (unsigned long long)st.probes,
           (unsigned long long)atomic_load(&probe_excess),
           (unsigned long long)atomic_load(&inflight_excess));
    failed += !ok2;

    uint64_t counted = st.successes + st.failures + st.ignored + st.late;
    bool ok3 = st.allowed == atomic_load(&gos) && atomic_load(&records) == st.allowed &&
               counted == st.allowed && st.transitions == w.n && herd_breaker_state(br) == w.last;
    printf("%s 3 - counters add up (allowed %llu, recorded %llu, late %llu, rejects %llu)\n",
           ok3 ? "ok" : "not ok", (unsigned long long)st.allowed, (unsigned long long)counted,
           (unsigned long long)st.late,
           (unsigned long long)(st.rejected_open + st.rejected_half_open_full));
    failed += !ok3;
    herd_breaker_free(br);

    /* Phase 2: a third of the probes are abandoned. */
    w = (struct watch){.last = HERD_BREAKER_CLOSED};
    memset(held, 0, sizeof held);
    if (run_phase(true) != 0) {
        printf("Bail out! could not create the breaker or threads\n");
        return 1;
    }
    herd_breaker_stats(br, atomic_load(&fake_clock), &st);
    /* After the threads are gone, past every timeout and open interval, a healthy call
     * must get through within a few attempts. */
    struct herd_rng rng;
    herd_rng_seed(&rng, 1);
    int64_t now = atomic_load(&fake_clock) + 10 * S;
    int go = 0;
    for (int i = 0; i < 100 && !go; i++) {
        struct herd_breaker_permit p;
        if (herd_breaker_allow(br, now, &rng, &p) == HERD_BREAKER_GO) {
            herd_breaker_record(br, &p, HERD_BREAKER_SUCCESS, 0, now);
            go = 1;
        }
        now += 3 * S;
    }
    bool ok4 = go && st.probe_timeouts > 0 && w.illegal == 0 && w.chain_breaks == 0 &&
               atomic_load(&probe_excess) == 0 && atomic_load(&inflight_excess) == 0;
    printf("%s 4 - never wedges with abandoned probes (%llu probe timeouts, illegal %llu)\n",
           ok4 ? "ok" : "not ok", (unsigned long long)st.probe_timeouts,
           (unsigned long long)w.illegal);
    failed += !ok4;
    herd_breaker_free(br);
    return failed ? 1 : 0;
}
