/* accept.c — the accept herd, live: N workers wait for connections on one listening
 * socket on 127.0.0.1 and the driver (the calling thread) connects.
 *
 * Strategies (enum herd_accept_strategy, scenario/accept.h):
 *   epoll            naive: every worker has its own epoll instance watching the shared
 *                    non-blocking listener, level-triggered, without EPOLLEXCLUSIVE, and
 *                    calls accept4() once per readiness (EAGAIN when it lost the race).
 *   epoll-exclusive  the same with EPOLLIN | EPOLLEXCLUSIVE.
 *   reuseport        a listener per worker with SO_REUSEPORT on one port; each worker's
 *                    epoll watches only its own listener.
 *   blocking-accept  workers sleep in accept() on the shared blocking listener.
 * Workers are threads (workers=thread) or forked processes (workers=process).
 *
 * What is measured, and how (DESIGN §4):
 *   outcomes     per worker per event, from the kernel's count: its voluntary context
 *                switches, read from /proc/<pid>/task/<tid>/status once the herd went
 *                quiet after the previous event (or the start) and once after this one.
 *                A woken waiter that finds nothing sleeps again inside epoll_wait without
 *                returning to user space, so this is the only honest count. A worker that
 *                accepted is useful (one per connection); one whose switches moved without
 *                an accept is wasted; the rest idle. wakes = useful + wasted. The raw
 *                switch sum (the accepting worker's own sleeps on the socket lock
 *                included) is the extra kernel_switches. The driver is not in the task set.
 *   useful       connections accepted.
 *   origin_load  accept() calls, successful and EAGAIN alike.
 *   peak         workers whose voluntary switch count moved during the event, i.e.
 *                how many distinct workers the event woke. (The largest number runnable
 *                at once cannot be sampled faithfully from /proc on 2 CPUs.)
 *   latency      connect() start (driver, CLOCK_MONOTONIC) to the moment a worker holds
 *                the accepted descriptor (worker, right after accept returns). The two
 *                are matched by the client's port: the driver reads it with
 *                getsockname(), the worker gets it from accept's peer address.
 *   extras       user_returns (epoll_wait/accept returns to user space), eagain,
 *                involuntary_switches, settle_timeouts, listen_backlog, connect_errors,
 *                accept_errors, unmatched_accepts, connect_p50_ns / connect_max_ns (how
 *                long the driver's connect() itself took).
 * Why naive latency is milliseconds (traced with perf sched events on this 2-CPU VM):
 * the handshake's last ACK is processed in the connecting thread's softirq, and
 * tcp_child_process() calls the listener's sk_data_ready() -- the wake-up of all N
 * epoll waiters, ~3.5 µs each here -- while it still holds the new connection's socket
 * lock. The first woken worker runs on the other CPU within microseconds, sees the
 * listener readable and accept4() dequeues the connection, but then spins on that lock
 * in lock_sock() until the whole wake loop is over. So the accept waits for the herd
 * (≈ N × 3.5 µs), and connect() itself takes as long: extra connect_p50_ns.
 * pattern=serial makes one connection per event and lets the herd settle before the
 * next; pattern=burst makes all E connections back to back and records the burst as
 * one event (its wakes cannot be split between connections honestly).
 *
 * Invariants: counters, timestamps and the accept log live in one anonymous MAP_SHARED
 * region so that threads and forked children write them the same way; each worker
 * writes only its own slot; log entries are reserved with an atomic add and published
 * with a release store of their `valid` byte. Teardown never waits forever: an eventfd
 * in every epoll (never read, so it stays readable) wakes every epoll waiter, and
 * shutdown(SHUT_RDWR) of the shared listener wakes blocking accept() with EINVAL.
 *
 * Timing must not disturb the herd (bench/probe_accept.c is the reference: two
 * timestamps, nothing else). Between connect() and the accept the driver only sleeps
 * (1 ms naps: a shorter timer preempts the worker on the driver's CPU); the /proc read
 * runs once the herd settled, followed by one warm-up connection to a listener of the
 * driver's own (warm_up) and 3 ms of naps (herd__tasks_cool) before the trigger.
 * Read right before connect(), the sweep made epoll-exclusive's p50 110-150 us where
 * the probe measures 45-60: it evicts the TCP path from the driver's caches.
 *
 * Cost: one thread (128 KiB stack) or process per worker, plus the warm-up's partner
 * thread and listener; one epoll, one /proc status descriptor and (reuseport) one
 * listener each. Reading 1,000 status files takes ~11 ms
 * on the 2-vCPU VM, done about once per event; the herd itself costs ~10 µs of CPU per
 * wasted wake on this machine, so a naive event at N = 1000 takes ~10-20 ms of both CPUs.
 * Thread safety: one run at a time (the live backend's rule).
 */
#include "live_int.h"

#include <errno.h>
#include <herd/error.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define POLL_NS (1000 * 1000) /* quiescence poll, as the brief asks: ~1 ms */
/* The driver's wait for the accept to be logged: naps, as a shorter timer would wake the
 * driver while the accepting worker runs on its CPU and preempt it. */
#define ACCEPT_POLL_NS HERD_NAP_NS
#define STARTUP_MAX_NS (INT64_C(20) * 1000 * 1000 * 1000)
#define REAP_MAX_NS (INT64_C(2) * 1000 * 1000 * 1000)
#define CONNECT_TIMEOUT_MS 1000 /* SYN dropped on a full backlog: give up, count */
#define EV_LISTEN 1u
#define EV_STOP 2u

/* One worker's counters: written by that worker only (relaxed atomics, its own cache
 * line so 1,000 workers do not false-share), read by the driver once the herd is quiet. */
struct wslot {
    _Alignas(64) _Atomic uint64_t accepted; /* connections this worker accepted */
    _Atomic uint64_t accept_calls;          /* accept()/accept4() calls, any result */
    _Atomic uint64_t eagain;                /* accept4 that found the queue empty */
    _Atomic uint64_t user_returns;          /* epoll_wait or accept returns to user space */
    _Atomic uint64_t errors;                /* other accept failures */
    _Atomic int32_t tid;                    /* kernel tid (pid for a process) */
    _Atomic int32_t setup_err;              /* negated errno when setup failed */
};

/* One accepted connection as the worker saw it. */
struct acc_log {
    int64_t ts; /* CLOCK_MONOTONIC right after accept returned */
    int32_t worker;
    uint16_t port; /* the client's port (accept's peer address) */
    _Atomic uint8_t valid;
};

/* The shared region's head; slots and log follow it. */
struct shared {
    _Alignas(64) _Atomic int stop;
    _Atomic int ready;  /* workers set up and about to wait */
    _Atomic int failed; /* workers whose setup failed */
    _Atomic uint64_t nlog;
    uint64_t log_cap;
};

/* How workers wait under a strategy: decided by the one switch in wait_mode_of(). */
struct wait_mode {
    bool blocking;        /* sleep in accept() on the shared blocking listener */
    bool own_listener;    /* a SO_REUSEPORT listener per worker */
    uint32_t epoll_flags; /* added to EPOLLIN on the listener (EPOLLEXCLUSIVE) */
};

struct worker_arg {
    struct shared *sh;
    struct wslot *slot;
    struct acc_log *log;
    int idx;
    struct wait_mode mode;
    int lfd;  /* shared listener (-1 for reuseport) */
    int efd;  /* teardown eventfd */
    int port; /* reuseport: the port to bind (host order) */
    int backlog;
};

/* Everything a run owns, so one cleanup path releases it. */
struct run {
    const struct herd_run_spec *spec;
    struct wait_mode mode;
    bool procs, burst;
    int n;
    int64_t events; /* connections the driver makes */
    int64_t settle_ns;
    int backlog;

    void *map;
    size_t map_len;
    struct shared *sh;
    struct wslot *slots;
    struct acc_log *log;

    int lfd, rfd, efd; /* shared listener, reuseport port reservation, teardown eventfd */
    int port;
    int wfd, warm_port; /* warm_up()'s own listener; wfd is -1 until made (see alloc_all) */
    pthread_t warm_th;  /* warm_partner, joined by teardown when warm_made */
    bool warm_made;

    struct worker_arg *args;
    pthread_t *threads;
    pid_t *pids;
    int started; /* threads/processes started, for teardown */

    struct herd_tasks tasks;
    struct herd_task_sample *s_prev, *s_cur;

    int64_t *conn_start; /* connect() start of every connection, ns */
    int *conn_fd;        /* burst: the open client sockets */
    int32_t *port_conn;  /* client port -> connection index, -1 when none */
    int64_t *ev_first;   /* first connection of each event, for the timeline */
    uint64_t *ev_wakes; /* reactions (useful + wasted) of each event, for the timeline */
    uint64_t *acc_prev; /* each worker's accepted count after the previous event */
    int64_t nev;
    struct herd_hist *connect_hist; /* how long connect() itself took */

    /* run-wide figures for extras */
    uint64_t invol, settle_timeouts, connect_errors, unmatched;
    uint64_t kernel_switches;          /* the workers' voluntary switches during events */
    uint64_t consumed;                 /* log entries the driver has matched */
    uint64_t vol_settled, inv_settled; /* workers' switch sums at the last settled read */
};

/* ---- the worker ---------------------------------------------------------------- */

static void bump(_Atomic uint64_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static void log_accept(struct worker_arg *a, const struct sockaddr_in *peer, int64_t ts)
{
    uint64_t i = atomic_fetch_add_explicit(&a->sh->nlog, 1, memory_order_relaxed);
    bump(&a->slot->accepted);
    if (i >= a->sh->log_cap)
        return; /* someone else connected to our port: counted, not timed */
    struct acc_log *e = &a->log[i];
    e->ts = ts;
    e->worker = a->idx;
    e->port = ntohs(peer->sin_port);
    atomic_store_explicit(&e->valid, 1, memory_order_release);
}

/* Accept once on @p fd; @return false when the worker should stop. */
static bool accept_once(struct worker_arg *a, int fd, bool blocking)
{
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    int c = blocking ? accept4(fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC)
                     : accept4(fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    int64_t ts = herd__now_ns();
    int e = errno;
    if (blocking)
        bump(&a->slot->user_returns);
    if (atomic_load_explicit(&a->sh->stop, memory_order_acquire)) {
        if (c >= 0)
            close(c);
        return false;
    }
    bump(&a->slot->accept_calls);
    if (c >= 0) {
        log_accept(a, &peer, ts);
        close(c);
        return true;
    }
    if (e == EAGAIN || e == EWOULDBLOCK) {
        bump(&a->slot->eagain);
        return true;
    }
    if (e == EINTR || e == ECONNABORTED || e == EPROTO || e == EPERM || e == ENOBUFS ||
        e == ENOMEM || e == EMFILE || e == ENFILE) {
        bump(&a->slot->errors);
        return true;
    }
    /* EINVAL after shutdown(), EBADF: the listener is gone. */
    return false;
}

static int epoll_setup(struct worker_arg *a, int lfd, uint32_t extra, int *ep_out)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        return -errno;
    /* The eventfd first: if teardown already wrote it, the first wait returns at once. */
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = EV_STOP};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, a->efd, &ev) < 0)
        goto fail;
    ev = (struct epoll_event){.events = EPOLLIN | extra, .data.u32 = EV_LISTEN};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
        goto fail;
    *ep_out = ep;
    return 0;
fail:;
    int rc = -errno;
    close(ep);
    return rc;
}

static int reuseport_listener(const struct worker_arg *a, int *fd_out)
{
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)a->port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, a->backlog) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    *fd_out = fd;
    return 0;
}

static void ready(struct worker_arg *a)
{
    atomic_store_explicit(&a->slot->tid, (int32_t)herd__gettid(), memory_order_relaxed);
    atomic_fetch_add_explicit(&a->sh->ready, 1, memory_order_release);
}

/* Runs in a thread or in a forked child: only system calls and atomics (no malloc, no
 * stdio), so it is safe after fork(). */
static void worker_main(struct worker_arg *a)
{
    int ep = -1, own = -1, rc = 0;
    int lfd = a->lfd;

    if (a->mode.blocking) {
        ready(a);
        while (!atomic_load_explicit(&a->sh->stop, memory_order_acquire))
            if (!accept_once(a, lfd, true))
                break;
        return;
    }
    if (a->mode.own_listener) {
        rc = reuseport_listener(a, &own);
        if (rc < 0)
            goto fail;
        lfd = own;
    }
    rc = epoll_setup(a, lfd, a->mode.epoll_flags, &ep);
    if (rc < 0)
        goto fail;
    ready(a);
    for (;;) {
        struct epoll_event evs[2];
        int k = epoll_wait(ep, evs, 2, -1);
        bump(&a->slot->user_returns);
        if (atomic_load_explicit(&a->sh->stop, memory_order_acquire))
            break;
        if (k < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        bool go = true;
        for (int i = 0; i < k && go; i++) {
            if (evs[i].data.u32 == EV_STOP)
                go = false;
            else
                go = accept_once(a, lfd, false);
        }
        if (!go)
            break;
    }
    close(ep);
    if (own >= 0)
        close(own);
    return;
fail:
    if (own >= 0)
        close(own);
    atomic_store_explicit(&a->slot->setup_err, rc, memory_order_relaxed);
    atomic_fetch_add_explicit(&a->sh->failed, 1, memory_order_release);
}

static void *worker_thread(void *p)
{
    worker_main(p);
    return NULL;
}

/* ---- setup ------------------------------------------------------------------------ */

static struct wait_mode wait_mode_of(enum herd_accept_strategy s)
{
    switch (s) {
    case HERD_ACCEPT_EPOLL:
        return (struct wait_mode){.epoll_flags = 0};
    case HERD_ACCEPT_EPOLL_EXCLUSIVE:
        return (struct wait_mode){.epoll_flags = EPOLLEXCLUSIVE};
    case HERD_ACCEPT_REUSEPORT:
        return (struct wait_mode){.own_listener = true};
    case HERD_ACCEPT_BLOCKING_ACCEPT:
        return (struct wait_mode){.blocking = true};
    }
    return (struct wait_mode){0};
}

static void needs(const struct herd_run_spec *spec, struct herd_live_needs *need)
{
    const struct herd_accept_config *c = &spec->cfg.accept;
    bool procs = c->workers == HERD_ACCEPT_PROCESSES;
    bool burst = c->pattern == HERD_ACCEPT_BURST;
    bool reuse = wait_mode_of(c->strategy).own_listener;
    int64_t n = spec->n;

    need->threads = (procs ? 0 : n) + 1; /* + the warm-up partner */
    need->processes = procs ? n : 0;
    /* In this process: a /proc status fd per worker, and with threads also their epolls
     * and reuseport listeners (children hold theirs in their own tables); burst keeps
     * every client socket open until the burst settles; the warm-up's listener, epoll
     * and connection. */
    need->fds = n + (procs ? 0 : n + (reuse ? n : 0)) + (burst ? spec->events : 1) + 3 + 32;
}

static int make_listeners(struct run *ru, char *err, size_t errlen)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int one = 1;
    int fd;

    if (ru->mode.own_listener) {
        /* Bound, never listening: it reserves the port for the group and takes no
         * connections (only listening sockets join the reuseport group). */
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            goto fail;
        ru->rfd = fd;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
            goto fail;
    } else {
        int fl = ru->mode.blocking ? 0 : SOCK_NONBLOCK;
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | fl, 0);
        if (fd < 0)
            goto fail;
        ru->lfd = fd;
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
        goto fail;
    if (ru->lfd >= 0 && listen(ru->lfd, ru->backlog) < 0)
        goto fail;
    ru->port = ntohs(sa.sin_port);
    return 0;
fail:;
    int rc = -errno;
    snprintf(err, errlen, "accept: cannot set up the listening socket on 127.0.0.1: %s",
             strerror(-rc));
    return rc;
}

static int start_workers(struct run *ru, char *err, size_t errlen)
{
    pid_t parent = getpid();
    for (int i = 0; i < ru->n; i++) {
        struct worker_arg *a = &ru->args[i];
        *a = (struct worker_arg){.sh = ru->sh,
                                 .slot = &ru->slots[i],
                                 .log = ru->log,
                                 .idx = i,
                                 .mode = ru->mode,
                                 .lfd = ru->lfd,
                                 .efd = ru->efd,
                                 .port = ru->port,
                                 .backlog = ru->backlog};
        if (!ru->procs) {
            int rc = herd__thread_spawn(&ru->threads[i], worker_thread, a, 0);
            if (rc < 0) {
                snprintf(err, errlen, "accept: cannot start worker thread %d of %d: %s", i, ru->n,
                         strerror(-rc));
                return rc;
            }
        } else {
            pid_t pid = fork();
            if (pid < 0) {
                int rc = -errno;
                snprintf(err, errlen, "accept: cannot fork worker %d of %d: %s", i, ru->n,
                         strerror(errno));
                return rc;
            }
            if (pid == 0) {
                /* The terminal's SIGINT reaches the whole process group: the parent
                 * tears down; a child only dies with it (PDEATHSIG) or when told. */
                signal(SIGINT, SIG_IGN);
                signal(SIGHUP, SIG_IGN);
                signal(SIGTERM, SIG_IGN);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                    _exit(1);
                worker_main(a);
                _exit(0);
            }
            ru->pids[i] = pid;
        }
        ru->started++;
    }
    return 0;
}

/* Wait until every worker is about to wait (or failed), then until all are asleep. */
static int await_workers(struct run *ru, char *err, size_t errlen)
{
    int64_t deadline = herd__now_ns() + STARTUP_MAX_NS;
    for (;;) {
        int ok = atomic_load_explicit(&ru->sh->ready, memory_order_acquire);
        int bad = atomic_load_explicit(&ru->sh->failed, memory_order_acquire);
        if (bad > 0) {
            for (int i = 0; i < ru->n; i++) {
                int e = atomic_load_explicit(&ru->slots[i].setup_err, memory_order_relaxed);
                if (e < 0) {
                    snprintf(err, errlen, "accept: worker %d could not set up: %s", i,
                             strerror(-e));
                    return e;
                }
            }
            snprintf(err, errlen, "accept: a worker could not set up");
            return -HERD_EINVAL;
        }
        if (ok == ru->n)
            break;
        if (herd__live_poll())
            return -HERD_EINTR;
        if (herd__now_ns() > deadline) {
            snprintf(err, errlen, "accept: only %d of %d workers started within %d s", ok, ru->n,
                     (int)(STARTUP_MAX_NS / 1000000000));
            return -HERD_ETIMEDOUT;
        }
        herd__sleep_ns(POLL_NS);
    }
    for (int i = 0; i < ru->n; i++) {
        pid_t tid = atomic_load_explicit(&ru->slots[i].tid, memory_order_relaxed);
        pid_t pid = ru->procs ? ru->pids[i] : getpid();
        int rc = herd__tasks_add(&ru->tasks, pid, tid);
        if (rc < 0) {
            snprintf(err, errlen, "accept: cannot open /proc/%d/task/%d/status: %s", (int)pid,
                     (int)tid, strerror(-rc));
            return rc;
        }
    }
    /* The settled start is the first event's "before" (one_event). */
    int rc = herd__tasks_quiesce(&ru->tasks, POLL_NS, STARTUP_MAX_NS, ru->s_prev, &ru->vol_settled,
                                 &ru->inv_settled);
    if (rc == -HERD_ETIMEDOUT) {
        snprintf(err, errlen, "accept: the %d workers did not all go to sleep within %d s", ru->n,
                 (int)(STARTUP_MAX_NS / 1000000000));
        return rc;
    }
    if (rc < 0)
        snprintf(err, errlen, "accept: reading worker state: %s", herd_strerror(rc));
    return rc;
}

/* ---- teardown ----------------------------------------------------------------------- */

static void reap(struct run *ru)
{
    int64_t deadline = herd__now_ns() + REAP_MAX_NS;
    int left = ru->started;
    while (left > 0) {
        left = 0;
        for (int i = 0; i < ru->started; i++) {
            if (ru->pids[i] <= 0)
                continue;
            pid_t p = waitpid(ru->pids[i], NULL, WNOHANG);
            if (p == ru->pids[i] || (p < 0 && errno == ECHILD))
                ru->pids[i] = 0;
            else
                left++;
        }
        if (left == 0)
            break;
        if (herd__now_ns() > deadline) {
            /* A child that did not leave in 2 s is stuck: kill it, then wait. */
            for (int i = 0; i < ru->started; i++) {
                if (ru->pids[i] <= 0)
                    continue;
                kill(ru->pids[i], SIGKILL);
                while (waitpid(ru->pids[i], NULL, 0) < 0 && errno == EINTR)
                    ;
                ru->pids[i] = 0;
            }
            break;
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL); /* not herd__sleep_ns: it gives up once stopping */
    }
}

static void teardown(struct run *ru)
{
    if (ru->sh) {
        atomic_store_explicit(&ru->sh->stop, 1, memory_order_release);
        if (ru->efd >= 0) {
            uint64_t one = 1;
            if (write(ru->efd, &one, sizeof one) < 0) {
                /* cannot happen on a fresh eventfd; the shutdown below still applies */
            }
        }
        if (ru->lfd >= 0)
            shutdown(ru->lfd, SHUT_RDWR);
    }
    if (!ru->procs) {
        for (int i = 0; i < ru->started; i++)
            pthread_join(ru->threads[i], NULL);
    } else if (ru->pids) {
        reap(ru);
    }
    ru->started = 0;
    if (ru->warm_made)
        pthread_join(ru->warm_th, NULL); /* the eventfd written above wakes it */
    ru->warm_made = false;
    herd__tasks_fini(&ru->tasks);
    if (ru->conn_fd) {
        for (int64_t i = 0; i < ru->events; i++)
            if (ru->conn_fd[i] >= 0)
                close(ru->conn_fd[i]);
    }
    if (ru->lfd >= 0)
        close(ru->lfd);
    if (ru->rfd >= 0)
        close(ru->rfd);
    if (ru->efd >= 0)
        close(ru->efd);
    if (ru->wfd >= 0)
        close(ru->wfd);
    if (ru->map)
        munmap(ru->map, ru->map_len);
    free(ru->args);
    free(ru->threads);
    free(ru->pids);
    free(ru->s_prev);
    free(ru->s_cur);
    free(ru->conn_start);
    free(ru->conn_fd);
    free(ru->port_conn);
    free(ru->ev_first);
    free(ru->ev_wakes);
    free(ru->acc_prev);
    free(ru->connect_hist);
}

/* ---- the driver --------------------------------------------------------------------- */

struct counters {
    uint64_t accepted, calls, eagain, returns, errors;
};

static void sum_counters(const struct run *ru, struct counters *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < ru->n; i++) {
        const struct wslot *s = &ru->slots[i];
        c->accepted += atomic_load_explicit(&s->accepted, memory_order_relaxed);
        c->calls += atomic_load_explicit(&s->accept_calls, memory_order_relaxed);
        c->eagain += atomic_load_explicit(&s->eagain, memory_order_relaxed);
        c->returns += atomic_load_explicit(&s->user_returns, memory_order_relaxed);
        c->errors += atomic_load_explicit(&s->errors, memory_order_relaxed);
    }
}

/* Connect once; on success the open socket goes to *fd_out. */
static int connect_one(struct run *ru, int64_t idx, int *fd_out)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)ru->port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {.tv_sec = CONNECT_TIMEOUT_MS / 1000,
                         .tv_usec = (CONNECT_TIMEOUT_MS % 1000) * 1000};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* A blocking connect honours SO_SNDTIMEO: a SYN dropped on a full backlog would
     * otherwise block for the kernel's whole retransmission schedule. */
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ru->conn_start[idx] = herd__now_ns();
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    herd_hist_record(ru->connect_hist, herd__now_ns() - ru->conn_start[idx]);
    *fd_out = fd;
    return 0;
}

/* The client ports of connections [first, first + count) go to the port map. Called
 * once the event settled: a system call right after connect() would run while the
 * accepting worker waits for this CPU. */
static void map_ports(struct run *ru, int64_t first, int64_t count)
{
    for (int64_t i = first; i < first + count; i++) {
        struct sockaddr_in me;
        socklen_t len = sizeof me;
        if (ru->conn_fd[i] >= 0 && getsockname(ru->conn_fd[i], (struct sockaddr *)&me, &len) == 0)
            ru->port_conn[ntohs(me.sin_port)] = (int32_t)i;
    }
}

/* The warm-up partner: a thread of the driver's own that waits in epoll_wait on
 * warm_up's listener (no worker watches it) and accepts and closes what arrives, until
 * the teardown's eventfd. */
static void *warm_partner(void *arg)
{
    struct run *ru = arg;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = EV_STOP};
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        return NULL;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, ru->efd, &ev) == 0) {
        ev = (struct epoll_event){.events = EPOLLIN, .data.u32 = EV_LISTEN};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, ru->wfd, &ev) < 0)
            ev.data.u32 = EV_STOP;
    }
    while (ev.data.u32 != EV_STOP && !atomic_load_explicit(&ru->sh->stop, memory_order_acquire)) {
        int k = epoll_wait(ep, &ev, 1, -1);
        if (k < 0 && errno != EINTR)
            break;
        if (k == 1 && ev.data.u32 == EV_LISTEN) {
            int c = accept4(ru->wfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (c >= 0)
                close(c);
        }
    }
    close(ep);
    return NULL;
}

/* One connection to a listener of the driver's own, accepted by warm_partner, before
 * the quiet period that precedes the trigger. The /proc read after the last event
 * evicts the whole path (connect, the handshake in softirq, the epoll wake, the
 * worker's return to accept4) from this CPU's caches: connect() took 75-110 us after a
 * read of 1,000 status files, 35-50 us without. This puts the machine back where the
 * previous connection left it, as in bench/probe_accept.c: a connection, then a few ms
 * of quiet. (Right before the trigger it would make the connect faster than the
 * probe's.) Failures only skip the warm-up. */
static void warm_up(struct run *ru)
{
    if (ru->wfd < 0) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof sa;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return;
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
            getsockname(fd, (struct sockaddr *)&sa, &len) < 0 || listen(fd, 16) < 0) {
            close(fd);
            return;
        }
        ru->wfd = fd;
        ru->warm_port = ntohs(sa.sin_port);
        ru->warm_made = herd__thread_spawn(&ru->warm_th, warm_partner, ru, 0) == 0;
    }
    if (!ru->warm_made)
        return;
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)ru->warm_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c < 0)
        return;
    connect(c, (struct sockaddr *)&sa, sizeof sa); /* a failure only skips this warm-up */
    close(c);
}

/* Wait for @p want accepts in total, then for the herd to fall asleep; both within
 * settle_ms of @p from. The workers' state once settled goes to ru->s_cur, *vol and
 * *invol. @return 0, 1 when settle_ms ran out, or -HERD_EINTR. */
static int settle(struct run *ru, uint64_t want, int64_t from, uint64_t *vol, uint64_t *invol)
{
    int64_t deadline = from + ru->settle_ns;
    int late = 0;
    /* The driver sleeps while it waits (it is not in the task set, but it shares the 2
     * CPUs with the herd: spinning or reading /proc now would delay the accept). */
    while (atomic_load_explicit(&ru->sh->nlog, memory_order_acquire) < want) {
        if (herd__live_stopping())
            return -HERD_EINTR;
        if (herd__now_ns() >= deadline) {
            late = 1;
            break;
        }
        herd__sleep_ns(ACCEPT_POLL_NS);
    }
    int64_t left = deadline - herd__now_ns();
    int rc = herd__tasks_quiesce(&ru->tasks, POLL_NS, left > 0 ? left : 0, ru->s_cur, vol, invol);
    if (rc == -HERD_ETIMEDOUT)
        return 1;
    return rc < 0 ? rc : late;
}

/* Match the log entries written since the last call with the connections. */
static void match(struct run *ru, struct herd_report *r)
{
    uint64_t end = atomic_load_explicit(&ru->sh->nlog, memory_order_acquire);
    if (end > ru->sh->log_cap)
        end = ru->sh->log_cap;
    for (uint64_t i = ru->consumed; i < end; i++) {
        struct acc_log *e = &ru->log[i];
        if (!atomic_load_explicit(&e->valid, memory_order_acquire)) {
            /* reserved but not yet published: try again after the next event */
            end = i;
            break;
        }
        int32_t c = ru->port_conn[e->port];
        if (c < 0) {
            ru->unmatched++;
            continue;
        }
        herd_hist_record(&r->latency, e->ts - ru->conn_start[c]);
        ru->port_conn[e->port] = -1;
    }
    ru->consumed = end;
}

/* Run one event of @p count connections starting at connection @p first. */
static int one_event(struct run *ru, struct herd_report *r, int64_t first, int64_t count)
{
    struct counters c0, c1;
    uint64_t vol0 = 0, vol1 = 0, inv0 = 0, inv1 = 0;
    uint64_t made = 0;
    int rc;

    /* The counters before this event are those of the settled state the last one ended
     * in (or the start): no /proc sweep runs next to the trigger. */
    vol0 = ru->vol_settled;
    inv0 = ru->inv_settled;
    sum_counters(ru, &c0);
    uint64_t base = atomic_load_explicit(&ru->sh->nlog, memory_order_acquire);
    warm_up(ru);
    herd__tasks_cool(HERD_COOL_NS);
    for (int64_t i = first; i < first + count; i++) {
        if (herd__live_stopping())
            break;
        rc = connect_one(ru, i, &ru->conn_fd[i]);
        if (rc < 0) {
            ru->connect_errors++;
            ru->conn_fd[i] = -1;
            ru->conn_start[i] = -ru->conn_start[i] - 1; /* marks an error for the timeline */
        } else {
            made++;
        }
    }
    rc = settle(ru, base + made, herd__now_ns(), &vol1, &inv1);
    if (rc < 0)
        return rc;
    if (rc == 1)
        ru->settle_timeouts++;
    sum_counters(ru, &c1);
    map_ports(ru, first, count);
    match(ru, r);
    for (int64_t i = first; i < first + count; i++) {
        if (ru->conn_fd[i] >= 0)
            close(ru->conn_fd[i]);
        ru->conn_fd[i] = -1;
    }
    /* Each worker's reaction, from the kernel's count (DESIGN §4): it accepted (useful,
     * one per connection), or its voluntary switches moved without an accept (wasted:
     * woken, lost the race, slept again, mostly inside epoll_wait), or neither (idle). */
    struct herd_event ev = {.origin_load = c1.calls - c0.calls};
    for (int i = 0; i < ru->n; i++) {
        uint64_t acc = atomic_load_explicit(&ru->slots[i].accepted, memory_order_relaxed);
        uint64_t got = acc - ru->acc_prev[i];
        ru->acc_prev[i] = acc;
        bool moved = ru->s_cur[i].vol != ru->s_prev[i].vol;
        enum herd_outcome o = got ? HERD_OUT_USEFUL : moved ? HERD_OUT_WASTED : HERD_OUT_IDLE;
        for (uint64_t k = 0; k < (got ? got : 1); k++)
            herd_report_waiter(r, (size_t)i, o);
        ev.useful += got;
        ev.wasted += !got && moved;
        ev.idle += !got && !moved;
        ev.peak += got || moved; /* distinct workers the event woke */
    }
    ru->invol += inv1 - inv0;
    ru->kernel_switches += vol1 - vol0;
    ru->vol_settled = vol1;
    ru->inv_settled = inv1;
    struct herd_task_sample *t = ru->s_prev;
    ru->s_prev = ru->s_cur;
    ru->s_cur = t;
    ru->ev_first[ru->nev] = first;
    ru->ev_wakes[ru->nev] = ev.useful + ev.wasted;
    ru->nev++;
    return herd_report_add_event(r, &ev);
}

static void fill_timeline(struct run *ru, struct herd_report *r)
{
    int64_t t0 = INT64_MAX, t1 = INT64_MIN;
    int64_t ncon = ru->nev ? ru->ev_first[ru->nev - 1] + (ru->burst ? ru->events : 1) : 0;
    for (int64_t i = 0; i < ncon; i++) {
        int64_t t = ru->conn_start[i] < 0 ? -ru->conn_start[i] - 1 : ru->conn_start[i];
        if (t < t0)
            t0 = t;
        if (t > t1)
            t1 = t;
    }
    if (ncon == 0)
        return;
    int64_t bucket = herd_timeline_pick_bucket(t1 - t0 + 1, 1000, 1000);
    size_t len = (size_t)((t1 - t0) / bucket) + 1;
    if (herd_report_timeline(r, bucket, len) < 0)
        return;
    int64_t *arr = herd_report_series(r, "arrivals");
    int64_t *wk = herd_report_series(r, "wakes");
    int64_t *er = ru->connect_errors ? herd_report_series(r, "errors") : NULL;
    len = r->timeline.len;
    for (int64_t i = 0; i < ncon && arr; i++) {
        bool failed = ru->conn_start[i] < 0;
        int64_t t = failed ? -ru->conn_start[i] - 1 : ru->conn_start[i];
        size_t b = (size_t)((t - t0) / bucket);
        if (b >= len)
            b = len - 1;
        arr[b]++;
        if (failed && er)
            er[b]++;
    }
    /* An event's wakes go to the bucket of its (first) connect: the trigger. */
    for (int64_t e = 0; e < ru->nev && wk; e++) {
        int64_t s = ru->conn_start[ru->ev_first[e]];
        int64_t t = s < 0 ? -s - 1 : s;
        size_t b = (size_t)((t - t0) / bucket);
        if (b >= len)
            b = len - 1;
        wk[b] += (int64_t)ru->ev_wakes[e];
    }
}

static int alloc_all(struct run *ru)
{
    ru->wfd = -1; /* before anything can fail: teardown closes it when >= 0 */
    size_t head = (sizeof(struct shared) + 63) & ~(size_t)63;
    size_t slots = (size_t)ru->n * sizeof(struct wslot);
    size_t logs = (size_t)ru->events * sizeof(struct acc_log);
    ru->map_len = head + slots + logs;
    void *m = mmap(NULL, ru->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return -errno;
    ru->map = m;
    ru->sh = m;
    ru->slots = (struct wslot *)((char *)m + head);
    ru->log = (struct acc_log *)((char *)m + head + slots);
    ru->sh->log_cap = (uint64_t)ru->events;

    size_t n = (size_t)ru->n, e = (size_t)ru->events;
    size_t nev = ru->burst ? 1 : e;
    ru->args = calloc(n, sizeof *ru->args);
    ru->threads = ru->procs ? NULL : calloc(n, sizeof *ru->threads);
    ru->pids = ru->procs ? calloc(n, sizeof *ru->pids) : NULL;
    ru->s_prev = calloc(n, sizeof *ru->s_prev);
    ru->s_cur = calloc(n, sizeof *ru->s_cur);
    ru->conn_start = calloc(e, sizeof *ru->conn_start);
    ru->conn_fd = malloc(e * sizeof *ru->conn_fd);
    ru->port_conn = malloc(65536 * sizeof *ru->port_conn);
    ru->ev_first = calloc(nev, sizeof *ru->ev_first);
    ru->ev_wakes = calloc(nev, sizeof *ru->ev_wakes);
    ru->acc_prev = calloc(n, sizeof *ru->acc_prev);
    ru->connect_hist = malloc(sizeof *ru->connect_hist);
    if (!ru->args || (!ru->procs && !ru->threads) || (ru->procs && !ru->pids) ||
        !ru->s_prev || !ru->s_cur || !ru->conn_start || !ru->conn_fd || !ru->port_conn ||
        !ru->ev_first || !ru->ev_wakes || !ru->acc_prev || !ru->connect_hist)
        return -HERD_ENOMEM;
    herd_hist_init(ru->connect_hist);
    for (size_t i = 0; i < e; i++)
        ru->conn_fd[i] = -1;
    for (size_t i = 0; i < 65536; i++)
        ru->port_conn[i] = -1;
    return 0;
}

static int run(const struct herd_run_spec *spec, struct herd_report *r, char *err, size_t errlen)
{
    struct run ru = {.spec = spec, .lfd = -1, .rfd = -1, .efd = -1};
    int rc;

    const struct herd_accept_config *cfg = &spec->cfg.accept;
    herd__tasks_init(&ru.tasks);
    ru.mode = wait_mode_of(cfg->strategy);
    ru.procs = cfg->workers == HERD_ACCEPT_PROCESSES;
    ru.burst = cfg->pattern == HERD_ACCEPT_BURST;
    ru.n = (int)spec->n;
    ru.events = spec->events;
    ru.settle_ns = cfg->settle_ns;
    ru.backlog = herd__somaxconn();

    /* Refuse before anything starts: a burst larger than the accept queue would drop
     * SYNs, and the dropped connects would measure the SYN retransmission timer. */
    if (ru.burst && ru.events > ru.backlog) {
        snprintf(err, errlen,
                 "accept: pattern=burst with --events %" PRId64 " needs a listen backlog of "
                 "%" PRId64 " but net.core.somaxconn is %d (lower --events or raise it)",
                 ru.events, ru.events, ru.backlog);
        return -HERD_ELIMIT;
    }
    rc = alloc_all(&ru);
    if (rc < 0) {
        snprintf(err, errlen, "accept: %s", herd_strerror(rc));
        goto out;
    }
    rc = make_listeners(&ru, err, errlen);
    if (rc < 0)
        goto out;
    ru.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (ru.efd < 0) {
        rc = -errno;
        snprintf(err, errlen, "accept: eventfd: %s", strerror(errno));
        goto out;
    }
    rc = start_workers(&ru, err, errlen);
    if (rc < 0)
        goto out;
    rc = await_workers(&ru, err, errlen);
    if (rc < 0)
        goto out;

    int64_t per = ru.burst ? ru.events : 1;
    for (int64_t first = 0; first < ru.events; first += per) {
        /* Between events: the previous one settled, the next one's warm-up and quiet
         * period have not begun (one_event). */
        if (herd__live_progress((uint64_t)ru.nev)) {
            rc = -HERD_EINTR;
            goto out;
        }
        rc = one_event(&ru, r, first, per);
        if (rc < 0) {
            if (rc != -HERD_EINTR)
                snprintf(err, errlen, "accept: %s", herd_strerror(rc));
            goto out;
        }
    }

    uint64_t *per_worker = calloc((size_t)ru.n, sizeof *per_worker);
    if (!per_worker) {
        rc = -HERD_ENOMEM;
        snprintf(err, errlen, "accept: %s", herd_strerror(rc));
        goto out;
    }
    for (int i = 0; i < ru.n; i++)
        per_worker[i] = atomic_load_explicit(&ru.slots[i].accepted, memory_order_relaxed);
    herd_report_spread(r, per_worker, (size_t)ru.n);
    free(per_worker);

    struct counters c;
    sum_counters(&ru, &c);
    herd_report_extra(r, "user_returns", (double)c.returns);
    herd_report_extra(r, "eagain", (double)c.eagain);
    herd_report_extra(r, "kernel_switches", (double)ru.kernel_switches);
    herd_report_extra(r, "involuntary_switches", (double)ru.invol);
    herd_report_extra(r, "settle_timeouts", (double)ru.settle_timeouts);
    herd_report_extra(r, "listen_backlog", (double)ru.backlog);
    herd_report_extra(r, "connect_errors", (double)ru.connect_errors);
    herd_report_extra(r, "accept_errors", (double)c.errors);
    /* The naive herd's wake-ups run inside the connecting thread (softirq, under the
     * listener's wait-queue lock): the trigger itself pays for the herd. */
    herd_report_extra(r, "connect_p50_ns", (double)herd_hist_quantile(ru.connect_hist, 0.5));
    herd_report_extra(r, "connect_max_ns", (double)ru.connect_hist->max);
    if (ru.unmatched)
        herd_report_extra(r, "unmatched_accepts", (double)ru.unmatched);
    fill_timeline(&ru, r);
    rc = 0;
out:
    teardown(&ru);
    if (rc == 0 && herd__live_stopping())
        rc = -HERD_EINTR;
    return rc;
}

const struct herd_live_scenario herd__live_accept = {needs, run};
