/* swr_refresh.c — a hard TTL is a cliff; a soft TTL with background refresh is a slope.
 *
 * READERS threads read user:123 every millisecond for RUN_MS, from a cache in front of
 * a real SQLite database (libsqlite3) RTT_MS away.
 *
 *   hard TTL      the value dies at TTL_MS; every reader that comes by before the first
 *                 refill misses, waits for the database and queries it itself;
 *   soft TTL      herd/swr.h: fresh for TTL_MS, then servable stale for STALE_MS. The
 *                 first reader past the soft TTL gets STALE_REFRESH: it hands the key to
 *                 a background refresher thread and, like everyone else, is served the
 *                 stale value at once. Exactly one refresh per key runs at a time.
 *
 * Prints database queries per expiry, how many reads waited on the database, and the
 * readers' p99 / p99.9 / max; exits 1 unless the soft TTL made one query per expiry with
 * no reader waiting and the hard TTL stampeded (more than one query per expiry).
 *     cc -std=c11 swr_refresh.c $(pkg-config --cflags --libs herd sqlite3) -pthread \
 *        -o swr_refresh
 */
#include <herd/clock.h>
#include <herd/swr.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define READERS 48
#define RUN_MS 1000
#define TTL_MS 150
#define STALE_MS 1000
#define RTT_MS 5
#define MAX_READS 1100 /* per reader: RUN_MS at one read per ms, and some slack */
#define KEY "user:123"

static char db_path[64];
static struct herd_swr *swr; /* NULL: the hard-TTL run */
static atomic_int queries, waited;
static int64_t lat_ns[READERS][MAX_READS];
static int nreads[READERS];
static int64_t t_end;

/* the hard-TTL cache: one key */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char hard_val[128];
static int64_t hard_expires; /* 0: never filled */
static int hard_expiries;    /* fills that found the value dead: each is one expiry */

/* the background refresher's mailbox */
static pthread_mutex_t rmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rcv = PTHREAD_COND_INITIALIZER;
static bool refresh_wanted, refresher_stop;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The origin: RTT_MS of network, then a real query. */
static int origin_query(sqlite3 *db, char *out, size_t cap)
{
    sqlite3_stmt *st;
    sleep_ms(RTT_MS);
    if (sqlite3_prepare_v2(db, "SELECT name, (SELECT count(*) FROM users WHERE name LIKE '%77%') "
                               "FROM users WHERE id = 123", -1, &st, NULL) != SQLITE_OK)
        return -1;
    atomic_fetch_add(&queries, 1);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(out, cap, "%s (%d similar)", (const char *)sqlite3_column_text(st, 0),
                 sqlite3_column_int(st, 1));
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

static sqlite3 *db_open(void)
{
    sqlite3 *db;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL)) {
        fprintf(stderr, "swr_refresh: open %s: %s\n", db_path, sqlite3_errmsg(db));
        exit(2);
    }
    return db;
}

static int hard_read(sqlite3 *db, char *out, size_t cap)
{
    int64_t now = herd_clock_monotonic_ns();
    pthread_mutex_lock(&mu);
    bool hit = now < hard_expires;
    if (hit)
        snprintf(out, cap, "%s", hard_val);
    pthread_mutex_unlock(&mu);
    if (hit)
        return 0;
    atomic_fetch_add(&waited, 1);
    if (origin_query(db, out, cap) != 0)
        return -1;
    now = herd_clock_monotonic_ns();
    pthread_mutex_lock(&mu);
    hard_expiries += now >= hard_expires; /* the first refill of this expiry */
    snprintf(hard_val, sizeof hard_val, "%s", out);
    hard_expires = now + TTL_MS * HERD_NS_PER_MS;
    pthread_mutex_unlock(&mu);
    return 0;
}

static int swr_fill(sqlite3 *db)
{
    char val[128];
    int64_t t0 = herd_clock_monotonic_ns();
    if (origin_query(db, val, sizeof val) != 0)
        return -1;
    int64_t now = herd_clock_monotonic_ns();
    return herd_swr_set(swr, KEY, strlen(KEY), val, strlen(val) + 1, now, NULL, now - t0, NULL);
}

static void *refresher(void *arg)
{
    (void)arg;
    sqlite3 *db = db_open();
    pthread_mutex_lock(&rmu);
    for (;;) {
        while (!refresh_wanted && !refresher_stop)
            pthread_cond_wait(&rcv, &rmu);
        if (!refresh_wanted) /* stopping, with no refresh pending */
            break;
        refresh_wanted = false;
        pthread_mutex_unlock(&rmu);
        if (swr_fill(db) != 0)
            herd_swr_refresh_failed(swr, KEY, strlen(KEY), herd_clock_monotonic_ns());
        pthread_mutex_lock(&rmu);
    }
    pthread_mutex_unlock(&rmu);
    sqlite3_close(db);
    return NULL;
}

static int soft_read(sqlite3 *db, char *out, size_t cap)
{
    int st = herd_swr_get(swr, KEY, strlen(KEY), herd_clock_monotonic_ns(), out, cap, NULL);
    if (st == HERD_SWR_STALE_REFRESH) { /* ours to refresh: in the background */
        pthread_mutex_lock(&rmu);
        refresh_wanted = true;
        pthread_cond_signal(&rcv);
        pthread_mutex_unlock(&rmu);
    } else if (st == HERD_SWR_MISS) { /* nothing servable: only past the hard TTL */
        atomic_fetch_add(&waited, 1);
        return swr_fill(db) == 0 ? 0 : -1;
    }
    return st < 0 ? -1 : 0;
}

static void *reader(void *arg)
{
    int id = (int)(intptr_t)arg;
    sqlite3 *db = db_open();
    char val[128];
    while (herd_clock_monotonic_ns() < t_end && nreads[id] < MAX_READS) {
        int64_t t0 = herd_clock_monotonic_ns();
        if ((swr ? soft_read(db, val, sizeof val) : hard_read(db, val, sizeof val)) != 0) {
            fprintf(stderr, "swr_refresh: read failed\n");
            exit(2);
        }
        lat_ns[id][nreads[id]++] = herd_clock_monotonic_ns() - t0;
        sleep_ms(1);
    }
    sqlite3_close(db);
    return NULL;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

struct figures {
    int queries, expiries, waited, reads;
    double p99_ms, p999_ms, max_ms;
};

static void run(struct figures *f)
{
    pthread_t th[READERS], ref;
    static int64_t all[READERS * MAX_READS];
    sqlite3 *db = db_open();
    char val[128];
    /* Warm: the value is in the cache when the readers start. */
    if (swr)
        swr_fill(db);
    else
        hard_read(db, val, sizeof val);
    atomic_store(&queries, 0);
    atomic_store(&waited, 0);
    hard_expiries = 0;
    memset(nreads, 0, sizeof nreads);
    refresher_stop = false;
    if (swr)
        pthread_create(&ref, NULL, refresher, NULL);
    t_end = herd_clock_monotonic_ns() + RUN_MS * HERD_NS_PER_MS;
    for (int i = 0; i < READERS; i++)
        pthread_create(&th[i], NULL, reader, (void *)(intptr_t)i);
    for (int i = 0; i < READERS; i++)
        pthread_join(th[i], NULL);
    if (swr) {
        pthread_mutex_lock(&rmu);
        refresher_stop = true;
        pthread_cond_signal(&rcv);
        pthread_mutex_unlock(&rmu);
        pthread_join(ref, NULL);
    }
    sqlite3_close(db);

    struct herd_swr_stats st;
    if (swr)
        herd_swr_stats(swr, &st);
    *f = (struct figures){.queries = atomic_load(&queries), .waited = atomic_load(&waited),
                          .expiries = swr ? (int)st.stale_refresh : hard_expiries};
    for (int i = 0; i < READERS; i++)
        for (int k = 0; k < nreads[i]; k++)
            all[f->reads++] = lat_ns[i][k];
    qsort(all, f->reads, sizeof all[0], cmp64);
    f->p99_ms = (double)all[f->reads * 99 / 100] / 1e6;
    f->p999_ms = (double)all[f->reads * 999 / 1000] / 1e6;
    f->max_ms = (double)all[f->reads - 1] / 1e6;
}

static int make_db(void)
{
    sqlite3 *db;
    snprintf(db_path, sizeof db_path, "/tmp/herd-swr-XXXXXX");
    int fd = mkstemp(db_path);
    if (fd < 0)
        return -1;
    close(fd);
    if (sqlite3_open(db_path, &db) != SQLITE_OK)
        return -1;
    int rc = sqlite3_exec(db, "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);"
                              "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                              "WHERE i < 40000) INSERT INTO users "
                              "SELECT i, 'user-' || (i * 7919 % 100003) FROM n;",
                          NULL, NULL, NULL);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

int main(void)
{
    struct figures h, s;
    struct herd_swr_config cfg = {
        .ttl_ns = TTL_MS * HERD_NS_PER_MS,
        .stale_ns = STALE_MS * HERD_NS_PER_MS,
        .refresh_timeout_ns = 500 * HERD_NS_PER_MS,
    };
    if (make_db() != 0) {
        fprintf(stderr, "swr_refresh: cannot create the SQLite database in /tmp\n");
        return 2;
    }
    run(&h);
    if (herd_swr_new(&cfg, &swr) != 0)
        return 2;
    run(&s);
    herd_swr_free(swr);
    unlink(db_path);

    printf("soft TTL: %d readers of %s every ms for %d ms, TTL %d ms, SQLite %d ms away\n",
           READERS, KEY, RUN_MS, TTL_MS, RTT_MS);
    printf("  %-28s %10s %10s\n", "", "hard TTL", "soft TTL");
    printf("  %-28s %10d %10d\n", "reads", h.reads, s.reads);
    printf("  %-28s %10d %10d\n", "expiries", h.expiries, s.expiries);
    printf("  %-28s %10d %10d\n", "database queries", h.queries, s.queries);
    printf("  %-28s %10.1f %10.1f\n", "queries per expiry",
           h.expiries ? (double)h.queries / h.expiries : 0.0,
           s.expiries ? (double)s.queries / s.expiries : 0.0);
    printf("  %-28s %10d %10d\n", "reads that waited on the db", h.waited, s.waited);
    printf("  %-28s %7.3f ms %7.3f ms\n", "reader p99", h.p99_ms, s.p99_ms);
    printf("  %-28s %7.3f ms %7.3f ms\n", "reader p99.9", h.p999_ms, s.p999_ms);
    printf("  %-28s %7.3f ms %7.3f ms\n", "reader max", h.max_ms, s.max_ms);
    bool ok = s.expiries > 0 && s.queries == s.expiries && s.waited == 0 &&
              h.queries > h.expiries;
    printf("%s: the soft TTL made one background query per expiry and no reader waited; "
           "the hard TTL made %.1f per expiry\n",
           ok ? "PASS" : "FAIL", h.expiries ? (double)h.queries / h.expiries : 0.0);
    return ok ? 0 : 1;
}
