/* backoff_jitter.c — retries in lock step against a recovering service, then jittered.
 *
 * The field guide's "a downstream service returns 500s for a while": a small service
 * on 127.0.0.1 answers 503 for its first OUTAGE_MS, then serves at most CAP requests
 * per 10 ms (it is weakest while it recovers) and answers 503 to the rest. CLIENTS
 * threads each make one call and retry on 503 with herd/backoff.h:
 *
 *   exponential   min(cap, base * 2^(n-1)) exactly: every client that failed together
 *                 comes back together, so each wave is CLIENTS wide and CAP of it wins;
 *   full jitter   U[base, min(cap, base * 2^n)] (Brooker 2015, never below the base):
 *                 the same envelope, drawn per client from its own rng.
 *
 * The service counts what it sees: every attempt, the retries in its busiest 10 ms,
 * the 503s it sent after it recovered (work wasted on a herd it could have served).
 * The first retries cannot be spread much (full jitter's first draw is U[base, 2 base]);
 * the herd that hurts is the one that lands on the service as it recovers. Exits 1
 * unless, once recovered, jitter made the busiest 10 ms quieter and sent fewer 503s
 * than lock step, and every jittered client got through.
 *     cc -std=c11 backoff_jitter.c $(pkg-config --cflags --libs herd) -pthread \
 *        -o backoff_jitter
 */
#include <herd/backoff.h>
#include <herd/clock.h>
#include <herd/rng.h>
#include <arpa/inet.h>
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
#define OUTAGE_MS 200
#define CAP 20 /* requests served per 10 ms once recovered: 2,000 req/s */
#define BUCKETS 300 /* 10 ms each: 3 s */

struct service {
    int fd;
    uint16_t port;
    int64_t t0;
    atomic_bool stop;
    int attempts, rejected_after_recovery; /* written by the service thread only */
    int retries_per_bucket[BUCKETS];
    int attempts_per_bucket[BUCKETS];
    int served_per_bucket[BUCKETS];
};

struct run {
    struct service svc;
    const struct herd_backoff_policy *policy;
    pthread_barrier_t go;
    int64_t done_ns[CLIENTS]; /* when each client got its 200, from t0; -1: gave up */
};

static void *service_main(void *arg)
{
    struct service *s = arg;
    struct pollfd p = {.fd = s->fd, .events = POLLIN};
    while (!atomic_load(&s->stop)) {
        if (poll(&p, 1, 5) <= 0)
            continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        char req[32] = {0};
        ssize_t n = read(c, req, sizeof req - 1);
        int attempt = n > 0 ? atoi(req) : 1;
        int64_t ms = (herd_clock_monotonic_ns() - s->t0) / HERD_NS_PER_MS;
        int b = ms / 10 < BUCKETS ? (int)(ms / 10) : BUCKETS - 1;
        bool ok = ms >= OUTAGE_MS && s->served_per_bucket[b] < CAP;
        s->attempts++;
        s->retries_per_bucket[b] += attempt > 1;
        s->attempts_per_bucket[b]++;
        s->served_per_bucket[b] += ok;
        s->rejected_after_recovery += !ok && ms >= OUTAGE_MS;
        (void)!write(c, ok ? "200\n" : "503\n", 4);
        close(c);
    }
    return NULL;
}

/* One call to the service: true on 200. */
static bool call(uint16_t port, int attempt)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char buf[8] = {0};
    bool ok = false;
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
        int n = snprintf(buf, sizeof buf, "%d\n", attempt);
        if (write(fd, buf, n) == n && read(fd, buf, 4) == 4)
            ok = memcmp(buf, "200", 3) == 0;
    }
    if (fd >= 0)
        close(fd);
    return ok;
}

struct client {
    struct run *run;
    int id;
};

static void *client_main(void *arg)
{
    struct client *c = arg;
    struct run *r = c->run;
    struct herd_rng rng;
    struct herd_backoff b;
    herd_rng_stream(&rng, 2015, (uint64_t)c->id); /* each client its own stream */
    pthread_barrier_wait(&r->go);
    herd_backoff_init(&b, r->policy, herd_clock_monotonic_ns());
    r->done_ns[c->id] = -1;
    for (int attempt = 1;; attempt++) {
        if (call(r->svc.port, attempt)) {
            r->done_ns[c->id] = herd_clock_monotonic_ns() - r->svc.t0;
            return NULL;
        }
        int64_t wait;
        if (herd_backoff_next(&b, &rng, herd_clock_monotonic_ns(), HERD_BACKOFF_FAILED,
                              HERD_BACKOFF_NO_RETRY_AFTER, &wait) != 0)
            return NULL; /* gave up */
        struct timespec ts = herd_clock_timespec(wait);
        nanosleep(&ts, NULL);
    }
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

struct figures {
    int attempts, peak_retries, peak_recovering, rejected, gave_up;
    double p99_ms, last_ms;
};

static int run(const struct herd_backoff_policy *policy, struct figures *f)
{
    static struct run r;
    static struct client cl[CLIENTS];
    pthread_t th[CLIENTS], svc;
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof a;
    memset(&r, 0, sizeof r);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r.policy = policy;
    r.svc.fd = socket(AF_INET, SOCK_STREAM, 0);
    if (r.svc.fd < 0 || bind(r.svc.fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(r.svc.fd, 1024) != 0 || getsockname(r.svc.fd, (struct sockaddr *)&a, &alen) != 0) {
        perror("backoff_jitter: service on 127.0.0.1");
        return -1;
    }
    r.svc.port = ntohs(a.sin_port);
    pthread_barrier_init(&r.go, NULL, CLIENTS + 1);
    for (int i = 0; i < CLIENTS; i++) {
        cl[i] = (struct client){&r, i};
        pthread_create(&th[i], NULL, client_main, &cl[i]);
    }
    r.svc.t0 = herd_clock_monotonic_ns(); /* the outage starts as the clients call */
    pthread_create(&svc, NULL, service_main, &r.svc);
    pthread_barrier_wait(&r.go);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(th[i], NULL);
    atomic_store(&r.svc.stop, true);
    pthread_join(svc, NULL);
    close(r.svc.fd);
    pthread_barrier_destroy(&r.go);

    *f = (struct figures){.attempts = r.svc.attempts, .rejected = r.svc.rejected_after_recovery};
    for (int i = 0; i < BUCKETS; i++) {
        int rt = r.svc.retries_per_bucket[i], at = r.svc.attempts_per_bucket[i];
        f->peak_retries = rt > f->peak_retries ? rt : f->peak_retries;
        if (i >= OUTAGE_MS / 10 && at > f->peak_recovering)
            f->peak_recovering = at;
    }
    for (int i = 0; i < CLIENTS; i++) {
        f->gave_up += r.done_ns[i] < 0;
        if (r.done_ns[i] < 0)
            r.done_ns[i] = INT64_MAX;
    }
    qsort(r.done_ns, CLIENTS, sizeof r.done_ns[0], cmp64);
    f->p99_ms = (double)r.done_ns[(CLIENTS * 99) / 100 - 1] / 1e6;
    f->last_ms = (double)r.done_ns[CLIENTS - 1 - f->gave_up] / 1e6;
    return 0;
}

int main(void)
{
    struct herd_backoff_policy lockstep = {
        .kind = HERD_BACKOFF_EXPONENTIAL,
        .base_ns = 20 * HERD_NS_PER_MS,
        .cap_ns = 160 * HERD_NS_PER_MS,
        .max_attempts = 30,
        .deadline_ns = 2500 * HERD_NS_PER_MS,
    };
    struct herd_backoff_policy jittered = lockstep;
    jittered.kind = HERD_BACKOFF_FULL;
    struct figures n, j;
    if (run(&lockstep, &n) != 0 || run(&jittered, &j) != 0)
        return 2;

    printf("retries after an outage: %d clients, service down %d ms then %d req per 10 ms\n",
           CLIENTS, OUTAGE_MS, CAP);
    printf("  %-26s %12s %12s\n", "", "exponential", "full jitter");
    printf("  %-26s %12d %12d\n", "attempts at the service", n.attempts, j.attempts);
    printf("  %-26s %12d %12d\n", "retries in busiest 10 ms", n.peak_retries, j.peak_retries);
    printf("  %-26s %12d %12d\n", "busiest 10 ms, recovered", n.peak_recovering,
           j.peak_recovering);
    printf("  %-26s %12d %12d\n", "503s after recovery", n.rejected, j.rejected);
    printf("  %-26s %12d %12d\n", "clients that gave up", n.gave_up, j.gave_up);
    printf("  %-26s %9.0f ms %9.0f ms\n", "p99 time to success", n.p99_ms, j.p99_ms);
    printf("  %-26s %9.0f ms %9.0f ms\n", "last success", n.last_ms, j.last_ms);
    bool ok = j.peak_recovering < n.peak_recovering && j.rejected < n.rejected && j.gave_up == 0;
    printf("%s: once recovered, jitter cut the busiest 10 ms from %d to %d attempts and the "
           "503s from %d to %d%s\n",
           ok ? "PASS" : "FAIL", n.peak_recovering, j.peak_recovering, n.rejected, j.rejected,
           j.gave_up ? ", but clients gave up" : "");
    return ok ? 0 : 1;
}
