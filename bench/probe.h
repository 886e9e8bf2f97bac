/* probe.h — what the minimal herd probes (bench/probe_*.c) share: flags, the clock,
 * percentiles, the settle rule and the output.
 *
 * A probe is the reference herd's live measurements are checked against: it only takes
 * timestamps (trigger, and the useful waiter when it holds the result) and does nothing
 * else between the two. Nothing reads /proc. Between events it waits for the herd to
 * settle by the rule below, which costs the herd nothing and the machine two
 * getrusage() calls per millisecond, all of it outside the timed window.
 *
 * Settle rule: sleep 1 ms at a time (never spin: 2 CPUs are shared with the herd) until
 * the probe's own "done" test holds and the waiters' context switches (the process's
 * voluntary + involuntary switches minus the calling thread's, from getrusage) did not
 * move over two polls in a row. A waiter the kernel woke but that has not yet gone back
 * to sleep moves that sum within a millisecond on an otherwise idle pair of CPUs, so
 * 2 ms of silence is the settled state without reading 1,000 /proc files.
 *
 * Header-only (static inline), for benchmark programs: a failed setup step exits the
 * program. Call from the main thread.
 */
#ifndef HERD_PROBE_H
#define HERD_PROBE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define PROBE_NAIVE 1
#define PROBE_MITIGATED 2
#define PROBE_POLL_NS (1000 * 1000)
#define PROBE_QUIET_POLLS 2
#define PROBE_SETTLE_MAX_NS (INT64_C(5) * 1000 * 1000 * 1000)

struct probe_opts {
    int n;      /* waiters */
    int events; /* events per mode */
    int modes;  /* PROBE_NAIVE | PROBE_MITIGATED */
    bool json;  /* also print one JSON line */
};

/* One mode's figures, in ns. */
struct probe_result {
    const char *strategy;
    int64_t p50, p99, max;
    size_t samples;
    unsigned settle_timeouts;
};

static inline int64_t probe_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void probe_sleep_ns(int64_t ns)
{
    struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static inline void probe_usage(const char *prog, const char *naive, const char *mitigated)
{
    fprintf(stderr,
            "usage: %s [-n N] [--events E] [--mode naive|mitigated|both] [--json]\n"
            "  naive is %s, mitigated is %s; defaults: -n 1000 --events 200 --mode both\n",
            prog, naive, mitigated);
}

static inline void probe_parse(int argc, char **argv, struct probe_opts *o, const char *naive,
                               const char *mitigated)
{
    *o = (struct probe_opts){.n = 1000, .events = 200, .modes = PROBE_NAIVE | PROBE_MITIGATED};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            probe_usage(argv[0], naive, mitigated);
            exit(0);
        }
        if (!v)
            goto bad;
        i++;
        if (strcmp(a, "-n") == 0) {
            o->n = atoi(v);
        } else if (strcmp(a, "-e") == 0 || strcmp(a, "--events") == 0) {
            o->events = atoi(v);
        } else if (strcmp(a, "-m") == 0 || strcmp(a, "--mode") == 0) {
            if (strcmp(v, "naive") == 0)
                o->modes = PROBE_NAIVE;
            else if (strcmp(v, "mitigated") == 0)
                o->modes = PROBE_MITIGATED;
            else if (strcmp(v, "both") == 0)
                o->modes = PROBE_NAIVE | PROBE_MITIGATED;
            else
                goto bad;
        } else {
            goto bad;
        }
    }
    if (o->n >= 1 && o->n <= 100000 && o->events >= 1 && o->events <= 100000)
        return;
bad:
    probe_usage(argv[0], naive, mitigated);
    exit(2);
}

/* Context switches of every thread of this process but the caller. */
static inline uint64_t probe_others_switches(void)
{
    struct rusage all, me;
    getrusage(RUSAGE_SELF, &all);
    getrusage(RUSAGE_THREAD, &me);
    return (uint64_t)(all.ru_nvcsw + all.ru_nivcsw) - (uint64_t)(me.ru_nvcsw + me.ru_nivcsw);
}

/* The settle rule above. @p done may be NULL. @return 0, or -1 when 5 s passed first
 * (the caller counts it and goes on). */
static inline int probe_settle(bool (*done)(void *), void *arg)
{
    int64_t deadline = probe_now_ns() + PROBE_SETTLE_MAX_NS;
    uint64_t prev = UINT64_MAX; /* the first read comes after a sleep, never next to the
                                 * trigger */
    int quiet = 0;
    for (;;) {
        probe_sleep_ns(PROBE_POLL_NS);
        uint64_t cur = probe_others_switches();
        quiet = cur == prev ? quiet + 1 : 0;
        prev = cur;
        if (quiet >= PROBE_QUIET_POLLS && (!done || done(arg)))
            return 0;
        if (probe_now_ns() > deadline)
            return -1;
    }
}

static inline int probe_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentiles of the @p n latencies in @p v (sorted in place). */
static inline void probe_summarise(int64_t *v, size_t n, struct probe_result *r)
{
    qsort(v, n, sizeof *v, probe_cmp_i64);
    r->samples = n;
    if (n == 0)
        return;
    size_t i50 = (n * 50 + 99) / 100, i99 = (n * 99 + 99) / 100;
    r->p50 = v[(i50 ? i50 : 1) - 1];
    r->p99 = v[(i99 ? i99 : 1) - 1];
    r->max = v[n - 1];
}

/* The table, and with --json one line:
 * {"probe":..,"n":..,"events":..,"naive":{..},"mitigated":{..},"ratio_p50":..} */
static inline void probe_print(const char *probe, const struct probe_opts *o,
                               const struct probe_result *naive,
                               const struct probe_result *mitigated)
{
    const struct probe_result *rs[2] = {o->modes & PROBE_NAIVE ? naive : NULL,
                                        o->modes & PROBE_MITIGATED ? mitigated : NULL};
    const char *names[2] = {"naive", "mitigated"};
    printf("probe_%s  n=%d  events=%d\n", probe, o->n, o->events);
    printf("  %-10s %-16s %10s %10s %10s %8s %8s\n", "mode", "strategy", "p50_us", "p99_us",
           "max_us", "samples", "unsettled");
    for (int i = 0; i < 2; i++) {
        if (!rs[i])
            continue;
        printf("  %-10s %-16s %10.1f %10.1f %10.1f %8zu %8u\n", names[i], rs[i]->strategy,
               rs[i]->p50 / 1e3, rs[i]->p99 / 1e3, rs[i]->max / 1e3, rs[i]->samples,
               rs[i]->settle_timeouts);
    }
    double ratio = rs[0] && rs[1] && rs[1]->p50 > 0 ? (double)rs[0]->p50 / (double)rs[1]->p50 : 0;
    if (ratio > 0)
        printf("  naive/mitigated p50: %.2fx\n", ratio);
    if (!o->json)
        return;
    printf("{\"probe\":\"%s\",\"n\":%d,\"events\":%d", probe, o->n, o->events);
    for (int i = 0; i < 2; i++) {
        if (!rs[i])
            continue;
        printf(",\"%s\":{\"strategy\":\"%s\",\"p50_ns\":%lld,\"p99_ns\":%lld,\"max_ns\":%lld,"
               "\"samples\":%zu,\"settle_timeouts\":%u}",
               names[i], rs[i]->strategy, (long long)rs[i]->p50, (long long)rs[i]->p99,
               (long long)rs[i]->max, rs[i]->samples, rs[i]->settle_timeouts);
    }
    if (ratio > 0)
        printf(",\"ratio_p50\":%.3f", ratio);
    printf("}\n");
}

#endif
