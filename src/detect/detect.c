/* detect.c — bursts, alignment, periodicity, retries, the synchronizer; see detect.h.
 *
 * Bursts. For each time scale w in 10 us, 100 us, ... 1000 s (a Prometheus series: from
 * its step) that gives 65 to 4 M bins over the window, the records are binned; mu is the
 * mean count of the 64 bins around a bin, the bin and its two neighbours left out (so a
 * burst does not raise its own baseline). A bin is a burst bin when its count c >= 8, the
 * Poisson tail P(X >= c | mu) is below 10^-3 / bins by the Chernoff bound
 * ln P <= c - mu - c·ln(c/mu) (mu at least 0.1) — an independent arrival process almost
 * never does that anywhere in the trace — and c >= 5x the quiet level around it: the lower
 * quartile of its 16 nearest bins, at least mu / 4 (a train of bursts has quiet bins
 * between them that its mean hides; organic traffic rises and falls by less than 5x
 * between neighbouring windows: a diurnal curve, a slow ramp, a 2x load step all stay
 * below it). Adjacent burst bins merge; finds at several scales that overlap are one
 * cluster, described at the finest scale whose finds hold half the excess of its best
 * find (a train of sharp bursts stays a train), each find measured on its records. A burst
 * must hold requests of at least 5 distinct clients when clients are known: one client's
 * batch is not a herd. A retry storm is a burst of its own: >= 25 % of a span's requests
 * follow a failure of their client by a regular gap (one to five sharp modes hold >= 30 %
 * of the gaps) and its rate is >= 1.5x the rate before it; retries after constant
 * timeouts replay the failures' own arrivals later, a step more than a spike. Gaps under
 * 10 ms are immediate retries (amplification, not a timer).
 *
 * Synchronizer rules (the first that holds; the evidence sentences say which and why):
 *   1. retries lead: the gaps are regular (>= 30 % near one to five sharp modes) and the
 *      first burst is mostly retries, or a retry storm came first, or >= 60 % of the
 *      bursts' requests are retries, or >= 90 % of the requests from the first burst on
 *      failed (the last two unless the first burst is the whole fleet at one instant) —
 *      and the gap is under 30 s (longer, it is a schedule's next run: a job that lost its
 *      lock tries again at the next boundary) -> leader-change when >= 50 % of the
 *      requests from the first burst on are answered "error" (nobody to answer), else
 *      retry-timeout;
 *   2. keys are known and they are cache misses, or one key holds >= 50 % of the largest
 *      burst -> ttl-expiry;
 *   3. the bursts' medians sit on a round wall-clock period (>= 80 % of them within their
 *      width or 2 ms, bursts at the window's start not judged) -> cron-boundary;
 *   4. the first burst is >= 90 % of all clients within 100 ms, after no failure, not at
 *      the window's start, and what follows is retries or nothing as large -> deploy-restart;
 *   5. two or more bursts, 80 % of them under 10 ms and failing nothing, the largest
 *      holding half of all clients -> broadcast-wake;
 *   6. bursts recur with a steady period (spread <= 10 %) -> ttl-expiry (an expiry or
 *      refresh period no wall clock explains);
 *   7. otherwise: keys known -> ttl-expiry (the cache emptied at once: a flush); else
 *      deploy-restart (the fleet (re)connected at once).
 * Cost: O(n log n) sort, O(n + bins) per scale. Thread safety: see detect.h.
 */
#include "detect.h"

#include <herd/error.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define NS 1e9
#define MIN_COUNT 8
#define MIN_RATIO 5.0
#define MIN_CLIENTS 5
#define HALF_WINDOW 32
#define NEAR 8 /* the quiet level: the lower quartile of the 16 nearest bins */
#define ALPHA 1e-3
#define MAX_BINS (1u << 22)

static const char *const sync_names[] = {
#define HERD__DETECT_SYNC_NAME(name, word, what) word,
    HERD_DETECT_SYNC_MAP(HERD__DETECT_SYNC_NAME)
#undef HERD__DETECT_SYNC_NAME
};
static const char *const sync_whats[] = {
#define HERD__DETECT_SYNC_WHAT(name, word, what) what,
    HERD_DETECT_SYNC_MAP(HERD__DETECT_SYNC_WHAT)
#undef HERD__DETECT_SYNC_WHAT
};

const char *herd_detect_sync_name(enum herd_detect_sync s)
{
    return (unsigned)s < HERD_DETECT_SYNC_COUNT ? sync_names[s] : "?";
}

const char *herd_detect_sync_what(enum herd_detect_sync s)
{
    return (unsigned)s < HERD_DETECT_SYNC_COUNT ? sync_whats[s] : "?";
}

static inline uint64_t weight(const struct herd_detect_input *in, size_t i)
{
    return in->weights ? in->weights[i] : 1;
}

static inline bool failed(uint8_t st)
{
    return st == HERD_DETECT_ERROR || st == HERD_DETECT_TIMEOUT || st == HERD_DETECT_REJECTED;
}

static int cmp_rec(const void *a, const void *b)
{
    const struct herd_detect_record *x = a, *y = b;
    if (x->t_ns != y->t_ns)
        return (x->t_ns > y->t_ns) - (x->t_ns < y->t_ns);
    return (x->client > y->client) - (x->client < y->client);
}

/* First record with t >= @p t. */
static size_t lower_bound(const struct herd_detect_input *in, int64_t t)
{
    size_t lo = 0, hi = in->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (in->rec[mid].t_ns < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* A burst found at one scale. */
struct cand {
    int64_t a, b; /* [a, b) in ns */
    int64_t scale;
    double peak, mu; /* the peak bin's count and baseline */
    double excess;   /* requests above baseline over the find */
};

struct cands {
    struct cand *c;
    size_t n, cap;
};

static int cand_push(struct cands *cs, const struct cand *c)
{
    if (cs->n == cs->cap) {
        size_t ncap = cs->cap ? cs->cap * 2 : 64;
        struct cand *p = realloc(cs->c, ncap * sizeof *p);
        if (!p)
            return -HERD_ENOMEM;
        cs->c = p;
        cs->cap = ncap;
    }
    cs->c[cs->n++] = *c;
    return 0;
}

/* ln P(X >= c) for X ~ Poisson(mu), by the Chernoff bound (c > mu). */
static double ln_tail(double c, double mu)
{
    if (mu < 0.1)
        mu = 0.1;
    if (c <= mu)
        return 0;
    return c - mu - c * log(c / mu);
}

/* The k-th smallest of @p v[0..n) (quickselect; reorders @p v). */
static double select_k(double *v, int n, int k)
{
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = v[(lo + hi) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                double t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return v[k];
    }
    return v[k];
}

static int scan_scale(const struct herd_detect_input *in, int64_t lo, int64_t hi, int64_t w,
                      struct cands *cs)
{
    uint64_t nb = (uint64_t)((hi - lo) / w) + 1;
    if (nb < 2 * HALF_WINDOW + 1 || nb > MAX_BINS) /* fewer: no neighbourhood to judge by */
        return 0;
    double *cnt = calloc(nb, sizeof *cnt);
    double *pre = malloc((nb + 1) * sizeof *pre);
    if (!cnt || !pre) {
        free(cnt);
        free(pre);
        return -HERD_ENOMEM;
    }
    for (size_t i = 0; i < in->n; i++) {
        int64_t t = in->rec[i].t_ns;
        if (t < lo || t > hi)
            continue;
        cnt[(t - lo) / w] += (double)weight(in, i);
    }
    pre[0] = 0;
    for (uint64_t b = 0; b < nb; b++)
        pre[b + 1] = pre[b] + cnt[b];
    double thr = log(ALPHA / (double)nb);
    int rc = 0;
    bool open = false;
    struct cand cur = {0};
    for (uint64_t b = 0; b < nb; b++) {
        uint64_t wl = b >= HALF_WINDOW ? b - HALF_WINDOW : 0;
        uint64_t wh = b + HALF_WINDOW < nb ? b + HALF_WINDOW : nb - 1;
        uint64_t el = b >= 1 ? b - 1 : 0, eh = b + 1 < nb ? b + 1 : nb - 1;
        double sum = pre[wh + 1] - pre[wl] - (pre[eh + 1] - pre[el]);
        double bins = (double)(wh - wl + 1) - (double)(eh - el + 1);
        double mu = bins > 0 ? sum / bins : 0;
        double c = cnt[b];
        bool hot = c >= MIN_COUNT && c >= MIN_RATIO * mu / 4 && ln_tail(c, mu) < thr;
        if (hot) {
            /* The ratio against the quiet level around it: the lower quartile of the
             * neighbours (a train of bursts has quiet bins between them that its mean
             * hides), at least a quarter of their mean. */
            double nbv[2 * NEAR + 1];
            int k = 0;
            uint64_t nl = b >= NEAR ? b - NEAR : 0, nh = b + NEAR < nb ? b + NEAR : nb - 1;
            for (uint64_t q = nl; q <= nh; q++)
                if (q < el || q > eh)
                    nbv[k++] = cnt[q];
            double base = mu / 4;
            if (k > 0) {
                double q25 = select_k(nbv, k, k / 4);
                if (q25 > base)
                    base = q25;
            }
            hot = c >= MIN_RATIO * base;
            mu = base;
        }
        if (hot) {
            if (!open) {
                cur = (struct cand){.a = lo + (int64_t)b * w, .scale = w};
                open = true;
            }
            cur.b = lo + (int64_t)(b + 1) * w;
            cur.excess += c - mu;
            if (c > cur.peak) {
                cur.peak = c;
                cur.mu = mu;
            }
        } else if (open && !(b + 1 < nb && cnt[b + 1] >= MIN_COUNT && cnt[b] >= MIN_RATIO * mu)) {
            /* A one-bin dip inside a burst does not split it when the next bin is hot
             * again by count and this one still stands above the baseline. */
            if ((rc = cand_push(cs, &cur)) < 0)
                break;
            open = false;
        } else if (open) {
            cur.b = lo + (int64_t)(b + 1) * w;
            cur.excess += c - mu;
        }
    }
    if (rc == 0 && open)
        rc = cand_push(cs, &cur);
    free(cnt);
    free(pre);
    return rc;
}

static int cmp_cand(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    return (x->a > y->a) - (x->a < y->a);
}

static int cmp_burst_time(const void *a, const void *b)
{
    const struct herd_detect_burst *x = a, *y = b;
    return (x->onset_ns > y->onset_ns) - (x->onset_ns < y->onset_ns);
}

/* The time by which share @p q of the weight in records [i0, i1) has arrived. */
static int64_t quantile(const struct herd_detect_input *in, size_t i0, size_t i1, double total,
                        double q)
{
    double acc = 0, want = q * total;
    for (size_t i = i0; i < i1; i++) {
        acc += (double)weight(in, i);
        if (acc >= want)
            return in->rec[i].t_ns;
    }
    return i1 > i0 ? in->rec[i1 - 1].t_ns : 0;
}

/* Per-run scratch: which clients a burst has seen, and which records follow a failure. */
struct scratch {
    uint32_t *stamp; /* per client: the last burst (1-based) that counted it */
    int64_t
        *fail_t; /* per record: when its client's previous request failed (INT64_MIN: it did not) */
    struct herd_hotkeys *keys; /* a burst's keys, by fingerprint */
};

static int measure(const struct herd_detect_input *in, struct scratch *s, const struct cand *c,
                   uint32_t id, int64_t lo, struct herd_detect_burst *out)
{
    size_t i0 = lower_bound(in, c->a), i1 = lower_bound(in, c->b);
    double total = 0, fails = 0, retries = 0, clients = 0, keyed = 0;
    herd_hotkeys_clear(s->keys);
    for (size_t i = i0; i < i1; i++) {
        const struct herd_detect_record *r = &in->rec[i];
        double wt = (double)weight(in, i);
        total += wt;
        fails += failed(r->status) ? wt : 0;
        retries += s->fail_t && s->fail_t[i] != INT64_MIN ? wt : 0;
        if (r->client != UINT32_MAX && s->stamp[r->client] != id) {
            s->stamp[r->client] = id;
            clients++;
        }
        if (r->has_key) {
            keyed += wt;
            herd_hotkeys_add_fp(s->keys, r->key_fp, (uint64_t)wt);
        }
    }
    if (total <= 0)
        return 0;
    memset(out, 0, sizeof *out);
    out->onset_ns = quantile(in, i0, i1, total, 0.05);
    out->median_ns = quantile(in, i0, i1, total, 0.5);
    int64_t t95 = quantile(in, i0, i1, total, 0.95);
    out->rise_s = (double)(out->median_ns - out->onset_ns) / NS;
    out->width_s = (double)(t95 - out->onset_ns) / NS;
    out->requests = (uint64_t)total;
    out->ratio = c->peak / (c->mu > 0.5 ? c->mu : 0.5);
    out->scale_s = (double)c->scale / NS;
    out->clients = in->clients ? clients / in->clients : 0;
    out->failed = fails / total;
    out->retries = retries / total;
    if (keyed > 0) {
        struct herd_hotkey top;
        size_t n = 0;
        herd_hotkeys_top(s->keys, 1, &top, &n);
        if (n) {
            out->top_key = top.fp;
            out->key_share = (double)top.count / keyed;
        }
    }
    out->at_start = (double)(out->onset_ns - lo) / NS < out->width_s + out->scale_s;
    /* distinct clients as a count, for the "not one client's batch" rule */
    return in->has_clients && clients < MIN_CLIENTS ? 0 : 1;
}

/* Golomb's synchrony chi at bin width @p w (D. Golomb, "Neuronal synchrony measures",
 * Scholarpedia 2(1):1347, 2007): chi^2 = var(sum_c x_c / N) / mean_c var(x_c). */
static double synchrony(const struct herd_detect_input *in, int64_t lo, int64_t hi, int64_t w)
{
    uint32_t nc = in->clients;
    uint64_t nb = (uint64_t)((hi - lo) / w) + 1;
    if (nc < 2 || nb < 2)
        return 0;
    uint64_t *last = malloc(nc * sizeof *last);
    double *run = calloc(nc, sizeof *run), *sq = calloc(nc, sizeof *sq),
           *cnt = calloc(nc, sizeof *cnt);
    if (!last || !run || !sq || !cnt) {
        free(last);
        free(run);
        free(sq);
        free(cnt);
        return 0;
    }
    for (uint32_t c = 0; c < nc; c++)
        last[c] = UINT64_MAX;
    double tot_sq = 0, tot = 0, cur = 0;
    uint64_t cur_bin = UINT64_MAX;
    for (size_t i = 0; i < in->n; i++) {
        const struct herd_detect_record *r = &in->rec[i];
        if (r->client == UINT32_MAX || r->t_ns < lo || r->t_ns > hi)
            continue;
        uint64_t b = (uint64_t)((r->t_ns - lo) / w);
        if (b != cur_bin) {
            tot_sq += cur * cur;
            cur = 0;
            cur_bin = b;
        }
        cur++;
        tot++;
        uint32_t c = r->client;
        if (last[c] != b) {
            sq[c] += run[c] * run[c];
            run[c] = 0;
            last[c] = b;
        }
        run[c]++;
        cnt[c]++;
    }
    tot_sq += cur * cur;
    double var_sum = 0;
    for (uint32_t c = 0; c < nc; c++) {
        sq[c] += run[c] * run[c];
        double m = cnt[c] / (double)nb;
        var_sum += sq[c] / (double)nb - m * m;
    }
    double m = tot / (double)nb;
    double var_tot = tot_sq / (double)nb - m * m;
    free(last);
    free(run);
    free(sq);
    free(cnt);
    if (var_sum <= 0)
        return 0;
    double chi2 = var_tot / ((double)nc * var_sum);
    return chi2 >= 1 ? 1 : chi2 <= 0 ? 0 : sqrt(chi2);
}

/* The modal failure-to-next-request gap, in 1/40-decade bins from 1 us to 10^4 s. */
#define GAP_BINS 400
static void retry_gaps(const struct herd_detect_input *in, int64_t *fail_t,
                       struct herd_detect_result *res)
{
    if (!in->has_clients || !in->has_status)
        return;
    int64_t *last_t = malloc(in->clients * sizeof *last_t);
    uint8_t *last_fail = calloc(in->clients, 1);
    double hist[GAP_BINS] = {0};
    uint64_t ngaps = 0;
    if (!last_t || !last_fail) {
        free(last_t);
        free(last_fail);
        return;
    }
    for (size_t i = 0; i < in->n; i++) {
        const struct herd_detect_record *r = &in->rec[i];
        if (r->client == UINT32_MAX)
            continue;
        /* A retry after a timer: an immediate retry (under 10 ms, a round trip) is the
         * reaction's own amplification, not something that synchronizes clients. */
        if (last_fail[r->client] && r->t_ns - last_t[r->client] >= 10000000) {
            fail_t[i] = last_t[r->client];
            double g = (double)(r->t_ns - last_t[r->client]) / NS;
            int b = g > 0 ? (int)floor((log10(g) + 6) * 40) : 0;
            hist[b < 0 ? 0 : b >= GAP_BINS ? GAP_BINS - 1 : b]++;
            ngaps++;
        }
        last_t[r->client] = r->t_ns;
        last_fail[r->client] = failed(r->status);
    }
    free(last_t);
    free(last_fail);
    res->retry_gaps = ngaps;
    if (ngaps < 20)
        return;
    int best = 0;
    double best_v = -1;
    for (int b = 0; b < GAP_BINS; b++) {
        double v = hist[b] + (b > 0 ? hist[b - 1] : 0) + (b + 1 < GAP_BINS ? hist[b + 1] : 0);
        if (v > best_v) {
            best_v = v;
            best = b;
        }
    }
    res->retry_gap_s = pow(10, (best + 0.5) / 40.0 - 6);
    /* Regular: the share of gaps within +-15 % (log10(1.15) = 0.061 decades, 2.4 bins each
     * way) of one of up to five SHARP modes, each at least 1.5x apart (7 bins): a constant
     * timeout is one mode, an exponential schedule without jitter a few (base, 2 base,
     * 4 base). A mode is sharp when its +-2 bins hold 1.5x what the 10 bins of its
     * shoulders (+-3 to +-7) hold, i.e. three times their density: jittered backoff spreads
     * its gaps evenly and has no sharp mode. */
    double near = 0;
    for (int m = 0; m < 5; m++) {
        int top = -1;
        double top_v = 0;
        for (int b = 0; b < GAP_BINS; b++) {
            double v = hist[b] + (b > 0 ? hist[b - 1] : 0) + (b + 1 < GAP_BINS ? hist[b + 1] : 0);
            if (v > top_v) {
                top_v = v;
                top = b;
            }
        }
        if (top < 0)
            break;
        double core = 0, shoulder = 0;
        for (int b = top - 7; b <= top + 7; b++) {
            if (b < 0 || b >= GAP_BINS)
                continue;
            if (b >= top - 2 && b <= top + 2)
                core += hist[b];
            else
                shoulder += hist[b];
            hist[b] = 0;
        }
        if (core >= 1.5 * shoulder)
            near += core;
    }
    res->retry_regular = near / (double)ngaps;
}

/* A retry storm: many requests follow a failure of their client after the same gap, and
 * while they do the rate stands well above the rate before. Such a storm need not make a
 * burst (retries after a constant timeout replay the failures' own arrival pattern, 2 s
 * later, on top of new traffic: a step, not a spike), so it is its own route to a herd.
 * @return true with its span in @p c (peak and mu: the rates, as counts per span). */
static bool retry_storm(const struct herd_detect_input *in, const int64_t *fail_t, int64_t lo,
                        const struct herd_detect_result *res, struct cand *c)
{
    if (res->retry_gaps < 50 || res->retry_regular < 0.3)
        return false;
    /* the 5th and 95th percentiles of the retries' times */
    uint64_t k = 0, want5 = res->retry_gaps / 20, want95 = res->retry_gaps - res->retry_gaps / 20;
    int64_t a = 0, b = 0;
    for (size_t i = 0; i < in->n; i++) {
        if (fail_t[i] == INT64_MIN)
            continue;
        if (k == want5)
            a = in->rec[i].t_ns;
        if (k == want95)
            b = in->rec[i].t_ns;
        k++;
    }
    if (b <= a)
        return false;
    double inside = 0, retries = 0, before = 0;
    for (size_t i = 0; i < in->n; i++) {
        int64_t t = in->rec[i].t_ns;
        double w = (double)weight(in, i);
        if (t < a)
            before += w;
        else if (t <= b) {
            inside += w;
            retries += fail_t[i] != INT64_MIN ? w : 0;
        }
    }
    double span = (double)(b - a), pre = (double)(a - lo);
    double rate_in = inside / span, rate_before = pre > 0.1 * span ? before / pre : 0;
    if (retries < 0.25 * inside || (rate_before > 0 && rate_in < 1.5 * rate_before))
        return false;
    *c = (struct cand){.a = a,
                       .b = b + 1,
                       .scale = b - a + 1,
                       .peak = rate_in * span,
                       .mu = rate_before * span,
                       .excess = inside - rate_before * span};
    return true;
}

static const double round_periods[] = {3600, 1800, 900, 600, 300, 120, 60, 30, 15, 10, 5, 2, 1};

static void periodicity(struct herd_detect_result *res)
{
    size_t n = res->nbursts;
    uint64_t biggest = 0;
    for (size_t i = 0; i < n; i++)
        if (res->bursts[i].requests > biggest)
            biggest = res->bursts[i].requests;
    double on[HERD_DETECT_MAX_BURSTS];
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (res->bursts[i].requests * 10 >= biggest)
            on[m++] = (double)res->bursts[i].median_ns / NS;
    if (m >= 3) {
        double sp[HERD_DETECT_MAX_BURSTS];
        for (size_t i = 1; i < m; i++)
            sp[i - 1] = on[i] - on[i - 1];
        size_t k = m - 1;
        for (size_t i = 0; i < k; i++) /* insertion sort: k < 16 */
            for (size_t j = i; j > 0 && sp[j] < sp[j - 1]; j--) {
                double t = sp[j];
                sp[j] = sp[j - 1];
                sp[j - 1] = t;
            }
        double med = sp[k / 2];
        double dev[HERD_DETECT_MAX_BURSTS];
        for (size_t i = 0; i < k; i++)
            dev[i] = fabs(sp[i] - med);
        for (size_t i = 0; i < k; i++)
            for (size_t j = i; j > 0 && dev[j] < dev[j - 1]; j--) {
                double t = dev[j];
                dev[j] = dev[j - 1];
                dev[j - 1] = t;
            }
        res->period_s = med;
        res->period_spread = med > 0 ? dev[k / 2] / med : 1;
    }
    /* Wall-clock alignment: the median request of each burst within tolerance of a multiple
     * of a round period; bursts at the window's start cannot be judged. */
    for (size_t p = 0; p < sizeof round_periods / sizeof round_periods[0]; p++) {
        double R = round_periods[p];
        size_t judged = 0, aligned = 0;
        for (size_t i = 0; i < n; i++) {
            const struct herd_detect_burst *b = &res->bursts[i];
            if (b->at_start || b->requests * 10 < biggest)
                continue;
            double t = (double)b->median_ns / NS;
            double off = fmod(t, R);
            if (off < 0)
                off += R;
            double tol = b->width_s > 0.002 ? b->width_s : 0.002;
            if (tol > R / 50)
                tol = R / 50;
            judged++;
            aligned += off <= tol || R - off <= tol;
        }
        if (judged > 0 && (double)aligned >= 0.8 * (double)judged) {
            res->wall_period_s = R;
            res->wall_aligned = (double)aligned / (double)judged;
            return;
        }
    }
}

static void say(struct herd_detect_result *res, int i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(struct herd_detect_result *res, int i, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->evidence[i], sizeof res->evidence[i], fmt, ap);
    va_end(ap);
}

static void classify(const struct herd_detect_input *in, struct herd_detect_result *res)
{
    if (!res->herd) {
        res->sync = HERD_DETECT_SYNC_NONE;
        return;
    }
    /* The first burst that matters (>= 10 % of the largest) and the largest. */
    const struct herd_detect_burst *big = &res->bursts[0], *first = NULL;
    for (size_t i = 0; i < res->nbursts; i++)
        if (res->bursts[i].requests > big->requests)
            big = &res->bursts[i];
    for (size_t i = 0; i < res->nbursts && !first; i++)
        if (res->bursts[i].requests * 10 >= big->requests)
            first = &res->bursts[i];
    double t_first = (double)first->onset_ns / NS;
    int e = 1;
    /* Retries after one timeout dominate the herd's requests, unless the first burst is
     * the whole fleet at one instant (a restart, whose reconnects then time out). */
    double in_b = 0, retr_b = 0;
    for (size_t i = 0; i < res->nbursts; i++) {
        in_b += (double)res->bursts[i].requests;
        retr_b += res->bursts[i].retries * (double)res->bursts[i].requests;
    }
    bool instant_fleet = first->width_s < 0.1 && first->clients >= 0.9 && first->retries < 0.1;
    /* A "retry" one schedule period after a failure is the schedule's next run (a job that
     * lost its lock tries again at the next boundary), not a retry timer. */
    bool schedule = res->retry_gap_s >= 30; /* no retry timer waits 30 s: a schedule does */
    bool retry_led = !schedule && res->retry_gaps >= 20 && res->retry_regular >= 0.3 &&
                     (first->retries >= 0.5 || (res->storm && res->storm_first) ||
                      (in_b > 0 && retr_b >= 0.6 * in_b && !instant_fleet) ||
                      (res->failed_after >= 0.9 && !instant_fleet));
    if (retry_led) {
        if (res->error_after >= 0.5) {
            res->sync = HERD_DETECT_SYNC_LEADER;
            res->sync_score = res->error_after;
            say(res, e++,
                "from %.3f s on, %.0f %% of requests are answered with an error "
                "(nobody can serve them), and every client keeps retrying",
                t_first, 100 * res->error_after);
        } else {
            res->sync = HERD_DETECT_SYNC_RETRY;
            /* the strongest of the routes that named it */
            double sc = first->retries;
            if (in_b > 0 && retr_b / in_b > sc)
                sc = retr_b / in_b;
            if (res->failed_after >= 0.9 && res->failed_after * res->retry_regular > sc)
                sc = res->failed_after * res->retry_regular;
            if (res->storm && res->retry_regular > sc)
                sc = res->retry_regular;
            res->sync_score = sc;
        }
        say(res, e++,
            "%.0f %% of the bursts' requests follow a failure of the same client; "
            "the failure-to-retry gap is %.3g s for %.0f %% of %llu retries (the timeout)",
            in_b > 0 ? 100 * retr_b / in_b : 0, res->retry_gap_s, 100 * res->retry_regular,
            (unsigned long long)res->retry_gaps);
        if (res->failed_after >= 0.9)
            say(res, e++,
                "from the first burst (at %.3f s) on, %.0f %% of requests failed: the "
                "clients keep coming back on that timer",
                t_first, 100 * res->failed_after);
        return;
    }
    double misses = 0;
    if (in->has_keys) {
        uint64_t m = 0, k = 0;
        for (size_t i = 0; i < in->n; i++)
            if (in->rec[i].has_key) {
                k++;
                m += in->rec[i].status == HERD_DETECT_MISS;
            }
        misses = k ? (double)m / (double)k : 0;
    }
    if (in->has_keys && (misses >= 0.5 || big->key_share >= 0.5)) {
        res->sync = HERD_DETECT_SYNC_TTL;
        res->sync_score = big->key_share > misses ? big->key_share : misses;
        say(res, e++,
            "the largest burst's hottest key (fingerprint %016llx) is %.0f %% of its "
            "keyed requests; %.0f %% of keyed requests are cache misses",
            (unsigned long long)big->top_key, 100 * big->key_share, 100 * misses);
        if (res->period_s > 0)
            say(res, e++, "bursts recur every %.3g s (spread %.1f %%): the TTL plus the refill",
                res->period_s, 100 * res->period_spread);
        return;
    }
    if (res->wall_period_s > 0) {
        res->sync = HERD_DETECT_SYNC_CRON;
        res->sync_score = res->wall_aligned;
        say(res, e++,
            "%.0f %% of the bursts centre on a whole multiple of %.0f s of the "
            "wall clock (within their width or 2 ms)",
            100 * res->wall_aligned, res->wall_period_s);
        if (res->period_s > 0)
            say(res, e++, "bursts recur every %.3g s (spread %.1f %%)", res->period_s,
                100 * res->period_spread);
        return;
    }
    /* The whole fleet at one instant, the first thing in the trace (not its start), then
     * retries or nothing comparable: a restart that dropped every client. */
    double after_first = 0, retr_after = 0;
    size_t comparable = 0;
    for (size_t i = 0; i < res->nbursts; i++) {
        const struct herd_detect_burst *b = &res->bursts[i];
        if (b == first)
            continue;
        after_first += (double)b->requests;
        retr_after += b->retries * (double)b->requests;
        comparable += b->requests * 2 >= first->requests;
    }
    if (instant_fleet && !first->at_start && (comparable == 0 || retr_after >= 0.5 * after_first)) {
        res->sync = HERD_DETECT_SYNC_RESTART;
        res->sync_score = first->clients;
        say(res, e++,
            "the first burst (at %.3f s) is %.0f %% of all clients within %.3g s, "
            "after no failure of theirs: every client was dropped and reconnected at once",
            t_first, 100 * first->clients, first->width_s);
        if (after_first > 0)
            say(res, e++,
                "%.0f %% of the later bursts' requests are retries after a failure "
                "(gap %.3g s): the reconnects time out and come back together",
                100 * retr_after / after_first, res->retry_gap_s);
        return;
    }
    size_t tiny = 0, wide_fleet = 0;
    for (size_t i = 0; i < res->nbursts; i++) {
        tiny += res->bursts[i].width_s < 0.01 && res->bursts[i].failed < 0.1;
        wide_fleet += res->bursts[i].clients >= 0.5;
    }
    if (res->nbursts >= 2 && tiny * 10 >= res->nbursts * 8 && big->clients >= 0.5 &&
        wide_fleet >= 1) {
        res->sync = HERD_DETECT_SYNC_BROADCAST;
        res->sync_score = (double)tiny / (double)res->nbursts;
        say(res, e++,
            "%zu of %zu bursts are shorter than 10 ms and fail nothing, the largest holds "
            "%.0f %% of all %u clients: each notification woke every waiter",
            tiny, res->nbursts, 100 * big->clients, res->clients);
        return;
    }
    if (res->period_s > 0 && res->period_spread <= 0.1) {
        res->sync = HERD_DETECT_SYNC_TTL;
        res->sync_score = 1 - res->period_spread;
        say(res, e++,
            "bursts recur every %.3g s (spread %.1f %%), on no round wall-clock "
            "period: an expiry or refresh period",
            res->period_s, 100 * res->period_spread);
        return;
    }
    if (in->has_keys) {
        res->sync = HERD_DETECT_SYNC_TTL;
        res->sync_score = 0.5;
        say(res, e++,
            "one burst across many keys (%.0f %% of clients) with no failure "
            "before it: the cache emptied at once (a flush, or keys filled together)",
            100 * first->clients);
        return;
    }
    res->sync = HERD_DETECT_SYNC_RESTART;
    res->sync_score = first->clients;
    say(res, e++,
        "the first burst (at %.3f s) holds %.0f %% of all clients and follows no "
        "failure of theirs: they all (re)connected at once",
        t_first, 100 * first->clients);
}

int herd_detect_run(struct herd_detect_input *in, struct herd_detect_result *res)
{
    memset(res, 0, sizeof *res);
    if (in->n == 0)
        return 0;
    if (!in->weights)
        qsort(in->rec, in->n, sizeof *in->rec, cmp_rec);
    int64_t lo = in->has_window ? in->win_lo : in->rec[0].t_ns;
    int64_t hi = in->has_window ? in->win_hi : in->rec[in->n - 1].t_ns + 1;
    if (hi - lo < 1000)
        hi = lo + 1000;
    res->lo_ns = lo;
    res->hi_ns = hi;
    double total = 0, fails = 0;
    for (size_t i = 0; i < in->n; i++) {
        total += (double)weight(in, i);
        fails += failed(in->rec[i].status) ? (double)weight(in, i) : 0;
    }
    res->requests = (uint64_t)total;
    res->mean_rps = total / ((double)(hi - lo) / NS);
    res->clients = in->clients;
    res->failed = total > 0 ? fails / total : 0;

    int rc = 0;
    struct cands cs = {0};
    struct scratch s = {0};
    s.stamp = in->clients ? calloc(in->clients, sizeof *s.stamp) : NULL;
    s.fail_t = malloc(in->n * sizeof *s.fail_t);
    for (size_t i = 0; s.fail_t && i < in->n; i++)
        s.fail_t[i] = INT64_MIN;
    struct herd_hotkeys_config kc = {.counters = 64, .secret = &(struct herd_hotkeys_secret){{0}}};
    if ((in->clients && !s.stamp) || !s.fail_t || herd_hotkeys_new(&kc, &s.keys) < 0) {
        rc = -HERD_ENOMEM;
        goto out;
    }
    retry_gaps(in, s.fail_t, res);

    /* Decades from 10 us; a series from its own step (its bins are the samples). */
    int64_t first_scale = in->series ? in->step_ns : 10000;
    for (int64_t w = first_scale; w <= INT64_C(1000000000000); w *= 10)
        if ((rc = scan_scale(in, lo, hi, w, &cs)) < 0)
            goto out;
    if (cs.n > 0)
        qsort(cs.c, cs.n, sizeof *cs.c, cmp_cand);
    struct herd_detect_burst all[256];
    size_t nall = 0, found = 0;
    double inside = 0;
    for (size_t i = 0; i < cs.n;) {
        /* One cluster: finds that overlap. It is described at the finest scale whose finds
         * in it hold half the excess of its best find: a train of sharp bursts stays a
         * train instead of one wide burst at a coarse scale. */
        size_t j = i, best = i;
        int64_t end = cs.c[i].b;
        while (j < cs.n && cs.c[j].a < end) {
            if (cs.c[j].b > end)
                end = cs.c[j].b;
            if (cs.c[j].excess > cs.c[best].excess)
                best = j;
            j++;
        }
        int64_t pick = cs.c[best].scale;
        for (int64_t w = first_scale; w < cs.c[best].scale; w *= 10) {
            double ex = 0;
            for (size_t q = i; q < j; q++)
                ex += cs.c[q].scale == w ? cs.c[q].excess : 0;
            if (ex >= 0.5 * cs.c[best].excess) {
                pick = w;
                break;
            }
        }
        for (size_t q = i; q < j; q++) {
            if (cs.c[q].scale != pick)
                continue;
            struct herd_detect_burst b;
            if (measure(in, &s, &cs.c[q], (uint32_t)(q + 1), lo, &b)) {
                found++;
                inside += (double)b.requests;
                if (nall < sizeof all / sizeof all[0]) {
                    all[nall++] = b;
                } else { /* keep the largest */
                    size_t k = 0;
                    for (size_t q = 1; q < nall; q++)
                        if (all[q].requests < all[k].requests)
                            k = q;
                    if (b.requests > all[k].requests)
                        all[k] = b;
                }
            }
        }
        i = j;
    }
    /* A retry storm is a burst too, unless a burst already covers its start. */
    struct cand storm;
    if (retry_storm(in, s.fail_t, lo, res, &storm)) {
        bool covered = false;
        int64_t first_onset = INT64_MAX;
        for (size_t q = 0; q < nall; q++) {
            covered |= all[q].onset_ns <= storm.a &&
                       storm.a <= all[q].onset_ns + (int64_t)(all[q].width_s * NS);
            if (all[q].onset_ns < first_onset)
                first_onset = all[q].onset_ns;
        }
        res->storm = true;
        res->storm_first = storm.a <= first_onset;
        struct herd_detect_burst b;
        if (!covered && nall < sizeof all / sizeof all[0] &&
            measure(in, &s, &storm, (uint32_t)(cs.n + 1), lo, &b)) {
            all[nall++] = b;
            found++;
            inside += (double)b.requests;
        }
    }
    /* The HERD_DETECT_MAX_BURSTS largest, in time order. */
    while (nall > HERD_DETECT_MAX_BURSTS) {
        size_t k = 0;
        for (size_t q = 1; q < nall; q++)
            if (all[q].requests < all[k].requests)
                k = q;
        all[k] = all[--nall];
    }
    qsort(all, nall, sizeof *all, cmp_burst_time);
    memcpy(res->bursts, all, nall * sizeof *all);
    res->nbursts = nall;
    res->bursts_found = found;
    res->in_bursts = total > 0 ? inside / total : 0;
    res->herd = nall > 0;

    if (nall > 0) {
        /* synchrony at the scale of the largest burst */
        const struct herd_detect_burst *big = &all[0];
        for (size_t i = 1; i < nall; i++)
            if (all[i].requests > big->requests)
                big = &all[i];
        int64_t w = (int64_t)(big->scale_s * NS);
        res->chi_scale_s = big->scale_s;
        res->chi = synchrony(in, lo, hi, w);
        periodicity(res);
        /* errors after the first burst's onset */
        size_t i0 = lower_bound(in, all[0].onset_ns);
        double after = 0, errs = 0;
        for (size_t i = i0; i < in->n; i++) {
            after += (double)weight(in, i);
            errs += in->rec[i].status == HERD_DETECT_ERROR ? (double)weight(in, i) : 0;
        }
        res->error_after = after > 0 ? errs / after : 0;
        double fails_after = 0;
        for (size_t i = i0; i < in->n; i++)
            fails_after += failed(in->rec[i].status) ? (double)weight(in, i) : 0;
        res->failed_after = after > 0 ? fails_after / after : 0;
        /* Confidence: the strongest burst's excess and how many clients it joined. */
        double r = big->ratio > 1e6 ? 1e6 : big->ratio;
        double join = in->has_clients ? (big->clients * 4 > 1 ? 1 : big->clients * 4) : 0.8;
        res->confidence = 0.5 + 0.49 * (1 - 1 / r) * join;
        if (res->confidence < 0.5)
            res->confidence = 0.5;
        say(res, 0,
            "%zu burst%s: the largest %llu requests in %.3g s at %.3f s, %.0fx its "
            "baseline, %.0f %% of all clients",
            found, found == 1 ? "" : "s", (unsigned long long)big->requests, big->width_s,
            (double)big->onset_ns / NS, big->ratio, 100 * big->clients);
    } else {
        /* No burst: confidence grows with the data that could have shown one. */
        res->confidence = 0.5 + 0.49 * (1 - exp(-(double)in->n / 500.0));
        say(res, 0,
            "no burst: no window from 10 us to 1000 s holds 5x its surrounding rate "
            "with a Poisson tail below 1e-3 over the trace");
    }
    classify(in, res);
    if (in->has_keys && in->hot) {
        herd_hotkeys_top(in->hot, 10, res->hot, &res->nhot);
        res->keyed = herd_hotkeys_total(in->hot);
    }
out:
    free(cs.c);
    free(s.stamp);
    free(s.fail_t);
    herd_hotkeys_free(s.keys);
    return rc;
}
