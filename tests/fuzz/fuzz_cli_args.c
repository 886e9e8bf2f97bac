/* fuzz_cli_args.c — libFuzzer driver for herd run's command line (src/cli/args.c): the
 * input, split at NUL bytes, is argv after "herd run"; what parses is resolved as herd
 * run resolves it (herd_request_resolve), and --max-memory / --max-events values go
 * through their own parser. Nothing runs and no file is read (a scenario that is not a
 * catalogue name is left unresolved, as herd__cli_scenario would refuse it or read a
 * file). Built and run by scripts/fuzz.sh. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/cli/cli.h"
#include "../../src/scenario/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ARGS_MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    char *argv[ARGS_MAX + 2];
    int argc = 0;
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    argv[argc++] = "run";
    for (char *p = buf; p <= buf + size && argc <= ARGS_MAX; p += strlen(p) + 1)
        argv[argc++] = p;
    argv[argc] = NULL;

    struct herd_cli_run_args o = {.format = "text",
                                  .max_memory = HERD_FRONT_MAX_MEMORY,
                                  .max_events = HERD_CLI_MAX_EVENTS};
    const char *name = NULL;
    if (herd__cli_run_args(argc, argv, &o, &name) == 0) {
        struct herd_request req = {.scenario = name,
                                   .backend = o.backend,
                                   .mode = o.mode,
                                   .mitigation = o.mitigation,
                                   .n = o.n,
                                   .events = o.events,
                                   .seed = o.seed,
                                   .sets = o.sets,
                                   .nsets = (size_t)o.nsets};
        static struct herd_request_plan plan;
        char err[1024] = "";
        if (herd_request_resolve(&req, &herd_request_spelling_run, &plan, err, sizeof err) < 0 &&
            !err[0])
            abort();
    }
    free(buf);
    return 0;
}
