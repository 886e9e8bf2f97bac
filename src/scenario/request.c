/* request.c — the user's choices → run specs, with the front end's spelling in every
 * message (request.h).
 *
 * The checks run in a fixed order (scenario, backend, mode, n, events, seed, settings,
 * mitigation) so that two front ends given the same wrong request name the same field
 * first. Ranges and parameter parsing are the catalogue's own (herd_parse_int,
 * herd_spec_set in scenario.c), so `herd list`, the CLI and the API cannot drift apart.
 */
#include "request.h"

#include <assert.h>
#include <errno.h>
#include <herd/error.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct herd_request_spelling herd_request_spelling_run = {
    .scenario = "run",
    .backend = "--backend",
    .mode = "--mode",
    .mitigation = "--mitigation",
    .n = "-n",
    .events = "--events",
    .seed = "--seed",
    .setting = "--set ",
    .both_backends = true,
    .all_mitigations = true,
    .prefer = HERD_BACKEND_LIVE, /* live where the scenario can run for real */
};

const struct herd_request_spelling herd_request_spelling_sweep = {
    .scenario = "sweep",
    .backend = "--backend",
    .mode = "--mode",
    .mitigation = "--mitigation",
    .n = "--n",
    .events = "--events",
    .seed = "--seed",
    .setting = "--set ",
    .both_backends = false,
    .all_mitigations = true,
    .prefer = HERD_BACKEND_SIM,
};

const struct herd_request_spelling herd_request_spelling_api = {
    .scenario = "scenario",
    .backend = "backend",
    .mode = "mode",
    .mitigation = "mitigation",
    .n = "n",
    .events = "events",
    .seed = "seed",
    .setting = "params.",
    .both_backends = false,
    .all_mitigations = false,
    .prefer = HERD_BACKEND_SIM,
};

int herd_request_refuse(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -HERD_EINVAL;
}

static bool eq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static int resolve_backend(const struct herd_request *req, const struct herd_request_spelling *sp,
                           const struct herd_scenario *sc, unsigned *out, char *err, size_t errlen)
{
    unsigned mask;
    if (!req->backend) {
        /* Where the scenario can run it the front end's choice, else the only one it has. */
        mask = (sc->backends & sp->prefer)
                   ? (unsigned)sp->prefer
                   : (sc->backends & HERD_BACKEND_LIVE ? HERD_BACKEND_LIVE : HERD_BACKEND_SIM);
    } else if (eq(req->backend, "live")) {
        mask = HERD_BACKEND_LIVE;
    } else if (eq(req->backend, "sim")) {
        mask = HERD_BACKEND_SIM;
    } else if (sp->both_backends && eq(req->backend, "both")) {
        mask = HERD_BACKEND_LIVE | HERD_BACKEND_SIM;
    } else {
        return herd_request_refuse(err, errlen, "%s: '%s' is not allowed; allowed: live, sim%s",
                                   sp->backend, req->backend, sp->both_backends ? ", both" : "");
    }
    if ((mask & HERD_BACKEND_LIVE) && !(sc->backends & HERD_BACKEND_LIVE))
        return herd_request_refuse(err, errlen,
                                   "%s: scenario %s runs only on the simulator; allowed: sim",
                                   sp->backend, sc->name);
    if ((mask & HERD_BACKEND_SIM) && !(sc->backends & HERD_BACKEND_SIM))
        return herd_request_refuse(err, errlen, "%s: scenario %s runs only live; allowed: live",
                                   sp->backend, sc->name);
    *out = mask;
    return 0;
}

/* A uint64 seed: digits only (strtoull alone would take "-1" as 2^64 - 1 and skip
 * leading blanks). */
static int parse_seed(const char *flag, const char *text, uint64_t *out, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    unsigned long long v = (text[0] >= '0' && text[0] <= '9') ? strtoull(text, &end, 10) : 0;
    if (!(text[0] >= '0' && text[0] <= '9') || errno || *end)
        return herd_request_refuse(err, errlen,
                                   "%s: expected a whole number from 0 to 18446744073709551615, "
                                   "got '%s'",
                                   flag, text);
    *out = v;
    return 0;
}

/*
 * The mitigated runs @p req asks for, as indices into sc->strategies (none for a naive
 * run). A named mitigation is checked even when only a naive run is asked for: a typo
 * is refused rather than silently ignored.
 */
static int resolve_mitigations(const struct herd_request *req,
                               const struct herd_request_spelling *sp, struct herd_run_spec *base,
                               bool naive_only, int *mits, int *nmits, char *err, size_t errlen)
{
    const struct herd_scenario *sc = base->sc;
    const char *m = req->mitigation ? req->mitigation : sc->strategies[sc->default_mitigation].name;
    const char *all = sp->all_mitigations ? ", all" : "";
    char names[256];
    herd_mitigation_names(sc, names, sizeof names);
    *nmits = 0;
    if (sp->all_mitigations && eq(m, "all")) {
        for (int i = 1; sc->strategies[i].name; i++)
            mits[(*nmits)++] = i;
        return 0;
    }
    if (eq(m, "none") || eq(m, herd_scenario_naive(sc))) {
        if (!naive_only)
            return herd_request_refuse(err, errlen,
                                       "%s: '%s' is the naive strategy; use %s naive, or one of: "
                                       "%s%s",
                                       sp->mitigation, m, sp->mode, names, all);
        return 0;
    }
    int i = herd_scenario_strategy_index(sc, m);
    if (i < 0 && sc->strategy_row && strchr(m, '+')) {
        /* Several mitigations at once: a version of the row that lists the combination
         * (base points at it, so every spec of the plan does). */
        if ((i = sc->strategy_row(base, sp->mitigation, m, err, errlen)) < 0)
            return -HERD_EINVAL;
        herd_spec_use_index(base, 0);
    }
    if (i <= 0)
        return herd_request_refuse(err, errlen, "%s: '%s' is not a mitigation of %s; allowed: %s%s",
                                   sp->mitigation, m, sc->name, names, all);
    mits[(*nmits)++] = i;
    return 0;
}

int herd_request_resolve(const struct herd_request *req, const struct herd_request_spelling *sp,
                         struct herd_request_plan *out, char *err, size_t errlen)
{
    assert(req && sp && out && err && errlen > 0);
    assert(req->nsets == 0 || req->sets);
    assert(req->nsettings == 0 || req->settings);
    char names[256];
    struct herd_run_spec base;
    unsigned backends = 0;

    if (!req->scenario && !req->row) {
        herd_scenario_names(names, sizeof names);
        return herd_request_refuse(err, errlen, "%s: which scenario? allowed: %s", sp->scenario,
                                   names);
    }
    const struct herd_scenario *sc = req->row ? req->row : herd_scenario_find(req->scenario);
    if (!sc) {
        herd_scenario_names(names, sizeof names);
        return herd_request_refuse(err, errlen, "%s: unknown scenario '%s'; allowed: %s",
                                   sp->scenario, req->scenario, names);
    }
    if (resolve_backend(req, sp, sc, &backends, err, errlen) < 0)
        return -HERD_EINVAL;

    /* A scenario file may declare no mitigation: then naive is the default and the only
     * mode. */
    bool has_mitigation = herd_scenario_nstrategies(sc) > 1;
    const char *mode = req->mode ? req->mode : has_mitigation ? "both" : "naive";
    bool naive = eq(mode, "naive"), mitigated = eq(mode, "mitigated"), both = eq(mode, "both");
    if (!naive && !mitigated && !both)
        return herd_request_refuse(err, errlen,
                                   "%s: '%s' is not allowed; allowed: naive, mitigated, both",
                                   sp->mode, mode);
    if (!naive && !has_mitigation)
        return herd_request_refuse(err, errlen,
                                   "%s: '%s': scenario %s declares no mitigation; allowed: naive",
                                   sp->mode, mode, sc->name);

    herd_spec_init(&base, sc);
    if (sc->fixed_size && (req->n || req->events))
        return herd_request_refuse(err, errlen,
                                   "%s: scenario %s sets its own sizes in its file; allowed: "
                                   "--set components.NAME.clients=N",
                                   req->n ? sp->n : sp->events, sc->name);
    if (req->n && herd_parse_int(sp->n, req->n, 1, HERD_N_MAX, &base.n, err, errlen) < 0)
        return -HERD_EINVAL;
    if (req->events &&
        herd_parse_int(sp->events, req->events, 1, HERD_EVENTS_MAX, &base.events, err, errlen) < 0)
        return -HERD_EINVAL;
    if (req->seed && parse_seed(sp->seed, req->seed, &base.seed, err, errlen) < 0)
        return -HERD_EINVAL;
    for (size_t i = 0; i < req->nsets; i++)
        if (herd_spec_set(&base, req->sets[i], err, errlen) < 0)
            return -HERD_EINVAL;
    for (size_t i = 0; i < req->nsettings; i++) {
        const struct herd_setting *st = &req->settings[i];
        char flag[96];
        snprintf(flag, sizeof flag, "%s%s", sp->setting, st->key);
        int rc = st->text ? herd_spec_set_text(&base, flag, st->key, st->text, err, errlen)
                          : herd_spec_set_number(&base, flag, st->key, st->number, err, errlen);
        if (rc < 0)
            return -HERD_EINVAL;
    }
    if (herd_spec_validate(&base, err, errlen) < 0)
        return -HERD_EINVAL;

    int mits[HERD_MAX_STRATEGIES], nmits;
    if (resolve_mitigations(req, sp, &base, naive, mits, &nmits, err, errlen) < 0)
        return -HERD_EINVAL;

    out->sc = base.sc; /* a file's row: the version the settings made */
    out->backends = backends;
    out->nspecs = 0;
    if (naive || both)
        out->specs[out->nspecs++] = base; /* base is naive */
    for (int i = 0; !naive && i < nmits; i++) {
        out->specs[out->nspecs] = base;
        herd_spec_use_index(&out->specs[out->nspecs++], mits[i]);
    }
    return 0;
}
