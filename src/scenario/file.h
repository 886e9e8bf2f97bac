/* file.h — scenario files (YAML, docs/scenario-file.md): read, validated, overridden and
 * run like any scenario (DESIGN §3, §8).
 *
 * A file decodes into the typed model of fleet.h through the schema of file_schema.c
 * (types, units, defaults, ranges, references, no cycles in the call graph); every refusal
 * is one line "file:line:column: path.to.field: what is wrong; allowed: ...". A loaded file
 * is immutable. Each one has its own catalogue row (herd_fleet_file_scenario: its name,
 * summary, naive + its mitigations, the simulator), so requests, the runner, the writers
 * and `herd list` treat it as they treat a preset; a spec carries the row, and through it
 * the file (spec->cfg.fleet).
 *
 * Overrides (`--set path=value`, a sweep's points) and combinations of mitigations
 * (`--mitigation a+b`) make *versions*: new immutable files derived from a loaded one,
 * owned by it and freed with it, so a spec that points at a version stays valid as long
 * as the loaded file. A mitigation's overrides apply on top of the version's values.
 *
 * Ownership: herd_fleet_file_load/parse return a file the caller frees with
 * herd_fleet_file_free (which frees its versions too) after every spec and report that
 * refers to it is done with. Cost: a file of a few kilobytes parses and validates in tens
 * of microseconds per strategy; a version copies only the path it changes.
 * Thread safety: a file and its versions may be read from any thread; deriving versions
 * is serialised by a lock in the loaded file.
 */
#ifndef HERD_SCENARIO_FILE_H
#define HERD_SCENARIO_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fleet.h"

struct herd_fleet_file;
struct herd_scenario;

/* What a spec of a file's row carries (spec->cfg.fleet): plain values. */
struct herd_fleet_config {
    const struct herd_fleet_file *file; /* borrowed: the file (version) run; NULL only for
                                           the catalogue's own `fleet` row, which no
                                           backend runs */
    int strategy;                       /* 0: naive; else which of the file's mitigations
                                           apply, in order (herd_fleet_file_model) */
};

/**
 * Read and validate the scenario file at @p path (at most 1 MiB). @return 0 with a new file
 * in @p *out, -HERD_EINVAL with one line "path:line:col: field: ..." in @p err, or another
 * negative code (the file cannot be read, out of memory) with one line.
 */
int herd_fleet_file_load(const char *path, struct herd_fleet_file **out, char *err,
                         size_t errlen);

/** As herd_fleet_file_load, for @p len bytes of @p text named @p origin in messages (an
 *  upload, a test, the fuzzer). */
int herd_fleet_file_parse(const char *origin, const char *text, size_t len,
                          struct herd_fleet_file **out, char *err, size_t errlen);

/** Free a file from load/parse and every version derived from it (NULL: nothing). */
void herd_fleet_file_free(struct herd_fleet_file *f);

/** @p f's catalogue row: name, summary, strategies (naive + mitigations), backends. */
const struct herd_scenario *herd_fleet_file_scenario(const struct herd_fleet_file *f);

/** The file a row was made from, or NULL when @p sc is not a file's row. */
const struct herd_fleet_file *herd_fleet_file_of(const struct herd_scenario *sc);

/** The file as written, decoded (no mitigation): borrowed from @p f. */
const struct herd_fleet *herd_fleet_file_fleet(const struct herd_fleet_file *f);

/**
 * The model of strategy @p strategy of @p f's row (0: naive; else its mitigations'
 * overrides applied in order) into @p out. Every strategy was validated when @p f was
 * made, so only memory can fail: @return 0 or -HERD_ENOMEM with one line.
 */
int herd_fleet_file_model(const struct herd_fleet_file *f, int strategy, struct herd_fleet *out,
                          char *err, size_t errlen);

/** The path or origin @p f was read from (a version: its loaded file's). */
const char *herd_fleet_file_path(const struct herd_fleet_file *f);

/** FNV-1a (64 bits) of the bytes read: which text produced a run. */
uint64_t herd_fleet_file_content_hash(const struct herd_fleet_file *f);

/** The content hash mixed with every override of this version, in order. */
uint64_t herd_fleet_file_hash(const struct herd_fleet_file *f);

/** The overrides that made version @p f from its loaded file, oldest first: up to @p max
 *  paths and values (borrowed from @p f) into @p paths and @p values. @return how many
 *  there are. */
size_t herd_fleet_file_overrides(const struct herd_fleet_file *f, const char **paths,
                                 const char **values, size_t max);

/** How many mitigations the file declares (not counting combinations made later). */
int herd_fleet_file_nmitigations(const struct herd_fleet_file *f);

/**
 * A version of @p f with field @p path ("components.api.workers", "faults.0.at") set to
 * @p value (YAML: "20", "250ms", "[{at: 0s, per_s: 40}]"), validated by the schema;
 * messages name @p flag ("--set components.api.workers"). @return 0 with the version in
 * @p *out (owned by @p f's loaded file), or -HERD_EINVAL / -HERD_ENOMEM with one line.
 */
int herd_fleet_file_set(const struct herd_fleet_file *f, const char *flag, const char *path,
                        const char *value, const struct herd_fleet_file **out, char *err,
                        size_t errlen);

/**
 * The strategy @p names ("jitter+budget": declared mitigations joined by '+', applied in
 * that order) of @p f: its index in @p f's row when the row has it, else in a version of
 * @p f whose row has it. @return 0 with the file in @p *out and the index in @p *strategy,
 * or -HERD_EINVAL with one line naming @p flag.
 */
int herd_fleet_file_strategy(const struct herd_fleet_file *f, const char *flag, const char *names,
                             const struct herd_fleet_file **out, int *strategy, char *err,
                             size_t errlen);

/* ---- claims (the `claim` block) ----------------------------------------------------
 * Each claim is one check on the runs of named strategies, with the section's answer it
 * supports ("says"). Written "STRATEGY.FIGURE OP VALUE" or, for a ratio of two runs,
 * "S1.FIGURE / S2.FIGURE OP VALUE"; OP is <, <=, >, >=, == or within (then
 * "within VALUE TOL", TOL a share "5%" or an amount). Figures: fleet_figures.h's
 * vocabulary; times read in seconds. Claims are validated when the file is loaded and
 * are the loaded file's (its versions share them). */

enum herd_fleet_claim_op {
    HERD_CLAIM_LT,
    HERD_CLAIM_LE,
    HERD_CLAIM_GT,
    HERD_CLAIM_GE,
    HERD_CLAIM_EQ,
    HERD_CLAIM_WITHIN
};

struct herd_fleet_claim {
    const char *says, *check; /* borrowed from the file */
    char strategy[2][96];     /* "naive", "jitter", "jitter+budget"; [1] "" unless a ratio */
    char figure[2][96];       /* "components.db.amplification"; [1] as [0] for a ratio */
    enum herd_fleet_claim_op op;
    double value;  /* times in seconds */
    char word[16]; /* == WORD for a word figure (recovery.verdict) */
    double tol;    /* within: the tolerance (a share when tol_share) */
    bool tol_share;
};

/** How many claims @p f's file makes (0: none). */
int herd_fleet_file_nclaims(const struct herd_fleet_file *f);

/** Claim @p i of @p f (0 <= i < herd_fleet_file_nclaims), borrowed from @p f. */
const struct herd_fleet_claim *herd_fleet_file_claim(const struct herd_fleet_file *f, int i);

/** Judge claim @p c on the value(s) measured: @p a (and @p b for a ratio: the measured is
 *  a / b), or the word @p word. @return whether it holds. */
bool herd_fleet_claim_holds(const struct herd_fleet_claim *c, double measured, const char *word);

/* ---- shipped files (scenarios/) --------------------------------------------------- */

#define HERD_FLEET_DIRS_MAX 4

/**
 * Where shipped files are looked for, in order, into @p dirs (each @p len bytes):
 * $HERD_SCENARIOS when set; else the source tree's scenarios/ when this program runs from
 * its build tree; else the data directory beside the executable (../share/herd/scenarios)
 * and the one configured at build time. @return how many (directories that exist).
 */
int herd_fleet_dirs(char dirs[][4096], int max);

/** The path of shipped file @p name (NAME.yaml in the first directory that has it) into
 *  @p path. @return 0, or -ENOENT. */
int herd_fleet_find(const char *name, char *path, size_t len);

/** Does @p arg name a file rather than a scenario ("x.yaml", "x.yml", a path with '/')? */
bool herd_fleet_is_path(const char *arg);

/**
 * The shipped files' paths, one per name (the first directory's wins), sorted by name,
 * into @p paths (up to @p max, each 4096 bytes). @return how many there are.
 */
size_t herd_fleet_shipped(char paths[][4096], size_t max);

/**
 * The field guide's files (scenarios/field-guide/ of the first directory that has one),
 * sorted by name, into @p paths (up to @p max). @return how many were put there.
 */
size_t herd_fleet_guide_files(char paths[][4096], size_t max);

/** docs/scenario-file.md's field reference, printed from the schema. @return 0 or -EIO. */
int herd_fleet_schema_markdown(FILE *f);

#endif
