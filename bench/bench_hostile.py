#!/usr/bin/env python3
"""bench_hostile.py [HERD] — herd serve under issue 13's hostile load, all at once on 127.0.0.1:

  * 10,000 malformed or hostile requests (garbage request lines, bad Content-Length, bad and
    huge JSON, Origin: null and foreign origins, foreign Host names, GET runs, huge
    parameters, unknown paths), 40 connections at a time, from 127.0.2.x;
  * 1,000 concurrent clients each asking GET /api/scenarios, from 127.0.3.x;
  * 100 slow clients sending one header byte a second (slowloris), from 127.0.4.x.

Prints: whether the server stayed up, how many herd answers were JSON with a reason
("error"), the p50/p99/max of GET /api/scenarios under that load, the server's peak
resident memory against the simulator's memory ceiling (HERD_FRONT_MAX_MEMORY, 2 GiB), and
its descriptors before and after. Not a test: figures for issue 13's acceptance. Python 3
standard library only; the source addresses are loopback's own 127.0.0.0/8, so that the
server's per-address limits see many clients as they would on a network.
"""
import asyncio
import json
import os
import random
import re
import socket
import subprocess
import sys
import time

HERD = sys.argv[1] if len(sys.argv) > 1 else "build/herd"
CEILING = 2 << 30
HOSTILE, HOSTILE_CONC = 10_000, 40
NORMAL, SLOW = 1_000, 100


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hostile_requests(port):
    host = f"127.0.0.1:{port}"
    body = lambda b: f"Content-Type: application/json\r\nContent-Length: {len(b)}\r\n\r\n{b}"
    post = lambda extra, b: f"POST /api/run HTTP/1.1\r\nHost: {host}\r\n{extra}" + body(b)
    return [
        "GARBAGE\r\n\r\n",
        f"POST /api/run HTTP/1.1\r\nHost: {host}\r\nContent-Length: abc\r\n\r\n",
        f"POST /api/run HTTP/1.1\r\nHost: {host}\r\nContent-Length: -1\r\n\r\n",
        f"POST /api/run HTTP/1.1\r\nHost: {host}\r\nContent-Length: 99999999999999999999\r\n\r\n",
        post("", '{"scenario":'),
        post("", '{"scenario":"queue","params":{"rate":1e9,"duration_s":1}}'),
        post("", '{"scenario":"accept","n":1000000,"events":100000,"backend":"sim","x":1}'),
        post("", '{"scenario":"nope"}'),
        post("", '{"scenario":"cron","n":" 5"}'),
        post("", '{"scenario":"cache","params":{"ttl_ms":"0x10"}}'),
        post("Origin: null\r\n", '{"scenario":"accept"}'),
        post("Origin: http://evil.example\r\n", '{"scenario":"accept"}'),
        post(f"Origin: ftp://{host}\r\n", '{"scenario":"accept"}'),
        post("", "[" * 5000),
        f"GET /api/run/stream?scenario=accept&backend=live HTTP/1.1\r\nHost: {host}\r\n\r\n",
        f"GET /api/scenarios HTTP/1.1\r\nHost: evil.example\r\n\r\n",
        f"GET /api/scenarios HTTP/1.1\r\nHost: 127.0.0.1: +{port}\r\n\r\n",
        f"GET /../../etc/passwd HTTP/1.1\r\nHost: {host}\r\n\r\n",
        f"GET /api/nope HTTP/1.1\r\nHost: {host}\r\n\r\n",
        f"GET / HTTP/1.1\r\nHost: {host}\r\n" + "X-A: b\r\n" * 200 + "\r\n",
        f"GET / HTTP/9.9\r\nHost: {host}\r\n\r\n",
        f"GET / HTTP/1.1\r\nHost: {host}\r\nX: y\r\n folded\r\n\r\n",
    ]


async def exchange(data, src, port, timeout=30.0):
    """Send @data from source address @src; return (status, body) or (None, reason)."""
    try:
        r, w = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port, local_addr=(src, 0)), timeout)
    except Exception as e:
        return None, f"connect: {e}"
    try:
        w.write(data.encode("latin-1"))
        await w.drain()
        raw = await asyncio.wait_for(r.read(), timeout)
    except Exception as e:
        return None, f"io: {e}"
    finally:
        w.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", raw)
    if not m:
        return None, f"no status line: {raw[:60]!r}"
    return int(m.group(1)), raw.split(b"\r\n\r\n", 1)[-1]


async def hostile(port, stats):
    reqs = hostile_requests(port)
    sem = asyncio.Semaphore(HOSTILE_CONC)

    async def one(i):
        async with sem:
            st, b = await exchange(reqs[i % len(reqs)], f"127.0.2.{1 + i % 250}", port)
            if st is None:
                stats["hostile_unanswered"] += 1
                stats.setdefault("why", b)
                return
            stats["hostile_answered"] += 1
            if st >= 400:
                try:
                    ok = bool(json.loads(b).get("error"))
                except Exception:
                    ok = False
                stats["json_reason" if ok else "not_json"] += 1
                if not ok:
                    stats.setdefault("not_json_example", (st, b[:80]))
    await asyncio.gather(*(one(i) for i in range(HOSTILE)))


async def normal(port, lat, stats):
    async def one(i):
        t0 = time.monotonic()
        st, _ = await exchange(f"GET /api/scenarios HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                               "Connection: close\r\n\r\n", f"127.0.3.{1 + i % 250}", port)
        lat.append(time.monotonic() - t0)
        stats["normal_200" if st == 200 else "normal_other"] += 1
    await asyncio.gather(*(one(i) for i in range(NORMAL)))


async def slow(port, stats, stop):
    async def one(i):
        try:
            r, w = await asyncio.open_connection("127.0.0.1", port, local_addr=(f"127.0.4.{1 + i}", 0))
        except Exception:
            stats["slow_refused"] += 1
            return
        head = f"GET /api/scenarios HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: " + "a" * 1000
        try:
            for ch in head:
                if stop.is_set():
                    break
                w.write(ch.encode())
                await w.drain()
                await asyncio.sleep(1.0)
            stats["slow_held_to_end"] += 1
        except Exception:
            stats["slow_cut"] += 1
        finally:
            w.close()
    await asyncio.gather(*(one(i) for i in range(SLOW)))


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def hwm(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


async def main():
    port = free_port()
    srv = subprocess.Popen([HERD, "serve", "--listen", f"127.0.0.1:{port}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    await exchange(f"GET /api/scenarios HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n", "127.0.0.1", port)
    fd0 = fds(srv.pid)
    stats = {k: 0 for k in ("hostile_answered", "hostile_unanswered", "json_reason", "not_json",
                            "normal_200", "normal_other", "slow_refused", "slow_cut",
                            "slow_held_to_end")}
    lat, stop = [], asyncio.Event()
    t0 = time.monotonic()
    slow_task = asyncio.create_task(slow(port, stats, stop))
    await asyncio.sleep(2)  # the slow clients hold their connections first
    await asyncio.gather(hostile(port, stats), normal(port, lat, stats))
    busy_s = time.monotonic() - t0
    stop.set()
    await slow_task
    await asyncio.sleep(1)
    up = srv.poll() is None
    st, _ = await exchange(f"GET /api/scenarios HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n",
                           "127.0.0.1", port)
    fd1 = fds(srv.pid) if up else -1
    peak = hwm(srv.pid) if up else -1
    srv.terminate()
    srv.wait(10)
    lat.sort()
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")
    print(f"herd serve under {HOSTILE} hostile + {NORMAL} concurrent + {SLOW} slow clients "
          f"({busy_s:.1f} s)")
    print(f"  server up afterwards:        {'yes' if up and st == 200 else 'NO'}")
    print(f"  hostile answered:            {stats['hostile_answered']} of {HOSTILE} "
          f"(unanswered {stats['hostile_unanswered']}{' : ' + str(stats.get('why')) if stats.get('why') else ''})")
    print(f"  refusals JSON with a reason: {stats['json_reason']} "
          f"(not JSON: {stats['not_json']}{' e.g. ' + str(stats.get('not_json_example')) if stats['not_json'] else ''})")
    print(f"  GET /api/scenarios:          {stats['normal_200']} of {NORMAL} served; "
          f"p50 {pct(0.5) * 1e3:.0f} ms, p99 {pct(0.99) * 1e3:.0f} ms, max {lat[-1] * 1e3 if lat else 0:.0f} ms")
    print(f"  slow clients:                {stats['slow_cut']} cut by the header deadline, "
          f"{stats['slow_held_to_end']} held to the end, {stats['slow_refused']} refused")
    print(f"  peak RSS:                    {peak / 2**20:.0f} MiB (ceiling {CEILING / 2**20:.0f} MiB)")
    print(f"  descriptors:                 {fd0} before, {fd1} after")


asyncio.run(main())
