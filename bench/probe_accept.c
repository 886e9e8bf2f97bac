/* probe_accept.c — the accept herd with nothing but two timestamps.
 *
 * N threads each own an epoll instance watching one non-blocking listener on
 * 127.0.0.1, level-triggered: naive without EPOLLEXCLUSIVE ("epoll"), mitigated with it
 * ("epoll-exclusive"). A worker that epoll_wait returns to calls accept4() once and, when
 * it got the connection, stamps CLOCK_MONOTONIC right after accept4 returns, publishes
 * the stamp and closes the descriptor. Per event the driver (the main thread) stamps
 * just before connect() on a socket made beforehand; latency = accept stamp - connect
 * stamp. Between the two the driver is in connect() and then asleep; client sockets
 * stay open until the end of the mode, so no FIN or RST runs near a later trigger.
 * Between events the herd settles by probe.h's rule (1 ms sleeps, getrusage switch sums
 * quiet for 2 ms: most woken epoll waiters re-sleep inside the kernel, so user-space
 * flags cannot tell) plus "the connection was accepted".
 *
 * This is the reference `herd run accept` (workers=thread, pattern=serial) is compared
 * with in bench/probe_vs_herd.sh: same stamps, same epoll set-up.
 *
 * Usage: probe_accept [-n N] [--events E] [--mode naive|mitigated|both] [--json]
 * Cost: N threads (64 KiB stacks) and N epoll descriptors plus E client sockets (the
 * soft RLIMIT_NOFILE is raised to the hard one); ~3 ms of settling per event, more for
 * the naive herd (~N x 10 us of CPU per event).
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe.h"

struct herd {
    int lfd, efd; /* listener; eventfd written at teardown to wake every epoll */
    int n;        /* workers */
    bool exclusive;
    atomic_int ready;       /* workers set up */
    atomic_int accepted;    /* connections accepted (release: acc_ts is written) */
    _Atomic int64_t acc_ts; /* the last accept's stamp */
};

static void *worker(void *arg)
{
    struct herd *h = arg;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 1};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, h->efd, &ev) < 0) {
        perror("probe_accept: epoll");
        exit(1);
    }
    ev = (struct epoll_event){.events = EPOLLIN | (h->exclusive ? EPOLLEXCLUSIVE : 0),
                              .data.u32 = 0};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, h->lfd, &ev) < 0) {
        perror("probe_accept: epoll_ctl");
        exit(1);
    }
    atomic_fetch_add(&h->ready, 1);
    for (;;) {
        struct epoll_event evs[2];
        int k = epoll_wait(ep, evs, 2, -1);
        for (int i = 0; i < k; i++) {
            if (evs[i].data.u32 == 1)
                goto out;
            int c = accept4(h->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            int64_t ts = probe_now_ns();
            if (c >= 0) {
                atomic_store_explicit(&h->acc_ts, ts, memory_order_relaxed);
                atomic_fetch_add_explicit(&h->accepted, 1, memory_order_release);
                close(c);
            }
        }
    }
out:
    close(ep);
    return NULL;
}

struct want {
    struct herd *h;
    int accepted;
};

static bool settled(void *arg)
{
    struct want *w = arg;
    return atomic_load_explicit(&w->h->accepted, memory_order_acquire) >= w->accepted;
}

static bool all_ready(void *arg)
{
    struct herd *h = arg;
    return atomic_load(&h->ready) == h->n;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void run_mode(const struct probe_opts *o, bool exclusive, struct probe_result *r)
{
    struct herd hd = {.n = o->n, .exclusive = exclusive};
    struct herd *h = &hd;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    pthread_t *th = calloc((size_t)o->n, sizeof *th);
    int *cfd = calloc((size_t)o->events, sizeof *cfd);
    int64_t *lat = calloc((size_t)o->events, sizeof *lat);
    if (!th || !cfd || !lat)
        die("probe_accept: calloc");

    h->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (h->lfd < 0 || bind(h->lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        getsockname(h->lfd, (struct sockaddr *)&sa, &len) < 0 || listen(h->lfd, 4096) < 0)
        die("probe_accept: listener on 127.0.0.1");
    h->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (h->efd < 0)
        die("probe_accept: eventfd");

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    for (int i = 0; i < o->n; i++)
        if (pthread_create(&th[i], &attr, worker, h) != 0)
            die("probe_accept: pthread_create");
    pthread_attr_destroy(&attr);
    r->settle_timeouts += probe_settle(all_ready, h) < 0;

    size_t got = 0;
    for (int e = 0; e < o->events; e++) {
        cfd[e] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (cfd[e] < 0)
            die("probe_accept: socket");
        int64_t t0 = probe_now_ns();
        if (connect(cfd[e], (struct sockaddr *)&sa, sizeof sa) < 0)
            die("probe_accept: connect");
        struct want w = {.h = h, .accepted = e + 1};
        if (probe_settle(settled, &w) < 0) {
            r->settle_timeouts++;
            continue;
        }
        lat[got++] = atomic_load_explicit(&h->acc_ts, memory_order_relaxed) - t0;
    }

    uint64_t one = 1;
    if (write(h->efd, &one, sizeof one) != sizeof one)
        die("probe_accept: eventfd write");
    for (int i = 0; i < o->n; i++)
        pthread_join(th[i], NULL);
    for (int e = 0; e < o->events; e++)
        close(cfd[e]);
    close(h->lfd);
    close(h->efd);
    r->strategy = exclusive ? "epoll-exclusive" : "epoll";
    probe_summarise(lat, got, r);
    free(lat);
    free(cfd);
    free(th);
}

int main(int argc, char **argv)
{
    struct probe_opts o;
    struct probe_result naive = {0}, mitigated = {0};
    probe_parse(argc, argv, &o, "epoll", "epoll-exclusive");

    struct rlimit rl;
    rlim_t need = (rlim_t)o.n + (rlim_t)o.events + 32;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
        rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
        setrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < need) {
            fprintf(stderr, "probe_accept: needs %llu descriptors, RLIMIT_NOFILE allows %llu\n",
                    (unsigned long long)need, (unsigned long long)rl.rlim_cur);
            return 1;
        }
    }
    if (o.modes & PROBE_NAIVE)
        run_mode(&o, false, &naive);
    if (o.modes & PROBE_MITIGATED)
        run_mode(&o, true, &mitigated);
    probe_print("accept", &o, &naive, &mitigated);
    return 0;
}
