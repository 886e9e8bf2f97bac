/* server.c — the HTTP side of herd serve, on libmicrohttpd.
 *
 * MHD parses HTTP; this file routes, collects POST bodies (incrementally, refused past
 * HERD_SERVER_BODY_MAX with 413 — early from Content-Length when there is one), checks
 * Host, Origin and Sec-Fetch-Site (a page on another site must not start herds on this
 * machine), and turns api.c's answers into responses. Every error is a 4xx/5xx with
 * {"error":"<one line>"}.
 *
 * Threads: MHD's thread per connection (bounded by CONNECTIONS_MAX), so a run blocks only
 * its own request. Live runs share the process-wide live backend (one stop flag, one run
 * at a time, live.h), hence the process-wide live_lock below rather than per-server state;
 * simulations share nothing and run side by side, at most HERD_SERVER_SIMS_MAX at once.
 * The SSE stream validates and takes the live lock before answering, so a refusal is a
 * real 409/400 status, then sends "started", runs the specs on a worker thread of its own
 * while the connection's thread sends progress (at most every 100 ms) and at last the
 * report; a client who leaves stops the run (see "SSE" below).
 *
 * Stopping: every run is watched (scenario/backend.h), so a stopping server or a client
 * gone stops it: a simulation within HERD_SIM_WATCH_EVERY units of work, a live run
 * within a few ms of waiting (its teardown then takes up to about a second). Either
 * answers 503 (or an "error" event), whatever its N.
 */
#include "server.h"

#include "api.h"
#include "assets.h"
#include "metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <herd/clock.h>
#include <herd/error.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../live/live.h"
#include "../sim/engine.h"

#define CONNECTIONS_MAX 64
#define IDLE_TIMEOUT_S 60
#define RETRY_AFTER_MAX_S 60
/* How long stopping waits for requests in flight to send their answers (an interrupted
 * live run tears down within about a second) before closing their connections. */
#define DRAIN_MAX_MS 5000

struct herd_server {
    struct MHD_Daemon *d;
    unsigned port;
    bool loopback; /* bound to 127.0.0.0/8: only loopback Host names are accepted */
    bool log;
    struct herd_profile prof;
    char prof_path[4096]; /* where prof came from ("" the built-in figures); as the CLI's */
    char *catalogue; /* GET /api/scenarios, computed once (live_max_n bisects limits) */
    size_t catalogue_len;
    struct herd_metrics metrics;
    pthread_mutex_t mu; /* guards the three fields below */
    bool stopping;
    int sims;     /* simulations running */
    int inflight; /* requests begun and not completed (their response not yet sent) */
};

/* The live backend is one per process (live.h): so is its lock. */
static struct {
    pthread_mutex_t mu;
    const struct herd_server *owner; /* the server whose request runs live; NULL: idle */
    int64_t started_ns;              /* when that run began */
    int64_t last_ns;                 /* how long the previous live request took; 0: none */
} live_lock = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0};

/* One request's state, from MHD's first call to its completion callback. */
struct request {
    char *body;
    size_t len, cap;
    bool too_large; /* the body passed the cap: dropped, 413 at the end */
    unsigned code;  /* status sent, for the log line */
    int64_t t0;
    char what[96]; /* "POST /api/run", for the log line */
};

/* ---- responses ----------------------------------------------------------------------- */

static enum MHD_Result send_response(struct herd_server *s, struct MHD_Connection *c,
                                     struct request *req, unsigned code, struct MHD_Response *resp)
{
    if (!resp)
        return MHD_NO; /* out of memory: MHD closes the connection */
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ok = MHD_queue_response(c, code, resp);
    MHD_destroy_response(resp);
    if (ok == MHD_YES) {
        req->code = code;
        herd__metrics_http(&s->metrics, code);
    }
    return ok;
}

/* @p text is malloc'd and consumed. */
static enum MHD_Result send_json(struct herd_server *s, struct MHD_Connection *c,
                                 struct request *req, unsigned code, char *text)
{
    if (!text)
        return MHD_NO;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    return send_response(s, c, req, code, r);
}

static enum MHD_Result send_error(struct herd_server *s, struct MHD_Connection *c,
                                  struct request *req, unsigned code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static enum MHD_Result send_error(struct herd_server *s, struct MHD_Connection *c,
                                  struct request *req, unsigned code, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return send_json(s, c, req, code, herd__api_error_json(msg));
}

/* A refusal to come back later: 409 (a live run is going) or 503 (busy, stopping). */
static enum MHD_Result send_retry(struct herd_server *s, struct MHD_Connection *c,
                                  struct request *req, unsigned code, unsigned retry_s,
                                  const char *msg)
{
    char *text = herd__api_error_json(msg), secs[16];
    if (!text)
        return MHD_NO;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    snprintf(secs, sizeof secs, "%u", retry_s);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, secs);
    return send_response(s, c, req, code, r);
}

static enum MHD_Result send_static(struct herd_server *s, struct MHD_Connection *c,
                                   struct request *req, const void *data, size_t len,
                                   const char *mime, const char *cache)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, mime);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
    return send_response(s, c, req, 200, r);
}

static enum MHD_Result send_405(struct herd_server *s, struct MHD_Connection *c,
                                struct request *req, const char *method, const char *url,
                                const char *allow)
{
    char msg[256];
    snprintf(msg, sizeof msg, "method %.16s is not allowed on %.64s; allowed: %s", method, url,
             allow);
    char *text = herd__api_error_json(msg);
    struct MHD_Response *r =
        text ? MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    return send_response(s, c, req, 405, r);
}

/* ---- running ------------------------------------------------------------------------ */

/* What took a run's slot: released exactly once by release(). */
struct slot {
    bool live, held;
};

/*
 * Take the slot @p run needs: the process's live lock, or one of the simulation slots.
 * @return 0, or the status of a refusal (409/503) with the seconds to wait in *retry_s.
 */
static unsigned acquire(struct herd_server *s, const struct herd_api_run *run, struct slot *slot,
                        unsigned *retry_s, const char **why)
{
    unsigned code = 0;
    *slot = (struct slot){.live = run->live};
    *retry_s = 1;
    pthread_mutex_lock(&s->mu);
    bool stopping = s->stopping;
    pthread_mutex_unlock(&s->mu);
    if (stopping) {
        *why = "the server is stopping";
        return 503;
    }
    if (run->live) {
        int64_t now = herd_clock_monotonic_ns();
        pthread_mutex_lock(&live_lock.mu);
        if (live_lock.owner) {
            /* Guess the rest of the run from the previous one's length; at least 1 s. */
            int64_t left = live_lock.last_ns - (now - live_lock.started_ns);
            int64_t secs = (left + 999999999) / 1000000000;
            *retry_s = (unsigned)(secs < 1                   ? 1
                                  : secs > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S
                                                             : secs);
            *why = "another live run is going; live runs take turns (simulations do not)";
            code = 409;
        } else {
            live_lock.owner = s;
            live_lock.started_ns = now;
            slot->held = true;
        }
        pthread_mutex_unlock(&live_lock.mu);
        return code;
    }
    pthread_mutex_lock(&s->mu);
    if (s->sims >= HERD_SERVER_SIMS_MAX) {
        *why = "the simulator is busy with other requests";
        code = 503;
    } else {
        s->sims++;
        slot->held = true;
    }
    pthread_mutex_unlock(&s->mu);
    return code;
}

static void release(struct herd_server *s, struct slot *slot)
{
    if (!slot->held)
        return;
    slot->held = false;
    if (slot->live) {
        pthread_mutex_lock(&live_lock.mu);
        live_lock.last_ns = herd_clock_monotonic_ns() - live_lock.started_ns;
        live_lock.owner = NULL;
        pthread_mutex_unlock(&live_lock.mu);
    } else {
        pthread_mutex_lock(&s->mu);
        s->sims--;
        pthread_mutex_unlock(&s->mu);
    }
}

/* ---- watching a run ------------------------------------------------------------------ */

/* Progress goes out at most this often, however often the simulator reports it... */
#define PROGRESS_EVERY_NS (100 * HERD_NS_PER_MS)
/* ...and a stream with nothing new sends an SSE comment this often, so that a client who
 * left is noticed during a long live run too: only a write tells (a client may half-close
 * after its request and still read), and the second write after the close is the one
 * that fails, so this is about half the delay before a live run is stopped. 15 bytes 4
 * times a second is nothing next to the run. */
#define KEEPALIVE_NS (250 * HERD_NS_PER_MS)

struct stream;

/* Who may stop a run and who hears of its progress: the server (stopping), and for the
 * SSE stream the stream (progress, the client leaving). Lives on the running thread. */
struct watcher {
    struct herd_server *s;
    struct stream *st; /* NULL: POST /api/run, which shows no progress */
};

static bool server_stopping(struct herd_server *s)
{
    pthread_mutex_lock(&s->mu);
    bool stopping = s->stopping;
    pthread_mutex_unlock(&s->mu);
    return stopping;
}

static bool watch_stop(struct watcher *w, char *why, size_t len);
static void watch_repeat(void *ctx, size_t i, int rep, int reps);
static void watch_end(struct watcher *w, size_t i);
static bool watch_poll(void *ctx, int64_t sim_ns, uint64_t events);

/*
 * Run every spec of @p run (its slot held) and count each finished run in the metrics;
 * @p w hears of each run and may stop them through its watch. @return 200 with {"runs":[...]} in *out, or an error status with one line in
 * @p err (503 when stopped).
 */
static unsigned run_all(struct herd_server *s, const struct herd_api_run *run, struct watcher *w,
                        char **out, char *err, size_t errlen)
{
    struct herd_report reports[HERD_API_MAX_RUNS];
    struct herd_report *ptrs[HERD_API_MAX_RUNS] = {NULL};
    struct herd_watch sw = {.poll = watch_poll, .ctx = w};
    size_t done = 0;
    unsigned code = 200;
    *out = NULL;
    for (size_t i = 0; i < run->nspecs; i++) {
        const struct herd_run_spec *spec = &run->jobs[i].spec;
        char why[512];
        int rc = -HERD_EINTR;
        /* A stop between two runs must not start the next one. */
        if (!watch_stop(w, why, sizeof why))
            rc = herd__api_run_one(run, i, &s->prof, s->prof_path[0] ? s->prof_path : NULL, &sw,
                                   watch_repeat, w, &reports[i], why, sizeof why);
        if (rc < 0) {
            snprintf(err, errlen, "%s %s: %s", spec->sc->name, herd_spec_strategy(spec), why);
            code = herd__api_run_status(rc);
            break;
        }
        herd__metrics_run(&s->metrics, &reports[i]);
        ptrs[done++] = &reports[i];
        watch_end(w, i);
    }
    if (code == 200) {
        *out = herd__api_reports_json(ptrs, done);
        if (!*out) {
            snprintf(err, errlen, "out of memory writing the report");
            code = 500;
        }
    }
    for (size_t i = 0; i < done; i++)
        herd_report_fini(&reports[i]);
    return code;
}

/* ---- SSE: GET /api/run/stream ------------------------------------------------------- */

/*
 * The run goes on a worker thread of its own (stream_work) while the connection's thread
 * waits in stream_read for something to send: the worker (at each repeat of each spec)
 * and the simulator's poll publish under mu and signal cv; stream_read sends the latest
 * state at most every PROGRESS_EVERY_NS (states in between are coalesced, never queued)
 * and the end at once. stream_free (MHD's, when the response is done with, also when the
 * client left early) sets gone, which stops the run, and joins the worker: nothing
 * outlives the response. Lock order: st->mu before live_lock.mu and s->mu (release() runs
 * under st->mu); no path takes st->mu while holding either.
 */
enum stream_phase { PH_START, PH_RUN, PH_END };

struct stream {
    struct herd_server *s;
    struct herd_api_run run; /* read-only once the worker starts */
    struct slot slot;        /* given back by the worker when it ends, else by stream_free */
    pthread_t worker;
    bool worker_started; /* the connection thread's; stream_free joins when set */

    pthread_mutex_t mu; /* guards everything down to `gone` */
    pthread_cond_t cv;  /* broadcast at each change below; CLOCK_MONOTONIC timeouts */
    uint64_t seq;       /* bumped at each change worth sending */
    size_t spec_no;     /* the spec going, 1-based (0: none began yet) */
    int rep;            /* its repeat going, 1-based */
    /* Each spec's repeats as known so far (the simulator's default grows after its first
     * run: HERD_SIM_AUTO_*), and the trigger events of the repeats finished. */
    int reps[HERD_API_MAX_RUNS];
    int64_t done_events;
    uint64_t events; /* the simulator's events so far in the repeat going (0 on live) */
    int64_t sim_ns;  /* and its simulated time */
    bool finished;   /* the worker ended and gave its turn back: code, json, err final */
    unsigned code;
    char *json;    /* code 200: {"runs":[...]}; owned */
    char err[600]; /* else the one-line reason */
    bool gone;     /* stream_free began: stop the run, nobody will read it */

    /* The connection thread's own. */
    enum stream_phase phase;
    uint64_t sent_seq; /* the state last sent */
    int64_t sent_ns;   /* when an event or a comment was last sent */
    char *buf;         /* the text being sent */
    size_t len, off;
};

static bool watch_stop(struct watcher *w, char *why, size_t len)
{
    if (server_stopping(w->s)) {
        snprintf(why, len, "interrupted: the server is stopping");
        return true;
    }
    if (w->st) {
        pthread_mutex_lock(&w->st->mu);
        bool gone = w->st->gone;
        pthread_mutex_unlock(&w->st->mu);
        if (gone) {
            snprintf(why, len, "interrupted: the client went away");
            return true;
        }
    }
    return false;
}

/* st->mu held. */
static void publish(struct stream *st)
{
    st->seq++;
    pthread_cond_broadcast(&st->cv);
}

/* The runner's word before repeat @p rep of @p reps of spec @p i (api.h): the repeat
 * before it, if any, has finished. */
static void watch_repeat(void *ctx, size_t i, int rep, int reps)
{
    struct stream *st = ((struct watcher *)ctx)->st;
    if (!st)
        return;
    pthread_mutex_lock(&st->mu);
    if (rep > 1)
        st->done_events += st->run.jobs[i].spec.events;
    st->spec_no = i + 1;
    st->rep = rep;
    st->reps[i] = reps;
    st->events = 0;
    st->sim_ns = 0;
    publish(st);
    pthread_mutex_unlock(&st->mu);
}

/* Spec @p i's last repeat finished. */
static void watch_end(struct watcher *w, size_t i)
{
    struct stream *st = w->st;
    if (!st)
        return;
    pthread_mutex_lock(&st->mu);
    st->done_events += st->run.jobs[i].spec.events;
    /* The last run's end is the "done" event that follows (stream_work): a "running"
     * event with every run done would only race it. */
    if (i + 1 < st->run.nspecs)
        publish(st);
    pthread_mutex_unlock(&st->mu);
}

/* The simulator's poll (sim/engine.h), every HERD_SIM_WATCH_EVERY units of work (some ms): two
 * uncontended locks and no allocation, nothing next to the events in between. */
static bool watch_poll(void *ctx, int64_t sim_ns, uint64_t events)
{
    struct watcher *w = ctx;
    bool stop = server_stopping(w->s);
    struct stream *st = w->st;
    if (st) {
        pthread_mutex_lock(&st->mu);
        st->events = events;
        st->sim_ns = sim_ns;
        publish(st);
        stop = stop || st->gone;
        pthread_mutex_unlock(&st->mu);
    }
    return stop;
}

static void *stream_work(void *arg)
{
    struct stream *st = arg;
    struct watcher w = {.s = st->s, .st = st};
    char err[sizeof st->err], *json = NULL;
    unsigned code = run_all(st->s, &st->run, &w, &json, err, sizeof err);
    pthread_mutex_lock(&st->mu);
    /* The turn goes back in the same step as `finished` is set, so stream_free, which
     * interrupts the live backend only while !finished, never stops another's run. */
    release(st->s, &st->slot);
    st->finished = true;
    st->code = code;
    st->json = json;
    snprintf(st->err, sizeof st->err, "%s", code == 200 ? "" : err);
    publish(st);
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

static char *event(const char *name, const char *data)
{
    size_t n = strlen(name) + strlen(data) + 32;
    char *e = malloc(n);
    if (e)
        snprintf(e, n, "event: %s\ndata: %s\n\n", name, data);
    return e;
}

/* "event: progress" of the done phase, then "event: report", in one buffer. */
static char *final_events(const char *progress, const char *json)
{
    char *p = event("progress", progress), *r = event("report", json), *both = NULL;
    if (p && r) {
        size_t lp = strlen(p), lr = strlen(r);
        both = malloc(lp + lr + 1);
        if (both) {
            memcpy(both, p, lp);
            memcpy(both + lp, r, lr + 1);
        }
    }
    free(p);
    free(r);
    return both;
}

/* "runs" counts every repeat of every spec, as known so far; "done" and "of" count their
 * trigger events, as the page's progress bar shows them. st->mu held (or no worker yet). */
static size_t runs_of(const struct stream *st)
{
    size_t n = 0;
    for (size_t i = 0; i < st->run.nspecs; i++)
        n += (size_t)st->reps[i];
    return n;
}

static long long events_of(const struct stream *st)
{
    long long n = 0;
    for (size_t i = 0; i < st->run.nspecs; i++)
        n += (long long)st->run.jobs[i].spec.events * st->reps[i];
    return n;
}

/* The repeat going, 1-based among runs_of(): the specs before it, then its own. */
static size_t run_index(const struct stream *st)
{
    size_t n = (size_t)st->rep;
    for (size_t i = 0; i + 1 < st->spec_no; i++)
        n += (size_t)st->reps[i];
    return n;
}

/*
 * Wait for what to send next and return it as malloc'd text (NULL: out of memory),
 * setting st->phase to PH_END with the last of it. Blocks the connection's thread only.
 */
static char *stream_next(struct stream *st)
{
    char data[640], *text = NULL;
    pthread_mutex_lock(&st->mu);
    for (;;) {
        int64_t now = herd_clock_monotonic_ns();
        if (st->finished)
            break;
        bool news = st->seq != st->sent_seq;
        if (news && now - st->sent_ns >= PROGRESS_EVERY_NS)
            break;
        if (!news && now - st->sent_ns >= KEEPALIVE_NS) {
            st->sent_ns = now;
            pthread_mutex_unlock(&st->mu);
            return strdup(": keep-alive\n\n");
        }
        struct timespec due =
            herd_clock_timespec(st->sent_ns + (news ? PROGRESS_EVERY_NS : KEEPALIVE_NS));
        pthread_cond_timedwait(&st->cv, &st->mu, &due);
    }
    st->sent_ns = herd_clock_monotonic_ns();
    st->sent_seq = st->seq;
    long long of = events_of(st);
    if (st->finished) {
        st->phase = PH_END;
        if (st->code == 200) {
            snprintf(data, sizeof data,
                     "{\"phase\":\"done\",\"done\":%lld,\"of\":%lld,\"runs\":%zu}", of, of,
                     runs_of(st));
            text = final_events(data, st->json);
        } else {
            char *e = herd__api_error_json(st->err);
            text = e ? event("error", e) : NULL;
            free(e);
        }
    } else {
        const struct herd_run_spec *spec = &st->run.jobs[st->spec_no - 1].spec;
        snprintf(data, sizeof data,
                 "{\"phase\":\"running\",\"done\":%lld,\"of\":%lld,\"run\":%zu,\"runs\":%zu,"
                 "\"repeat\":%d,\"repeats\":%d,\"backend\":\"%s\",\"mode\":\"%s\","
                 "\"strategy\":\"%s\",\"events\":%" PRIu64 ",\"sim_ns\":%" PRId64 "}",
                 (long long)st->done_events, of, run_index(st), runs_of(st), st->rep,
                 st->reps[st->spec_no - 1], st->run.live ? "live" : "sim",
                 herd_spec_mode_name(spec), herd_spec_strategy(spec), st->events, st->sim_ns);
        text = event("progress", data);
    }
    pthread_mutex_unlock(&st->mu);
    return text;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *st = cls;
    (void)pos;
    if (st->off == st->len) {
        free(st->buf);
        st->buf = NULL;
        st->len = st->off = 0;
        switch (st->phase) {
        case PH_START: {
            char data[128];
            /* Before the worker starts: after, reps is its to change under mu. */
            snprintf(data, sizeof data,
                     "{\"phase\":\"started\",\"done\":0,\"of\":%lld,\"runs\":%zu}", events_of(st),
                     runs_of(st));
            int e = pthread_create(&st->worker, NULL, stream_work, st);
            if (e != 0) {
                char msg[128], *j;
                snprintf(msg, sizeof msg, "cannot start the run: %s", strerror(e));
                j = herd__api_error_json(msg);
                st->buf = j ? event("error", j) : NULL;
                free(j);
                st->phase = PH_END;
                break;
            }
            st->worker_started = true;
            st->buf = event("progress", data);
            st->sent_ns = herd_clock_monotonic_ns();
            st->phase = PH_RUN;
            break;
        }
        case PH_RUN:
            st->buf = stream_next(st);
            break;
        case PH_END:
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        if (!st->buf)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        st->len = strlen(st->buf);
    }
    size_t n = st->len - st->off < max ? st->len - st->off : max;
    memcpy(buf, st->buf + st->off, n);
    st->off += n;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct stream *st = cls;
    pthread_mutex_lock(&st->mu);
    st->gone = true; /* the run's next poll of its watch stops it, live or simulated */
    pthread_mutex_unlock(&st->mu);
    if (st->worker_started)
        pthread_join(st->worker, NULL);
    release(st->s, &st->slot); /* the worker never ran: the turn serve_stream took */
    free(st->json);
    free(st->buf);
    pthread_cond_destroy(&st->cv);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

/* The lock and condition variable of @p st. @return 0 or a negated errno. */
static int stream_init_sync(struct stream *st)
{
    pthread_condattr_t ca;
    int e = pthread_condattr_init(&ca);
    if (e)
        return -e;
    /* Timeouts on CLOCK_MONOTONIC, the clock of herd_clock_monotonic_ns: a step of the
     * wall clock can neither stall nor flood the stream. */
    if ((e = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC)) == 0 &&
        (e = pthread_cond_init(&st->cv, &ca)) == 0 && (e = pthread_mutex_init(&st->mu, NULL)) != 0)
        pthread_cond_destroy(&st->cv);
    pthread_condattr_destroy(&ca);
    return -e;
}

struct query {
    json_t *obj, *params;
    bool bad;
};

static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    struct query *q = cls;
    (void)kind;
    json_t *v = json_string(value ? value : "");
    if (!v) { /* not UTF-8 */
        q->bad = true;
        return MHD_NO;
    }
    if (strncmp(key, "p.", 2) == 0)
        json_object_set_new(q->params, key + 2, v);
    else
        json_object_set_new(q->obj, key, v);
    return MHD_YES;
}

static enum MHD_Result serve_stream(struct herd_server *s, struct MHD_Connection *c,
                                    struct request *req)
{
    struct query q = {json_object(), json_object(), false};
    struct herd_api_run run;
    char err[600];
    enum MHD_Result ok;
    if (!q.obj || !q.params) {
        ok = MHD_NO;
        goto out;
    }
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_arg, &q);
    if (q.bad) {
        ok = send_error(s, c, req, 400, "query: parameters must be UTF-8 text");
        goto out;
    }
    if (json_object_size(q.params))
        json_object_set(q.obj, "params", q.params);
    if (herd__api_parse_run(q.obj, &run, err, sizeof err) < 0) {
        ok = send_error(s, c, req, 400, "%s", err);
        goto out;
    }
    /* A GET starts this run, and any page can make a browser send a GET: few repeats. */
    if (run.runs > HERD_API_STREAM_RUNS_MAX) {
        ok = send_error(s, c, req, 400,
                        "runs: %d is more than the stream runs (at most %d); POST /api/run "
                        "takes up to %d",
                        run.runs, HERD_API_STREAM_RUNS_MAX, HERD_RUNS_MAX);
        goto out;
    }
    struct stream *st = calloc(1, sizeof *st);
    if (!st) {
        ok = MHD_NO;
        goto out;
    }
    *st = (struct stream){.s = s, .run = run, .phase = PH_START};
    for (size_t i = 0; i < run.nspecs; i++)
        st->reps[i] = herd__api_runs(&run, i);
    unsigned retry_s;
    const char *why = "";
    unsigned code = acquire(s, &run, &st->slot, &retry_s, &why);
    if (code) {
        free(st);
        ok = send_retry(s, c, req, code, retry_s, why);
        goto out;
    }
    if (stream_init_sync(st) < 0) {
        release(s, &st->slot);
        free(st);
        ok = MHD_NO;
        goto out;
    }
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, st, stream_free);
    if (!r) {
        stream_free(st);
        ok = MHD_NO;
        goto out;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    ok = send_response(s, c, req, 200, r);
out:
    json_decref(q.params);
    json_decref(q.obj);
    return ok;
}

/* ---- POST /api/run ------------------------------------------------------------------ */

static enum MHD_Result serve_run(struct herd_server *s, struct MHD_Connection *c,
                                 struct request *req)
{
    json_error_t jerr;
    struct herd_api_run run;
    struct slot slot;
    char err[600], *out = NULL;
    unsigned retry_s;
    const char *why = "";

    if (req->too_large)
        return send_error(s, c, req, 413, "request body over %d bytes", HERD_SERVER_BODY_MAX);
    if (req->len == 0)
        return send_error(s, c, req, 400,
                          "empty body; expected a JSON object such as {\"scenario\":\"accept\"}");
    json_t *body = json_loadb(req->body, req->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!body)
        return send_error(s, c, req, 400, "bad JSON at line %d column %d: %s", jerr.line,
                          jerr.column, jerr.text);
    int rc = herd__api_parse_run(body, &run, err, sizeof err);
    json_decref(body);
    if (rc < 0)
        return send_error(s, c, req, 400, "%s", err);
    unsigned code = acquire(s, &run, &slot, &retry_s, &why);
    if (code)
        return send_retry(s, c, req, code, retry_s, why);
    /* The run blocks this connection's thread only; a stopping server stops it (503). */
    struct watcher w = {.s = s, .st = NULL};
    code = run_all(s, &run, &w, &out, err, sizeof err);
    release(s, &slot);
    if (code != 200)
        return send_error(s, c, req, code, "%s", err);
    return send_json(s, c, req, 200, out);
}

/* ---- Host and Origin ---------------------------------------------------------------- */

/* Is @p host ("127.0.0.1:8080", "localhost:8080", "[::1]:8080") a loopback name with our
 * port? A page on another site that resolves its own name to 127.0.0.1 (DNS rebinding)
 * sends its own name here, and is refused. */
static bool loopback_host(const char *host, unsigned port)
{
    static const char *const names[] = {"127.0.0.1", "localhost", "[::1]", NULL};
    for (int i = 0; names[i]; i++) {
        size_t n = strlen(names[i]);
        if (strncmp(host, names[i], n) != 0)
            continue;
        if (host[n] == '\0')
            return port == 80;
        if (host[n] == ':') {
            char *end;
            unsigned long p = strtoul(host + n + 1, &end, 10);
            return *end == '\0' && p == port;
        }
    }
    return false;
}

/* A browser sends Origin on cross-site POSTs (which need no preflight with a text/plain
 * body): its host:port must be the Host this request was sent to. */
static bool same_origin(const char *origin, const char *host)
{
    const char *p = strstr(origin, "://");
    return p && strcmp(p + 3, host) == 0;
}

/* A browser's GET from another site's page (an <img>, a no-cors fetch) carries no Origin,
 * but it does say where it came from (Fetch Metadata): runs start only from this server's
 * own page ("same-origin") or a URL the user opened ("none"). Clients that are not
 * browsers send no Sec-Fetch-Site and are let through, as before. */
static bool from_elsewhere(struct MHD_Connection *c)
{
    const char *site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
    return site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0;
}

/* ---- routing ------------------------------------------------------------------------ */

static bool is(const char *method, const char *m)
{
    return strcmp(method, m) == 0;
}

static enum MHD_Result route(struct herd_server *s, struct MHD_Connection *c, struct request *req,
                             const char *url, const char *method)
{
    bool get = is(method, MHD_HTTP_METHOD_GET) || is(method, MHD_HTTP_METHOD_HEAD);
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");

    if (s->loopback && (!host || !loopback_host(host, s->port)))
        return send_error(s, c, req, 403,
                          "Host '%.64s' is not this server; open http://127.0.0.1:%u/",
                          host ? host : "", s->port);
    if (origin && strcmp(origin, "null") != 0 && (!host || !same_origin(origin, host)))
        return send_error(s, c, req, 403, "requests from %.64s are not allowed", origin);
    if ((strcmp(url, "/api/run") == 0 || strcmp(url, "/api/run/stream") == 0) && from_elsewhere(c))
        return send_error(s, c, req, 403,
                          "runs start only from this server's own page, not from another "
                          "site's (Sec-Fetch-Site: %.32s)",
                          MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site"));

    if (strcmp(url, "/api/run") == 0) {
        if (!is(method, MHD_HTTP_METHOD_POST))
            return send_405(s, c, req, method, url, "POST");
        return serve_run(s, c, req);
    }
    if (strcmp(url, "/api/run/stream") == 0) {
        /* Not HEAD: it would take a run's turn (a live one, 409 for others) for nothing. */
        if (!is(method, MHD_HTTP_METHOD_GET))
            return send_405(s, c, req, method, url, "GET");
        return serve_stream(s, c, req);
    }
    if (strcmp(url, "/api/scenarios") == 0) {
        if (!get)
            return send_405(s, c, req, method, url, "GET, HEAD");
        return send_static(s, c, req, s->catalogue, s->catalogue_len, "application/json",
                           "no-cache");
    }
    if (strcmp(url, "/metrics") == 0) {
        if (!get)
            return send_405(s, c, req, method, url, "GET, HEAD");
        size_t len;
        char *text = herd__metrics_render(&s->metrics, &len);
        struct MHD_Response *r =
            text ? MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE) : NULL;
        if (!r) {
            free(text);
            return MHD_NO;
        }
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                "text/plain; version=0.0.4; charset=utf-8");
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        return send_response(s, c, req, 200, r);
    }
    if (strncmp(url, "/api/", 5) == 0 || strcmp(url, "/api") == 0)
        return send_error(s, c, req, 404,
                          "no API at %.64s; see /api/scenarios, /api/run, /api/run/stream", url);
    const struct herd_asset *a = herd_web_asset(url);
    if (!a)
        return send_error(s, c, req, 404, "no page at %.64s", url);
    if (!get)
        return send_405(s, c, req, method, url, "GET, HEAD");
    return send_static(s, c, req, a->data, a->len, a->mime, "no-cache");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct herd_server *s = cls;
    struct request *req = *con_cls;
    (void)version;

    if (!req) {
        /* First call: headers only. Refuse a declared oversize body before reading it. */
        req = calloc(1, sizeof *req);
        if (!req)
            return MHD_NO;
        req->t0 = herd_clock_monotonic_ns();
        snprintf(req->what, sizeof req->what, "%.16s %.70s", method, url);
        *con_cls = req;
        pthread_mutex_lock(&s->mu);
        s->inflight++;
        pthread_mutex_unlock(&s->mu);
        if (!is(method, MHD_HTTP_METHOD_POST) && !is(method, MHD_HTTP_METHOD_PUT))
            return route(s, c, req, url, method);
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > HERD_SERVER_BODY_MAX) {
            req->too_large = true;
            return send_error(s, c, req, 413, "request body over %d bytes", HERD_SERVER_BODY_MAX);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (req->too_large || req->len + n > HERD_SERVER_BODY_MAX) {
            /* Chunked or lying about its length: drop the rest, answer 413 at the end. */
            req->too_large = true;
            free(req->body);
            req->body = NULL;
            req->len = 0;
            return MHD_YES;
        }
        if (req->len + n > req->cap) {
            size_t cap = req->cap ? req->cap : 4096;
            while (cap < req->len + n)
                cap *= 2;
            char *b = realloc(req->body, cap);
            if (!b)
                return MHD_NO;
            req->body = b;
            req->cap = cap;
        }
        memcpy(req->body + req->len, upload_data, n);
        req->len += n;
        return MHD_YES;
    }
    if (req->code)
        return MHD_YES; /* answered already (an early 413) */
    return route(s, c, req, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
    struct herd_server *s = cls;
    struct request *req = *con_cls;
    (void)why;
    if (!req)
        return;
    (void)c;
    if (s->log && req->code)
        fprintf(stderr, "herd: %s %u %.1f ms\n", req->what, req->code,
                (double)(herd_clock_monotonic_ns() - req->t0) / 1e6);
    free(req->body);
    free(req);
    *con_cls = NULL;
    pthread_mutex_lock(&s->mu);
    s->inflight--;
    pthread_mutex_unlock(&s->mu);
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
    struct herd_server *s = cls;
    if (!s->log)
        return;
    fputs("herd: http: ", stderr);
    vfprintf(stderr, fmt, ap);
}

/* ---- start / stop ------------------------------------------------------------------- */

static int listen_on(const char *host, unsigned port, int *fd_out, unsigned *port_out, char *err,
                     size_t errlen)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    socklen_t salen = sizeof sa;
    int one = 1, rc;
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        snprintf(err, errlen, "'%s' is not an IPv4 address", host);
        return -HERD_EINVAL;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return rc;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &salen) != 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot listen on %s:%u: %s", host, port, strerror(errno));
        close(fd);
        return rc;
    }
    *fd_out = fd;
    *port_out = ntohs(sa.sin_port);
    return 0;
}

int herd_server_start(const struct herd_server_config *cfg, struct herd_server **out, char *err,
                      size_t errlen)
{
    const char *host = cfg->host ? cfg->host : "127.0.0.1";
    int fd = -1, rc;
    struct herd_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -HERD_ENOMEM;
    }
    s->log = cfg->log;
    s->loopback = strncmp(host, "127.", 4) == 0;
    if (cfg->profile)
        s->prof = *cfg->profile;
    else
        herd_profile_defaults(&s->prof);
    snprintf(s->prof_path, sizeof s->prof_path, "%s", cfg->profile_path ? cfg->profile_path : "");
    pthread_mutex_init(&s->mu, NULL);
    if ((rc = herd__metrics_init(&s->metrics)) < 0) {
        snprintf(err, errlen, "out of memory");
        goto fail_mu;
    }
    s->catalogue = herd__api_catalogue();
    if (!s->catalogue) {
        rc = -HERD_ENOMEM;
        snprintf(err, errlen, "out of memory building the catalogue");
        goto fail_metrics;
    }
    s->catalogue_len = strlen(s->catalogue);
    if ((rc = listen_on(host, cfg->port, &fd, &s->port, err, errlen)) < 0)
        goto fail_catalogue;
    /* The daemon owns fd from here: MHD_stop_daemon closes it. */
    s->d = MHD_start_daemon(MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD |
                                MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC | MHD_USE_ERROR_LOG,
                            0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_log, s,
                            MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
                            (unsigned)CONNECTIONS_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned)IDLE_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_END);
    if (!s->d) {
        rc = -HERD_EINVAL;
        snprintf(err, errlen, "libmicrohttpd could not start a daemon on %s:%u", host, s->port);
        close(fd);
        goto fail_catalogue;
    }
    *out = s;
    return 0;

fail_catalogue:
    free(s->catalogue);
fail_metrics:
    herd__metrics_fini(&s->metrics);
fail_mu:
    pthread_mutex_destroy(&s->mu);
    free(s);
    return rc;
}

unsigned herd_server_port(const struct herd_server *s)
{
    return s->port;
}

void herd_server_stop(struct herd_server *s)
{
    /* New runs are refused from here; a live run of ours is asked to stop (it tears down
     * within about a second, live.h) and its request answers 503. */
    pthread_mutex_lock(&s->mu);
    s->stopping = true; /* every run's watch polls it: live and simulated runs stop */
    pthread_mutex_unlock(&s->mu);
    /* Stop accepting, let the requests in flight answer (the interrupted runs' 503s and
     * error events included: each simulation's poll sees `stopping` within some ms), then
     * close every connection and join every thread. */
    MHD_socket lfd = MHD_quiesce_daemon(s->d);
    for (int waited = 0; waited < DRAIN_MAX_MS; waited += 10) {
        pthread_mutex_lock(&s->mu);
        int inflight = s->inflight;
        pthread_mutex_unlock(&s->mu);
        if (inflight == 0)
            break;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(s->d);
    if (lfd != MHD_INVALID_SOCKET)
        close(lfd); /* quiesced: ours to close */
    free(s->catalogue);
    herd__metrics_fini(&s->metrics);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
