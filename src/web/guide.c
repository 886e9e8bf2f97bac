/* guide.c — the field guide over HTTP, without the HTTP (guide.h). */
#include "guide.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../front/lesson.h"
#include "../front/picture.h"

char *herd__guide_lessons_json(void)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < herd_lesson_count(); i++)
        json_array_append_new(a, herd_lesson_json(herd_lesson_at(i)));
    json_t *o = json_pack("{s:o, s:o}", "lessons", a, "pictures", json_array());
    const char *const *names = herd_picture_names();
    for (int i = 0; o && names[i]; i++)
        json_array_append_new(
            json_object_get(o, "pictures"),
            json_pack("{s:s, s:s}", "name", names[i], "help", herd_picture_help(names[i])));
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

unsigned herd__guide_request(const char *body, size_t len, int picture,
                             struct herd_guide_request *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->seed = 1;
    json_error_t jerr;
    json_t *o = len ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    const char *what = picture ? "picture" : "lesson";
    unsigned code = 400;
    if (!json_is_object(o)) {
        snprintf(err, errlen, "expected a JSON object {\"%s\": NAME%s, \"seed\": N}", what,
                 picture ? "" : ", \"answer\": \"B\"");
        goto done;
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        if (strcmp(key, what) != 0 && strcmp(key, "seed") != 0 &&
            (picture || strcmp(key, "answer") != 0)) {
            snprintf(err, errlen, "unknown field '%.40s'; allowed: %s, %sseed", key, what,
                     picture ? "" : "answer, ");
            goto done;
        }
    }
    json_t *name = json_object_get(o, what), *seed = json_object_get(o, "seed"),
           *answer = json_object_get(o, "answer");
    if (!json_is_string(name)) {
        snprintf(err, errlen, "%s: expected a name (a string)", what);
        goto done;
    }
    if (seed && !(json_is_integer(seed) && json_integer_value(seed) >= 0)) {
        snprintf(err, errlen, "seed: expected a whole number from 0");
        goto done;
    }
    if (seed)
        out->seed = (uint64_t)json_integer_value(seed);
    if (picture) {
        const char *const *names = herd_picture_names();
        for (int i = 0; names[i]; i++)
            if (strcmp(names[i], json_string_value(name)) == 0)
                out->picture = names[i];
        if (!out->picture) {
            snprintf(err, errlen,
                     "picture: no picture '%.40s'; allowed: stampede, retry-wave, leader, "
                     "cascade, dashboard",
                     json_string_value(name));
            goto done;
        }
        code = 0;
        goto done;
    }
    out->lesson = herd_lesson_find(json_string_value(name));
    if (!out->lesson) {
        snprintf(err, errlen, "lesson: no lesson '%.40s' (GET /api/lessons lists them)",
                 json_string_value(name));
        goto done;
    }
    if (answer && !json_is_null(answer)) {
        if (!json_is_string(answer)) {
            snprintf(err, errlen, "answer: expected a string such as \"B\" or \"B+C\"");
            goto done;
        }
        char e[256];
        if (herd_lesson_answer(out->lesson, json_string_value(answer), out->answer,
                               sizeof out->answer, e, sizeof e) < 0) {
            snprintf(err, errlen, "answer%s", strncmp(e, "--answer", 8) == 0 ? e + 8 : e);
            goto done;
        }
    }
    code = 0;
done:
    json_decref(o);
    return code;
}
