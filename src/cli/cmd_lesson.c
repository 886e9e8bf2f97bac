/* cmd_lesson.c — `herd lesson [NAME]`: the field guide's questions (seed 000), each
 * settled by runs (scenario/lessons.h, front/lesson.h).
 *
 * Without a name: the lessons, a line each. With one: the section's setting and question
 * and its choices; the reader's pick (asked on a terminal, or --answer for scripts; none
 * when stdin is not a terminal: the answer is then shown without a verdict on a pick);
 * the runs that settle it; the guide's answer and why, with the figures just measured.
 * Exit 0, 1 when a claim the lesson cites fails (herd's answer does not hold), 2 on bad
 * input. */
#include "cli.h"

#include "../front/lesson.h"
#include "../scenario/lessons.h"

#include <getopt.h>
#include <herd/error.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char lesson_usage[] =
    "usage: herd lesson [NAME [--answer X] [--seed N] [--format text|json] [--out FILE]]\n"
    "\n"
    "The field guide (seed 000), question by question. Without NAME, lists the lessons.\n"
    "With NAME: the section's scenario and question; your pick (asked on a terminal, or\n"
    "--answer); the runs on the simulator that settle it (the claims of its files in\n"
    "scenarios/field-guide/, each choice that is a strategy measured pick by pick); the\n"
    "guide's answer with the figures just measured. Exits 1 when a claim it cites fails.\n"
    "\n"
    "  --answer X      your pick: a key (B), several (B+C) where the question allows, or one\n"
    "                  per trigger in order for the matching exercise (B,A,C)\n"
    "  --seed N        the runs' seed (default 1)\n"
    "  --format F      text (default) or json\n"
    "  --out FILE      write there instead of stdout (as curl -o)\n"
    "\n"
    "examples:\n"
    "  herd lesson\n"
    "  herd lesson root-synchronizer --answer B\n"
    "  herd lesson decision-game --answer A+D\n"
    "  herd lesson matching --answer B,A,C --format json\n";

static void list(FILE *out)
{
    fprintf(out, "the field guide's lessons (herd lesson NAME; seed 000, in its order):\n");
    const char *section = "";
    for (size_t i = 0; i < herd_lesson_count(); i++) {
        const struct herd_lesson *l = herd_lesson_at(i);
        if (strcmp(section, l->section) != 0)
            fprintf(out, "\n  %s\n", section = l->section);
        fprintf(out, "    %-18s %s\n", l->name, l->question);
    }
    fprintf(out, "\n%zu lessons; each runs its section's scenarios in scenarios/field-guide/\n",
            herd_lesson_count());
}

static void wrap(FILE *out, const char *indent, const char *text)
{
    int col = 0, width = 88;
    fputs(indent, out);
    col = (int)strlen(indent);
    for (const char *p = text; *p;) {
        const char *sp = strchr(p, ' ');
        int wl = sp ? (int)(sp - p) : (int)strlen(p);
        if (col > (int)strlen(indent) && col + 1 + wl > width) {
            fprintf(out, "\n%s", indent);
            col = (int)strlen(indent);
        } else if (col > (int)strlen(indent)) {
            fputc(' ', out);
            col++;
        }
        fprintf(out, "%.*s", wl, p);
        col += wl;
        p += wl;
        while (*p == ' ')
            p++;
    }
    fputc('\n', out);
}

static void print_question(FILE *out, const struct herd_lesson *l)
{
    fprintf(out, "%s — herd lesson %s\n\n", l->section, l->name);
    wrap(out, "", l->setting);
    fputc('\n', out);
    wrap(out, "", l->question);
    for (int i = 0; i < HERD_LESSON_ITEMS && l->items[i]; i++)
        fprintf(out, "  %d. %s\n", i + 1, l->items[i]);
    for (int i = 0; i < HERD_LESSON_CHOICES && l->choices[i].key; i++)
        fprintf(out, "  %s) %s\n", l->choices[i].key, l->choices[i].text);
    if (l->open)
        fprintf(out, "  (the guide asks this openly; the choices are herd's)\n");
}

static const char *num(json_t *v, char *buf, size_t len)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (!json_is_number(v))
        return "-";
    double x = json_number_value(v);
    if (x == (double)(int64_t)x && x < 1e9 && x > -1e9)
        snprintf(buf, len, "%" PRId64, (int64_t)x);
    else
        snprintf(buf, len, "%.4g", x);
    return buf;
}

static void print_result(FILE *out, const struct herd_lesson *l, json_t *o)
{
    json_t *pick = json_object_get(o, "pick");
    fputc('\n', out);
    if (json_is_string(pick))
        fprintf(out, "Your pick: %s — %s. The guide's answer: %s.\n", json_string_value(pick),
                json_is_true(json_object_get(o, "correct")) ? "right" : "not the guide's",
                l->answer);
    else
        fprintf(out, "The guide's answer: %s.\n", l->answer);
    wrap(out, "", l->because);
    char buf[64];
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(o, "evidence"), i, e)
    {
        fprintf(out, "\nMeasured just now: field-guide/%s (%s), seed %s\n",
                json_string_value(json_object_get(e, "file")),
                json_string_value(json_object_get(e, "summary")),
                num(json_object_get(o, "seed"), buf, sizeof buf));
        size_t k;
        json_t *c;
        json_array_foreach(json_object_get(e, "claims"), k, c)
        {
            fprintf(out, "  %s  %-10s %s\n", json_string_value(json_object_get(c, "verdict")),
                    num(json_object_get(c, "measured"), buf, sizeof buf),
                    json_string_value(json_object_get(c, "says")));
            fprintf(out, "                   (%s)\n",
                    json_string_value(json_object_get(c, "check")));
        }
    }
    json_t *picks = json_object_get(o, "picks"), *cols = json_object_get(picks, "columns");
    json_t *chart = json_object_get(o, "chart");
    fprintf(out, "\nPick by pick (field-guide/%s; the herd's resource: %s):\n",
            json_string_value(
                json_object_get(json_array_get(json_object_get(o, "evidence"), 0), "file")),
            json_is_string(json_object_get(chart, "component"))
                ? json_string_value(json_object_get(chart, "component"))
                : "-");
    fprintf(out, "  %-22s %-24s", "strategy", "choice");
    json_t *col;
    json_array_foreach(cols, i, col)
        fprintf(out, " %12s", json_string_value(json_object_get(col, "label")));
    fputc('\n', out);
    json_t *row;
    json_array_foreach(json_object_get(picks, "rows"), i, row)
    {
        fprintf(out, "  %-22s %-24s", json_string_value(json_object_get(row, "strategy")),
                json_string_value(json_object_get(row, "choices")));
        size_t k;
        json_array_foreach(cols, k, col)
        {
            json_t *v = json_object_get(json_object_get(row, "figures"),
                                        json_string_value(json_object_get(col, "figure")));
            fprintf(out, " %12s", num(v, buf, sizeof buf));
        }
        fputc('\n', out);
    }
    if (l->tries[0]) {
        fprintf(out, "\nTry this:\n");
        for (int t = 0; t < HERD_LESSON_TRIES && l->tries[t]; t++)
            fprintf(out, "  %s\n", l->tries[t]);
    }
    json_int_t failed = json_integer_value(json_object_get(o, "claims_failed"));
    if (failed)
        fprintf(out,
                "\n%" JSON_INTEGER_FORMAT " claim%s FAILED: herd's evidence does not "
                "hold at this seed\n",
                failed, failed == 1 ? "" : "s");
}

/* Ask for a pick on the terminal; @return HERD_EXIT_OK with @p canon filled (or empty when
 * the reader just pressed Enter), HERD_EXIT_USAGE on end of input. */
static int ask(const struct herd_lesson *l, char *canon, size_t len)
{
    char line[128], err[256];
    for (;;) {
        fprintf(stderr, "\nyour answer (%s; Enter to just see it): ",
                l->items[0] ? "one per trigger, e.g. A,B,C"
                : l->multi  ? "one or more, e.g. A+B"
                            : "one");
        fflush(stderr);
        if (!fgets(line, sizeof line, stdin))
            return HERD_EXIT_USAGE;
        line[strcspn(line, "\n")] = '\0';
        if (!line[0]) {
            canon[0] = '\0';
            return HERD_EXIT_OK;
        }
        if (herd_lesson_answer(l, line, canon, len, err, sizeof err) == 0)
            return HERD_EXIT_OK;
        fprintf(stderr, "%s\n", err + (strncmp(err, "--answer: ", 10) == 0 ? 10 : 0));
    }
}

int herd_cmd_lesson(int argc, char **argv)
{
    static const struct option opts[] = {
        {"answer", required_argument, NULL, 'a'}, {"seed", required_argument, NULL, 's'},
        {"format", required_argument, NULL, 'f'}, {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    uint64_t seed = 1;
    const char *format = "text", *answer = NULL, *outpath = NULL;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
        switch (c) {
        case 'a':
            answer = optarg;
            break;
        case 's':
            if (herd__cli_seed(optarg, &seed) != HERD_EXIT_OK)
                return HERD_EXIT_USAGE;
            break;
        case 'f':
            format = optarg;
            break;
        case 'o':
            outpath = optarg;
            break;
        case 'h':
            fputs(lesson_usage, stdout);
            return HERD_EXIT_OK;
        default:
            return HERD_EXIT_USAGE;
        }
    }
    bool json = strcmp(format, "json") == 0;
    if (!json && strcmp(format, "text") != 0)
        return herd__usage_error("--format: '%s' is not allowed; allowed: text, json", format);
    if (argc - optind > 1)
        return herd__usage_error("lesson: one NAME at a time ('%s' is extra)", argv[optind + 1]);
    const struct herd_lesson *l = NULL;
    if (optind < argc && !(l = herd_lesson_find(argv[optind]))) {
        char names[2048];
        size_t o = 0;
        for (size_t i = 0; i < herd_lesson_count() && o < sizeof names; i++)
            o += (size_t)snprintf(names + o, sizeof names - o, "%s%s", i ? ", " : "",
                                  herd_lesson_at(i)->name);
        return herd__usage_error("lesson: unknown lesson '%s'; allowed: %s", argv[optind], names);
    }
    if (!l && answer)
        return herd__usage_error("--answer: needs a lesson NAME (herd lesson lists them)");
    char canon[64] = "", err[1024];
    if (l && answer && herd_lesson_answer(l, answer, canon, sizeof canon, err, sizeof err) < 0)
        return herd__usage_error("%s", err);

    struct herd_cli_out out;
    int rc = herd__cli_out_open(&out, "--out", outpath);
    if (rc != HERD_EXIT_OK)
        return rc;
    if (!l) {
        if (json) {
            json_t *a = json_array();
            for (size_t i = 0; i < herd_lesson_count(); i++)
                json_array_append_new(a, herd_lesson_json(herd_lesson_at(i)));
            char *s = json_dumps(a, JSON_INDENT(2));
            fprintf(out.f, "%s\n", s ? s : "[]");
            free(s);
            json_decref(a);
        } else {
            list(out.f);
        }
    } else {
        if (!json)
            print_question(out.f, l);
        if (!answer && !json && isatty(STDIN_FILENO)) {
            fflush(out.f);
            if (out.kind == HERD_OUT_STDOUT && (rc = ask(l, canon, sizeof canon)) != HERD_EXIT_OK) {
                herd__cli_out_abort(&out);
                return herd__usage_error("lesson: no answer read");
            }
        }
        fprintf(stderr,
                "herd: running the evidence of lesson %s on the simulator (seed %" PRIu64 ") ...\n",
                l->name, seed);
        json_t *o = herd_lesson_run(l, canon[0] ? canon : NULL, seed, err, sizeof err);
        if (!o) {
            herd__cli_out_abort(&out);
            return herd__fail("lesson %s: %s", l->name, err);
        }
        if (json) {
            char *s = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
            fprintf(out.f, "%s\n", s ? s : "{}");
            free(s);
        } else {
            print_result(out.f, l, o);
        }
        if (json_integer_value(json_object_get(o, "claims_failed")) > 0)
            rc = HERD_EXIT_FAIL;
        json_decref(o);
    }
    if (herd__cli_out_commit(&out) < 0)
        return herd__fail("--out: cannot write '%s'", outpath ? outpath : "-");
    return rc;
}
