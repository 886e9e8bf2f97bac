/* profile.c — reading and writing the calibration profile (see profile.h). */
#include "profile.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void herd_profile_defaults(struct herd_profile *p)
{
    memset(p, 0, sizeof *p);
    p->cores = 2;
    snprintf(p->kernel, sizeof p->kernel, "built-in defaults");
#define HERD__PROF_DEFAULT(name, dflt, doc) p->name = dflt;
    HERD_PROFILE_FIGURES(HERD__PROF_DEFAULT)
#undef HERD__PROF_DEFAULT
}

int herd_profile_write(FILE *f, const struct herd_profile *p)
{
    json_t *o = json_object(), *docs = json_object();
    json_object_set_new(o, "cores", json_integer(p->cores));
    json_object_set_new(o, "kernel", json_string(p->kernel));
    json_object_set_new(o, "measured_at", json_integer(p->measured_at));
#define HERD__PROF_JSON(name, dflt, doc)                                                    \
    json_object_set_new(o, #name, json_real(p->name));                                      \
    json_object_set_new(docs, #name, json_string(doc));
    HERD_PROFILE_FIGURES(HERD__PROF_JSON)
#undef HERD__PROF_JSON
    json_object_set_new(o, "about", docs);
    int rc = json_dumpf(o, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(8));
    json_decref(o);
    return rc < 0 || fputc('\n', f) == EOF ? -EIO : 0;
}

int herd_profile_read(const char *path, struct herd_profile *p, char *err, size_t errlen)
{
    json_error_t jerr;
    herd_profile_defaults(p);
    FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    json_t *o = json_loadf(f, 0, &jerr);
    fclose(f);
    if (!o || !json_is_object(o)) {
        snprintf(err, errlen, "%s: not a herd profile (%s, line %d)", path,
                 o ? "not an object" : jerr.text, jerr.line);
        json_decref(o);
        return -EINVAL;
    }
    json_t *v;
    if ((v = json_object_get(o, "cores")) && json_is_integer(v))
        p->cores = (int)json_integer_value(v);
    if ((v = json_object_get(o, "kernel")) && json_is_string(v))
        snprintf(p->kernel, sizeof p->kernel, "%s", json_string_value(v));
    if ((v = json_object_get(o, "measured_at")) && json_is_integer(v))
        p->measured_at = json_integer_value(v);
    int rc = 0;
#define HERD__PROF_READ(name, dflt, doc)                                                    \
    if ((v = json_object_get(o, #name))) {                                                  \
        if (!json_is_number(v) || json_number_value(v) < 0) {                               \
            snprintf(err, errlen, "%s: %s must be a number >= 0", path, #name);             \
            rc = -EINVAL;                                                                   \
        } else {                                                                            \
            p->name = json_number_value(v);                                                 \
        }                                                                                   \
    }
    HERD_PROFILE_FIGURES(HERD__PROF_READ)
#undef HERD__PROF_READ
    json_decref(o);
    if (rc < 0)
        herd_profile_defaults(p);
    return rc;
}

void herd_profile_default_path(char *buf, size_t len)
{
    const char *env = getenv("HERD_PROFILE");
    if (env && *env) {
        snprintf(buf, len, "%s", env);
        return;
    }
    const char *xdg = getenv("XDG_CONFIG_HOME");
    if (xdg && *xdg) {
        snprintf(buf, len, "%s/herd/profile.json", xdg);
        return;
    }
    const char *home = getenv("HOME");
    snprintf(buf, len, "%s/.config/herd/profile.json", home && *home ? home : ".");
}

double herd_profile_one_wake(double at_n, double per_decade, int64_t n)
{
    if (n < HERD_PROFILE_N)
        n = HERD_PROFILE_N;
    if (n > HERD_PROFILE_N_HIGH)
        n = HERD_PROFILE_N_HIGH;
    return at_n + (per_decade > 0 ? per_decade : 0) * log10((double)n / HERD_PROFILE_N);
}

double herd_profile_per_waiter(double at_n, double at_high, int64_t n)
{
    if (at_n < 0)
        at_n = 0;
    if (!(at_high > 0))
        return at_n;
    if (n < HERD_PROFILE_N)
        n = HERD_PROFILE_N;
    if (n > HERD_PROFILE_N_HIGH)
        n = HERD_PROFILE_N_HIGH;
    double f = log10((double)n / HERD_PROFILE_N) / log10((double)HERD_PROFILE_N_HIGH / HERD_PROFILE_N);
    return at_n + (at_high - at_n) * f;
}
