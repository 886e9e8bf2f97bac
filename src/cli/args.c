/* args.c — the command line's parsing, apart from anything that runs: error lines, the
 * ceilings' values, and herd run's flags (herd__cli_run_args). Nothing here starts a run
 * or touches a file, so the fuzz target (tests/fuzz/fuzz_cli_args.c) calls it as it is.
 * Thread safety: none (getopt's globals). */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <herd/error.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int vreport(int code, const char *fmt, va_list ap)
{
    fputs("herd: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    return code;
}

int herd__usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vreport(HERD_EXIT_USAGE, fmt, ap);
    va_end(ap);
    return rc;
}

int herd__fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vreport(HERD_EXIT_FAIL, fmt, ap);
    va_end(ap);
    return rc;
}

int herd__cli_parse_budget(int opt, const char *arg, uint64_t *max_memory, uint64_t *max_events)
{
    char err[256];
    int64_t v;
    if (opt == HERD_CLI_OPT_MAX_EVENTS) {
        if (herd_parse_int("--max-events", arg, 0, HERD_CLI_MAX_EVENTS_MAX, &v, err, sizeof err) <
            0)
            return herd__usage_error("%s (0: no ceiling)", err);
        *max_events = (uint64_t)v;
        return HERD_EXIT_OK;
    }
    /* A size: a whole number of bytes, or of KiB, MiB, GiB, TiB with K, M, G, T. */
    static const char units[] = "KMGT";
    char num[32];
    size_t len = strlen(arg);
    const char *u = len ? strchr(units, arg[len - 1]) : NULL;
    int shift = u && *u ? 10 * (int)(u - units + 1) : 0;
    snprintf(num, sizeof num, "%.*s", (int)(shift ? len - 1 : len), arg);
    if (len >= sizeof num ||
        herd_parse_int("--max-memory", num, 0, INT64_MAX >> shift, &v, err, sizeof err) < 0 ||
        (v && ((uint64_t)v << shift) < HERD_CLI_MAX_MEMORY_MIN))
        return herd__usage_error("--max-memory: expected a size from 64M to 1T (bytes, or with "
                                 "K, M, G, T), or 0 for no ceiling; got '%s'",
                                 arg);
    if (((uint64_t)v << shift) > (UINT64_C(1) << 40))
        return herd__usage_error("--max-memory: '%s' is out of range; allowed: 64M to 1T, or 0",
                                 arg);
    *max_memory = (uint64_t)v << shift;
    return HERD_EXIT_OK;
}

const char herd__cli_run_usage[] =
    "usage: herd run SCENARIO [options]\n"
    "\n"
    "Run a herd and print its report: wakes, useful, wasted, origin load, peak, latency\n"
    "percentiles, who got the work, the first waiters and a timeline. SCENARIO is one of\n"
    "accept, condvar, cache, cron, lock (on a real Redis), zk-lock (on a real ZooKeeper),\n"
    "or a simulated preset: queue, backoff-occ (herd list shows their parameters,\n"
    "mitigations and backends), or a scenario file: FILE.yaml or the name of one shipped\n"
    "with herd (docs/scenario-file.md; herd list shows them).\n"
    "\n"
    "  -b, --backend NAME      live (real threads, sockets and databases on this kernel),\n"
    "                          sim (the discrete-event simulator, N up to 1000000) or\n"
    "                          both (live and sim side by side with the same settings)\n"
    "  -m, --mode MODE         naive, mitigated or both (default both: side by side)\n"
    "  -M, --mitigation NAME   the mitigation to run (default: the scenario's own), or\n"
    "                          'all' for naive plus every mitigation; a file's several\n"
    "                          at once: a+b (applied in that order)\n"
    "  -n N                    waiters, 1 to 1000000 (the live backend checks what this\n"
    "                          machine allows before it starts anything)\n"
    "  -e, --events E          events (connections, items, expiries, boundaries),\n"
    "                          1 to 100000\n"
    "  -s, --seed S            seed of every random choice (default 1)\n"
    "  -r, --runs R            runs with derived seeds, pooled into one report with\n"
    "                          intervals, 1 to 1000 (default: 3 live, 1 sim)\n"
    "  -S, --set KEY=VALUE     set a scenario parameter (repeatable); for a file, any\n"
    "                          field by its path: --set components.api.workers=40.\n"
    "                          Herds on a real service (lock, zk-lock, cache with\n"
    "                          origin=postgres or store=redis) start a private server\n"
    "                          for the run (a Unix socket or 127.0.0.1 in a temporary\n"
    "                          directory) and stop it after; --set url= (cache: pg_url=,\n"
    "                          redis_url=) uses your own instead: herd then writes only\n"
    "                          keys herd:*, nodes /herd-lock or schema herd_cache (herd\n"
    "                          list says which), and never stops it\n"
    "  -f, --format FMT        text (default), json or csv\n"
    "  -w, --wide              text: every run side by side, however wide (default:\n"
    "                          fit 100 columns, in blocks of runs)\n"
    "      --check             a scenario file: judge its `claim` block too (herd check),\n"
    "                          in the report; exit 1 when a claim fails\n"
    "  -o, --out FILE          write the report to FILE instead of stdout, once the run\n"
    "                          succeeded (atomically, mode kept; FIFOs, devices and\n"
    "                          hard-linked files in place; no directory is created)\n"
    "  -q, --quiet             no progress lines on stderr\n"
    "      --trace FILE        simulator, one run: write every request that reached the\n"
    "                          herd's resource as CSV (time_s,client,key,status), the\n"
    "                          input of herd detect\n" HERD_CLI_BUDGET_HELP
    "  -h, --help              this help\n"
    "\n"
    "examples:\n"
    "  herd run accept -n 1000\n"
    "  herd run condvar -n 1000 --set primitive=futex\n"
    "  herd run cache -n 200 --mitigation all\n"
    "  herd run cron -n 500 --mitigation splay --format json --out cron.json\n"
    "  herd run cascade-3tier --mitigation jitter+budget\n"
    "  herd run cron -b sim -m naive -n 1000 --trace cron.csv && herd detect cron.csv\n"
    "  herd run my-fleet.yaml --set faults.0.for=10s\n";

int herd__cli_run_args(int argc, char **argv, struct herd_cli_run_args *o, const char **scenario)
{
    static const struct option opts[] = {
        {"backend", required_argument, NULL, 'b'},
        {"mode", required_argument, NULL, 'm'},
        {"mitigation", required_argument, NULL, 'M'},
        {"events", required_argument, NULL, 'e'},
        {"seed", required_argument, NULL, 's'},
        {"runs", required_argument, NULL, 'r'},
        {"set", required_argument, NULL, 'S'},
        {"format", required_argument, NULL, 'f'},
        {"out", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"wide", no_argument, NULL, 'w'},
        {"check", no_argument, NULL, HERD_CLI_OPT_CHECK},
        {"help", no_argument, NULL, 'h'},
        {"trace", required_argument, NULL, HERD_CLI_OPT_TRACE},
        HERD_CLI_BUDGET_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    char err[256];
    int c;
    optind = 0; /* glibc: a full reset, also of a cluster (-qw) left half-read by the
                   previous argv, which may be gone (the fuzz target parses many) */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":b:m:M:n:e:s:r:S:f:o:qwh", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            o->backend = optarg;
            break;
        case 'm':
            o->mode = optarg;
            break;
        case 'M':
            o->mitigation = optarg;
            break;
        case 'n':
            o->n = optarg;
            break;
        case 'e':
            o->events = optarg;
            break;
        case 's':
            o->seed = optarg;
            break;
        case 'r':
            if (herd_parse_int("--runs", optarg, 1, HERD_RUNS_MAX, &o->runs, err, sizeof err) < 0)
                return herd__usage_error("%s", err);
            break;
        case 'S':
            if (o->nsets == (int)(sizeof o->sets / sizeof o->sets[0]))
                return herd__usage_error("--set: at most 64 settings");
            o->sets[o->nsets++] = optarg;
            break;
        case 'f':
            o->format = optarg;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'w':
            o->wide = true;
            break;
        case HERD_CLI_OPT_CHECK:
            o->check = true;
            break;
        case 'h':
            fputs(herd__cli_run_usage, stdout);
            return -1;
        case HERD_CLI_OPT_TRACE:
            o->trace = optarg;
            break;
        case HERD_CLI_OPT_MAX_MEMORY:
        case HERD_CLI_OPT_MAX_EVENTS: {
            int rc = herd__cli_parse_budget(c, optarg, &o->max_memory, &o->max_events);
            if (rc != HERD_EXIT_OK)
                return rc;
            break;
        }
        case ':':
            return herd__usage_error("%s: needs a value (see herd run --help)", argv[optind - 1]);
        default: /* a short one inside a cluster (-qz) is optopt; a long one is the word */
            if (optopt)
                return herd__usage_error("run: unknown option '-%c' (see herd run --help)", optopt);
            return herd__usage_error("run: unknown option '%s' (see herd run --help)",
                                     argv[optind - 1]);
        }
    }
    if (optind + 1 < argc)
        return herd__usage_error("run: unexpected argument '%s' (one scenario per run)",
                                 argv[optind + 1]);
    *scenario = optind < argc ? argv[optind] : NULL; /* none: herd_request_resolve says so */
    return 0;
}

int herd__cli_seed(const char *arg, uint64_t *seed)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (!*arg || *end || arg[0] == '-' || errno == ERANGE)
        return herd__usage_error("--seed: '%s' is not allowed; allowed: a whole number from 0",
                                 arg);
    *seed = (uint64_t)v;
    return HERD_EXIT_OK;
}
