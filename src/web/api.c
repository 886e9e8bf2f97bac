/* api.c — the web API's meaning: request → validated specs → reports → JSON.
 *
 * No HTTP here (server.c owns that), so the same checks serve the JSON body of POST
 * /api/run and the query string of the SSE stream. Every check is the CLI's library call
 * with the CLI's message; the only additions are the type checks a JSON body needs.
 * Reentrant: no state outside the caller's arguments.
 */
#include "api.h"

#include "../live/live.h"
#include "../sim/sim.h"

#include <errno.h>
#include <herd/error.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest value text accepted for one field: far beyond any valid value, short enough
 * that a message quoting it stays one readable line. */
#define VALUE_MAX 64

static const char *const fields[] = {"scenario", "backend", "mode",   "mitigation", "n",
                                     "events",   "seed",    "params", NULL};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -HERD_EINVAL;
}

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
            return fail(err, errlen, "%s: value too long or not text", name);
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
    return fail(err, errlen, "%s: expected a number or a string, got %s", name, type_name(v));
}

static int string_field(const json_t *req, const char *name, const char **out, char *err,
                        size_t errlen)
{
    const json_t *v = json_object_get(req, name);
    if (!v)
        return 0;
    if (!json_is_string(v))
        return fail(err, errlen, "%s: expected a string, got %s", name, type_name(v));
    if (json_string_length(v) > VALUE_MAX)
        return fail(err, errlen, "%s: value too long", name);
    *out = json_string_value(v);
    return 0;
}

static int int_field(const json_t *req, const char *name, int64_t min, int64_t max, int64_t *out,
                     char *err, size_t errlen)
{
    const json_t *v = json_object_get(req, name);
    char text[VALUE_MAX + 1];
    if (!v)
        return 0;
    if (scalar_text(v, name, text, sizeof text, err, errlen) < 0)
        return -HERD_EINVAL;
    if (herd_parse_int(name, text, min, max, out, err, errlen) < 0)
        return -HERD_EINVAL;
    return 0;
}

/* The seed is a uint64 like --seed: JSON integers stop at 2^63 - 1, so larger seeds
 * come as strings. */
static int seed_field(const json_t *req, uint64_t *out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(req, "seed");
    char text[VALUE_MAX + 1], *end;
    if (!v)
        return 0;
    if (scalar_text(v, "seed", text, sizeof text, err, errlen) < 0)
        return -HERD_EINVAL;
    errno = 0;
    unsigned long long s = text[0] == '-' ? 0 : strtoull(text, &end, 10);
    if (text[0] == '-' || errno || end == text || *end)
        return fail(err, errlen,
                    "seed: expected a whole number from 0 to 18446744073709551615, got '%s'", text);
    *out = s;
    return 0;
}

static int params_field(const json_t *req, struct herd_run_spec *spec, char *err, size_t errlen)
{
    const json_t *ps = json_object_get(req, "params");
    const char *key;
    const json_t *v;
    if (!ps || json_is_null(ps))
        return 0;
    if (!json_is_object(ps))
        return fail(err, errlen, "params: expected an object of KEY: value, got %s", type_name(ps));
    json_object_foreach((json_t *)ps, key, v)
    {
        char kv[2 * VALUE_MAX + 2], text[VALUE_MAX + 1];
        if (strlen(key) > VALUE_MAX || strchr(key, '=') || !key[0])
            return fail(err, errlen, "params: '%.*s' is not a parameter name", VALUE_MAX, key);
        if (scalar_text(v, key, text, sizeof text, err, errlen) < 0)
            return -HERD_EINVAL;
        snprintf(kv, sizeof kv, "%s=%s", key, text);
        if (herd_spec_set(spec, kv, err, errlen) < 0)
            return -HERD_EINVAL;
    }
    return 0;
}

int herd__api_parse_run(const json_t *req, struct herd_api_run *out, char *err, size_t errlen)
{
    const char *name = NULL, *backend = "sim", *mode = "naive", *mitigation = NULL, *key;
    const json_t *v;
    char names[256];
    struct herd_run_spec base;

    if (!json_is_object(req))
        return fail(err, errlen, "expected a JSON object such as {\"scenario\":\"accept\"}");
    json_object_foreach((json_t *)req, key, v)
    {
        int i = 0;
        while (fields[i] && strcmp(fields[i], key) != 0)
            i++;
        if (!fields[i])
            return fail(err, errlen,
                        "unknown field '%.*s'; allowed: scenario, backend, mode, mitigation, n, "
                        "events, seed, params",
                        VALUE_MAX, key);
    }
    if (string_field(req, "scenario", &name, err, errlen) < 0 ||
        string_field(req, "backend", &backend, err, errlen) < 0 ||
        string_field(req, "mode", &mode, err, errlen) < 0 ||
        string_field(req, "mitigation", &mitigation, err, errlen) < 0)
        return -HERD_EINVAL;
    herd_scenario_names(names, sizeof names);
    if (!name)
        return fail(err, errlen, "scenario: which scenario? allowed: %s", names);
    const struct herd_scenario *sc = herd_scenario_find(name);
    if (!sc)
        return fail(err, errlen, "unknown scenario '%s'; allowed: %s", name, names);

    bool live = strcmp(backend, "live") == 0;
    if (!live && strcmp(backend, "sim") != 0)
        return fail(err, errlen, "backend: '%s' is not allowed; allowed: live, sim", backend);
    if (live && !(sc->backends & HERD_BACKEND_LIVE))
        return fail(err, errlen, "backend: scenario %s runs only on the simulator; allowed: sim",
                    sc->name);
    if (!live && (!(sc->backends & HERD_BACKEND_SIM) || !herd_sim_supports(sc->name)))
        return fail(err, errlen, "backend: scenario %s has no simulation model; allowed: live",
                    sc->name);
    bool naive = strcmp(mode, "naive") == 0, mitigated = strcmp(mode, "mitigated") == 0;
    bool both = strcmp(mode, "both") == 0;
    if (!naive && !mitigated && !both)
        return fail(err, errlen, "mode: '%s' is not allowed; allowed: naive, mitigated, both",
                    mode);

    herd_spec_init(&base, sc);
    if (int_field(req, "n", 1, HERD_N_MAX, &base.n, err, errlen) < 0 ||
        int_field(req, "events", 1, HERD_EVENTS_MAX, &base.events, err, errlen) < 0 ||
        seed_field(req, &base.seed, err, errlen) < 0 || params_field(req, &base, err, errlen) < 0)
        return -HERD_EINVAL;

    /* The mitigation matters only when a mitigated run is asked for (a naive request
     * may carry the page's current choice; it is ignored, not refused). */
    int mit = -1;
    if (!naive) {
        const char *m = mitigation ? mitigation : sc->default_mitigation;
        mit = herd_scenario_mitigation_index(sc, m);
        if (mit < 0) {
            herd_mitigation_names(sc, names, sizeof names);
            return fail(err, errlen, "mitigation: '%s' is not a mitigation of %s; allowed: %s", m,
                        sc->name, names);
        }
    }

    struct herd_api_run run = {.live = live};
    if (naive || both) {
        run.specs[run.nspecs] = base;
        run.specs[run.nspecs].mode = HERD_MODE_NAIVE;
        run.specs[run.nspecs++].mitigation = -1;
    }
    if (mitigated || both) {
        run.specs[run.nspecs] = base;
        run.specs[run.nspecs].mode = HERD_MODE_MITIGATED;
        run.specs[run.nspecs++].mitigation = mit;
    }
    /* The machine's limits before anything starts, as herd run checks them. */
    for (size_t i = 0; live && i < run.nspecs; i++)
        if (herd_live_check(&run.specs[i], err, errlen) < 0)
            return -HERD_EINVAL;
    *out = run;
    return 0;
}

int herd__api_run_one(bool live, const struct herd_run_spec *spec, const struct herd_profile *prof,
                      struct herd_report *r, char *err, size_t errlen)
{
    int rc = live ? herd_live_run(spec, r, err, errlen) : herd_sim_run(spec, prof, r, err, errlen);
    if (rc < 0)
        herd_report_fini(r);
    return rc;
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
        if (sc && (sc->backends & HERD_BACKEND_LIVE) && herd_live_supports(sc->name)) {
            struct herd_run_spec s;
            herd_spec_init(&s, sc);
            max_n = herd_live_max_n(&s);
        }
        json_object_set_new(o, "live_max_n", json_integer(max_n));
        json_object_set_new(o, "sim_model", json_boolean(sc && herd_sim_supports(sc->name)));
    }
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
