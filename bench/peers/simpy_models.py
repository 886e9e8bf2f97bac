#!/usr/bin/python3
"""simpy_models.py — herd's sim presets written the idiomatic SimPy 3 way, for speed.

The peer of bench/bench_sim_peer.sh, which runs the same model on herd's engine and
prints both rates and their ratio (issue 4's goal: herd >= 100x SimPy). Two models,
each the SimPy equivalent of one herd preset with its default semantics:

  mm1  the `queue` preset (src/sim/model_queue.c): Poisson arrivals at RATE per second
       for DURATION seconds into one FIFO worker with exponential service of mean
       SERVICE_US (a simpy.Resource of capacity 1), run until drained. Model events:
       one arrival and one completion per request, as herd's engine dispatches.
  occ  the `backoff-occ` preset (src/sim/model_backoff_occ.c): N clients race to
       update one row under optimistic concurrency, every hop |Normal(10 ms, 2 ms)|,
       full jitter U(0, min(2 s, 5 ms * 2^n)) after the n-th failure; ROUNDS rounds
       back to back. Model events: four messages per attempt (read, read reply, write,
       write reply), as herd's engine dispatches.

"Model events" are what both engines must process for the same model, so
model-events/s compares like with like; SimPy's own count of scheduled events
(Environment._eid: timeouts, process starts, resource requests and releases) is
printed too. Only env.run() is timed (time.perf_counter), not the import or the setup.

Usage: simpy_models.py mm1 RATE SERVICE_US DURATION [SEED]
       simpy_models.py occ N ROUNDS [SEED]
Output: "key value" lines.
Needs Debian's python3-simpy3 (SimPy 3.0.11 on Debian 12): run with /usr/bin/python3.
"""
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


def main(argv):
    if len(argv) >= 5 and argv[1] == "mm1":
        seed = int(argv[5]) if len(argv) > 5 else 1
        out = mm1(float(argv[2]), float(argv[3]), float(argv[4]), seed)
    elif len(argv) >= 4 and argv[1] == "occ":
        seed = int(argv[4]) if len(argv) > 4 else 1
        out = occ(int(argv[2]), int(argv[3]), seed)
    else:
        sys.stderr.write(__doc__)
        return 2
    out["simpy_version"] = simpy.__version__
    out["model_events_per_s"] = out["model_events"] / out["wall_s"]
    out["simpy_events_per_s"] = out["simpy_events"] / out["wall_s"]
    for k, v in out.items():
        print(k, v)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
