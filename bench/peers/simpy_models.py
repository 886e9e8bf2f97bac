#!/usr/bin/python3
"""simpy_models.py — herd's sim models written the idiomatic SimPy 3 way, for speed.

The peer of bench/bench_sim_peer.sh (mm1, occ) and bench/bench_fleet_peer.sh (chain),
which run the same model on herd's engine and print both rates and their ratio (issue
4's goal: herd >= 100x SimPy; issue 12: the three-tier chain side by side). Three
models, each the SimPy equivalent of one herd model with its default semantics:

  mm1  the `queue` preset (src/sim/model_queue.c): Poisson arrivals at RATE per second
       for DURATION seconds into one FIFO worker with exponential service of mean
       SERVICE_US (a simpy.Resource of capacity 1), run until drained. Model events:
       one arrival and one completion per request, as herd's engine dispatches.
  occ  the `backoff-occ` preset (src/sim/model_backoff_occ.c): N clients race to
       update one row under optimistic concurrency, every hop |Normal(10 ms, 2 ms)|,
       full jitter U(0, min(2 s, 5 ms * 2^n)) after the n-th failure; ROUNDS rounds
       back to back. Model events: four messages per attempt (read, read reply, write,
       write reply), as herd's engine dispatches.
  chain the fleet simulator's three-tier chain (tests/sim/fleet_models.h, fm_chain, as
       bench/bench_fleet_chain.c runs it): see the header of chain() below for how it
       maps onto herd's model, where it differs, and how its model events are counted.

"Model events" are what both engines must process for the same model, so
model-events/s compares like with like; SimPy's own count of scheduled events
(Environment._eid: timeouts, process starts, resource requests and releases) is
printed too. Only env.run() is timed (time.perf_counter; chain also time.process_time,
this process's CPU time), not the import or the setup.

Usage: simpy_models.py mm1 RATE SERVICE_US DURATION [SEED]
       simpy_models.py occ N ROUNDS [SEED]
       simpy_models.py chain N SECONDS [SEED]
Output: "key value" lines (chain adds "kind NAME COUNT": its model events by herd's kind).
Needs Debian's python3-simpy3 (SimPy 3.0.11 on Debian 12): run with /usr/bin/python3.
"""
import bisect
import random
import sys
import time

import simpy


def mm1(rate, service_us, duration, seed):
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=1)
    rng = random.Random(seed)
    mean_s = service_us * 1e-6
    st = {"arrivals": 0, "served": 0, "sojourn": 0.0}

    def customer():
        t0 = env.now
        with server.request() as req:
            yield req
            yield env.timeout(rng.expovariate(1.0 / mean_s))
        st["served"] += 1
        st["sojourn"] += env.now - t0

    def source():
        while True:
            gap = rng.expovariate(rate)
            if env.now + gap >= duration:
                return
            yield env.timeout(gap)
            st["arrivals"] += 1
            env.process(customer())

    env.process(source())
    t = time.perf_counter()
    env.run()
    wall = time.perf_counter() - t
    model_events = st["arrivals"] + st["served"]
    return {
        "model": "mm1",
        "requests": st["arrivals"],
        "mean_time_in_system_s": st["sojourn"] / max(1, st["served"]),
        "sim_time_s": env.now,
        "model_events": model_events,
        "simpy_events": next(env._eid),
        "wall_s": wall,
    }


def occ(n, rounds, seed):
    env = simpy.Environment()
    rng = random.Random(seed)
    hop_mean, hop_sd, base, cap = 0.010, 0.002, 0.005, 2.0
    row = {"version": 0}
    st = {"writes": 0, "done": 0}

    def hop():
        return abs(rng.normalvariate(hop_mean, hop_sd))

    def client():
        attempt = 0
        while True:
            yield env.timeout(hop())  # the read reaches the row
            v = row["version"]
            yield env.timeout(hop())  # the reply reaches the client
            yield env.timeout(hop())  # the conditional write reaches the row
            st["writes"] += 1
            won = row["version"] == v
            if won:
                row["version"] += 1
            yield env.timeout(hop())  # the outcome reaches the client
            if won:
                st["done"] += 1
                return
            attempt += 1
            wait = rng.uniform(0, min(cap, base * 2 ** attempt))
            yield env.timeout(hop() + wait)  # back off, then the next read's hop

    def rounds_proc():
        for _ in range(rounds):
            procs = [env.process(client()) for _ in range(n)]
            yield simpy.AllOf(env, procs)

    env.process(rounds_proc())
    t = time.perf_counter()
    env.run()
    wall = time.perf_counter() - t
    return {
        "model": "occ",
        "clients": n,
        "rounds": rounds,
        "writes": st["writes"],
        "sim_time_s": env.now,
        "model_events": 4 * st["writes"],
        "simpy_events": next(env._eid),
        "wall_s": wall,
    }


def chain(n, seconds, seed):
    """The three-tier chain of herd's fleet simulator, the SimPy way.

    herd's model (tests/sim/fleet_models.h fm_chain; src/sim/fleet_*.c) and its SimPy form:
      clients  N closed clients (a process each): think Exp(10 s), begin a call (none
               after SECONDS), wait for its end, think again. A call draws a key,
               Zipf(1) over 10^4 keys (key 0 the most popular; herd draws it by
               rejection-inversion, here by bisection on the cumulative weights: the same
               distribution). Up to 4 attempts, each with a 1 s timeout; after a failure
               (an error answer or a timeout) wait full jitter as libherd draws it,
               U[base, min(cap, base * 2^n)] with base 100 ms, cap 10 s and n the failures
               so far, then retry.
      network  client <-> api Exp(1 ms) each way; api -> cache and cache -> db: no delay
               (herd still dispatches an event for each of those hops; SimPy needs none).
      api      256 workers (a simpy.Resource, FIFO, at most 100,000 waiting), Exp(2 ms)
               of work, then, the worker still held, one call to the cache (500 ms
               timeout, 1 attempt); answers OK, or ERROR when that call failed.
      cache    10^4 keys, all warm at t = 0 with a remaining life U[0, 5 s); a fresh
               key is a hit answered after 100 us; a miss with singleflight: the first
               miss of a key fills it from the db (a process), later misses wait for that
               fill and get its outcome; a filled key lives 5 s * (1 - U[0, 0.2)). A fill
               is a call to the db: 200 ms timeout, 2 attempts, the retry at once.
      db       16 workers (a simpy.Resource, at most 1,000 waiting, beyond that an
               arrival is rejected), Exp(2 ms) divided by its capacity share: 1, and after
               the restart 0.3 rising linearly to 1 over 2 s. Crash at t = 4 s for 2 s:
               everything it holds (queued, in service) is lost without an answer (a
               simpy Interrupt to each of those processes; their callers time out),
               arrivals while down are rejected at once, then a cold restart.
      Run until SECONDS + 2 s (arrivals stop at SECONDS, 2 s of drain).
    Timeouts are the SimPy renege idiom, `yield reply | env.timeout(T)`: the callee is not
    told (as in herd, it may still do the work, wasted); a late answer is ignored.

    Where the two differ: random streams (herd draws each client's times from its own
    stream, each edge's network from another; here one random.Random), so runs agree in
    distribution, not event for event; herd rounds every time to 1 ns; at equal
    timestamps the two engines may order events differently; herd's full jitter is an
    integer draw in ns. None of these moves the figures compared (bench_fleet_peer.sh
    prints both sides' means and spread over seeds).

    Model events: what herd's engine dispatches for this model, counted here at the
    same logical points under herd's kind names (src/sim/fleet_*.c):
      clients.fire       a client begins a call;
      fleet.arrive       an attempt reaches its callee (api, cache, db; a hop of no delay
                         is still one);
      service.work_done  a worker's Exp(2 ms) ends (api, db; also each db request in
                         service at the crash: herd dispatches its end and drops it);
      cache.hit          a hit's 100 us ends;
      fleet.reply        an answer sent back to a caller still waiting (herd sends none
                         to a caller that has given up);
      fleet.retry        a retry's wait ends (the clients' backoff; the fill's immediate
                         retry is an event of no delay in herd);
      fleet.timeout      an attempt's timeout fires (herd's lazy per-edge timer also
                         re-arms about once per timeout span per edge: a few more);
      fleet.fault        the crash's start and end.
    The sum is model_events; herd's side is its engine's events_dispatched.
    """
    env = simpy.Environment()
    rng = random.Random(seed)
    ms = 1e-3
    think, timeout_client, attempts_client = 10.0, 1.0, 4
    base, cap = 100 * ms, 10.0
    net = 1 * ms
    api_timeout, fill_timeout, fill_attempts = 0.5, 0.2, 2
    nkeys, ttl, ttl_jitter, hit_s = 10000, 5.0, 0.2, 100e-6
    db_queue_cap, api_queue_cap = 1000, 100000
    crash_at, crash_for, warmup, warm_start = 4.0, 2.0, 2.0, 0.3
    horizon = seconds + 2.0

    api = simpy.Resource(env, capacity=256)
    db = simpy.Resource(env, capacity=16)
    dbs = {"down": False, "restart": None}
    db_procs = set()  # db requests it holds (queued or in service): a crash loses them

    cum, acc = [], 0.0
    for k in range(nkeys):
        acc += 1.0 / (k + 1)
        cum.append(acc)
    expires = [rng.uniform(0, ttl) for _ in range(nkeys)]
    waiters = {}  # key -> the api requests waiting on its fill (singleflight)

    ev = dict.fromkeys(("clients.fire", "fleet.arrive", "service.work_done", "cache.hit",
                        "fleet.reply", "fleet.retry", "fleet.timeout", "fleet.fault"), 0)
    st = {"calls": 0, "ok": 0, "attempts": 0, "timeouts": 0, "hits": 0, "misses": 0,
          "db_attempts": 0}

    def db_share():
        if dbs["restart"] is None:
            return 1.0
        since = env.now - dbs["restart"]
        return 1.0 if since >= warmup else warm_start + (1 - warm_start) * since / warmup

    def answer(reply, ok):
        """The callee answers with no delay back (cache -> api, db -> cache)."""
        if reply.pending:
            ev["fleet.reply"] += 1
            reply.succeed(ok)

    def db_attempt(reply):
        ev["fleet.arrive"] += 1
        st["db_attempts"] += 1
        if dbs["down"] or len(db.queue) >= db_queue_cap:
            answer(reply, False)  # rejected
            return
        me = env.active_process
        db_procs.add(me)
        in_service = False
        try:
            with db.request() as req:
                yield req
                in_service = True
                yield env.timeout(rng.expovariate(1 / (2 * ms)) / db_share())
                ev["service.work_done"] += 1
        except simpy.Interrupt:  # the crash: lost, no answer
            if in_service:
                ev["service.work_done"] += 1
            return
        finally:
            db_procs.discard(me)
        answer(reply, True)

    def fill(key):
        """The lead miss of @key: a call to the db, then every waiter hears its outcome."""
        ok = False
        for attempt in range(fill_attempts):
            if attempt:
                ev["fleet.retry"] += 1
            reply = env.event()
            reply.pending = True
            env.process(db_attempt(reply))
            yield reply | env.timeout(fill_timeout)
            reply.pending = False
            if reply.triggered:
                if reply.value:
                    ok = True
                    break
            else:
                ev["fleet.timeout"] += 1
        if ok:
            expires[key] = env.now + ttl * (1 - rng.uniform(0, ttl_jitter))
        for w in waiters.pop(key):
            answer(w, ok)

    def cache_get(key):
        """The api's call to the cache (500 ms timeout, 1 attempt): True when OK."""
        ev["fleet.arrive"] += 1
        if env.now < expires[key]:
            st["hits"] += 1
            yield env.timeout(hit_s)
            ev["cache.hit"] += 1
            ev["fleet.reply"] += 1
            return True
        st["misses"] += 1
        w = env.event()
        w.pending = True
        if key in waiters:
            waiters[key].append(w)
        else:
            waiters[key] = [w]
            env.process(fill(key))
        yield w | env.timeout(api_timeout)
        w.pending = False
        if not w.triggered:
            ev["fleet.timeout"] += 1
            return False
        return w.value

    def api_attempt(key, reply):
        """One client attempt: the hop there, the api's worker, the hop back."""
        yield env.timeout(rng.expovariate(1 / net))
        ev["fleet.arrive"] += 1
        if len(api.queue) >= api_queue_cap:
            ok = False
        else:
            with api.request() as req:
                yield req
                yield env.timeout(rng.expovariate(1 / (2 * ms)))
                ev["service.work_done"] += 1
                ok = yield from cache_get(key)
        if not reply.pending:
            return  # the client gave up: no answer travels
        ev["fleet.reply"] += 1
        yield env.timeout(rng.expovariate(1 / net))
        if reply.pending:
            reply.succeed(ok)

    def client():
        while True:
            t = rng.expovariate(1 / think)
            if env.now + t >= seconds:
                return
            yield env.timeout(t)
            ev["clients.fire"] += 1
            st["calls"] += 1
            key = bisect.bisect(cum, rng.random() * acc)
            for attempt in range(attempts_client):
                if attempt:
                    ev["fleet.retry"] += 1
                    yield env.timeout(rng.uniform(base, min(cap, base * 2 ** attempt)))
                st["attempts"] += 1
                reply = env.event()
                reply.pending = True
                env.process(api_attempt(key, reply))
                yield reply | env.timeout(timeout_client)
                reply.pending = False
                if not reply.triggered:
                    ev["fleet.timeout"] += 1
                    st["timeouts"] += 1
                elif reply.value:
                    st["ok"] += 1
                    break

    def crash():
        yield env.timeout(crash_at)
        ev["fleet.fault"] += 1
        dbs["down"] = True
        for p in list(db_procs):
            p.interrupt("crash")
        yield env.timeout(crash_for)
        ev["fleet.fault"] += 1
        dbs["down"] = False
        dbs["restart"] = env.now

    for _ in range(n):
        env.process(client())
    env.process(crash())
    t, c = time.perf_counter(), time.process_time()
    env.run(until=horizon)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    calls = max(1, st["calls"])
    out = {
        "model": "chain",
        "clients": n,
        "seconds": seconds,
        "calls": st["calls"],
        "attempts_per_call": st["attempts"] / calls,
        "ok_share": st["ok"] / calls,
        "cache_hit_ratio": st["hits"] / max(1, st["hits"] + st["misses"]),
        "db_attempts_per_call": st["db_attempts"] / calls,
        "client_timeouts": st["timeouts"],
        "sim_time_s": env.now,
        "model_events": sum(ev.values()),
        "simpy_events": next(env._eid),
        "wall_s": wall,
        "cpu_s": cpu,
    }
    for k, v in ev.items():
        out["kind " + k] = v
    return out


def main(argv):
    if len(argv) >= 5 and argv[1] == "mm1":
        seed = int(argv[5]) if len(argv) > 5 else 1
        out = mm1(float(argv[2]), float(argv[3]), float(argv[4]), seed)
    elif len(argv) >= 4 and argv[1] == "occ":
        seed = int(argv[4]) if len(argv) > 4 else 1
        out = occ(int(argv[2]), int(argv[3]), seed)
    elif len(argv) >= 4 and argv[1] == "chain":
        seed = int(argv[4]) if len(argv) > 4 else 1
        out = chain(int(argv[2]), float(argv[3]), seed)
    else:
        sys.stderr.write(__doc__)
        return 2
    out["simpy_version"] = simpy.__version__
    out["model_events_per_s"] = out["model_events"] / out["wall_s"]
    out["simpy_events_per_s"] = out["simpy_events"] / out["wall_s"]
    if "cpu_s" in out:
        out["model_events_per_cpu_s"] = out["model_events"] / out["cpu_s"]
        out["simpy_events_per_cpu_s"] = out["simpy_events"] / out["cpu_s"]
    for k, v in out.items():
        print(k, v)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
