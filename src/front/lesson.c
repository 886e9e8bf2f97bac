/* lesson.c — a field-guide lesson, run (lesson.h). */
#include "lesson.h"

#include <herd/error.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../report/fleet_figures.h"
#include "../report/report.h"
#include "../scenario/file.h"
#include "../scenario/scenario.h"
#include "../sim/fleet.h"

#define MAX_PICKS 12

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

void *herd_lesson_json(const struct herd_lesson *l)
{
    json_t *o = json_object(), *choices = json_array(), *items = json_array(),
           *tries = json_array(), *files = json_array();
    if (!o || !choices || !items || !tries || !files) {
        json_decref(o), json_decref(choices), json_decref(items), json_decref(tries);
        json_decref(files);
        return NULL;
    }
    for (int i = 0; i < HERD_LESSON_CHOICES && l->choices[i].key; i++)
        json_array_append_new(choices, json_pack("{s:s, s:s, s:o}", "key", l->choices[i].key,
                                                 "text", l->choices[i].text, "strategy",
                                                 str_or_null(l->choices[i].strategy)));
    for (int i = 0; i < HERD_LESSON_ITEMS && l->items[i]; i++)
        json_array_append_new(items, json_string(l->items[i]));
    for (int i = 0; i < HERD_LESSON_TRIES && l->tries[i]; i++)
        json_array_append_new(tries, json_string(l->tries[i]));
    char file[64];
    int claims[HERD_FLEET_MAX_CLAIMS], nc;
    for (int i = 0;
         herd_lesson_evidence(l, i, file, sizeof file, claims, HERD_FLEET_MAX_CLAIMS, &nc) == 0;
         i++)
        json_array_append_new(files, json_string(file));
    json_object_set_new(o, "name", json_string(l->name));
    json_object_set_new(o, "section", json_string(l->section));
    json_object_set_new(o, "setting", json_string(l->setting));
    json_object_set_new(o, "question", json_string(l->question));
    json_object_set_new(o, "choices", choices);
    json_object_set_new(o, "items", items);
    json_object_set_new(o, "multi", json_boolean(l->multi));
    json_object_set_new(o, "open", json_boolean(l->open));
    json_object_set_new(o, "answer", json_string(l->answer));
    json_object_set_new(o, "because", json_string(l->because));
    json_object_set_new(o, "files", files);
    json_object_set_new(o, "versus", str_or_null(l->versus));
    json_object_set_new(o, "tries", tries);
    return o;
}

/* One strategy to run for the picks table, and the keys whose choice it enacts. */
struct pick {
    char strategy[128];
    char label[64];
};

static void add_pick(struct pick *p, int *n, const char *strategy, const char *label)
{
    for (int i = 0; i < *n; i++)
        if (strcmp(p[i].strategy, strategy) == 0) {
            size_t l = strlen(p[i].label);
            if (label[0] && l + strlen(label) + 3 < sizeof p[i].label)
                snprintf(p[i].label + l, sizeof p[i].label - l, "%s%s", l ? ", " : "", label);
            return;
        }
    if (*n >= MAX_PICKS)
        return;
    snprintf(p[*n].strategy, sizeof p[*n].strategy, "%s", strategy);
    snprintf(p[*n].label, sizeof p[*n].label, "%s", label);
    (*n)++;
}

/* The strategies that enact the keys of canonical answer @p canon, joined by '+' (naive
 * dropped; "" when a key has no strategy or none is left). */
static void combined(const struct herd_lesson *l, const char *canon, char *out, size_t len)
{
    out[0] = '\0';
    char buf[64];
    snprintf(buf, sizeof buf, "%s", canon);
    size_t o = 0;
    for (char *save, *k = strtok_r(buf, "+", &save); k; k = strtok_r(NULL, "+", &save)) {
        const struct herd_lesson_choice *c = herd_lesson_choice(l, k);
        if (!c || !c->strategy) {
            out[0] = '\0';
            return;
        }
        if (strcmp(c->strategy, "naive") != 0 && o < len)
            o += (size_t)snprintf(out + o, len - o, "%s%s", o ? "+" : "", c->strategy);
    }
}

/* The herd resource's arrivals per bucket of run @p r, as a JSON array (null: none). */
static json_t *arrivals(const struct herd_report *r)
{
    const struct herd_fleet_figures *f = r->fleet;
    if (!f || f->herd < 0 || f->herd >= f->ncomps ||
        !f->comps[f->herd].series[HERD_FLEET_S_ARRIVALS])
        return json_null();
    json_t *a = json_array();
    for (size_t b = 0; a && b < f->nbuckets; b++)
        json_array_append_new(a, json_integer(f->comps[f->herd].series[HERD_FLEET_S_ARRIVALS][b]));
    return a ? a : json_null();
}

static json_t *figures(const struct herd_report *r)
{
    json_t *o = json_object();
    double v;
    const char *word;
    char full[128];
    const struct herd_fleet_figures *f = r->fleet;
#define HERD__LESSON_FIG(path, label)                                                              \
    full[0] = '\0';                                                                                \
    if (strncmp(path, "herd.", 5) != 0)                                                            \
        snprintf(full, sizeof full, "%s", path);                                                   \
    else if (f && f->herd >= 0 && f->herd < f->ncomps)                                             \
        snprintf(full, sizeof full, "components.%s.%s", f->comps[f->herd].name, path + 5);         \
    if (full[0] && herd_fleet_figure(r, full, &v, &word) == 0 && isfinite(v))                      \
        json_object_set_new(o, path, json_real(v));
    HERD_LESSON_FIGURES(HERD__LESSON_FIG)
#undef HERD__LESSON_FIG
    return o;
}

/* The evidence of one file: its claims (those @p idx names; all when @p n is 0) judged.
 * @return the JSON object, or NULL with @p err. *failed counts the failing claims. */
static json_t *judge(const struct herd_fleet_file *f, const char *name, const int *idx, int n,
                     uint64_t seed, int *failed, char *err, size_t errlen)
{
    int total = herd_fleet_file_nclaims(f);
    struct herd_fleet_claim_verdict v[HERD_FLEET_MAX_CLAIMS];
    int rc = total > 0 ? herd_sim_fleet_check(f, seed, v, err, errlen) : 0;
    if (rc < 0)
        return NULL;
    struct herd_fleet_claim_verdict sel[HERD_FLEET_MAX_CLAIMS];
    int ns = 0;
    for (int i = 0; i < (n ? n : total); i++) {
        int k = n ? idx[i] - 1 : i;
        if (k < 0 || k >= total) {
            snprintf(err, errlen, "lesson evidence: %s has no claim %d (it has %d)", name, k + 1,
                     total);
            return NULL;
        }
        sel[ns++] = v[k];
        *failed += !v[k].pass;
    }
    const struct herd_scenario *row = herd_fleet_file_scenario(f);
    json_t *o =
        json_pack("{s:s, s:s, s:s}", "file", name, "scenario", herd_fleet_file_fleet(f)->name,
                  "summary", row && row->summary ? row->summary : "");
    if (o)
        json_object_set_new(o, "claims", herd_fleet_claims_json(sel, ns));
    return o;
}

void *herd_lesson_run(const struct herd_lesson *l, const char *pick, uint64_t seed, char *err,
                      size_t errlen)
{
    json_t *o = herd_lesson_json(l), *evidence = json_array(), *rows = json_array();
    struct herd_fleet_file *first = NULL;
    struct pick *picks = calloc(MAX_PICKS, sizeof *picks);
    struct herd_report *r = calloc(1, sizeof *r);
    int failed = 0;
    if (!o || !evidence || !rows || !picks || !r) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    char name[64], path[4096];
    int idx[HERD_FLEET_MAX_CLAIMS], n;
    for (int i = 0;
         herd_lesson_evidence(l, i, name, sizeof name, idx, HERD_FLEET_MAX_CLAIMS, &n) == 0; i++) {
        struct herd_fleet_file *f;
        char guide[96];
        snprintf(guide, sizeof guide, "field-guide/%s", name);
        if (herd_fleet_find(guide, path, sizeof path) < 0) {
            snprintf(err, errlen, "lesson %s: the field guide's %s.yaml is not found", l->name,
                     name);
            goto fail;
        }
        if (herd_fleet_file_load(path, &f, err, errlen) < 0)
            goto fail;
        json_t *e = judge(f, name, idx, n, seed, &failed, err, errlen);
        if (!e) {
            herd_fleet_file_free(f);
            goto fail;
        }
        json_array_append_new(evidence, e);
        if (i == 0)
            first = f;
        else
            herd_fleet_file_free(f);
    }
    if (!first) {
        snprintf(err, errlen, "lesson %s: no evidence", l->name);
        goto fail;
    }

    /* The picks: naive, every choice that is a strategy, the reader's combination, the
     * answer's (versus). */
    int np = 0;
    add_pick(picks, &np, "naive", "");
    for (int i = 0; i < HERD_LESSON_CHOICES && l->choices[i].key; i++)
        if (l->choices[i].strategy)
            add_pick(picks, &np, l->choices[i].strategy, l->choices[i].key);
    char combo[128];
    if (pick && l->multi && strchr(pick, '+')) {
        combined(l, pick, combo, sizeof combo);
        if (combo[0])
            add_pick(picks, &np, combo, "your pick");
    }
    if (l->versus)
        add_pick(picks, &np, l->versus, "the answer's");
    json_t *chart = json_object();
    for (int i = 0; i < np; i++) {
        if (herd_sim_fleet_run_named(first, picks[i].strategy, seed, r, err, errlen) < 0)
            goto fail_chart;
        json_t *row =
            json_pack("{s:s, s:s}", "strategy", picks[i].strategy, "choices", picks[i].label);
        json_object_set_new(row, "figures", figures(r));
        json_array_append_new(rows, row);
        bool is_versus = l->versus && strcmp(picks[i].strategy, l->versus) == 0;
        if (i == 0 || is_versus) {
            if (i == 0 && r->fleet) {
                const struct herd_fleet_figures *ff = r->fleet;
                json_object_set_new(chart, "component", json_string(ff->comps[ff->herd].name));
                json_object_set_new(chart, "series", json_string("arrivals"));
                json_object_set_new(chart, "bucket_s", json_real((double)ff->bucket_ns / 1e9));
            }
            json_object_set_new(chart, i == 0 ? "naive" : "versus", arrivals(r));
        }
        herd_report_fini(r);
        memset(r, 0, sizeof *r);
    }
    json_object_set_new(o, "pick", str_or_null(pick));
    json_object_set_new(o, "correct",
                        pick ? json_boolean(herd_lesson_correct(l, pick)) : json_null());
    json_object_set_new(o, "seed", json_integer((json_int_t)seed));
    json_object_set_new(o, "evidence", evidence);
    json_t *cols = json_array();
#define HERD__LESSON_COL(path, label)                                                              \
    json_array_append_new(cols, json_pack("{s:s, s:s}", "figure", path, "label", label));
    HERD_LESSON_FIGURES(HERD__LESSON_COL)
#undef HERD__LESSON_COL
    json_object_set_new(o, "picks", json_pack("{s:o, s:o}", "columns", cols, "rows", rows));
    json_object_set_new(o, "chart", chart);
    json_object_set_new(o, "claims_failed", json_integer(failed));
    herd_fleet_file_free(first);
    free(picks);
    free(r);
    return o;

fail_chart:
    json_decref(chart);
fail:
    json_decref(o);
    json_decref(evidence);
    json_decref(rows);
    herd_fleet_file_free(first);
    free(picks);
    free(r);
    return NULL;
}
