/* cache_redis.c — the cache herd's cache in a real Redis (cache_redis.h says what it
 * answers and why). Cost: one round trip per get (GET, plus SET NX for a stale value's
 * refresh marker), one per set; ~30-60 µs each over the Unix socket on this machine.
 */
#include "cache_redis.h"

#include "live_int.h"

#include <herd/error.h>
#include <herd/jitter.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HERD_HAVE_HIREDIS

#include <hiredis/hiredis.h>

#define IO_TIMEOUT_NS (30 * INT64_C(1000000000))

struct herd_rcache {
    struct herd_rcache_config cfg;
    struct herd_svc svc;
};

struct herd_rcache_conn {
    struct herd_rcache *rc;
    redisContext *c;
};

/* What one key's string holds. */
struct blob {
    struct herd_origin_value v;
    int64_t set_ns, fresh_until_ns, delta_ns;
};

static void clear_keys(redisContext *c)
{
    /* SCAN, not KEYS: on the user's server herd must not block it. */
    char cursor[32] = "0";
    do {
        redisReply *r = redisCommand(c, "SCAN %s MATCH herd:cache:* COUNT 1000", cursor);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            freeReplyObject(r);
            return;
        }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++)
            freeReplyObject(redisCommand(c, "DEL %s", r->element[1]->element[i]->str));
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
}

int herd__rcache_open(const struct herd_rcache_config *cfg, struct herd_rcache **out, char *err,
                      size_t errlen)
{
    struct herd_rcache *rc = calloc(1, sizeof *rc);
    int e;
    if (!rc) {
        snprintf(err, errlen, "redis cache: out of memory");
        return -HERD_ENOMEM;
    }
    rc->cfg = *cfg;
    rc->cfg.url = NULL;
    if (cfg->url && cfg->url[0]) {
        e = herd__svc_attach(HERD_SVC_REDIS, cfg->url, "--set redis_url", &rc->svc, err, errlen);
    } else {
        struct herd_svc_opts so = {.max_clients = cfg->max_conns};
        e = herd__svc_start(HERD_SVC_REDIS, &so, &rc->svc, err, errlen);
    }
    if (e < 0) {
        free(rc);
        return e;
    }
    redisContext *c = herd__svc_redis_connect(&rc->svc, IO_TIMEOUT_NS, err, errlen);
    if (!c) {
        herd__rcache_close(rc);
        return -HERD_EINVAL;
    }
    clear_keys(c);
    redisFree(c);
    *out = rc;
    return 0;
}

void herd__rcache_close(struct herd_rcache *rc)
{
    if (!rc)
        return;
    if (rc->svc.external) {
        char err[256];
        redisContext *c = herd__svc_redis_connect(&rc->svc, IO_TIMEOUT_NS, err, sizeof err);
        if (c) {
            clear_keys(c);
            redisFree(c);
        }
    }
    herd__svc_stop(&rc->svc);
    free(rc);
}

int herd__rcache_connect(struct herd_rcache *rc, struct herd_rcache_conn **out, char *err,
                         size_t errlen)
{
    struct herd_rcache_conn *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "redis cache: out of memory");
        return -HERD_ENOMEM;
    }
    c->rc = rc;
    if (!(c->c = herd__svc_redis_connect(&rc->svc, IO_TIMEOUT_NS, err, errlen))) {
        free(c);
        return -HERD_EINVAL;
    }
    *out = c;
    return 0;
}

void herd__rcache_disconnect(struct herd_rcache_conn *c)
{
    if (!c)
        return;
    redisFree(c->c);
    free(c);
}

int herd__rcache_get(struct herd_rcache_conn *c, int k, int64_t now_ns, struct herd_origin_value *v,
                     struct herd_swr_info *info)
{
    redisReply *r = redisCommand(c->c, "GET herd:cache:%d", k);
    if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL)) {
        freeReplyObject(r);
        return -HERD_EINVAL;
    }
    if (r->type == REDIS_REPLY_NIL || r->len != sizeof(struct blob)) {
        freeReplyObject(r);
        return HERD_SWR_MISS;
    }
    struct blob b;
    memcpy(&b, r->str, sizeof b);
    freeReplyObject(r);
    if (v)
        *v = b.v;
    if (info)
        *info = (struct herd_swr_info){.len = sizeof b.v,
                                       .set_ns = b.set_ns,
                                       .fresh_until_ns = b.fresh_until_ns,
                                       .stale_until_ns = b.fresh_until_ns + c->rc->cfg.stale_ns,
                                       .delta_ns = b.delta_ns};
    if (now_ns < b.fresh_until_ns)
        return HERD_SWR_HIT;
    if (c->rc->cfg.stale_ns == 0)
        return HERD_SWR_MISS; /* past the TTL, before Redis's own expiry removed it */
    /* One refresher per stale value: whoever sets the marker first. It lives as long as
     * the stale window, so a refresher that died frees the key by the hard expiry. */
    r = redisCommand(c->c, "SET herd:cache:%d:refresh 1 NX PX %" PRId64, k,
                     c->rc->cfg.stale_ns / 1000000 + 1);
    bool won = r && r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    return won ? HERD_SWR_STALE_REFRESH : HERD_SWR_STALE;
}

int herd__rcache_set(struct herd_rcache_conn *c, int k, const struct herd_origin_value *v,
                     int64_t now_ns, int64_t delta_ns, struct herd_rng *rng,
                     int64_t *fresh_until_ns)
{
    const struct herd_rcache_config *cfg = &c->rc->cfg;
    int64_t ttl =
        rng && cfg->jitter_pct ? herd_jitter_pct(cfg->ttl_ns, cfg->jitter_pct, rng) : cfg->ttl_ns;
    if (ttl < 1000000)
        ttl = 1000000; /* PX is whole milliseconds, at least one */
    struct blob b = {
        .v = *v, .set_ns = now_ns, .fresh_until_ns = now_ns + ttl, .delta_ns = delta_ns};
    int64_t px = (ttl + cfg->stale_ns + 999999) / 1000000;
    redisReply *r;
    if (cfg->stale_ns) {
        /* The value and the end of its refresh, in one round trip. */
        redisAppendCommand(c->c, "SET herd:cache:%d %b PX %" PRId64, k, &b, sizeof b, px);
        redisAppendCommand(c->c, "DEL herd:cache:%d:refresh", k);
        bool ok =
            redisGetReply(c->c, (void **)&r) == REDIS_OK && r && r->type == REDIS_REPLY_STATUS;
        freeReplyObject(r);
        r = NULL;
        ok = redisGetReply(c->c, (void **)&r) == REDIS_OK && ok;
        freeReplyObject(r);
        if (!ok)
            return -HERD_EINVAL;
    } else {
        r = redisCommand(c->c, "SET herd:cache:%d %b PX %" PRId64, k, &b, sizeof b, px);
        bool ok = r && r->type == REDIS_REPLY_STATUS;
        freeReplyObject(r);
        if (!ok)
            return -HERD_EINVAL;
    }
    if (fresh_until_ns)
        *fresh_until_ns = b.fresh_until_ns;
    return 0;
}

int herd__rcache_lock(struct herd_rcache_conn *c, int k, uint64_t token, int64_t lease_ns)
{
    redisReply *r = redisCommand(c->c, "SET herd:cache:%d:lock %" PRIu64 " NX PX %" PRId64, k,
                                 token, lease_ns / 1000000 + 1);
    int got = !r                              ? -HERD_EINVAL
              : r->type == REDIS_REPLY_STATUS ? 1
              : r->type == REDIS_REPLY_NIL    ? 0
                                              : -HERD_EINVAL;
    freeReplyObject(r);
    return got;
}

void herd__rcache_unlock(struct herd_rcache_conn *c, int k, uint64_t token)
{
    freeReplyObject(redisCommand(c->c, "EVAL %s 1 herd:cache:%d:lock %" PRIu64,
                                 "if redis.call('get', KEYS[1]) == ARGV[1] then return "
                                 "redis.call('del', KEYS[1]) else return 0 end",
                                 k, token));
}

void herd__rcache_refresh_failed(struct herd_rcache_conn *c, int k)
{
    freeReplyObject(redisCommand(c->c, "DEL herd:cache:%d:refresh", k));
}

uint64_t herd__rcache_commands(struct herd_rcache_conn *c)
{
    redisReply *r = redisCommand(c->c, "INFO commandstats");
    if (!r || r->type != REDIS_REPLY_STRING) {
        freeReplyObject(r);
        return UINT64_MAX;
    }
    uint64_t calls = 0;
    for (const char *p = r->str; (p = strstr(p, "cmdstat_"));) {
        const char *colon = strchr(p, ':');
        const char *n = colon ? strstr(colon, "calls=") : NULL;
        if (!n)
            break;
        if (strncmp(p, "cmdstat_info:", 13) != 0)
            calls += strtoull(n + 6, NULL, 10);
        p = n;
    }
    freeReplyObject(r);
    return calls;
}

double herd__rcache_startup_s(const struct herd_rcache *rc)
{
    return (double)rc->svc.startup_ns / 1e9;
}

#else /* no hiredis */

int herd__rcache_open(const struct herd_rcache_config *cfg, struct herd_rcache **out, char *err,
                      size_t errlen)
{
    (void)cfg;
    (void)out;
    snprintf(err, errlen,
             "redis cache: herd was built without hiredis (install "
             "libhiredis-dev: scripts/install-deps.sh, then rebuild)");
    return -HERD_EINVAL;
}

int herd__rcache_connect(struct herd_rcache *rc, struct herd_rcache_conn **out, char *err,
                         size_t errlen)
{
    (void)rc;
    (void)out;
    snprintf(err, errlen, "redis cache: no hiredis");
    return -HERD_EINVAL;
}

void herd__rcache_disconnect(struct herd_rcache_conn *c)
{
    (void)c;
}

int herd__rcache_get(struct herd_rcache_conn *c, int k, int64_t now_ns, struct herd_origin_value *v,
                     struct herd_swr_info *info)
{
    (void)c, (void)k, (void)now_ns, (void)v, (void)info;
    return -HERD_EINVAL;
}

int herd__rcache_set(struct herd_rcache_conn *c, int k, const struct herd_origin_value *v,
                     int64_t now_ns, int64_t delta_ns, struct herd_rng *rng,
                     int64_t *fresh_until_ns)
{
    (void)c, (void)k, (void)v, (void)now_ns, (void)delta_ns, (void)rng, (void)fresh_until_ns;
    return -HERD_EINVAL;
}

int herd__rcache_lock(struct herd_rcache_conn *c, int k, uint64_t token, int64_t lease_ns)
{
    (void)c, (void)k, (void)token, (void)lease_ns;
    return -HERD_EINVAL;
}

void herd__rcache_unlock(struct herd_rcache_conn *c, int k, uint64_t token)
{
    (void)c, (void)k, (void)token;
}

void herd__rcache_refresh_failed(struct herd_rcache_conn *c, int k)
{
    (void)c, (void)k;
}

uint64_t herd__rcache_commands(struct herd_rcache_conn *c)
{
    (void)c;
    return UINT64_MAX;
}

double herd__rcache_startup_s(const struct herd_rcache *rc)
{
    (void)rc;
    return 0;
}

void herd__rcache_close(struct herd_rcache *rc)
{
    (void)rc;
}

#endif
