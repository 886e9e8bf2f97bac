/* live_int.h — what the live herds share: counting kernel context switches of a
 * set of tasks, waiting for a herd to settle, checking machine limits, spawning
 * threads with signals blocked, and the stop flag. Linux-only.
 */
#ifndef HERD_LIVE_INT_H
#define HERD_LIVE_INT_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "live.h"

/* ---- stop flag ---------------------------------------------------------------- */

/** True once the run's watch said stop: tear down and return -HERD_EINTR. One atomic
 *  load, so any thread may ask anywhere, timed windows included: it never polls the
 *  watch itself (herd__live_progress and herd__live_poll do, on the controlling thread). */
bool herd__live_stopping(void);

/** Between events, on the run's controlling thread (the one in run()): @p events are
 *  done; poll the watch with that count and latch a stop. Call it after the previous
 *  event settled and before the quiet period that precedes the next trigger. @return
 *  herd__live_stopping(). */
bool herd__live_progress(uint64_t events);

/** In a wait that times nothing (setup, drain, teardown), on the controlling thread only:
 *  poll the watch if it was not polled in the last 10 ms, latch a stop. Loops that may
 *  wait long call it at least every 100 ms. @return herd__live_stopping(). */
bool herd__live_poll(void);

/** Run @p spec watched by @p watch (NULL: never stopped): herd_live_backend.run for
 *  callers without a run env (calibrate). */
int herd__live_run_watched(const struct herd_run_spec *spec, const struct herd_watch *watch,
                           struct herd_report *r, char *err, size_t errlen);

/* ---- what a run needs ----------------------------------------------------------- */

struct herd_live_needs {
    int64_t threads;   /* threads this process will add */
    int64_t processes; /* processes it will fork */
    int64_t fds;       /* descriptors open at once, at the peak */
};

/**
 * Compare @p need with the machine (RLIMIT_NOFILE, raising the soft limit to the
 * hard one when that is enough; RLIMIT_NPROC; threads-max; pid_max minus the tasks
 * that already exist; memory for stacks). @p what names the run in the message,
 * e.g. "-n 50000 (accept, threads)". @return 0 or -HERD_ELIMIT with one line.
 */
int herd__live_check_needs(const struct herd_live_needs *need, const char *what, char *err,
                           size_t errlen);

/** /proc/loadavg: the 1-minute load, and the "R/T" field's tasks runnable and tasks that
 *  exist machine-wide. @return 0 or a negated errno (-EPROTO: not understood). machine.c */
int herd__read_loadavg(double *load1, long *runnable, long *tasks);

/** User + system CPU time of this process and its reaped children, ns (getrusage):
 *  the own_ns of a machine sample. machine.c */
int64_t herd__own_cpu_ns(void);

/** The first number in the file at @p path (a /proc/sys knob), or @p dflt. */
long herd__read_long(const char *path, long dflt);

/** net.core.somaxconn: the longest listen backlog the kernel grants. */
static inline int herd__somaxconn(void)
{
    long v = herd__read_long("/proc/sys/net/core/somaxconn", 4096);
    return v > 0 ? (int)v : 128;
}

/* ---- per-task context switches ---------------------------------------------------- */

struct herd_task {
    pid_t pid, tid;
    int fd; /* open /proc/<pid>/task/<tid>/status, read with pread */
};

struct herd_tasks {
    size_t n, cap;
    struct herd_task *t;
};

struct herd_task_sample {
    uint64_t vol, invol; /* voluntary / involuntary context switches */
    char state;          /* 'S', 'R', 'D', ... from State: */
};

void herd__tasks_init(struct herd_tasks *ts);
/** Track task @p tid of process @p pid (tid == pid for a process's main thread). */
int herd__tasks_add(struct herd_tasks *ts, pid_t pid, pid_t tid);
/** Read every task; @p out (ts->n entries) may be NULL. Sums go to *vol, *invol
 *  (either may be NULL); *running gets the count of tasks not sleeping. */
int herd__tasks_read(struct herd_tasks *ts, struct herd_task_sample *out, uint64_t *vol,
                     uint64_t *invol, size_t *running);
void herd__tasks_fini(struct herd_tasks *ts);

/**
 * Wait until the herd has settled: every task asleep and the sum of voluntary
 * switches unchanged between two reads @p poll_ns apart, or @p max_ns passed. When
 * every task is a thread of this process, it first sleeps until the process's switch
 * count (getrusage, minus the caller's) stayed put over two polls, and one /proc read
 * that finds all asleep with that count unmoved across it is enough. The final read
 * goes to @p out (ts->n entries, may be NULL), its sums to *vol and *invol (may be
 * NULL). A drain or setup wait: call it from the run's controlling thread, as it polls the
 * watch (herd__live_poll). @return 0, -HERD_ETIMEDOUT (settled state not reached; all
 * still written) or -HERD_EINTR.
 */
int herd__tasks_quiesce(struct herd_tasks *ts, int64_t poll_ns, int64_t max_ns,
                        struct herd_task_sample *out, uint64_t *vol, uint64_t *invol);

/**
 * Sleep @p ns in naps of HERD_NAP_NS, between a /proc read and a trigger. A read of
 * 1,000 status files keeps this CPU busy in the kernel for ~11 ms, long enough for the
 * other vCPU to be kept awake by housekeeping; the kernel then places a wakee there
 * and the trigger pays for waking a halted vCPU (~50 us here) instead of running the
 * wakee where the waker sleeps (~10 us). Naps let that vCPU go back to sleep without
 * letting this one halt for long (a long halt leaves its caches cold). HERD_COOL_NS is
 * the quiet bench/probe_*.c have before their triggers: the previous event's wake, then
 * two unchanged 1 ms polls of the switch counts.
 */
#define HERD_NAP_NS (1000 * 1000)
#define HERD_COOL_NS (3 * HERD_NAP_NS)
void herd__tasks_cool(int64_t ns);

/* ---- threads ------------------------------------------------------------------ */

/** The calling thread's kernel tid. */
pid_t herd__gettid(void);

/**
 * pthread_create with SIGINT, SIGTERM, SIGHUP and SIGPIPE blocked in the new thread
 * (the front end's handler runs on the main thread) and a small stack (@p stack
 * bytes, 0 for 128 KiB) so thousands of waiters fit. @return 0 or a negated errno.
 */
int herd__thread_spawn(pthread_t *th, void *(*fn)(void *), void *arg, size_t stack);

/* ---- samples ------------------------------------------------------------------- */

/** A growable array of int64 (timestamps, durations) owned by one thread; zero it to
 *  start, free(v) when done. */
struct herd_i64s {
    int64_t *v;
    size_t n, cap;
    uint64_t dropped; /* pushes refused at the cap */
};

/** Append @p x, growing up to @p max entries (past it the value is counted in dropped).
 *  Allocates: never call it between a trigger and the timestamp that ends its latency.
 *  @return 0, or -HERD_ENOMEM (the value is not kept). */
int herd__i64s_push(struct herd_i64s *a, int64_t x, size_t max);

/* ---- time ----------------------------------------------------------------------- */

int64_t herd__now_ns(void);            /* CLOCK_MONOTONIC */
void herd__sleep_ns(int64_t ns);       /* relative, restarts on EINTR unless stopping */

/* ---- the herds ------------------------------------------------------------------ */

struct herd_live_scenario {
    /** What a run of @p spec needs (for the up-front check). */
    void (*needs)(const struct herd_run_spec *spec, struct herd_live_needs *need);
    /**
     * Run @p spec and fill @p r (already initialised). Must clean up everything it
     * started on every path. @return 0, -HERD_EINTR when herd__live_stopping()
     * turned true, or a negative code with one line in @p err.
     */
    int (*run)(const struct herd_run_spec *spec, struct herd_report *r, char *err,
               size_t errlen);
    /** Optional: what the machine must have besides its limits (a server installed), one
     *  line in @p err when it lacks it. @return 0 or -HERD_EINVAL. */
    int (*check)(const struct herd_run_spec *spec, char *err, size_t errlen);
};

/* The herds: src/live/<name>.c for every scenario with the LIVE column (list.h). */
#define HERD__LIVE_DECL(name, NAME, live, sim)                                               \
    HERD__IF_##live(extern const struct herd_live_scenario herd__live_##name;)
HERD_SCENARIO_LIST(HERD__LIVE_DECL)
#undef HERD__LIVE_DECL

#endif
