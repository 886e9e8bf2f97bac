/* herd/limiter.h — adaptive concurrency limit: how many requests may be in flight.
 *
 * Protects a service (or a client's view of one) from a herd by capping the requests in
 * flight at a limit that the limiter learns from outcomes, as TCP learns its congestion
 * window (Netflix concurrency-limits). An acquire beyond the limit is rejected at once,
 * with its own reason and counter, instead of queueing until everything times out.
 *
 * Two algorithms:
 *  - AIMD (loss based): +1 after each WINDOW of successes — `limit` successes of requests
 *    that started while at least half the limit was in flight (not app-limited) — as TCP
 *    congestion avoidance grows by one segment per round trip; ×backoff_ratio (0.9) on a
 *    drop or timeout. Netflix's AIMDLimit adds 1 per success, which doubles the limit
 *    every round trip when the service is busy; one per window grows linearly.
 *  - Gradient2 (delay based): per sampling window (window_ns, at least window_min_samples
 *    samples) the average RTT is the short RTT; the long RTT is an exponential moving
 *    average of it over long_window windows (plain mean for the first 10); then
 *        gradient = max(0.5, min(1, rtt_tolerance · long / short))
 *        limit    = limit·(1 − smoothing) + (limit·gradient + queue_size)·smoothing
 *    skipped while fewer than half the limit are in flight. When long > 2·short (latency
 *    has recovered) the long RTT decays ×0.95 per window so the limit recovers sooner.
 *
 * Signals are kept apart (release's outcome):
 *  - SUCCESS with an RTT in [min_rtt_ns, timeout_ns]: a latency sample (and an AIMD
 *    success). Slower than timeout_ns: a timeout. Faster than min_rtt_ns (a cache hit, a
 *    short-circuit): ignored, so free answers never inflate the limit.
 *  - DROPPED (the server shed it, 429/503) and TIMEOUT: a loss. Both algorithms cut the
 *    limit ×backoff_ratio; the RTT is not a sample (a timeout's RTT is the timeout, not the
 *    service's latency). One cut per congestion event: a loss from a request that started
 *    before the last cut does not cut again (TCP NewReno's rule), so 100 requests timing
 *    out together cut the limit once, not 0.9^100.
 *  - IGNORE: the request ended for a reason unrelated to capacity (client error,
 *    cancelled): it leaves the in-flight count and nothing else.
 *
 * Time is an input (now_ns on a monotonic clock); nothing sleeps or reads a clock.
 * Thread safety and cost: acquire and release each take the limiter's one pthread mutex
 * (about 20 ns uncontended; bench/bench_limiter.c measures 1 and 2 threads). Gradient2's
 * update at the end of a window adds a few floating-point operations. No allocation.
 */
#ifndef HERD_LIMITER_H
#define HERD_LIMITER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

enum herd_limiter_algo {
    HERD_LIMITER_AIMD = 0,
    HERD_LIMITER_GRADIENT2 = 1,
};

/** acquire's decision: GO is 0, a reject is positive and has its own counter. */
enum herd_limiter_decision {
    HERD_LIMITER_GO = 0,
    HERD_LIMITER_LIMIT = 1, /* the limit is reached: shed this request (not a server error) */
};

/** How a request ended; release() feeds it to the algorithm. */
enum herd_limiter_outcome {
    HERD_LIMITER_SUCCESS = 0, /* answered: its RTT is a sample */
    HERD_LIMITER_DROPPED = 1, /* shed or rejected by the service: a loss */
    HERD_LIMITER_TIMEOUT = 2, /* gave up waiting: a loss, RTT unknown */
    HERD_LIMITER_IGNORE = 3,  /* ended for another reason: no signal */
};

/** Zero fields take the defaults (Netflix concurrency-limits' where it has one). */
struct herd_limiter_config {
    enum herd_limiter_algo algo;
    uint32_t initial_limit; /* 0: 20 */
    uint32_t min_limit;     /* 0: 20; the limit never goes below (>= 1) */
    uint32_t max_limit;     /* 0: 200; nor above */
    double backoff_ratio;   /* cut on a loss, in [0.5, 1); 0: 0.9 */
    int64_t timeout_ns;     /* a SUCCESS slower than this is a timeout; 0: 5 s */
    int64_t min_rtt_ns;     /* a SUCCESS faster is ignored; 0: 100 µs; < 0: none */
    /* Gradient2 only */
    double smoothing;            /* in (0, 1]; 0: 0.2 */
    double rtt_tolerance;        /* >= 1; 0: 1.5 */
    uint32_t queue_size;         /* growth allowed per update; 0: 4 */
    uint32_t long_window;        /* windows in the long RTT's average; 0: 600 */
    int64_t window_ns;           /* sampling window; 0: 1 s; < 0: update on every sample */
    uint32_t window_min_samples; /* a window closes with at least this many; 0: 10 */
};

struct herd_limiter_stats {
    uint64_t acquired;  /* GO */
    uint64_t rejected;  /* HERD_LIMITER_LIMIT */
    uint64_t successes; /* SUCCESS samples used */
    uint64_t fast;      /* SUCCESS below min_rtt_ns: ignored */
    uint64_t dropped;   /* DROPPED */
    uint64_t timeouts;  /* TIMEOUT, and SUCCESS slower than timeout_ns */
    uint64_t ignored;   /* IGNORE */
    uint64_t cuts;      /* multiplicative decreases */
    uint64_t windows;   /* Gradient2 windows closed (limit updates) */
};

/** Caller-owned handle on one admitted request; its fields are private. */
struct herd_limiter_token {
    int64_t start_ns;
    uint32_t inflight; /* in flight just after this acquire, itself included */
    uint32_t epoch;    /* the limiter's cut count when it started */
    bool held;
};

/** Caller-owned (init/fini); every field is private. */
struct herd_limiter {
    pthread_mutex_t mu;
    struct herd_limiter_config cfg;
    uint32_t limit; /* what acquire enforces */
    uint32_t inflight;
    uint32_t epoch;  /* cuts so far */
    uint32_t wins;   /* AIMD: successes towards the next +1 */
    double est;      /* Gradient2: the estimated limit */
    double long_rtt; /* Gradient2: ns */
    uint32_t long_n; /* windows in long_rtt so far (warm-up) */
    double win_sum;  /* current window: RTT sum, ns */
    uint32_t win_n, win_max_inflight;
    int64_t win_end_ns;
    struct herd_limiter_stats st;
};

/**
 * Set up @p l from @p cfg (NULL: AIMD with the defaults).
 * @return 0, -HERD_EINVAL (min > max, backoff_ratio outside [0.5, 1), smoothing outside
 *         (0, 1], rtt_tolerance < 1), or a negated errno from the mutex.
 */
int herd_limiter_init(struct herd_limiter *l, const struct herd_limiter_config *cfg);

/** Release @p l's mutex. No request may be in flight through it from another thread. */
void herd_limiter_fini(struct herd_limiter *l);

/**
 * Admit one request at @p now_ns if fewer than the limit are in flight.
 * @return HERD_LIMITER_GO with @p *token filled (release it exactly once), or
 *         HERD_LIMITER_LIMIT (@p *token not written).
 */
int herd_limiter_acquire(struct herd_limiter *l, int64_t now_ns, struct herd_limiter_token *token);

/**
 * The request of @p token ended at @p now_ns with @p outcome; feed the algorithm and
 * free its place. Consumes the token (a second release is an assertion).
 */
void herd_limiter_release(struct herd_limiter *l, struct herd_limiter_token *token,
                          enum herd_limiter_outcome outcome, int64_t now_ns);

/** The limit in force now. */
uint32_t herd_limiter_limit(struct herd_limiter *l);

/** Requests in flight now. */
uint32_t herd_limiter_inflight(struct herd_limiter *l);

/** Copy the counters into @p out. */
void herd_limiter_stats(struct herd_limiter *l, struct herd_limiter_stats *out);

#endif
