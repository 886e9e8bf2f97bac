/* fuzz_detect_read.c — libFuzzer driver for herd detect's input readers and analysis
 * (herd_detect_read, herd_detect_run: src/detect/): any bytes are a CSV, JSON lines or a
 * Prometheus document. Reading them gives records or a refusal with its one-line reason
 * (naming the input); what was read is then analysed. A crash, an out-of-bounds read,
 * undefined behaviour or a refusal without its reason is a failure. Built and run by
 * scripts/fuzz.sh. */
#include <herd/error.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/detect/detect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 1 << 16)
        return 0;
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f)
        return 0;
    struct herd_detect_input in;
    struct herd_detect_result res;
    char err[512] = "";
    herd_detect_input_init(&in);
    int rc = herd_detect_read(f, "fuzz", &in, err, sizeof err);
    fclose(f);
    if (rc == -HERD_EINVAL && (strncmp(err, "fuzz", 4) != 0 || strchr(err, '\n')))
        abort();
    if (rc == 0 && herd_detect_run(&in, &res) == 0) {
        FILE *out = fopen("/dev/null", "w");
        if (out) {
            herd_detect_write_text(out, &res);
            herd_detect_write_json(out, &res);
            fclose(out);
        }
    }
    herd_detect_input_fini(&in);
    return 0;
}
