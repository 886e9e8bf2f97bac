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
#include "gate.h"
#include "guide.h"
#include "metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <herd/clock.h>
#include <herd/error.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../front/lesson.h"
#include "../front/picture.h"
#include "../live/live.h"
#include "../sim/engine.h"

/* Connections served at once (a thread each), all addresses; and waiting at the gate. */
#define CONNECTIONS_MAX 128
#define PENDING_MAX 512
#define HEADER_BYTES_MAX 8192
/* How long a response may wait for its client to read (a write-inactivity timeout). */
#define IDLE_TIMEOUT_S 30
/* A POST run looks at its client's socket at most this often (the leaving client). */
#define CLIENT_CHECK_NS (100 * HERD_NS_PER_MS)
/* Host names this server answers to, beyond the loopback ones. */
#define HOSTS_MAX 64
#define RETRY_AFTER_MAX_S 60
/* How long stopping waits for requests in flight to send their answers (an interrupted
 * live run tears down within about a second) before closing their connections. */
#define DRAIN_MAX_MS 5000

struct herd_server {
    struct MHD_Daemon *d;
    struct herd_gate *gate; /* owns the listening socket; per-address counts */
    unsigned port;
    bool log;
    char token[HERD_SERVER_TOKEN_MAX + 1]; /* "": none */
    /* The Host names answered (without port), and whether each takes any port (an
     * allowed name: a proxy in front may use its own) or only ours. */
    char *hosts[HOSTS_MAX];
    bool any_port[HOSTS_MAX];
    size_t nhosts;
    unsigned sims_per_ip;
    int64_t body_deadline_ns;
    uint64_t max_events;
    int64_t max_cpu_ns;
    struct herd_profile prof;
    char prof_path[4096]; /* where prof came from ("" the built-in figures); as the CLI's */
    char *catalogue;      /* GET /api/scenarios, computed once (live_max_n bisects limits) */
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
    bool too_large;  /* the body passed the cap: dropped, 413 at the end */
    bool set_cookie; /* the token came in the URL: give the page its cookie */
    unsigned code;   /* status sent, for the log line */
    uint32_t ip;     /* the client's address (network order) */
    int fd;          /* the client's socket, to see it leave during a POST run */
    int64_t t0;
    int64_t deadline_ns; /* the body must have arrived by then */
    char what[96];       /* "POST /api/run", for the log line */
};

/* ---- responses ----------------------------------------------------------------------- */

static enum MHD_Result send_response(struct herd_server *s, struct MHD_Connection *c,
                                     struct request *req, unsigned code, struct MHD_Response *resp)
{
    if (!resp)
        return MHD_NO; /* out of memory: MHD closes the connection */
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    /* Each request on a connection of its own, so that each passes the gate (gate.h). */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    if (req->set_cookie) {
        char cookie[HERD_SERVER_TOKEN_MAX + 64];
        snprintf(cookie, sizeof cookie, "herd_token=%s; Path=/; HttpOnly; SameSite=Strict",
                 s->token);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    }
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
    uint32_t ip; /* the client whose simulation turn it is */
};

/*
 * Take the slot @p run needs: the process's live lock, or one of the simulation slots and
 * one of client @p ip's turns. @return 0, or the status of a refusal (409/429/503) with
 * the seconds to wait in *retry_s.
 */
static unsigned acquire(struct herd_server *s, bool live, uint32_t ip, struct slot *slot,
                        unsigned *retry_s, char *why, size_t whylen)
{
    unsigned code = 0;
    *slot = (struct slot){.live = live, .ip = ip};
    *retry_s = 1;
    pthread_mutex_lock(&s->mu);
    bool stopping = s->stopping;
    pthread_mutex_unlock(&s->mu);
    if (stopping) {
        snprintf(why, whylen, "the server is stopping");
        return 503;
    }
    if (live) {
        int64_t now = herd_clock_monotonic_ns();
        pthread_mutex_lock(&live_lock.mu);
        if (live_lock.owner) {
            /* Guess the rest of the run from the previous one's length; at least 1 s. */
            int64_t left = live_lock.last_ns - (now - live_lock.started_ns);
            int64_t secs = (left + 999999999) / 1000000000;
            *retry_s = (unsigned)(secs < 1                   ? 1
                                  : secs > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S
                                                             : secs);
            snprintf(why, whylen,
                     "another live run is going; live runs take turns (simulations do not)");
            code = 409;
        } else {
            live_lock.owner = s;
            live_lock.started_ns = now;
            slot->held = true;
        }
        pthread_mutex_unlock(&live_lock.mu);
        return code;
    }
    /* One client's turns first: a client holding its share is told so (429), not that the
     * server is busy, and cannot take every slot from the others. */
    if (!herd__gate_sim_take(s->gate, ip, s->sims_per_ip)) {
        snprintf(why, whylen,
                 "this client address already runs %u simulation%s, as many as one client may "
                 "at once (herd serve --sims-per-client)",
                 s->sims_per_ip, s->sims_per_ip == 1 ? "" : "s");
        return 429;
    }
    pthread_mutex_lock(&s->mu);
    if (s->sims >= HERD_SERVER_SIMS_MAX) {
        snprintf(why, whylen, "the simulator is busy with other requests");
        code = 503;
    } else {
        s->sims++;
        slot->held = true;
    }
    pthread_mutex_unlock(&s->mu);
    if (code)
        herd__gate_sim_give(s->gate, ip);
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
        herd__gate_sim_give(s->gate, slot->ip);
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

/* Who may stop a run and who hears of its progress: the server (stopping), the run
 * ceilings, the client leaving (a POST's socket; the stream's failed write), and for the
 * SSE stream the stream (progress). Lives on the running thread. */
struct watcher {
    struct herd_server *s;
    struct stream *st; /* NULL: POST /api/run, which shows no progress */
    int fd;            /* POST /api/run: the client's socket, looked at for its end; else -1 */
    bool live;         /* the ceilings are the simulator's */
    /* The running thread's own: */
    int64_t cpu0_ns;        /* its CPU time when the request's runs began */
    int64_t checked_ns;     /* when fd was last looked at */
    uint64_t events_before; /* simulator events of the repeats finished */
    uint64_t events_now;    /* and of the one going */
    int why;                /* why it stopped: 0, or a WHY_* */
};

enum { WHY_GONE = 1, WHY_EVENTS, WHY_CPU };

static bool server_stopping(struct herd_server *s)
{
    pthread_mutex_lock(&s->mu);
    bool stopping = s->stopping;
    pthread_mutex_unlock(&s->mu);
    return stopping;
}

static bool watch_stop(struct watcher *w, char *why, size_t len);
static unsigned stopped_why(const struct watcher *w, char *why, size_t len);
static int64_t thread_cpu_ns(void);
static void watch_repeat(void *ctx, size_t i, int rep, int reps);
static void watch_end(struct watcher *w, size_t i);
static bool watch_poll(void *ctx, int64_t sim_ns, uint64_t events);

/*
 * Run every spec of @p run (its slot held) and count each finished run in the metrics;
 * @p w hears of each run and may stop them through its watch. @return 200 with {"runs":[...]} in
 * *out, or an error status with one line in
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
    w->live = run->live;
    w->cpu0_ns = thread_cpu_ns();
    for (size_t i = 0; i < run->nspecs; i++) {
        const struct herd_run_spec *spec = &run->jobs[i].spec;
        char why[512];
        int rc = -HERD_EINTR;
        /* A stop between two runs must not start the next one. */
        if (!watch_stop(w, why, sizeof why))
            rc = herd__api_run_one(run, i, &s->prof, s->prof_path[0] ? s->prof_path : NULL, &sw,
                                   watch_repeat, w, &reports[i], why, sizeof why);
        if (rc < 0) {
            code = herd__api_run_status(rc);
            if (rc == -HERD_EINTR && w->why)
                code = stopped_why(w, why, sizeof why);
            snprintf(err, errlen, "%s %s: %s", spec->sc->name, herd_spec_strategy(spec), why);
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

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * HERD_NS_PER_S + ts.tv_nsec;
}

/* Has the client of socket @p fd left? Its end of file (or a reset) says so; bytes it
 * sent after its request (a pipelined one) do not. Never blocks. */
static bool client_left(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, 0) <= 0)
        return false;
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* The reason and status of a run its watcher stopped (w->why set). */
static unsigned stopped_why(const struct watcher *w, char *why, size_t len)
{
    const struct herd_server *s = w->s;
    switch (w->why) {
    case WHY_EVENTS:
        snprintf(why, len,
                 "stopped at the server's ceiling of %" PRIu64 " simulator events per request "
                 "(herd serve --max-events); ask for fewer events, a smaller n or fewer runs",
                 s->max_events);
        return 422;
    case WHY_CPU:
        snprintf(why, len,
                 "stopped at the server's ceiling of %.0f CPU seconds per request (herd serve "
                 "--max-cpu); ask for fewer events, a smaller n or fewer runs",
                 (double)s->max_cpu_ns / 1e9);
        return 422;
    default:
        snprintf(why, len, "interrupted: the client went away");
        return 503;
    }
}

static bool watch_stop(struct watcher *w, char *why, size_t len)
{
    if (w->why) {
        stopped_why(w, why, len);
        return true;
    }
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
    struct watcher *w = ctx;
    struct stream *st = w->st;
    w->events_before += w->events_now;
    w->events_now = 0;
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
    if (!w->why && !w->live) {
        /* The ceilings: every repeat's events, and the CPU time of this thread, which runs
         * every repeat of the request (a simulation is single-threaded). */
        w->events_now = events;
        if (w->events_before + events > w->s->max_events)
            w->why = WHY_EVENTS;
        else if (thread_cpu_ns() - w->cpu0_ns > w->s->max_cpu_ns)
            w->why = WHY_CPU;
    }
    if (!w->why && w->fd >= 0) {
        int64_t now = herd_clock_monotonic_ns();
        if (now - w->checked_ns >= CLIENT_CHECK_NS) {
            w->checked_ns = now;
            if (client_left(w->fd))
                w->why = WHY_GONE;
        }
    }
    stop = stop || w->why;
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
    struct watcher w = {.s = st->s, .st = st, .fd = -1};
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
    herd__api_run_fini(&st->run);
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

/* The body of a POST that starts runs, as @p run. @return 0, or the status of a refusal
 * (400, 413) with one line in @p err. */
static unsigned body_run(const struct request *req, struct herd_api_run *run, char *err,
                         size_t errlen)
{
    json_error_t jerr;
    if (req->too_large) {
        snprintf(err, errlen, "request body over %d bytes", HERD_SERVER_BODY_MAX);
        return 413;
    }
    if (req->len == 0) {
        snprintf(err, errlen,
                 "empty body; expected a JSON object such as {\"scenario\":\"accept\"}");
        return 400;
    }
    json_t *body = json_loadb(req->body, req->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!body) {
        snprintf(err, errlen, "bad JSON at line %d column %d: %s", jerr.line, jerr.column,
                 jerr.text);
        return 400;
    }
    int rc = herd__api_parse_run(body, run, err, errlen);
    json_decref(body);
    return rc == -HERD_ELIMIT ? 413 : rc < 0 ? 400 : 0;
}

/* POST /api/run/stream: the body as POST /api/run takes it, the answer an event stream. */
static enum MHD_Result serve_stream(struct herd_server *s, struct MHD_Connection *c,
                                    struct request *req)
{
    struct herd_api_run run;
    char err[600];
    unsigned code = body_run(req, &run, err, sizeof err);
    if (code)
        return send_error(s, c, req, code, "%s", err);
    struct stream *st = calloc(1, sizeof *st);
    if (!st) {
        herd__api_run_fini(&run);
        return MHD_NO;
    }
    /* The run (and its scenario file) is the stream's from here: stream_free frees it. */
    *st = (struct stream){.s = s, .run = run, .phase = PH_START};
    for (size_t i = 0; i < run.nspecs; i++)
        st->reps[i] = herd__api_runs(&st->run, i);
    unsigned retry_s;
    code = acquire(s, st->run.live, req->ip, &st->slot, &retry_s, err, sizeof err);
    if (code) {
        herd__api_run_fini(&st->run);
        free(st);
        return send_retry(s, c, req, code, retry_s, err);
    }
    if (stream_init_sync(st) < 0) {
        release(s, &st->slot);
        herd__api_run_fini(&st->run);
        free(st);
        return MHD_NO;
    }
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, st, stream_free);
    if (!r) {
        stream_free(st);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    return send_response(s, c, req, 200, r);
}

/* ---- POST /api/run ------------------------------------------------------------------ */

static enum MHD_Result serve_run(struct herd_server *s, struct MHD_Connection *c,
                                 struct request *req)
{
    struct herd_api_run run;
    struct slot slot;
    char err[600], *out = NULL;
    unsigned retry_s;
    unsigned code = body_run(req, &run, err, sizeof err);
    if (code)
        return send_error(s, c, req, code, "%s", err);
    code = acquire(s, run.live, req->ip, &slot, &retry_s, err, sizeof err);
    if (code) {
        herd__api_run_fini(&run);
        return send_retry(s, c, req, code, retry_s, err);
    }
    /* The run blocks this connection's thread only; a stopping server, a client who
     * leaves or a ceiling stops it. */
    struct watcher w = {.s = s, .st = NULL, .fd = req->fd};
    code = run_all(s, &run, &w, &out, err, sizeof err);
    release(s, &slot);
    herd__api_run_fini(&run);
    if (code != 200)
        return send_error(s, c, req, code, "%s", err);
    return send_json(s, c, req, 200, out);
}

/* ---- POST /api/lesson, POST /api/picture (guide.h) --------------------------------- */

/* A lesson's runs or a picture's, on a simulation turn like any run (their size is the
 * shipped files' own: a few seconds at most). */
static enum MHD_Result serve_guide(struct herd_server *s, struct MHD_Connection *c,
                                   struct request *req, bool picture)
{
    struct herd_guide_request g;
    struct slot slot;
    char err[600];
    unsigned retry_s;
    if (req->too_large)
        return send_error(s, c, req, 413, "request body over %d bytes", HERD_SERVER_BODY_MAX);
    unsigned code = herd__guide_request(req->body, req->len, picture, &g, err, sizeof err);
    if (code)
        return send_error(s, c, req, code, "%s", err);
    code = acquire(s, false, req->ip, &slot, &retry_s, err, sizeof err);
    if (code)
        return send_retry(s, c, req, code, retry_s, err);
    if (picture) {
        size_t len;
        char *svg = herd_picture_svg(g.picture, g.seed, &len, err, sizeof err);
        release(s, &slot);
        if (!svg)
            return send_error(s, c, req, 500, "%s", err);
        struct MHD_Response *r = MHD_create_response_from_buffer(len, svg, MHD_RESPMEM_MUST_FREE);
        if (!r) {
            free(svg);
            return MHD_NO;
        }
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "image/svg+xml");
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        return send_response(s, c, req, 200, r);
    }
    json_t *o = herd_lesson_run(g.lesson, g.answer[0] ? g.answer : NULL, g.seed, err, sizeof err);
    release(s, &slot);
    if (!o)
        return send_error(s, c, req, 500, "%s", err);
    char *text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(o);
    return send_json(s, c, req, 200, text);
}

/* ---- POST /api/validate ------------------------------------------------------------- */

/* A scenario file's text, as the body itself (text/yaml, text/plain ...) or as
 * {"file": TEXT} (application/json): the reader's verdict, nothing run. */
static enum MHD_Result serve_validate(struct herd_server *s, struct MHD_Connection *c,
                                      struct request *req)
{
    const char *type =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    unsigned code;
    if (req->too_large)
        return send_error(s, c, req, 413, "request body over %d bytes", HERD_SERVER_BODY_MAX);
    if (type && strncasecmp(type, "application/json", 16) == 0) {
        json_error_t jerr;
        json_t *body = req->len ? json_loadb(req->body, req->len, 0, &jerr) : NULL;
        const json_t *file = json_object_get(body, "file");
        if (!json_is_string(file) || json_object_size(body) != 1) {
            json_decref(body);
            return send_error(s, c, req, 400,
                              "expected {\"file\": \"<the scenario file's text>\"} or the "
                              "file itself as text/yaml");
        }
        char *out = herd__api_validate(json_string_value(file), json_string_length(file), &code);
        json_decref(body);
        return send_json(s, c, req, code, out);
    }
    char *out = herd__api_validate(req->body ? req->body : "", req->len, &code);
    return send_json(s, c, req, code, out);
}

/* ---- Host, Origin and token --------------------------------------------------------- */

/* Is @p host ("127.0.0.1:8080", "localhost:8080", "[::1]:8080", the bound address, an
 * allowed name) a name of this server with its port? Digits only after the colon: no sign,
 * space or second colon. A page on another site that resolves its own name to this
 * machine (DNS rebinding) sends its own name here, and is refused. */
static bool host_ok(const struct herd_server *s, const char *host)
{
    const char *colon = strrchr(host, ':');
    if (colon && strchr(colon, ']'))
        colon = NULL; /* "[::1]" alone */
    size_t name = colon ? (size_t)(colon - host) : strlen(host);
    bool has_port = colon != NULL;
    unsigned long port = 80;
    if (has_port) {
        const char *p = colon + 1;
        size_t n = strspn(p, "0123456789");
        if (n == 0 || n > 5 || p[n] != '\0')
            return false;
        port = strtoul(p, NULL, 10);
    }
    for (size_t i = 0; i < s->nhosts; i++)
        if (strlen(s->hosts[i]) == name && strncasecmp(host, s->hosts[i], name) == 0)
            return port == s->port || (s->any_port[i] && !has_port);
    return false;
}

/* An Origin is this server's exactly: "http://" and the Host the request was sent to (a
 * sandboxed frame's "null", https, another host or port: not ours). */
static bool same_origin(const char *origin, const char *host)
{
    return strncmp(origin, "http://", 7) == 0 && strcasecmp(origin + 7, host) == 0;
}

/* A browser's request from another site's page (an <img>, a no-cors fetch) may carry no
 * Origin, but it does say where it came from (Fetch Metadata): runs start only from this
 * server's own page ("same-origin") or a URL the user opened ("none"). Clients that are
 * not browsers send no Sec-Fetch-Site and are let through. */
static bool from_elsewhere(struct MHD_Connection *c)
{
    const char *site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
    return site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0;
}

/* @p a equals the token, in time that does not depend on where they differ. */
static bool token_eq(const struct herd_server *s, const char *a)
{
    size_t n = strlen(s->token);
    if (!a || strlen(a) != n)
        return false;
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (unsigned char)(a[i] ^ s->token[i]);
    return d == 0;
}

/* Does the request carry the token: "Authorization: token T" (or Bearer), the page's
 * cookie, or ?token=T (then the answer sets the cookie)? */
static bool has_token(const struct herd_server *s, struct MHD_Connection *c, struct request *req)
{
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (auth && (strncasecmp(auth, "token ", 6) == 0 || strncasecmp(auth, "bearer ", 7) == 0) &&
        token_eq(s, strchr(auth, ' ') + 1))
        return true;
    if (token_eq(s, MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "herd_token")))
        return true;
    if (token_eq(s, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token"))) {
        req->set_cookie = true;
        return true;
    }
    return false;
}

/* Refuse a request that is not this server's own (Host, Origin, Sec-Fetch-Site, token):
 * @return true with the refusal queued in *ok. Before any body is read. */
static bool refused(struct herd_server *s, struct MHD_Connection *c, struct request *req,
                    const char *url, enum MHD_Result *ok)
{
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    if (!host || !host_ok(s, host))
        *ok = send_error(s, c, req, 403,
                         "Host '%.64s' is not this server; open http://127.0.0.1:%u/ (or "
                         "allow the name: herd serve --allow-host)",
                         host ? host : "", s->port);
    else if (origin && !same_origin(origin, host))
        *ok = send_error(s, c, req, 403,
                         "requests from %.64s are not allowed: only this server's own page "
                         "(http://%.64s)",
                         origin, host);
    else if ((strncmp(url, "/api/run", 8) == 0 || strcmp(url, "/api/validate") == 0 ||
              strcmp(url, "/api/lesson") == 0 || strcmp(url, "/api/picture") == 0) &&
             from_elsewhere(c))
        *ok = send_error(s, c, req, 403,
                         "runs start only from this server's own page, not from another "
                         "site's (Sec-Fetch-Site: %.32s)",
                         MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site"));
    else if (s->token[0] && !has_token(s, c, req))
        *ok = send_error(s, c, req, 401,
                         "this server needs its token: open the URL herd serve printed "
                         "(http://HOST:%u/?token=...) or send 'Authorization: token ...'",
                         s->port);
    else
        return false;
    return true;
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

    if (strcmp(url, "/api/run") == 0) {
        if (!is(method, MHD_HTTP_METHOD_POST))
            return send_405(s, c, req, method, url, "POST");
        return serve_run(s, c, req);
    }
    if (strcmp(url, "/api/run/stream") == 0) {
        /* No GET: any page can make a browser send one (an <img>), and it would start a
         * run. */
        if (!is(method, MHD_HTTP_METHOD_POST))
            return send_405(s, c, req, method, url, "POST");
        return serve_stream(s, c, req);
    }
    if (strcmp(url, "/api/validate") == 0) {
        if (!is(method, MHD_HTTP_METHOD_POST))
            return send_405(s, c, req, method, url, "POST");
        return serve_validate(s, c, req);
    }
    if (strcmp(url, "/api/lesson") == 0 || strcmp(url, "/api/picture") == 0) {
        if (!is(method, MHD_HTTP_METHOD_POST))
            return send_405(s, c, req, method, url, "POST");
        return serve_guide(s, c, req, url[5] == 'p');
    }
    if (strcmp(url, "/api/lessons") == 0) {
        if (!get)
            return send_405(s, c, req, method, url, "GET, HEAD");
        char *text = herd__guide_lessons_json();
        return text ? send_json(s, c, req, 200, text) : MHD_NO;
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
                          "no API at %.64s; see /api/scenarios, /api/run, /api/run/stream, "
                          "/api/validate, /api/lessons, /api/lesson, /api/picture",
                          url);
    const struct herd_asset *a = herd_web_asset(url);
    if (!a)
        return send_error(s, c, req, 404, "no page at %.64s", url);
    if (!get)
        return send_405(s, c, req, method, url, "GET, HEAD");
    return send_static(s, c, req, a->data, a->len, a->mime, "no-cache");
}

/* The client's IPv4 address (network order), 0 when MHD does not say. */
static uint32_t client_ip(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr || ci->client_addr->sa_family != AF_INET)
        return 0;
    return ((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr.s_addr;
}

/* Body bytes must arrive by req->deadline_ns: MHD's timeout, which each byte resets, is
 * cut to what is left of it (at least 1 s, MHD's unit). @return false once it passed. */
static bool body_in_time(struct MHD_Connection *c, const struct request *req)
{
    int64_t left = req->deadline_ns - herd_clock_monotonic_ns();
    if (left <= 0)
        return false;
    unsigned secs = (unsigned)((left + HERD_NS_PER_S - 1) / HERD_NS_PER_S);
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, secs);
    return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct herd_server *s = cls;
    struct request *req = *con_cls;
    (void)version;

    if (!req) {
        /* First call: headers only. Refuse what is not ours, or a declared oversize body,
         * before reading any of it. */
        req = calloc(1, sizeof *req);
        if (!req)
            return MHD_NO;
        req->t0 = herd_clock_monotonic_ns();
        req->deadline_ns = req->t0 + s->body_deadline_ns;
        req->ip = client_ip(c);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        req->fd = ci ? ci->connect_fd : -1;
        snprintf(req->what, sizeof req->what, "%.16s %.70s", method, url);
        *con_cls = req;
        pthread_mutex_lock(&s->mu);
        s->inflight++;
        pthread_mutex_unlock(&s->mu);
        enum MHD_Result ok;
        if (refused(s, c, req, url, &ok))
            return ok;
        if (!is(method, MHD_HTTP_METHOD_POST) && !is(method, MHD_HTTP_METHOD_PUT))
            return route(s, c, req, url, method);
        /* The gate refused a Content-Length that is not digits; one over the cap is
         * refused here, before reading the body. */
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > HERD_SERVER_BODY_MAX) {
            req->too_large = true;
            return send_error(s, c, req, 413, "request body over %d bytes", HERD_SERVER_BODY_MAX);
        }
        body_in_time(c, req);
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (req->code)
            return MHD_YES; /* answered already: the rest is dropped */
        if (!body_in_time(c, req))
            return MHD_NO; /* MHD cannot answer in the middle of a body: close */
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
        return MHD_YES; /* answered already (a refusal before the body) */
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S);
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

/* MHD's word that a connection the gate handed over has closed: the per-address counts
 * (the gate counted it at the hand-over). */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct herd_server *s = cls;
    (void)socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
        herd__gate_client_closed(s->gate, client_ip(c));
}

/* The gate's hand-over (gate.h): MHD serves the connection from here, on a thread of
 * its own; it closes @p fd also when it cannot. */
static int pass(void *ctx, int fd, const struct sockaddr_in *peer)
{
    struct herd_server *s = ctx;
    if (MHD_add_connection(s->d, fd, (const struct sockaddr *)peer, sizeof *peer) != MHD_YES)
        return -HERD_ENOMEM;
    return 0;
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
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, SOMAXCONN) != 0 ||
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

/* Answer to Host @p name (copied; @p any_port: also without a port). @return 0 or -1. */
static int add_host(struct herd_server *s, const char *name, bool any_port)
{
    for (size_t i = 0; i < s->nhosts; i++)
        if (strcasecmp(s->hosts[i], name) == 0)
            return 0;
    if (s->nhosts == HOSTS_MAX || !(s->hosts[s->nhosts] = strdup(name)))
        return -1;
    s->any_port[s->nhosts++] = any_port;
    return 0;
}

/* The Host names of a server bound to @p host: the loopback names, the bound address, and
 * for 0.0.0.0 every IPv4 address of this machine and its name; then @p allow. */
static int add_hosts(struct herd_server *s, const char *host, const char *const *allow)
{
    int rc = add_host(s, "127.0.0.1", false) | add_host(s, "localhost", false) |
             add_host(s, "[::1]", false);
    if (strcmp(host, "0.0.0.0") != 0)
        rc |= add_host(s, host, false);
    else {
        struct ifaddrs *ifs, *i;
        char name[256];
        if (getifaddrs(&ifs) == 0) {
            for (i = ifs; i; i = i->ifa_next)
                if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
                    inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, name,
                              sizeof name))
                    rc |= add_host(s, name, false);
            freeifaddrs(ifs);
        }
        if (gethostname(name, sizeof name) == 0) {
            name[sizeof name - 1] = '\0';
            rc |= add_host(s, name, false);
        }
    }
    for (; allow && *allow; allow++)
        rc |= add_host(s, *allow, true);
    return rc ? -HERD_ENOMEM : 0;
}

static void free_hosts(struct herd_server *s)
{
    for (size_t i = 0; i < s->nhosts; i++)
        free(s->hosts[i]);
}

int herd_server_start(const struct herd_server_config *cfg, struct herd_server **out, char *err,
                      size_t errlen)
{
    const char *host = cfg->host ? cfg->host : "127.0.0.1";
    const char *token = cfg->token ? cfg->token : "";
    int fd = -1, rc;
    struct in_addr addr;
    if (inet_pton(AF_INET, host, &addr) != 1) {
        snprintf(err, errlen, "'%s' is not an IPv4 address", host);
        return -HERD_EINVAL;
    }
    if (strncmp(host, "127.", 4) != 0 && !token[0]) {
        snprintf(err, errlen,
                 "listening on %s (not loopback) needs a token: anyone who reaches it could "
                 "run herds on this machine",
                 host);
        return -HERD_EINVAL;
    }
    if (strlen(token) > HERD_SERVER_TOKEN_MAX ||
        strspn(token, "0123456789abcdefghijklmnopqrstuvwxyz"
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_.~") != strlen(token)) {
        snprintf(err, errlen,
                 "the token must be at most %d letters, digits or -_.~ (it goes in a URL and "
                 "a cookie)",
                 HERD_SERVER_TOKEN_MAX);
        return -HERD_EINVAL;
    }
    struct herd_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -HERD_ENOMEM;
    }
    s->log = cfg->log;
    snprintf(s->token, sizeof s->token, "%s", token);
    s->sims_per_ip = cfg->sims_per_ip ? cfg->sims_per_ip : HERD_SERVER_SIMS_PER_IP;
    s->body_deadline_ns =
        (int64_t)(cfg->body_deadline_ms ? cfg->body_deadline_ms : HERD_SERVER_BODY_DEADLINE_MS) *
        HERD_NS_PER_MS;
    s->max_events = cfg->max_events ? cfg->max_events : HERD_SERVER_MAX_EVENTS;
    s->max_cpu_ns = (int64_t)((cfg->max_cpu_s > 0 ? cfg->max_cpu_s : HERD_SERVER_MAX_CPU_S) * 1e9);
    if (cfg->profile)
        s->prof = *cfg->profile;
    else
        herd_profile_defaults(&s->prof);
    snprintf(s->prof_path, sizeof s->prof_path, "%s", cfg->profile_path ? cfg->profile_path : "");
    pthread_mutex_init(&s->mu, NULL);
    if ((rc = add_hosts(s, host, cfg->allow_hosts)) < 0) {
        snprintf(err, errlen, "out of memory (or more than %d host names)", HOSTS_MAX);
        goto fail_mu;
    }
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
    /* No listening socket of MHD's own: the gate accepts and hands connections over. */
    s->d = MHD_start_daemon(
        MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
            MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET,
        0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_log, s,
        /* Never reached: the gate stops at CONNECTIONS_MAX first, as libmicrohttpd 0.9.75
         * hangs (a mutex left locked) after refusing a connection over its limit. */
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTIONS_MAX * 4, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)IDLE_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_END);
    if (!s->d) {
        rc = -HERD_EINVAL;
        snprintf(err, errlen, "libmicrohttpd could not start a daemon on %s:%u", host, s->port);
        close(fd);
        goto fail_catalogue;
    }
    struct herd_gate_config gc = {
        .listen_fd = fd,
        .per_ip_max = cfg->per_ip_max ? cfg->per_ip_max : HERD_SERVER_PER_IP_MAX,
        .pending_max = PENDING_MAX,
        .served_max = CONNECTIONS_MAX,
        .header_deadline_ns = (int64_t)(cfg->header_deadline_ms ? cfg->header_deadline_ms
                                                                : HERD_SERVER_HEADER_DEADLINE_MS) *
                              HERD_NS_PER_MS,
        .header_max = HEADER_BYTES_MAX,
        .pass = pass,
        .ctx = s,
    };
    if ((rc = herd__gate_start(&gc, &s->gate)) < 0) { /* fd closed */
        snprintf(err, errlen, "cannot start accepting on %s:%u: %s", host, s->port,
                 herd_strerror(rc));
        MHD_stop_daemon(s->d);
        s->gate = NULL;
        goto fail_catalogue;
    }
    *out = s;
    return 0;

fail_catalogue:
    free(s->catalogue);
fail_metrics:
    herd__metrics_fini(&s->metrics);
fail_mu:
    free_hosts(s);
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
    herd__gate_close(s->gate); /* no new connection from here */
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
    herd__gate_free(s->gate); /* after MHD: its connections' ends count in the gate */
    free(s->catalogue);
    herd__metrics_fini(&s->metrics);
    free_hosts(s);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
