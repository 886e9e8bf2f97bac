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
#include <getopt.h>
#include <herd/error.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char serve_usage[] =
    "usage: herd serve [--listen HOST:PORT] [--log]\n"
    "\n"
    "Serve the herd page: pick a scenario, set N, trigger it naive and mitigated, on the\n"
    "simulator or live on this machine, and watch the waiters, the counters, the p99 and\n"
    "the load at the resource. Runs until interrupted (Ctrl-C), then stops cleanly.\n"
    "\n"
    "  -l, --listen HOST:PORT  where to listen (default 127.0.0.1:8080); HOST is an IPv4\n"
    "                          address, PORT 0 to 65535 (0: any free port; the URL\n"
    "                          printed says which)\n"
    "      --log               one line per request on stderr\n"
    "  -h, --help              this help\n"
    "\n"
    "Endpoints: / (the page), GET /api/scenarios, POST /api/run, GET /api/run/stream\n"
    "(Server-Sent Events), GET /metrics (Prometheus). Live runs take turns: a second\n"
    "one while one is going gets 409 with Retry-After. The server has no authentication:\n"
    "binding another address than 127.0.0.1 lets anyone who reaches it run herds here.\n";

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

int herd_cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"log", no_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *listen = "127.0.0.1:8080";
    char host[64], err[512];
    unsigned port;
    bool log = false;
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

    struct herd_server *srv;
    struct herd_server_config cfg = {.host = host,
                                     .port = port,
                                     .profile = &prof,
                                     .profile_path = fo.profile_path,
                                     .log = log};
    rc = herd_server_start(&cfg, &srv, err, sizeof err);
    if (rc < 0) {
        pthread_sigmask(SIG_UNBLOCK, &stop, NULL);
        /* A malformed address is the user's to fix; a port in use is the machine's. */
        if (rc == -HERD_EINVAL || rc == -EADDRNOTAVAIL)
            return herd__usage_error("--listen: %s", err);
        return herd__fail("serve: %s", err);
    }
    if (strncmp(host, "127.", 4) != 0)
        fprintf(stderr,
                "herd: listening on %s, not loopback: anyone who reaches it can run "
                "herds on this machine\n",
                host);
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
