/* fuzz_http_head.c — libFuzzer driver for herd serve's request-head check
 * (herd__gate_check_head, src/web/gate.c): any bytes, ended with the blank line the gate
 * waits for, are a request line and headers. An answer (0, 400, 413, 431, 505) with a one-line
 * reason is fine; a crash, an out-of-bounds read or undefined behaviour is not, nor a
 * refusal without its reason. Built and run by scripts/fuzz.sh. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/web/gate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so ASan sees any read past the head's end. */
    char *head = malloc(size + 4);
    char err[256];
    if (!head)
        return 0;
    memcpy(head, data, size);
    memcpy(head + size, "\r\n\r\n", 4);
    for (size_t len = size; len <= size + 4; len += 4) {
        err[0] = '\0';
        unsigned status = herd__gate_check_head(head, len, err, sizeof err);
        if (status != 0 && status != 400 && status != 413 && status != 431 && status != 505)
            abort();
        if (status && (!err[0] || strchr(err, '\n')))
            abort();
    }
    free(head);
    return 0;
}
