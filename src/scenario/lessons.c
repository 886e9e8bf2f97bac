/* lessons.c — the field guide's questions (lessons.h): the table, and reading answers.
 *
 * Every question of seed 000 that asks the reader to pick or to think is here, in the
 * guide's order, with the guide's answer; the evidence names the claims (checked in CI by
 * tests/sim/test_field_guide.c) that settle it. Quoted text is the guide's.
 */
#include "lessons.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct herd_lesson lessons[] = {
    {
        .name = "worse",
        .section = "What a thundering herd is",
        .setting = "At 9:00 sharp the coffee shop's door opens and everyone rushes the "
                   "counter. Here: a service of 2,000 req/s gets 20,000 requests in one "
                   "second.",
        .question = "What makes a herd worse: (A) more clients, (B) tighter "
                    "synchronization, or (C) slower dependency? (You can pick multiple.)",
        .choices = {{"A", "more clients", "more-clients"},
                    {"B", "tighter synchronization", "naive"},
                    {"C", "slower dependency", "slower-drain"}},
        .multi = true,
        .answer = "A+B+C",
        .because = "All three: the backlog is the burst's size over the drain's width, so "
                   "twice the clients or half the drain doubles it, and the same requests "
                   "spread out (less synchronized) leave no backlog at all. The guide's "
                   "runbook definition: a large number of clients wake up or retry at the "
                   "same time and hit the same dependency, causing a load spike and "
                   "cascading failures. It is synchronized traffic, not just high traffic.",
        .evidence = "bathtub:1,6,7,8",
        .versus = "spread",
        .tries = {"herd run bathtub --mitigation spread",
                  "herd run bathtub --set components.api.workers=8"},
    },
    {
        .name = "accidental-sync",
        .section = "Accidental synchronization",
        .setting = "1,000 hosts run the same cron job; the synchronization is accidental.",
        .question = "Which of these is most likely to produce accidental synchronization? "
                    "Pick all that apply.",
        .choices = {{"1", "randomized exponential backoff", NULL},
                    {"2", "cron jobs at the top of the minute on every host", "naive"},
                    {"3", "the same TTL on keys filled together", NULL},
                    {"4", "the same retry timeout on every client", NULL}},
        .multi = true,
        .open = true,
        .answer = "2+3+4",
        .because = "Uniformity: the same timers, the same TTLs, the same triggers. "
                   "Randomized exponential backoff is designed to break synchronization. "
                   "(The guide lists the choices elsewhere; herd's four are its examples.)",
        .evidence = "accidental-sync cache-stampede:1 retry-after-500s:1",
        .versus = "jitter",
        .tries = {"herd run accidental-sync --mitigation skew",
                  "herd run field-guide/retry-after-500s"},
    },
    {
        .name = "lock-storm",
        .section = "The lock retry storm",
        .setting = "5,000 workers coordinate through a distributed lock in ZooKeeper; at "
                   "time T they all try it, with the same timeout, and the lock service "
                   "slows as its load grows.",
        .question = "What's the most dangerous part? A) Everyone tries once B) Everyone "
                    "retries with the same timeout C) The lock service gets slower, "
                    "increasing timeouts",
        .choices = {{"A", "everyone tries once", "once"},
                    {"B", "everyone retries with the same timeout", "naive"},
                    {"C", "the lock service gets slower, increasing timeouts", "slowing"}},
        .multi = true,
        .answer = "B+C",
        .because = "Together they make positive feedback: slower dependency, more "
                   "timeouts, more retries, even slower. Herds become outages when they "
                   "couple with timeouts and retries.",
        .evidence = "lock-storm:1,2,9,10,5,6",
        .versus = "queue+jitter",
        .tries = {"herd run field-guide/lock-storm --mitigation queue+jitter",
                  "herd run field-guide/lock-storm --mitigation jitter"},
    },
    {
        .name = "matching",
        .section = "Herds in many costumes",
        .setting = "The same crowd dynamic behind different events.",
        .question = "Match the trigger to the herd type.",
        .items = {"cache entry expires at the same second across the fleet",
                  "load balancer restarts and drops all connections",
                  "ZooKeeper session expires for the leader"},
        .choices = {{"A", "connection storm", NULL},
                    {"B", "cache stampede", NULL},
                    {"C", "leader election", NULL}},
        .answer = "B,A,C",
        .because = "An expiry makes a cache stampede, a dropped connection pool a "
                   "connection storm, a lost session a leader election; herds are often "
                   "cross-layer (a network event triggers reconnects, which trigger auth, "
                   "which triggers database load).",
        .evidence = "cache-stampede:1 lb-restart:1,3 leader-failover:1,7",
        .versus = "coalesce",
        .tries = {"herd run field-guide/lb-restart", "herd run field-guide/leader-failover"},
    },
    {
        .name = "spike-shape",
        .section = "What a herd looks like",
        .setting = "You see a latency spike on your database: a sharp, short, rectangular "
                   "jump in requests.",
        .question = "Which statement is most likely true?",
        .choices = {{"1", "organic growth in traffic", NULL},
                    {"2", "a herd: many clients reacting to one coordinated trigger", NULL},
                    {"3", "the database is under-provisioned", NULL}},
        .open = true,
        .answer = "2",
        .because = "Organic growth rarely creates a sharp, short, rectangular spike; herd "
                   "events often do. 2 does not exclude 3: under-provisioning makes the "
                   "herd more damaging. (The guide's statements are not in its text; "
                   "herd's three are its answer and the two it contrasts.)",
        .evidence = "accidental-sync:1,2",
        .versus = "jitter",
        .tries = {"herd run accidental-sync --format json"},
    },
    {
        .name = "bathtub",
        .section = "Burstiness: the bathtub",
        .setting = "A service handles 2,000 req/s; a herd sends 20,000 requests in one "
                   "second on top of its normal traffic.",
        .question = "If a service can handle 2,000 req/s, and a herd sends 20,000 requests "
                    "in 1 second, what happens?",
        .choices = {{"A", "the service is overloaded for one second, then all is normal", NULL},
                    {"B", "a backlog of about 10 seconds, even if no more requests arrive", NULL},
                    {"C", "18,000 requests are lost at once", NULL}},
        .open = true,
        .answer = "B",
        .because = "You've created a ~10-second backlog even if no more requests arrive. "
                   "In real systems more requests keep arriving, and retries add more "
                   "water: burstiness is what queueing systems punish with tail latency.",
        .evidence = "bathtub:1,2,3,4",
        .versus = "retries",
        .tries = {"herd run field-guide/bathtub --mitigation retries",
                  "herd run field-guide/bathtub --mitigation double-capacity"},
    },
    {
        .name = "drain-or-dump",
        .section = "Burstiness: the bathtub",
        .setting = "The same bathtub: 2,000 req/s of drain, 20,000 requests in a second.",
        .question = "What's more effective: increasing drain size (capacity) or preventing "
                    "bucket dumps (desynchronization)?",
        .choices = {{"A", "a drain twice as wide (double capacity)", "double-capacity"},
                    {"B", "the same requests spread over 20 s (desynchronization)", "spread"}},
        .open = true,
        .answer = "B",
        .because = "Doubling the drain halves the backlog but a backlog remains; spreading "
                   "the same work leaves none. Capacity is the right first move when the "
                   "load is organic or the trigger cannot be changed.",
        .evidence = "bathtub:5,6",
        .versus = "spread",
        .tries = {"herd run field-guide/bathtub --mitigation spread"},
    },
    {
        .name = "root-synchronizer",
        .section = "Cache stampede",
        .setting = "Your API uses Redis as a cache in front of Postgres. user:123 is cached "
                   "for 60 seconds. At t=60s the key expires.",
        .question = "Which is the root synchronizer here? A) Redis is slow B) TTL expiry "
                    "aligns requests C) Postgres is too small",
        .choices = {{"A", "Redis is slow", "bigger-redis"},
                    {"B", "TTL expiry aligns requests", "coalesce"},
                    {"C", "Postgres is too small", "replicas"}},
        .answer = "B",
        .because = "Redis being slow or Postgres being small are amplifiers, but the "
                   "synchronizer is TTL alignment. A larger Redis cluster does not solve "
                   "the stampede: what reaches the database is the misses, and they come "
                   "all at once.",
        .evidence = "cache-stampede:1,4,6",
        .versus = "coalesce",
        .tries = {"herd run field-guide/cache-stampede --mitigation bigger-redis",
                  "herd run field-guide/cache-stampede --mitigation coalesce"},
    },
    {
        .name = "decision-game",
        .section = "The mitigation toolbox",
        .setting = "You can implement only two mitigations this quarter. Your main failure "
                   "is cache stampede (Redis in front of Postgres, a 60 s TTL).",
        .question = "Pick two: A) Add DB replicas B) Add jitter to TTLs C) Implement "
                    "request coalescing D) Increase cache TTL from 60s to 10m",
        .choices = {{"A", "add DB replicas", "replicas"},
                    {"B", "add jitter to TTLs", "jitter"},
                    {"C", "implement request coalescing", "coalesce"},
                    {"D", "increase cache TTL from 60s to 10m", "ttl-10m"}},
        .multi = true,
        .answer = "B+C",
        .because = "Best default picks: B + C. DB replicas help but can still be herded and "
                   "cost more; a longer TTL helps but risks staleness and still herds at "
                   "10-minute boundaries unless jittered. Effective mitigations either "
                   "reduce synchronization or reduce contention scope.",
        .evidence = "cache-stampede:1,2,3,4,5",
        .versus = "jitter+coalesce",
        .tries = {"herd run field-guide/cache-stampede --mitigation jitter+coalesce",
                  "herd run field-guide/cache-stampede --mitigation replicas+ttl-10m"},
    },
    {
        .name = "double-capacity",
        .section = "Misconception: scale it away",
        .setting = "\"If we scale the database/Redis/Kafka enough, herds go away.\"",
        .question = "If you double capacity, do you necessarily eliminate a herd? Why?",
        .choices = {{"A", "yes: twice the capacity absorbs the burst", "replicas"},
                    {"B", "no: the burst and its synchronization remain", "coalesce"}},
        .open = true,
        .answer = "B",
        .because = "Capacity helps, but herds are about burstiness and coordination: twice "
                   "the database still takes most of the stampede's queries and still "
                   "queues. Scaling is an amplifier control, not a synchrony control. Add "
                   "capacity first when the load is organic or the herd cannot be "
                   "desynchronized in time.",
        .evidence = "cache-stampede:4,5 bathtub:5",
        .versus = "replicas",
        .tries = {"herd run field-guide/cache-stampede --mitigation replicas"},
    },
    {
        .name = "recovery",
        .section = "Retries after 500s",
        .setting = "A downstream service returns 500s for 2 seconds. At t=0 many requests "
                   "fail; at t=2s they all retry, onto a service still recovering.",
        .question = "Why does recovery take longer?",
        .choices = {{"A", "the retries land exactly when the service is weakest", NULL},
                    {"B", "the 500s leave the service in a broken state", NULL},
                    {"C", "the clients stop retrying", NULL}},
        .open = true,
        .answer = "A",
        .because = "Because the recovering service experiences load exactly when it is "
                   "weakest: caches are cold, JIT is warming, connections are being "
                   "re-established. A retry policy is a distributed coordination "
                   "mechanism; bad retries coordinate clients to fail together.",
        .evidence = "retry-after-500s",
        .versus = "jitter",
        .tries = {"herd run field-guide/retry-after-500s --mitigation budget"},
    },
    {
        .name = "coalescing-price",
        .section = "Request coalescing",
        .setting = "A table of 10 sends one person to the counter: one fill per key, the "
                   "others wait for it.",
        .question = "What's the main downside of coalescing? A) Higher tail latency for "
                    "waiters B) Increased DB load C) More cache misses",
        .choices = {{"A", "higher tail latency for waiters", "coalesce"},
                    {"B", "increased DB load", NULL},
                    {"C", "more cache misses", NULL}},
        .answer = "A",
        .because = "Waiters pay extra latency: they all wait for the one fill, a slow one "
                   "included, where without coalescing the fastest of many duplicate "
                   "queries refills the key. But the system's stability improves: the "
                   "database load falls, and with it the queue a herd builds. Coalescing "
                   "trades latency for stability; serving stale while one refresh runs "
                   "takes the wait away where stale data is allowed.",
        .evidence = "coalescing cache-stampede:1,2",
        .versus = "coalesce",
        .tries = {"herd run field-guide/coalescing --mitigation all",
                  "herd run field-guide/coalescing --mitigation coalesce --set "
                  "components.db.sigma=0.1"},
    },
    {
        .name = "serve-stale",
        .section = "Serve stale, refresh in the background",
        .setting = "If the bakery is overwhelmed at 9:00, sell yesterday's croissants while "
                   "the fresh batch bakes.",
        .question = "Why does serving stale reduce herd risk?",
        .choices = {{"A", "it prevents a synchronized miss event", "soft-ttl"},
                    {"B", "stale values are cheaper to store", NULL},
                    {"C", "it makes the cache faster", "bigger-redis"}},
        .open = true,
        .answer = "A",
        .because = "Because it prevents a synchronized miss: nobody is forced onto the "
                   "recomputation path at the same moment. A soft TTL converts a hard "
                   "cliff into a slope, at the price of stale data, and it cannot help "
                   "when there is nothing stale to serve (after a flush).",
        .evidence = "cache-stampede:7,8,9 coalescing:4,5",
        .versus = "soft-ttl",
        .tries = {"herd run field-guide/cache-stampede --mitigation soft-ttl"},
    },
    {
        .name = "watch-vs-poll",
        .section = "Misconception: notifications are always better",
        .setting = "You replace polling with watch notifications for a lock.",
        .question = "What new failure mode might you introduce?",
        .choices = {{"A", "a wake-up storm: every release wakes every watcher", "naive"},
                    {"B", "missed updates", NULL},
                    {"C", "more steady-state load than polling", "poll"}},
        .open = true,
        .answer = "A",
        .because = "Broadcast notifications can create a wake-up storm. Polling is "
                   "inefficient but spreads load when its intervals are randomized; if you "
                   "must notify, notify one (each waiter watches its predecessor).",
        .evidence = "lock-storm:2,3,4,7",
        .versus = "queue",
        .tries = {"herd run field-guide/lock-storm --mitigation queue",
                  "herd run lock-herd --mitigation all"},
    },
    {
        .name = "leader",
        .section = "Leader election",
        .setting = "You use ZooKeeper/etcd/Consul for leader election; the leader dies. "
                   "Elections, watch notifications, reconnects and downstream load stack "
                   "up.",
        .question = "Which component is most at risk? A) The coordination service "
                    "(etcd/ZK) B) The new leader C) The clients",
        .choices = {{"A", "the coordination service (etcd/ZK)", NULL},
                    {"B", "the new leader", NULL},
                    {"C", "the clients", NULL}},
        .multi = true,
        .answer = "A+B",
        .because = "Often A and B: the coordination service takes every campaign, watch "
                   "and reconnect at once, and the new leader inherits every client. "
                   "Coordination events are global triggers; randomized election timeouts "
                   "shrink the election's herd.",
        .evidence = "leader-failover:1,2,4,5,7,8",
        .versus = "randomized",
        .tries = {"herd run field-guide/leader-failover --mitigation small-jitter"},
    },
    {
        .name = "token-jitter",
        .section = "Jitter strategies",
        .setting = "You manage 50,000 instances that refresh tokens every 60 minutes, all "
                   "deployed at the same time; tokens live 75 minutes here.",
        .question = "Which strategy best reduces herd risk while keeping average refresh "
                    "near 60 minutes?",
        .choices = {{"1", "no jitter", "naive"},
                    {"2", "a 1-minute jitter window", "jitter-1m"},
                    {"3", "a 10-minute jitter window", "jitter-10m"},
                    {"4", "maximal spreading: the whole 60-minute period", "spread-60m"}},
        .open = true,
        .answer = "4",
        .because = "Generally best: 4, maximal spreading, but it depends on token expiry: "
                   "if tokens must refresh before expiry, pick a window that keeps the "
                   "margin. A refresh lands at most `window` after its boundary, so the "
                   "longest gap is 60 min + window: with 75-minute tokens 10 minutes is "
                   "safe and the whole period (up to 120 min) is not. Jitter trades "
                   "predictability for stability.",
        .evidence = "token-refresh",
        .versus = "jitter-10m",
        .tries = {"herd run field-guide/token-refresh --mitigation spread-60m"},
    },
    {
        .name = "tls",
        .section = "Connection storms",
        .setting = "A load balancer restarts, dropping 100,000 idle connections; clients "
                   "reconnect immediately.",
        .question = "Why is TLS a herd amplifier?",
        .choices = {{"A", "handshakes are CPU-expensive and share resources", NULL},
                    {"B", "TLS packets are larger", NULL},
                    {"C", "certificates expire at once", NULL}},
        .open = true,
        .answer = "A",
        .because = "TLS handshakes are CPU-expensive and often involve shared resources, "
                   "so a reconnect storm attacks the control plane (handshakes, auth), not "
                   "just the data plane; jittered reconnects, draining, handshake rate "
                   "limits and session resumption each break it.",
        .evidence = "lb-restart:1,2,3,4,6",
        .versus = "jitter",
        .tries = {"herd run field-guide/lb-restart --mitigation resumption",
                  "herd run field-guide/lb-restart --mitigation drain"},
    },
    {
        .name = "cascade",
        .section = "Cascades",
        .setting = "Service A calls B calls C (a DB); A has 10,000 RPS, B has a cache. A "
                   "small stampede in B slows C; B retries, A retries.",
        .question = "Where should you stop the herd? A) At the DB B) At B (closest to the "
                    "cache) C) At A (at the edge)",
        .choices = {{"A", "at the DB", "at-c"},
                    {"B", "at B, closest to the cache", "at-b"},
                    {"C", "at A, the edge", "at-a"}},
        .multi = true,
        .answer = "B+C",
        .because = "Multiple layers, but the highest leverage is closest to the trigger (B) "
                   "plus edge protection (A). Stopping it only at the DB leaves the "
                   "retries multiplying upstream. Herds are contagious: design bulkheads.",
        .evidence = "cascade-abc",
        .versus = "at-b+at-a",
        .tries = {"herd run field-guide/cascade-abc --mitigation budget",
                  "herd run cascade-3tier --mitigation breaker"},
    },
    {
        .name = "no-stale",
        .section = "Choosing by correctness",
        .setting = "Seed 000's comparison table of techniques.",
        .question = "Which row would you choose if you cannot serve stale data but can "
                    "tolerate extra latency under miss?",
        .choices = {{"A", "jitter (TTL/retry)", "jitter"},
                    {"B", "request coalescing (singleflight)", "coalesce"},
                    {"C", "serve stale (soft TTL)", "soft-ttl"},
                    {"D", "more capacity (replicas)", "replicas"}},
        .open = true,
        .answer = "B",
        .because = "Request coalescing, plus jitter/backoff, are the first safe moves: "
                   "coalescing serves no stale data and pays in waiters' latency. Serving "
                   "stale is ruled out by the constraint (it serves stale copies).",
        .evidence = "cache-stampede:1,3,8",
        .versus = "coalesce",
        .tries = {"herd run field-guide/cache-stampede --mitigation coalesce"},
    },
    {
        .name = "pr-review",
        .section = "Reviewing a PR",
        .setting = "You're reviewing a PR that changes retry logic and cache semantics.",
        .question = "Pick the true statements.",
        .choices = {{"1", "retries without jitter are safe when capped at a few attempts", NULL},
                    {"2", "jitter delays some requests but protects the system's tail", NULL},
                    {"3", "a longer TTL removes the stampede", NULL},
                    {"4", "coalescing cuts database load and makes waiters wait", NULL}},
        .multi = true,
        .open = true,
        .answer = "2+4",
        .because = "True: 2 and 4. Many herd mitigations improve the system's latency "
                   "distribution at the cost of some request latency. Capped retries "
                   "still align (the 500s' wave is five aligned attempts), and a longer "
                   "TTL moves the boundary without removing it.",
        .evidence = "retry-after-500s:1,3,4 cache-stampede:1",
        .versus = "jitter",
        .tries = {"herd run field-guide/retry-after-500s"},
    },
    {
        .name = "detect",
        .section = "Detecting a herd on call",
        .setting = "You're on call. Something spiked. You need to know if it's a herd.",
        .question = "What's one metric that differentiates \"herd\" from \"organic "
                    "traffic\"? (Hint: correlation.)",
        .choices = {{"A", "the request rate", NULL},
                    {"B", "how far arrivals align across clients, and the burst's edge", NULL},
                    {"C", "CPU utilisation", NULL}},
        .open = true,
        .answer = "B",
        .because = "Herds are about correlation and burst edges (a sharp jump in a short "
                   "time): many clients acting in the same instant. Find the synchronizer: "
                   "TTL boundary, deploy, leader election, network flap.",
        .evidence = "accidental-sync:1,2,4",
        .versus = "jitter",
        .tries = {"herd run field-guide/accidental-sync --mode naive --trace t.csv && herd detect "
                  "t.csv",
                  "herd run field-guide/accidental-sync --mode mitigated --mitigation jitter "
                  "--trace j.csv && herd detect j.csv"},
    },
    {
        .name = "global-sync",
        .section = "Structural resilience",
        .setting = "You want herd resilience to be structural, not a pile of patches.",
        .question = "Which of these reduces global synchronization points the most? A) One "
                    "global lock B) Sharded locks per partition C) Broadcast notifications "
                    "to all clients",
        .choices = {{"A", "one global lock", "naive"},
                    {"B", "sharded locks per partition", "sharded"},
                    {"C", "broadcast notifications to all clients", NULL}},
        .answer = "B",
        .because = "Sharded locks per partition: each release concerns a partition's "
                   "waiters only. The herd can also be absorbed before the shared tier: "
                   "an L1 in front of L2.",
        .evidence = "lock-storm:8 hot-keys:3",
        .versus = "sharded",
        .tries = {"herd run field-guide/hot-keys --mitigation l1"},
    },
    {
        .name = "hot-keys",
        .section = "Hot keys",
        .setting = "Even with jittered TTLs, one key is requested 1,000x more than others: "
                   "the VIP croissant.",
        .question = "Why do hot keys make herds more likely?",
        .choices = {{"A", "they concentrate demand, so one miss is a big herd", NULL},
                    {"B", "hot keys expire sooner", NULL},
                    {"C", "they are more expensive to compute", NULL}},
        .open = true,
        .answer = "A",
        .because = "Hot keys concentrate demand, making any miss or expiry "
                   "disproportionately impactful: herd risk is proportional to fan-in. "
                   "An L1, key replication and coalescing each cut the fan-in.",
        .evidence = "hot-keys",
        .versus = "l1+coalesce",
        .tries = {"herd run field-guide/hot-keys --mitigation coalesce"},
    },
    {
        .name = "checkout",
        .section = "Correctness constraints",
        .setting = "You operate an e-commerce checkout. Inventory must not be served stale "
                   "(here: at most 2 s old); the catalog may be a minute old. A deploy "
                   "flushes the caches.",
        .question = "Pick a plan: A) Increase TTL to 5 minutes for all keys. B) Add per-key "
                    "singleflight for inventory keys; add jittered TTL for non-critical "
                    "keys. C) Serve stale inventory for 1 minute. D) Add more DB replicas "
                    "only.",
        .choices = {{"A", "increase TTL to 5 minutes for all keys", "plan-a"},
                    {"B", "per-key singleflight for inventory, jittered TTL for the rest",
                     "plan-b"},
                    {"C", "serve stale inventory for 1 minute", "plan-c"},
                    {"D", "add more DB replicas only", "plan-d"}},
        .answer = "B",
        .because = "Best: B. Correctness constraints determine which herd mitigations are "
                   "legal: A and C serve inventory older than the constraint allows, D "
                   "holds only by doubling the database and still sends it several times "
                   "B's queries. If singleflight's waiting breaks the SLA: relax it, add "
                   "capacity, or change the UX (show \"checking stock\").",
        .evidence = "checkout",
        .versus = "plan-b",
        .tries = {"herd run field-guide/checkout --mitigation all --check",
                  "herd run field-guide/checkout --mitigation plan-b+plan-d"},
    },
    {
        .name = "feature-flags",
        .section = "Design challenge: a feature-flag service",
        .setting = "You are building a distributed feature flag service: 10,000 instances "
                   "start together, every config push tells all of them to refetch, and the "
                   "load balancer in front restarts now and then.",
        .question = "Design a plan that avoids thundering herds across start-up, config "
                    "pushes and reconnects. Which plan holds?",
        .choices = {{"A", "fetch at start-up and on every push at once, reconnect at once",
                     "naive"},
                    {"B", "jitter the fetches only", "jitter"},
                    {"C", "jitter the reconnects only", "reconnect"},
                    {"D", "jittered fetches, jittered reconnects and TLS session resumption",
                     "plan"}},
        .open = true,
        .answer = "D",
        .because = "Herd resilience is a system property: timing (jittered fetches after a "
                   "push or a start), connections (jittered reconnects, resumption) and "
                   "protection must align. Each half alone leaves the other herd: jittered "
                   "fetches still open every connection at once, jittered reconnects still "
                   "fetch all at once.",
        .evidence = "feature-flags",
        .versus = "plan",
        .tries = {"herd run field-guide/feature-flags --mitigation all --check",
                  "herd run field-guide/feature-flags --mitigation plan --set "
                  "components.instances.jitter=2s"},
    },
    {
        .name = "hedging",
        .section = "Misconception: hedge everything",
        .setting = "\"If p99 is bad, send duplicates (hedge) and take the fastest "
                   "response.\" You enable hedging globally during peak traffic.",
        .question = "What happens during a partial outage?",
        .choices = {{"A", "hedges multiply the load on the struggling service", "hedge"},
                    {"B", "the fastest replica absorbs the hedges", NULL},
                    {"C", "nothing: hedges only cut latency", NULL}},
        .open = true,
        .answer = "A",
        .because = "Hedging reduces tail latency in stable systems but amplifies herds "
                   "during partial outages: every slow call becomes two. It must be gated "
                   "by load and errors (a hedge budget).",
        .evidence = "hedging-outage",
        .versus = "hedge-gated",
        .tries = {"herd run field-guide/hedging-outage --mitigation hedge-gated"},
    },
};

size_t herd_lesson_count(void)
{
    return sizeof lessons / sizeof lessons[0];
}

const struct herd_lesson *herd_lesson_at(size_t i)
{
    return i < herd_lesson_count() ? &lessons[i] : NULL;
}

const struct herd_lesson *herd_lesson_find(const char *name)
{
    for (size_t i = 0; name && i < herd_lesson_count(); i++)
        if (strcmp(lessons[i].name, name) == 0)
            return &lessons[i];
    return NULL;
}

static int nchoices(const struct herd_lesson *l)
{
    int n = 0;
    while (n < HERD_LESSON_CHOICES && l->choices[n].key)
        n++;
    return n;
}

static int nitems(const struct herd_lesson *l)
{
    int n = 0;
    while (n < HERD_LESSON_ITEMS && l->items[n])
        n++;
    return n;
}

const struct herd_lesson_choice *herd_lesson_choice(const struct herd_lesson *l, const char *key)
{
    for (int i = 0; l && key && i < nchoices(l); i++)
        if (strcasecmp(l->choices[i].key, key) == 0)
            return &l->choices[i];
    return NULL;
}

/* The allowed keys, "A, B, C", into @p buf. */
static const char *keys(const struct herd_lesson *l, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < nchoices(l) && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", l->choices[i].key);
    return buf;
}

int herd_lesson_answer(const struct herd_lesson *l, const char *text, char *out, size_t outlen,
                       char *err, size_t errlen)
{
    char allowed[64];
    int nc = nchoices(l), ni = nitems(l);
    int picked[HERD_LESSON_CHOICES] = {0}, seq[HERD_LESSON_ITEMS], ns = 0, np = 0;
    if (!text)
        text = "";
    for (const char *p = text; *p;) {
        if (isspace((unsigned char)*p) || *p == '+' || *p == ',' || *p == '/' || *p == '&') {
            p++;
            continue;
        }
        char tok[16];
        size_t t = 0;
        while (*p && isalnum((unsigned char)*p) && t + 1 < sizeof tok)
            tok[t++] = *p++;
        tok[t] = '\0';
        if (t == 0 || (*p && isalnum((unsigned char)*p))) {
            snprintf(err, errlen, "--answer: '%s' is not allowed; allowed: %s%s", text,
                     ni         ? "one of "
                     : l->multi ? "any of "
                                : "one of ",
                     keys(l, allowed, sizeof allowed));
            return -1;
        }
        /* "BC" or "234" as shorthand for B+C, 2+3+4 when every key is one character. */
        size_t parts = strlen(tok);
        bool single = true;
        for (int i = 0; i < nc; i++)
            single &= strlen(l->choices[i].key) == 1;
        if (!single || herd_lesson_choice(l, tok))
            parts = 1;
        for (size_t k = 0; k < parts; k++) {
            char one[16];
            snprintf(one, sizeof one, "%.*s", parts == 1 ? (int)t : 1, tok + k);
            int idx = -1;
            for (int i = 0; i < nc; i++)
                if (strcasecmp(l->choices[i].key, one) == 0)
                    idx = i;
            if (idx < 0) {
                snprintf(err, errlen, "--answer: '%s' is not a choice; allowed: %s", one,
                         keys(l, allowed, sizeof allowed));
                return -1;
            }
            if (ni) {
                if (ns >= ni) {
                    snprintf(err, errlen,
                             "--answer: '%s' has more than %d picks; allowed: one of %s per "
                             "trigger, in order (e.g. %s)",
                             text, ni, keys(l, allowed, sizeof allowed), l->answer);
                    return -1;
                }
                seq[ns++] = idx;
            } else {
                if (picked[idx]) {
                    snprintf(err, errlen, "--answer: '%s' is picked twice", one);
                    return -1;
                }
                picked[idx] = 1;
                np++;
            }
        }
    }
    if (ni && ns != ni) {
        snprintf(err, errlen,
                 "--answer: '%s' matches %d of %d triggers; allowed: one of %s "
                 "per trigger, in order",
                 text, ns, ni, keys(l, allowed, sizeof allowed));
        return -1;
    }
    if (!ni && np == 0) {
        snprintf(err, errlen, "--answer: nothing picked; allowed: %s%s",
                 l->multi ? "any of " : "one of ", keys(l, allowed, sizeof allowed));
        return -1;
    }
    if (!ni && !l->multi && np > 1) {
        snprintf(err, errlen, "--answer: '%s' picks %d; this question takes one of %s", text, np,
                 keys(l, allowed, sizeof allowed));
        return -1;
    }
    size_t o = 0;
    out[0] = '\0';
    if (ni) {
        for (int i = 0; i < ns && o < outlen; i++)
            o +=
                (size_t)snprintf(out + o, outlen - o, "%s%s", i ? "," : "", l->choices[seq[i]].key);
    } else {
        for (int i = 0, k = 0; i < nc && o < outlen; i++)
            if (picked[i])
                o += (size_t)snprintf(out + o, outlen - o, "%s%s", k++ ? "+" : "",
                                      l->choices[i].key);
    }
    return 0;
}

bool herd_lesson_correct(const struct herd_lesson *l, const char *canon)
{
    return l && canon && strcasecmp(l->answer, canon) == 0;
}

int herd_lesson_evidence(const struct herd_lesson *l, int i, char *file, size_t filelen,
                         int *claims, int maxclaims, int *nclaims)
{
    const char *p = l->evidence;
    for (int k = 0;; k++) {
        while (*p == ' ')
            p++;
        if (!*p)
            return -1;
        const char *end = strchr(p, ' ');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (k == i) {
            const char *colon = memchr(p, ':', len);
            size_t fl = colon ? (size_t)(colon - p) : len;
            snprintf(file, filelen, "%.*s", (int)fl, p);
            *nclaims = 0;
            for (const char *q = colon ? colon + 1 : p + len; q < p + len;) {
                char *e;
                long v = strtol(q, &e, 10);
                if (e == q)
                    break;
                if (*nclaims < maxclaims)
                    claims[(*nclaims)++] = (int)v;
                q = *e == ',' ? e + 1 : e;
            }
            return 0;
        }
        p += len;
    }
}
