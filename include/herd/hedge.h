/* herd/hedge.h — a hedging gate: when to send a second copy of a slow request.
 *
 * Hedged requests (Dean and Barroso, "The Tail at Scale", CACM 2013): if a request has
 * not answered after the delay most requests answer within (say the 95th percentile),
 * send the same request again, use whichever answers first and cancel the other. It cuts
 * the tail at a few percent of extra load — as long as the extra load stays a few
 * percent. When a service slows down as a whole, every request passes the delay and
 * naive hedging doubles the load on a struggling service: a herd of its own making.
 * This gate prevents that two ways:
 *   - hedges draw on a retry budget SHARED with the retries (herd/budget.h), checked and
 *     taken in one call under the budget's lock, so under load — when retries have
 *     spent the budget — hedging switches itself off (gRPC A6 does the same: hedges
 *     stop when retry throttling does);
 *   - only requests the caller marks idempotent are hedged (a hedge may run twice).
 * The delay is fixed, or the chosen percentile of the latencies recorded with
 * herd_hedge_record(), kept in a small fixed log-linear histogram (8 buckets per
 * doubling: the delay is at most 12.5 % above the true percentile) that halves its
 * counts every `window` samples so it follows a drifting latency. Until `min_samples`
 * latencies are in, the fixed delay is used.
 *
 * Record each attempt's own latency (from its own send). For an attempt cancelled
 * because the other copy won, record the time it had run when cancelled: it is a lower
 * bound, and it keeps the slow tail in the histogram. Dropping those samples would pull
 * the percentile down, which hedges more, which cancels more slow attempts ...
 *
 * Decisions are reason codes: HERD_HEDGE_GO (0) or a positive enum herd_hedge_reason,
 * each counted. Cost: decide is two atomic loads plus the budget's decide (one mutex);
 * record takes the gate's own mutex for a bucket increment and, every 32 samples, a
 * scan of the ~300 buckets to refresh the delay. One allocation at herd_hedge_new().
 * Thread-safe: any thread may call any function.
 */
#ifndef HERD_HEDGE_H
#define HERD_HEDGE_H

#include <stdbool.h>
#include <stdint.h>

#include <herd/alloc.h>
#include <herd/budget.h>

struct herd_hedge;

enum herd_hedge_reason {
    HERD_HEDGE_GO = 0,
    HERD_HEDGE_DISABLED,       /* switched off with herd_hedge_set_enabled() */
    HERD_HEDGE_NOT_IDEMPOTENT, /* the request may not run twice */
    HERD_HEDGE_LIMIT,          /* this request already has max_hedges hedges */
    HERD_HEDGE_TOO_EARLY,      /* the delay has not passed yet: see herd_hedge_due() */
    HERD_HEDGE_BUDGET,         /* the shared retry budget said no */
    HERD_HEDGE_NREASONS
};

struct herd_hedge_config {
    int64_t delay_ns;           /* fixed delay, and the delay until min_samples are in; >= 0 */
    double percentile;          /* 0: always the fixed delay; else in (0, 100), e.g. 95 */
    int64_t min_delay_ns;       /* never hedge sooner than this, whatever the percentile */
    uint32_t min_samples;       /* latencies needed before the percentile is used */
    uint32_t window;            /* halve the histogram every this many samples; >= 64 */
    uint32_t max_hedges;        /* hedges per request; >= 1 */
    struct herd_budget *budget; /* borrowed, shared with retries, must outlive the gate;
                                   NULL: unlimited hedging (for experiments only) */
    const struct herd_allocator *alloc; /* NULL: libc */
};

struct herd_hedge_stats {
    uint64_t hedged;                        /* hedges granted */
    uint64_t rejected[HERD_HEDGE_NREASONS]; /* decide() refusals by reason ([0] unused) */
    uint64_t samples;                       /* latencies recorded */
    int64_t delay_ns;                       /* the current delay */
};

/**
 * Fill @p cfg with the defaults: delay 10 ms, percentile 95, min_delay 1 ms,
 * min_samples 100, window 1024, max_hedges 1, no budget (set one), libc allocator.
 */
void herd_hedge_defaults(struct herd_hedge_config *cfg);

/**
 * Create a gate from @p cfg (copied; the budget pointer is borrowed; NULL: the defaults).
 * @return 0 with the gate in @p *out; -HERD_EINVAL for a NULL @p out or a value out of
 *         range (a zeroed config: window and max_hedges 0);
 *         -HERD_ENOMEM; or a negated errno if the mutex could not be made.
 */
int herd_hedge_new(const struct herd_hedge_config *cfg, struct herd_hedge **out);

/** Free @p h (not its budget): no thread may be inside a call. NULL is fine. */
void herd_hedge_free(struct herd_hedge *h);

/**
 * May the request first sent at @p sent_ns, which has @p hedges_sent hedges already,
 * send another now (@p now_ns)? The next hedge is due at sent + (hedges_sent + 1) x
 * delay. The budget is asked last, so a refusal for any other reason takes nothing.
 * @return HERD_HEDGE_GO with @p *t filled (hand it to herd_hedge_done() when that hedge
 *         finishes or is cancelled), a positive enum herd_hedge_reason (@p *t not
 *         written), or -HERD_EINVAL for a NULL @p t.
 */
int herd_hedge_decide(struct herd_hedge *h, bool idempotent, uint32_t hedges_sent, int64_t sent_ns,
                      int64_t now_ns, struct herd_budget_ticket *t);

/** The hedge granted with @p t finished with @p outcome: releases it to the budget. */
void herd_hedge_done(struct herd_hedge *h, struct herd_budget_ticket *t,
                     enum herd_budget_outcome outcome, int64_t now_ns);

/** When the next hedge of a request sent at @p sent_ns with @p hedges_sent hedges is due. */
int64_t herd_hedge_due(struct herd_hedge *h, int64_t sent_ns, uint32_t hedges_sent);

/** Add one attempt's latency (ns, >= 0; larger than ~18 min counts as ~18 min). */
void herd_hedge_record(struct herd_hedge *h, int64_t latency_ns);

/** The current delay: the configured percentile, or the fixed delay. */
int64_t herd_hedge_delay(struct herd_hedge *h);

/** Switch the gate on or off (a kill switch; off: every decide is DISABLED). */
void herd_hedge_set_enabled(struct herd_hedge *h, bool on);

/** Copy the counters into @p out. */
void herd_hedge_stats(struct herd_hedge *h, struct herd_hedge_stats *out);

/** A short name for a decide() result ("go", "not_idempotent" ...). Never NULL. */
const char *herd_hedge_reason_name(int reason);

#endif
