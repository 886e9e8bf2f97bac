/* test_fleet.c — the fleet simulator (src/sim/fleet*.c) against closed forms, seed 000's
 * bathtub, retry arithmetic, determinism, the memory refusal and one cascade.
 *
 * Models are built in C (fleet_models.h), not read from files: this checks the simulator
 * alone. Tolerances are stated per test from the run-to-run spread they were measured
 * against; every check here can fail (a wrong service-time factor, a lost retry, a
 * reshuffled stream each break one).
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>

#include "fleet_models.h"
#include "closed_forms.h"

/* ---- closed forms ------------------------------------------------------------------------- */

/* Mean end-to-end latency of an open fleet into c exponential workers, over RUNS seeds:
 * the client's latency is the sojourn (no network, no timeout). */
#define RUNS 4
static void mmc(int c, double lambda, double mu, int64_t duration_ns, double *mean, double *se)
{
    double v[RUNS], m = 0, ss = 0;
    for (int i = 0; i < RUNS; i++) {
        struct herd_fleet fl;
        fm_init(&fl, "mmc", duration_ns, 5 * SEC, SEC);
        fm_open(&fl, "clients", 1, lambda, 1);
        fl.herd = fm_service(&fl, "server", c, HERD_FLEET_DIST_EXPONENTIAL,
                             (int64_t)llround(1e9 / mu));
        struct herd_report r;
        cr_assert_eq(fm_run(&fl, herd_run_seed(7, i), &r), 0);
        v[i] = herd_hist_mean(&r.latency);
        m += v[i];
        herd_report_fini(&r);
    }
    m /= RUNS;
    for (int i = 0; i < RUNS; i++)
        ss += (v[i] - m) * (v[i] - m);
    *mean = m;
    *se = sqrt(ss / (RUNS - 1) / RUNS);
}

/* M/M/1 at ρ = 0.5: W = 1/(μ − λ) = 1 ms. 4 × 200,000 customers; the runs' standard
 * error measured ~0.4 %, so 2.5 % is over five standard errors. */
Test(fleet, mm1_mean_sojourn)
{
    double mean, se;
    mmc(1, 1000, 2000, 200 * SEC, &mean, &se);
    double want = 1e9 / (2000 - 1000);
    cr_log_info("M/M/1: %.4g ns (closed form %.4g), se %.2g %%", mean, want, 100 * se / mean);
    cr_assert(fabs(mean / want - 1) < 0.025, "M/M/1 sojourn %.4g ns, want %.4g", mean, want);
    cr_assert(se / mean < 0.01);
}

/* M/M/4 at ρ = 0.75: W = C(4, 3)/(4μ − λ) + 1/μ. Same budget of customers and errors. */
Test(fleet, mmc_mean_sojourn)
{
    double mean, se;
    double lambda = 3000, mu = 1000;
    mmc(4, lambda, mu, 70 * SEC, &mean, &se);
    double want = 1e9 * (erlang_c(4, lambda / mu) / (4 * mu - lambda) + 1 / mu);
    cr_log_info("M/M/4: %.4g ns (closed form %.4g), se %.2g %%", mean, want, 100 * se / mean);
    cr_assert(fabs(mean / want - 1) < 0.025, "M/M/4 sojourn %.4g ns, want %.4g", mean, want);
}

/* Seed 000's bathtub: capacity 2,000/s (2 workers × 1 ms, constant), 20,000 requests in
 * one second on top: the backlog takes 20,000 / 2,000 = 10 s to drain, so the last
 * request completes near t = 10 s and waited ~9 s. Deterministic service: the only
 * spread is Poisson's ±1 % in the count (±0.1 s). */
Test(fleet, bathtub_backlog)
{
    struct herd_fleet fl;
    fm_init(&fl, "bathtub", SEC, 20 * SEC, 100 * MS);
    fm_open(&fl, "burst", 1, 20000, 1);
    fl.herd = fm_service(&fl, "db", 2, HERD_FLEET_DIST_CONSTANT, 1 * MS);
    struct herd_report r;
    cr_assert_eq(fm_run(&fl, 3, &r), 0);
    const struct herd_fleet_comp_figures *db = &r.fleet->comps[1];
    size_t last = 0;
    for (size_t k = 0; k < r.fleet->nbuckets; k++)
        if (db->series[HERD_FLEET_S_GOODPUT][k])
            last = k;
    double drained_s = (double)(last + 1) * (double)r.fleet->bucket_ns / 1e9;
    double max_wait_s = (double)r.latency.max / 1e9;
    cr_log_info("bathtub: %" PRIu64 " requests, backlog drained at %.2f s, longest wait %.2f s, "
                "peak queue %" PRId64, db->calls, drained_s, max_wait_s, db->peak_queue);
    cr_assert(drained_s > 9.5 && drained_s < 10.6, "drained at %.2f s", drained_s);
    cr_assert(max_wait_s > 8.5 && max_wait_s < 9.6, "longest wait %.2f s", max_wait_s);
    cr_assert(db->peak_queue > 17000 && db->peak_queue < 18500);
    cr_assert_eq(db->ok, db->calls); /* nothing lost: the queue is unbounded */
    herd_report_fini(&r);
}

/* ---- retries with independent failures ----------------------------------------------------- */

/* Each attempt fails at once with probability f; k retries without backoff: success
 * 1 − f^(k+1) and load (attempts per call) (1 − f^(k+1)) / (1 − f). 40,000 calls per
 * point: the success rate's binomial standard error is at most 0.25 %, the load's about
 * 0.3 %; the bound is 2 % as the issue asks. */
static void retry_point(double f, int k)
{
    struct herd_fleet fl;
    fm_init(&fl, "retries", 20 * SEC, 2 * SEC, SEC);
    int cl = fm_open(&fl, "clients", 1, 2000, 1);
    fl.herd = fm_service(&fl, "server", 0, HERD_FLEET_DIST_CONSTANT, MS);
    fl.comps[cl].u.clients.call.retry.max_attempts = k + 1;
    fm_fault(&fl, HERD_FLEET_FAULT_ERRORS, fl.herd, 0, 30 * SEC, f);
    struct herd_report r;
    cr_assert_eq(fm_run(&fl, 11, &r), 0);
    const struct herd_fleet_comp_figures *c = &r.fleet->comps[cl], *s = &r.fleet->comps[1];
    double success = (double)c->ok / (double)c->calls;
    double load = (double)s->attempts / (double)s->calls;
    double want_s = 1 - pow(f, k + 1), want_l = (1 - pow(f, k + 1)) / (1 - f);
    cr_log_info("f=%.2f k=%d: success %.4f (%.4f), load %.4f (%.4f)", f, k, success, want_s, load,
                want_l);
    cr_assert(fabs(success / want_s - 1) < 0.02, "f=%g k=%d success %.4f want %.4f", f, k,
              success, want_s);
    cr_assert(fabs(load / want_l - 1) < 0.02, "f=%g k=%d load %.4f want %.4f", f, k, load, want_l);
    cr_assert_eq(c->calls, s->calls); /* every call reached the server */
    cr_assert_eq(s->amplification, load);
    herd_report_fini(&r);
}

Test(fleet, retries_independent_failures)
{
    retry_point(0.1, 3);
    retry_point(0.3, 3);
    retry_point(0.5, 1);
    retry_point(0.5, 3);
    retry_point(0.7, 5);
}

/* ---- determinism ------------------------------------------------------------------------- */

Test(fleet, same_seed_same_json)
{
    struct herd_fleet fl;
    fm_chain(&fl, 2000, SEC, 10 * SEC);
    struct herd_report a, b, c;
    cr_assert_eq(fm_run(&fl, 42, &a), 0);
    cr_assert_eq(fm_run(&fl, 42, &b), 0);
    cr_assert_eq(fm_run(&fl, 43, &c), 0);
    char *ja = fm_json(&a), *jb = fm_json(&b), *jc = fm_json(&c);
    cr_assert(ja && jb && jc);
    cr_assert(strstr(ja, "\"fleet\"") != NULL);
    cr_assert_str_eq(ja, jb, "same model and seed gave different JSON");
    cr_assert_str_neq(ja, jc, "another seed gave the same JSON");
    free(ja);
    free(jb);
    free(jc);
    herd_report_fini(&a);
    herd_report_fini(&b);
    herd_report_fini(&c);
}

/* Adding a component that nobody calls changes no other component's draws. */
Test(fleet, streams_per_component)
{
    struct herd_fleet fl, fl2;
    fm_chain(&fl, 500, SEC, 6 * SEC);
    fl2 = fl;
    fm_service(&fl2, "bystander", 1, HERD_FLEET_DIST_EXPONENTIAL, MS);
    struct herd_report a, b;
    cr_assert_eq(fm_run(&fl, 5, &a), 0);
    cr_assert_eq(fm_run(&fl2, 5, &b), 0);
    for (int i = 0; i < fl.ncomps; i++) {
        cr_assert_eq(a.fleet->comps[i].attempts, b.fleet->comps[i].attempts);
        cr_assert_eq(a.fleet->comps[i].ok, b.fleet->comps[i].ok);
        cr_assert_eq(a.fleet->comps[i].p99_ns, b.fleet->comps[i].p99_ns);
    }
    herd_report_fini(&a);
    herd_report_fini(&b);
}

/* ---- refusal ------------------------------------------------------------------------------- */

Test(fleet, refuses_what_memory_cannot_hold)
{
    struct herd_fleet fl;
    fm_chain(&fl, 1000000, SEC, 10 * SEC);
    fl.comps[0].u.clients.keys = INT64_C(1000000000); /* 10^9 keys of cache: 56 GB */
    struct herd_report r;
    char err[256] = "";
    fm_report(&r, 1);
    int rc = herd_sim_fleet(&fl, 1, NULL, &r, err, sizeof err);
    cr_assert_eq(rc, -HERD_ELIMIT);
    cr_assert(strstr(err, "GB") != NULL, "message: %s", err);
    cr_assert(strchr(err, '\n') == NULL);
    herd_report_fini(&r);
}

/* ---- a cascade ------------------------------------------------------------------------------ */

/* The chain under its db crash: the crash shows at every tier (timeouts at the cache's
 * and api's callers), retries amplify toward the db while it is down, goodput recovers
 * after the restart, and the report's counters add up. A golden-ish check: exact counts
 * are seed-specific; these relations hold for any seed. */
Test(fleet, cascade_chain_crash)
{
    struct herd_fleet fl;
    fm_chain(&fl, 3000, SEC, 16 * SEC);
    struct herd_report r;
    cr_assert_eq(fm_run(&fl, 9, &r), 0);
    const struct herd_fleet_figures *f = r.fleet;
    const struct herd_fleet_comp_figures *cl = &f->comps[0], *api = &f->comps[1],
                                         *cache = &f->comps[2], *db = &f->comps[3];
    cr_log_info("clients %" PRIu64 " calls %.3f ampl; api %.3f; cache hits %" PRIu64
                " misses %" PRIu64 " coalesced %" PRIu64 "; db %" PRIu64 " attempts %.3f ampl, "
                "rejected %" PRIu64 " dropped %" PRIu64 "; verdict %s in %" PRId64 " ns",
                cl->calls, cl->amplification, api->amplification, cache->hits, cache->misses,
                cache->coalesced, db->attempts, db->amplification, db->rejected, db->dropped,
                f->verdict, f->recover_ns);
    cr_assert_str_eq(cl->kind, "clients");
    cr_assert_str_eq(cache->kind, "cache");
    cr_assert_gt(db->rejected, 0);  /* refused while down */
    cr_assert_gt(cache->errors + cache->timeouts, 0);
    cr_assert_gt(db->amplification, 1.0); /* the cache's retries */
    cr_assert_gt(cache->coalesced, 0);    /* singleflight at work after the restart */
    for (size_t k = 0; k < f->nbuckets; k += 5)
        cr_log_info("t=%4.1f s goodput %" PRId64 " db conc %" PRId64 " db q %" PRId64, k * 0.1,
                    cl->series[HERD_FLEET_S_GOODPUT][k], db->series[HERD_FLEET_S_CONCURRENCY][k],
                    db->series[HERD_FLEET_S_QUEUE][k]);
    cr_assert_str_eq(f->verdict, "recovered");
    cr_assert(f->recover_ns >= 0 && f->recover_ns < 5 * SEC);
    cr_assert_eq(r.wakes, r.useful + r.served + r.wasted + r.failed);
    cr_assert_eq(r.origin_load, db->attempts);
    cr_assert_eq(f->nedges, 3);
    cr_assert_eq(f->nfaults, 1);
    cr_assert_str_eq(f->faults[0].kind, "crash");
    herd_report_fini(&r);
}

/* The verdict at a small fleet: 200 calls/s into 4 workers of 2 ms, the service down for
 * 1 s. Afterwards goodput is back at its old level (within its Poisson noise), so over 20
 * seeds every run must say "recovered"; the same fleet at 60 % of its old goodput after
 * the fault (its callers' rate drops to 120/s) must say "stuck" every time (threshold 90 %,
 * windows of ~100 successes: 60 % is ~12 sd below the threshold's window, 100 % ~3 sd
 * above the allowance). Before the noise allowance, the recovered fleet was called stuck
 * in about half of these seeds. */
static const char *small_fleet_verdict(uint64_t seed, bool degraded)
{
    static char verdict[16];
    struct herd_fleet fl;
    fm_init(&fl, "small", 10 * SEC, 0, 50 * MS);
    fl.recover_share = 0.9;
    int api = fm_service(&fl, "api", 4, HERD_FLEET_DIST_EXPONENTIAL, 2 * MS);
    int users = fm_open(&fl, "users", 100, 200, api);
    fl.comps[users].u.clients.call.timeout_ns = 100 * MS;
    fl.herd = api;
    fm_fault(&fl, HERD_FLEET_FAULT_CRASH, api, 3 * SEC, 1 * SEC, 0);
    if (degraded) {
        struct herd_fleet_clients *u = &fl.comps[users].u.clients;
        u->ncurve = 3;
        u->curve[1] = (struct herd_fleet_curve_point){4 * SEC, 200};
        u->curve[2] = (struct herd_fleet_curve_point){4 * SEC + 1, 120};
    }
    struct herd_report r;
    cr_assert_eq(fm_run(&fl, seed, &r), 0);
    snprintf(verdict, sizeof verdict, "%s", r.fleet->verdict);
    herd_report_fini(&r);
    return verdict;
}

Test(fleet, small_fleet_verdicts)
{
    for (uint64_t seed = 1; seed <= 20; seed++) {
        cr_assert_str_eq(small_fleet_verdict(seed, false), "recovered", "seed %" PRIu64, seed);
        cr_assert_str_eq(small_fleet_verdict(seed, true), "stuck", "seed %" PRIu64, seed);
    }
}
