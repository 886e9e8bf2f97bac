/* hedge.c — the hedging gate; see herd/hedge.h.
 *
 * The latency histogram is log-linear: values below 8 ns have a bucket each; above,
 * each doubling [2^m, 2^(m+1)) is cut into 8 equal buckets, so a bucket's width is at
 * most 1/8 of its lower edge. The percentile is reported as the upper edge of the
 * bucket holding the rank-ceil(p/100 x n) sample, hence in [true, true x 1.125]. 304
 * buckets cover 0 ns to 2^40 ns (~18 min); larger values land in the last bucket.
 *
 * Invariants: total == sum(bucket) (under mu); delay (atomic) is the fixed delay until
 * min_samples latencies were recorded, then max(min_delay, the percentile) as of the
 * last refresh, which happens at most 32 samples apart and at every halving.
 * Cost: decide reads two atomics and, past every other check, takes the budget's mutex
 * once; record takes the gate's mutex for an increment, and every 32 samples scans the
 * buckets (~300 adds). Counters are relaxed atomics: each is exact, a stats() snapshot
 * is not a single instant across counters.
 */
#include <herd/error.h>
#include <herd/hedge.h>

#include "alloc_int.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>

#define SUB_BITS 3
#define SUB (1 << SUB_BITS)
#define MAX_MSB 39 /* values clamp to 2^40 - 1 */
#define NBUCKETS ((MAX_MSB - SUB_BITS + 2) * SUB)
#define REFRESH_EVERY 32

struct herd_hedge {
    pthread_mutex_t mu; /* guards the histogram fields below */
    struct herd_hedge_config cfg;
    uint64_t total;         /* sum of bucket[], after halvings */
    uint64_t samples;       /* every latency ever recorded */
    uint32_t since_refresh; /* samples since the delay was last computed */
    uint32_t bucket[NBUCKETS];
    _Atomic int64_t delay;
    atomic_bool enabled;
    atomic_uint_fast64_t hedged;
    atomic_uint_fast64_t rejected[HERD_HEDGE_NREASONS];
    atomic_uint_fast64_t recorded;
};

static int msb64(uint64_t v)
{
#if defined(__GNUC__) || defined(__clang__)
    return 63 - __builtin_clzll(v);
#else
    int m = 0;
    while (v >>= 1)
        m++;
    return m;
#endif
}

static int bucket_of(int64_t ns)
{
    uint64_t v = ns < 0 ? 0 : (uint64_t)ns;
    if (v >= (UINT64_C(1) << (MAX_MSB + 1)))
        v = (UINT64_C(1) << (MAX_MSB + 1)) - 1;
    if (v < SUB)
        return (int)v;
    int m = msb64(v);
    return (m - SUB_BITS + 1) * SUB + (int)((v >> (m - SUB_BITS)) & (SUB - 1));
}

/* The largest value that lands in bucket @p i. */
static int64_t bucket_hi(int i)
{
    if (i < SUB)
        return i;
    int m = i / SUB + SUB_BITS - 1;
    int64_t sub = i % SUB;
    int64_t lo = (SUB + sub) << (m - SUB_BITS);
    return lo + (INT64_C(1) << (m - SUB_BITS)) - 1;
}

void herd_hedge_defaults(struct herd_hedge_config *cfg)
{
    if (!cfg)
        return;
    *cfg = (struct herd_hedge_config){0};
    cfg->delay_ns = 10 * INT64_C(1000000);
    cfg->percentile = 95.0;
    cfg->min_delay_ns = INT64_C(1000000);
    cfg->min_samples = 100;
    cfg->window = 1024;
    cfg->max_hedges = 1;
}

int herd_hedge_new(const struct herd_hedge_config *cfg, struct herd_hedge **out)
{
    struct herd_hedge_config def;
    if (!cfg) {
        herd_hedge_defaults(&def);
        cfg = &def;
    }
    if (!out)
        return -HERD_EINVAL;
    if (cfg->delay_ns < 0 || cfg->min_delay_ns < 0 || cfg->max_hedges < 1 || cfg->window < 64 ||
        !(cfg->percentile >= 0.0 && cfg->percentile < 100.0))
        return -HERD_EINVAL;
    struct herd_hedge *h = herd__calloc(cfg->alloc, 1, sizeof *h);
    if (!h)
        return -HERD_ENOMEM;
    int rc = pthread_mutex_init(&h->mu, NULL);
    if (rc != 0) {
        herd__free(cfg->alloc, h);
        return -rc;
    }
    h->cfg = *cfg;
    int64_t d = cfg->delay_ns > cfg->min_delay_ns ? cfg->delay_ns : cfg->min_delay_ns;
    atomic_init(&h->delay, d);
    atomic_init(&h->enabled, true);
    atomic_init(&h->hedged, 0);
    atomic_init(&h->recorded, 0);
    for (int i = 0; i < HERD_HEDGE_NREASONS; i++)
        atomic_init(&h->rejected[i], 0);
    *out = h;
    return 0;
}

void herd_hedge_free(struct herd_hedge *h)
{
    if (!h)
        return;
    pthread_mutex_destroy(&h->mu);
    herd__free(h->cfg.alloc, h);
}

/* Under mu: the percentile of the histogram, floored at min_delay. */
static void refresh(struct herd_hedge *h)
{
    h->since_refresh = 0;
    if (h->total == 0)
        return;
    uint64_t rank = (uint64_t)ceil(h->cfg.percentile / 100.0 * (double)h->total);
    if (rank < 1)
        rank = 1;
    uint64_t cum = 0;
    int i = 0;
    for (; i < NBUCKETS - 1; i++) {
        cum += h->bucket[i];
        if (cum >= rank)
            break;
    }
    int64_t d = bucket_hi(i);
    if (d < h->cfg.min_delay_ns)
        d = h->cfg.min_delay_ns;
    atomic_store_explicit(&h->delay, d, memory_order_relaxed);
}

void herd_hedge_record(struct herd_hedge *h, int64_t latency_ns)
{
    assert(h);
    int i = bucket_of(latency_ns);
    atomic_fetch_add_explicit(&h->recorded, 1, memory_order_relaxed);
    if (h->cfg.percentile <= 0.0)
        return; /* a fixed delay has no use for the histogram */
    pthread_mutex_lock(&h->mu);
    h->bucket[i]++;
    h->total++;
    h->samples++;
    h->since_refresh++;
    bool halved = false;
    if (h->total >= h->cfg.window) {
        /* Exponential forgetting: a sample's weight halves every `window` samples. */
        h->total = 0;
        for (int k = 0; k < NBUCKETS; k++) {
            h->bucket[k] >>= 1;
            h->total += h->bucket[k];
        }
        halved = true;
    }
    uint64_t first = h->cfg.min_samples ? h->cfg.min_samples : 1;
    if (h->samples >= first && (halved || h->since_refresh >= REFRESH_EVERY || h->samples == first))
        refresh(h);
    pthread_mutex_unlock(&h->mu);
}

int64_t herd_hedge_delay(struct herd_hedge *h)
{
    assert(h);
    return atomic_load_explicit(&h->delay, memory_order_relaxed);
}

int64_t herd_hedge_due(struct herd_hedge *h, int64_t sent_ns, uint32_t hedges_sent)
{
    int64_t d = herd_hedge_delay(h);
    uint64_t k = (uint64_t)hedges_sent + 1;
    if (d > 0 && (uint64_t)d > (uint64_t)(INT64_MAX - (sent_ns > 0 ? sent_ns : 0)) / k)
        return INT64_MAX;
    return sent_ns + d * (int64_t)k;
}

void herd_hedge_set_enabled(struct herd_hedge *h, bool on)
{
    assert(h);
    atomic_store(&h->enabled, on);
}

static int reject(struct herd_hedge *h, int reason)
{
    atomic_fetch_add_explicit(&h->rejected[reason], 1, memory_order_relaxed);
    return reason;
}

int herd_hedge_decide(struct herd_hedge *h, bool idempotent, uint32_t hedges_sent, int64_t sent_ns,
                      int64_t now_ns, struct herd_budget_ticket *t)
{
    assert(h);
    if (!t)
        return -HERD_EINVAL;
    if (!atomic_load_explicit(&h->enabled, memory_order_relaxed))
        return reject(h, HERD_HEDGE_DISABLED);
    if (!idempotent)
        return reject(h, HERD_HEDGE_NOT_IDEMPOTENT);
    if (hedges_sent >= h->cfg.max_hedges)
        return reject(h, HERD_HEDGE_LIMIT);
    if (now_ns < herd_hedge_due(h, sent_ns, hedges_sent))
        return reject(h, HERD_HEDGE_TOO_EARLY);
    struct herd_budget_ticket got = {.cost = 0, .kind = HERD_BUDGET_HEDGE, .held = false};
    if (h->cfg.budget &&
        herd_budget_decide(h->cfg.budget, HERD_BUDGET_HEDGE, now_ns, &got) != HERD_BUDGET_GO)
        return reject(h, HERD_HEDGE_BUDGET);
    atomic_fetch_add_explicit(&h->hedged, 1, memory_order_relaxed);
    *t = got;
    return HERD_HEDGE_GO;
}

void herd_hedge_done(struct herd_hedge *h, struct herd_budget_ticket *t,
                     enum herd_budget_outcome outcome, int64_t now_ns)
{
    assert(h);
    if (!t)
        return;
    if (h->cfg.budget)
        herd_budget_release(h->cfg.budget, t, outcome, now_ns);
    t->held = false;
}

void herd_hedge_stats(struct herd_hedge *h, struct herd_hedge_stats *out)
{
    assert(h);
    if (!out)
        return;
    out->hedged = atomic_load_explicit(&h->hedged, memory_order_relaxed);
    for (int i = 0; i < HERD_HEDGE_NREASONS; i++)
        out->rejected[i] = atomic_load_explicit(&h->rejected[i], memory_order_relaxed);
    out->samples = atomic_load_explicit(&h->recorded, memory_order_relaxed);
    out->delay_ns = herd_hedge_delay(h);
}

const char *herd_hedge_reason_name(int reason)
{
    switch (reason) {
    case HERD_HEDGE_GO:
        return "go";
    case HERD_HEDGE_DISABLED:
        return "disabled";
    case HERD_HEDGE_NOT_IDEMPOTENT:
        return "not_idempotent";
    case HERD_HEDGE_LIMIT:
        return "limit";
    case HERD_HEDGE_TOO_EARLY:
        return "too_early";
    case HERD_HEDGE_BUDGET:
        return "budget";
    }
    return "unknown";
}
