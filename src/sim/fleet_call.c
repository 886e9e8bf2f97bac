/* fleet_call.c — the request path of the fleet simulator: calls, attempts, timeouts,
 * retries (fleet_int.h).
 *
 * Model. A CALL is one logical request from a caller over an edge (a struct
 * herd_fleet_call: client fleet → X, service → its calls[k], cache → origin). It sends
 * an ATTEMPT now; each attempt travels one network hop (net_ns, net_dist, drawn from the
 * edge's stream), is handled by the callee, and its answer travels one hop back. An
 * attempt with no answer within timeout_ns of its send times out at its caller (the
 * callee is not told: it may still do the work, counted wasted). After a failure (an
 * error answer, or a timeout when retry_on_timeout) the caller retries while all of
 * these say yes, in this order:
 *   attempts < max_attempts;
 *   PER_CLIENT breaker (Brooker's retry_sim): the client's failed attempts / calls begun
 *     <= breaker_ratio (the failure is counted first);
 *   the budget: libherd AWS/Finagle/gRPC (herd/budget.h, one per caller edge), or
 *     PER_CLIENT: Brooker's bucket (a retry needs > 1 token and takes 1; each call adds
 *     `refill`, capped at `tokens`);
 * and waits the backoff: libherd's kinds (herd/backoff.h, its default formulas) or
 * BROOKER: b doubles (from base) before each retry and the wait is U(0,1)·b, as in
 * simple_collapse_sim's ClientWithBackoffAndJitter (github.com/mbrooker/simulator_example).
 * Before each attempt a SHARED breaker (libherd, per caller edge) and, when the callee
 * admits with THROTTLE, the caller's adaptive throttle (libherd, per edge) may refuse it
 * locally: nothing is sent and the call fails at once (retrying into an open breaker is
 * what a breaker exists to stop). hedge_ns > 0: if the first attempt has no answer after
 * hedge_ns, a second one goes out (through the shared budget as a HEDGE if there is
 * one); the first success wins and the other attempt is abandoned (its work, if done,
 * is wasted). A call fails when its last live attempt fails and no retry goes.
 *
 * Cost: an attempt is two engine events (arrival, answer), one more per retry wait and
 * per hedge; timeouts cost about one event per timeout span per edge (fleet_int.h) plus
 * one per timeout that fires. Records come from free lists: no allocation per request
 * once the pools have grown to the run's peak.
 * Thread safety: none; one run owns everything.
 */
#include <herd/error.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_int.h"

static void ev_arrive(struct herd_sim *sim, void *ctx, uint64_t h);
static void ev_reply(struct herd_sim *sim, void *ctx, uint64_t h);
static void ev_timeout(struct herd_sim *sim, void *ctx, uint64_t edge);
static void ev_retry(struct herd_sim *sim, void *ctx, uint64_t h);
static void ev_hedge(struct herd_sim *sim, void *ctx, uint64_t h);

/* ---- pools ------------------------------------------------------------------------- */

static int grow(void **p, uint32_t *cap, size_t size, uint32_t max)
{
    if (*cap >= max)
        return -HERD_ELIMIT;
    uint64_t ncap = *cap ? (uint64_t)*cap * 2 : 1024;
    if (ncap > max)
        ncap = max;
    void *q = realloc(*p, (size_t)ncap * size);
    if (!q)
        return -HERD_ENOMEM;
    memset((char *)q + (size_t)*cap * size, 0, (size_t)(ncap - *cap) * size);
    *p = q;
    *cap = (uint32_t)ncap;
    return 0;
}

static uint32_t call_new(struct fsim *fs)
{
    uint32_t i;
    if (fs->free_calls != FS_NONE) {
        i = fs->free_calls;
        fs->free_calls = fs->calls[i].owner; /* the free list's link */
    } else {
        if (fs->ncalls == fs->capcalls) {
            int rc = grow((void **)&fs->calls, &fs->capcalls, sizeof *fs->calls, fs->max_records);
            if (rc < 0) {
                fs_fail(fs, rc);
                return FS_NONE;
            }
        }
        i = fs->ncalls++;
    }
    uint32_t gen = fs->calls[i].gen;
    memset(&fs->calls[i], 0, sizeof fs->calls[i]);
    fs->calls[i].gen = gen;
    fs->calls[i].att[0] = fs->calls[i].att[1] = FS_NONE;
    return i;
}

static void call_free(struct fsim *fs, uint32_t i)
{
    struct fs_call *c = &fs->calls[i];
    c->gen++;
    c->owner = fs->free_calls;
    fs->free_calls = i;
}

static uint32_t att_new(struct fsim *fs)
{
    uint32_t i;
    if (fs->free_atts != FS_NONE) {
        i = fs->free_atts;
        fs->free_atts = fs->atts[i].next;
    } else {
        if (fs->natts == fs->capatts) {
            int rc = grow((void **)&fs->atts, &fs->capatts, sizeof *fs->atts, fs->max_records);
            if (rc < 0) {
                fs_fail(fs, rc);
                return FS_NONE;
            }
        }
        i = fs->natts++;
    }
    uint32_t gen = fs->atts[i].gen;
    memset(&fs->atts[i], 0, sizeof fs->atts[i]);
    fs->atts[i].gen = gen;
    fs->atts[i].next = FS_NONE;
    fs->atts[i].sub = FS_NONE;
    return i;
}

void fs_att_maybe_free(struct fsim *fs, uint32_t ai)
{
    struct fs_att *a = &fs->atts[ai];
    if (a->caller == FS_CALLER_PENDING || a->callee != FS_CALLEE_DONE)
        return;
    a->gen++;
    a->next = fs->free_atts;
    fs->free_atts = ai;
}

struct fs_att *fs_att_get(struct fsim *fs, uint64_t h)
{
    uint32_t i = (uint32_t)h;
    if (i >= fs->natts || fs->atts[i].gen != (uint32_t)(h >> 32))
        return NULL;
    return &fs->atts[i];
}

struct fs_att *fs_att_callee(struct fsim *fs, uint64_t h, struct fs_comp **callee)
{
    struct fs_att *a = fs_att_get(fs, h);
    if (a)
        *callee = &fs->comps[fs->edges[a->edge].to];
    return a;
}

static struct fs_call *call_get(struct fsim *fs, uint64_t h)
{
    uint32_t i = (uint32_t)h;
    if (i >= fs->ncalls || fs->calls[i].gen != (uint32_t)(h >> 32))
        return NULL;
    return &fs->calls[i];
}

/* The attempt's call, or NULL when the call has ended. */
static struct fs_call *call_of(struct fsim *fs, const struct fs_att *a)
{
    if (a->call >= fs->ncalls || fs->calls[a->call].gen != a->call_gen)
        return NULL;
    return &fs->calls[a->call];
}

bool fs_abandoned(struct fsim *fs, const struct fs_att *a)
{
    if (a->caller != FS_CALLER_PENDING)
        return true;
    if (!fs->edges[a->edge].from_lb)
        return false;
    const struct fs_call *call = call_of(fs, a);
    if (!call)
        return true;
    uint32_t up = call->owner;
    return up >= fs->natts || fs->atts[up].gen != call->owner_gen ||
           fs->atts[up].caller != FS_CALLER_PENDING;
}

int fs_calls_init(struct fsim *fs)
{
    fs->free_calls = fs->free_atts = FS_NONE;
    herd_sim_name(fs->sim, ev_arrive, "fleet.arrive");
    herd_sim_name(fs->sim, ev_reply, "fleet.reply");
    herd_sim_name(fs->sim, ev_timeout, "fleet.timeout");
    herd_sim_name(fs->sim, ev_retry, "fleet.retry");
    herd_sim_name(fs->sim, ev_hedge, "fleet.hedge");
    for (int e = 0; e < fs->nedges; e++) {
        struct fs_edge *ed = &fs->edges[e];
        const struct herd_fleet_retry *rp = &ed->spec->retry;
        int rc = 0;
        switch (rp->budget) {
        case HERD_FLEET_BUDGET_NONE:
        case HERD_FLEET_BUDGET_PER_CLIENT:
            break;
        case HERD_FLEET_BUDGET_AWS:
        case HERD_FLEET_BUDGET_FINAGLE:
        case HERD_FLEET_BUDGET_GRPC: {
            struct herd_budget_config bc;
            enum herd_budget_model model = rp->budget == HERD_FLEET_BUDGET_AWS     ? HERD_BUDGET_AWS
                                           : rp->budget == HERD_FLEET_BUDGET_FINAGLE ? HERD_BUDGET_FINAGLE
                                                                                     : HERD_BUDGET_GRPC;
            herd_budget_defaults(&bc, model);
            if (rp->budget_tokens > 0) {
                bc.aws.tokens = rp->budget_tokens;
                bc.grpc.max_tokens = rp->budget_tokens;
            }
            if (rp->budget_ratio > 0) {
                bc.finagle.ratio = rp->budget_ratio;
                bc.grpc.token_ratio = rp->budget_ratio;
            }
            rc = herd_budget_new(&bc, 0, &ed->budget);
            break;
        }
        }
        if (rc == 0 && rp->breaker == HERD_FLEET_BREAKER_SHARED) {
            struct herd_breaker_config bc;
            herd_breaker_config_default(&bc);
            if (rp->breaker_ratio > 0 && rp->breaker_ratio <= 1)
                bc.failure_rate = rp->breaker_ratio;
            if (rp->breaker_open_ns > 0) {
                bc.open_base_ns = rp->breaker_open_ns;
                if (bc.open_cap_ns < bc.open_base_ns)
                    bc.open_cap_ns = bc.open_base_ns;
            }
            rc = herd_breaker_new(&bc, &ed->breaker);
        }
        if (rc == 0 && fs->m->comps[ed->to].kind == HERD_FLEET_SERVICE &&
            fs->m->comps[ed->to].u.service.admission == HERD_FLEET_ADMIT_THROTTLE) {
            struct herd_throttle_config tc = {.k = fs->m->comps[ed->to].u.service.admit_k};
            if (tc.k < 1)
                tc.k = 0; /* the default, 2 */
            rc = herd_throttle_new(&tc, &ed->throttle);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

void fs_calls_fini(struct fsim *fs)
{
    for (int e = 0; e < fs->nedges; e++) {
        struct fs_edge *ed = &fs->edges[e];
        herd_budget_free(ed->budget);
        herd_breaker_free(ed->breaker);
        herd_throttle_free(ed->throttle);
        free(ed->tmo);
        ed->budget = NULL;
        ed->breaker = NULL;
        ed->throttle = NULL;
        ed->tmo = NULL;
    }
    free(fs->calls);
    free(fs->atts);
    fs->calls = NULL;
    fs->atts = NULL;
}

bool fs_refused(struct fsim *fs, struct fs_comp *c, uint32_t ai)
{
    if (c->down) {
        fs_answer(fs, ai, FS_REJECT, FS_HOW_NONE);
        return true;
    }
    if (c->err_p > 0 && herd_rng_uniform(&c->rng) < c->err_p) {
        fs_answer(fs, ai, FS_ERROR, FS_HOW_NONE);
        return true;
    }
    return false;
}

bool fs_partitioned(const struct fsim *fs, int a, int b)
{
    for (int i = 0; i < fs->npart; i++)
        if ((fs->part_a[i] == a && fs->part_b[i] == b) || (fs->part_a[i] == b && fs->part_b[i] == a))
            return true;
    return false;
}

/* The rng a call's caller-side draws come from: its client's, else its caller's. */
static struct herd_rng *caller_rng(struct fsim *fs, const struct fs_call *call)
{
    struct fs_client *cl = fs_client_of(fs, call);
    return cl ? &cl->rng : &fs->comps[fs->edges[call->edge].from].rng;
}

/* ---- timeouts ------------------------------------------------------------------------ */

static void tmo_push(struct fsim *fs, struct fs_edge *ed, int64_t deadline, uint64_t h)
{
    if (fs_ring_room(fs, (void **)&ed->tmo, &ed->tmo_cap, &ed->tmo_head, ed->tmo_len,
                     sizeof *ed->tmo) < 0)
        return;
    ed->tmo[(ed->tmo_head + ed->tmo_len++) & (ed->tmo_cap - 1)] = (struct fs_tmo){deadline, h};
    if (!ed->tmo_armed) {
        ed->tmo_armed = true;
        herd_sim_at(fs->sim, deadline, ev_timeout, fs, (uint64_t)ed->idx, NULL);
    }
}

static void attempt_failed(struct fsim *fs, struct fs_call *call, uint32_t ai, bool timed_out);

static void ev_timeout(struct herd_sim *sim, void *ctx, uint64_t e)
{
    struct fsim *fs = ctx;
    struct fs_edge *ed = &fs->edges[e];
    int64_t now = herd_sim_now(sim);
    ed->tmo_armed = false;
    while (ed->tmo_len > 0) {
        struct fs_tmo t = ed->tmo[ed->tmo_head];
        struct fs_att *a = fs_att_get(fs, t.att);
        if (a && a->caller == FS_CALLER_PENDING && t.deadline > now) {
            ed->tmo_armed = true; /* the earliest live deadline */
            herd_sim_at(sim, t.deadline, ev_timeout, fs, e, NULL);
            return;
        }
        ed->tmo_head = (ed->tmo_head + 1) & (ed->tmo_cap - 1);
        ed->tmo_len--;
        if (!a || a->caller != FS_CALLER_PENDING)
            continue; /* answered (or gone) before its deadline: a stale entry */
        uint32_t ai = (uint32_t)t.att;
        a->caller = FS_CALLER_GONE;
        fs->comps[ed->to].fig->timeouts++;
        fs->comps[ed->from].fig->timeouts += fs->m->comps[ed->from].kind == HERD_FLEET_CLIENTS;
        struct fs_call *call = call_of(fs, a);
        if (call)
            attempt_failed(fs, call, ai, true);
        fs_att_maybe_free(fs, ai);
        if (fs->err)
            return;
    }
}

/* ---- attempts ------------------------------------------------------------------------ */

static void unlink_att(struct fs_call *call, uint32_t ai)
{
    for (int k = 0; k < 2; k++)
        if (call->att[k] == ai)
            call->att[k] = FS_NONE;
    call->live--;
}

/* Send an attempt of @p call now. @return false when it was refused locally (breaker,
 * throttle) or the run failed: nothing was sent. */
static bool send_attempt(struct fsim *fs, struct fs_call *call)
{
    struct fs_edge *ed = &fs->edges[call->edge];
    struct herd_sim *sim = fs->sim;
    int64_t now = herd_sim_now(sim);
    struct herd_breaker_permit permit = {0};
    struct fs_comp *from = &fs->comps[ed->from];
    if (ed->throttle && herd_throttle_allow(ed->throttle, now, &from->rng) != HERD_THROTTLE_GO) {
        from->fig->rejected += fs->m->comps[ed->from].kind == HERD_FLEET_CLIENTS;
        return false;
    }
    if (ed->breaker &&
        herd_breaker_allow(ed->breaker, now, &from->rng, &permit) != HERD_BREAKER_GO) {
        from->fig->rejected += fs->m->comps[ed->from].kind == HERD_FLEET_CLIENTS;
        return false;
    }
    uint32_t ai = att_new(fs);
    if (ai == FS_NONE)
        return false;
    struct fs_att *a = &fs->atts[ai];
    uint32_t ci = (uint32_t)(call - fs->calls);
    a->call = ci;
    a->call_gen = call->gen;
    a->edge = call->edge;
    a->key = call->key;
    a->client = call->client;
    a->sent_ns = now;
    a->index = call->attempts;
    a->permit = permit;
    if (ed->to_lb || call->owner_kind == FS_OWN_LB)
        a->hs = fs_lb_attempt_hs(fs, call);
    call->attempts++;
    call->live++;
    call->att[call->att[0] == FS_NONE ? 0 : 1] = ai;
    /* a client's reopened connection is the lb's figure (reconnects), not a call's */
    bool client = fs->m->comps[ed->from].kind == HERD_FLEET_CLIENTS &&
                  call->owner_kind != FS_OWN_CONN;
    if (a->index > 0) {
        fs_tl_add(fs, from, FS_TL_RETRIES, 1);
        if (client)
            from->fig->retries++;
    }
    if (client)
        from->fig->attempts++;
    uint64_t h = fs_handle(ai, a->gen);
    if (ed->spec->timeout_ns > 0)
        tmo_push(fs, ed, now + ed->spec->timeout_ns, h);
    if (fs_partitioned(fs, ed->from, ed->to)) {
        a->callee = FS_CALLEE_DONE; /* lost on the way: the caller will time out */
    } else {
        herd_sim_after(sim, fs_draw(&ed->rng, ed->spec->net_dist, ed->spec->net_ns, ed->spec->net_sigma), ev_arrive, fs, h, NULL);
    }
    if (a->index == 0 && ed->spec->retry.hedge_ns > 0)
        herd_sim_after(sim, ed->spec->retry.hedge_ns, ev_hedge, fs, fs_handle(ci, call->gen),
                       NULL);
    return true;
}

static void ev_arrive(struct herd_sim *sim, void *ctx, uint64_t h)
{
    (void)sim;
    struct fsim *fs = ctx;
    struct fs_comp *c;
    struct fs_att *a = fs_att_callee(fs, h, &c);
    if (!a)
        return;
    uint32_t ai = (uint32_t)h;
    a->arrive_ns = herd_sim_now(sim);
    a->epoch = c->epoch;
    fs_count_arrival(fs, c, a);
    switch (c->spec->kind) {
    case HERD_FLEET_SERVICE:
        fs_service_arrive(fs, c, ai);
        break;
    case HERD_FLEET_CACHE:
        fs_cache_arrive(fs, c, ai);
        break;
    case HERD_FLEET_LB:
        fs_lb_arrive(fs, c, ai);
        break;
    case HERD_FLEET_COORD:
        fs_coord_arrive(fs, c, ai);
        break;
    case HERD_FLEET_CLIENTS: /* the reader refuses calls to a client fleet */
    case HERD_FLEET_NKINDS:
        fs_answer(fs, ai, FS_REJECT, FS_HOW_NONE);
        break;
    }
}

void fs_count_arrival(struct fsim *fs, struct fs_comp *c, struct fs_att *a)
{
    struct fs_call *call = call_of(fs, a);
    bool first = call ? !call->arrived : a->index == 0;
    if (call)
        call->arrived = 1;
    c->fig->calls += first;
    c->fig->attempts++;
    fs_tl_add(fs, c, FS_TL_ARRIVALS, 1);
    if (a->index > 0) {
        c->fig->retries++;
        fs_tl_add(fs, c, FS_TL_RETRIES, 1);
    }
    if (c->idx == fs->m->herd)
        fs->h_origin++;
}

/* The herd resource's outcome class for attempt @p a, now that its callee is done. */
static void classify(struct fsim *fs, const struct fs_att *a, int status, int how)
{
    enum herd_outcome o;
    bool gone = fs_abandoned(fs, a);
    if (status != FS_OK)
        o = how == FS_HOW_WORK && gone ? HERD_OUT_WASTED : HERD_OUT_FAILED;
    else if (how == FS_HOW_SERVED)
        o = HERD_OUT_SERVED;
    else if (gone)
        o = HERD_OUT_WASTED;
    else
        o = HERD_OUT_USEFUL;
    switch (o) {
    case HERD_OUT_USEFUL:
        fs->h_useful++;
        break;
    case HERD_OUT_SERVED:
        fs->h_served++;
        break;
    case HERD_OUT_WASTED:
        fs->h_wasted++;
        break;
    case HERD_OUT_FAILED:
    case HERD_OUT_IDLE:
    case HERD_OUT_COUNT:
        fs->h_failed++;
        break;
    }
    herd_report_waiter(fs->r, (size_t)fs->h_seen++, o);
}

/* The herd resource's record of attempt @p a for herd run --trace: when it arrived, who
 * sent it, its key, and how it ended there (an answer its caller no longer waited for is a
 * timeout, as the caller saw it). */
static void request_record(struct fsim *fs, const struct fs_att *a, int status, int how)
{
    if (!fs->sim->requests)
        return;
    enum herd_req_status s = HERD_REQ_REJECTED;
    switch ((enum fs_status)status) {
    case FS_OK:
        s = fs_abandoned(fs, a)    ? HERD_REQ_TIMEOUT
            : how == FS_HOW_SERVED ? HERD_REQ_HIT
                                   : HERD_REQ_OK;
        break;
    case FS_ERROR:
        s = HERD_REQ_ERROR;
        break;
    case FS_REJECT:
    case FS_SHED:
    case FS_DROPPED:
        break;
    }
    /* Keys are 1-based in a record (0: none): a fleet has keys when a client fleet draws
     * them. */
    bool keyed = false;
    for (int i = 0; i < fs->m->ncomps; i++)
        keyed |= fs->m->comps[i].kind == HERD_FLEET_CLIENTS && fs->m->comps[i].u.clients.keys > 0;
    herd_sim_request(fs->sim, a->arrive_ns, a->client, keyed ? a->key + 1 : 0, s);
}

void fs_answer(struct fsim *fs, uint32_t ai, int status, int how)
{
    struct fs_att *a = &fs->atts[ai];
    struct fs_edge *ed = &fs->edges[a->edge];
    struct fs_comp *c = &fs->comps[ed->to];
    int64_t now = herd_sim_now(fs->sim);
    a->callee = FS_CALLEE_DONE;
    a->status = (uint8_t)status;
    a->how = (uint8_t)how;
    switch ((enum fs_status)status) {
    case FS_OK:
        c->fig->ok++;
        break;
    case FS_ERROR:
        c->fig->errors++;
        break;
    case FS_REJECT:
        c->fig->rejected++;
        break;
    case FS_SHED:
        c->fig->shed++;
        break;
    case FS_DROPPED:
        c->fig->dropped++;
        break;
    }
    int64_t lat = now - a->arrive_ns;
    herd_hist_record(&c->hist, lat);
    fs_tl_add(fs, c, FS_TL_LAT_SUM, lat);
    fs_tl_add(fs, c, FS_TL_LAT_N, 1);
    if (status != FS_OK)
        fs_tl_add(fs, c, FS_TL_ERRORS, 1);
    else if (!fs_abandoned(fs, a))
        fs_tl_add(fs, c, FS_TL_GOODPUT, 1);
    if (c->idx == fs->m->herd) {
        classify(fs, a, status, how);
        request_record(fs, a, status, how);
    }
    if (a->caller == FS_CALLER_PENDING)
        herd_sim_after(fs->sim, fs_draw(&ed->rng, ed->spec->net_dist, ed->spec->net_ns, ed->spec->net_sigma), ev_reply, fs,
                       fs_handle(ai, a->gen), NULL);
    else
        fs_att_maybe_free(fs, ai);
}

void fs_drop(struct fsim *fs, uint32_t ai, bool cancelled)
{
    struct fs_att *a = &fs->atts[ai];
    struct fs_comp *c = &fs->comps[fs->edges[a->edge].to];
    a->callee = FS_CALLEE_DONE;
    if (cancelled)
        c->fig->cancelled++;
    else
        c->fig->dropped++;
    if (c->idx == fs->m->herd) {
        classify(fs, a, FS_DROPPED, FS_HOW_NONE);
        request_record(fs, a, FS_DROPPED, FS_HOW_NONE);
    }
    fs_att_maybe_free(fs, ai);
}

/* ---- outcomes at the caller ------------------------------------------------------------- */

static void call_end(struct fsim *fs, struct fs_call *call, bool ok);

/* Tell the shared budget, breaker and throttle what attempt @p a came to. */
static void record_outcome(struct fsim *fs, struct fs_call *call, struct fs_att *a, bool ok,
                           bool timed_out)
{
    struct fs_edge *ed = &fs->edges[call->edge];
    int64_t now = herd_sim_now(fs->sim);
    enum herd_budget_outcome bo = ok          ? HERD_BUDGET_SUCCESS
                                  : timed_out ? HERD_BUDGET_TIMEOUT
                                              : HERD_BUDGET_FAILURE;
    if (ed->budget) {
        if (a->index == 0)
            herd_budget_record(ed->budget, bo, now);
        else if (call->has_ticket) {
            herd_budget_release(ed->budget, &call->ticket, bo, now);
            call->has_ticket = 0;
        }
    }
    if (ed->breaker)
        herd_breaker_record(ed->breaker, &a->permit,
                            ok ? HERD_BREAKER_SUCCESS : HERD_BREAKER_FAILURE, now - a->sent_ns,
                            now);
    if (ed->throttle) {
        bool accepted = !timed_out && a->status != FS_REJECT && a->status != FS_SHED;
        herd_throttle_record(ed->throttle, now, accepted);
    }
}

static void ev_reply(struct herd_sim *sim, void *ctx, uint64_t h)
{
    (void)sim;
    struct fsim *fs = ctx;
    struct fs_att *a = fs_att_get(fs, h);
    if (!a || a->caller != FS_CALLER_PENDING)
        return;
    uint32_t ai = (uint32_t)h;
    a->caller = FS_CALLER_ANSWERED;
    struct fs_call *call = call_of(fs, a);
    if (call) {
        if (a->status == FS_OK) {
            record_outcome(fs, call, a, true, false);
            unlink_att(call, ai);
            call_end(fs, call, true);
        } else {
            attempt_failed(fs, call, ai, false);
        }
    }
    fs_att_maybe_free(fs, ai);
}

/* May @p call retry after its latest failure? Counts the failure where a policy does. */
static bool may_retry(struct fsim *fs, struct fs_call *call, bool timed_out)
{
    struct fs_edge *ed = &fs->edges[call->edge];
    const struct herd_fleet_retry *rp = &ed->spec->retry;
    struct fs_client *cl = fs_client_of(fs, call);
    if (cl)
        cl->fails++;
    if (timed_out && !rp->retry_on_timeout)
        return false;
    if (call->owner_kind == FS_OWN_CONN)
        return false; /* a reopening: the connection's reconnect policy decides */
    if (call->attempts >= rp->max_attempts)
        return false;
    if (rp->breaker == HERD_FLEET_BREAKER_PER_CLIENT && cl &&
        (double)cl->fails / (double)(cl->calls ? cl->calls : 1) > rp->breaker_ratio)
        return false;
    switch (rp->budget) {
    case HERD_FLEET_BUDGET_NONE:
        break;
    case HERD_FLEET_BUDGET_PER_CLIENT:
        if (cl) {
            if (cl->tokens <= 1.0f)
                return false;
            cl->tokens -= 1.0f;
        }
        break;
    case HERD_FLEET_BUDGET_AWS:
    case HERD_FLEET_BUDGET_FINAGLE:
    case HERD_FLEET_BUDGET_GRPC:
        if (call->has_ticket) /* a hedge's ticket still held: give it back first */
            herd_budget_release(ed->budget, &call->ticket, HERD_BUDGET_CANCELED,
                                herd_sim_now(fs->sim));
        call->has_ticket = 0;
        if (herd_budget_decide(ed->budget, timed_out ? HERD_BUDGET_RETRY_TIMEOUT : HERD_BUDGET_RETRY,
                               herd_sim_now(fs->sim), &call->ticket) != HERD_BUDGET_GO)
            return false;
        call->has_ticket = 1;
        break;
    }
    return true;
}

static int64_t backoff_wait(struct fsim *fs, struct fs_call *call)
{
    struct fs_edge *ed = &fs->edges[call->edge];
    const struct herd_fleet_retry *rp = &ed->spec->retry;
    struct herd_rng *rng = caller_rng(fs, call);
    if (rp->backoff == HERD_FLEET_BACKOFF_BROOKER) {
        call->brooker_b *= 2;
        if (rp->cap_ns > 0 && call->brooker_b > (double)rp->cap_ns)
            call->brooker_b = (double)rp->cap_ns;
        return herd_sim_round_ns(herd_rng_uniform(rng) * call->brooker_b);
    }
    int64_t wait = 0;
    if (herd_backoff_next(&call->bo, rng, herd_sim_now(fs->sim), HERD_BACKOFF_FAILED,
                          HERD_BACKOFF_NO_RETRY_AFTER, &wait) < 0)
        return -1;
    return wait;
}

static void attempt_failed(struct fsim *fs, struct fs_call *call, uint32_t ai, bool timed_out)
{
    struct fs_att *a = &fs->atts[ai];
    record_outcome(fs, call, a, false, timed_out);
    unlink_att(call, ai);
    if (call->live > 0)
        return; /* a hedge is still out: it decides */
    call->timed_out = timed_out;
    if (!may_retry(fs, call, timed_out)) {
        call_end(fs, call, false);
        return;
    }
    int64_t wait = backoff_wait(fs, call);
    if (wait < 0) {
        call_end(fs, call, false);
        return;
    }
    struct fs_comp *from = &fs->comps[fs->edges[call->edge].from];
    if (fs->m->comps[from->idx].kind == HERD_FLEET_CLIENTS)
        fs_level(fs, from, FS_TL_QUEUE, from->level_q + 1); /* calls waiting in backoff */
    herd_sim_after(fs->sim, wait, ev_retry, fs, fs_handle((uint32_t)(call - fs->calls), call->gen),
                   NULL);
}

static void ev_retry(struct herd_sim *sim, void *ctx, uint64_t h)
{
    (void)sim;
    struct fsim *fs = ctx;
    struct fs_call *call = call_get(fs, h);
    if (!call)
        return;
    struct fs_comp *from = &fs->comps[fs->edges[call->edge].from];
    if (fs->m->comps[from->idx].kind == HERD_FLEET_CLIENTS)
        fs_level(fs, from, FS_TL_QUEUE, from->level_q - 1);
    if (!send_attempt(fs, call) && !fs->err)
        call_end(fs, call, false);
}

static void ev_hedge(struct herd_sim *sim, void *ctx, uint64_t h)
{
    struct fsim *fs = ctx;
    struct fs_call *call = call_get(fs, h);
    if (!call || call->live != 1 || call->attempts != 1)
        return;
    struct fs_edge *ed = &fs->edges[call->edge];
    if (ed->budget) {
        if (call->has_ticket ||
            herd_budget_decide(ed->budget, HERD_BUDGET_HEDGE, herd_sim_now(sim), &call->ticket) !=
                HERD_BUDGET_GO)
            return;
        call->has_ticket = 1;
    }
    if (!send_attempt(fs, call) && ed->budget && call->has_ticket) {
        herd_budget_release(ed->budget, &call->ticket, HERD_BUDGET_CANCELED, herd_sim_now(sim));
        call->has_ticket = 0;
    }
}

/* ---- calls ----------------------------------------------------------------------------- */

void fs_call_begin(struct fsim *fs, int edge, int kind, uint32_t owner, uint32_t owner_gen,
                   uint32_t client, uint64_t key, int64_t start_ns)
{
    uint32_t ci = call_new(fs);
    if (ci == FS_NONE)
        return;
    struct fs_call *call = &fs->calls[ci];
    struct fs_edge *ed = &fs->edges[edge];
    int64_t now = herd_sim_now(fs->sim);
    call->edge = (uint16_t)edge;
    call->owner_kind = (uint8_t)kind;
    call->owner = owner;
    call->owner_gen = owner_gen;
    call->client = client;
    call->key = key;
    call->start_ns = start_ns;
    call->brooker_b = (double)ed->spec->retry.base_ns;
    herd_backoff_init(&call->bo, &ed->pol, now);
    if (ed->budget)
        herd_budget_begin(ed->budget, now);
    struct fs_client *cl = fs_client_of(fs, call);
    if (cl) {
        const struct herd_fleet_retry *rp = &ed->spec->retry;
        cl->calls++;
        if (rp->budget == HERD_FLEET_BUDGET_PER_CLIENT) {
            float t = cl->tokens + (float)rp->budget_refill;
            cl->tokens = t < (float)rp->budget_tokens ? t : (float)rp->budget_tokens;
        }
    }
    if (!send_attempt(fs, call) && !fs->err)
        call_end(fs, call, false);
}

static void call_end(struct fsim *fs, struct fs_call *call, bool ok)
{
    struct fs_edge *ed = &fs->edges[call->edge];
    int64_t now = herd_sim_now(fs->sim);
    for (int k = 0; k < 2; k++) { /* a hedge's other attempt: abandoned */
        uint32_t ai = call->att[k];
        if (ai == FS_NONE)
            continue;
        struct fs_att *a = &fs->atts[ai];
        a->caller = FS_CALLER_GONE;
        if (ed->breaker)
            herd_breaker_record(ed->breaker, &a->permit, HERD_BREAKER_IGNORED, now - a->sent_ns,
                                now);
        call->att[k] = FS_NONE;
        fs_att_maybe_free(fs, ai);
    }
    if (ed->budget) {
        if (call->has_ticket)
            herd_budget_release(ed->budget, &call->ticket,
                                ok ? HERD_BUDGET_SUCCESS : HERD_BUDGET_CANCELED, now);
        herd_budget_end(ed->budget, now);
    }
    call->live = 0;
    uint32_t ci = (uint32_t)(call - fs->calls);
    switch (call->owner_kind) {
    case FS_OWN_CLIENT:
        fs_client_call_done(fs, call, ok, now);
        break;
    case FS_OWN_SREQ:
        fs_service_call_done(fs, call, ok);
        break;
    case FS_OWN_FILL:
    case FS_OWN_REFRESH:
        fs_cache_call_done(fs, call, ok);
        break;
    case FS_OWN_LB:
        fs_lb_call_done(fs, call, ok);
        break;
    case FS_OWN_CONN:
        fs_lb_conn_done(fs, call, ok);
        break;
    }
    call_free(fs, ci);
}

struct fs_client *fs_client_of(struct fsim *fs, const struct fs_call *call)
{
    if (call->owner_kind != FS_OWN_CLIENT)
        return NULL;
    return &fs->comps[fs->edges[call->edge].from].cl[call->owner];
}
