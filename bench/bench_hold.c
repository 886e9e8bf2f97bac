/* bench_hold.c — the classic hold benchmark for the simulator's event queue.
 *
 * Prefill P pending events at exponential increments from time 0, then time "holds":
 * pop the earliest event and push a new one at its time + a fresh increment, so the
 * queue stays at P. Reported: CPU ns per hold (pop + push: two queue operations) and
 * millions of holds per second, median of 5 repetitions, for
 *   - wheel: src/sim/queue.c, the exact hierarchical timing wheel the engine uses;
 *   - heap:  a binary heap of the same 32-byte entries ordered by (time, seq),
 *            written here only as the reference that justifies the choice;
 *   - engine: the same hold run through herd_sim (dispatch + an event function
 *            that reschedules itself), i.e. simulated events per second;
 *   - B/ev:  the wheel's memory (slot arrays' capacity + headers) per pending event.
 * Increments are drawn before timing (a table of 2^20 exponential draws, mean 1 ms),
 * so both structures are timed on queue work alone. A second table repeats P = 10^6
 * with increments rounded to 10 µs (many simultaneous events: a herd's shape).
 *
 * Usage: bench_hold [max_exponent]   (default 7: P up to 10^7, about 0.7 GB, < 60 s)
 * Not a test: it prints figures and always exits 0 unless memory runs out.
 */
#include <herd/error.h>
#include <herd/rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/sim/engine.h"
#include "../src/sim/queue.h"
#include "bench.h"

#define NINC (1u << 20)
#define REPS 5

static int64_t *inc; /* increment table */

static void fill_increments(double mean_ns, int64_t round_to)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 12345);
    for (uint32_t i = 0; i < NINC; i++) {
        int64_t d = llround(herd_rng_exp(&rng, mean_ns));
        if (round_to > 1)
            d = d / round_to * round_to;
        inc[i] = d;
    }
}

/* ---- the timing wheel ------------------------------------------------------------ */

static double wheel_bytes; /* bytes per pending event after the last wheel run */

static double hold_wheel(size_t p, long holds)
{
    struct herd_queue q;
    if (herd_queue_init(&q) < 0)
        return -1;
    uint32_t k = 0;
    for (size_t i = 0; i < p; i++)
        if (herd_queue_push(&q, inc[k++ & (NINC - 1)], 1, NULL, i, NULL) < 0)
            return -1;
    struct herd_queue_entry e;
    double runs[REPS];
    for (int r = -1; r < REPS; r++) { /* r == -1: warm-up */
        double t0 = bench_cpu_s();
        for (long i = 0; i < holds; i++) {
            if (herd_queue_pop(&q, INT64_MAX, &e) < 0)
                return -1;
            if (herd_queue_push(&q, e.time_ns + inc[k++ & (NINC - 1)], 1, NULL, e.arg, NULL) < 0)
                return -1;
        }
        if (r >= 0)
            runs[r] = (bench_cpu_s() - t0) * 1e9 / (double)holds;
    }
    size_t bytes = (size_t)HERD_QUEUE_LEVELS * HERD_QUEUE_SLOTS * sizeof *q.slots;
    for (unsigned i = 0; i < HERD_QUEUE_LEVELS * HERD_QUEUE_SLOTS; i++)
        bytes += (size_t)q.slots[i].cap * sizeof(struct herd_queue_entry);
    wheel_bytes = (double)bytes / (double)p;
    herd_queue_fini(&q);
    return bench_median(runs, REPS);
}

/* ---- the reference binary heap ----------------------------------------------------- */

struct hent {
    int64_t t;
    uint64_t seq;
    void *ctx;
    uint64_t arg;
};

static inline int before(const struct hent *a, const struct hent *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

struct heap {
    struct hent *v;
    size_t n, cap;
    uint64_t seq;
};

static int heap_push(struct heap *h, int64_t t, uint64_t arg)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 1024;
        void *v = realloc(h->v, cap * sizeof *h->v);
        if (!v)
            return -1;
        h->v = v;
        h->cap = cap;
    }
    struct hent x = {t, h->seq++, NULL, arg};
    size_t i = h->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&x, &h->v[parent]))
            break;
        h->v[i] = h->v[parent];
        i = parent;
    }
    h->v[i] = x;
    return 0;
}

static struct hent heap_pop(struct heap *h)
{
    struct hent top = h->v[0];
    struct hent x = h->v[--h->n];
    size_t i = 0, n = h->n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && before(&h->v[c + 1], &h->v[c]))
            c++;
        if (!before(&h->v[c], &x))
            break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (n)
        h->v[i] = x;
    return top;
}

static double hold_heap(size_t p, long holds)
{
    struct heap h = {0};
    uint32_t k = 0;
    for (size_t i = 0; i < p; i++)
        if (heap_push(&h, inc[k++ & (NINC - 1)], i) < 0)
            return -1;
    double runs[REPS];
    for (int r = -1; r < REPS; r++) {
        double t0 = bench_cpu_s();
        for (long i = 0; i < holds; i++) {
            struct hent e = heap_pop(&h);
            heap_push(&h, e.t + inc[k++ & (NINC - 1)], e.arg);
        }
        if (r >= 0)
            runs[r] = (bench_cpu_s() - t0) * 1e9 / (double)holds;
    }
    free(h.v);
    return bench_median(runs, REPS);
}

/* ---- the same hold through the engine: simulated events per second ------------------ */

struct eng {
    uint32_t k;
    long left;
};

static void on_hold(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct eng *g = ctx;
    if (g->left-- <= 0) {
        herd_sim_stop(sim);
        return;
    }
    herd_sim_after(sim, inc[g->k++ & (NINC - 1)], on_hold, g, arg, NULL);
}

static double hold_engine(size_t p, long holds)
{
    struct herd_sim sim;
    if (herd_sim_init(&sim, 1) < 0)
        return -1;
    struct eng g = {0, 0};
    for (size_t i = 0; i < p; i++)
        herd_sim_at(&sim, inc[g.k++ & (NINC - 1)], on_hold, &g, i, NULL);
    double runs[REPS];
    for (int r = -1; r < REPS; r++) {
        g.left = holds;
        uint64_t ev0 = herd_sim_events(&sim);
        double t0 = bench_cpu_s();
        if (herd_sim_run_until(&sim, HERD_SIM_FOREVER) < 0)
            return -1;
        if (r >= 0)
            runs[r] = (bench_cpu_s() - t0) * 1e9 / (double)(herd_sim_events(&sim) - ev0);
    }
    herd_sim_fini(&sim);
    return bench_median(runs, REPS);
}

static void row(const char *label, size_t p, long holds, int with_engine)
{
    double w = hold_wheel(p, holds);
    double h = hold_heap(p, p >= 10000000 ? holds / 2 : holds);
    double e = with_engine ? hold_engine(p, holds) : 0;
    if (w < 0 || h < 0 || e < 0) {
        fprintf(stderr, "bench_hold: out of memory at P = %zu\n", p);
        exit(1);
    }
    printf("%-10s %9zu %8.1f %8.2f %8.1f %8.2f %7.1fx", label, p, w, 1e3 / w, h, 1e3 / h, h / w);
    if (with_engine)
        printf(" %8.1f %8.2f", e, 1e3 / e);
    printf(" %6.1f\n", wheel_bytes);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int max_exp = argc > 1 ? atoi(argv[1]) : 7;
    inc = malloc(NINC * sizeof *inc);
    if (!inc)
        return 1;
    printf("hold benchmark: CPU ns per hold (pop + push) and M holds/s, median of %d\n", REPS);
    printf("%-10s %9s %8s %8s %8s %8s %8s %8s %8s %6s\n", "increments", "pending", "wheel", "M/s",
           "heap", "M/s", "heap/wh", "engine", "Mev/s", "B/ev");
    fill_increments(1e6, 1);
    const size_t ps[] = {1000, 100000, 1000000, 10000000};
    const int exps[] = {3, 5, 6, 7};
    for (int i = 0; i < 4; i++)
        if (exps[i] <= max_exp)
            row("exp 1ms", ps[i], 2000000, 1);
    fill_increments(1e6, 10000);
    if (max_exp >= 6)
        row("exp/10us", 1000000, 2000000, 1);
    fill_increments(1e9, 1);
    if (max_exp >= 6)
        row("exp 1s", 1000000, 2000000, 1);
    free(inc);
    return 0;
}
