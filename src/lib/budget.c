/* budget.c — four retry-budget models behind one decide/release API; see herd/budget.h.
 *
 * Representation, per model (all integers, so a test can pin published sequences
 * exactly and two threads can never disagree by a rounding):
 *   AWS      tokens in [0, aws.tokens].
 *   FINAGLE  Finagle's own fixed point: a deposit is 1000 units, a withdrawal
 *            1000/ratio units (5000 for 20 %), and the reserve min_per_s x window_s x
 *            withdrawal units is always there. The balance is reserve + the sum of a
 *            ring of 10 buckets of window/10 each: a bucket is zeroed when the clock
 *            enters it again, so deposits and withdrawals count for 9 to 10 s of a 10 s
 *            window, as with Finagle's WindowedAdder. A retry needs balance >= one
 *            withdrawal.
 *   GRPC     token_count in thousandths, as grpc-java keeps it: max_tokens x 1000,
 *            success adds token_ratio x 1000 (rounded down), a failure takes 1000;
 *            clamped to [0, max]; allowed while count > max / 2 (in thousandths).
 *   ENVOY    in_flight <= max(floor(percent/100 x active), min_concurrency) at the
 *            moment a retry is granted (a later fall in active may leave more in flight
 *            than the new cap; they drain, and no new one starts until under it).
 * Invariants (under mu): 0 <= AWS tokens <= capacity; 0 <= gRPC count <= max;
 * in_flight == granted tickets not yet released; active == begin() - end().
 * Cost: one uncontended mutex round trip (~20 ns) plus a few integer operations; the
 * Finagle ring advance touches at most 10 buckets and only when a bucket boundary
 * was crossed. One allocation (the struct) at new().
 */
#include <herd/budget.h>
#include <herd/error.h>

#include "alloc_int.h"

#include <assert.h>
#include <pthread.h>

#define RING 10            /* Finagle's WindowedAdder slices */
#define FINAGLE_SCALE 1000 /* Finagle's TokenRetryBudget.ScaleFactor */
#define GRPC_SCALE 1000    /* grpc-java keeps three decimals of token_ratio */
#define NS_PER_S INT64_C(1000000000)

struct herd_budget {
    pthread_mutex_t mu;
    struct herd_budget_config cfg;
    const struct herd_allocator *alloc;
    /* AWS */
    int64_t tokens;
    /* FINAGLE */
    int64_t deposit, withdrawal, reserve;
    int64_t slice_ns;
    int64_t slice; /* absolute index of the slice the ring was last advanced to */
    int64_t ring[RING];
    /* GRPC */
    int64_t grpc_count, grpc_max, grpc_ratio;
    /* shared */
    uint32_t active, in_flight, max_in_flight;
    uint64_t requests, retries, hedges, rejected_hedges;
    uint64_t rejected[HERD_BUDGET_NREASONS];
};

void herd_budget_defaults(struct herd_budget_config *cfg, enum herd_budget_model model)
{
    if (!cfg)
        return;
    *cfg = (struct herd_budget_config){0};
    cfg->model = model;
    cfg->aws.tokens = 500;
    cfg->aws.retry_cost = 5;
    cfg->aws.timeout_cost = 10;
    cfg->aws.success_refund = 1;
    cfg->finagle.ratio = 0.2;
    cfg->finagle.min_per_s = 10;
    cfg->finagle.window_ns = 10 * NS_PER_S;
    cfg->grpc.max_tokens = 10;
    cfg->grpc.token_ratio = 0.1;
    cfg->envoy.percent = 20.0;
    cfg->envoy.min_concurrency = 3;
}

static bool valid(const struct herd_budget_config *c)
{
    switch (c->model) {
    case HERD_BUDGET_AWS:
        return c->aws.tokens >= 0 && c->aws.retry_cost >= 0 && c->aws.timeout_cost >= 0 &&
               c->aws.success_refund >= 0;
    case HERD_BUDGET_FINAGLE:
        /* Finagle's own bounds: ttl in [1 s, 60 s], percentCanRetry in [0, 1000]. */
        return c->finagle.ratio >= 0.0 && c->finagle.ratio <= 1000.0 && c->finagle.min_per_s >= 0 &&
               c->finagle.window_ns >= NS_PER_S && c->finagle.window_ns <= 60 * NS_PER_S;
    case HERD_BUDGET_GRPC:
        /* A6: max_tokens in (0, 1000], token_ratio > 0. */
        return c->grpc.max_tokens > 0 && c->grpc.max_tokens <= 1000 && c->grpc.token_ratio > 0.0 &&
               c->grpc.token_ratio <= 1000.0;
    case HERD_BUDGET_ENVOY:
        return c->envoy.percent >= 0.0 && c->envoy.percent <= 100.0 &&
               c->envoy.min_concurrency >= 0;
    }
    return false;
}

int herd_budget_new(const struct herd_budget_config *cfg, int64_t now_ns, struct herd_budget **out)
{
    struct herd_budget_config def;
    if (!cfg) {
        herd_budget_defaults(&def, HERD_BUDGET_AWS);
        cfg = &def;
    }
    if (!out || !valid(cfg))
        return -HERD_EINVAL;
    struct herd_budget *b = herd__calloc(cfg->alloc, 1, sizeof *b);
    if (!b)
        return -HERD_ENOMEM;
    int rc = pthread_mutex_init(&b->mu, NULL);
    if (rc != 0) {
        herd__free(cfg->alloc, b);
        return -rc;
    }
    b->cfg = *cfg;
    b->alloc = cfg->alloc;
    b->tokens = cfg->aws.tokens;

    /* Finagle: with no ratio, requests earn nothing and a retry costs 1 unit of reserve;
     * the reserve is scaled by whole seconds of window, as Finagle's ttl.inSeconds. */
    if (cfg->finagle.ratio > 0.0) {
        b->deposit = FINAGLE_SCALE;
        b->withdrawal = (int64_t)(FINAGLE_SCALE / cfg->finagle.ratio);
        if (b->withdrawal < 1)
            b->withdrawal = 1;
    } else {
        b->deposit = 0;
        b->withdrawal = 1;
    }
    b->reserve =
        (int64_t)cfg->finagle.min_per_s * (cfg->finagle.window_ns / NS_PER_S) * b->withdrawal;
    b->slice_ns = cfg->finagle.window_ns / RING;
    if (b->slice_ns <= 0)
        b->slice_ns = 1;
    b->slice = now_ns / b->slice_ns;

    b->grpc_max = (int64_t)cfg->grpc.max_tokens * GRPC_SCALE;
    b->grpc_ratio = (int64_t)(cfg->grpc.token_ratio * GRPC_SCALE);
    b->grpc_count = b->grpc_max;
    *out = b;
    return 0;
}

void herd_budget_free(struct herd_budget *b)
{
    if (!b)
        return;
    pthread_mutex_destroy(&b->mu);
    herd__free(b->alloc, b);
}

/* Finagle: zero the buckets the clock has entered since the last call. A clock that
 * steps back keeps using the current bucket, so nothing is ever counted twice. */
static void advance(struct herd_budget *b, int64_t now_ns)
{
    int64_t s = now_ns / b->slice_ns;
    if (now_ns < 0 && now_ns % b->slice_ns != 0)
        s--;
    if (s <= b->slice)
        return;
    int64_t steps = s - b->slice;
    if (steps > RING)
        steps = RING;
    for (int64_t i = 1; i <= steps; i++)
        b->ring[(uint64_t)(b->slice + i) % RING] = 0;
    b->slice = s;
}

static int64_t finagle_balance(struct herd_budget *b)
{
    int64_t sum = b->reserve;
    for (int i = 0; i < RING; i++)
        sum += b->ring[i];
    return sum;
}

static void finagle_put(struct herd_budget *b, int64_t units)
{
    b->ring[(uint64_t)b->slice % RING] += units;
}

static uint32_t envoy_cap(const struct herd_budget *b)
{
    double c = b->cfg.envoy.percent / 100.0 * (double)b->active;
    uint32_t cap = (uint32_t)c; /* Envoy truncates too */
    uint32_t min = (uint32_t)b->cfg.envoy.min_concurrency;
    return cap > min ? cap : min;
}

/* gRPC A6: an attempt's outcome moves token_count. */
static void grpc_outcome(struct herd_budget *b, enum herd_budget_outcome o)
{
    if (o == HERD_BUDGET_SUCCESS) {
        b->grpc_count += b->grpc_ratio;
        if (b->grpc_count > b->grpc_max)
            b->grpc_count = b->grpc_max;
    } else if (o == HERD_BUDGET_FAILURE || o == HERD_BUDGET_TIMEOUT) {
        b->grpc_count -= GRPC_SCALE;
        if (b->grpc_count < 0)
            b->grpc_count = 0;
    }
}

void herd_budget_begin(struct herd_budget *b, int64_t now_ns)
{
    assert(b);
    pthread_mutex_lock(&b->mu);
    b->requests++;
    b->active++;
    if (b->cfg.model == HERD_BUDGET_FINAGLE) {
        advance(b, now_ns);
        finagle_put(b, b->deposit);
    }
    pthread_mutex_unlock(&b->mu);
}

void herd_budget_end(struct herd_budget *b, int64_t now_ns)
{
    (void)now_ns;
    assert(b);
    pthread_mutex_lock(&b->mu);
    assert(b->active > 0 && "herd_budget_end without herd_budget_begin");
    b->active--;
    pthread_mutex_unlock(&b->mu);
}

void herd_budget_record(struct herd_budget *b, enum herd_budget_outcome outcome, int64_t now_ns)
{
    (void)now_ns;
    assert(b);
    if (outcome < HERD_BUDGET_SUCCESS || outcome > HERD_BUDGET_CANCELED)
        return;
    /* The model never changes after new(), so this needs no lock: Finagle and Envoy
     * learn nothing from a first attempt's outcome, and skip the mutex entirely. */
    if (b->cfg.model == HERD_BUDGET_FINAGLE || b->cfg.model == HERD_BUDGET_ENVOY)
        return;
    pthread_mutex_lock(&b->mu);
    if (b->cfg.model == HERD_BUDGET_AWS && outcome == HERD_BUDGET_SUCCESS) {
        b->tokens += b->cfg.aws.success_refund;
        if (b->tokens > b->cfg.aws.tokens)
            b->tokens = b->cfg.aws.tokens;
    } else if (b->cfg.model == HERD_BUDGET_GRPC) {
        grpc_outcome(b, outcome);
    }
    pthread_mutex_unlock(&b->mu);
}

int herd_budget_decide(struct herd_budget *b, enum herd_budget_kind kind, int64_t now_ns,
                       struct herd_budget_ticket *t)
{
    assert(b);
    if (!t || kind < HERD_BUDGET_RETRY || kind > HERD_BUDGET_HEDGE)
        return -HERD_EINVAL;
    int reason = HERD_BUDGET_GO;
    int32_t cost = 0;
    pthread_mutex_lock(&b->mu);
    switch (b->cfg.model) {
    case HERD_BUDGET_AWS:
        cost = kind == HERD_BUDGET_RETRY_TIMEOUT ? b->cfg.aws.timeout_cost : b->cfg.aws.retry_cost;
        if (b->tokens < cost)
            reason = HERD_BUDGET_QUOTA;
        else
            b->tokens -= cost;
        break;
    case HERD_BUDGET_FINAGLE:
        advance(b, now_ns);
        if (finagle_balance(b) < b->withdrawal)
            reason = HERD_BUDGET_RATIO;
        else
            finagle_put(b, -b->withdrawal);
        break;
    case HERD_BUDGET_GRPC:
        if (b->grpc_count <= b->grpc_max / 2)
            reason = HERD_BUDGET_THROTTLED;
        break;
    case HERD_BUDGET_ENVOY:
        if (b->in_flight >= envoy_cap(b))
            reason = HERD_BUDGET_CONCURRENCY;
        break;
    }
    if (reason == HERD_BUDGET_GO) {
        b->in_flight++;
        if (b->in_flight > b->max_in_flight)
            b->max_in_flight = b->in_flight;
        if (kind == HERD_BUDGET_HEDGE)
            b->hedges++;
        else
            b->retries++;
    } else {
        b->rejected[reason]++;
        if (kind == HERD_BUDGET_HEDGE)
            b->rejected_hedges++;
    }
    pthread_mutex_unlock(&b->mu);
    if (reason == HERD_BUDGET_GO) {
        t->cost = cost;
        t->kind = (uint8_t)kind;
        t->held = true;
    }
    return reason;
}

void herd_budget_release(struct herd_budget *b, struct herd_budget_ticket *t,
                         enum herd_budget_outcome outcome, int64_t now_ns)
{
    (void)now_ns;
    assert(b);
    if (!t || outcome < HERD_BUDGET_SUCCESS || outcome > HERD_BUDGET_CANCELED)
        return;
    assert(t->held && "budget ticket released twice or never granted");
    pthread_mutex_lock(&b->mu);
    assert(b->in_flight > 0);
    b->in_flight--;
    if (b->cfg.model == HERD_BUDGET_AWS && outcome == HERD_BUDGET_SUCCESS) {
        b->tokens += t->cost;
        if (b->tokens > b->cfg.aws.tokens)
            b->tokens = b->cfg.aws.tokens;
    } else if (b->cfg.model == HERD_BUDGET_GRPC) {
        grpc_outcome(b, outcome);
    }
    pthread_mutex_unlock(&b->mu);
    t->held = false;
}

void herd_budget_stats(struct herd_budget *b, int64_t now_ns, struct herd_budget_stats *out)
{
    assert(b);
    if (!out)
        return;
    pthread_mutex_lock(&b->mu);
    out->requests = b->requests;
    out->retries = b->retries;
    out->hedges = b->hedges;
    for (int i = 0; i < HERD_BUDGET_NREASONS; i++)
        out->rejected[i] = b->rejected[i];
    out->rejected_hedges = b->rejected_hedges;
    out->in_flight = b->in_flight;
    out->active = b->active;
    out->max_in_flight = b->max_in_flight;
    switch (b->cfg.model) {
    case HERD_BUDGET_AWS:
        out->balance = b->tokens;
        break;
    case HERD_BUDGET_FINAGLE:
        advance(b, now_ns);
        out->balance = finagle_balance(b) / b->withdrawal;
        break;
    case HERD_BUDGET_GRPC:
        out->balance = b->grpc_count;
        break;
    case HERD_BUDGET_ENVOY: {
        uint32_t cap = envoy_cap(b);
        out->balance = cap > b->in_flight ? (int64_t)(cap - b->in_flight) : 0;
        break;
    }
    }
    pthread_mutex_unlock(&b->mu);
}

const char *herd_budget_model_name(enum herd_budget_model model)
{
    switch (model) {
    case HERD_BUDGET_AWS:
        return "aws";
    case HERD_BUDGET_FINAGLE:
        return "finagle";
    case HERD_BUDGET_GRPC:
        return "grpc";
    case HERD_BUDGET_ENVOY:
        return "envoy";
    }
    return "unknown";
}

const char *herd_budget_reason_name(int reason)
{
    switch (reason) {
    case HERD_BUDGET_GO:
        return "go";
    case HERD_BUDGET_QUOTA:
        return "quota";
    case HERD_BUDGET_RATIO:
        return "ratio";
    case HERD_BUDGET_THROTTLED:
        return "throttled";
    case HERD_BUDGET_CONCURRENCY:
        return "concurrency";
    }
    return "unknown";
}
