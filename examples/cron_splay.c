/* cron_splay.c — spread a fleet's hourly job over a window with libherd.
 *
 * Prints, for a fleet of hosts running the same hourly job, when each one should fire:
 * at the boundary (the herd), with a fresh uniform jitter, and with a stable splay
 * derived from the host name. Then counts how many hosts land in the busiest second of
 * each schedule. Build against an installed libherd:
 *     cc -std=c11 cron_splay.c $(pkg-config --cflags --libs herd) -o cron_splay
 */
#include <herd/clock.h>
#include <herd/jitter.h>
#include <herd/rng.h>
#include <stdio.h>
#include <string.h>

#define HOSTS 800
#define WINDOW_S 60

static int busiest_second(const int64_t *offsets_ns, int n)
{
    int per_second[WINDOW_S] = {0}, best = 0;
    for (int i = 0; i < n; i++) {
        int s = (int)(offsets_ns[i] / HERD_NS_PER_S);
        if (++per_second[s] > best)
            best = per_second[s];
    }
    return best;
}

int main(void)
{
    static int64_t naive[HOSTS], jittered[HOSTS], splayed[HOSTS];
    struct herd_rng rng;
    char host[64];

    /* Unseeded randomness must come from a secure source: a fleet seeded from the
     * wall clock would share its "random" jitter. */
    if (herd_rng_seed_secure(&rng) != 0)
        herd_rng_seed(&rng, 1);
    for (int i = 0; i < HOSTS; i++) {
        snprintf(host, sizeof host, "web-%03d.example.internal", i);
        naive[i] = 0;
        jittered[i] = herd_jitter_window(WINDOW_S * HERD_NS_PER_S, &rng);
        /* The salt names the job, so two jobs on one host get different phases. */
        splayed[i] = herd_jitter_splay(host, strlen(host), WINDOW_S * HERD_NS_PER_S,
                                       0x686f75726c79ULL /* "hourly" */);
    }
    int64_t now = herd_clock_realtime_ns();
    int64_t next = herd_jitter_next_fire(now, 3600 * HERD_NS_PER_S, splayed[0]);
    printf("web-000 next fires in %.1f s (hourly, splayed)\n", (double)(next - now) / 1e9);
    printf("hosts in the busiest second of a %d s window, %d hosts:\n", WINDOW_S, HOSTS);
    printf("  at the boundary  %4d\n", busiest_second(naive, HOSTS));
    printf("  uniform jitter   %4d\n", busiest_second(jittered, HOSTS));
    printf("  stable splay     %4d\n", busiest_second(splayed, HOSTS));
    return busiest_second(splayed, HOSTS) < HOSTS / 4 ? 0 : 1;
}
