/* model_fleet.c — scenario files on the simulator: the spec's file and strategy become the
 * typed model (file.h applies the strategy's mitigations), which herd_sim_fleet runs. */
#include "sim_int.h"

#include "../scenario/file.h"
#include "fleet.h"

#include <herd/error.h>
#include <stdio.h>
#include <stdlib.h>

static int check(const struct herd_run_spec *spec, char *err, size_t errlen)
{
    if (!spec->cfg.fleet.file) {
        snprintf(err, errlen, "scenario fleet runs a scenario file; allowed: herd run FILE.yaml, "
                              "or the name of a shipped file (herd list)");
        return -HERD_EINVAL;
    }
    return 0;
}

static int run(const struct herd_run_spec *spec, const struct herd_profile *prof,
               const struct herd_sim_hooks *hooks, struct herd_report *r, char *err,
               size_t errlen)
{
    (void)prof; /* a file's costs are its own settings */
    int rc = check(spec, err, errlen);
    if (rc < 0)
        return rc;
    /* About 13 KiB: not for the stack of a web worker. */
    struct herd_fleet *m = malloc(sizeof *m);
    if (!m) {
        snprintf(err, errlen, "%s", herd_strerror(-HERD_ENOMEM));
        return -HERD_ENOMEM;
    }
    rc = herd_fleet_file_model(spec->cfg.fleet.file, spec->cfg.fleet.strategy, m, err, errlen);
    if (rc == 0)
        rc = herd_sim_fleet(m, spec->seed, hooks, r, err, errlen);
    free(m);
    return rc;
}

/* The file's model for this strategy, sized by the fleet simulator (clients, cache keys,
 * timelines, open calls in flight). */
static int64_t bytes(const struct herd_run_spec *spec, char *why, size_t whylen)
{
    snprintf(why, whylen, "the file's clients, cache keys and open calls");
    if (!spec->cfg.fleet.file)
        return 0;
    struct herd_fleet *m = malloc(sizeof *m);
    char err[256];
    int64_t b = 0;
    if (m && herd_fleet_file_model(spec->cfg.fleet.file, spec->cfg.fleet.strategy, m, err,
                                   sizeof err) == 0)
        b = herd_sim_fleet_bytes(m);
    free(m);
    return b;
}

const struct herd_sim_model herd__sim_fleet = {.run = run, .check = check, .bytes = bytes};
