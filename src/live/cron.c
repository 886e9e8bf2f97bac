/* cron.c — PLACEHOLDER until the cron herd lands (being written now). */
#include "live_int.h"

#include <herd/error.h>
#include <stdio.h>

static void needs(const struct herd_run_spec *spec, struct herd_live_needs *need)
{
    need->threads = spec->n;
    need->fds = spec->n;
}

static int run(const struct herd_run_spec *spec, struct herd_report *r, char *err, size_t errlen)
{
    (void)spec;
    (void)r;
    snprintf(err, errlen, "the cron herd is not built yet");
    return -HERD_EINVAL;
}

const struct herd_live_scenario herd__live_cron = {"cron", needs, run};
