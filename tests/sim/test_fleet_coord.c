/* test_fleet_coord.c — coordination services of the fleet simulator
 * (src/sim/fleet_coord.c): the counts of each lock's way of waiting, the split-vote
 * probability of randomized election timeouts against its closed form, equal timeouts
 * that never elect, and leader requests that fail while there is no leader.
 *
 * Lock models: N clients all asking for one lock at t = 0, no network, a hold (10 ms)
 * far longer than the service needs to hear every waiter (N × 10 µs), so each release
 * finds every other client waiting and the counts are exact.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>

#include "fleet_models.h"

#define N 50

static void contenders(struct herd_fleet *m, enum herd_fleet_lock mode)
{
    fm_init(m, "lock", 2 * SEC, 10 * SEC, 100 * MS);
    int zk = fm_coord(m, "zk", 1, 10000, mode);
    struct herd_fleet_component *c =
        &m->comps[fm_clients(m, "workers", N, HERD_FLEET_TRIGGERED, zk)];
    c->u.clients.call.op = HERD_FLEET_OP_LOCK;
    c->u.clients.call.hold_ns = 10 * MS;
    m->herd = zk;
}

static void run_lock(enum herd_fleet_lock mode, struct herd_report *r)
{
    struct herd_fleet m;
    contenders(&m, mode);
    cr_assert_eq(fm_run(&m, 1, r), 0);
    const struct herd_fleet_comp_figures *zk = &r->fleet->comps[0], *cl = &r->fleet->comps[1];
    cr_log_info("%s: %" PRIu64 " requests, %" PRIu64 " watch events, %" PRIu64 " wake-ups (%" PRIu64
                " wasted), %" PRIu64 " granted, wait p50 %" PRId64 " ns p99 %" PRId64 " ns",
                mode == HERD_FLEET_LOCK_NOTIFY_ALL   ? "notify-all"
                : mode == HERD_FLEET_LOCK_NOTIFY_ONE ? "notify-one"
                                                     : "poll",
                zk->coord_requests, zk->watch_events, zk->wakeups, zk->wasted_wakeups,
                zk->lock_grants, zk->lock_p50_ns, zk->lock_p99_ns);
    cr_assert_str_eq(zk->kind, "coord");
    cr_assert_eq(zk->lock_grants, N);
    cr_assert_eq(cl->ok, N);
}

/* Notify-all: the k-th release wakes the N − k still waiting; one of them wins. */
Test(fleet_coord, notify_all_wakes_every_waiter_at_each_release)
{
    struct herd_report r;
    run_lock(HERD_FLEET_LOCK_NOTIFY_ALL, &r);
    const struct herd_fleet_comp_figures *zk = &r.fleet->comps[0];
    cr_assert_eq(zk->watch_events, N * (N - 1) / 2);
    cr_assert_eq(zk->wakeups, N * (N - 1) / 2);
    cr_assert_eq(zk->wasted_wakeups, (N - 1) * (N - 2) / 2);
    /* first tries, the woken's tries, releases */
    cr_assert_eq(zk->coord_requests, N + N * (N - 1) / 2 + N);
    herd_report_fini(&r);
}

/* Notify-one: each release wakes the next in the queue only. FIFO: the k-th in line
 * gets the lock after k holds (10 ms + a release and a read, 20 µs, each). */
Test(fleet_coord, notify_one_wakes_one_per_release)
{
    struct herd_report r;
    run_lock(HERD_FLEET_LOCK_NOTIFY_ONE, &r);
    const struct herd_fleet_comp_figures *zk = &r.fleet->comps[0];
    cr_assert_eq(zk->watch_events, N - 1);
    cr_assert_eq(zk->wakeups, N - 1);
    cr_assert_eq(zk->wasted_wakeups, 0);
    cr_assert_eq(zk->coord_requests, N + (N - 1) + N);
    double step = 10.02e6, p99 = (double)zk->lock_p99_ns;
    cr_assert(p99 > 0.97 * (N - 2) * step && p99 < 1.03 * (N - 1) * step, "p99 %.4g", p99);
    herd_report_fini(&r);
}

/* Polling: no watch events; every grant but the first comes from a poll, every other
 * poll is wasted; each waiter polls about (its wait) / (100 ms) times. */
Test(fleet_coord, polling_wastes_the_polls_that_find_the_lock_held)
{
    struct herd_report r;
    run_lock(HERD_FLEET_LOCK_POLL, &r);
    const struct herd_fleet_comp_figures *zk = &r.fleet->comps[0];
    cr_assert_eq(zk->watch_events, 0);
    cr_assert_eq(zk->wasted_wakeups, zk->wakeups - (N - 1));
    /* the waits add up to at least Σ k·10 ms = 12.25 s: over 100 ms polls, ~122 */
    cr_assert(zk->wakeups > 100 && zk->wakeups < 250, "%" PRIu64 " polls", zk->wakeups);
    herd_report_fini(&r);
}

/* Callers that give up: 200 contenders for a lock that takes 5 ms a holder, a 300 ms
 * timeout. About 60 get it in time; the others time out while waiting, leave when next
 * woken or granted (cancelled, or held for nobody: wasted), and every call ends. */
Test(fleet_coord, waiters_that_time_out_leave)
{
    for (int mode = HERD_FLEET_LOCK_NOTIFY_ALL; mode <= HERD_FLEET_LOCK_POLL; mode++) {
        struct herd_fleet m;
        contenders(&m, (enum herd_fleet_lock)mode);
        m.comps[1].u.clients.n = 200;
        m.comps[1].u.clients.call.hold_ns = 5 * MS;
        m.comps[1].u.clients.call.timeout_ns = 300 * MS;
        struct herd_report r;
        cr_assert_eq(fm_run(&m, 7, &r), 0);
        const struct herd_fleet_comp_figures *zk = &r.fleet->comps[0], *cl = &r.fleet->comps[1];
        cr_log_info("mode %d: ok %" PRIu64 ", errors %" PRIu64 ", granted %" PRIu64
                    ", cancelled %" PRIu64 ", wasted %" PRIu64,
                    mode, cl->ok, cl->errors, zk->lock_grants, zk->cancelled, zk->wasted);
        cr_assert_eq(cl->ok + cl->errors, 200);
        cr_assert(cl->ok > 30 && cl->ok < 62, "ok %" PRIu64, cl->ok);
        cr_assert_gt(zk->cancelled + zk->wasted, 0);
        cr_assert_eq(r.wakes, r.useful + r.served + r.wasted + r.failed);
        herd_report_fini(&r);
    }
}

/* ---- leader election ------------------------------------------------------------------ */

#define DEATHS 16

/* A coord of 5 members whose leader dies every 3 s (back 2.5 s later): 16 elections
 * among the 4 others, each in rounds of timers 150 ms + U[0, W). */
static void elections(struct herd_fleet *m, int64_t jitter_ns)
{
    fm_init(m, "election", 3 * SEC * DEATHS, SEC, SEC);
    m->herd = fm_coord(m, "etcd", 1, 10000, HERD_FLEET_LOCK_NOTIFY_ALL);
    m->comps[0].u.coord.candidates = 5;
    m->comps[0].u.coord.election_jitter_ns = jitter_ns;
    for (int i = 0; i < DEATHS; i++)
        fm_fault(m, HERD_FLEET_FAULT_LEADER_DEATH, 0, SEC + 3 * SEC * i, 2500 * MS, 0);
}

/* A round splits when the second timer fires within δ = 10 ms of the first: for n = 4
 * uniform timers over W, 1 − (1 − δ/W)^4. 60 runs × 16 elections: ~1,150 rounds or
 * more, a standard error under 1.5 %; the bound is 4.5 points (3 standard errors). */
static void split_point(int64_t w_ns)
{
    uint64_t rounds = 0, splits = 0, elected = 0;
    int64_t first_round = INT64_MAX;
    for (int s = 0; s < 60; s++) {
        struct herd_fleet m;
        elections(&m, w_ns);
        struct herd_report r;
        cr_assert_eq(fm_run(&m, herd_run_seed(21, s), &r), 0);
        const struct herd_fleet_comp_figures *c = &r.fleet->comps[0];
        rounds += c->election_rounds;
        splits += c->split_votes;
        elected += c->elections;
        if (c->leader_ns < first_round)
            first_round = c->leader_ns;
        herd_report_fini(&r);
    }
    double p = (double)splits / (double)rounds, d = 10e6 / (double)w_ns;
    double want = 1 - pow(1 - d, 4);
    cr_log_info("W = %.0f ms: %" PRIu64 " rounds, split share %.4f (closed form %.4f), "
                "%" PRIu64 " elections, quickest %" PRId64 " ns",
                (double)w_ns / 1e6, rounds, p, want, elected, first_round);
    /* an election longer than the 2.5 s its leader stays dead (15 rounds or more:
     * under 0.05 % at W = 50 ms) sees the old leader back: allow two */
    cr_assert_geq(elected, 60 * DEATHS - 2);
    cr_assert_leq(rounds - splits - elected, 2);
    cr_assert(fabs(p - want) < 0.045, "W=%g ms: split share %.4f, want %.4f", (double)w_ns / 1e6, p,
              want);
    cr_assert_geq(first_round, 160 * MS); /* timeout + vote time at the least */
}

Test(fleet_coord, split_votes_match_the_closed_form)
{
    split_point(50 * MS);
    split_point(100 * MS);
    split_point(300 * MS);
}

/* Equal timeouts: every round splits, no leader ever; leader requests fail from the
 * death on. */
/* 100 jobs asking a 5-member etcd for its leader at 1,000/s; the leader dies at 2 s
 * (noticed after a lease of @p lease_ns); timers jittered over @p jitter_ns. Run. */
static void leader_jobs(int64_t lease_ns, int64_t jitter_ns, struct herd_report *r)
{
    struct herd_fleet m;
    fm_init(&m, "jobs", 10 * SEC, 0, SEC);
    int etcd = fm_coord(&m, "etcd", 4, 10000, HERD_FLEET_LOCK_NOTIFY_ALL);
    m.comps[etcd].u.coord.candidates = 5;
    m.comps[etcd].u.coord.lease_ns = lease_ns;
    m.comps[etcd].u.coord.election_jitter_ns = jitter_ns;
    int cl = fm_open(&m, "jobs", 100, 1000, etcd);
    m.comps[cl].u.clients.call.op = HERD_FLEET_OP_LEADER;
    m.herd = etcd;
    fm_fault(&m, HERD_FLEET_FAULT_LEADER_DEATH, etcd, 2 * SEC, 0, 0);
    cr_assert_eq(fm_run(&m, 6, r), 0);
}

Test(fleet_coord, equal_timeouts_never_elect)
{
    struct herd_report r;
    leader_jobs(SEC, 0, &r);
    const struct herd_fleet_comp_figures *e = &r.fleet->comps[0], *j = &r.fleet->comps[1];
    cr_log_info("equal: %" PRIu64 " rounds, %" PRIu64 " split, %" PRIu64
                " requests; jobs ok %" PRIu64 " errors %" PRIu64,
                e->election_rounds, e->split_votes, e->coord_requests, j->ok, j->errors);
    cr_assert_eq(e->elections, 0);
    cr_assert_gt(e->election_rounds, 40); /* 7 s of 160 ms rounds */
    cr_assert_eq(e->split_votes, e->election_rounds);
    cr_assert_eq(e->leader_ns, -1);
    cr_assert_eq(e->no_leader_ns, 8 * SEC);
    /* 2 s of 1,000/s served, 8 s failed: ±5 % */
    cr_assert(fabs((double)j->ok / 2000 - 1) < 0.05, "ok %" PRIu64, j->ok);
    cr_assert(fabs((double)j->errors / 8000 - 1) < 0.05, "errors %" PRIu64, j->errors);
    /* each round: 4 campaigns × 3 vote requests */
    cr_assert_eq(e->coord_requests, j->attempts + 12 * e->election_rounds);
    herd_report_fini(&r);
}

/* Randomized timeouts elect; the 100 clients that ask for the leader watch it: the new
 * leader is 100 watch events and 100 reads, each served like any request. */
Test(fleet_coord, a_new_leader_wakes_every_watcher)
{
    struct herd_report r;
    leader_jobs(0, 300 * MS, &r);
    const struct herd_fleet_comp_figures *e = &r.fleet->comps[0], *j = &r.fleet->comps[1];
    cr_assert_eq(e->elections, 1);
    cr_assert_eq(e->watch_events, 100);
    /* and the campaigns' vote requests: 3 for a round won, 6 to 12 for a split one */
    uint64_t votes = e->coord_requests - j->attempts - 100, rounds = e->election_rounds;
    cr_assert(votes >= 3 + 6 * (rounds - 1) && votes <= 3 + 12 * (rounds - 1),
              "%" PRIu64 " vote requests in %" PRIu64 " rounds", votes, rounds);
    cr_assert_geq(e->peak_queue, 90); /* they come back together */
    herd_report_fini(&r);
}

/* Same model and seed, byte-identical JSON: a lock storm with timeouts and an election. */
Test(fleet_coord, same_seed_same_json)
{
    struct herd_fleet m;
    contenders(&m, HERD_FLEET_LOCK_NOTIFY_ALL);
    m.comps[1].u.clients.n = 300;
    m.comps[1].u.clients.call.timeout_ns = 200 * MS;
    m.comps[0].u.coord.candidates = 3;
    m.comps[0].u.coord.election_jitter_ns = 50 * MS;
    fm_fault(&m, HERD_FLEET_FAULT_LEADER_DEATH, 0, SEC, 0, 0);
    struct herd_report a, b;
    cr_assert_eq(fm_run(&m, 9, &a), 0);
    cr_assert_eq(fm_run(&m, 9, &b), 0);
    char *ja = fm_json(&a), *jb = fm_json(&b);
    cr_assert(ja && jb);
    cr_assert(strstr(ja, "\"watch_events\"") != NULL);
    cr_assert_eq(a.fleet->comps[0].elections, 1);
    cr_assert_str_eq(ja, jb);
    free(ja);
    free(jb);
    herd_report_fini(&a);
    herd_report_fini(&b);
}

/* slowdown: each request takes op × (1 + s × queued / 1,000). The same requests are
 * served (counts do not depend on time in notify-one), each at least as slowly, so the
 * grants come later: the p99 wait grows, and with s = 0 nothing changes. */
Test(fleet_coord, slowdown_slows_requests_not_counts)
{
    struct herd_report r0, r1;
    struct herd_fleet m;
    contenders(&m, HERD_FLEET_LOCK_NOTIFY_ONE);
    m.comps[0].u.coord.op_ns = 1 * MS;
    cr_assert_eq(fm_run(&m, 1, &r0), 0);
    m.comps[0].u.coord.slowdown = 200; /* 49 queued: × 10.8 */
    cr_assert_eq(fm_run(&m, 1, &r1), 0);
    const struct herd_fleet_comp_figures *a = &r0.fleet->comps[0], *b = &r1.fleet->comps[0];
    cr_assert_eq(a->coord_requests, b->coord_requests);
    cr_assert_eq(a->lock_grants, N);
    cr_assert_eq(b->lock_grants, N);
    cr_assert_gt(b->lock_p99_ns, a->lock_p99_ns, "slowdown: p99 %" PRId64 " vs %" PRId64,
                 b->lock_p99_ns, a->lock_p99_ns);
    herd_report_fini(&r0);
    herd_report_fini(&r1);
}
