/* bench.h — what the benchmark programs (bench/bench_*.c) share: clock reads, the
 * median of repeated runs, a setup check, and the start line of threaded workloads.
 *
 * A program times its workload REPS times and prints the median (ns/op, events/s, ...).
 * The threaded ones run 1 or 2 workers on one shared object: bench_threads() starts
 * them, releases them together from a barrier and returns the wall time from the
 * release to the last join, so thread creation is never timed. Header-only (static
 * inline), for benchmark programs: a failed setup step exits the program, which a
 * library path never does. Call from the main thread.
 */
#ifndef HERD_BENCH_H
#define HERD_BENCH_H

#include <assert.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_MAX_THREADS 8

/* Seconds on clock @p id: CLOCK_MONOTONIC for wall time, CLOCK_PROCESS_CPUTIME_ID for
 * this process's CPU time. */
static inline double bench_clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Wall-clock seconds (CLOCK_MONOTONIC). */
static inline double bench_now_s(void)
{
    return bench_clock_s(CLOCK_MONOTONIC);
}

/* This process's CPU seconds (CLOCK_PROCESS_CPUTIME_ID). */
static inline double bench_cpu_s(void)
{
    return bench_clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of the @p n figures in @p v (the upper one of the middle two when @p n is
 * even); sorts @p v in place. */
static inline double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return v[n / 2];
}

/* A setup step returned @p rc: unless it is 0, print @p what and exit with status 1. */
static inline void bench_check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "%s\n", what);
        exit(1);
    }
}

struct bench_thread {
    pthread_barrier_t *start; /* the release: every worker and the timing thread */
    void *(*fn)(void *);
    void *arg;
};

static inline void *bench_thread_main(void *p)
{
    struct bench_thread *t = p;
    pthread_barrier_wait(t->start);
    return t->fn(t->arg);
}

/*
 * Run @p fn on @p threads (1..BENCH_MAX_THREADS) threads at once, thread i with the
 * i-th element of @p args (an array of elements of @p size bytes, borrowed; results go
 * back through it). @return wall seconds from the release of the threads to the last
 * join. Exits when a thread cannot start.
 */
static inline double bench_threads(int threads, void *(*fn)(void *), void *args, size_t size)
{
    pthread_barrier_t start;
    pthread_t th[BENCH_MAX_THREADS];
    struct bench_thread bt[BENCH_MAX_THREADS];
    assert(threads >= 1 && threads <= BENCH_MAX_THREADS);
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    for (int i = 0; i < threads; i++) {
        bt[i] = (struct bench_thread){&start, fn, (char *)args + (size_t)i * size};
        int rc = pthread_create(&th[i], NULL, bench_thread_main, &bt[i]);
        if (rc != 0) {
            fprintf(stderr, "cannot start a benchmark thread: %s\n", strerror(rc));
            exit(1);
        }
    }
    pthread_barrier_wait(&start);
    double t0 = bench_now_s();
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    double wall = bench_now_s() - t0;
    pthread_barrier_destroy(&start);
    return wall;
}

#endif
