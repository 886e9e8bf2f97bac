/* test_outcomes.c — one vocabulary of outcomes, everywhere (docs/glossary.md).
 *
 * Every scenario x strategy x backend that can run it, at a small N (every waiter has a
 * tile), through the front ends' runner: each class's reactions summed over the tiles
 * equal the report's counter of that class; wakes = useful + served + wasted + failed;
 * the per-event series add up to the totals; every waiter is accounted for in every
 * event; and a coalescing strategy never counts a joiner as wasted (a singleflight
 * joiner, a stale serve, an early refresh's readers are served).
 * These are counts and sums, not latencies: they hold on a busy machine too.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../src/front/runner.h"
#include "../../src/scenario/file.h"
#include "live_test.h"

/* Settings that keep each scenario's run short at N = 24. */
static const char *const *fast_sets(const struct herd_scenario *sc)
{
    static const char *const cache[] = {"rows=1000", "ttl_ms=60", "lead_ms=10", NULL};
    static const char *const cron[] = {"period_ms=100", "window_ms=20", NULL};
    static const char *const queue[] = {"rate=120", "duration_s=1", NULL};
    static const char *const lock[] = {"hold_us=200", "retry_ms=2", "cap_ms=20", NULL};
    static const char *const zk[] = {"hold_us=0", NULL};
    static const char *const none[] = {NULL};
    switch (sc->id) {
    case HERD_SC_CACHE:
        return cache;
    case HERD_SC_CRON:
        return cron;
    case HERD_SC_QUEUE:
        return queue;
    case HERD_SC_LOCK:
        return lock;
    case HERD_SC_ZKLOCK:
        return zk;
    case HERD_SC_ACCEPT:
    case HERD_SC_CONDVAR:
    case HERD_SC_BACKOFF_OCC:
    case HERD_SC_FLEET: /* the catalogue's row names no file: the simulator refuses it */
    case HERD_SCENARIO_COUNT:
        break;
    }
    return none;
}

static double series_sum(const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s;
}

static void check(const struct herd_report *r, const char *what)
{
    const uint64_t counters[HERD_OUT_COUNT] = {
        [HERD_OUT_IDLE] = r->idle,     [HERD_OUT_USEFUL] = r->useful,
        [HERD_OUT_SERVED] = r->served, [HERD_OUT_WASTED] = r->wasted,
        [HERD_OUT_FAILED] = r->failed,
    };
    cr_assert_leq(r->population, HERD_REPORT_WAITERS, "%s: every waiter has a tile", what);
    cr_assert_eq((int64_t)r->nwaiters, r->population, "%s", what);
    for (int c = 0; c < HERD_OUT_COUNT; c++)
        cr_assert_eq(live_test_tiles(r, (enum herd_outcome)c), counters[c],
                     "%s: the tiles' %s (%llu) are not the counter (%llu)", what,
                     herd_outcome_name((enum herd_outcome)c),
                     (unsigned long long)live_test_tiles(r, (enum herd_outcome)c),
                     (unsigned long long)counters[c]);
    cr_assert_eq(r->wakes, r->useful + r->served + r->wasted + r->failed, "%s: wakes", what);
    size_t n = r->nevents;
    cr_assert_eq(series_sum(r->ev.wakes, n), (double)r->wakes, "%s", what);
    cr_assert_eq(series_sum(r->ev.useful, n), (double)r->useful, "%s", what);
    cr_assert_eq(series_sum(r->ev.served, n), (double)r->served, "%s", what);
    cr_assert_eq(series_sum(r->ev.wasted, n), (double)r->wasted, "%s", what);
    cr_assert_eq(series_sum(r->ev.failed, n), (double)r->failed, "%s", what);
    cr_assert_eq(series_sum(r->ev.idle, n), (double)r->idle, "%s", what);
    cr_assert_eq(series_sum(r->ev.origin, n), (double)r->origin_load, "%s", what);
    /* Every waiter is somewhere in every event of every run: a reaction or idle. */
    for (size_t i = 0; i < r->nwaiters; i++) {
        uint64_t k = 0;
        for (int c = 0; c < HERD_OUT_COUNT; c++)
            k += r->waiters[i].n[c];
        cr_assert_geq(k, n == 0 ? 0 : (uint64_t)(n / (size_t)r->runs > 0 ? 1 : 0),
                      "%s: waiter %zu never accounted for", what, i);
        if (r->population == r->run.n) /* waiters stay the same across events */
            cr_assert_geq(k, (uint64_t)n, "%s: waiter %zu missing from an event", what, i);
    }
}

/* Strategies that share one result instead of recomputing it: no reaction is waste. */
static bool coalesces(const struct herd_run_spec *s)
{
    return s->sc->id == HERD_SC_CACHE && (s->cfg.cache.strategy == HERD_CACHE_SINGLEFLIGHT ||
                                          s->cfg.cache.strategy == HERD_CACHE_SWR ||
                                          s->cfg.cache.strategy == HERD_CACHE_XFETCH);
}

static void every_strategy(enum herd_backend_mask bit, int runs)
{
    const struct herd_backend *b = herd_front_backend(bit);
    struct herd_profile prof;
    herd_profile_defaults(&prof);
    int done = 0;
    for (int i = 0; herd_scenarios[i]; i++) {
        const struct herd_scenario *sc = herd_scenarios[i];
        if (!herd_backend_supports(b, sc))
            continue;
        for (int k = 0; sc->strategies[k].name; k++) {
            struct herd_job job = {.backend = b};
            char err[512], what[128];
            herd_spec_init(&job.spec, sc);
            job.spec.n = 24;
            job.spec.events = sc->id == HERD_SC_CRON || sc->id == HERD_SC_QUEUE ||
                                      sc->id == HERD_SC_BACKOFF_OCC
                                  ? 1
                                  : 2;
            for (const char *const *s = fast_sets(sc); *s; s++)
                cr_assert_eq(herd_spec_set(&job.spec, *s, err, sizeof err), 0, "%s", err);
            herd_spec_use_index(&job.spec, k);
            snprintf(what, sizeof what, "%s %s on %s", sc->name, herd_spec_strategy(&job.spec),
                     b->name);
            if (b->check(&job.spec, err, sizeof err) < 0) {
                /* Info, not a warning: Criterion 2.4 exits 1 on any warning. The fleet
                 * row names no file and is refused by design (files: below). */
                cr_log_info("%s: skipped: %s", what, err);
                continue;
            }
            struct herd_front_opts o = {.runs = runs, .profile = &prof, .no_intervals = true};
            struct herd_report r;
            cr_assert_eq(herd_front_run(&job, &o, &r, err, sizeof err), 0, "%s: %s", what, err);
            cr_log_info("%s: useful %llu served %llu wasted %llu failed %llu idle %llu", what,
                        (unsigned long long)r.useful, (unsigned long long)r.served,
                        (unsigned long long)r.wasted, (unsigned long long)r.failed,
                        (unsigned long long)r.idle);
            check(&r, what);
            if (coalesces(&job.spec))
                cr_assert_eq(r.wasted, 0, "%s: a coalesced reaction counted as wasted", what);
            herd_report_fini(&r);
            done++;
        }
    }
    cr_assert_gt(done, 0);
}

Test(outcomes, every_strategy_on_the_simulator_sums_to_the_counters, .timeout = 120)
{
    every_strategy(HERD_BACKEND_SIM, 2); /* two runs: the pooled report sums too */
}

/* A scenario file's strategies through the runner, as `herd run FILE` runs them: the
 * attempts at its herd resource are the waiters and fall in the same five classes. */
Test(outcomes, a_scenario_file_sums_to_the_counters, .timeout = 120)
{
    char path[4096], err[1024] = "";
    struct herd_fleet_file *f = NULL;
    snprintf(path, sizeof path, "%s/tests/scenario-files/validation/cascade-small.yaml",
             HERD_SOURCE_ROOT);
    cr_assert_eq(herd_fleet_file_load(path, &f, err, sizeof err), 0, "%s", err);
    const struct herd_scenario *sc = herd_fleet_file_scenario(f);
    cr_assert_geq(herd_scenario_nstrategies(sc), 2, "naive and a mitigation");
    for (int k = 0; sc->strategies[k].name; k++) {
        struct herd_job job = {.backend = herd_front_backend(HERD_BACKEND_SIM)};
        char what[128];
        herd_spec_init(&job.spec, sc);
        herd_spec_use_index(&job.spec, k);
        snprintf(what, sizeof what, "%s %s on sim", sc->name, herd_spec_strategy(&job.spec));
        cr_assert_eq(job.backend->check(&job.spec, err, sizeof err), 0, "%s: %s", what, err);
        struct herd_front_opts o = {.runs = 2, .no_intervals = true};
        struct herd_report r;
        cr_assert_eq(herd_front_run(&job, &o, &r, err, sizeof err), 0, "%s: %s", what, err);
        cr_log_info("%s: useful %llu served %llu wasted %llu failed %llu idle %llu", what,
                    (unsigned long long)r.useful, (unsigned long long)r.served,
                    (unsigned long long)r.wasted, (unsigned long long)r.failed,
                    (unsigned long long)r.idle);
        check(&r, what);
        cr_assert_gt(r.wakes, 0, "%s", what);
        herd_report_fini(&r);
    }
    herd_fleet_file_free(f);
}

Test(outcomes, every_strategy_live_sums_to_the_counters, .timeout = 300)
{
    every_strategy(HERD_BACKEND_LIVE, 1);
}

/* ---- a live run on a machine made busy on purpose ---------------------------------- */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Spinners enough to keep every online CPU busy, so that others' share of ALL the CPUs
 * passes HERD_MACHINE_OTHERS_MAX whatever their count. Capped: SPINNERS_MAX still make
 * more than a fifth of 1,280 CPUs. */
#define SPINNERS_MAX 256

static int spinners(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > SPINNERS_MAX ? SPINNERS_MAX : (int)n;
}

/* A child process that keeps every CPU busy for @p ns (another engineer's build, as the
 * kernel's accounting sees it until the child is reaped): it spins, and so does one
 * process of its own per other CPU, each dying with it. */
static pid_t busy_child(int64_t ns)
{
    int more = spinners() - 1;
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork");
    if (pid == 0) {
        pid_t self = getpid();
        for (int i = 0; i < more; i++) {
            pid_t k = fork();
            if (k < 0)
                break; /* fewer spinners: others' share below says what they made */
            if (k == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != self) /* the first spinner died before prctl */
                    _exit(0);
                break;
            }
        }
        int64_t until = mono_ns() + ns;
        volatile uint64_t x = 0;
        while (mono_ns() < until)
            x++;
        _exit(0);
    }
    return pid;
}

/* The report says the machine was busy, in its figures, its verdict, its text and its
 * JSON ("machine"), and the run's figures are still reported (DESIGN §1). */
Test(outcomes, a_busy_machine_is_said, .timeout = 120)
{
    struct herd_job job = {.backend = herd_front_backend(HERD_BACKEND_LIVE)};
    struct herd_front_opts o = {.runs = 1};
    struct herd_report r;
    char err[512];
    herd_spec_init(&job.spec, herd_scenario_find("condvar"));
    job.spec.n = 50;
    job.spec.events = 300; /* about a second of events: the spinners run all along */
    pid_t kid = busy_child(INT64_C(4000000000));
    cr_log_info("busy: %d spinners on %ld online CPUs", spinners(), sysconf(_SC_NPROCESSORS_ONLN));
    cr_assert_eq(herd_front_run(&job, &o, &r, err, sizeof err), 0, "%s", err);
    kill(kid, SIGKILL);
    cr_log_info("busy: others %.0f %% of %d CPUs, trusted %d, %s", 100 * r.machine.others_cpu,
                r.machine.cpus, r.machine.trusted, herd_machine_reason(&r.machine));
    cr_assert(r.has_machine);
    cr_assert_gt(r.machine.others_cpu, HERD_MACHINE_OTHERS_MAX, "others %.2f",
                 r.machine.others_cpu);
    cr_assert(!r.machine.trusted);
    cr_assert(strstr(herd_machine_reason(&r.machine), "other processes used"), "%s",
              herd_machine_reason(&r.machine));
    cr_assert_eq(r.useful, 300, "the figures are still there");

    char *text = NULL, *json = NULL;
    size_t len = 0, jlen = 0;
    struct herd_report *p = &r;
    FILE *f = open_memstream(&text, &len);
    cr_assert_eq(herd_write_text(f, &p, 1, NULL), 0);
    fclose(f);
    cr_assert(strstr(text, "WARNING") && strstr(text, "other processes used"), "%s", text);
    f = open_memstream(&json, &jlen);
    cr_assert_eq(herd_write_json(f, &p, 1), 0);
    fclose(f);
    cr_assert(strstr(json, "\"trusted\": false") && strstr(json, "other processes used"), "%s",
              json);
    free(text);
    free(json);
    herd_report_fini(&r);
    while (waitpid(kid, NULL, 0) < 0 && errno == EINTR)
        ;
}
