/* fleet.c — herd_sim_fleet (fleet.h): set up a fleet's components on the engine, refuse
 * what would not fit in memory, run, and fill the report.
 *
 * What the report means (scenario/fleet.h's header, DESIGN §1): one event per run; the
 * waiters are the attempts that reached the herd's resource (m->herd), each classed
 * once when the resource is done with it: useful (answered OK to a caller still
 * waiting, with work of its own), served (answered without work: a cache hit, a stale
 * serve, a coalesced join), wasted (work done for a caller who had given up: timed out
 * or a hedge's loser), failed (an error, rejection, shed, drop, or skipped abandoned
 * work). Attempts still held at the horizon are not classed. origin_load = attempts that
 * reached the resource; peak = the most it held at once (queued + in service); latency =
 * the client fleets' calls, end to end from their scheduled start, whatever their
 * outcome; the timeline is the resource's arrivals, retries received, errors, in flight
 * and queue. The per-component section (report/fleet_figures.h) holds every
 * component's figures and timelines, the topology, the faults and the recovery.
 *
 * Recovery. Goodput is the client fleets' successful calls per bucket. Before: its mean
 * over the buckets that end before the first fault starts; after: over the buckets from
 * the last fault's end to the end of arrivals (duration_ns). The threshold is
 * recover_share × before. Recovered at the first bucket b after the last fault's end
 * from which (1) the mean goodput until the end of arrivals reaches the threshold and
 * (2) no window of w buckets falls more than 3 Poisson sd below it (c < e − 3√e, e the
 * successes a window holds at the threshold): w is the fewest buckets that hold 100
 * successes at the before rate, at most a quarter of the post-fault span. (2) alone, with
 * no allowance, called a fleet at 99 % of its old goodput stuck: one window in six of 100
 * successes is 1 sd low. Time to recover = start of b − the last fault's end (0 if at
 * once). No such b: "stuck" (metastable). No fault: "no fault".
 *
 * Memory refusal. Before anything is allocated, the run's memory is estimated: per
 * client its record (56 B) and, for fleets whose clients each keep a call open (closed,
 * periodic, triggered), a call, an attempt and an engine event (~330 B); per cache key
 * and copy its entry; and the timelines. Beyond FLEET_MEM_MAX the run is refused with one
 * line. During the run the call and attempt pools stop growing at FLEET_RECORDS_MAX each
 * (a backlog that grows without bound: the run stops with -HERD_ELIMIT and says so).
 *
 * Cost: see fleet_call.c (two events per attempt) and the modules. Thread safety: runs
 * share nothing; several may run at once on different threads.
 */
#include "fleet.h"

#include <herd/error.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_int.h"

#define FLEET_MEM_MAX (INT64_C(2) << 30)     /* 2 GiB */
#define FLEET_RECORDS_MAX (UINT32_C(1) << 22) /* 4.2 M calls and as many attempts at once */
#define FLEET_MAX_CALLS 2e9                   /* open arrivals a run may begin */
#define ENGINE_EVENT_BYTES 64                 /* a pending event in the wheel, about */
#define AUTO_BUCKETS 200                      /* bucket 0: the run's timelines in this many */
#define MS_NS INT64_C(1000000)

void fs_fail(struct fsim *fs, int rc)
{
    if (!fs->err)
        fs->err = rc;
    herd_sim_stop(fs->sim);
}

size_t fs_bucket(const struct fsim *fs, int64_t t)
{
    if (t < 0)
        return 0;
    size_t b = (size_t)(t / fs->bucket_ns);
    return b < fs->nb ? b : fs->nb - 1;
}

void fs_tl_add(struct fsim *fs, struct fs_comp *c, int series, int64_t v)
{
    c->tl[series][fs_bucket(fs, herd_sim_now(fs->sim))] += v;
}

void fs_level(struct fsim *fs, struct fs_comp *c, int series, int64_t v)
{
    bool queue = series == FS_TL_QUEUE, conns = series == FS_TL_CONNS;
    int64_t *level = queue ? &c->level_q : conns ? &c->level_n : &c->level_c;
    size_t *last = &c->lvl_idx[queue ? 0 : conns ? 2 : 1];
    int64_t *tl = c->tl[series];
    size_t b = fs_bucket(fs, herd_sim_now(fs->sim));
    for (size_t k = *last + 1; k <= b; k++) /* the old level held until now */
        tl[k] = tl[k] > *level ? tl[k] : *level;
    if (tl[b] < v)
        tl[b] = v;
    *last = b;
    *level = v;
    if (conns) {
        if (v > c->fig->conns_peak)
            c->fig->conns_peak = v;
        return;
    }
    if (queue) {
        if (v > c->fig->peak_queue)
            c->fig->peak_queue = v;
    } else if (v > c->fig->peak_concurrency) {
        c->fig->peak_concurrency = v;
    }
    if (c->idx == fs->m->herd && c->level_q + c->level_c > fs->h_peak)
        fs->h_peak = c->level_q + c->level_c;
}

int64_t fs_draw(struct herd_rng *rng, enum herd_fleet_dist d, int64_t mean, double sigma)
{
    if (mean <= 0)
        return 0;
    double m = (double)mean;
    switch (d) {
    case HERD_FLEET_DIST_CONSTANT:
        return mean;
    case HERD_FLEET_DIST_EXPONENTIAL:
        return herd_sim_round_ns(herd_rng_exp_fast(rng, m));
    case HERD_FLEET_DIST_LOGNORMAL:
        return herd_sim_round_ns(exp(herd_rng_normal_fast(rng, log(m) - sigma * sigma / 2, sigma)));
    case HERD_FLEET_DIST_UNIFORM:
        return herd_sim_round_ns(herd_rng_uniform(rng) * 2 * m);
    }
    return mean;
}

int fs_ring_room(struct fsim *fs, void **buf, size_t *cap, size_t *head, size_t len, size_t size)
{
    if (len < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 256;
    unsigned char *n = malloc(ncap * size), *old = *buf;
    if (!n) {
        fs_fail(fs, -HERD_ENOMEM);
        return -HERD_ENOMEM;
    }
    for (size_t k = 0; k < len; k++) /* oldest first: the ring unrolled */
        memcpy(n + k * size, old + ((*head + k) & (*cap - 1)) * size, size);
    free(old);
    *buf = n;
    *cap = ncap;
    *head = 0;
    return 0;
}

/* ---- setup ------------------------------------------------------------------------------ */

static const char *kind_name(enum herd_fleet_kind k)
{
    switch (k) {
#define HERD__FLEET_KIND_NAME(id, name, help)                                               \
    case HERD_FLEET_##id:                                                                   \
        return name;
        HERD_FLEET_KINDS(HERD__FLEET_KIND_NAME)
#undef HERD__FLEET_KIND_NAME
    case HERD_FLEET_NKINDS:
        break;
    }
    return "?";
}

static const char *fault_name(enum herd_fleet_fault_kind k)
{
    switch (k) {
#define HERD__FLEET_FAULT_NAME(id, name, help)                                              \
    case HERD_FLEET_FAULT_##id:                                                             \
        return name;
        HERD_FLEET_FAULTS(HERD__FLEET_FAULT_NAME)
#undef HERD__FLEET_FAULT_NAME
    case HERD_FLEET_NFAULT_KINDS:
        break;
    }
    return "?";
}

/* Calls the open fleets would begin: the integral of their rate curves over the run. */
static double open_calls(const struct herd_fleet *m)
{
    double total = 0;
    for (int i = 0; i < m->ncomps; i++) {
        const struct herd_fleet_component *c = &m->comps[i];
        if (c->kind != HERD_FLEET_CLIENTS || c->u.clients.arrival != HERD_FLEET_OPEN)
            continue;
        double peak = 0;
        for (int k = 0; k < c->u.clients.ncurve; k++)
            if (c->u.clients.curve[k].rate_per_s > peak)
                peak = c->u.clients.curve[k].rate_per_s;
        total += peak * (double)m->duration_ns / 1e9;
    }
    return total;
}

static int64_t estimate_bytes(const struct herd_fleet *m, size_t nb)
{
    double b = 0;
    for (int i = 0; i < m->ncomps; i++) {
        const struct herd_fleet_component *c = &m->comps[i];
        switch (c->kind) {
        case HERD_FLEET_CLIENTS: {
            double n = (double)c->u.clients.n;
            b += n * (double)fs_client_bytes(&c->u.clients);
            if (c->u.clients.arrival != HERD_FLEET_OPEN)
                b += n * (double)(sizeof(struct fs_call) + sizeof(struct fs_att) + ENGINE_EVENT_BYTES);
            break;
        }
        case HERD_FLEET_CACHE:
            b += (double)fs_cache_bytes(m, i);
            break;
        case HERD_FLEET_COORD: /* its locks: 12 bytes each */
            b += (double)c->u.coord.locks * 12;
            break;
        case HERD_FLEET_SERVICE:
        case HERD_FLEET_LB:
        case HERD_FLEET_NKINDS:
            break;
        }
        b += (double)nb * FS_TL_N * sizeof(int64_t) * 2;
    }
    return b > (double)INT64_MAX ? INT64_MAX : (int64_t)b;
}

static int check(const struct herd_fleet *m, char *err, size_t errlen)
{
    if (m->ncomps < 1 || m->ncomps > HERD_FLEET_MAX_COMPONENTS || m->herd < 0 ||
        m->herd >= m->ncomps || m->duration_ns <= 0 || m->drain_ns < 0 || m->bucket_ns < 0 ||
        m->nfaults < 0 || m->nfaults > HERD_FLEET_MAX_FAULTS) {
        snprintf(err, errlen, "fleet '%s': components, herd, duration, drain or bucket out of range",
                 m->name);
        return -HERD_EINVAL;
    }
    int nedges = 0;
    for (int i = 0; i < m->ncomps; i++) {
        const struct herd_fleet_component *c = &m->comps[i];
        const struct herd_fleet_call *calls[HERD_FLEET_MAX_CALLS];
        int n = 0;
        if (c->kind == HERD_FLEET_CLIENTS) {
            if (c->u.clients.n < 1 || c->u.clients.n > HERD_FLEET_CLIENTS_MAX) {
                snprintf(err, errlen, "component '%s': clients must be 1 to %d", c->name,
                         HERD_FLEET_CLIENTS_MAX);
                return -HERD_EINVAL;
            }
            calls[n++] = &c->u.clients.call;
        } else if (c->kind == HERD_FLEET_SERVICE) {
            if (c->u.service.ncalls < 0 || c->u.service.ncalls > HERD_FLEET_MAX_CALLS ||
                (!c->u.service.unlimited && c->u.service.workers < 1)) {
                snprintf(err, errlen, "component '%s': workers or calls out of range", c->name);
                return -HERD_EINVAL;
            }
            for (int k = 0; k < c->u.service.ncalls; k++)
                calls[n++] = &c->u.service.calls[k];
        } else if (c->kind == HERD_FLEET_LB) {
            calls[n++] = &c->u.lb.call;
            if (m->comps[c->u.lb.call.to].kind != HERD_FLEET_SERVICE) {
                snprintf(err, errlen, "component '%s': an lb's backend must be a service",
                         c->name);
                return -HERD_EINVAL;
            }
        } else if (c->kind == HERD_FLEET_COORD) {
            if (c->u.coord.workers < 1 || c->u.coord.locks < 1 || c->u.coord.op_ns <= 0 ||
                c->u.coord.candidates < 0) {
                snprintf(err, errlen, "component '%s': workers, locks or op_time out of range",
                         c->name);
                return -HERD_EINVAL;
            }
        } else {
            calls[n++] = &c->u.cache.call;
            if (c->u.cache.origin < 0 || c->u.cache.origin >= m->ncomps ||
                c->u.cache.origin == i) {
                snprintf(err, errlen, "component '%s': origin out of range", c->name);
                return -HERD_EINVAL;
            }
        }
        for (int k = 0; k < n; k++) {
            int to = c->kind == HERD_FLEET_CACHE ? c->u.cache.origin : calls[k]->to;
            if (to < 0 || to >= m->ncomps || to == i || m->comps[to].kind == HERD_FLEET_CLIENTS ||
                calls[k]->retry.max_attempts < 1 || calls[k]->retry.max_attempts > 255 ||
                calls[k]->timeout_ns < 0 || calls[k]->net_ns < 0 ||
                (calls[k]->op != HERD_FLEET_OP_NONE) != (m->comps[to].kind == HERD_FLEET_COORD)) {
                snprintf(err, errlen,
                         "component '%s': a call's target, max_attempts (1..255), timeout, "
                         "network latency or op (needed by a coord only) is out of range",
                         c->name);
                return -HERD_EINVAL;
            }
            nedges++;
        }
    }
    for (int i = 0; i < m->nfaults; i++) {
        const struct herd_fleet_fault *f = &m->faults[i];
        if (f->target < 0 || f->target >= m->ncomps || f->at_ns < 0 || f->for_ns < 0 ||
            (f->kind == HERD_FLEET_FAULT_PARTITION && (f->peer < 0 || f->peer >= m->ncomps))) {
            snprintf(err, errlen, "fault %d: target, peer or times out of range", i + 1);
            return -HERD_EINVAL;
        }
    }
    (void)nedges;
    return 0;
}

static void edge_add(struct fsim *fs, int from, int to, const struct herd_fleet_call *spec)
{
    struct fs_edge *ed = &fs->edges[fs->nedges];
    memset(ed, 0, sizeof *ed);
    ed->spec = spec;
    ed->from = from;
    ed->to = to;
    ed->idx = fs->nedges;
    herd_sim_rng(fs->sim, FS_STREAM(from, FS_SUB_EDGE + (uint64_t)fs->nedges, 0), &ed->rng);
    const struct herd_fleet_retry *rp = &spec->retry;
    struct herd_backoff_policy *p = &ed->pol;
    memset(p, 0, sizeof *p);
    switch (rp->backoff) {
    case HERD_FLEET_BACKOFF_NONE:
    case HERD_FLEET_BACKOFF_BROOKER: /* fleet_call.c draws it */
        p->kind = HERD_BACKOFF_NONE;
        break;
    case HERD_FLEET_BACKOFF_CONSTANT:
        p->kind = HERD_BACKOFF_CONSTANT;
        break;
    case HERD_FLEET_BACKOFF_EXPONENTIAL:
        p->kind = HERD_BACKOFF_EXPONENTIAL;
        break;
    case HERD_FLEET_BACKOFF_FULL:
        p->kind = HERD_BACKOFF_FULL;
        break;
    case HERD_FLEET_BACKOFF_EQUAL:
        p->kind = HERD_BACKOFF_EQUAL;
        break;
    case HERD_FLEET_BACKOFF_DECORRELATED:
        p->kind = HERD_BACKOFF_DECORRELATED;
        break;
    }
    p->base_ns = rp->base_ns > 0 ? rp->base_ns : 0;
    p->cap_ns = rp->cap_ns > 0 && rp->cap_ns >= p->base_ns ? rp->cap_ns : 0;
    struct herd_fleet_edge_figures *ef = &fs->fig->edges[fs->fig->nedges++];
    ef->from = from;
    ef->to = to;
    ef->timeout_ns = spec->timeout_ns;
    ef->max_attempts = rp->max_attempts;
    fs->nedges++;
}

static int setup(struct fsim *fs)
{
    const struct herd_fleet *m = fs->m;
    struct herd_fleet_figures *fig = fs->fig;
    snprintf(fig->name, sizeof fig->name, "%s", m->name);
    fig->herd = m->herd;
    fig->ncomps = m->ncomps;
    fig->recover_share = m->recover_share;
    int rc = herd_fleet_figures_size(fig, m->ncomps, fs->bucket_ns, fs->nb);
    if (rc < 0)
        return rc;
    fs->goodput = calloc(fs->nb, sizeof *fs->goodput);
    if (!fs->goodput)
        return -HERD_ENOMEM;
    for (int i = 0; i < m->ncomps; i++) {
        struct fs_comp *c = &fs->comps[i];
        c->spec = &m->comps[i];
        c->idx = i;
        c->fig = &fig->comps[i];
        snprintf(c->fig->name, sizeof c->fig->name, "%s", c->spec->name);
        c->fig->kind = kind_name(c->spec->kind);
        c->lat_factor = 1;
        c->restart_ns = INT64_MIN;
        c->edge = -1;
        herd_hist_init(&c->hist);
        herd_sim_rng(fs->sim, FS_STREAM(i, FS_SUB_COMP, 0), &c->rng);
        for (int s = 0; s < FS_TL_N; s++) {
            c->tl[s] = calloc(fs->nb, sizeof *c->tl[s]);
            if (!c->tl[s])
                return -HERD_ENOMEM;
        }
        switch (c->spec->kind) {
        case HERD_FLEET_CLIENTS:
            c->edge = fs->nedges;
            edge_add(fs, i, c->spec->u.clients.call.to, &c->spec->u.clients.call);
            break;
        case HERD_FLEET_SERVICE:
            for (int k = 0; k < c->spec->u.service.ncalls; k++) {
                c->edges[k] = fs->nedges;
                edge_add(fs, i, c->spec->u.service.calls[k].to, &c->spec->u.service.calls[k]);
            }
            break;
        case HERD_FLEET_CACHE:
            c->edge = fs->nedges;
            edge_add(fs, i, c->spec->u.cache.origin, &c->spec->u.cache.call);
            break;
        case HERD_FLEET_LB: {
            const struct herd_fleet_lb *lb = &c->spec->u.lb;
            c->edge = fs->nedges;
            edge_add(fs, i, lb->call.to, &lb->call);
            fs->edges[c->edge].from_lb = true;
            fs->edges[c->edge].hs_full_ns = lb->handshake_ns;
            fs->edges[c->edge].hs_resume_ns = lb->resumption ? lb->resume_ns : lb->handshake_ns;
            break;
        }
        case HERD_FLEET_COORD:
        case HERD_FLEET_NKINDS:
            break;
        }
    }
    for (int e = 0; e < fs->nedges; e++)
        fs->edges[e].to_lb = m->comps[fs->edges[e].to].kind == HERD_FLEET_LB &&
                             m->comps[fs->edges[e].from].kind == HERD_FLEET_CLIENTS;
    for (int i = 0; i < m->nfaults; i++) {
        struct herd_fleet_fault_figures *ff = &fig->faults[fig->nfaults++];
        ff->kind = fault_name(m->faults[i].kind);
        ff->target = m->faults[i].target;
        ff->peer = m->faults[i].kind == HERD_FLEET_FAULT_PARTITION ? m->faults[i].peer : -1;
        ff->at_ns = m->faults[i].at_ns;
        ff->for_ns = m->faults[i].for_ns;
    }
    if ((rc = fs_calls_init(fs)) < 0)
        return rc;
    for (int i = 0; i < m->ncomps; i++) {
        struct fs_comp *c = &fs->comps[i];
        switch (c->spec->kind) {
        case HERD_FLEET_CLIENTS:
            rc = fs_clients_init(fs, c);
            break;
        case HERD_FLEET_SERVICE:
            rc = fs_service_init(fs, c);
            break;
        case HERD_FLEET_CACHE:
            rc = fs_cache_init(fs, c);
            break;
        case HERD_FLEET_LB:
            rc = fs_lb_init(fs, c);
            break;
        case HERD_FLEET_COORD:
            rc = fs_coord_init(fs, c);
            break;
        case HERD_FLEET_NKINDS:
            break;
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void teardown(struct fsim *fs)
{
    for (int i = 0; i < fs->m->ncomps; i++) {
        struct fs_comp *c = &fs->comps[i];
        if (!c->spec)
            continue;
        switch (c->spec->kind) {
        case HERD_FLEET_CLIENTS:
            fs_clients_fini(c);
            break;
        case HERD_FLEET_SERVICE:
            fs_service_fini(c);
            break;
        case HERD_FLEET_CACHE:
            fs_cache_fini(c);
            break;
        case HERD_FLEET_LB:
            fs_lb_fini(c);
            break;
        case HERD_FLEET_COORD:
            fs_coord_fini(c);
            break;
        case HERD_FLEET_NKINDS:
            break;
        }
        for (int s = 0; s < FS_TL_N; s++)
            free(c->tl[s]);
    }
    fs_calls_fini(fs);
    free(fs->goodput);
}

/* ---- results ---------------------------------------------------------------------------- */

static void finish_levels(struct fsim *fs)
{
    for (int i = 0; i < fs->m->ncomps; i++) {
        struct fs_comp *c = &fs->comps[i];
        fs_level(fs, c, FS_TL_QUEUE, c->level_q);
        fs_level(fs, c, FS_TL_CONC, c->level_c);
        fs_level(fs, c, FS_TL_CONNS, c->level_n);
        if (c->spec->kind == HERD_FLEET_COORD)
            fs_coord_finish(fs, c);
    }
}

static void comp_figures(struct fsim *fs)
{
    for (int i = 0; i < fs->m->ncomps; i++) {
        struct fs_comp *c = &fs->comps[i];
        struct herd_fleet_comp_figures *f = c->fig;
        f->amplification = f->calls ? (double)f->attempts / (double)f->calls : 0;
        /* A periodic client without a success went without one the whole of the
         * arrivals (other arrivals need not call every client). */
        if (c->spec->kind == HERD_FLEET_CLIENTS && c->cl &&
            c->spec->u.clients.arrival == HERD_FLEET_PERIODIC)
            for (int64_t k = 0; k < c->spec->u.clients.n; k++)
                if (c->cl[k].last_ok == 0 && fs->m->duration_ns > f->max_gap_ns)
                    f->max_gap_ns = fs->m->duration_ns;
        f->p50_ns = herd_hist_quantile(&c->hist, 0.50);
        f->p99_ns = herd_hist_quantile(&c->hist, 0.99);
        static const int map[HERD_FLEET_NSERIES] = {
            [HERD_FLEET_S_ARRIVALS] = FS_TL_ARRIVALS, [HERD_FLEET_S_GOODPUT] = FS_TL_GOODPUT,
            [HERD_FLEET_S_ERRORS] = FS_TL_ERRORS,     [HERD_FLEET_S_RETRIES] = FS_TL_RETRIES,
            [HERD_FLEET_S_QUEUE] = FS_TL_QUEUE,       [HERD_FLEET_S_CONCURRENCY] = FS_TL_CONC,
            [HERD_FLEET_S_LATENCY] = FS_TL_LAT_SUM,   [HERD_FLEET_S_HANDSHAKES] = FS_TL_HS,
            [HERD_FLEET_S_CONNECTIONS] = FS_TL_CONNS, [HERD_FLEET_S_REQUESTS] = FS_TL_REQS,
            [HERD_FLEET_S_WATCH] = FS_TL_WATCH,       [HERD_FLEET_S_MISSES] = FS_TL_MISSES};
        for (int s = 0; s < HERD_FLEET_NSERIES; s++) {
            for (size_t k = 0; k < fs->nb; k++) {
                int64_t v = c->tl[map[s]][k];
                if (s == HERD_FLEET_S_LATENCY) {
                    int64_t n = c->tl[FS_TL_LAT_N][k];
                    v = n ? v / n : 0;
                }
                f->series[s][k] = v;
            }
        }
        for (size_t k = 0; k < fs->nb; k++) {
            double hs = (double)c->tl[FS_TL_HS][k] * 1e9 / (double)fs->bucket_ns;
            if (hs > f->handshakes_peak_per_s)
                f->handshakes_peak_per_s = hs;
        }
    }
}

static void recovery(struct fsim *fs)
{
    const struct herd_fleet *m = fs->m;
    struct herd_fleet_figures *f = fs->fig;
    f->recover_ns = -1;
    f->verdict = "no fault";
    if (m->nfaults == 0)
        return;
    int64_t first = INT64_MAX, last = 0;
    for (int i = 0; i < m->nfaults; i++) {
        int64_t a = m->faults[i].at_ns;
        /* a flush, a drop and a leader's death strike at once (a leader_death's `for` is
         * how long the member stays down, not how long the service lacks a leader) */
        enum herd_fleet_fault_kind k = m->faults[i].kind;
        bool instant = k == HERD_FLEET_FAULT_FLUSH || k == HERD_FLEET_FAULT_DROP ||
                       k == HERD_FLEET_FAULT_LEADER_DEATH;
        int64_t e = instant ? a : a + m->faults[i].for_ns;
        first = a < first ? a : first;
        last = e > last ? e : last;
    }
    double bw_s = (double)fs->bucket_ns / 1e9;
    size_t nbefore = (size_t)(first / fs->bucket_ns);
    double sum = 0;
    for (size_t k = 0; k < nbefore && k < fs->nb; k++)
        sum += (double)fs->goodput[k];
    f->goodput_before = nbefore ? sum / ((double)nbefore * bw_s) : 0;
    size_t lo = (size_t)((last + fs->bucket_ns - 1) / fs->bucket_ns);
    size_t hi = (size_t)(m->duration_ns / fs->bucket_ns); /* buckets [lo, hi) */
    if (hi > fs->nb)
        hi = fs->nb;
    sum = 0;
    for (size_t k = lo; k < hi; k++)
        sum += (double)fs->goodput[k];
    f->goodput_after = hi > lo ? sum / ((double)(hi - lo) * bw_s) : 0;
    f->verdict = "stuck";
    if (hi <= lo)
        return;
    double target = m->recover_share * f->goodput_before;
    if (target <= 0) {
        f->verdict = "recovered";
        f->recover_ns = (int64_t)lo * fs->bucket_ns - last;
        return;
    }
    size_t span = hi - lo;
    size_t w = (size_t)ceil(100.0 / (f->goodput_before * bw_s));
    if (w < 1)
        w = 1;
    if (w > span / 4)
        w = span / 4 ? span / 4 : 1;
    /* From the end backwards: the earliest k from which no window is too low and the
     * mean reaches the threshold. */
    double expect = target * (double)w * bw_s;
    double floor_count = expect - 3 * sqrt(expect);
    size_t best = SIZE_MAX;
    double wsum = 0, tail = 0;
    for (size_t k = hi; k-- > lo;) {
        wsum += (double)fs->goodput[k];
        tail += (double)fs->goodput[k];
        if (k + w < hi)
            wsum -= (double)fs->goodput[k + w];
        if (k + w > hi)
            continue; /* not a full window yet */
        if (wsum < floor_count)
            break;
        if (tail / ((double)(hi - k) * bw_s) >= target)
            best = k;
    }
    if (best == SIZE_MAX)
        return;
    f->verdict = "recovered";
    int64_t t = (int64_t)best * fs->bucket_ns - last;
    f->recover_ns = t > 0 ? t : 0;
}

static int fill_report(struct fsim *fs)
{
    const struct herd_fleet *m = fs->m;
    struct herd_report *r = fs->r;
    struct herd_event ev = {.useful = fs->h_useful,
                            .served = fs->h_served,
                            .wasted = fs->h_wasted,
                            .failed = fs->h_failed,
                            .origin_load = fs->h_origin,
                            .peak = (uint64_t)fs->h_peak};
    int rc = herd_report_add_event(r, &ev);
    if (rc < 0)
        return rc;
    r->sim_time_ns = fs->horizon;
    r->population = (int64_t)fs->h_seen;
    r->nwaiters = fs->h_seen < HERD_REPORT_WAITERS ? (size_t)fs->h_seen : HERD_REPORT_WAITERS;
    if ((rc = herd_report_timeline(r, fs->bucket_ns, fs->nb)) < 0)
        return rc;
    struct fs_comp *h = &fs->comps[m->herd];
    static const struct {
        const char *name;
        int s;
    } series[] = {{"arrivals", FS_TL_ARRIVALS}, {"inflight", FS_TL_CONC}, {"queue", FS_TL_QUEUE},
                  {"errors", FS_TL_ERRORS},     {"retries", FS_TL_RETRIES}};
    for (size_t i = 0; i < sizeof series / sizeof series[0]; i++) {
        int64_t *v = herd_report_series(r, series[i].name);
        if (!v)
            return -HERD_ENOMEM;
        memcpy(v, h->tl[series[i].s], r->timeline.len * sizeof *v);
    }
    uint64_t calls = 0, attempts = 0;
    for (int i = 0; i < m->ncomps; i++) {
        if (m->comps[i].kind != HERD_FLEET_CLIENTS)
            continue;
        calls += fs->comps[i].fig->calls;
        attempts += fs->comps[i].fig->attempts;
    }
    struct herd_fleet_figures *f = fs->fig;
    herd_report_extra(r, "client_calls", (double)calls);
    herd_report_extra(r, "client_attempts", (double)attempts);
    herd_report_extra(r, "herd_amplification", h->fig->amplification);
    herd_report_extra(r, "goodput_before_per_s", f->goodput_before);
    herd_report_extra(r, "goodput_after_per_s", f->goodput_after);
    herd_report_extra(r, "recover_ns", (double)f->recover_ns);
    herd_report_extra(r, "events_dispatched", (double)herd_sim_events(fs->sim));
    return 0;
}

/* The timelines' bucket for @p m (its own, or about AUTO_BUCKETS over the run) into
 * @p bucket_out. @return how many buckets. */
static size_t timeline_buckets(const struct herd_fleet *m, int64_t *bucket_out)
{
    int64_t horizon = m->duration_ns + m->drain_ns;
    int64_t bucket = m->bucket_ns;
    if (bucket <= 0) /* the file left it to us: about AUTO_BUCKETS of them */
        bucket = herd_timeline_pick_bucket(horizon, MS_NS, AUTO_BUCKETS);
    if ((horizon + bucket - 1) / bucket > HERD_TIMELINE_MAX_BUCKETS)
        bucket = herd_timeline_pick_bucket(horizon, bucket, HERD_TIMELINE_MAX_BUCKETS);
    size_t nb = (size_t)((horizon + bucket - 1) / bucket);
    *bucket_out = bucket;
    return nb < 1 ? 1 : nb;
}

int64_t herd_sim_fleet_bytes(const struct herd_fleet *m)
{
    int64_t bucket;
    size_t nb = timeline_buckets(m, &bucket);
    /* Open fleets' calls in flight at once: at most every call they begin, and never more
     * than the run's record cap (beyond it the run stops itself). */
    double open = open_calls(m);
    if (open > (double)FLEET_RECORDS_MAX)
        open = (double)FLEET_RECORDS_MAX;
    double b = (double)estimate_bytes(m, nb) +
               open * (double)(sizeof(struct fs_call) + sizeof(struct fs_att) + ENGINE_EVENT_BYTES);
    return b > (double)INT64_MAX ? INT64_MAX : (int64_t)b;
}

int herd_sim_fleet(const struct herd_fleet *m, uint64_t seed, const struct herd_sim_hooks *hooks,
                   struct herd_report *r, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    int rc = check(m, err, errlen);
    if (rc < 0)
        return rc;
    int64_t bucket;
    size_t nb = timeline_buckets(m, &bucket);
    double ncalls = open_calls(m);
    if (ncalls > FLEET_MAX_CALLS) {
        snprintf(err, errlen,
                 "fleet '%s': its open fleets would begin ~%.3g calls, more than the %.0g a run "
                 "may take; lower their rates or duration",
                 m->name, ncalls, FLEET_MAX_CALLS);
        return -HERD_ELIMIT;
    }
    int64_t bytes = estimate_bytes(m, nb);
    if (bytes > FLEET_MEM_MAX) {
        snprintf(err, errlen,
                 "fleet '%s' would need ~%.1f GB of memory (clients, cache keys), more than the "
                 "%.0f GB a run may take; lower clients, keys or cache hosts",
                 m->name, (double)bytes / 1e9, (double)FLEET_MEM_MAX / 1e9);
        return -HERD_ELIMIT;
    }

    struct herd_sim sim;
    struct fsim *fs = calloc(1, sizeof *fs);
    if (!fs) {
        snprintf(err, errlen, "fleet simulation: %s", herd_strerror(-HERD_ENOMEM));
        return -HERD_ENOMEM;
    }
    bool sim_up = false;
    fs->m = m;
    fs->r = r;
    fs->sim = &sim;
    fs->horizon = m->duration_ns + m->drain_ns;
    fs->bucket_ns = bucket;
    fs->nb = nb;
    fs->max_records = FLEET_RECORDS_MAX;
    rc = -HERD_ENOMEM;
    fs->fig = herd_fleet_figures_new();
    if (!fs->fig)
        goto out;
    if ((rc = herd_sim_init(&sim, seed)) < 0)
        goto out;
    sim_up = true;
    herd_sim_set_hooks(&sim, hooks);
    if ((rc = setup(fs)) < 0)
        goto out;
    fs_faults_start(fs);
    for (int i = 0; i < m->ncomps; i++)
        if (m->comps[i].kind == HERD_FLEET_CLIENTS)
            fs_clients_start(fs, &fs->comps[i]);
    for (int i = 0; i < m->ncomps; i++)
        if (m->comps[i].kind == HERD_FLEET_LB)
            fs_lb_start(fs, &fs->comps[i]);
    rc = herd_sim_run_until(&sim, fs->horizon);
    if (fs->err)
        rc = fs->err;
    if (rc < 0)
        goto out;
    sim.now_ns = fs->horizon;
    finish_levels(fs);
    comp_figures(fs);
    recovery(fs);
    if ((rc = fill_report(fs)) < 0)
        goto out;
    herd_fleet_figures_free(r->fleet);
    r->fleet = fs->fig;
    fs->fig = NULL;
    rc = 0;
out:
    if (rc == -HERD_ELIMIT && errlen && !err[0])
        snprintf(err, errlen,
                 "fleet '%s': more than %u requests in flight at once (a backlog without bound); "
                 "bound a queue, shorten the run or lower the load",
                 m->name, (unsigned)FLEET_RECORDS_MAX);
    if (rc < 0 && errlen && !err[0])
        snprintf(err, errlen, "fleet simulation: %s", herd_strerror(rc));
    teardown(fs);
    if (sim_up)
        herd_sim_fini(&sim);
    herd_fleet_figures_free(fs->fig);
    free(fs);
    return rc;
}
