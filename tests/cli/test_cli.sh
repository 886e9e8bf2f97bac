#!/usr/bin/env bash
# test_cli.sh HERD — the command line as a user meets it: help, version, exit codes,
# one-line usage errors that name the flag, formats and --out. Prints TAP.
set -u
herd=$1
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

# expect_usage "description" "needle in the message" args...
expect_usage() {
    local what=$1 needle=$2
    shift 2
    local start end out rc lines
    start=$(date +%s%N)
    out=$("$herd" "$@" 2>&1 >/dev/null)
    rc=$?
    end=$(date +%s%N)
    lines=$(printf '%s\n' "$out" | wc -l)
    if [[ $rc -eq 2 && $lines -eq 1 && "$out" == *"$needle"* && $(((end - start) / 1000000)) -lt 2000 ]]; then
        ok "$what: exit 2, one line naming '$needle'"
    else
        nok "$what" "rc=$rc lines=$lines out=$out"
    fi
}

# -- help and version ---------------------------------------------------------------
"$herd" --version | grep -qE '^herd [0-9]+\.[0-9]+' && ok "--version" || nok "--version"
for cmd in list run demo; do
    out=$("$herd" "$cmd" --help 2>&1) && [[ "$out" == usage:* ]] && ok "$cmd --help" || nok "$cmd --help" "$out"
    out=$("$herd" help "$cmd" 2>&1) && [[ "$out" == usage:* ]] && ok "help $cmd" || nok "help $cmd" "$out"
done
"$herd" --help | grep -q 'commands:' && ok "--help" || nok "--help"
"$herd" >/dev/null 2>&1; [[ $? -eq 2 ]] && ok "no command: exit 2" || nok "no command: exit 2"

# -- usage errors ----------------------------------------------------------------------
expect_usage "-n 0" "-n" run accept -n 0
expect_usage "-n 100000000" "1 to 1000000" run accept -n 100000000
expect_usage "-n not a number" "-n" run condvar -n lots
expect_usage "unknown scenario" "unknown scenario 'stampede'" run stampede
expect_usage "unknown mitigation" "--mitigation" run accept --mitigation nope
expect_usage "unknown --set key" "--set bogus" run cache --set bogus=1
expect_usage "--set non-number" "--set beta" run cache --set beta=fast
expect_usage "--set out of range" "--set ttl_ms" run cache --set ttl_ms=0
expect_usage "--set bad choice" "--set workers" run accept --set workers=fibers
expect_usage "--events 0" "--events" run condvar --events 0
expect_usage "--format bad" "--format" run condvar --format xml
expect_usage "--mode bad" "--mode" run condvar --mode sideways
expect_usage "--backend bad" "--backend" run condvar --backend quantum
expect_usage "--seed negative" "--seed" run condvar --seed -1
expect_usage "unknown option" "--frobnicate" run condvar --frobnicate
expect_usage "unknown command" "frobnicate" frobnicate
expect_usage "list unknown scenario" "nope" list nope
expect_usage "a sim-only preset on live" "only on the simulator" run queue --backend live
expect_usage "no scenario" "run: which scenario? allowed: accept" run
expect_usage "the naive strategy as a mitigation" "use --mode naive" run accept --mitigation epoll
expect_usage "a wrong mitigation on a naive run" "--mitigation: 'nope'" run accept --mode naive --mitigation nope
expect_usage "--seed with a sign" "--seed" run condvar --seed +1
# Numbers as a user types them: no blanks, no '+', no hex, no inf/nan (issue 13).
for v in " 5" "5 " "+5" "0x10" "1e3"; do
    expect_usage "-n '$v'" "-n: expected a whole number from 1 to 1000000, got '$v'" run accept -b sim -n "$v"
done
expect_usage "--events ' 3'" "--events" run condvar -b sim --events " 3"
expect_usage "--runs +2" "--runs" run condvar -b sim --runs +2
expect_usage "--seed ' 1'" "--seed" run condvar -b sim --seed " 1"
for v in " 5" "+5" "0x10" "inf" "nan" "-" "1e" "."; do
    expect_usage "--set rate='$v'" "--set rate: expected a number from 0.001 to 1e+09, got '$v'" run queue --set "rate=$v"
done
expect_usage "--set int +1" "--set servers" run queue --set servers=+1
out=$("$herd" run queue -q -f json --set rate=1e3 --set duration_s=.01 --set service_us=5. 2>&1) &&
    [[ $out == *'"rate": 1000.0'* ]] && ok "--set plain decimal forms (1e3, .01, 5.)" || nok "--set plain decimal forms" "$out"
# herd list NAME...: each name, or one usage error before anything is printed.
out=$("$herd" list accept condvar 2>&1) && [[ $out == *"accept     N workers"* && $out == *"condvar    N threads"* ]] &&
    ok "list accept condvar: both" || nok "list accept condvar: both" "$out"
expect_usage "list a typo after a good name" "unknown scenario 'nope'" list accept nope
expect_usage "list json of two" "--format json lists one SCENARIO" list accept condvar -f json
# The ceilings (issue 13; tests/cli/test_budget.sh tries every parameter's largest value).
expect_usage "--max-memory bad" "--max-memory: expected a size from 64M to 1T" run queue --max-memory 2X
expect_usage "--max-memory too small" "--max-memory" run queue --max-memory 1M
expect_usage "--max-events negative" "--max-events" sweep queue --vary rate=1,2 --max-events -1
expect_usage "a simulation beyond --max-memory" "more than --max-memory of 0.0671 GB" run cache -b sim -n 1000000 --max-memory 64M
expect_usage "an unbounded queue beyond the memory ceiling" "queue_cap bounds it" run queue --set rate=1e9 --set duration_s=1
out=$("$herd" run queue -q --set rate=1e6 --set duration_s=10 --set servers=1000 --max-events 100000 2>&1 >/dev/null)
[[ $? -eq 1 && $out == *"stopped past --max-events 100000"* ]] && ok "a run past --max-events: stopped, exit 1, one line" ||
    nok "--max-events stop" "$out"
# Beyond this machine: refused before any thread starts (fast, one line).
expect_usage "-n beyond the machine (accept)" "-n 900000" run accept -n 900000
expect_usage "-n beyond the machine (condvar)" "-n 900000" run condvar -n 900000

# -- list ---------------------------------------------------------------------------
out=$("$herd" list)
if [[ $? -eq 0 && "$out" == *accept* && "$out" == *condvar* && "$out" == *cache* && "$out" == *cron* &&
    "$out" == *epoll-exclusive* && "$out" == *"range 10 to 60000 ms"* ]]; then
    ok "list shows scenarios, mitigations and ranges"
else
    nok "list" "$out"
fi
"$herd" list --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len([s for s in d["scenarios"] if "file" not in s])==9 and all(s["backends"] for s in d["scenarios"])' &&
    ok "list --format json parses" || nok "list --format json"

# -- a real run in each format ----------------------------------------------------------
if "$herd" run condvar -n 50 --events 5 -q --format json --out "$tmp/r.json"; then
    python3 - "$tmp/r.json" <<'PY' && ok "run --format json --out: every key" || nok "json keys"
import json, sys
d = json.load(open(sys.argv[1]))
runs = d["runs"]
assert len(runs) == 2, runs
keys = ["scenario","backend","mode","mitigation","n","population","events","seed","params",
        "wakes","useful","served","wasted","failed","idle","origin_load","peak","latency_ns",
        "per_event","per_event_median","intervals","spread","timeline","outcomes","waiters",
        "waiter_counts","runs","machine","provenance"]
for r in runs:
    for k in keys:
        assert k in r, k
    for k in ["count","mean","p50","p90","p99","p999","max"]:
        assert k in r["latency_ns"], k
    # live runs repeat 3 times by default: 5 events each, pooled
    assert r["runs"] == 3 and r["latency_ns"]["count"] == 15, (r["runs"], r["latency_ns"])
    assert r["wakes"] == r["useful"] + r["served"] + r["wasted"] + r["failed"], r
    p = r["provenance"]
    for k in ["schema","herd_version","command","kernel","cpu_model","cpus","profile","start",
              "wall_ns","sim_ns"]:
        assert k in p, k
    assert p["schema"] == 2 and "run condvar" in p["command"] and p["wall_ns"] > 0, p
    m = r["machine"]
    for k in ["trusted","warnings","others_cpu","steal","load1_start","involuntary_switches"]:
        assert k in m, k
    ci = r["intervals"]["latency_ns"]["p99"]
    assert ci["lo"] is None or ci["lo"] <= ci["point"], ci
    tl = r["timeline"]
    lens = {len(v) for k, v in tl.items() if isinstance(v, list)}
    assert len(lens) == 1 and "bucket_ns" in tl, tl
    assert len(r["waiters"]) == 50
assert runs[0]["mode"] == "naive" and runs[1]["mitigation"] == "signal"
PY
else
    nok "run condvar json"
fi
ls "$tmp" | grep -q tmp && nok "--out left a temporary file" || ok "--out leaves no temporary file"

out=$("$herd" run condvar -n 20 --events 3 -q --format csv)
rows=$(printf '%s\n' "$out" | wc -l)
[[ $? -eq 0 && $rows -eq 3 && "$out" == scenario,backend,mode,* ]] && ok "csv: one header row, one row per run" || nok "csv" "$out"

out=$("$herd" run condvar -n 20 --events 3 -q)
[[ "$out" == *ratio* && "$out" == *"99.000%"* && "$out" == *Timeline* ]] && ok "text: side by side with ratio, percentiles, timeline" || nok "text" "$out"

expect_usage "--runs 0" "--runs" run condvar --runs 0
if out=$("$herd" run condvar -n 20 --events 3 --runs 3 -q --format json); then
    printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for r in d["runs"]:
    assert r["runs"] == 3, r["runs"]
    for o in ["mean", "stddev"]:
        for k in ["wakes", "useful", "wasted", "origin_load", "peak", "latency_ns"]:
            assert k in r["over_runs"][o], (o, k)
' && ok "--runs 3: pooled, with the means and deviations over runs" || nok "--runs json" "$out"
else
    nok "--runs 3 ran"
fi

"$herd" run condvar -n 20 --events 3 -q --out /nonexistent/dir/r.json 2>/dev/null
[[ $? -eq 2 ]] && ok "--out to an unwritable path: exit 2 before running" || nok "--out unwritable"

# -- the simulator ------------------------------------------------------------------
for sc in cron queue backoff-occ accept condvar cache; do
    "$herd" list --format json | python3 -c 'import json,sys; sys.exit(0 if any(s["name"]==sys.argv[1] and "sim" in s["backends"] for s in json.load(sys.stdin)["scenarios"]) else 1)' "$sc" || continue
    "$herd" run "$sc" --backend sim -q >/dev/null 2>&1 || { "$herd" run "$sc" --backend sim -q 2>&1 | grep -q "no simulation model" && continue; }
    # Byte-identical but for what says when and where it ran (provenance, machine).
    strip='import json,sys; d=json.load(sys.stdin)
for r in d["runs"]: r.pop("provenance"); r.pop("machine")
print(json.dumps(d, indent=1))'
    a=$("$herd" run "$sc" --backend sim -n 300 --seed 7 -q --format json --mitigation all 2>&1 | python3 -c "$strip")
    b=$("$herd" run "$sc" --backend sim -n 300 --seed 7 -q --format json --mitigation all 2>&1 | python3 -c "$strip")
    if [[ -n "$a" && "$a" == "$b" && "$a" == *'"backend": "sim"'* && "$a" == *sim_time_ns* ]]; then
        ok "sim $sc: same seed, byte-identical JSON (but its provenance)"
    else
        nok "sim $sc determinism" "$(diff <(echo "$a") <(echo "$b") | head -5)"
    fi
done
out=$("$herd" run cron --backend both -n 50 -q --set period_ms=200 --set window_ms=50 --format json)
printf '%s' "$out" | python3 -c '
import json, sys
runs = json.load(sys.stdin)["runs"]
assert [r["backend"] for r in runs] == ["live", "sim", "live", "sim"], [r["backend"] for r in runs]
' && ok "--backend both: live and sim side by side" || nok "--backend both" "$out"

# A simulated run's wall time is its own, not the simulated span (it used to print 100 s of
# "elapsed (wall)" for a run of milliseconds).
out=$("$herd" run queue --backend sim --mode naive --set rate=100 --set duration_s=100 -q --format json)
printf '%s' "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)["runs"][0]
p = r["provenance"]
assert 99e9 < p["sim_ns"] < 101e9 and r["sim_time_ns"] == p["sim_ns"], p
assert 0 < p["wall_ns"] < 20e9, p
' && ok "sim: wall time apart from simulated time" || nok "sim wall time" "$out"
out=$("$herd" run queue --backend sim --mode naive --set rate=100 --set duration_s=100 -q)
[[ "$out" == *"simulated time"* && "$out" == *"of wall time"* && "$out" != *"elapsed (wall)"* ]] &&
    ok "text: simulated time and wall time apart" || nok "text wall time" "$out"

# --backend both reads the calibrated profile for its simulated runs, whatever runs first
# (it used to load it only when the first job was simulated).
"$herd" calibrate -q --out "$tmp/both.json" >/dev/null 2>&1 &&
python3 - "$tmp/both.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["accept_ns"] = 5e6  # a cron request's hop in the sim: 5 ms, far from the defaults' 80 us
json.dump(p, open(sys.argv[1], "w"))
PY
out=$(HERD_PROFILE="$tmp/both.json" "$herd" run cron --backend both --mode naive -n 20 -q \
      --set period_ms=200 --set window_ms=50 --format json)
printf '%s' "$out" | python3 -c '
import json, sys
runs = json.load(sys.stdin)["runs"]
live, sim = runs[0], runs[1]
assert live["backend"] == "live" and sim["backend"] == "sim"
assert sim["provenance"]["profile"]["path"].endswith("both.json"), sim["provenance"]
assert sim["latency_ns"]["p50"] > 4e6, sim["latency_ns"]  # the profile hop is in it
' && ok "--backend both: the sim runs with the calibrated profile" || nok "--backend both profile" "$out"

# -- fidelity ------------------------------------------------------------------------
# One small row pair with the stored profile: the shape and the wake counts (at N = 20 for
# condvar: the simulator wakes all 20, or one; live, as tests/live/test_condvar.c holds
# it, the broadcast's median wakes 95 % to all of them and the signal's exactly one), not
# the live p99s.
out=$(HERD_PROFILE="$tmp/both.json" "$herd" fidelity -S condvar -n 20 --runs 1 --profile -q \
      --format json)
printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
rows = d["rows"]
assert [(r["scenario"], r["strategy"], r["n"]) for r in rows] == \
    [("condvar", "broadcast", 20), ("condvar", "signal", 20)], rows
for r, w in zip(rows, (20, 1)):
    live = r["live_wakes_per_event"]["point"]
    assert (0.95 * w <= live <= w if w > 1 else live == w) and \
        r["sim_wakes_per_event"]["point"] == w, r
    assert r["wakes_ok"] and r["verdict"].split(":")[0].rstrip("*") in ("agree", "differ"), r
    assert r["live_p99_ns"]["point"] > 0 and r["sim_p99_ns"]["point"] > 0, r
    assert r["verdict"].startswith("agree") == (r["wakes_ok"] and r["p99_ok"]), r
' && ok "fidelity: a verdict per row, wakes counted alike live and simulated" || nok "fidelity" "$out"
out=$(HERD_PROFILE="$tmp/both.json" "$herd" fidelity -S condvar -n 20 --runs 1 --profile -q)
[[ "$out" == *"condvar, N = 20, broadcast: "* && "$out" == *"wakes per event"* &&
    $(printf '%s\n' "$out" | wc -L) -le 100 ]] && ok "fidelity: the text table in 100 columns" ||
    nok "fidelity text" "$out"
expect_usage "fidelity unknown scenario" "--scenario: 'nope'" fidelity -S nope
expect_usage "fidelity -n 0" "-n" fidelity -n 0

# -- demo --------------------------------------------------------------------------
# The four herds, small and once each: the table's shape, not its (live) ratios: every
# row has an interval, no degenerate (-inf, inf) or (inf-inf) survives, 100 columns.
out=$("$herd" demo -n 20 --runs 1 -q 2>&1)
rc=$?
if [[ $rc -eq 0 ]] && printf '%s\n' "$out" | python3 -c '
import sys, re
t = sys.stdin.read()
heads = re.findall(r"^(\w+), N = 20: (\S+) vs (\S+) \(1 run of (\d+) events? each\)$", t, re.M)
assert [h[0] for h in heads] == ["accept", "condvar", "cache", "cron"], heads
for label in ("wakes per event", "wasted per event", "origin load per event", "p99 latency"):
    rows = [l for l in t.splitlines() if l.startswith("  " + label)]
    assert len(rows) == 4, (label, rows)
    for l in rows:
        # the ratio: a number (or infinity) and its times sign, x where the locale is not UTF-8
        assert re.search(r"[\[(]", l) and (re.search(r"(\d|\u221e|inf)[\u00d7x]( |$)", l) or
                                           "no difference measured" in l), l
assert "\u221e, \u221e" not in t and "(\u221e-\u221e)" not in t and "1 runs" not in t, t
assert "inf, inf" not in t and "(inf-inf)" not in t, t
assert max(len(l) for l in t.splitlines()) <= 100, max(t.splitlines(), key=len)
# Counted from the kernel: the naive herd is (about) all 20, the mitigated one wake.
acc = t.split("accept, N = 20")[1].split("\n\n")[0]
m = re.search(r"wakes per event\s+(\d+) \S+ \S+\s+(\d+) ", acc)
assert m and int(m.group(1)) >= 15 and int(m.group(2)) <= 2, acc
'; then
    ok "demo: four herds, each figure with its interval, 100 columns"
else
    nok "demo" "rc=$rc $out"
fi

# -- sweep -------------------------------------------------------------------------
out=$("$herd" sweep condvar --backend live --n 10:30:10 --events 3 -q --format csv)
rows=$(printf '%s\n' "$out" | wc -l)
if [[ $rows -eq 4 && "$out" == "n,broadcast wakes,broadcast p99,signal wakes,signal p99"* ]] &&
    printf '%s\n' "$out" | sed -n 2p | grep -q '^10,30,'; then
    ok "sweep: one row per N, a column per strategy and figure"
else
    nok "sweep" "$out"
fi
expect_usage "sweep without a range" "--n" sweep condvar
expect_usage "sweep with a bad range" "--n" sweep condvar --n 10:5:1
# sweep validates as herd run does (herd_request_resolve), in the same words.
expect_usage "sweep unknown scenario" "sweep: unknown scenario 'nope'; allowed: accept" sweep nope --n 1:2:1
expect_usage "sweep --backend both" "--backend: 'both' is not allowed; allowed: live, sim" sweep condvar --n 1:2:1 --backend both
expect_usage "sweep a sim-only preset on live" "only on the simulator" sweep queue --n 1:2:1 --backend live
expect_usage "sweep --seed bad" "--seed: expected a whole number" sweep condvar --n 1:2:1 --seed x
expect_usage "sweep --events 0" "--events" sweep condvar --n 1:2:1 --events 0
expect_usage "sweep unknown mitigation" "--mitigation: 'nope' is not a mitigation of condvar" sweep condvar --n 1:2:1 --mitigation nope

# -- calibrate -----------------------------------------------------------------------
if out=$("$herd" calibrate -q --out "$tmp/profile.json") &&
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["wasted_wake_ns"] > 0 and d["cores"] >= 1' "$tmp/profile.json"; then
    ok "calibrate writes a profile of measured figures"
else
    nok "calibrate" "$out"
fi
for cmd in calibrate sweep validate; do
    out=$("$herd" "$cmd" --help 2>&1) && [[ "$out" == usage:* ]] && ok "$cmd --help" || nok "$cmd --help" "$out"
done

# -- scenario files (docs/scenario-file.md) ----------------------------------------------
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bad=$root/tests/scenario-files/bad
for name in cascade-3tier retry-storm-outage brooker-collapse brooker-retry; do
    out=$("$herd" validate "$name" 2>&1)
    if [[ $? -eq 0 && "$out" =~ /$name\.yaml:\ ok\ \([0-9]+\ components,\ [0-9]+\ faults?,\ [0-9]+\ mitigations?\)$ ]]; then
        ok "validate $name: one ok line with its shape"
    else
        nok "validate $name" "$out"
    fi
done
expect_usage "validate: a wrong type" "wrong-type-int.yaml:7:14: components.users.clients: expected a whole number" \
    validate "$bad/wrong-type-int.yaml"
expect_usage "validate: a cycle" "cycle.yaml:18:18: components.api.calls.0.to: the calls make a cycle: db → api → db" \
    validate "$bad/cycle.yaml"
expect_usage "validate: an unknown field" "(did you mean 'workers'?)" validate "$bad/unknown-field.yaml"
expect_usage "validate: a missing file" "nope.yaml: cannot read" validate "$tmp/nope.yaml"
# A file that declares no mitigation runs naive by default and refuses the other modes.
mm1=$root/tests/scenario-files/validation/mm1.yaml
out=$("$herd" run "$mm1" --format json 2>/dev/null | python3 -c 'import json, sys; print([r["mode"] for r in json.load(sys.stdin)["runs"]])')
[[ "$out" == "['naive']" ]] && ok "run a file without mitigations: naive by default" ||
    nok "run a file without mitigations" "$out"
expect_usage "run a file without mitigations, --mode both" "scenario mm1 declares no mitigation; allowed: naive" \
    run "$mm1" --mode both
out=$("$herd" validate brooker-retry "$bad/negative-time.yaml" 2>"$tmp/err")
rc=$?
if [[ $rc -eq 2 && "$out" == *"brooker-retry.yaml: ok"* && $(cat "$tmp/err") == *"negative-time.yaml:9:29: components.users.call.timeout: -1s is a negative time"* ]]; then
    ok "validate: good and bad files together, exit 2, each file said"
else
    nok "validate several" "rc=$rc out=$out err=$(cat "$tmp/err")"
fi
# The shipped cascade shows what its header says (seed 1, deterministic): naive stays down
# after the fault (metastable), the default mitigation (a retry budget) recovers, and the
# db's retry amplification is above 1 naive and 1.00 mitigated.
if "$herd" run cascade-3tier --format json 2>/dev/null | python3 -c '
import json, sys
runs = json.load(sys.stdin)["runs"]
assert [r["mitigation"] for r in runs] == ["none", "budget"], [r["mitigation"] for r in runs]
v = [r["fleet"]["recovery"]["verdict"] for r in runs]
assert v == ["stuck", "recovered"], v
db = [next(c for c in r["fleet"]["components"] if c["name"] == "db") for r in runs]
assert db[0]["amplification"] > 2 and abs(db[1]["amplification"] - 1) < 0.01, db
'; then
    ok "run cascade-3tier: naive stuck, the retry budget recovers"
else
    nok "run cascade-3tier verdicts"
fi
"$herd" validate --schema | grep -q '^| `workers` | whole number | workers | 1 |' &&
    ok "validate --schema prints the field reference" || nok "validate --schema"
out=$("$herd" list)
[[ "$out" == *"scenario files"* && "$out" == *cascade-3tier* && "$out" == *brooker-retry* ]] &&
    ok "list shows the shipped files" || nok "list files" "$out"
"$herd" list --format json | python3 -c '
import json, sys
d = json.load(sys.stdin)
files = {s["name"]: s for s in d["scenarios"] if "file" in s}
assert {"cascade-3tier", "retry-storm-outage", "brooker-collapse", "brooker-retry"} <= set(files), files
c = files["cascade-3tier"]
assert c["backends"] == ["sim"] and len(c["file"]["hash"]) == 16 and c["file"]["path"].endswith("cascade-3tier.yaml")
assert [m["name"] for m in c["mitigations"]][:2] == ["budget", "combined"]' &&
    ok "list --format json has the files, their hashes and mitigations" || nok "list json files"
"$herd" list cascade-3tier | grep -q 'db  *service (the herd.s resource)' &&
    ok "list NAME shows a file's components" || nok "list NAME"
if "$herd" run brooker-retry -q --format json --out "$tmp/f.json" --mitigation bucket+breaker &&
    python3 - "$tmp/f.json" <<'PY'; then
import json, sys
d = json.load(open(sys.argv[1]))
runs = d["runs"]
assert [r["mitigation"] for r in runs] == ["none", "bucket+breaker"], runs
for r in runs:
    assert r["scenario"] == "brooker-retry" and r["backend"] == "sim"
    p = r["params"]
    assert p["file"] == "brooker-retry.yaml" and len(p["file_hash"]) == 16, p
assert runs[1]["origin_load"] < runs[0]["origin_load"], "the budget and breaker cut retries"
PY
    ok "run NAME --mitigation a+b: naive and the combination, the file in params"
else
    nok "run a file with a+b"
fi
out=$("$herd" run "$root/scenarios/brooker-retry.yaml" --mode naive -q --set faults.0.p=0.5 2>&1)
[[ $? -eq 0 && "$out" == *"brooker-retry · sim"* && "$out" == *"faults.0.p=0.5"* ]] &&
    ok "run FILE.yaml --set prints a report naming the override" || nok "run FILE --set" "$out"
expect_usage "run FILE --set out of range" "--set components.server.service_time: 0s is out of range" \
    run brooker-retry --set components.server.service_time=0s
expect_usage "run FILE --set unknown field" "--set components.server.wrkers: unknown field 'wrkers' in a service (did you mean 'workers'?)" \
    run brooker-retry --set components.server.wrkers=3
expect_usage "run FILE -n" "-n: scenario brooker-retry sets its own sizes in its file" run brooker-retry -n 5
expect_usage "run FILE --mitigation unknown+" "'nope' is not a mitigation of brooker-retry" \
    run brooker-retry --mitigation bucket+nope
expect_usage "run FILE --backend live" "runs only on the simulator" run brooker-retry --backend live
expect_usage "run a malformed FILE" "self-call.yaml:14:18: components.db.calls.0.to: 'db' calls itself" \
    run "$bad/self-call.yaml"
expect_usage "run an unknown NAME" "run: unknown scenario 'cascade-4tier'; allowed: accept" run cascade-4tier
expect_usage "run fleet without a file" "scenario fleet runs a scenario file" run fleet -q
out=$("$herd" sweep brooker-retry --vary faults.0.p=0,0.5 --metrics useful -M no-retry -q --format csv)
if [[ $? -eq 0 && "$out" == "faults.0.p,naive useful,no-retry useful"$'\n'"0,"*$'\n'"0.5,"* ]]; then
    ok "sweep FILE --vary a field"
else
    nok "sweep --vary" "$out"
fi
expect_usage "sweep FILE --n" "--n: scenario brooker-retry sets its own sizes" sweep brooker-retry --n 1:2:1

echo "1..$n"
exit $((fails > 0))
