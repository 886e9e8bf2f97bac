/* limiter.c — adaptive concurrency limit (AIMD, Gradient2); see herd/limiter.h.
 *
 * Invariants (under the mutex): min_limit <= limit <= max_limit; inflight <= limit at
 * every acquire that returns GO (inflight may exceed limit for a while after a cut: those
 * requests were admitted under the old limit, and no new one is admitted until enough
 * leave); epoch counts cuts, and a loss cuts only when its token's epoch is current.
 * Gradient2: est is the real-valued limit, limit = floor(est).
 *
 * Defaults and formulas follow Netflix concurrency-limits (Gradient2Limit, AIMDLimit,
 * WindowedLimit: initial 20, min 20, max 200, backoff 0.9, timeout 5 s, smoothing 0.2,
 * tolerance 1.5, queue 4, long window 600 with a 10-sample warm-up, decay 0.95 when
 * long > 2·short, sampling window 1 s with at least 10 samples, RTTs under 100 µs
 * ignored). Written from their documentation, not their code.
 *
 * Cost: one mutex per call; release does O(1) arithmetic (Gradient2: a few doubles).
 */
#include <herd/error.h>
#include <herd/limiter.h>

#include <assert.h>
#include <string.h>

#define WARMUP_WINDOWS 10
#define LONG_DECAY 0.95

static void fill_defaults(struct herd_limiter_config *c)
{
    if (c->initial_limit == 0)
        c->initial_limit = 20;
    if (c->min_limit == 0)
        c->min_limit = 20;
    if (c->max_limit == 0)
        c->max_limit = 200;
    if (c->backoff_ratio == 0)
        c->backoff_ratio = 0.9;
    if (c->timeout_ns == 0)
        c->timeout_ns = INT64_C(5000000000);
    if (c->min_rtt_ns == 0)
        c->min_rtt_ns = INT64_C(100000);
    else if (c->min_rtt_ns < 0)
        c->min_rtt_ns = 0;
    if (c->smoothing == 0)
        c->smoothing = 0.2;
    if (c->rtt_tolerance == 0)
        c->rtt_tolerance = 1.5;
    if (c->queue_size == 0)
        c->queue_size = 4;
    if (c->long_window == 0)
        c->long_window = 600;
    if (c->window_ns == 0)
        c->window_ns = INT64_C(1000000000);
    if (c->window_min_samples == 0)
        c->window_min_samples = 10;
}

int herd_limiter_init(struct herd_limiter *l, const struct herd_limiter_config *cfg)
{
    if (!l)
        return -HERD_EINVAL;
    struct herd_limiter_config c;
    memset(&c, 0, sizeof c);
    if (cfg)
        c = *cfg;
    fill_defaults(&c);
    if (c.min_limit > c.max_limit || !(c.backoff_ratio >= 0.5 && c.backoff_ratio < 1.0) ||
        !(c.smoothing > 0.0 && c.smoothing <= 1.0) || !(c.rtt_tolerance >= 1.0) ||
        c.timeout_ns < 0 || (c.algo != HERD_LIMITER_AIMD && c.algo != HERD_LIMITER_GRADIENT2))
        return -HERD_EINVAL;
    memset(l, 0, sizeof *l);
    l->cfg = c;
    uint32_t init = c.initial_limit;
    init = init < c.min_limit ? c.min_limit : init > c.max_limit ? c.max_limit : init;
    l->limit = init;
    l->est = init;
    int rc = pthread_mutex_init(&l->mu, NULL);
    return -rc;
}

void herd_limiter_fini(struct herd_limiter *l)
{
    if (l)
        pthread_mutex_destroy(&l->mu);
}

int herd_limiter_acquire(struct herd_limiter *l, int64_t now_ns, struct herd_limiter_token *token)
{
    assert(l);
    if (!token)
        return -HERD_EINVAL;
    pthread_mutex_lock(&l->mu);
    if (l->inflight >= l->limit) {
        l->st.rejected++;
        pthread_mutex_unlock(&l->mu);
        return HERD_LIMITER_LIMIT;
    }
    l->inflight++;
    l->st.acquired++;
    token->start_ns = now_ns;
    token->inflight = l->inflight;
    token->epoch = l->epoch;
    token->held = true;
    pthread_mutex_unlock(&l->mu);
    return HERD_LIMITER_GO;
}

static double clamp(const struct herd_limiter *l, double x)
{
    if (x < l->cfg.min_limit)
        return l->cfg.min_limit;
    if (x > l->cfg.max_limit)
        return l->cfg.max_limit;
    return x;
}

/* A drop or timeout: cut once per congestion event. */
static void on_loss(struct herd_limiter *l, const struct herd_limiter_token *t)
{
    if (t->epoch != l->epoch)
        return; /* started before the last cut: that cut already answered this event */
    l->epoch++;
    l->st.cuts++;
    l->wins = 0;
    if (l->cfg.algo == HERD_LIMITER_AIMD) {
        uint32_t cut = (uint32_t)((double)l->limit * l->cfg.backoff_ratio);
        if (cut >= l->limit)
            cut = l->limit - 1; /* always a real decrease (0.9 × 5 would round to 4 anyway) */
        l->limit = (uint32_t)clamp(l, cut);
    } else {
        l->est = clamp(l, l->est * l->cfg.backoff_ratio);
        l->limit = (uint32_t)l->est;
    }
}

static void aimd_success(struct herd_limiter *l, const struct herd_limiter_token *t)
{
    if ((uint64_t)t->inflight * 2 < l->limit)
        return; /* app-limited: no evidence the limit could be higher */
    if (++l->wins >= l->limit) {
        l->wins = 0;
        if (l->limit < l->cfg.max_limit)
            l->limit++;
    }
}

static void gradient2_update(struct herd_limiter *l)
{
    double shortr = l->win_sum / l->win_n;
    double cfgw = l->cfg.long_window;
    l->st.windows++;
    if (l->long_n < WARMUP_WINDOWS) {
        l->long_n++;
        l->long_rtt += (shortr - l->long_rtt) / l->long_n; /* plain mean while warming up */
    } else {
        double f = 2.0 / (cfgw + 1.0);
        l->long_rtt = l->long_rtt * (1.0 - f) + shortr * f;
    }
    /* Latency has come back down after a long spell of load: do not wait ~long_window
     * windows for the average to forget it. */
    if (l->long_rtt > 2.0 * shortr)
        l->long_rtt *= LONG_DECAY;
    if ((double)l->win_max_inflight < l->est / 2.0)
        return; /* app-limited */
    double g = l->cfg.rtt_tolerance * l->long_rtt / shortr;
    g = g < 0.5 ? 0.5 : g > 1.0 ? 1.0 : g;
    double target = l->est * g + l->cfg.queue_size;
    double s = l->cfg.smoothing;
    l->est = clamp(l, l->est * (1.0 - s) + target * s);
    l->limit = (uint32_t)l->est;
}

static void gradient2_sample(struct herd_limiter *l, const struct herd_limiter_token *t,
                             int64_t rtt, int64_t now)
{
    if (l->win_n == 0)
        l->win_end_ns = now + (l->cfg.window_ns > 0 ? l->cfg.window_ns : 0);
    l->win_sum += (double)rtt;
    l->win_n++;
    if (t->inflight > l->win_max_inflight)
        l->win_max_inflight = t->inflight;
    if (l->cfg.window_ns < 0 || (now >= l->win_end_ns && l->win_n >= l->cfg.window_min_samples)) {
        gradient2_update(l);
        l->win_sum = 0;
        l->win_n = 0;
        l->win_max_inflight = 0;
    }
}

void herd_limiter_release(struct herd_limiter *l, struct herd_limiter_token *token,
                          enum herd_limiter_outcome outcome, int64_t now_ns)
{
    assert(l && token && token->held);
    token->held = false;
    pthread_mutex_lock(&l->mu);
    assert(l->inflight > 0);
    l->inflight--;
    int64_t rtt = now_ns - token->start_ns;
    if (outcome == HERD_LIMITER_SUCCESS && rtt > l->cfg.timeout_ns)
        outcome = HERD_LIMITER_TIMEOUT; /* answered, but too late to count as a success */
    switch (outcome) {
    case HERD_LIMITER_SUCCESS:
        if (rtt < l->cfg.min_rtt_ns) {
            l->st.fast++; /* a cache hit says nothing about the service's capacity */
            break;
        }
        l->st.successes++;
        if (l->cfg.algo == HERD_LIMITER_AIMD)
            aimd_success(l, token);
        else
            gradient2_sample(l, token, rtt, now_ns);
        break;
    case HERD_LIMITER_DROPPED:
        l->st.dropped++;
        on_loss(l, token);
        break;
    case HERD_LIMITER_TIMEOUT:
        l->st.timeouts++;
        on_loss(l, token);
        break;
    case HERD_LIMITER_IGNORE:
    default:
        l->st.ignored++;
        break;
    }
    pthread_mutex_unlock(&l->mu);
}

uint32_t herd_limiter_limit(struct herd_limiter *l)
{
    assert(l);
    pthread_mutex_lock(&l->mu);
    uint32_t v = l->limit;
    pthread_mutex_unlock(&l->mu);
    return v;
}

uint32_t herd_limiter_inflight(struct herd_limiter *l)
{
    assert(l);
    pthread_mutex_lock(&l->mu);
    uint32_t v = l->inflight;
    pthread_mutex_unlock(&l->mu);
    return v;
}

void herd_limiter_stats(struct herd_limiter *l, struct herd_limiter_stats *out)
{
    assert(l);
    if (!out)
        return;
    pthread_mutex_lock(&l->mu);
    *out = l->st;
    pthread_mutex_unlock(&l->mu);
}
