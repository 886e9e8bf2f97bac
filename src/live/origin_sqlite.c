/* origin_sqlite.c — the cache herd's origin: a real embedded SQLite database.
 *
 * open() makes a private directory with mkdtemp under /tmp ($TMPDIR if set), creates
 * origin.db in WAL mode and fills table items(id, a, b) with `rows` rows in one statement (a
 * recursive CTE inside one transaction: about 0.6 us a row here). The expensive query is an
 * aggregate over the WHOLE table whose predicate depends on the key:
 *
 *     SELECT count(*), sum(b), max(a) FROM items WHERE (a + ?key) % 13 != 0
 *
 * SQLite cannot use an index for it, so every query scans every row: about 90 ns a
 * row on this machine (50,000 rows: ~4.5 ms), real CPU and memory traffic, no sleep.
 * Each connection maps the file (PRAGMA mmap_size) so N connections share the OS page
 * cache instead of N private page caches, and keeps its page cache small.
 *
 * Descriptors: a WAL connection holds the database file and the -wal file; the -shm
 * mapping is shared per process but count it too: 3 per connection.
 * Cleanup: close() closes the last handles and unlinks origin.db, -wal, -shm and the
 * directory, on every path (open() undoes itself on failure). A run killed with SIGKILL
 * cannot: so the directory's name says whose it is (herd-cache-PID.START-XXXXXX, START the
 * process's start time, as a pid alone is reused) and open() first removes the directories
 * of processes that no longer exist (this user's, in the same place).
 * Interrupts: a progress handler reads herd__live_stopping() every 1000 VM steps
 * (tens of microseconds) and aborts the scan, so a stop is prompt even mid-herd. The
 * table fill in open() runs on the run's controlling thread and times nothing: its handler
 * also polls the run's watch (herd__live_poll), so a large fill notices a stop too.
 */
#include "origin.h"

#include "live_int.h"

#include <dirent.h>
#include <errno.h>
#include <herd/error.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define QUERY "SELECT count(*), sum(b), max(a) FROM items WHERE (a + ?1) % 13 != 0"

struct herd_origin {
    char dir[256];
    char path[288];
    _Atomic uint64_t queries;
};

struct herd_origin_conn {
    struct herd_origin *o;
    sqlite3 *db;
    sqlite3_stmt *stmt;
};

static int stop_check(void *arg)
{
    (void)arg;
    return herd__live_stopping() ? 1 : 0;
}

static int setup_check(void *arg)
{
    (void)arg;
    return herd__live_poll() ? 1 : 0;
}

/* Unlink the database's files in @p dir, then the directory (not empty: left alone). */
static void remove_dir(const char *dir)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char p[600];
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        snprintf(p, sizeof p, "%s/origin.db%s", dir, suffix[i]);
        unlink(p);
    }
    rmdir(dir);
}

static void remove_files(struct herd_origin *o)
{
    remove_dir(o->dir);
}

/* When process @p pid started, in clock ticks after boot (/proc/PID/stat, field 22): with
 * the pid it names one process for ever. 0: no such process (or no /proc). */
static unsigned long long start_time(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name (field 2) may hold spaces */
    if (!p)
        return 0;
    for (int field = 2; *p && field < 22; p++)
        field += *p == ' ';
    return strtoull(p, NULL, 10);
}

/* Remove the herd-cache-PID.START-XXXXXX directories in @p base whose process is gone
 * (killed before its close()): this user's own directories only, never through a link. */
static void reap_stale(const char *base)
{
    if (start_time((long)getpid()) == 0)
        return; /* no /proc: every owner would look dead */
    DIR *d = opendir(base);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        long pid;
        unsigned long long start;
        int end = 0;
        if (sscanf(e->d_name, "herd-cache-%ld.%llu-%*6[A-Za-z0-9]%n", &pid, &start, &end) != 2 ||
            end == 0 || e->d_name[end] != '\0' || pid <= 0 || start_time(pid) == start)
            continue;
        char dir[512];
        struct stat st;
        snprintf(dir, sizeof dir, "%s/%s", base, e->d_name);
        if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid())
            remove_dir(dir);
    }
    closedir(d);
}

static int exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "sqlite origin: %s: %s", sql, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -HERD_EINVAL;
    }
    return 0;
}

static void sqlite_close(struct herd_origin *o)
{
    if (!o)
        return;
    remove_files(o);
    free(o);
}

static int sqlite_open(const struct herd_origin_config *cfg, struct herd_origin **out, char *err,
                       size_t errlen)
{
    struct herd_origin *o = calloc(1, sizeof *o);
    sqlite3 *db = NULL;
    char sql[512];
    int rc;

    if (!o) {
        snprintf(err, errlen, "sqlite origin: out of memory");
        return -HERD_ENOMEM;
    }
    /* $TMPDIR when it is an absolute path that fits, as mktemp(1) does; else /tmp. */
    const char *base = getenv("TMPDIR");
    if (!base || base[0] != '/' || strlen(base) > sizeof o->dir - 64)
        base = "/tmp";
    reap_stale(base);
    snprintf(o->dir, sizeof o->dir, "%s/herd-cache-%ld.%llu-XXXXXX", base, (long)getpid(),
             start_time((long)getpid()));
    if (!mkdtemp(o->dir)) {
        rc = -errno;
        snprintf(err, errlen, "sqlite origin: mkdtemp in %s: %s", base, strerror(errno));
        free(o);
        return rc;
    }
    snprintf(o->path, sizeof o->path, "%s/origin.db", o->dir);
    if (sqlite3_open_v2(o->path, &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(err, errlen, "sqlite origin: open %s: %s", o->path,
                 db ? sqlite3_errmsg(db) : "out of memory");
        rc = -HERD_EINVAL;
        goto fail;
    }
    sqlite3_progress_handler(db, 1000, setup_check, NULL);
    snprintf(sql, sizeof sql,
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;"
             "CREATE TABLE items(id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b INTEGER NOT NULL);"
             "BEGIN;"
             "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < %" PRId64 ")"
             " INSERT INTO items SELECT x, (x * 2654435761) %% 1000003, x %% 977 FROM s;"
             "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);",
             cfg->rows);
    if ((rc = exec(db, sql, err, errlen)) < 0) {
        if (herd__live_stopping())
            rc = -HERD_EINTR;
        goto fail;
    }
    sqlite3_close(db);
    *out = o;
    return 0;
fail:
    sqlite3_close(db);
    sqlite_close(o);
    return rc;
}

static void sqlite_disconnect(struct herd_origin_conn *c)
{
    if (!c)
        return;
    sqlite3_finalize(c->stmt);
    sqlite3_close(c->db);
    free(c);
}

static int sqlite_connect(struct herd_origin *o, struct herd_origin_conn **out, char *err,
                          size_t errlen)
{
    struct herd_origin_conn *c = calloc(1, sizeof *c);
    int rc = -HERD_EINVAL;
    if (!c) {
        snprintf(err, errlen, "sqlite origin: out of memory");
        return -HERD_ENOMEM;
    }
    c->o = o;
    if (sqlite3_open_v2(o->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "sqlite origin: connect: %s",
                 c->db ? sqlite3_errmsg(c->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(c->db, 5000);
    sqlite3_progress_handler(c->db, 1000, stop_check, NULL);
    /* Shared pages through mmap, a small private cache: N connections must not each
     * hold a copy of the table. */
    if ((rc = exec(c->db, "PRAGMA mmap_size=1073741824; PRAGMA cache_size=-256;", err, errlen)) < 0)
        goto fail;
    if (sqlite3_prepare_v2(c->db, QUERY, -1, &c->stmt, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "sqlite origin: prepare: %s", sqlite3_errmsg(c->db));
        rc = -HERD_EINVAL;
        goto fail;
    }
    *out = c;
    return 0;
fail:
    sqlite_disconnect(c);
    return rc;
}

static int sqlite_query(struct herd_origin_conn *c, int64_t key, struct herd_origin_value *out)
{
    int rc;
    sqlite3_reset(c->stmt);
    sqlite3_bind_int64(c->stmt, 1, key);
    /* Counted before the step: a query that reached SQLite is load even if a stop
     * request aborts it halfway. */
    atomic_fetch_add_explicit(&c->o->queries, 1, memory_order_relaxed);
    rc = sqlite3_step(c->stmt);
    if (rc == SQLITE_ROW) {
        out->count = sqlite3_column_int64(c->stmt, 0);
        out->sum = sqlite3_column_int64(c->stmt, 1);
        out->max = sqlite3_column_int64(c->stmt, 2);
        rc = 0;
    } else if (rc == SQLITE_INTERRUPT || herd__live_stopping()) {
        rc = -HERD_EINTR;
    } else {
        rc = -HERD_EINVAL;
    }
    sqlite3_reset(c->stmt);
    return rc;
}

static uint64_t sqlite_queries(struct herd_origin *o)
{
    return atomic_load_explicit(&o->queries, memory_order_relaxed);
}

const struct herd_origin_ops herd__origin_sqlite = {
    .name = "sqlite",
    .fds_per_conn = 3,
    .fds_fixed = 2,
    .open = sqlite_open,
    .connect = sqlite_connect,
    .query = sqlite_query,
    .disconnect = sqlite_disconnect,
    .queries = sqlite_queries,
    .close = sqlite_close,
};
