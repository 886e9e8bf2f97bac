/* sim.c — dispatch a run to its simulation model. The simulator reads no clock: the
 * caller times the run for elapsed_ns. */
#include "sim_int.h"

#include <herd/error.h>
#include <stdio.h>
#include <string.h>

/* The models that exist in this build (meson defines HERD_SIM_MODEL_<NAME> for each
 * src/sim/model_<name>.c); a scenario without one says so, never a stub. */
static const struct herd_sim_model *const models[] = {
#ifdef HERD_SIM_MODEL_ACCEPT
    &herd__sim_accept,
#endif
#ifdef HERD_SIM_MODEL_CONDVAR
    &herd__sim_condvar,
#endif
#ifdef HERD_SIM_MODEL_CACHE
    &herd__sim_cache,
#endif
#ifdef HERD_SIM_MODEL_CRON
    &herd__sim_cron,
#endif
#ifdef HERD_SIM_MODEL_QUEUE
    &herd__sim_queue,
#endif
#ifdef HERD_SIM_MODEL_BACKOFF_OCC
    &herd__sim_backoff_occ,
#endif
    NULL,
};

static const struct herd_sim_model *find(const char *name)
{
    for (int i = 0; models[i]; i++)
        if (strcmp(models[i]->name, name) == 0)
            return models[i];
    return NULL;
}

bool herd_sim_supports(const char *scenario)
{
    return find(scenario) != NULL;
}

int herd_sim_run(const struct herd_run_spec *spec, const struct herd_profile *prof,
                 struct herd_report *r, char *err, size_t errlen)
{
    return herd_sim_run_watched(spec, prof, NULL, r, err, errlen);
}

int herd_sim_run_watched(const struct herd_run_spec *spec, const struct herd_profile *prof,
                         const struct herd_sim_watch *watch, struct herd_report *r, char *err,
                         size_t errlen)
{
    const struct herd_sim_model *m = find(spec->sc->name);
    if (!m) {
        snprintf(err, errlen, "scenario '%s' has no simulation model yet; use --backend live",
                 spec->sc->name);
        return -HERD_EINVAL;
    }
    int rc = herd_report_init(r, spec, "sim");
    if (rc < 0) {
        snprintf(err, errlen, "%s", herd_strerror(rc));
        return rc;
    }
    struct herd_sim_hooks hooks = {.watch = watch};
    rc = m->run(spec, prof, &hooks, r, err, errlen);
    if (rc == -HERD_EINTR)
        snprintf(err, errlen, "interrupted: the simulation was stopped before its end");
    /* elapsed_ns of a simulated run is simulated time: the report stays a pure function
     * of the spec and seed (the caller may print the wall time elsewhere). */
    r->elapsed_ns = r->sim_time_ns > 0 ? r->sim_time_ns : 0;
    return rc;
}
