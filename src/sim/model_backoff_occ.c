/* model_backoff_occ.c — the `backoff-occ` preset: Brooker's 2015 backoff study (sim only).
 *
 * The model of "Exponential Backoff And Jitter" (AWS Architecture Blog, 2015) and its
 * simulator (aws-samples/aws-arch-backoff-simulator), event for event. N clients all
 * start at t = 0 and each updates one row exactly once under optimistic concurrency.
 * Every network hop takes |Normal(hop_ms, hop_sd_ms)| (hop.h's NORMAL hop), drawn
 * from the client's own stream. A client's attempt is four messages, four engine events:
 *   occ.read         the read request reaches the row (one hop after it was sent): the
 *                    row's current version is what the reply carries;
 *   occ.read_reply   the reply reaches the client (a hop), which sends its conditional
 *                    write with that version at once;
 *   occ.write        the write reaches the row (a hop). The row counts every write it
 *                    receives (the study's "work"); the write succeeds only if the
 *                    version still matches, and then the version increments;
 *   occ.write_reply  the outcome reaches the client (a hop). On success the client is
 *                    done. On failure its attempt count n grows and its next read goes
 *                    out after a hop plus backoff(n).
 * backoff(n) is libherd's herd_backoff_next() with the policy's formula set to
 * HERD_BACKOFF_FORMULA_AWS2015 (the article's formulas verbatim, herd/backoff.h),
 * expo(n) = min(cap, base·2ⁿ) from n = 1: naive ("no-backoff") waits 0; `exponential`
 * expo(n); `full-jitter` U(0, expo(n)); `equal-jitter` expo(n)/2 + U(0, expo(n)/2);
 * `decorrelated-jitter` per client sleep = min(cap, U(base, 3·sleep)) from sleep =
 * base. The draws come from a second stream per client, so naive and mitigated runs
 * of a seed see the same sequence of hops per client (common random numbers).
 * The study's costs are the preset's parameters; the calibration profile is not used.
 *
 * What the report means here (one event = one round of N clients from t = 0; with
 * --events E the rounds run back to back, round k+1 starting when round k's last
 * client is done):
 *   wakes        conditional writes the clients sent (each a reaction that reached the
 *                row), so that wasted = wakes − useful is the failed writes;
 *   useful       writes that succeeded: N per round;
 *   wasted       writes that failed (the version had moved on);
 *   origin_load  writes the row received: the study's "work" (= wakes);
 *   peak         most transactions open on the row at once (read served, write not
 *                yet received): how many clients contend at one instant;
 *   latency      each client's completion time, round start → its success reply;
 *   sim_time_ns  simulated time of the last event: the study's completion time;
 *   timeline     "arrivals" writes received per bucket, "inflight" open transactions
 *                (most within the bucket), "retries" failed writes (each one is
 *                followed by a retry);
 *   waiters      first 240 clients, each write counted in its tile: one useful (every
 *                client wins in the end) and a wasted one per race it lost;
 *   extras       clients, failed_writes, reads, mean_attempts (writes per client),
 *                completion_ns (mean over rounds), events_dispatched.
 *
 * Cost. Four events per attempt, O(1) each; 112 bytes per client (two rng streams, a
 * struct herd_backoff, the version it read) in one flat array, plus the engine's
 * ~55 bytes per pending event (one per client at most). The WORK, though, is the
 * study's result: N clients serialise on one row (about one success per round trip),
 * so completion time grows linearly with N and the writes like N² without backoff and
 * like N·(completion / cap) ~ N² h / cap with it. N in the thousands takes a second;
 * a run is refused up front when an estimate of its writes exceeds MAX_WRITES (naive
 * beyond N ~ 40,000, the backoff kinds beyond N ~ 200,000: N = 1,000,000 could not
 * finish in hours, ~10^11 events).
 * Thread safety: none; a run owns everything it touches.
 */
#include "model_backoff_occ.h"

#include <herd/backoff.h>
#include <herd/error.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hop.h"
#include "model_timeline.h"

/* RNG streams (component << 32 | client). */
#define STREAM_HOP (UINT64_C(1) << 32)
#define STREAM_BACKOFF (UINT64_C(2) << 32)

#define MAX_WRITES 4e8 /* 1.6 x 10^9 events: two or three minutes of CPU */

struct client {
    struct herd_rng hop; /* every hop of this client's messages, both ways */
    struct herd_rng jit; /* its backoff draws */
    struct herd_backoff bo;
    uint32_t read_version; /* the version its last read saw */
    uint8_t won;           /* its last write succeeded */
    uint8_t lost;          /* it lost a race this round */
};

struct occ {
    struct herd_report *r;
    struct client *c; /* owned, n */
    struct herd_backoff_policy policy;
    int64_t n;
    struct herd_hop net; /* |Normal(hop_ms, hop_sd_ms)| (hop.h) */
    double hop_ns;
    uint32_t version; /* the row's */
    int64_t open;     /* transactions open on the row: read served, write not received */

    int64_t round, rounds, round_start;
    int64_t done, writes, failed, peak; /* this round */
    uint64_t reads, total_writes, total_failed;
    double completion_sum;
    int err;

    struct herd_tl tl;
    int s_arr, s_open, s_retry;
};

static void on_read(struct herd_sim *sim, void *ctx, uint64_t i);
static void on_read_reply(struct herd_sim *sim, void *ctx, uint64_t i);
static void on_write(struct herd_sim *sim, void *ctx, uint64_t i);
static void on_write_reply(struct herd_sim *sim, void *ctx, uint64_t i);

static int64_t hop(struct occ *o, struct client *c)
{
    return herd_hop_draw(&o->net, &c->hop);
}

/* Every client starts now: its first read is one hop away. */
static void start_round(struct herd_sim *sim, struct occ *o)
{
    int64_t now = herd_sim_now(sim);
    o->round_start = now;
    o->done = o->writes = o->failed = o->peak = 0;
    for (int64_t i = 0; i < o->n; i++) {
        struct client *c = &o->c[i];
        herd_backoff_init(&c->bo, &o->policy, now);
        c->lost = 0;
        herd_sim_at(sim, now + hop(o, c), on_read, o, (uint64_t)i, NULL);
    }
}

static void on_read(struct herd_sim *sim, void *ctx, uint64_t i)
{
    struct occ *o = ctx;
    struct client *c = &o->c[i];
    o->reads++;
    c->read_version = o->version;
    if (++o->open > o->peak)
        o->peak = o->open;
    herd_tl_level(&o->tl, o->s_open, herd_sim_now(sim), o->open);
    herd_sim_after(sim, hop(o, c), on_read_reply, o, i, NULL);
}

static void on_read_reply(struct herd_sim *sim, void *ctx, uint64_t i)
{
    struct occ *o = ctx;
    herd_sim_after(sim, hop(o, &o->c[i]), on_write, o, i, NULL);
}

static void on_write(struct herd_sim *sim, void *ctx, uint64_t i)
{
    struct occ *o = ctx;
    struct client *c = &o->c[i];
    int64_t now = herd_sim_now(sim);
    o->writes++;
    o->open--;
    herd_tl_add(&o->tl, o->s_arr, now, 1);
    herd_tl_level(&o->tl, o->s_open, now, o->open);
    /* Each conditional write is a reaction: the one that lands is useful, one that
     * loses to a newer version is wasted (the client reads and tries again). */
    if (c->read_version == o->version) {
        o->version++;
        c->won = 1;
        herd_report_waiter(o->r, (size_t)i, HERD_OUT_USEFUL);
    } else {
        c->won = 0;
        o->failed++;
        herd_tl_add(&o->tl, o->s_retry, now, 1);
        herd_report_waiter(o->r, (size_t)i, HERD_OUT_WASTED);
    }
    herd_sim_after(sim, hop(o, c), on_write_reply, o, i, NULL);
}

static void end_round(struct herd_sim *sim, struct occ *o)
{
    int64_t now = herd_sim_now(sim);
    struct herd_event ev = {.useful = (uint64_t)o->n,
                            .wasted = (uint64_t)o->failed,
                            .origin_load = (uint64_t)o->writes,
                            .peak = (uint64_t)o->peak};
    int rc = herd_report_add_event(o->r, &ev);
    if (rc < 0) {
        o->err = rc;
        herd_sim_stop(sim);
        return;
    }
    o->total_writes += (uint64_t)o->writes;
    o->total_failed += (uint64_t)o->failed;
    o->completion_sum += (double)(now - o->round_start);
    if (++o->round < o->rounds)
        start_round(sim, o);
}

static void on_write_reply(struct herd_sim *sim, void *ctx, uint64_t i)
{
    struct occ *o = ctx;
    struct client *c = &o->c[i];
    int64_t now = herd_sim_now(sim);
    if (c->won) {
        herd_hist_record(&o->r->latency, now - o->round_start);
        if (++o->done == o->n)
            end_round(sim, o);
        return;
    }
    c->lost = 1;
    int64_t wait = 0;
    /* Unlimited attempts and no deadline: the policy never gives up. */
    int rc = herd_backoff_next(&c->bo, &c->jit, now, HERD_BACKOFF_FAILED,
                               HERD_BACKOFF_NO_RETRY_AFTER, &wait);
    if (rc < 0) {
        o->err = rc;
        herd_sim_stop(sim);
        return;
    }
    int64_t d = hop(o, c);
    herd_sim_at(sim, now + d + wait, on_read, o, i, NULL);
}

static int config(const struct herd_run_spec *spec, struct occ *o, char *err, size_t errlen)
{
    const struct herd_backoff_occ_config *cfg = &spec->cfg.backoff_occ;
    if (cfg->cap_ns < cfg->base_ns) { /* the catalogue's validate refuses it first */
        snprintf(err, errlen, "cap_ms (%g) must be at least base_ms (%g)",
                 (double)cfg->cap_ns / 1e6, (double)cfg->base_ns / 1e6);
        return -HERD_EINVAL;
    }
    o->n = spec->n;
    o->rounds = spec->events > 0 ? spec->events : 1;
    o->hop_ns = cfg->hop_ns;
    int rc = herd_hop_init(&o->net, HERD_HOP_NORMAL, llround(o->hop_ns), cfg->hop_sd_ns);
    if (rc < 0) {
        snprintf(err, errlen, "hop_ms or hop_sd_ms out of range");
        return rc;
    }
    memset(&o->policy, 0, sizeof o->policy);
    o->policy.formula = HERD_BACKOFF_FORMULA_AWS2015;
    o->policy.base_ns = cfg->base_ns;
    o->policy.cap_ns = cfg->cap_ns;
    switch (cfg->strategy) {
    case HERD_BACKOFF_OCC_NO_BACKOFF:
        o->policy.kind = HERD_BACKOFF_NONE;
        break;
    case HERD_BACKOFF_OCC_EXPONENTIAL:
        o->policy.kind = HERD_BACKOFF_EXPONENTIAL;
        break;
    case HERD_BACKOFF_OCC_FULL_JITTER:
        o->policy.kind = HERD_BACKOFF_FULL;
        break;
    case HERD_BACKOFF_OCC_EQUAL_JITTER:
        o->policy.kind = HERD_BACKOFF_EQUAL;
        break;
    case HERD_BACKOFF_OCC_DECORRELATED_JITTER:
        o->policy.kind = HERD_BACKOFF_DECORRELATED;
        break;
    }
    /* Refuse runs that cannot finish in minutes, from an estimate of their writes:
     * the row takes about one success per two hops h (a winner's read reply and write
     * follow the previous success), so client k of N finishes near 2hk, having made an
     * attempt every 4h + w (w its mean wait near the end: 0 without backoff, cap/2 with
     * jitter, cap for exponential); summed over k, about N^2 h / (4h + w) writes.
     * Measured against it: naive N^2/5 (estimate N^2/4), full jitter at N = 4,000
     * 164,000 (estimate 154,000), exponential 5x above it (its completion is longer). */
    double h = o->hop_ns, cap = (double)o->policy.cap_ns;
    double w = o->policy.kind == HERD_BACKOFF_NONE          ? 0
               : o->policy.kind == HERD_BACKOFF_EXPONENTIAL ? cap
                                                            : cap / 2;
    double per_round = (double)o->n;
    if (h > 0)
        per_round += (double)o->n * (double)o->n * h / (4 * h + w);
    double writes_est = per_round * (double)o->rounds;
    if (writes_est > MAX_WRITES) {
        snprintf(err, errlen,
                 "N = %lld clients on one row would need ~%.2g writes, more than the %.2g a "
                 "run may take (minutes of CPU); lower -n or --events",
                 (long long)o->n, writes_est, MAX_WRITES);
        return -HERD_ELIMIT;
    }
    return 0;
}

int herd__sim_backoff_occ_run_hooked(const struct herd_run_spec *spec,
                                     const struct herd_profile *prof, struct herd_report *r,
                                     const struct herd_sim_hooks *hooks, char *err,
                                     size_t errlen)
{
    (void)prof; /* the study's costs are the preset's parameters */
    if (errlen)
        err[0] = '\0';
    struct occ o = {.r = r};
    int rc = config(spec, &o, err, errlen);
    if (rc < 0)
        return rc;
    struct herd_sim sim;
    bool sim_up = false;
    herd_tl_init(&o.tl, (int64_t)(o.hop_ns / 10));
    o.s_arr = herd_tl_series(&o.tl, "arrivals", HERD_TL_SUM);
    o.s_open = herd_tl_series(&o.tl, "inflight", HERD_TL_LEVEL);
    o.s_retry = herd_tl_series(&o.tl, "retries", HERD_TL_SUM);
    rc = -HERD_ENOMEM;
    o.c = malloc((size_t)o.n * sizeof *o.c);
    if (!o.c)
        goto fail;
    if ((rc = herd_sim_init(&sim, spec->seed)) < 0)
        goto fail;
    sim_up = true;
    herd_sim_set_hooks(&sim, hooks);
    herd_sim_name(&sim, on_read, "occ.read");
    herd_sim_name(&sim, on_read_reply, "occ.read_reply");
    herd_sim_name(&sim, on_write, "occ.write");
    herd_sim_name(&sim, on_write_reply, "occ.write_reply");
    for (int64_t i = 0; i < o.n; i++) {
        herd_sim_rng(&sim, STREAM_HOP | (uint64_t)i, &o.c[i].hop);
        herd_sim_rng(&sim, STREAM_BACKOFF | (uint64_t)i, &o.c[i].jit);
        o.c[i].read_version = 0;
        o.c[i].won = 0;
    }
    start_round(&sim, &o);
    rc = herd_sim_run_until(&sim, HERD_SIM_FOREVER);
    if (rc == 0)
        rc = o.err;
    if (rc < 0)
        goto fail;

    int64_t t_end = herd_sim_now(&sim);
    r->sim_time_ns = t_end;
    if ((rc = herd_tl_emit(&o.tl, r, t_end, 1000, 1000, NULL)) < 0)
        goto fail;
    double clients = (double)o.n * (double)o.rounds;
    herd_report_extra(r, "clients", (double)o.n);
    herd_report_extra(r, "failed_writes", (double)o.total_failed);
    herd_report_extra(r, "reads", (double)o.reads);
    herd_report_extra(r, "mean_attempts", (double)o.total_writes / clients);
    herd_report_extra(r, "completion_ns", o.completion_sum / (double)o.rounds);
    herd_report_extra(r, "events_dispatched", (double)herd_sim_events(&sim));
    rc = 0;
fail:
    if (rc < 0 && errlen && !err[0])
        snprintf(err, errlen, "backoff-occ simulation: %s", herd_strerror(rc));
    if (sim_up)
        herd_sim_fini(&sim);
    herd_tl_fini(&o.tl);
    free(o.c);
    return rc;
}

static int run(const struct herd_run_spec *spec, const struct herd_profile *prof,
               const struct herd_sim_hooks *hooks, struct herd_report *r, char *err,
               size_t errlen)
{
    return herd__sim_backoff_occ_run_hooked(spec, prof, r, hooks, err, errlen);
}

const struct herd_sim_model herd__sim_backoff_occ = {run};
