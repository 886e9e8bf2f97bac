/* test_fleet_mitigations.c — each mitigation the fleet simulator wires in, on its own,
 * against what its mechanism makes exact, a closed form or a bound (issue 12: "every
 * simulator model is checked against a closed form or a published result").
 *
 * Every model is built in C (fleet_models.h) and is as small as the property allows: no
 * network unless the property needs one, constant service times where a count can then
 * be exact. Some checks read the engine's trace (the hooks of herd_sim_fleet): with no
 * network an attempt's arrival at a service, the end of its work and its answer are
 * events at known times, so "sheds exactly those that waited longer" or "hedges exactly
 * the calls whose first attempt was slower than d" are checked attempt by attempt.
 *
 * Statistical checks state their tolerance from the run-to-run spread measured over 20
 * seeds: HERD_FLEET_SPREAD=20 runs each such test over that many seeds and prints the
 * range of its figure to stderr (the default is one seed, the one asserted).
 * Run time: about 1 s without sanitizers, 6–7 s under ASan.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>

#include "fleet_models.h"

/* ---- helpers ------------------------------------------------------------------------------ */

/* Seeds a statistical test runs: 1, or HERD_FLEET_SPREAD of them to measure the spread. */
static int spread_seeds(void)
{
    const char *s = getenv("HERD_FLEET_SPREAD");
    int n = s ? atoi(s) : 1;
    return n >= 1 ? n : 1;
}

struct range {
    double lo, hi;
};

static void range_add(struct range *r, int i, double v)
{
    if (i == 0 || v < r->lo)
        r->lo = v;
    if (i == 0 || v > r->hi)
        r->hi = v;
}

static void range_print(const char *what, const struct range *r, int n)
{
    if (n > 1)
        fprintf(stderr, "spread over %d seeds: %s in [%.5g, %.5g]\n", n, what, r->lo, r->hi);
}

/* A model with a client fleet (component 0) calling a service (component 1), the herd. */
static int base(struct herd_fleet *m, const char *name, int64_t duration_ns, int64_t bucket_ns,
                double rate_per_s, int workers, enum herd_fleet_dist dist, int64_t service_ns)
{
    fm_init(m, name, duration_ns, SEC, bucket_ns);
    fm_open(m, "clients", 1, rate_per_s, 1);
    m->herd = fm_service(m, "server", workers, dist, service_ns);
    return m->herd;
}

static struct herd_fleet_call *ccall(struct herd_fleet *m)
{
    return &m->comps[0].u.clients.call;
}

static struct herd_fleet_service *svc(struct herd_fleet *m, int i)
{
    return &m->comps[i].u.service;
}

static void run(const struct herd_fleet *m, uint64_t seed, struct herd_report *r)
{
    cr_assert_eq(fm_run(m, seed, r), 0, "run of '%s' failed", m->name);
}

static const int64_t *series(const struct herd_report *r, int comp, int s)
{
    return r->fleet->comps[comp].series[s];
}

/* The sum of a count series over buckets [from, to) of the run's bucket. */
static int64_t ssum(const struct herd_report *r, int comp, int s, int64_t from_ns, int64_t to_ns)
{
    const struct herd_fleet_figures *f = r->fleet;
    int64_t sum = 0;
    for (size_t k = (size_t)(from_ns / f->bucket_ns);
         k < f->nbuckets && (int64_t)k * f->bucket_ns < to_ns; k++)
        sum += series(r, comp, s)[k];
    return sum;
}

/* ---- the engine's trace: attempts at a service -------------------------------------------- */

enum { K_OTHER, K_OPEN, K_ARRIVE, K_REPLY, K_WORK, K_HEDGE };

struct tev {
    int64_t t;
    uint64_t h;
    int k;
};

struct tlog {
    struct tev *v;
    size_t n, cap;
};

static void tlog_fn(void *ctx, int64_t t, const char *kind, uint64_t entity)
{
    struct tlog *lg = ctx;
    int k = !strcmp(kind, "clients.arrive")      ? K_OPEN
            : !strcmp(kind, "fleet.arrive")      ? K_ARRIVE
            : !strcmp(kind, "fleet.reply")       ? K_REPLY
            : !strcmp(kind, "service.work_done") ? K_WORK
            : !strcmp(kind, "fleet.hedge")       ? K_HEDGE
                                                 : K_OTHER;
    if (k == K_OTHER)
        return;
    if (lg->n == lg->cap) {
        lg->cap = lg->cap ? 2 * lg->cap : 4096;
        lg->v = realloc(lg->v, lg->cap * sizeof *lg->v);
        cr_assert(lg->v);
    }
    lg->v[lg->n++] = (struct tev){t, entity, k};
}

static void run_traced(const struct herd_fleet *m, uint64_t seed, struct herd_report *r,
                       struct tlog *lg)
{
    char err[256];
    memset(lg, 0, sizeof *lg);
    fm_report(r, seed);
    struct herd_sim_hooks hooks = {.trace = tlog_fn, .trace_ctx = lg};
    cr_assert_eq(herd_sim_fleet(m, seed, &hooks, r, err, sizeof err), 0, "%s", err);
}

/* One attempt at the (only) service, rebuilt from the trace: arrival, the end of its work
 * (-1: none), its answer at the service's side (net 0: the reply event; -1: none), whether
 * it was a call's first attempt (its arrival followed a client's arrival at that instant)
 * or a hedge (followed a hedge event). */
struct tatt {
    uint64_t h;
    int64_t arrive, work, reply;
    bool first, hedge;
};

struct tatts {
    struct tatt *a;
    size_t n;
    uint32_t *map; /* open addressing: handle → index + 1 */
    size_t mcap;
};

static size_t tatt_slot(const struct tatts *s, uint64_t h)
{
    size_t i = (size_t)((h * UINT64_C(0x9E3779B97F4A7C15)) >> 20) & (s->mcap - 1);
    while (s->map[i] && s->a[s->map[i] - 1].h != h)
        i = (i + 1) & (s->mcap - 1);
    return i;
}

/* Attempts in arrival order. Handles carry a generation bumped at each free, so one handle
 * names one attempt for the whole run. */
static void tatts_build(const struct tlog *lg, struct tatts *s)
{
    memset(s, 0, sizeof *s);
    size_t n = 0;
    for (size_t i = 0; i < lg->n; i++)
        n += lg->v[i].k == K_ARRIVE;
    s->a = calloc(n ? n : 1, sizeof *s->a);
    s->mcap = 16;
    while (s->mcap < 2 * n)
        s->mcap *= 2;
    s->map = calloc(s->mcap, sizeof *s->map);
    cr_assert(s->a && s->map);
    int64_t t_at = -1;
    int opens = 0, hedges = 0; /* at instant t_at, not yet matched to an arrival */
    for (size_t i = 0; i < lg->n; i++) {
        const struct tev *e = &lg->v[i];
        if (e->t != t_at) {
            t_at = e->t;
            opens = hedges = 0;
        }
        size_t slot;
        switch (e->k) {
        case K_OPEN:
            opens++;
            break;
        case K_HEDGE:
            hedges++;
            break;
        case K_ARRIVE: {
            struct tatt *a = &s->a[s->n++];
            *a = (struct tatt){e->h, e->t, -1, -1, false, false};
            if (opens > 0) {
                a->first = true;
                opens--;
            } else if (hedges > 0) {
                a->hedge = true;
                hedges--;
            }
            s->map[tatt_slot(s, e->h)] = (uint32_t)s->n;
            break;
        }
        case K_WORK:
        case K_REPLY:
            slot = tatt_slot(s, e->h);
            if (s->map[slot]) {
                struct tatt *a = &s->a[s->map[slot] - 1];
                if (e->k == K_WORK)
                    a->work = e->t;
                else if (a->reply < 0)
                    a->reply = e->t;
            }
            break;
        }
    }
}

static void tatts_free(struct tatts *s)
{
    free(s->a);
    free(s->map);
}

/* ---- retry budgets ------------------------------------------------------------------------ */

/* A fleet at 100 calls/s retrying at once (255 attempts) into a service that fails every
 * attempt while an ERRORS fault lasts. */
static void failing(struct herd_fleet *m, enum herd_fleet_budget budget, int tokens, double ratio)
{
    int sv = base(m, "budget", 5 * SEC, SEC, 100, 0, HERD_FLEET_DIST_CONSTANT, 0);
    struct herd_fleet_retry *r = &ccall(m)->retry;
    r->max_attempts = 255;
    r->budget = budget;
    r->budget_tokens = tokens;
    r->budget_ratio = ratio;
    fm_fault(m, HERD_FLEET_FAULT_ERRORS, sv, 0, SEC, 1);
    fm_fault(m, HERD_FLEET_FAULT_ERRORS, sv, 3 * SEC, SEC, 1);
}

/* AWS quota, T = 100 tokens, a retry costs 5, a first-attempt success gives 1 back (capped
 * at T). Under 100 % failures no success refunds anything: exactly T/5 = 20 retries go,
 * whatever the demand. Between the faults 2 s of successes (~200 > T) refill the bucket, so
 * the second fault gets exactly 20 more: 40 in all, an exact count. */
Test(fleet_mitigations, aws_budget_exact)
{
    struct herd_fleet m;
    failing(&m, HERD_FLEET_BUDGET_AWS, 100, 0);
    struct herd_report r;
    run(&m, 1, &r);
    const struct herd_fleet_comp_figures *c = &r.fleet->comps[0];
    cr_assert_eq(ssum(&r, 0, HERD_FLEET_S_RETRIES, 0, SEC), 20, "first fault: %" PRId64,
                 ssum(&r, 0, HERD_FLEET_S_RETRIES, 0, SEC));
    cr_assert_eq(c->retries, 40, "retries %" PRIu64 ", want 2 × 100/5", c->retries);
    herd_report_fini(&r);
}

/* AWS after timeouts: a retry after a timeout costs 10, so T = 100 allows exactly 10 (the
 * service answers in 1 s, the timeout is 10 ms, every attempt times out). */
Test(fleet_mitigations, aws_budget_timeout_cost)
{
    struct herd_fleet m;
    base(&m, "aws-timeout", 2 * SEC, SEC, 100, 0, HERD_FLEET_DIST_CONSTANT, SEC);
    struct herd_fleet_call *call = ccall(&m);
    call->timeout_ns = 10 * MS;
    call->retry.max_attempts = 255;
    call->retry.retry_on_timeout = true;
    call->retry.budget = HERD_FLEET_BUDGET_AWS;
    call->retry.budget_tokens = 100;
    struct herd_report r;
    run(&m, 1, &r);
    cr_assert_eq(r.fleet->comps[0].retries, 10, "retries %" PRIu64 ", want 100/10",
                 r.fleet->comps[0].retries);
    cr_assert_eq(r.fleet->comps[0].ok, 0);
    herd_report_fini(&r);
}

/* gRPC A6, max_tokens 10: every failed attempt takes a token, retries need more than 5.
 * Under 100 % failures the first failing call's attempts take 10 → 5 with 4 retries, then
 * nothing; between the faults each success gives 0.1 back (2 s × 100/s refill it to 10),
 * so the second fault gets exactly 4 more: 8 in all. */
Test(fleet_mitigations, grpc_budget_exact)
{
    struct herd_fleet m;
    failing(&m, HERD_FLEET_BUDGET_GRPC, 10, 0.1);
    struct herd_report r;
    run(&m, 1, &r);
    cr_assert_eq(ssum(&r, 0, HERD_FLEET_S_RETRIES, 0, SEC), 4);
    cr_assert_eq(r.fleet->comps[0].retries, 8, "retries %" PRIu64 ", want 2 × 4",
                 r.fleet->comps[0].retries);
    herd_report_fini(&r);
}

/* Finagle, ratio r = 0.1, floor 10 retries/s over its 10 s window (libherd's defaults for
 * what a model does not set): each request deposits 1, each retry withdraws 1/r, and the
 * deposits and withdrawals leave the window after 10 slices of 1 s, so at every instant
 * the retries of the last 10 slices are at most r × the requests of those slices +
 * 10/s × 10 s. Checked on every 10-bucket window of 1 s buckets (the slices are aligned
 * with them, both from 0) over a 30 s run of 100 calls/s all failing, where the budget is
 * the only bound: an exact inequality. And it binds: the run's retries reach at least
 * 90 % of r·calls + 100 per window (the reserve spent once per 10 s). */
Test(fleet_mitigations, finagle_budget_window)
{
    struct herd_fleet m;
    int sv = base(&m, "finagle", 30 * SEC, SEC, 100, 0, HERD_FLEET_DIST_CONSTANT, 0);
    struct herd_fleet_retry *rp = &ccall(&m)->retry;
    rp->max_attempts = 255;
    rp->budget = HERD_FLEET_BUDGET_FINAGLE;
    rp->budget_ratio = 0.1;
    fm_fault(&m, HERD_FLEET_FAULT_ERRORS, sv, 0, 40 * SEC, 1);
    struct herd_report r;
    run(&m, 3, &r);
    const int64_t *calls = series(&r, 0, HERD_FLEET_S_ARRIVALS);
    const int64_t *retries = series(&r, 0, HERD_FLEET_S_RETRIES);
    for (int end = 1; end <= 30; end++) {
        int64_t c = 0, rt = 0;
        for (int k = end - 10 > 0 ? end - 10 : 0; k < end; k++) {
            c += calls[k];
            rt += retries[k];
        }
        cr_assert(rt <= llround(0.1 * (double)c) + 100,
                  "window ending at %d s: %" PRId64 " retries for %" PRId64 " calls", end, rt, c);
    }
    double bound = 0.1 * (double)r.fleet->comps[0].calls + 3 * 100;
    cr_assert((double)r.fleet->comps[0].retries >= 0.9 * bound, "retries %" PRIu64 " of %.0f",
              r.fleet->comps[0].retries, bound);
    herd_report_fini(&r);
}

/* ---- the shared breaker ------------------------------------------------------------------- */

/* libherd's breaker (defaults: 5 failures in a row trip it; open interval d·2^(level−1)
 * drawn in [d/2, d] with d = open_ns = 500 ms; one probe at a time; 3 successes close it)
 * in front of a service that fails everything in [2 s, 6 s), 1000 calls/s, no network.
 * While open no attempt leaves the callers: in the fault the service sees exactly the 5
 * failures that trip it, then one failed probe per open interval, each at least the
 * interval's lower end after the previous one (250 ms, 500 ms, 1 s, ...). After the
 * fault the next probe closes it and goodput is back. */
Test(fleet_mitigations, shared_breaker_gaps)
{
    struct herd_fleet m;
    int sv = base(&m, "breaker", 12 * SEC, 100 * MS, 1000, 0, HERD_FLEET_DIST_CONSTANT, 0);
    struct herd_fleet_retry *rp = &ccall(&m)->retry;
    rp->breaker = HERD_FLEET_BREAKER_SHARED;
    rp->breaker_ratio = 0.5;
    rp->breaker_open_ns = 500 * MS;
    fm_fault(&m, HERD_FLEET_FAULT_ERRORS, sv, 2 * SEC, 4 * SEC, 1);
    struct herd_report r;
    struct tlog lg;
    run_traced(&m, 5, &r, &lg);
    int64_t in_fault[64];
    int nf = 0;
    for (size_t i = 0; i < lg.n; i++) {
        const struct tev *e = &lg.v[i];
        if (e->k == K_ARRIVE && e->t >= 2 * SEC && e->t < 6 * SEC) {
            cr_assert(nf < 64, "more than 64 attempts reached the service in the fault");
            in_fault[nf++] = e->t;
        }
    }
    /* probes by 6 s: at least 3 (intervals at most 0.5 + 1 + 2 s after ~2.005 s), at most
     * 4 (at least 0.25 + 0.5 + 1 + 2 s) */
    cr_assert(nf >= 5 + 3 && nf <= 5 + 4,
              "%d attempts in the fault, want 5 + a probe per "
              "interval",
              nf);
    for (int i = 1; i < 5; i++) /* the 5 that trip it, back to back at 1000/s */
        cr_assert(in_fault[i] - in_fault[0] < 100 * MS);
    int64_t lo = 250 * MS;
    for (int i = 5; i < nf; i++, lo *= 2)
        cr_assert(in_fault[i] - in_fault[i - 1] >= lo,
                  "probe %d came %" PRId64 " ns after the previous attempt, under %" PRId64, i - 4,
                  in_fault[i] - in_fault[i - 1], lo);
    double g = fm_goodput(&r, 0, 10 * SEC, 12 * SEC);
    cr_assert(g > 900, "goodput %.0f/s after the fault, the breaker did not close", g);
    cr_assert(r.fleet->comps[0].rejected > 3000, "%" PRIu64 " calls refused locally",
              r.fleet->comps[0].rejected);
    free(lg.v);
    herd_report_fini(&r);
}

/* ---- hedging ------------------------------------------------------------------------------ */

/* Hedging at d = 20 ms into a service of unlimited concurrency with Exp(10 ms) service
 * times, no network, 1000 calls/s for 20 s. A hedge goes out exactly when the first
 * attempt has not answered after d: the count is checked call by call against the first
 * attempts' service times read from the trace (a tie at exactly d hedges: the hedge event
 * was scheduled first). The latency is min(S1, d + S2), so P(L > x) = e^(−x/10 ms) ·
 * e^(−(x − d)/10 ms) beyond d and p99 = (d + 10 ms·ln 100)/2 = 33.0 ms, against 46.1 ms
 * without hedging; the share hedged is e^(−2) = 13.5 %. Spread over 20 seeds: p99 within
 * 32.6–33.9 ms (histogram buckets are 0.8 % wide), the share 13.1–13.9 %: allowed 4 % and
 * 0.01. The exact count holds on every seed. */
Test(fleet_mitigations, hedge_exact_and_p99)
{
    int n = spread_seeds();
    struct range p99r = {0, 0}, sharer = {0, 0};
    for (int i = 0; i < n; i++) {
        struct herd_fleet m;
        base(&m, "hedge", 20 * SEC, SEC, 1000, 0, HERD_FLEET_DIST_EXPONENTIAL, 10 * MS);
        ccall(&m)->retry.hedge_ns = 20 * MS;
        struct herd_report r;
        struct tlog lg;
        run_traced(&m, herd_run_seed(11, i), &r, &lg);
        struct tatts s;
        tatts_build(&lg, &s);
        uint64_t want = 0, firsts = 0;
        for (size_t k = 0; k < s.n; k++) {
            const struct tatt *a = &s.a[k];
            if (!a->first)
                continue;
            firsts++;
            /* a first attempt still working at the end of arrivals + 1 s: none here */
            cr_assert(a->work >= 0);
            want += a->work - a->arrive >= 20 * MS;
        }
        const struct herd_fleet_comp_figures *c = &r.fleet->comps[0];
        cr_assert_eq(firsts, c->calls, "%" PRIu64 " first attempts traced for %" PRIu64 " calls",
                     firsts, c->calls);
        cr_assert_eq(c->retries, want,
                     "%" PRIu64 " hedges, %" PRIu64 " first attempts slower "
                     "than d",
                     c->retries, want);
        double share = (double)want / (double)c->calls, p99 = (double)c->p99_ns / 1e6;
        range_add(&p99r, i, p99);
        range_add(&sharer, i, share);
        if (i == 0) {
            cr_assert(fabs(p99 - 33.0) < 0.04 * 33.0, "p99 %.2f ms, want 33.0", p99);
            cr_assert(fabs(share - exp(-2)) < 0.01, "hedged share %.4f, want %.4f", share, exp(-2));
        }
        tatts_free(&s);
        free(lg.v);
        herd_report_fini(&r);
    }
    range_print("hedged p99 (ms)", &p99r, n);
    range_print("hedged share", &sharer, n);
    /* and without hedging p99 is the exponential's, 10 ms·ln 100 */
    struct herd_fleet m;
    base(&m, "no-hedge", 20 * SEC, SEC, 1000, 0, HERD_FLEET_DIST_EXPONENTIAL, 10 * MS);
    struct herd_report r;
    run(&m, herd_run_seed(11, 0), &r);
    double p99 = (double)r.fleet->comps[0].p99_ns / 1e6;
    cr_assert(fabs(p99 - 46.05) < 0.05 * 46.05, "p99 without hedging %.2f ms", p99);
    herd_report_fini(&r);
}

/* ---- admission ---------------------------------------------------------------------------- */

/* TOKEN_BUCKET at R = 100/s, burst B = 20, offered 500/s for 5 s: on every window of
 * 10 ms buckets [a, b) the admitted (arrivals − immediate rejections, both counted at the
 * arrival instant) are at most B + R·(b − a): an exact inequality, checked on all windows.
 * Under 5× overload the bucket is empty almost always: over the run the admitted are
 * B + R·T within 1 % (measured 519 of 520 on each of 20 seeds: the token that accrues at
 * the end of arrivals is never taken). */
Test(fleet_mitigations, token_bucket_windows)
{
    int n = spread_seeds();
    struct range rr = {0, 0};
    for (int i = 0; i < n; i++) {
        struct herd_fleet m;
        int sv = base(&m, "token-bucket", 5 * SEC, 10 * MS, 500, 0, HERD_FLEET_DIST_CONSTANT, MS);
        svc(&m, sv)->admission = HERD_FLEET_ADMIT_TOKEN_BUCKET;
        svc(&m, sv)->admit_rate_per_s = 100;
        svc(&m, sv)->admit_burst = 20;
        struct herd_report r;
        run(&m, herd_run_seed(13, i), &r);
        size_t nb = r.fleet->nbuckets;
        const int64_t *arr = series(&r, sv, HERD_FLEET_S_ARRIVALS);
        const int64_t *err = series(&r, sv, HERD_FLEET_S_ERRORS);
        int64_t *pre = calloc(nb + 1, sizeof *pre);
        cr_assert(pre);
        for (size_t k = 0; k < nb; k++)
            pre[k + 1] = pre[k] + arr[k] - err[k];
        for (size_t a = 0; a < nb; a++)
            for (size_t b = a + 1; b <= nb; b++)
                cr_assert(pre[b] - pre[a] <= 20 + (int64_t)(b - a),
                          "%" PRId64 " admitted in [%zu, %zu) × 10 ms", pre[b] - pre[a], a, b);
        double share = (double)pre[nb] / (20 + 100 * 5);
        range_add(&rr, i, share);
        cr_assert(share > 0.99 && share <= 1, "admitted %" PRId64 " of B + R·T = 520", pre[nb]);
        cr_assert_eq((uint64_t)pre[nb], r.fleet->comps[sv].ok);
        free(pre);
        herd_report_fini(&r);
    }
    range_print("admitted / (B + R·T)", &rr, n);
}

/* The LIMITER (libherd's AIMD limiter) caps what a service holds, queued and in service:
 * with a limit of at most 8 (max 8: the initial limit is min(20, max)) in front of 16
 * workers and 5× overload, never more than 8 are in service at once, and the excess is
 * shed at arrival. Exact. */
Test(fleet_mitigations, limiter_cap)
{
    struct herd_fleet m;
    int sv =
        base(&m, "limiter-cap", 3 * SEC, 100 * MS, 4000, 16, HERD_FLEET_DIST_CONSTANT, 10 * MS);
    svc(&m, sv)->admission = HERD_FLEET_ADMIT_LIMITER;
    svc(&m, sv)->admit_limit_max = 8;
    struct herd_report r;
    run(&m, 1, &r);
    const struct herd_fleet_comp_figures *f = &r.fleet->comps[sv];
    cr_assert(f->peak_concurrency <= 8, "peak concurrency %" PRId64, f->peak_concurrency);
    cr_assert_eq(f->peak_queue, 0);
    cr_assert(r.peak <= 8);
    cr_assert(f->shed > f->ok, "shed %" PRIu64 ", served %" PRIu64, f->shed, f->ok);
    cr_assert(f->peak_concurrency >= 7, "the limit was never used: %" PRId64, f->peak_concurrency);
    herd_report_fini(&r);
}

/* The limit falls under overload: 4 workers of 10 ms, an unbounded queue and shed_wait
 * 20 ms (a shed is a drop to the limiter: ×0.9), offered 2000/s (5× capacity). The limit
 * starts at 20, so the service first holds 20 (4 in service, 16 queued 40 ms deep, shed);
 * the drops cut it until the queue's wait is within 20 ms: about 4 + 8 held. Measured
 * over 20 seeds, the most held in any 100 ms bucket after the first second is 12–14
 * (queue peak + concurrency peak of a bucket, which bounds what it held at once), against
 * 20 in the first buckets. Without the limiter the queue grows without bound. Measured: 13
 * on each of 20 seeds; allowed 16. */
Test(fleet_mitigations, limiter_falls)
{
    int n = spread_seeds();
    struct range rr = {0, 0};
    for (int i = 0; i < n; i++) {
        struct herd_fleet m;
        int sv = base(&m, "limiter-falls", 5 * SEC, 100 * MS, 2000, 4, HERD_FLEET_DIST_CONSTANT,
                      10 * MS);
        svc(&m, sv)->admission = HERD_FLEET_ADMIT_LIMITER;
        svc(&m, sv)->admit_limit_max = 50;
        svc(&m, sv)->shed_wait_ns = 20 * MS;
        struct herd_report r;
        run(&m, herd_run_seed(17, i), &r);
        const int64_t *q = series(&r, sv, HERD_FLEET_S_QUEUE);
        const int64_t *c = series(&r, sv, HERD_FLEET_S_CONCURRENCY);
        int64_t early = 0, late = 0;
        for (size_t k = 0; k < 50; k++) {
            int64_t held = q[k] + c[k];
            if (k < 2)
                early = held > early ? held : early;
            else if (k >= 10)
                late = held > late ? held : late;
        }
        range_add(&rr, i, (double)late);
        cr_assert(early == 20, "held %" PRId64 " at the start, the initial limit is 20", early);
        cr_assert(late <= 16, "held %" PRId64 " after the first second", late);
        cr_assert(r.peak <= 20);
        herd_report_fini(&r);
    }
    range_print("most held after 1 s", &rr, n);
}

/* THROTTLE: libherd's client-side adaptive throttle (Google SRE book ch. 21, K = 2, a
 * 2 min window) in front of 1 worker of 20 ms and no queue (a busy worker rejects: not
 * accepted), 200 calls/s offered against at most 50/s. Each call is refused locally with
 * probability max(0, (requests − K·accepts)/(requests + 1)) of the window's counts; in
 * steady state (after the first window) the share refused locally over [240 s, 480 s) is
 * therefore 1 − K·accepts/requests of that span, within the noise of a ratio drifting in a
 * 2 min window: measured |difference| ≤ 0.004 over 20 seeds (share ~0.56); allowed 0.02. */
Test(fleet_mitigations, throttle_sre_share)
{
    int n = spread_seeds();
    struct range rr = {0, 0};
    for (int i = 0; i < n; i++) {
        struct herd_fleet m;
        int sv = base(&m, "throttle", 480 * SEC, SEC, 200, 1, HERD_FLEET_DIST_CONSTANT, 20 * MS);
        svc(&m, sv)->queue_cap = 0;
        svc(&m, sv)->admission = HERD_FLEET_ADMIT_THROTTLE;
        svc(&m, sv)->admit_k = 2;
        struct herd_report r;
        run(&m, herd_run_seed(19, i), &r);
        double req = (double)ssum(&r, 0, HERD_FLEET_S_ARRIVALS, 240 * SEC, 480 * SEC);
        double sent = (double)ssum(&r, sv, HERD_FLEET_S_ARRIVALS, 240 * SEC, 480 * SEC);
        double acc = (double)ssum(&r, sv, HERD_FLEET_S_GOODPUT, 240 * SEC, 480 * SEC);
        double refused = 1 - sent / req, want = fmax(0, 1 - 2 * acc / req);
        range_add(&rr, i, refused - want);
        cr_assert(fabs(refused - want) < 0.02, "refused %.4f locally, the SRE form says %.4f",
                  refused, want);
        cr_assert(want > 0.3, "the throttle should bind: %.3f", want);
        herd_report_fini(&r);
    }
    range_print("refused − SRE form", &rr, n);
}

/* ---- the service's queue ------------------------------------------------------------------ */

/* One worker of 10 ms, FIFO, 200 calls/s (2× capacity), shed_wait 50 ms: a request a
 * worker takes after waiting longer than 50 ms is shed, the others are served. Checked
 * attempt by attempt from the trace (with no network a shed's answer is the instant the
 * worker took it; a served one started its 10 ms before its work ended): exact. */
Test(fleet_mitigations, shed_wait_exact)
{
    struct herd_fleet m;
    int sv = base(&m, "shed-wait", 5 * SEC, SEC, 200, 1, HERD_FLEET_DIST_CONSTANT, 10 * MS);
    svc(&m, sv)->shed_wait_ns = 50 * MS;
    struct herd_report r;
    struct tlog lg;
    run_traced(&m, 1, &r, &lg);
    struct tatts s;
    tatts_build(&lg, &s);
    uint64_t shed = 0, served = 0;
    for (size_t k = 0; k < s.n; k++) {
        const struct tatt *a = &s.a[k];
        cr_assert(a->reply >= 0, "attempt %zu never answered", k);
        if (a->work >= 0) {
            served++;
            cr_assert(a->work - 10 * MS - a->arrive <= 50 * MS, "served after %" PRId64 " ns",
                      a->work - 10 * MS - a->arrive);
        } else {
            shed++;
            cr_assert(a->reply - a->arrive > 50 * MS, "shed after %" PRId64 " ns",
                      a->reply - a->arrive);
        }
    }
    const struct herd_fleet_comp_figures *f = &r.fleet->comps[sv];
    cr_assert_eq(shed, f->shed);
    cr_assert_eq(served, f->ok);
    cr_assert(shed > 100, "nothing to shed: %" PRIu64, shed);
    tatts_free(&s);
    free(lg.v);
    herd_report_fini(&r);
}

/* cancel_abandoned: 1 worker of 10 ms, FIFO, 150 calls/s, a 50 ms timeout, no retries.
 * Without it the worker serves every request, mostly for callers long gone: wasted > 0.
 * With it a worker that takes a request whose caller has gone skips it, so no work STARTS
 * for a gone caller: checked request by request from the trace (each one worked on began
 * within 50 ms of its send). Work begun in time may still outlive its caller (the head of
 * an overloaded FIFO queue has waited nearly the timeout: measured, about half of what is
 * served is then wasted, under 10 ms each), so waste falls but is not 0. With shed_wait at
 * timeout − service time (39 ms) as well, no work can outlive its caller: wasted is 0. */
Test(fleet_mitigations, cancel_abandoned)
{
    uint64_t wasted[3], ok[3], cancelled[3];
    int64_t wasted_ns[3];
    for (int v = 0; v < 3; v++) {
        struct herd_fleet m;
        int sv = base(&m, "cancel", 5 * SEC, SEC, 150, 1, HERD_FLEET_DIST_CONSTANT, 10 * MS);
        ccall(&m)->timeout_ns = 50 * MS;
        svc(&m, sv)->cancel_abandoned = v > 0;
        svc(&m, sv)->shed_wait_ns = v == 2 ? 39 * MS : 0;
        struct herd_report r;
        struct tlog lg;
        run_traced(&m, 1, &r, &lg);
        const struct herd_fleet_comp_figures *f = &r.fleet->comps[sv];
        wasted[v] = f->wasted;
        wasted_ns[v] = f->wasted_ns;
        cancelled[v] = f->cancelled;
        ok[v] = r.fleet->comps[0].ok;
        if (v == 1) {
            struct tatts s;
            tatts_build(&lg, &s);
            uint64_t worked = 0;
            for (size_t k = 0; k < s.n; k++) {
                const struct tatt *a = &s.a[k];
                if (a->work < 0)
                    continue;
                worked++;
                cr_assert(a->work - 10 * MS - a->arrive < 50 * MS,
                          "work began %" PRId64 " ns after the send, its caller had gone",
                          a->work - 10 * MS - a->arrive);
            }
            cr_assert_eq(worked + cancelled[1], s.n);
            tatts_free(&s);
        }
        free(lg.v);
        herd_report_fini(&r);
    }
    cr_assert(wasted[0] > 400 && cancelled[0] == 0, "without: wasted %" PRIu64, wasted[0]);
    cr_assert(cancelled[1] > 100, "cancelled %" PRIu64, cancelled[1]);
    cr_assert(wasted[1] < wasted[0], "wasted %" PRIu64 " with, %" PRIu64 " without", wasted[1],
              wasted[0]);
    cr_assert(wasted_ns[1] <= (int64_t)wasted[1] * 10 * MS);
    cr_assert(ok[1] >= ok[0], "goodput fell with cancel_abandoned: %" PRIu64 " < %" PRIu64, ok[1],
              ok[0]);
    cr_assert_eq(wasted[2], 0, "wasted %" PRIu64 " with cancel + shed_wait", wasted[2]);
    cr_assert_eq(wasted_ns[2], 0);
}

/* LIFO vs FIFO under overload with timeouts: 1 worker of 10 ms, an unbounded queue, 150
 * calls/s, a 100 ms timeout. FIFO's queue grows and soon everything it serves has timed
 * out; LIFO serves the newest, whose callers still wait: its goodput stays near the
 * worker's 100/s. Measured over 20 seeds: LIFO 90.9–99.2/s, FIFO 0.8–12.4/s over 10 s;
 * asserted LIFO ≥ FIFO, LIFO > 80/s, FIFO < 20/s. */
Test(fleet_mitigations, lifo_beats_fifo)
{
    int n = spread_seeds();
    struct range lr = {0, 0}, fr = {0, 0};
    for (int i = 0; i < n; i++) {
        double g[2];
        for (int v = 0; v < 2; v++) {
            struct herd_fleet m;
            int sv = base(&m, "lifo", 10 * SEC, SEC, 150, 1, HERD_FLEET_DIST_EXPONENTIAL, 10 * MS);
            ccall(&m)->timeout_ns = 100 * MS;
            svc(&m, sv)->discipline = v ? HERD_FLEET_LIFO : HERD_FLEET_FIFO;
            struct herd_report r;
            run(&m, herd_run_seed(23, i), &r);
            g[v] = (double)r.fleet->comps[0].ok / 10;
            herd_report_fini(&r);
        }
        range_add(&fr, i, g[0]);
        range_add(&lr, i, g[1]);
        cr_assert(g[1] >= g[0], "LIFO %.1f/s < FIFO %.1f/s", g[1], g[0]);
        cr_assert(g[1] > 80, "LIFO goodput %.1f/s", g[1]);
        cr_assert(g[0] < 20, "FIFO goodput %.1f/s", g[0]);
    }
    range_print("FIFO goodput", &fr, n);
    range_print("LIFO goodput", &lr, n);
}

/* DROP_OLDEST: a full queue (cap 10) pushes out its oldest request. 1 worker of 10 ms, 300
 * calls/s. The queue is then left strictly in arrival order, by starts and drops alike, so
 * every request dropped was the oldest queued: checked from the trace (an attempt's
 * departure is its start, or its drop's answer). And the queue's occupancy does not depend
 * on which request is lost, so with the same arrivals it loses exactly as many as a FIFO
 * queue that rejects the newest. */
Test(fleet_mitigations, drop_oldest_exact)
{
    uint64_t lost[2];
    for (int v = 0; v < 2; v++) {
        struct herd_fleet m;
        int sv = base(&m, "drop-oldest", 5 * SEC, SEC, 300, 1, HERD_FLEET_DIST_CONSTANT, 10 * MS);
        svc(&m, sv)->queue_cap = 10;
        svc(&m, sv)->discipline = v ? HERD_FLEET_DROP_OLDEST : HERD_FLEET_FIFO;
        struct herd_report r;
        struct tlog lg;
        run_traced(&m, 1, &r, &lg);
        const struct herd_fleet_comp_figures *f = &r.fleet->comps[sv];
        lost[v] = v ? f->dropped : f->rejected;
        if (v) {
            cr_assert_eq(f->rejected, 0);
            struct tatts s;
            tatts_build(&lg, &s);
            int64_t prev = -1;
            uint64_t drops = 0;
            for (size_t k = 0; k < s.n; k++) { /* in arrival order */
                const struct tatt *a = &s.a[k];
                int64_t left = a->work >= 0 ? a->work - 10 * MS : a->reply;
                drops += a->work < 0;
                cr_assert(left >= prev,
                          "attempt %zu left the queue at %" PRId64 " before an older one (%" PRId64
                          ")",
                          k, left, prev);
                prev = left;
            }
            cr_assert_eq(drops, f->dropped);
            tatts_free(&s);
        }
        free(lg.v);
        herd_report_fini(&r);
    }
    cr_assert(lost[0] > 100);
    cr_assert_eq(lost[1], lost[0], "DROP_OLDEST lost %" PRIu64 ", FIFO rejected %" PRIu64, lost[1],
                 lost[0]);
}

/* ---- service time: USL and warm-up -------------------------------------------------------- */

/* USL: N closed clients (no think time, no network) on a service of unlimited concurrency
 * whose work takes S·(1 + σ(n−1) + κn(n−1)), n the requests in service at its start. After
 * the first round every request starts with all N in service, so each client completes
 * one call every S·f(N): throughput N/f(N) × the solo rate 1/S. Over [1 s, 10 s) each client
 * completes ⌊9 s/P⌋ or ⌈9 s/P⌉ calls, so the count is within N of N·9 s/P: exact bounds.
 * σ = 0.02, κ = 0.0005 put the peak near N = 44: 64 clients get less than 32 do. */
Test(fleet_mitigations, usl_throughput)
{
    static const int ns[] = {1, 8, 32, 64};
    double x[4];
    for (int i = 0; i < 4; i++) {
        int n = ns[i];
        struct herd_fleet m;
        fm_init(&m, "usl", 10 * SEC, SEC, SEC);
        int cl = fm_clients(&m, "clients", n, HERD_FLEET_CLOSED, 1);
        (void)cl;
        m.herd = fm_service(&m, "server", 0, HERD_FLEET_DIST_CONSTANT, 10 * MS);
        svc(&m, 1)->usl_sigma = 0.02;
        svc(&m, 1)->usl_kappa = 0.0005;
        struct herd_report r;
        run(&m, 1, &r);
        double f = 1 + 0.02 * (n - 1) + 0.0005 * n * (n - 1);
        double want = n * 9.0 / (0.010 * f);
        double got = (double)ssum(&r, 0, HERD_FLEET_S_GOODPUT, SEC, 10 * SEC);
        cr_assert(fabs(got - want) <= n, "N = %d: %.0f calls in 9 s, USL says %.1f", n, got, want);
        x[i] = got / 9;
        herd_report_fini(&r);
    }
    cr_assert(x[3] < x[2], "no retrograde region: X(64) = %.1f/s, X(32) = %.1f/s", x[3], x[2]);
}

/* Warm-up: 1 worker of 10 ms crashes at 1 s for 1 s and restarts cold: its capacity share
 * is warm_start = 0.25 at the restart and ramps linearly to 1 over warmup_ns = 2 s, so a
 * request started at t takes S/share(t). One closed client (1 ms each way, a 100 ms timeout
 * for the request lost in the crash) keeps one request at a time in it, so each 10 ms
 * bucket answers at most one: its latency L (arrival → answer) must equal S/share(start)
 * with start in [bucket start − L, bucket end − L]: checked on every bucket to 4.5 s, and
 * the first answer after the restart takes at least 0.95 × S/0.25. */
static double warm_share(int64_t t)
{
    if (t < 2 * SEC)
        return 0.25;
    if (t >= 4 * SEC)
        return 1;
    return 0.25 + 0.75 * (double)(t - 2 * SEC) / (double)(2 * SEC);
}

Test(fleet_mitigations, warmup_capacity)
{
    struct herd_fleet m;
    fm_init(&m, "warm-up", 5 * SEC, SEC, 10 * MS);
    fm_clients(&m, "clients", 1, HERD_FLEET_CLOSED, 1);
    m.herd = fm_service(&m, "server", 1, HERD_FLEET_DIST_CONSTANT, 10 * MS);
    struct herd_fleet_call *call = ccall(&m);
    call->net_ns = MS;
    call->timeout_ns = 100 * MS;
    svc(&m, 1)->warmup_ns = 2 * SEC;
    svc(&m, 1)->warm_start = 0.25;
    fm_fault(&m, HERD_FLEET_FAULT_CRASH, 1, SEC, SEC, 0);
    struct herd_report r;
    run(&m, 1, &r);
    const int64_t *lat = series(&r, 1, HERD_FLEET_S_LATENCY);
    const int64_t *arr = series(&r, 1, HERD_FLEET_S_ARRIVALS);
    bool first = true;
    int checked = 0;
    for (int64_t k = 200; k < 450; k++) {
        int64_t L = lat[k];
        if (L == 0)
            continue;
        cr_assert(arr[k] <= 1);
        int64_t b0 = k * 10 * MS, b1 = b0 + 10 * MS;
        double lo = 10e6 / warm_share(b1 - L), hi = 10e6 / warm_share(b0 - L);
        cr_assert((double)L >= lo - 1 && (double)L <= hi + 1,
                  "bucket %" PRId64 ": latency %" PRId64 " ns, warm-up says [%.0f, %.0f]", k, L, lo,
                  hi);
        if (first)
            cr_assert((double)L >= 0.95 * 40e6,
                      "first answer after the restart in %" PRId64 " ns: not at 0.25 capacity", L);
        first = false;
        checked++;
    }
    cr_assert(checked > 100, "only %d buckets answered", checked);
    herd_report_fini(&r);
}

/* ---- caches ----------------------------------------------------------------------------- */

/* Clients (component 0, n clients, open at @p rate over @p keys uniform keys) → a cache
 * (1) → an origin service of unlimited concurrency (2, the herd) answering in @p origin_ns. */
static struct herd_fleet_cache *cached(struct herd_fleet *m, const char *name, int64_t duration_ns,
                                       int64_t n, double rate, int64_t keys, int64_t ttl_ns,
                                       int64_t origin_ns)
{
    fm_init(m, name, duration_ns, SEC, 100 * MS);
    int cl = fm_open(m, "clients", n, rate, 1);
    m->comps[cl].u.clients.keys = keys;
    struct herd_fleet_cache *c = &m->comps[fm_comp(m, "cache", HERD_FLEET_CACHE)].u.cache;
    c->origin = 2;
    c->hosts = 1;
    c->ttl_ns = ttl_ns;
    c->call = fm_call(2);
    m->herd = fm_service(m, "origin", 0, HERD_FLEET_DIST_CONSTANT, origin_ns);
    return c;
}

/* Singleflight: 100 keys at 10,000 calls/s, TTL 1 s, an origin of 50 ms. One fill per key
 * at a time: the origin never holds more than 100; two fills of a key are at least
 * 50 ms + TTL apart, so in 3 s a key is filled at most 3 times, and with a request per key
 * every 10 ms on average it is filled exactly 3 times (the third fill starts near 2.1 s):
 * 300 origin attempts, the other misses coalesced. Without singleflight every miss while a
 * fill is out goes to the origin too (~5 per fill). */
Test(fleet_mitigations, singleflight_one_fill)
{
    uint64_t origin[2];
    for (int sf = 0; sf < 2; sf++) {
        struct herd_fleet m;
        struct herd_fleet_cache *c =
            cached(&m, "singleflight", 3 * SEC, 1, 10000, 100, SEC, 50 * MS);
        c->singleflight = sf;
        struct herd_report r;
        run(&m, 1, &r);
        const struct herd_fleet_comp_figures *o = &r.fleet->comps[2], *cf = &r.fleet->comps[1];
        origin[sf] = o->attempts;
        if (sf) {
            cr_assert(o->peak_concurrency <= 100, "origin held %" PRId64, o->peak_concurrency);
            cr_assert_eq(o->attempts, 300, "%" PRIu64 " fills, want 3 per key", o->attempts);
            cr_assert_eq(cf->misses, o->attempts + cf->coalesced);
        } else {
            cr_assert(o->peak_concurrency > 100);
        }
        herd_report_fini(&r);
    }
    cr_assert(origin[0] > 3 * origin[1], "without singleflight %" PRIu64 ", with %" PRIu64,
              origin[0], origin[1]);
}

/* Kolmogorov–Smirnov distance between the sample @p x (sorted here) and the CDF @p F. */
static double ks(double *x, size_t n, double (*F)(double, const void *), const void *arg)
{
    for (size_t i = 1; i < n; i++) /* insertion sort: n is a few hundred */
        for (size_t j = i; j > 0 && x[j - 1] > x[j]; j--) {
            double t = x[j];
            x[j] = x[j - 1];
            x[j - 1] = t;
        }
    double d = 0;
    for (size_t i = 0; i < n; i++) {
        double f = F(x[i], arg);
        d = fmax(d, fmax(fabs((double)(i + 1) / (double)n - f), fabs(f - (double)i / (double)n)));
    }
    return d;
}

/* The fills' times at the origin (its work's ends), from the trace. */
static size_t fill_times(const struct tlog *lg, int64_t *t, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < lg->n && n < cap; i++)
        if (lg->v[i].k == K_WORK)
            t[n++] = lg->v[i].t;
    return n;
}

/* U(5, 10) ms + Exp(g) ms: a jittered life, then the wait for the key's next request. */
static double life_cdf(double x, const void *arg)
{
    double g = *(const double *)arg;
    if (x <= 5)
        return 0;
    double m = fmin(x, 10);
    return ((m - 5) - g * (exp(-(x - m) / g) - exp(-(x - 5) / g))) / 5;
}

/* TTL jitter 0.5 on a TTL of 10 ms: each fill lives ttl·(1 − U[0, 0.5)), uniform over
 * (5, 10] ms. One key at 20,000 calls/s and an instant origin: the next fill comes at the
 * first request after the expiry, so the gaps between fills are U(5, 10) + Exp(50 µs) ms:
 * never under 5 ms (exact), and their KS distance to that law is under 1.63/√n (the 1 %
 * critical value 0.071; measured 0.022–0.052 over 20 seeds for n ≈ 530). */
Test(fleet_mitigations, ttl_jitter_uniform)
{
    int ns = spread_seeds();
    struct range rr = {0, 0};
    for (int i = 0; i < ns; i++) {
        struct herd_fleet m;
        struct herd_fleet_cache *c = cached(&m, "ttl-jitter", 4 * SEC, 1, 20000, 1, 10 * MS, 0);
        c->ttl_jitter = 0.5;
        struct herd_report r;
        struct tlog lg;
        run_traced(&m, herd_run_seed(29, i), &r, &lg);
        static int64_t t[2048];
        static double gap[2048];
        size_t n = fill_times(&lg, t, 2048);
        cr_assert(n > 400 && n < 2048, "%zu fills", n);
        for (size_t k = 1; k < n; k++) {
            gap[k - 1] = (double)(t[k] - t[k - 1]) / 1e6;
            cr_assert(gap[k - 1] > 5, "a fill lived %.4f ms < ttl·(1 − jitter)", gap[k - 1]);
        }
        double g = 0.05, d = ks(gap, n - 1, life_cdf, &g);
        range_add(&rr, i, d);
        cr_assert(d < 1.63 / sqrt((double)(n - 1)), "KS distance %.4f over %zu fills", d, n - 1);
        free(lg.v);
        herd_report_fini(&r);
    }
    range_print("TTL jitter KS distance", &rr, ns);
}

/* Stale-while-revalidate: TTL 100 ms, soft TTL 50 ms, an origin of 20 ms, one key at 2000
 * calls/s, no singleflight. After the first fill the key never expires: the first request
 * past the soft TTL starts ONE background refresh (served stale meanwhile, as are the
 * others) and its store restarts the clock. So after the first burst of misses the fills
 * are 50 + 20 ms + the wait for a request (Exp(0.5 ms)) apart, exactly one per soft
 * expiry; no call after the first fill waits (p99 of the calls' latency is 0). */
Test(fleet_mitigations, swr_one_refresh)
{
    struct herd_fleet m;
    struct herd_fleet_cache *c = cached(&m, "swr", 10 * SEC, 1, 2000, 1, 100 * MS, 20 * MS);
    c->soft_ttl_ns = 50 * MS;
    struct herd_report r;
    struct tlog lg;
    run_traced(&m, 1, &r, &lg);
    static int64_t t[512];
    size_t n = fill_times(&lg, t, 512);
    const struct herd_fleet_comp_figures *cf = &r.fleet->comps[1];
    cr_assert(cf->misses < 100, "%" PRIu64 " misses", cf->misses);
    cr_assert_eq((uint64_t)n, r.fleet->comps[2].attempts);
    size_t k0 = cf->misses; /* the first burst: one fill per miss */
    double sum = 0;
    for (size_t k = k0 + 1; k < n; k++) {
        int64_t d = t[k] - t[k - 1];
        cr_assert(d >= 70 * MS && d < 80 * MS, "refresh %zu came %" PRId64 " ns after the last", k,
                  d);
        sum += (double)d;
    }
    double mean = sum / (double)(n - k0 - 1) / 1e6;
    cr_assert(fabs(mean - 70.5) < 0.2, "mean refresh interval %.3f ms", mean);
    cr_assert(cf->stale > 1000);
    cr_assert_eq(r.fleet->comps[0].p99_ns, 0);
    free(lg.v);
    herd_report_fini(&r);
}

/* XFetch (Vattani et al.), β = 1: a hit at time r before the expiry refreshes early with
 * probability exp(−r/(δβ)), δ the last fill's duration (10 ms here: the origin's time, no
 * network). With Poisson requests at λ and singleflight (one refresh at a time), the
 * refresh comes R before the expiry with P(R ≤ r) = exp(−λδβ(e^(−r/δβ) − e^(−ttl/δβ))).
 * One key, TTL 100 ms, λ = 1000/s: λδβ = 10, E[R] ≈ δβ(ln 10 + γ) = 28.8 ms. The fills are
 * ttl + δ − R apart, so R is read from the trace; KS distance under the 1 % critical value
 * (0.10 for n ≈ 250; measured 0.032–0.094 over 20 seeds), and the mean within 3 ms of
 * 28.8: R's sd is δβ·π/√6 = 12.8 ms, so the mean's is 0.8 ms (measured 27.5–30.8). */
struct xf {
    double lambda_delta, delta, ttl;
};

static double xfetch_cdf(double r, const void *arg)
{
    const struct xf *p = arg;
    if (r < 0)
        r = 0;
    return exp(-p->lambda_delta * (exp(-r / p->delta) - exp(-p->ttl / p->delta)));
}

Test(fleet_mitigations, xfetch_early_refresh)
{
    int ns = spread_seeds();
    struct range dr = {0, 0}, mr = {0, 0};
    for (int i = 0; i < ns; i++) {
        struct herd_fleet m;
        struct herd_fleet_cache *c = cached(&m, "xfetch", 20 * SEC, 1, 1000, 1, 100 * MS, 10 * MS);
        c->singleflight = true;
        c->xfetch_beta = 1;
        struct herd_report r;
        struct tlog lg;
        run_traced(&m, herd_run_seed(31, i), &r, &lg);
        static int64_t t[1024];
        static double early[1024];
        size_t n = fill_times(&lg, t, 1024);
        cr_assert(n > 150 && n < 1024, "%zu fills", n);
        double sum = 0;
        for (size_t k = 1; k < n; k++) {
            early[k - 1] = (100 + 10) - (double)(t[k] - t[k - 1]) / 1e6;
            sum += early[k - 1];
        }
        struct xf p = {10, 10, 100};
        double mean = sum / (double)(n - 1), d = ks(early, n - 1, xfetch_cdf, &p);
        range_add(&dr, i, d);
        range_add(&mr, i, mean);
        cr_assert(d < 1.63 / sqrt((double)(n - 1)), "KS distance %.4f over %zu refreshes", d,
                  n - 1);
        cr_assert(fabs(mean - 10 * (log(10) + 0.5772)) < 3, "refreshes %.2f ms early on average",
                  mean);
        free(lg.v);
        herd_report_fini(&r);
    }
    range_print("XFetch KS distance", &dr, ns);
    range_print("XFetch mean lead (ms)", &mr, ns);
}

/* LRU capacity C = 200 over K = 1000 uniform keys (TTL far beyond the run, instant
 * origin): under independent uniform requests every key is equally likely to be cached,
 * so the hit ratio is C/K = 0.2 (less the ~230 cold misses of 60,000 calls). Measured
 * 0.197–0.202 over 20 seeds; allowed ±0.008. */
Test(fleet_mitigations, lru_hit_ratio)
{
    int ns = spread_seeds();
    struct range rr = {0, 0};
    for (int i = 0; i < ns; i++) {
        struct herd_fleet m;
        struct herd_fleet_cache *c = cached(&m, "lru", 3 * SEC, 1, 20000, 1000, 1000 * SEC, 0);
        c->capacity = 200;
        struct herd_report r;
        run(&m, herd_run_seed(37, i), &r);
        const struct herd_fleet_comp_figures *cf = &r.fleet->comps[1];
        double h = (double)cf->hits / (double)(cf->hits + cf->misses);
        range_add(&rr, i, h);
        cr_assert(fabs(h - 0.2) < 0.008, "hit ratio %.4f, want C/K = 0.2", h);
        cr_assert_eq(cf->misses, r.fleet->comps[2].attempts);
        herd_report_fini(&r);
    }
    range_print("LRU hit ratio", &rr, ns);
}

/* L1 copies: H hosts each keep their own copy (a caller's host is its client index mod H).
 * 100 uniform keys, 20,000 calls/s from 1000 clients, TTL 1 s, an instant origin, 4.5 s:
 * a copy refills a key at its first request after each expiry, fills at least TTL apart,
 * and with a request per key and copy every H·K/λ ≤ 20 ms on average a copy fills each
 * key exactly 5 times (near 0, 1, 2, 3 and 4 s; the sixth would need 5 s). So the origin
 * sees exactly H × 500 fills: ×H for H copies. */
Test(fleet_mitigations, l1_copies_multiply_fills)
{
    static const int hosts[] = {1, 4};
    for (int i = 0; i < 2; i++) {
        struct herd_fleet m;
        struct herd_fleet_cache *c = cached(&m, "l1", 4500 * MS, 1000, 20000, 100, SEC, 0);
        c->hosts = hosts[i];
        struct herd_report r;
        run(&m, 1, &r);
        cr_assert_eq(r.fleet->comps[2].attempts, (uint64_t)hosts[i] * 500,
                     "H = %d: %" PRIu64 " fills", hosts[i], r.fleet->comps[2].attempts);
        herd_report_fini(&r);
    }
}

/* The limiter learns from every overload loss, a DROP_OLDEST eviction included: 4 workers
 * of 10 ms, a DROP_OLDEST queue of 8, the limiter (initial 20, max 50), 2000 calls/s. The
 * service can hold 12, under the initial limit, so only the limiter's cuts make it shed at
 * arrival; a request pushed out of the full queue is a loss like one refused by it (a
 * FIFO queue's rejection already was). Before the fix an eviction released its token as
 * IGNORE: the limit only grew, nothing was ever shed and every excess request was queued
 * to be evicted. Measured: ~7,700 of the 10,000 shed at arrival, ~100 evicted. */
Test(fleet_mitigations, limiter_learns_from_evictions)
{
    struct herd_fleet m;
    int sv = base(&m, "limiter-evict", 5 * SEC, SEC, 2000, 4, HERD_FLEET_DIST_CONSTANT, 10 * MS);
    svc(&m, sv)->admission = HERD_FLEET_ADMIT_LIMITER;
    svc(&m, sv)->admit_limit_max = 50;
    svc(&m, sv)->queue_cap = 8;
    svc(&m, sv)->discipline = HERD_FLEET_DROP_OLDEST;
    struct herd_report r;
    run(&m, 1, &r);
    const struct herd_fleet_comp_figures *f = &r.fleet->comps[sv];
    cr_assert(f->dropped > 0);
    cr_assert(f->shed > 1000, "the limiter never cut its limit: shed %" PRIu64 ", evicted %" PRIu64,
              f->shed, f->dropped);
    herd_report_fini(&r);
}
