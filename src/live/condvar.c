/* condvar.c — PLACEHOLDER until the condvar herd lands (being written now). */
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
    snprintf(err, errlen, "the condvar herd is not built yet");
    return -HERD_EINVAL;
}

const struct herd_live_scenario herd__live_condvar = {"condvar", needs, run};
