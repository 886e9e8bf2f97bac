/* fuzz_scenario_file.c — libFuzzer driver for the scenario-file reader (src/scenario/file.c
 * and file_schema.c): any bytes are parsed as a file; a file that loads has every
 * strategy's model built and a few overrides applied, so the tree's path-copying and the
 * schema's decoder see the fuzzer's shapes too. Refusals are fine; a crash, a leak, an
 * out-of-bounds access or undefined behaviour is not.
 *
 * Built and run for a bounded time by scripts/fuzz.sh (the `fuzz` meson test):
 *   clang -fsanitize=fuzzer,address,undefined ... ; ./fuzz_scenario_file -max_total_time=20
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/scenario/file.h"
#include "../../src/scenario/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Overrides tried on a file that loads: a field of each kind, a list item, a whole list,
 * and malformed paths and values. */
static const char *const sets[][2] = {
    {"duration", "5s"},
    {"components.a.workers", "3"},
    {"faults.0.at", "1s"},
    {"components.users.rate", "[{at: 0s, per_s: 1}, {at: 1s, per_s: 2}]"},
    {"components.users.call.retry.backoff", "full"},
    {"components..x", "1"},
    {"herd", "[1"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct herd_fleet_file *f = NULL;
    char err[1024];
    if (herd_fleet_file_parse("fuzz.yaml", (const char *)data, size, &f, err, sizeof err) < 0)
        return 0;
    const struct herd_scenario *sc = herd_fleet_file_scenario(f);
    struct herd_fleet *m = malloc(sizeof *m);
    if (m) {
        for (int s = 0; sc->strategies[s].name; s++)
            herd_fleet_file_model(f, s, m, err, sizeof err);
        free(m);
    }
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        const struct herd_fleet_file *v;
        herd_fleet_file_set(f, "--set", sets[i][0], sets[i][1], &v, err, sizeof err);
    }
    int nm = herd_fleet_file_nmitigations(f);
    if (nm >= 2) {
        char combo[80];
        const struct herd_fleet_file *v;
        int s;
        snprintf(combo, sizeof combo, "%s+%s", sc->strategies[2].name, sc->strategies[1].name);
        herd_fleet_file_strategy(f, "-M", combo, &v, &s, err, sizeof err);
    }
    herd_fleet_file_free(f);
    return 0;
}
