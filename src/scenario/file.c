/* file.c — scenario files: libyaml's events into a tree of nodes with marks, the tree's
 * overrides (--set, mitigations), files and their versions, and their catalogue rows
 * (file.h).
 *
 * Why libyaml (docs/scenario-file.md says it to users too): small, stable, in Debian for
 * two decades, an event parser that gives every node's line and column, and no schema
 * magic: it hands over text, and the schema here decides what a value means.
 *
 * The tree (file_int.h) is built from events with a stack of open containers. Refused
 * before the schema sees anything: a file over 1 MiB, a YAML syntax error (libyaml's own
 * problem and mark), anchors, aliases and tags (a scenario is written out, and an alias
 * is how a small file becomes a huge tree), a second document, nesting deeper than
 * HERD__FILE_MAX_DEPTH, more than HERD__FILE_MAX_NODES nodes, duplicate keys, keys that
 * are not text.
 *
 * Versions: an override path-copies the tree (only the nodes on the path are new; the
 * rest is shared), so every version of a file lives in its loaded file's arena and all
 * are freed together. Building a strategy's model applies its mitigations' overrides the
 * same way into a scratch arena, freed once the model is decoded.
 */
#include "file.h"
#include "../report/fleet_figures.h"

#include "file_int.h"
#include "scenario_int.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <herd/error.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

/* ---- the arena ------------------------------------------------------------------- */

struct herd__chunk {
    struct herd__chunk *next;
    size_t used, cap;
    max_align_t data[]; /* cap bytes */
};

#define CHUNK_BYTES (16 * 1024)

void *herd__arena_alloc(struct herd__arena *a, size_t size)
{
    size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    struct herd__chunk *c = a->head;
    if (!c || c->cap - c->used < size) {
        size_t cap = size > CHUNK_BYTES ? size : CHUNK_BYTES;
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

char *herd__arena_strndup(struct herd__arena *a, const char *s, size_t len)
{
    char *p = herd__arena_alloc(a, len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

void herd__arena_free(struct herd__arena *a)
{
    struct herd__chunk *c = a->head;
    while (c) {
        struct herd__chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->nodes = 0;
}

static struct herd__node *new_node(struct herd__arena *a, enum herd__node_type type,
                                   const char *origin, int line, int col)
{
    if (a->nodes >= HERD__FILE_MAX_NODES)
        return NULL;
    struct herd__node *n = herd__arena_alloc(a, sizeof *n);
    if (!n)
        return NULL;
    a->nodes++;
    n->type = type;
    n->origin = origin;
    n->line = line;
    n->col = col;
    return n;
}

struct herd__node *herd__map_get(const struct herd__node *map, const char *key)
{
    if (!map || map->type != HERD__MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->keys[i]->text, key) == 0)
            return map->items[i];
    return NULL;
}

/* ---- libyaml events into a tree ------------------------------------------------------ */

/* An open container while its events arrive: items grow in malloc'd arrays, copied into
 * the arena when it closes. */
struct frame {
    struct herd__node *node;
    struct herd__node **items, **keys;
    size_t n, cap;
    struct herd__node *key; /* MAP: the key waiting for its value */
};

struct builder {
    struct herd__arena *a;
    const char *origin;
    bool is_file;
    struct frame stack[HERD__FILE_MAX_DEPTH];
    int depth;
    struct herd__node *root;
    char *err;
    size_t errlen;
};

/* The path of the value being read ("components.api"), from the open containers. */
static void builder_path(const struct builder *b, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < b->depth && off < len; i++) {
        const struct frame *f = &b->stack[i];
        bool innermost = i == b->depth - 1;
        if (f->node->type == HERD__MAP && !f->key && innermost)
            break; /* reading a key: the path is the map's */
        if (f->node->type == HERD__MAP && f->key)
            off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "." : "", f->key->text);
        else if (f->node->type == HERD__MAP && f->n)
            off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "." : "",
                                    f->keys[f->n - 1]->text);
        else if (f->node->type == HERD__SEQ)
            off += (size_t)snprintf(buf + off, len - off, "%s%zu", off ? "." : "", f->n);
    }
}

static int builder_fail(struct builder *b, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int builder_fail(struct builder *b, int line, int col, const char *fmt, ...)
{
    char path[256] = "";
    const struct herd__node at = {.origin = b->origin, .line = b->is_file ? line : 0,
                                  .col = b->is_file ? col : 0};
    if (b->is_file) /* a flag's value: the flag names the field */
        builder_path(b, path, sizeof path);
    va_list ap;
    va_start(ap, fmt);
    herd__vrefuse(&at, path, b->err, b->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int grow(struct frame *f, bool keys)
{
    if (f->n < f->cap)
        return 0;
    size_t cap = f->cap ? f->cap * 2 : 8;
    struct herd__node **items = realloc(f->items, cap * sizeof *items);
    if (!items)
        return -1;
    f->items = items;
    if (keys) {
        struct herd__node **k = realloc(f->keys, cap * sizeof *k);
        if (!k)
            return -1;
        f->keys = k;
    }
    f->cap = cap;
    return 0;
}

/* Attach @p n to the innermost open container (or make it the root). */
static int attach(struct builder *b, struct herd__node *n)
{
    if (b->depth == 0) {
        b->root = n;
        return 0;
    }
    struct frame *f = &b->stack[b->depth - 1];
    if (f->node->type == HERD__SEQ) {
        if (grow(f, false) < 0)
            return builder_fail(b, n->line, n->col, "out of memory");
        f->items[f->n++] = n;
        return 0;
    }
    if (!f->key) {
        if (n->type != HERD__SCALAR)
            return builder_fail(b, n->line, n->col,
                                "a key must be text, not %s; allowed: name: value",
                                n->type == HERD__NULL ? "empty"
                                : n->type == HERD__MAP ? "a map"
                                                       : "a list");
        for (size_t i = 0; i < f->n; i++)
            if (strcmp(f->keys[i]->text, n->text) == 0 && (f->key = n))
                return builder_fail(b, n->line, n->col,
                                    "duplicate key '%s' (first at line %d); allowed: each key "
                                    "once",
                                    n->text, f->keys[i]->line);
        f->key = n;
        return 0;
    }
    if (grow(f, true) < 0)
        return builder_fail(b, n->line, n->col, "out of memory");
    f->keys[f->n] = f->key;
    f->items[f->n++] = n;
    f->key = NULL;
    return 0;
}

static bool plain_null(const char *s)
{
    return !*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
           strcmp(s, "NULL") == 0;
}

static void free_frames(struct builder *b)
{
    for (int i = 0; i < b->depth; i++) {
        free(b->stack[i].items);
        free(b->stack[i].keys);
    }
    b->depth = 0;
}

static int on_event(struct builder *b, const yaml_event_t *ev)
{
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    if (!b->is_file)
        line = col = 0;
    const yaml_char_t *anchor = NULL, *tag = NULL;
    struct herd__node *n;
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        return builder_fail(b, line, col,
                            "aliases (*%s) are not supported; allowed: the value written out",
                            (const char *)ev->data.alias.anchor);
    case YAML_SCALAR_EVENT: {
        anchor = ev->data.scalar.anchor;
        tag = ev->data.scalar.tag;
        if (anchor || tag)
            break;
        const char *text = (const char *)ev->data.scalar.value;
        bool quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        if (strlen(text) != ev->data.scalar.length)
            return builder_fail(b, line, col, "a NUL byte in a value; allowed: text");
        n = new_node(b->a, !quoted && plain_null(text) ? HERD__NULL : HERD__SCALAR, b->origin,
                     line, col);
        if (!n)
            return builder_fail(b, line, col, "more than %d values; allowed: a smaller file",
                                HERD__FILE_MAX_NODES);
        if (n->type == HERD__SCALAR &&
            !(n->text = herd__arena_strndup(b->a, text, ev->data.scalar.length)))
            return builder_fail(b, line, col, "out of memory");
        n->quoted = quoted;
        return attach(b, n);
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        bool map = ev->type == YAML_MAPPING_START_EVENT;
        anchor = map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
        tag = map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag;
        if (anchor || tag)
            break;
        if (b->depth == HERD__FILE_MAX_DEPTH)
            return builder_fail(b, line, col, "nested deeper than %d levels; allowed: at most %d",
                                HERD__FILE_MAX_DEPTH, HERD__FILE_MAX_DEPTH);
        n = new_node(b->a, map ? HERD__MAP : HERD__SEQ, b->origin, line, col);
        if (!n)
            return builder_fail(b, line, col, "more than %d values; allowed: a smaller file",
                                HERD__FILE_MAX_NODES);
        if (attach(b, n) < 0)
            return -1;
        b->stack[b->depth++] = (struct frame){.node = n};
        return 0;
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: {
        struct frame *f = &b->stack[b->depth - 1];
        struct herd__node *c = f->node;
        c->n = f->n;
        if (f->n) {
            c->items = herd__arena_alloc(b->a, f->n * sizeof *c->items);
            if (!c->items)
                return builder_fail(b, line, col, "out of memory");
            memcpy(c->items, f->items, f->n * sizeof *c->items);
            if (c->type == HERD__MAP) {
                c->keys = herd__arena_alloc(b->a, f->n * sizeof *c->keys);
                if (!c->keys)
                    return builder_fail(b, line, col, "out of memory");
                memcpy(c->keys, f->keys, f->n * sizeof *c->keys);
            }
        }
        free(f->items);
        free(f->keys);
        b->depth--;
        return 0;
    }
    case YAML_DOCUMENT_START_EVENT:
        if (b->root)
            return builder_fail(b, line, col,
                                "a second document (---); allowed: one scenario per file");
        return 0;
    case YAML_NO_EVENT:
    case YAML_STREAM_START_EVENT:
    case YAML_STREAM_END_EVENT:
    case YAML_DOCUMENT_END_EVENT:
        return 0;
    }
    if (anchor)
        return builder_fail(b, line, col,
                            "anchors (&%s) are not supported; allowed: the value written out",
                            (const char *)anchor);
    return builder_fail(b, line, col, "tags (%s) are not supported; allowed: plain values",
                        (const char *)tag);
}

int herd__tree_parse(struct herd__arena *a, const char *origin, const char *text, size_t len,
                     bool is_file, struct herd__node **out, char *err, size_t errlen)
{
    struct builder b = {.a = a, .is_file = is_file, .err = err, .errlen = errlen};
    if (!(b.origin = herd__arena_strndup(a, origin, strlen(origin))))
        return snprintf(err, errlen, "%s: out of memory", origin), -1;
    if (len > HERD__FILE_MAX_BYTES) {
        snprintf(err, errlen, "%s: %zu bytes; allowed: at most %d (1 MiB)", origin, len,
                 HERD__FILE_MAX_BYTES);
        return -1;
    }
    yaml_parser_t p;
    yaml_event_t ev;
    if (!yaml_parser_initialize(&p))
        return snprintf(err, errlen, "%s: out of memory", origin), -1;
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    int rc = 0;
    bool done = false;
    while (!done) {
        if (!yaml_parser_parse(&p, &ev)) {
            const yaml_mark_t *m = p.problem ? &p.problem_mark : &p.context_mark;
            rc = builder_fail(&b, (int)m->line + 1, (int)m->column + 1, "YAML syntax: %s%s%s",
                              p.problem ? p.problem : "error", p.context ? " " : "",
                              p.context ? p.context : "");
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        rc = on_event(&b, &ev);
        yaml_event_delete(&ev);
        if (rc < 0)
            break;
    }
    yaml_parser_delete(&p);
    free_frames(&b);
    if (rc < 0)
        return -1;
    if (!b.root) {
        if (!(b.root = new_node(a, HERD__NULL, b.origin, is_file ? 1 : 0, is_file ? 1 : 0)))
            return snprintf(err, errlen, "%s: out of memory", origin), -1;
    }
    *out = b.root;
    return 0;
}

/* ---- overrides: a path set in a copy of the tree -------------------------------------- */

/* Where a path's walk is in the schema. */
enum ctx_kind { CTX_TABLE, CTX_COMPONENTS, CTX_LIST, CTX_VALUE };

struct setter {
    struct herd__arena *a;
    const struct herd__node *at; /* where a refusal points (the value, or a mitigation's key) */
    const char *label;           /* the path as the user wrote it */
    char *err;
    size_t errlen;
};

static int set_fail(struct setter *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int set_fail(struct setter *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    herd__vrefuse(s->at, s->label, s->err, s->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static struct herd__node *copy_container(struct herd__arena *a, const struct herd__node *n,
                                         size_t extra)
{
    struct herd__node *c = herd__arena_alloc(a, sizeof *c);
    if (!c)
        return NULL;
    *c = *n;
    size_t cap = n->n + extra;
    if (cap) {
        c->items = herd__arena_alloc(a, cap * sizeof *c->items);
        if (!c->items)
            return NULL;
        if (n->n)
            memcpy(c->items, n->items, n->n * sizeof *c->items);
        if (n->type == HERD__MAP) {
            c->keys = herd__arena_alloc(a, cap * sizeof *c->keys);
            if (!c->keys)
                return NULL;
            if (n->n)
                memcpy(c->keys, n->keys, n->n * sizeof *c->keys);
        }
    }
    return c;
}

static const char *const *field_keys(const struct herd__table *t, const char **buf, size_t cap)
{
    size_t k = 0;
    for (const struct herd__field *f = t->fields; f->key && k + 1 < cap; f++)
        buf[k++] = f->key;
    buf[k] = NULL;
    return buf;
}

static void join_names(const char *const *names, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; names[i] && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", names[i]);
}

/* Set segment @p segs[i..] under @p node (NULL: absent) in context (@p kind, @p t) to
 * @p value; the new node into @p *out. */
static int set_in(struct setter *s, const struct herd__node *node, char **segs, int nsegs, int i,
                  enum ctx_kind kind, const struct herd__table *t, struct herd__node *value,
                  struct herd__node **out)
{
    if (i == nsegs) {
        *out = value;
        return 0;
    }
    const char *seg = segs[i];
    const char *names[64];
    char allowed[512];
    const struct herd__table *next_t = NULL;
    enum ctx_kind next = CTX_VALUE;
    switch (kind) {
    case CTX_VALUE:
        return set_fail(s, "'%s' is a value, not a map or a list; allowed: the path of a field",
                        segs[i - 1]);
    case CTX_TABLE: {
        const struct herd__field *f = herd__schema_field(t, seg);
        if (!f) {
            char near[80];
            field_keys(t, names, sizeof names / sizeof names[0]);
            join_names(names, allowed, sizeof allowed);
            return set_fail(s, "unknown field '%s' in a %s%s; allowed: %s", seg, t->name,
                            herd__did_you_mean(seg, names, near, sizeof near), allowed);
        }
        switch (f->type) {
        case HERD__F_MAP:
            next = CTX_TABLE;
            next_t = f->sub;
            break;
        case HERD__F_LIST:
        case HERD__F_CURVE:
            next = CTX_LIST;
            next_t = f->sub;
            break;
        case HERD__F_NAMEMAP:
            if (f->sub == &herd__schema_mitigation)
                return set_fail(s, "mitigations are the file's own; allowed: the fields of the "
                                   "scenario (a mitigation's `set` changes them)");
            next = CTX_COMPONENTS;
            break;
        default:
            next = CTX_VALUE;
            break;
        }
        if (node && node->type != HERD__MAP && node->type != HERD__NULL)
            return set_fail(s, "'%s' is not a map here; allowed: the path of a field",
                            i ? segs[i - 1] : "the file");
        const struct herd__node *child = herd__map_get(node, seg);
        struct herd__node *nc;
        if (set_in(s, child, segs, nsegs, i + 1, next, next_t, value, &nc) < 0)
            return -1;
        const struct herd__node empty = {.type = HERD__MAP, .origin = value->origin};
        struct herd__node *copy = copy_container(s->a, node && node->type == HERD__MAP ? node
                                                                                       : &empty,
                                                 child ? 0 : 1);
        if (!copy)
            return set_fail(s, "out of memory");
        if (child) {
            for (size_t k = 0; k < copy->n; k++)
                if (copy->items[k] == child)
                    copy->items[k] = nc;
        } else {
            struct herd__node *key = herd__arena_alloc(s->a, sizeof *key);
            if (!key || !(key->text = herd__arena_strndup(s->a, seg, strlen(seg))))
                return set_fail(s, "out of memory");
            key->type = HERD__SCALAR;
            key->origin = value->origin;
            key->line = value->line;
            key->col = value->col;
            copy->keys[copy->n] = key;
            copy->items[copy->n++] = nc;
        }
        *out = copy;
        return 0;
    }
    case CTX_COMPONENTS: {
        const struct herd__node *child = herd__map_get(node, seg);
        if (!child) {
            size_t k = 0;
            for (; node && node->type == HERD__MAP && k < node->n && k + 1 < 64; k++)
                names[k] = node->keys[k]->text;
            names[k] = NULL;
            char near[80];
            join_names(names, allowed, sizeof allowed);
            return set_fail(s, "unknown component '%s'%s; allowed: %s", seg,
                            herd__did_you_mean(seg, names, near, sizeof near), allowed);
        }
        next_t = herd__schema_kind(child);
        if (!next_t)
            return set_fail(s, "component '%s' has no valid kind; allowed: clients, service, "
                               "cache",
                            seg);
        struct herd__node *nc;
        if (set_in(s, child, segs, nsegs, i + 1, CTX_TABLE, next_t, value, &nc) < 0)
            return -1;
        struct herd__node *copy = copy_container(s->a, node, 0);
        if (!copy)
            return set_fail(s, "out of memory");
        for (size_t k = 0; k < copy->n; k++)
            if (copy->items[k] == child)
                copy->items[k] = nc;
        *out = copy;
        return 0;
    }
    case CTX_LIST: {
        if (node && node->type != HERD__SEQ)
            return set_fail(s, "'%s' is not a list here; allowed: a value for the whole of %s",
                            segs[i - 1], segs[i - 1]);
        size_t n = node ? node->n : 0;
        char *end;
        errno = 0;
        unsigned long idx = strtoul(seg, &end, 10);
        if (!(seg[0] >= '0' && seg[0] <= '9') || *end || errno || idx >= n) {
            if (n == 0)
                return set_fail(s, "'%s': the list %s is empty; allowed: set the whole list",
                                seg, segs[i - 1]);
            return set_fail(s, "'%s' is not an item of %s; allowed: 0 to %zu", seg, segs[i - 1],
                            n - 1);
        }
        struct herd__node *nc;
        if (set_in(s, node->items[idx], segs, nsegs, i + 1, CTX_TABLE, t, value, &nc) < 0)
            return -1;
        struct herd__node *copy = copy_container(s->a, node, 0);
        if (!copy)
            return set_fail(s, "out of memory");
        copy->items[idx] = nc;
        *out = copy;
        return 0;
    }
    }
    return -1;
}

/* Set @p path ("a.b.0.c") to @p value in a copy of @p root (path-copied into s->a). */
static int tree_set(struct setter *s, const struct herd__node *root, const char *path,
                    struct herd__node *value, const struct herd__node **out)
{
    char buf[256], *segs[32];
    int nsegs = 0;
    if (!*path || strlen(path) >= sizeof buf)
        return set_fail(s, "expected the path of a field (components.NAME.FIELD ...)");
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf, *dot; p; p = dot ? dot + 1 : NULL) {
        dot = strchr(p, '.');
        if (dot)
            *dot = '\0';
        if (!*p || nsegs == 32)
            return set_fail(s, "expected the path of a field (components.NAME.FIELD ...)");
        segs[nsegs++] = p;
    }
    struct herd__node *nr;
    if (set_in(s, root, segs, nsegs, 0, CTX_TABLE, &herd__schema_top, value, &nr) < 0)
        return -1;
    *out = nr;
    return 0;
}

/* ---- files and versions ---------------------------------------------------------------- */

struct mitigation {
    const char *name, *help;
    enum herd_family family;
    const struct herd__node *set; /* MAP of path → value, or NULL */
    int nuse;
    int use[HERD_FLEET_MAX_MITIGATIONS];
};

/* What a loaded file and its versions share. */
struct shared {
    struct herd__arena arena;     /* every version's nodes and strings */
    pthread_mutex_t mu;           /* guards arena and versions after the load */
    struct herd_fleet_file *versions; /* derived versions, newest first */
    const char *path;
    uint64_t content_hash;
    int nclaims; /* the loaded file's claim block */
    struct herd_fleet_claim claims[HERD_FLEET_MAX_CLAIMS];
};

struct herd_fleet_file {
    struct herd_scenario row;       /* this version's catalogue row */
    struct herd_strategy_def strategies[HERD_MAX_STRATEGIES + 1];
    /* strategy s applies these declared mitigations, in order */
    int strat_n[HERD_MAX_STRATEGIES];
    int strat_mits[HERD_MAX_STRATEGIES][HERD_FLEET_MAX_MITIGATIONS];
    int nmits;
    struct mitigation mits[HERD_FLEET_MAX_MITIGATIONS];
    const struct herd__node *root; /* this version's tree */
    struct herd_fleet model;       /* the naive strategy, decoded */
    char summary[256], trigger[160], waiters[96], resource[96];
    const struct herd_fleet_file *parent; /* the version this one was made from */
    const char *set_path, *set_value;     /* the --set that made it; NULL: loaded */
    uint64_t hash;
    struct shared *shared;
    bool owns_shared;             /* the loaded file (frees shared) */
    struct herd_fleet_file *next; /* in shared->versions */
};

static const struct herd_param_def no_params[] = {{NULL, 0, 0, 0, 0, NULL, {NULL}, NULL}};

static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * UINT64_C(1099511628211);
    return h;
}

#define FNV_START UINT64_C(1469598103934665603)

static int fail_at(const struct herd__node *n, const char *path, char *err, size_t errlen,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail_at(const struct herd__node *n, const char *path, char *err, size_t errlen,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    herd__vrefuse(n, path, err, errlen, fmt, ap);
    va_end(ap);
    return -HERD_EINVAL;
}


static bool good_mit_name(const char *s)
{
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')) || strlen(s) > 31)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return false;
    return true;
}

/* The file's `mitigations:` into f->mits (names, help, family, use, set), refusing unknown
 * keys, unknown or circular uses and overrides that are not a map of paths. */
static int read_mitigations(struct herd_fleet_file *f, char *err, size_t errlen)
{
    const struct herd__node *ms = herd__map_get(f->root, "mitigations");
    char path[256], allowed[256];
    const char *keys[8];
    if (!ms || ms->type == HERD__NULL)
        return 0;
    if (ms->type != HERD__MAP)
        return fail_at(ms, "mitigations", err, errlen,
                       "expected a map of mitigations by name; allowed: NAME: {help, use, set}");
    if (ms->n > HERD_FLEET_MAX_MITIGATIONS)
        return fail_at(ms, "mitigations", err, errlen, "%zu mitigations; allowed: at most %d",
                       ms->n, HERD_FLEET_MAX_MITIGATIONS);
    field_keys(&herd__schema_mitigation, keys, sizeof keys / sizeof keys[0]);
    f->nmits = (int)ms->n;
    for (size_t i = 0; i < ms->n; i++) {
        struct mitigation *m = &f->mits[i];
        const struct herd__node *mn = ms->items[i];
        m->name = ms->keys[i]->text;
        m->family = HERD_FAMILY_PROTECT;
        m->help = "";
        snprintf(path, sizeof path, "mitigations.%s", m->name);
        if (!good_mit_name(m->name) || strcmp(m->name, "naive") == 0 ||
            strcmp(m->name, "none") == 0 || strcmp(m->name, "all") == 0)
            return fail_at(ms->keys[i], path, err, errlen,
                           "not a mitigation name; allowed: a letter, then letters, digits, - "
                           "or _ (at most 31; not naive, none or all)");
        if (mn->type != HERD__MAP)
            return fail_at(mn, path, err, errlen,
                           "expected a map with help, use and set; got %s",
                           mn->type == HERD__SEQ ? "a list" : "a value");
        for (size_t k = 0; k < mn->n; k++) {
            const char *key = mn->keys[k]->text;
            const struct herd__node *v = mn->items[k];
            char sub[320];
            snprintf(sub, sizeof sub, "%s.%s", path, key);
            if (strcmp(key, "help") == 0) {
                if (v->type != HERD__SCALAR)
                    return fail_at(v, sub, err, errlen, "expected one line of text");
                m->help = v->text;
            } else if (strcmp(key, "family") == 0) {
                static const enum herd_family fams[] = {
                    HERD_FAMILY_PROTECT, HERD_FAMILY_WAKE_FEWER, HERD_FAMILY_COALESCE,
                    HERD_FAMILY_SPREAD_TIME, HERD_FAMILY_SPREAD_SPACE};
                int fam = -1;
                for (int c = 0; herd__family_names[c] && v->type == HERD__SCALAR; c++)
                    if (strcmp(herd__family_names[c], v->text) == 0)
                        fam = c;
                if (fam < 0) {
                    join_names(herd__family_names, allowed, sizeof allowed);
                    return fail_at(v, sub, err, errlen, "not a family; allowed: %s", allowed);
                }
                m->family = fams[fam];
            } else if (strcmp(key, "set") == 0) {
                if (v->type != HERD__MAP || v->n == 0)
                    return fail_at(v, sub, err, errlen,
                                   "expected a map of overrides, PATH: VALUE (the paths --set "
                                   "takes); allowed: 1 to %d",
                                   HERD__FILE_MAX_SETS);
                if (v->n > HERD__FILE_MAX_SETS)
                    return fail_at(v, sub, err, errlen, "%zu overrides; allowed: at most %d",
                                   v->n, HERD__FILE_MAX_SETS);
                m->set = v;
            } else if (strcmp(key, "use") == 0) {
                if (v->type != HERD__SEQ || v->n == 0 || v->n > HERD_FLEET_MAX_MITIGATIONS)
                    return fail_at(v, sub, err, errlen,
                                   "expected a list of other mitigations' names; allowed: 1 to "
                                   "%d names",
                                   HERD_FLEET_MAX_MITIGATIONS);
                for (size_t u = 0; u < v->n; u++) {
                    const struct herd__node *un = v->items[u];
                    int idx = -1;
                    for (size_t j = 0; j < ms->n && un->type == HERD__SCALAR; j++)
                        if (strcmp(ms->keys[j]->text, un->text) == 0)
                            idx = (int)j;
                    if (idx < 0 || idx == (int)i) {
                        const char *names[HERD_FLEET_MAX_MITIGATIONS + 1];
                        size_t nn = 0;
                        for (size_t j = 0; j < ms->n; j++)
                            if (j != i)
                                names[nn++] = ms->keys[j]->text;
                        names[nn] = NULL;
                        join_names(names, allowed, sizeof allowed);
                        if (!nn)
                            snprintf(allowed, sizeof allowed, "(none: it is the only one)");
                        snprintf(sub, sizeof sub, "%s.use.%zu", path, u);
                        return fail_at(un, sub, err, errlen,
                                       idx == (int)i ? "a mitigation cannot use itself; "
                                                       "allowed: %s"
                                                     : "not a mitigation of this file; "
                                                       "allowed: %s",
                                       allowed);
                    }
                    m->use[m->nuse++] = idx;
                }
            } else {
                char near[80];
                join_names(keys, allowed, sizeof allowed);
                return fail_at(mn->keys[k], sub, err, errlen,
                               "unknown field in a mitigation%s; allowed: %s",
                               herd__did_you_mean(key, keys, near, sizeof near), allowed);
            }
        }
        if (!m->set && !m->nuse)
            return fail_at(mn, path, err, errlen,
                           "a mitigation needs set (overrides) or use (other mitigations)");
    }
    /* No mitigation may use itself through others. */
    for (int i = 0; i < f->nmits; i++) {
        int stack[HERD_FLEET_MAX_MITIGATIONS + 1], depth = 0, next[HERD_FLEET_MAX_MITIGATIONS + 1];
        stack[0] = i;
        next[0] = 0;
        depth = 1;
        while (depth > 0) {
            int cur = stack[depth - 1];
            if (next[depth - 1] >= f->mits[cur].nuse) {
                depth--;
                continue;
            }
            int u = f->mits[cur].use[next[depth - 1]++];
            if (u == i) {
                char cyc[256];
                size_t off = 0;
                for (int k = 0; k < depth; k++)
                    off += (size_t)snprintf(cyc + off, sizeof cyc - off, "%s → ",
                                            f->mits[stack[k]].name);
                snprintf(cyc + off, sizeof cyc - off, "%s", f->mits[i].name);
                snprintf(path, sizeof path, "mitigations.%s.use", f->mits[cur].name);
                return fail_at(herd__map_get(ms->items[cur], "use"), path, err, errlen,
                               "the uses make a cycle: %s; allowed: uses that end", cyc);
            }
            if (depth <= HERD_FLEET_MAX_MITIGATIONS) {
                stack[depth] = u;
                next[depth] = 0;
                depth++;
            }
        }
    }
    return 0;
}

/* The overrides of mitigation @p mi (its uses' first) applied to @p *root in @p a. */
static int apply_mitigation(const struct herd_fleet_file *f, int mi, struct herd__arena *a,
                            const struct herd__node **root, int depth, char *err, size_t errlen)
{
    const struct mitigation *m = &f->mits[mi];
    assert(depth <= HERD_FLEET_MAX_MITIGATIONS);
    for (int u = 0; u < m->nuse; u++)
        if (apply_mitigation(f, m->use[u], a, root, depth + 1, err, errlen) < 0)
            return -1;
    for (size_t k = 0; m->set && k < m->set->n; k++) {
        char label[320];
        snprintf(label, sizeof label, "mitigations.%s.set.%s", m->name, m->set->keys[k]->text);
        struct setter s = {.a = a, .at = m->set->keys[k], .label = label, .err = err,
                           .errlen = errlen};
        if (tree_set(&s, *root, m->set->keys[k]->text, m->set->items[k], root) < 0)
            return -1;
    }
    return 0;
}

/* Strategy @p s's tree (its mitigations' overrides on f->root) into @p a, and decoded. */
static int build_model(const struct herd_fleet_file *f, int s, struct herd__arena *a,
                       struct herd_fleet *out, char *err, size_t errlen)
{
    const struct herd__node *root = f->root;
    for (int k = 0; k < f->strat_n[s]; k++)
        if (apply_mitigation(f, f->strat_mits[s][k], a, &root, 0, err, errlen) < 0)
            return -HERD_EINVAL;
    if (herd__schema_decode(root, out, err, errlen) < 0) {
        if (s > 0) {
            size_t l = strlen(err);
            snprintf(err + l, errlen - l, " (with mitigation %s)", f->strategies[s].name);
        }
        return -HERD_EINVAL;
    }
    return 0;
}

/* Every strategy of @p f decodes (their models are built again when run). */
static int validate_strategies(const struct herd_fleet_file *f, int from, char *err,
                               size_t errlen)
{
    struct herd_fleet *m = malloc(sizeof *m);
    if (!m)
        return snprintf(err, errlen, "out of memory"), -HERD_ENOMEM;
    int rc = 0;
    for (int s = from; rc == 0 && f->strategies[s].name; s++) {
        struct herd__arena scratch = {0};
        rc = build_model(f, s, &scratch, m, err, errlen);
        herd__arena_free(&scratch);
    }
    free(m);
    return rc;
}

static void decode_fleet_row(const struct herd_scenario *sc, int strategy,
                             union herd_scenario_config *out);
static void decode_nothing(const double *params, int strategy, union herd_scenario_config *out);
static int set_row(struct herd_run_spec *spec, const char *flag, const char *key,
                   const char *value, char *err, size_t errlen);
static int strategy_row(struct herd_run_spec *spec, const char *flag, const char *name,
                        char *err, size_t errlen);

/* The row's words and numbers from the decoded model (f->model, f->strategies). */
static void make_row(struct herd_fleet_file *f)
{
    const struct herd_fleet *m = &f->model;
    const struct herd_fleet_component *h = &m->comps[m->herd];
    int64_t n = 0;
    for (int i = 0; i < m->ncomps; i++)
        if (m->comps[i].kind == HERD_FLEET_CLIENTS)
            n += m->comps[i].u.clients.n;
    const struct herd__node *sum = herd__map_get(f->root, "summary");
    snprintf(f->summary, sizeof f->summary, "%s",
             sum && sum->type == HERD__SCALAR ? sum->text : "a scenario file");
    if (m->nfaults)
        snprintf(f->trigger, sizeof f->trigger, "%d fault%s on the timeline (the first: %s on %s "
                                                "at %.9g s)",
                 m->nfaults, m->nfaults == 1 ? "" : "s",
                 herd__fleet_fault_names[m->faults[0].kind], m->comps[m->faults[0].target].name,
                 (double)m->faults[0].at_ns / 1e9);
    else
        snprintf(f->trigger, sizeof f->trigger, "the client fleets' arrivals");
    snprintf(f->waiters, sizeof f->waiters, "attempts that reach %s", h->name);
    snprintf(f->resource, sizeof f->resource, "%s (a %s)", h->name,
             herd__fleet_kind_names[h->kind]);
    f->row = (struct herd_scenario){
        .id = HERD_SC_FLEET,
        .name = f->model.name,
        .backends = HERD_BACKENDS_FLEET,
        .summary = f->summary,
        .trigger = f->trigger,
        .waiters = f->waiters,
        .resource = f->resource,
        .n_default = n,
        .events_default = 1,
        .waiter_noun = "attempt",
        .strategies = f->strategies,
        .default_mitigation = f->strategies[1].name ? 1 : 0,
        .params = no_params,
        .decode = decode_nothing,
        .decode_row = decode_fleet_row,
        .set_row = set_row,
        .strategy_row = strategy_row,
        .fixed_size = true,
    };
}

/* The loaded file's strategies: naive, then each declared mitigation. */
static void base_strategies(struct herd_fleet_file *f)
{
    memset(f->strategies, 0, sizeof f->strategies);
    f->strategies[0] = (struct herd_strategy_def){"naive", HERD_FAMILY_NAIVE,
                                                  "the file as written"};
    for (int i = 0; i < f->nmits; i++) {
        f->strategies[i + 1] =
            (struct herd_strategy_def){f->mits[i].name, f->mits[i].family, f->mits[i].help};
        f->strat_n[i + 1] = 1;
        f->strat_mits[i + 1][0] = i;
    }
}

/* ---- the claim block ----------------------------------------------------------------- */

/* A refusal at column @p off of the check string in @p n (a plain scalar starts at its
 * column; a quoted one a column later). */
static int claim_fail(const struct herd__node *n, size_t off, const char *path, char *err,
                      size_t errlen, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int claim_fail(const struct herd__node *n, size_t off, const char *path, char *err,
                      size_t errlen, const char *fmt, ...)
{
    struct herd__node at = *n;
    if (at.line > 0)
        at.col += (int)off + (n->quoted ? 1 : 0);
    va_list ap;
    va_start(ap, fmt);
    herd__vrefuse(&at, path, err, errlen, fmt, ap);
    va_end(ap);
    return -HERD_EINVAL;
}

static const char *const claim_ops[] = {"<", "<=", ">", ">=", "==", "within", NULL};

/* "STRATEGY.FIGURE" at @p tok: both checked against @p f (declared mitigations joined
 * by +; the figure vocabulary and the components' names). */
static int claim_operand(const struct herd_fleet_file *f, const struct herd__node *n, size_t off,
                         const char *tok, const char *path, char *strat, char *fig, char *err,
                         size_t errlen)
{
    const char *dot = strchr(tok, '.');
    if (!dot || dot == tok || (size_t)(dot - tok) >= 96 || strlen(dot + 1) >= 96)
        return claim_fail(n, off, path, err, errlen,
                          "'%s' is not STRATEGY.FIGURE; allowed: e.g. naive.peak, "
                          "jitter.components.db.amplification",
                          tok);
    memcpy(strat, tok, (size_t)(dot - tok));
    strat[dot - tok] = '\0';
    snprintf(fig, 96, "%s", dot + 1);
    /* Each name of the strategy is naive (alone) or a declared mitigation. */
    char names[256] = "naive";
    for (int i = 0; i < f->nmits; i++) {
        size_t l = strlen(names);
        snprintf(names + l, sizeof names - l, ", %s", f->mits[i].name);
    }
    if (strcmp(strat, "naive") != 0) {
        char buf[96];
        snprintf(buf, sizeof buf, "%s", strat);
        for (char *save = NULL, *w = strtok_r(buf, "+", &save); w; w = strtok_r(NULL, "+", &save)) {
            bool found = false;
            for (int i = 0; i < f->nmits && !found; i++)
                found = strcmp(f->mits[i].name, w) == 0;
            if (!found)
                return claim_fail(n, off, path, err, errlen,
                                  "'%s' is not a strategy of this file; allowed: %s, or "
                                  "mitigations joined by +",
                                  w, names);
        }
    }
    size_t so = off + (size_t)(dot - tok) + 1;
    if (!herd_fleet_figure_known(fig)) {
        const char *const *cands = herd_fleet_figure_names(strncmp(fig, "components.", 11) == 0);
        const char *last = strrchr(fig, '.');
        char dym[96];
        herd__did_you_mean(strncmp(fig, "components.", 11) == 0 && last ? last + 1 : fig, cands,
                           dym, sizeof dym);
        return claim_fail(n, so, path, err, errlen,
                          "'%s' is not a figure%s; allowed: %s, or components.NAME.FIGURE "
                          "(docs/scenario-file.md, Claims)",
                          fig, dym,
                          "peak, origin_load, wakes, useful, wasted, latency.p99, "
                          "recovery.verdict, recovery.recover ...");
    }
    if (strncmp(fig, "components.", 11) == 0) {
        const char *nm = fig + 11;
        size_t l = (size_t)(strchr(nm, '.') - nm);
        bool found = false;
        for (int i = 0; i < f->model.ncomps && !found; i++)
            found =
                strlen(f->model.comps[i].name) == l && strncmp(f->model.comps[i].name, nm, l) == 0;
        if (!found)
            return claim_fail(n, so + 11, path, err, errlen,
                              "'%.*s' is not a component of this file", (int)l, nm);
    }
    return 0;
}

/* A number, or a time for a time figure ("10s", "250ms"; a bare number: seconds). */
static int claim_number(const struct herd__node *n, size_t off, const char *tok, bool time,
                        const char *path, double *out, char *err, size_t errlen)
{
    char *end;
    double v = strtod(tok, &end);
    if (end != tok && *end == '\0' && isfinite(v)) {
        *out = v;
        return 0;
    }
    if (time && herd__parse_duration(tok, &v) == 0) {
        *out = v;
        return 0;
    }
    return claim_fail(n, off, path, err, errlen, "'%s' is not a %s; allowed: %s", tok,
                      time ? "number or a time" : "number",
                      time ? "a number (seconds) or a time such as 10s, 250ms" : "a number");
}

static int read_claim(const struct herd_fleet_file *f, const struct herd__node *item, int i,
                      struct herd_fleet_claim *c, char *err, size_t errlen)
{
    char path[64];
    snprintf(path, sizeof path, "claim.%d", i);
    if (item->type != HERD__MAP)
        return fail_at(item, path, err, errlen, "expected a map {says, check}");
    for (size_t k = 0; k < item->n; k++)
        if (strcmp(item->keys[k]->text, "says") != 0 && strcmp(item->keys[k]->text, "check") != 0)
            return fail_at(item->keys[k], path, err, errlen,
                           "unknown key '%s'; allowed: says, check", item->keys[k]->text);
    const struct herd__node *says = herd__map_get(item, "says"),
                            *check = herd__map_get(item, "check");
    snprintf(path, sizeof path, "claim.%d.says", i);
    if (!says || says->type != HERD__SCALAR || !*says->text)
        return fail_at(says ? says : item, path, err, errlen,
                       "%s; allowed: one line, the section's answer this check supports",
                       says ? "expected text" : "missing");
    snprintf(path, sizeof path, "claim.%d.check", i);
    if (!check || check->type != HERD__SCALAR)
        return fail_at(check ? check : item, path, err, errlen,
                       "%s; allowed: \"STRATEGY.FIGURE OP VALUE\" or \"S1.FIGURE / S2.FIGURE OP "
                       "VALUE\"",
                       check ? "expected text" : "missing");
    memset(c, 0, sizeof *c);
    c->says = says->text;
    c->check = check->text;
    /* Tokens by spaces, each with its offset for the column. */
    char buf[512];
    const char *tok[8];
    size_t off[8];
    int nt = 0;
    snprintf(buf, sizeof buf, "%s", check->text);
    for (char *p = buf; *p && nt < 8;) {
        while (*p == ' ' || *p == '\t')
            *p++ = '\0';
        if (!*p)
            break;
        tok[nt] = p;
        off[nt++] = (size_t)(p - buf);
        while (*p && *p != ' ' && *p != '\t')
            p++;
    }
    int t = 0;
    if (nt == 0)
        return claim_fail(check, 0, path, err, errlen,
                          "empty; allowed: \"STRATEGY.FIGURE OP VALUE\"");
    if (claim_operand(f, check, off[t], tok[t], path, c->strategy[0], c->figure[0], err, errlen) <
        0)
        return -HERD_EINVAL;
    t++;
    bool ratio = t < nt && strcmp(tok[t], "/") == 0;
    if (ratio) {
        if (++t >= nt)
            return claim_fail(check, strlen(check->text), path, err, errlen,
                              "a ratio needs a second STRATEGY.FIGURE after /");
        if (claim_operand(f, check, off[t], tok[t], path, c->strategy[1], c->figure[1], err,
                          errlen) < 0)
            return -HERD_EINVAL;
        if (herd_fleet_figure_is_word(c->figure[0]) || herd_fleet_figure_is_word(c->figure[1]))
            return claim_fail(check, off[0], path, err, errlen,
                              "a ratio of words; allowed: a ratio of numeric figures");
        t++;
    }
    if (t >= nt)
        return claim_fail(check, strlen(check->text), path, err, errlen,
                          "missing an operator; allowed: <, <=, >, >=, ==, within");
    int op = 0;
    while (claim_ops[op] && strcmp(claim_ops[op], tok[t]) != 0)
        op++;
    if (!claim_ops[op])
        return claim_fail(check, off[t], path, err, errlen,
                          "'%s' is not an operator; allowed: <, <=, >, >=, ==, within", tok[t]);
    c->op = (enum herd_fleet_claim_op)op;
    size_t op_off = off[t++];
    if (t >= nt)
        return claim_fail(check, strlen(check->text), path, err, errlen,
                          "missing a value after '%s'", claim_ops[op]);
    bool word = !ratio && herd_fleet_figure_is_word(c->figure[0]);
    bool time = !ratio && herd_fleet_figure_is_time(c->figure[0]);
    if (word) {
        static const char *const verdicts[] = {"recovered", "stuck", "no-fault", NULL};
        if (c->op != HERD_CLAIM_EQ)
            return claim_fail(check, op_off, path, err, errlen,
                              "%s is a word; allowed: ==", c->figure[0]);
        int v = 0;
        while (verdicts[v] && strcmp(verdicts[v], tok[t]) != 0)
            v++;
        if (!verdicts[v])
            return claim_fail(check, off[t], path, err, errlen,
                              "'%s' is not a verdict; allowed: recovered, stuck, no-fault", tok[t]);
        snprintf(c->word, sizeof c->word, "%s", strcmp(tok[t], "no-fault") ? tok[t] : "no fault");
    } else if (claim_number(check, off[t], tok[t], time, path, &c->value, err, errlen) < 0) {
        return -HERD_EINVAL;
    }
    t++;
    if (c->op == HERD_CLAIM_WITHIN) {
        if (t >= nt)
            return claim_fail(check, strlen(check->text), path, err, errlen,
                              "within needs a tolerance; allowed: a share (5%%) or an amount");
        size_t l = strlen(tok[t]);
        char tb[64];
        snprintf(tb, sizeof tb, "%s", tok[t]);
        if (l > 1 && tb[l - 1] == '%') {
            tb[l - 1] = '\0';
            c->tol_share = true;
        }
        if (claim_number(check, off[t], tb, time && !c->tol_share, path, &c->tol, err, errlen) < 0)
            return -HERD_EINVAL;
        if (c->tol_share)
            c->tol /= 100;
        t++;
    }
    if (t < nt)
        return claim_fail(check, off[t], path, err, errlen, "unexpected '%s' after the value",
                          tok[t]);
    return 0;
}

static int read_claims(struct herd_fleet_file *f, char *err, size_t errlen)
{
    const struct herd__node *cl = herd__map_get(f->root, "claim");
    if (!cl || cl->type == HERD__NULL)
        return 0;
    if (cl->type != HERD__SEQ)
        return fail_at(cl, "claim", err, errlen, "expected a list of {says, check}");
    if (cl->n > HERD_FLEET_MAX_CLAIMS)
        return fail_at(cl, "claim", err, errlen, "%zu claims; allowed: at most %d", cl->n,
                       HERD_FLEET_MAX_CLAIMS);
    for (size_t i = 0; i < cl->n; i++)
        if (read_claim(f, cl->items[i], (int)i, &f->shared->claims[i], err, errlen) < 0)
            return -HERD_EINVAL;
    f->shared->nclaims = (int)cl->n;
    return 0;
}

int herd_fleet_file_nclaims(const struct herd_fleet_file *f)
{
    return f->shared->nclaims;
}

const struct herd_fleet_claim *herd_fleet_file_claim(const struct herd_fleet_file *f, int i)
{
    return &f->shared->claims[i];
}

bool herd_fleet_claim_holds(const struct herd_fleet_claim *c, double v, const char *word)
{
    if (c->word[0])
        return word && strcmp(word, c->word) == 0;
    if (!isfinite(v))
        return false;
    switch (c->op) {
    case HERD_CLAIM_LT:
        return v < c->value;
    case HERD_CLAIM_LE:
        return v <= c->value;
    case HERD_CLAIM_GT:
        return v > c->value;
    case HERD_CLAIM_GE:
        return v >= c->value;
    case HERD_CLAIM_EQ:
        return v == c->value;
    case HERD_CLAIM_WITHIN:
        return fabs(v - c->value) <= (c->tol_share ? c->tol * fabs(c->value) : c->tol);
    }
    return false;
}

int herd_fleet_file_parse(const char *origin, const char *text, size_t len,
                          struct herd_fleet_file **out, char *err, size_t errlen)
{
    struct herd_fleet_file *f = calloc(1, sizeof *f);
    struct shared *sh = calloc(1, sizeof *sh);
    struct herd__node *root;
    int rc;
    if (!f || !sh) {
        free(f);
        free(sh);
        snprintf(err, errlen, "%s: out of memory", origin);
        return -HERD_ENOMEM;
    }
    f->shared = sh;
    f->owns_shared = true;
    pthread_mutex_init(&sh->mu, NULL);
    sh->content_hash = fnv(FNV_START, text, len);
    f->hash = sh->content_hash;
    if (herd__tree_parse(&sh->arena, origin, text, len, true, &root, err, errlen) < 0) {
        rc = -HERD_EINVAL;
        goto fail;
    }
    sh->path = root->origin;
    f->root = root;
    if ((rc = herd__schema_decode(root, &f->model, err, errlen)) < 0) {
        rc = -HERD_EINVAL;
        goto fail;
    }
    if ((rc = read_mitigations(f, err, errlen)) < 0)
        goto fail;
    base_strategies(f);
    if ((rc = validate_strategies(f, 1, err, errlen)) < 0)
        goto fail;
    if ((rc = read_claims(f, err, errlen)) < 0)
        goto fail;
    make_row(f);
    *out = f;
    return 0;
fail:
    herd_fleet_file_free(f);
    return rc;
}

int herd_fleet_file_load(const char *path, struct herd_fleet_file **out, char *err,
                         size_t errlen)
{
    FILE *fp = fopen(path, "rbe");
    if (!fp) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(e));
        return e == ENOENT ? -HERD_EINVAL : -e;
    }
    /* One byte more than allowed tells a file that is too large. */
    char *buf = malloc(HERD__FILE_MAX_BYTES + 1);
    if (!buf) {
        fclose(fp);
        snprintf(err, errlen, "%s: out of memory", path);
        return -HERD_ENOMEM;
    }
    size_t len = fread(buf, 1, HERD__FILE_MAX_BYTES + 1, fp);
    int rd = ferror(fp);
    fclose(fp);
    int rc;
    if (rd) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(EIO));
        rc = -EIO;
    } else if (len > HERD__FILE_MAX_BYTES) {
        snprintf(err, errlen, "%s: larger than %d bytes; allowed: at most 1 MiB", path,
                 HERD__FILE_MAX_BYTES);
        rc = -HERD_EINVAL;
    } else {
        rc = herd_fleet_file_parse(path, buf, len, out, err, errlen);
    }
    free(buf);
    return rc;
}

void herd_fleet_file_free(struct herd_fleet_file *f)
{
    if (!f)
        return;
    assert(f->owns_shared);
    struct shared *sh = f->shared;
    for (struct herd_fleet_file *v = sh->versions, *next; v; v = next) {
        next = v->next;
        free(v);
    }
    herd__arena_free(&sh->arena);
    pthread_mutex_destroy(&sh->mu);
    free(sh);
    free(f);
}

/* A new version of @p from with @p mutate's tree (already in the shared arena) and
 * strategies; validated; registered with the loaded file. Called with shared->mu held. */
static int new_version(const struct herd_fleet_file *from, const struct herd__node *root,
                       const char *set_path, const char *set_value, struct herd_fleet_file **out,
                       char *err, size_t errlen)
{
    struct herd_fleet_file *v = malloc(sizeof *v);
    if (!v)
        return snprintf(err, errlen, "out of memory"), -HERD_ENOMEM;
    *v = *from;
    v->owns_shared = false;
    v->parent = from;
    v->set_path = set_path;
    v->set_value = set_value;
    v->root = root;
    if (set_path) {
        v->hash = fnv(from->hash, set_path, strlen(set_path) + 1);
        v->hash = fnv(v->hash, set_value, strlen(set_value) + 1);
    }
    int rc = herd__schema_decode(root, &v->model, err, errlen) < 0 ? -HERD_EINVAL : 0;
    if (rc == 0)
        rc = validate_strategies(v, 1, err, errlen);
    if (rc < 0) {
        free(v);
        return rc;
    }
    make_row(v);
    v->next = v->shared->versions;
    v->shared->versions = v;
    *out = v;
    return 0;
}

int herd_fleet_file_set(const struct herd_fleet_file *f, const char *flag, const char *path,
                        const char *value, const struct herd_fleet_file **out, char *err,
                        size_t errlen)
{
    struct shared *sh = f->shared;
    struct herd__node *val;
    const struct herd__node *root;
    struct herd_fleet_file *v = NULL;
    int rc = -HERD_EINVAL;
    pthread_mutex_lock(&sh->mu);
    char *text = herd__arena_strndup(&sh->arena, value, strlen(value));
    char *key = herd__arena_strndup(&sh->arena, path, strlen(path));
    if (!text || !key) {
        snprintf(err, errlen, "%s: out of memory", flag);
        rc = -HERD_ENOMEM;
        goto out;
    }
    if (herd__tree_parse(&sh->arena, flag, text, strlen(text), false, &val, err, errlen) < 0)
        goto out;
    struct setter s = {.a = &sh->arena, .at = val, .label = path, .err = err, .errlen = errlen};
    if (tree_set(&s, f->root, path, val, &root) < 0)
        goto out;
    rc = new_version(f, root, key, text, &v, err, errlen);
out:
    pthread_mutex_unlock(&sh->mu);
    if (rc == 0)
        *out = v;
    return rc;
}

int herd_fleet_file_strategy(const struct herd_fleet_file *f, const char *flag, const char *names,
                             const struct herd_fleet_file **out, int *strategy, char *err,
                             size_t errlen)
{
    const struct herd_strategy_def *st = f->strategies;
    for (int i = 0; st[i].name; i++) {
        if (strcmp(st[i].name, names) == 0) {
            *out = f;
            *strategy = i;
            return 0;
        }
    }
    const char *decl[HERD_FLEET_MAX_MITIGATIONS + 1];
    char allowed[512];
    for (int i = 0; i < f->nmits; i++)
        decl[i] = f->mits[i].name;
    decl[f->nmits] = NULL;
    join_names(decl, allowed, sizeof allowed);
    int combo[HERD_FLEET_MAX_MITIGATIONS], n = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", names);
    for (char *save = NULL, *tok = strtok_r(buf, "+", &save); tok;
         tok = strtok_r(NULL, "+", &save)) {
        int idx = -1;
        for (int i = 0; i < f->nmits; i++)
            if (strcmp(f->mits[i].name, tok) == 0)
                idx = i;
        if (idx < 0) {
            char near[80];
            snprintf(err, errlen,
                     "%s: '%s' is not a mitigation of %s%s; allowed: %s, or several joined by +",
                     flag, tok, f->model.name, herd__did_you_mean(tok, decl, near, sizeof near),
                     allowed);
            return -HERD_EINVAL;
        }
        for (int k = 0; k < n; k++)
            if (combo[k] == idx) {
                snprintf(err, errlen, "%s: '%s' is named twice; allowed: each mitigation once",
                         flag, tok);
                return -HERD_EINVAL;
            }
        if (n == HERD_FLEET_MAX_MITIGATIONS)
            break;
        combo[n++] = idx;
    }
    if (n < 2 || strchr("+", names[0]) || names[strlen(names) - 1] == '+' || strstr(names, "++")) {
        snprintf(err, errlen, "%s: '%s' is not a mitigation of %s; allowed: %s, or several "
                              "joined by +",
                 flag, names, f->model.name, allowed);
        return -HERD_EINVAL;
    }
    int ns = 0;
    while (st[ns].name)
        ns++;
    if (ns >= HERD_MAX_STRATEGIES) {
        snprintf(err, errlen,
                 "%s: %s already has %d strategies, no room for '%s'; allowed: declare it in the "
                 "file (a mitigation with use: [...])",
                 flag, f->model.name, ns, names);
        return -HERD_EINVAL;
    }
    struct shared *sh = f->shared;
    struct herd_fleet_file *v = NULL;
    int rc;
    pthread_mutex_lock(&sh->mu);
    char *name = herd__arena_strndup(&sh->arena, names, strlen(names));
    char *help = herd__arena_alloc(&sh->arena, 64 + strlen(names));
    if (!name || !help) {
        snprintf(err, errlen, "%s: out of memory", flag);
        rc = -HERD_ENOMEM;
    } else {
        snprintf(help, 64 + strlen(names), "%s, applied in this order", names);
        struct herd_fleet_file tmp = *f;
        tmp.strategies[ns] = (struct herd_strategy_def){name, HERD_FAMILY_PROTECT, help};
        tmp.strategies[ns + 1] = (struct herd_strategy_def){NULL, 0, NULL};
        tmp.strat_n[ns] = n;
        memcpy(tmp.strat_mits[ns], combo, sizeof combo);
        /* A combination is no override: the version keeps f's hash and overrides. */
        rc = new_version(&tmp, f->root, NULL, NULL, &v, err, errlen);
        if (rc == 0) {
            v->parent = f->parent;
            v->set_path = f->set_path;
            v->set_value = f->set_value;
            v->hash = f->hash;
        }
    }
    pthread_mutex_unlock(&sh->mu);
    if (rc < 0)
        return rc;
    *out = v;
    *strategy = ns;
    return 0;
}

int herd_fleet_file_model(const struct herd_fleet_file *f, int strategy, struct herd_fleet *out,
                          char *err, size_t errlen)
{
    assert(strategy >= 0 && strategy < HERD_MAX_STRATEGIES && f->strategies[strategy].name);
    if (strategy == 0) {
        *out = f->model;
        return 0;
    }
    struct herd__arena scratch = {0};
    int rc = build_model(f, strategy, &scratch, out, err, errlen);
    herd__arena_free(&scratch);
    /* Validated when f was made: only memory can be short now. */
    return rc < 0 ? -HERD_ENOMEM : 0;
}

const struct herd_scenario *herd_fleet_file_scenario(const struct herd_fleet_file *f)
{
    return &f->row;
}

const struct herd_fleet_file *herd_fleet_file_of(const struct herd_scenario *sc)
{
    if (!sc || sc->decode_row != decode_fleet_row)
        return NULL;
    return (const struct herd_fleet_file *)((const char *)sc -
                                            offsetof(struct herd_fleet_file, row));
}

const struct herd_fleet *herd_fleet_file_fleet(const struct herd_fleet_file *f)
{
    return &f->model;
}

const char *herd_fleet_file_path(const struct herd_fleet_file *f)
{
    return f->shared->path;
}

uint64_t herd_fleet_file_content_hash(const struct herd_fleet_file *f)
{
    return f->shared->content_hash;
}

uint64_t herd_fleet_file_hash(const struct herd_fleet_file *f)
{
    return f->hash;
}

int herd_fleet_file_nmitigations(const struct herd_fleet_file *f)
{
    return f->nmits;
}

size_t herd_fleet_file_overrides(const struct herd_fleet_file *f, const char **paths,
                                 const char **values, size_t max)
{
    size_t n = 0;
    for (const struct herd_fleet_file *v = f; v; v = v->parent)
        if (v->set_path)
            n++;
    size_t k = n;
    for (const struct herd_fleet_file *v = f; v; v = v->parent) {
        if (v->set_path && --k < max) {
            paths[k] = v->set_path;
            values[k] = v->set_value;
        }
    }
    return n;
}

int herd_fleet_schema_markdown(FILE *f)
{
    return herd__schema_markdown(f);
}

/* ---- the row's hooks (scenario.h) ---------------------------------------------------- */

static void decode_nothing(const double *params, int strategy, union herd_scenario_config *out)
{
    (void)params;
    out->fleet = (struct herd_fleet_config){NULL, strategy};
}

static void decode_fleet_row(const struct herd_scenario *sc, int strategy,
                             union herd_scenario_config *out)
{
    out->fleet = (struct herd_fleet_config){herd_fleet_file_of(sc), strategy};
}

static int set_row(struct herd_run_spec *spec, const char *flag, const char *key,
                   const char *value, char *err, size_t errlen)
{
    const struct herd_fleet_file *v;
    int rc = herd_fleet_file_set(herd_fleet_file_of(spec->sc), flag, key, value, &v, err, errlen);
    if (rc < 0)
        return -1;
    spec->sc = &v->row;
    spec->n = v->row.n_default;
    herd_spec_decode(spec);
    return 0;
}

static int strategy_row(struct herd_run_spec *spec, const char *flag, const char *name,
                        char *err, size_t errlen)
{
    const struct herd_fleet_file *v;
    int s;
    if (herd_fleet_file_strategy(herd_fleet_file_of(spec->sc), flag, name, &v, &s, err,
                                 errlen) < 0)
        return -1;
    spec->sc = &v->row;
    spec->strategy = s;
    herd_spec_decode(spec);
    return s;
}

/* ---- shipped files ------------------------------------------------------------------- */

#ifndef HERD_SCENARIOS_SOURCE_DIR
#define HERD_SCENARIOS_SOURCE_DIR ""
#endif
#ifndef HERD_SCENARIOS_DATA_DIR
#define HERD_SCENARIOS_DATA_DIR ""
#endif
#ifndef HERD_BUILD_ROOT
#define HERD_BUILD_ROOT ""
#endif

static bool is_dir(const char *p)
{
    struct stat st;
    return *p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int add_dir(char dirs[][4096], int n, int max, const char *d)
{
    if (n < max && is_dir(d)) {
        for (int i = 0; i < n; i++)
            if (strcmp(dirs[i], d) == 0)
                return n;
        snprintf(dirs[n], 4096, "%s", d);
        return n + 1;
    }
    return n;
}

int herd_fleet_dirs(char dirs[][4096], int max)
{
    const char *env = getenv("HERD_SCENARIOS");
    if (env && *env)
        return add_dir(dirs, 0, max, env);
    char exe[4096], root[PATH_MAX], beside[4096 + 32];
    ssize_t l = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[l > 0 ? l : 0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    int n = 0;
    /* Run from its build tree: the source tree's files, the ones being worked on. */
    if (*HERD_BUILD_ROOT && realpath(HERD_BUILD_ROOT, root) &&
        strncmp(exe, root, strlen(root)) == 0 &&
        (exe[strlen(root)] == '\0' || exe[strlen(root)] == '/'))
        n = add_dir(dirs, n, max, HERD_SCENARIOS_SOURCE_DIR);
    if (*exe) {
        snprintf(beside, sizeof beside, "%s/../share/herd/scenarios", exe);
        n = add_dir(dirs, n, max, beside);
    }
    n = add_dir(dirs, n, max, HERD_SCENARIOS_DATA_DIR);
    return n;
}

bool herd_fleet_is_path(const char *arg)
{
    size_t l = strlen(arg);
    if (strncmp(arg, "field-guide/", 12) == 0 && !strchr(arg + 12, '/') && !strchr(arg + 12, '.'))
        return false; /* a section of the field guide, by name */
    return strchr(arg, '/') || (l > 5 && strcmp(arg + l - 5, ".yaml") == 0) ||
           (l > 4 && strcmp(arg + l - 4, ".yml") == 0);
}

int herd_fleet_find(const char *name, char *path, size_t len)
{
    char dirs[HERD_FLEET_DIRS_MAX][4096];
    int n = herd_fleet_dirs(dirs, HERD_FLEET_DIRS_MAX);
    /* NAME, or field-guide/NAME: the guide's sections (scenarios/field-guide/) are found
     * by either, after the top level's files. */
    const char *sub = strncmp(name, "field-guide/", 12) == 0 ? name + 12 : name;
    if (!good_mit_name(sub))
        return -ENOENT;
    for (int pass = sub == name ? 0 : 1; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            char p[4096];
            int l = snprintf(p, sizeof p, "%s/%s%s.yaml", dirs[i], pass ? "field-guide/" : "", sub);
            if (l > 0 && (size_t)l < sizeof p && access(p, R_OK) == 0) {
                snprintf(path, len, "%s", p);
                return 0;
            }
        }
    return -ENOENT;
}

/* By the scenario's name: the file name without ".yaml" (brooker-collapse before
 * brooker-collapse-ramp). */
static int by_name(const void *a, const void *b)
{
    const char *x = strrchr((const char *)a, '/'), *y = strrchr((const char *)b, '/');
    x = x ? x + 1 : a;
    y = y ? y + 1 : b;
    size_t lx = strlen(x) - 5, ly = strlen(y) - 5;
    int c = strncmp(x, y, lx < ly ? lx : ly);
    return c ? c : (lx > ly) - (lx < ly);
}

size_t herd_fleet_shipped(char paths[][4096], size_t max)
{
    char dirs[HERD_FLEET_DIRS_MAX][4096];
    int nd = herd_fleet_dirs(dirs, HERD_FLEET_DIRS_MAX);
    size_t n = 0;
    for (int d = 0; d < nd; d++) {
        DIR *dir = opendir(dirs[d]);
        if (!dir)
            continue;
        for (struct dirent *e; (e = readdir(dir));) {
            size_t l = strlen(e->d_name);
            if (l <= 5 || strcmp(e->d_name + l - 5, ".yaml") != 0 || e->d_name[0] == '.')
                continue;
            bool seen = false;
            for (size_t i = 0; i < n && i < max; i++) {
                const char *base = strrchr(paths[i], '/');
                seen |= base && strcmp(base + 1, e->d_name) == 0;
            }
            if (seen)
                continue;
            if (n < max) {
                int l = snprintf(paths[n], 4096, "%s/%s", dirs[d], e->d_name);
                if (l < 0 || l >= 4096)
                    continue;
            }
            n++;
        }
        closedir(dir);
    }
    qsort(paths, n < max ? n : max, 4096, by_name);
    return n;
}

size_t herd_fleet_guide_files(char paths[][4096], size_t max)
{
    char dirs[HERD_FLEET_DIRS_MAX][4096];
    int nd = herd_fleet_dirs(dirs, HERD_FLEET_DIRS_MAX);
    size_t n = 0;
    for (int d = 0; d < nd && n == 0; d++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%.4000s/field-guide", dirs[d]);
        DIR *dp = opendir(dir);
        if (!dp)
            continue;
        for (struct dirent *e; (e = readdir(dp)) && n < max;) {
            size_t l = strlen(e->d_name);
            if (l > 5 && e->d_name[0] != '.' && strcmp(e->d_name + l - 5, ".yaml") == 0)
                snprintf(paths[n++], 4096, "%.3800s/%.255s", dir, e->d_name);
        }
        closedir(dp);
    }
    qsort(paths, n, 4096, by_name);
    return n;
}
