/* cmd_serve.c — `herd serve`: the page of seed 004 and its API on 127.0.0.1 until SIGINT
 * or SIGTERM.
 *
 * Signals: SIGINT, SIGTERM and SIGHUP are blocked before the server starts (so every
 * server thread inherits the mask and none runs a handler) and taken with sigwait() on
 * the main thread, which then stops the server: that interrupts a live run in progress,
 * waits for every request to end and closes every socket (src/web/server.h).
 */
#include "cli.h"

#include "../web/server.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <herd/error.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char serve_usage[] =
    "usage: herd serve [--listen HOST:PORT] [--token TOKEN] [--allow-host NAME]...\n"
    "                  [--max-events N] [--max-cpu SECONDS] [--sims-per-client N] [--log]\n"
    "\n"
    "Serve the herd page: pick a scenario, set N, trigger it naive and mitigated, on the\n"
    "simulator or live on this machine, and watch the waiters, the counters, the p99 and\n"
    "the load at the resource. Runs until interrupted (Ctrl-C), then stops cleanly.\n"
    "\n"
    "  -l, --listen HOST:PORT  where to listen (default 127.0.0.1:8080); HOST is an IPv4\n"
    "                          address, PORT 0 to 65535 (0: any free port; the URL\n"
    "                          printed says which)\n"
    "      --token TOKEN       every request must carry it (?token=TOKEN in the URL, then a\n"
    "                          cookie; or 'Authorization: token TOKEN'); letters, digits,\n"
    "                          -_.~; also from $HERD_TOKEN. Required off loopback: herd\n"
    "                          serve makes one and prints it once, in the URL\n"
    "      --allow-host NAME   also answer requests for Host NAME (a DNS name this machine\n"
    "                          is reached by, a proxy's); by default only 127.0.0.1,\n"
    "                          localhost, the listening address and, on 0.0.0.0, this\n"
    "                          machine's addresses and host name (repeatable)\n"
    "      --max-events N      stop a request's simulations past N simulator events in all\n"
    "                          (default 1000000000, about a minute; 422 with the reason)\n"
    "      --max-cpu SECONDS   stop a request's simulations past this much CPU time\n"
    "                          (default 120)\n"
    "      --sims-per-client N simulations one client address may run at once, 1 to 4\n"
    "                          (default 2; one more gets 429)\n"
    "      --log               one line per request on stderr\n"
    "  -h, --help              this help\n"
    "\n"
    "Endpoints: / (the page), GET /api/scenarios, POST /api/run, POST /api/run/stream\n"
    "(Server-Sent Events), GET /metrics (Prometheus). Live runs take turns: a second\n"
    "one while one is going gets 409 with Retry-After. Requests from other sites' pages\n"
    "and for other Host names are refused; off loopback, anyone who has the token can\n"
    "run herds on this machine.\n";

/* "HOST:PORT" → host (copied into @p host) and port. @return 0 or -1. */
static int parse_listen(const char *text, char *host, size_t hostlen, unsigned *port)
{
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || (size_t)(colon - text) >= hostlen)
        return -1;
    char *end;
    errno = 0;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || p > 65535 || colon[1] == '-' || colon[1] == '+')
        return -1;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    if (strcmp(host, "localhost") == 0)
        snprintf(host, hostlen, "127.0.0.1");
    *port = (unsigned)p;
    return 0;
}

/* @p text as a whole number from @p lo to @p hi: decimal digits only. @return 0 or -1. */
static int parse_count(const char *text, unsigned long long lo, unsigned long long hi,
                       unsigned long long *out)
{
    size_t n = strspn(text, "0123456789");
    if (n == 0 || n > 19 || text[n] != '\0')
        return -1;
    unsigned long long v = strtoull(text, NULL, 10);
    if (v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* A token of 32 hex digits from /dev/urandom into @p out (33 bytes). @return 0 or -1. */
static int make_token(char out[33])
{
    unsigned char b[16];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, b, sizeof b);
    close(fd);
    if (n != (ssize_t)sizeof b)
        return -1;
    for (size_t i = 0; i < sizeof b; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
    return 0;
}

int herd_cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"log", no_argument, NULL, 'L'},
        {"token", required_argument, NULL, 'T'},
        {"allow-host", required_argument, NULL, 'A'},
        {"max-events", required_argument, NULL, 'E'},
        {"max-cpu", required_argument, NULL, 'C'},
        {"sims-per-client", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *listen = "127.0.0.1:8080";
    char host[64], err[512];
    unsigned port;
    bool log = false;
    const char *token = getenv("HERD_TOKEN");
    const char *allow[17] = {NULL};
    size_t nallow = 0;
    unsigned long long max_events = 0, max_cpu = 0, sims = 0;
    char made[33];
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":l:h", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            listen = optarg;
            break;
        case 'L':
            log = true;
            break;
        case 'T':
            token = optarg;
            break;
        case 'A':
            if (nallow + 1 == sizeof allow / sizeof allow[0])
                return herd__usage_error("--allow-host: at most %zu names", nallow);
            if (!optarg[0] || strpbrk(optarg, ":/ \t"))
                return herd__usage_error("--allow-host: expected a host name without port or "
                                         "scheme, got '%s'",
                                         optarg);
            allow[nallow++] = optarg;
            break;
        case 'E':
            if (parse_count(optarg, 1, 1000000000000000ULL, &max_events) < 0)
                return herd__usage_error("--max-events: expected a whole number from 1 to "
                                         "10^15, got '%s'",
                                         optarg);
            break;
        case 'C':
            if (parse_count(optarg, 1, 86400, &max_cpu) < 0)
                return herd__usage_error("--max-cpu: expected whole seconds from 1 to 86400, "
                                         "got '%s'",
                                         optarg);
            break;
        case 'S':
            if (parse_count(optarg, 1, HERD_SERVER_SIMS_MAX, &sims) < 0)
                return herd__usage_error("--sims-per-client: expected a whole number from 1 "
                                         "to %d, got '%s'",
                                         HERD_SERVER_SIMS_MAX, optarg);
            break;
        case 'h':
            fputs(serve_usage, stdout);
            return HERD_EXIT_OK;
        case ':':
            return herd__usage_error("%s: needs a value (see herd serve --help)", argv[optind - 1]);
        default:
            return herd__usage_error("serve: unknown option '%s' (see herd serve --help)",
                                     argv[optind - 1]);
        }
    }
    if (optind < argc)
        return herd__usage_error("serve: unexpected argument '%s' (see herd serve --help)",
                                 argv[optind]);
    if (parse_listen(listen, host, sizeof host, &port) < 0)
        return herd__usage_error("--listen: expected HOST:PORT with an IPv4 address and a port "
                                 "0 to 65535, got '%s'",
                                 listen);

    /* The simulator's costs as herd run loads them (herd calibrate's profile). */
    struct herd_profile prof;
    struct herd_front_opts fo;
    char prof_path[4096];
    int rc = herd__cli_front_opts(&fo, &prof, prof_path, sizeof prof_path, true);
    if (rc != HERD_EXIT_OK)
        return rc;

    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* Off loopback a token is required (as Jupyter's): made here unless given. */
    bool loopback = strncmp(host, "127.", 4) == 0;
    if (token && !token[0])
        token = NULL;
    if (!loopback && !token) {
        if (make_token(made) < 0)
            return herd__fail("serve: cannot read /dev/urandom for a token: %s", strerror(errno));
        token = made;
    }

    struct herd_server *srv;
    struct herd_server_config cfg = {.host = host,
                                     .port = port,
                                     .profile = &prof,
                                     .profile_path = fo.profile_path,
                                     .log = log,
                                     .token = token,
                                     .allow_hosts = allow,
                                     .sims_per_ip = (unsigned)sims,
                                     .max_events = max_events,
                                     .max_cpu_s = (double)max_cpu};
    rc = herd_server_start(&cfg, &srv, err, sizeof err);
    if (rc < 0) {
        pthread_sigmask(SIG_UNBLOCK, &stop, NULL);
        /* A malformed address is the user's to fix; a port in use is the machine's. */
        if (rc == -HERD_EINVAL || rc == -EADDRNOTAVAIL)
            return herd__usage_error("%s: %s", strstr(err, "token") ? "--token" : "--listen", err);
        return herd__fail("serve: %s", err);
    }
    if (!loopback)
        fprintf(stderr,
                "herd: listening on %s, not loopback: anyone who has the token can run herds "
                "on this machine%s\n",
                host, token == made ? " (a new token: printed once, below)" : "");
    /* The token once, in the URL, as Jupyter prints it. */
    if (token)
        printf("herd: serving http://%s:%u/?token=%s\n",
               strcmp(host, "0.0.0.0") == 0 ? "127.0.0.1" : host, herd_server_port(srv), token);
    else
        printf("herd: serving http://%s:%u/\n", host, herd_server_port(srv));
    fflush(stdout);

    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    fprintf(stderr, "herd: %s: stopping\n", strsignal(sig));
    herd_server_stop(srv);
    pthread_sigmask(SIG_UNBLOCK, &stop, NULL);
    return HERD_EXIT_OK;
}
