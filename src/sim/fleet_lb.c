/* fleet_lb.c — load balancers of the fleet simulator: clients' connections, TLS
 * handshakes on the backend, drops and reconnects.
 *
 * Model (scenario/fleet.h, struct herd_fleet_lb and struct herd_fleet_conn). A client
 * fleet whose call goes to an lb holds one connection per client when `persistent` (all
 * open at the start: a warm fleet), else opens one per attempt. TLS ends at the backend:
 * an attempt sent while its client's connection is not open carries a handshake, done
 * by the backend's worker before the request (fleet_service.c): `handshake_ns` in full,
 * or `resume_ns` when resumption is on and the client connected before (a session
 * ticket). The lb lets a handshake through only while its handshake_rate (libherd
 * ratelimit: the rate, the burst) allows; beyond it the attempt is refused (REJECT).
 * Each attempt the lb lets through goes on to the backend over the lb's `call` (its
 * network, timeout and retries); its answer is the lb's answer. A successful call of a
 * persistent client opens its connection.
 *
 * DROP (an lb restart) closes every open connection at the fault's start, or each at
 * a uniform time within `drain` (a graceful restart). A persistent client whose
 * connection closed reopens it after its reconnect wait (libherd backoff of the
 * fleet's `reconnect` kind, base and cap: NONE is at once), with a call that carries
 * only the handshake (FS_HS_ONLY) under the client call's timeout and no retry; a
 * failed reopening waits the next backoff step and tries again, until arrivals stop.
 * A call the client makes meanwhile carries its own handshake (a pool opening another
 * connection), as it would.
 *
 * Figures (the lb's): handshakes let through (resumed among them) and refused,
 * reopenings (reconnect attempts), connections closed by drops, connections open (a
 * level timeline) and handshakes per bucket; the backend's busy_ns and handshake_ns
 * give the handshakes' share of its worker time.
 * Cost: O(1) per attempt; a drop is O(clients) at once plus one event per connection.
 * Thread safety: none.
 */
#include <herd/error.h>
#include <stdlib.h>

#include "fleet_int.h"

#define CLIENT_BITS 20
#define ARG(comp, i) ((uint64_t)(comp) << CLIENT_BITS | (uint64_t)(i))

static void ev_close(struct herd_sim *sim, void *ctx, uint64_t arg);
static void ev_reconnect(struct herd_sim *sim, void *ctx, uint64_t arg);

int fs_lb_init(struct fsim *fs, struct fs_comp *c)
{
    const struct herd_fleet_lb *lb = &c->spec->u.lb;
    herd_sim_name(fs->sim, ev_close, "lb.close");
    herd_sim_name(fs->sim, ev_reconnect, "lb.reconnect");
    if (lb->handshake_rate_per_s <= 0)
        return 0;
    /* a handshake takes 1000 tokens: a fractional rate stays exact to 0.001/s */
    struct herd_ratelimit_config rc = {
        .rate = (uint64_t)(lb->handshake_rate_per_s * 1000 + 0.5),
        .per_ns = INT64_C(1000000000),
        .burst = 1000 * (uint64_t)(lb->handshake_burst > 0 ? lb->handshake_burst : 1)};
    if (rc.rate == 0)
        rc.rate = 1;
    c->hs_rl = malloc(sizeof *c->hs_rl);
    if (!c->hs_rl)
        return -HERD_ENOMEM;
    int rc_ = herd_ratelimit_init(c->hs_rl, &rc, 0);
    if (rc_ < 0) {
        free(c->hs_rl);
        c->hs_rl = NULL;
    }
    return rc_;
}

void fs_lb_fini(struct fs_comp *c)
{
    if (c->hs_rl) {
        herd_ratelimit_fini(c->hs_rl);
        free(c->hs_rl);
        c->hs_rl = NULL;
    }
}

/* The lb a client fleet's calls go to. */
static struct fs_comp *lb_of(struct fsim *fs, const struct fs_comp *clients)
{
    return &fs->comps[fs->edges[clients->edge].to];
}

static uint8_t handshake_kind(const struct fs_comp *lb, const struct fs_client *cl)
{
    return cl->session && lb->spec->u.lb.resumption ? FS_HS_RESUMED : FS_HS_FULL;
}

uint8_t fs_lb_attempt_hs(struct fsim *fs, const struct fs_call *call)
{
    if (call->owner_kind == FS_OWN_LB) { /* forwarded: what the client's attempt carries */
        uint32_t ai = call->owner;
        return ai < fs->natts && fs->atts[ai].gen == call->owner_gen ? fs->atts[ai].hs : 0;
    }
    struct fs_comp *clients = &fs->comps[fs->edges[call->edge].from];
    const struct fs_client *cl = &clients->cl[call->owner];
    uint8_t kind = handshake_kind(&fs->comps[fs->edges[call->edge].to], cl);
    if (call->owner_kind == FS_OWN_CONN)
        return FS_HS_ONLY | kind;
    if (clients->spec->u.clients.conn.persistent && cl->conn == FS_CONN_OPEN)
        return 0;
    return kind;
}

void fs_lb_arrive(struct fsim *fs, struct fs_comp *c, uint32_t ai)
{
    struct fs_att *a = &fs->atts[ai];
    int64_t now = herd_sim_now(fs->sim);
    if (fs_refused(fs, c, ai))
        return;
    if (a->hs) {
        int64_t ra;
        if (c->hs_rl && herd_ratelimit_take(c->hs_rl, 1000, now, &ra) != HERD_RATELIMIT_GO) {
            c->fig->handshakes_refused++;
            fs_answer(fs, ai, FS_REJECT, FS_HOW_NONE);
            return;
        }
        c->fig->handshakes++;
        c->fig->resumed += (a->hs & FS_HS_RESUMED) != 0;
        fs_tl_add(fs, c, FS_TL_HS, 1);
    }
    a->callee = FS_CALLEE_WAIT;
    fs_call_begin(fs, c->edge, FS_OWN_LB, ai, a->gen, a->client, a->key, now);
}

void fs_lb_call_done(struct fsim *fs, struct fs_call *call, bool ok)
{
    uint32_t ai = call->owner;
    if (ai >= fs->natts || fs->atts[ai].gen != call->owner_gen ||
        fs->atts[ai].callee != FS_CALLEE_WAIT)
        return;
    fs_answer(fs, ai, ok ? FS_OK : FS_ERROR, FS_HOW_WORK);
}

/* ---- connections ---------------------------------------------------------------------- */

static void conn_open(struct fsim *fs, struct fs_comp *clients, struct fs_client *cl)
{
    cl->session = 1;
    cl->tries = 0;
    if (cl->conn == FS_CONN_OPEN || !clients->spec->u.clients.conn.persistent)
        return;
    cl->conn = FS_CONN_OPEN;
    struct fs_comp *lb = lb_of(fs, clients);
    fs_level(fs, lb, FS_TL_CONNS, lb->level_n + 1);
}

/* Reopen client @p i's connection after its reconnect wait (its tries so far). */
static void schedule_reconnect(struct fsim *fs, struct fs_comp *clients, uint32_t i)
{
    const struct herd_fleet_conn *cs = &clients->spec->u.clients.conn;
    struct fs_client *cl = &clients->cl[i];
    int64_t now = herd_sim_now(fs->sim), wait = 0;
    struct herd_backoff_policy pol = {.base_ns = cs->base_ns,
                                      .cap_ns = cs->cap_ns >= cs->base_ns ? cs->cap_ns : 0};
    static const enum herd_backoff_kind kinds[] = {
        [HERD_FLEET_BACKOFF_NONE] = HERD_BACKOFF_NONE,
        [HERD_FLEET_BACKOFF_CONSTANT] = HERD_BACKOFF_CONSTANT,
        [HERD_FLEET_BACKOFF_EXPONENTIAL] = HERD_BACKOFF_EXPONENTIAL,
        [HERD_FLEET_BACKOFF_FULL] = HERD_BACKOFF_FULL,
        [HERD_FLEET_BACKOFF_EQUAL] = HERD_BACKOFF_EQUAL,
        [HERD_FLEET_BACKOFF_DECORRELATED] = HERD_BACKOFF_DECORRELATED,
        [HERD_FLEET_BACKOFF_BROOKER] = HERD_BACKOFF_FULL};
    pol.kind = kinds[cs->reconnect];
    /* The backoff's state is the client's tries: replay them (a reopening is rare; the
     * client's 56 bytes have no room for a struct herd_backoff). */
    struct herd_backoff b;
    if (herd_backoff_init(&b, &pol, now) == 0)
        for (int k = 0; k <= cl->tries && k < 16; k++)
            if (herd_backoff_next(&b, &cl->rng, now, HERD_BACKOFF_FAILED,
                                  HERD_BACKOFF_NO_RETRY_AFTER, &wait) < 0)
                break;
    if (now + wait >= fs->m->duration_ns)
        return;
    herd_sim_at(fs->sim, now + wait, ev_reconnect, fs, ARG(clients->idx, i), NULL);
}

void fs_lb_client_done(struct fsim *fs, struct fs_comp *clients, uint32_t i, bool ok)
{
    if (ok)
        conn_open(fs, clients, &clients->cl[i]);
}

void fs_lb_conn_done(struct fsim *fs, struct fs_call *call, bool ok)
{
    struct fs_comp *clients = &fs->comps[fs->edges[call->edge].from];
    struct fs_client *cl = &clients->cl[call->owner];
    if (ok) {
        conn_open(fs, clients, cl);
        return;
    }
    if (cl->conn != FS_CONN_OPENING)
        return;
    cl->conn = FS_CONN_CLOSED;
    if (cl->tries < UINT8_MAX)
        cl->tries++;
    schedule_reconnect(fs, clients, call->owner);
}

static void ev_reconnect(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct fsim *fs = ctx;
    struct fs_comp *clients = &fs->comps[arg >> CLIENT_BITS];
    uint32_t i = (uint32_t)(arg & ((1u << CLIENT_BITS) - 1));
    struct fs_client *cl = &clients->cl[i];
    if (cl->conn != FS_CONN_CLOSED)
        return; /* a call of its own reopened it meanwhile */
    cl->conn = FS_CONN_OPENING;
    lb_of(fs, clients)->fig->reconnects++;
    fs_call_begin(fs, clients->edge, FS_OWN_CONN, i, 0, i, 0, herd_sim_now(sim));
}

static void conn_close(struct fsim *fs, struct fs_comp *clients, uint32_t i)
{
    struct fs_client *cl = &clients->cl[i];
    if (cl->conn != FS_CONN_OPEN)
        return;
    struct fs_comp *lb = lb_of(fs, clients);
    cl->conn = FS_CONN_CLOSED;
    lb->fig->conns_dropped++;
    fs_level(fs, lb, FS_TL_CONNS, lb->level_n - 1);
    schedule_reconnect(fs, clients, i);
}

static void ev_close(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    struct fsim *fs = ctx;
    conn_close(fs, &fs->comps[arg >> CLIENT_BITS], (uint32_t)(arg & ((1u << CLIENT_BITS) - 1)));
}

/* Calls @p fn on every persistent client fleet whose calls go to lb @p lb. */
static void each_fleet(struct fsim *fs, const struct fs_comp *lb,
                       void (*fn)(struct fsim *fs, struct fs_comp *clients))
{
    for (int k = 0; k < fs->m->ncomps; k++) {
        struct fs_comp *c = &fs->comps[k];
        if (c->spec->kind == HERD_FLEET_CLIENTS && fs->edges[c->edge].to == lb->idx &&
            c->spec->u.clients.conn.persistent)
            fn(fs, c);
    }
}

static void open_all(struct fsim *fs, struct fs_comp *clients)
{
    for (int64_t i = 0; i < clients->spec->u.clients.n; i++)
        conn_open(fs, clients, &clients->cl[i]);
}

static void drop_all(struct fsim *fs, struct fs_comp *clients)
{
    int64_t drain = lb_of(fs, clients)->spec->u.lb.drain_ns, now = herd_sim_now(fs->sim);
    for (int64_t i = 0; i < clients->spec->u.clients.n; i++) {
        struct fs_client *cl = &clients->cl[i];
        if (cl->conn != FS_CONN_OPEN)
            continue;
        if (drain <= 0)
            conn_close(fs, clients, (uint32_t)i);
        else
            herd_sim_at(fs->sim, now + (int64_t)herd_rng_below(&cl->rng, (uint64_t)drain), ev_close,
                        fs, ARG(clients->idx, i), NULL);
    }
}

void fs_lb_start(struct fsim *fs, struct fs_comp *c)
{
    each_fleet(fs, c, open_all);
    c->fig->conns_peak = c->level_n;
}

void fs_lb_drop(struct fsim *fs, struct fs_comp *c)
{
    each_fleet(fs, c, drop_all);
}
