/* model_cache.c — the cache-stampede herd as a discrete-event simulation.
 *
 * It mirrors src/live/cache.c (read its header: the figures mean the same here) with
 * the same libherd objects a user's server would hold: an swr cache (herd/swr.h) for
 * the entries (soft/hard TTL, one refresher per key, TTL jitter through its config),
 * a singleflight table (herd/singleflight.h, NON-BLOCKING begin/complete/poll/release)
 * coalescing misses, and XFetch (herd_xfetch_begin) with delta measured per key from
 * the simulated query. Every libherd call gets SIMULATED time. The tables are sized
 * per key (keys + 8), never per requester: N = 1,000,000 needs no larger table.
 *
 * Shape of a run (as live):
 *  - start-up: one query per key, one after another, alone at the origin: their
 *    durations are each key's first delta and the `query_ms_alone` extra.
 *  - an event: every key is filled at one instant F (ttl-jitter: TTL drawn by
 *    herd_swr_set() from the fill's rng); key k expires at T_k. From W = min T_k - lead
 *    (at least now + 1 ms), requester i asks for key i mod keys every period, with a
 *    phase drawn from its own rng in [0, period). Its schedule is fixed: a requester
 *    held up in a query owes the requests scheduled meanwhile and issues them when it
 *    returns, each timed from its scheduled time. It stops once it has a value for a
 *    request scheduled at or after T_k and has caught up; past Tmax + 60 s it gives up
 *    (timed out), as live. The event ends when every requester has stopped; the next
 *    fill follows at once.
 *  - strategies: every-miss and ttl-jitter query on every miss; singleflight: the
 *    leader re-reads, queries, sets, completes; joiners are delivered by an event at
 *    the leader's completion (poll + release); swr: STALE_REFRESH serves stale then
 *    refreshes (the requester is busy meanwhile), STALE serves, a hard miss goes
 *    through singleflight; xfetch: on a hit herd_xfetch_begin() draws and, for the
 *    one flight leader, serves then refreshes; misses go through singleflight.
 *
 * The origin is service.h: origin_workers queries at once (0: prof->cores), an
 * unbounded FIFO behind them, and a USL slowdown (usl_sigma, usl_kappa) over every
 * query the origin holds (usl_on_held): all N connections are inside the database at
 * once, contending for its locks and caches, while the cores only cap how many make
 * progress. With the default kappa (5e-6) that costs 5 % at N = 100 (where the live
 * herd is plain queueing: p99 linear in N) and x4 per query at N = 800, so p99 grows
 * faster than N past a few hundred requesters, out of the queue's own mechanics. The
 * origin counts at most 1,000 connections (a max_connections); the rest wait outside. A
 * query alone takes prof->origin_query_ns * rows / HERD_CACHE_ROWS_DEFAULT: the calibrated
 * figure is the default table's (50,000 rows) and the query aggregates over every
 * row, so its cost scales with the table. Deterministic service time (the live query
 * is the same work every time; its spread comes from contention, which is modelled).
 * What the requesters' own threads cost is NOT modelled: in a fleet they run on other
 * machines than the origin (on the live 2-core box they compete with it; see the note).
 *
 * Figures come from the run's own events: wakes (queries + joins + leaders that found
 * the value on their re-read), useful (keys whose first refresh completed in the
 * event), origin_load (the service's arrivals), peak (most queries submitted and not
 * completed, queued included: live's gauge around query()), latency per request from
 * its scheduled time, timeline of the first event from W ("arrivals", "inflight",
 * "stale"), waiters (first event), extras as live.
 *
 * How it stays fast. Requests are not one engine event each. The requesters still in
 * step with their schedule form one stream, sorted by phase: one "sweep" event walks
 * it in time order and serves every request due before the next engine event, calling
 * libherd at each request's own time (nothing else can happen in between, so that is
 * exactly what the cache would answer then). A request that must reach the engine (a
 * query) at a later time than now is handed to an event at that time and the sweep
 * stops behind it. The cache's answer for a key is memoised until it can change (the
 * soft/hard TTL, or the next set(): every set clears it), so the walk does not call
 * herd_swr_get() for the 2nd..Nth identical hit of a key (an xfetch hit still draws
 * through herd_xfetch_begin() every time). A requester that returns from a query and
 * owes k requests is served them at that instant: the first through the cache, the
 * other k - 1 (identical answers at the same instant) in bulk, their k latencies
 * recorded bucket by bucket (exact counts and sum). Returning requesters that are not
 * done yet run on their own events (rare: early refreshers).
 * Cost per requester: about 130 bytes in flat arrays (rng 32 + its by-slot copy 32,
 * slot map 4, schedule 8, query start 8, ticket 16, stream 4, sort 16, links 4, flags
 * 4), plus the origin's 52 bytes per queued query; no per-requester allocation.
 * Measured at N = 1,000,000: 70-190 bytes per requester of max RSS, ~2 s (swr,
 * singleflight) to ~5 s (naive, xfetch) for the default 5 events.
 * Thread safety: none; a run is one thread's. Deterministic: a pure function of
 * (spec, seed, profile).
 */
#include "model_cache.h"

#include <herd/error.h>
#include <herd/rng.h>
#include <herd/singleflight.h>
#include <herd/swr.h>
#include <herd/xfetch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service.h"

#define NS_PER_MS INT64_C(1000000)
#define EVENT_GRACE_NS (60 * INT64_C(1000000000)) /* as live: give up this long past Tmax */
#define FINE_NS INT64_C(100000)                   /* timeline log resolution (min bucket) */
#define NONE UINT32_MAX
#define STARTUP_TAG (UINT64_C(1) << 40)

/* Stream ids (herd_sim_rng): component << 32 | index. */
#define STREAM_FILL (UINT64_C(0) << 32)
#define STREAM_REQ (UINT64_C(1) << 32)
#define STREAM_ORIGIN (UINT64_C(2) << 32)

/* What a strategy makes a requester do (as live's): the one switch is mode_of(). */
struct mode {
    bool coalesce;   /* a miss goes through singleflight (else it queries itself) */
    bool xfetch;     /* a hit draws XFetch's early refresh */
    bool stale;      /* entries stay servable stale_ms past the TTL */
    bool jitter_ttl; /* every set draws its TTL in ttl * (1 +- jitter_pct) */
};
enum { ST_STREAM, ST_BUSY, ST_SOLO, ST_DONE };
enum { ROLE_NONE, ROLE_QUERY, ROLE_LEADER, ROLE_REFRESH, ROLE_JOINER };

struct cval {
    int64_t key, set_ns;
};

/* The cache's last answer for a key, valid while no set() happened and t < until. */
struct memo {
    bool valid;
    int state;
    int64_t until;
    struct herd_swr_info info;
};

struct keyst {
    char name[8];
    size_t len;
    int64_t expiry; /* T_k of the current event */
    int64_t delta;  /* duration of its last recompute */
    int refreshed_ev;
    uint32_t jhead, jtail; /* joiners of the key's running flight */
    struct memo memo;
};

/* Run-length log of one timeline series at FINE_NS resolution, from W. */
struct rle {
    struct rle_pt {
        int64_t f, v, end;
    } * p;
    size_t len, cap;
};

struct run {
    const struct herd_run_spec *spec;
    struct herd_report *r;
    struct herd_sim sim;
    struct herd_service origin;
    struct herd_swr *cache;
    struct herd_singleflight *sf;
    herd_sim_trace_fn trace;
    void *trace_ctx;
    struct mode mode;
    uint32_t n;
    int keys, events, ev;
    int64_t ttl, period, lead;
    double beta;
    int err;

    /* Per requester: its rng (persistent across events). Everything else is per SLOT:
     * each event numbers the requesters by phase (slot s is requester rid[s]), so the
     * sweep, the joiner lists and the deliveries walk memory in order. */
    struct herd_rng *rng;  /* by requester; between events */
    struct herd_rng *srng; /* by slot, during an event (gathered at the fill, scattered
                            * back at its end: an xfetch hit draws from it in order) */
    uint32_t *rid;
    int64_t *sched; /* next request's scheduled time (the one in hand when busy) */
    struct herd_singleflight_ticket *tk;
    uint32_t *jnext;
    uint8_t *st, *role, *got, *out;
    uint32_t *order; /* the stream: slots still in step, ascending (= by phase) */
    uint64_t *sortbuf, *sorttmp;
    uint32_t olen, pos, nstream, ndone;

    struct keyst *k;
    struct herd_rng fill_rng;
    int64_t W, deadline, Tmin, Tmax;
    bool future_act; /* the last request handed a query to an event later than now */
    bool acted;      /* the last request scheduled an engine event */

    /* current event */
    uint64_t ev_out[HERD_OUT_COUNT]; /* reactions by outcome class */
    uint64_t peak, q0;
    int64_t inflight;
    /* totals */
    uint64_t requests, hits, stale, shared, early, failed, timedout;
    uint64_t lat0; /* latencies of exactly 0 not yet in the histogram (hits in step) */
    struct herd_hist qdur;
    int64_t startup_left;
    int64_t *alone;
    double spread_ms;
    struct rle tl_arr, tl_inf, tl_stale;
};

/* ---- small helpers ---------------------------------------------------------------- */

/* @p count reactions of class @p o by the requester in slot @p i (as live counts them:
 * a refresh is useful or wasted, a joiner or stale serve served, a timeout failed). */
static void react(struct run *R, uint32_t i, enum herd_outcome o, uint64_t count)
{
    R->ev_out[o] += count;
    R->out[i] = 1; /* reacted in this event */
    if (R->rid[i] < HERD_REPORT_WAITERS)
        R->r->waiters[R->rid[i]].n[o] += (uint32_t)count;
}

static void trace(struct run *R, int64_t t, const char *kind, uint32_t s)
{
    if (R->trace)
        R->trace(R->trace_ctx, t, kind, R->rid[s]);
}

static void rle_add(struct run *R, struct rle *s, int64_t t, int64_t v, bool level)
{
    if (R->ev != 0 || t < R->W)
        return;
    int64_t f = (t - R->W) / FINE_NS;
    if (s->len && s->p[s->len - 1].f == f) {
        struct rle_pt *p = &s->p[s->len - 1];
        if (level) {
            if (v > p->v)
                p->v = v;
            p->end = v;
        } else {
            p->v += v;
        }
        return;
    }
    if (s->len == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        void *p = realloc(s->p, cap * sizeof *s->p);
        if (!p) {
            R->err = -HERD_ENOMEM;
            return;
        }
        s->p = p;
        s->cap = cap;
    }
    s->p[s->len++] = (struct rle_pt){f, v, v};
}

/* Record latencies lo, lo + p, ..., lo + (k-1)p: exact counts, sum, min and max, one
 * histogram bucket at a time (a bucket holds many of them once p is below its width). */
static void record_progression(struct herd_hist *h, int64_t lo, int64_t p, uint64_t k)
{
    while (k) {
        int idx = herd_hist_index(lo);
        int64_t bhi = herd_hist_bucket_hi(idx);
        uint64_t m = (uint64_t)((bhi - lo) / p) + 1;
        if (m > k)
            m = k;
        if (m > 1) {
            herd_hist_record_n(h, lo, m - 1);
            h->sum += (double)p * (double)(m - 1) * (double)(m - 2) / 2;
        }
        herd_hist_record(h, lo + (int64_t)(m - 1) * p);
        lo += (int64_t)m * p;
        k -= m;
    }
}

static int key_of(const struct run *R, uint32_t s)
{
    return (int)(R->rid[s] % (uint32_t)R->keys);
}

/* The request scheduled at @p sched has its value at @p t. */
static void served(struct run *R, int64_t sched, int64_t t)
{
    if (t == sched)
        R->lat0++;
    else
        herd_hist_record(&R->r->latency, t - sched);
}

static void stale_served(struct run *R, uint32_t i, int64_t t, uint64_t count)
{
    R->stale += count;
    react(R, i, HERD_OUT_SERVED, count);
    rle_add(R, &R->tl_stale, t, (int64_t)count, false);
}

static struct cval value_of(int k, int64_t t)
{
    return (struct cval){k, t};
}

/* The cache's answer for key @p k at @p t, memoised until it can change. */
static int cache_get(struct run *R, int k, int64_t t, struct herd_swr_info *info)
{
    struct memo *m = &R->k[k].memo;
    if (m->valid && t < m->until) {
        *info = m->info;
        return m->state;
    }
    struct cval v;
    int st = herd_swr_get(R->cache, R->k[k].name, R->k[k].len, t, &v, sizeof v, info);
    m->valid = true;
    m->state = st;
    m->info = *info;
    switch (st) {
    case HERD_SWR_HIT:
        m->until = info->fresh_until_ns;
        break;
    case HERD_SWR_STALE:
        m->until = info->stale_until_ns;
        break;
    case HERD_SWR_MISS:
        m->until = HERD_SIM_FOREVER; /* until the next set() */
        break;
    default: /* STALE_REFRESH changed the entry: the next reader must ask again */
        m->valid = false;
        break;
    }
    return st;
}

static void cache_set(struct run *R, int k, int64_t t, int64_t delta, struct herd_rng *rng)
{
    struct cval v = value_of(k, t);
    herd_swr_set(R->cache, R->k[k].name, R->k[k].len, &v, sizeof v, t, NULL, delta, rng);
    R->k[k].memo.valid = false;
}

/* ---- the origin ------------------------------------------------------------------- */

static void on_query_done(struct herd_sim *sim, void *ctx, uint64_t tag, int status,
                          int64_t sojourn_ns);
static void on_act(struct herd_sim *sim, void *ctx, uint64_t arg);
static void on_deliver(struct herd_sim *sim, void *ctx, uint64_t arg);
static void on_solo(struct herd_sim *sim, void *ctx, uint64_t arg);
static void on_sweep(struct herd_sim *sim, void *ctx, uint64_t arg);
static void on_fill(struct herd_sim *sim, void *ctx, uint64_t arg);

static void submit(struct run *R, uint32_t i)
{
    int64_t now = herd_sim_now(&R->sim);
    R->inflight++;
    if ((uint64_t)R->inflight > R->peak)
        R->peak = (uint64_t)R->inflight;
    rle_add(R, &R->tl_arr, now, 1, false);
    rle_add(R, &R->tl_inf, now, R->inflight, true);
    /* --trace: the origin's log, a query for the requester's key after its miss. */
    herd_sim_request(&R->sim, now, R->rid[i], R->rid[i] % (uint32_t)R->keys + 1, HERD_REQ_MISS);
    int rc = herd_service_submit(&R->origin, on_query_done, R, i, NULL);
    if (rc < 0 && !R->err)
        R->err = rc;
}

/* Requester @p i queries the origin at @p t (now, or an event at t). */
static void query(struct run *R, uint32_t i, int64_t t, int role)
{
    R->role[i] = (uint8_t)role;
    R->acted = true;
    if (t == herd_sim_now(&R->sim)) {
        submit(R, i);
    } else {
        R->future_act = true;
        herd_sim_at(&R->sim, t, on_act, R, i, NULL);
    }
}

static void on_act(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    submit(ctx, (uint32_t)arg);
}

/* ---- one request ------------------------------------------------------------------ */

/*
 * Requester @p i's request (scheduled at @p sched) handled at @p t (>= now: the sweep
 * looks ahead to before the next engine event). @return true when it was served and
 * the requester is free; false when it is now busy (querying or joined).
 */
static bool request(struct run *R, uint32_t i, int64_t sched, int64_t t)
{
    int k = key_of(R, i);
    struct keyst *K = &R->k[k];
    struct herd_swr_info info;
    int st = cache_get(R, k, t, &info);

    R->requests++;
    switch (st) {
    case HERD_SWR_HIT:
        if (R->mode.xfetch) {
            struct herd_singleflight_ticket tk;
            if (herd_xfetch_begin(R->sf, K->name, K->len, t, info.fresh_until_ns, info.delta_ns,
                                  R->beta, &R->srng[i], &tk) == HERD_XFETCH_LEAD) {
                served(R, sched, t);
                trace(R, t, "req.early", i);
                R->early++;
                R->tk[i] = tk;
                query(R, i, t, ROLE_REFRESH);
                return false;
            }
        }
        served(R, sched, t);
        trace(R, t, "req.hit", i);
        R->hits++;
        return true;
    case HERD_SWR_STALE_REFRESH:
        served(R, sched, t);
        trace(R, t, "req.stale-refresh", i);
        stale_served(R, i, t, 1);
        query(R, i, t, ROLE_REFRESH);
        return false;
    case HERD_SWR_STALE:
        served(R, sched, t);
        trace(R, t, "req.stale", i);
        stale_served(R, i, t, 1);
        return true;
    default:
        break;
    }
    trace(R, t, "req.miss", i);
    if (!R->mode.coalesce) {
        query(R, i, t, ROLE_QUERY);
        return false;
    }
    struct herd_singleflight_ticket tk;
    int role = herd_singleflight_begin(R->sf, K->name, K->len, t, &tk);
    if (role == HERD_SINGLEFLIGHT_LEADER) {
        /* As live: a flight that completed just before our begin already set the cache. */
        if (cache_get(R, k, t, &info) == HERD_SWR_HIT) {
            struct cval v = value_of(k, info.set_ns);
            herd_singleflight_complete(R->sf, &tk, &v, sizeof v, 0);
            served(R, sched, t);
            R->shared++;
            react(R, i, HERD_OUT_SERVED, 1);
            return true;
        }
        R->tk[i] = tk;
        query(R, i, t, ROLE_LEADER);
        return false;
    }
    if (role != HERD_SINGLEFLIGHT_JOINED) { /* table full or shed: uncoalesced */
        query(R, i, t, ROLE_QUERY);
        return false;
    }
    R->tk[i] = tk;
    R->role[i] = ROLE_JOINER;
    R->jnext[i] = NONE;
    if (K->jtail == NONE)
        K->jhead = i;
    else
        R->jnext[K->jtail] = i;
    K->jtail = i;
    return false;
}

/* ---- the requester's loop (live's run_event) --------------------------------------- */

static void end_event(struct run *R);

static void done(struct run *R, uint32_t i)
{
    if (R->st[i] == ST_STREAM)
        R->nstream--;
    R->st[i] = ST_DONE;
    if (++R->ndone == R->n)
        end_event(R);
}

static void timed_out(struct run *R, uint32_t i)
{
    R->timedout++;
    react(R, i, HERD_OUT_FAILED, 1);
    done(R, i);
}

/*
 * The request in hand (sched[i]) was just served at now: move on along the schedule,
 * serving what is owed at once (live: a requester that is behind issues its requests
 * back to back), until the requester is done, busy again, or ahead of its schedule.
 */
static void advance(struct run *R, uint32_t i)
{
    int64_t now = herd_sim_now(&R->sim), p = R->period;
    int k = key_of(R, i);
    int64_t T = R->k[k].expiry;

    if (R->sched[i] >= T)
        R->got[i] = 1;
    R->sched[i] += p;
    for (;;) {
        if (R->got[i] && R->sched[i] > now) {
            done(R, i);
            return;
        }
        if (now >= R->deadline) {
            timed_out(R, i);
            return;
        }
        if (R->sched[i] > now) {
            R->st[i] = ST_SOLO;
            herd_sim_at(&R->sim, R->sched[i], on_solo, R, i, NULL);
            return;
        }
        if (!request(R, i, R->sched[i], now)) {
            R->st[i] = ST_BUSY;
            return;
        }
        if (R->sched[i] >= T)
            R->got[i] = 1;
        R->sched[i] += p;
        /* The rest owed now get the same answer at the same instant: in bulk (an
         * xfetch hit draws each time, so it stays one by one). */
        struct memo *m = &R->k[k].memo;
        if (R->sched[i] <= now && m->valid && now < m->until &&
            (m->state == HERD_SWR_STALE || (m->state == HERD_SWR_HIT && !R->mode.xfetch))) {
            uint64_t cnt = (uint64_t)((now - R->sched[i]) / p) + 1;
            int64_t last = R->sched[i] + (int64_t)(cnt - 1) * p;
            record_progression(&R->r->latency, now - last, p, cnt);
            R->requests += cnt;
            if (m->state == HERD_SWR_HIT)
                R->hits += cnt;
            else
                stale_served(R, i, now, cnt);
            if (last >= T)
                R->got[i] = 1;
            R->sched[i] = last + p;
        }
    }
}

static void on_solo(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct run *R = ctx;
    uint32_t i = (uint32_t)arg;
    int64_t now = herd_sim_now(sim);
    if (now >= R->deadline) {
        timed_out(R, i);
        return;
    }
    if (!request(R, i, R->sched[i], now)) {
        R->st[i] = ST_BUSY;
        return;
    }
    advance(R, i);
}

/* A query of requester @p i completed: set the cache, finish the flight, move on. */
static void on_query_done(struct herd_sim *sim, void *ctx, uint64_t tag, int status,
                          int64_t sojourn_ns)
{
    struct run *R = ctx;
    int64_t now = herd_sim_now(sim);
    (void)status; /* the origin never sheds: no shed_wait_ns */

    R->inflight--;
    rle_add(R, &R->tl_inf, now, R->inflight, true);
    if (tag & STARTUP_TAG) { /* a start-up query, alone at the origin */
        int k = (int)(tag & 0xffffffff);
        int64_t d = sojourn_ns; /* submitted now: the query alone */
        R->alone[k] = d;
        R->k[k].delta = d;
        if (k + 1 < R->keys) {
            R->inflight++;
            herd_service_submit(&R->origin, on_query_done, R, STARTUP_TAG | (uint64_t)(k + 1),
                                NULL);
        } else {
            herd_sim_at(sim, now, on_fill, R, 0, NULL);
        }
        return;
    }
    uint32_t i = (uint32_t)tag;
    int k = key_of(R, i);
    struct keyst *K = &R->k[k];
    int64_t d = sojourn_ns; /* submitted when the requester queried: its query's time */
    herd_hist_record(&R->qdur, d);
    /* ttl-jitter draws a new TTL for every set, as live. */
    cache_set(R, k, now, d, R->mode.jitter_ttl ? &R->srng[i] : NULL);
    K->delta = d;
    if (K->refreshed_ev < R->ev) {
        K->refreshed_ev = R->ev;
        react(R, i, HERD_OUT_USEFUL, 1);
    } else {
        react(R, i, HERD_OUT_WASTED, 1); /* a duplicate query */
    }
    int role = R->role[i];
    R->role[i] = ROLE_NONE;
    if (role == ROLE_LEADER || (role == ROLE_REFRESH && R->mode.xfetch)) {
        struct cval v = value_of(k, now);
        herd_singleflight_complete(R->sf, &R->tk[i], &v, sizeof v, 0);
        /* Its joiners hear now, each by an event of its own. */
        for (uint32_t j = K->jhead; j != NONE; j = R->jnext[j])
            herd_sim_at(sim, now, on_deliver, R, j, NULL);
        K->jhead = K->jtail = NONE;
    }
    if (role != ROLE_REFRESH) /* refreshers served their value before querying */
        served(R, R->sched[i], now);
    advance(R, i); /* as live: done if caught up after T_k, else the deadline check */
}

static void on_deliver(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct run *R = ctx;
    uint32_t i = (uint32_t)arg;
    struct herd_singleflight_result res;
    int64_t now = herd_sim_now(sim);
    bool ok = herd_singleflight_poll(R->sf, &R->tk[i], &res) && res.error == 0;

    herd_singleflight_release(R->sf, &R->tk[i]);
    R->role[i] = ROLE_NONE;
    if (now > R->deadline) { /* live's wait would have given up at the deadline */
        timed_out(R, i);
        return;
    }
    if (!ok) {
        R->failed++;
        react(R, i, HERD_OUT_FAILED, 1);
        advance(R, i); /* not served: live moves on to the next scheduled request */
        return;
    }
    served(R, R->sched[i], now);
    R->shared++;
    react(R, i, HERD_OUT_SERVED, 1); /* a coalesced joiner: served, never wasted */
    advance(R, i);
}

/* ---- the stream of requesters in step with their schedule ------------------------- */

static void compact(struct run *R)
{
    uint32_t w = 0;
    for (uint32_t x = 0; x < R->olen; x++)
        if (R->st[R->order[x]] == ST_STREAM)
            R->order[w++] = R->order[x];
    R->olen = w;
}

static void on_sweep(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct run *R = ctx;
    int64_t now = herd_sim_now(sim), lim = 0;
    bool have_lim = false;
    (void)arg;

    while (R->nstream > 0) {
        if (herd_sim_work(sim, 1)) /* stopped by the watch: the run ends */
            return;
        if (R->pos == R->olen) { /* a new cycle: drop the requesters that left */
            R->pos = 0;
            if (R->olen - R->nstream > R->olen / 4)
                compact(R);
        }
        uint32_t i = R->order[R->pos];
        if (R->st[i] != ST_STREAM) {
            R->pos++;
            continue;
        }
        int64_t t = R->sched[i];
        if (t > now) {
            if (!have_lim) {
                if (herd_sim_next_time(sim, &lim) < 0)
                    lim = HERD_SIM_FOREVER;
                have_lim = true;
            }
            if (t >= lim) { /* engine events at or before t go first */
                herd_sim_at(sim, t, on_sweep, R, 0, NULL);
                return;
            }
        }
        R->pos++;
        if (t >= R->deadline) {
            timed_out(R, i);
            continue;
        }
        R->future_act = R->acted = false;
        if (request(R, i, t, t)) {
            if (t >= R->k[key_of(R, i)].expiry) /* a value after T_k, in step: done */
                done(R, i);
            else
                R->sched[i] = t + R->period;
        } else {
            R->st[i] = ST_BUSY;
            R->nstream--;
        }
        if (R->acted)
            have_lim = false;
        if (R->future_act) { /* its query starts at t: resume behind it */
            herd_sim_at(sim, t, on_sweep, R, 0, NULL);
            return;
        }
    }
}

/* ---- events ------------------------------------------------------------------------ */

/* Sort the requesters by phase (index breaks ties): LSD radix on the phase bits. */
static void sort_stream(struct run *R)
{
    uint64_t *a = R->sortbuf, *b = R->sorttmp;
    uint32_t n = R->n;
    for (int shift = 32; shift < 64; shift += 11) {
        size_t cnt[2048] = {0};
        for (uint32_t x = 0; x < n; x++)
            cnt[(a[x] >> shift) & 2047]++;
        size_t sum = 0;
        for (int d = 0; d < 2048; d++) {
            size_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (uint32_t x = 0; x < n; x++)
            b[cnt[(a[x] >> shift) & 2047]++] = a[x];
        uint64_t *tmp = a;
        a = b;
        b = tmp;
    }
    for (uint32_t x = 0; x < n; x++) {
        R->rid[x] = (uint32_t)a[x];
        R->sched[x] = R->W + (int64_t)(a[x] >> 32);
        R->order[x] = x;
    }
}

static void on_fill(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct run *R = ctx;
    int64_t F = herd_sim_now(sim);
    (void)arg;

    if (R->ev < 0)
        R->ev = 0;
    R->Tmin = INT64_MAX;
    R->Tmax = INT64_MIN;
    for (int k = 0; k < R->keys; k++) {
        struct herd_swr_info info;
        cache_set(R, k, F, R->k[k].delta, R->mode.jitter_ttl ? &R->fill_rng : NULL);
        herd_swr_get(R->cache, R->k[k].name, R->k[k].len, F, NULL, 0, &info);
        R->k[k].expiry = info.fresh_until_ns;
        R->k[k].jhead = R->k[k].jtail = NONE;
        if (info.fresh_until_ns < R->Tmin)
            R->Tmin = info.fresh_until_ns;
        if (info.fresh_until_ns > R->Tmax)
            R->Tmax = info.fresh_until_ns;
    }
    if (R->ev == 0)
        R->spread_ms = (double)(R->Tmax - R->Tmin) / 1e6;
    R->W = R->Tmin - R->lead;
    if (R->W < F + NS_PER_MS)
        R->W = F + NS_PER_MS;
    R->deadline = R->Tmax + EVENT_GRACE_NS;
    for (uint32_t i = 0; i < R->n; i++) {
        if (herd_sim_work(sim, 1))
            return;
        uint64_t phase = herd_rng_below(&R->rng[i], (uint64_t)R->period);
        R->st[i] = ST_STREAM;
        R->got[i] = 0;
        R->out[i] = 0;
        R->role[i] = ROLE_NONE;
        R->sortbuf[i] = phase << 32 | i;
    }
    if (herd_sim_work(sim, 4 * (int64_t)R->n)) /* the sort's passes */
        return;
    sort_stream(R);
    for (uint32_t x = 0; x < R->n; x++)
        R->srng[x] = R->rng[R->rid[x]];
    R->olen = R->nstream = R->n;
    R->pos = R->ndone = 0;
    memset(R->ev_out, 0, sizeof R->ev_out);
    R->peak = 0;
    R->q0 = herd_service_stats(&R->origin)->arrivals;
    herd_sim_at(sim, R->sched[0], on_sweep, R, 0, NULL);
}

static void fill_timeline(struct run *R, int64_t end)
{
    struct herd_report *r = R->r;
    int64_t span = end > R->W ? end - R->W : 1;
    int64_t bucket = herd_timeline_pick_bucket(span, FINE_NS, 1000);
    int64_t ratio = bucket / FINE_NS;
    size_t len = (size_t)(span / bucket) + 1;

    if (herd_report_timeline(r, bucket, len) < 0)
        return;
    int64_t *arr = herd_report_series(r, "arrivals");
    int64_t *inf = herd_report_series(r, "inflight");
    int64_t *stl = herd_report_series(r, "stale");
    if (!arr || !inf || !stl)
        return;
    len = r->timeline.len;
    for (size_t x = 0; x < R->tl_arr.len; x++) {
        size_t b = (size_t)(R->tl_arr.p[x].f / ratio);
        if (b < len)
            arr[b] += R->tl_arr.p[x].v;
    }
    for (size_t x = 0; x < R->tl_stale.len; x++) {
        size_t b = (size_t)(R->tl_stale.p[x].f / ratio);
        if (b < len)
            stl[b] += R->tl_stale.p[x].v;
    }
    /* A bucket's in-flight figure: the highest level inside it, starting from the
     * level carried in (as live). */
    int64_t level = 0;
    size_t x = 0;
    for (size_t b = 0; b < len; b++) {
        int64_t mx = level;
        while (x < R->tl_inf.len && (size_t)(R->tl_inf.p[x].f / ratio) == b) {
            if (R->tl_inf.p[x].v > mx)
                mx = R->tl_inf.p[x].v;
            level = R->tl_inf.p[x].end;
            x++;
        }
        inf[b] = mx;
    }
}

static void end_event(struct run *R)
{
    int64_t now = herd_sim_now(&R->sim);
    struct herd_event ev = {.useful = R->ev_out[HERD_OUT_USEFUL],
                            .served = R->ev_out[HERD_OUT_SERVED],
                            .wasted = R->ev_out[HERD_OUT_WASTED],
                            .failed = R->ev_out[HERD_OUT_FAILED],
                            .origin_load = herd_service_stats(&R->origin)->arrivals - R->q0,
                            .peak = R->peak};
    for (uint32_t x = 0; x < R->n; x++) {
        R->rng[R->rid[x]] = R->srng[x];
        if (!R->out[x]) {
            ev.idle++;
            if (R->rid[x] < HERD_REPORT_WAITERS)
                herd_report_waiter(R->r, R->rid[x], HERD_OUT_IDLE);
        }
    }
    int rc = herd_report_add_event(R->r, &ev);
    if (rc < 0 && !R->err)
        R->err = rc;
    if (R->ev == 0)
        fill_timeline(R, now);
    R->r->sim_time_ns = now;
    if (++R->ev < R->events)
        herd_sim_at(&R->sim, now, on_fill, R, 0, NULL);
}

/* ---- the run ----------------------------------------------------------------------- */

/* What the strategy does, in this backend's terms. src/live/cache.c has the same
 * switch on purpose: a strategy added to src/scenario/cache.h must fail to compile in
 * each backend until that backend implements it (-Wswitch), not inherit a mode from a
 * shared table that one of them does not honour. */
static struct mode mode_of(enum herd_cache_strategy s)
{
    switch (s) {
    case HERD_CACHE_EVERY_MISS:
        return (struct mode){0};
    case HERD_CACHE_SINGLEFLIGHT:
        return (struct mode){.coalesce = true};
    case HERD_CACHE_SWR:
        return (struct mode){.coalesce = true, .stale = true};
    case HERD_CACHE_XFETCH:
        return (struct mode){.coalesce = true, .xfetch = true};
    case HERD_CACHE_TTL_JITTER:
        return (struct mode){.jitter_ttl = true};
    }
    return (struct mode){0};
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int herd__sim_cache_run_hooked(const struct herd_run_spec *spec, const struct herd_profile *prof,
                               struct herd_report *r, const struct herd_sim_hooks *hooks,
                               char *err, size_t errlen)
{
    struct run *R = calloc(1, sizeof *R);
    int rc;
    bool sim_ok = false, svc_ok = false;

    if (!R) {
        snprintf(err, errlen, "cache: out of memory");
        return -HERD_ENOMEM;
    }
    R->spec = spec;
    R->r = r;
    const struct herd_cache_config *cfg = &spec->cfg.cache;
    R->mode = mode_of(cfg->strategy);
    R->n = (uint32_t)spec->n;
    R->events = (int)spec->events;
    R->keys = cfg->keys;
    R->ttl = cfg->ttl_ns;
    R->period = cfg->period_ns;
    R->lead = cfg->lead_ns;
    R->beta = cfg->beta;
    R->trace = hooks ? hooks->trace : NULL;
    R->trace_ctx = hooks ? hooks->trace_ctx : NULL;
    herd_hist_init(&R->qdur);

    size_t n = R->n;
    R->rng = malloc(n * sizeof *R->rng);
    R->rid = malloc(n * sizeof *R->rid);
    R->srng = malloc(n * sizeof *R->srng);
    R->sched = malloc(n * sizeof *R->sched);
    R->tk = malloc(n * sizeof *R->tk);
    R->jnext = malloc(n * sizeof *R->jnext);
    R->st = malloc(n);
    R->role = malloc(n);
    R->got = malloc(n);
    R->out = malloc(n);
    R->order = malloc(n * sizeof *R->order);
    R->sortbuf = malloc(n * sizeof *R->sortbuf);
    R->sorttmp = malloc(n * sizeof *R->sorttmp);
    R->k = calloc((size_t)R->keys, sizeof *R->k);
    R->alone = calloc((size_t)R->keys, sizeof *R->alone);
    if (!R->rng || !R->srng || !R->rid || !R->sched || !R->tk || !R->jnext ||
        !R->st || !R->role || !R->got || !R->out || !R->order || !R->sortbuf || !R->sorttmp ||
        !R->k || !R->alone) {
        rc = -HERD_ENOMEM;
        snprintf(err, errlen, "cache: out of memory for %u requesters", R->n);
        goto out;
    }

    struct herd_swr_config cc = {
        .max_entries = (size_t)R->keys + 8,
        .max_key_len = 8,
        .max_value_len = sizeof(struct cval),
        .ttl_ns = R->ttl,
        .stale_ns = R->mode.stale ? cfg->stale_ns : 0,
        .jitter_pct = R->mode.jitter_ttl ? cfg->jitter_pct : 0,
    };
    struct herd_singleflight_config sc = {
        .max_flights = (size_t)R->keys + 8, .max_key_len = 8, .max_value_len = sizeof(struct cval)};
    if ((rc = herd_swr_new(&cc, &R->cache)) < 0 || (rc = herd_singleflight_new(&sc, &R->sf)) < 0 ||
        (rc = herd_sim_init(&R->sim, spec->seed)) < 0) {
        snprintf(err, errlen, "cache: %s", herd_strerror(rc));
        goto out;
    }
    sim_ok = true;
    herd_sim_set_hooks(&R->sim, hooks);
    herd_sim_name(&R->sim, on_sweep, "cache.sweep");
    herd_sim_name(&R->sim, on_act, "cache.query");
    herd_sim_name(&R->sim, on_deliver, "cache.deliver");
    herd_sim_name(&R->sim, on_solo, "cache.solo");
    herd_sim_name(&R->sim, on_fill, "cache.fill");

    int workers = cfg->origin_workers;
    if (workers <= 0)
        workers = prof->cores > 0 ? prof->cores : 1;
    double rows = (double)cfg->rows;
    struct herd_service_config oc = {
        .workers = workers,
        .queue_cap = -1,
        .overflow = HERD_SERVICE_REJECT,
        .dist = HERD_SERVICE_DETERMINISTIC,
        .service_ns = llround(prof->origin_query_ns * rows / HERD_CACHE_ROWS_DEFAULT),
        .usl_sigma = cfg->usl_sigma,
        .usl_kappa = cfg->usl_kappa,
        .usl_on_held = true,
        /* A database admits a bounded number of connections (PostgreSQL's default
         * max_connections is 100; pools often allow ~1,000): past that, queries wait
         * outside it and add no coherency cost. Without a cap the slowdown at N = 1 M
         * (1 + kappa N^2 = 5e6) would be no model of anything. */
        .usl_held_cap = 1000,
        .stream = STREAM_ORIGIN,
    };
    if ((rc = herd_service_init(&R->origin, &R->sim, &oc)) < 0) {
        snprintf(err, errlen, "cache: origin: %s", herd_strerror(rc));
        goto out;
    }
    svc_ok = true;

    herd_sim_rng(&R->sim, STREAM_FILL, &R->fill_rng);
    for (uint32_t i = 0; i < R->n && !herd_sim_work(&R->sim, 1); i++)
        herd_sim_rng(&R->sim, STREAM_REQ | i, &R->rng[i]);
    for (int k = 0; k < R->keys; k++) {
        R->k[k].len = (size_t)snprintf(R->k[k].name, sizeof R->k[k].name, "k%d", k);
        R->k[k].refreshed_ev = -1;
        R->k[k].jhead = R->k[k].jtail = NONE;
    }

    /* Start-up: the fill values, one query per key, alone (live computes them once). */
    R->ev = -1; /* on_fill starts event 0 */
    R->inflight = 1;
    herd_service_submit(&R->origin, on_query_done, R, STARTUP_TAG, NULL);
    rc = herd_sim_run_until(&R->sim, HERD_SIM_FOREVER);
    if (rc == 0)
        rc = R->err;
    if (rc < 0) {
        snprintf(err, errlen, "cache: %s", herd_strerror(rc));
        goto out;
    }
    if (R->ev < R->events) {
        rc = -HERD_EINVAL;
        snprintf(err, errlen, "cache: the simulation stopped in event %d of %d", R->ev + 1,
                 R->events);
        goto out;
    }
    r->sim_time_ns = herd_sim_now(&R->sim);
    herd_hist_record_n(&r->latency, 0, R->lat0);

    herd_report_extra(r, "requests", (double)R->requests);
    herd_report_extra(r, "hits", (double)R->hits);
    herd_report_extra(r, "stale_serves", (double)R->stale);
    herd_report_extra(r, "shared_results", (double)R->shared);
    herd_report_extra(r, "early_refreshes", (double)R->early);
    if (R->qdur.count)
        herd_report_extra(r, "query_ms_median", (double)herd_hist_quantile(&R->qdur, 0.5) / 1e6);
    qsort(R->alone, (size_t)R->keys, sizeof *R->alone, cmp_i64);
    herd_report_extra(r, "query_ms_alone", (double)R->alone[R->keys / 2] / 1e6);
    herd_report_extra(r, "rows", rows);
    herd_report_extra(r, "errors", (double)R->failed);
    herd_report_extra(r, "timed_out", (double)R->timedout);
    herd_report_extra(r, "expiry_spread_ms", R->spread_ms);
    herd_report_extra(r, "origin_workers", (double)workers);
    herd_report_extra(r, "sim_events", (double)herd_sim_events(&R->sim));
    rc = 0;

out:
    if (svc_ok)
        herd_service_fini(&R->origin);
    if (sim_ok)
        herd_sim_fini(&R->sim);
    /* Joiner tickets are all released and leaders completed when a run ends; after an
     * error some may be outstanding, and the table is freed anyway (no thread waits). */
    herd_singleflight_free(R->sf);
    herd_swr_free(R->cache);
    free(R->rng);
    free(R->rid);
    free(R->srng);
    free(R->sched);
    free(R->tk);
    free(R->jnext);
    free(R->st);
    free(R->role);
    free(R->got);
    free(R->out);
    free(R->order);
    free(R->sortbuf);
    free(R->sorttmp);
    free(R->k);
    free(R->alone);
    free(R->tl_arr.p);
    free(R->tl_inf.p);
    free(R->tl_stale.p);
    free(R);
    return rc;
}

static int run(const struct herd_run_spec *spec, const struct herd_profile *prof,
               const struct herd_sim_hooks *hooks, struct herd_report *r, char *err,
               size_t errlen)
{
    return herd__sim_cache_run_hooked(spec, prof, r, hooks, err, errlen);
}

const struct herd_sim_model herd__sim_cache = {run};
