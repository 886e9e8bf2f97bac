/* cache.c — the cache stampede's catalogue row, parameters and decoder (cache.h). */
#include "scenario.h"

#include "scenario_int.h"

static const struct herd_strategy_def strategies[] = {
    HERD_CACHE_STRATEGIES(HERD_STRATEGY_DEF){NULL, 0, NULL},
};

enum {
    P_ORIGIN,
    P_ROWS,
    P_TTL_MS,
    P_PERIOD_US,
    P_LEAD_MS,
    P_KEYS,
    P_BETA,
    P_JITTER_PCT,
    P_STALE_MS,
    P_ORIGIN_WORKERS,
    P_USL_SIGMA,
    P_USL_KAPPA,
    P_PG_URL,
    P_STORE,
    P_REDIS_URL,
    P_COALESCE,
};

static const struct herd_param_def params[] = {
    [P_ORIGIN] = {"origin", HERD_PARAM_ENUM, 0, 0, 0, "", {"sqlite", "postgres", NULL},
                  "the origin database: an embedded SQLite file in WAL mode, or a real "
                  "PostgreSQL herd starts for the run (live); one connection per requester"},
    [P_ROWS] = {"rows", HERD_PARAM_INT, HERD_CACHE_ROWS_DEFAULT, 1000, 5000000, "rows", {NULL},
                "rows in the origin's table; the hot query aggregates over all of them"},
    [P_TTL_MS] = {"ttl_ms", HERD_PARAM_INT, 200, 10, 60000, "ms", {NULL},
                  "time to live of a cached value"},
    [P_PERIOD_US] = {"period_us", HERD_PARAM_INT, 2000, 50, 1000000, "us", {NULL},
                     "each requester asks for its key once per period"},
    [P_LEAD_MS] = {"lead_ms", HERD_PARAM_INT, 50, 0, 10000, "ms", {NULL},
                   "requests run this long before the expiry (XFetch refreshes early in it)"},
    [P_KEYS] = {"keys", HERD_PARAM_INT, 1, 1, 1000, "keys", {NULL},
                "hot keys filled at the same moment; requester i asks for key i mod keys"},
    [P_BETA] = {"beta", HERD_PARAM_DOUBLE, 1.0, 0.0, 100.0, "", {NULL},
                "XFetch's beta: > 1 favours earlier refreshes, 0 disables them"},
    [P_JITTER_PCT] = {"jitter_pct", HERD_PARAM_INT, 20, 0, 100, "%", {NULL},
                      "ttl-jitter: TTLs drawn uniformly in ttl * (1 +- jitter_pct/100)"},
    [P_STALE_MS] = {"stale_ms", HERD_PARAM_INT, 5000, 0, 600000, "ms", {NULL},
                    "swr: how long past its TTL a value may still be served while it refreshes"},
    [P_ORIGIN_WORKERS] = {"origin_workers", HERD_PARAM_INT, 0, 0, 100000, "workers", {NULL},
                          "sim: queries the origin runs at once (0: the calibrated profile's "
                          "cores)"},
    [P_USL_SIGMA] = {"usl_sigma", HERD_PARAM_DOUBLE, 0, 0, 1, "", {NULL},
                     "sim: the origin's contention (Universal Scalability Law sigma) over the "
                     "queries it holds"},
    [P_USL_KAPPA] = {"usl_kappa", HERD_PARAM_DOUBLE, 0.000005, 0, 1, "", {NULL},
                     "sim: the origin's coherency cost (USL kappa) over the queries it holds: "
                     "negligible at N = 100, it makes p99 grow faster than N past a few "
                     "hundred"},
    [P_PG_URL] = {"pg_url", HERD_PARAM_TEXT, 0, 0, 0, "", {NULL},
                  "origin=postgres: your own PostgreSQL (a libpq URI or key=value string) "
                  "instead of herd's private one; herd creates, fills and drops only the "
                  "schema herd_cache there"},
    [P_STORE] = {"store", HERD_PARAM_ENUM, 0, 0, 0, "", {"process", "redis", NULL},
                 "live: where the cached value lives: in the requesters' process (libherd's "
                 "swr cache), or in a real Redis herd starts for the run (a GET per request, "
                 "Redis's own PX expiry; raise period_us with N)"},
    [P_REDIS_URL] = {"redis_url", HERD_PARAM_TEXT, 0, 0, 0, "", {NULL},
                     "store=redis: your own Redis (redis://HOST[:PORT][/DB] or "
                     "redis+unix:///PATH) instead of herd's private one; herd writes and "
                     "deletes only keys herd:cache:*"},
    [P_COALESCE] = {"coalesce", HERD_PARAM_ENUM, 0, 0, 0, "", {"process", "redis-lock", NULL},
                    "live, store=redis: how a miss is coalesced (singleflight, and the misses "
                    "of swr and xfetch): in each requester process, or through a Redis lock per "
                    "key (SET NX PX; the others poll the cache every 5 ms: the herd moves to "
                    "Redis)"},
    {NULL, 0, 0, 0, 0, NULL, {NULL}, NULL},
};

static void decode(const double *p, int strategy, union herd_scenario_config *out)
{
    out->cache = (struct herd_cache_config){
        .strategy = (enum herd_cache_strategy)strategy,
        .origin = (enum herd_cache_origin)p[P_ORIGIN],
        .store = (enum herd_cache_store)p[P_STORE],
        .redis_lock = p[P_COALESCE] != 0,
        .rows = (int64_t)p[P_ROWS],
        .ttl_ns = herd__ms_ns(p[P_TTL_MS]),
        .period_ns = herd__us_ns(p[P_PERIOD_US]),
        .lead_ns = herd__ms_ns(p[P_LEAD_MS]),
        .keys = (int)p[P_KEYS],
        .beta = p[P_BETA],
        .jitter_pct = (int)p[P_JITTER_PCT],
        .stale_ns = herd__ms_ns(p[P_STALE_MS]),
        .origin_workers = (int)p[P_ORIGIN_WORKERS],
        .usl_sigma = p[P_USL_SIGMA],
        .usl_kappa = p[P_USL_KAPPA],
    };
}

static int validate(const struct herd_run_spec *spec, char *err, size_t errlen)
{
    if (spec->cfg.cache.redis_lock && spec->cfg.cache.store != HERD_CACHE_REDIS) {
        snprintf(err, errlen, "--set coalesce=redis-lock: needs --set store=redis");
        return -1;
    }
    return 0;
}

/* singleflight through a Redis lock per key is its own mechanism: named so in reports. */
static const char *strategy_name(const struct herd_run_spec *spec)
{
    return spec->cfg.cache.redis_lock && spec->cfg.cache.strategy == HERD_CACHE_SINGLEFLIGHT
               ? "redis-lock"
               : NULL;
}

HERD__TABLES_FIT(params, strategies);

const struct herd_scenario herd_scenario_cache = {
    .id = HERD_SC_CACHE,
    .name = "cache",
    .backends = HERD_BACKENDS_CACHE,
    .summary = "N requesters ask for one hot key at the moment its cache entry expires",
    .trigger = "the hot key's TTL runs out",
    .waiters = "N requester threads, each with its own database connection",
    .resource = "the origin database (a real SQLite or PostgreSQL aggregate query)",
    .n_default = 200,
    .events_default = 5,
    .waiter_noun = "requester",
    .strategies = strategies,
    .default_mitigation = HERD_CACHE_SINGLEFLIGHT,
    .params = params,
    .decode = decode,
    .validate = validate,
    .strategy_name = strategy_name,
};
