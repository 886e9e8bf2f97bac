/* detect.h — herd detection from request records: is this spike a herd, and what
 * synchronized it? (seed 000: "What's one metric that differentiates herd from organic
 * traffic? Hint: correlation"; "Herd detection is often about finding the synchronizer:
 * TTL boundary, deploy, leader election, network flap".)
 *
 * Input: request records (time, optional client, optional key, optional status) read from
 * CSV or JSON lines, or a Prometheus query_range document (a rate series: no clients,
 * keys or statuses). Keys and clients are fingerprinted on reading (SipHash-2-4 under a
 * per-process secret, herd/hotkeys.h) and never kept: the analysis and its report know
 * them by fingerprint only.
 *
 * Analysis (detect.c says how each figure is computed):
 *   - bursts: at time scales from 10 us to 1000 s, bins whose count stands above the
 *     quiet level around them by a ratio (>= 5) and above their neighbourhood's mean by a
 *     Poisson tail (Chernoff bound, Bonferroni over the bins); overlapping finds across
 *     scales are one cluster, measured on its records: onset, how sharp (5 % to 50 % of
 *     its requests), how short (5 % to 95 %), its peak over the baseline, the share of all
 *     clients in it, its failures, its retries and its hottest key; a retry storm (many
 *     requests retrying a failure after one regular gap, the rate up) is a burst too;
 *   - alignment across clients: Golomb's synchrony chi (the variance of the fleet's
 *     summed activity over the mean variance of each client's, at the bursts' scale):
 *     1 when every client acts in the same bins, 1/sqrt(clients) when independent;
 *   - periodicity: the spacing of burst onsets (its median and spread) and their
 *     alignment to round wall-clock periods (1 s ... 1 h);
 *   - retries: the gap from each client's failed request to its next request (>= 10 ms);
 *     a sharp modal gap shared by many is a retry timeout;
 *   - the synchronizer, from the evidence above (detect.c: the rules), and a verdict.
 * Cost: O(n log n) for the sort, O(n) per time scale otherwise; memory ~40 bytes a record.
 * Thread safety: an input and a result are one caller's.
 */
#ifndef HERD_DETECT_DETECT_H
#define HERD_DETECT_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <herd/hotkeys.h>

/* What a request came to, as the input said it (words, or HTTP codes). */
enum herd_detect_status {
    HERD_DETECT_OK,       /* ok, 2xx, 3xx, or no status */
    HERD_DETECT_HIT,      /* a cache hit */
    HERD_DETECT_MISS,     /* a cache miss (reached the origin) */
    HERD_DETECT_ERROR,    /* error, 5xx other than 503/504, 4xx other than 408/429 */
    HERD_DETECT_TIMEOUT,  /* timeout, 408, 504 */
    HERD_DETECT_REJECTED, /* rejected/shed/dropped, 429, 503 */
};

/* The synchronizers herd detect tells apart (DESIGN §1's one trigger, N reactions). */
#define HERD_DETECT_SYNC_MAP(X)                                                                    \
    X(NONE, "none", "no synchronizer: arrivals are independent")                                   \
    X(TTL, "ttl-expiry", "a cache entry's TTL ran out (or the cache was flushed)")                 \
    X(CRON, "cron-boundary", "timers that fire at the same wall-clock boundary")                   \
    X(RESTART, "deploy-restart", "a deploy or restart dropped or restarted every client")          \
    X(RETRY, "retry-timeout", "failed requests retried after the same timeout")                    \
    X(LEADER, "leader-change", "a leader change: every client failed at once, then retried")       \
    X(BROADCAST, "broadcast-wake", "a notification that wakes every waiter (notify-all)")

enum herd_detect_sync {
#define HERD__DETECT_SYNC_ENUM(name, word, what) HERD_DETECT_SYNC_##name,
    HERD_DETECT_SYNC_MAP(HERD__DETECT_SYNC_ENUM)
#undef HERD__DETECT_SYNC_ENUM
        HERD_DETECT_SYNC_COUNT
};

/** The synchronizer's word ("ttl-expiry" ...) and its one-line meaning. */
const char *herd_detect_sync_name(enum herd_detect_sync s);
const char *herd_detect_sync_what(enum herd_detect_sync s);

/** One record, as read. */
struct herd_detect_record {
    int64_t t_ns;    /* since the epoch, or since the trace's own zero */
    uint32_t client; /* dense index of the client's fingerprint; UINT32_MAX: none */
    uint8_t status;  /* enum herd_detect_status */
    uint8_t has_key;
    uint64_t key_fp; /* the key's fingerprint (has_key) */
};

/** What was read: the records (owned), their window, and what the input carried. */
struct herd_detect_input {
    struct herd_detect_record *rec;
    size_t n, cap;
    uint32_t clients; /* distinct clients seen */
    bool has_clients, has_keys, has_status;
    bool series;       /* a Prometheus series: each record is one bin's count */
    int64_t step_ns;   /* series: the query's step */
    uint64_t *weights; /* series: count per record (NULL otherwise) */
    bool has_window;   /* a window was given (the trace's "# window_s" line) */
    int64_t win_lo, win_hi;
    struct herd_hotkeys *hot; /* the keys' counts, by fingerprint (NULL: no keys yet) */
    /* client fingerprint -> index (open addressing; owned) */
    uint64_t *cl_fp;
    uint32_t *cl_idx;
    size_t cl_cap;
};

void herd_detect_input_init(struct herd_detect_input *in);
void herd_detect_input_fini(struct herd_detect_input *in);

/**
 * Read @p f (named @p name in messages) into @p in: CSV with a header naming its columns
 * (time; client, key, status optional) or without one (time,client,key,status), JSON lines
 * ({"time": ..., "client": ..., "key": ..., "status": ...}), or one Prometheus query_range
 * JSON document. Times: seconds (decimal, since the epoch or any zero) or ISO 8601
 * (2026-12-07T09:00:00.125Z). A "# window_s LO HI" comment sets the observation window.
 * @return 0, or -HERD_EINVAL with "NAME:LINE: field 'F': ..." in @p err, or -HERD_ENOMEM.
 */
int herd_detect_read(FILE *f, const char *name, struct herd_detect_input *in, char *err,
                     size_t errlen);

/** Add one record (for tests and in-process traces): @p client < 0 for none, @p key NULL
 *  for none (@p keylen bytes; hashed, not kept). @return 0 or -HERD_ENOMEM. */
int herd_detect_add(struct herd_detect_input *in, int64_t t_ns, int64_t client, const void *key,
                    size_t keylen, enum herd_detect_status status);

#define HERD_DETECT_MAX_BURSTS 16

struct herd_detect_burst {
    int64_t onset_ns;  /* its 5th-percentile request */
    int64_t median_ns; /* its median request */
    double rise_s;     /* how sharp: 5 % to 50 % of its requests */
    double width_s;    /* how short: 5 % to 95 % of its requests */
    uint64_t requests; /* records inside it */
    double ratio;      /* its rate over the baseline around it (at the scale it was found) */
    double scale_s;    /* the bin width it was found at */
    double clients;    /* share of all clients with a request in it */
    double failed;     /* share of its requests that failed (error, timeout, rejected) */
    double retries;    /* share of its requests that follow a failure of their client */
    uint64_t top_key;  /* fingerprint of its most requested key (key_share > 0) */
    double key_share;  /* that key's share of its keyed requests */
    bool at_start;     /* begins at the window's start: its trigger is not in the trace */
};

struct herd_detect_result {
    uint64_t requests;
    int64_t lo_ns, hi_ns; /* the window analysed */
    double mean_rps;
    uint32_t clients;
    double failed; /* share of all requests that failed */
    /* bursts, in time order (at most HERD_DETECT_MAX_BURSTS: the largest kept) */
    struct herd_detect_burst bursts[HERD_DETECT_MAX_BURSTS];
    size_t nbursts, bursts_found;
    double in_bursts; /* share of all requests inside the bursts */
    double chi;       /* Golomb's synchrony across clients (0: no clients) */
    double chi_scale_s;
    /* periodicity of the burst onsets */
    double period_s;      /* median spacing (0: fewer than 3 bursts) */
    double period_spread; /* median |spacing - median| / median */
    double wall_period_s; /* the round period most onsets align to (0: none) */
    double wall_aligned;  /* share of (judgeable) onsets within tolerance of it */
    /* retries */
    double retry_gap_s;   /* the modal failure-to-next-request gap (0: none) */
    double retry_regular; /* share of such gaps within 15 % of the mode */
    uint64_t retry_gaps;
    double error_after;  /* share of requests after the first burst answered "error" */
    double failed_after; /* share of requests from the first burst on that failed */
    bool storm;          /* a retry storm (a burst of its own, see detect.c) */
    bool storm_first;    /* ... that began before any other burst */
    /* the verdict */
    bool herd;
    double confidence; /* in [0.5, 1): for the verdict given */
    enum herd_detect_sync sync;
    double sync_score;     /* in [0, 1]: how strongly the evidence names it */
    char evidence[4][200]; /* sentences, "" when unused */
    /* hot keys, by fingerprint */
    struct herd_hotkey hot[10];
    size_t nhot;
    uint64_t keyed; /* requests that carried a key */
};

/** Analyse @p in (its records are sorted by time here). @return 0 or -HERD_ENOMEM. */
int herd_detect_run(struct herd_detect_input *in, struct herd_detect_result *res);

/** The report as text (fits 100 columns) or as one JSON object. @return 0 or -errno. */
int herd_detect_write_text(FILE *f, const struct herd_detect_result *res);
int herd_detect_write_json(FILE *f, const struct herd_detect_result *res);

#endif
