/* herd/budget.h — retry budgets: how many retries (and hedges) a client may add.
 *
 * Backoff spreads a client's retries in time; a budget bounds how many there are, so
 * that when a dependency fails, the fleet's retries cannot multiply its load (the
 * "retry storm" herd: every layer retrying three times turns one failure into 3^depth
 * requests). Four published models, behind one API:
 *
 *   AWS      the AWS SDKs' "standard" retry quota: a bucket of 500 tokens; a retry
 *            costs 5, a retry after a timeout 10; a retry that succeeds refunds its own
 *            cost, a request that succeeds at its first attempt adds 1 (capped at 500).
 *            As implemented by aws-sdk-js-v3 middleware-retry (defaultRetryQuota.ts:
 *            INITIAL_RETRY_TOKENS 500, RETRY_COST 5, TIMEOUT_RETRY_COST 10,
 *            NO_RETRY_INCREMENT 1) and aws-sdk-go-v2 aws/retry (RetryCost,
 *            RetryTimeoutCost, NoRetryIncrement): the success refunds the cost of the
 *            retry that succeeded only, not of earlier failed retries of the same call.
 *   FINAGLE  Twitter Finagle's RetryBudget(): about 20 % of requests may be retried, on
 *            top of a floor of 10 retries/s, over a 10 s window. Each request deposits,
 *            each retry withdraws 1/ratio deposits; deposits and withdrawals expire with
 *            the window, which is kept in 10 time buckets (Finagle's WindowedAdder).
 *   GRPC     gRPC proposal A6 retry throttling: token_count starts at max_tokens (10);
 *            each failed attempt takes 1, each success gives token_ratio (0.1), clamped
 *            to [0, max_tokens]; retries and hedges are allowed only while
 *            token_count > max_tokens / 2. With max 10: failures 1-4 may retry, the 5th
 *            is throttled, and one success (5 -> 5.1) re-enables retries.
 *   ENVOY    Envoy's retry budget: retries in flight <= max(20 % of active requests, 3)
 *            (budget_percent 20, min_retry_concurrency 3).
 *
 * The calls, for every model (models ignore what they do not need):
 *   begin()   a request is sent for the first time   (Finagle deposits, Envoy: active++)
 *   record()  its FIRST attempt finished with an outcome         (AWS +1, gRPC +-)
 *   decide()  may I retry (or hedge)? checks and takes in one locked step; on GO the
 *             retry is in flight from this moment, INCLUDING the time it waits in
 *             backoff, until release()                      (AWS, Finagle, Envoy take)
 *   release() that retry/hedge attempt finished (or was abandoned) with an outcome
 *   end()     the request is over, whatever happened      (Envoy: active--)
 *
 * A budget never turns backoff off: a granted retry still waits what herd/backoff.h
 * says, and a denied one is not retried at all. The two compose — backoff decides when,
 * the budget decides whether.
 *
 * Decisions are reason codes, not errors: decide() returns HERD_BUDGET_GO (0) or a
 * positive enum herd_budget_reason, each counted in struct herd_budget_stats.
 *
 * Cost: every call takes the budget's one mutex for a few integer operations (tens of
 * ns uncontended; see bench/bench_budget.c), except record() for Finagle and Envoy, which
 * ignore it and take no lock; the Finagle model also advances its bucket
 * ring. One allocation at herd_budget_new(), none after. Thread-safe: any thread may
 * call any function; a ticket belongs to the caller that got it.
 */
#ifndef HERD_BUDGET_H
#define HERD_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#include <herd/alloc.h>

struct herd_budget;

enum herd_budget_model {
    HERD_BUDGET_AWS = 0,
    HERD_BUDGET_FINAGLE,
    HERD_BUDGET_GRPC,
    HERD_BUDGET_ENVOY,
};

/** What an attempt came to (record() and release()). */
enum herd_budget_outcome {
    HERD_BUDGET_SUCCESS = 0, /* the attempt succeeded */
    HERD_BUDGET_FAILURE,     /* it failed with a retryable error (gRPC: -1 token) */
    HERD_BUDGET_TIMEOUT,     /* it timed out (gRPC: -1 token; AWS: retry next with kind TIMEOUT) */
    HERD_BUDGET_CANCELED,    /* abandoned (a hedge that lost the race, a caller gone): no signal */
};

/** What decide() is asked for. */
enum herd_budget_kind {
    HERD_BUDGET_RETRY = 0,     /* a retry after a failure */
    HERD_BUDGET_RETRY_TIMEOUT, /* a retry after a timeout (AWS: costs timeout_cost) */
    HERD_BUDGET_HEDGE,         /* an extra attempt while the first still runs (herd/hedge.h) */
};

/** decide()'s answer: GO, or why not. Never an error code. */
enum herd_budget_reason {
    HERD_BUDGET_GO = 0,
    HERD_BUDGET_QUOTA,       /* AWS: fewer tokens left than the retry costs */
    HERD_BUDGET_RATIO,       /* Finagle: the window's balance is below one retry */
    HERD_BUDGET_THROTTLED,   /* gRPC A6: token_count <= max_tokens / 2 */
    HERD_BUDGET_CONCURRENCY, /* Envoy: retries in flight already at the cap */
    HERD_BUDGET_NREASONS
};

struct herd_budget_config {
    enum herd_budget_model model;
    struct {
        int32_t tokens;         /* capacity and initial balance; 500 */
        int32_t retry_cost;     /* 5 */
        int32_t timeout_cost;   /* 10 */
        int32_t success_refund; /* added by a first-attempt success; 1 */
    } aws;
    struct {
        double ratio;      /* retries per request, 0..1000; 0.2 */
        int32_t min_per_s; /* floor, retries per second of window; 10 */
        int64_t window_ns; /* deposits expire after about this; 10 s, in [1 s, 60 s] */
    } finagle;
    struct {
        int32_t max_tokens; /* 10 */
        double token_ratio; /* per success, 3 decimals kept as in gRPC; 0.1 */
    } grpc;
    struct {
        double percent;          /* of active requests, 0..100; 20 */
        int32_t min_concurrency; /* 3 */
    } envoy;
    const struct herd_allocator *alloc; /* NULL: libc */
};

/** A granted retry or hedge: caller-owned, handed back to release(). Fields private. */
struct herd_budget_ticket {
    int32_t cost; /* AWS tokens taken (refunded on success) */
    uint8_t kind; /* enum herd_budget_kind */
    bool held;    /* between a GO and its release */
};

struct herd_budget_stats {
    uint64_t requests;                       /* begin() calls */
    uint64_t retries;                        /* retries granted */
    uint64_t hedges;                         /* hedges granted */
    uint64_t rejected[HERD_BUDGET_NREASONS]; /* rejections by reason ([0] unused) */
    uint64_t rejected_hedges;                /* of those, asked for a hedge */
    int64_t balance;        /* AWS tokens; gRPC token_count x 1000; Finagle: retries allowed now;
                               Envoy: retries that may still start now */
    uint32_t in_flight;     /* granted retries and hedges not yet released */
    uint32_t active;        /* begun, not ended requests */
    uint32_t max_in_flight; /* the highest in_flight ever seen */
};

/** Fill @p cfg with @p model's published defaults (above); other models' fields too. */
void herd_budget_defaults(struct herd_budget_config *cfg, enum herd_budget_model model);

/**
 * Create a budget at @p now_ns from @p cfg (copied; start from herd_budget_defaults();
 * NULL: the AWS model's defaults).
 * @return 0 with the budget in @p *out; -HERD_EINVAL for a NULL @p out or a value out of
 *         its documented range; -HERD_ENOMEM; or a negated errno if the mutex could not be made.
 */
int herd_budget_new(const struct herd_budget_config *cfg, int64_t now_ns, struct herd_budget **out);

/** Free @p b: no thread may be inside a call. NULL is fine. */
void herd_budget_free(struct herd_budget *b);

/** A request's first attempt is sent at @p now_ns. */
void herd_budget_begin(struct herd_budget *b, int64_t now_ns);

/** The request begun with herd_budget_begin() is over (after its last attempt). */
void herd_budget_end(struct herd_budget *b, int64_t now_ns);

/** A request's FIRST attempt finished with @p outcome (retries use release()). */
void herd_budget_record(struct herd_budget *b, enum herd_budget_outcome outcome, int64_t now_ns);

/**
 * May the caller start a retry (or hedge) of @p kind now? Checks and takes under the
 * budget's lock, so two threads can never both take the last token.
 * @return HERD_BUDGET_GO with @p *t filled (the attempt counts as in flight until
 *         herd_budget_release(), including while it waits in backoff), a positive
 *         enum herd_budget_reason (@p *t not written), or -HERD_EINVAL for a NULL @p t or
 *         an unknown @p kind.
 */
int herd_budget_decide(struct herd_budget *b, enum herd_budget_kind kind, int64_t now_ns,
                       struct herd_budget_ticket *t);

/**
 * The retry or hedge granted with @p t finished with @p outcome (CANCELED when it was
 * abandoned, even before it was sent). Refunds AWS tokens on success; moves gRPC's
 * token_count; ends its time in flight. Consumes @p t (released twice: assertion).
 */
void herd_budget_release(struct herd_budget *b, struct herd_budget_ticket *t,
                         enum herd_budget_outcome outcome, int64_t now_ns);

/** A consistent snapshot of the counters and the balance at @p now_ns. */
void herd_budget_stats(struct herd_budget *b, int64_t now_ns, struct herd_budget_stats *out);

/** The model's name ("aws", "finagle", "grpc", "envoy"). Never NULL. */
const char *herd_budget_model_name(enum herd_budget_model model);

/** A short name for a decide() result ("go", "quota", "ratio" ...). Never NULL. */
const char *herd_budget_reason_name(int reason);

#endif
