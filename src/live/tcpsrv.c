/* tcpsrv.c — the loopback thread-pool server of tcpsrv.h.
 *
 * Invariants (all under b->mu): inflight = connections accepted and not yet replied
 * to, queued ones included; qlen = accepted and not yet picked up; idle = workers
 * blocked waiting for the queue. A new arrival finds a free worker iff idle > qlen
 * (each connection already queued is promised to one idle worker). A worker that has
 * just finished and is on its way back to the queue is not idle yet, so near
 * saturation an arrival may count as queued although it waited only microseconds:
 * "queued" slightly over-counts, never under-counts.
 * Records and counters are written only under b->mu, so they are race-free; after
 * stop (every thread joined) they are read without it.
 * Teardown: a closing flag, a broadcast, an eventfd that wakes the acceptor's poll,
 * and shutdown() of the connection each worker holds, so stop takes well under a
 * second even with a worker blocked on a slow client; the work loop polls the flag
 * about every 100 µs.
 */
#include "tcpsrv.h"

#include "live_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <herd/error.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct worker {
    struct herd_tcpsrv *b;
    int idx;
    bool started;
    pthread_t th;
    int active_fd;   /* connection being served, -1 if none (for shutdown at stop) */
    uint64_t served; /* under b->mu */
};

struct slot {
    int fd;
    int64_t rec; /* index in b->rec, -1 when the record table was full */
};

struct herd_tcpsrv {
    struct herd_tcpsrv_cfg cfg;
    int lfd, efd;
    uint16_t port;
    double iters_per_us; /* calibration: hash-loop iterations per µs of thread CPU */
    uint64_t iters;      /* per request */
    atomic_int closing;  /* read without the lock by the work loop */

    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct slot *q; /* ring of cfg.queue_cap */
    size_t qhead, qlen;
    int idle;
    int64_t inflight;
    int32_t event;
    struct herd_tcpsrv_stats st;
    struct herd_tcpsrv_rec *rec;
    size_t nrec;
    uint64_t dropped;
    int64_t work_cpu_ns; /* sum over served requests */
    uint64_t work_count;

    int acceptor_boost; /* what boost_self() achieved */
    bool acceptor_started, stopped;
    pthread_t acceptor;
    struct worker *w;
};

static int64_t cpu_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The request's work: a serial chain of multiply-xorshift steps (no memory traffic,
 * no vectorisation, so its speed is stable across runs). The result goes back to the
 * client, so the compiler cannot drop the loop. About 1–2 ns per iteration. */
static uint64_t burn(uint64_t iters, uint64_t x, const atomic_int *closing)
{
    for (uint64_t i = 0; i < iters; i++) {
        x ^= x >> 33;
        x *= UINT64_C(0xff51afd7ed558ccd);
        x += i;
        if ((i & 0xffff) == 0xffff && closing &&
            atomic_load_explicit(closing, memory_order_relaxed))
            break;
    }
    return x;
}

/* Iterations per µs of this thread's CPU: grow the loop until one run takes >= 2 ms
 * of CPU, then keep the fastest of 3 runs (the slower ones were preempted or shared a
 * core's caches; the thread CPU clock already excludes time spent descheduled).
 * Costs about 10–20 ms once per backend. */
static double calibrate(void)
{
    static volatile uint64_t sink;
    uint64_t iters = 1 << 14;
    int64_t t = 0;
    for (;;) {
        int64_t t0 = cpu_now_ns();
        sink = burn(iters, iters, NULL);
        t = cpu_now_ns() - t0;
        if (t >= 2000000 || iters >= (UINT64_C(1) << 40))
            break;
        iters *= 2;
    }
    for (int k = 0; k < 3; k++) {
        int64_t t0 = cpu_now_ns();
        sink = burn(iters, sink, NULL);
        int64_t d = cpu_now_ns() - t0;
        if (d > 0 && d < t)
            t = d;
    }
    return t > 0 ? (double)iters * 1000.0 / (double)t : 1.0;
}

static void set_timeouts(int fd, int64_t ns)
{
    struct timeval tv = {.tv_sec = ns / 1000000000, .tv_usec = (ns % 1000000000) / 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Called with b->mu held: queue one accepted connection and measure the arrival. */
static void enqueue_locked(struct herd_tcpsrv *b, int fd)
{
    int64_t now = herd__now_ns();
    bool queued = !((size_t)b->idle > b->qlen);
    int64_t ri = -1;
    if (b->nrec < b->cfg.max_records) {
        ri = (int64_t)b->nrec++;
        b->rec[ri] = (struct herd_tcpsrv_rec){
            .t_arrive = now, .worker = -1, .event = b->event, .queued = queued};
    } else {
        b->dropped++;
    }
    b->q[(b->qhead + b->qlen) % b->cfg.queue_cap] = (struct slot){fd, ri};
    b->qlen++;
    b->inflight++;
    b->st.arrivals++;
    b->st.queued_arrivals += queued;
    if (!b->st.first_arrival)
        b->st.first_arrival = now;
    b->st.last_arrival = now;
    if (b->inflight > b->st.peak_inflight)
        b->st.peak_inflight = b->inflight;
    if ((int64_t)b->qlen > b->st.peak_queue)
        b->st.peak_queue = (int64_t)b->qlen;
    pthread_cond_signal(&b->cv);
}

/* The acceptor should run as soon as a connection is ready, as it would on a server
 * that does not share its cores with hundreds of clients: otherwise, when a herd of
 * client threads is runnable at once on this machine, CFS gives the acceptor one turn
 * in several hundred and the backlog waits in the kernel's accept queue, unmeasured.
 * It does almost no CPU work, so raising it perturbs nothing else. SCHED_FIFO needs
 * CAP_SYS_NICE (or RLIMIT_RTPRIO); without it, try a lower nice value; else run as is.
 * @return 2 (real-time), 1 (nice -10) or 0 (not raised). */
static int boost_self(void)
{
    struct sched_param sp = {.sched_priority = 1};
    if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0)
        return 2;
    if (setpriority(PRIO_PROCESS, (id_t)herd__gettid(), -10) == 0)
        return 1;
    return 0;
}

/* The kernel's accept queue of the listener right now (TCP_INFO reports it in
 * tcpi_unacked for a listening socket); -1 when unknown. */
static int64_t kernel_backlog(int lfd)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    if (getsockopt(lfd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
        return -1;
    return (int64_t)ti.tcpi_unacked;
}

static void *acceptor_main(void *arg)
{
    struct herd_tcpsrv *b = arg;
    struct pollfd pfd[2] = {{.fd = b->lfd, .events = POLLIN}, {.fd = b->efd, .events = POLLIN}};
    int boost = boost_self();
    pthread_mutex_lock(&b->mu);
    b->acceptor_boost = boost;
    pthread_mutex_unlock(&b->mu);
    for (;;) {
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfd[1].revents || atomic_load(&b->closing))
            break;
        /* The kernel queue is longest now, just before we drain it. */
        int64_t kq = kernel_backlog(b->lfd);
        pthread_mutex_lock(&b->mu);
        if (kq > b->st.peak_kernel_backlog)
            b->st.peak_kernel_backlog = kq;
        pthread_mutex_unlock(&b->mu);
        /* Eager: drain the kernel's accept queue completely before polling again. */
        for (;;) {
            int fd = accept4(b->lfd, NULL, NULL, SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EINTR || errno == ECONNABORTED)
                    continue;
                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                    herd__sleep_ns(1000000); /* out of descriptors: back off, don't spin */
                break;                       /* EAGAIN: drained */
            }
            set_timeouts(fd, b->cfg.io_timeout_ns);
            pthread_mutex_lock(&b->mu);
            if (atomic_load(&b->closing) || b->qlen == b->cfg.queue_cap) {
                if (!atomic_load(&b->closing))
                    b->st.rejected++;
                pthread_mutex_unlock(&b->mu);
                close(fd);
                continue;
            }
            enqueue_locked(b, fd);
            pthread_mutex_unlock(&b->mu);
        }
    }
    return NULL;
}

static bool read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = recv(fd, (char *)buf + got, len - got, MSG_WAITALL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

static bool write_full(int fd, const void *buf, size_t len)
{
    size_t put = 0;
    while (put < len) {
        ssize_t r = send(fd, (const char *)buf + put, len - put, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        put += (size_t)r;
    }
    return true;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct herd_tcpsrv *b = w->b;
    for (;;) {
        pthread_mutex_lock(&b->mu);
        while (b->qlen == 0 && !atomic_load(&b->closing)) {
            b->idle++;
            pthread_cond_wait(&b->cv, &b->mu);
            b->idle--;
        }
        if (atomic_load(&b->closing)) {
            pthread_mutex_unlock(&b->mu);
            break;
        }
        struct slot s = b->q[b->qhead];
        b->qhead = (b->qhead + 1) % b->cfg.queue_cap;
        b->qlen--;
        if (s.rec >= 0) {
            b->rec[s.rec].t_start = herd__now_ns();
            b->rec[s.rec].worker = w->idx;
        }
        w->active_fd = s.fd;
        pthread_mutex_unlock(&b->mu);

        struct herd_tcpsrv_msg req = {0}, rep;
        bool ok = read_full(s.fd, &req, sizeof req) && req.magic == HERD_TCPSRV_REQ;
        int64_t cpu = 0;
        if (ok) {
            bool queued = s.rec >= 0 && b->rec[s.rec].queued; /* set before we dequeued */
            int64_t c0 = cpu_now_ns();
            uint64_t sum = burn(b->iters, ((uint64_t)req.a << 32) ^ req.c, &b->closing);
            cpu = cpu_now_ns() - c0;
            rep = (struct herd_tcpsrv_msg){HERD_TCPSRV_REP, (uint32_t)w->idx, queued,
                                            (uint32_t)(sum ^ (sum >> 32))};
            ok = !atomic_load(&b->closing) && write_full(s.fd, &rep, sizeof rep);
        }

        pthread_mutex_lock(&b->mu);
        w->active_fd = -1;
        b->inflight--;
        if (ok) {
            w->served++;
            b->st.served++;
            b->work_cpu_ns += cpu;
            b->work_count++;
        } else {
            b->st.failed++;
        }
        if (s.rec >= 0) {
            b->rec[s.rec].t_done = herd__now_ns();
            b->rec[s.rec].client = req.a;
            b->rec[s.rec].worked = cpu > 0;
            b->rec[s.rec].ok = ok;
        }
        pthread_mutex_unlock(&b->mu);
        /* Closed after active_fd is cleared, so stop() never shuts down a reused number. */
        close(s.fd);
    }
    return NULL;
}

int herd__tcpsrv_start(struct herd_tcpsrv **out, const struct herd_tcpsrv_cfg *cfg, char *err,
                        size_t errlen)
{
    struct herd_tcpsrv *b;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t salen = sizeof sa;
    int rc;

    if (cfg->workers < 1 || cfg->queue_cap < 1) {
        snprintf(err, errlen, "backend: needs at least one worker and a queue");
        return -HERD_EINVAL;
    }
    b = calloc(1, sizeof *b);
    if (!b)
        goto fail_nomem;
    b->cfg = *cfg;
    b->lfd = b->efd = -1;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    b->q = calloc(cfg->queue_cap, sizeof *b->q);
    b->rec = calloc(cfg->max_records ? cfg->max_records : 1, sizeof *b->rec);
    b->w = calloc((size_t)cfg->workers, sizeof *b->w);
    if (!b->q || !b->rec || !b->w)
        goto fail_free;

    b->iters_per_us = calibrate();
    b->iters = (uint64_t)(b->iters_per_us * (double)cfg->work_ns / 1000.0 + 0.5);
    if (b->iters == 0)
        b->iters = 1;

    b->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (b->lfd < 0)
        goto fail_errno;
    if (bind(b->lfd, (struct sockaddr *)&sa, sizeof sa) < 0)
        goto fail_errno;
    int backlog = cfg->backlog;
    int cap = herd__somaxconn();
    if (backlog > cap)
        backlog = cap;
    if (listen(b->lfd, backlog) < 0 || getsockname(b->lfd, (struct sockaddr *)&sa, &salen) < 0)
        goto fail_errno;
    b->port = ntohs(sa.sin_port);
    b->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (b->efd < 0)
        goto fail_errno;

    for (int i = 0; i < cfg->workers; i++) {
        b->w[i] = (struct worker){.b = b, .idx = i, .active_fd = -1};
        rc = herd__thread_spawn(&b->w[i].th, worker_main, &b->w[i], 0);
        if (rc < 0)
            goto fail_threads;
        b->w[i].started = true;
    }
    rc = herd__thread_spawn(&b->acceptor, acceptor_main, b, 0);
    if (rc < 0)
        goto fail_threads;
    b->acceptor_started = true;
    *out = b;
    return 0;

fail_threads:
    snprintf(err, errlen, "backend: cannot start a thread: %s", herd_strerror(rc));
    herd__tcpsrv_free(b); /* joins what started, closes the sockets */
    return rc;
fail_errno:
    rc = -errno;
    snprintf(err, errlen, "backend: cannot listen on 127.0.0.1: %s", strerror(errno));
    herd__tcpsrv_free(b);
    return rc;
fail_free:
    herd__tcpsrv_free(b);
fail_nomem:
    snprintf(err, errlen, "backend: out of memory");
    return -HERD_ENOMEM;
}

uint16_t herd__tcpsrv_port(const struct herd_tcpsrv *b)
{
    return b->port;
}

void herd__tcpsrv_mark(struct herd_tcpsrv *b, int32_t event)
{
    pthread_mutex_lock(&b->mu);
    b->event = event;
    b->st =
        (struct herd_tcpsrv_stats){.peak_inflight = b->inflight, .peak_queue = (int64_t)b->qlen};
    pthread_mutex_unlock(&b->mu);
}

void herd__tcpsrv_stats(struct herd_tcpsrv *b, struct herd_tcpsrv_stats *out)
{
    pthread_mutex_lock(&b->mu);
    *out = b->st;
    out->inflight = b->inflight;
    pthread_mutex_unlock(&b->mu);
}

int herd__tcpsrv_wait_idle(struct herd_tcpsrv *b, int64_t poll_ns, int64_t max_ns)
{
    int64_t deadline = herd__now_ns() + max_ns;
    for (;;) {
        pthread_mutex_lock(&b->mu);
        int64_t inflight = b->inflight;
        pthread_mutex_unlock(&b->mu);
        if (inflight == 0)
            return 0;
        if (herd__live_poll())
            return -HERD_EINTR;
        if (herd__now_ns() >= deadline)
            return -HERD_ETIMEDOUT;
        herd__sleep_ns(poll_ns);
    }
}

void herd__tcpsrv_stop(struct herd_tcpsrv *b)
{
    if (!b || b->stopped)
        return;
    pthread_mutex_lock(&b->mu);
    atomic_store(&b->closing, 1);
    for (int i = 0; i < b->cfg.workers; i++)
        if (b->w && b->w[i].active_fd >= 0)
            shutdown(b->w[i].active_fd, SHUT_RDWR);
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    if (b->efd >= 0) {
        uint64_t one = 1;
        ssize_t wr = write(b->efd, &one, sizeof one);
        (void)wr; /* a full counter already wakes poll */
    }
    if (b->acceptor_started)
        pthread_join(b->acceptor, NULL);
    b->acceptor_started = false;
    for (int i = 0; b->w && i < b->cfg.workers; i++) {
        if (b->w[i].started)
            pthread_join(b->w[i].th, NULL);
        b->w[i].started = false;
    }
    /* Connections still queued were never served: close them (the clients see EOF). */
    while (b->qlen > 0) {
        struct slot s = b->q[b->qhead];
        b->qhead = (b->qhead + 1) % b->cfg.queue_cap;
        b->qlen--;
        b->inflight--;
        b->st.failed++;
        close(s.fd);
    }
    if (b->lfd >= 0)
        close(b->lfd);
    if (b->efd >= 0)
        close(b->efd);
    b->lfd = b->efd = -1;
    b->stopped = true;
}

const struct herd_tcpsrv_rec *herd__tcpsrv_records(struct herd_tcpsrv *b, size_t *n,
                                                     uint64_t *dropped)
{
    pthread_mutex_lock(&b->mu);
    *n = b->nrec;
    *dropped = b->dropped;
    pthread_mutex_unlock(&b->mu);
    return b->rec;
}

size_t herd__tcpsrv_records_copy(struct herd_tcpsrv *b, size_t from, struct herd_tcpsrv_rec *out,
                                 size_t max)
{
    pthread_mutex_lock(&b->mu);
    size_t k = from < b->nrec ? b->nrec - from : 0;
    if (k > max)
        k = max;
    if (k)
        memcpy(out, b->rec + from, k * sizeof *out);
    pthread_mutex_unlock(&b->mu);
    return k;
}

void herd__tcpsrv_per_worker(struct herd_tcpsrv *b, uint64_t *out)
{
    pthread_mutex_lock(&b->mu);
    for (int i = 0; i < b->cfg.workers; i++)
        out[i] = b->w[i].served;
    pthread_mutex_unlock(&b->mu);
}

double herd__tcpsrv_work_ns_measured(struct herd_tcpsrv *b)
{
    pthread_mutex_lock(&b->mu);
    double v = b->work_count ? (double)b->work_cpu_ns / (double)b->work_count : 0.0;
    pthread_mutex_unlock(&b->mu);
    return v;
}

int herd__tcpsrv_acceptor_boost(struct herd_tcpsrv *b)
{
    pthread_mutex_lock(&b->mu);
    int v = b->acceptor_boost;
    pthread_mutex_unlock(&b->mu);
    return v;
}

double herd__tcpsrv_iters_per_us(const struct herd_tcpsrv *b)
{
    return b->iters_per_us;
}

void herd__tcpsrv_free(struct herd_tcpsrv *b)
{
    if (!b)
        return;
    herd__tcpsrv_stop(b);
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
    free(b->q);
    free(b->rec);
    free(b->w);
    free(b);
}
