#!/usr/bin/env bash
# test_compare.sh HERD — herd compare: the eight rows of seed 000's table, four measured
# cells each, every figure equal to the run its row cites (the recorded herd run commands,
# rerun here in the normal build; under the sanitizers the table is checked for shape and
# its answer only), --constraint no-stale's answer, and refusals. Prints TAP.
set -u
herd=$1
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"
rerun=1
[[ ${HERD_TEST_SANITIZED:-0} == 1 ]] && rerun=0

if ! "$herd" compare --constraint no-stale --format json --out "$tmp/c.json" 2>"$tmp/err"; then
    nok "compare --format json" "$(cat "$tmp/err")"
else
    verdict=$(python3 - "$herd" "$tmp/c.json" "$rerun" <<'PY'
import json, shlex, subprocess, sys
herd, path, rerun = sys.argv[1], sys.argv[2], sys.argv[3] == '1'
o = json.load(open(path))
problems = []
rows = o['rows']
if len(rows) != 8 or any(len(r['cells']) != 4 for r in rows):
    problems.append('not 8 rows of 4 cells')
for r in rows:
    for c in r['cells']:
        if c['verdict'] not in ('yes', 'no') or c['agrees'] != ((c['verdict'] == 'yes') == c['seed'].startswith(('Yes', 'Indirectly'))):
            problems.append(f"{r['technique']}: a cell's verdict or agreement is inconsistent")
    if not rerun:
        continue
    got = []
    for cmd in r['commands']:
        out = subprocess.run([herd] + shlex.split(cmd)[1:], capture_output=True, text=True, check=True).stdout
        comps = {c['name']: c for c in json.loads(out)['runs'][0]['fleet']['components']}
        got.append(comps)
    herd_c, cl = r['herd'], r['clients']
    work = 'coord_requests' if herd_c == 'zk' else 'attempts'
    for k, side in enumerate(('naive', 'technique')):
        want = [r['cells'][1][side], r['cells'][2][side] * 1e9]
        have = [got[k][herd_c][work], got[k][cl]['p99_ns']]
        if any(abs(a - b) > 1e-6 * max(1, abs(b)) for a, b in zip(want, have)):
            problems.append(f"{r['technique']} {side}: {want} != its run's {have}")
a = o.get('answer', {})
if 'Serve stale (soft TTL)' in a.get('allowed', []) or 'Request coalescing (singleflight)' not in a.get('allowed', []):
    problems.append(f"no-stale: allowed {a.get('allowed')}")
if a.get('cuts_duplicate_work', {}).get('technique') != 'Request coalescing (singleflight)':
    problems.append(f"no-stale: the first move is {a.get('cuts_duplicate_work')}")
print('ok' if not problems else '; '.join(problems[:4]))
PY
)
    what="8 rows × 4 measured cells, each figure its run's"
    ((rerun)) || what="8 rows × 4 measured cells (runs not repeated under the sanitizers)"
    [[ $verdict == ok ]] && ok "compare: $what" || nok "compare" "$verdict"
    [[ $verdict == ok ]] && ok "compare --constraint no-stale: serve stale ruled out, coalescing the first move" || nok "compare no-stale" "$verdict"
fi

if ((rerun)); then
    out=$("$herd" compare --format markdown 2>/dev/null | head -3)
    [[ "$out" == "| Technique |"* && "$out" == *"|---|"* ]] && ok "compare --format markdown: a table" || nok "compare markdown" "$out"
else
    ok "compare --format markdown # SKIP under the sanitizers (16 more runs; checked in the normal build)"
fi
for bad in "--constraint fresh:--constraint" "--format yaml:--format" "--seed -1:--seed"; do
    args=${bad%%:*}
    needle=${bad#*:}
    # shellcheck disable=SC2086
    err=$("$herd" compare $args 2>&1 >/dev/null)
    rc=$?
    [[ $rc -eq 2 && "$err" == *"$needle"* ]] && ok "compare $args: exit 2 naming $needle" || nok "compare $args" "rc=$rc $err"
done

echo "1..$n"
exit $((fails > 0))
