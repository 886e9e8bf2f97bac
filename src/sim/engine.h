/* engine.h — the discrete-event engine: simulated clock, event dispatch, RNG streams.
 *
 * What it is for. Every sim model (service.h, the client fleet, the herds) is a set of
 * event functions scheduled on one struct herd_sim. The engine pops events in
 * (time, sequence) order from an exact timing wheel (queue.h), sets now_ns to the
 * event's time and calls the function. Nothing here reads a clock or a global random
 * source: a run is a pure function of the models' parameters and the run seed, so
 * two runs with the same inputs dispatch the same events at the same times.
 *
 * Event kinds. An event is (time, fn, ctx, arg). The engine files each distinct fn as
 * a "kind" (a 16-bit tag stored in the queue entry, which keeps an entry at 32 bytes)
 * the first time it is scheduled; kinds are numbered in order of first use, which is
 * itself deterministic. herd_sim_name() gives a kind a stable name for traces.
 * At most HERD_SIM_KINDS_MAX kinds per run.
 *
 * Randomness. herd_sim_rng() derives stream `stream` of the run seed: give each
 * entity its own stream id (e.g. component id << 32 | entity index), so that adding a
 * component or a client does not reshuffle anyone else's draws.
 *
 * Errors. Scheduling can fail only for lack of memory (or more kinds than allowed).
 * Failures are sticky: the call returns the error and herd_sim_run_until() returns it
 * and stops, so a model may ignore the return value of herd_sim_at() and still never
 * produce a silently wrong run.
 *
 * Cost: dispatch is a queue pop (see queue.h), one table load and an indirect call;
 * scheduling is a queue push plus a one-entry cache or small-hash lookup of fn.
 * Thread safety: none. One run belongs to one thread; parallelism is across runs.
 */
#ifndef HERD_SIM_ENGINE_H
#define HERD_SIM_ENGINE_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <herd/rng.h>

#include "../scenario/backend.h" /* struct herd_watch */
#include "queue.h"

#define HERD_SIM_FOREVER INT64_MAX
#define HERD_SIM_KINDS_MAX 1024
#define HERD_SIM_KIND_NAME 32

struct herd_sim;

/** An event: called at its time with the context and argument it was scheduled with. */
typedef void (*herd_sim_event_fn)(struct herd_sim *sim, void *ctx, uint64_t arg);

/** Called once per dispatched event, before it runs (golden traces, debugging).
 *  @p kind is the kind's name; @p entity is the event's arg. */
typedef void (*herd_sim_trace_fn)(void *trace_ctx, int64_t t_ns, const char *kind, uint64_t entity);

/** Touch (prefetch) what an event fn(sim, ctx, arg) will read; see herd_sim_prefetch(). */
typedef void (*herd_sim_prefetch_fn)(void *ctx, uint64_t arg);

/* A run is watched through struct herd_watch (scenario/backend.h): its poll is called
 * about every HERD_SIM_WATCH_EVERY units of work (an event dispatched is one;
 * herd_sim_work() adds a model's work inside one event) with the run's simulated time and
 * events so far; returning true stops the run: herd_sim_run_until() then returns
 * -HERD_EINTR (sticky). The poll must not touch the simulation. */
#define HERD_SIM_WATCH_EVERY (UINT64_C(1) << 18)

/* A cancellable reference to a scheduled event. A zeroed timer refers to nothing. */
struct herd_sim_timer {
    struct herd_queue_handle h;
};

/* Entries of the fn -> kind cache in front of the kind hash: a model's hot kinds
 * (arrival, completion, timeout, retry...) alternate, so one entry was not enough. */
#define HERD_SIM_KCACHE 8

struct herd_sim_kind {
    herd_sim_event_fn fn;
    herd_sim_prefetch_fn prefetch; /* NULL: none */
    char name[HERD_SIM_KIND_NAME];
};

struct herd_sim {
    int64_t now_ns;  /* time of the event being (or last) dispatched */
    uint64_t seed;   /* run seed: the root of every RNG stream */
    uint64_t events; /* events dispatched so far */
    int err;         /* sticky error, 0 if none */
    bool stopped;    /* herd_sim_stop() was called during this run */
    bool prefetching; /* some kind has a prefetch fn */
    const struct herd_watch *watch; /* borrowed, may be NULL */
    int64_t poll_in; /* units of work (events, herd_sim_work) until the watch's next poll */
    struct herd_queue queue;
    herd_sim_trace_fn trace;   /* NULL: no tracing */
    void *trace_ctx;           /* borrowed */
    const struct herd_request_sink *requests; /* borrowed; NULL: no per-request records */
    herd_sim_event_fn kcache_fn[HERD_SIM_KCACHE]; /* direct-mapped cache of fn -> kind */
    uint16_t kcache_kind[HERD_SIM_KCACHE];
    uint16_t nkinds;             /* kinds[1..nkinds] are in use; 0 means "cancelled" */
    struct herd_sim_kind *kinds; /* owned, HERD_SIM_KINDS_MAX + 1 */
    uint16_t *kind_hash;         /* owned, open addressing fn -> kind */
};

/** Initialise @p sim at time 0 with run seed @p seed. @return 0 or -HERD_ENOMEM. */
int herd_sim_init(struct herd_sim *sim, uint64_t seed);

/** Free what @p sim owns; pending events are discarded without being called. */
void herd_sim_fini(struct herd_sim *sim);

/**
 * Schedule fn(sim, ctx, arg) at absolute time @p t_ns (asserted >= now). @p ctx is
 * borrowed and must outlive the event. @p timer may be NULL; if not, it receives a
 * handle for herd_sim_cancel(). Events at equal times run in scheduling order.
 * @return 0, -HERD_ENOMEM or -HERD_ELIMIT (sticky, see the file comment).
 */
int herd_sim_at(struct herd_sim *sim, int64_t t_ns, herd_sim_event_fn fn, void *ctx, uint64_t arg,
                struct herd_sim_timer *timer);

/** herd_sim_at(now + @p delay_ns); @p delay_ns >= 0, saturating at HERD_SIM_FOREVER. */
int herd_sim_after(struct herd_sim *sim, int64_t delay_ns, herd_sim_event_fn fn, void *ctx,
                   uint64_t arg, struct herd_sim_timer *timer);

/**
 * Cancel the event of @p timer and zero @p timer. Cost: O(log n) in the events that
 * share its wheel slot, no memory freed until the slot is reached.
 * @return 0, or -HERD_ENOENT if it already ran, was cancelled, or @p timer is zeroed.
 */
int herd_sim_cancel(struct herd_sim *sim, struct herd_sim_timer *timer);

/**
 * Dispatch every event with time <= @p until_ns, in order, including events those
 * events schedule. Then now_ns = @p until_ns, unless @p until_ns is HERD_SIM_FOREVER
 * (now_ns stays at the last event: the run's simulated duration) or an event called
 * herd_sim_stop() (now_ns stays at that event).
 * @return 0 or the sticky error.
 */
int herd_sim_run_until(struct herd_sim *sim, int64_t until_ns);

/** Dispatch the single next event. @return 0, -HERD_ENOENT if none, or the error. */
int herd_sim_step(struct herd_sim *sim);

/** From inside an event: make herd_sim_run_until() return after this event. */
void herd_sim_stop(struct herd_sim *sim);

/**
 * Name the kind of @p fn in traces (copied, truncated to 31 bytes). Unnamed kinds are
 * traced as "k<number>". @return 0 or -HERD_ELIMIT.
 */
int herd_sim_name(struct herd_sim *sim, herd_sim_event_fn fn, const char *name);

/**
 * Give the kind of @p fn a prefetch hint @p pf (NULL: none). Before dispatching an
 * event the engine looks at the event likely to come next (herd_queue_hint) and, if
 * its kind has a hint, calls pf(ctx, arg) with that event's ctx and arg, so the cache
 * misses of the next event (a random client's record at N = 10^6) overlap with this
 * event's work. @p pf must only read and prefetch: the event may be cancelled or
 * overtaken, and it changes nothing in any run's output. @return 0 or -HERD_ELIMIT.
 */
int herd_sim_prefetch(struct herd_sim *sim, herd_sim_event_fn fn, herd_sim_prefetch_fn pf);

/** Call @p fn (NULL: off) for every dispatched event; @p ctx is borrowed. */
void herd_sim_set_trace(struct herd_sim *sim, herd_sim_trace_fn fn, void *ctx);

/* What a front end or a test attaches to a model's run (all optional, all borrowed):
 * a model takes one of these and hands it to its engine with herd_sim_set_hooks(). */
struct herd_sim_hooks {
    herd_sim_trace_fn trace; /* golden traces */
    void *trace_ctx;
    const struct herd_watch *watch; /* progress and interruption */
    const struct herd_request_sink *requests; /* per-request records (herd run --trace) */
};

/** Attach @p hooks (NULL: none) to @p sim. Hooks change no run's output. */
void herd_sim_set_hooks(struct herd_sim *sim, const struct herd_sim_hooks *hooks);

/* Poll the watch now (herd_sim_work's slow path). @return true when it stopped the run. */
bool herd__sim_poll(struct herd_sim *sim);

/**
 * Count @p units of work a model does inside one event or before its event loop (one
 * per requester of an O(N) sweep or setup loop), so that a watch's stop lands within
 * about HERD_SIM_WATCH_EVERY units of it even when one event does a million requesters'
 * work (the cache model's sweeps: a stop used to wait for the event's end, seconds under
 * AddressSanitizer). Without a watch it does nothing and returns false.
 * @return true when the run is stopped (its error is set: -HERD_EINTR from the watch):
 * the caller leaves its loop and its event at once. Changes nothing in any run's output.
 */
static inline bool herd_sim_work(struct herd_sim *sim, int64_t units)
{
    if (!sim->watch)
        return false;
    if ((sim->poll_in -= units) > 0)
        return sim->err != 0;
    return herd__sim_poll(sim);
}

/** A request reached the herd's resource at @p t_ns (see struct herd_request_sink): hand
 *  it to the run's sink, if any. Changes nothing in any run's output. */
static inline void herd_sim_request(const struct herd_sim *sim, int64_t t_ns, uint64_t client,
                                    uint64_t key, enum herd_req_status status)
{
    if (sim->requests && sim->requests->fn)
        sim->requests->fn(sim->requests->ctx, t_ns, client, key, status);
}

/** Seed @p rng as stream @p stream of the run seed (herd_rng_stream). */
void herd_sim_rng(const struct herd_sim *sim, uint64_t stream, struct herd_rng *rng);

/** Time of the next pending event in @p *t_ns. @return 0 or -HERD_ENOENT if none. */
int herd_sim_next_time(const struct herd_sim *sim, int64_t *t_ns);

static inline int64_t herd_sim_now(const struct herd_sim *sim)
{
    return sim->now_ns;
}

/**
 * @p x nanoseconds rounded to the nearest integer, halves away from zero: llround()'s
 * result for any |x| < 2^63, without its call (a libm call per event is ~3 % of a
 * small model's time). Exact: x − trunc(x) has no rounding error for |x| < 2^52, and
 * above that every double is an integer already.
 */
static inline int64_t herd_sim_round_ns(double x)
{
    int64_t i = (int64_t)x;
    double f = x - (double)i;
    return i + (f >= 0.5) - (f <= -0.5);
}

/**
 * A machine's speed for one event, as a factor on its costs: exp(Normal(0, @p sigma)),
 * median 1, drawn from @p rng; exactly 1 (and no draw) when @p sigma <= 0. The live
 * herds' latencies vary from one event to the next on the same machine (a wake loop
 * that meets a timer tick, an idle CPU slow to wake); `herd calibrate` measures that
 * spread as a log-sd (profile.h: accept_spread, condvar_spread) and a model scales the
 * costs of each event's latency path by this factor, so its p99 is not its p50.
 */
static inline double herd_sim_speed(struct herd_rng *rng, double sigma)
{
    return sigma > 0 ? exp(herd_rng_normal_fast(rng, 0, sigma)) : 1.0;
}

/** Events dispatched so far. */
static inline uint64_t herd_sim_events(const struct herd_sim *sim)
{
    return sim->events;
}

/** Events scheduled and not yet dispatched or cancelled. */
static inline size_t herd_sim_pending(const struct herd_sim *sim)
{
    return herd_queue_size(&sim->queue);
}

#endif
