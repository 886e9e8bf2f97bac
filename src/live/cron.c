/* cron.c — the cron herd, live: N clients with the same crontab line call one backend.
 *
 * N client threads sleep until the same wall-clock boundary (a multiple of period_ms
 * on CLOCK_REALTIME, with clock_nanosleep(TIMER_ABSTIME), as cron and systemd timers
 * do), then each sends one real request over TCP to herd's loopback backend
 * (backend.h: an acceptor and a fixed pool of backend_workers threads doing real CPU
 * work). naive ("at-boundary"): everyone fires at the boundary. jitter: each client
 * adds a fresh herd_jitter_window(window) delay drawn from its own rng stream of the
 * run seed. splay: each client adds herd_jitter_splay(its name, window, seed), the
 * same offset at every boundary (systemd's FixedRandomDelay=yes).
 *
 * What the report means here (one event = one boundary):
 *   outcomes    per client per boundary: useful (its request was answered before its
 *               timeout: the job got done, queued behind others or not — a queue is the
 *               herd's cost in latency, not waste), wasted (it gave up, and the backend
 *               still did the work: thrown away), failed (it gave up on a request the
 *               backend never worked on, or it got an error), idle (did not fire).
 *               wakes = clients that fired. Requests answered after queueing are the
 *               extra served_after_queueing. An event whose backend did not drain within
 *               1 s counts in settle_timeouts; its clients that gave up are decided from
 *               the backend's records once their requests are done (struct ledger);
 *   origin_load connections the backend accepted;
 *   peak        most requests in flight at the backend at once, queued ones included
 *               (measured live under the backend's lock, not reconstructed);
 *   latency     from the client's SCHEDULED fire time (boundary + offset) to the reply
 *               in hand, so a late wake-up, connect time and queueing all count (no
 *               coordinated omission). Timed-out requests are recorded at the time the
 *               client gave up (a lower bound, so the tail is not flattered); requests
 *               that failed outright are counted in `errors`, not in latency.
 *   timeline    event-relative time from the boundary; "arrivals" at the backend per
 *               bucket (summed over events), "inflight" and "queue" the maximum level
 *               within the bucket (maximum over events), rebuilt from per-request
 *               timestamps taken under the backend's lock. The axis spans at least the
 *               window, so naive and mitigated runs of the same settings share it.
 *
 * Cost: n + backend_workers + 1 threads, two sockets per request. The boundary is
 * chosen only after every client thread is up and parked, at least 30 ms + 20 µs·n
 * ahead, so a run takes up to one period plus the window plus the drain per event.
 * Interrupts: every wait is sliced (≤ 100 ms) or woken by a broadcast, and the
 * backend's stop wakes its threads, so teardown after a stop is prompt. Only the main
 * thread polls the run's watch (between events, and in its waits); clients read the
 * latched stop.
 */
#include "tcpsrv.h"
#include "live_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <herd/clock.h>
#include <herd/error.h>
#include <herd/jitter.h>
#include <herd/rng.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SLICE_NS (100 * HERD_NS_PER_MS)


/* A client's result for the current event: written by the client before it counts
 * itself done (under cron.mu), read by the main thread after all are done. */
struct client {
    struct cron *c;
    uint32_t id;
    bool started;
    pthread_t th;
    struct herd_rng rng; /* jitter: stream `id` of the run seed */
    int64_t splay_ns;    /* splay: this client's fixed offset */

    bool fired;
    enum herd_outcome out; /* useful: answered in time; failed (when it timed out, the
                              backend's record may make it wasted: the ledger) */
    bool timedout;         /* gave up at its timeout */
    bool queued;           /* answered after waiting behind others (not waste) */
    int64_t lat_ns;   /* scheduled fire -> reply (or give-up); -1 when not recorded */
    int64_t late_ns;  /* how late the wake-up itself was */
    int64_t sched_ns; /* offset from the boundary */
};

struct cron {
    enum herd_cron_strategy strategy;
    int64_t n, events;
    int64_t window_ns, period_ns, timeout_ns;
    uint16_t port;

    pthread_mutex_t mu;
    pthread_cond_t go;   /* main -> clients: a new boundary is published */
    pthread_cond_t done; /* clients -> main: ready / done counts changed */
    int64_t gen;         /* event whose boundary is published; -1 none yet */
    int64_t boundary_rt; /* CLOCK_REALTIME ns */
    int64_t ready, ndone;
    bool quit;

    struct client *cl;
};

static int64_t rt_now(void)
{
    return herd_clock_realtime_ns();
}

static void timed_wait(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t ns)
{
    /* Condvars default to CLOCK_REALTIME deadlines: fine for a ≤ 100 ms slice. */
    struct timespec ts = herd_clock_timespec(rt_now() + ns);
    pthread_cond_timedwait(cv, mu, &ts);
}

/* Sleep until @p t_rt on the wall clock, in slices so an interrupt is seen within
 * 100 ms. @return false when the run is stopping. */
static bool sleep_until_rt(int64_t t_rt)
{
    for (;;) {
        if (herd__live_stopping())
            return false;
        int64_t now = rt_now();
        if (now >= t_rt)
            return true;
        int64_t until = t_rt - now > SLICE_NS ? now + SLICE_NS : t_rt;
        struct timespec ts = herd_clock_timespec(until);
        clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL); /* EINTR: re-check */
    }
}

static void set_timeout(int fd, int opt, int64_t ns)
{
    if (ns < HERD_NS_PER_MS)
        ns = HERD_NS_PER_MS;
    struct timeval tv = {.tv_sec = ns / HERD_NS_PER_S, .tv_usec = (ns % HERD_NS_PER_S) / 1000};
    setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv);
}

/* One request: connect, send, read the reply. Every blocking step is bounded by what
 * is left of the client's timeout, counted from the scheduled fire time. Closing with
 * SO_LINGER 0 after the reply (the server closed first) leaves no TIME_WAIT socket. */
static void request(struct client *k, int64_t sched_rt, int64_t event)
{
    struct cron *c = k->c;
    int64_t deadline = sched_rt + c->timeout_ns;
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(c->port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct herd_tcpsrv_msg req = {HERD_TCPSRV_REQ, k->id, (uint32_t)event,
                                   (uint32_t)herd_hash64(k->id)};
    struct herd_tcpsrv_msg rep;
    size_t got = 0;
    bool timedout = false;

    k->out = HERD_OUT_FAILED;
    k->timedout = k->queued = false;
    k->lat_ns = -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    set_timeout(fd, SO_SNDTIMEO, deadline - rt_now());
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        /* With SO_SNDTIMEO a connect that runs out of time fails with EINPROGRESS. */
        timedout = errno == EINPROGRESS || errno == EAGAIN || errno == ETIMEDOUT;
        goto out;
    }
    if (send(fd, &req, sizeof req, MSG_NOSIGNAL) != (ssize_t)sizeof req) {
        timedout = errno == EAGAIN || errno == EWOULDBLOCK;
        goto out;
    }
    set_timeout(fd, SO_RCVTIMEO, deadline - rt_now());
    while (got < sizeof rep) {
        ssize_t r = recv(fd, (char *)&rep + got, sizeof rep - got, 0);
        if (r < 0 && errno == EINTR && !herd__live_stopping())
            continue;
        if (r <= 0) {
            timedout = r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
            goto out;
        }
        got += (size_t)r;
    }
    if (rep.magic == HERD_TCPSRV_REP) {
        /* Answered in time, queued behind others or not: the job got done. */
        k->out = HERD_OUT_USEFUL;
        k->queued = rep.b != 0;
        k->lat_ns = rt_now() - sched_rt;
    }
out:
    if (timedout) {
        /* Failed, or wasted if the backend still did the work: decided after the event
         * from the backend's records. */
        k->out = HERD_OUT_FAILED;
        k->timedout = true;
        k->lat_ns = rt_now() - sched_rt;
    }
    if (k->lat_ns < 0 && k->out != HERD_OUT_FAILED)
        k->lat_ns = 0; /* the wall clock was stepped back mid-request */
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

static void *client_main(void *arg)
{
    struct client *k = arg;
    struct cron *c = k->c;

    pthread_mutex_lock(&c->mu);
    c->ready++;
    pthread_cond_broadcast(&c->done);
    for (int64_t e = 0; e < c->events; e++) {
        while (c->gen < e && !c->quit) {
            if (herd__live_stopping())
                c->quit = true;
            else
                timed_wait(&c->go, &c->mu, SLICE_NS);
        }
        if (c->quit)
            break;
        int64_t boundary = c->boundary_rt;
        pthread_mutex_unlock(&c->mu);

        int64_t off = 0;
        switch (c->strategy) {
        case HERD_CRON_AT_BOUNDARY:
            break;
        case HERD_CRON_JITTER:
            off = herd_jitter_window(c->window_ns, &k->rng);
            break;
        case HERD_CRON_SPLAY:
            off = k->splay_ns;
            break;
        }
        int64_t sched = boundary + off;
        bool fired = sleep_until_rt(sched);
        int64_t late = rt_now() - sched;
        if (fired)
            request(k, sched, e);

        pthread_mutex_lock(&c->mu);
        k->fired = fired;
        k->late_ns = late;
        k->sched_ns = off;
        if (!fired)
            c->quit = true;
        c->ndone++;
        pthread_cond_broadcast(&c->done);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* Wait (with c->mu held) until *count reaches @p want, the run stops, or @p deadline
 * (CLOCK_MONOTONIC) passes. The main thread's wait: it polls the run's watch (at most
 * every 10 ms, at least once a slice); the clients only read the latched stop.
 * @return 0, -HERD_EINTR or -HERD_ETIMEDOUT. */
static int wait_count(struct cron *c, const int64_t *count, int64_t want, int64_t deadline)
{
    while (*count < want) {
        if (herd__live_poll() || c->quit)
            return -HERD_EINTR;
        if (herd__now_ns() >= deadline)
            return -HERD_ETIMEDOUT;
        timed_wait(&c->done, &c->mu, SLICE_NS);
    }
    return 0;
}

static void needs(const struct herd_run_spec *spec, struct herd_live_needs *need)
{
    int64_t workers = spec->cfg.cron.backend_workers;
    need->threads = spec->n + workers + 1;
    need->processes = 0;
    /* client and server end of every connection at once, plus listener, eventfd,
     * the odd /proc file and stdio. */
    need->fds = 2 * spec->n + workers + 32;
}

/* ---- timeline ---------------------------------------------------------------------- */

struct change {
    int64_t t;        /* ns since the event's boundary */
    int8_t d_in, d_q; /* change of in-flight and of queue depth */
    bool arrival;
};

static int cmp_change(const void *a, const void *b)
{
    const struct change *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    /* At equal times apply departures first: a level is never over-stated by a tie. */
    return (x->d_in + x->d_q) - (y->d_in + y->d_q);
}

static int64_t rel(int64_t t, int64_t base)
{
    return t > base ? t - base : 0;
}

/* Rebuild the per-bucket levels from the backend's records (every thread joined). */
static int build_timeline(struct herd_report *r, const struct cron *c,
                          const struct herd_tcpsrv_rec *rec, size_t nrec,
                          const int64_t *boundary_mono, int64_t nev)
{
    int64_t span = c->window_ns;
    for (size_t i = 0; i < nrec; i++) {
        if (rec[i].event < 0 || rec[i].event >= nev)
            continue;
        int64_t base = boundary_mono[rec[i].event];
        int64_t last = rec[i].t_done    ? rec[i].t_done
                       : rec[i].t_start ? rec[i].t_start
                                        : rec[i].t_arrive;
        if (rel(last, base) > span)
            span = rel(last, base);
    }
    int64_t bucket = herd_timeline_pick_bucket(span, HERD_NS_PER_MS, 1000);
    size_t len = (size_t)(span / bucket) + 1;
    int rc = herd_report_timeline(r, bucket, len);
    if (rc < 0)
        return rc;
    len = r->timeline.len;
    int64_t *arr = herd_report_series(r, "arrivals");
    int64_t *inf = herd_report_series(r, "inflight");
    int64_t *que = herd_report_series(r, "queue");
    struct change *ch = malloc((3 * nrec + 1) * sizeof *ch);
    if (!arr || !inf || !que || !ch) {
        free(ch);
        return -HERD_ENOMEM;
    }
    for (int64_t e = 0; e < nev; e++) {
        size_t m = 0;
        int64_t base = boundary_mono[e];
        for (size_t i = 0; i < nrec; i++) {
            const struct herd_tcpsrv_rec *q = &rec[i];
            if (q->event != e)
                continue;
            ch[m++] = (struct change){rel(q->t_arrive, base), 1, 1, true};
            if (q->t_start)
                ch[m++] = (struct change){rel(q->t_start, base), 0, -1, false};
            if (q->t_done)
                ch[m++] = (struct change){rel(q->t_done, base), -1, 0, false};
        }
        qsort(ch, m, sizeof *ch, cmp_change);
        int64_t in = 0, qd = 0;
        size_t cur = 0; /* bucket whose maxima we are updating */
        for (size_t j = 0; j < m; j++) {
            size_t b = (size_t)(ch[j].t / bucket);
            if (b >= len)
                b = len - 1;
            /* Buckets crossed without a change hold the level they were left at. */
            for (; cur < b; cur++) {
                if (in > inf[cur + 1])
                    inf[cur + 1] = in;
                if (qd > que[cur + 1])
                    que[cur + 1] = qd;
            }
            in += ch[j].d_in;
            qd += ch[j].d_q;
            arr[b] += ch[j].arrival;
            if (in > inf[b])
                inf[b] = in;
            if (qd > que[b])
                que[b] = qd;
        }
    }
    free(ch);
    return 0;
}

/* ---- outcomes that wait for the backend's records ------------------------------------ */

/*
 * A client that gave up is wasted if the backend still worked on its request, failed if it
 * never did, and only the backend's record of the request says which. A record names its
 * client only once done, so while requests of an event are still in flight (its drain ran
 * out: settle_timeouts) the event's timed-out clients stay undecided, and the event goes to
 * the report once they are all decided: when their records are done, when none of the
 * event's requests is in flight any more, at the latest once the backend stopped. Events
 * go to the report in order; the main thread alone touches the ledger.
 */
#define REC_CHUNK 256

struct ledger {
    int64_t n, events;      /* clients, events of the run */
    struct herd_event *ev;  /* per event: its figures so far */
    int64_t *undecided;     /* per event: its timed-out clients not decided yet */
    uint8_t **who;          /* per event with undecided clients: 1 per such client */
    int64_t *open;          /* per pending event: its requests in flight (scratch) */
    int64_t done, reported; /* events finished; events handed to the report */
    size_t rec_seen;        /* the records before it are done and applied */
    int64_t wasted_work;    /* decided wasted: work_for_gone_clients */
};

static int ledger_init(struct ledger *L, int64_t n, int64_t events)
{
    size_t ne = (size_t)events;
    L->n = n;
    L->events = events;
    L->ev = calloc(ne, sizeof *L->ev);
    L->undecided = calloc(ne, sizeof *L->undecided);
    L->who = calloc(ne, sizeof *L->who);
    L->open = calloc(ne, sizeof *L->open);
    return L->ev && L->undecided && L->who && L->open ? 0 : -HERD_ENOMEM;
}

static void ledger_free(struct ledger *L)
{
    for (int64_t e = 0; L->who && e < L->events; e++)
        free(L->who[e]);
    free(L->ev);
    free(L->undecided);
    free(L->who);
    free(L->open);
}

/* Client @p i gave up in event @p e: its outcome waits for the records. */
static int ledger_wait(struct ledger *L, int64_t e, int64_t i)
{
    if (!L->who[e] && !(L->who[e] = calloc((size_t)L->n, 1)))
        return -HERD_ENOMEM;
    L->who[e][i] = 1;
    L->undecided[e]++;
    return 0;
}

static void decide(struct ledger *L, struct herd_report *r, int64_t e, int64_t i,
                   enum herd_outcome o)
{
    L->who[e][i] = 0;
    L->ev[e].wasted += o == HERD_OUT_WASTED;
    L->ev[e].failed += o == HERD_OUT_FAILED;
    L->wasted_work += o == HERD_OUT_WASTED;
    herd_report_waiter(r, (size_t)i, o);
    if (--L->undecided[e] == 0) {
        free(L->who[e]);
        L->who[e] = NULL;
    }
}

/*
 * Apply the records not applied yet, copied under the backend's lock: a done record of a
 * request the backend worked on makes its undecided client wasted. rec_seen stops at the
 * first record still in flight, so the next pass sees it again. An event without requests
 * in flight has its remaining undecided clients failed; with @p final (every backend thread
 * joined) nothing is in flight any more. Then the decided events go to the report, in order.
 * @return 0 or -HERD_ENOMEM.
 */
static int ledger_settle(struct ledger *L, struct herd_report *r, struct herd_tcpsrv *be,
                         bool final)
{
    struct herd_tcpsrv_rec buf[REC_CHUNK];
    size_t at = L->rec_seen, k;
    bool blocked = false;
    memset(L->open + L->reported, 0, (size_t)(L->done - L->reported) * sizeof *L->open);
    while ((k = herd__tcpsrv_records_copy(be, at, buf, REC_CHUNK)) > 0) {
        for (size_t j = 0; j < k; j++) {
            const struct herd_tcpsrv_rec *x = &buf[j];
            bool pending = x->event >= L->reported && x->event < L->done;
            if (!x->t_done && !final) {
                if (!blocked)
                    L->rec_seen = at + j;
                blocked = true;
                if (pending)
                    L->open[x->event]++;
                continue;
            }
            /* A record names its client once the request was read, as any worked one was. */
            if (pending && x->worked && x->client < (uint64_t)L->n && L->who[x->event] &&
                L->who[x->event][x->client])
                decide(L, r, x->event, x->client, HERD_OUT_WASTED);
        }
        at += k;
    }
    if (!blocked)
        L->rec_seen = at;
    for (int64_t e = L->reported; e < L->done; e++)
        for (int64_t i = 0; L->who[e] && (final || !L->open[e]) && i < L->n; i++)
            if (L->who[e][i])
                decide(L, r, e, i, HERD_OUT_FAILED);
    for (; L->reported < L->done && !L->undecided[L->reported]; L->reported++) {
        int rc = herd_report_add_event(r, &L->ev[L->reported]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- the run ------------------------------------------------------------------------- */

static int run(const struct herd_run_spec *spec, struct herd_report *r, char *err, size_t errlen)
{
    struct cron c = {0};
    struct herd_tcpsrv *be = NULL;
    int64_t *boundary_mono = NULL;
    struct ledger L = {0};
    int64_t spawned = 0, nev = 0;
    int64_t timeouts = 0, errors = 0, queued = 0, settle_timeouts = 0;
    int64_t late_max = 0, span_sum_ns = 0, q_peak = 0, kq_peak = 0;
    double late_sum = 0;
    int rc = 0;
    const struct herd_cron_config *cfg = &spec->cfg.cron;
    int workers = cfg->backend_workers;

    c.strategy = cfg->strategy;
    c.n = spec->n;
    c.events = spec->events;
    c.window_ns = cfg->window_ns;
    c.period_ns = cfg->period_ns;
    c.timeout_ns = cfg->timeout_ns;
    c.gen = -1;
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.go, NULL);
    pthread_cond_init(&c.done, NULL);

    c.cl = calloc((size_t)c.n, sizeof *c.cl);
    boundary_mono = calloc((size_t)c.events, sizeof *boundary_mono);
    if (!c.cl || !boundary_mono || ledger_init(&L, c.n, c.events) < 0) {
        snprintf(err, errlen, "cron: out of memory for %" PRId64 " clients", c.n);
        rc = -HERD_ENOMEM;
        goto out;
    }

    struct herd_tcpsrv_cfg bcfg = {
        .workers = workers,
        .work_ns = cfg->work_ns,
        .backlog = (int)(c.n + 64 < 65535 ? c.n + 64 : 65535),
        .queue_cap = (size_t)c.n + 64,
        /* Every request of every event, bounded (~40 MB) for very long runs. */
        .max_records = (size_t)(c.n * c.events < (1 << 20) ? c.n * c.events + 64 : (1 << 20)),
        .io_timeout_ns = c.timeout_ns,
    };
    rc = herd__tcpsrv_start(&be, &bcfg, err, errlen);
    if (rc < 0)
        goto out;
    c.port = herd__tcpsrv_port(be);

    for (int64_t i = 0; i < c.n; i++) {
        struct client *k = &c.cl[i];
        char name[32];
        int len = snprintf(name, sizeof name, "cron-client-%" PRId64, i);
        k->c = &c;
        k->id = (uint32_t)i;
        herd_rng_stream(&k->rng, spec->seed, (uint64_t)i);
        /* The run seed plays the part of systemd's per-machine secret. */
        k->splay_ns = herd_jitter_splay(name, (size_t)len, c.window_ns, spec->seed);
        k->out = HERD_OUT_IDLE;
        rc = herd__thread_spawn(&k->th, client_main, k, 0);
        if (rc < 0) {
            snprintf(err, errlen, "cron: cannot start client thread %" PRId64 ": %s", i,
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

    pthread_mutex_lock(&c.mu);
    rc = wait_count(&c, &c.ready, c.n, herd__now_ns() + 30 * HERD_NS_PER_S);
    pthread_mutex_unlock(&c.mu);
    if (rc < 0) {
        if (rc == -HERD_ETIMEDOUT)
            snprintf(err, errlen, "cron: client threads did not start within 30 s");
        goto out;
    }

    for (int64_t e = 0; e < c.events; e++) {
        /* Between events: the backend drained, the next boundary is not chosen yet. */
        if (herd__live_progress((uint64_t)e)) {
            rc = -HERD_EINTR;
            goto out;
        }
        herd__tcpsrv_mark(be, (int32_t)e);
        pthread_mutex_lock(&c.mu);
        /* Far enough ahead that every parked client has moved on to its
         * clock_nanosleep (waking n threads from the condvar takes ~10 µs each). */
        int64_t margin = 30 * HERD_NS_PER_MS + c.n * 20 * HERD_NS_PER_US;
        int64_t rt = rt_now(), mono = herd__now_ns();
        c.boundary_rt = herd_jitter_next_fire(rt + margin, c.period_ns, 0);
        boundary_mono[e] = c.boundary_rt - rt + mono;
        c.ndone = 0;
        c.gen = e;
        pthread_cond_broadcast(&c.go);
        /* Everyone fires within the window; give each the timeout, then slack. */
        int64_t deadline = boundary_mono[e] + c.window_ns + c.timeout_ns + 2 * HERD_NS_PER_S;
        rc = wait_count(&c, &c.ndone, c.n, deadline);
        pthread_mutex_unlock(&c.mu);
        if (rc < 0) {
            if (rc == -HERD_ETIMEDOUT)
                snprintf(err, errlen, "cron: clients of event %" PRId64 " did not finish", e);
            goto out;
        }
        /* Let the backend drain before the next event so events do not overlap
         * (a client that timed out may have left its request behind). A drain that runs
         * out is counted: its requests still in flight keep the event's timed-out
         * clients undecided (the ledger). */
        rc = herd__tcpsrv_wait_idle(be, HERD_NS_PER_MS, HERD_NS_PER_S);
        if (rc == -HERD_EINTR)
            goto out;
        settle_timeouts += rc == -HERD_ETIMEDOUT;
        rc = 0;

        struct herd_tcpsrv_stats st;
        herd__tcpsrv_stats(be, &st);
        struct herd_event *ev = &L.ev[e];
        *ev = (struct herd_event){.origin_load = st.arrivals, .peak = (uint64_t)st.peak_inflight};
        for (int64_t i = 0; i < c.n; i++) {
            struct client *k = &c.cl[i];
            if (!k->fired) {
                ev->idle++;
                herd_report_waiter(r, (size_t)i, HERD_OUT_IDLE);
                continue;
            }
            if (k->timedout) {
                /* Wasted or failed: the backend's record decides (ledger_settle). */
                if ((rc = ledger_wait(&L, e, i)) < 0)
                    goto nomem;
            } else {
                ev->useful += k->out == HERD_OUT_USEFUL;
                ev->failed += k->out == HERD_OUT_FAILED;
                herd_report_waiter(r, (size_t)i, (enum herd_outcome)k->out);
            }
            queued += k->out == HERD_OUT_USEFUL && k->queued;
            timeouts += k->timedout;
            errors += k->out == HERD_OUT_FAILED && !k->timedout;
            if (k->lat_ns >= 0)
                herd_hist_record(&r->latency, k->lat_ns);
            late_sum += (double)k->late_ns;
            if (k->late_ns > late_max)
                late_max = k->late_ns;
        }
        L.done = e + 1;
        if ((rc = ledger_settle(&L, r, be, false)) < 0)
            goto nomem;
        if (st.peak_queue > q_peak)
            q_peak = st.peak_queue;
        if (st.peak_kernel_backlog > kq_peak)
            kq_peak = st.peak_kernel_backlog;
        span_sum_ns += st.last_arrival - st.first_arrival;
        nev++;
    }
    goto out;

nomem:
    snprintf(err, errlen, "cron: out of memory");
out:
    /* Teardown on every path. The backend stops first: a client still waiting for a
     * reply (interrupted run) then sees its connection closed at once instead of
     * waiting for the queue to drain or for its timeout. Sleeping clients see quit
     * or the stop flag within one slice. */
    if (be)
        herd__tcpsrv_stop(be);
    pthread_mutex_lock(&c.mu);
    c.quit = true;
    pthread_cond_broadcast(&c.go);
    pthread_mutex_unlock(&c.mu);
    for (int64_t i = 0; i < spawned; i++)
        if (c.cl[i].started)
            pthread_join(c.cl[i].th, NULL);
    if (herd__live_stopping() && (rc == 0 || rc == -HERD_ETIMEDOUT))
        rc = -HERD_EINTR;

    /* Every backend thread is joined: the records are final, and so are the outcomes
     * that waited for them. */
    if (rc == 0 && be && (rc = ledger_settle(&L, r, be, true)) < 0)
        snprintf(err, errlen, "cron: out of memory");
    if (rc == 0 && be) {
        size_t nrec;
        uint64_t dropped;
        const struct herd_tcpsrv_rec *rec = herd__tcpsrv_records(be, &nrec, &dropped);
        rc = build_timeline(r, &c, rec, nrec, boundary_mono, nev);
        if (rc < 0)
            snprintf(err, errlen, "cron: out of memory for the timeline");
        uint64_t *per = calloc((size_t)workers, sizeof *per);
        if (per) {
            herd__tcpsrv_per_worker(be, per);
            herd_report_spread(r, per, (size_t)workers);
            free(per);
        }
        int64_t fired = (int64_t)r->wakes;
        herd_report_extra(r, "queue_peak", (double)q_peak);
        herd_report_extra(r, "served", (double)r->useful);
        herd_report_extra(r, "served_after_queueing", (double)queued);
        herd_report_extra(r, "timeouts", (double)timeouts);
        herd_report_extra(r, "work_for_gone_clients", (double)L.wasted_work);
        herd_report_extra(r, "errors", (double)errors);
        herd_report_extra(r, "backend_work_us_measured",
                          herd__tcpsrv_work_ns_measured(be) / 1000.0);
        herd_report_extra(r, "spread_window_ms",
                          c.strategy == HERD_CRON_AT_BOUNDARY ? 0.0 : (double)c.window_ns / 1e6);
        herd_report_extra(r, "arrival_span_ms",
                          nev ? (double)span_sum_ns / (double)nev / 1e6 : 0.0);
        herd_report_extra(r, "fire_late_mean_us", fired ? late_sum / (double)fired / 1e3 : 0);
        herd_report_extra(r, "fire_late_max_us", (double)late_max / 1e3);
        herd_report_extra(r, "accept_backlog_peak", (double)kq_peak);
        herd_report_extra(r, "acceptor_boost", herd__tcpsrv_acceptor_boost(be));
        herd_report_extra(r, "settle_timeouts", (double)settle_timeouts);
        if (dropped)
            herd_report_extra(r, "untracked_requests", (double)dropped);
    }
    herd__tcpsrv_free(be);
    pthread_cond_destroy(&c.done);
    pthread_cond_destroy(&c.go);
    pthread_mutex_destroy(&c.mu);
    ledger_free(&L);
    free(boundary_mono);
    free(c.cl);
    return rc;
}

const struct herd_live_scenario herd__live_cron = {needs, run};
