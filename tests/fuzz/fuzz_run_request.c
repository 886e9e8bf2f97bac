/* fuzz_run_request.c — libFuzzer driver for the API's run-request parser: any bytes as the
 * body of POST /api/run, through jansson as the server reads it and into
 * herd__api_parse_run (src/web/api.c), which resolves it with herd_request_resolve
 * (src/scenario/request.c) and then checks every job against the runner's memory
 * ceiling (herd_front_fits). Nothing runs. A refusal needs its one-line reason; a crash,
 * a leak or undefined behaviour is a failure. Built and run by scripts/fuzz.sh. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/web/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!body)
        return 0;
    static struct herd_api_run run; /* large (its jobs): not on the stack */
    char err[1024] = "";
    if (herd__api_parse_run(body, &run, err, sizeof err) == 0) {
        struct herd_front_opts o = {0};
        herd_front_fits(run.jobs, run.nspecs, &o, err, sizeof err);
        herd__api_run_fini(&run);
    } else if (!err[0]) {
        abort();
    }
    json_decref(body);
    return 0;
}
