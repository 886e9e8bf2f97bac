/* client.h — the simulated client fleet: who sends requests when, and how they retry.
 *
 * What it is for. Every herd model has N clients that fire requests at something; this
 * component owns when they fire and what they do when a request fails or takes too
 * long, so the models only say how a request travels (hops, a service, a cache). The
 * retry policy is libherd's, called as a user's client would call it: backoff with
 * jitter (herd/backoff.h), a retry budget (herd/budget.h), a circuit breaker
 * (herd/breaker.h). The model reuses it by filling a config with two callbacks.
 *
 * When clients fire (enum herd_client_arrival):
 *   TRIGGERED  herd_client_trigger(t): every client fires when ITS clock reads t, plus an
 *              offset (below). Each client's clock is off by a fixed skew drawn from
 *              Normal(0, skew_sd_ns) (clamped to ±8 sd), so "everyone at one instant"
 *              has the realistic width of a fleet's clock error: the client fires at
 *              true time t + offset − skew.
 *   PERIODIC   herd_client_start(from, until): client i fires at every own-clock
 *              multiple of period_ns, plus its offset, from `from` to `until`.
 *   POISSON    open arrivals at rate_per_s (fleet-wide) from `from` to `until`; each goes
 *              to an idle client (N is then the most requests open at once; an arrival
 *              that finds every client busy is counted in `overflow` and lost).
 *   CLOSED     each client thinks Exp(think_ns), sends, waits for the outcome, thinks
 *              again ... from `from` until `until`.
 * Offsets (TRIGGERED and PERIODIC, enum herd_client_offset): none (the herd), a fresh
 * herd_jitter_window(window) at each firing from the client's own rng stream, or a stable
 * herd_jitter_splay(name, window, salt) where name is splay_prefix + the client's index
 * in decimal (as the live herds name their clients, so both backends deal the same
 * offsets for the same seed).
 *
 * A request: the first attempt starts at the firing; the latency reported to done() is
 * from that SCHEDULED firing to the outcome (no coordinated omission), whatever the
 * retries. An attempt asks the breaker (if any), then calls send(tag); the model
 * delivers the outcome with herd_client_reply(tag, status). An attempt with no reply
 * within timeout_ns times out; a reply after that is counted as late and otherwise
 * ignored (its work was wasted). After a failure: herd_backoff_next() says how long
 * to wait or to give up, then the budget (if any) says whether a retry may go; then the
 * retry is sent after the wait. Outcomes: OK, FAILED (the last attempt failed),
 * TIMEDOUT, REJECTED (the breaker refused the last attempt: nothing was sent).
 *
 * Timeouts. Every attempt has the same timeout, so deadlines come in the order the
 * attempts were sent: the fleet keeps them in a FIFO ring (16 bytes an attempt) and
 * has ONE engine timer armed, for the earliest attempt still waiting. A reply cancels
 * that timer if it was for this attempt (herd_sim_cancel) and arms the next; any other
 * reply just leaves a stale ring entry that is dropped, never dispatched, when it
 * reaches the head. So most timeouts never fire and cost no engine event, and a fleet
 * of a million waiting clients costs the wheel one pending timer instead of a million
 * (each of which a timing wheel would cascade ~4 times over 10 s). Each timeout that
 * does fire is still its own event, at its own deadline.
 *
 * Randomness. Client i draws from stream (component << 32 | i) of the run seed (jitter,
 * think times, backoff jitter) and its skew is the first draw of stream
 * ((component + 1) << 32 | i), derived when needed rather than stored; fleet-wide draws
 * (Poisson gaps, the breaker's open jitter, unjittered backoff kinds) come from stream
 * (component + 2) << 32. So a fleet uses components c, c+1, c+2.
 *
 * Memory. Per-client state is flat arrays, no allocation per client: a 16-byte core
 * record (start time, attempt sequence, state, and 3 bytes the model may
 * use for its own per-client state, so it needs no column of its own for a flag or a
 * worker number), plus columns that exist only when the configuration needs them: the
 * rng (32) for jitter, think times or jittered backoff; the failure count (2) when
 * max_attempts != 1; decorrelated backoff's previous wait (8); the failure-deadline
 * origin (8); PERIODIC's boundary (8); the budget ticket (8); the breaker permit (32);
 * POISSON's idle stack (4). herd_client_bytes() reports the total; the timeout ring
 * holds 16 bytes per attempt in flight (ring doubling: up to 32). The core is a record
 * rather than columns because herds visit clients in random order (skew, jitter): one
 * cache miss per visit instead of one per field.
 *
 * Cost: per firing O(1) and one engine event, one more per backoff wait and per timeout
 * that fires; a ring append per attempt with a timeout; plus libherd's calls.
 * Thread safety: none; a fleet belongs to one struct herd_sim. The budget and breaker
 * are libherd objects shared by the whole fleet (one calling service's budget and
 * breaker); they are thread-safe but used here from one thread.
 */
#ifndef HERD_SIM_CLIENT_H
#define HERD_SIM_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include <herd/backoff.h>
#include <herd/breaker.h>
#include <herd/budget.h>
#include <herd/rng.h>

#include "engine.h"

enum herd_client_arrival {
    HERD_CLIENT_TRIGGERED = 0, /* herd_client_trigger() */
    HERD_CLIENT_PERIODIC,      /* every period_ns on the client's clock */
    HERD_CLIENT_POISSON,       /* open arrivals at rate_per_s */
    HERD_CLIENT_CLOSED,        /* think, request, think ... */
};

enum herd_client_offset {
    HERD_CLIENT_OFFSET_NONE = 0, /* fire at the boundary itself */
    HERD_CLIENT_OFFSET_JITTER,   /* + herd_jitter_window(window_ns), fresh each firing */
    HERD_CLIENT_OFFSET_SPLAY,    /* + herd_jitter_splay(name, window_ns, splay_salt) */
};

enum herd_client_outcome {
    HERD_CLIENT_OK = 0,   /* a reply with status 0 */
    HERD_CLIENT_FAILED,   /* the last attempt failed (status < 0) */
    HERD_CLIENT_TIMEDOUT, /* the last attempt timed out */
    HERD_CLIENT_REJECTED, /* the breaker refused the last attempt; nothing was sent */
};

/** Send attempt @p tag of client @p client; deliver its outcome with herd_client_reply(). */
typedef void (*herd_client_send_fn)(struct herd_sim *sim, void *ctx, uint32_t client, uint64_t tag);
/** The attempt @p tag of @p client timed out (the model may abandon its work). */
typedef void (*herd_client_abandon_fn)(struct herd_sim *sim, void *ctx, uint32_t client,
                                       uint64_t tag);
/** The request of @p client is over: @p latency_ns from its scheduled firing. */
typedef void (*herd_client_done_fn)(struct herd_sim *sim, void *ctx, uint32_t client,
                                    enum herd_client_outcome outcome, int64_t latency_ns);

struct herd_client_config {
    enum herd_client_arrival arrival;
    uint32_t n;         /* clients, >= 1 */
    uint32_t component; /* rng streams: see the file comment */
    double skew_sd_ns;  /* TRIGGERED, PERIODIC: sd of each client's clock offset, >= 0 */
    enum herd_client_offset offset;
    int64_t window_ns;        /* JITTER, SPLAY: offsets in [0, window) */
    const char *splay_prefix; /* SPLAY: the client's name is prefix + index; borrowed */
    uint64_t splay_salt;      /* SPLAY: the fleet's secret (systemd: the machine id) */
    int64_t period_ns;        /* PERIODIC: > 0 */
    double rate_per_s;        /* POISSON: > 0 */
    int64_t think_ns;         /* CLOSED: mean think time, >= 0 */

    int64_t timeout_ns;                 /* per attempt, from its send; 0: none */
    struct herd_backoff_policy backoff; /* max_attempts 1: never retry (copied) */
    struct herd_budget *budget;         /* borrowed, may be NULL; must outlive the fleet */
    struct herd_breaker *breaker;       /* borrowed, may be NULL; must outlive the fleet */

    herd_client_send_fn send;       /* required */
    herd_client_abandon_fn abandon; /* may be NULL */
    herd_client_done_fn done;       /* may be NULL */
    /* May be NULL: prefetch the model's own state for client @p client, whose retry,
     * firing or timeout is about to run (engine.h, herd_sim_prefetch). Reads only. */
    void (*prefetch)(void *ctx, uint32_t client);
    void *ctx;         /* borrowed, passed to the callbacks */
    size_t user_bytes; /* the model's own bytes per client, kept in the client's hot
                          record (herd_client_user): 0 to 32 */
};

struct herd_client_stats {
    uint64_t fired;           /* requests begun */
    uint64_t skipped;         /* firings that found the client still busy (PERIODIC) */
    uint64_t overflow;        /* POISSON arrivals that found every client busy */
    uint64_t attempts;        /* attempts sent */
    uint64_t retries;         /* ... of which were retries */
    uint64_t replies;         /* replies in time */
    uint64_t late;            /* replies after a timeout (wasted work) */
    uint64_t timeouts;        /* attempts that timed out */
    uint64_t failures;        /* attempts that failed (status < 0) */
    uint64_t breaker_rejects; /* attempts the breaker refused */
    uint64_t budget_denied;   /* retries the budget refused */
    uint64_t backoff_gave_up; /* requests ended because backoff gave up */
    uint64_t done[4];         /* requests ended, by enum herd_client_outcome */
    uint64_t in_flight;       /* requests begun and not over, now */
};

/* A client's core state: 16 bytes. */
struct herd_client_rec {
    int64_t start;   /* the request's scheduled firing (true time) */
    uint32_t seq;    /* current attempt's sequence number */
    uint8_t state;   /* idle / waiting / backing off (client.c) */
    uint8_t user8;   /* the model's: herd_client_user8() */
    uint16_t user16; /* the model's: herd_client_user16() */
};

/* A pending timeout: attempt `tag` gives up at `deadline` unless it is over by then. */
struct herd_client_tmo {
    int64_t deadline;
    uint64_t tag;
};

struct herd_client_fleet {
    struct herd_sim *sim; /* borrowed */
    struct herd_client_config cfg;
    struct herd_client_stats st;
    struct herd_rng rng; /* fleet-wide draws */
    int64_t skew_clamp;  /* 8 sd */
    int64_t until_ns;    /* PERIODIC, POISSON, CLOSED: no firing after this */
    /* Per-client state. The hot record of client i is at block + i * stride: a struct
     * herd_client_rec, then (when the configuration needs them) the client's own rng
     * stream, its failures so far in this request (uint16) and the model's user_bytes,
     * in a power-of-two stride of at most 64 so that a firing, a reply, a retry or a
     * timeout touches one cache line whatever order the clients come in (at N = 10^6
     * they come in random order). The other columns are NULL unless needed. */
    unsigned char *block;
    size_t stride;
    uint16_t off_rng, off_fails, off_user; /* offsets in a record; 0: absent (the core
                                              fields come first, so none is at 0) */
    int64_t *prev_wait;                    /* decorrelated backoff's memory */
    int64_t *first_fail;                   /* failure_deadline_ns's origin */
    int64_t *next_b;                       /* PERIODIC: the own-clock boundary of this cycle */
    struct herd_budget_ticket *ticket;     /* the retry's budget ticket */
    struct herd_breaker_permit *permit;    /* the attempt's breaker permit */
    uint32_t *idle;                        /* POISSON: stack of idle clients */
    uint32_t nidle;
    /* Timeouts: every attempt's (deadline, tag) in send order, which is deadline order
     * (one timeout_ns for all); one engine timer for the earliest live one. */
    struct herd_client_tmo *tmo; /* ring, tmo_cap (a power of 2) entries */
    size_t tmo_cap, tmo_head, tmo_len;
    struct herd_sim_timer tmo_timer;
    uint64_t tmo_armed; /* tag the timer is for; 0: none armed (tags have seq >= 1) */
    /* TRIGGERED: the firings of the current trigger, sorted (client.c's cursor). */
    uint64_t *order;
    size_t order_len, order_pos;
    int64_t order_base;
};

/**
 * Set up @p fl on @p sim (borrowed) with a copy of @p cfg: allocates the columns it
 * needs, draws nothing yet. @return 0, -HERD_EINVAL for a bad config, -HERD_ENOMEM.
 */
int herd_client_init(struct herd_client_fleet *fl, struct herd_sim *sim,
                     const struct herd_client_config *cfg);

/** Free what @p fl owns. Its pending events must not run afterwards. */
void herd_client_fini(struct herd_client_fleet *fl);

/**
 * TRIGGERED: every client fires when its own clock reads @p t_ns (+ its offset). A
 * client whose true firing time would be before now fires now (impossible when
 * t_ns >= now + herd_client_skew_bound()). @return 0 or the engine's sticky error.
 */
int herd_client_trigger(struct herd_client_fleet *fl, int64_t t_ns);

/** PERIODIC, POISSON, CLOSED: start firing at @p from_ns (>= now), stop after @p until_ns. */
int herd_client_start(struct herd_client_fleet *fl, int64_t from_ns, int64_t until_ns);

/**
 * The model's answer to attempt @p tag: @p status 0 (success) or negative (failure).
 * @return true if it was the attempt being waited for, false when it came too late
 * (timed out) or is unknown (counted in stats.late).
 */
bool herd_client_reply(struct herd_client_fleet *fl, uint64_t tag, int status);

/** Client @p i's clock skew in ns (true = own clock − skew), as TRIGGERED uses it. */
int64_t herd_client_skew(const struct herd_client_fleet *fl, uint32_t i);

/** The largest |skew| any client can have (8 sd). */
static inline int64_t herd_client_skew_bound(const struct herd_client_fleet *fl)
{
    return fl->skew_clamp;
}

static inline struct herd_client_rec *herd__client_rec(const struct herd_client_fleet *fl,
                                                       uint32_t i)
{
    return (struct herd_client_rec *)(void *)(fl->block + (size_t)i * fl->stride);
}

/** Hint that client @p tag's record is about to be used (e.g. its reply is on the way). */
static inline void herd_client_prefetch(const struct herd_client_fleet *fl, uint64_t tag)
{
    __builtin_prefetch(herd__client_rec(fl, (uint32_t)tag), 1);
}

/** The model's cfg.user_bytes of client @p i, in its hot record (zero at init). */
static inline void *herd_client_user(const struct herd_client_fleet *fl, uint32_t i)
{
    return fl->block + (size_t)i * fl->stride + fl->off_user;
}

/** The client of @p tag. */
static inline uint32_t herd_client_of(uint64_t tag)
{
    return (uint32_t)tag;
}

/** Attempts made so far by client @p i's current request (1 on the first send). */
uint32_t herd_client_attempt(const struct herd_client_fleet *fl, uint32_t i);

/** The model's byte and 16 bits of client @p i (zero at init; the fleet never touches them). */
static inline uint8_t *herd_client_user8(struct herd_client_fleet *fl, uint32_t i)
{
    return &herd__client_rec(fl, i)->user8;
}
static inline uint16_t *herd_client_user16(struct herd_client_fleet *fl, uint32_t i)
{
    return &herd__client_rec(fl, i)->user16;
}

/** Bytes of per-client state (all columns) per client. */
size_t herd_client_bytes(const struct herd_client_fleet *fl);

static inline const struct herd_client_stats *herd_client_stats(const struct herd_client_fleet *fl)
{
    return &fl->st;
}

#endif
