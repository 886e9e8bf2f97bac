/* sim.c — the simulator as a backend: dispatch a run to its scenario's model. The
 * simulator reads no clock: the caller times the run. */
#include "sim_int.h"

#include <herd/error.h>
#include <stdio.h>
#include <string.h>

/* Each model, from the list's SIM column (scenario/list.h). */
static const struct herd_sim_model *const models[HERD_SCENARIO_COUNT] = {
#define HERD__SIM_MODEL(name, NAME, live, sim) HERD__IF_##sim([HERD_SC_##NAME] = &herd__sim_##name, )
    HERD_SCENARIO_LIST(HERD__SIM_MODEL)
#undef HERD__SIM_MODEL
};

static int check(const struct herd_run_spec *spec, char *err, size_t errlen)
{
    if (!herd_backend_supports(&herd_sim_backend, spec->sc)) {
        snprintf(err, errlen, "scenario %s has no simulation model; allowed: live",
                 spec->sc->name);
        return -HERD_EINVAL;
    }
    const struct herd_sim_model *m = models[spec->sc->id];
    return m->check ? m->check(spec, err, errlen) : 0;
}

/* Every model's engine, event queue and report (the event queue's wheel alone is a few
 * MB), and what a waiter costs at most in the models whose memory follows n: their
 * per-waiter columns, pending events and waiter records (cache, the largest, measured
 * ~170 bytes at N = 1,000,000). */
#define SIM_BASE_BYTES (INT64_C(32) << 20)
#define SIM_WAITER_BYTES 512
#define SIM_EVENT_BYTES 256

int64_t herd_sim_bytes(const struct herd_run_spec *spec, char *why, size_t whylen)
{
    const struct herd_sim_model *m = models[spec->sc->id];
    if (whylen)
        why[0] = '\0';
    if (m && m->bytes)
        return SIM_BASE_BYTES + m->bytes(spec, why, whylen);
    return SIM_BASE_BYTES + SIM_WAITER_BYTES * spec->n + SIM_EVENT_BYTES * spec->events;
}

int herd_sim_run(const struct herd_run_spec *spec, const struct herd_profile *prof,
                 const struct herd_watch *watch, struct herd_report *r, char *err,
                 size_t errlen)
{
    struct herd_sim_hooks hooks = {.watch = watch};
    return herd_sim_run_hooks(spec, prof, &hooks, r, err, errlen);
}

int herd_sim_run_hooks(const struct herd_run_spec *spec, const struct herd_profile *prof,
                       const struct herd_sim_hooks *hooks, struct herd_report *r, char *err,
                       size_t errlen)
{
    struct herd_profile dflt;
    int rc = check(spec, err, errlen);
    if (rc < 0)
        return rc;
    if (!prof) {
        herd_profile_defaults(&dflt);
        prof = &dflt;
    }
    rc = herd_spec_report_init(r, spec, "sim");
    if (rc < 0) {
        snprintf(err, errlen, "%s", herd_strerror(rc));
        return rc;
    }
    rc = models[spec->sc->id]->run(spec, prof, hooks, r, err, errlen);
    if (rc == -HERD_EINTR)
        snprintf(err, errlen, "interrupted: the simulation was stopped before its end");
    if (rc < 0)
        herd_report_fini(r);
    return rc;
}

static int run(const struct herd_run_spec *spec, const struct herd_run_env *env,
               struct herd_report *r, char *err, size_t errlen)
{
    struct herd_sim_hooks hooks = {.watch = env ? env->watch : NULL,
                                   .requests = env ? env->requests : NULL};
    return herd_sim_run_hooks(spec, env ? env->profile : NULL, &hooks, r, err, errlen);
}

const struct herd_backend herd_sim_backend = {
    .name = "sim",
    .bit = HERD_BACKEND_SIM,
    .check = check,
    .run = run,
};
