/* test_service.c — the service component: FIFO, bounded queue, abandonment and wasted
 * work, shedding, the USL and linear slowdowns, distributions, latency histogram. */
#include <criterion/criterion.h>
#include <herd/error.h>
#include <math.h>
#include <stdlib.h>

#include "../../src/report/hist.h"
#include "../../src/sim/engine.h"
#include "../../src/sim/service.h"

struct done_log {
    int n;
    uint64_t tag[64];
    int status[64];
    int64_t t[64], sojourn[64];
};

static void on_done(struct herd_sim *sim, void *ctx, uint64_t tag, int status, int64_t sojourn_ns)
{
    struct done_log *l = ctx;
    cr_assert_lt(l->n, 64);
    l->tag[l->n] = tag;
    l->status[l->n] = status;
    l->sojourn[l->n] = sojourn_ns;
    l->t[l->n++] = herd_sim_now(sim);
}

static struct herd_service_config det(int workers, int64_t cap, int64_t service_ns)
{
    return (struct herd_service_config){.workers = workers,
                                        .queue_cap = cap,
                                        .dist = HERD_SERVICE_DETERMINISTIC,
                                        .service_ns = service_ns,
                                        .stream = 1};
}

Test(service, fifo_with_one_worker)
{
    struct herd_sim sim;
    struct herd_service svc;
    cr_assert_eq(herd_sim_init(&sim, 1), 0);
    struct herd_service_config c = det(1, -1, 100);
    cr_assert_eq(herd_service_init(&svc, &sim, &c), 0);
    struct done_log l = {0};
    for (uint64_t i = 0; i < 3; i++)
        cr_assert_eq(herd_service_submit(&svc, on_done, &l, i, NULL), 0);
    cr_assert_eq(herd_service_busy(&svc), 1);
    cr_assert_eq(herd_service_queued(&svc), 2);
    cr_assert_eq(herd_sim_run_until(&sim, HERD_SIM_FOREVER), 0);
    cr_assert_eq(l.n, 3);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(l.tag[i], (uint64_t)i);
        cr_assert_eq(l.t[i], 100 * (i + 1));
        cr_assert_eq(l.status[i], 0);
        cr_assert_eq(l.sojourn[i], 100 * (i + 1)); /* all arrived at 0 */
    }
    const struct herd_service_stats *st = herd_service_stats(&svc);
    cr_assert_eq(st->arrivals, 3);
    cr_assert_eq(st->served, 3);
    cr_assert_eq(st->waited, 2);
    cr_assert_eq(st->peak_busy, 1);
    cr_assert_eq(st->peak_queue, 2);
    cr_assert_eq(st->busy_ns, 300);
    cr_assert_float_eq(st->wait_ns_sum, 300.0, 1e-9);    /* 0 + 100 + 200 */
    cr_assert_float_eq(st->sojourn_ns_sum, 600.0, 1e-9); /* 100 + 200 + 300 */
    herd_service_fini(&svc);
    herd_sim_fini(&sim);
}

Test(service, full_queue_rejects_or_drops)
{
    struct herd_sim sim;
    struct herd_service svc;
    struct done_log l = {0};
    cr_assert_eq(herd_sim_init(&sim, 1), 0);
    struct herd_service_config c = det(1, 1, 100);
    cr_assert_eq(herd_service_init(&svc, &sim, &c), 0);
    cr_assert_eq(herd_service_submit(&svc, on_done, &l, 1, NULL), 0);
    cr_assert_eq(herd_service_submit(&svc, on_done, &l, 2, NULL), 0);
    cr_assert_eq(herd_service_submit(&svc, on_done, &l, 3, NULL), -HERD_EREJECT);
    cr_assert_eq(herd_sim_run_until(&sim, HERD_SIM_FOREVER), 0);
    cr_assert_eq(l.n, 2);
    cr_assert_eq(herd_service_stats(&svc)->rejected, 1);
    herd_service_fini(&svc);

    c.overflow = HERD_SERVICE_DROP;
    c.queue_cap = 0;
    cr_assert_eq(herd_service_init(&svc, &sim, &c), 0);
    uint64_t id = 99;
    cr_assert_eq(herd_service_submit(&svc, on_done, &l, 4, &id), 0);
    cr_assert_neq(id, 0);
    cr_assert_eq(herd_service_submit(&svc, on_done, &l, 5, &id), 0);
    cr_assert_eq(id, 0, "a dropped request has no handle");
    cr_assert_eq(herd_service_abandon(&svc, id), -HERD_ENOENT);
    cr_assert_eq(herd_sim_run_until(&sim, HERD_SIM_FOREVER), 0);
    cr_assert_eq(l.n, 3, "no callback for the dropped request");
    cr_assert_eq(herd_service_stats(&svc)->dropped, 1);
    herd_service_fini(&svc);
    herd_sim_fini(&sim);
}

Test(service, abandoned_requests_are_served_as_wasted_work)
{
    struct herd_sim sim;
    struct herd_service svc;
    struct done_log l = {0};
    cr_assert_eq(herd_sim_init(&sim, 1), 0);
    struct herd_service_config c = det(1, -1, 100);
    cr_assert_eq(herd_service_init(&svc, &sim, &c), 0);
    uint64_t id[4];
    for (uint64_t i = 0; i < 4; i++)
        cr_assert_eq(herd_service_submit(&svc, on_done, &l, i, &id[i]), 0);
    cr_assert_eq(herd_service_abandon(&svc, id[0]), 0, "in service");
    cr_assert_eq(herd_service_abandon(&svc, id[2]), 0, "queued");
    cr_assert_eq(herd_service_abandon(&svc, id[2]), -HERD_ENOENT, "twice");
    cr_assert_eq(herd_sim_run_until(&sim, HERD_SIM_FOREVER), 0);
    cr_assert_eq(l.n, 2);
    cr_assert_eq(l.tag[0], 1);
    cr_assert_eq(l.t[0], 200, "the abandoned first request still took the worker");
    cr_assert_eq(l.tag[1], 3);
    cr_assert_eq(l.t[1], 400);
    const struct herd_service_stats *st = herd_service_stats(&svc);
    cr_assert_eq(st->served, 4);
    cr_assert_eq(st->wasted, 2);
    cr_assert_eq(st->wasted_ns, 200);
    cr_assert_eq(herd_service_abandon(&svc, id[1]), -HERD_ENOENT, "completed");
    herd_service_fini(&svc);

    /* A server that checks the connection first skips the queued abandoned one. */
    c.skip_abandoned = true;
    l.n = 0;
    cr_assert_eq(herd_service_init(&svc, &sim, &c), 0);
    for (uint64_t i = 0; i < 4; i++)
        cr_assert_eq(herd_service_submit(&svc, on_done, &l, i, &id[i]), 0);
    herd_service_abandon(&svc, id[0]);
    herd_service_abandon(&svc, id[2]);
    int64_t t0 = herd_sim_now(&sim);
    cr_assert_eq(herd_sim_run_until(&sim, HERD_SIM_FOREVER), 0);
    cr_assert_eq(l.n, 2);
    cr_assert_eq(l.t[1] - t0, 300, "three requests of work, not four");
    cr_assert_eq(herd_service_stats(&svc)->skipped, 1);
    cr_assert_eq(herd_service_stats(&svc)->wasted, 1);
    herd_service_fini(&svc);
    herd_sim_fini(&sim);
}

Test(service, shedding_requests_that_waited_too_long)
{
    struct herd_sim sim;
    struct herd_service svc;
    struct done_log l = {0};
    cr_assert_eq(herd_sim_init(&sim, 1), 0);
    struct herd_service_config c = det(1, -1, 100);
    c.shed_wait_ns = 150;
    cr_assert_eq(herd_service_init(&svc, &sim, &c), 0);
    for (uint64_t i = 0; i < 4; i++)
        herd_service_submit(&svc, on_done, &l, i, NULL);
    cr_assert_eq(herd_sim_run_until(&sim, HERD_SIM_FOREVER), 0);
    /* 0 runs 0..100, 1 runs 100..200 (waited 100), 2 would start at 200 having waited
     * 200 > 150: shed at 200, and so is 3. */
    cr_assert_eq(l.n, 4);
    cr_assert_eq(l.tag[1], 1);
    cr_assert_eq(l.t[1], 200);
    cr_assert_eq(l.tag[2], 2);
    cr_assert_eq(l.status[2], -HERD_ESHED);
    cr_assert_eq(l.t[2], 200);
    cr_assert_eq(l.status[3], -HERD_ESHED);
    cr_assert_eq(l.sojourn[2], 200, "a shed request's sojourn is its wait");
    cr_assert_eq(l.sojourn[3], 200);
    cr_assert_eq(herd_service_stats(&svc)->shed, 2);
    cr_assert_eq(herd_service_stats(&svc)->busy_ns, 200);
    herd_service_fini(&svc);
    herd_sim_fini(&sim);
}

Test(service, usl_and_linear_slowdowns)
{
    struct herd_sim sim;
    struct herd_service svc;
    struct done_log l = {0};
    cr_assert_eq(herd_sim_init(&sim, 1), 0);
    struct herd_service_config c = det(4, -1, 1000);
    c.usl_sigma = 0.1;
    c.usl_kappa = 0.01;
    cr_assert_eq(herd_service_init(&svc, &sim, &c), 0);
    for (uint64_t i = 0; i < 4; i++)
        herd_service_submit(&svc, on_done, &l, i, NULL);
    cr_assert_eq(herd_sim_run_until(&sim, HERD_SIM_FOREVER), 0);
    /* n-th to start: 1000 * (1 + 0.1 (n-1) + 0.01 n (n-1)) */
    int64_t want[4] = {1000, 1120, 1260, 1420};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(l.t[i], want[i], "request %d done at %ld", i, (long)l.t[i]);
    cr_assert_eq(herd_service_stats(&svc)->peak_busy, 4);
    herd_service_fini(&svc);

    c = det(1, -1, 1000);
    c.linear = 0.5;
    l.n = 0;
    cr_assert_eq(herd_service_init(&svc, &sim, &c), 0);
    int64_t t0 = herd_sim_now(&sim);
    for (uint64_t i = 0; i < 3; i++)
        herd_service_submit(&svc, on_done, &l, i, NULL);
    cr_assert_eq(herd_sim_run_until(&sim, HERD_SIM_FOREVER), 0);
    /* Held when each starts: 1 (alone), then 2 (itself + one queued), then 1. */
    cr_assert_eq(l.t[0] - t0, 1000);
    cr_assert_eq(l.t[1] - t0, 2500);
    cr_assert_eq(l.t[2] - t0, 3500);
    herd_service_fini(&svc);
    herd_sim_fini(&sim);
}

/* A closed-loop requester: resubmits from its completion callback. FIFO must hold. */
struct loop {
    struct herd_service *svc;
    int left;
    uint64_t next_tag;
    uint64_t order[32];
    int n;
};

static void on_loop_done(struct herd_sim *sim, void *ctx, uint64_t tag, int status,
                         int64_t sojourn_ns)
{
    (void)sim;
    (void)status;
    (void)sojourn_ns;
    struct loop *lp = ctx;
    lp->order[lp->n++] = tag;
    if (lp->left-- > 0)
        herd_service_submit(lp->svc, on_loop_done, lp, lp->next_tag++, NULL);
}

Test(service, reentrant_submit_does_not_overtake_the_queue)
{
    struct herd_sim sim;
    struct herd_service svc;
    cr_assert_eq(herd_sim_init(&sim, 1), 0);
    struct herd_service_config c = det(2, -1, 100);
    cr_assert_eq(herd_service_init(&svc, &sim, &c), 0);
    struct loop lp = {&svc, 4, 10, {0}, 0};
    for (uint64_t i = 0; i < 4; i++)
        herd_service_submit(&svc, on_loop_done, &lp, i, NULL);
    cr_assert_eq(herd_sim_run_until(&sim, HERD_SIM_FOREVER), 0);
    uint64_t want[8] = {0, 1, 2, 3, 10, 11, 12, 13};
    cr_assert_eq(lp.n, 8);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(lp.order[i], want[i], "completion %d", i);
    herd_service_fini(&svc);
    herd_sim_fini(&sim);
}

static void null_done(struct herd_sim *sim, void *ctx, uint64_t tag, int status,
                      int64_t sojourn_ns)
{
    (void)sim, (void)ctx, (void)tag, (void)status, (void)sojourn_ns;
}

/* Distributions: the means are what the config says, the log-normal has its shape. */
Test(service, service_time_distributions)
{
    enum { N = 200000 };
    enum herd_service_dist dists[2] = {HERD_SERVICE_EXPONENTIAL, HERD_SERVICE_LOGNORMAL};
    for (int k = 0; k < 2; k++) {
        struct herd_sim sim;
        struct herd_service svc;
        cr_assert_eq(herd_sim_init(&sim, 5), 0);
        struct herd_service_config c = {.workers = N,
                                        .queue_cap = -1,
                                        .dist = dists[k],
                                        .service_ns = 1000000,
                                        .lognormal_sigma = 1.0,
                                        .stream = 2};
        struct herd_hist *h = malloc(sizeof *h);
        herd_hist_init(h);
        c.latency = h;
        cr_assert_eq(herd_service_init(&svc, &sim, &c), 0);
        for (int i = 0; i < N; i++)
            herd_service_submit(&svc, null_done, NULL, 0, NULL);
        cr_assert_eq(herd_sim_run_until(&sim, HERD_SIM_FOREVER), 0);
        cr_assert_eq(h->count, N);
        /* Standard error of the mean: 1/sqrt(N) (exponential), sqrt(e - 1)/sqrt(N)
         * (log-normal, sigma 1): 0.22 % and 0.29 %; 1.5 % is over 5 of them. */
        double mean = (double)herd_service_stats(&svc)->busy_ns / N;
        cr_assert(fabs(mean / 1e6 - 1) < 0.015, "dist %d: mean %.0f", k, mean);
        double median = (double)herd_hist_quantile(h, 0.5);
        double want = k == 0 ? 1e6 * log(2.0) : 1e6 * exp(-0.5); /* exp(mu) */
        cr_assert(fabs(median / want - 1) < 0.02, "dist %d: median %.0f want %.0f", k, median,
                  want);
        herd_service_fini(&svc);
        herd_sim_fini(&sim);
        free(h);
    }
}

Test(service, bad_configs_are_rejected)
{
    struct herd_sim sim;
    struct herd_service svc;
    cr_assert_eq(herd_sim_init(&sim, 1), 0);
    struct herd_service_config c = det(0, -1, 100);
    cr_assert_eq(herd_service_init(&svc, &sim, &c), -HERD_EINVAL);
    c = det(1, -1, -1);
    cr_assert_eq(herd_service_init(&svc, &sim, &c), -HERD_EINVAL);
    c = det(1, -1, 100);
    c.usl_kappa = -0.1;
    cr_assert_eq(herd_service_init(&svc, &sim, &c), -HERD_EINVAL);
    herd_sim_fini(&sim);
}
