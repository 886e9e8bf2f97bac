/* sim.c — dispatch a run to its simulation model. The simulator reads no clock: the
 * caller times the run for elapsed_ns. */
#include "sim_int.h"

#include <herd/error.h>
#include <stdio.h>
#include <string.h>

/* Models are listed here as they land; a scenario without one says so (never a stub). */
static const struct herd_sim_model *const models[] = {
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
    return m->run(spec, prof, r, err, errlen);
}
