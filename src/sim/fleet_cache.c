/* fleet_cache.c — caches of the fleet simulator: keyed values in front of an origin.
 *
 * Model (scenario/fleet.h, struct herd_fleet_cache). The keyspace is the largest `keys`
 * of the client fleets (a call without keys uses key 0). hosts > 1 keeps a copy per host
 * (an L1: a caller's host is its originating client's index mod hosts); 1 is one shared
 * cache (an L2). A copy keeps every key (capacity 0: a flat array) or the `capacity`
 * most recently used ones (LRU: an open-addressing table and a list). An attempt:
 *   - is refused while the cache is down (CRASH), fails at once under an ERRORS fault;
 *   - a fresh value is a HIT, answered after hit_ns (served, not work). Past soft_ttl it
 *     is served STALE and one background refresh of the key goes to the origin
 *     (stale-while-revalidate). With xfetch_beta > 0, XFetch (Vattani, Chierichetti &
 *     Lowenstein, VLDB 2015; libherd's herd_xfetch_should_refresh) may make this
 *     request refresh early: it goes to the origin as a miss while the value is still
 *     served to everyone else;
 *   - else a MISS goes to the origin through `call` (its timeout and retry policy). With
 *     singleflight only the first miss of a key fills it; later misses join (COALESCED)
 *     and are answered with the fill's outcome. A successful fill stores the value for
 *     ttl·(1 − U[0, ttl_jitter)).
 * FLUSH empties every copy at once (an epoch: O(1)); a CRASH refuses arrivals, loses
 * what waits on fills, and restarts with every copy empty. `warm` starts every key fresh
 * with its remaining life spread U[0, ttl) (LRU: the `capacity` most popular keys).
 *
 * Memory: 56 bytes per key and copy (capacity 0), or per slot plus 8 of table (LRU).
 * Cost: O(1) per request (amortised for the LRU table).
 * Thread safety: none.
 */
#include <herd/error.h>
#include <herd/xfetch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bigalloc.h"
#include "fleet_int.h"

#define EVICT_SCAN 64 /* LRU: entries looked at from the tail for one without a fill */

static void ev_hit(struct herd_sim *sim, void *ctx, uint64_t h);

static int64_t keyspace(const struct herd_fleet *m)
{
    int64_t k = 1;
    for (int i = 0; i < m->ncomps; i++)
        if (m->comps[i].kind == HERD_FLEET_CLIENTS && m->comps[i].u.clients.keys > k)
            k = m->comps[i].u.clients.keys;
    return k;
}

size_t fs_cache_bytes(const struct herd_fleet *m, int comp)
{
    const struct herd_fleet_cache *cs = &m->comps[comp].u.cache;
    size_t copies = cs->hosts > 1 ? (size_t)cs->hosts : 1;
    if (cs->capacity > 0)
        return copies * (size_t)cs->capacity * (sizeof(struct fs_entry) + 4 * sizeof(uint32_t));
    return copies * (size_t)keyspace(m) * sizeof(struct fs_entry);
}

static uint64_t hslot(uint64_t key, size_t cap)
{
    return herd_hash64(key) & (cap - 1);
}

/* ---- the LRU list and table ------------------------------------------------------------ */

static void lru_unlink(struct fs_cache_copy *cp, uint32_t s)
{
    struct fs_entry *e = &cp->e[s];
    if (e->prev != FS_NONE)
        cp->e[e->prev].next = e->next;
    else
        cp->head = e->next;
    if (e->next != FS_NONE)
        cp->e[e->next].prev = e->prev;
    else
        cp->tail = e->prev;
}

static void lru_front(struct fs_cache_copy *cp, uint32_t s)
{
    struct fs_entry *e = &cp->e[s];
    e->prev = FS_NONE;
    e->next = cp->head;
    if (cp->head != FS_NONE)
        cp->e[cp->head].prev = s;
    cp->head = s;
    if (cp->tail == FS_NONE)
        cp->tail = s;
}

static size_t h_find(const struct fs_cache_copy *cp, uint64_t key)
{
    for (size_t i = hslot(key, cp->hcap);; i = (i + 1) & (cp->hcap - 1)) {
        uint32_t v = cp->hash[i];
        if (v == 0 || cp->e[v - 1].key == key)
            return i;
    }
}

/* Backward-shift deletion (linear probing keeps no tombstones). */
static void h_delete(struct fs_cache_copy *cp, size_t i)
{
    size_t mask = cp->hcap - 1;
    for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
        uint32_t v = cp->hash[j];
        if (v == 0)
            break;
        size_t home = hslot(cp->e[v - 1].key, cp->hcap);
        /* move j back to i when its home is not in (i, j] cyclically */
        bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!between) {
            cp->hash[i] = v;
            i = j;
        }
    }
    cp->hash[i] = 0;
}

/* The entry of @p key in copy @p cp, made when absent and @p create; NULL if none (or no
 * slot could be freed: every candidate has a fill in flight). */
static struct fs_entry *lookup(struct fs_comp *c, struct fs_cache_copy *cp, uint64_t key,
                               bool create)
{
    const struct herd_fleet_cache *cs = &c->spec->u.cache;
    if (cs->capacity == 0)
        return &cp->e[key < (uint64_t)c->keys ? key : 0];
    size_t i = h_find(cp, key);
    if (cp->hash[i]) {
        uint32_t s = cp->hash[i] - 1;
        lru_unlink(cp, s);
        lru_front(cp, s);
        return &cp->e[s];
    }
    if (!create)
        return NULL;
    uint32_t s;
    if (cp->used < (size_t)cs->capacity) {
        s = (uint32_t)cp->used++;
    } else {
        s = cp->tail;
        for (int k = 0; k < EVICT_SCAN && s != FS_NONE && (cp->e[s].filling || cp->e[s].waiters);
             k++)
            s = cp->e[s].prev;
        if (s == FS_NONE || cp->e[s].filling || cp->e[s].waiters)
            return NULL;
        lru_unlink(cp, s);
        h_delete(cp, h_find(cp, cp->e[s].key));
        i = h_find(cp, key);
    }
    memset(&cp->e[s], 0, sizeof cp->e[s]);
    cp->e[s].key = key;
    cp->hash[i] = s + 1;
    lru_front(cp, s);
    return &cp->e[s];
}

/* ---- setup ------------------------------------------------------------------------------- */

static void store(struct fsim *fs, struct fs_comp *c, struct fs_entry *e, int64_t now,
                  int64_t life, int64_t delta)
{
    const struct herd_fleet_cache *cs = &c->spec->u.cache;
    (void)fs;
    e->epoch = c->cache_epoch;
    e->expires = now + life;
    e->filled = now;
    e->soft_at = cs->soft_ttl_ns > 0 ? e->expires - cs->ttl_ns + cs->soft_ttl_ns : INT64_MAX;
    e->delta = delta;
}

static int64_t fill_life(struct fs_comp *c)
{
    const struct herd_fleet_cache *cs = &c->spec->u.cache;
    double j = cs->ttl_jitter > 0 ? herd_rng_uniform(&c->rng) * cs->ttl_jitter : 0;
    return herd_sim_round_ns((double)cs->ttl_ns * (1 - j));
}

int fs_cache_init(struct fsim *fs, struct fs_comp *c)
{
    const struct herd_fleet_cache *cs = &c->spec->u.cache;
    herd_sim_name(fs->sim, ev_hit, "cache.hit");
    c->keys = keyspace(fs->m);
    c->cache_epoch = 1;
    c->ncopies = cs->hosts > 1 ? cs->hosts : 1;
    c->copies = calloc((size_t)c->ncopies, sizeof *c->copies);
    if (!c->copies)
        return -HERD_ENOMEM;
    size_t n = cs->capacity > 0 ? (size_t)cs->capacity : (size_t)c->keys;
    /* XFetch's recompute time for warm entries: a round trip plus the origin's work */
    int64_t delta = 2 * cs->call.net_ns;
    if (fs->m->comps[cs->origin].kind == HERD_FLEET_SERVICE)
        delta += fs->m->comps[cs->origin].u.service.service_ns;
    for (int k = 0; k < c->ncopies; k++) {
        struct fs_cache_copy *cp = &c->copies[k];
        cp->head = cp->tail = FS_NONE;
        cp->e = herd_big_calloc(n, sizeof *cp->e);
        if (!cp->e)
            return -HERD_ENOMEM;
        if (cs->capacity > 0) {
            cp->hcap = 16;
            while (cp->hcap < 2 * n)
                cp->hcap *= 2;
            cp->hash = herd_big_calloc(cp->hcap, sizeof *cp->hash);
            if (!cp->hash)
                return -HERD_ENOMEM;
        }
        if (!cs->warm)
            continue;
        int64_t warm = cs->capacity > 0 && cs->capacity < c->keys ? cs->capacity : c->keys;
        for (int64_t key = 0; key < warm; key++) {
            struct fs_entry *e = lookup(c, cp, (uint64_t)key, true);
            if (e)
                store(fs, c, e, 0,
                      (int64_t)herd_rng_below(&c->rng, (uint64_t)(cs->ttl_ns > 0 ? cs->ttl_ns : 1)),
                      delta);
            if (herd_sim_work(fs->sim, 1))
                return fs->sim->err;
        }
    }
    return 0;
}

void fs_cache_fini(struct fs_comp *c)
{
    for (int k = 0; k < c->ncopies && c->copies; k++) {
        free(c->copies[k].e);
        free(c->copies[k].hash);
    }
    free(c->copies);
    c->copies = NULL;
}

/* ---- requests ---------------------------------------------------------------------------- */

static struct fs_cache_copy *copy_of(struct fs_comp *c, uint32_t client)
{
    return &c->copies[c->ncopies > 1 ? client % (uint32_t)c->ncopies : 0];
}

static void answer(struct fsim *fs, struct fs_comp *c, uint32_t ai, int status, int how)
{
    fs_level(fs, c, FS_TL_CONC, c->level_c - 1);
    fs_answer(fs, ai, status, how);
}

static void ev_hit(struct herd_sim *sim, void *ctx, uint64_t h)
{
    (void)sim;
    struct fsim *fs = ctx;
    struct fs_comp *c;
    struct fs_att *a = fs_att_callee(fs, h, &c);
    if (!a || a->callee != FS_CALLEE_BUSY)
        return;
    if (a->epoch != c->epoch) {
        fs_drop(fs, (uint32_t)h, false);
        return;
    }
    answer(fs, c, (uint32_t)h, FS_OK, FS_HOW_SERVED);
}

static void serve(struct fsim *fs, struct fs_comp *c, uint32_t ai)
{
    const struct herd_fleet_cache *cs = &c->spec->u.cache;
    struct fs_att *a = &fs->atts[ai];
    if (cs->hit_ns <= 0) {
        answer(fs, c, ai, FS_OK, FS_HOW_SERVED);
        return;
    }
    a->callee = FS_CALLEE_BUSY;
    herd_sim_after(fs->sim, cs->hit_ns, ev_hit, fs, fs_handle(ai, a->gen), NULL);
}

void fs_cache_arrive(struct fsim *fs, struct fs_comp *c, uint32_t ai)
{
    const struct herd_fleet_cache *cs = &c->spec->u.cache;
    struct fs_att *a = &fs->atts[ai];
    int64_t now = herd_sim_now(fs->sim);
    if (fs_refused(fs, c, ai))
        return;
    fs_level(fs, c, FS_TL_CONC, c->level_c + 1);
    struct fs_cache_copy *cp = copy_of(c, a->client);
    struct fs_entry *e = lookup(c, cp, a->key, true);
    if (e && e->epoch == c->cache_epoch && now < e->expires) {
        bool too_old = cs->max_age_ns > 0 && now - e->filled > cs->max_age_ns;
        if (now >= e->soft_at) {
            c->fig->stale++;
            c->fig->too_old += too_old;
            if (!e->refreshing && !e->filling) {
                e->refreshing = 1;
                fs_call_begin(fs, c->edge, FS_OWN_REFRESH, (uint32_t)(cp - c->copies), 0, a->client,
                              a->key, now);
            }
            serve(fs, c, ai);
            return;
        }
        if (!(cs->xfetch_beta > 0 && !e->filling &&
              herd_xfetch_should_refresh(now, e->expires, e->delta, cs->xfetch_beta, &c->rng))) {
            c->fig->hits++;
            c->fig->too_old += too_old;
            serve(fs, c, ai);
            return;
        }
    }
    c->fig->misses++;
    fs_tl_add(fs, c, FS_TL_MISSES, 1);
    a->callee = FS_CALLEE_WAIT;
    if (cs->singleflight && e) {
        if (e->filling) {
            c->fig->coalesced++;
            a->next = e->waiters ? e->waiters - 1 : FS_NONE;
            e->waiters = ai + 1;
            return;
        }
        e->filling = 1;
        a->lead = 1;
        a->next = FS_NONE;
        e->waiters = ai + 1;
    }
    fs_call_begin(fs, c->edge, FS_OWN_FILL, ai, a->gen, a->client, a->key, now);
}

void fs_cache_call_done(struct fsim *fs, struct fs_call *call, bool ok)
{
    int64_t now = herd_sim_now(fs->sim);
    struct fs_comp *c = &fs->comps[fs->edges[call->edge].from];
    uint64_t key = call->key;
    int64_t delta = now - call->start_ns;
    if (call->owner_kind == FS_OWN_REFRESH) {
        struct fs_entry *e = lookup(c, &c->copies[call->owner], key, ok);
        if (e) {
            e->refreshing = 0;
            if (ok)
                store(fs, c, e, now, fill_life(c), delta);
        }
        return;
    }
    uint32_t ai = call->owner;
    if (ai >= fs->natts || fs->atts[ai].gen != call->owner_gen ||
        fs->atts[ai].callee != FS_CALLEE_WAIT)
        return; /* lost in a crash */
    struct fs_att *a = &fs->atts[ai];
    struct fs_cache_copy *cp = copy_of(c, a->client);
    bool lead = a->lead;
    if (a->epoch != c->epoch) {
        fs_drop(fs, ai, false);
        return;
    }
    struct fs_entry *e = lookup(c, cp, key, ok || lead);
    if (ok && e)
        store(fs, c, e, now, fill_life(c), delta);
    int status = ok ? FS_OK : FS_ERROR;
    if (!lead || !e) {
        answer(fs, c, ai, status, FS_HOW_WORK);
        return;
    }
    uint32_t w = e->waiters ? e->waiters - 1 : FS_NONE;
    e->waiters = 0;
    e->filling = 0;
    while (w != FS_NONE) {
        uint32_t next = fs->atts[w].next;
        answer(fs, c, w, status, w == ai ? FS_HOW_WORK : FS_HOW_SERVED);
        w = next;
    }
}

void fs_cache_flush(struct fsim *fs, struct fs_comp *c)
{
    (void)fs;
    c->cache_epoch++;
}

/* A crash: every copy empty, and whatever waits on a fill is lost. */
void fs_cache_crash(struct fsim *fs, struct fs_comp *c)
{
    const struct herd_fleet_cache *cs = &c->spec->u.cache;
    c->epoch++;
    c->cache_epoch++;
    size_t n = cs->capacity > 0 ? (size_t)cs->capacity : (size_t)c->keys;
    for (int k = 0; k < c->ncopies; k++) {
        struct fs_cache_copy *cp = &c->copies[k];
        for (size_t s = 0; s < n; s++) {
            struct fs_entry *e = &cp->e[s];
            uint32_t w = e->waiters ? e->waiters - 1 : FS_NONE;
            while (w != FS_NONE) {
                uint32_t next = fs->atts[w].next;
                fs_drop(fs, w, false);
                w = next;
            }
            e->waiters = 0;
            e->filling = e->refreshing = 0;
            if (herd_sim_work(fs->sim, 1))
                return;
        }
    }
    fs_level(fs, c, FS_TL_CONC, 0);
}
