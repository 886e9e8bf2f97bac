#!/usr/bin/env bash
# test_guide.sh HERD — the field guide as a reader meets it: `herd lesson` (the list, three
# lessons walked end to end, answers read and refused) and `herd picture` (each of the five
# SVGs parses, and carries the data of the runs that made it: every series drawn equals
# the same series of `herd run` with the command the SVG records). Prints TAP.
set -u
herd=$1
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

# -- lessons ---------------------------------------------------------------------------
out=$("$herd" lesson 2>&1) && [[ "$out" == *"root-synchronizer"* && "$out" == *"decision-game"* ]] \
    && ok "lesson: lists the lessons" || nok "lesson: lists the lessons" "$out"
count=$("$herd" lesson --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[[ $count -ge 20 ]] && ok "lesson: $count lessons (json)" || nok "lesson: json list" "count=$count"

expect_usage() { # what needle args...
    local what=$1 needle=$2
    shift 2
    local out rc
    out=$("$herd" "$@" 2>&1 >/dev/null)
    rc=$?
    if [[ $rc -eq 2 && $(printf '%s\n' "$out" | wc -l) -eq 1 && "$out" == *"$needle"* ]]; then
        ok "$what: exit 2 naming '$needle'"
    else
        nok "$what" "rc=$rc out=$out"
    fi
}
expect_usage "unknown lesson" "unknown lesson 'nope'" lesson nope
expect_usage "answer not a choice" "--answer: 'E' is not a choice" lesson root-synchronizer --answer E
expect_usage "two picks where one is asked" "takes one of" lesson root-synchronizer --answer A+B
expect_usage "matching: too few" "matches 2 of 3" lesson matching --answer B,A
expect_usage "picked twice" "picked twice" lesson decision-game --answer B+B
expect_usage "--answer without a lesson" "--answer" lesson --answer B
expect_usage "--format" "--format" lesson bathtub --format yaml
expect_usage "unknown picture" "unknown picture 'selfie'" picture selfie
expect_usage "run --check on a preset" "--check: 'accept' has no claims" run accept --check

# herd run FILE --check: the claims judged, in the report, with the run's seed.
js=$("$herd" run field-guide/bathtub --mode naive --check -q --format json 2>&1)
verdict=$(printf '%s' "$js" | python3 -c "
import json, sys
r = json.load(sys.stdin)['runs'][0]
c = r['fleet'].get('claims', [])
print('ok' if len(c) >= 6 and all(x['verdict'] == 'PASS' for x in c) else 'bad: %d claims' % len(c))" 2>&1)
[[ $verdict == ok ]] && ok "run field-guide/bathtub --check: the claims in the report, all PASS" \
    || nok "run --check" "$verdict"
out=$("$herd" list 2>&1)
[[ "$out" == *"the field guide, a file per section"* && "$out" == *"cascade-abc"* && "$out" == *"token-refresh"* ]] \
    && ok "list: shows the field guide's files" || nok "list: field guide" "$out"

# lesson NAME --answer X --format json: a checker in Python prints one line per finding.
check_lesson() { # name answer python-condition description
    local name=$1 answer=$2 cond=$3 what=$4 js
    js=$("$herd" lesson "$name" --answer "$answer" --format json 2>/dev/null)
    local rc=$?
    local verdict
    verdict=$(printf '%s' "$js" | python3 -c "
import json, sys
o = json.load(sys.stdin)
rows = {r['strategy']: r for r in o['picks']['rows']}
fig = lambda s, f: rows[s]['figures'][f]
claims = [c for e in o['evidence'] for c in e['claims']]
ok = o['claims_failed'] == 0 and all(c['verdict'] == 'PASS' for c in claims) and len(claims) > 0
ok = ok and ($cond)
print('ok' if ok else 'bad: ' + json.dumps({k: o[k] for k in ('pick', 'correct', 'claims_failed')}))
" 2>&1)
    [[ $rc -eq 0 && $verdict == ok ]] && ok "lesson $name --answer $answer: $what" || nok "lesson $name --answer $answer" "$verdict"
}
check_lesson root-synchronizer b \
    "o['pick'] == 'B' and o['correct'] is True and fig('coalesce', 'origin_load') * 5 <= fig('naive', 'origin_load') and abs(fig('bigger-redis', 'origin_load') - fig('naive', 'origin_load')) <= 0.02 * fig('naive', 'origin_load')" \
    "right, coalescing measured ≥ 5× fewer queries, a bigger Redis the same"
check_lesson decision-game "D, a" \
    "o['pick'] == 'A+D' and o['correct'] is False and 'replicas+ttl-10m' in rows and rows['replicas+ttl-10m']['choices'] == 'your pick' and fig('jitter+coalesce', 'origin_load') < fig('replicas+ttl-10m', 'origin_load')" \
    "not the guide's; the pick itself measured, B+C loads the database less"
check_lesson matching "b a c" \
    "o['pick'] == 'B,A,C' and o['correct'] is True and [e['file'] for e in o['evidence']] == ['cache-stampede', 'lb-restart', 'leader-failover']" \
    "right, with the three herds' claims"

# Text, and no pick when stdin is not a terminal: the answer is shown without a verdict.
out=$("$herd" lesson bathtub </dev/null 2>/dev/null)
[[ "$out" == *"The guide's answer: B."* && "$out" != *"Your pick"* && "$out" == *"Pick by pick"* && "$out" == *"PASS"* ]] \
    && ok "lesson bathtub: text, no pick without a terminal" || nok "lesson bathtub text" "$out"

# -- pictures --------------------------------------------------------------------------
# Under the sanitizers (HERD_TEST_SANITIZED=1) each picture is drawn and parsed, and its
# series checked against its metadata, but its runs are not repeated through herd run (the
# normal build's pass does that; the runs are the same code): it keeps the pass short.
rerun=1
[[ ${HERD_TEST_SANITIZED:-0} == 1 ]] && rerun=0
for p in stampede retry-wave leader cascade dashboard; do
    if ! "$herd" picture "$p" --out "$tmp/$p.svg" 2>"$tmp/err"; then
        nok "picture $p" "$(cat "$tmp/err")"
        continue
    fi
    verdict=$(python3 - "$herd" "$tmp/$p.svg" "$rerun" <<'PY'
import json, shlex, subprocess, sys
import xml.etree.ElementTree as ET
herd, path, rerun = sys.argv[1], sys.argv[2], sys.argv[3] == '1'

ns = {'s': 'http://www.w3.org/2000/svg'}
root = ET.parse(path).getroot()                      # parses as XML
meta = json.loads(root.find('s:metadata', ns).text)
lines = root.findall('.//s:polyline', ns)
drawn = [(l.get('data-run'), l.get('data-series'), len(l.get('points').split())) for l in lines]
recorded = [(r['strategy'], s['component'] + '.' + s['series'], len(s['values']))
            for r in meta['runs'] for s in r['series']]
problems = []
if not root.find('s:title', ns).text or len(lines) < 2:
    problems.append('no title or fewer than two series')
if sorted(drawn) != sorted(recorded):
    problems.append(f'drawn {sorted(drawn)[:3]} != recorded {sorted(recorded)[:3]}')
for r in (meta['runs'] if rerun else []):
    cmd = shlex.split(r['command'])
    out = subprocess.run([herd] + cmd[1:], capture_output=True, text=True, check=True).stdout
    comps = {c['name']: c for c in json.loads(out)['runs'][0]['fleet']['components']}
    for s in r['series']:
        full = comps[s['component']]['timeline'][s['series']]
        b0 = s['from_bucket']
        if full[b0:b0 + len(s['values'])] != s['values']:
            problems.append(f"{r['strategy']} {s['component']}.{s['series']} differs from its run")
print('ok' if not problems else '; '.join(problems))
PY
)
    what="its series are its runs'"
    ((rerun)) || what="its series are its metadata's (runs not repeated under the sanitizers)"
    [[ $verdict == ok ]] && ok "picture $p: parses, $what ($(grep -c '<polyline' "$tmp/$p.svg") lines)" \
        || nok "picture $p" "$verdict"
done

# -- docs: a page per section, the five pictures (scripts/guide-docs.sh writes them) -------
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
missing=()
for yaml in "$root"/scenarios/field-guide/*.yaml; do
    f=$(basename "$yaml" .yaml)
    grep -q "herd run field-guide/$f" "$root/docs/scenarios/field-guide/$f.md" 2>/dev/null || missing+=("$f.md")
done
for p in stampede retry-wave leader cascade dashboard; do
    python3 -c "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])" "$root/docs/images/$p.svg" 2>/dev/null \
        || missing+=("images/$p.svg")
done
[[ ${#missing[@]} -eq 0 ]] && ok "docs: a page per field-guide section and the five pictures" \
    || nok "docs: missing (scripts/guide-docs.sh writes them)" "${missing[*]}"

echo "1..$n"
exit $((fails > 0))
