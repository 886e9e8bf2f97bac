/* machine.h — how noisy the machine was around a live run, and whether to trust it:
 * the figures a report carries (the sampling itself, Linux-only, is src/live/machine.c).
 *
 * A live figure measured while another process keeps the CPUs busy measures that
 * process's time slices, not the herd (DESIGN §1: live figures carry the machine's noise
 * measured during the run). herd_machine_begin() samples the machine once before a run,
 * herd_machine_end() once after it, and the difference says how much of all CPUs' time
 * other processes used, how much the hypervisor stole, how loaded the machine was, and
 * how often herd itself was preempted. A verdict, trusted or not, comes with one-line
 * reasons; the caller may add its own (herd_machine_warn). A window marked advisory (a
 * simulated run, whose figures do not depend on this machine) keeps its figures for the
 * record, to explain the wall time, and judges nothing: no reasons, always trusted.
 *
 * Sources (all Linux):
 *   - all CPUs' time: the "cpu" line of /proc/stat, in USER_HZ ticks (10 ms here);
 *   - herd's own CPU time: getrusage(RUSAGE_SELF) + getrusage(RUSAGE_CHILDREN), user +
 *     system, in microseconds. The kernel derives these from the scheduler's nanosecond
 *     runtime, so they are finer than /proc/self/stat's utime+stime+cutime+cstime
 *     (whole ticks); RUSAGE_SELF covers every thread, also the exited ones;
 *   - load average and runnable tasks: /proc/loadavg; switches: the same getrusage.
 *
 * Invariants and limits:
 *   - A child process's CPU counts as "others" until it is reaped: RUSAGE_CHILDREN only
 *     grows at waitpid(). Reap worker processes before herd_machine_end() so they count
 *     as herd's own. A child reaped inside the window adds its whole life's CPU, also
 *     what it used before herd_machine_begin(), which can only lower others' share.
 *   - Interrupt and softirq time is not charged to any process: when the kernel accounts
 *     it apart (CONFIG_IRQ_TIME_ACCOUNTING), the softirq work of herd's own loopback
 *     traffic counts as others'. That errs towards "untrusted", never the other way.
 *   - Steal is not others' use of this machine: it is reported apart, so others' share
 *     is user + nice + system + irq + softirq - herd's own, over all ticks. (The tests'
 *     tests/machine_load.h counted steal as others'.)
 *   - /proc/stat counts whole ticks per CPU: a window of 100 ms on 2 CPUs holds 20
 *     ticks, so each share is good to about 1/ticks (field ticks). Windows much shorter
 *     than that are judged on a handful of ticks.
 *
 * Cost: begin and end each read /proc/stat (the first 1 KiB) and /proc/loadavg and call
 * getrusage twice, clock_gettime and sysconf: tens of microseconds, with system calls
 * and file reads. Call them OUTSIDE any timed path: begin before the run's first
 * trigger, end after its last measurement, never between events.
 * Thread safety: a struct herd_machine is one caller's state; the functions keep no
 * global state. getrusage(RUSAGE_SELF) covers the whole process, so two windows open at
 * once in one process see each other's CPU as herd's own (which is what they are).
 */
#ifndef HERD_REPORT_MACHINE_H
#define HERD_REPORT_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Others' share above which a live figure is not trusted: the threshold the live and
 * calibration tests already use (tests/machine_load.h), where a latency shortfall was
 * tracked down to another engineer's build on the shared 2-core machine. */
#define HERD_MACHINE_OTHERS_MAX 0.20
/* Steal share above which a live figure is not trusted. This VM showed 4 ticks of steal
 * in its first 10 minutes (< 0.01 %). At 5 % the host ran someone else on our vCPUs for
 * one slice in twenty: a wake-up that falls in such a slice waits for the host, not for
 * the herd, and the tail percentiles measure the host. A guess, not a measured knee:
 * lower it if tails move at smaller steal. */
#define HERD_MACHINE_STEAL_MAX 0.05

#define HERD_MACHINE_NWARN 4      /* warnings kept; later distinct ones are counted only */
#define HERD_MACHINE_WARN_LEN 320 /* bytes per warning, NUL included; longer ones are cut */

/* One end of the window: raw counters. Filled by begin/end; read by nothing else. */
struct herd_machine_sample {
    uint64_t total;  /* /proc/stat "cpu": user+nice+system+idle+iowait+irq+softirq+steal,
                        USER_HZ ticks summed over all CPUs */
    uint64_t idle;   /* idle ticks */
    uint64_t iowait; /* iowait ticks (idle with I/O outstanding) */
    uint64_t steal;  /* ticks the hypervisor ran someone else on our vCPUs */
    int64_t own_ns;  /* herd's CPU: RUSAGE_SELF + RUSAGE_CHILDREN user + system, ns */
    uint64_t vol;    /* ru_nvcsw, self + reaped children */
    uint64_t invol;  /* ru_nivcsw, self + reaped children */
    double load1;    /* /proc/loadavg first field; -1 when unreadable */
    int runnable;    /* /proc/loadavg "R/T" R: tasks running or runnable machine-wide,
                        the reading thread included; -1 when unreadable */
    int64_t mono_ns; /* CLOCK_MONOTONIC */
    bool stat_ok;    /* /proc/stat was read and parsed */
};

/* The machine around one window, or several merged (herd_machine_merge). Shares are
 * fractions in [0, 1] of all online CPUs' time over the window (0.63 = 63 %). */
struct herd_machine {
    struct herd_machine_sample start; /* taken by herd_machine_begin */
    double others_cpu;     /* share of all CPUs' time used by processes other than herd */
    double own_cpu;        /* share used by herd: its threads and its reaped children */
    double steal;          /* share stolen by the hypervisor */
    double iowait;         /* share idle while waiting for I/O */
    double load1_start;    /* 1-minute load average at begin; -1 unknown */
    double load1_end;      /* 1-minute load average at end; -1 unknown */
    int runnable_start;    /* runnable tasks machine-wide at begin (caller included); -1 */
    int runnable_end;      /* the same at end; -1 unknown */
    uint64_t invol;        /* herd's involuntary context switches in the window (preempted) */
    uint64_t vol;          /* herd's voluntary context switches in the window (blocked) */
    int cpus;              /* online CPUs (sysconf _SC_NPROCESSORS_ONLN) at end */
    int64_t wall_ns;       /* wall time of the window, ns (summed over merged windows) */
    uint64_t ticks;        /* /proc/stat ticks over all CPUs in the window (resolution) */
    int windows;           /* windows measured into this: 0 after init, 1 after end */
    bool advisory;         /* the caller's, set between begin and end: the run's figures do
                              not depend on this machine (the simulator), so the window's
                              figures are kept for the record and judge nothing; a merge is
                              advisory when every window in it is */
    bool trusted;          /* no warning (derived: nwarnings == 0): the figures of the run
                              can be taken as measured; always so when advisory */
    int nwarnings;         /* warnings[0 .. nwarnings - 1] are set */
    int ndropped;          /* distinct warnings that did not fit in warnings[] */
    unsigned verdict_mask; /* bit i: warnings[i] is the sampler's own reason, derived from
                              the figures (others, steal) and re-derived by a merge */
    char warnings[HERD_MACHINE_NWARN][HERD_MACHINE_WARN_LEN]; /* one line each, no '\n';
                              the sampler's reasons first, then the caller's in order */
};

/** An empty, trusted figure with no window: the starting point of herd_machine_merge. */
void herd_machine_init(struct herd_machine *m);

/**
 * Add the caller's own reason not to trust the run, printf-style, e.g. "the load
 * generator fell behind: 37 of 100 requesters reacted". Marks @p m untrusted. A reason
 * already present is not added twice; past HERD_MACHINE_NWARN only ndropped grows.
 * Text longer than HERD_MACHINE_WARN_LEN - 1 bytes is cut; a '\n' becomes a space.
 * An advisory @p m takes no reason (nothing is held against its run).
 */
void herd_machine_warn(struct herd_machine *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * Fold window @p w into @p into (repeated runs, merged in run order): the largest of
 * each share, switches, wall time and ticks summed, load and runnable at start from the
 * first window and at end from the last, untrusted if any is, warnings deduplicated.
 * The sampler's own reasons are re-derived from the merged (worst) shares, "... in the
 * worst of 5 runs", so five busy runs give one line, not five differing ones.
 * @p into must come from herd_machine_init or an earlier end/merge.
 */
void herd_machine_merge(struct herd_machine *into, const struct herd_machine *w);

/** The first reason not to trust @p m, or "" when it is trusted. Borrowed from @p m. */
const char *herd_machine_reason(const struct herd_machine *m);

/**
 * One line for a text report, e.g. "others 3 % of 2 CPUs, steal 0.0 %, iowait 0.1 %,
 * load 0.21 -> 0.40, herd preempted 12 times over 1.20 s: trusted" (or "untrusted: "
 * and the first reason). Always NUL-terminates @p buf (@p len > 0).
 * @return the length the whole line needs, as snprintf.
 */
int herd_machine_format(const struct herd_machine *m, char *buf, size_t len);

/** Re-derive the verdict of @p m from its figures (the sampler's own reasons first, the
 *  callers' kept; none at all when advisory): what herd_machine_end and
 *  herd_machine_merge call. */
void herd_machine_verdict(struct herd_machine *m);

/** @p m as a jansson object (json_t *, as void *): the report's "machine". */
void *herd_machine_to_json(const struct herd_machine *m);

#endif
