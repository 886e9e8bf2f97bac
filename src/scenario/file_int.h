/* file_int.h — what the scenario-file reader's two halves share: the tree of nodes that
 * file.c makes from libyaml's events (each node with its origin, line and column), and
 * the schema tables of file_schema.c that decode a tree into a struct herd_fleet.
 *
 * A tree lives in an arena (struct herd__arena): nodes and their text are never freed one
 * by one, only the arena whole, so a version of a file (file.h) is one free. Trees are
 * immutable once built, except by herd__tree_set on a fresh copy.
 *
 * Thread safety: none here; file.c guards what it shares.
 */
#ifndef HERD_SCENARIO_FILE_INT_H
#define HERD_SCENARIO_FILE_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fleet.h"

#define HERD__FILE_MAX_BYTES (1 << 20) /* a larger file is refused before it is parsed */
#define HERD__FILE_MAX_DEPTH 24        /* nesting of maps and lists */
#define HERD__FILE_MAX_NODES 200000    /* bounds the memory a 1 MiB file can ask for */
#define HERD__FILE_MAX_SETS 64         /* overrides in one mitigation */

/* ---- the arena ------------------------------------------------------------------- */

struct herd__chunk;
struct herd__arena {
    struct herd__chunk *head; /* newest first */
    size_t nodes;             /* nodes made in it, against HERD__FILE_MAX_NODES */
};

void *herd__arena_alloc(struct herd__arena *a, size_t size); /* zeroed; NULL: out of memory */
char *herd__arena_strndup(struct herd__arena *a, const char *s, size_t len);
void herd__arena_free(struct herd__arena *a);

/* ---- the tree --------------------------------------------------------------------- */

enum herd__node_type {
    HERD__NULL,   /* an empty value ("key:" with nothing, ~, null) */
    HERD__SCALAR, /* text */
    HERD__SEQ,    /* a list: items[] */
    HERD__MAP,    /* keys[] and items[] side by side, in the file's order */
};

struct herd__node {
    enum herd__node_type type;
    const char *text;   /* SCALAR: the value (NUL-terminated); NULL otherwise */
    bool quoted;        /* SCALAR: written in quotes (then never null) */
    const char *origin; /* the file's path, or "--set PATH": where the node came from */
    int line, col;      /* 1-based in origin's text; 0 when origin is a flag */
    size_t n;           /* SEQ, MAP: how many items */
    struct herd__node **items;
    struct herd__node **keys; /* MAP: each a SCALAR */
};

/**
 * Parse @p len bytes of YAML into a tree in @p a (the first document only: a second is an
 * error). @p origin (copied) names the text in messages; @p line0 > 0 when the text is a
 * file (marks are its lines), 0 for a flag's value (marks are left out of messages).
 * @return 0 with the root in @p *out, or -1 with one line in @p err.
 */
int herd__tree_parse(struct herd__arena *a, const char *origin, const char *text, size_t len,
                     bool is_file, struct herd__node **out, char *err, size_t errlen);

/** A deep copy of @p n into @p a (NULL: out of memory). Strings are shared when @p a
 *  outlives the source arena; here they are copied, so versions are independent. */
struct herd__node *herd__tree_copy(struct herd__arena *a, const struct herd__node *n);

/** The value of key @p key in MAP @p map, or NULL (also when @p map is not a map). */
struct herd__node *herd__map_get(const struct herd__node *map, const char *key);

/* ---- the schema ---------------------------------------------------------------------- */

enum herd__ftype {
    HERD__F_INT,      /* a whole number, stored as int (width 4) or int64_t (width 8) */
    HERD__F_DOUBLE,   /* a real number, stored as double */
    HERD__F_DURATION, /* a time: "250ms", "2s", "1.5us", "1m"; a bare number is seconds;
                         stored as int64_t ns; min, max and def in seconds */
    HERD__F_BOOL,     /* true or false, stored as bool */
    HERD__F_ENUM,     /* one of choices[], stored as int (the C enum of the same order) */
    HERD__F_REF,      /* a component's name, stored as int (its index) */
    HERD__F_MAP,      /* a nested table (sub) at off */
    HERD__F_LIST,     /* a list of sub's elements: array at off, count (int) at count_off */
    HERD__F_CURVE,    /* a rate: a number (constant) or a list of {at, per_s} points */
    HERD__F_TEXT,     /* the file's own words (name, summary, help); not in the model */
    HERD__F_NAMEMAP,  /* a map of names to sub's elements (components, mitigations) */
    HERD__F_SETMAP,   /* a mitigation's overrides: path → value */
    HERD__F_NAMES,    /* a list of names (a mitigation's use) */
    HERD__F_CLAIMS,   /* the claim block: a list of {says, check} (file.c reads it) */
};

struct herd__table;

struct herd__field {
    const char *key;
    enum herd__ftype type;
    size_t off;       /* in the table's struct (not used by TEXT, NAMEMAP, SETMAP, NAMES) */
    int width;        /* INT: sizeof the stored integer */
    bool required;    /* a missing field is an error (def is then not used) */
    bool excl_min;    /* the value must be above min, not equal to it */
    double def, min, max;
    const char *unit; /* "s", "req/s", "clients" ...: what a bare number means */
    const char *const *choices; /* ENUM: NULL-terminated, in the enum's order */
    const struct herd__table *sub; /* MAP, LIST, NAMEMAP */
    size_t count_off; /* LIST: the int that counts the array's elements */
    int max_items;    /* LIST, NAMEMAP, CURVE: the most elements */
    const char *help;
};

struct herd__table {
    const char *name; /* for the doc and messages: "service", "call", "retry" ... */
    const char *help;
    size_t size;      /* LIST element: sizeof one */
    const struct herd__field *fields; /* NULL-key-terminated */
};

/* The tables (file_schema.c): the top level, each kind of component, and the parts. */
extern const struct herd__table herd__schema_top;
extern const struct herd__table herd__schema_kinds[HERD_FLEET_NKINDS];
extern const struct herd__table herd__schema_mitigation;
extern const char *const herd__fleet_kind_names[];
extern const char *const herd__fleet_fault_names[];
extern const char *const herd__family_names[]; /* a mitigation's family; [0] the default */

/** The field @p key of @p t, or NULL. */
const struct herd__field *herd__schema_field(const struct herd__table *t, const char *key);

/** The component table of a component node (by its `kind`), or NULL. */
const struct herd__table *herd__schema_kind(const struct herd__node *comp);

/**
 * Decode the whole tree @p root (a file, with overrides applied) into @p out: defaults,
 * types, ranges, names, references, the call graph (no cycles), cross-field rules. Every
 * message names origin:line:col, the field's path (@p mit: a mitigation's name, said in the
 * message when its override is the culprit) and what is allowed. @return 0 or -1.
 */
int herd__schema_decode(const struct herd__node *root, struct herd_fleet *out, char *err,
                        size_t errlen);

/** "250ms", "2s", "1m", a bare number (seconds) → seconds. @return 0, -2 for a negative
 *  time, -1 for anything else. */
int herd__parse_duration(const char *text, double *seconds);

/** Write the field reference (markdown) from the tables: docs/scenario-file.md's. */
int herd__schema_markdown(FILE *f);

/** Format "ORIGIN:LINE:COL: PATH: " (or "ORIGIN: PATH: " for a flag's node) into @p buf. */
void herd__where(const struct herd__node *n, const char *path, char *buf, size_t len);

/** The closest of @p cands (NULL-terminated) to @p word, or NULL when none is close. */
const char *herd__closest(const char *word, const char *const *cands);

/** " (did you mean 'x'?)" for the closest of @p cands to @p word, or "" (into @p buf). */
const char *herd__did_you_mean(const char *word, const char *const *cands, char *buf,
                               size_t len);

/** One refusal: herd__where(@p n, @p path) then the message, into @p err. @return -1. */
int herd__vrefuse(const struct herd__node *n, const char *path, char *err, size_t errlen,
                  const char *fmt, va_list ap);

#endif
