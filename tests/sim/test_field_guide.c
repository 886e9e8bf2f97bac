/* test_field_guide.c — the field guide's sections (scenarios/field-guide/, seed 000) hold:
 * every file's `claim` block is judged on the simulator (herd_sim_fleet_check, seed 1)
 * and every claim must pass. A file without claims fails: a section is shipped with the
 * figure that settles its answer.
 *
 * Each file's runs are small (a few seconds of simulated time per strategy, well under a
 * second of wall time each), so the whole test also runs under ASan. A file listed in
 * heavy[] is skipped under ASan with its reason printed.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/report/fleet_figures.h"
#include "../../src/scenario/file.h"
#include "../../src/sim/fleet.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* Files too heavy to run under ASan within the suite's timeout, and why (none yet: the
 * heaviest, cascade-abc and lb-restart, take ~2 s each without it). */
static const struct {
    const char *file, *why;
} heavy[] = {
    {NULL, NULL},
};

static const char *heavy_reason(const char *file)
{
    for (int i = 0; heavy[i].file; i++)
        if (strcmp(heavy[i].file, file) == 0)
            return heavy[i].why;
    return NULL;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The field guide's files, sorted, into @p names (each malloc'd). @return how many. */
static size_t guide_files(char **names, size_t max)
{
    DIR *d = opendir(HERD_SOURCE_ROOT "/scenarios/field-guide");
    cr_assert_not_null(d, "scenarios/field-guide/ is missing");
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < max;) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".yaml") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    return n;
}

/* Judge one file's claims; print them. @return how many failed. */
static int check_file(const char *file)
{
    char path[4096], err[1024] = "";
    snprintf(path, sizeof path, "%s/scenarios/field-guide/%s", HERD_SOURCE_ROOT, file);
    struct herd_fleet_file *f = NULL;
    cr_assert_eq(herd_fleet_file_load(path, &f, err, sizeof err), 0, "%s", err);
    int n = herd_fleet_file_nclaims(f);
    cr_expect_gt(n, 0, "%s: no claim block", file);
    struct herd_fleet_claim_verdict v[HERD_FLEET_MAX_CLAIMS];
    int failed = herd_sim_fleet_check(f, 1, v, err, sizeof err);
    cr_assert_geq(failed, 0, "%s: %s", file, err);
    printf("%s\n", file);
    herd_fleet_claims_text(stdout, v, n);
    for (int i = 0; i < n; i++)
        cr_expect(v[i].pass, "%s: claim %d failed: %s (measured %g%s%s) — %s", file, i, v[i].check,
                  v[i].measured, v[i].word[0] ? " " : "", v[i].word, v[i].says);
    herd_fleet_file_free(f);
    return failed;
}

Test(field_guide, every_section_holds_its_claims, .timeout = 600)
{
    char *names[64];
    size_t n = guide_files(names, 64);
    cr_assert_gt(n, 0);
    for (size_t i = 0; i < n; i++) {
        const char *why = heavy_reason(names[i]);
        if (UNDER_ASAN && why)
            printf("%s: skipped under ASan (%s)\n", names[i], why);
        else
            check_file(names[i]);
        free(names[i]);
    }
}

/* A claim that does not hold is reported as a failure with its measured value: the
 * bathtub with its capacity doubled no longer drains in 10 s. */
Test(field_guide, a_false_claim_fails)
{
    char path[4096], err[1024] = "";
    snprintf(path, sizeof path, "%s/scenarios/field-guide/bathtub.yaml", HERD_SOURCE_ROOT);
    struct herd_fleet_file *f = NULL;
    cr_assert_eq(herd_fleet_file_load(path, &f, err, sizeof err), 0, "%s", err);
    const struct herd_fleet_file *v2;
    cr_assert_eq(
        herd_fleet_file_set(f, "--set", "components.api.workers", "4", &v2, err, sizeof err), 0,
        "%s", err);
    struct herd_fleet_claim_verdict v[HERD_FLEET_MAX_CLAIMS];
    int failed = herd_sim_fleet_check(v2, 1, v, err, sizeof err);
    cr_assert_geq(failed, 1, "%s", err);
    cr_expect(!v[0].pass, "the 10 s drain holds with twice the capacity: %g", v[0].measured);
    cr_expect(v[0].measured > 4 && v[0].measured < 6, "%g", v[0].measured);
    herd_fleet_file_free(f);
}

/* ---- lessons (scenario/lessons.h): every lesson is answerable and its evidence exists --
 * Without running anything: each lesson's evidence names field-guide files that load and
 * claims they have; every choice's strategy, the versus strategy and the combination of
 * the answer's strategies resolve in the first file; the guide's answer reads back as
 * itself; and the lessons cover every section of the guide that asks a question (listed
 * here, in the guide's order, so a lesson removed fails the test). */
#include "../../src/scenario/lessons.h"

static void load_guide(const char *name, struct herd_fleet_file **f)
{
    char guide[96], path[4096], err[512];
    snprintf(guide, sizeof guide, "field-guide/%s", name);
    cr_assert_eq(herd_fleet_find(guide, path, sizeof path), 0, "%s.yaml not found", name);
    cr_assert_eq(herd_fleet_file_load(path, f, err, sizeof err), 0, "%s: %s", name, err);
}

Test(field_guide, every_lesson_answerable)
{
    cr_assert_geq(herd_lesson_count(), 20);
    for (size_t i = 0; i < herd_lesson_count(); i++) {
        const struct herd_lesson *l = herd_lesson_at(i);
        char canon[64], err[512], file[64];
        cr_assert_eq(herd_lesson_answer(l, l->answer, canon, sizeof canon, err, sizeof err), 0,
                     "%s: its answer '%s' does not read: %s", l->name, l->answer, err);
        cr_assert_str_eq(canon, l->answer, "%s: answer not canonical", l->name);
        cr_assert(herd_lesson_correct(l, canon));
        cr_assert_eq(herd_lesson_find(l->name), l);
        int idx[HERD_FLEET_MAX_CLAIMS], n, files = 0;
        struct herd_fleet_file *first = NULL;
        for (int e = 0; herd_lesson_evidence(l, e, file, sizeof file, idx, HERD_FLEET_MAX_CLAIMS,
                                             &n) == 0;
             e++, files++) {
            struct herd_fleet_file *f;
            load_guide(file, &f);
            for (int k = 0; k < n; k++)
                cr_assert(idx[k] >= 1 && idx[k] <= herd_fleet_file_nclaims(f),
                          "%s: %s has no claim %d", l->name, file, idx[k]);
            if (e == 0)
                first = f;
            else
                herd_fleet_file_free(f);
        }
        cr_assert_gt(files, 0, "%s: no evidence", l->name);
        const struct herd_fleet_file *v;
        int s;
        for (int c = 0; c < HERD_LESSON_CHOICES && l->choices[c].key; c++)
            if (l->choices[c].strategy)
                cr_assert_eq(herd_fleet_file_strategy(first, "lesson", l->choices[c].strategy, &v,
                                                      &s, err, sizeof err),
                             0, "%s: choice %s: %s", l->name, l->choices[c].key, err);
        if (l->versus)
            cr_assert_eq(herd_fleet_file_strategy(first, "lesson", l->versus, &v, &s, err,
                                                  sizeof err),
                         0, "%s: versus: %s", l->name, err);
        herd_fleet_file_free(first);
    }
}

Test(field_guide, lessons_cover_every_question)
{
    /* Seed 000's sections that ask the reader a question, in its order. */
    static const char *const asked[] = {
        "worse",         "accidental-sync", "lock-storm",       "matching",
        "spike-shape",   "bathtub",         "root-synchronizer", "decision-game",
        "double-capacity", "recovery",      "coalescing-price", "serve-stale",
        "watch-vs-poll", "leader",          "token-jitter",     "tls",
        "cascade",       "no-stale",        "pr-review",        "detect",
        "global-sync",   "hot-keys",        "checkout",         "hedging",
        "feature-flags", NULL};
    for (int i = 0; asked[i]; i++)
        cr_assert_not_null(herd_lesson_find(asked[i]), "no lesson %s", asked[i]);
}

Test(field_guide, answers_read_and_refused)
{
    const struct herd_lesson *dg = herd_lesson_find("decision-game");
    const struct herd_lesson *m = herd_lesson_find("matching");
    const struct herd_lesson *rs = herd_lesson_find("root-synchronizer");
    char c[64], err[256];
    cr_assert_eq(herd_lesson_answer(dg, "c + b", c, sizeof c, err, sizeof err), 0);
    cr_assert_str_eq(c, "B+C");
    cr_assert_eq(herd_lesson_answer(dg, "cb", c, sizeof c, err, sizeof err), 0);
    cr_assert_str_eq(c, "B+C");
    cr_assert_eq(herd_lesson_answer(m, "c b a", c, sizeof c, err, sizeof err), 0);
    cr_assert_str_eq(c, "C,B,A");
    cr_assert_not(herd_lesson_correct(m, c));
    cr_assert_eq(herd_lesson_answer(rs, "A+B", c, sizeof c, err, sizeof err), -1);
    cr_assert(strstr(err, "takes one of A, B, C"), "%s", err);
    cr_assert_eq(herd_lesson_answer(rs, "", c, sizeof c, err, sizeof err), -1);
    cr_assert(strstr(err, "nothing picked"), "%s", err);
    cr_assert_eq(herd_lesson_answer(rs, "B!", c, sizeof c, err, sizeof err), -1);
    cr_assert_eq(herd_lesson_answer(m, "A,B,C,A", c, sizeof c, err, sizeof err), -1);
    cr_assert_eq(herd_lesson_answer(dg, "Z", c, sizeof c, err, sizeof err), -1);
    cr_assert(strstr(err, "'Z' is not a choice"), "%s", err);
}
