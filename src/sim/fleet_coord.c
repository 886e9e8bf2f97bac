/* fleet_coord.c — coordination services of the fleet simulator (ZooKeeper, etcd,
 * Consul): locks with their three ways of waiting, and leader election.
 *
 * Requests. Everything a coord does for its callers is a request served by one of its
 * `workers` in op_ns (FIFO; × a LATENCY fault's factor): a lock try, a release, a woken
 * waiter's read, a `leader` call. A caller's attempt arrives over its call (network,
 * timeout, retries as any call); ERRORS and CRASH faults refuse arrivals as anywhere,
 * and what the coord holds (queue, locks, waiters, leader) outlives a crash.
 *
 * Locks (calls with op lock; the lock is the call's key mod `locks`). A try takes a free
 * lock (granted: the caller holds it hold_ns, then a release request frees it and
 * answers the call OK: latency = wait + hold). A try that finds it held waits:
 *   NOTIFY_ALL  it watches the lock (the try and the watch are one request). A release
 *               delivers a watch event to every waiter; each comes back (one network
 *               round trip of its call later) with a new try; the first served wins,
 *               the others find it held again and watch again: a release with W
 *               waiters costs W events, W tries and W − 1 wasted wake-ups;
 *   NOTIFY_ONE  it joins the lock's queue and watches its predecessor (ZooKeeper's lock
 *               recipe). A release hands the lock to the next waiter: one watch event,
 *               one read, no waste;
 *   POLL        it tries again after poll_ns × U[1 − j, 1 + j]; each try that finds
 *               the lock held is a wasted wake-up.
 * A waiter whose caller gave up (timed out) leaves when it is next woken or granted
 * (counted cancelled); a holder's work is wasted when its caller left meanwhile.
 *
 * Leader election (candidates > 0: members of the service, or replicas of a singleton,
 * the first leading at the start). A LEADER_DEATH kills the leader; the others notice
 * when its lease expires (lease_ns later) and elect in rounds: each live member's timer
 * fires election_timeout + U[0, election_jitter) after the round begins; the first to
 * fire asks the others for their votes (n − 1 vote requests, counted as requests served)
 * and wins when they come back vote_ns later, unless another timer fired before then
 * (a split vote: each that fired asked too); a split starts a new round when the first
 * campaign's votes are back. So a round splits with probability 1 − (1 − δ/W)^n for n
 * live members, W the jitter and δ = vote_ns < W (the spacing of the two smallest of n
 * uniforms), and always when W <= δ (equal timeouts: no leader, round after round).
 * Calls with op leader are answered OK while there is a leader, else fail at once; the
 * clients of a fleet that makes them watch the leader: each new leader is a watch
 * event to every one of them, and each reads the leader again (a request) at once.
 *
 * Figures (fleet_figures.h): requests served, watch events, wake-ups and wasted ones,
 * locks granted and the acquisition latency (arrival → grant), elections, rounds,
 * split votes, the time from a leader's death to the next leader, time without one.
 * Cost: O(1) per request; a NOTIFY_ALL release is O(waiters); a round O(candidates).
 * Thread safety: none.
 */
#include <herd/error.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_int.h"

/* What an attempt's pending request is (fs_att.step), and its waiting state (.hs). */
enum { REQ_TRY = 1, REQ_RELEASE, REQ_CHECK, REQ_LEADER };
enum { W_FRESH = 0, W_WOKEN };

struct fs_lock {
    uint32_t holder;     /* attempt index, FS_NONE; NOTIFY_ONE: also the one woken next */
    uint32_t head, tail; /* waiters (fs_att.next), FS_NONE */
};

struct fs_coord {
    struct fs_lock *locks;
    uint64_t *q; /* ring of attempt handles waiting for a worker */
    size_t q_cap, q_head, q_len;
    int64_t busy;
    struct herd_hist lock_hist;
    /* election */
    struct herd_rng erng;
    bool has_leader;
    int leader, alive;
    uint8_t *dead;
    double *timer;
    uint32_t round_gen; /* a new death outdates the rounds of the last */
    int64_t watchers;   /* clients whose calls ask for the leader (they watch it) */
    int64_t lost_ns, since_ns;
};

static void ev_done(struct herd_sim *sim, void *ctx, uint64_t h);
static void ev_hold_end(struct herd_sim *sim, void *ctx, uint64_t h);
static void ev_again(struct herd_sim *sim, void *ctx, uint64_t h);
static void ev_round(struct herd_sim *sim, void *ctx, uint64_t arg);
static void ev_elected(struct herd_sim *sim, void *ctx, uint64_t arg);

#define COMP_SHIFT 60 /* election events: component << 60 | generation << 16 | member */
#define WATCH_READ (UINT64_C(1) << 63) /* a queued request that is a watcher's read: | comp */

int fs_coord_init(struct fsim *fs, struct fs_comp *c)
{
    const struct herd_fleet_coord *s = &c->spec->u.coord;
    herd_sim_name(fs->sim, ev_done, "coord.done");
    herd_sim_name(fs->sim, ev_hold_end, "coord.hold_end");
    herd_sim_name(fs->sim, ev_again, "coord.again");
    herd_sim_name(fs->sim, ev_round, "coord.round");
    herd_sim_name(fs->sim, ev_elected, "coord.elected");
    struct fs_coord *co = calloc(1, sizeof *co);
    if (!co)
        return -HERD_ENOMEM;
    c->co = co;
    co->locks = malloc((size_t)s->locks * sizeof *co->locks);
    co->dead = calloc((size_t)s->candidates + 1, 1);
    co->timer = calloc((size_t)s->candidates + 1, sizeof *co->timer);
    if (!co->locks || !co->dead || !co->timer)
        return -HERD_ENOMEM;
    for (int64_t k = 0; k < s->locks; k++)
        co->locks[k] = (struct fs_lock){FS_NONE, FS_NONE, FS_NONE};
    herd_hist_init(&co->lock_hist);
    herd_sim_rng(fs->sim, FS_STREAM(c->idx, FS_SUB_ARRIVAL, 0), &co->erng);
    co->has_leader = s->candidates > 0;
    for (int k = 0; k < fs->m->ncomps; k++) {
        const struct herd_fleet_component *w = &fs->m->comps[k];
        if (w->kind == HERD_FLEET_CLIENTS && w->u.clients.call.to == c->idx &&
            w->u.clients.call.op == HERD_FLEET_OP_LEADER)
            co->watchers += w->u.clients.n;
    }
    co->alive = s->candidates;
    c->fig->leader_ns = c->fig->leader_max_ns = -1;
    return 0;
}

void fs_coord_fini(struct fs_comp *c)
{
    if (!c->co)
        return;
    free(c->co->locks);
    free(c->co->q);
    free(c->co->dead);
    free(c->co->timer);
    free(c->co);
    c->co = NULL;
}

/* ---- requests ------------------------------------------------------------------------- */

static void serve(struct fsim *fs, struct fs_comp *c, uint64_t h)
{
    struct fs_coord *co = c->co;
    co->busy++;
    fs_level(fs, c, FS_TL_CONC, co->busy);
    c->fig->coord_requests++;
    fs_tl_add(fs, c, FS_TL_REQS, 1);
    double slow = 1 + c->spec->u.coord.slowdown * (double)co->q_len / 1000.0;
    herd_sim_after(fs->sim,
                   herd_sim_round_ns((double)c->spec->u.coord.op_ns * c->lat_factor * slow),
                   ev_done, fs, h, NULL);
}

/* Queue handle @p h (an attempt's, or a WATCH_READ) for a worker. */
static void enqueue(struct fsim *fs, struct fs_comp *c, uint64_t h)
{
    struct fs_coord *co = c->co;
    if (co->busy < c->spec->u.coord.workers && co->q_len == 0) {
        serve(fs, c, h);
        return;
    }
    if (fs_ring_room(fs, (void **)&co->q, &co->q_cap, &co->q_head, co->q_len, sizeof *co->q) < 0)
        return;
    co->q[(co->q_head + co->q_len++) & (co->q_cap - 1)] = h;
    fs_level(fs, c, FS_TL_QUEUE, (int64_t)co->q_len);
}

/* Request @p kind of attempt @p ai: to a worker, or to the queue. */
static void request(struct fsim *fs, struct fs_comp *c, uint32_t ai, int kind)
{
    struct fs_att *a = &fs->atts[ai];
    a->step = (uint8_t)kind;
    a->callee = FS_CALLEE_QUEUED;
    enqueue(fs, c, fs_handle(ai, a->gen));
}

static struct fs_lock *lock_of(struct fs_comp *c, const struct fs_att *a)
{
    return &c->co->locks[a->key % (uint64_t)c->spec->u.coord.locks];
}

static void waiter_push(struct fsim *fs, struct fs_lock *l, uint32_t ai)
{
    fs->atts[ai].next = FS_NONE;
    fs->atts[ai].callee = FS_CALLEE_WAIT;
    if (l->tail == FS_NONE)
        l->head = ai;
    else
        fs->atts[l->tail].next = ai;
    l->tail = ai;
}

static uint32_t waiter_pop(struct fsim *fs, struct fs_lock *l)
{
    uint32_t ai = l->head;
    if (ai != FS_NONE) {
        l->head = fs->atts[ai].next;
        if (l->head == FS_NONE)
            l->tail = FS_NONE;
    }
    return ai;
}

/* Back at the coord after its call's network there and back. */
static void come_back(struct fsim *fs, uint32_t ai)
{
    struct fs_att *a = &fs->atts[ai];
    struct fs_edge *ed = &fs->edges[a->edge];
    int64_t d = fs_draw(&ed->rng, ed->spec->net_dist, ed->spec->net_ns, ed->spec->net_sigma) +
                fs_draw(&ed->rng, ed->spec->net_dist, ed->spec->net_ns, ed->spec->net_sigma);
    a->callee = FS_CALLEE_WAIT;
    herd_sim_after(fs->sim, d, ev_again, fs, fs_handle(ai, a->gen), NULL);
}

static void grant(struct fsim *fs, struct fs_comp *c, struct fs_lock *l, uint32_t ai)
{
    struct fs_att *a = &fs->atts[ai];
    int64_t now = herd_sim_now(fs->sim);
    l->holder = ai;
    a->hs = W_FRESH;
    a->callee = FS_CALLEE_WAIT;
    a->start_ns = now;
    c->fig->lock_grants++;
    herd_hist_record(&c->co->lock_hist, now - a->arrive_ns);
    herd_sim_after(fs->sim, fs->edges[a->edge].spec->hold_ns, ev_hold_end, fs,
                   fs_handle(ai, a->gen), NULL);
}

/* NOTIFY_ONE: hand lock @p l to its next live waiter (one watch event), or free it. */
static void hand_over(struct fsim *fs, struct fs_comp *c, struct fs_lock *l)
{
    uint32_t ai;
    while ((ai = waiter_pop(fs, l)) != FS_NONE && fs->atts[ai].caller != FS_CALLER_PENDING)
        fs_drop(fs, ai, true); /* its session ended: its node goes, the next one is told */
    l->holder = ai;
    if (ai == FS_NONE)
        return;
    c->fig->watch_events++;
    c->fig->wakeups++;
    fs_tl_add(fs, c, FS_TL_WATCH, 1);
    fs->atts[ai].hs = W_WOKEN;
    come_back(fs, ai);
}

static void released(struct fsim *fs, struct fs_comp *c, struct fs_lock *l)
{
    const struct herd_fleet_coord *s = &c->spec->u.coord;
    l->holder = FS_NONE;
    switch (s->lock) {
    case HERD_FLEET_LOCK_NOTIFY_ALL: {
        uint32_t ai;
        while ((ai = waiter_pop(fs, l)) != FS_NONE) {
            c->fig->watch_events++;
            fs_tl_add(fs, c, FS_TL_WATCH, 1);
            if (fs->atts[ai].caller != FS_CALLER_PENDING) {
                fs_drop(fs, ai, true);
                continue;
            }
            c->fig->wakeups++;
            fs->atts[ai].hs = W_WOKEN;
            come_back(fs, ai);
        }
        break;
    }
    case HERD_FLEET_LOCK_NOTIFY_ONE:
        hand_over(fs, c, l);
        break;
    case HERD_FLEET_LOCK_POLL:
        break;
    }
}

static void try_lock(struct fsim *fs, struct fs_comp *c, uint32_t ai)
{
    struct fs_att *a = &fs->atts[ai];
    const struct herd_fleet_coord *s = &c->spec->u.coord;
    struct fs_lock *l = lock_of(c, a);
    if (l->holder == FS_NONE) {
        grant(fs, c, l, ai);
        return;
    }
    if (a->hs == W_WOKEN)
        c->fig->wasted_wakeups++;
    switch (s->lock) {
    case HERD_FLEET_LOCK_NOTIFY_ALL:
    case HERD_FLEET_LOCK_NOTIFY_ONE:
        waiter_push(fs, l, ai);
        break;
    case HERD_FLEET_LOCK_POLL: {
        double j = s->poll_jitter, u = herd_rng_uniform(&c->rng);
        double wait = (double)s->poll_ns * (1 - j + 2 * j * u);
        a->callee = FS_CALLEE_WAIT;
        herd_sim_after(fs->sim, herd_sim_round_ns(wait), ev_again, fs, fs_handle(ai, a->gen), NULL);
        break;
    }
    }
}

/* A request of attempt @p ai is done. */
static void handle(struct fsim *fs, struct fs_comp *c, uint32_t ai)
{
    struct fs_att *a = &fs->atts[ai];
    struct fs_lock *l;
    switch (a->step) {
    case REQ_LEADER:
        fs_answer(fs, ai, c->co->has_leader ? FS_OK : FS_ERROR, FS_HOW_WORK);
        return;
    case REQ_TRY:
        if (a->caller != FS_CALLER_PENDING) {
            fs_drop(fs, ai, true);
            return;
        }
        try_lock(fs, c, ai);
        return;
    case REQ_CHECK: /* NOTIFY_ONE: the woken waiter holds the lock now */
        l = lock_of(c, a);
        if (a->caller != FS_CALLER_PENDING) {
            fs_drop(fs, ai, true);
            hand_over(fs, c, l);
            return;
        }
        grant(fs, c, l, ai);
        return;
    case REQ_RELEASE:
        l = lock_of(c, a);
        if (a->caller != FS_CALLER_PENDING) { /* held for a caller who had left */
            c->fig->wasted++;
            c->fig->wasted_ns += herd_sim_now(fs->sim) - a->start_ns;
        }
        fs_answer(fs, ai, FS_OK, FS_HOW_WORK); /* wasted if its caller had left */
        released(fs, c, l);
        return;
    }
}

static void ev_done(struct herd_sim *sim, void *ctx, uint64_t h)
{
    (void)sim;
    struct fsim *fs = ctx;
    struct fs_comp *c = NULL;
    if (h & WATCH_READ)
        c = &fs->comps[h & 0xff];
    else if (!fs_att_callee(fs, h, &c))
        return;
    struct fs_coord *co = c->co;
    co->busy--;
    fs_level(fs, c, FS_TL_CONC, co->busy);
    if (!(h & WATCH_READ))
        handle(fs, c, (uint32_t)h);
    while (co->q_len > 0 && co->busy < c->spec->u.coord.workers) {
        uint64_t qh = co->q[co->q_head];
        co->q_head = (co->q_head + 1) & (co->q_cap - 1);
        co->q_len--;
        fs_level(fs, c, FS_TL_QUEUE, (int64_t)co->q_len);
        if ((qh & WATCH_READ) || fs_att_get(fs, qh))
            serve(fs, c, qh);
    }
}

static void ev_hold_end(struct herd_sim *sim, void *ctx, uint64_t h)
{
    (void)sim;
    struct fsim *fs = ctx;
    struct fs_comp *c;
    if (fs_att_callee(fs, h, &c))
        request(fs, c, (uint32_t)h, REQ_RELEASE);
}

/* A woken waiter (or a poller) is back. */
static void ev_again(struct herd_sim *sim, void *ctx, uint64_t h)
{
    (void)sim;
    struct fsim *fs = ctx;
    struct fs_comp *c;
    struct fs_att *a = fs_att_callee(fs, h, &c);
    if (!a)
        return;
    bool next = c->spec->u.coord.lock == HERD_FLEET_LOCK_NOTIFY_ONE;
    if (c->spec->u.coord.lock == HERD_FLEET_LOCK_POLL) {
        c->fig->wakeups++;
        a->hs = W_WOKEN;
    }
    request(fs, c, (uint32_t)h, next ? REQ_CHECK : REQ_TRY);
}

void fs_coord_arrive(struct fsim *fs, struct fs_comp *c, uint32_t ai)
{
    if (fs_refused(fs, c, ai))
        return;
    struct fs_att *a = &fs->atts[ai];
    a->hs = W_FRESH;
    bool lock = fs->edges[a->edge].spec->op == HERD_FLEET_OP_LOCK;
    request(fs, c, ai, lock ? REQ_TRY : REQ_LEADER);
}

/* ---- election -------------------------------------------------------------------------- */

static uint64_t earg(const struct fs_comp *c, uint32_t gen, int member)
{
    return (uint64_t)c->idx << COMP_SHIFT | (uint64_t)gen << 16 | (uint64_t)member;
}

static void ev_round(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct fsim *fs = ctx;
    struct fs_comp *c = &fs->comps[arg >> COMP_SHIFT];
    struct fs_coord *co = c->co;
    const struct herd_fleet_coord *s = &c->spec->u.coord;
    uint32_t gen = (uint32_t)((arg >> 16) & 0xffffffffu);
    if (gen != co->round_gen || co->has_leader || co->alive == 0)
        return;
    int first = -1;
    double t1 = INFINITY, t2 = INFINITY; /* the two earliest timers */
    for (int k = 0; k < s->candidates; k++) {
        if (co->dead[k])
            continue;
        double t = (double)s->election_timeout_ns +
                   herd_rng_uniform(&co->erng) * (double)s->election_jitter_ns;
        co->timer[k] = t;
        if (t < t1) {
            t2 = t1;
            t1 = t;
            first = k;
        } else if (t < t2) {
            t2 = t;
        }
    }
    double window = t1 + (double)s->vote_ns;
    int64_t campaigns = 0;
    for (int k = 0; k < s->candidates; k++)
        campaigns += !co->dead[k] && co->timer[k] < window;
    int64_t votes = campaigns * (co->alive - 1);
    c->fig->election_rounds++;
    c->fig->coord_requests += (uint64_t)votes;
    fs_tl_add(fs, c, FS_TL_REQS, votes);
    int64_t at = herd_sim_now(sim) + herd_sim_round_ns(window);
    if (co->alive == 1 || t2 >= window) {
        herd_sim_at(sim, at, ev_elected, fs, earg(c, gen, first), NULL);
        return;
    }
    c->fig->split_votes++;
    herd_sim_at(sim, at, ev_round, fs, earg(c, gen, 0), NULL);
}

static void ev_elected(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct fsim *fs = ctx;
    struct fs_comp *c = &fs->comps[arg >> COMP_SHIFT];
    struct fs_coord *co = c->co;
    int member = (int)(arg & 0xffff);
    if ((uint32_t)((arg >> 16) & 0xffffffffu) != co->round_gen || co->has_leader ||
        co->dead[member])
        return;
    int64_t now = herd_sim_now(sim), d = now - co->lost_ns;
    co->has_leader = true;
    co->leader = member;
    c->fig->elections++;
    c->fig->leader_ns = d;
    if (d > c->fig->leader_max_ns)
        c->fig->leader_max_ns = d;
    c->fig->no_leader_ns += now - co->since_ns;
    /* every client that asks for the leader watches who it is: a new leader is an event
     * to each, and each reads it again at once */
    c->fig->watch_events += (uint64_t)co->watchers;
    c->fig->wakeups += (uint64_t)co->watchers;
    fs_tl_add(fs, c, FS_TL_WATCH, co->watchers);
    for (int64_t k = 0; k < co->watchers && !fs->err; k++)
        enqueue(fs, c, WATCH_READ | (uint64_t)c->idx);
}

void fs_coord_leader_death(struct fsim *fs, struct fs_comp *c, bool end)
{
    struct fs_coord *co = c->co;
    int n = c->spec->u.coord.candidates;
    int64_t now = herd_sim_now(fs->sim);
    if (end) { /* the member comes back, as a follower */
        for (int k = 0; k < n; k++) {
            if (co->dead[k]) {
                co->dead[k] = 0;
                co->alive++;
                break;
            }
        }
        if (!co->has_leader && co->alive == 1) /* it was the last: it starts a round */
            herd_sim_at(fs->sim, now, ev_round, fs, earg(c, co->round_gen, 0), NULL);
        return;
    }
    if (!co->has_leader)
        return; /* no leader to kill: the election in progress goes on */
    co->dead[co->leader] = 1;
    co->alive--;
    co->has_leader = false;
    co->lost_ns = co->since_ns = now;
    co->round_gen = (co->round_gen + 1) & 0xffffffffu;
    herd_sim_at(fs->sim, now + c->spec->u.coord.lease_ns, ev_round, fs, earg(c, co->round_gen, 0),
                NULL);
}

void fs_coord_finish(struct fsim *fs, struct fs_comp *c)
{
    struct fs_coord *co = c->co;
    if (c->spec->u.coord.candidates > 0 && !co->has_leader)
        c->fig->no_leader_ns += herd_sim_now(fs->sim) - co->since_ns;
    c->fig->lock_p50_ns = herd_hist_quantile(&co->lock_hist, 0.50);
    c->fig->lock_p99_ns = herd_hist_quantile(&co->lock_hist, 0.99);
}
