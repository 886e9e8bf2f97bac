/* scenario.h — the typed contract between a scenario and its backends.
 *
 * DESIGN §2-3. The catalogue is one table (herd_scenarios[], built from the one list in
 * list.h), and each scenario is one file pair, src/scenario/<name>.{h,c}, holding:
 *   - its strategies as an X-macro list: the naive strategy first, then every mitigation,
 *     each with its name, family and help; the same list makes the strategy enum its
 *     backends switch on, the names `herd list` prints and the docs;
 *   - its parameter table (key, type, default, unit, range or choices, help), from which
 *     the CLI, the web API and scenario files validate;
 *   - a typed config struct and a decoder that turns the validated parameter values and
 *     the strategy into it, once, when a request is resolved (herd_spec_set and friends
 *     keep it current).
 * A backend receives a struct herd_run_spec and reads spec->cfg.<scenario>: it never sees a
 * parameter name or a strategy string, and it switches on the strategy enum without a
 * default, so -Wswitch -Werror names every place a new mitigation must be handled.
 *
 * The front ends (CLI flags, API fields, scenario files) reach a spec only through
 * herd_spec_init / herd_spec_set* / herd_spec_use (or herd_request_resolve, request.h),
 * which validate every value against the table and re-decode.
 *
 * Thread safety: the catalogue is read-only; specs are plain values.
 */
#ifndef HERD_SCENARIO_SCENARIO_H
#define HERD_SCENARIO_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define HERD_MAX_PARAMS 16
#define HERD_MAX_STRATEGIES 8 /* naive + mitigations */
#define HERD_MAX_CHOICES 6
#define HERD_N_MAX 1000000
#define HERD_EVENTS_MAX 100000

enum herd_param_type {
    HERD_PARAM_INT,    /* whole number in [min, max] */
    HERD_PARAM_DOUBLE, /* real number in [min, max] */
    HERD_PARAM_ENUM,   /* one of choices[]; stored as its index */
    HERD_PARAM_TEXT,   /* free text (a service's URL), at most HERD_TEXT_MAX - 1 bytes; kept
                          in the spec's text[k] for the scenario's k-th text param (at most
                          HERD_MAX_TEXTS), its number is 1 when set, 0 when empty */
};

#define HERD_TEXT_MAX 256
#define HERD_MAX_TEXTS 2

struct herd_param_def {
    const char *key;
    enum herd_param_type type;
    double def, min, max;
    const char *unit;                      /* "ms", "rows", "" ... */
    const char *choices[HERD_MAX_CHOICES]; /* HERD_PARAM_ENUM: NULL-terminated */
    const char *help;
};

/* What a strategy does about the herd: seed 004's fix space (wake fewer, coalesce, spread
 * in time, spread in space), protecting the resource, or nothing (the naive strategy).
 * X(ID, name) */
#define HERD_FAMILIES(X)                                                                    \
    X(NAIVE, "naive")                                                                       \
    X(WAKE_FEWER, "wake fewer")                                                             \
    X(COALESCE, "coalesce")                                                                 \
    X(SPREAD_TIME, "spread in time")                                                        \
    X(SPREAD_SPACE, "spread in space")                                                      \
    X(PROTECT, "protect")

enum herd_family {
#define HERD__FAMILY_ENUM(id, name) HERD_FAMILY_##id,
    HERD_FAMILIES(HERD__FAMILY_ENUM)
#undef HERD__FAMILY_ENUM
};

const char *herd_family_name(enum herd_family f);

/* One strategy of a scenario: row 0 of a scenario's table is the naive one. */
struct herd_strategy_def {
    const char *name;
    enum herd_family family;
    const char *help;
};

/* A scenario's strategy table from its X-macro list X(ID, name, FAMILY, help):
 *   static const struct herd_strategy_def strategies[] = {
 *       HERD_ACCEPT_STRATEGIES(HERD_STRATEGY_DEF) {NULL, 0, NULL}};
 * and its enum, in the same order:
 *   enum herd_accept_strategy { HERD_ACCEPT_STRATEGIES(HERD_ACCEPT_ENUM) }; */
#define HERD_STRATEGY_DEF(id, name, family, help) {name, HERD_FAMILY_##family, help},

enum herd_backend_mask {
    HERD_BACKEND_LIVE = 1 << 0, /* real threads, sockets, databases (src/live) */
    HERD_BACKEND_SIM = 1 << 1,  /* the discrete-event simulator (src/sim) */
};

#include "list.h" /* the scenarios: their config headers and HERD_SCENARIO_LIST */

enum herd_scenario_id {
#define HERD__SCENARIO_ID(name, NAME, live, sim) HERD_SC_##NAME,
    HERD_SCENARIO_LIST(HERD__SCENARIO_ID)
#undef HERD__SCENARIO_ID
        HERD_SCENARIO_COUNT
};

/* Which backends run each scenario, from the list's columns: HERD_BACKENDS_ACCEPT ... */
enum {
#define HERD__SCENARIO_BACKENDS(name, NAME, live, sim)                                      \
    HERD_BACKENDS_##NAME = HERD__IF_##live(HERD_BACKEND_LIVE |)                             \
        HERD__IF_##sim(HERD_BACKEND_SIM |) 0,
    HERD_SCENARIO_LIST(HERD__SCENARIO_BACKENDS)
#undef HERD__SCENARIO_BACKENDS
};

/* Every scenario's decoded settings; spec->cfg holds the member of spec->sc. */
union herd_scenario_config {
#define HERD__SCENARIO_CFG(name, NAME, live, sim) struct herd_##name##_config name;
    HERD_SCENARIO_LIST(HERD__SCENARIO_CFG)
#undef HERD__SCENARIO_CFG
};

struct herd_run_spec;

struct herd_scenario {
    enum herd_scenario_id id;
    const char *name;
    unsigned backends;    /* enum herd_backend_mask: HERD_BACKENDS_<NAME>, from list.h */
    const char *summary;  /* one line for `herd list` */
    const char *trigger;  /* what the event is */
    const char *waiters;  /* who waits */
    const char *resource; /* what they contend for */
    int64_t n_default, events_default;
    const char *waiter_noun; /* "worker", "thread", "requester", "client" */
    const struct herd_strategy_def *strategies; /* [0] naive, then mitigations; NULL-name-
                                                   terminated */
    int default_mitigation;                     /* index into strategies, >= 1 */
    const struct herd_param_def *params;        /* NULL-key-terminated */
    /** Fill @p out (this scenario's member) from validated @p params and @p strategy.
     *  Cannot fail: every value is in its range. */
    void (*decode)(const double *params, int strategy, union herd_scenario_config *out);
    /** Optional: refuse settings that are each in range but cannot run together (one line
     *  naming the keys in @p err). @return 0 or -1. */
    int (*validate)(const struct herd_run_spec *spec, char *err, size_t errlen);
    /** Optional: the strategy's name when a param changes the mechanism (condvar on a raw
     *  futex is "futex-wake-all", not "broadcast"); NULL to use the table's. */
    const char *(*strategy_name)(const struct herd_run_spec *spec);

    /* A row made from a scenario file (file.h) carries its settings in the file, not in a
     * param table (params is empty); these are NULL for the presets. */
    /** Fill @p out from the row @p sc itself and @p strategy (instead of decode). */
    void (*decode_row)(const struct herd_scenario *sc, int strategy,
                       union herd_scenario_config *out);
    /** Set the setting at path @p key to the text @p value, pointing spec->sc at a new
     *  version of the row that has it (messages name @p flag). @return 0 or -1. */
    int (*set_row)(struct herd_run_spec *spec, const char *flag, const char *key,
                   const char *value, char *err, size_t errlen);
    /** Use strategy @p name that the row does not list yet (a combination "a+b" of its
     *  mitigations), pointing spec->sc at a version that lists it. @return its index or
     *  -1 with one line naming @p flag. */
    int (*strategy_row)(struct herd_run_spec *spec, const char *flag, const char *name,
                        char *err, size_t errlen);
    bool fixed_size; /* n and events are the row's own (a file's fleets): -n and --events
                        are refused */
};

/* A run: which scenario, which strategy, how many waiters and events, which seed, and the
 * settings — as validated values (params, for writers and messages) and decoded (cfg, for
 * backends). Plain value: copy it freely. */
struct herd_run_spec {
    const struct herd_scenario *sc;
    int strategy; /* index into sc->strategies: 0 the naive strategy */
    int64_t n, events;
    uint64_t seed;
    double params[HERD_MAX_PARAMS]; /* indexed like sc->params (an enum: its choice's index) */
    char text[HERD_MAX_TEXTS][HERD_TEXT_MAX]; /* the HERD_PARAM_TEXT values, in the table's
                                                order; "" unset */
    union herd_scenario_config cfg; /* params and strategy decoded: spec->cfg.<scenario> */
};

/** The NULL-terminated table of every scenario, in the list's order (index = id). */
extern const struct herd_scenario *const herd_scenarios[];

const struct herd_scenario *herd_scenario_find(const char *name);
int herd_scenario_nparams(const struct herd_scenario *sc);
int herd_scenario_nstrategies(const struct herd_scenario *sc);
int herd_scenario_param_index(const struct herd_scenario *sc, const char *key);
/** Index of strategy @p name in sc->strategies (0: the naive one), or -1. */
int herd_scenario_strategy_index(const struct herd_scenario *sc, const char *name);

/** The naive strategy's name ("epoll", "broadcast" ...). */
static inline const char *herd_scenario_naive(const struct herd_scenario *sc)
{
    return sc->strategies[0].name;
}

/** Fill @p spec with @p sc's defaults, naive, seed 1; decoded. */
void herd_spec_init(struct herd_run_spec *spec, const struct herd_scenario *sc);

/**
 * Parse and set "KEY=VALUE" on @p spec (then re-decode). On error returns -1 and writes
 * one line naming the key and what is allowed to @p err (no trailing newline); @p spec is
 * unchanged.
 */
int herd_spec_set(struct herd_run_spec *spec, const char *kv, char *err, size_t errlen);

/**
 * Set param @p key from the text @p value (as herd_spec_set), naming it @p flag in a
 * message ("--set ttl_ms", "params.ttl_ms", "service.ttl_ms" ...). @return 0 or -1.
 */
int herd_spec_set_text(struct herd_run_spec *spec, const char *flag, const char *key,
                       const char *value, char *err, size_t errlen);

/**
 * Set param @p key to the number @p value (a JSON number: whole for an int param; an
 * enum param takes only text). Same contract as herd_spec_set_text.
 */
int herd_spec_set_number(struct herd_run_spec *spec, const char *flag, const char *key,
                         double value, char *err, size_t errlen);

/** Use strategy @p name ("none" and the naive name both mean naive). @return 0 or -1. */
int herd_spec_use(struct herd_run_spec *spec, const char *name);

/** Use strategy @p index (0 naive; asserts it exists) and re-decode. */
void herd_spec_use_index(struct herd_run_spec *spec, int index);

/** Re-decode spec->cfg from spec->params and spec->strategy (after a direct edit). */
void herd_spec_decode(struct herd_run_spec *spec);

/** The scenario's cross-field check, if it has one: @return 0, or -1 with one line. */
int herd_spec_validate(const struct herd_run_spec *spec, char *err, size_t errlen);

/** True when @p text is a plain decimal number: an optional '-', digits and, when @p real,
 *  a fraction and an exponent; no blanks, '+', hex, inf or nan (what every front end
 *  accepts as a number). */
bool herd_number_syntax(const char *text, bool real);

/** Parse @p text as an integer in [min, max] for flag @p flag (herd_number_syntax, then
 *  the range); same error contract. */
int herd_parse_int(const char *flag, const char *text, int64_t min, int64_t max, int64_t *out,
                   char *err, size_t errlen);

static inline bool herd_spec_naive(const struct herd_run_spec *spec)
{
    return spec->strategy == 0;
}

/** "naive" or "mitigated". */
static inline const char *herd_spec_mode_name(const struct herd_run_spec *spec)
{
    return herd_spec_naive(spec) ? "naive" : "mitigated";
}

/** Name of what the run does: the naive strategy or the mitigation. */
const char *herd_spec_strategy(const struct herd_run_spec *spec);

/** "none" for a naive run, else the mitigation's name. */
const char *herd_spec_mitigation(const struct herd_run_spec *spec);

/** Format param @p i of @p spec into @p buf ("500", "0.25", "process"). */
void herd_spec_format_param(const struct herd_run_spec *spec, int i, char *buf, size_t len);

/** "accept, condvar, cache, cron": the scenario names for messages. */
void herd_scenario_names(char *buf, size_t len);

/** @p sc's mitigation names (strategies 1..), comma-separated, for messages. */
void herd_mitigation_names(const struct herd_scenario *sc, char *buf, size_t len);

/* ---- to the report layer (describe.c) ------------------------------------------------ */

struct herd_run_info;
struct herd_report;

/** What @p spec runs, as the report's plain values. */
void herd_spec_describe(const struct herd_run_spec *spec, struct herd_run_info *out);

/** herd_report_init for @p spec on backend @p backend ("live", "sim").
 *  @return 0 or -HERD_ENOMEM. */
int herd_spec_report_init(struct herd_report *r, const struct herd_run_spec *spec,
                          const char *backend);

/** The whole catalogue as a jansson object (json_t *, as void *): `herd list --format
 *  json` and the web API's menu, from the same table the validation reads. */
void *herd_catalogue_to_json(void);

/** herd_catalogue_to_json written to @p f. @return 0 or -EIO. */
int herd_write_catalogue_json(FILE *f);

/** The catalogue followed by @p nrows rows of loaded scenario files (borrowed), each with
 *  its file's path and content hash: `herd list --format json`. */
void *herd_catalogue_to_json_rows(const struct herd_scenario *const *rows, size_t nrows);
int herd_write_catalogue_json_rows(FILE *f, const struct herd_scenario *const *rows,
                                   size_t nrows);

#endif
