/* origin.h — the database behind the cache herd, behind a small interface.
 *
 * The cache herd needs an origin that does real, expensive work per query and that
 * each requester thread reaches over its own connection. This vtable is all the herd
 * sees, so PostgreSQL (libpq) or Redis (hiredis) can plug in later as one more
 * origin_<name>.c file: open() makes (or attaches to) a database holding `rows` rows,
 * connect() gives a thread its own connection, query(key) runs the expensive query for
 * a key and returns its value, queries() says how many queries actually reached the
 * database (the herd's origin_load is read from here, not counted by the cache).
 *
 * Thread safety: open/close on one thread; a connection belongs to the thread that
 * uses it; queries() may be read from any thread. A query gives up with -HERD_EINTR
 * soon after herd__live_stopping() turns true, so teardown never waits on a long scan.
 */
#ifndef HERD_LIVE_ORIGIN_H
#define HERD_LIVE_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/** The value of one key: the aggregate the expensive query computes. */
struct herd_origin_value {
    int64_t count; /* rows that matched the key's predicate */
    int64_t sum;   /* sum of a column over them */
    int64_t max;   /* max of another column over them */
};

struct herd_origin_config {
    int64_t rows;    /* size of the generated table */
    const char *url; /* the user's own server (borrowed; NULL or "": a private one) */
    int max_conns;   /* connections the run will hold at once */
};

struct herd_origin;      /* a database (backend's own type) */
struct herd_origin_conn; /* one connection (backend's own type) */

struct herd_origin_ops {
    const char *name; /* the value of the scenario's `origin` param */
    int fds_per_conn; /* descriptors one connection holds open, for needs() */
    int fds_fixed;    /* descriptors held besides the connections */
    /** Create the database with cfg->rows rows. @return 0 or < 0 with one line in err. */
    int (*open)(const struct herd_origin_config *cfg, struct herd_origin **out, char *err,
                size_t errlen);
    /** A new connection for the calling thread. @return 0 or < 0 with one line in err. */
    int (*connect)(struct herd_origin *o, struct herd_origin_conn **out, char *err, size_t errlen);
    /** Run the expensive query for @p key. @return 0, -HERD_EINTR, or another error. */
    int (*query)(struct herd_origin_conn *c, int64_t key, struct herd_origin_value *out);
    void (*disconnect)(struct herd_origin_conn *c);
    /** Queries that reached the database since open (thread-safe read). */
    uint64_t (*queries)(struct herd_origin *o);
    /** Close the database and remove every file it made. NULL is fine. */
    void (*close)(struct herd_origin *o);
};

extern const struct herd_origin_ops herd__origin_sqlite;
extern const struct herd_origin_ops herd__origin_pg;

/** PostgreSQL's: did the server count the queries (pg_stat_statements), and how long did
 *  its start take (0 for the user's)? origin_pg.c */
bool herd__origin_pg_counted_by_server(const struct herd_origin *o);
double herd__origin_pg_startup_s(const struct herd_origin *o);

/** The origin called @p name, or NULL. */
static inline const struct herd_origin_ops *herd__origin_find(const char *name)
{
    if (strcmp(name, herd__origin_sqlite.name) == 0)
        return &herd__origin_sqlite;
    if (strcmp(name, herd__origin_pg.name) == 0)
        return &herd__origin_pg;
    return NULL;
}

#endif
