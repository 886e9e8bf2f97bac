/* test_detect.c — herd detect (src/detect): its readers (CSV with and without a header,
 * JSON lines, ISO 8601 and HTTP codes, a Prometheus query_range as a rate and as a
 * counter), their refusals naming the line and the field, keys known by fingerprint only,
 * determinism, and the validation bound on herd's own small traces: >= 95 % of herd traces
 * called a herd with a right synchronizer, no organic trace called a herd (<= 1 %).
 * The full set (>= 200 traces of each kind) is bench/bench_detect.c's. */
#include <criterion/criterion.h>
#include <herd/error.h>
#include <stdio.h>
#include <string.h>

#include "traces.h"

static int read_text(const char *text, struct herd_detect_input *in, char *err, size_t errlen)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    cr_assert_not_null(f);
    herd_detect_input_init(in);
    int rc = herd_detect_read(f, "in", in, err, errlen);
    fclose(f);
    return rc;
}

Test(detect, csv_jsonl_and_their_fields)
{
    struct herd_detect_input in;
    char err[512] = "";
    cr_assert_eq(read_text("# a comment\nstatus,key,time,client\n200,user:1,1.5,a\n"
                           "503,user:2,2.25,b\ntimeout,,3,a\n# window_s 0 10\n",
                           &in, err, sizeof err),
                 0, "%s", err);
    cr_assert_eq(in.n, 3);
    cr_assert_eq(in.rec[0].t_ns, 1500000000);
    cr_assert_eq(in.rec[1].status, HERD_DETECT_REJECTED);
    cr_assert_eq(in.rec[2].status, HERD_DETECT_TIMEOUT);
    cr_assert_eq(in.clients, 2);
    cr_assert(in.has_keys && in.has_status && in.has_window);
    cr_assert_eq(in.win_hi, 10000000000);
    cr_assert_eq(in.rec[0].key_fp, herd_hotkeys_fingerprint(in.hot, "user:1", 6));
    cr_assert_not(in.rec[2].has_key);
    herd_detect_input_fini(&in);

    /* No header: time,client,key,status; ISO 8601 with an offset. */
    cr_assert_eq(read_text("2026-12-07T09:00:00.250+01:00,h1,k,miss\n", &in, err, sizeof err), 0,
                 "%s", err);
    cr_assert_eq(in.rec[0].t_ns, INT64_C(1796634000250000000) - INT64_C(3600000000000));
    cr_assert_eq(in.rec[0].status, HERD_DETECT_MISS);
    herd_detect_input_fini(&in);

    cr_assert_eq(read_text("{\"time\": 1.25, \"client\": 7, \"key\": \"k\", \"status\": 500}\n"
                           "\n{\"time\": \"2.5\"}\n",
                           &in, err, sizeof err),
                 0, "%s", err);
    cr_assert_eq(in.n, 2);
    cr_assert_eq(in.rec[0].status, HERD_DETECT_ERROR);
    cr_assert_eq(in.rec[1].t_ns, 2500000000);
    cr_assert_eq(in.rec[1].client, UINT32_MAX);
    herd_detect_input_fini(&in);
}

Test(detect, refusals_name_the_line_and_the_field)
{
    struct herd_detect_input in;
    char err[512];
    cr_assert_eq(read_text("time,status\n1,ok\n2,teapot\n", &in, err, sizeof err), -HERD_EINVAL);
    cr_assert(strstr(err, "in:3: field 'status'"), "%s", err);
    herd_detect_input_fini(&in);
    cr_assert_eq(read_text("time\n1\n\nyesterday\n", &in, err, sizeof err), -HERD_EINVAL);
    cr_assert(strstr(err, "in:4: field 'time'"), "%s", err);
    herd_detect_input_fini(&in);
    cr_assert_eq(read_text("when,who\n1,a\n", &in, err, sizeof err), -HERD_EINVAL);
    cr_assert(strstr(err, "in:1: no time column"), "%s", err);
    herd_detect_input_fini(&in);
    cr_assert_eq(read_text("{\"time\": 1}\n{\"time\": }\n", &in, err, sizeof err), -HERD_EINVAL);
    cr_assert(strstr(err, "in:2: not JSON"), "%s", err);
    herd_detect_input_fini(&in);
    cr_assert_eq(read_text("{\"client\": 1}\n", &in, err, sizeof err), -HERD_EINVAL);
    cr_assert(strstr(err, "in:1: field 'time': missing"), "%s", err);
    herd_detect_input_fini(&in);
    cr_assert_eq(read_text("# nothing\n", &in, err, sizeof err), -HERD_EINVAL);
    cr_assert(strstr(err, "no records"), "%s", err);
    herd_detect_input_fini(&in);
    cr_assert_eq(
        read_text("{\"status\":\"success\",\"data\":{\"result\":[{\"values\":[[1,\"x\"]]}]}}", &in,
                  err, sizeof err),
        -HERD_EINVAL);
    cr_assert(strstr(err, "values[0]"), "%s", err);
    herd_detect_input_fini(&in);
}

/* A Prometheus query_range document of one series: @p n samples every 15 s from t = 0, a
 * base of @p base and @p spike at sample @p at; a counter when @p counter. */
static char *prometheus(int n, double base, double spike, int at, bool counter)
{
    static char buf[1 << 16];
    size_t off = (size_t)snprintf(buf, sizeof buf,
                                  "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
                                  "\"result\":[{\"metric\":{\"__name__\":\"%s\"},\"values\":[",
                                  counter ? "http_requests_total" : "rate");
    double acc = 0;
    for (int i = 0; i < n; i++) {
        double v = i == at ? spike : base + (i % 3); /* a little wobble */
        acc += v * 15;
        off += (size_t)snprintf(buf + off, sizeof buf - off, "%s[%d,\"%.3f\"]", i ? "," : "",
                                1796630400 + 15 * i, counter ? acc : v);
    }
    snprintf(buf + off, sizeof buf - off, "]}]}}");
    return buf;
}

Test(detect, prometheus_rate_and_counter)
{
    for (int counter = 0; counter <= 1; counter++) {
        struct herd_detect_input in;
        struct herd_detect_result res;
        char err[512] = "";
        cr_assert_eq(read_text(prometheus(240, 100, 100, -1, counter), &in, err, sizeof err), 0,
                     "%s", err);
        cr_assert(in.series);
        cr_assert_eq(in.step_ns, 15000000000);
        cr_assert_eq(herd_detect_run(&in, &res), 0);
        cr_assert_not(res.herd, "a flat series is organic (counter %d)", counter);
        herd_detect_input_fini(&in);
        /* One step at 40x the rate, on a minute boundary (sample 200 is at a :00). */
        cr_assert_eq(read_text(prometheus(240, 100, 4000, 200, counter), &in, err, sizeof err), 0);
        cr_assert_eq(herd_detect_run(&in, &res), 0);
        cr_assert(res.herd, "a 40x step is a herd (counter %d)", counter);
        cr_assert_eq(res.sync, HERD_DETECT_SYNC_CRON, "got %s", herd_detect_sync_name(res.sync));
        herd_detect_input_fini(&in);
    }
}

Test(detect, hot_keys_by_fingerprint_and_determinism)
{
    /* 40 clients each asking the hot key at a 60 s boundary, over Poisson traffic. */
    struct herd_detect_input a, b;
    struct herd_detect_result ra, rb;
    struct herd_rng rng;
    herd_detect_input_init(&a);
    herd_detect_input_init(&b);
    herd_rng_seed(&rng, 3);
    double t = 0;
    while (t < 180) {
        t += herd_rng_exp(&rng, 0.05);
        char k[16];
        int len = snprintf(k, sizeof k, "u%llu", (unsigned long long)herd_rng_below(&rng, 500));
        int64_t c = (int64_t)herd_rng_below(&rng, 400);
        cr_assert_eq(herd_detect_add(&a, (int64_t)(t * 1e9), c, k, (size_t)len, HERD_DETECT_OK), 0);
        cr_assert_eq(herd_detect_add(&b, (int64_t)(t * 1e9), c, k, (size_t)len, HERD_DETECT_OK), 0);
    }
    for (int i = 0; i < 400; i++) {
        int64_t at = (int64_t)(120e9 + herd_rng_uniform(&rng) * 4e6);
        cr_assert_eq(herd_detect_add(&a, at, 1000 + i, "user:123", 8, HERD_DETECT_MISS), 0);
        cr_assert_eq(herd_detect_add(&b, at, 1000 + i, "user:123", 8, HERD_DETECT_MISS), 0);
    }
    cr_assert_eq(herd_detect_run(&a, &ra), 0);
    cr_assert_eq(herd_detect_run(&b, &rb), 0);
    cr_assert(ra.herd);
    cr_assert_eq(ra.sync, HERD_DETECT_SYNC_TTL, "got %s", herd_detect_sync_name(ra.sync));
    cr_assert_geq(ra.nhot, 1);
    cr_assert_eq(ra.hot[0].fp, herd_hotkeys_fingerprint(a.hot, "user:123", 8));
    /* the same records in the same order: the same report, figure for figure */
    cr_assert_eq(ra.nbursts, rb.nbursts);
    cr_assert_eq(ra.bursts[0].onset_ns, rb.bursts[0].onset_ns);
    cr_assert_eq(ra.bursts[0].requests, rb.bursts[0].requests);
    cr_assert_eq(ra.chi, rb.chi);
    cr_assert_eq(ra.sync, rb.sync);
    cr_assert_eq(ra.confidence, rb.confidence);
    /* The report's text holds fingerprints, never the key. */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    herd_detect_write_text(f, &ra);
    herd_detect_write_json(f, &ra);
    fclose(f);
    cr_assert_null(strstr(text, "user:123"));
    char fp[20];
    snprintf(fp, sizeof fp, "%016llx", (unsigned long long)ra.hot[0].fp);
    cr_assert_not_null(strstr(text, fp));
    free(text);
    herd_detect_input_fini(&a);
    herd_detect_input_fini(&b);
}

/* Small traces of herd scenarios (each a few hundred ms to run under ASan at most). */
static const struct trace_case herds[] = {
    {"accept", 100, 30, {NULL}, SYNC(BROADCAST), 1},
    {"condvar", 100, 30, {NULL}, SYNC(BROADCAST), 1},
    {"cache", 50, 4, {NULL}, SYNC(TTL), 1},
    {"cron", 200, 3, {NULL}, SYNC(CRON), 1},
    {"scenarios/field-guide/lock-storm.yaml", 0, 0, {NULL}, SYNC(RETRY), 1},
    {"scenarios/brooker-collapse-ramp.yaml", 0, 0, {NULL}, SYNC(RETRY), 1},
};

static const struct trace_case organic[] = {
    {"tests/detect/organic-poisson.yaml", 0, 0, {NULL}, 0, 1},
    {"tests/detect/organic-diurnal.yaml", 0, 0, {NULL}, 0, 1},
    {"tests/detect/organic-retries.yaml", 0, 0, {NULL}, 0, 1},
};

Test(detect, herd_and_organic_traces_bound, .timeout = 300)
{
    int total = 0, right = 0, otot = 0, oherd = 0;
    for (size_t i = 0; i < sizeof herds / sizeof herds[0]; i++)
        for (uint64_t seed = 1; seed <= 4; seed++) {
            struct herd_detect_input in;
            struct herd_detect_result res;
            char err[512] = "";
            herd_detect_input_init(&in);
            cr_assert_eq(trace_run(&herds[i], HERD_SOURCE_ROOT, seed, &in, err, sizeof err), 0,
                         "%s: %s", herds[i].name, err);
            cr_assert_eq(herd_detect_run(&in, &res), 0);
            total++;
            bool ok = res.herd && (herds[i].expect & (1u << res.sync));
            right += ok;
            if (!ok)
                cr_log_info("%s seed %llu: %s %s", herds[i].name, (unsigned long long)seed,
                            res.herd ? "herd" : "organic", herd_detect_sync_name(res.sync));
            herd_detect_input_fini(&in);
        }
    for (size_t i = 0; i < sizeof organic / sizeof organic[0]; i++)
        for (uint64_t seed = 1; seed <= 12; seed++) {
            struct herd_detect_input in;
            struct herd_detect_result res;
            char err[512] = "";
            herd_detect_input_init(&in);
            cr_assert_eq(trace_run(&organic[i], HERD_SOURCE_ROOT, seed, &in, err, sizeof err), 0,
                         "%s: %s", organic[i].name, err);
            cr_assert_eq(herd_detect_run(&in, &res), 0);
            otot++;
            oherd += res.herd;
            herd_detect_input_fini(&in);
        }
    cr_assert_geq(right * 100, total * 95, "%d of %d herd traces with a right synchronizer", right,
                  total);
    cr_assert_leq(oherd * 100, otot * 1, "%d of %d organic traces called a herd", oherd, otot);
}
