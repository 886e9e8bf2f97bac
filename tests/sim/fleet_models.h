/* fleet_models.h — fleet models built in C for the fleet simulator's tests and benchmark
 * (not through scenario files: these check the simulator alone).
 *
 * Each builder fills a struct herd_fleet; run_fleet() runs one into a fresh report.
 * Header-only so that tests/sim/test_fleet*.c and bench/bench_fleet_chain.c share them.
 */
#ifndef HERD_TESTS_FLEET_MODELS_H
#define HERD_TESTS_FLEET_MODELS_H

#include <herd/error.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/report/report.h"
#include "../../src/sim/fleet.h"

#define MS INT64_C(1000000)
#define SEC INT64_C(1000000000)

static inline void fm_init(struct herd_fleet *m, const char *name, int64_t duration_ns,
                           int64_t drain_ns, int64_t bucket_ns)
{
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    m->duration_ns = duration_ns;
    m->drain_ns = drain_ns;
    m->bucket_ns = bucket_ns;
    m->recover_share = 0.8;
}

/* A call to @p to: no timeout, no network, one attempt. */
static inline struct herd_fleet_call fm_call(int to)
{
    struct herd_fleet_call c;
    memset(&c, 0, sizeof c);
    c.to = to;
    c.net_dist = HERD_FLEET_DIST_CONSTANT;
    c.retry.max_attempts = 1;
    return c;
}

/* A new component named @p name of kind @p kind, zeroed otherwise: its index. */
static inline int fm_comp(struct herd_fleet *m, const char *name, enum herd_fleet_kind kind)
{
    int i = m->ncomps++;
    struct herd_fleet_component *c = &m->comps[i];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->kind = kind;
    return i;
}

/* A fleet of @p n clients arriving as @p arrival, calling @p to (fm_call). */
static inline int fm_clients(struct herd_fleet *m, const char *name, int64_t n,
                             enum herd_fleet_arrival arrival, int to)
{
    int i = fm_comp(m, name, HERD_FLEET_CLIENTS);
    struct herd_fleet_component *c = &m->comps[i];
    c->u.clients.n = n;
    c->u.clients.arrival = arrival;
    c->u.clients.call = fm_call(to);
    return i;
}

/* An open fleet of @p n clients at a constant @p rate_per_s calling @p to. */
static inline int fm_open(struct herd_fleet *m, const char *name, int64_t n, double rate_per_s,
                          int to)
{
    int i = fm_clients(m, name, n, HERD_FLEET_OPEN, to);
    m->comps[i].u.clients.ncurve = 1;
    m->comps[i].u.clients.curve[0].rate_per_s = rate_per_s;
    return i;
}

/* A service of @p workers (0: unlimited) with exponential times of mean @p service_ns. */
static inline int fm_service(struct herd_fleet *m, const char *name, int workers,
                             enum herd_fleet_dist dist, int64_t service_ns)
{
    int i = fm_comp(m, name, HERD_FLEET_SERVICE);
    struct herd_fleet_component *c = &m->comps[i];
    c->u.service.workers = workers > 0 ? workers : 1;
    c->u.service.unlimited = workers == 0;
    c->u.service.queue_cap = -1;
    c->u.service.dist = dist;
    c->u.service.service_ns = service_ns;
    c->u.service.warm_start = 1;
    return i;
}

static inline int fm_fault(struct herd_fleet *m, enum herd_fleet_fault_kind kind, int target,
                           int64_t at_ns, int64_t for_ns, double p)
{
    int i = m->nfaults++;
    struct herd_fleet_fault *f = &m->faults[i];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->target = target;
    f->peer = -1;
    f->at_ns = at_ns;
    f->for_ns = for_ns;
    f->p = p;
    f->factor = 1;
    return i;
}

/* Brooker's simple_collapse_sim (github.com/mbrooker/simulator_example): Poisson
 * arrivals (spike: 40/s with 80/s for t in [20, 25); ramp: 80 − 1.6|t − 25|), each a
 * new client wanting one success, 3 attempts, 3 s timeout, Exp(0.1 s) each way, a server
 * of unlimited concurrency taking 1 + 0.01·(concurrency at start) s and never told of
 * timeouts; with backoff, a retry waits U(0,1)·b, b doubling from 10 s before each. */
static inline void fm_brooker_collapse(struct herd_fleet *m, bool ramp, bool backoff)
{
    fm_init(m, ramp ? "collapse-ramp" : "collapse-spike", 80 * SEC, 0, SEC);
    int cl = fm_open(m, "clients", 1, 40, 1);
    int sv = fm_service(m, "server", 0, HERD_FLEET_DIST_CONSTANT, SEC);
    m->herd = sv;
    struct herd_fleet_clients *c = &m->comps[cl].u.clients;
    if (ramp) {
        c->ncurve = 3;
        c->curve[0] = (struct herd_fleet_curve_point){0, 40};
        c->curve[1] = (struct herd_fleet_curve_point){25 * SEC, 80};
        c->curve[2] = (struct herd_fleet_curve_point){75 * SEC, 0};
    } else {
        c->ncurve = 4;
        c->curve[0] = (struct herd_fleet_curve_point){20 * SEC, 40};
        c->curve[1] = (struct herd_fleet_curve_point){20 * SEC, 80};
        c->curve[2] = (struct herd_fleet_curve_point){25 * SEC, 80};
        c->curve[3] = (struct herd_fleet_curve_point){25 * SEC, 40};
    }
    c->call.timeout_ns = 3 * SEC;
    c->call.net_ns = 100 * MS;
    c->call.net_dist = HERD_FLEET_DIST_EXPONENTIAL;
    c->call.retry.max_attempts = 3;
    c->call.retry.retry_on_timeout = true;
    c->call.retry.backoff = backoff ? HERD_FLEET_BACKOFF_BROOKER : HERD_FLEET_BACKOFF_NONE;
    c->call.retry.base_ns = 10 * SEC;
    m->comps[sv].u.service.per_concurrent = 0.01;
}

enum fm_retry_strategy { FM_NONE, FM_THREE, FM_BUCKET, FM_BREAKER };

/* Brooker's retry_sim: @p nclients clients sharing @p rate_per_s calls/s, a server that
 * fails each attempt with probability @p f at once, Exp(10 ms) network each way. */
static inline void fm_brooker_retry(struct herd_fleet *m, int64_t nclients, double rate_per_s,
                                    double f, enum fm_retry_strategy st, int64_t duration_ns)
{
    fm_init(m, "retry-sim", duration_ns, 2 * SEC, SEC);
    int cl = fm_open(m, "clients", nclients, rate_per_s, 1);
    int sv = fm_service(m, "server", 0, HERD_FLEET_DIST_CONSTANT, 0);
    m->herd = sv;
    struct herd_fleet_call *call = &m->comps[cl].u.clients.call;
    call->net_ns = 10 * MS;
    call->net_dist = HERD_FLEET_DIST_EXPONENTIAL;
    struct herd_fleet_retry *r = &call->retry;
    switch (st) {
    case FM_NONE:
        r->max_attempts = 1;
        break;
    case FM_THREE:
        r->max_attempts = 4;
        break;
    case FM_BUCKET: /* retries until the bucket says no */
        r->max_attempts = 255;
        r->budget = HERD_FLEET_BUDGET_PER_CLIENT;
        r->budget_tokens = 5;
        r->budget_refill = 0.1;
        break;
    case FM_BREAKER:
        r->max_attempts = 4;
        r->breaker = HERD_FLEET_BREAKER_PER_CLIENT;
        r->breaker_ratio = 0.1;
        break;
    }
    if (f > 0)
        fm_fault(m, HERD_FLEET_FAULT_ERRORS, sv, 0, duration_ns + 2 * SEC, f);
}

/* The three-tier chain of the benchmark: @p n closed clients (think @p think_ns) →
 * api (256 workers, 2 ms) → cache (10^4 Zipf(1) keys, TTL 5 s ± 20 %, singleflight) →
 * db (16 workers, 2 ms, warm-up 2 s from 30 %), full-jitter backoff at the clients, a
 * 2 s crash of the db at t = 4 s. */
static inline void fm_chain(struct herd_fleet *m, int64_t n, int64_t think_ns, int64_t duration_ns)
{
    fm_init(m, "chain", duration_ns, 2 * SEC, 100 * MS);
    int cl = fm_clients(m, "clients", n, HERD_FLEET_CLOSED, 1);
    struct herd_fleet_component *c = &m->comps[cl];
    c->u.clients.think_ns = think_ns;
    c->u.clients.keys = 10000;
    c->u.clients.zipf_s = 1.0;
    c->u.clients.call.timeout_ns = 1 * SEC;
    c->u.clients.call.net_ns = 1 * MS;
    c->u.clients.call.net_dist = HERD_FLEET_DIST_EXPONENTIAL;
    struct herd_fleet_retry *r = &c->u.clients.call.retry;
    r->max_attempts = 4;
    r->backoff = HERD_FLEET_BACKOFF_FULL;
    r->base_ns = 100 * MS;
    r->cap_ns = 10 * SEC;
    r->retry_on_timeout = true;
    int api = fm_service(m, "api", 256, HERD_FLEET_DIST_EXPONENTIAL, 2 * MS);
    m->comps[api].u.service.queue_cap = 100000;
    m->comps[api].u.service.ncalls = 1;
    m->comps[api].u.service.calls[0] = fm_call(2);
    m->comps[api].u.service.calls[0].timeout_ns = 500 * MS;
    c = &m->comps[fm_comp(m, "cache", HERD_FLEET_CACHE)];
    c->u.cache.origin = 3;
    c->u.cache.hosts = 1;
    c->u.cache.ttl_ns = 5 * SEC;
    c->u.cache.ttl_jitter = 0.2;
    c->u.cache.singleflight = true;
    c->u.cache.hit_ns = 100000;
    c->u.cache.warm = true;
    c->u.cache.call = fm_call(3);
    c->u.cache.call.timeout_ns = 200 * MS;
    c->u.cache.call.retry.max_attempts = 2;
    int db = fm_service(m, "db", 16, HERD_FLEET_DIST_EXPONENTIAL, 2 * MS);
    m->comps[db].u.service.queue_cap = 1000;
    m->comps[db].u.service.warmup_ns = 2 * SEC;
    m->comps[db].u.service.warm_start = 0.3;
    m->herd = db;
    fm_fault(m, HERD_FLEET_FAULT_CRASH, db, 4 * SEC, 2 * SEC, 0);
}

/* Load balancer @p lb_name in front of service @p backend (already built), no network:
 * handshakes of @p full_ns (resumed @p resume_ns when @p resumption). @return its index. */
static inline int fm_lb(struct herd_fleet *m, const char *name, int backend, int64_t full_ns,
                        int64_t resume_ns, bool resumption)
{
    int i = fm_comp(m, name, HERD_FLEET_LB);
    struct herd_fleet_component *c = &m->comps[i];
    c->u.lb.handshake_ns = full_ns;
    c->u.lb.resume_ns = resume_ns;
    c->u.lb.resumption = resumption;
    c->u.lb.handshake_burst = 1;
    c->u.lb.call = fm_call(backend);
    return i;
}

/* @p n persistent clients of @p lb that make no call (triggered after the run's end):
 * only their connections live. */
static inline int fm_idle_conns(struct herd_fleet *m, int64_t n, int lb)
{
    int i = fm_clients(m, "clients", n, HERD_FLEET_TRIGGERED, lb);
    struct herd_fleet_component *c = &m->comps[i];
    c->u.clients.trigger_ns = m->duration_ns + m->drain_ns;
    c->u.clients.conn.persistent = true;
    c->u.clients.conn.reconnect = HERD_FLEET_BACKOFF_NONE;
    return i;
}

/* A coordination service of @p workers serving a request in @p op_ns, lock @p mode. */
static inline int fm_coord(struct herd_fleet *m, const char *name, int workers, int64_t op_ns,
                           enum herd_fleet_lock mode)
{
    int i = fm_comp(m, name, HERD_FLEET_COORD);
    struct herd_fleet_component *c = &m->comps[i];
    c->u.coord.workers = workers;
    c->u.coord.op_ns = op_ns;
    c->u.coord.lock = mode;
    c->u.coord.locks = 1;
    c->u.coord.poll_ns = 100 * MS;
    c->u.coord.poll_jitter = 0.5;
    c->u.coord.election_timeout_ns = 150 * MS;
    c->u.coord.vote_ns = 10 * MS;
    return i;
}

static inline void fm_report(struct herd_report *r, uint64_t seed)
{
    struct herd_run_info info;
    memset(&info, 0, sizeof info);
    info.scenario = "fleet";
    info.strategy = "file";
    info.mitigation = "none";
    info.naive = true;
    info.n = 1;
    info.events = 1;
    info.seed = seed;
    herd_report_init(r, &info, "sim");
}

/* Run @p m with @p seed into @p r (initialised here). @return herd_sim_fleet's result. */
static inline int fm_run(const struct herd_fleet *m, uint64_t seed, struct herd_report *r)
{
    char err[256];
    fm_report(r, seed);
    int rc = herd_sim_fleet(m, seed, NULL, r, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "herd_sim_fleet: %s\n", err);
    return rc;
}

/* @p r as JSON (malloc'd; the caller frees it), or NULL. */
static inline char *fm_json(const struct herd_report *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    struct herd_report *runs[] = {(struct herd_report *)r};
    int rc = herd_write_json(f, runs, 1);
    fclose(f);
    if (rc < 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Goodput (successful client calls per second) over [from, to) from the client fleet
 * @p comp's goodput timeline. */
static inline double fm_goodput(const struct herd_report *r, int comp, int64_t from, int64_t to)
{
    const struct herd_fleet_figures *f = r->fleet;
    double sum = 0;
    for (size_t k = 0; k < f->nbuckets; k++) {
        int64_t t = (int64_t)k * f->bucket_ns;
        if (t >= from && t + f->bucket_ns <= to)
            sum += (double)f->comps[comp].series[HERD_FLEET_S_GOODPUT][k];
    }
    return sum / ((double)(to - from) / 1e9);
}

#endif
