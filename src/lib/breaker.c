/* breaker.c — circuit breaker; see herd/breaker.h.
 *
 * Layout: one struct behind one mutex, plus two arrays allocated at new(): the window
 * (a ring of one byte per call for COUNT, or B buckets of counters for TIME) and the K
 * half-open probe slots.
 *
 * Invariants (under mu):
 *  - state changes only in set_state(), which bumps epoch and seq and calls the
 *    callback; the automatic edges are exactly closed->open, open->half-open,
 *    half-open->closed, half-open->open; the manual ones end in isolated,
 *    forced-closed or closed;
 *  - win_calls/win_failures/win_slow are the sums over the live window entries;
 *  - in half-open, inflight == number of busy probe slots <= K, and every busy slot's
 *    deadline is > last_ns (expired ones are failed by reap_probes() first thing);
 *  - a permit is honoured only when its epoch is the current one (and, for a probe,
 *    its slot generation matches), so a call admitted before a transition never
 *    counts towards the state after it;
 *  - open_until is meaningful only when open_drawn; it is drawn by the first allow()
 *    after the trip, because record() has no rng.
 * Cost: O(1) per call, O(K) in half-open; rolling a time window touches each elapsed
 * bucket once (at most B per call).
 */
#include <herd/breaker.h>
#include <herd/error.h>

#include <assert.h>
#include <pthread.h>
#include <string.h>

#include "alloc_int.h"

enum { KIND_NONE = 0, KIND_CALL = 1, KIND_PROBE = 2 };
enum { OUT_FAIL = 1, OUT_SLOW = 2 }; /* bits of one COUNT-window entry */

#define MAX_LEVEL 62u

struct bucket {
    int64_t idx; /* absolute bucket number (floor(now / width)) it holds */
    uint32_t calls, failures, slow;
};

struct probe {
    int64_t deadline_ns;
    uint32_t gen;
    bool busy;
};

struct herd_breaker {
    pthread_mutex_t mu;
    struct herd_breaker_config cfg;
    enum herd_breaker_state state;
    uint64_t epoch; /* bumped at every transition */
    uint64_t seq;   /* transitions so far */
    int64_t last_ns;
    bool seen_time; /* last_ns holds a real time */

    /* window */
    uint8_t *ring; /* COUNT: window_calls entries of OUT_* bits */
    uint32_t ring_head, ring_n;
    struct bucket *buckets; /* TIME: window_buckets */
    int64_t bucket_ns;      /* width */
    int64_t cur_idx;        /* newest bucket index rolled to */
    bool rolled;
    uint32_t win_calls, win_failures, win_slow;
    uint32_t consecutive;

    /* open */
    uint32_t level;
    int64_t opened_ns, open_until_ns;
    bool open_drawn;
    int64_t closed_ns; /* last half-open -> closed, for flapping */
    bool closed_once;

    /* half-open */
    struct probe *probes;
    uint32_t inflight, passed;

    struct herd_breaker_stats st;
};

void herd_breaker_config_default(struct herd_breaker_config *cfg)
{
    if (!cfg)
        return;
    *cfg = (struct herd_breaker_config){
        .window = HERD_BREAKER_WINDOW_TIME,
        .window_calls = 100,                  /* Resilience4j slidingWindowSize */
        .window_ns = INT64_C(10000000000),    /* Hystrix rollingStats 10 s ... */
        .window_buckets = 10,                 /* ... in 10 buckets */
        .min_calls = 20,                      /* Hystrix requestVolumeThreshold */
        .consecutive_failures = 5,            /* Finagle, Envoy consecutive_5xx */
        .failure_rate = 0.5,                  /* Hystrix and Resilience4j: 50 % */
        .slow_rate = 1.0,                     /* Resilience4j: 100 % ... */
        .slow_call_ns = INT64_C(60000000000), /* ... of calls over 60 s */
        .open_base_ns = INT64_C(5000000000),  /* Hystrix sleepWindow, Finagle: 5 s */
        .open_cap_ns = INT64_C(300000000000), /* Finagle, Envoy max ejection: 300 s */
        .open_jitter = 0.5,                   /* equal jitter (Finagle) */
        .half_open_probes = 1,                /* Hystrix: one trial call at a time */
        .half_open_successes = 3,
        .probe_timeout_ns = INT64_C(30000000000),
    };
}

static bool config_ok(const struct herd_breaker_config *c)
{
    if (c->window == HERD_BREAKER_WINDOW_COUNT) {
        if (c->window_calls < 1 || c->min_calls > c->window_calls)
            return false;
    } else if (c->window == HERD_BREAKER_WINDOW_TIME) {
        if (c->window_buckets < 1 || c->window_ns < (int64_t)c->window_buckets)
            return false;
    } else {
        return false;
    }
    /* Written as !(x >= lo && x <= hi) so NaN is rejected too. */
    if (!(c->failure_rate >= 0.0 && c->failure_rate <= 1.0))
        return false;
    if (!(c->slow_rate >= 0.0 && c->slow_rate <= 1.0))
        return false;
    if (!(c->open_jitter >= 0.0 && c->open_jitter <= 1.0))
        return false;
    if (c->slow_call_ns < 0 || c->open_base_ns <= 0 || c->open_cap_ns < c->open_base_ns)
        return false;
    if (c->half_open_probes < 1 || c->half_open_successes < 1 || c->probe_timeout_ns <= 0)
        return false;
    return true;
}

int herd_breaker_new(const struct herd_breaker_config *cfg, struct herd_breaker **out)
{
    if (!out)
        return -HERD_EINVAL;
    struct herd_breaker_config c;
    if (cfg)
        c = *cfg;
    else
        herd_breaker_config_default(&c);
    if (!config_ok(&c))
        return -HERD_EINVAL;

    int rc = -HERD_ENOMEM;
    struct herd_breaker *b = herd__calloc(c.alloc, 1, sizeof *b);
    if (!b)
        return -HERD_ENOMEM;
    b->cfg = c;
    if (c.window == HERD_BREAKER_WINDOW_COUNT) {
        b->ring = herd__calloc(c.alloc, c.window_calls, sizeof *b->ring);
        if (!b->ring)
            goto fail_window;
    } else {
        b->buckets = herd__calloc(c.alloc, c.window_buckets, sizeof *b->buckets);
        if (!b->buckets)
            goto fail_window;
        b->bucket_ns = c.window_ns / (int64_t)c.window_buckets;
    }
    b->probes = herd__calloc(c.alloc, c.half_open_probes, sizeof *b->probes);
    if (!b->probes)
        goto fail_probes;
    int err = pthread_mutex_init(&b->mu, NULL);
    if (err) {
        rc = -err;
        goto fail_mutex;
    }
    b->state = HERD_BREAKER_CLOSED;
    *out = b;
    return 0;

fail_mutex:
    herd__free(c.alloc, b->probes);
fail_probes:
    herd__free(c.alloc, b->ring);
    herd__free(c.alloc, b->buckets);
fail_window:
    herd__free(c.alloc, b);
    return rc;
}

void herd_breaker_free(struct herd_breaker *b)
{
    if (!b)
        return;
    const struct herd_allocator *a = b->cfg.alloc;
    pthread_mutex_destroy(&b->mu);
    herd__free(a, b->probes);
    herd__free(a, b->ring);
    herd__free(a, b->buckets);
    herd__free(a, b);
}

/* ---- time and window ------------------------------------------------------------- */

static int64_t clamp_now(struct herd_breaker *b, int64_t now_ns)
{
    if (b->seen_time && now_ns < b->last_ns)
        return b->last_ns;
    b->last_ns = now_ns;
    b->seen_time = true;
    return now_ns;
}

static int64_t floor_div(int64_t a, int64_t d)
{
    int64_t q = a / d;
    if (a % d != 0 && a < 0)
        q--;
    return q;
}

static void window_clear(struct herd_breaker *b)
{
    if (b->ring) {
        memset(b->ring, 0, b->cfg.window_calls);
        b->ring_head = b->ring_n = 0;
    } else {
        memset(b->buckets, 0, sizeof *b->buckets * b->cfg.window_buckets);
        b->rolled = false;
    }
    b->win_calls = b->win_failures = b->win_slow = 0;
    b->consecutive = 0;
}

/* TIME windows: drop the buckets that fell out of (now − window, now]. */
static void window_roll(struct herd_breaker *b, int64_t now)
{
    if (!b->buckets)
        return;
    int64_t idx = floor_div(now, b->bucket_ns);
    int64_t nb = b->cfg.window_buckets;
    if (!b->rolled) {
        b->rolled = true;
        b->cur_idx = idx;
        struct bucket *bk = &b->buckets[(idx % nb + nb) % nb];
        *bk = (struct bucket){.idx = idx};
        return;
    }
    if (idx <= b->cur_idx)
        return;
    int64_t from = b->cur_idx + 1;
    if (idx - from >= nb)
        from = idx - nb + 1; /* everything older is gone anyway */
    for (int64_t k = from; k <= idx; k++) {
        struct bucket *bk = &b->buckets[(k % nb + nb) % nb];
        b->win_calls -= bk->calls;
        b->win_failures -= bk->failures;
        b->win_slow -= bk->slow;
        *bk = (struct bucket){.idx = k};
    }
    b->cur_idx = idx;
}

static void window_add(struct herd_breaker *b, bool failed, bool slow, int64_t now)
{
    if (b->ring) {
        uint32_t k = b->cfg.window_calls;
        if (b->ring_n == k) {
            uint8_t old = b->ring[b->ring_head];
            b->win_calls--;
            b->win_failures -= (old & OUT_FAIL) ? 1 : 0;
            b->win_slow -= (old & OUT_SLOW) ? 1 : 0;
        } else {
            b->ring_n++;
        }
        b->ring[b->ring_head] = (uint8_t)((failed ? OUT_FAIL : 0) | (slow ? OUT_SLOW : 0));
        b->ring_head = (b->ring_head + 1) % k;
    } else {
        window_roll(b, now);
        int64_t nb = b->cfg.window_buckets;
        struct bucket *bk = &b->buckets[(b->cur_idx % nb + nb) % nb];
        bk->calls++;
        bk->failures += failed;
        bk->slow += slow;
    }
    b->win_calls++;
    b->win_failures += failed;
    b->win_slow += slow;
}

/* ---- transitions ------------------------------------------------------------------ */

static void set_state(struct herd_breaker *b, enum herd_breaker_state to,
                      enum herd_breaker_cause cause, int64_t now)
{
    struct herd_breaker_transition t = {
        .from = b->state,
        .to = to,
        .cause = cause,
        .now_ns = now,
        .level = to == HERD_BREAKER_OPEN ? b->level : 0,
    };
    b->state = to;
    b->epoch++;
    t.seq = ++b->seq;
    b->st.transitions++;
    /* Leaving half-open (any way) empties the probe slots: their permits are now from
     * an earlier epoch and will be counted late. */
    for (uint32_t i = 0; i < b->cfg.half_open_probes; i++) {
        if (b->probes[i].busy) {
            b->probes[i].busy = false;
            b->probes[i].gen++;
        }
    }
    b->inflight = 0;
    b->passed = 0;
    if (b->cfg.on_transition)
        b->cfg.on_transition(b->cfg.on_transition_ctx, &t);
}

static int64_t open_interval_max(const struct herd_breaker *b)
{
    int64_t d = b->cfg.open_base_ns, cap = b->cfg.open_cap_ns;
    for (uint32_t i = 1; i < b->level && d < cap; i++)
        d = d > cap / 2 ? cap : d * 2;
    return d < cap ? d : cap;
}

static void go_open(struct herd_breaker *b, enum herd_breaker_cause cause, int64_t now)
{
    if (b->state == HERD_BREAKER_HALF_OPEN) {
        b->level = b->level < MAX_LEVEL ? b->level + 1 : MAX_LEVEL;
        b->st.reopens++;
    } else {
        /* A trip soon after a close is the same trouble coming back: keep backing off. */
        bool flapping = b->closed_once && now - b->closed_ns < b->cfg.open_cap_ns;
        b->level = flapping && b->level < MAX_LEVEL ? b->level + 1 : 1;
    }
    b->opened_ns = now;
    b->open_drawn = false;
    set_state(b, HERD_BREAKER_OPEN, cause, now);
}

static void draw_open(struct herd_breaker *b, struct herd_rng *rng)
{
    int64_t d = open_interval_max(b);
    int64_t span = (int64_t)(b->cfg.open_jitter * (double)d);
    if (span > d)
        span = d;
    int64_t len = span > 0 ? herd_rng_range(rng, d - span, d) : d;
    b->open_until_ns = b->opened_ns > INT64_MAX - len ? INT64_MAX : b->opened_ns + len;
    b->open_drawn = true;
}

/* Half-open: fail every probe whose deadline has passed (the first one reopens). */
static void reap_probes(struct herd_breaker *b, int64_t now)
{
    if (b->state != HERD_BREAKER_HALF_OPEN)
        return;
    for (uint32_t i = 0; i < b->cfg.half_open_probes; i++) {
        if (b->probes[i].busy && b->probes[i].deadline_ns <= now) {
            b->st.probe_timeouts++;
            go_open(b, HERD_BREAKER_CAUSE_PROBE_TIMEOUT, now);
            return;
        }
    }
}

static void evaluate_closed(struct herd_breaker *b, int64_t now)
{
    const struct herd_breaker_config *c = &b->cfg;
    if (c->consecutive_failures && b->consecutive >= c->consecutive_failures) {
        b->st.trips_consecutive++;
        go_open(b, HERD_BREAKER_CAUSE_CONSECUTIVE, now);
        return;
    }
    if (b->win_calls == 0 || b->win_calls < c->min_calls)
        return;
    double calls = (double)b->win_calls;
    if (c->failure_rate > 0 && (double)b->win_failures >= c->failure_rate * calls) {
        b->st.trips_failure_rate++;
        go_open(b, HERD_BREAKER_CAUSE_FAILURE_RATE, now);
        return;
    }
    if (c->slow_rate > 0 && c->slow_call_ns > 0 && (double)b->win_slow >= c->slow_rate * calls) {
        b->st.trips_slow_rate++;
        go_open(b, HERD_BREAKER_CAUSE_SLOW_RATE, now);
    }
}

/* ---- the API ---------------------------------------------------------------------- */

enum herd_breaker_verdict herd_breaker_allow(struct herd_breaker *b, int64_t now_ns,
                                             struct herd_rng *rng,
                                             struct herd_breaker_permit *permit)
{
    assert(b);
    if (!rng || !permit)
        return HERD_BREAKER_REJECT_OPEN; /* fails closed: nothing taken, nothing written */
    enum herd_breaker_verdict v = HERD_BREAKER_GO;
    struct herd_breaker_permit p = {0};

    pthread_mutex_lock(&b->mu);
    int64_t now = clamp_now(b, now_ns);
    reap_probes(b, now);
    if (b->state == HERD_BREAKER_OPEN) {
        if (!b->open_drawn)
            draw_open(b, rng);
        if (now >= b->open_until_ns)
            set_state(b, HERD_BREAKER_HALF_OPEN, HERD_BREAKER_CAUSE_INTERVAL, now);
    }
    switch (b->state) {
    case HERD_BREAKER_CLOSED:
    case HERD_BREAKER_FORCED_CLOSED:
        p.kind = KIND_CALL;
        break;
    case HERD_BREAKER_OPEN:
        v = HERD_BREAKER_REJECT_OPEN;
        p.retry_after_ns = b->open_until_ns - now;
        b->st.rejected_open++;
        break;
    case HERD_BREAKER_ISOLATED:
        v = HERD_BREAKER_REJECT_ISOLATED;
        p.retry_after_ns = HERD_BREAKER_NO_RETRY_AFTER;
        b->st.rejected_isolated++;
        break;
    case HERD_BREAKER_HALF_OPEN:
        if (b->inflight < b->cfg.half_open_probes) {
            uint32_t i = 0;
            while (b->probes[i].busy)
                i++;
            struct probe *pr = &b->probes[i];
            pr->busy = true;
            pr->deadline_ns = now > INT64_MAX - b->cfg.probe_timeout_ns
                                  ? INT64_MAX
                                  : now + b->cfg.probe_timeout_ns;
            b->inflight++;
            b->st.probes++;
            p.kind = KIND_PROBE;
            p.probe = true;
            p.slot = i;
            p.slot_gen = pr->gen;
        } else {
            /* A slot frees at the latest when its probe times out. */
            int64_t first = INT64_MAX;
            for (uint32_t i = 0; i < b->cfg.half_open_probes; i++)
                if (b->probes[i].deadline_ns < first)
                    first = b->probes[i].deadline_ns;
            v = HERD_BREAKER_REJECT_HALF_OPEN_FULL;
            p.retry_after_ns = first - now;
            b->st.rejected_half_open_full++;
        }
        break;
    }
    if (v == HERD_BREAKER_GO) {
        p.epoch = b->epoch;
        b->st.allowed++;
    }
    pthread_mutex_unlock(&b->mu);
    *permit = p;
    return v;
}

void herd_breaker_record(struct herd_breaker *b, struct herd_breaker_permit *permit,
                         enum herd_breaker_outcome outcome, int64_t latency_ns, int64_t now_ns)
{
    assert(b && permit);
    assert(permit->kind == KIND_CALL || permit->kind == KIND_PROBE); /* one GO, one record */
    assert(outcome == HERD_BREAKER_SUCCESS || outcome == HERD_BREAKER_FAILURE ||
           outcome == HERD_BREAKER_IGNORED);
    struct herd_breaker_permit p = *permit;
    permit->kind = KIND_NONE;

    pthread_mutex_lock(&b->mu);
    int64_t now = clamp_now(b, now_ns);
    reap_probes(b, now);
    window_roll(b, now);
    bool current = p.epoch == b->epoch;
    if (current && p.kind == KIND_PROBE)
        current = b->state == HERD_BREAKER_HALF_OPEN && b->probes[p.slot].busy &&
                  b->probes[p.slot].gen == p.slot_gen;
    if (!current) {
        b->st.late++;
        pthread_mutex_unlock(&b->mu);
        return;
    }
    bool failed = outcome == HERD_BREAKER_FAILURE;
    bool slow = outcome != HERD_BREAKER_IGNORED && b->cfg.slow_call_ns > 0 &&
                latency_ns > b->cfg.slow_call_ns;
    if (outcome == HERD_BREAKER_IGNORED)
        b->st.ignored++;
    else if (failed)
        b->st.failures++;
    else
        b->st.successes++;
    b->st.slow += slow;

    if (p.kind == KIND_PROBE) {
        struct probe *pr = &b->probes[p.slot];
        pr->busy = false;
        pr->gen++;
        b->inflight--;
        /* A slow probe fails only when the slow rule is on: it is what would trip. */
        bool bad = failed || (slow && b->cfg.slow_rate > 0);
        if (bad)
            go_open(b, HERD_BREAKER_CAUSE_PROBE_FAILED, now);
        else if (outcome == HERD_BREAKER_SUCCESS && ++b->passed >= b->cfg.half_open_successes) {
            b->st.closes++;
            b->closed_ns = now;
            b->closed_once = true;
            window_clear(b);
            set_state(b, HERD_BREAKER_CLOSED, HERD_BREAKER_CAUSE_PROBES_PASSED, now);
        }
    } else if (outcome != HERD_BREAKER_IGNORED) {
        window_add(b, failed, slow, now);
        b->consecutive = failed ? b->consecutive + 1 : 0;
        if (b->state == HERD_BREAKER_CLOSED)
            evaluate_closed(b, now);
    }
    pthread_mutex_unlock(&b->mu);
}

enum herd_breaker_state herd_breaker_state(struct herd_breaker *b)
{
    assert(b);
    pthread_mutex_lock(&b->mu);
    enum herd_breaker_state s = b->state;
    pthread_mutex_unlock(&b->mu);
    return s;
}

static void manual(struct herd_breaker *b, enum herd_breaker_state to, int64_t now_ns)
{
    pthread_mutex_lock(&b->mu);
    int64_t now = clamp_now(b, now_ns);
    if (to != HERD_BREAKER_ISOLATED)
        window_clear(b);
    if (to == HERD_BREAKER_CLOSED) {
        b->level = 0;
        b->closed_once = false;
    }
    if (b->state != to)
        set_state(b, to, HERD_BREAKER_CAUSE_MANUAL, now);
    pthread_mutex_unlock(&b->mu);
}

void herd_breaker_isolate(struct herd_breaker *b, int64_t now_ns)
{
    assert(b);
    manual(b, HERD_BREAKER_ISOLATED, now_ns);
}

void herd_breaker_force_close(struct herd_breaker *b, int64_t now_ns)
{
    assert(b);
    manual(b, HERD_BREAKER_FORCED_CLOSED, now_ns);
}

void herd_breaker_reset(struct herd_breaker *b, int64_t now_ns)
{
    assert(b);
    manual(b, HERD_BREAKER_CLOSED, now_ns);
}

void herd_breaker_stats(struct herd_breaker *b, int64_t now_ns, struct herd_breaker_stats *out)
{
    assert(b);
    if (!out)
        return;
    pthread_mutex_lock(&b->mu);
    int64_t now = clamp_now(b, now_ns);
    window_roll(b, now);
    struct herd_breaker_stats s = b->st;
    s.state = b->state;
    s.level = b->level;
    s.probes_in_flight = b->inflight;
    s.window_calls = b->win_calls;
    s.window_failures = b->win_failures;
    s.window_slow = b->win_slow;
    s.consecutive = b->consecutive;
    pthread_mutex_unlock(&b->mu);
    *out = s;
}

const char *herd_breaker_state_name(enum herd_breaker_state s)
{
    switch (s) {
    case HERD_BREAKER_CLOSED:
        return "closed";
    case HERD_BREAKER_OPEN:
        return "open";
    case HERD_BREAKER_HALF_OPEN:
        return "half-open";
    case HERD_BREAKER_ISOLATED:
        return "isolated";
    case HERD_BREAKER_FORCED_CLOSED:
        return "forced-closed";
    }
    return "?";
}

const char *herd_breaker_verdict_name(enum herd_breaker_verdict v)
{
    switch (v) {
    case HERD_BREAKER_GO:
        return "go";
    case HERD_BREAKER_REJECT_OPEN:
        return "open";
    case HERD_BREAKER_REJECT_HALF_OPEN_FULL:
        return "half-open-full";
    case HERD_BREAKER_REJECT_ISOLATED:
        return "isolated";
    }
    return "?";
}
