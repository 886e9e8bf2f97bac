/* client.c — the simulated client fleet; see client.h for the model.
 *
 * Invariants: a client is IDLE (no request), WAIT (exactly one attempt out, tagged
 * seq << 32 | index, with a timeout ring entry when timeout_ns > 0) or BACKOFF (a
 * retry event pending). The timeout ring is in deadline order; when armed, the engine
 * timer is for the ring's head, which is then live (its client WAITs on that tag).
 * A reply whose tag's sequence is not the client's current one, or that finds the
 * client not in WAIT, belongs to an attempt that is over: it changes nothing but
 * stats.late. Every request begun ends in exactly one
 * done() call, and the budget sees begin() and end() exactly once per request.
 * Cost: O(1) per attempt plus libherd's calls. Thread safety: none.
 */
#include "client.h"

#include "bigalloc.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <herd/error.h>
#include <herd/jitter.h>

enum { IDLE, WAIT, BACKOFF };

#define TAG(seq, i) ((uint64_t)(seq) << 32 | (uint32_t)(i))
#define PREFETCH_AHEAD 16 /* clients whose records are prefetched ahead of their turn */

static void on_fire(struct herd_sim *sim, void *ctx, uint64_t arg);
static void on_cursor(struct herd_sim *sim, void *ctx, uint64_t arg);
static void on_timeout(struct herd_sim *sim, void *ctx, uint64_t arg);
static void on_retry(struct herd_sim *sim, void *ctx, uint64_t arg);
static void on_periodic(struct herd_sim *sim, void *ctx, uint64_t arg);
static void on_poisson(struct herd_sim *sim, void *ctx, uint64_t arg);
static void on_think(struct herd_sim *sim, void *ctx, uint64_t arg);

static inline struct herd_client_rec *rec_at(const struct herd_client_fleet *fl, uint32_t i)
{
    return herd__client_rec(fl, i);
}

static inline struct herd_rng *crng_at(const struct herd_client_fleet *fl, size_t i)
{
    return (struct herd_rng *)(void *)(fl->block + i * fl->stride + fl->off_rng);
}

static inline uint16_t *fails_at(const struct herd_client_fleet *fl, size_t i)
{
    return (uint16_t *)(void *)(fl->block + i * fl->stride + fl->off_fails);
}

/* The engine's hint that client arg's event (a firing, a retry, a timeout: arg is the
 * client index or a tag, whose low 32 bits are the index) comes next: at N = 10^6 its
 * columns are cache misses, and this overlaps them with the current event. Measured on
 * bench_fleet: the record's miss alone was a third of the run. */
static void prefetch_client(void *ctx, uint64_t arg)
{
    const struct herd_client_fleet *fl = ctx;
    uint32_t i = herd_client_of(arg);
    __builtin_prefetch(rec_at(fl, i), 1); /* the whole hot record: one line */
    if (fl->cfg.prefetch)
        fl->cfg.prefetch(fl->cfg.ctx, i);
}

static bool jittered(enum herd_backoff_kind k)
{
    return k == HERD_BACKOFF_FULL || k == HERD_BACKOFF_EQUAL || k == HERD_BACKOFF_DECORRELATED;
}

static void *column(size_t n, size_t size, bool want, int *rc)
{
    if (!want || *rc)
        return NULL;
    void *p = herd_big_calloc(n, size);
    if (!p)
        *rc = -HERD_ENOMEM;
    return p;
}

int herd_client_init(struct herd_client_fleet *fl, struct herd_sim *sim,
                     const struct herd_client_config *cfg)
{
    memset(fl, 0, sizeof *fl);
    const struct herd_backoff_policy *bp = &cfg->backoff;
    if (cfg->n < 1 || cfg->user_bytes > 32 || !cfg->send || !(cfg->skew_sd_ns >= 0) ||
        cfg->window_ns < 0 || cfg->timeout_ns < 0 || (unsigned)cfg->arrival > HERD_CLIENT_CLOSED ||
        (unsigned)cfg->offset > HERD_CLIENT_OFFSET_SPLAY ||
        (cfg->arrival == HERD_CLIENT_PERIODIC && cfg->period_ns <= 0) ||
        (cfg->arrival == HERD_CLIENT_POISSON && !(cfg->rate_per_s > 0)) ||
        (cfg->arrival == HERD_CLIENT_CLOSED && cfg->think_ns < 0) || bp->max_attempts < 0 ||
        bp->base_ns < 0 || bp->deadline_ns < 0 || bp->failure_deadline_ns < 0 ||
        (bp->cap_ns != 0 && (bp->cap_ns < bp->base_ns || bp->cap_ns < bp->throttle_base_ns)))
        return -HERD_EINVAL;
    fl->sim = sim;
    fl->cfg = *cfg;
    /* Backoff kind NONE with the default max_attempts 0 would retry forever at once: the
     * caller says max_attempts explicitly; a zeroed policy means "no retries". */
    if (cfg->backoff.kind == HERD_BACKOFF_NONE && cfg->backoff.max_attempts == 0 &&
        cfg->backoff.deadline_ns == 0 && cfg->backoff.failure_deadline_ns == 0)
        fl->cfg.backoff.max_attempts = 1;
    bp = &fl->cfg.backoff;
    fl->skew_clamp = (int64_t)ceil(8 * cfg->skew_sd_ns);
    herd_sim_rng(sim, (uint64_t)(cfg->component + 2) << 32, &fl->rng);

    size_t n = cfg->n;
    bool retries = bp->max_attempts != 1;
    bool need_rng = cfg->offset == HERD_CLIENT_OFFSET_JITTER ||
                    cfg->arrival == HERD_CLIENT_CLOSED || (retries && jittered(bp->kind));
    int rc = 0;
    /* The hot record: the core fields, then the rng, the failure count and the model's
     * bytes when there are any, in one block per client of a power-of-two stride up to
     * 64 (so a record never straddles two cache lines): a random visit is one miss, not
     * one per column. Measured on bench_fleet (10^6 clients): see client.h. */
    size_t off = sizeof(struct herd_client_rec);
    if (need_rng) {
        fl->off_rng = (uint16_t)off;
        off += sizeof(struct herd_rng);
    }
    if (retries) {
        fl->off_fails = (uint16_t)off;
        off += sizeof(uint16_t);
    }
    if (cfg->user_bytes) {
        off = (off + 7) & ~(size_t)7;
        fl->off_user = (uint16_t)off;
        off += cfg->user_bytes;
    }
    size_t stride = 16;
    while (stride < off && stride < 64)
        stride *= 2;
    fl->stride = stride >= off ? stride : (off + 63) & ~(size_t)63;
    fl->block = column(n, fl->stride, true, &rc);
    fl->prev_wait =
        column(n, sizeof *fl->prev_wait, retries && bp->kind == HERD_BACKOFF_DECORRELATED, &rc);
    fl->first_fail = column(n, sizeof *fl->first_fail, retries && bp->failure_deadline_ns, &rc);
    fl->next_b = column(n, sizeof *fl->next_b, cfg->arrival == HERD_CLIENT_PERIODIC, &rc);
    fl->ticket = column(n, sizeof *fl->ticket, retries && cfg->budget, &rc);
    fl->permit = column(n, sizeof *fl->permit, cfg->breaker != NULL, &rc);
    fl->idle = column(n, sizeof *fl->idle, cfg->arrival == HERD_CLIENT_POISSON, &rc);
    if (rc) {
        herd_client_fini(fl);
        return rc;
    }
    if (fl->off_rng) /* a watch's stop ends the loop; the run then ends at once */
        for (size_t i = 0; i < n && !herd_sim_work(sim, 1); i++)
            herd_sim_rng(sim, (uint64_t)cfg->component << 32 | i, crng_at(fl, i));
    if (fl->idle) {
        for (size_t i = 0; i < n; i++) /* popped from the end: client 0 first */
            fl->idle[i] = (uint32_t)(n - 1 - i);
        fl->nidle = (uint32_t)n;
    }
    herd_sim_name(sim, on_fire, "client.fire");
    herd_sim_name(sim, on_cursor, "client.fire");
    herd_sim_name(sim, on_timeout, "client.timeout");
    herd_sim_name(sim, on_retry, "client.retry");
    herd_sim_name(sim, on_periodic, "client.fire");
    herd_sim_name(sim, on_poisson, "client.arrive");
    herd_sim_name(sim, on_think, "client.fire");
    herd_sim_prefetch(sim, on_fire, prefetch_client);
    herd_sim_prefetch(sim, on_retry, prefetch_client);
    herd_sim_prefetch(sim, on_think, prefetch_client);
    herd_sim_prefetch(sim, on_timeout, prefetch_client);
    if (sim->err) { /* a watch stopped the run during the set-up */
        herd_client_fini(fl);
        return sim->err;
    }
    return 0;
}

void herd_client_fini(struct herd_client_fleet *fl)
{
    free(fl->block);
    free(fl->prev_wait);
    free(fl->first_fail);
    free(fl->next_b);
    free(fl->ticket);
    free(fl->permit);
    free(fl->idle);
    free(fl->tmo);
    free(fl->order);
    memset(fl, 0, sizeof *fl);
}

size_t herd_client_bytes(const struct herd_client_fleet *fl)
{
    return fl->stride + (fl->prev_wait ? sizeof *fl->prev_wait : 0) +
           (fl->first_fail ? sizeof *fl->first_fail : 0) + (fl->next_b ? sizeof *fl->next_b : 0) +
           (fl->ticket ? sizeof *fl->ticket : 0) + (fl->permit ? sizeof *fl->permit : 0) +
           (fl->idle ? sizeof *fl->idle : 0);
}

int64_t herd_client_skew(const struct herd_client_fleet *fl, uint32_t i)
{
    if (fl->cfg.skew_sd_ns <= 0)
        return 0;
    struct herd_rng r;
    herd_sim_rng(fl->sim, (uint64_t)(fl->cfg.component + 1) << 32 | i, &r);
    double s = herd_rng_normal_fast(&r, 0, fl->cfg.skew_sd_ns);
    int64_t k = herd_sim_round_ns(s);
    return k > fl->skew_clamp ? fl->skew_clamp : k < -fl->skew_clamp ? -fl->skew_clamp : k;
}

uint32_t herd_client_attempt(const struct herd_client_fleet *fl, uint32_t i)
{
    if (rec_at(fl, i)->state == IDLE)
        return 0;
    return (fl->off_fails ? *fails_at(fl, i) : 0) + 1u;
}

/* Client i's offset at this firing. The splay name is built by hand: snprintf would be
 * a third of the cost of a firing at N = 10^6. */
static int64_t offset(struct herd_client_fleet *fl, uint32_t i)
{
    const struct herd_client_config *c = &fl->cfg;
    switch (c->offset) {
    case HERD_CLIENT_OFFSET_JITTER:
        return herd_jitter_window(c->window_ns, crng_at(fl, i));
    case HERD_CLIENT_OFFSET_SPLAY: {
        char name[80], digits[12];
        size_t len = 0, nd = 0;
        const char *p = c->splay_prefix ? c->splay_prefix : "";
        while (*p && len < 64)
            name[len++] = *p++;
        uint32_t v = i;
        do {
            digits[nd++] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        while (nd)
            name[len++] = digits[--nd];
        return herd_jitter_splay(name, len, c->window_ns, c->splay_salt);
    }
    case HERD_CLIENT_OFFSET_NONE:
    default:
        return 0;
    }
}

static struct herd_rng *rng_of(struct herd_client_fleet *fl, uint32_t i)
{
    return fl->off_rng ? crng_at(fl, i) : &fl->rng;
}

/* ---- a request's life ------------------------------------------------------------- */

static void attempt(struct herd_client_fleet *fl, uint32_t i);

static void finish(struct herd_client_fleet *fl, uint32_t i, enum herd_client_outcome out)
{
    struct herd_sim *sim = fl->sim;
    int64_t now = herd_sim_now(sim);
    rec_at(fl, i)->state = IDLE;
    fl->st.done[out]++;
    fl->st.in_flight--;
    if (fl->cfg.budget)
        herd_budget_end(fl->cfg.budget, now);
    if (fl->cfg.done)
        fl->cfg.done(sim, fl->cfg.ctx, i, out, now - rec_at(fl, i)->start);
    if (fl->cfg.arrival == HERD_CLIENT_CLOSED) {
        int64_t think = herd_sim_round_ns(herd_rng_exp_fast(rng_of(fl, i), (double)fl->cfg.think_ns));
        if (now + think <= fl->until_ns)
            herd_sim_after(sim, think, on_think, fl, i, NULL);
    } else if (fl->cfg.arrival == HERD_CLIENT_POISSON) {
        fl->idle[fl->nidle++] = i;
    }
}

/* Attempt of client i ended without success: @p out says how (FAILED, TIMEDOUT, or
 * REJECTED when the breaker refused it and nothing was sent). Retry or give up. */
static void failed(struct herd_client_fleet *fl, uint32_t i, enum herd_client_outcome out,
                   int64_t retry_after_ns)
{
    const struct herd_client_config *c = &fl->cfg;
    int64_t now = herd_sim_now(fl->sim);
    bool first = !fl->off_fails || *fails_at(fl, i) == 0;
    enum herd_budget_outcome bo = out == HERD_CLIENT_TIMEDOUT   ? HERD_BUDGET_TIMEOUT
                                  : out == HERD_CLIENT_REJECTED ? HERD_BUDGET_CANCELED
                                                                : HERD_BUDGET_FAILURE;
    if (c->budget) {
        if (!first)
            herd_budget_release(c->budget, &fl->ticket[i], bo, now);
        else if (out != HERD_CLIENT_REJECTED)
            herd_budget_record(c->budget, bo, now);
    }
    if (c->backoff.max_attempts == 1) {
        finish(fl, i, out);
        return;
    }
    /* The backoff state lives in the columns; rebuild the caller-owned struct. */
    struct herd_backoff b = {
        .policy = &c->backoff,
        .attempts = *fails_at(fl, i),
        .stop = HERD_BACKOFF_GOING,
        .start_ns = rec_at(fl, i)->start,
        .first_failure_ns = fl->first_fail ? fl->first_fail[i] : rec_at(fl, i)->start,
        .prev_wait_ns = fl->prev_wait ? fl->prev_wait[i] : 0,
    };
    int64_t wait;
    int rc =
        herd_backoff_next(&b, rng_of(fl, i), now, HERD_BACKOFF_FAILED,
                          retry_after_ns > 0 ? retry_after_ns : HERD_BACKOFF_NO_RETRY_AFTER, &wait);
    *fails_at(fl, i) = b.attempts < UINT16_MAX ? (uint16_t)b.attempts : UINT16_MAX;
    if (fl->first_fail)
        fl->first_fail[i] = b.first_failure_ns;
    if (fl->prev_wait)
        fl->prev_wait[i] = b.prev_wait_ns;
    if (rc < 0) {
        fl->st.backoff_gave_up++;
        finish(fl, i, out);
        return;
    }
    if (c->budget) {
        enum herd_budget_kind k =
            out == HERD_CLIENT_TIMEDOUT ? HERD_BUDGET_RETRY_TIMEOUT : HERD_BUDGET_RETRY;
        if (herd_budget_decide(c->budget, k, now, &fl->ticket[i]) != HERD_BUDGET_GO) {
            fl->st.budget_denied++;
            finish(fl, i, out);
            return;
        }
    }
    rec_at(fl, i)->state = BACKOFF;
    herd_sim_after(fl->sim, wait, on_retry, fl, i, NULL);
}

/* ---- timeouts ---------------------------------------------------------------------- */

static bool waiting_on(const struct herd_client_fleet *fl, uint64_t tag)
{
    const struct herd_client_rec *r = rec_at(fl, herd_client_of(tag));
    return r->seq == (uint32_t)(tag >> 32) && r->state == WAIT;
}

/* Drop stale entries at the head and arm the timer for the first live one. Each entry is
 * dropped once, so this is O(1) amortised. Pre: no timer armed. */
static void tmo_arm(struct herd_client_fleet *fl)
{
    while (fl->tmo_len && !waiting_on(fl, fl->tmo[fl->tmo_head].tag)) {
        fl->tmo_head = (fl->tmo_head + 1) & (fl->tmo_cap - 1);
        fl->tmo_len--;
        if (fl->tmo_len > PREFETCH_AHEAD) /* each stale entry reads a random record */
            __builtin_prefetch(rec_at(
                fl,
                herd_client_of(fl->tmo[(fl->tmo_head + PREFETCH_AHEAD) & (fl->tmo_cap - 1)].tag)));
    }
    if (!fl->tmo_len)
        return;
    const struct herd_client_tmo *h = &fl->tmo[fl->tmo_head];
    if (fl->tmo_len > PREFETCH_AHEAD) { /* the clients whose deadlines come next */
        uint32_t k =
            herd_client_of(fl->tmo[(fl->tmo_head + PREFETCH_AHEAD) & (fl->tmo_cap - 1)].tag);
        __builtin_prefetch(rec_at(fl, k), 1); /* and its rng: a timeout draws its backoff */
    }
    int64_t now = herd_sim_now(fl->sim);
    herd_sim_at(fl->sim, h->deadline > now ? h->deadline : now, on_timeout, fl, h->tag,
                &fl->tmo_timer);
    fl->tmo_armed = h->tag;
}

static void tmo_push(struct herd_client_fleet *fl, uint64_t tag)
{
    if (fl->tmo_len == fl->tmo_cap) {
        size_t cap = fl->tmo_cap ? fl->tmo_cap * 2 : 1024;
        struct herd_client_tmo *p = malloc(cap * sizeof *p);
        if (!p) {
            fl->sim->err = -HERD_ENOMEM; /* sticky: the run stops with it */
            return;
        }
        for (size_t j = 0; j < fl->tmo_len; j++) /* unwrap into the new ring */
            p[j] = fl->tmo[(fl->tmo_head + j) & (fl->tmo_cap - 1)];
        free(fl->tmo);
        fl->tmo = p;
        fl->tmo_cap = cap;
        fl->tmo_head = 0;
    }
    fl->tmo[(fl->tmo_head + fl->tmo_len++) & (fl->tmo_cap - 1)] =
        (struct herd_client_tmo){herd_sim_now(fl->sim) + fl->cfg.timeout_ns, tag};
    if (!fl->tmo_armed)
        tmo_arm(fl);
}

/* Attempt @p tag is over (replied): if the timer was for it, move it to the next. */
static void tmo_over(struct herd_client_fleet *fl, uint64_t tag)
{
    size_t tail = (fl->tmo_head + fl->tmo_len - 1) & (fl->tmo_cap - 1);
    if (fl->tmo_len && fl->tmo[tail].tag == tag) {
        /* Answered inside its own send (a fast reject, a cache hit): its entry is still
         * the ring's tail, so drop it now rather than leave a stale entry whose record
         * tmo_arm would have to read again later. */
        fl->tmo_len--;
    }
    if (fl->tmo_armed != tag)
        return;
    herd_sim_cancel(fl->sim, &fl->tmo_timer);
    fl->tmo_armed = 0;
    tmo_arm(fl);
}

/* ---- attempts ---------------------------------------------------------------------- */

static void attempt(struct herd_client_fleet *fl, uint32_t i)
{
    const struct herd_client_config *c = &fl->cfg;
    struct herd_sim *sim = fl->sim;
    if (c->breaker) {
        enum herd_breaker_verdict v =
            herd_breaker_allow(c->breaker, herd_sim_now(sim), &fl->rng, &fl->permit[i]);
        if (v != HERD_BREAKER_GO) {
            fl->st.breaker_rejects++;
            failed(fl, i, HERD_CLIENT_REJECTED, fl->permit[i].retry_after_ns);
            return;
        }
    }
    uint32_t seq = ++rec_at(fl, i)->seq;
    uint64_t tag = TAG(seq, i);
    rec_at(fl, i)->state = WAIT;
    fl->st.attempts++;
    if (fl->off_fails && *fails_at(fl, i))
        fl->st.retries++;
    /* Queued before the send, so a reply delivered inside send() finds it. */
    if (c->timeout_ns > 0)
        tmo_push(fl, tag);
    c->send(sim, c->ctx, i, tag);
}

/* Client i begins a request now (its scheduled firing). */
static void begin(struct herd_client_fleet *fl, uint32_t i)
{
    if (rec_at(fl, i)->state != IDLE) {
        fl->st.skipped++;
        return;
    }
    int64_t now = herd_sim_now(fl->sim);
    rec_at(fl, i)->start = now;
    if (fl->off_fails)
        *fails_at(fl, i) = 0;
    fl->st.fired++;
    fl->st.in_flight++;
    if (fl->cfg.budget)
        herd_budget_begin(fl->cfg.budget, now);
    attempt(fl, i);
}

bool herd_client_reply(struct herd_client_fleet *fl, uint64_t tag, int status)
{
    uint32_t i = herd_client_of(tag);
    if (i >= fl->cfg.n || rec_at(fl, i)->seq != (uint32_t)(tag >> 32) ||
        rec_at(fl, i)->state != WAIT) {
        fl->st.late++;
        return false;
    }
    const struct herd_client_config *c = &fl->cfg;
    int64_t now = herd_sim_now(fl->sim);
    fl->st.replies++;
    if (c->breaker)
        herd_breaker_record(c->breaker, &fl->permit[i],
                            status == 0 ? HERD_BREAKER_SUCCESS : HERD_BREAKER_FAILURE,
                            now - rec_at(fl, i)->start, now);
    if (status == 0) {
        if (c->budget) {
            if (fl->off_fails && *fails_at(fl, i))
                herd_budget_release(c->budget, &fl->ticket[i], HERD_BUDGET_SUCCESS, now);
            else
                herd_budget_record(c->budget, HERD_BUDGET_SUCCESS, now);
        }
        finish(fl, i, HERD_CLIENT_OK);
    } else {
        fl->st.failures++;
        failed(fl, i, HERD_CLIENT_FAILED, HERD_BACKOFF_NO_RETRY_AFTER);
    }
    if (c->timeout_ns > 0) /* after the state moved on, so the entry reads as stale */
        tmo_over(fl, tag);
    return true;
}

/* ---- events ------------------------------------------------------------------------ */

static void on_fire(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    begin(ctx, (uint32_t)arg);
}

static void on_timeout(struct herd_sim *sim, void *ctx, uint64_t tag)
{
    struct herd_client_fleet *fl = ctx;
    uint32_t i = herd_client_of(tag);
    /* The timer is for the ring's head, which is live (a reply would have moved it). */
    assert(fl->tmo_armed == tag && fl->tmo[fl->tmo_head].tag == tag && waiting_on(fl, tag));
    memset(&fl->tmo_timer, 0, sizeof fl->tmo_timer); /* it ran: nothing to cancel */
    fl->tmo_armed = 0;
    fl->tmo_head = (fl->tmo_head + 1) & (fl->tmo_cap - 1);
    fl->tmo_len--;
    fl->st.timeouts++;
    if (fl->cfg.abandon)
        fl->cfg.abandon(sim, fl->cfg.ctx, i, tag);
    if (fl->cfg.breaker) {
        int64_t now = herd_sim_now(sim);
        herd_breaker_record(fl->cfg.breaker, &fl->permit[i], HERD_BREAKER_FAILURE,
                            now - rec_at(fl, i)->start, now);
    }
    failed(fl, i, HERD_CLIENT_TIMEDOUT, HERD_BACKOFF_NO_RETRY_AFTER);
    if (!fl->tmo_armed)
        tmo_arm(fl);
}

static void on_retry(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    attempt(ctx, (uint32_t)arg);
}

/* TRIGGERED firings go through one cursor event rather than N pending events: the
 * trigger sorts the clients by (firing time, index) — a radix sort of packed 64-bit keys
 * (time since `base` << KEY_BITS | index) — and the cursor dispatches them in that
 * order, one engine event per firing, each scheduled when the previous one runs. The
 * order is exactly the one N separate events would give among themselves; what it buys:
 * 8 bytes per client instead of a 32-byte wheel entry cascaded three times, and, since
 * the next clients are known, their records are prefetched (a herd visits clients in
 * random order: at N = 10^6 that was half the run time in cache misses). */
#define KEY_BITS 21
#define KEY_MASK ((UINT64_C(1) << KEY_BITS) - 1)

static void on_cursor(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct herd_client_fleet *fl = ctx;
    size_t k = fl->order_pos++;
    assert(k < fl->order_len && (fl->order[k] & KEY_MASK) == arg);
    if (k + PREFETCH_AHEAD < fl->order_len)
        __builtin_prefetch(rec_at(fl, (uint32_t)(fl->order[k + PREFETCH_AHEAD] & KEY_MASK)), 1);
    if (k + 1 < fl->order_len) {
        uint64_t next = fl->order[k + 1];
        herd_sim_at(sim, fl->order_base + (int64_t)(next >> KEY_BITS), on_cursor, fl,
                    next & KEY_MASK, NULL);
    } else {
        free(fl->order);
        fl->order = NULL;
        fl->order_len = fl->order_pos = 0;
    }
    begin(fl, (uint32_t)arg);
}

/* LSD radix sort of @p n keys below 2^@p bits, 11 bits a pass, ping-ponging between
 * @p a and @p tmp (room for n). @return whichever of the two holds the sorted keys. */
static uint64_t *radix_sort(uint64_t *a, uint64_t *tmp, size_t n, int bits)
{
    enum { D = 11, R = 1 << D };
    size_t count[R];
    for (int shift = 0; shift < bits; shift += D) {
        memset(count, 0, sizeof count);
        for (size_t j = 0; j < n; j++)
            count[(a[j] >> shift) & (R - 1)]++;
        size_t sum = 0;
        for (size_t d = 0; d < R; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t j = 0; j < n; j++)
            tmp[count[(a[j] >> shift) & (R - 1)]++] = a[j];
        uint64_t *t = a;
        a = tmp;
        tmp = t;
    }
    return a;
}

int herd_client_trigger(struct herd_client_fleet *fl, int64_t t_ns)
{
    struct herd_sim *sim = fl->sim;
    const struct herd_client_config *c = &fl->cfg;
    assert(c->arrival == HERD_CLIENT_TRIGGERED);
    int64_t now = herd_sim_now(sim);
    int64_t base = t_ns - fl->skew_clamp > now ? t_ns - fl->skew_clamp : now;
    int64_t span = t_ns + c->window_ns + fl->skew_clamp - base; /* every firing is within */
    bool packed =
        !fl->order && c->n <= KEY_MASK + 1 && span >= 0 && span < (INT64_C(1) << (63 - KEY_BITS));
    uint64_t *keys = packed ? malloc(c->n * sizeof *keys) : NULL;
    uint64_t *tmp = packed ? malloc(c->n * sizeof *tmp) : NULL;
    if (!keys || !tmp) { /* no cursor possible (or no memory for one): N events */
        free(keys);
        free(tmp);
        for (uint32_t i = 0; i < c->n && !herd_sim_work(sim, 1); i++) {
            int64_t t = t_ns + offset(fl, i) - herd_client_skew(fl, i);
            herd_sim_at(sim, t > now ? t : now, on_fire, fl, i, NULL);
        }
        return sim->err;
    }
    uint64_t max = 0;
    for (uint32_t i = 0; i < c->n; i++) {
        if (herd_sim_work(sim, 1)) {
            free(keys);
            free(tmp);
            return sim->err;
        }
        int64_t t = t_ns + offset(fl, i) - herd_client_skew(fl, i);
        if (t < base)
            t = base;
        keys[i] = (uint64_t)(t - base) << KEY_BITS | i;
        max |= keys[i];
    }
    int bits = 64 - __builtin_clzll(max | 1);
    if (herd_sim_work(sim, (int64_t)c->n * ((bits + 10) / 11))) { /* the sort's passes */
        free(keys);
        free(tmp);
        return sim->err;
    }
    uint64_t *sorted = radix_sort(keys, tmp, c->n, bits);
    free(sorted == keys ? tmp : keys);
    tmp = sorted;
    fl->order = sorted;
    fl->order_len = c->n;
    fl->order_pos = 0;
    fl->order_base = base;
    herd_sim_at(sim, base + (int64_t)(tmp[0] >> KEY_BITS), on_cursor, fl, tmp[0] & KEY_MASK, NULL);
    return sim->err;
}

/* PERIODIC: client i's firing at own-clock boundary next_b[i] has come. */
static void on_periodic(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct herd_client_fleet *fl = ctx;
    uint32_t i = (uint32_t)arg;
    begin(fl, i);
    int64_t b = fl->next_b[i] + fl->cfg.period_ns;
    fl->next_b[i] = b;
    int64_t t = b + offset(fl, i) - herd_client_skew(fl, i);
    int64_t now = herd_sim_now(sim);
    if (t < now)
        t = now;
    if (t <= fl->until_ns)
        herd_sim_at(sim, t, on_periodic, fl, i, NULL);
}

/* The next open arrival one exponential gap after @p from_ns. */
static void poisson_next(struct herd_client_fleet *fl, int64_t from_ns)
{
    double gap = herd_rng_exp_fast(&fl->rng, 1e9 / fl->cfg.rate_per_s);
    int64_t t = gap < (double)(fl->until_ns - from_ns) ? from_ns + herd_sim_round_ns(gap) : INT64_MAX;
    if (t <= fl->until_ns)
        herd_sim_at(fl->sim, t, on_poisson, fl, 0, NULL);
}

static void on_poisson(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct herd_client_fleet *fl = ctx;
    (void)sim;
    (void)arg;
    if (fl->nidle)
        begin(fl, fl->idle[--fl->nidle]);
    else
        fl->st.overflow++;
    poisson_next(fl, herd_sim_now(sim));
}

static void on_think(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    begin(ctx, (uint32_t)arg);
}

int herd_client_start(struct herd_client_fleet *fl, int64_t from_ns, int64_t until_ns)
{
    struct herd_sim *sim = fl->sim;
    const struct herd_client_config *c = &fl->cfg;
    assert(c->arrival != HERD_CLIENT_TRIGGERED && from_ns >= herd_sim_now(sim));
    fl->until_ns = until_ns;
    switch (c->arrival) {
    case HERD_CLIENT_PERIODIC:
        for (uint32_t i = 0; i < c->n && !herd_sim_work(sim, 1); i++) {
            /* The first own-clock boundary at or after from (a multiple of period). */
            int64_t b = (from_ns + c->period_ns - 1) / c->period_ns * c->period_ns;
            int64_t t = b + offset(fl, i) - herd_client_skew(fl, i);
            fl->next_b[i] = b;
            if (t < from_ns)
                t = from_ns;
            if (t <= until_ns)
                herd_sim_at(sim, t, on_periodic, fl, i, NULL);
        }
        break;
    case HERD_CLIENT_POISSON:
        poisson_next(fl, from_ns);
        break;
    case HERD_CLIENT_CLOSED:
        for (uint32_t i = 0; i < c->n && !herd_sim_work(sim, 1); i++) {
            /* Each starts with a think, so the fleet does not begin in lock step. */
            int64_t t = from_ns + herd_sim_round_ns(herd_rng_exp_fast(crng_at(fl, i), (double)c->think_ns));
            if (t <= until_ns)
                herd_sim_at(sim, t, on_think, fl, i, NULL);
        }
        break;
    case HERD_CLIENT_TRIGGERED:
        break;
    }
    return sim->err;
}
