/* profile.h — what `herd calibrate` measured on this machine, for the simulator.
 *
 * DESIGN §2: live and sim never include each other; calibration passes through a file.
 * `herd calibrate` (live) measures the costs below with real threads, sockets and a
 * real database and writes them as JSON; the sim models read the file and use the
 * figures as their per-wake, per-switch and per-accept costs. Without a file the sim
 * uses herd_profile_defaults(), figures measured on the project's 2-core VM.
 * Thread safety: plain values.
 */
#ifndef HERD_SCENARIO_PROFILE_H
#define HERD_SCENARIO_PROFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Every measured figure, in nanoseconds unless named otherwise: one X-macro so the
 * struct, the JSON keys and the defaults cannot drift apart. X(name, default, doc) */
#define HERD_PROFILE_FIGURES(X)                                                             \
    X(wasted_wake_ns, 9100.0, "CPU per wasted epoll wake (accept herd, naive - exclusive)") \
    X(condvar_wake_ns, 8600.0, "CPU per wasted condvar wake, mutex re-acquire included")    \
    X(ctx_switch_ns, 20000.0, "one thread-to-thread context switch (pipe ping-pong / 2)")    \
    X(mutex_handoff_ns, 25000.0, "a mutex handed from one thread to a sleeping other")       \
    X(accept_ns, 80000.0, "connect() start to accepted descriptor, no herd (p50)")         \
    X(accept_herd_per_waiter_ns, 3800.0, "extra accept latency per woken epoll waiter")     \
    X(condvar_ns, 20000.0, "enqueue to dequeued, one waiter signalled, no herd (p50)")     \
    X(condvar_herd_per_waiter_ns, 1000.0, "extra dequeue latency per waiter a broadcast wakes") \
    X(origin_query_ns, 6000000.0, "one SQLite origin query alone (cache herd default rows)") \
    X(accept_idle_ns, 0.0, "one-wake accept latency added by 10x the idle workers (200->2000)") \
    X(condvar_idle_ns, 0.0, "one-wake dequeue latency added by 10x the idle threads (200->2000)") \
    X(accept_herd_per_waiter_high_ns, 0.0, "the same per woken epoll waiter, at N = 2000 (0: unmeasured)") \
    X(condvar_herd_per_waiter_high_ns, 0.0, "the same per waiter a broadcast wakes, at N = 2000")   \
    X(accept_spread, 0.25, "log-sd of a one-wake accept latency from one event to the next")  \
    X(condvar_spread, 0.35, "log-sd of a one-wake dequeue latency from one item to the next") \
    X(accept_loop_spread, 0.20, "log-sd of the naive accept herd's wake loop, at N = 2000")    \
    X(condvar_loop_spread, 0.10, "log-sd of the broadcast's wake call, at N = 2000")

/* The N at which calibrate measures the one-wake latencies (accept_ns, condvar_ns), and
 * ten times it, where it measures them again (*_idle_ns): herd_profile_one_wake(). */
#define HERD_PROFILE_N 200
#define HERD_PROFILE_N_HIGH 2000

struct herd_profile {
    int cores;
    char kernel[64];
    int64_t measured_at; /* Unix seconds; 0 for the built-in defaults */
#define HERD__PROF_FIELD(name, dflt, doc) double name;
    HERD_PROFILE_FIGURES(HERD__PROF_FIELD)
#undef HERD__PROF_FIELD
};

/** The built-in figures: `herd calibrate` on the project's 2-core Debian 12 VM (kernel
 *  6.18, 2026-11-23, other builds running beside it). */
void herd_profile_defaults(struct herd_profile *p);

/**
 * A one-wake latency measured at HERD_PROFILE_N (@p at_n: accept_ns or condvar_ns) as it
 * is with @p n idle threads: at_n + @p per_decade x log10(n / HERD_PROFILE_N), n clamped
 * to [HERD_PROFILE_N, HERD_PROFILE_N_HIGH] (outside, nothing was measured). Live on this
 * machine, waking one worker among N idle ones grows with log N — epoll-exclusive's p50:
 * 45-60 µs at N = 100-200, 85 at 500, 100 at 1,000, 120-134 at 2,000 — which no other
 * profile figure carries.
 */
double herd_profile_one_wake(double at_n, double per_decade, int64_t n);

/**
 * A herd's cost per woken waiter at N = @p n, from the figures measured at HERD_PROFILE_N
 * (@p at_n) and HERD_PROFILE_N_HIGH (@p at_high; <= 0: not measured, @p at_n is used),
 * in log N between them and clamped outside. Live here the per-waiter figure measured
 * at N = 200 ranged 140-450 ns for condvar across calibrations: a herd of 200 is small
 * beside the one-wake latency it is told apart from, so at N = 1,000 the sim's p50 was
 * up to 2x off; the figure at N = 2,000 is measured on a herd ten times as large.
 */
double herd_profile_per_waiter(double at_n, double at_high, int64_t n);

/** Write @p p as JSON to @p f. @return 0 or a negated errno. */
int herd_profile_write(FILE *f, const struct herd_profile *p);

/**
 * Read the JSON at @p path into @p p (missing keys keep their defaults).
 * @return 0, -ENOENT when there is no file, or another negative code with one line in
 * @p err.
 */
int herd_profile_read(const char *path, struct herd_profile *p, char *err, size_t errlen);

/** $HERD_PROFILE, else $XDG_CONFIG_HOME/herd/profile.json, else ~/.config/herd/profile.json. */
void herd_profile_default_path(char *buf, size_t len);

#endif
