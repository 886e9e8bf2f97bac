/* request.h — one validation of "run this" for every front end.
 *
 * `herd run`, `herd sweep`, POST /api/run and the SSE stream all take the same choices
 * (scenario, backend, mode, mitigation, N, events, seed, KEY=VALUE settings) as text, and
 * all must refuse the same things with the same one-line reasons. A front end copies what
 * the user typed or sent into a struct herd_request and herd_request_resolve() turns it
 * into run specs, or into one line that names the offending field the way that front end
 * spells it ("--mode: ..." on the command line, "mode: ..." in the API): a
 * struct herd_request_spelling says how, and which extras ("both" backends, "all"
 * mitigations) the front end offers.
 *
 * Settings come as the CLI's "KEY=VALUE" text (--set) or already split (the API's params
 * object, a scenario file): a JSON number stays a number and is never printed back into
 * text to be parsed again.
 *
 * What is not here, on purpose: checks that need a backend (the machine's limits), because
 * this library sits below src/live and src/sim: the caller runs the backend's check on
 * the resolved specs (one place: src/front/runner.c). Also the front end's own syntax
 * (getopt, JSON types, unknown fields) and its own knobs (--runs, --format).
 *
 * Cost: a few string compares per field and one herd_spec_set per setting; no
 * allocation. Thread safety: reentrant; the catalogue is read-only and every result goes
 * to the caller's structs.
 */
#ifndef HERD_SCENARIO_REQUEST_H
#define HERD_SCENARIO_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "scenario.h"

/* Naive plus every mitigation ("all") is the most one request resolves into. */
#define HERD_REQUEST_MAX_SPECS HERD_MAX_STRATEGIES

/** One setting already split into key and value: the value is @p text, or when that is
 *  NULL the number @p number (a JSON number). Pointers borrowed. */
struct herd_setting {
    const char *key;
    const char *text;
    double number;
};

/** What the user chose, as text; every pointer is borrowed and NULL means "not given". */
struct herd_request {
    const char *scenario;    /* a catalogue name; required unless row is given */
    const struct herd_scenario *row; /* a row not in the catalogue (a loaded scenario file,
                                        file.h; borrowed, must outlive the plan): used
                                        instead of looking scenario up */
    const char *backend;     /* "live", "sim" (or "both" when offered); NULL: the
                                spelling's preferred backend where the scenario has it */
    const char *mode;        /* "naive", "mitigated" or "both"; NULL: "both" */
    const char *mitigation;  /* a mitigation of the scenario, "none" or the naive strategy's
                                name (naive mode only), "all" when offered; NULL: the
                                scenario's default */
    const char *n;           /* waiters, 1 to HERD_N_MAX; NULL: the scenario's default */
    const char *events;      /* 1 to HERD_EVENTS_MAX; NULL: the scenario's default */
    const char *seed;        /* 0 to 2^64 - 1; NULL: 1 */
    const char *const *sets; /* nsets "KEY=VALUE" settings (--set), applied in order */
    size_t nsets;
    const struct herd_setting *settings; /* nsettings split settings, applied after sets */
    size_t nsettings;
};

/** How a front end names the fields in its messages, and what it offers beyond the API. */
struct herd_request_spelling {
    const char *scenario; /* prefix of scenario messages: "run", "scenario" ... */
    const char *backend, *mode, *mitigation, *n, *events, *seed; /* "--backend", "backend" */
    const char *setting; /* prefix of a split setting's name: "params." makes "params.rows" */
    bool both_backends;            /* backend "both": live and sim side by side */
    bool all_mitigations;          /* mitigation "all": every mitigation of the scenario */
    enum herd_backend_mask prefer; /* the backend when none is named, where the scenario
                                      has it (else its other one) */
};

/* The three front ends' spellings (request.c): herd run's flags ("--mode", "both" and
 * "all" offered, live first), herd sweep's (herd run's without --backend both, the
 * simulator first: a sweep is many runs) and the web API's field names (one backend and
 * one mitigation per request, the simulator first). */
extern const struct herd_request_spelling herd_request_spelling_run;
extern const struct herd_request_spelling herd_request_spelling_sweep;
extern const struct herd_request_spelling herd_request_spelling_api;

/** A resolved request: the specs to run, in order, on the backends named. */
struct herd_request_plan {
    const struct herd_scenario *sc;
    unsigned backends; /* enum herd_backend_mask: one bit, or both with "both" */
    size_t nspecs;     /* 1 to HERD_REQUEST_MAX_SPECS */
    /* Naive first (when asked), then each mitigated run; all with the same N, events,
     * seed and settings. */
    struct herd_run_spec specs[HERD_REQUEST_MAX_SPECS];
};

/**
 * Check @p req field by field (scenario, backend, mode, n, events, seed, settings,
 * mitigation: the first wrong one is reported) and build the specs into @p out.
 * @return 0, or -HERD_EINVAL with one line in @p err naming the field as @p sp spells it
 *         and what is allowed (@p out not written).
 */
int herd_request_resolve(const struct herd_request *req, const struct herd_request_spelling *sp,
                         struct herd_request_plan *out, char *err, size_t errlen);

/** Write one line (printf @p fmt) into @p err and return -HERD_EINVAL: how every check
 *  of a request refuses, here and in a front end's own checks (JSON types, fields). */
int herd_request_refuse(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
