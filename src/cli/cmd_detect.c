/* cmd_detect.c — `herd detect FILE`: is this spike a herd, and what synchronized it?
 * Reads request records (CSV, JSON lines) or a Prometheus query_range document
 * (src/detect/read.c), analyses them (src/detect/detect.c) and prints the report as text
 * or JSON. Keys and clients are fingerprinted as they are read: the report names hot keys
 * by fingerprint only. Exit 0 with a verdict either way; 2 when the input or a flag is
 * wrong (the message names the line and the field); 1 when the machine fails us. */
#include "cli.h"

#include "../detect/detect.h"

#include <errno.h>
#include <getopt.h>
#include <herd/error.h>
#include <string.h>

static const char detect_usage[] =
    "usage: herd detect [FILE|-] [options]\n"
    "\n"
    "Tell a herd from organic traffic in request records and name what synchronized it:\n"
    "the burst edges (how sharp, how short), how far arrivals align across clients\n"
    "(synchrony), periodicity (wall-clock boundaries, TTLs, retry timeouts), the likely\n"
    "synchronizer (ttl-expiry, cron-boundary, deploy-restart, retry-timeout,\n"
    "leader-change, broadcast-wake) with its evidence, hot keys by fingerprint, and a\n"
    "verdict herd vs organic with a confidence.\n"
    "\n"
    "Input (FILE, or stdin for - or none):\n"
    "  CSV         a header naming the columns time (or time_s, timestamp, ts), and\n"
    "              optionally client, key, status; without a header: time,client,key,status\n"
    "  JSON lines  {\"time\": 12.5, \"client\": \"web-3\", \"key\": \"user:123\", \"status\": "
    "200}\n"
    "  Prometheus  a query_range answer (curl .../api/v1/query_range?query=...): a rate\n"
    "              series, summed over its series (no clients, keys or statuses)\n"
    "  time: seconds (since the epoch or any zero) or ISO 8601; status: ok, hit, miss,\n"
    "  error, timeout, rejected, or an HTTP code. herd run --trace writes this CSV.\n"
    "  Keys and clients are hashed (SipHash-2-4, a secret of this process) as they are\n"
    "  read: no key is kept or printed.\n"
    "\n"
    "  -f, --format FMT    text (default) or json\n"
    "  -h, --help          this help\n"
    "\n"
    "examples:\n"
    "  herd run cron -b sim -m naive -n 1000 -e 3 --trace cron.csv && herd detect cron.csv\n"
    "  herd detect access.jsonl --format json\n"
    "  curl -s 'http://prom:9090/api/v1/query_range?query=rate(http_requests_total[1m])&...'"
    " | herd detect -\n";

int herd_cmd_detect(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *format = "text";
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            format = optarg;
            break;
        case 'h':
            fputs(detect_usage, stdout);
            return HERD_EXIT_OK;
        case ':':
            return herd__usage_error("%s: needs a value (see herd detect --help)",
                                     argv[optind - 1]);
        default:
            if (optopt)
                return herd__usage_error("detect: unknown option '-%c' (see herd detect --help)",
                                         optopt);
            return herd__usage_error("detect: unknown option '%s' (see herd detect --help)",
                                     argv[optind - 1]);
        }
    }
    bool json = strcmp(format, "json") == 0;
    if (!json && strcmp(format, "text") != 0)
        return herd__usage_error("--format: '%s' is not allowed; allowed: text, json", format);
    if (optind + 1 < argc)
        return herd__usage_error("detect: unexpected argument '%s' (one input per run)",
                                 argv[optind + 1]);
    const char *path = optind < argc ? argv[optind] : "-";
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f)
        return herd__usage_error("detect: cannot open '%s': %s", path, strerror(errno));
    struct herd_detect_input in;
    struct herd_detect_result res;
    char err[512];
    herd_detect_input_init(&in);
    int rc = herd_detect_read(f, f == stdin ? "stdin" : path, &in, err, sizeof err);
    if (f != stdin)
        fclose(f);
    if (rc == -HERD_EINVAL) {
        herd_detect_input_fini(&in);
        return herd__usage_error("%s", err);
    }
    if (rc == 0)
        rc = herd_detect_run(&in, &res);
    if (rc < 0) {
        herd_detect_input_fini(&in);
        return herd__fail("detect: %s", herd_strerror(rc));
    }
    rc = json ? herd_detect_write_json(stdout, &res) : herd_detect_write_text(stdout, &res);
    herd_detect_input_fini(&in);
    if (rc < 0 || fflush(stdout) != 0)
        return herd__fail("detect: cannot write the report");
    return HERD_EXIT_OK;
}
