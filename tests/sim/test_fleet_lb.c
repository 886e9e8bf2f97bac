/* test_fleet_lb.c — load balancers of the fleet simulator (src/sim/fleet_lb.c): a drop
 * costs one handshake per connection, resumption and the handshake rate limit do what
 * their numbers say, draining spreads the reconnects, a connection per attempt pays a
 * handshake per attempt, and naive reconnects after a drop keep a backend down that
 * jittered ones let recover.
 *
 * Models are built in C (fleet_models.h). Counts are exact where the model makes them so
 * (no network, a backend without a queue, constant times); the storm's relations hold
 * for any seed.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>

#include "fleet_models.h"

#define N 5000

/* N idle persistent clients → lb → an api of unlimited workers; the lb drops at 1 s. */
static void idle_drop(struct herd_fleet *m, bool resumption)
{
    fm_init(m, "drop", 10 * SEC, 0, 100 * MS);
    int api = fm_service(m, "api", 0, HERD_FLEET_DIST_CONSTANT, MS);
    int lb = fm_lb(m, "lb", api, 2 * MS, 200000, resumption);
    fm_idle_conns(m, N, lb);
    m->herd = api;
    fm_fault(m, HERD_FLEET_FAULT_DROP, lb, SEC, 0, 0);
}

static int64_t series_sum(const struct herd_fleet_comp_figures *c, int s, size_t from, size_t to)
{
    int64_t sum = 0;
    for (size_t k = from; k < to; k++)
        sum += c->series[s][k];
    return sum;
}

/* Every connection dropped is reopened at once with one full handshake: N handshakes,
 * N reconnects, N × 2 ms of the api's workers, all of it handshakes, all at 1 s. */
Test(fleet_lb, a_drop_costs_one_handshake_per_connection)
{
    struct herd_fleet m;
    idle_drop(&m, false);
    struct herd_report r;
    cr_assert_eq(fm_run(&m, 1, &r), 0);
    const struct herd_fleet_comp_figures *api = &r.fleet->comps[0], *lb = &r.fleet->comps[1];
    cr_log_info("lb: %" PRIu64 " handshakes, %" PRIu64 " reconnects, %" PRIu64 " dropped; api "
                "busy %" PRId64 " ns",
                lb->handshakes, lb->reconnects, lb->conns_dropped, api->busy_ns);
    cr_assert_str_eq(lb->kind, "lb");
    cr_assert_eq(lb->conns_dropped, N);
    cr_assert_eq(lb->reconnects, N);
    cr_assert_eq(lb->handshakes, N);
    cr_assert_eq(lb->resumed, 0);
    cr_assert_eq(lb->conns_peak, N);
    cr_assert_eq(api->calls, N);
    cr_assert_eq(api->busy_ns, N * 2 * MS);
    cr_assert_eq(api->handshake_ns, api->busy_ns);
    cr_assert_eq(lb->series[HERD_FLEET_S_HANDSHAKES][10], N); /* the bucket at 1 s */
    cr_assert_eq(series_sum(lb, HERD_FLEET_S_HANDSHAKES, 0, r.fleet->nbuckets), N);
    cr_assert_eq(lb->series[HERD_FLEET_S_CONNECTIONS][r.fleet->nbuckets - 1], N);
    cr_assert_eq(lb->handshakes_peak_per_s, N * 10.0);
    herd_report_fini(&r);
}

/* With resumption every client has a session (it connected before): N resumed
 * handshakes at 200 µs, a tenth of the worker time. */
Test(fleet_lb, resumption_costs_the_resumed_price)
{
    struct herd_fleet m;
    idle_drop(&m, true);
    struct herd_report r;
    cr_assert_eq(fm_run(&m, 1, &r), 0);
    const struct herd_fleet_comp_figures *api = &r.fleet->comps[0], *lb = &r.fleet->comps[1];
    cr_assert_eq(lb->handshakes, N);
    cr_assert_eq(lb->resumed, N);
    cr_assert_eq(api->busy_ns, N * 200000);
    herd_report_fini(&r);
}

/* A handshake rate of 1,000/s with a burst of 100: in any window from the drop on, the
 * lb lets through at most burst + rate × window; the rest are refused and reconnect
 * after their (constant) wait, so every client gets back, and each reconnect attempt is
 * either let through or refused. */
Test(fleet_lb, the_handshake_rate_limit_holds_and_everyone_gets_back)
{
    struct herd_fleet m;
    idle_drop(&m, false);
    m.comps[1].u.lb.handshake_rate_per_s = 1000;
    m.comps[1].u.lb.handshake_burst = 100;
    m.comps[2].u.clients.conn.reconnect = HERD_FLEET_BACKOFF_CONSTANT;
    m.comps[2].u.clients.conn.base_ns = 100 * MS;
    struct herd_report r;
    cr_assert_eq(fm_run(&m, 2, &r), 0);
    const struct herd_fleet_comp_figures *lb = &r.fleet->comps[1];
    cr_log_info("lb: %" PRIu64 " handshakes, %" PRIu64 " refused, %" PRIu64 " reconnects",
                lb->handshakes, lb->handshakes_refused, lb->reconnects);
    cr_assert_eq(lb->handshakes, N);
    cr_assert_gt(lb->handshakes_refused, 0);
    cr_assert_eq(lb->reconnects, lb->handshakes + lb->handshakes_refused);
    for (size_t to = 11; to <= r.fleet->nbuckets; to++) {
        int64_t got = series_sum(lb, HERD_FLEET_S_HANDSHAKES, 10, to);
        int64_t bound = 100 + 1000 * (int64_t)(to - 10) / 10;
        cr_assert_leq(got, bound, "%" PRId64 " handshakes in %zu buckets", got, to - 10);
    }
    cr_assert_eq(lb->series[HERD_FLEET_S_CONNECTIONS][r.fleet->nbuckets - 1], N);
    herd_report_fini(&r);
}

/* Draining over 2 s closes each connection at a uniform time in [1 s, 3 s): the
 * reconnects come at N / 20 = 250 per 100 ms bucket (Poisson-like spread ±16: the bound
 * is five of it), none outside the window. */
Test(fleet_lb, draining_spreads_the_reconnects)
{
    struct herd_fleet m;
    idle_drop(&m, false);
    m.comps[1].u.lb.drain_ns = 2 * SEC;
    struct herd_report r;
    cr_assert_eq(fm_run(&m, 3, &r), 0);
    const struct herd_fleet_comp_figures *lb = &r.fleet->comps[1];
    cr_assert_eq(lb->handshakes, N);
    for (size_t k = 0; k < r.fleet->nbuckets; k++) {
        int64_t v = lb->series[HERD_FLEET_S_HANDSHAKES][k];
        if (k < 10 || k >= 30)
            cr_assert_eq(v, 0, "bucket %zu: %" PRId64, k, v);
        else
            cr_assert(v > 170 && v < 330, "bucket %zu: %" PRId64 " handshakes", k, v);
    }
    herd_report_fini(&r);
}

/* Without persistent connections every attempt opens one: handshakes = attempts at the
 * lb, and with a constant 1 ms request and a 2 ms handshake, handshakes are exactly two
 * thirds of the api's worker time. */
Test(fleet_lb, a_connection_per_attempt_pays_a_handshake_per_attempt)
{
    struct herd_fleet m;
    fm_init(&m, "no-keepalive", 5 * SEC, SEC, 100 * MS);
    int api = fm_service(&m, "api", 0, HERD_FLEET_DIST_CONSTANT, MS);
    int lb = fm_lb(&m, "lb", api, 2 * MS, 200000, false);
    int cl = fm_open(&m, "clients", 100, 1000, lb);
    m.comps[cl].u.clients.conn.persistent = false;
    m.herd = api;
    struct herd_report r;
    cr_assert_eq(fm_run(&m, 4, &r), 0);
    const struct herd_fleet_comp_figures *a = &r.fleet->comps[api], *l = &r.fleet->comps[lb];
    cr_assert_gt(l->attempts, 4000);
    cr_assert_eq(l->handshakes, l->attempts);
    cr_assert_eq(l->conns_peak, 0);
    cr_assert_eq(a->handshake_ns * 3, a->busy_ns * 2);
    herd_report_fini(&r);
}

/* The storm: 20,000 clients (2,000 requests/s) through an lb to 16 workers; a drop makes
 * 20,000 handshakes of 4 ms = 80 worker-seconds, five seconds of the api, far past the
 * 1 s connect timeout. Reconnecting at once, the handshakes that timed out are done for
 * nobody and redone: the api stays full (stuck). Reconnecting after U(0, 10 s), it takes
 * 2,000 handshakes/s, 8 workers: it recovers. */
static void storm(struct herd_fleet *m, enum herd_fleet_backoff reconnect)
{
    fm_init(m, "storm", 30 * SEC, 5 * SEC, 250 * MS);
    int api = fm_service(m, "api", 16, HERD_FLEET_DIST_EXPONENTIAL, 2 * MS);
    int lb = fm_lb(m, "lb", api, 4 * MS, 400000, false);
    struct herd_fleet_component *c =
        &m->comps[fm_clients(m, "clients", 20000, HERD_FLEET_CLOSED, lb)];
    c->u.clients.think_ns = 10 * SEC;
    c->u.clients.call.timeout_ns = SEC;
    c->u.clients.call.net_ns = MS;
    c->u.clients.conn.persistent = true;
    c->u.clients.conn.reconnect = reconnect;
    c->u.clients.conn.base_ns = 10 * SEC;
    m->herd = api;
    m->recover_share = 0.9;
    fm_fault(m, HERD_FLEET_FAULT_DROP, lb, 5 * SEC, 0, 0);
}

Test(fleet_lb, naive_reconnects_stay_stuck_jittered_ones_recover)
{
    struct herd_fleet naive, jitter;
    storm(&naive, HERD_FLEET_BACKOFF_NONE);
    storm(&jitter, HERD_FLEET_BACKOFF_FULL);
    struct herd_report a, b;
    cr_assert_eq(fm_run(&naive, 5, &a), 0);
    cr_assert_eq(fm_run(&jitter, 5, &b), 0);
    const struct herd_fleet_comp_figures *an = &a.fleet->comps[0], *ln = &a.fleet->comps[1],
                                         *aj = &b.fleet->comps[0], *lj = &b.fleet->comps[1];
    cr_log_info("naive: %" PRIu64 " handshakes (peak %.0f/s), %s, api %.0f %% handshakes, "
                "%" PRIu64 " wasted; jitter: %" PRIu64 " handshakes (peak %.0f/s), %s",
                ln->handshakes, ln->handshakes_peak_per_s, a.fleet->verdict,
                100.0 * (double)an->handshake_ns / (double)an->busy_ns, an->wasted, lj->handshakes,
                lj->handshakes_peak_per_s, b.fleet->verdict);
    cr_assert_str_eq(a.fleet->verdict, "stuck");
    cr_assert_str_eq(b.fleet->verdict, "recovered");
    cr_assert_gt(ln->handshakes, 3 * 20000);
    cr_assert_gt(an->wasted, 20000);
    cr_assert_lt(lj->handshakes, 21000);
    cr_assert_lt(lj->handshakes_peak_per_s, ln->handshakes_peak_per_s / 5);
    cr_assert_gt(an->handshake_ns * 2, an->busy_ns); /* mostly handshakes */
    cr_assert_lt(aj->handshake_ns * 2, aj->busy_ns);
    cr_assert_lt(a.fleet->goodput_after, 0.5 * a.fleet->goodput_before);
    herd_report_fini(&a);
    herd_report_fini(&b);
}

Test(fleet_lb, same_seed_same_json)
{
    struct herd_fleet m;
    storm(&m, HERD_FLEET_BACKOFF_FULL);
    m.duration_ns = 12 * SEC;
    struct herd_report a, b;
    cr_assert_eq(fm_run(&m, 8, &a), 0);
    cr_assert_eq(fm_run(&m, 8, &b), 0);
    char *ja = fm_json(&a), *jb = fm_json(&b);
    cr_assert(ja && jb);
    cr_assert(strstr(ja, "\"handshakes\"") != NULL);
    cr_assert_str_eq(ja, jb);
    free(ja);
    free(jb);
    herd_report_fini(&a);
    herd_report_fini(&b);
}
