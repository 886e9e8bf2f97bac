/* test_provenance.c — a report's provenance on this machine: every field filled, the
 * start time ISO 8601 UTC, a command that a shell reproduces argument for argument, a
 * huge command cut safely and marked, and the JSON object's documented keys. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../src/report/provenance.h"

Test(provenance, fields_on_this_machine)
{
    struct herd_provenance p;
    herd_provenance_init(&p, "0.1.0", "herd run accept -n 100");
    cr_assert_eq(p.schema, HERD_REPORT_SCHEMA);
    cr_assert_eq(HERD_REPORT_SCHEMA, 2);
    cr_assert_str_eq(p.version, "0.1.0");
    cr_assert_str_eq(p.command, "herd run accept -n 100");
    cr_assert_not(p.command_truncated);
    cr_assert(strncmp(p.kernel, "Linux ", 6) == 0, "kernel: %s", p.kernel);
    cr_assert_gt(strlen(p.cpu_model), 0);
    cr_assert_str_neq(p.cpu_model, "unknown", "no CPU model in /proc/cpuinfo");
    cr_assert_gt(p.cpus, 0);
    cr_assert_str_eq(p.profile_path, "");
    cr_assert_eq(p.profile_measured_at, -1);
    cr_assert_eq(p.wall_ns, -1);
    cr_assert_eq(p.sim_ns, -1);
    cr_log_info("kernel: %s | cpu: %s x %d | start %s", p.kernel, p.cpu_model, p.cpus, p.start);

    herd_provenance_init(&p, NULL, NULL);
    cr_assert_str_eq(p.version, "unknown");
    cr_assert_str_eq(p.command, "");
}

/* Parse "YYYY-MM-DDTHH:MM:SS.mmmZ" strictly; @return Unix ms, or -1. */
static int64_t parse_iso(const char *s)
{
    struct tm tm = {0};
    int ms, used = 0;
    if (strlen(s) != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != '.' || s[23] != 'Z')
        return -1;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &used) != 7 ||
        used != 24)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

Test(provenance, start_time_is_iso8601_utc)
{
    struct herd_provenance p;
    struct timespec before, after;
    clock_gettime(CLOCK_REALTIME, &before);
    herd_provenance_init(&p, "x", "y");
    clock_gettime(CLOCK_REALTIME, &after);
    int64_t ms = parse_iso(p.start);
    cr_assert_geq(ms, 0, "not ISO 8601 UTC with ms: %s", p.start);
    int64_t lo = (int64_t)before.tv_sec * 1000 + before.tv_nsec / 1000000;
    int64_t hi = (int64_t)after.tv_sec * 1000 + after.tv_nsec / 1000000;
    cr_assert(ms >= lo && ms <= hi, "%s outside [%lld, %lld] ms", p.start, (long long)lo,
              (long long)hi);
    cr_assert_eq(p.start_unix_ns / 1000000, ms);

    char buf[HERD_PROV_TIME_MAX];
    cr_assert_eq(herd_provenance_format_time(0, buf), 0);
    cr_assert_str_eq(buf, "1970-01-01T00:00:00.000Z");
    cr_assert_eq(herd_provenance_format_time(1795426867999999999LL, buf), 0);
    cr_assert_str_eq(buf, "2026-11-23T09:41:07.999Z"); /* truncated, not rounded */
    cr_assert_eq(herd_provenance_format_time(-1, buf), 0);
    cr_assert_str_eq(buf, "1969-12-31T23:59:59.999Z");
    cr_assert_eq(herd_provenance_format_time(INT64_MAX, buf), 0); /* the end of int64 ns */
    cr_assert_str_eq(buf, "2262-04-11T23:47:16.854Z");
}

/* What sh makes of @p command: its words, NUL-separated, in @p out. @return the bytes. */
static size_t shell_words(const char *command, char *out, size_t cap)
{
    char script[HERD_PROV_COMMAND_MAX + 64];
    /* The first word is the program; the shell prints it and the rest as words. */
    snprintf(script, sizeof script, "set -- %s; for a; do printf '%%s\\0' \"$a\"; done", command);
    FILE *f;
    char tmpl[] = "/tmp/herd-prov-XXXXXX";
    int fd = mkstemp(tmpl);
    cr_assert_geq(fd, 0);
    FILE *sf = fdopen(fd, "w");
    fputs(script, sf);
    fclose(sf);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "sh %s", tmpl);
    f = popen(cmd, "r");
    cr_assert_not_null(f);
    size_t got = fread(out, 1, cap, f);
    cr_assert_eq(pclose(f), 0, "sh failed on: %s", command);
    remove(tmpl);
    return got;
}

Test(provenance, argv_quoted_so_a_shell_reproduces_it, .timeout = 10)
{
    char *argv[] = {"/usr/bin/herd",
                    "run",
                    "--set",
                    "key=a b",
                    "it's",
                    "",
                    "$HOME",
                    "`id`",
                    "*",
                    "tab\there",
                    "new\nline",
                    "caf\xc3\xa9",
                    "\\back",
                    "!bang",
                    "'",
                    "a=b",
                    "--x=1,2:3/4@5%6+7",
                    NULL};
    int argc = (int)(sizeof argv / sizeof argv[0]) - 1;
    struct herd_provenance p;
    herd_provenance_init(&p, "0.1.0", NULL);
    herd_provenance_set_argv(&p, argc, argv);
    cr_assert_not(p.command_truncated);
    cr_log_info("command: %s", p.command);
    /* Plain words stay plain; the others are single-quoted. */
    cr_assert(strncmp(p.command, "/usr/bin/herd run --set 'key=a b' 'it'\\''s' '' ", 46) == 0, "%s",
              p.command);
    cr_assert(strstr(p.command, " a=b --x=1,2:3/4@5%6+7") != NULL, "%s", p.command);

    char out[4096], expect[4096];
    size_t n = 0;
    for (int i = 0; i < argc; i++) {
        size_t len = strlen(argv[i]) + 1;
        memcpy(expect + n, argv[i], len);
        n += len;
    }
    size_t got = shell_words(p.command, out, sizeof out);
    cr_assert_eq(got, n, "sh made %zu bytes of words, want %zu: %s", got, n, p.command);
    cr_assert(memcmp(out, expect, n) == 0, "sh's words differ: %s", p.command);

    /* An '=' in the program word would make it an assignment. */
    char *assign[] = {"FOO=bar", "x"};
    herd_provenance_set_argv(&p, 2, assign);
    cr_assert_str_eq(p.command, "'FOO=bar' x");
}

Test(provenance, huge_command_is_cut_safely_and_marked)
{
    static char big[1 << 20];
    struct herd_provenance p;
    const size_t mark = strlen(HERD_PROV_TRUNC_MARK);

    /* Free text: cut at a character boundary, never inside "é". */
    for (size_t i = 0; i + 2 < sizeof big; i += 2)
        memcpy(big + i, "\xc3\xa9", 2);
    big[sizeof big - 1] = '\0';
    herd_provenance_init(&p, "0.1.0", big);
    cr_assert(p.command_truncated);
    size_t len = strlen(p.command);
    cr_assert_lt(len, sizeof p.command);
    cr_assert_str_eq(p.command + len - mark, HERD_PROV_TRUNC_MARK);
    cr_assert_eq((len - mark) % 2, 0, "cut inside a character");
    json_t *o = herd_provenance_to_json(&p);
    cr_assert_not_null(json_object_get(o, "command"), "invalid UTF-8 reached the JSON");
    cr_assert(json_is_true(json_object_get(o, "command_truncated")));
    json_decref(o);

    /* Exactly full fits without a mark; one byte more does not. */
    memset(big, 'a', sizeof p.command - 1);
    big[sizeof p.command - 1] = '\0';
    herd_provenance_set_command(&p, big);
    cr_assert_not(p.command_truncated);
    cr_assert_eq(strlen(p.command), sizeof p.command - 1);
    big[sizeof p.command - 1] = 'a';
    big[sizeof p.command] = '\0';
    herd_provenance_set_command(&p, big);
    cr_assert(p.command_truncated);

    /* argv: whole arguments are kept, then the mark; one huge argument goes entirely. */
    char *argv[] = {"herd", "run", "--set", big, "--runs", "3"};
    herd_provenance_set_argv(&p, 6, argv);
    cr_assert(p.command_truncated);
    cr_assert_str_eq(p.command, "herd run --set" HERD_PROV_TRUNC_MARK);
    char *many[600];
    for (int i = 0; i < 600; i++)
        many[i] = "word";
    herd_provenance_set_argv(&p, 600, many);
    cr_assert(p.command_truncated);
    len = strlen(p.command);
    cr_assert_lt(len, sizeof p.command);
    cr_assert_str_eq(p.command + len - mark, HERD_PROV_TRUNC_MARK);
    cr_assert_eq((len - mark + 1) % 5, 0, "a word was cut: %s", p.command);

    /* Invalid UTF-8 from argv becomes '?', so JSON accepts it. */
    char *bad[] = {"herd", "\xff\xfe", "ok"};
    herd_provenance_set_argv(&p, 3, bad);
    cr_assert_str_eq(p.command, "herd '\?\?' ok"); /* \? so as not to be a trigraph */
}

Test(provenance, json_has_the_documented_keys)
{
    static const char *const keys[] = {"schema", "herd_version",  "command", "command_truncated",
                                       "kernel", "cpu_model",     "cpus",    "profile",
                                       "start",  "start_unix_ns", "wall_ns", "sim_ns"};
    const size_t nkeys = sizeof keys / sizeof keys[0];
    struct herd_provenance p;
    herd_provenance_init(&p, "0.1.0", "herd run cache");

    json_t *o = herd_provenance_to_json(&p);
    cr_assert_not_null(o);
    cr_assert_eq(json_object_size(o), nkeys);
    for (size_t i = 0; i < nkeys; i++)
        cr_assert_not_null(json_object_get(o, keys[i]), "key %s missing", keys[i]);
    cr_assert_eq(json_integer_value(json_object_get(o, "schema")), HERD_REPORT_SCHEMA);
    cr_assert(json_is_null(json_object_get(o, "profile")));
    cr_assert(json_is_null(json_object_get(o, "wall_ns")));
    cr_assert(json_is_null(json_object_get(o, "sim_ns")));
    cr_assert_str_eq(json_string_value(json_object_get(o, "start")), p.start);
    json_decref(o);

    herd_provenance_set_profile(&p, "/home/u/.config/herd/profile.json", 1795426867);
    herd_provenance_set_end(&p, 1500000000, -1);
    o = herd_provenance_to_json(&p);
    json_t *prof = json_object_get(o, "profile");
    cr_assert(json_is_object(prof));
    cr_assert_str_eq(json_string_value(json_object_get(prof, "path")),
                     "/home/u/.config/herd/profile.json");
    cr_assert_str_eq(json_string_value(json_object_get(prof, "measured_at")),
                     "2026-11-23T09:41:07.000Z");
    cr_assert_eq(json_integer_value(json_object_get(o, "wall_ns")), 1500000000);
    cr_assert(json_is_null(json_object_get(o, "sim_ns")));
    json_decref(o);

    herd_provenance_set_profile(&p, "profile.json", -1);
    herd_provenance_set_end(&p, 2000, 60000000000LL);
    o = herd_provenance_to_json(&p);
    cr_assert(json_is_null(json_object_get(json_object_get(o, "profile"), "measured_at")));
    cr_assert_eq(json_integer_value(json_object_get(o, "sim_ns")), 60000000000LL);
    json_decref(o);
}

/* The CLI cuts its argv (herd_provenance_set_argv) and hands the runner the text, which
 * starts the report's provenance from it: the flag survives the hand-over (it used to come
 * out false beside a text ending in the mark). */
Test(provenance, a_cut_command_passed_on_as_text_stays_marked)
{
    static char big[HERD_PROV_COMMAND_MAX * 2];
    struct herd_provenance cli, run;
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char *argv[] = {"herd", "run", "--set", big};
    herd_provenance_init(&cli, "0.1.0", NULL);
    herd_provenance_set_argv(&cli, 4, argv);
    cr_assert(cli.command_truncated);
    herd_provenance_init(&run, "0.1.0", cli.command);
    cr_assert(run.command_truncated, "%s", run.command);
    cr_assert_str_eq(run.command, cli.command);
    json_t *o = herd_provenance_to_json(&run);
    cr_assert(json_is_true(json_object_get(o, "command_truncated")));
    json_decref(o);

    /* Not even the first argument fitted: the mark without its space. */
    char *one[] = {big};
    herd_provenance_set_argv(&cli, 1, one);
    cr_assert(cli.command_truncated);
    herd_provenance_set_command(&run, cli.command);
    cr_assert(run.command_truncated, "%s", run.command);

    /* A whole command stays unmarked, the mark's words elsewhere in it too. */
    herd_provenance_set_command(&run, "herd run accept --set 'x=... [truncated]' -n 5");
    cr_assert_not(run.command_truncated);
}
