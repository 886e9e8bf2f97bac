#!/usr/bin/env bash
# test_budget.sh HERD — no scenario parameter takes herd past its ceilings (issue 13): every
# numeric parameter of every built-in scenario, and -n and --events, at its largest value
# (the others at their defaults) on the simulator under the default memory ceiling (2 GiB):
# each run completes, or is refused or stopped with one line, and the process's peak
# resident memory (wait4's rusage of the child) stays under the ceiling. The runs are kept
# short by --max-events (a stop past it is one of the accepted outcomes) and a timeout each.
# Every shipped scenario file runs too, naive, under a tighter ceiling (FILE_CEILING): the
# fleet simulator's estimate refuses it up front or its backlog is stopped near the
# ceiling (lb-restart-tls naive holds ~850 MB of retries when let run).
# Prints TAP.
set -u
exec python3 - "$1" <<'EOF'
import json, os, subprocess, sys, time

herd = sys.argv[1]
CEILING = 2 << 30          # HERD_FRONT_MAX_MEMORY, the default of --max-memory
MAX_EVENTS = "2000000"     # per run: a few seconds at most even under ASan
TIMEOUT_S = 60

cat = json.loads(subprocess.run([herd, "list", "--format", "json"], check=True,
                                capture_output=True, text=True).stdout)
FILE_CEILING = 512 << 20
cases = []
for sc in cat["scenarios"]:
    if "file" in sc:
        cases.append((sc["name"], ["--max-memory", "512M", "--max-events", "1000000"],
                      "--max-memory 512M"))
        continue
    if "sim" not in sc["backends"] or not sc["params"]:
        continue  # the fleet row: it names no file
    cases.append((sc["name"], ["-n", str(sc["n_max"])], f"-n {sc['n_max']}"))
    cases.append((sc["name"], ["--events", "100000"], "--events 100000"))
    for p in sc["params"]:
        if p["type"] in ("int", "number"):
            v = p["max"]
            text = str(int(v)) if v == int(v) else repr(v)
            cases.append((sc["name"], ["--set", f"{p['key']}={text}"], f"{p['key']}={text}"))

n = fails = 0
def ok(what, good, detail=""):
    global n, fails
    n += 1
    if not good:
        fails += 1
    print(f"{'ok' if good else 'not ok'} {n} - {what}")
    if not good and detail:
        for line in detail.splitlines()[:5]:
            print(f"# {line}")
    sys.stdout.flush()

for name, args, what in cases:
    cmd = [herd, "run", name, "-b", "sim", "-m", "naive", "-q", "-f", "json",
           "--max-events", MAX_EVENTS] + args
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # wait4 of this child: its own peak RSS (RUSAGE_CHILDREN would be the maximum so far).
    timed_out, rss, rc = False, None, None
    while rc is None:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            rss, rc = ru, os.waitstatus_to_exitcode(status)
            p.returncode = rc
        elif time.monotonic() - t0 > TIMEOUT_S:
            timed_out = True
            p.kill()
            time.sleep(0.1)
        else:
            time.sleep(0.01)
    err = p.stderr.read()
    lines = [l for l in err.splitlines() if l]
    outcome_ok = rc == 0 or (rc in (1, 2) and len(lines) == 1 and lines[0].startswith("herd: "))
    if "--max-memory" in args:  # a file: refused or stopped by a ceiling, nothing else
        outcome_ok = rc == 0 or (outcome_ok and ("--max-memory" in lines[0] or
                                                 "--max-events" in lines[0]))
    peak = rss.ru_maxrss * 1024 if rss else -1
    detail = f"rc={rc} peak={peak / 2**20:.0f} MiB {time.monotonic() - t0:.1f} s\n{err}"
    verdict = "completed" if rc == 0 else (lines[0] if lines else f"rc={rc}")
    ceiling = FILE_CEILING if "--max-memory" in args else CEILING
    ok(f"{name} {what}: {verdict[:110]} (peak {peak / 2**20:.0f} MiB)",
       not timed_out and outcome_ok and 0 < peak < ceiling, detail)

print(f"1..{n}")
sys.exit(1 if fails else 0)
EOF
