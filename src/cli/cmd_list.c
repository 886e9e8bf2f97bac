/* cmd_list.c — `herd list`: the catalogue, straight from src/scenario/ (list.h). */
#include "cli.h"

#include "../scenario/file.h"

#include <getopt.h>
#include <herd/error.h>
#include <stdlib.h>
#include <string.h>

static const char list_usage[] =
    "usage: herd list [SCENARIO...] [--format text|json]\n"
    "\n"
    "List the scenarios with a one-line description, their parameters (default, unit,\n"
    "range or choices; set with --set KEY=VALUE on herd run) and their mitigations, then\n"
    "the scenario files shipped with herd (herd run NAME; docs/scenario-file.md). Each\n"
    "SCENARIO may be a catalogue name, a shipped file's name or a FILE.yaml (json: one).\n"
    "\n"
    "  -f, --format FMT   text (default) or json\n"
    "  -h, --help         this help\n";

static void print_param(const struct herd_param_def *p)
{
    char range[128];
    if (p->type == HERD_PARAM_TEXT) {
        printf("    %-16s default %-10s text\n", p->key, "(none)");
    } else if (p->type == HERD_PARAM_ENUM) {
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

/* A file's parts, one line each: what `herd list NAME` adds for a scenario file. */
static void print_file(const struct herd_fleet_file *f)
{
    static const char *const kinds[] = {"clients", "service", "cache"};
    const struct herd_fleet *m = herd_fleet_file_fleet(f);
    printf("  file:      %s (hash %016llx)\n", herd_fleet_file_path(f),
           (unsigned long long)herd_fleet_file_content_hash(f));
    printf("  components (set fields with --set components.NAME.FIELD=VALUE):\n");
    for (int i = 0; i < m->ncomps; i++)
        printf("    %-16s %s%s\n", m->comps[i].name, kinds[m->comps[i].kind],
               i == m->herd ? " (the herd's resource)" : "");
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
    const struct herd_fleet_file *f = herd_fleet_file_of(sc);
    if (f) {
        print_file(f);
        return;
    }
    if (sc->set_row || sc->fixed_size) {
        printf("  settings:  any field of the file by its path, --set components.NAME.FIELD="
               "VALUE\n             (docs/scenario-file.md); herd list shows the shipped files\n");
        return;
    }
    printf("  parameters (--set KEY=VALUE):\n");
    for (int p = 0; sc->params[p].key; p++)
        print_param(&sc->params[p]);
}

#define SHIPPED_MAX 64

/* The shipped files (@p guide: the field guide's), loaded (a broken one is said on stderr
 * and skipped). */
static size_t load_shipped(struct herd_fleet_file **files, const struct herd_scenario **rows,
                           bool guide)
{
    static char paths[SHIPPED_MAX][4096];
    size_t n = guide ? herd_fleet_guide_files(paths, SHIPPED_MAX)
                     : herd_fleet_shipped(paths, SHIPPED_MAX),
           k = 0;
    char err[1024];
    for (size_t i = 0; i < n && i < SHIPPED_MAX; i++) {
        if (herd_fleet_file_load(paths[i], &files[k], err, sizeof err) < 0) {
            fprintf(stderr, "herd: list: %s\n", err);
            continue;
        }
        rows[k] = herd_fleet_file_scenario(files[k]);
        k++;
    }
    return k;
}

static int list_all(bool json)
{
    struct herd_fleet_file *files[2 * SHIPPED_MAX];
    const struct herd_scenario *rows[2 * SHIPPED_MAX];
    size_t top = load_shipped(files, rows, false);
    size_t n = top + load_shipped(files + top, rows + top, true);
    int rc = HERD_EXIT_OK;
    if (json) {
        rc = herd_write_catalogue_json_rows(stdout, rows, n) == 0 ? HERD_EXIT_OK : HERD_EXIT_FAIL;
    } else {
        for (int i = 0; herd_scenarios[i]; i++) {
            if (i)
                putchar('\n');
            print_scenario(herd_scenarios[i]);
        }
        printf("\nscenario files (herd run NAME, herd list NAME; docs/scenario-file.md):\n");
        for (size_t i = 0; i < n; i++) {
            if (i == top)
                printf("\nthe field guide, a file per section (herd run field-guide/NAME; herd "
                       "check; herd lesson):\n");
            char mits[256];
            herd_mitigation_names(rows[i], mits, sizeof mits);
            printf("  %-22s %s\n", rows[i]->name, rows[i]->summary);
            printf("  %-22s mitigations: %s\n", "", *mits ? mits : "none");
        }
    }
    for (size_t i = 0; i < n; i++)
        herd_fleet_file_free(files[i]);
    return rc;
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
    while ((c = getopt_long(argc, argv, ":f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            format = optarg;
            break;
        case 'h':
            fputs(list_usage, stdout);
            return HERD_EXIT_OK;
        case ':':
            return herd__usage_error("%s: needs a value (see herd list --help)",
                                     argv[optind - 1]);
        default:
            return herd__usage_error("list: unknown option '%s' (see herd list --help)",
                                     argv[optind - 1]);
        }
    }
    if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0)
        return herd__usage_error("--format: '%s' is not allowed for list; allowed: text, json",
                                 format);
    bool json = strcmp(format, "json") == 0;
    int names = argc - optind;
    if (json && names > 1)
        return herd__usage_error("list: '%s': --format json lists one SCENARIO (or all of "
                                 "them without one)",
                                 argv[optind + 1]);
    if (names > SHIPPED_MAX)
        return herd__usage_error("list: at most %d scenarios at once", SHIPPED_MAX);
    if (names == 0) {
        int rc = list_all(json);
        if (rc != HERD_EXIT_OK || json)
            return rc;
    } else {
        /* Every name is checked before anything is printed: a typo in the third name is
         * one usage error, not two pages and an error. */
        const struct herd_scenario *rows[SHIPPED_MAX];
        struct herd_fleet_file *files[SHIPPED_MAX];
        int rc = HERD_EXIT_OK, k;
        for (k = 0; k < names && rc == HERD_EXIT_OK; k++) {
            rc = herd__cli_scenario("list", argv[optind + k], &rows[k], &files[k]);
            if (rc == HERD_EXIT_OK && !rows[k])
                rows[k] = herd_scenario_find(argv[optind + k]);
        }
        if (rc != HERD_EXIT_OK)
            k--; /* the failed one left nothing to free */
        else if (json)
            rc = herd_write_catalogue_json_rows(stdout, files[0] ? &rows[0] : NULL,
                                                files[0] ? 1 : 0) == 0
                     ? HERD_EXIT_OK
                     : HERD_EXIT_FAIL;
        else
            for (int i = 0; i < names; i++) {
                if (i)
                    putchar('\n');
                print_scenario(rows[i]);
            }
        for (int i = 0; i < k; i++)
            herd_fleet_file_free(files[i]);
        if (rc != HERD_EXIT_OK || json)
            return rc;
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
