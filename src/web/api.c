/* api.c — the web API's meaning: request → validated specs → reports → JSON.
 *
 * No HTTP here (server.c owns that), so the same checks serve the JSON body of POST
 * /api/run and the query string of the SSE stream. Every check is herd run's own
 * (herd_request_resolve, with the API's field names in the messages); the only additions
 * are the type checks a JSON body needs and the unknown-field check.
 * Reentrant: no state outside the caller's arguments.
 */
#include "api.h"

#include "../live/live.h"
#include "../scenario/request.h"

#include <assert.h>
#include <herd/error.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest value text accepted for one field: far beyond any valid value, short enough
 * that a message quoting it stays one readable line. */
#define VALUE_MAX 64

/* Both backends' defaults must fit the stream: a page that leaves "runs" out gets them. */
_Static_assert(HERD_API_STREAM_RUNS_MAX >= HERD_LIVE_RUNS_DEFAULT &&
                   HERD_API_STREAM_RUNS_MAX >= HERD_SIM_AUTO_RUNS_MAX,
               "the stream refuses a backend's default runs");

static const char *const fields[] = {"scenario", "backend", "mode",   "mitigation", "n",
                                     "events",   "seed",    "runs",   "params",     NULL};

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* A scalar field as the text a command-line flag would carry: strings as they are,
 * numbers printed exactly (an integral real prints without a point, so 1000.0 is 1000
 * and 1.5 stays 1.5 for the CLI's parser to refuse). */
static int scalar_text(const json_t *v, const char *name, char *buf, size_t len, char *err,
                       size_t errlen)
{
    if (json_is_string(v)) {
        if (json_string_length(v) >= len || json_string_length(v) != strlen(json_string_value(v)))
            return herd_request_refuse(err, errlen, "%s: value too long or not text", name);
        memcpy(buf, json_string_value(v), json_string_length(v) + 1);
        return 0;
    }
    if (json_is_integer(v)) {
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return 0;
    }
    if (json_is_real(v)) {
        snprintf(buf, len, "%.17g", json_real_value(v));
        return 0;
    }
    return herd_request_refuse(err, errlen, "%s: expected a number or a string, got %s", name,
                               type_name(v));
}

static int string_field(const json_t *req, const char *name, const char **out, char *err,
                        size_t errlen)
{
    const json_t *v = json_object_get(req, name);
    if (!v)
        return 0;
    if (!json_is_string(v))
        return herd_request_refuse(err, errlen, "%s: expected a string, got %s", name,
                                   type_name(v));
    if (json_string_length(v) > VALUE_MAX)
        return herd_request_refuse(err, errlen, "%s: value too long", name);
    *out = json_string_value(v);
    return 0;
}

/* A number field as the text its command-line flag would carry, into @p buf (NULL when
 * absent); the range is herd_request_resolve's to check. */
static int number_field(const json_t *req, const char *name, char *buf, size_t len,
                        const char **out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(req, name);
    if (!v)
        return 0;
    if (scalar_text(v, name, buf, len, err, errlen) < 0)
        return -HERD_EINVAL;
    *out = buf;
    return 0;
}

/* "params" as split settings, each a string or a JSON number as it came: the catalogue
 * checks them (herd_spec_set_text / herd_spec_set_number), nothing is printed back into
 * text to be parsed again. Keys and strings are borrowed from @p req. */
static int params_field(const json_t *req, struct herd_setting *sets, size_t *nsets, char *err,
                        size_t errlen)
{
    const json_t *ps = json_object_get(req, "params");
    const char *key;
    const json_t *v;
    *nsets = 0;
    if (!ps || json_is_null(ps))
        return 0;
    if (!json_is_object(ps))
        return herd_request_refuse(err, errlen, "params: expected an object of KEY: value, got %s",
                                   type_name(ps));
    json_object_foreach((json_t *)ps, key, v)
    {
        if (strlen(key) > VALUE_MAX || strchr(key, '=') || !key[0])
            return herd_request_refuse(err, errlen, "params: '%.*s' is not a parameter name",
                                       VALUE_MAX, key);
        if (*nsets == HERD_MAX_PARAMS)
            return herd_request_refuse(err, errlen, "params: at most %d parameters",
                                       HERD_MAX_PARAMS);
        struct herd_setting *st = &sets[(*nsets)++];
        st->key = key;
        if (json_is_string(v)) {
            if (json_string_length(v) > VALUE_MAX ||
                json_string_length(v) != strlen(json_string_value(v)))
                return herd_request_refuse(err, errlen, "params.%s: value too long or not text",
                                           key);
            st->text = json_string_value(v);
        } else if (json_is_number(v)) {
            st->text = NULL;
            st->number = json_number_value(v);
        } else {
            return herd_request_refuse(err, errlen,
                                       "params.%s: expected a number or a string, got %s", key,
                                       type_name(v));
        }
    }
    return 0;
}

int herd__api_parse_run(const json_t *req, struct herd_api_run *out, char *err, size_t errlen)
{
    /* The page's defaults: one naive simulation. */
    struct herd_request r = {.backend = "sim", .mode = "naive"};
    char n[VALUE_MAX + 1], events[VALUE_MAX + 1], seed[VALUE_MAX + 1], runs[VALUE_MAX + 1];
    struct herd_setting sets[HERD_MAX_PARAMS];
    const char *key, *runs_text = NULL;
    const json_t *v;
    struct herd_request_plan plan;

    /* JSON's own checks first: an object of known fields, each of the right type. */
    if (!json_is_object(req))
        return herd_request_refuse(err, errlen,
                                   "expected a JSON object such as {\"scenario\":\"accept\"}");
    json_object_foreach((json_t *)req, key, v)
    {
        int i = 0;
        while (fields[i] && strcmp(fields[i], key) != 0)
            i++;
        if (!fields[i])
            return herd_request_refuse(
                err, errlen,
                "unknown field '%.*s'; allowed: scenario, backend, mode, mitigation, n, "
                "events, seed, runs, params",
                VALUE_MAX, key);
    }
    if (string_field(req, "scenario", &r.scenario, err, errlen) < 0 ||
        string_field(req, "backend", &r.backend, err, errlen) < 0 ||
        string_field(req, "mode", &r.mode, err, errlen) < 0 ||
        string_field(req, "mitigation", &r.mitigation, err, errlen) < 0 ||
        number_field(req, "n", n, sizeof n, &r.n, err, errlen) < 0 ||
        number_field(req, "events", events, sizeof events, &r.events, err, errlen) < 0 ||
        number_field(req, "seed", seed, sizeof seed, &r.seed, err, errlen) < 0 ||
        number_field(req, "runs", runs, sizeof runs, &runs_text, err, errlen) < 0 ||
        params_field(req, sets, &r.nsettings, err, errlen) < 0)
        return -HERD_EINVAL;
    r.settings = sets;

    /* Then herd run's validation, in the API's words. */
    if (herd_request_resolve(&r, &herd_request_spelling_api, &plan, err, errlen) < 0)
        return -HERD_EINVAL;
    assert(plan.nspecs <= HERD_API_MAX_RUNS); /* no "all" here */

    struct herd_api_run run = {.live = plan.backends == HERD_BACKEND_LIVE};
    if (runs_text) {
        int64_t k;
        if (herd_parse_int("runs", runs_text, 1, HERD_RUNS_MAX, &k, err, errlen) < 0)
            return -HERD_EINVAL;
        run.runs = (int)k;
    }
    /* The backends' own checks, made where every front end makes them: the machine's
     * limits before anything starts (as herd run). */
    run.nspecs = herd_front_jobs(&plan, run.jobs);
    if (herd_front_check(run.jobs, run.nspecs, err, errlen) < 0)
        return -HERD_EINVAL;
    char *text = json_dumps(req, JSON_COMPACT | JSON_PRESERVE_ORDER);
    snprintf(run.request, sizeof run.request, "%s", text ? text : "");
    free(text);
    *out = run;
    return 0;
}

static struct herd_front_opts run_opts(const struct herd_api_run *run)
{
    return (struct herd_front_opts){
        .runs = run->runs, .version = HERD_VERSION, .command = run->request};
}

int herd__api_runs(const struct herd_api_run *run, size_t i)
{
    struct herd_front_opts o = run_opts(run);
    return herd_front_runs(&run->jobs[i], &o);
}

/* The runner's progress (a job pointer) as the caller's (the job's index). */
struct progress_to {
    herd_api_progress_fn *fn;
    void *ctx;
    size_t i;
};

static void progress_to(void *ctx, const struct herd_job *job, int rep, int reps)
{
    const struct progress_to *p = ctx;
    (void)job;
    p->fn(p->ctx, p->i, rep, reps);
}

int herd__api_run_one(const struct herd_api_run *run, size_t i, const struct herd_profile *prof,
                      const char *prof_path, const struct herd_watch *watch,
                      herd_api_progress_fn *progress, void *ctx, struct herd_report *r, char *err,
                      size_t errlen)
{
    struct herd_front_opts o = run_opts(run);
    struct progress_to to = {progress, ctx, i};
    o.profile = prof;
    o.profile_path = prof_path;
    o.watch = watch;
    if (progress) {
        o.progress = progress_to;
        o.progress_ctx = &to;
    }
    return herd_front_run(&run->jobs[i], &o, r, err, errlen);
}

unsigned herd__api_run_status(int rc)
{
    /* As herd run: settings the backend cannot run (cap below base, a simulation too
     * large to finish) are the user's to change. */
    if (rc == -HERD_EINVAL || rc == -HERD_ELIMIT)
        return 400;
    if (rc == -HERD_EINTR)
        return 503;
    return 500;
}

char *herd__api_reports_json(struct herd_report *const *runs, size_t nruns)
{
    json_t *root = json_object(), *arr = json_array();
    char *text = NULL;
    if (!root || !arr)
        goto out;
    for (size_t i = 0; i < nruns; i++)
        json_array_append_new(arr, herd_report_to_json(runs[i]));
    json_object_set(root, "runs", arr);
    /* The precision herd_write_json uses, so a figure reads the same from both. */
    text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
out:
    json_decref(arr);
    json_decref(root);
    return text;
}

char *herd__api_catalogue(void)
{
    json_t *root = herd_catalogue_to_json();
    json_t *arr = json_object_get(root, "scenarios");
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        const struct herd_scenario *sc =
            herd_scenario_find(json_string_value(json_object_get(o, "name")));
        long max_n = 0;
        if (sc && herd_backend_supports(&herd_live_backend, sc)) {
            struct herd_run_spec s;
            herd_spec_init(&s, sc);
            max_n = herd_live_max_n(&s);
        }
        json_object_set_new(o, "live_max_n", json_integer(max_n));
        json_object_set_new(
            o, "sim_model",
            json_boolean(sc && herd_backend_supports(herd_front_backend(HERD_BACKEND_SIM), sc)));
    }
    /* What "runs" may be and what it is when left out, for the page's field and hint. */
    json_t *runs = json_object();
    json_object_set_new(runs, "max", json_integer(HERD_RUNS_MAX));
    json_object_set_new(runs, "stream_max", json_integer(HERD_API_STREAM_RUNS_MAX));
    json_object_set_new(runs, "live_default", json_integer(HERD_LIVE_RUNS_DEFAULT));
    json_object_set_new(runs, "sim_default", json_integer(1));
    json_object_set_new(runs, "sim_auto_max", json_integer(HERD_SIM_AUTO_RUNS_MAX));
    json_object_set_new(runs, "sim_auto_samples", json_integer(HERD_SIM_AUTO_SAMPLES));
    json_object_set_new(root, "runs", runs);
    char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(root);
    return text;
}

char *herd__api_error_json(const char *msg)
{
    json_t *s = json_string(msg);
    if (!s) {
        /* Not UTF-8 (a message quoting raw query bytes, or cut inside a character):
         * keep the ASCII, mark the rest. */
        char clean[512];
        size_t i = 0;
        for (; msg[i] && i < sizeof clean - 1; i++)
            clean[i] = (unsigned char)msg[i] < 0x80 ? msg[i] : '?';
        clean[i] = '\0';
        s = json_string(clean);
    }
    json_t *o = json_object();
    char *text = NULL;
    if (o && s && json_object_set(o, "error", s) == 0)
        text = json_dumps(o, JSON_COMPACT);
    json_decref(s);
    json_decref(o);
    return text;
}
