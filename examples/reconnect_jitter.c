/* reconnect_jitter.c — a server restart drops every connection; who reconnects when?
 *
 * The field guide's "a load balancer restarts and drops its idle connections": a TCP
 * server on 127.0.0.1 holds CLIENTS connections (one thread each), then restarts: it
 * closes them all, stops listening for DOWN_MS (connects are refused) and listens again
 * on the same port. Each client treats the drop as its first failure
 * and reconnects with herd/backoff.h:
 *
 *   fixed interval  every RETRY_MS, the reconnect loop most code starts with: every
 *                   client saw the drop in the same millisecond, so every wave of
 *                   connects is CLIENTS wide, refused until the server is back, and
 *                   the first one after it lands all at once (the accept herd);
 *   full jitter     U[base, min(cap, base * 2^n)], drawn per client.
 *
 * Counted for real: connect attempts, the refused ones (wasted reconnects: a SYN and a
 * RST each, and in production a TLS client hello behind them), the server's accepts in
 * its busiest 10 ms after it came back, and the p99 time from the drop to a connection.
 * Jitter's price is visible too: clients take longer to come back. Exits 1 unless jitter
 * cut both the wasted reconnects and the busiest 10 ms of accepts.
 *     cc -std=c11 reconnect_jitter.c $(pkg-config --cflags --libs herd) -pthread \
 *        -o reconnect_jitter
 */
#include <herd/backoff.h>
#include <herd/clock.h>
#include <herd/rng.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CLIENTS 100
#define DOWN_MS 200
#define RETRY_MS 20
#define BUCKETS 300 /* 10 ms each, from the restart */

static struct {
    uint16_t port;
    int lfd, conns[2 * CLIENTS + 8], nconns;
    atomic_bool stop;
    _Atomic int64_t restart_ns, back_ns; /* when it dropped everyone; when it listened again */
    int accepts_after[BUCKETS];          /* accepts per 10 ms after back_ns */
} srv;
static const struct herd_backoff_policy *policy;
static atomic_int attempts, refused;
static int64_t reconnect_ns[CLIENTS]; /* drop -> connected; INT64_MAX: gave up */

static int listen_on(uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    socklen_t alen = sizeof a;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 1024) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        perror("reconnect_jitter: listen on 127.0.0.1");
        exit(2);
    }
    srv.port = ntohs(a.sin_port);
    return fd;
}

static void *server_main(void *arg)
{
    (void)arg;
    struct pollfd p = {.fd = srv.lfd, .events = POLLIN};
    while (!atomic_load(&srv.stop)) {
        if (srv.nconns == CLIENTS && srv.restart_ns == 0) { /* everyone is in: restart */
            struct timespec settle = {0, 20 * 1000000L};
            nanosleep(&settle, NULL);
            atomic_store(&srv.restart_ns, herd_clock_monotonic_ns());
            for (int i = 0; i < srv.nconns; i++)
                close(srv.conns[i]);
            /* Stop listening but keep the port bound (bound explicitly, so Linux keeps it
             * through the shutdown): connects are refused, and no other program can take
             * the port, nor a client's connect be given it, while we are down. */
            shutdown(srv.lfd, SHUT_RDWR);
            srv.nconns = 0;
            struct timespec down = {DOWN_MS / 1000, (DOWN_MS % 1000) * 1000000L};
            nanosleep(&down, NULL);
            if (listen(srv.lfd, 1024) != 0) {
                perror("reconnect_jitter: listen again");
                exit(2);
            }
            atomic_store(&srv.back_ns, herd_clock_monotonic_ns());
        }
        if (poll(&p, 1, 5) <= 0)
            continue;
        int c = accept(srv.lfd, NULL, NULL);
        if (c < 0)
            continue;
        if (srv.back_ns) {
            int64_t b = (herd_clock_monotonic_ns() - srv.back_ns) / (10 * HERD_NS_PER_MS);
            srv.accepts_after[b < BUCKETS ? b : BUCKETS - 1]++;
        }
        if (srv.nconns < (int)(sizeof srv.conns / sizeof srv.conns[0]))
            srv.conns[srv.nconns++] = c;
        else
            close(c);
    }
    for (int i = 0; i < srv.nconns; i++)
        close(srv.conns[i]);
    close(srv.lfd);
    return NULL;
}

static int dial(void) /* a connected socket, or -errno */
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(srv.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

static void *client_main(void *arg)
{
    int id = (int)(intptr_t)arg, fd;
    struct herd_rng rng;
    struct herd_backoff b;
    char byte;
    herd_rng_stream(&rng, 1, (uint64_t)id);
    while ((fd = dial()) < 0) { /* the first connection, before the restart */
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
    while (read(fd, &byte, 1) > 0) /* idle until the server drops us */
        ;
    close(fd);
    int64_t dropped = herd_clock_monotonic_ns();
    reconnect_ns[id] = INT64_MAX;
    herd_backoff_init(&b, policy, dropped);
    for (;;) { /* the drop was the first failure: back off before every reconnect */
        int64_t wait;
        if (herd_backoff_next(&b, &rng, herd_clock_monotonic_ns(), HERD_BACKOFF_FAILED,
                              HERD_BACKOFF_NO_RETRY_AFTER, &wait) != 0)
            return NULL;
        struct timespec ts = herd_clock_timespec(wait);
        nanosleep(&ts, NULL);
        atomic_fetch_add(&attempts, 1);
        if ((fd = dial()) >= 0)
            break;
        atomic_fetch_add(&refused, fd == -ECONNREFUSED);
    }
    reconnect_ns[id] = herd_clock_monotonic_ns() - dropped;
    close(fd);
    return NULL;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

struct figures {
    int attempts, refused, peak_accepts, gave_up;
    double p50_ms, p99_ms;
};

static void run(const struct herd_backoff_policy *pol, struct figures *f)
{
    pthread_t th[CLIENTS], server;
    memset(&srv, 0, sizeof srv);
    policy = pol;
    atomic_store(&attempts, 0);
    atomic_store(&refused, 0);
    srv.lfd = listen_on(0); /* a free port, then bound by number (see server_main) */
    close(srv.lfd);
    srv.lfd = listen_on(srv.port);
    pthread_create(&server, NULL, server_main, NULL);
    for (int i = 0; i < CLIENTS; i++)
        pthread_create(&th[i], NULL, client_main, (void *)(intptr_t)i);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(th[i], NULL);
    atomic_store(&srv.stop, true);
    pthread_join(server, NULL);

    *f = (struct figures){.attempts = atomic_load(&attempts), .refused = atomic_load(&refused)};
    for (int i = 0; i < BUCKETS; i++)
        f->peak_accepts = srv.accepts_after[i] > f->peak_accepts ? srv.accepts_after[i]
                                                                 : f->peak_accepts;
    for (int i = 0; i < CLIENTS; i++)
        f->gave_up += reconnect_ns[i] == INT64_MAX;
    qsort(reconnect_ns, CLIENTS, sizeof reconnect_ns[0], cmp64);
    f->p50_ms = (double)reconnect_ns[CLIENTS / 2] / 1e6;
    f->p99_ms = (double)reconnect_ns[CLIENTS * 99 / 100 - 1] / 1e6;
}

int main(void)
{
    const struct herd_backoff_policy fixed = {
        .kind = HERD_BACKOFF_CONSTANT,
        .base_ns = RETRY_MS * HERD_NS_PER_MS,
        .deadline_ns = 2 * HERD_NS_PER_S,
    };
    const struct herd_backoff_policy jittered = {
        .kind = HERD_BACKOFF_FULL,
        .base_ns = RETRY_MS * HERD_NS_PER_MS,
        .cap_ns = 320 * HERD_NS_PER_MS,
        .deadline_ns = 2 * HERD_NS_PER_S,
    };
    struct figures n, j;
    run(&fixed, &n);
    run(&jittered, &j);

    printf("reconnect storm: %d clients dropped by a restart, server down %d ms\n", CLIENTS,
           DOWN_MS);
    printf("  %-30s %14s %14s\n", "", "fixed 20 ms", "full jitter");
    printf("  %-30s %14d %14d\n", "connect attempts", n.attempts, j.attempts);
    printf("  %-30s %14d %14d\n", "wasted (refused) reconnects", n.refused, j.refused);
    printf("  %-30s %14d %14d\n", "accepts in busiest 10 ms", n.peak_accepts, j.peak_accepts);
    printf("  %-30s %14d %14d\n", "clients that gave up", n.gave_up, j.gave_up);
    printf("  %-30s %11.0f ms %11.0f ms\n", "p50 drop to connected", n.p50_ms, j.p50_ms);
    printf("  %-30s %11.0f ms %11.0f ms\n", "p99 drop to connected", n.p99_ms, j.p99_ms);
    bool ok = j.refused < n.refused && 2 * j.peak_accepts < n.peak_accepts && j.gave_up == 0;
    printf("%s: jitter cut wasted reconnects from %d to %d and the accept peak from %d to %d "
           "per 10 ms\n",
           ok ? "PASS" : "FAIL", n.refused, j.refused, n.peak_accepts, j.peak_accepts);
    return ok ? 0 : 1;
}
