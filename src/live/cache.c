/* cache.c — the cache-stampede herd, live: N requesters, one hot key, a real database.
 *
 * Shape of a run. The origin (origin.h; SQLite by default) holds a generated table;
 * its query for a key is an aggregate over the whole table (a few ms of real CPU).
 * In front of it sits libherd's swr cache (herd/swr.h), keyed "k<id>". N requester
 * threads each hold their own origin connection; requester i asks for key i mod keys.
 *
 * One event is one expiry cycle:
 *  1. The main thread fills every key at one instant F with the values it computed
 *     once at start-up. Each entry carries delta, the measured duration of the key's
 *     last recompute (at first the uncontended start-up query; then the last refresh,
 *     contention included), which XFetch uses. Key k expires at T_k = F + ttl
 *     (ttl-jitter: a TTL drawn in ttl * (1 +- jitter_pct/100) per key with the seeded
 *     rng, inside herd_swr_set()).
 *  2. From W = min T_k - lead_ms, each requester issues a request every period_us, with
 *     a random phase in [0, period). Its schedule is fixed in advance (wrk2-style): a
 *     requester held up in a query owes the requests scheduled meanwhile and issues them
 *     when it returns, each timed from its scheduled time (no coordinated omission).
 *  3. A requester stops once it has a value for a request scheduled at or after its
 *     key's T_k AND has caught up with its schedule. The event ends when all have.
 *
 * What a request does, per strategy:
 *  every-miss   hit: done. miss: query the origin itself, set the cache.
 *  ttl-jitter   the same, but the fill draws each key's TTL (so keys expire apart; with
 *               keys = 1 the lone key just expires at another moment: no help, shown).
 *  singleflight miss: begin a flight for the key. The leader re-reads the cache (a
 *               flight that completed just before our begin already set it), else
 *               queries, sets the cache, completes; joiners block in
 *               herd_singleflight_wait() and get the leader's value (or its error).
 *  swr          entries stay servable stale_ms past the TTL. STALE_REFRESH: serve the
 *               stale value (latency stops there), then refresh in this thread;
 *               STALE: serve it. A miss past the hard TTL goes through singleflight.
 *  xfetch       hit: herd_xfetch_begin(): XFetch's draw (now, expiry, delta, beta), and on
 *               "refresh" a non-blocking herd_singleflight_begin(): the LEADER serves the
 *               still-valid value, then refreshes; everyone else just serves it.
 *               Misses (the refresh came too late) go through singleflight.
 *
 * Figures, per event (measured, never derived from a formula). A reaction is a request
 * knocked off the plain cache read, or a refresh a requester ran; hits are not reactions.
 *  useful       a refresh no other made redundant: no refresh of the key completed
 *               between the cache read that sent this requester to the origin and its own
 *               completion (one per key per expiry is what is needed; a key that expires
 *               again within the event, when requesters lag a loaded machine, needs
 *               another).
 *  served       a request that got its value without querying: a singleflight joiner
 *               (or a leader that found the value already set), a stale serve.
 *  wasted       a refresh that was not needed: another refresh of the key completed
 *               after this requester read the cache and before its own query completed
 *               (the herd's duplicate queries).
 *  failed       an origin error, a joiner whose flight failed, a request past the
 *               event's deadline.
 *  idle         a requester with no reaction in the event (only hits).
 *  origin_load  queries that reached SQLite during the event (the origin's own count).
 *  peak         most origin queries in flight at once (an atomic gauge around query).
 *  latency      every request of the event window, scheduled time -> value in hand.
 *  timeline     the FIRST event, from W: "arrivals" (queries started at the origin per
 *               bucket), "inflight" (max concurrent queries), "stale" (stale serves).
 *  waiters      every event's reactions of the first 240 requesters.
 *  extras       requests, hits, stale_serves, shared_results, early_refreshes,
 *               query_ms_median (wall time of the event's queries, contention included),
 *               query_ms_alone (median of the uncontended start-up queries), rows, errors,
 *               timed_out, expiry_spread_ms (first event), lag_ms_at_expiry (median over
 *               requesters and events of how late the requester issued its last request
 *               scheduled before its key's expiry: ~0.1 ms when this box drives N
 *               requesters on time; more than a period when it does not, and then the
 *               run measures a load generator behind its schedule as well as a herd. On
 *               this 2-core box: N = 100, 0.07 ms; N = 1,000 every 2 ms (the default),
 *               0.1-1,500 ms from run to run, some threads on time and others 100-230
 *               ms late; N = 1,000 every 500 us, 0.6 s).
 *
 * What this machine does with the naive herd (2 cores): requesters whose timers fire
 * while K CPU-bound queries run compete with those queries for the CPU, so the herd is
 * the requesters that get to run (and miss) before the first query completes. On a
 * quiet machine that is most of them (a median of 182 of N = 200 per expiry with the
 * default ~5 ms query, 3 runs); on a machine loaded by other work it falls to 10-50,
 * and with rows = 200000 (~18 ms a query) it is all N and more (values set early in a
 * long herd expire again during it).
 * That is measured, not modelled: the figures are what the kernel did.
 *
 * Cost: N threads (256 KiB stacks: headroom for SQLite and sanitizer builds), N+1 connections
 * (~3 fds each), a 58 KiB histogram shared under a mutex and fed in batches of 256.
 * Thread safety: one run at a time; requesters write only their own struct req until
 * the event ends (the main thread reads them only after every requester reported done
 * under the run mutex); shared state is the cache, the flight table, atomics.
 * Cleanup: every path joins the threads it started, disconnects, and closes the origin
 * (which removes its temporary directory).
 */
#include "live_int.h"
#include "cache_redis.h"
#include "origin.h"
#include "svc.h"

#include <errno.h>
#include <herd/clock.h>
#include <herd/error.h>
#include <herd/rng.h>
#include <herd/singleflight.h>
#include <herd/swr.h>
#include <herd/xfetch.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What a strategy makes a requester do: decided by the one switch in mode_of(). */
struct mode {
    bool coalesce;   /* a miss goes through singleflight (else it queries itself) */
    bool xfetch;     /* a hit draws XFetch's early refresh */
    bool stale;      /* entries stay servable stale_ms past the TTL (stale-while-revalidate) */
    bool jitter_ttl; /* every set draws its TTL in ttl * (1 +- jitter_pct) */
};

#define QLOG_CAP 16 /* origin queries logged per requester per event */
#define SLOG_CAP 32 /* stale serves logged per requester (first event, timeline) */
#define LATBUF 256  /* latencies batched before taking the histogram's mutex */
#define SLICE_NS (100 * HERD_NS_PER_MS)           /* longest uninterrupted wait: stop checks */
#define EVENT_GRACE_NS (60 * INT64_C(1000000000)) /* an event this late past T: give up */
#define STACK_BYTES (256 * 1024)

struct qlog {
    int64_t start, end;
};

/* One requester's figures for the current event: its reactions by outcome class (a
 * request knocked off the plain cache read, or a refresh it ran) and the details. */
struct evstat {
    uint64_t useful, served, wasted, failed;
    uint64_t requests, hits, stale, shared, early, errors, timedout;
    uint64_t lock_polls; /* coalesce=redis-lock: cache reads while another held the lock */
};

struct run;

struct req {
    struct run *R;
    int id, key;
    char keyb[16];
    size_t klen;
    pthread_t th;
    struct herd_origin_conn *conn;
    struct herd_rcache_conn *rconn; /* store=redis: this requester's own connection */
    struct herd_rng rng;
    struct evstat ev;
    int64_t lag; /* the current event's lag_ms_at_expiry sample (ns); -1: none */
    struct qlog q[QLOG_CAP];
    int nq;
    int64_t slog[SLOG_CAP];
    int ns;
    int64_t lat[LATBUF];
    int nlat;
};

struct run {
    const struct herd_run_spec *spec;
    struct mode mode;
    const struct herd_origin_ops *ops;
    struct herd_origin *origin;
    struct herd_swr *cache;   /* store=process */
    struct herd_rcache *rc;   /* store=redis (then cache is unused) */
    struct herd_singleflight *sf;
    int n, keys;
    int64_t ttl, period, lead;
    double beta;

    pthread_mutex_t mu;
    pthread_cond_t cv;      /* main -> requesters: a new event (gen), or quit */
    pthread_cond_t done_cv; /* requesters -> main: remaining reached 0 */
    uint64_t gen;
    bool quit;
    int remaining;
    int ev;               /* event index */
    int64_t window_start; /* W */
    int64_t deadline;     /* requesters give up past this */
    int64_t *expiry;      /* T_k per key */

    _Atomic int64_t *done_ns;  /* per key: when its latest refresh completed */
    _Atomic int64_t *delta;    /* per key: how long its last recompute took (XFetch's delta) */
    _Atomic int inflight, peak;

    pthread_mutex_t hist_mu;
    struct herd_hist *lat;
    struct req *req;
};

/* ---- small helpers --------------------------------------------------------------- */

static void sleep_until(int64_t t)
{
    struct timespec ts = {.tv_sec = (time_t)(t / 1000000000), .tv_nsec = (long)(t % 1000000000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR &&
           !herd__live_stopping())
        ;
}

static void flush_lat(struct req *q)
{
    if (q->nlat == 0)
        return;
    pthread_mutex_lock(&q->R->hist_mu);
    for (int i = 0; i < q->nlat; i++)
        herd_hist_record(q->R->lat, q->lat[i]);
    pthread_mutex_unlock(&q->R->hist_mu);
    q->nlat = 0;
}

/* The value is in hand now for the request scheduled at @p sched. */
static void served(struct req *q, int64_t sched)
{
    q->lat[q->nlat++] = herd__now_ns() - sched;
    if (q->nlat == LATBUF)
        flush_lat(q);
}

static void stale_served(struct req *q)
{
    q->ev.stale++;
    q->ev.served++;
    if (q->R->ev == 0 && q->ns < SLOG_CAP)
        q->slog[q->ns++] = herd__now_ns();
}

/* ---- the cache: in this process (libherd's swr) or in Redis (cache_redis.h) ------------- */

/* Look q's key up. A Redis that failed answers as a miss: the request goes to the origin,
 * as an application's cache client does. */
static int store_get(struct req *q, int64_t now, struct herd_origin_value *v,
                     struct herd_swr_info *info)
{
    struct run *R = q->R;
    if (R->rc) {
        int st = herd__rcache_get(q->rconn, q->key, now, v, info);
        return st < 0 ? HERD_SWR_MISS : st;
    }
    return herd_swr_get(R->cache, q->keyb, q->klen, now, v, v ? sizeof *v : 0, info);
}

static void store_set(struct req *q, const struct herd_origin_value *v, int64_t now,
                      int64_t delta)
{
    struct run *R = q->R;
    struct herd_rng *rng = R->mode.jitter_ttl ? &q->rng : NULL;
    if (R->rc)
        herd__rcache_set(q->rconn, q->key, v, now, delta, rng, NULL);
    else
        herd_swr_set(R->cache, q->keyb, q->klen, v, sizeof *v, now, NULL, delta, rng);
}

static void store_refresh_failed(struct req *q)
{
    if (q->R->rc)
        herd__rcache_refresh_failed(q->rconn, q->key);
    else
        herd_swr_refresh_failed(q->R->cache, q->keyb, q->klen, herd__now_ns());
}

/*
 * Query the origin for q's key and store the result in the cache. Counts the query
 * for peak and the timeline, and decides useful/wasted: the refresh was a duplicate when
 * another refresh of the key completed after @p read_ns, the cache read that found the
 * key in need of one. @return 0 or the origin's error.
 */
static int refresh(struct req *q, struct herd_origin_value *v, int64_t read_ns)
{
    struct run *R = q->R;
    int cur = atomic_fetch_add(&R->inflight, 1) + 1;
    int pk = atomic_load(&R->peak);
    while (cur > pk && !atomic_compare_exchange_weak(&R->peak, &pk, cur))
        ;
    int64_t t0 = herd__now_ns();
    int rc = R->ops->query(q->conn, q->key, v);
    int64_t t1 = herd__now_ns();
    atomic_fetch_sub(&R->inflight, 1);
    if (q->nq < QLOG_CAP)
        q->q[q->nq++] = (struct qlog){t0, t1};
    if (rc < 0) {
        q->ev.errors++;
        q->ev.failed++;
        return rc;
    }
    /* ttl-jitter draws a new TTL for every set, the fill's included. */
    store_set(q, v, t1, t1 - t0);
    atomic_store(&R->delta[q->key], t1 - t0);
    /* The latest completion so far, advanced to ours if ours is later. */
    int64_t last = atomic_load(&R->done_ns[q->key]);
    while (last < t1 && !atomic_compare_exchange_weak(&R->done_ns[q->key], &last, t1))
        ;
    /* Someone else's value arrived after we read the cache: ours duplicated it. */
    if (last >= read_ns && last != t1)
        q->ev.wasted++;
    else
        q->ev.useful++;
    return 0;
}

/* A miss coalesced through singleflight. @return true when a value was served. */
static bool miss_coalesced(struct req *q, int64_t sched)
{
    struct run *R = q->R;
    struct herd_singleflight_ticket t;
    struct herd_singleflight_result res;
    struct herd_origin_value v;
    int64_t now = herd__now_ns();
    int role = herd_singleflight_begin(R->sf, q->keyb, q->klen, now, &t);

    if (role == HERD_SINGLEFLIGHT_LEADER) {
        /* A flight may have completed between our miss and our begin: it set the cache
         * before completing, so one more read avoids a second query. */
        if (store_get(q, now, &v, NULL) == HERD_SWR_HIT) {
            herd_singleflight_complete(R->sf, &t, &v, sizeof v, 0);
            served(q, sched);
            q->ev.shared++;
            q->ev.served++;
            return true;
        }
        int rc = refresh(q, &v, now);
        herd_singleflight_complete(R->sf, &t, &v, sizeof v, rc);
        if (rc < 0)
            return false;
        served(q, sched);
        return true;
    }
    if (role != HERD_SINGLEFLIGHT_JOINED) {
        /* Table full or shed: do the work uncoalesced rather than fail the request. */
        if (refresh(q, &v, now) < 0)
            return false;
        served(q, sched);
        return true;
    }
    for (;;) {
        int64_t slice = herd__now_ns() + SLICE_NS;
        int rc = herd_singleflight_wait(R->sf, &t, slice < R->deadline ? slice : R->deadline, &res);
        if (rc == 0)
            break;
        if (herd__live_stopping() || herd__now_ns() >= R->deadline) {
            herd_singleflight_release(R->sf, &t);
            q->ev.timedout++;
            q->ev.failed++;
            return false;
        }
    }
    bool ok = res.error == 0 && res.len == sizeof v;
    if (ok)
        memcpy(&v, res.val, sizeof v);
    herd_singleflight_release(R->sf, &t);
    if (!ok) {
        q->ev.errors++;
        q->ev.failed++;
        return false;
    }
    served(q, sched);
    q->ev.shared++;
    q->ev.served++; /* a coalesced joiner: served, never wasted */
    return true;
}

#define LOCK_POLL_NS (5 * HERD_NS_PER_MS)      /* coalesce=redis-lock: the losers' poll */
#define LOCK_LEASE_NS (30 * INT64_C(1000000000)) /* its lease: longer than any query here */

/* A miss coalesced through a Redis lock per key (SET NX PX): the holder queries and fills
 * the cache; the others read the cache every LOCK_POLL_NS until it is there (served, as a
 * singleflight joiner is), trying the lock again each time in case its holder failed.
 * Their polls are the herd, moved from the database to Redis. @return true when served. */
static bool miss_redis_lock(struct req *q, int64_t sched)
{
    struct run *R = q->R;
    struct herd_origin_value v;
    uint64_t token = ((uint64_t)(unsigned)R->ev << 32) | (uint64_t)(unsigned)q->id;
    int64_t read_ns = herd__now_ns();
    for (;;) {
        int64_t now = herd__now_ns();
        if (herd__live_stopping())
            return false;
        if (now >= R->deadline) {
            q->ev.timedout++;
            q->ev.failed++;
            return false;
        }
        int got = herd__rcache_lock(q->rconn, q->key, token, LOCK_LEASE_NS);
        if (got < 0) {
            q->ev.errors++;
            q->ev.failed++;
            return false;
        }
        if (got) {
            /* The previous holder may have filled it between our read and our lock. */
            if (store_get(q, herd__now_ns(), &v, NULL) == HERD_SWR_HIT) {
                herd__rcache_unlock(q->rconn, q->key, token);
                served(q, sched);
                q->ev.shared++;
                q->ev.served++;
                return true;
            }
            int rc = refresh(q, &v, read_ns);
            herd__rcache_unlock(q->rconn, q->key, token);
            if (rc < 0)
                return false;
            served(q, sched);
            return true;
        }
        int64_t until = now + LOCK_POLL_NS;
        while (herd__now_ns() < until && !herd__live_stopping())
            herd__sleep_ns(until - herd__now_ns());
        q->ev.lock_polls++;
        if (store_get(q, herd__now_ns(), &v, NULL) == HERD_SWR_HIT) {
            served(q, sched);
            q->ev.shared++;
            q->ev.served++; /* waited for one result and got it: never wasted */
            return true;
        }
    }
}

/* One request scheduled at @p sched. @return true when it was served a value. */
static bool request(struct req *q, int64_t sched)
{
    struct run *R = q->R;
    struct herd_origin_value v;
    struct herd_swr_info info;
    int64_t now = herd__now_ns();
    int st = store_get(q, now, &v, &info);

    q->ev.requests++;
    switch (st) {
    case HERD_SWR_HIT: {
        struct herd_singleflight_ticket t;
        /* XFetch's draw, then a non-blocking singleflight begin: only the one reader
         * that draws "refresh" and leads the key's flight refreshes. */
        if (R->mode.xfetch &&
            herd_xfetch_begin(R->sf, q->keyb, q->klen, now, info.fresh_until_ns, info.delta_ns,
                              R->beta, &q->rng, &t) == HERD_XFETCH_LEAD) {
            /* Serve the still-valid value first; the refresh is this thread's
             * next piece of work, not the user's wait. */
            served(q, sched);
            struct herd_origin_value nv;
            struct herd_swr_info again;
            int64_t reread = herd__now_ns();
            /* A refresh that completed between our read and our begin has already
             * set a newer value: do not query again. */
            if (store_get(q, reread, &nv, &again) == HERD_SWR_HIT &&
                again.set_ns != info.set_ns) {
                herd_singleflight_complete(R->sf, &t, &nv, sizeof nv, 0);
                q->ev.hits++;
                return true;
            }
            q->ev.early++;
            int rc = refresh(q, &v, reread);
            herd_singleflight_complete(R->sf, &t, &v, sizeof v, rc);
            return true;
        }
        served(q, sched);
        q->ev.hits++;
        return true;
    }
    case HERD_SWR_STALE_REFRESH:
        served(q, sched);
        stale_served(q);
        if (refresh(q, &v, now) < 0)
            store_refresh_failed(q);
        return true;
    case HERD_SWR_STALE:
        served(q, sched);
        stale_served(q);
        return true;
    default:
        break;
    }
    if (!R->mode.coalesce) {
        if (refresh(q, &v, now) < 0)
            return false;
        served(q, sched);
        return true;
    }
    return R->spec->cfg.cache.redis_lock ? miss_redis_lock(q, sched) : miss_coalesced(q, sched);
}

static void run_event(struct req *q, int64_t W, int64_t T)
{
    struct run *R = q->R;
    int64_t sched = W + (int64_t)herd_rng_below(&q->rng, (uint64_t)R->period);
    bool got_after = false;

    memset(&q->ev, 0, sizeof q->ev);
    q->lag = -1;
    q->nq = 0;
    q->ns = 0;
    for (;;) {
        int64_t now = herd__now_ns();
        if (got_after && sched > now)
            break;
        if (herd__live_stopping())
            break;
        if (now >= R->deadline) {
            q->ev.timedout++;
            q->ev.failed++;
            break;
        }
        if (sched > now) {
            sleep_until(sched < now + SLICE_NS ? sched : now + SLICE_NS);
            continue;
        }
        if (sched < T)
            q->lag = now - sched;
        if (request(q, sched) && sched >= T)
            got_after = true;
        sched += R->period;
    }
    flush_lat(q);
}

static void *req_main(void *arg)
{
    struct req *q = arg;
    struct run *R = q->R;
    uint64_t seen = 0;

    for (;;) {
        int64_t W, T;
        pthread_mutex_lock(&R->mu);
        while (R->gen == seen && !R->quit) {
            struct timespec ts = herd_clock_timespec(herd__now_ns() + SLICE_NS);
            pthread_cond_timedwait(&R->cv, &R->mu, &ts);
        }
        if (R->quit) {
            pthread_mutex_unlock(&R->mu);
            break;
        }
        seen = R->gen;
        W = R->window_start;
        T = R->expiry[q->key];
        pthread_mutex_unlock(&R->mu);

        run_event(q, W, T);

        pthread_mutex_lock(&R->mu);
        if (--R->remaining == 0)
            pthread_cond_signal(&R->done_cv);
        pthread_mutex_unlock(&R->mu);
    }
    return NULL;
}

/* ---- the report -------------------------------------------------------------------- */

struct point {
    int64_t t;
    int d; /* +1 start, -1 end */
};

static int point_cmp(const void *a, const void *b)
{
    const struct point *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->d - y->d; /* ends before starts at the same instant */
}

static int i64_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Samples (ns) kept across a run's events for a median: without memory for more a sample
 * is dropped (a median of fewer). */
static void sample(struct herd_i64s *s, int64_t x)
{
    (void)herd__i64s_push(s, x, SIZE_MAX);
}

/* Report the median of @p s in ms as extra @p name (nothing when there is no sample):
 * herd_median's, the mean of the two middle values for an even count. */
static void median_ms_extra(struct herd_report *r, const char *name, const struct herd_i64s *s)
{
    double *ms = s->n ? malloc(s->n * sizeof *ms) : NULL;
    if (!ms)
        return;
    for (size_t i = 0; i < s->n; i++)
        ms[i] = (double)s->v[i] / 1e6;
    herd_report_extra(r, name, herd_median(ms, s->n));
    free(ms);
}

/* The first event's timeline, from W to @p end. */
static void fill_timeline(struct herd_report *r, struct run *R, int64_t W, int64_t end)
{
    size_t np = 0, k = 0;
    int64_t span = end > W ? end - W : 1;
    int64_t bucket = herd_timeline_pick_bucket(span, 100 * 1000, 1000);
    size_t len = (size_t)(span / bucket) + 1;

    for (int i = 0; i < R->n; i++)
        np += 2 * (size_t)R->req[i].nq;
    struct point *p = malloc((np ? np : 1) * sizeof *p);
    if (!p || herd_report_timeline(r, bucket, len) < 0) {
        free(p);
        return;
    }
    int64_t *arr = herd_report_series(r, "arrivals");
    int64_t *inf = herd_report_series(r, "inflight");
    int64_t *stl = herd_report_series(r, "stale");
    len = r->timeline.len;
    if (!arr || !inf || !stl) {
        free(p);
        return;
    }
    np = 0;
    for (int i = 0; i < R->n; i++) {
        struct req *q = &R->req[i];
        for (int j = 0; j < q->nq; j++) {
            p[np++] = (struct point){q->q[j].start, +1};
            p[np++] = (struct point){q->q[j].end, -1};
            int64_t b = (q->q[j].start - W) / bucket;
            if (b >= 0 && (size_t)b < len)
                arr[b]++;
        }
        for (int j = 0; j < q->ns; j++) {
            int64_t b = (q->slog[j] - W) / bucket;
            if (b >= 0 && (size_t)b < len)
                stl[b]++;
        }
    }
    qsort(p, np, sizeof *p, point_cmp);
    /* Sweep: a bucket's in-flight figure is the highest level reached inside it,
     * starting from the level carried in from the bucket before. */
    int64_t level = 0;
    while (k < np && p[k].t < W)
        level += p[k++].d;
    for (size_t b = 0; b < len; b++) {
        int64_t hi = W + (int64_t)(b + 1) * bucket, mx = level;
        while (k < np && p[k].t < hi) {
            level += p[k++].d;
            if (level > mx)
                mx = level;
        }
        inf[b] = mx;
    }
    free(p);
}

/* ---- the run ----------------------------------------------------------------------- */

/* What the strategy does, in this backend's terms. src/sim/model_cache.c has the same
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

static const struct herd_origin_ops *origin_of(enum herd_cache_origin o)
{
    switch (o) {
    case HERD_CACHE_SQLITE:
        return &herd__origin_sqlite;
    case HERD_CACHE_POSTGRES:
        return &herd__origin_pg;
    }
    return NULL;
}

static void needs(const struct herd_run_spec *spec, struct herd_live_needs *need)
{
    const struct herd_origin_ops *ops = origin_of(spec->cfg.cache.origin);
    int per = ops->fds_per_conn, fixed = ops->fds_fixed;
    need->threads = spec->n;
    /* A private PostgreSQL: a backend process per connection, and its own few. */
    need->processes =
        spec->cfg.cache.origin == HERD_CACHE_POSTGRES && !spec->text[0][0] ? spec->n + 16 : 0;
    need->processes += spec->cfg.cache.store == HERD_CACHE_REDIS; /* redis-server */
    /* One connection per requester plus the filler's, and a margin for SQLite's
     * transient opens (journal probes) and the front end. */
    need->fds = (spec->n + 1) * per + fixed + 16;
    if (spec->cfg.cache.store == HERD_CACHE_REDIS)
        need->fds += spec->n + 2;
}

/* One requester's reactions in the event into @p ev and its tile (idle: none). */
static void add_reactions(struct herd_report *r, struct herd_event *ev, size_t i,
                          const struct evstat *s)
{
    static const enum herd_outcome cls[] = {HERD_OUT_USEFUL, HERD_OUT_SERVED, HERD_OUT_WASTED,
                                            HERD_OUT_FAILED};
    const uint64_t n[] = {s->useful, s->served, s->wasted, s->failed};
    ev->useful += s->useful;
    ev->served += s->served;
    ev->wasted += s->wasted;
    ev->failed += s->failed;
    if (!(s->useful | s->served | s->wasted | s->failed)) {
        ev->idle++;
        herd_report_waiter(r, i, HERD_OUT_IDLE);
        return;
    }
    for (size_t c = 0; c < sizeof cls / sizeof cls[0]; c++)
        for (uint64_t k = 0; k < n[c] && i < HERD_REPORT_WAITERS; k++)
            herd_report_waiter(r, i, cls[c]);
}

/*
 * Without coalescing, every requester that reaches an expired key misses: the herd is N a
 * key's expiry. On this 2-core box the requesters share the CPUs with the CPU-bound
 * queries, so the herd can be only the requesters the scheduler lets run before the first
 * refresh returns (docs/scenarios/cache.md): then the report says so, with why, in the
 * machine's verdict (DESIGN §1: a live herd that limited itself is not the herd). Not
 * for the coalescing strategies, whose reactions are not a herd of misses.
 */
static void limited_herd(struct herd_report *r, const struct run *R)
{
    if (R->mode.coalesce || r->nevents == 0)
        return;
    double herd = herd_median(r->ev.wakes, r->nevents), lag = 0, query = 0, rows = 0;
    if (herd >= 0.5 * R->n)
        return;
    herd_report_get_extra(r, "lag_ms_at_expiry", &lag);
    herd_report_get_extra(r, "query_ms_median", &query);
    herd_report_get_extra(r, "rows", &rows);
    double period_ms = (double)R->period / 1e6;
    if (lag > period_ms)
        herd_machine_warn(&r->machine,
                          "the herd limited itself: a median of %.0f of %d requesters missed "
                          "per expiry; this machine could not run them on time (%.1f ms behind "
                          "their schedule at the expiry) while the origin's queries held the "
                          "CPUs. %s lets every requester reach the expired key first",
                          herd, R->n, lag,
                          rows < 200000 ? "A longer query (--set rows=200000)"
                                        : "A smaller N (fewer threads to run)");
    else
        herd_machine_warn(&r->machine,
                          "the herd is partial: a median of %.0f of %d requesters missed per "
                          "expiry; each asks once every %.1f ms, longer than the %.1f ms "
                          "refresh, so most found the refreshed value (lower period_us or "
                          "raise rows for the whole herd)",
                          herd, R->n, period_ms, query);
}

/* Push a new event to the requesters and wait for all of them to finish it. The wait
 * polls the run's watch once a slice: the requesters only read the latched stop, and
 * leave their event within a slice of it. @return 0, or -HERD_EINTR when a stop was
 * requested (requesters still get joined). */
static int run_one_event(struct run *R, int e, int64_t W, int64_t deadline, int64_t *end)
{
    int rc = 0;
    pthread_mutex_lock(&R->mu);
    R->ev = e;
    R->window_start = W;
    R->deadline = deadline;
    R->remaining = R->n;
    R->gen++;
    pthread_cond_broadcast(&R->cv);
    while (R->remaining > 0) {
        struct timespec ts = herd_clock_timespec(herd__now_ns() + SLICE_NS);
        pthread_cond_timedwait(&R->done_cv, &R->mu, &ts);
        herd__live_poll();
    }
    pthread_mutex_unlock(&R->mu);
    *end = herd__now_ns();
    if (herd__live_stopping())
        rc = -HERD_EINTR;
    return rc;
}

static int run(const struct herd_run_spec *spec, struct herd_report *r, char *err, size_t errlen)
{
    struct run R = {0};
    struct herd_origin_conn *filler = NULL;
    struct herd_rcache_conn *rfill = NULL; /* store=redis: the fill's and the counts' */
    uint64_t redis_cmds = 0;
    struct herd_origin_value *fillv = NULL;
    int64_t *fill_ns = NULL;
    struct herd_i64s qdur = {0}, lag = {0};
    int nthreads = 0, nconns = 0, rc;
    bool mu_ok = false, hist_ok = false, cv_ok = false, done_ok = false;
    struct herd_rng rng;
    struct evstat tot = {0};
    double spread_ms = 0;

    const struct herd_cache_config *cfg = &spec->cfg.cache;
    R.spec = spec;
    R.mode = mode_of(cfg->strategy);
    R.n = (int)spec->n;
    R.keys = cfg->keys;
    R.ttl = cfg->ttl_ns;
    R.period = cfg->period_ns;
    R.lead = cfg->lead_ns;
    R.beta = cfg->beta;
    R.lat = &r->latency;
    herd_rng_stream(&rng, spec->seed, 0);
    R.ops = origin_of(cfg->origin);

    struct herd_swr_config cc = {
        .max_entries = (size_t)R.keys + 8,
        .max_key_len = 16,
        .ttl_ns = R.ttl,
        .stale_ns = R.mode.stale ? cfg->stale_ns : 0,
        .jitter_pct = R.mode.jitter_ttl ? cfg->jitter_pct : 0,
        /* Fixed value buffers: no allocation on the request path. */
        .max_value_len = sizeof(struct herd_origin_value),
    };
    struct herd_singleflight_config sc = {.max_flights = (size_t)R.keys + 8,
                                          .max_key_len = 16,
                                          .max_value_len = sizeof(struct herd_origin_value)};

    R.req = calloc((size_t)R.n, sizeof *R.req);
    R.expiry = calloc((size_t)R.keys, sizeof *R.expiry);
    R.done_ns = calloc((size_t)R.keys, sizeof *R.done_ns);
    R.delta = calloc((size_t)R.keys, sizeof *R.delta);
    fillv = calloc((size_t)R.keys, sizeof *fillv);
    fill_ns = calloc((size_t)R.keys, sizeof *fill_ns);
    if (!R.req || !R.expiry || !R.done_ns || !R.delta || !fillv || !fill_ns) {
        rc = -HERD_ENOMEM;
        snprintf(err, errlen, "cache: out of memory for %d requesters", R.n);
        goto out;
    }
    for (int k = 0; k < R.keys; k++)
        atomic_init(&R.done_ns[k], INT64_MIN);
    if ((rc = herd_swr_new(&cc, &R.cache)) < 0 || (rc = herd_singleflight_new(&sc, &R.sf)) < 0) {
        snprintf(err, errlen, "cache: %s", herd_strerror(rc));
        goto out;
    }
    if ((rc = -pthread_mutex_init(&R.mu, NULL)) < 0)
        goto out_sys;
    mu_ok = true;
    if ((rc = -pthread_mutex_init(&R.hist_mu, NULL)) < 0)
        goto out_sys;
    hist_ok = true;
    {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        rc = -pthread_cond_init(&R.cv, &ca);
        cv_ok = rc == 0;
        if (rc == 0) {
            rc = -pthread_cond_init(&R.done_cv, &ca);
            done_ok = rc == 0;
        }
        pthread_condattr_destroy(&ca);
        if (rc < 0)
            goto out_sys;
    }

    struct herd_origin_config oc = {.rows = cfg->rows, .url = spec->text[0], .max_conns = R.n + 2};
    if ((rc = R.ops->open(&oc, &R.origin, err, errlen)) < 0)
        goto out;
    if ((rc = R.ops->connect(R.origin, &filler, err, errlen)) < 0)
        goto out;
    if (cfg->store == HERD_CACHE_REDIS) {
        struct herd_rcache_config rcc = {.ttl_ns = R.ttl,
                                         .stale_ns = R.mode.stale ? cfg->stale_ns : 0,
                                         .jitter_pct = R.mode.jitter_ttl ? cfg->jitter_pct : 0,
                                         .url = spec->text[1],
                                         .max_conns = R.n + 2};
        if ((rc = herd__rcache_open(&rcc, &R.rc, err, errlen)) < 0 ||
            (rc = herd__rcache_connect(R.rc, &rfill, err, errlen)) < 0)
            goto out;
    }
    for (int i = 0; i < R.n; i++) {
        struct req *q = &R.req[i];
        q->R = &R;
        q->id = i;
        q->key = i % R.keys;
        q->klen = (size_t)snprintf(q->keyb, sizeof q->keyb, "k%d", q->key);
        herd_rng_stream(&q->rng, spec->seed, 1 + (uint64_t)i);
        if ((rc = R.ops->connect(R.origin, &q->conn, err, errlen)) < 0)
            goto out;
        nconns++;
        if (R.rc && (rc = herd__rcache_connect(R.rc, &q->rconn, err, errlen)) < 0)
            goto out;
        if (herd__live_poll()) {
            rc = -HERD_EINTR;
            goto out;
        }
    }
    /* The values every fill stores, computed once (uncontended: this is the origin's
     * own cost, and each entry's first delta for XFetch; later fills carry the delta of
     * the key's last recompute, as a real cache would). The table never changes, so
     * later fills reuse the values instead of spending keys x query time per event. */
    for (int k = 0; k < R.keys; k++) {
        int64_t t0 = herd__now_ns();
        if ((rc = R.ops->query(filler, k, &fillv[k])) < 0) {
            snprintf(err, errlen, "cache: origin query failed: %s", herd_strerror(rc));
            goto out;
        }
        fill_ns[k] = herd__now_ns() - t0;
        atomic_init(&R.delta[k], fill_ns[k]);
    }
    for (int i = 0; i < R.n; i++) {
        if ((rc = herd__thread_spawn(&R.req[i].th, req_main, &R.req[i], STACK_BYTES)) < 0) {
            snprintf(err, errlen, "cache: cannot start requester %d: %s", i, herd_strerror(rc));
            goto out;
        }
        nthreads++;
    }

    for (int e = 0; e < spec->events; e++) {
        int64_t F, W, Tmin = INT64_MAX, Tmax = INT64_MIN, end;
        char kb[16];
        /* Between events: the previous one ended, the next fill has not happened. */
        if (herd__live_progress((uint64_t)e)) {
            rc = -HERD_EINTR;
            goto out;
        }
        /* Fill: every key at one instant F. */
        F = herd__now_ns();
        for (int k = 0; k < R.keys; k++) {
            size_t kl = (size_t)snprintf(kb, sizeof kb, "k%d", k);
            struct herd_swr_info info;
            if (R.rc) {
                if ((rc = herd__rcache_set(rfill, k, &fillv[k], F, atomic_load(&R.delta[k]),
                                           R.mode.jitter_ttl ? &rng : NULL, &R.expiry[k])) < 0) {
                    snprintf(err, errlen, "cache: the fill's SET to redis failed");
                    goto out;
                }
            } else {
                herd_swr_set(R.cache, kb, kl, &fillv[k], sizeof fillv[k], F, NULL,
                             atomic_load(&R.delta[k]), R.mode.jitter_ttl ? &rng : NULL);
                herd_swr_get(R.cache, kb, kl, F, NULL, 0, &info);
                R.expiry[k] = info.fresh_until_ns;
            }
            if (R.expiry[k] < Tmin)
                Tmin = R.expiry[k];
            if (R.expiry[k] > Tmax)
                Tmax = R.expiry[k];
        }
        if (e == 0)
            spread_ms = (double)(Tmax - Tmin) / 1e6;
        W = Tmin - R.lead;
        if (W < herd__now_ns() + HERD_NS_PER_MS)
            W = herd__now_ns() + HERD_NS_PER_MS;
        atomic_store(&R.inflight, 0);
        atomic_store(&R.peak, 0);
        uint64_t q0 = R.ops->queries(R.origin);
        uint64_t c0 = R.rc ? herd__rcache_commands(rfill) : 0;
        rc = run_one_event(&R, e, W, Tmax + EVENT_GRACE_NS, &end);
        if (rc < 0)
            goto out;
        uint64_t load = R.ops->queries(R.origin) - q0;
        if (R.rc)
            redis_cmds += herd__rcache_commands(rfill) - c0;

        struct evstat s = {0};
        struct herd_event ev = {.origin_load = load, .peak = (uint64_t)atomic_load(&R.peak)};
        for (int i = 0; i < R.n; i++) {
            struct req *q = &R.req[i];
            s.requests += q->ev.requests;
            s.hits += q->ev.hits;
            s.stale += q->ev.stale;
            s.shared += q->ev.shared;
            s.early += q->ev.early;
            s.errors += q->ev.errors;
            s.timedout += q->ev.timedout;
            s.lock_polls += q->ev.lock_polls;
            for (int j = 0; j < q->nq; j++)
                sample(&qdur, q->q[j].end - q->q[j].start);
            if (q->lag >= 0)
                sample(&lag, q->lag);
            add_reactions(r, &ev, (size_t)i, &q->ev);
        }
        if ((rc = herd_report_add_event(r, &ev)) < 0) {
            snprintf(err, errlen, "cache: %s", herd_strerror(rc));
            goto out;
        }
        if (e == 0)
            fill_timeline(r, &R, W, end);
        tot.requests += s.requests;
        tot.hits += s.hits;
        tot.stale += s.stale;
        tot.shared += s.shared;
        tot.early += s.early;
        tot.errors += s.errors;
        tot.timedout += s.timedout;
        tot.lock_polls += s.lock_polls;
    }
    rc = 0;

    herd_report_extra(r, "requests", (double)tot.requests);
    herd_report_extra(r, "hits", (double)tot.hits);
    herd_report_extra(r, "stale_serves", (double)tot.stale);
    herd_report_extra(r, "shared_results", (double)tot.shared);
    herd_report_extra(r, "early_refreshes", (double)tot.early);
    median_ms_extra(r, "query_ms_median", &qdur);
    /* The upper median of the keys' start-up queries, as src/sim/model_cache.c takes it. */
    qsort(fill_ns, (size_t)R.keys, sizeof *fill_ns, i64_cmp);
    herd_report_extra(r, "query_ms_alone", (double)fill_ns[R.keys / 2] / 1e6);
    herd_report_extra(r, "rows", (double)cfg->rows);
    herd_report_extra(r, "errors", (double)tot.errors);
    herd_report_extra(r, "timed_out", (double)tot.timedout);
    herd_report_extra(r, "expiry_spread_ms", spread_ms);
    median_ms_extra(r, "lag_ms_at_expiry", &lag);
    limited_herd(r, &R);
    if (R.rc) {
        herd_report_extra(r, "redis_startup_s", herd__rcache_startup_s(R.rc));
        herd_report_extra(r, "redis_commands", (double)redis_cmds);
        if (cfg->redis_lock)
            herd_report_extra(r, "redis_lock_polls", (double)tot.lock_polls);
    }
    if (R.ops == &herd__origin_pg) {
        herd_report_extra(r, "service_startup_s", herd__origin_pg_startup_s(R.origin));
        herd_report_extra(r, "origin_counted_by_server",
                          herd__origin_pg_counted_by_server(R.origin) ? 1 : 0);
    }
    goto out;

out_sys:
    snprintf(err, errlen, "cache: %s", herd_strerror(rc));
out:
    if (nthreads) {
        pthread_mutex_lock(&R.mu);
        R.quit = true;
        pthread_cond_broadcast(&R.cv);
        pthread_mutex_unlock(&R.mu);
        for (int i = 0; i < nthreads; i++)
            pthread_join(R.req[i].th, NULL);
    }
    for (int i = 0; i < nconns; i++)
        R.ops->disconnect(R.req[i].conn);
    for (int i = 0; R.req && i < R.n; i++)
        herd__rcache_disconnect(R.req[i].rconn);
    herd__rcache_disconnect(rfill);
    herd__rcache_close(R.rc);
    if (filler)
        R.ops->disconnect(filler);
    if (R.origin)
        R.ops->close(R.origin);
    herd_singleflight_free(R.sf);
    herd_swr_free(R.cache);
    if (done_ok)
        pthread_cond_destroy(&R.done_cv);
    if (cv_ok)
        pthread_cond_destroy(&R.cv);
    if (hist_ok)
        pthread_mutex_destroy(&R.hist_mu);
    if (mu_ok)
        pthread_mutex_destroy(&R.mu);
    free(R.req);
    free(R.expiry);
    free((void *)R.done_ns);
    free((void *)R.delta);
    free(fillv);
    free(fill_ns);
    free(qdur.v);
    free(lag.v);
    if (rc == -HERD_EINTR)
        snprintf(err, errlen, "interrupted");
    return rc;
}

static int check(const struct herd_run_spec *spec, char *err, size_t errlen)
{
    switch (spec->cfg.cache.store) {
    case HERD_CACHE_IN_PROCESS:
        break;
    case HERD_CACHE_REDIS:
        if (!spec->text[1][0] && !herd__svc_installed(HERD_SVC_REDIS, err, errlen))
            return -HERD_EINVAL;
        break;
    }
    switch (spec->cfg.cache.origin) {
    case HERD_CACHE_SQLITE:
        return 0;
    case HERD_CACHE_POSTGRES:
        if (spec->text[0][0])
            return 0;
        return herd__svc_installed(HERD_SVC_POSTGRES, err, errlen) ? 0 : -HERD_EINVAL;
    }
    return 0;
}

const struct herd_live_scenario herd__live_cache = {needs, run, check};
