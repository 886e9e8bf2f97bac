/* guide.h — the field guide over HTTP, without the HTTP (server.c routes):
 *
 *   GET  /api/lessons   the lessons (scenario/lessons.h) without runs: starts nothing
 *   POST /api/lesson    {"lesson": NAME, "answer": "B+C" (optional), "seed": 1 (optional)}
 *                       → the lesson run (front/lesson.h): claims judged, picks measured
 *   POST /api/picture   {"picture": NAME, "seed": 1 (optional)} → image/svg+xml
 *
 * A request is read strictly: an unknown field, a wrong type, an unknown lesson or picture,
 * an answer that is not a choice, a seed out of range are each a 400 with the reason,
 * before anything runs. A lesson's or picture's runs are the shipped files' own (a few
 * seconds of simulator time each), so their size is fixed; the server takes a simulation
 * turn for them like any run. Thread safety: reentrant.
 */
#ifndef HERD_WEB_GUIDE_H
#define HERD_WEB_GUIDE_H

#include <stddef.h>
#include <stdint.h>

#include "../scenario/lessons.h"

/* What a POST asked for, validated. */
struct herd_guide_request {
    const struct herd_lesson *lesson; /* POST /api/lesson */
    char answer[64];                  /* canonical, "" for none */
    const char *picture;              /* POST /api/picture: static */
    uint64_t seed;
};

/** The lessons as a JSON array (malloc'd text), or NULL without memory. */
char *herd__guide_lessons_json(void);

/**
 * Read the body of POST /api/lesson (@p picture false) or /api/picture (true) into @p out.
 * @return 0, or 400 with one line in @p err.
 */
unsigned herd__guide_request(const char *body, size_t len, int picture,
                             struct herd_guide_request *out, char *err, size_t errlen);

#endif
