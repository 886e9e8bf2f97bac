/* lessons.h — the field guide's questions (seed 000), each settled by runs of its
 * scenario files (scenarios/field-guide/).
 *
 * A lesson is one interactive question of the guide: the section's setting, the question,
 * its choices, the guide's answer and why, and the evidence that settles it: claims of the
 * section's files (their `claim` blocks, judged on the simulator; docs/scenario-file.md)
 * and, where a choice is a strategy of the file (a mitigation to pick, a decision game),
 * one run per choice so the reader's pick is measured next to the others. Where the guide
 * asks an open question ("Why does recovery take longer?") the choices are herd's, built
 * from the guide's own answer, and the lesson says so (open).
 *
 * The table is data (lessons.c); herd lesson, the page's field-guide view and the tests
 * read it through these functions. Thread safety: immutable; every function is reentrant.
 */
#ifndef HERD_SCENARIO_LESSONS_H
#define HERD_SCENARIO_LESSONS_H

#include <stdbool.h>
#include <stddef.h>

#define HERD_LESSON_CHOICES 6
#define HERD_LESSON_ITEMS 4
#define HERD_LESSON_TRIES 4

struct herd_lesson_choice {
    const char *key;      /* "A", "2" */
    const char *text;     /* what the choice says */
    const char *strategy; /* a strategy of the lesson's first file that enacts the choice
                             (measured pick by pick), or NULL */
};

struct herd_lesson {
    const char *name;     /* herd lesson NAME */
    const char *section;  /* the guide's section, as a title */
    const char *setting;  /* the section's scenario, in the guide's numbers */
    const char *question; /* the guide's question, as asked */
    struct herd_lesson_choice choices[HERD_LESSON_CHOICES]; /* key NULL ends */
    /* A matching exercise: one choice per item, in order (the answer "B,A,C"). */
    const char *items[HERD_LESSON_ITEMS];
    bool multi;          /* several choices may be picked ("B+C") */
    bool open;           /* the guide asks an open question; the choices are herd's */
    const char *answer;  /* the guide's answer: keys joined by '+' (matching: ',') */
    const char *because; /* the guide's reason, one paragraph */
    /* The evidence: "FILE:1,2,5 FILE2" — files of scenarios/field-guide/ and the 1-based
     * indices of their claims (none: every claim). The first file's strategies are the
     * choices' and the chart's. */
    const char *evidence;
    const char *versus; /* the strategy charted against naive on the herd resource */
    const char *tries[HERD_LESSON_TRIES]; /* "try this": herd commands, NULL ends */
};

/** How many lessons there are. */
size_t herd_lesson_count(void);

/** Lesson @p i (0 <= i < herd_lesson_count()), or NULL past the end. */
const struct herd_lesson *herd_lesson_at(size_t i);

/** The lesson named @p name, or NULL. */
const struct herd_lesson *herd_lesson_find(const char *name);

/** The choice of @p l keyed @p key (case-insensitive), or NULL. */
const struct herd_lesson_choice *herd_lesson_choice(const struct herd_lesson *l, const char *key);

/**
 * Read a reader's answer @p text to @p l ("b+c", "C, B", "2 3 4"; matching: "B,A,C" or
 * "b a c") into its canonical form in @p out (keys in the choices' order joined by '+';
 * matching: in the items' order joined by ','). @return 0, or -1 with one line in @p err
 * naming the allowed keys (an unknown key, one picked twice, several where one is asked,
 * the wrong number of items, nothing).
 */
int herd_lesson_answer(const struct herd_lesson *l, const char *text, char *out, size_t outlen,
                       char *err, size_t errlen);

/** Does canonical answer @p canon equal @p l's answer? */
bool herd_lesson_correct(const struct herd_lesson *l, const char *canon);

/**
 * Evidence token @p i of @p l: the file's name into @p file, its claim indices (1-based)
 * into @p claims (@p *nclaims of them; 0: every claim). @return 0, or -1 past the last.
 */
int herd_lesson_evidence(const struct herd_lesson *l, int i, char *file, size_t filelen,
                         int *claims, int maxclaims, int *nclaims);

#endif
