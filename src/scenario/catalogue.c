/* catalogue.c — the table of scenarios (from list.h) and the run spec's validation.
 * Every range is the scenario file's own param table: what `herd list` prints and what
 * the CLI, the web API and scenario files enforce; change a range there and every front
 * end follows. */
#include "scenario.h"

#include "scenario_int.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct herd_scenario *const herd_scenarios[] = {
#define HERD__SCENARIO_PTR(name, NAME, live, sim) [HERD_SC_##NAME] = &herd_scenario_##name,
    HERD_SCENARIO_LIST(HERD__SCENARIO_PTR)
#undef HERD__SCENARIO_PTR
        [HERD_SCENARIO_COUNT] = NULL,
};

const char *herd_family_name(enum herd_family f)
{
    switch (f) {
#define HERD__FAMILY_NAME(id, name)                                                         \
    case HERD_FAMILY_##id:                                                                  \
        return name;
        HERD_FAMILIES(HERD__FAMILY_NAME)
#undef HERD__FAMILY_NAME
    }
    return "?";
}

/* ---- lookups ------------------------------------------------------------------ */

const struct herd_scenario *herd_scenario_find(const char *name)
{
    for (int i = 0; herd_scenarios[i]; i++)
        if (strcmp(herd_scenarios[i]->name, name) == 0)
            return herd_scenarios[i];
    return NULL;
}

int herd_scenario_nparams(const struct herd_scenario *sc)
{
    int n = 0;
    while (sc->params[n].key)
        n++;
    return n;
}

int herd_scenario_nstrategies(const struct herd_scenario *sc)
{
    int n = 0;
    while (sc->strategies[n].name)
        n++;
    return n;
}

int herd_scenario_param_index(const struct herd_scenario *sc, const char *key)
{
    for (int i = 0; sc->params[i].key; i++)
        if (strcmp(sc->params[i].key, key) == 0)
            return i;
    return -1;
}

int herd_scenario_strategy_index(const struct herd_scenario *sc, const char *name)
{
    for (int i = 0; sc->strategies[i].name; i++)
        if (strcmp(sc->strategies[i].name, name) == 0)
            return i;
    return -1;
}

/* ---- specs ------------------------------------------------------------------------- */

void herd_spec_decode(struct herd_run_spec *spec)
{
    if (spec->sc->decode_row)
        spec->sc->decode_row(spec->sc, spec->strategy, &spec->cfg);
    else
        spec->sc->decode(spec->params, spec->strategy, &spec->cfg);
}

void herd_spec_init(struct herd_run_spec *spec, const struct herd_scenario *sc)
{
    memset(spec, 0, sizeof *spec);
    spec->sc = sc;
    spec->strategy = 0;
    spec->n = sc->n_default;
    spec->events = sc->events_default;
    spec->seed = 1;
    for (int i = 0; sc->params[i].key; i++)
        spec->params[i] = sc->params[i].def;
    herd_spec_decode(spec);
}

void herd_spec_use_index(struct herd_run_spec *spec, int index)
{
    assert(index >= 0 && index < herd_scenario_nstrategies(spec->sc));
    spec->strategy = index;
    herd_spec_decode(spec);
}

int herd_spec_use(struct herd_run_spec *spec, const char *name)
{
    int i = strcmp(name, "none") == 0 ? 0 : herd_scenario_strategy_index(spec->sc, name);
    if (i < 0 && spec->sc->strategy_row && strchr(name, '+')) {
        char err[256];
        return spec->sc->strategy_row(spec, "mitigation", name, err, sizeof err) < 0 ? -1 : 0;
    }
    if (i < 0)
        return -1;
    herd_spec_use_index(spec, i);
    return 0;
}

int herd_spec_validate(const struct herd_run_spec *spec, char *err, size_t errlen)
{
    return spec->sc->validate ? spec->sc->validate(spec, err, errlen) : 0;
}

/* Append @p name to the list "a, b, c" in @p buf (@p off: its length so far, 0 to start);
 * a list too long for @p len is cut, still terminated. */
static void join(char *buf, size_t len, size_t *off, const char *name)
{
    if (*off == 0)
        buf[0] = '\0';
    if (*off < len)
        *off += (size_t)snprintf(buf + *off, len - *off, "%s%s", *off ? ", " : "", name);
}

static void join_choices(const struct herd_param_def *p, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; p->choices[i]; i++)
        join(buf, len, &off, p->choices[i]);
}

/* Digits from @p s: how many. */
static size_t digits(const char *s)
{
    size_t k = 0;
    while (s[k] >= '0' && s[k] <= '9')
        k++;
    return k;
}

/* The numbers herd reads, as a user types them: an optional '-', decimal digits and, for a
 * real number, a fraction and an exponent ("-12", "0.5", ".5", "1e9", "2.5E-3"). What
 * strtod and strtoll also take is refused: blanks around it (" 5"), a '+', hex ("0x10"),
 * "inf", "nan". Checked first, so the conversion that follows sees a plain number. */
bool herd_number_syntax(const char *text, bool real)
{
    const char *s = text + (text[0] == '-');
    size_t whole = digits(s);
    s += whole;
    if (!real)
        return whole > 0 && *s == '\0';
    size_t frac = 0;
    if (*s == '.') {
        frac = digits(s + 1);
        s += 1 + frac;
    }
    if (whole + frac == 0)
        return false;
    if (*s == 'e' || *s == 'E') {
        s += 1 + (s[1] == '-' || s[1] == '+');
        size_t ex = digits(s);
        if (ex == 0)
            return false;
        s += ex;
    }
    return *s == '\0';
}

int herd_parse_int(const char *flag, const char *text, int64_t min, int64_t max, int64_t *out,
                   char *err, size_t errlen)
{
    char *end = NULL;
    errno = 0;
    long long v = herd_number_syntax(text, false) ? strtoll(text, &end, 10) : 0;
    if (!end || errno || *end != '\0') {
        snprintf(err, errlen, "%s: expected a whole number from %" PRId64 " to %" PRId64
                 ", got '%s'", flag, min, max, text);
        return -1;
    }
    if (v < min || v > max) {
        snprintf(err, errlen, "%s: %lld is out of range; allowed: %" PRId64 " to %" PRId64,
                 flag, v, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

/* The param called @p key, or -1 with the allowed keys in @p err. */
static int find_param(const struct herd_run_spec *spec, const char *flag, const char *key,
                      char *err, size_t errlen)
{
    const struct herd_scenario *sc = spec->sc;
    int i = herd_scenario_param_index(sc, key);
    if (i >= 0)
        return i;
    char allowed[512] = "";
    size_t off = 0;
    for (int j = 0; sc->params[j].key; j++)
        join(allowed, sizeof allowed, &off, sc->params[j].key);
    snprintf(err, errlen, "%s: unknown key for scenario %s; allowed: %s", flag, sc->name,
             allowed);
    return -1;
}

/* Check @p d against param @p p's type and range (@p text: what the user wrote, for the
 * message). */
static int check_number(const struct herd_param_def *p, const char *flag, double d,
                        const char *text, char *err, size_t errlen)
{
    if (p->type == HERD_PARAM_INT) {
        if (d != floor(d) || !isfinite(d)) {
            snprintf(err, errlen, "%s: expected a whole number from %.0f to %.0f, got '%s'", flag,
                     p->min, p->max, text);
            return -1;
        }
        if (d < p->min || d > p->max) {
            snprintf(err, errlen, "%s: %s is out of range; allowed: %.0f to %.0f", flag, text,
                     p->min, p->max);
            return -1;
        }
        return 0;
    }
    if (!isfinite(d)) {
        snprintf(err, errlen, "%s: expected a number from %g to %g, got '%s'", flag, p->min,
                 p->max, text);
        return -1;
    }
    if (d < p->min || d > p->max) {
        snprintf(err, errlen, "%s: %g is out of range; allowed: %g to %g", flag, d, p->min,
                 p->max);
        return -1;
    }
    return 0;
}

/* Which of spec->text holds text param @p i: the text params before it. */
static int text_slot(const struct herd_scenario *sc, int i)
{
    int k = 0;
    for (int j = 0; j < i; j++)
        k += sc->params[j].type == HERD_PARAM_TEXT;
    assert(k < HERD_MAX_TEXTS);
    return k;
}

int herd_spec_set_text(struct herd_run_spec *spec, const char *flag, const char *key,
                       const char *val, char *err, size_t errlen)
{
    if (spec->sc->set_row)
        return spec->sc->set_row(spec, flag, key, val, err, errlen);
    int i = find_param(spec, flag, key, err, errlen);
    if (i < 0)
        return -1;
    const struct herd_param_def *p = &spec->sc->params[i];
    char allowed[256];
    if (p->type == HERD_PARAM_TEXT) {
        size_t len = strlen(val);
        char *slot = spec->text[text_slot(spec->sc, i)];
        if (len >= HERD_TEXT_MAX) {
            snprintf(err, errlen, "%s: at most %d characters, got %zu", flag, HERD_TEXT_MAX - 1,
                     len);
            return -1;
        }
        memcpy(slot, val, len + 1);
        spec->params[i] = len > 0;
        herd_spec_decode(spec);
        return 0;
    }
    if (p->type == HERD_PARAM_ENUM) {
        for (int c = 0; p->choices[c]; c++) {
            if (strcmp(p->choices[c], val) == 0) {
                spec->params[i] = c;
                herd_spec_decode(spec);
                return 0;
            }
        }
        join_choices(p, allowed, sizeof allowed);
        snprintf(err, errlen, "%s: '%s' is not allowed; allowed: %s", flag, val, allowed);
        return -1;
    }
    if (p->type == HERD_PARAM_INT) {
        int64_t v;
        if (herd_parse_int(flag, val, (int64_t)p->min, (int64_t)p->max, &v, err, errlen) < 0)
            return -1;
        spec->params[i] = (double)v;
        herd_spec_decode(spec);
        return 0;
    }
    char *end = NULL;
    errno = 0;
    double d = herd_number_syntax(val, true) ? strtod(val, &end) : 0;
    if (!end || errno || *end != '\0' || !isfinite(d)) {
        snprintf(err, errlen, "%s: expected a number from %g to %g, got '%s'", flag, p->min,
                 p->max, val);
        return -1;
    }
    if (check_number(p, flag, d, val, err, errlen) < 0)
        return -1;
    spec->params[i] = d;
    herd_spec_decode(spec);
    return 0;
}

int herd_spec_set_number(struct herd_run_spec *spec, const char *flag, const char *key,
                         double value, char *err, size_t errlen)
{
    char text[40], allowed[256];
    snprintf(text, sizeof text, "%.17g", value);
    if (spec->sc->set_row)
        return spec->sc->set_row(spec, flag, key, text, err, errlen);
    int i = find_param(spec, flag, key, err, errlen);
    if (i < 0)
        return -1;
    const struct herd_param_def *p = &spec->sc->params[i];
    if (p->type == HERD_PARAM_TEXT) {
        snprintf(err, errlen, "%s: expected text, got the number %s", flag, text);
        return -1;
    }
    if (p->type == HERD_PARAM_ENUM) {
        join_choices(p, allowed, sizeof allowed);
        snprintf(err, errlen, "%s: expected one of %s, got the number %s", flag, allowed, text);
        return -1;
    }
    if (check_number(p, flag, value, text, err, errlen) < 0)
        return -1;
    spec->params[i] = value;
    herd_spec_decode(spec);
    return 0;
}

int herd_spec_set(struct herd_run_spec *spec, const char *kv, char *err, size_t errlen)
{
    const char *eq = strchr(kv, '=');
    char key[256], flag[300];
    size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
    if (klen >= sizeof key)
        klen = sizeof key - 1;
    memcpy(key, kv, klen);
    key[klen] = '\0';
    snprintf(flag, sizeof flag, "--set %s", key);
    if ((spec->sc->set_row || herd_scenario_param_index(spec->sc, key) >= 0) && !eq) {
        snprintf(err, errlen, "%s: expected KEY=VALUE", flag);
        return -1;
    }
    return herd_spec_set_text(spec, flag, key, eq ? eq + 1 : "", err, errlen);
}

const char *herd_spec_strategy(const struct herd_run_spec *spec)
{
    const char *special = spec->sc->strategy_name ? spec->sc->strategy_name(spec) : NULL;
    return special ? special : spec->sc->strategies[spec->strategy].name;
}

const char *herd_spec_mitigation(const struct herd_run_spec *spec)
{
    return herd_spec_naive(spec) ? "none" : spec->sc->strategies[spec->strategy].name;
}

void herd_spec_format_param(const struct herd_run_spec *spec, int i, char *buf, size_t len)
{
    const struct herd_param_def *p = &spec->sc->params[i];
    if (p->type == HERD_PARAM_TEXT) /* a URL may carry credentials: reports say only whose */
        snprintf(buf, len, "%s", spec->text[text_slot(spec->sc, i)][0] ? "own" : "");
    else if (p->type == HERD_PARAM_ENUM)
        snprintf(buf, len, "%s", p->choices[(int)spec->params[i]]);
    else if (p->type == HERD_PARAM_INT)
        snprintf(buf, len, "%.0f", spec->params[i]);
    else
        snprintf(buf, len, "%g", spec->params[i]);
}

void herd_scenario_names(char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; herd_scenarios[i]; i++)
        join(buf, len, &off, herd_scenarios[i]->name);
}

void herd_mitigation_names(const struct herd_scenario *sc, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 1; sc->strategies[i].name; i++)
        join(buf, len, &off, sc->strategies[i].name);
}
