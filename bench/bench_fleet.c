/* bench_fleet.c — the simulator on a full herd model: a million clients in jittered
 * backoff against servers with bounded queues (issue 4's "≥ 10 M simulated events/s
 * per core on a full herd model").
 *
 * The model, built from the sim's own components as the herd models build theirs:
 *   - a client fleet (src/sim/client.h), TRIGGERED: all N clients fire at t = 0 by
 *     their own clocks, each clock off by Normal(0, 1 ms); every attempt has a 50 ms
 *     timeout; after a failure, libherd's backoff with full jitter (herd/backoff.h,
 *     U[base, min(cap, base·2ⁿ)], base 10 ms, cap 10 s, unlimited attempts, so every
 *     client succeeds in the end and the run completes);
 *   - S = 4 services (src/sim/service.h), each 16 workers, exponential service of mean
 *     1 ms (64,000 requests/s in all), a FIFO of 1,000 places that REJECTS when full;
 *     client i talks to service i mod S;
 *   - the send puts the attempt in its service (a reject is a failure the client hears
 *     at once), a completion replies success, a timeout abandons the request. The
 *     services skip abandoned requests still queued (skip_abandoned: a server that
 *     checks the connection first); ones already in service are finished as wasted
 *     work. Without the skip this model is the metastable collapse itself: a full
 *     queue waits 62 ms > the 50 ms timeout, every request served is one nobody waits
 *     for, retries keep the queue full, and the run never ends (a 300 s simulated
 *     horizon guards against that; the summary says if it was reached).
 * So the herd lands, ~99 % of the first attempts are rejected, the fleet spreads out
 * in backoff, timeouts fire while the queues are deep, and the servers drain the
 * fleet at capacity for ~16 simulated seconds.
 *
 * Measured per repetition (median of REPS, each a fresh simulation):
 *   events     engine events dispatched (client firings, retries, timeouts that fired,
 *              service completions) — what "simulated events" means in the goal;
 *   run        CPU seconds (CLOCK_PROCESS_CPUTIME_ID) of herd_sim_run_until alone, and
 *              M events/s over it; the one core is the only one used;
 *   total      CPU seconds including setup (fleet init: a million rng streams; the
 *              trigger's radix sort of firings), and M events/s over that;
 *   wall       wall-clock seconds of the whole repetition;
 *   bytes/cl   the process's peak RSS (getrusage ru_maxrss, everything: engine, fleet,
 *              services) divided by N.
 * The outcome (attempts, rejects, timeouts, wasted, sim time) is printed too, so a
 * change that speeds the run by changing the model shows up as a different model.
 *
 * Usage: bench_fleet [N] [reps]   (default 1000000 3). Not a test: prints and exits 0.
 */
#include <herd/backoff.h>
#include <herd/error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "../src/sim/client.h"
#include "../src/sim/engine.h"
#include "../src/sim/service.h"
#include "bench.h"

#define SERVICES 4
#define MAX_REPS 15
#define HORIZON_NS (INT64_C(300) * 1000000000) /* a guard: the run ends long before */

struct fleet_model {
    struct herd_sim sim;
    struct herd_client_fleet fleet;
    struct herd_service svc[SERVICES];
    uint64_t ok;
    int64_t last_done_ns; /* the run's simulated length: its last request's end */
};

static void on_served(struct herd_sim *sim, void *ctx, uint64_t tag, int status,
                      int64_t sojourn_ns)
{
    (void)sim;
    (void)sojourn_ns;
    struct fleet_model *m = ctx;
    herd_client_reply(&m->fleet, tag, status);
}

static void on_send(struct herd_sim *sim, void *ctx, uint32_t client, uint64_t tag)
{
    (void)sim;
    struct fleet_model *m = ctx;
    /* The service's request id, for abandon, lives in the client's hot record. */
    uint64_t *req = herd_client_user(&m->fleet, client);
    int rc = herd_service_submit(&m->svc[client % SERVICES], on_served, m, tag, req);
    if (rc == -HERD_EREJECT)
        herd_client_reply(&m->fleet, tag, -1); /* a fast 503 */
    else if (rc < 0)
        herd_sim_stop(sim); /* out of memory: sim->err says so */
}

static void on_abandon(struct herd_sim *sim, void *ctx, uint32_t client, uint64_t tag)
{
    (void)sim;
    (void)tag;
    struct fleet_model *m = ctx;
    herd_service_abandon(&m->svc[client % SERVICES],
                         *(uint64_t *)herd_client_user(&m->fleet, client));
}

static void on_done(struct herd_sim *sim, void *ctx, uint32_t client, enum herd_client_outcome out,
                    int64_t latency_ns)
{
    (void)client;
    (void)latency_ns;
    struct fleet_model *m = ctx;
    m->ok += out == HERD_CLIENT_OK;
    m->last_done_ns = herd_sim_now(sim);
}

/* Prefetch hint (engine.h, herd_sim_prefetch): the client whose completion comes next. */
static void prefetch_served(void *ctx, uint64_t tag)
{
    struct fleet_model *m = ctx;
    herd_client_prefetch(&m->fleet, tag);
}

struct result {
    uint64_t events;
    double run_cpu, total_cpu, wall;
    int64_t sim_ns;
    struct herd_client_stats cs;
    uint64_t served, wasted, rejected, ok;
    size_t client_bytes;
    size_t pending; /* events left at the horizon: 0 when the run completed */
};

static int run_once(uint32_t n, uint64_t seed, struct result *res)
{
    double w0 = bench_now_s(), c0 = bench_cpu_s();
    struct fleet_model *m = calloc(1, sizeof *m);
    if (!m)
        return -HERD_ENOMEM;
    int rc = -HERD_ENOMEM;
    int nsvc = 0;
    bool sim_up = false, fleet_up = false;
    if ((rc = herd_sim_init(&m->sim, seed)) < 0)
        goto out;
    sim_up = true;
    for (; nsvc < SERVICES; nsvc++) {
        struct herd_service_config sc = {
            .workers = 16,
            .queue_cap = 1000,
            .overflow = HERD_SERVICE_REJECT,
            .dist = HERD_SERVICE_EXPONENTIAL,
            .service_ns = 1000000,
            .skip_abandoned = true,
            .stream = (UINT64_C(10) << 32) | (uint64_t)nsvc,
            .prefetch = prefetch_served,
        };
        if ((rc = herd_service_init(&m->svc[nsvc], &m->sim, &sc)) < 0)
            goto out;
    }
    struct herd_client_config cc = {
        .arrival = HERD_CLIENT_TRIGGERED,
        .n = n,
        .component = 1,
        .skew_sd_ns = 1e6,
        .timeout_ns = 50000000,
        .backoff = {.kind = HERD_BACKOFF_FULL, .base_ns = 10000000, .cap_ns = 10000000000},
        .send = on_send,
        .abandon = on_abandon,
        .done = on_done,
        .ctx = m,
        .user_bytes = sizeof(uint64_t),
    };
    if ((rc = herd_client_init(&m->fleet, &m->sim, &cc)) < 0)
        goto out;
    fleet_up = true;
    if ((rc = herd_client_trigger(&m->fleet, herd_client_skew_bound(&m->fleet))) < 0)
        goto out;
    double c1 = bench_cpu_s();
    rc = herd_sim_run_until(&m->sim, HORIZON_NS);
    double c2 = bench_cpu_s();
    if (rc < 0)
        goto out;
    res->events = herd_sim_events(&m->sim);
    res->run_cpu = c2 - c1;
    res->sim_ns = m->last_done_ns;
    res->cs = *herd_client_stats(&m->fleet);
    res->served = res->wasted = res->rejected = 0;
    for (int s = 0; s < SERVICES; s++) {
        const struct herd_service_stats *st = herd_service_stats(&m->svc[s]);
        res->served += st->served;
        res->wasted += st->wasted;
        res->rejected += st->rejected;
    }
    res->ok = m->ok;
    res->pending = herd_sim_pending(&m->sim);
    res->client_bytes = herd_client_bytes(&m->fleet);
out:
    if (fleet_up)
        herd_client_fini(&m->fleet);
    while (nsvc > 0)
        herd_service_fini(&m->svc[--nsvc]);
    if (sim_up)
        herd_sim_fini(&m->sim);
    free(m);
    res->total_cpu = bench_cpu_s() - c0;
    res->wall = bench_now_s() - w0;
    return rc;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    int reps = argc > 2 ? atoi(argv[2]) : 3;
    if (n < 1 || n > (1L << 21) || reps < 1 || reps > MAX_REPS) {
        fprintf(stderr, "usage: bench_fleet [N in 1..2097152] [reps in 1..%d]\n", MAX_REPS);
        return 2;
    }
    printf("fleet: N = %ld clients, triggered at t = 0 (skew sd 1 ms), timeout 50 ms, full "
           "jitter 10 ms .. 10 s;\n       %d services x 16 workers, exp 1 ms, queue 1,000, "
           "reject when full; median of %d\n",
           n, SERVICES, reps);
    printf("  %3s %11s %9s %9s %9s %10s %10s\n", "rep", "events", "run s", "total s", "wall s",
           "run Mev/s", "tot Mev/s");
    double run_rate[MAX_REPS], tot_rate[MAX_REPS], run_ns[MAX_REPS], wall[MAX_REPS];
    struct result r = {0};
    for (int k = 0; k < reps; k++) {
        int rc = run_once((uint32_t)n, 1, &r);
        if (rc < 0) {
            fprintf(stderr, "bench_fleet: %s\n", herd_strerror(rc));
            return 1;
        }
        run_rate[k] = (double)r.events / r.run_cpu / 1e6;
        tot_rate[k] = (double)r.events / r.total_cpu / 1e6;
        run_ns[k] = r.run_cpu / (double)r.events * 1e9;
        wall[k] = r.wall;
        printf("  %3d %11llu %9.3f %9.3f %9.3f %10.2f %10.2f\n", k + 1,
               (unsigned long long)r.events, r.run_cpu, r.total_cpu, r.wall, run_rate[k],
               tot_rate[k]);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double bytes_per_client = (double)ru.ru_maxrss * 1024.0 / (double)n;
    printf("model: sim time %.3f s; requests %llu ok %llu; attempts %llu (retries %llu), "
           "rejected %llu,\n       timeouts %llu, served %llu (wasted %llu)\n",
           (double)r.sim_ns * 1e-9, (unsigned long long)r.cs.fired, (unsigned long long)r.ok,
           (unsigned long long)r.cs.attempts, (unsigned long long)r.cs.retries,
           (unsigned long long)r.rejected, (unsigned long long)r.cs.timeouts,
           (unsigned long long)r.served, (unsigned long long)r.wasted);
    if (r.pending)
        printf("       NOT COMPLETE: %zu events pending at the %.0f s horizon\n", r.pending,
               (double)HORIZON_NS * 1e-9);
    printf("median: %.2f M events/s per core (run), %.1f ns/event; %.2f M events/s with setup; "
           "wall %.3f s\n",
           bench_median(run_rate, reps), bench_median(run_ns, reps), bench_median(tot_rate, reps),
           bench_median(wall, reps));
    printf("memory: peak RSS %.1f MB = %.0f bytes/client (fleet state alone: %zu bytes/client, "
           "with this model's 8-byte request id in each client's record)\n",
           (double)ru.ru_maxrss / 1024.0, bytes_per_client, r.client_bytes);
    return 0;
}
