/* cache.h — the cache stampede's strategies and typed settings (row: cache.c).
 * N requesters ask for one hot key at the moment its cache entry expires.
 */
#ifndef HERD_SCENARIO_CACHE_H
#define HERD_SCENARIO_CACHE_H

#include <stdbool.h>
#include <stdint.h>

/* X(ID, name, FAMILY, help): the naive strategy first. */
#define HERD_CACHE_STRATEGIES(X)                                                            \
    X(EVERY_MISS, "every-miss", NAIVE, "every requester that misses queries the origin itself") \
    X(SINGLEFLIGHT, "singleflight", COALESCE,                                               \
      "the first miss queries the origin; the others wait for it and share its result")     \
    X(SWR, "swr", SPREAD_TIME,                                                              \
      "stale-while-revalidate: serve the expired value while one refresh runs")            \
    X(XFETCH, "xfetch", SPREAD_TIME,                                                        \
      "probabilistic early refresh (Vattani et al., 2015): refresh before expiry with "     \
      "probability exp(-ttl_left / (delta * beta)), through singleflight")                  \
    X(TTL_JITTER, "ttl-jitter", SPREAD_TIME,                                                \
      "each key's TTL is drawn from ttl * (1 +- jitter_pct): keys filled together expire "  \
      "apart")

enum herd_cache_strategy {
#define HERD__CACHE_ENUM(id, name, family, help) HERD_CACHE_##id,
    HERD_CACHE_STRATEGIES(HERD__CACHE_ENUM)
#undef HERD__CACHE_ENUM
};

/* The origin table's default size, and the size herd calibrate measures the profile's
 * origin_query_ns at: a query over rows costs origin_query_ns * rows / this. */
#define HERD_CACHE_ROWS_DEFAULT 50000

enum herd_cache_origin {
    HERD_CACHE_SQLITE,   /* an embedded SQLite file in WAL mode, one connection per requester */
    HERD_CACHE_POSTGRES, /* a real PostgreSQL (herd's private one, or the spec's text[0]) */
};

enum herd_cache_store {
    HERD_CACHE_IN_PROCESS, /* libherd's swr cache inside the requesters' process */
    HERD_CACHE_REDIS,      /* a real Redis (herd's private one, or the spec's text[1]) */
};

struct herd_cache_config {
    enum herd_cache_strategy strategy;
    enum herd_cache_origin origin;
    enum herd_cache_store store; /* live: where the cached value lives */
    bool redis_lock;             /* coalesce through a Redis lock per key, not in-process */
    int64_t rows;       /* rows in the origin's table; the hot query aggregates over them */
    int64_t ttl_ns;     /* time to live of a cached value */
    int64_t period_ns;  /* each requester asks for its key once per period */
    int64_t lead_ns;    /* requests run this long before the expiry */
    int keys;           /* hot keys filled at the same moment; requester i asks key i % keys */
    double beta;        /* XFetch's beta */
    int jitter_pct;     /* ttl-jitter: TTLs uniform in ttl * (1 +- jitter_pct / 100) */
    int64_t stale_ns;   /* swr: how long past its TTL a value may be served while it refreshes */
    int origin_workers; /* sim: queries the origin runs at once; 0 = the profile's cores */
    double usl_sigma;   /* sim: the origin's contention (USL sigma) */
    double usl_kappa;   /* sim: the origin's coherency cost (USL kappa) */
};

#endif
