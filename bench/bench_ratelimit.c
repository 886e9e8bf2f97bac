/* bench_ratelimit.c — ns per token-bucket take, 1 and 2 threads; keyed take; reserve+cancel.
 *
 * One operation = one herd_ratelimit_take() (lock, integer accrual, compare, unlock):
 *  - "take, granted": 1000 tokens per ns, burst 10^12, so every take succeeds;
 *  - "take, refused": an empty bucket and a fixed clock, so every take is refused with
 *    its exact retry-after (the division path);
 *  - "keyed take": herd_ratelimit_table_take() over 1000 keys of 12 bytes in a 1024-slot
 *    table (adds the key hash, the chain walk and the LRU move);
 *  - "reserve+cancel": one reservation and its cancel (two lock round trips).
 * The clock is a counter advanced 1 ns per operation (no clock read inside the loop).
 * With 2 threads both hammer the same bucket or table: the cost of its one mutex under
 * contention (2 cores). ns/op = wall time / operations per thread (1M each), median of
 * 5 runs. Not a test: it prints figures and exits 0.
 */
#include <herd/ratelimit.h>

#include <stdio.h>

#include "bench.h"

#define OPS 1000000
#define REPS 5
#define NKEYS 1000

enum kind { TAKE_GO, TAKE_REFUSED, KEYED, RESERVE_CANCEL };

struct worker {
    enum kind kind;
    struct herd_ratelimit *rl;
    struct herd_ratelimit_table *t;
    int id;
    long go;
};

static char keys[NKEYS][13];

static void *work(void *arg)
{
    struct worker *w = arg;
    long go = 0;
    for (long i = 0; i < OPS; i++) {
        int64_t now = i;
        int64_t ra;
        switch (w->kind) {
        case TAKE_GO:
        case TAKE_REFUSED:
            go += herd_ratelimit_take(w->rl, 1, w->kind == TAKE_GO ? now : 0, &ra) ==
                  HERD_RATELIMIT_GO;
            break;
        case KEYED: {
            const char *k = keys[(i * 7 + w->id * 500) % NKEYS];
            go += herd_ratelimit_table_take(w->t, k, 12, 1, now, &ra) == HERD_RATELIMIT_GO;
            break;
        }
        case RESERVE_CANCEL: {
            struct herd_ratelimit_reservation r;
            if (herd_ratelimit_reserve(w->rl, 1, now, 0, &r, &ra) == HERD_RATELIMIT_GO) {
                go++;
                herd_ratelimit_cancel(w->rl, &r, now);
            }
            break;
        }
        }
    }
    w->go = go;
    return NULL;
}

static double run(enum kind kind, int threads, double *go_pct)
{
    double ns[REPS];
    for (int rep = 0; rep < REPS; rep++) {
        struct herd_ratelimit rl;
        struct herd_ratelimit_table *t = NULL;
        /* a burst of 10^12 never empties: with 2 threads the lagging thread's clock grants
         * nothing (stale times never do), so a small bucket would refuse it */
        struct herd_ratelimit_config c = {.rate = 1000, .per_ns = 1, .burst = 1000000000000};
        if (kind == TAKE_REFUSED)
            c = (struct herd_ratelimit_config){.rate = 1, .per_ns = 1000000000, .burst = 1};
        bench_check(herd_ratelimit_init(&rl, &c, 0), "init failed");
        if (kind == TAKE_REFUSED)
            herd_ratelimit_take(&rl, 1, 0, NULL); /* empty it */
        if (kind == KEYED) {
            struct herd_ratelimit_table_config tc = {
                .bucket = c, .max_keys = 1024, .max_key_len = 16};
            bench_check(herd_ratelimit_table_new(&tc, &t), "table_new failed");
        }
        struct worker w[2];
        for (int i = 0; i < threads; i++)
            w[i] = (struct worker){.kind = kind, .rl = &rl, .t = t, .id = i};
        ns[rep] = bench_threads(threads, work, w, sizeof *w) * 1e9 / OPS;
        long go = 0;
        for (int i = 0; i < threads; i++)
            go += w[i].go;
        *go_pct = 100.0 * (double)go / ((double)OPS * threads);
        herd_ratelimit_fini(&rl);
        herd_ratelimit_table_free(t);
    }
    return bench_median(ns, REPS);
}

int main(void)
{
    static const struct {
        enum kind kind;
        const char *name;
    } kinds[] = {{TAKE_GO, "take, granted"},
                 {TAKE_REFUSED, "take, refused"},
                 {KEYED, "keyed take"},
                 {RESERVE_CANCEL, "reserve+cancel"}};
    for (int i = 0; i < NKEYS; i++)
        snprintf(keys[i], sizeof keys[i], "client-%05d", i);
    printf("token bucket (herd_ratelimit), median of %d x %d ops per thread\n", REPS, OPS);
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        double p1, p2;
        double one = run(kinds[k].kind, 1, &p1);
        double two = run(kinds[k].kind, 2, &p2);
        printf("  %-15s 1 thread %6.1f ns/op (%5.1f%% go)   2 threads %6.1f ns/op (%5.1f%% go)\n",
               kinds[k].name, one, p1, two, p2);
    }
    return 0;
}
