/* cmd_compare.c — `herd compare`: seed 000's technique table with every cell measured
 * (front/compare.h): text, JSON or Markdown; --constraint no-stale answers the seed's
 * question from the measurements. */
#include "cli.h"

#include "../front/compare.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char compare_usage[] =
    "usage: herd compare [--constraint no-stale] [--seed N] [--format text|json|markdown]\n"
    "                    [--out FILE]\n"
    "\n"
    "Seed 000's table of techniques, measured: each technique runs naive and with itself on\n"
    "the scenario file that tests it (simulator, one seed), and each column gets the figure\n"
    "that answers it and a verdict beside the seed's Yes/No (a disagreement is marked):\n"
    "breaks synchronization (the herd resource's peak rate), reduces duplicate work (its\n"
    "attempts), adds latency (the clients' p99), risks correctness (stale serves).\n"
    "\n"
    "  --constraint C  no-stale: which rows are allowed if you cannot serve stale data, and\n"
    "                  the first move among them (the seed's question)\n"
    "  --seed N        the runs' seed (default 1)\n"
    "  --format F      text (default), json or markdown\n"
    "  --out FILE      write there instead of stdout (as curl -o)\n";

static const char *cell_verdict(json_t *c)
{
    return strcmp(json_string_value(json_object_get(c, "verdict")), "yes") == 0 ? "Yes" : "No";
}

static void text(FILE *out, json_t *o)
{
    json_t *cols = json_object_get(o, "columns"), *r;
    size_t i;
    fprintf(out, "seed 000's technique table, measured (simulator, seed %lld)\n",
            (long long)json_integer_value(json_object_get(o, "seed")));
    json_array_foreach(json_object_get(o, "rows"), i, r)
    {
        fprintf(out, "\n%s — %s naive vs %s (typical use: %s)\n",
                json_string_value(json_object_get(r, "technique")),
                json_string_value(json_object_get(r, "file")),
                json_string_value(json_object_get(r, "strategy")),
                json_string_value(json_object_get(r, "use")));
        size_t k;
        json_t *c;
        json_array_foreach(json_object_get(r, "cells"), k, c)
        {
            bool agrees = json_is_true(json_object_get(c, "agrees"));
            fprintf(out, "  %-24s %-4s %-46s seed: %s%s\n",
                    json_string_value(json_array_get(cols, k)), cell_verdict(c),
                    json_string_value(json_object_get(c, "text")),
                    json_string_value(json_object_get(c, "seed")), agrees ? "" : "  ≠ measured");
        }
    }
}

static void markdown(FILE *out, json_t *o)
{
    json_t *cols = json_object_get(o, "columns"), *r, *c;
    size_t i, k;
    fprintf(out, "| Technique |");
    json_array_foreach(cols, k, c) fprintf(out, " %s |", json_string_value(c));
    fprintf(out, " Typical use |\n|---|---|---|---|---|---|\n");
    json_array_foreach(json_object_get(o, "rows"), i, r)
    {
        fprintf(out, "| %s (`%s`, `%s`) |", json_string_value(json_object_get(r, "technique")),
                json_string_value(json_object_get(r, "file")),
                json_string_value(json_object_get(r, "strategy")));
        json_array_foreach(json_object_get(r, "cells"), k, c)
            fprintf(out, " **%s**: %s (seed: %s%s) |", cell_verdict(c),
                    json_string_value(json_object_get(c, "text")),
                    json_string_value(json_object_get(c, "seed")),
                    json_is_true(json_object_get(c, "agrees")) ? "" : "; **differs**");
        fprintf(out, " %s |\n", json_string_value(json_object_get(r, "use")));
    }
}

static void answer(FILE *out, json_t *a)
{
    if (!a)
        return;
    fprintf(out, "\nIf you cannot serve stale data (measured: no stale serve with the technique):\n"
                 "  allowed:");
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(a, "allowed"), i, t)
        fprintf(out, "%s %s", i ? "," : "", json_string_value(t));
    json_t *w = json_object_get(a, "cuts_duplicate_work"),
           *s = json_object_get(a, "breaks_synchronization");
    fputc('\n', out);
    if (w)
        fprintf(out, "  cuts the duplicate work most: %s (%.1f× fewer attempts)\n",
                json_string_value(json_object_get(w, "technique")),
                json_number_value(json_object_get(w, "factor")));
    if (s)
        fprintf(out, "  breaks the synchronization most: %s (peak %.1f× lower)\n",
                json_string_value(json_object_get(s, "technique")),
                json_number_value(json_object_get(s, "factor")));
    fprintf(out, "  the seed's answer: request coalescing plus jitter/backoff\n");
}

int herd_cmd_compare(int argc, char **argv)
{
    static const struct option opts[] = {
        {"constraint", required_argument, NULL, 'c'},
        {"seed", required_argument, NULL, 's'},
        {"format", required_argument, NULL, 'f'},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t seed = 1;
    const char *format = "text", *outpath = NULL, *constraint = NULL;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
        switch (c) {
        case 'c':
            constraint = optarg;
            break;
        case 's':
            if (herd__cli_seed(optarg, &seed) != HERD_EXIT_OK)
                return HERD_EXIT_USAGE;
            break;
        case 'f':
            format = optarg;
            break;
        case 'o':
            outpath = optarg;
            break;
        case 'h':
            fputs(compare_usage, stdout);
            return HERD_EXIT_OK;
        default:
            return HERD_EXIT_USAGE;
        }
    }
    if (optind < argc)
        return herd__usage_error("compare: unexpected '%s' (see herd compare --help)",
                                 argv[optind]);
    if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "markdown"))
        return herd__usage_error("--format: '%s' is not allowed; allowed: text, json, markdown",
                                 format);
    if (constraint && strcmp(constraint, "no-stale") != 0)
        return herd__usage_error("--constraint: '%s' is not allowed; allowed: no-stale",
                                 constraint);
    struct herd_cli_out out;
    int rc = herd__cli_out_open(&out, "--out", outpath);
    if (rc != HERD_EXIT_OK)
        return rc;
    fprintf(stderr, "herd: running the eight techniques on the simulator (seed %llu) ...\n",
            (unsigned long long)seed);
    char err[1024];
    json_t *o = herd_compare_run(seed, constraint, err, sizeof err);
    if (!o) {
        herd__cli_out_abort(&out);
        return herd__fail("compare: %s", err);
    }
    if (strcmp(format, "json") == 0) {
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
        fprintf(out.f, "%s\n", s ? s : "{}");
        free(s);
    } else {
        if (strcmp(format, "markdown") == 0)
            markdown(out.f, o);
        else
            text(out.f, o);
        answer(out.f, json_object_get(o, "answer"));
    }
    json_decref(o);
    int w = herd__cli_out_commit(&out);
    if (w < 0)
        return herd__fail("--out: cannot write '%s': %s", outpath, strerror(-w));
    return HERD_EXIT_OK;
}
