/* describe.c — a run spec as the report's plain values, and the catalogue as JSON: the
 * two places the scenario layer hands its tables to the layer below and to front ends. */
#include "scenario.h"

#include "../report/report.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

/* A report names every parameter a spec holds. */
_Static_assert(HERD_MAX_PARAMS <= HERD_REPORT_MAX_PARAMS, "a report holds fewer parameters");

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
        p->is_text = sc->params[i].type == HERD_PARAM_ENUM;
    }
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
                          d->type == HERD_PARAM_ENUM  ? "enum"
                          : d->type == HERD_PARAM_INT ? "int"
                                                      : "number",
                          "unit", d->unit, "help", d->help);
    if (d->type == HERD_PARAM_ENUM) {
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

void *herd_catalogue_to_json(void)
{
    json_t *arr = json_array();
    for (int i = 0; herd_scenarios[i]; i++) {
        const struct herd_scenario *sc = herd_scenarios[i];
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
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:o, s:s, "
                           "s:o, s:o}",
                           "name", sc->name, "summary", sc->summary, "trigger", sc->trigger,
                           "waiters", sc->waiters, "resource", sc->resource, "naive",
                           herd_scenario_naive(sc), "naive_help", sc->strategies[0].help,
                           "n_default", (json_int_t)sc->n_default, "n_max",
                           (json_int_t)HERD_N_MAX, "events_default",
                           (json_int_t)sc->events_default, "default_mitigation",
                           sc->strategies[sc->default_mitigation].name, "mitigations", ms,
                           "waiter_noun", sc->waiter_noun, "params", ps, "backends", bk));
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

int herd_write_catalogue_json(FILE *f)
{
    json_t *root = herd_catalogue_to_json();
    int rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return rc < 0 || fputc('\n', f) == EOF ? -EIO : 0;
}
