/* scenario.h — the catalogue: every scenario, its parameters and mitigations.
 *
 * One table in one place (DESIGN §3): `herd list`, the CLI's validation, the web
 * API and the report writers all read it, so they can never disagree. A run is
 * described by a struct herd_run_spec, which a front end fills and validates with
 * the functions here and a backend reads; params are stored as doubles indexed like
 * the scenario's param table (an enum param stores the index of its choice).
 * Thread safety: the catalogue is read-only; specs are plain values.
 */
#ifndef HERD_REPORT_SCENARIO_H
#define HERD_REPORT_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HERD_MAX_PARAMS 16
#define HERD_MAX_MITIGATIONS 8
#define HERD_MAX_CHOICES 6
#define HERD_N_MAX 1000000
#define HERD_EVENTS_MAX 100000

enum herd_param_type {
    HERD_PARAM_INT,    /* whole number in [min, max] */
    HERD_PARAM_DOUBLE, /* real number in [min, max] */
    HERD_PARAM_ENUM,   /* one of choices[]; stored as its index */
};

struct herd_run_spec;

struct herd_param_def {
    const char *key;
    enum herd_param_type type;
    double def, min, max;
    const char *unit;                            /* "ms", "rows", "" ... */
    const char *choices[HERD_MAX_CHOICES];       /* HERD_PARAM_ENUM: NULL-terminated */
    const char *help;
};

struct herd_mitigation_def {
    const char *name;
    const char *family; /* wake fewer | coalesce | spread in time | spread in space | protect */
    const char *help;
};

enum herd_backend_mask {
    HERD_BACKEND_LIVE = 1 << 0, /* real threads, sockets, databases (src/live) */
    HERD_BACKEND_SIM = 1 << 1,  /* the discrete-event simulator (src/sim) */
};

struct herd_scenario {
    const char *name;
    unsigned backends; /* enum herd_backend_mask: which backends can run it */
    const char *summary;  /* one line for `herd list` */
    const char *trigger;  /* what the event is */
    const char *waiters;  /* who waits */
    const char *resource; /* what they contend for */
    const char *naive;    /* name of the naive strategy ("epoll", "broadcast" ...) */
    const char *naive_help;
    int64_t n_default, events_default;
    const char *waiter_noun; /* "worker", "thread", "requester", "client" */
    const struct herd_mitigation_def *mitigations; /* NULL-name-terminated */
    const char *default_mitigation;
    const struct herd_param_def *params; /* NULL-key-terminated */
    /* Optional: the strategy's name when a param changes the mechanism (condvar on a
     * raw futex is "futex-wake-all", not "broadcast"); NULL to use the names above. */
    const char *(*strategy)(const struct herd_run_spec *spec);
};

enum herd_mode { HERD_MODE_NAIVE, HERD_MODE_MITIGATED };

struct herd_run_spec {
    const struct herd_scenario *sc;
    enum herd_mode mode;
    int mitigation; /* index into sc->mitigations; -1 for a naive run */
    int64_t n, events;
    uint64_t seed;
    double params[HERD_MAX_PARAMS];
};

/** The NULL-terminated table of every scenario. */
extern const struct herd_scenario *const herd_scenarios[];

const struct herd_scenario *herd_scenario_find(const char *name);
int herd_scenario_nparams(const struct herd_scenario *sc);
int herd_scenario_nmitigations(const struct herd_scenario *sc);
int herd_scenario_param_index(const struct herd_scenario *sc, const char *key);
int herd_scenario_mitigation_index(const struct herd_scenario *sc, const char *name);

/** Fill @p spec with @p sc's defaults, naive mode, seed 1. */
void herd_spec_init(struct herd_run_spec *spec, const struct herd_scenario *sc);

/**
 * Parse and set "KEY=VALUE" on @p spec. On error returns -1 and writes one line
 * naming the key and what is allowed to @p err (no trailing newline).
 */
int herd_spec_set(struct herd_run_spec *spec, const char *kv, char *err, size_t errlen);

/** Parse @p text as an integer in [min, max] for flag @p flag; same error contract. */
int herd_parse_int(const char *flag, const char *text, int64_t min, int64_t max, int64_t *out,
                   char *err, size_t errlen);

/** Value of param @p key (asserts that it exists). */
double herd_spec_param(const struct herd_run_spec *spec, const char *key);

/** Choice string of enum param @p key (asserts that it exists and is an enum). */
const char *herd_spec_choice(const struct herd_run_spec *spec, const char *key);

/** Name of what the run does: the naive strategy or the mitigation. */
const char *herd_spec_strategy(const struct herd_run_spec *spec);

/** "none" for a naive run, else the mitigation's name. */
const char *herd_spec_mitigation(const struct herd_run_spec *spec);

/** Format param @p i of @p spec into @p buf ("500", "0.25", "process"). */
void herd_spec_format_param(const struct herd_run_spec *spec, int i, char *buf, size_t len);

/** "accept, condvar, cache, cron": the scenario names for messages. */
void herd_scenario_names(char *buf, size_t len);

/** @p sc's mitigation names, comma-separated, for messages. */
void herd_mitigation_names(const struct herd_scenario *sc, char *buf, size_t len);

#endif
