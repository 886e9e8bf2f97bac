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

static const char *const fields[] = {"scenario", "file", "backend", "mode",   "mitigation", "n",
                                     "events",   "seed", "runs",    "params", NULL};

/* The name a pasted file's messages and provenance give it: "file:3:5: components..." */
#define FILE_ORIGIN "file"

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
            return herd_request_refuse(
                err, errlen, "params.%s: expected a number or a string, got %s", key, type_name(v));
        }
    }
    return 0;
}

/* Is @p name a shipped file's name (letters, digits, '-', '_': never a path)? */
static bool file_name(const char *name)
{
    return name[0] && strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789-_") == strlen(name);
}

/* "scenario: unknown ...; allowed: " the catalogue's names and the shipped files'. */
static int unknown_scenario(const char *name, char *err, size_t errlen)
{
    char names[256], files[512] = "";
    char(*paths)[4096] = malloc(16 * sizeof *paths);
    size_t n = paths ? herd_fleet_shipped(paths, 16) : 0, off = 0;
    for (size_t i = 0; i < n && i < 16 && off < sizeof files; i++) {
        const char *base = strrchr(paths[i], '/');
        base = base ? base + 1 : paths[i];
        off += (size_t)snprintf(files + off, sizeof files - off, ", %.*s",
                                (int)(strlen(base) - strlen(".yaml")), base);
    }
    free(paths);
    herd_scenario_names(names, sizeof names);
    return herd_request_refuse(err, errlen,
                               "scenario: unknown scenario '%.*s'; allowed: %s%s, or a file's "
                               "text in \"file\"",
                               VALUE_MAX, name, names, files);
}

/*
 * The scenario file of @p req, if any, into @p *file with its row in @p r->row: the text
 * of "file", or the shipped file "scenario" names when no catalogue row has that name.
 * @return 0 (@p *file NULL when there is none) or -HERD_EINVAL with one line.
 */
static int load_file(const json_t *req, struct herd_request *r, struct herd_fleet_file **file,
                     char *err, size_t errlen)
{
    const json_t *text = json_object_get(req, "file");
    char path[4096], why[1024];
    int rc;
    *file = NULL;
    if (text) {
        rc = herd_fleet_file_parse(FILE_ORIGIN, json_string_value(text), json_string_length(text),
                                   file, err, errlen);
    } else if (r->scenario && !herd_scenario_find(r->scenario) && file_name(r->scenario) &&
               herd_fleet_find(r->scenario, path, sizeof path) == 0) {
        /* A shipped file validates (test_cli), so a refusal here is the machine's: say
         * which file. */
        rc = herd_fleet_file_load(path, file, why, sizeof why);
        if (rc < 0)
            snprintf(err, errlen, "scenario: %s", why);
    } else if (r->scenario && !herd_scenario_find(r->scenario)) {
        return unknown_scenario(r->scenario, err, errlen);
    } else {
        return 0; /* a catalogue row, or none: herd_request_resolve says what is allowed */
    }
    if (rc < 0)
        return -HERD_EINVAL;
    r->row = herd_fleet_file_scenario(*file);
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
                "unknown field '%.*s'; allowed: scenario, file, backend, mode, mitigation, n, "
                "events, seed, runs, params",
                VALUE_MAX, key);
    }
    const json_t *text = json_object_get(req, "file");
    if (text && !json_is_string(text))
        return herd_request_refuse(err, errlen, "file: expected a scenario file's text, got %s",
                                   type_name(text));
    if (text && json_object_get(req, "scenario"))
        return herd_request_refuse(err, errlen,
                                   "scenario: give a scenario or a file's text, not both");
    if (text && json_string_length(text) > HERD_API_FILE_MAX) {
        snprintf(err, errlen, "file: %zu bytes; allowed: at most %d", json_string_length(text),
                 HERD_API_FILE_MAX);
        return -HERD_ELIMIT;
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

    /* A scenario file: pasted, or shipped and named; the specs point into it. */
    struct herd_api_run run = {0};
    int rc = load_file(req, &r, &run.file, err, errlen);
    if (rc < 0)
        return rc;

    /* Then herd run's validation, in the API's words. */
    rc = -HERD_EINVAL;
    if (herd_request_resolve(&r, &herd_request_spelling_api, &plan, err, errlen) < 0)
        goto fail;
    assert(plan.nspecs <= HERD_API_MAX_RUNS); /* no "all" here */
    /* A service URL (a text parameter: url, pg_url, redis_url) points a run at a server
     * of the user's: that is the command line's to do, never a request's, or any page that
     * reaches this server could aim its runs at any host. */
    for (size_t i = 0; i < plan.nspecs; i++)
        for (int k = 0; k < HERD_MAX_TEXTS; k++)
            if (plan.specs[i].text[k][0]) {
                herd_request_refuse(err, errlen,
                                    "params: a service URL is taken from the command line "
                                    "only (herd run --set url=...), never from the API");
                goto fail;
            }

    run.live = plan.backends == HERD_BACKEND_LIVE;
    if (runs_text) {
        int64_t k;
        if (herd_parse_int("runs", runs_text, 1, HERD_RUNS_MAX, &k, err, errlen) < 0)
            goto fail;
        run.runs = (int)k;
    }
    /* The backends' own checks, made where every front end makes them: the machine's
     * limits before anything starts (as herd run). */
    run.nspecs = herd_front_jobs(&plan, run.jobs);
    if (herd_front_check(run.jobs, run.nspecs, err, errlen) < 0)
        goto fail;
    char *dump = json_dumps(req, JSON_COMPACT | JSON_PRESERVE_ORDER);
    snprintf(run.request, sizeof run.request, "%s", dump ? dump : "");
    free(dump);
    *out = run;
    return 0;
fail:
    herd__api_run_fini(&run);
    return rc;
}

void herd__api_run_fini(struct herd_api_run *run)
{
    herd_fleet_file_free(run->file);
    run->file = NULL;
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

/* ---- scenario files' shapes --------------------------------------------------------- */

static const char *const kind_names[] = {
#define KIND_NAME(id, name, help) name,
    HERD_FLEET_KINDS(KIND_NAME)
#undef KIND_NAME
};

static const char *const fault_names[] = {
#define FAULT_NAME(id, name, help) name,
    HERD_FLEET_FAULTS(FAULT_NAME)
#undef FAULT_NAME
};

/* What a call to a coordination service asks for, as the file spells it ("op"). */
static const char *const op_names[] = {"", "lock", "leader"};
_Static_assert(sizeof op_names / sizeof op_names[0] == HERD_FLEET_OP_LEADER + 1, "ops");

/* A coordination service's lock, as the file spells it ("lock"). */
static const char *const lock_names[] = {"notify-all", "notify-one", "poll"};
_Static_assert(sizeof lock_names / sizeof lock_names[0] == HERD_FLEET_LOCK_POLL + 1, "locks");

/* The call a component makes through @p c (one of its calls), as the report's edge; a call
 * to a coordination service also says what it asks for ("op", and a lock's "hold_ns"). */
static void add_call(json_t *calls, const struct herd_fleet *m, int from,
                     const struct herd_fleet_call *c)
{
    json_t *o = json_pack("{s:i, s:i, s:s, s:s, s:I, s:i}", "from", from, "to", c->to, "from_name",
                          m->comps[from].name, "to_name", m->comps[c->to].name, "timeout_ns",
                          (json_int_t)c->timeout_ns, "max_attempts", c->retry.max_attempts);
    if (c->op != HERD_FLEET_OP_NONE) {
        json_object_set_new(o, "op", json_string(op_names[c->op]));
        if (c->op == HERD_FLEET_OP_LOCK)
            json_object_set_new(o, "hold_ns", json_integer((json_int_t)c->hold_ns));
    }
    json_array_append_new(calls, o);
}

/* A component as the drawing names it; a load balancer and a coordination service also
 * carry what sets their look (the handshake's cost; the lock and the election), as the
 * file has them (a mitigation may change them). */
static json_t *component_json(const struct herd_fleet_component *c)
{
    json_t *o = json_pack("{s:s, s:s}", "name", c->name, "kind", kind_names[c->kind]);
    if (c->kind == HERD_FLEET_LB) {
        const struct herd_fleet_lb *lb = &c->u.lb;
        json_object_set_new(o, "handshake_ns", json_integer((json_int_t)lb->handshake_ns));
        json_object_set_new(o, "resumption", json_boolean(lb->resumption));
        json_object_set_new(o, "resume_ns", json_integer((json_int_t)lb->resume_ns));
        json_object_set_new(o, "drain_ns", json_integer((json_int_t)lb->drain_ns));
        json_object_set_new(o, "handshake_rate_per_s", json_real(lb->handshake_rate_per_s));
    } else if (c->kind == HERD_FLEET_COORD) {
        const struct herd_fleet_coord *co = &c->u.coord;
        json_object_set_new(o, "lock", json_string(lock_names[co->lock]));
        json_object_set_new(o, "candidates", json_integer(co->candidates));
        json_object_set_new(o, "election_timeout_ns",
                            json_integer((json_int_t)co->election_timeout_ns));
        json_object_set_new(o, "election_jitter_ns",
                            json_integer((json_int_t)co->election_jitter_ns));
    }
    return o;
}

/* What the page draws before a run: components, calls, faults, the horizon; the same
 * keys as the report's fleet.edges and fleet.faults, so one drawing serves both. */
static json_t *topology_json(const struct herd_fleet *m)
{
    json_t *comps = json_array(), *calls = json_array(), *faults = json_array();
    for (int i = 0; i < m->ncomps; i++) {
        const struct herd_fleet_component *c = &m->comps[i];
        json_array_append_new(comps, component_json(c));
        switch (c->kind) {
        case HERD_FLEET_CLIENTS:
            add_call(calls, m, i, &c->u.clients.call);
            break;
        case HERD_FLEET_SERVICE:
            for (int k = 0; k < c->u.service.ncalls; k++)
                add_call(calls, m, i, &c->u.service.calls[k]);
            break;
        case HERD_FLEET_CACHE:
            add_call(calls, m, i, &c->u.cache.call);
            break;
        case HERD_FLEET_LB:
            add_call(calls, m, i, &c->u.lb.call);
            break;
        default:
            break; /* a coordination service calls no one */
        }
    }
    for (int i = 0; i < m->nfaults; i++) {
        const struct herd_fleet_fault *f = &m->faults[i];
        json_array_append_new(
            faults, json_pack("{s:s, s:i, s:s, s:o, s:I, s:I}", "kind", fault_names[f->kind],
                              "target", f->target, "target_name", m->comps[f->target].name, "peer",
                              f->peer >= 0 ? json_integer(f->peer) : json_null(), "at_ns",
                              (json_int_t)f->at_ns, "for_ns", (json_int_t)f->for_ns));
    }
    return json_pack("{s:o, s:o, s:o, s:I, s:I, s:i}", "components", comps, "calls", calls,
                     "faults", faults, "duration_ns", (json_int_t)m->duration_ns, "drain_ns",
                     (json_int_t)m->drain_ns, "herd", m->herd);
}

/* The most shipped files the catalogue lists (scenarios/ has seven). */
#define SHIPPED_MAX 64

char *herd__api_validate(const char *text, size_t len, unsigned *status)
{
    struct herd_fleet_file *f;
    char err[1024];
    if (len > HERD_API_FILE_MAX) {
        snprintf(err, sizeof err, "file: %zu bytes; allowed: at most %d", len, HERD_API_FILE_MAX);
        *status = 413;
        return herd__api_error_json(err);
    }
    if (herd_fleet_file_parse(FILE_ORIGIN, text, len, &f, err, sizeof err) < 0) {
        *status = 400;
        return herd__api_error_json(err);
    }
    /* The row as the catalogue shows it (name, summary, mitigations ...), plus the shape. */
    const struct herd_scenario *row = herd_fleet_file_scenario(f);
    json_t *cat = herd_catalogue_to_json_rows(&row, 1);
    json_t *rows = json_object_get(cat, "scenarios");
    json_t *o = json_incref(json_array_get(rows, json_array_size(rows) - 1));
    json_decref(cat);
    json_object_del(o, "file"); /* the path is FILE_ORIGIN: nothing to say */
    json_object_set_new(o, "ok", json_true());
    json_object_set_new(o, "topology", topology_json(herd_fleet_file_fleet(f)));
    herd_fleet_file_free(f);
    char *out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    *status = 200;
    return out;
}

char *herd__api_catalogue(void)
{
    char(*paths)[4096] = malloc(SHIPPED_MAX * sizeof *paths);
    struct herd_fleet_file *files[SHIPPED_MAX];
    const struct herd_scenario *rows[SHIPPED_MAX];
    size_t nfiles = 0, nshipped = paths ? herd_fleet_shipped(paths, SHIPPED_MAX) : 0;
    for (size_t i = 0; i < nshipped && i < SHIPPED_MAX; i++) {
        char err[1024];
        /* A broken file is herd validate's to report (test_cli checks the shipped ones):
         * the page lists the others. */
        if (herd_fleet_file_load(paths[i], &files[nfiles], err, sizeof err) == 0) {
            rows[nfiles] = herd_fleet_file_scenario(files[nfiles]);
            nfiles++;
        }
    }
    free(paths);
    json_t *root = herd_catalogue_to_json_rows(rows, nfiles);
    json_t *arr = json_object_get(root, "scenarios");
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        if (i >= json_array_size(arr) - nfiles) {
            /* A shipped file: the simulator's, and its drawing. */
            size_t k = i - (json_array_size(arr) - nfiles);
            json_object_set_new(o, "live_max_n", json_integer(0));
            json_object_set_new(o, "sim_model", json_true());
            json_object_set_new(o, "topology", topology_json(herd_fleet_file_fleet(files[k])));
            continue;
        }
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
    for (size_t i = 0; i < nfiles; i++)
        herd_fleet_file_free(files[i]);
    return text;
}

/* "file:LINE:COL: path: what" (a scenario file's refusal, FILE_ORIGIN's) as its parts
 * into @p o. */
static void add_where(json_t *o, const char *msg)
{
    const char *p = msg + strlen(FILE_ORIGIN ":");
    char *end;
    if (strncmp(msg, FILE_ORIGIN ":", strlen(FILE_ORIGIN ":")) != 0)
        return;
    long line = strtol(p, &end, 10);
    if (end == p || *end != ':' || line < 1)
        return;
    p = end + 1;
    long col = strtol(p, &end, 10);
    if (end == p || *end != ':' || col < 0)
        return;
    json_object_set_new(o, "line", json_integer(line));
    json_object_set_new(o, "column", json_integer(col));
    p = end + 1;
    while (*p == ' ')
        p++;
    const char *colon = strstr(p, ": ");
    /* A field's path has no spaces ("components.api.workers"); "YAML syntax" is none. */
    if (colon && memchr(p, ' ', (size_t)(colon - p)) == NULL)
        json_object_set_new(o, "path", json_stringn(p, (size_t)(colon - p)));
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
    if (o && s && json_object_set(o, "error", s) == 0) {
        add_where(o, json_string_value(s));
        text = json_dumps(o, JSON_COMPACT);
    }
    json_decref(s);
    json_decref(o);
    return text;
}
