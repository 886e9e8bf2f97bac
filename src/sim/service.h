/* service.h — the simulated service: c workers behind a bounded FIFO queue.
 *
 * What it is for. The resource a herd lands on: an origin database, a backend, an API.
 * Requesters submit requests; each is served by one of c workers for a service time
 * drawn from a distribution and stretched by the load at the moment it starts; the
 * requester hears back through its completion callback.
 *
 * Model.
 *   - Admission: if a worker is free the request starts at once; else it waits in a
 *     FIFO of at most queue_cap requests. When the queue is full the arrival is either
 *     rejected (herd_service_submit returns -HERD_EREJECT: a fast 503 the requester
 *     sees) or dropped (accepted and silently lost: the requester only learns by its
 *     own timeout). Both are counted.
 *   - Service time: deterministic, exponential or log-normal with mean service_ns
 *     (the time of one request alone), times a slowdown factor fixed at start:
 *         slowdown = (1 + linear·(h − 1)) · (1 + σ(n − 1) + κ·n(n − 1))
 *     where n is the number of requests in service including this one (or, with
 *     usl_on_held, every request held: a database's coherency cost grows with all the
 *     connections inside it, not with its cores) and h the number the service holds
 *     (queued + in service). The second factor is the
 *     Universal Scalability Law: with n in service the service completes
 *     C(n) = n / (1 + σ(n−1) + κn(n−1)) times the work of one request alone, so each
 *     of the n progresses at C(n)/n of its solo speed, i.e. takes 1 + σ(n−1) + κn(n−1)
 *     times longer. σ = κ = 0 is a perfect c-server queue (M/M/c when exponential);
 *     κ > 0 makes throughput fall past n* = sqrt((1−σ)/κ) — adding concurrency then
 *     loses capacity. The first factor models cost that grows with everything the
 *     service holds, queued requests included (memory, GC, lock and scheduler
 *     pressure): a long queue slows the work itself. Fixing the factor at start is an
 *     approximation (a request does not speed up when others finish); it keeps every
 *     request O(1) and is exact whenever the factors are 0, as in the closed-form tests.
 *   - Abandonment: a requester that gives up (timeout) calls herd_service_abandon().
 *     The service keeps the request — like a real server it does not know — and serves
 *     it anyway: that service time is counted as wasted work (wasted, wasted_ns) and no
 *     callback is made. Wasted work still occupying workers while retries pile on is
 *     what keeps a collapse going after its trigger is gone (metastability).
 *   - Mitigations: shed_wait_ns sheds a request that waited longer than that when a
 *     worker picks it (the requester hears -HERD_ESHED at once, no work is spent);
 *     skip_abandoned lets a worker skip requests whose client has gone (a server that
 *     checks the connection before starting work).
 *
 * Cost: O(1) per request (a free-list record, a ring-buffer slot, one or two RNG
 * draws, one engine event), 48 bytes per request held plus 4 per queue slot.
 * Thread safety: none; a service belongs to one struct herd_sim.
 */
#ifndef HERD_SIM_SERVICE_H
#define HERD_SIM_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include <herd/rng.h>

#include "../report/hist.h"
#include "engine.h"

enum herd_service_dist {
    HERD_SERVICE_DETERMINISTIC, /* exactly service_ns (M/D/c) */
    HERD_SERVICE_EXPONENTIAL,   /* mean service_ns (M/M/c) */
    HERD_SERVICE_LOGNORMAL,     /* mean service_ns, log-sd lognormal_sigma: a long tail */
};

enum herd_service_overflow {
    HERD_SERVICE_REJECT, /* full queue: the submit fails with -HERD_EREJECT */
    HERD_SERVICE_DROP,   /* full queue: accepted and lost; no callback ever */
};

struct herd_service_config {
    int workers;       /* c >= 1 */
    int64_t queue_cap; /* waiting room; < 0: unbounded, 0: none */
    enum herd_service_overflow overflow;
    enum herd_service_dist dist;
    int64_t service_ns;        /* mean service time of a request alone, >= 0 */
    double lognormal_sigma;    /* HERD_SERVICE_LOGNORMAL: sd of log(time) */
    double linear;             /* slowdown per extra request held, >= 0 */
    double usl_sigma;          /* USL contention σ >= 0 */
    double usl_kappa;          /* USL coherency κ >= 0 */
    bool usl_on_held;          /* USL's n counts every request held (queued + in service),
                                  not only those in service: a database whose N open
                                  connections all contend for its locks and caches while the
                                  workers (cores) only cap how many progress at once */
    int64_t usl_held_cap;      /* with usl_on_held: count at most this many (a database's
                                  max_connections; the rest wait outside it); 0: no cap */
    int64_t shed_wait_ns;      /* > 0: shed requests that waited longer */
    bool skip_abandoned;       /* skip queued requests whose client gave up */
    uint64_t stream;           /* RNG stream id (herd_sim_rng) */
    struct herd_hist *latency; /* borrowed, may be NULL: arrival to completion
                                * of every request served, wasted ones too */
    /* May be NULL: called with a request's (ctx, tag) as given to submit when its
     * completion is likely the next event (engine.h, herd_sim_prefetch), to prefetch
     * what its done callback will touch. Reads only. */
    void (*prefetch)(void *ctx, uint64_t tag);
};

/* Counters since init. served = wasted + useful completions. */
struct herd_service_stats {
    uint64_t arrivals;     /* submits, whatever became of them */
    uint64_t served;       /* completed service */
    uint64_t wasted;       /* ... of which the requester had already given up */
    uint64_t rejected;     /* full queue, REJECT */
    uint64_t dropped;      /* full queue, DROP */
    uint64_t shed;         /* waited longer than shed_wait_ns */
    uint64_t skipped;      /* abandoned while queued and skipped (skip_abandoned) */
    uint64_t waited;       /* arrivals that found every worker busy and queued */
    int64_t busy_ns;       /* sum of service times (worker-ns of work) */
    int64_t wasted_ns;     /* ... spent on requests nobody waited for any more */
    double wait_ns_sum;    /* sum of queueing delays of requests that started service */
    double sojourn_ns_sum; /* sum of arrival-to-completion times of served requests */
    int peak_busy;         /* largest number in service at once */
    int64_t peak_queue;    /* largest queue length */
};

/** Completion: @p status 0 (served) or -HERD_ESHED; @p tag as given to submit;
 *  @p sojourn_ns how long the request was in the service (arrival to now: the time in
 *  system when served, the wait when shed). */
typedef void (*herd_service_done_fn)(struct herd_sim *sim, void *ctx, uint64_t tag, int status,
                                     int64_t sojourn_ns);

struct herd_service_req; /* private record, service.c */

struct herd_service {
    struct herd_sim *sim;           /* borrowed; must outlive the service */
    struct herd_service_config cfg; /* copy */
    struct herd_rng rng;            /* stream cfg.stream of the run seed */
    struct herd_service_stats st;
    int busy;                           /* requests in service */
    struct herd_service_req *reqs;      /* owned: records, indexed by id's low half */
    uint32_t nreqs, capreqs, free_head; /* free list threaded through the records */
    uint32_t *ring;                     /* owned: queued record indices, FIFO */
    uint32_t ring_cap, ring_head, ring_len;
};

/**
 * Set up @p svc on @p sim (borrowed) with a copy of @p cfg.
 * @return 0, -HERD_EINVAL for a bad config, or -HERD_ENOMEM.
 */
int herd_service_init(struct herd_service *svc, struct herd_sim *sim,
                      const struct herd_service_config *cfg);

/** Free what @p svc owns. Its pending completions must not run afterwards. */
void herd_service_fini(struct herd_service *svc);

/**
 * A request arrives now. @p done(sim, ctx, tag, status, sojourn) (may be NULL) is called when it
 * completes or is shed (not when it is dropped, nor when its requester abandoned it);
 * @p ctx is borrowed. The callback may submit again: that request queues behind any
 * already waiting. @p id (may be NULL) receives a handle for herd_service_abandon, 0 when the
 * request was dropped.
 * @return 0 (accepted, or dropped: see stats), -HERD_EREJECT (queue full), or
 *         -HERD_ENOMEM / the engine's sticky error.
 */
int herd_service_submit(struct herd_service *svc, herd_service_done_fn done, void *ctx,
                        uint64_t tag, uint64_t *id);

/**
 * The requester of @p id gave up. The service is not told in reality, so it carries
 * on (see the file comment); the callback will not be made.
 * @return 0, or -HERD_ENOENT if the request already completed, was shed or dropped.
 */
int herd_service_abandon(struct herd_service *svc, uint64_t id);

/** Requests in service now. */
static inline int herd_service_busy(const struct herd_service *svc)
{
    return svc->busy;
}

/** Requests waiting in the queue now (abandoned ones included until a worker sees them). */
static inline int64_t herd_service_queued(const struct herd_service *svc)
{
    return svc->ring_len;
}

static inline const struct herd_service_stats *herd_service_stats(const struct herd_service *svc)
{
    return &svc->st;
}

#endif
