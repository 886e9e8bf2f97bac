/* describe.c — a run spec as the report's plain values, and the catalogue as JSON: the
 * two places the scenario layer hands its tables to the layer below and to front ends. */
#include "scenario.h"

#include "../report/report.h"
#include "file.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <string.h>

/* A report names every parameter a spec holds. */
_Static_assert(HERD_MAX_PARAMS <= HERD_REPORT_MAX_PARAMS, "a report holds fewer parameters");

/* A file's run names the file (its name, cut to the report's 31 characters; the command
 * line has the path), the hash of its text and each --set that made its version. */
static void describe_file(const struct herd_fleet_file *f, struct herd_run_info *out)
{
    const char *paths[HERD_REPORT_MAX_PARAMS], *values[HERD_REPORT_MAX_PARAMS];
    const char *path = herd_fleet_file_path(f), *base = strrchr(path, '/');
    struct herd_run_param *p = &out->params[out->nparams++];
    p->key = "file";
    snprintf(p->text, sizeof p->text, "%s", base ? base + 1 : path);
    p->is_text = true;
    p = &out->params[out->nparams++];
    p->key = "file_hash";
    snprintf(p->text, sizeof p->text, "%016" PRIx64, herd_fleet_file_content_hash(f));
    p->is_text = true;
    size_t n = herd_fleet_file_overrides(f, paths, values, HERD_REPORT_MAX_PARAMS - 2);
    for (size_t i = 0; i < n && out->nparams < HERD_REPORT_MAX_PARAMS; i++) {
        p = &out->params[out->nparams++];
        p->key = paths[i];
        snprintf(p->text, sizeof p->text, "%s", values[i]);
        p->is_text = true;
    }
}

void herd_spec_describe(const struct herd_run_spec *spec, struct herd_run_info *out)
{
    const struct herd_scenario *sc = spec->sc;
    memset(out, 0, sizeof *out);
    out->scenario = sc->name;
    out->strategy = herd_spec_strategy(spec);
    out->mitigation = herd_spec_mitigation(spec);
    out->naive = herd_spec_naive(spec);
    out->n = spec->n;
    out->events = spec->events;
    out->seed = spec->seed;
    for (int i = 0; sc->params[i].key && i < HERD_REPORT_MAX_PARAMS; i++) {
        struct herd_run_param *p = &out->params[out->nparams++];
        p->key = sc->params[i].key;
        herd_spec_format_param(spec, i, p->text, sizeof p->text);
        p->number = spec->params[i];
        p->is_int = sc->params[i].type == HERD_PARAM_INT;
        p->is_text =
            sc->params[i].type == HERD_PARAM_ENUM || sc->params[i].type == HERD_PARAM_TEXT;
    }
    const struct herd_fleet_file *file = herd_fleet_file_of(sc);
    if (file)
        describe_file(file, out);
    out->trigger = sc->trigger;
    out->waiters = sc->waiters;
    out->resource = sc->resource;
    out->naive_name = herd_scenario_naive(sc);
    out->waiter_noun = sc->waiter_noun;
}

int herd_spec_report_init(struct herd_report *r, const struct herd_run_spec *spec,
                          const char *backend)
{
    struct herd_run_info info;
    herd_spec_describe(spec, &info);
    return herd_report_init(r, &info, backend);
}

static json_t *param_json(const struct herd_param_def *d)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "key", d->key, "type",
                          d->type == HERD_PARAM_ENUM   ? "enum"
                          : d->type == HERD_PARAM_INT  ? "int"
                          : d->type == HERD_PARAM_TEXT ? "text"
                                                       : "number",
                          "unit", d->unit, "help", d->help);
    if (d->type == HERD_PARAM_TEXT) {
        json_object_set_new(o, "default", json_string(""));
    } else if (d->type == HERD_PARAM_ENUM) {
        json_t *c = json_array();
        for (int k = 0; d->choices[k]; k++)
            json_array_append_new(c, json_string(d->choices[k]));
        json_object_set_new(o, "choices", c);
        json_object_set_new(o, "default", json_string(d->choices[(int)d->def]));
    } else {
        json_object_set_new(o, "default", json_real(d->def));
        json_object_set_new(o, "min", json_real(d->min));
        json_object_set_new(o, "max", json_real(d->max));
    }
    return o;
}

static json_t *scenario_json(const struct herd_scenario *sc);

void *herd_catalogue_to_json(void)
{
    return herd_catalogue_to_json_rows(NULL, 0);
}

void *herd_catalogue_to_json_rows(const struct herd_scenario *const *rows, size_t nrows)
{
    json_t *arr = json_array();
    for (int i = 0; herd_scenarios[i]; i++)
        json_array_append_new(arr, scenario_json(herd_scenarios[i]));
    for (size_t i = 0; i < nrows; i++) {
        json_t *o = scenario_json(rows[i]);
        const struct herd_fleet_file *f = herd_fleet_file_of(rows[i]);
        if (f) {
            char hash[20];
            snprintf(hash, sizeof hash, "%016" PRIx64, herd_fleet_file_content_hash(f));
            json_object_set_new(o, "file", json_pack("{s:s, s:s}", "path",
                                                     herd_fleet_file_path(f), "hash", hash));
        }
        json_array_append_new(arr, o);
    }
    json_t *root = json_object();
    json_object_set_new(root, "scenarios", arr);
    json_t *outcomes = json_array();
    for (int c = 0; c < HERD_OUT_COUNT; c++)
        json_array_append_new(outcomes,
                              json_pack("{s:s, s:s}", "name", herd_outcome_name(c), "doc",
                                        herd_outcome_doc(c)));
    json_object_set_new(root, "outcomes", outcomes);
    json_object_set_new(root, "glossary", json_string("docs/glossary.md"));
    return root;
}

static json_t *scenario_json(const struct herd_scenario *sc)
{
    json_t *ps = json_array(), *ms = json_array();
    for (int p = 0; sc->params[p].key; p++)
        json_array_append_new(ps, param_json(&sc->params[p]));
    for (int m = 1; sc->strategies[m].name; m++)
        json_array_append_new(ms, json_pack("{s:s, s:s, s:s}", "name",
                                            sc->strategies[m].name, "family",
                                            herd_family_name(sc->strategies[m].family),
                                            "help", sc->strategies[m].help));
    json_t *bk = json_array();
    if (sc->backends & HERD_BACKEND_LIVE)
        json_array_append_new(bk, json_string("live"));
    if (sc->backends & HERD_BACKEND_SIM)
        json_array_append_new(bk, json_string("sim"));
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:o, s:s, "
                       "s:o, s:o}",
                       "name", sc->name, "summary", sc->summary, "trigger", sc->trigger,
                       "waiters", sc->waiters, "resource", sc->resource, "naive",
                       herd_scenario_naive(sc), "naive_help", sc->strategies[0].help,
                       "n_default", (json_int_t)sc->n_default, "n_max",
                       (json_int_t)HERD_N_MAX, "events_default",
                       (json_int_t)sc->events_default, "default_mitigation",
                       sc->strategies[sc->default_mitigation].name, "mitigations", ms,
                       "waiter_noun", sc->waiter_noun, "params", ps, "backends", bk);
}

int herd_write_catalogue_json(FILE *f)
{
    return herd_write_catalogue_json_rows(f, NULL, 0);
}

int herd_write_catalogue_json_rows(FILE *f, const struct herd_scenario *const *rows,
                                   size_t nrows)
{
    json_t *root = herd_catalogue_to_json_rows(rows, nrows);
    int rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return rc < 0 || fputc('\n', f) == EOF ? -EIO : 0;
}
