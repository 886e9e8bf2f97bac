/* tcpsrv.h — herd's own small loopback TCP server: the resource a herd of clients hits.
 *
 * Shape: one acceptor thread takes connections off the listening socket as soon as
 * they arrive (so a backlog shows up in OUR queue, where it is measured, rather than
 * in the kernel's accept queue, where it is not) and queues them; a FIXED pool of
 * workers dequeues, reads one request, does real CPU work for about work_ns (a hash
 * loop calibrated once at start against the thread's CPU clock — never a sleep),
 * writes one reply and closes. That is a thread-pool server with a bounded pool, the
 * kind a cron herd overwhelms.
 *
 * What it measures, all under one mutex so every figure is consistent:
 *   - in flight = accepted and not yet replied to (queued ones included); its peak;
 *   - queue depth = accepted and not yet picked up by a worker (so it includes the
 *     microseconds of hand-off to an idle worker: a depth of 1 with all workers free
 *     is normal); its peak;
 *   - the kernel's accept queue, sampled just before each drain (it stays near 0
 *     because the acceptor is raised to SCHED_FIFO when allowed: on this machine
 *     hundreds of runnable client threads would otherwise starve it and hide the
 *     backlog in the kernel);
 *   - per request: arrival, start and done times (CLOCK_MONOTONIC), the worker, the
 *     event tag current at arrival, and whether it found a free worker on arrival;
 *   - per worker: requests served; the CPU time the work really took.
 *
 * Protocol (host byte order, loopback only): a client sends one struct
 * herd_tcpsrv_msg (magic HERD_TCPSRV_REQ, .a = client id, .b = event, .c = seed) and
 * receives one (magic HERD_TCPSRV_REP, .a = worker, .b = 1 if the request queued,
 * .c = checksum of the work). The server closes first; a client that closes with
 * SO_LINGER 0 after reading leaves no TIME_WAIT socket on either side.
 *
 * Cost: two mutex sections and three clock reads per request, plus the work.
 * Thread safety: start/stop/free from one thread; the query functions may be called
 * from any thread while it runs. Records are complete after stop, or, up to the count
 * herd__tcpsrv_records() gives, after herd__tcpsrv_wait_idle() returned 0; read them in
 * place only then. While requests may be in flight, copy them with
 * herd__tcpsrv_records_copy() (a record is final once its t_done is set).
 */
#ifndef HERD_LIVE_TCPSRV_H
#define HERD_LIVE_TCPSRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HERD_TCPSRV_REQ 0x51445248u /* "HRDQ" */
#define HERD_TCPSRV_REP 0x52445248u /* "HRDR" */

struct herd_tcpsrv_msg {
    uint32_t magic, a, b, c;
};

struct herd_tcpsrv_cfg {
    int workers;           /* fixed pool size, >= 1 */
    int64_t work_ns;       /* CPU work per request */
    int backlog;           /* listen() backlog (clamped by net.core.somaxconn) */
    size_t queue_cap;      /* most connections queued at once; more are closed */
    size_t max_records;    /* per-request records kept for the timeline; more are counted */
    int64_t io_timeout_ns; /* a worker's read of a request / write of a reply */
};

/** One request as the backend saw it. Times are CLOCK_MONOTONIC ns; 0 = not reached. */
struct herd_tcpsrv_rec {
    int64_t t_arrive; /* accepted by the acceptor and queued */
    int64_t t_start;  /* picked up by a worker */
    int64_t t_done;   /* reply written (or failed) and the connection closed */
    int32_t worker;   /* -1 until picked up */
    int32_t event;    /* herd__tcpsrv_mark()'s tag when it arrived */
    uint32_t client;  /* the request's client id (.a), once read */
    bool queued;      /* no free worker when it arrived: it waited behind others */
    bool worked;      /* a full request was read and its work done (reply or not) */
    bool ok;          /* a full request was read and a full reply written */
};

/** Figures since the last herd__tcpsrv_mark(). */
struct herd_tcpsrv_stats {
    uint64_t arrivals;                   /* connections accepted */
    uint64_t queued_arrivals;            /* of which found no free worker */
    uint64_t served, failed;             /* replies written / connections dropped in error */
    uint64_t rejected;                   /* closed because the queue was full */
    int64_t peak_inflight;               /* most accepted-and-not-replied at once */
    int64_t peak_queue;                  /* most accepted-and-not-picked-up at once */
    int64_t peak_kernel_backlog;         /* longest kernel accept queue seen before a drain */
    int64_t inflight;                    /* right now */
    int64_t first_arrival, last_arrival; /* CLOCK_MONOTONIC ns, 0 if none */
};

struct herd_tcpsrv;

/**
 * Calibrate the work, bind 127.0.0.1 port 0, start the acceptor and the workers.
 * @return 0 with *out set, or a negative code with one line in @p err (nothing is
 * left running or open).
 */
int herd__tcpsrv_start(struct herd_tcpsrv **out, const struct herd_tcpsrv_cfg *cfg, char *err,
                        size_t errlen);

/** The port it listens on (host byte order). */
uint16_t herd__tcpsrv_port(const struct herd_tcpsrv *b);

/** Start a new measurement window tagged @p event: resets the herd_tcpsrv_stats
 *  counters; the peaks restart from the current levels. */
void herd__tcpsrv_mark(struct herd_tcpsrv *b, int32_t event);

/** The figures since the last mark. */
void herd__tcpsrv_stats(struct herd_tcpsrv *b, struct herd_tcpsrv_stats *out);

/**
 * Wait until nothing is in flight, polling every @p poll_ns, at most @p max_ns. A drain
 * wait: call it from the run's controlling thread, as it polls the run's watch.
 * @return 0, -HERD_ETIMEDOUT, or -HERD_EINTR when the run is stopping.
 */
int herd__tcpsrv_wait_idle(struct herd_tcpsrv *b, int64_t poll_ns, int64_t max_ns);

/** Stop accepting, wake and join every thread, close every descriptor (queued
 *  connections are closed unserved). Idempotent. Records stay readable. */
void herd__tcpsrv_stop(struct herd_tcpsrv *b);

/** The records (complete after stop): *n of them; *dropped more were not kept. */
const struct herd_tcpsrv_rec *herd__tcpsrv_records(struct herd_tcpsrv *b, size_t *n,
                                                     uint64_t *dropped);

/** Copy up to @p max records from index @p from on into @p out under the lock, so while
 *  the workers may still be writing them. @return how many were copied (0: none from
 *  there yet). */
size_t herd__tcpsrv_records_copy(struct herd_tcpsrv *b, size_t from, struct herd_tcpsrv_rec *out,
                                 size_t max);

/** Requests served by each worker since start (@p out holds cfg->workers entries). */
void herd__tcpsrv_per_worker(struct herd_tcpsrv *b, uint64_t *out);

/** Mean CPU time the work of one served request took, in ns (0 before any). */
double herd__tcpsrv_work_ns_measured(struct herd_tcpsrv *b);

/** How the acceptor thread was raised: 2 SCHED_FIFO, 1 nice −10, 0 not at all. */
int herd__tcpsrv_acceptor_boost(struct herd_tcpsrv *b);

/** Hash-loop iterations per microsecond of CPU found by the calibration. */
double herd__tcpsrv_iters_per_us(const struct herd_tcpsrv *b);

/** Stop (if running) and free. @p b may be NULL. */
void herd__tcpsrv_free(struct herd_tcpsrv *b);

#endif
