/* stampede_singleflight.c — a cache stampede on a real SQLite query, then singleflight.
 *
 * The field guide's "Redis in front of Postgres": user:123 is cached; at expiry every
 * reader that arrives before the first refill misses and runs the same query. Here the
 * database is a real SQLite file (libsqlite3, one connection per thread, as a pool
 * would give, RTT_MS away) and the readers are THREADS threads released together at each expiry.
 *
 *   naive         miss -> query the database -> fill the cache
 *   singleflight  miss -> herd_singleflight_join(): one leader queries, the rest wait
 *                 for its result (herd/singleflight.h); the leader fills the cache
 *                 BEFORE completing, and re-checks it on becoming leader, so a reader
 *                 late enough to miss the flight finds the value instead of a new one.
 *
 * Prints database queries per expiry and the readers' p99 for both; exits 1 unless
 * singleflight made exactly one query per expiry and the naive run made more.
 *     cc -std=c11 stampede_singleflight.c $(pkg-config --cflags --libs herd sqlite3) \
 *        -pthread -o stampede_singleflight
 */
#include <herd/clock.h>
#include <herd/singleflight.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define THREADS 64
#define EXPIRIES 5
#define ROWS 40000
#define KEY "user:123"
#define RTT_MS 5

struct cache { /* one key, enough for the demo; a real cache is herd/swr.h */
    pthread_mutex_t mu;
    bool valid;
    char val[128];
};

static char db_path[64];
static struct cache cache = {.mu = PTHREAD_MUTEX_INITIALIZER};
static struct herd_singleflight *sf; /* NULL: the naive run */
static atomic_int queries;           /* every query the database ran */
static pthread_barrier_t start;
static int64_t lat_ns[EXPIRIES * THREADS];

static bool cache_get(char *out, size_t cap)
{
    pthread_mutex_lock(&cache.mu);
    bool hit = cache.valid;
    if (hit)
        snprintf(out, cap, "%s", cache.val);
    pthread_mutex_unlock(&cache.mu);
    return hit;
}

static void cache_set(const char *val)
{
    pthread_mutex_lock(&cache.mu);
    snprintf(cache.val, sizeof cache.val, "%s", val);
    cache.valid = true;
    pthread_mutex_unlock(&cache.mu);
}

/* The origin: a real query, a few ms of work (a scan the index cannot help with),
 * behind RTT_MS of network, as a database on another host would be. Without that
 * wait a CPU-bound query on a 2-core box finishes before most readers are even
 * scheduled, and the stampede would depend on the scheduler rather than on the TTL. */
static int origin_query(sqlite3 *db, char *out, size_t cap)
{
    sqlite3_stmt *st;
    struct timespec rtt = {0, RTT_MS * 1000000L};
    nanosleep(&rtt, NULL);
    int rc = sqlite3_prepare_v2(db,
                                "SELECT name, (SELECT count(*) FROM users WHERE name LIKE '%77%') "
                                "FROM users WHERE id = 123",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return -1;
    atomic_fetch_add(&queries, 1);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(out, cap, "%s (%d similar)", (const char *)sqlite3_column_text(st, 0),
                 sqlite3_column_int(st, 1));
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

static int read_user(sqlite3 *db, char *out, size_t cap)
{
    if (cache_get(out, cap))
        return 0;
    if (!sf) { /* naive: every miss goes to the database */
        if (origin_query(db, out, cap) != 0)
            return -1;
        cache_set(out);
        return 0;
    }
    struct herd_singleflight_ticket t;
    struct herd_singleflight_result res;
    int role = herd_singleflight_join(sf, KEY, strlen(KEY), herd_clock_monotonic_ns(),
                                      HERD_SINGLEFLIGHT_NO_DEADLINE, &t, &res);
    if (role == HERD_SINGLEFLIGHT_JOINED) {
        int err = res.error;
        if (!err)
            snprintf(out, cap, "%.*s", (int)res.len, (const char *)res.val);
        herd_singleflight_release(sf, &t);
        return err ? -1 : 0;
    }
    if (role != HERD_SINGLEFLIGHT_LEADER)
        return -1;
    /* Leader: the previous flight may have filled the cache since our miss. */
    int err = cache_get(out, cap) ? 0 : origin_query(db, out, cap);
    if (!err)
        cache_set(out); /* before complete(): no reader can miss between the two */
    herd_singleflight_complete(sf, &t, out, err ? 0 : strlen(out) + 1, err ? -1 : 0);
    return err;
}

static void *reader(void *arg)
{
    int id = (int)(intptr_t)arg;
    sqlite3 *db;
    char val[128];
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL)) {
        fprintf(stderr, "open %s: %s\n", db_path, sqlite3_errmsg(db));
        exit(2);
    }
    for (int e = 0; e < EXPIRIES; e++) {
        pthread_barrier_wait(&start); /* the key has just expired */
        int64_t t0 = herd_clock_monotonic_ns();
        if (read_user(db, val, sizeof val) != 0) {
            fprintf(stderr, "read failed\n");
            exit(2);
        }
        lat_ns[e * THREADS + id] = herd_clock_monotonic_ns() - t0;
        pthread_barrier_wait(&start); /* all served: main expires the key again */
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
    int per_expiry[EXPIRIES];
    int min, max;
    double p99_ms;
};

static void run(struct figures *f)
{
    pthread_t th[THREADS];
    pthread_barrier_init(&start, NULL, THREADS + 1);
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, reader, (void *)(intptr_t)i);
    f->min = THREADS + 1;
    f->max = 0;
    for (int e = 0; e < EXPIRIES; e++) {
        pthread_mutex_lock(&cache.mu);
        cache.valid = false; /* the TTL ran out */
        pthread_mutex_unlock(&cache.mu);
        int before = atomic_load(&queries);
        pthread_barrier_wait(&start);
        pthread_barrier_wait(&start);
        f->per_expiry[e] = atomic_load(&queries) - before;
        f->min = f->per_expiry[e] < f->min ? f->per_expiry[e] : f->min;
        f->max = f->per_expiry[e] > f->max ? f->per_expiry[e] : f->max;
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    qsort(lat_ns, EXPIRIES * THREADS, sizeof lat_ns[0], cmp64);
    f->p99_ms = (double)lat_ns[(EXPIRIES * THREADS * 99) / 100] / 1e6;
}

static int make_db(void)
{
    sqlite3 *db;
    char *err = NULL;
    snprintf(db_path, sizeof db_path, "/tmp/herd-stampede-XXXXXX");
    int fd = mkstemp(db_path);
    if (fd < 0)
        return -1;
    close(fd);
    if (sqlite3_open(db_path, &db) != SQLITE_OK)
        return -1;
    char sql[512];
    snprintf(sql, sizeof sql,
             "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);"
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
             "INSERT INTO users SELECT i, 'user-' || (i * 7919 %% 100003) FROM n;",
             ROWS);
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fprintf(stderr, "sqlite: %s\n", err);
    sqlite3_free(err);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

static void show(const char *name, const struct figures *f)
{
    printf("  %-13s", name);
    for (int e = 0; e < EXPIRIES; e++)
        printf(" %4d", f->per_expiry[e]);
    printf("   %7.2f ms\n", f->p99_ms);
}

int main(void)
{
    struct figures naive, fixed;
    if (make_db() != 0) {
        fprintf(stderr, "stampede_singleflight: cannot create the SQLite database in /tmp\n");
        return 2;
    }
    run(&naive);
    if (herd_singleflight_new(NULL, &sf) != 0)
        return 2;
    run(&fixed);
    struct herd_singleflight_stats st;
    herd_singleflight_stats(sf, &st);
    herd_singleflight_free(sf);
    unlink(db_path);

    printf("cache stampede: %d readers of %s at each of %d expiries, SQLite origin (%d rows)\n",
           THREADS, KEY, EXPIRIES, ROWS);
    printf("  %-13s  database queries per expiry   reader p99\n", "");
    show("naive", &naive);
    show("singleflight", &fixed);
    printf("  singleflight: %llu flights, %llu joins, %llu results shared\n",
           (unsigned long long)st.flights, (unsigned long long)st.joins,
           (unsigned long long)st.shared);
    bool ok = fixed.min == 1 && fixed.max == 1 && naive.max > 1;
    printf("%s: singleflight made exactly one query per expiry%s\n", ok ? "PASS" : "FAIL",
           naive.max > 1 ? "" : " (and the naive run should have made more)");
    return ok ? 0 : 1;
}
