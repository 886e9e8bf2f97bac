/* cmd_list.c — `herd list`: the catalogue, straight from src/scenario/ (list.h). */
#include "cli.h"

#include <getopt.h>
#include <string.h>

static const char list_usage[] =
    "usage: herd list [SCENARIO] [--format text|json]\n"
    "\n"
    "List the scenarios with a one-line description, their parameters (default, unit,\n"
    "range or choices; set with --set KEY=VALUE on herd run) and their mitigations.\n"
    "\n"
    "  -f, --format FMT   text (default) or json\n"
    "  -h, --help         this help\n";

static void print_param(const struct herd_param_def *p)
{
    char range[128];
    if (p->type == HERD_PARAM_ENUM) {
        size_t off = 0;
        range[0] = '\0';
        for (int c = 0; p->choices[c]; c++)
            off += (size_t)snprintf(range + off, sizeof range - off, "%s%s", c ? "|" : "",
                                    p->choices[c]);
        printf("    %-16s default %-10s one of %s\n", p->key, p->choices[(int)p->def], range);
    } else {
        char def[80];
        const char *num = p->type == HERD_PARAM_INT ? "%.0f" : "%g";
        char lo[32], hi[32], dv[32];
        snprintf(dv, sizeof dv, num, p->def);
        snprintf(lo, sizeof lo, num, p->min);
        snprintf(hi, sizeof hi, num, p->max);
        snprintf(def, sizeof def, "%s%s%s", dv, *p->unit ? " " : "", p->unit);
        printf("    %-16s default %-10s range %s to %s%s%s\n", p->key, def, lo, hi,
               *p->unit ? " " : "", p->unit);
    }
    printf("    %-16s %s\n", "", p->help);
}

static void print_scenario(const struct herd_scenario *sc)
{
    printf("%-10s %s\n", sc->name, sc->summary);
    printf("    trigger:   %s\n    waiters:   %s\n    resource:  %s\n", sc->trigger, sc->waiters,
           sc->resource);
    printf("    defaults:  -n %lld, --events %lld\n", (long long)sc->n_default,
           (long long)sc->events_default);
    printf("    backends:  %s%s%s\n", (sc->backends & HERD_BACKEND_LIVE) ? "live" : "",
           sc->backends == (HERD_BACKEND_LIVE | HERD_BACKEND_SIM) ? ", " : "",
           (sc->backends & HERD_BACKEND_SIM) ? "sim" : "");
    printf("  naive:\n    %-16s %s\n", herd_scenario_naive(sc), sc->strategies[0].help);
    printf("  mitigations (--mitigation NAME; default %s):\n",
           sc->strategies[sc->default_mitigation].name);
    for (int m = 1; sc->strategies[m].name; m++)
        printf("    %-16s [%s] %s\n", sc->strategies[m].name,
               herd_family_name(sc->strategies[m].family), sc->strategies[m].help);
    printf("  parameters (--set KEY=VALUE):\n");
    for (int p = 0; sc->params[p].key; p++)
        print_param(&sc->params[p]);
}

int herd_cmd_list(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *format = "text";
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            format = optarg;
            break;
        case 'h':
            fputs(list_usage, stdout);
            return HERD_EXIT_OK;
        default:
            return herd__usage_error("list: unknown option '%s' (see herd list --help)",
                                     argv[optind - 1]);
        }
    }
    if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0)
        return herd__usage_error("--format: '%s' is not allowed for list; allowed: text, json",
                                 format);
    const struct herd_scenario *only = NULL;
    if (optind < argc) {
        only = herd_scenario_find(argv[optind]);
        if (!only) {
            char names[256];
            herd_scenario_names(names, sizeof names);
            return herd__usage_error("list: unknown scenario '%s'; allowed: %s", argv[optind],
                                     names);
        }
    }
    if (strcmp(format, "json") == 0)
        return herd_write_catalogue_json(stdout) == 0 ? HERD_EXIT_OK : HERD_EXIT_FAIL;
    for (int i = 0; herd_scenarios[i]; i++) {
        if (only && herd_scenarios[i] != only)
            continue;
        if (i && !only)
            putchar('\n');
        print_scenario(herd_scenarios[i]);
    }
    /* The vocabulary every figure above is counted in. */
    printf("\noutcomes (every reaction of every waiter is one; docs/glossary.md defines them "
           "per scenario):\n");
    for (int o = 1; o < HERD_OUT_COUNT; o++)
        printf("    %-8s %s\n", herd_outcome_name((enum herd_outcome)o),
               herd_outcome_doc((enum herd_outcome)o));
    printf("    %-8s %s\n", herd_outcome_name(HERD_OUT_IDLE), herd_outcome_doc(HERD_OUT_IDLE));
    printf("    wakes = useful + served + wasted + failed; origin load: operations that reached "
           "the resource\n");
    return HERD_EXIT_OK;
}
