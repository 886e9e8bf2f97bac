/* fleet_clients.c — client fleets of the fleet simulator: when their calls begin.
 *
 * Model (scenario/fleet.h, enum herd_fleet_arrival):
 *   OPEN       Poisson arrivals whose rate follows the piecewise-linear curve (constant
 *              before its first and after its last point; two points at one time make a
 *              step), drawn by thinning (Lewis & Shedler 1979) at the curve's largest
 *              rate. Each arrival is a new logical call of a client drawn uniformly from
 *              the N (n independent Poisson clients of rate λ/N, as in Brooker's
 *              retry_sim); calls of one client may overlap.
 *   CLOSED     each client thinks Exp(think_ns), calls, waits for the call's end, thinks.
 *   PERIODIC   client i fires when its own clock reads phase + k·period (true time
 *              − its skew) + a fresh U[0, jitter); a firing that finds the client's
 *              previous call still open is skipped.
 *   TRIGGERED  each client once, at trigger_ns on its own clock + U[0, jitter).
 * A client's skew is Normal(0, skew_sd) clamped to ±8 sd, the first draw of its own skew
 * stream. No call begins after duration_ns. A call's latency counts from its scheduled
 * firing (no coordinated omission). Keys: when keys > 0 each call draws one, Zipf(s)
 * over [0, keys) by rejection-inversion (Hörmann & Derflinger, "Rejection-inversion to
 * generate variates from monotone discrete distributions", 1996), O(1) with no table;
 * key 0 is the most popular; s = 0 is uniform.
 *
 * Memory: 56 bytes per client (its rng stream, skew, open-call flag, its connection to
 * an lb, the PER_CLIENT budget and breaker counters) in one flat array; one pending
 * engine event per client for CLOSED, PERIODIC and TRIGGERED. Cost: O(1) per firing.
 * Thread safety: none.
 */
#include <herd/error.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bigalloc.h"
#include "fleet_int.h"

#define CLIENT_BITS 20 /* HERD_FLEET_CLIENTS_MAX < 2^20 */
#define COMP_BITS 4    /* HERD_FLEET_MAX_COMPONENTS = 16 */
#define ARG(comp, i, k)                                                                     \
    ((uint64_t)(k) << (CLIENT_BITS + COMP_BITS) | (uint64_t)(comp) << CLIENT_BITS | (uint64_t)(i))

_Static_assert(HERD_FLEET_CLIENTS_MAX <= (1 << CLIENT_BITS), "client index fits its bits");
_Static_assert(HERD_FLEET_MAX_COMPONENTS <= (1 << COMP_BITS), "component fits its bits");

static void ev_open(struct herd_sim *sim, void *ctx, uint64_t comp);
static void ev_fire(struct herd_sim *sim, void *ctx, uint64_t arg);

size_t fs_client_bytes(const struct herd_fleet_clients *c)
{
    (void)c;
    return sizeof(struct fs_client);
}

static double rate_at(const struct herd_fleet_clients *c, int64_t t)
{
    if (c->ncurve == 0)
        return 0;
    if (t < c->curve[0].t_ns)
        return c->curve[0].rate_per_s;
    for (int i = 0; i + 1 < c->ncurve; i++) {
        const struct herd_fleet_curve_point *a = &c->curve[i], *b = &c->curve[i + 1];
        if (t >= a->t_ns && t < b->t_ns) {
            double f = (double)(t - a->t_ns) / (double)(b->t_ns - a->t_ns);
            return a->rate_per_s + f * (b->rate_per_s - a->rate_per_s);
        }
    }
    return c->curve[c->ncurve - 1].rate_per_s;
}

/* ---- Zipf keys (rejection-inversion) ----------------------------------------------- */

/* log1p(x)/x and expm1(x)/x, continuous at 0. */
static double log1p_x(double x)
{
    return fabs(x) > 1e-8 ? log1p(x) / x : 1 - x / 2 + x * x / 3;
}
static double expm1_x(double x)
{
    return fabs(x) > 1e-8 ? expm1(x) / x : 1 + x / 2 + x * x / 6;
}

/* H(x) = ∫ x^-s, shifted so that it is continuous in s at 1. */
static double zipf_hint(double x, double s)
{
    double lx = log(x);
    return expm1_x((1 - s) * lx) * lx;
}
static double zipf_hinv(double y, double s)
{
    double t = y * (1 - s);
    if (t < -1)
        t = -1;
    return exp(log1p_x(t) * y);
}

static uint64_t zipf_draw(struct herd_rng *rng, int64_t n, double s)
{
    double h_x1 = zipf_hint(1.5, s) - 1, h_n = zipf_hint((double)n + 0.5, s);
    double thr = 2 - zipf_hinv(zipf_hint(2.5, s) - exp(-s * log(2.0)), s);
    for (;;) {
        double u = h_n + herd_rng_uniform(rng) * (h_x1 - h_n);
        double x = zipf_hinv(u, s);
        int64_t k = (int64_t)(x + 0.5);
        if (k < 1)
            k = 1;
        else if (k > n)
            k = n;
        if ((double)k - x <= thr || u >= zipf_hint((double)k + 0.5, s) - exp(-s * log((double)k)))
            return (uint64_t)(k - 1);
    }
}

static uint64_t draw_key(const struct herd_fleet_clients *c, struct herd_rng *rng)
{
    if (c->keys <= 1)
        return 0;
    if (c->zipf_s <= 0)
        return herd_rng_below(rng, (uint64_t)c->keys);
    return zipf_draw(rng, c->keys, c->zipf_s);
}

/* ---- fleet ------------------------------------------------------------------------------- */

int fs_clients_init(struct fsim *fs, struct fs_comp *c)
{
    const struct herd_fleet_clients *cs = &c->spec->u.clients;
    c->cl = herd_big_calloc((size_t)cs->n, sizeof *c->cl);
    if (!c->cl)
        return -HERD_ENOMEM;
    double sd = (double)cs->skew_sd_ns;
    for (int64_t i = 0; i < cs->n; i++) {
        struct fs_client *cl = &c->cl[i];
        herd_sim_rng(fs->sim, FS_STREAM(c->idx, FS_SUB_CLIENT, i), &cl->rng);
        cl->tokens = (float)cs->call.retry.budget_tokens;
        if (sd > 0 && (cs->arrival == HERD_FLEET_PERIODIC || cs->arrival == HERD_FLEET_TRIGGERED)) {
            struct herd_rng r;
            herd_sim_rng(fs->sim, FS_STREAM(c->idx, FS_SUB_SKEW, i), &r);
            double z = herd_rng_normal(&r, 0, sd);
            if (z > 8 * sd)
                z = 8 * sd;
            if (z < -8 * sd)
                z = -8 * sd;
            cl->skew = herd_sim_round_ns(z);
        }
        if (herd_sim_work(fs->sim, 1))
            return fs->sim->err;
    }
    herd_sim_rng(fs->sim, FS_STREAM(c->idx, FS_SUB_ARRIVAL, 0), &c->arr_rng);
    for (int i = 0; i < cs->ncurve; i++)
        if (cs->curve[i].rate_per_s > c->lambda_max)
            c->lambda_max = cs->curve[i].rate_per_s;
    herd_sim_name(fs->sim, ev_open, "clients.arrive");
    herd_sim_name(fs->sim, ev_fire, "clients.fire");
    return 0;
}

void fs_clients_fini(struct fs_comp *c)
{
    free(c->cl);
    c->cl = NULL;
}

/* The next OPEN arrival after now (thinning), if before the end of arrivals. */
static void next_open(struct fsim *fs, struct fs_comp *c)
{
    const struct herd_fleet_clients *cs = &c->spec->u.clients;
    if (c->lambda_max <= 0)
        return;
    double gap_mean = 1e9 / c->lambda_max;
    double t = (double)herd_sim_now(fs->sim);
    for (;;) {
        t += herd_rng_exp_fast(&c->arr_rng, gap_mean);
        if (t >= (double)fs->m->duration_ns)
            return;
        double rate = rate_at(cs, (int64_t)t);
        if (rate >= c->lambda_max || herd_rng_uniform(&c->arr_rng) * c->lambda_max < rate)
            break;
    }
    herd_sim_at(fs->sim, herd_sim_round_ns(t), ev_open, fs, (uint64_t)c->idx, NULL);
}

static void begin(struct fsim *fs, struct fs_comp *c, uint32_t i, int64_t start)
{
    const struct herd_fleet_clients *cs = &c->spec->u.clients;
    struct fs_client *cl = &c->cl[i];
    uint64_t key = cs->keys > 0 ? draw_key(cs, &cl->rng) : 0;
    c->fig->calls++;
    fs_tl_add(fs, c, FS_TL_ARRIVALS, 1);
    fs_level(fs, c, FS_TL_CONC, c->level_c + 1);
    cl->busy = 1;
    fs_call_begin(fs, c->edge, FS_OWN_CLIENT, i, 0, i, key, start);
}

static void ev_open(struct herd_sim *sim, void *ctx, uint64_t comp)
{
    struct fsim *fs = ctx;
    struct fs_comp *c = &fs->comps[comp];
    int64_t n = c->spec->u.clients.n;
    uint32_t i = n > 1 ? (uint32_t)herd_rng_below(&c->arr_rng, (uint64_t)n) : 0;
    begin(fs, c, i, herd_sim_now(sim));
    next_open(fs, c);
}

/* The true time of client @p i's PERIODIC firing @p k (>= 0). */
static int64_t periodic_at(struct fs_comp *c, uint32_t i, int64_t k)
{
    const struct herd_fleet_clients *cs = &c->spec->u.clients;
    struct fs_client *cl = &c->cl[i];
    int64_t t = cs->phase_ns + k * cs->period_ns - cl->skew;
    if (cs->jitter_ns > 0)
        t += (int64_t)herd_rng_below(&cl->rng, (uint64_t)cs->jitter_ns);
    return t;
}

static void schedule_fire(struct fsim *fs, struct fs_comp *c, uint32_t i, int64_t t, int64_t k)
{
    int64_t now = herd_sim_now(fs->sim);
    if (t < now)
        t = now;
    if (t >= fs->m->duration_ns)
        return;
    herd_sim_at(fs->sim, t, ev_fire, fs, ARG(c->idx, i, k), NULL);
}

static void ev_fire(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct fsim *fs = ctx;
    struct fs_comp *c = &fs->comps[(arg >> CLIENT_BITS) & ((1u << COMP_BITS) - 1)];
    uint32_t i = (uint32_t)(arg & ((1u << CLIENT_BITS) - 1));
    int64_t k = (int64_t)(arg >> (CLIENT_BITS + COMP_BITS));
    const struct herd_fleet_clients *cs = &c->spec->u.clients;
    int64_t now = herd_sim_now(sim);
    struct fs_client *cl = &c->cl[i];
    switch (cs->arrival) {
    case HERD_FLEET_PERIODIC:
        if (!cl->busy)
            begin(fs, c, i, now);
        else
            c->fig->cancelled++; /* a skipped firing: the previous call is still open */
        schedule_fire(fs, c, i, periodic_at(c, i, k + 1), k + 1);
        break;
    case HERD_FLEET_CLOSED:
    case HERD_FLEET_TRIGGERED:
        begin(fs, c, i, now);
        break;
    case HERD_FLEET_OPEN:
        break;
    }
}

void fs_clients_start(struct fsim *fs, struct fs_comp *c)
{
    const struct herd_fleet_clients *cs = &c->spec->u.clients;
    switch (cs->arrival) {
    case HERD_FLEET_OPEN:
        next_open(fs, c);
        return;
    case HERD_FLEET_CLOSED:
        for (int64_t i = 0; i < cs->n; i++) {
            struct fs_client *cl = &c->cl[i];
            double t = cs->think_ns > 0 ? herd_rng_exp_fast(&cl->rng, (double)cs->think_ns) : 0;
            schedule_fire(fs, c, (uint32_t)i, herd_sim_round_ns(t), 0);
            if (herd_sim_work(fs->sim, 1))
                return;
        }
        return;
    case HERD_FLEET_PERIODIC:
        for (int64_t i = 0; i < cs->n; i++) {
            /* the first own-clock boundary at or after the start */
            int64_t k = 0;
            int64_t t = periodic_at(c, (uint32_t)i, 0);
            if (t < 0 && cs->period_ns > 0) {
                k = (-t + cs->period_ns - 1) / cs->period_ns;
                t = periodic_at(c, (uint32_t)i, k);
            }
            schedule_fire(fs, c, (uint32_t)i, t, k);
            if (herd_sim_work(fs->sim, 1))
                return;
        }
        return;
    case HERD_FLEET_TRIGGERED:
        for (int64_t i = 0; i < cs->n; i++) {
            struct fs_client *cl = &c->cl[i];
            int64_t t = cs->trigger_ns - cl->skew;
            if (cs->jitter_ns > 0)
                t += (int64_t)herd_rng_below(&cl->rng, (uint64_t)cs->jitter_ns);
            schedule_fire(fs, c, (uint32_t)i, t, 0);
            if (herd_sim_work(fs->sim, 1))
                return;
        }
        return;
    }
}

void fs_client_call_done(struct fsim *fs, struct fs_call *call, bool ok, int64_t now)
{
    struct fs_comp *c = &fs->comps[fs->edges[call->edge].from];
    const struct herd_fleet_clients *cs = &c->spec->u.clients;
    uint32_t i = call->owner;
    int64_t lat = now - call->start_ns;
    if (ok) {
        c->fig->ok++;
        int64_t gap = now - c->cl[i].last_ok;
        if (gap > c->fig->max_gap_ns)
            c->fig->max_gap_ns = gap;
        c->cl[i].last_ok = now;
        fs_tl_add(fs, c, FS_TL_GOODPUT, 1);
        fs->goodput[fs_bucket(fs, now)]++;
    } else {
        c->fig->errors++;
        fs_tl_add(fs, c, FS_TL_ERRORS, 1);
    }
    herd_hist_record(&c->hist, lat);
    herd_hist_record(&fs->r->latency, lat);
    fs_tl_add(fs, c, FS_TL_LAT_SUM, lat);
    fs_tl_add(fs, c, FS_TL_LAT_N, 1);
    fs_level(fs, c, FS_TL_CONC, c->level_c - 1);
    struct fs_client *cl = &c->cl[i];
    cl->busy = 0;
    if (fs->edges[call->edge].to_lb)
        fs_lb_client_done(fs, c, i, ok);
    if (cs->arrival == HERD_FLEET_CLOSED) {
        double t = cs->think_ns > 0 ? herd_rng_exp_fast(&cl->rng, (double)cs->think_ns) : 0;
        schedule_fire(fs, c, i, now + herd_sim_round_ns(t), 0);
    }
}
