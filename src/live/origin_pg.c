/* origin_pg.c — the cache herd's origin on a real PostgreSQL (libpq).
 *
 * open() starts a private PostgreSQL for the run (svc.h: initdb + postgres on a Unix
 * socket in a temporary directory, as the `postgres` user when herd runs as root), or
 * connects to the user's (the scenario's pg_url). It creates schema herd_cache, holding
 * table items(id, a, b) filled with `rows` rows in one INSERT ... generate_series, and the
 * same expensive query as the SQLite origin, an aggregate over the whole table whose
 * predicate depends on the key, prepared once per connection:
 *
 *     SELECT count(*), sum(b), max(a) FROM herd_cache.items WHERE (a + $1) % 13 <> 0
 *
 * Every query is a sequential scan (no index applies), run without parallel workers so
 * that one query is one backend's CPU. Each requester holds its own connection (its own
 * backend process), as an application without a pool does.
 *
 * queries() reads what the server counted: pg_stat_statements' calls of that statement
 * (the private server preloads it; Debian's postgresql ships it). When the view is not
 * there (a user's server without the extension) it falls back to herd's own count of the
 * queries it sent, and says so (herd__origin_pg_counted_by_server).
 *
 * On the user's server herd writes only inside schema herd_cache, which close() drops.
 * Interrupts: a query is short (ms) and a stop is checked before each; the fill runs in
 * one statement. Cleanup: close() disconnects and stops the private server (its directory,
 * socket and shared memory go with it).
 * Thread safety: a connection per thread; queries() takes a mutex for its connection.
 */
#include "origin.h"

#include "live_int.h"
#include "svc.h"

#include <herd/error.h>

#ifdef HERD_HAVE_LIBPQ

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUERY "SELECT count(*), sum(b), max(a) FROM herd_cache.items WHERE (a + $1) % 13 <> 0"

struct herd_origin {
    struct herd_svc svc;
    PGconn *ctl; /* set-up, counts, drop */
    pthread_mutex_t mu;
    bool server_counts; /* pg_stat_statements is there */
    uint64_t base;      /* its calls at open: a user's server may have counted before */
    _Atomic uint64_t sent;
};

struct herd_origin_conn {
    struct herd_origin *o;
    PGconn *c;
};

static int exec_ok(PGconn *c, const char *sql, char *err, size_t errlen)
{
    PGresult *res = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -HERD_EINVAL;
    if (rc < 0 && err)
        snprintf(err, errlen, "postgres origin: %.60s...: %s", sql, PQerrorMessage(c));
    PQclear(res);
    return rc;
}

/* The server's notices (DROP ... IF EXISTS) are not herd's output. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static PGconn *pg_connect(struct herd_origin *o, char *err, size_t errlen)
{
    PGconn *c = PQconnectdb(o->svc.conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        snprintf(err, errlen, "postgres origin: connect: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, quiet, NULL);
    /* One query, one backend's CPU: no parallel workers joining in. */
    if (exec_ok(c, "SET max_parallel_workers_per_gather = 0", err, errlen) < 0) {
        PQfinish(c);
        return NULL;
    }
    return c;
}

/* The server's count of QUERY's executions (UINT64_MAX when it keeps none). The view holds
 * the statement normalized (its constants become $2, $3), so it is found by its start,
 * passed as a parameter so that this statement's own text does not match. */
static uint64_t server_calls(struct herd_origin *o)
{
    const char *params[] = {"SELECT count(*), sum(b), max(a) FROM herd_cache.items WHERE %"};
    PGresult *res = PQexecParams(o->ctl,
                                 "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements "
                                 "WHERE query LIKE $1",
                                 1, NULL, params, NULL, NULL, 0);
    uint64_t v = UINT64_MAX;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        v = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return v;
}

static void pg_close(struct herd_origin *o)
{
    if (!o)
        return;
    if (o->ctl) {
        if (o->svc.external)
            exec_ok(o->ctl, "DROP SCHEMA IF EXISTS herd_cache CASCADE", NULL, 0);
        PQfinish(o->ctl);
    }
    herd__svc_stop(&o->svc);
    pthread_mutex_destroy(&o->mu);
    free(o);
}

static int pg_open(const struct herd_origin_config *cfg, struct herd_origin **out, char *err,
                   size_t errlen)
{
    struct herd_origin *o = calloc(1, sizeof *o);
    char sql[512];
    int rc;
    if (!o) {
        snprintf(err, errlen, "postgres origin: out of memory");
        return -HERD_ENOMEM;
    }
    pthread_mutex_init(&o->mu, NULL);
    if (cfg->url && cfg->url[0]) {
        rc = herd__svc_attach(HERD_SVC_POSTGRES, cfg->url, "--set pg_url", &o->svc, err, errlen);
    } else {
        struct herd_svc_opts so = {.max_clients = cfg->max_conns};
        rc = herd__svc_start(HERD_SVC_POSTGRES, &so, &o->svc, err, errlen);
    }
    if (rc < 0)
        goto fail;
    if (!(o->ctl = pg_connect(o, err, errlen))) {
        rc = -HERD_EINVAL;
        goto fail;
    }
    if (!o->svc.external)
        exec_ok(o->ctl, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements", NULL, 0);
    snprintf(sql, sizeof sql,
             "DROP SCHEMA IF EXISTS herd_cache CASCADE; CREATE SCHEMA herd_cache;"
             "CREATE TABLE herd_cache.items(id integer PRIMARY KEY, a integer NOT NULL,"
             " b integer NOT NULL);"
             "INSERT INTO herd_cache.items SELECT x, (x::bigint * 2654435761) %% 1000003,"
             " x %% 977 FROM generate_series(1, %" PRId64 ") AS x;"
             "VACUUM ANALYZE herd_cache.items;",
             cfg->rows);
    /* VACUUM refuses a transaction block, which a multi-statement PQexec is: split. */
    char *vac = strstr(sql, "VACUUM");
    vac[-1] = '\0';
    if ((rc = exec_ok(o->ctl, sql, err, errlen)) < 0 ||
        (rc = exec_ok(o->ctl, "VACUUM ANALYZE herd_cache.items", err, errlen)) < 0)
        goto fail;
    o->base = server_calls(o);
    o->server_counts = o->base != UINT64_MAX;
    if (!o->server_counts)
        o->base = 0;
    if (herd__live_stopping()) {
        rc = -HERD_EINTR;
        goto fail;
    }
    *out = o;
    return 0;
fail:
    pg_close(o);
    return rc;
}

static void pg_disconnect(struct herd_origin_conn *c)
{
    if (!c)
        return;
    PQfinish(c->c);
    free(c);
}

static int pg_conn_open(struct herd_origin *o, struct herd_origin_conn **out, char *err,
                        size_t errlen)
{
    struct herd_origin_conn *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "postgres origin: out of memory");
        return -HERD_ENOMEM;
    }
    c->o = o;
    if (!(c->c = pg_connect(o, err, errlen))) {
        free(c);
        return -HERD_EINVAL;
    }
    PGresult *res = PQprepare(c->c, "q", QUERY, 1, NULL);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok) {
        snprintf(err, errlen, "postgres origin: prepare: %s", PQerrorMessage(c->c));
        pg_disconnect(c);
        return -HERD_EINVAL;
    }
    *out = c;
    return 0;
}

static int pg_query(struct herd_origin_conn *c, int64_t key, struct herd_origin_value *out)
{
    char kb[24];
    const char *params[] = {kb};
    if (herd__live_stopping())
        return -HERD_EINTR;
    snprintf(kb, sizeof kb, "%" PRId64, key);
    atomic_fetch_add_explicit(&c->o->sent, 1, memory_order_relaxed);
    PGresult *res = PQexecPrepared(c->c, "q", 1, params, NULL, NULL, 0);
    int rc = -HERD_EINVAL;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        out->count = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        out->sum = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        out->max = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
        rc = 0;
    }
    PQclear(res);
    return rc;
}

static uint64_t pg_queries(struct herd_origin *o)
{
    if (!o->server_counts)
        return atomic_load_explicit(&o->sent, memory_order_relaxed);
    pthread_mutex_lock(&o->mu);
    uint64_t v = server_calls(o);
    pthread_mutex_unlock(&o->mu);
    return v == UINT64_MAX ? atomic_load(&o->sent) : v - o->base;
}

bool herd__origin_pg_counted_by_server(const struct herd_origin *o)
{
    return o->server_counts;
}

double herd__origin_pg_startup_s(const struct herd_origin *o)
{
    return (double)o->svc.startup_ns / 1e9;
}

const struct herd_origin_ops herd__origin_pg = {
    .name = "postgres",
    .fds_per_conn = 1,
    .fds_fixed = 2,
    .open = pg_open,
    .connect = pg_conn_open,
    .query = pg_query,
    .disconnect = pg_disconnect,
    .queries = pg_queries,
    .close = pg_close,
};

#else /* no libpq: the origin says what to install */

#include <stdio.h>

static int pg_open(const struct herd_origin_config *cfg, struct herd_origin **out, char *err,
                   size_t errlen)
{
    (void)cfg;
    (void)out;
    snprintf(err, errlen,
             "postgres origin: herd was built without libpq (install libpq-dev: "
             "scripts/install-deps.sh, then rebuild)");
    return -HERD_EINVAL;
}

bool herd__origin_pg_counted_by_server(const struct herd_origin *o)
{
    (void)o;
    return false;
}

double herd__origin_pg_startup_s(const struct herd_origin *o)
{
    (void)o;
    return 0;
}

const struct herd_origin_ops herd__origin_pg = {
    .name = "postgres",
    .fds_per_conn = 1,
    .fds_fixed = 2,
    .open = pg_open,
};

#endif
