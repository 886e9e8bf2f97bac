/* throttle.c — SRE-book adaptive throttling; see herd/throttle.h.
 *
 * Layout: one allocation holding the struct and its B buckets (a flexible array), one
 * mutex. Each bucket holds the requests and accepts counted while now_ns fell in it.
 * Invariants (under mu): requests/accepts are the sums over the live buckets, i.e. the
 * buckets numbered (cur − B, cur]; last_ns never decreases.
 * Cost: O(1) per call plus one clear per elapsed bucket (at most B per call).
 */
#include <herd/error.h>
#include <herd/throttle.h>

#include <assert.h>
#include <pthread.h>

#include "alloc_int.h"

struct bucket {
    uint64_t requests, accepts;
};

struct herd_throttle {
    pthread_mutex_t mu;
    const struct herd_allocator *alloc;
    double k;
    int64_t bucket_ns;
    uint32_t nb;
    int64_t cur; /* bucket number (floor(now / bucket_ns)) of the newest bucket */
    int64_t last_ns;
    bool started; /* cur and last_ns hold real values */
    uint64_t requests, accepts;
    struct herd_throttle_stats st;
    struct bucket b[];
};

double herd_throttle_probability(double requests, double accepts, double k)
{
    double p = (requests - k * accepts) / (requests + 1.0);
    return p > 0.0 ? p : 0.0;
}

int herd_throttle_new(const struct herd_throttle_config *cfg, struct herd_throttle **out)
{
    if (!out)
        return -HERD_EINVAL;
    struct herd_throttle_config c = {0};
    if (cfg)
        c = *cfg;
    if (c.k == 0.0)
        c.k = HERD_THROTTLE_K_DEFAULT;
    if (c.window_ns == 0)
        c.window_ns = HERD_THROTTLE_WINDOW_DEFAULT_NS;
    if (c.buckets == 0)
        c.buckets = HERD_THROTTLE_BUCKETS_DEFAULT;
    if (!(c.k >= 1.0 && c.k < 1e9) || c.window_ns < (int64_t)c.buckets)
        return -HERD_EINVAL;
    if (c.buckets > HERD_THROTTLE_MAX_BUCKETS)
        return -HERD_EINVAL;

    struct herd_throttle *t =
        herd__calloc(c.alloc, 1, sizeof *t + (size_t)c.buckets * sizeof(struct bucket));
    if (!t)
        return -HERD_ENOMEM;
    int err = pthread_mutex_init(&t->mu, NULL);
    if (err) {
        herd__free(c.alloc, t);
        return -err;
    }
    t->alloc = c.alloc;
    t->k = c.k;
    t->nb = c.buckets;
    t->bucket_ns = c.window_ns / (int64_t)c.buckets;
    *out = t;
    return 0;
}

void herd_throttle_free(struct herd_throttle *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->mu);
    herd__free(t->alloc, t);
}

static int64_t floor_div(int64_t a, int64_t d)
{
    int64_t q = a / d;
    if (a % d != 0 && a < 0)
        q--;
    return q;
}

static struct bucket *slot(struct herd_throttle *t, int64_t idx)
{
    int64_t nb = t->nb;
    return &t->b[(idx % nb + nb) % nb];
}

/* Clamp now to be monotone and drop the buckets that left the window. */
static void roll(struct herd_throttle *t, int64_t now_ns)
{
    if (t->started && now_ns < t->last_ns)
        now_ns = t->last_ns;
    int64_t idx = floor_div(now_ns, t->bucket_ns);
    if (!t->started) {
        t->started = true;
        t->last_ns = now_ns;
        t->cur = idx;
        return; /* all buckets are still zero */
    }
    t->last_ns = now_ns;
    if (idx <= t->cur)
        return;
    int64_t from = t->cur + 1;
    if (idx - from >= (int64_t)t->nb)
        from = idx - (int64_t)t->nb + 1;
    for (int64_t k = from; k <= idx; k++) {
        struct bucket *bk = slot(t, k);
        t->requests -= bk->requests;
        t->accepts -= bk->accepts;
        *bk = (struct bucket){0};
    }
    t->cur = idx;
}

enum herd_throttle_verdict herd_throttle_allow(struct herd_throttle *t, int64_t now_ns,
                                               struct herd_rng *rng)
{
    assert(t);
    if (!rng)
        return HERD_THROTTLE_REJECT_THROTTLED; /* fails closed: nothing counted */
    pthread_mutex_lock(&t->mu);
    roll(t, now_ns);
    double p = herd_throttle_probability((double)t->requests, (double)t->accepts, t->k);
    enum herd_throttle_verdict v = HERD_THROTTLE_GO;
    if (p > 0.0 && herd_rng_uniform(rng) < p)
        v = HERD_THROTTLE_REJECT_THROTTLED;
    /* The book counts every request the application attempted, rejected or not. */
    t->requests++;
    slot(t, t->cur)->requests++;
    if (v == HERD_THROTTLE_GO)
        t->st.allowed++;
    else
        t->st.throttled++;
    pthread_mutex_unlock(&t->mu);
    return v;
}

void herd_throttle_record(struct herd_throttle *t, int64_t now_ns, bool accepted)
{
    assert(t);
    pthread_mutex_lock(&t->mu);
    roll(t, now_ns);
    if (accepted) {
        t->accepts++;
        slot(t, t->cur)->accepts++;
        t->st.accepted++;
    } else {
        t->st.backend_rejected++;
    }
    pthread_mutex_unlock(&t->mu);
}

void herd_throttle_stats(struct herd_throttle *t, int64_t now_ns, struct herd_throttle_stats *out)
{
    assert(t);
    if (!out)
        return;
    pthread_mutex_lock(&t->mu);
    roll(t, now_ns);
    struct herd_throttle_stats s = t->st;
    s.window_requests = t->requests;
    s.window_accepts = t->accepts;
    s.probability = herd_throttle_probability((double)t->requests, (double)t->accepts, t->k);
    pthread_mutex_unlock(&t->mu);
    *out = s;
}

const char *herd_throttle_verdict_name(enum herd_throttle_verdict v)
{
    switch (v) {
    case HERD_THROTTLE_GO:
        return "go";
    case HERD_THROTTLE_REJECT_THROTTLED:
        return "throttled";
    }
    return "?";
}
