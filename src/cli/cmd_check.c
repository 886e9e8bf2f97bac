/* cmd_check.c — `herd check [FILE|NAME ...]`: judge scenario files' claims on the
 * simulator (docs/scenario-file.md, Claims). Each strategy a file's claims name is run
 * once with one seed (herd_sim_fleet_check); each claim prints its measured value and
 * PASS or FAIL; the exit status is 1 when any fails. Without a name, every file of the
 * field guide (scenarios/field-guide/) is checked. */
#include "cli.h"

#include "../report/fleet_figures.h"
#include "../scenario/file.h"
#include "../sim/fleet.h"

#include <getopt.h>
#include <herd/error.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char check_usage[] =
    "usage: herd check [--seed N] [--format text|json] [FILE.yaml | NAME ...]\n"
    "\n"
    "Judge the `claim` block of scenario files on the simulator: each strategy the claims\n"
    "name runs once with the seed (default 1), and each claim prints the value measured\n"
    "and PASS or FAIL. Exits 1 when a claim fails. Without a name, checks every section of\n"
    "the field guide (scenarios/field-guide/).\n"
    "\n"
    "  --seed N        the runs' seed (default 1: the one the shipped claims are checked at)\n"
    "  --format F      text (default) or json\n"
    "\n"
    "examples:\n"
    "  herd check bathtub\n"
    "  herd check field-guide/cascade-abc --format json\n"
    "  herd check\n";

#define GUIDE_MAX 64

/* Check one file; @return HERD_EXIT_OK (all hold), HERD_EXIT_FAIL (one failed or a run
 * failed) or HERD_EXIT_USAGE (the file is refused). */
static int check_one(const char *arg, bool is_path, uint64_t seed, bool json, json_t *out)
{
    char path[4096], err[1024];
    if (is_path)
        snprintf(path, sizeof path, "%s", arg);
    else if (herd_fleet_find(arg, path, sizeof path) < 0)
        return herd__usage_error("check: unknown scenario file '%s'; allowed: FILE.yaml or a "
                                 "shipped file's name",
                                 arg);
    struct herd_fleet_file *f;
    int rc = herd_fleet_file_load(path, &f, err, sizeof err);
    if (rc == -HERD_EINVAL)
        return herd__usage_error("%s", err);
    if (rc < 0)
        return herd__fail("%s", err);
    int n = herd_fleet_file_nclaims(f);
    struct herd_fleet_claim_verdict v[HERD_FLEET_MAX_CLAIMS];
    int failed = n > 0 ? herd_sim_fleet_check(f, seed, v, err, sizeof err) : 0;
    const char *name = herd_fleet_file_fleet(f)->name;
    if (failed < 0) {
        herd_fleet_file_free(f);
        return herd__fail("%s: %s", path, err);
    }
    if (json) {
        json_t *o = json_pack("{s:s, s:s, s:I, s:i, s:i}", "scenario", name, "file", path, "seed",
                              (json_int_t)seed, "claims_total", n, "failed", failed);
        json_object_set_new(o, "claims", herd_fleet_claims_json(v, n));
        json_array_append_new(out, o);
    } else {
        printf("%s (%s): %d claim%s, %s\n", name, path, n, n == 1 ? "" : "s",
               n == 0   ? "nothing to check"
               : failed ? "FAILED"
                        : "all hold");
        herd_fleet_claims_text(stdout, v, n);
    }
    herd_fleet_file_free(f);
    return failed ? HERD_EXIT_FAIL : HERD_EXIT_OK;
}

int herd_cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"seed", required_argument, NULL, 's'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t seed = 1;
    const char *format = "text";
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
        switch (c) {
        case 's':
            if (herd__cli_seed(optarg, &seed) != HERD_EXIT_OK)
                return HERD_EXIT_USAGE;
            break;
        case 'f':
            format = optarg;
            break;
        case 'h':
            fputs(check_usage, stdout);
            return HERD_EXIT_OK;
        default:
            return HERD_EXIT_USAGE;
        }
    }
    bool json = strcmp(format, "json") == 0;
    if (!json && strcmp(format, "text") != 0)
        return herd__usage_error("--format: '%s' is not allowed; allowed: text, json", format);
    json_t *out = json ? json_array() : NULL;
    int rc = HERD_EXIT_OK;
    if (optind < argc) {
        for (int i = optind; i < argc && rc != HERD_EXIT_USAGE; i++) {
            int r = check_one(argv[i], herd_fleet_is_path(argv[i]), seed, json, out);
            rc = r > rc ? r : rc;
        }
    } else {
        static char paths[GUIDE_MAX][4096];
        size_t n = herd_fleet_guide_files(paths, GUIDE_MAX);
        if (n == 0)
            rc = herd__fail("check: no field guide found (scenarios/field-guide/)");
        for (size_t i = 0; i < n && rc != HERD_EXIT_USAGE; i++) {
            int r = check_one(paths[i], true, seed, json, out);
            rc = r > rc ? r : rc;
        }
    }
    if (json) {
        char *s = json_dumps(out, JSON_INDENT(2));
        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(out);
    }
    return rc;
}
