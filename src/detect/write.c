/* write.c — herd detect's report: text for a terminal (100 columns), JSON for tools.
 * Keys appear by fingerprint only (16 hex digits of SipHash-2-4 under this process's
 * secret), never as text: the input's keys were dropped when they were read. */
#include "detect.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>

static const char *verdict(const struct herd_detect_result *r)
{
    return r->herd ? "herd" : "organic";
}

int herd_detect_write_text(FILE *f, const struct herd_detect_result *r)
{
    double span = (double)(r->hi_ns - r->lo_ns) / 1e9;
    fprintf(f, "verdict       %s (confidence %.2f)\n", verdict(r), r->confidence);
    if (r->herd)
        fprintf(f, "synchronizer  %s (evidence %.2f): %s\n", herd_detect_sync_name(r->sync),
                r->sync_score, herd_detect_sync_what(r->sync));
    fprintf(f, "requests      %llu over %.6g s (%.4g/s), %u clients, %.1f %% failed\n",
            (unsigned long long)r->requests, span, r->mean_rps, r->clients, 100 * r->failed);
    for (int i = 0; i < 4; i++)
        if (r->evidence[i][0])
            fprintf(f, "%s %s\n", i == 0 ? "evidence     " : "             ", r->evidence[i]);
    if (r->nbursts) {
        fprintf(f, "\nbursts (%zu found, %.0f %% of requests; the %zu largest, in time order)\n",
                r->bursts_found, 100 * r->in_bursts, r->nbursts);
        fprintf(f, "  %12s %9s %10s %10s %8s %8s %7s %7s %7s\n", "onset_s", "requests", "rise_s",
                "width_s", "x_base", "clients", "failed", "retries", "top_key");
        for (size_t i = 0; i < r->nbursts; i++) {
            const struct herd_detect_burst *b = &r->bursts[i];
            char key[16] = "-";
            if (b->key_share > 0)
                snprintf(key, sizeof key, "%.0f%%", 100 * b->key_share);
            fprintf(f, "  %12.6f %9llu %10.3g %10.3g %8.3g %7.0f%% %6.0f%% %6.0f%% %7s%s\n",
                    (double)b->onset_ns / 1e9, (unsigned long long)b->requests, b->rise_s,
                    b->width_s, b->ratio, 100 * b->clients, 100 * b->failed, 100 * b->retries, key,
                    b->at_start ? "  (at the window's start)" : "");
        }
    }
    fprintf(f, "\nalignment     ");
    if (r->clients >= 2 && r->chi > 0)
        fprintf(f,
                "synchrony chi %.3f across %u clients at %.3g s bins (1: all together, "
                "%.3f: independent)\n",
                r->chi, r->clients, r->chi_scale_s, 1 / sqrt((double)r->clients));
    else
        fprintf(f, "no client ids (or no burst): not measured\n");
    fprintf(f, "periodicity   ");
    if (r->period_s > 0)
        fprintf(f, "bursts every %.4g s (spread %.1f %%)", r->period_s, 100 * r->period_spread);
    else
        fprintf(f, "fewer than 3 bursts");
    if (r->wall_period_s > 0)
        fprintf(f, "; on the wall clock's %.0f s boundaries (%.0f %%)", r->wall_period_s,
                100 * r->wall_aligned);
    fputc('\n', f);
    fprintf(f, "retries       ");
    if (r->retry_gaps >= 20)
        fprintf(f, "%llu requests follow a failure; modal gap %.4g s (%.0f %% within 15 %%)\n",
                (unsigned long long)r->retry_gaps, r->retry_gap_s, 100 * r->retry_regular);
    else
        fprintf(f, "%llu requests follow a failure (too few for a timeout)\n",
                (unsigned long long)r->retry_gaps);
    if (r->nhot) {
        fprintf(f, "\nhot keys (by fingerprint, of %llu keyed requests)\n",
                (unsigned long long)r->keyed);
        for (size_t i = 0; i < r->nhot; i++)
            fprintf(f, "  %016llx %10llu  %5.1f %%%s\n", (unsigned long long)r->hot[i].fp,
                    (unsigned long long)r->hot[i].count,
                    r->keyed ? 100.0 * (double)r->hot[i].count / (double)r->keyed : 0,
                    r->hot[i].error ? "  (an upper bound)" : "");
    }
    return ferror(f) ? -EIO : 0;
}

static json_t *num(double v)
{
    return json_real(isfinite(v) ? v : 0);
}

int herd_detect_write_json(FILE *f, const struct herd_detect_result *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "verdict", json_string(verdict(r)));
    json_object_set_new(o, "confidence", num(r->confidence));
    json_object_set_new(o, "synchronizer", json_string(herd_detect_sync_name(r->sync)));
    json_object_set_new(o, "synchronizer_score", num(r->sync_score));
    json_t *ev = json_array();
    for (int i = 0; i < 4; i++)
        if (r->evidence[i][0])
            json_array_append_new(ev, json_string(r->evidence[i]));
    json_object_set_new(o, "evidence", ev);
    json_object_set_new(o, "requests", json_integer((json_int_t)r->requests));
    json_object_set_new(o, "window_s",
                        json_pack("[f,f]", (double)r->lo_ns / 1e9, (double)r->hi_ns / 1e9));
    json_object_set_new(o, "mean_rps", num(r->mean_rps));
    json_object_set_new(o, "clients", json_integer(r->clients));
    json_object_set_new(o, "failed", num(r->failed));
    json_t *bs = json_array();
    for (size_t i = 0; i < r->nbursts; i++) {
        const struct herd_detect_burst *b = &r->bursts[i];
        char key[20] = "";
        if (b->key_share > 0)
            snprintf(key, sizeof key, "%016llx", (unsigned long long)b->top_key);
        json_t *j = json_pack("{s:f,s:f,s:f,s:f,s:I,s:f,s:f,s:f,s:f,s:f,s:b}", "onset_s",
                              (double)b->onset_ns / 1e9, "median_s", (double)b->median_ns / 1e9,
                              "rise_s", b->rise_s, "width_s", b->width_s, "requests",
                              (json_int_t)b->requests, "ratio", isfinite(b->ratio) ? b->ratio : 0,
                              "scale_s", b->scale_s, "clients", b->clients, "failed", b->failed,
                              "retries", b->retries, "at_start", b->at_start);
        if (key[0]) {
            json_object_set_new(j, "top_key", json_string(key));
            json_object_set_new(j, "top_key_share", num(b->key_share));
        }
        json_array_append_new(bs, j);
    }
    json_object_set_new(o, "bursts", bs);
    json_object_set_new(o, "bursts_found", json_integer((json_int_t)r->bursts_found));
    json_object_set_new(o, "in_bursts", num(r->in_bursts));
    json_object_set_new(o, "synchrony_chi", num(r->chi));
    json_object_set_new(o, "synchrony_scale_s", num(r->chi_scale_s));
    json_object_set_new(o, "period_s", num(r->period_s));
    json_object_set_new(o, "period_spread", num(r->period_spread));
    json_object_set_new(o, "wall_period_s", num(r->wall_period_s));
    json_object_set_new(o, "wall_aligned", num(r->wall_aligned));
    json_object_set_new(o, "retry_gap_s", num(r->retry_gap_s));
    json_object_set_new(o, "retry_regular", num(r->retry_regular));
    json_object_set_new(o, "retry_gaps", json_integer((json_int_t)r->retry_gaps));
    json_object_set_new(o, "error_after", num(r->error_after));
    json_t *hot = json_array();
    for (size_t i = 0; i < r->nhot; i++) {
        char fp[20];
        snprintf(fp, sizeof fp, "%016llx", (unsigned long long)r->hot[i].fp);
        json_array_append_new(hot, json_pack("{s:s,s:I,s:I}", "fingerprint", fp, "count",
                                             (json_int_t)r->hot[i].count, "error",
                                             (json_int_t)r->hot[i].error));
    }
    json_object_set_new(o, "hot_keys", hot);
    json_object_set_new(o, "keyed_requests", json_integer((json_int_t)r->keyed));
    int rc = json_dumpf(o, f, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    json_decref(o);
    fputc('\n', f);
    return rc < 0 || ferror(f) ? -EIO : 0;
}
