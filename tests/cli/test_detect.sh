#!/usr/bin/env bash
# test_detect.sh — herd run --trace and herd detect as a user runs them: a traced cron herd
# is called a herd at the cron boundary (text and JSON), the trace's shape, --trace refused
# where a run is not one simulated run, and detect's input errors (exit 2, the line and the
# field named). Usage: test_detect.sh PATH/TO/herd
herd=$1
. "$(dirname "$0")/tap.sh"

"$herd" run cron -b sim -m naive -n 200 -e 3 -q --trace "$tmp/cron.csv" > /dev/null 2> "$tmp/err"
rc=$?
head -1 "$tmp/cron.csv" > "$tmp/head"
lines=$(grep -vc '^#' "$tmp/cron.csv")
if [[ $rc == 0 && $(cat "$tmp/head") == "time_s,client,key,status" && $lines == 601 ]] &&
    grep -q '^# window_s 0 ' "$tmp/cron.csv"; then
    ok "run --trace: a header, 600 requests (200 clients x 3 boundaries) and the window"
else
    nok "run --trace" "rc $rc, $lines lines" "$(cat "$tmp/err")"
fi

out=$("$herd" detect "$tmp/cron.csv" 2>&1)
if [[ $? == 0 && $out == *"verdict       herd"* && $out == *"synchronizer  cron-boundary"* ]]; then
    ok "detect: the traced cron herd is a herd at a cron boundary"
else
    nok "detect text" "$out"
fi
json=$("$herd" detect --format json < "$tmp/cron.csv")
if python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["verdict"]=="herd" and d["synchronizer"]=="cron-boundary" and len(d["bursts"])==3 and d["wall_period_s"]==1' "$json"; then
    ok "detect --format json from stdin: three bursts on 1 s boundaries"
else
    nok "detect json" "$json"
fi

"$herd" run cron -b sim -n 50 --trace "$tmp/x.csv" > /dev/null 2> "$tmp/err"
rc=$?
if [[ $rc == 2 && $(cat "$tmp/err") == *"--trace: needs one simulated run"* && ! -e $tmp/x.csv ]]; then
    ok "run --trace with naive and mitigated: exit 2, nothing written"
else
    nok "run --trace refused" "rc $rc" "$(cat "$tmp/err")"
fi

printf 'time,status\n1.0,ok\n2.0,teapot\n' > "$tmp/bad.csv"
err=$("$herd" detect "$tmp/bad.csv" 2>&1)
rc=$?
if [[ $rc == 2 && $err == *"bad.csv:3: field 'status'"* ]]; then
    ok "detect: a bad status is exit 2 naming line 3 and the field"
else
    nok "detect bad status" "rc $rc" "$err"
fi
err=$("$herd" detect "$tmp/none.csv" 2>&1)
rc=$?
[[ $rc == 2 && $err == *"cannot open"* ]] && ok "detect: a missing file is exit 2" || nok "detect missing" "rc $rc" "$err"
err=$("$herd" detect "$tmp/cron.csv" --format xml 2>&1)
rc=$?
[[ $rc == 2 && $err == *"--format: 'xml' is not allowed"* ]] && ok "detect --format xml: exit 2" || nok "detect format" "rc $rc" "$err"
"$herd" detect --help | grep -q "usage: herd detect" && ok "detect --help" || nok "detect --help"

echo "1..$n"
exit $fails
