/* herd/breaker.h — a circuit breaker: stop calling a dependency that is failing.
 *
 * The "protect" family of herd fixes. When a dependency fails, every client that keeps
 * calling it turns its outage into a retry storm that keeps it down. A breaker watches
 * outcomes and, once they look bad, fails calls locally for a while (OPEN), then lets a
 * few probes through (HALF_OPEN) and resumes (CLOSED) only when they succeed.
 *
 *                 trip rule fires              open interval elapsed
 *       CLOSED ------------------> OPEN -----------------------------> HALF_OPEN
 *         ^                        ^  \______ any probe fails or times out __/ |
 *         |_________________________________ M probes succeed ________________|
 *
 * plus manual moves from any state to ISOLATED (forced open), FORCED_CLOSED (always
 * admit, never trip) and CLOSED (reset). No other transition ever happens.
 *
 * Trip rules (CLOSED only), each may be turned off:
 *  - consecutive failures: N failures in a row (default 5, Finagle's FailureAccrual and
 *    Envoy's consecutive_5xx). NOT subject to the minimum-calls guard.
 *  - failure rate: failures / calls >= threshold over the window (default 50 %).
 *  - slow-call rate: calls slower than slow_call_ns / calls >= threshold (default 100 %
 *    of calls slower than 60 s, Resilience4j's defaults).
 * The two rate rules need at least min_calls calls in the window (default 20, Hystrix's
 * requestVolumeThreshold): a rate over 3 calls is noise. Resilience4j applies its guard
 * (minimumNumberOfCalls, default 100) to everything, so a service that sees a few calls a
 * minute never trips however dead its dependency is. Here the consecutive rule still
 * trips it: a dead dependency fails every call, so N in a row comes at any traffic level,
 * while a healthy one with error rate p does that by chance with probability p^N.
 *
 * Windows: COUNT (the last K recorded calls, a ring buffer) or TIME (B buckets spanning
 * window_ns, rolled forward by now_ns; a call leaves the window between
 * window_ns − window_ns/B and window_ns after it was recorded). Default TIME, 10 s in
 * 10 buckets (Hystrix): a count window at low traffic keeps hour-old verdicts.
 *
 * Half-open admits at most K probes at once and closes after M successes; any failure,
 * slow call or probe timeout reopens it. A probe that never reports back is counted as
 * failed once probe_timeout_ns has passed since it was admitted, so half-open never
 * wedges (Resilience4j's half-open waited forever by default: its issues 903 and 935).
 *
 * The open interval backs off: d = min(cap, base · 2^(level−1)), drawn uniformly in
 * [d − jitter·d, d] (jitter 0.5 is "equal jitter", Finagle's default for its mark-dead
 * interval, 5 s to 300 s). Level is 1 at a first trip, +1 at each reopen from half-open
 * and at a trip within open_cap_ns of the last close (flapping), so a fleet whose
 * breakers tripped on the same outage does not probe it in lock step.
 *
 * Time and randomness are arguments: transitions happen inside allow() and record() at
 * the time they are given (OPEN turns HALF_OPEN in the first allow() after the interval;
 * the interval's jitter is drawn from the caller's rng by the first allow() after the
 * trip). A now_ns earlier than one already seen is treated as the latest one seen, so
 * threads that read the clock and then race for the lock cannot move time backwards.
 *
 * Cost: allow and record each take the one mutex and do O(1) work, O(K) in half-open:
 * an allow+record pair is about 23 ns uncontended and 45–170 ns with two threads fighting
 * over the same breaker on a shared 2-core VM (bench_breaker); a reject is about 10 ns.
 * Allocation only in herd_breaker_new().
 * Thread-safe: any thread may call any function; a permit belongs to its caller.
 */
#ifndef HERD_BREAKER_H
#define HERD_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

#include <herd/alloc.h>
#include <herd/rng.h>

/** retry_after_ns of a reject when only an operator can end it (ISOLATED). */
#define HERD_BREAKER_NO_RETRY_AFTER INT64_C(-1)

struct herd_breaker;

enum herd_breaker_state {
    HERD_BREAKER_CLOSED = 0,        /* calls go through and are watched */
    HERD_BREAKER_OPEN = 1,          /* calls fail fast until the open interval ends */
    HERD_BREAKER_HALF_OPEN = 2,     /* up to K probes at a time decide */
    HERD_BREAKER_ISOLATED = 3,      /* forced open by an operator */
    HERD_BREAKER_FORCED_CLOSED = 4, /* forced closed: admits all, watches, never trips */
};

/** What allow() decided. Rejects are local decisions, never a dependency's error. */
enum herd_breaker_verdict {
    HERD_BREAKER_GO = 0,                    /* call, then record() the permit */
    HERD_BREAKER_REJECT_OPEN = 1,           /* open: retry after the interval */
    HERD_BREAKER_REJECT_HALF_OPEN_FULL = 2, /* half-open with K probes in flight */
    HERD_BREAKER_REJECT_ISOLATED = 3,       /* operator isolated it */
};

enum herd_breaker_outcome {
    HERD_BREAKER_SUCCESS = 0,
    HERD_BREAKER_FAILURE = 1,
    HERD_BREAKER_IGNORED = 2, /* neither (a client error, a cancel): frees a probe slot */
};

/** Why a transition happened. */
enum herd_breaker_cause {
    HERD_BREAKER_CAUSE_CONSECUTIVE = 0,   /* closed -> open */
    HERD_BREAKER_CAUSE_FAILURE_RATE = 1,  /* closed -> open */
    HERD_BREAKER_CAUSE_SLOW_RATE = 2,     /* closed -> open */
    HERD_BREAKER_CAUSE_INTERVAL = 3,      /* open -> half-open */
    HERD_BREAKER_CAUSE_PROBE_FAILED = 4,  /* half-open -> open (failure or slow probe) */
    HERD_BREAKER_CAUSE_PROBE_TIMEOUT = 5, /* half-open -> open */
    HERD_BREAKER_CAUSE_PROBES_PASSED = 6, /* half-open -> closed */
    HERD_BREAKER_CAUSE_MANUAL = 7,        /* isolate, force_close, reset */
};

enum herd_breaker_window {
    HERD_BREAKER_WINDOW_TIME = 0,  /* buckets over window_ns */
    HERD_BREAKER_WINDOW_COUNT = 1, /* the last window_calls calls */
};

struct herd_breaker_transition {
    enum herd_breaker_state from, to;
    enum herd_breaker_cause cause;
    int64_t now_ns; /* when it happened (the call's now_ns, clamped to be monotone) */
    uint64_t seq;   /* 1 for the first transition of this breaker, then 2, 3 ... */
    uint32_t level; /* open-interval backoff level when to is OPEN, else 0 */
};

/** Called under the breaker's mutex at each transition, in order: keep it short and do
 *  not call this breaker from it (that deadlocks). */
typedef void (*herd_breaker_transition_fn)(void *ctx, const struct herd_breaker_transition *t);

/** Fill it with herd_breaker_config_default(), then change what you need. */
struct herd_breaker_config {
    enum herd_breaker_window window;
    uint32_t window_calls;         /* COUNT: calls kept; >= 1 (100) */
    int64_t window_ns;             /* TIME: span; >= window_buckets (10 s) */
    uint32_t window_buckets;       /* TIME: buckets; >= 1 (10) */
    uint32_t min_calls;            /* rate rules need this many calls in the window (20);
                                      COUNT: <= window_calls */
    uint32_t consecutive_failures; /* trip after this many failures in a row; 0: off (5) */
    double failure_rate;           /* trip at failures/calls >= this, in (0, 1]; 0: off (0.5) */
    double slow_rate;              /* trip at slow/calls >= this, in (0, 1]; 0: off (1.0) */
    int64_t slow_call_ns;          /* a call with latency > this is slow; 0: none is (60 s) */
    int64_t open_base_ns;          /* first open interval; > 0 (5 s) */
    int64_t open_cap_ns;           /* longest open interval; >= base (300 s) */
    double open_jitter;            /* interval uniform in [d - jitter·d, d]; [0, 1] (0.5) */
    uint32_t half_open_probes;     /* K: probes in flight at once; >= 1 (1) */
    uint32_t half_open_successes;  /* M: successes that close it; >= 1 (3) */
    int64_t probe_timeout_ns;      /* an unreported probe fails after this; > 0 (30 s) */
    herd_breaker_transition_fn on_transition; /* may be NULL */
    void *on_transition_ctx;                  /* borrowed; passed to on_transition */
    const struct herd_allocator *alloc;       /* borrowed, must outlive the breaker; NULL: libc */
};

/**
 * A ticket for one admitted call, written by allow(); consumed by record(). On a reject
 * only retry_after_ns is meaningful. Fields below `probe` are private.
 */
struct herd_breaker_permit {
    int64_t retry_after_ns; /* reject: how long until asking again makes sense, or
                               HERD_BREAKER_NO_RETRY_AFTER; GO: 0 */
    bool probe;             /* GO in half-open: this call decides whether it closes */
    uint64_t epoch;         /* private: the breaker's state epoch when admitted */
    uint32_t slot;          /* private: probe slot in half-open */
    uint32_t slot_gen;      /* private: that slot's generation */
    uint8_t kind;           /* private: 0 when there is nothing to record */
};

/* Counters since herd_breaker_new(), and a snapshot of the state. */
struct herd_breaker_stats {
    enum herd_breaker_state state;
    uint64_t allowed;                 /* GO verdicts, probes included */
    uint64_t probes;                  /* GO verdicts in half-open */
    uint64_t rejected_open;           /* reject: open */
    uint64_t rejected_half_open_full; /* reject: half-open with K probes in flight */
    uint64_t rejected_isolated;       /* reject: isolated by an operator */
    uint64_t successes;               /* recorded outcomes ... */
    uint64_t failures;
    uint64_t ignored;
    uint64_t slow;              /* ... of which slower than slow_call_ns */
    uint64_t late;              /* records of permits from an earlier state: not counted */
    uint64_t probe_timeouts;    /* half-opens ended by a probe that never reported back */
    uint64_t trips_consecutive; /* closed -> open, by rule */
    uint64_t trips_failure_rate;
    uint64_t trips_slow_rate;
    uint64_t reopens;          /* half-open -> open */
    uint64_t closes;           /* half-open -> closed */
    uint64_t transitions;      /* every state change, manual ones included */
    uint32_t level;            /* current open-interval backoff level */
    uint32_t probes_in_flight; /* probe permits out in this half-open */
    uint32_t window_calls;     /* calls in the window, as of the stats call */
    uint32_t window_failures;
    uint32_t window_slow;
    uint32_t consecutive; /* failures in a row so far */
};

/** The defaults documented on each field of struct herd_breaker_config. */
void herd_breaker_config_default(struct herd_breaker_config *cfg);

/**
 * Create a CLOSED breaker. @p cfg (copied) may be NULL for the defaults.
 * @return 0 with the breaker in @p *out; -HERD_EINVAL when a field is out of its range;
 *         -HERD_ENOMEM; or a negated errno when the mutex could not be made.
 */
int herd_breaker_new(const struct herd_breaker_config *cfg, struct herd_breaker **out);

/** Free @p b (NULL is fine); no thread may be inside a call. */
void herd_breaker_free(struct herd_breaker *b);

/**
 * May a call start at @p now_ns? Moves OPEN to HALF_OPEN when the interval has passed
 * and fails probes that timed out. @p rng (the caller's; not shared between threads) is
 * drawn from only to jitter an open interval. Always writes @p *permit.
 * @return HERD_BREAKER_GO (make the call, then record @p permit exactly once), or a
 *         reject reason with permit->retry_after_ns set; HERD_BREAKER_REJECT_OPEN with
 *         nothing taken or written for a NULL @p rng or @p permit (herd/error.h).
 */
enum herd_breaker_verdict herd_breaker_allow(struct herd_breaker *b, int64_t now_ns,
                                             struct herd_rng *rng,
                                             struct herd_breaker_permit *permit);

/**
 * Report how the call of @p permit (from a GO; consumed here) ended at @p now_ns after
 * @p latency_ns. A permit from an earlier state (the breaker tripped, closed or was moved
 * by hand since) is counted as late and changes nothing.
 */
void herd_breaker_record(struct herd_breaker *b, struct herd_breaker_permit *permit,
                         enum herd_breaker_outcome outcome, int64_t latency_ns, int64_t now_ns);

/** The state as of the last call into @p b (transitions happen inside calls only). */
enum herd_breaker_state herd_breaker_state(struct herd_breaker *b);

/** Operator: force open at @p now_ns; every call is rejected until force_close or reset. */
void herd_breaker_isolate(struct herd_breaker *b, int64_t now_ns);

/** Operator: force closed at @p now_ns; admit everything and never trip until reset. */
void herd_breaker_force_close(struct herd_breaker *b, int64_t now_ns);

/** Operator: back to automatic CLOSED at @p now_ns, with an empty window and level 0. */
void herd_breaker_reset(struct herd_breaker *b, int64_t now_ns);

/** Copy the counters into @p out, with the window rolled to @p now_ns. */
void herd_breaker_stats(struct herd_breaker *b, int64_t now_ns, struct herd_breaker_stats *out);

/** "closed", "open", "half-open", "isolated", "forced-closed"; "?" otherwise. */
const char *herd_breaker_state_name(enum herd_breaker_state s);

/** "go", "open", "half-open-full", "isolated"; "?" otherwise. */
const char *herd_breaker_verdict_name(enum herd_breaker_verdict v);

#endif
