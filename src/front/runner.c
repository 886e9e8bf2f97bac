/* runner.c — every front end's way to run a request (runner.h). */
#include "runner.h"

#include "../live/live.h"
#include "../live/machine.h"
#include "../sim/sim.h"

#include <errno.h>
#include <herd/clock.h>
#include <herd/error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct herd_backend *herd_front_backend(enum herd_backend_mask bit)
{
    switch (bit) {
    case HERD_BACKEND_LIVE:
        return &herd_live_backend;
    case HERD_BACKEND_SIM:
        return &herd_sim_backend;
    }
    return NULL;
}

size_t herd_front_jobs(const struct herd_request_plan *plan, struct herd_job *jobs)
{
    size_t n = 0;
    for (size_t i = 0; i < plan->nspecs; i++) {
        if (plan->backends & HERD_BACKEND_LIVE)
            jobs[n++] = (struct herd_job){plan->specs[i], &herd_live_backend};
        if (plan->backends & HERD_BACKEND_SIM)
            jobs[n++] = (struct herd_job){plan->specs[i], &herd_sim_backend};
    }
    return n;
}

int herd_front_check(const struct herd_job *jobs, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        int rc = jobs[i].backend->check(&jobs[i].spec, err, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* @p job against @p o's memory ceiling (the simulator's estimate; live runs check their
 * own limits in their backend's check). */
static int fits(const struct herd_job *job, const struct herd_front_opts *o, char *err,
                size_t errlen)
{
    if (job->backend->bit != HERD_BACKEND_SIM)
        return 0;
    uint64_t max = o->max_memory ? o->max_memory : HERD_FRONT_MAX_MEMORY;
    char why[256];
    int64_t need = herd_sim_bytes(&job->spec, why, sizeof why);
    if (need <= 0 || (uint64_t)need <= max)
        return 0;
    snprintf(err, errlen, "would need ~%.3g GB of memory, more than %s of %.3g GB%s%s",
             (double)need / 1e9, o->memory_flag ? o->memory_flag : "the memory ceiling",
             (double)max / 1e9, why[0] ? ": " : "", why);
    return -HERD_ELIMIT;
}

int herd_front_fits(const struct herd_job *jobs, size_t n, const struct herd_front_opts *o,
                    char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        int rc = fits(&jobs[i], o, err, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int herd_front_runs(const struct herd_job *job, const struct herd_front_opts *o)
{
    if (o->runs > 0)
        return o->runs;
    return job->backend->bit == HERD_BACKEND_LIVE ? HERD_LIVE_RUNS_DEFAULT : 1;
}

/* One run of @p spec on @p job's backend into @p r, with the machine sampled around it
 * (outside the run's own timed paths: before its set-up, after its teardown). */
static int run_once(const struct herd_job *job, const struct herd_run_spec *spec,
                    const struct herd_run_env *env, struct herd_report *r, char *err,
                    size_t errlen)
{
    struct herd_machine m;
    herd_machine_begin(&m);
    /* The simulator's figures do not depend on this machine: its noise is recorded (it
     * explains the wall time), not held against them. */
    m.advisory = job->backend->bit == HERD_BACKEND_SIM;
    int rc = job->backend->run(spec, env, r, err, errlen);
    if (rc < 0)
        return rc;
    herd_machine_end(&m);
    herd_machine_merge(&r->machine, &m);
    r->has_machine = true;
    return 0;
}

/* The simulator's default runs, from its first run @p r: deterministic, as the run is. The
 * samples it aims at come from the rank function itself (18 us; HERD_SIM_AUTO_SAMPLES is
 * their published copy). */
static int sim_auto_runs(const struct herd_run_spec *spec, const struct herd_report *r)
{
    uint64_t got = r->latency.count;
    uint64_t need = herd_stats_min_samples(HERD_SIM_AUTO_Q, HERD_STATS_CONF);
    if (got == 0 || got >= need)
        return 1;
    int want = (int)((need + got - 1) / got);
    if (want > HERD_SIM_AUTO_RUNS_MAX)
        want = HERD_SIM_AUTO_RUNS_MAX;
    if ((double)spec->n * (double)spec->events * (want - 1) > HERD_SIM_AUTO_WORK_MAX)
        return 1;
    return want;
}

int herd_front_run(const struct herd_job *job, const struct herd_front_opts *o,
                   struct herd_report *r, char *err, size_t errlen)
{
    struct herd_run_env env = {.profile = o->profile, .watch = o->watch,
                               .requests = o->requests};
    struct herd_provenance prov;
    int runs = herd_front_runs(job, o);
    int64_t t0 = herd_clock_monotonic_ns();
    int rc;

    if ((rc = fits(job, o, err, errlen)) < 0)
        return rc;
    herd_provenance_init(&prov, o->version, o->command);
    herd_provenance_set_profile(&prov, job->backend->bit == HERD_BACKEND_SIM ? o->profile_path
                                                                             : NULL,
                                o->profile && job->backend->bit == HERD_BACKEND_SIM
                                    ? o->profile->measured_at
                                    : 0);
    if (o->progress)
        o->progress(o->progress_ctx, job, 1, runs);
    if ((rc = run_once(job, &job->spec, &env, r, err, errlen)) < 0)
        return rc;
    if (o->runs == 0 && job->backend->bit == HERD_BACKEND_SIM)
        runs = sim_auto_runs(&job->spec, r);
    for (int k = 1; k < runs; k++) {
        struct herd_run_spec s = job->spec;
        struct herd_report more;
        s.seed = herd_run_seed(job->spec.seed, k);
        if (o->progress)
            o->progress(o->progress_ctx, job, k + 1, runs);
        if ((rc = run_once(job, &s, &env, &more, err, errlen)) < 0)
            goto fail;
        rc = herd_report_merge(r, &more);
        herd_report_fini(&more);
        if (rc < 0) {
            snprintf(err, errlen, "%s", herd_strerror(rc));
            goto fail;
        }
    }
    /* The wall time is the runs': the intervals below are statistics on their figures. The
     * simulated time is r->sim_time_ns alone (the JSON derives provenance.sim_ns from it). */
    herd_provenance_set_end(&prov, herd_clock_monotonic_ns() - t0, -1);
    if (!o->no_intervals && (rc = herd_report_intervals(r)) < 0) {
        snprintf(err, errlen, "%s", herd_strerror(rc));
        goto fail;
    }
    r->provenance = prov;
    r->has_provenance = true;
    return 0;
fail:
    herd_report_fini(r);
    return rc;
}

int herd_front_load_profile(struct herd_profile *p, char *path, size_t pathlen, char *err,
                            size_t errlen)
{
    char where[4096];
    herd_profile_defaults(p);
    herd_profile_default_path(where, sizeof where);
    int rc = herd_profile_read(where, p, err, errlen);
    if (rc == -ENOENT) {
        herd_profile_defaults(p);
        snprintf(path, pathlen, "%s", "");
        return 0;
    }
    if (rc < 0)
        return rc;
    snprintf(path, pathlen, "%s", where);
    return 0;
}
