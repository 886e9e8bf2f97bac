/* lock.c — the distributed-lock retry storm, live, on a real redis-server (seed 000).
 *
 * herd starts a private redis-server for the run (svc.h; or uses the user's, --set url=,
 * touching only the keys herd:lock and herd:lock:queue). N worker threads, each with its
 * own connection, need the lock at the same moment (the trigger: an absolute
 * CLOCK_MONOTONIC time every worker sleeps until). Each must hold it once: the holder
 * works hold_us, then releases; the others wait according to the strategy:
 *   same-timeout  SET herd:lock TOKEN NX PX lease; refused: sleep retry_ms, try again (the
 *                 seed's "everyone retries with the same timeout": they started together,
 *                 so they stay in waves)
 *   backoff       the same, sleeping herd_backoff_next() (full jitter, retry_ms to cap_ms)
 *   queue         notify-one: BLPOP herd:lock:queue, a list holding one token; a release
 *                 RPUSHes it back and Redis hands it to the longest-blocked worker
 * The release of a SET lock is the compare-and-delete script (delete only if the value is
 * still this worker's token), as a lease-based lock must.
 *
 * What the report means here (one event = one trigger, every worker taking the lock once):
 *   outcomes    per worker per event: useful (it got the lock and did its work, once),
 *               wasted (each attempt Redis refused: SET NX that found the lock taken),
 *               failed (gave up at deadline_ms, or an error). wakes = attempts.
 *   origin_load commands Redis executed during the event, read from the server
 *               (INFO commandstats, herd's own INFO calls excluded), not counted by herd;
 *   peak        most commands in flight at Redis at once (sent, reply not yet read);
 *   latency     from the trigger to the moment the worker holds the lock (so it includes
 *               waiting for the N - 1 holders before it: N x hold_us is the floor of the
 *               last one, whatever the strategy);
 *   timeline    attempts sent per bucket and acquisitions per bucket, summed over events;
 *   extras      Redis's commands/s and CPU (INFO cpu: used_cpu_user + used_cpu_sys) over
 *               each event (medians), how long the lock sat free between holders, the
 *               server's start-up in seconds (never in any latency figure).
 *
 * Cost: n threads, n + 2 connections (Unix socket to the private server), one redis-server
 * process. Interrupts: sleeps are sliced (≤ 50 ms) and check the stop flag; workers blocked
 * in BLPOP are released by pushing n tokens; then every thread is joined and the server
 * stopped, its directory removed.
 */
#include "live_int.h"
#include "svc.h"

#include <errno.h>
#include <herd/backoff.h>
#include <herd/clock.h>
#include <herd/error.h>
#include <herd/rng.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLICE_NS (50 * HERD_NS_PER_MS)

static void needs(const struct herd_run_spec *spec, struct herd_live_needs *need)
{
    need->threads = spec->n;
    need->processes = 1; /* redis-server */
    need->fds = spec->n + 16;
}

#ifndef HERD_HAVE_HIREDIS

static int check(const struct herd_run_spec *spec, char *err, size_t errlen)
{
    (void)spec;
    snprintf(err, errlen,
             "lock: this herd was built without hiredis (install libhiredis-dev: "
             "scripts/install-deps.sh, then rebuild)");
    return -HERD_EINVAL;
}

static int run(const struct herd_run_spec *spec, struct herd_report *r, char *err, size_t errlen)
{
    (void)spec;
    (void)r;
    snprintf(err, errlen,
             "lock: this herd was built without hiredis (install libhiredis-dev: "
             "scripts/install-deps.sh, then rebuild)");
    return -HERD_EINVAL;
}

#else

#include <hiredis/hiredis.h>

static int check(const struct herd_run_spec *spec, char *err, size_t errlen)
{
    struct herd_svc s;
    if (spec->cfg.lock.external)
        return herd__svc_attach(HERD_SVC_REDIS, spec->text[0], "--set url", &s, err, errlen);
    return herd__svc_installed(HERD_SVC_REDIS, err, errlen) ? 0 : -HERD_EINVAL;
}

#define KEY "herd:lock"
#define QKEY "herd:lock:queue"
#define RELEASE_LUA                                                                                \
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) "             \
    "else return 0 end"
#define MAX_ATTEMPT_TIMES (1 << 20) /* per worker, for the timeline */

struct lockrun;

/* One worker: its connection and its figures for the current event, written by the worker
 * before it counts itself done (under L->mu), read by the main thread after all are. */
struct worker {
    struct lockrun *L;
    uint32_t id;
    bool started;
    pthread_t th;
    redisContext *c;
    struct herd_rng rng;    /* backoff's draws: stream `id` of the run seed */
    struct herd_i64s tries; /* attempt send times, relative to their trigger (all events) */
    struct herd_i64s got;   /* acquisition times, relative to their trigger (all events) */

    enum herd_outcome out; /* useful or failed */
    uint64_t wasted;       /* refused attempts this event */
    int64_t lat_ns;        /* trigger -> lock held; -1: never held */
    int64_t held_ns;       /* when it released, relative to the trigger */
    bool error;
};

struct lockrun {
    const struct herd_lock_config *cfg;
    int64_t n;
    struct herd_backoff_policy bo;

    pthread_mutex_t mu;
    pthread_cond_t go, done;
    int64_t gen; /* event published; -1 none yet */
    int64_t t0;  /* its trigger, CLOCK_MONOTONIC */
    int64_t ready, ndone;
    bool quit;

    _Atomic int64_t inflight, peak;
    struct worker *w;
};

/* ---- Redis ------------------------------------------------------------------------------ */

/* One command from a worker, counted in flight at Redis while it is out. */
static redisReply *worker_cmd(struct worker *k, const char *fmt, ...)
{
    struct lockrun *L = k->L;
    int64_t now_in = atomic_fetch_add(&L->inflight, 1) + 1;
    int64_t p = atomic_load(&L->peak);
    while (now_in > p && !atomic_compare_exchange_weak(&L->peak, &p, now_in))
        ;
    va_list ap;
    va_start(ap, fmt);
    redisReply *rep = redisvCommand(k->c, fmt, ap);
    va_end(ap);
    atomic_fetch_sub(&L->inflight, 1);
    return rep;
}

struct redis_stats {
    uint64_t calls; /* every command but INFO */
    double cpu_s;   /* used_cpu_user + used_cpu_sys */
};

/* The server's own counters: INFO commandstats and INFO cpu. @return 0 or -HERD_EINVAL. */
static int read_stats(redisContext *c, struct redis_stats *out)
{
    redisReply *rep = redisCommand(c, "INFO commandstats");
    if (!rep || rep->type != REDIS_REPLY_STRING) {
        freeReplyObject(rep);
        return -HERD_EINVAL;
    }
    out->calls = 0;
    for (const char *p = rep->str; (p = strstr(p, "cmdstat_"));) {
        const char *colon = strchr(p, ':');
        const char *calls = colon ? strstr(colon, "calls=") : NULL;
        if (!calls)
            break;
        if (strncmp(p, "cmdstat_info:", 13) != 0)
            out->calls += strtoull(calls + 6, NULL, 10);
        p = calls;
    }
    freeReplyObject(rep);
    rep = redisCommand(c, "INFO cpu");
    if (!rep || rep->type != REDIS_REPLY_STRING) {
        freeReplyObject(rep);
        return -HERD_EINVAL;
    }
    const char *u = strstr(rep->str, "used_cpu_user:"), *s = strstr(rep->str, "used_cpu_sys:");
    out->cpu_s = (u ? strtod(u + 14, NULL) : 0) + (s ? strtod(s + 13, NULL) : 0);
    freeReplyObject(rep);
    return 0;
}

static bool ok_status(const redisReply *rep)
{
    return rep && rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "OK") == 0;
}

/* ---- the workers ------------------------------------------------------------------------ */

/* Sleep until @p t (CLOCK_MONOTONIC) in slices. @return false when the run is stopping. */
static bool sleep_until(int64_t t)
{
    for (;;) {
        if (herd__live_stopping())
            return false;
        int64_t left = t - herd__now_ns();
        if (left <= 0)
            return true;
        herd__sleep_ns(left < SLICE_NS ? left : SLICE_NS);
    }
}

/* Take the lock with SET NX PX, retrying per the strategy, work, release. */
static void take_set(struct worker *k, int64_t t0, int64_t event)
{
    const struct herd_lock_config *cfg = k->L->cfg;
    struct herd_backoff b;
    char token[48];
    snprintf(token, sizeof token, "w%" PRIu32 ".e%" PRId64, k->id, event);
    herd_backoff_init(&b, &k->L->bo, t0);
    int64_t deadline = t0 + cfg->deadline_ns;
    for (;;) {
        int64_t sent = herd__now_ns();
        herd__i64s_push(&k->tries, sent - t0, MAX_ATTEMPT_TIMES);
        redisReply *rep =
            worker_cmd(k, "SET " KEY " %s NX PX %" PRId64, token, cfg->lease_ns / HERD_NS_PER_MS);
        int64_t now = herd__now_ns();
        if (!rep || rep->type == REDIS_REPLY_ERROR) {
            freeReplyObject(rep);
            k->error = true;
            return;
        }
        bool got = ok_status(rep);
        freeReplyObject(rep);
        if (got) {
            k->lat_ns = now - t0;
            herd__i64s_push(&k->got, now - t0, MAX_ATTEMPT_TIMES);
            if (cfg->hold_ns)
                herd__sleep_ns(cfg->hold_ns);
            rep = worker_cmd(k, "EVAL %s 1 " KEY " %s", RELEASE_LUA, token);
            k->error = !rep || rep->type == REDIS_REPLY_ERROR;
            freeReplyObject(rep);
            k->held_ns = herd__now_ns() - t0;
            k->out = HERD_OUT_USEFUL;
            return;
        }
        k->wasted++;
        int64_t wait = cfg->retry_ns;
        switch (cfg->strategy) {
        case HERD_LOCK_SAME_TIMEOUT:
            break;
        case HERD_LOCK_BACKOFF:
            if (herd_backoff_next(&b, &k->rng, now, HERD_BACKOFF_FAILED,
                                  HERD_BACKOFF_NO_RETRY_AFTER, &wait) < 0)
                return; /* the deadline: failed */
            break;
        case HERD_LOCK_QUEUE:
            return; /* not this path */
        }
        if (now + wait > deadline || !sleep_until(now + wait))
            return;
    }
}

/* Take the token from the queue (BLPOP: Redis wakes one blocked worker per push), work,
 * push it back. */
static void take_queue(struct worker *k, int64_t t0)
{
    const struct herd_lock_config *cfg = k->L->cfg;
    double left_s = (double)(t0 + cfg->deadline_ns - herd__now_ns()) / 1e9;
    if (left_s < 0.001)
        return;
    herd__i64s_push(&k->tries, herd__now_ns() - t0, MAX_ATTEMPT_TIMES);
    redisReply *rep = worker_cmd(k, "BLPOP " QKEY " %.3f", left_s);
    int64_t now = herd__now_ns();
    if (!rep || rep->type == REDIS_REPLY_ERROR) {
        freeReplyObject(rep);
        k->error = true;
        return;
    }
    bool got = rep->type == REDIS_REPLY_ARRAY && rep->elements == 2;
    freeReplyObject(rep);
    if (!got || herd__live_stopping())
        return; /* timed out at the deadline, or released by the stop */
    k->lat_ns = now - t0;
    herd__i64s_push(&k->got, now - t0, MAX_ATTEMPT_TIMES);
    if (cfg->hold_ns)
        herd__sleep_ns(cfg->hold_ns);
    rep = worker_cmd(k, "RPUSH " QKEY " token");
    k->error = !rep || rep->type == REDIS_REPLY_ERROR;
    freeReplyObject(rep);
    k->held_ns = herd__now_ns() - t0;
    k->out = HERD_OUT_USEFUL;
}

static void *worker_main(void *arg)
{
    struct worker *k = arg;
    struct lockrun *L = k->L;
    int64_t seen = -1;
    for (;;) {
        pthread_mutex_lock(&L->mu);
        L->ready++;
        pthread_cond_signal(&L->done);
        while (L->gen == seen && !L->quit)
            pthread_cond_wait(&L->go, &L->mu);
        bool quit = L->quit;
        seen = L->gen;
        int64_t t0 = L->t0;
        pthread_mutex_unlock(&L->mu);
        if (quit)
            break;

        k->out = HERD_OUT_FAILED;
        k->wasted = 0;
        k->lat_ns = -1;
        k->held_ns = 0;
        k->error = false;
        if (sleep_until(t0)) {
            switch (L->cfg->strategy) {
            case HERD_LOCK_SAME_TIMEOUT:
            case HERD_LOCK_BACKOFF:
                take_set(k, t0, seen);
                break;
            case HERD_LOCK_QUEUE:
                take_queue(k, t0);
                break;
            }
        }
        pthread_mutex_lock(&L->mu);
        L->ndone++;
        pthread_cond_signal(&L->done);
        pthread_mutex_unlock(&L->mu);
    }
    return NULL;
}

/* ---- the run ---------------------------------------------------------------------------- */

/* Wait until *count reaches @p want, polling the watch. @return 0 or -HERD_EINTR. */
static int wait_count(struct lockrun *L, const int64_t *count, int64_t want)
{
    pthread_mutex_lock(&L->mu);
    while (*count < want) {
        pthread_mutex_unlock(&L->mu);
        if (herd__live_poll())
            return -HERD_EINTR;
        pthread_mutex_lock(&L->mu);
        if (*count >= want)
            break;
        struct timespec ts = herd_clock_timespec(herd_clock_realtime_ns() + 10 * HERD_NS_PER_MS);
        pthread_cond_timedwait(&L->done, &L->mu, &ts);
    }
    pthread_mutex_unlock(&L->mu);
    return 0;
}

static bool cmd_ok(redisContext *c, const char *cmd)
{
    redisReply *rep = redisCommand(c, cmd);
    bool ok = rep && rep->type != REDIS_REPLY_ERROR;
    freeReplyObject(rep);
    return ok;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_of(double *v, int64_t n)
{
    if (n <= 0)
        return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Attempts and acquisitions per bucket, relative to each event's trigger, summed. */
static int build_timeline(struct herd_report *r, const struct lockrun *L)
{
    int64_t span = HERD_NS_PER_MS;
    for (int64_t i = 0; i < L->n; i++) {
        const struct worker *k = &L->w[i];
        for (size_t j = 0; j < k->tries.n; j++)
            span = k->tries.v[j] > span ? k->tries.v[j] : span;
        for (size_t j = 0; j < k->got.n; j++)
            span = k->got.v[j] > span ? k->got.v[j] : span;
    }
    int64_t bucket = herd_timeline_pick_bucket(span, HERD_NS_PER_MS, 1000);
    int rc = herd_report_timeline(r, bucket, (size_t)(span / bucket) + 1);
    if (rc < 0)
        return rc;
    int64_t *tries = herd_report_series(r, "attempts");
    int64_t *got = herd_report_series(r, "acquired");
    if (!tries || !got)
        return -HERD_ENOMEM;
    size_t len = r->timeline.len;
    for (int64_t i = 0; i < L->n; i++) {
        const struct worker *k = &L->w[i];
        for (size_t j = 0; j < k->tries.n; j++) {
            size_t b = (size_t)(k->tries.v[j] / bucket);
            tries[b < len ? b : len - 1]++;
        }
        for (size_t j = 0; j < k->got.n; j++) {
            size_t b = (size_t)(k->got.v[j] / bucket);
            got[b < len ? b : len - 1]++;
        }
    }
    return 0;
}

static int run(const struct herd_run_spec *spec, struct herd_report *r, char *err, size_t errlen)
{
    struct lockrun L = {.cfg = &spec->cfg.lock, .n = spec->n, .gen = -1};
    struct herd_svc svc = {0};
    redisContext *ctl = NULL;
    int64_t spawned = 0, nev = 0, errors = 0;
    double *cmds_s = NULL, *cpu_ms = NULL, *cpu_share = NULL, *round_ms = NULL, *idle_pct = NULL;
    int rc = 0;
    const struct herd_lock_config *cfg = L.cfg;

    L.bo = (struct herd_backoff_policy){
        .kind = HERD_BACKOFF_FULL,
        .base_ns = cfg->retry_ns,
        .cap_ns = cfg->cap_ns,
        .deadline_ns = cfg->deadline_ns,
    };
    pthread_mutex_init(&L.mu, NULL);
    pthread_cond_init(&L.go, NULL);
    pthread_cond_init(&L.done, NULL);
    L.w = calloc((size_t)L.n, sizeof *L.w);
    cmds_s = calloc((size_t)spec->events, sizeof *cmds_s);
    cpu_ms = calloc((size_t)spec->events, sizeof *cpu_ms);
    cpu_share = calloc((size_t)spec->events, sizeof *cpu_share);
    round_ms = calloc((size_t)spec->events, sizeof *round_ms);
    idle_pct = calloc((size_t)spec->events, sizeof *idle_pct);
    if (!L.w || !cmds_s || !cpu_ms || !cpu_share || !round_ms || !idle_pct) {
        snprintf(err, errlen, "lock: out of memory for %" PRId64 " workers", L.n);
        rc = -HERD_ENOMEM;
        goto out;
    }

    struct herd_svc_opts so = {.max_clients = (int)(L.n < 100000 ? L.n + 2 : 100000)};
    rc = cfg->external
             ? herd__svc_attach(HERD_SVC_REDIS, spec->text[0], "--set url", &svc, err, errlen)
             : herd__svc_start(HERD_SVC_REDIS, &so, &svc, err, errlen);
    if (rc < 0)
        goto out;
    /* No reply may take longer than a worker's whole deadline (BLPOP blocks that long). */
    int64_t io_ns = cfg->deadline_ns + 10 * HERD_NS_PER_S;
    if (!(ctl = herd__svc_redis_connect(&svc, io_ns, err, errlen))) {
        rc = -HERD_EINVAL;
        goto out;
    }
    for (int64_t i = 0; i < L.n; i++) {
        struct worker *k = &L.w[i];
        k->L = &L;
        k->id = (uint32_t)i;
        herd_rng_stream(&k->rng, spec->seed, (uint64_t)i);
        if (!(k->c = herd__svc_redis_connect(&svc, io_ns, err, errlen))) {
            rc = -HERD_EINVAL;
            goto out;
        }
        if ((rc = herd__thread_spawn(&k->th, worker_main, k, 0)) < 0) {
            snprintf(err, errlen, "lock: cannot start worker thread %" PRId64 ": %s", i,
                     herd_strerror(rc));
            goto out;
        }
        k->started = true;
        spawned++;
        if (herd__live_poll()) {
            rc = -HERD_EINTR;
            goto out;
        }
    }
    if ((rc = wait_count(&L, &L.ready, L.n)) < 0)
        goto out;

    for (int64_t e = 0; e < spec->events; e++) {
        if (herd__live_progress((uint64_t)e)) {
            rc = -HERD_EINTR;
            goto out;
        }
        if (!cmd_ok(ctl, "DEL " KEY " " QKEY) ||
            (cfg->strategy == HERD_LOCK_QUEUE && !cmd_ok(ctl, "RPUSH " QKEY " token"))) {
            snprintf(err, errlen, "lock: redis refused the set-up of the lock keys");
            rc = -HERD_EINVAL;
            goto out;
        }
        struct redis_stats s0, s1;
        if (read_stats(ctl, &s0) < 0) {
            snprintf(err, errlen, "lock: INFO commandstats / cpu failed");
            rc = -HERD_EINVAL;
            goto out;
        }
        int64_t w0 = herd__now_ns();
        atomic_store(&L.peak, 0);
        pthread_mutex_lock(&L.mu);
        L.ndone = 0;
        L.ready = 0;
        /* Far enough ahead that every worker is asleep in its wait for it (20 µs each to
         * wake from the broadcast on 2 vCPUs): the trigger is the same instant for all. */
        L.t0 = herd__now_ns() + 20 * HERD_NS_PER_MS + 20 * HERD_NS_PER_US * L.n;
        L.gen = e;
        pthread_cond_broadcast(&L.go);
        pthread_mutex_unlock(&L.mu);
        if ((rc = wait_count(&L, &L.ndone, L.n)) < 0)
            goto out;
        if ((rc = wait_count(&L, &L.ready, L.n)) < 0) /* parked again: figures final */
            goto out;
        int64_t w1 = herd__now_ns();
        if (read_stats(ctl, &s1) < 0) {
            snprintf(err, errlen, "lock: INFO commandstats / cpu failed");
            rc = -HERD_EINVAL;
            goto out;
        }

        struct herd_event ev = {.origin_load = s1.calls - s0.calls,
                                .peak = (uint64_t)atomic_load(&L.peak)};
        int64_t end = 0, held = 0;
        for (int64_t i = 0; i < L.n; i++) {
            struct worker *k = &L.w[i];
            ev.wasted += k->wasted;
            if (i < HERD_REPORT_WAITERS)
                r->waiters[i].n[HERD_OUT_WASTED] += (uint32_t)k->wasted;
            if (k->out == HERD_OUT_USEFUL) {
                ev.useful++;
                herd_hist_record(&r->latency, k->lat_ns);
                held++;
            } else {
                ev.failed++;
            }
            herd_report_waiter(r, (size_t)i, k->out);
            errors += k->error;
            end = k->held_ns > end ? k->held_ns : end;
        }
        if ((rc = herd_report_add_event(r, &ev)) < 0) {
            snprintf(err, errlen, "lock: out of memory");
            goto out;
        }
        double round_s = end > 0 ? (double)end / 1e9 : 1e-9;
        cmds_s[nev] = (double)ev.origin_load / round_s;
        cpu_ms[nev] = (s1.cpu_s - s0.cpu_s) * 1e3;
        cpu_share[nev] = (s1.cpu_s - s0.cpu_s) / ((double)(w1 - w0) / 1e9);
        round_ms[nev] = round_s * 1e3;
        idle_pct[nev] = end > 0 ? 100.0 * (1.0 - (double)(held * cfg->hold_ns) / (double)end) : 0;
        nev++;
    }

out:
    /* Teardown on every path: workers see quit (parked) or the stop flag (sleeping);
     * those blocked in BLPOP are released by n pushes. */
    pthread_mutex_lock(&L.mu);
    L.quit = true;
    pthread_cond_broadcast(&L.go);
    pthread_mutex_unlock(&L.mu);
    if (ctl && cfg->strategy == HERD_LOCK_QUEUE && spawned && rc < 0) {
        for (int64_t i = 0; i < spawned; i++)
            freeReplyObject(redisCommand(ctl, "RPUSH " QKEY " stop"));
    }
    for (int64_t i = 0; i < spawned; i++)
        if (L.w[i].started)
            pthread_join(L.w[i].th, NULL);
    if (herd__live_stopping() && rc == 0)
        rc = -HERD_EINTR;
    if (rc == 0) {
        if ((rc = build_timeline(r, &L)) < 0)
            snprintf(err, errlen, "lock: out of memory for the timeline");
        herd_report_extra(r, "service_startup_s", (double)svc.startup_ns / 1e9);
        herd_report_extra(r, "redis_cmds_per_s", median_of(cmds_s, nev));
        herd_report_extra(r, "redis_cpu_ms_per_event", median_of(cpu_ms, nev));
        herd_report_extra(r, "redis_cpu_share", median_of(cpu_share, nev));
        herd_report_extra(r, "round_ms", median_of(round_ms, nev));
        herd_report_extra(r, "lock_free_pct", median_of(idle_pct, nev));
        herd_report_extra(r, "attempts_per_acquisition",
                          r->useful ? (double)r->wakes / (double)r->useful : 0);
        herd_report_extra(r, "errors", (double)errors);
        if (svc.external)
            herd_report_extra(r, "external_service", 1);
    }
    if (ctl && rc != -HERD_EINTR)
        cmd_ok(ctl, "DEL " KEY " " QKEY);
    for (int64_t i = 0; L.w && i < L.n; i++) {
        redisFree(L.w[i].c);
        free(L.w[i].tries.v);
        free(L.w[i].got.v);
    }
    redisFree(ctl);
    herd__svc_stop(&svc);
    pthread_cond_destroy(&L.done);
    pthread_cond_destroy(&L.go);
    pthread_mutex_destroy(&L.mu);
    free(L.w);
    free(cmds_s);
    free(cpu_ms);
    free(cpu_share);
    free(round_ms);
    free(idle_pct);
    return rc;
}

#endif /* HERD_HAVE_HIREDIS */

const struct herd_live_scenario herd__live_lock = {needs, run, check};
