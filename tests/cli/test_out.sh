#!/usr/bin/env bash
# test_out.sh HERD — --out as users expect from `curl -o` and `sort -o` (issue 13): a
# regular file replaced atomically with its mode, hard links kept, FIFOs and /dev/stdout
# written in place, symlinks followed, bad paths refused before the run (exit 2, naming
# the flag), no directory created, nothing left behind by a killed run. Prints TAP.
set -u
herd=$(realpath "$1")
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"
cd "$tmp" || exit 1

# A short simulation (milliseconds) whose report is JSON.
run() { "$herd" run queue -q -f json --set duration_s=0.01 "$@"; }
is_report() { [[ -s $1 ]] && grep -q '"runs"' "$1"; }

# expect_refused "what" "needle" args... : exit 2, one line naming --out, before any run
# (no progress line: -q is not given, so a run would print "herd: running").
expect_refused() {
    local what=$1 needle=$2 out rc
    shift 2
    out=$("$herd" run queue --set duration_s=0.01 "$@" 2>&1 >/dev/null)
    rc=$?
    if [[ $rc -eq 2 && $(printf '%s\n' "$out" | wc -l) -eq 1 && $out == *"--out"* &&
          $out == *"$needle"* ]]; then
        ok "$what: refused before the run, exit 2: $out"
    else
        nok "$what" "rc=$rc out=$out"
    fi
}

echo old >f && chmod 600 f
run -o f && is_report f && [[ $(stat -c %a f) == 600 ]] && ok "a 0600 file keeps its mode" ||
    nok "a 0600 file keeps its mode" "$(stat -c %a f)"
echo old >h && ln h h2
run -o h && is_report h && cmp -s h h2 && [[ $(stat -c %h h) == 2 ]] &&
    ok "a hard-linked file is written in place: both names see the report" ||
    nok "hard link kept" "$(stat -c '%h %s' h h2)"
echo old >target && ln -s target link
run -o link && [[ -L link ]] && is_report target && ok "a symlink is followed, not replaced" ||
    nok "symlink followed" "$(ls -l link target)"
ln -s made dangling
run -o dangling && [[ -L dangling ]] && is_report made && ok "a dangling symlink's target is created" ||
    nok "dangling symlink" "$(ls -l dangling made 2>&1)"
mkfifo fifo
cat fifo >from_fifo &
reader=$!
run -o fifo
wait "$reader"
[[ -p fifo ]] && is_report from_fifo && ok "a FIFO is written in place and stays a FIFO" ||
    nok "FIFO" "$(ls -l fifo from_fifo)"
run -o /dev/stdout >via_stdout && is_report via_stdout && ok "-o /dev/stdout writes to stdout" ||
    nok "/dev/stdout" "$(wc -c <via_stdout)"
run -o /dev/null && ok "-o /dev/null: a device is written in place" || nok "/dev/null"
[[ -c /dev/null ]] && ok "/dev/null is still a device" || nok "/dev/null replaced"
run -o new.json && is_report new.json && [[ $(stat -c %a new.json) == $(printf '%o' $((0666 & ~$(umask)))) ]] &&
    ok "a new file gets 0666 less the umask" || nok "new file mode" "$(stat -c %a new.json)"

expect_refused "an empty path" "an empty path" -o ""
expect_refused "a directory" "is a directory" -o "$tmp"
expect_refused "a missing directory" "no directory" -o "$tmp/missing/x.json"
[[ ! -e $tmp/missing ]] && ok "no directory was created" || nok "a directory was created"
expect_refused "a file as a directory" "Not a directory" -o "$tmp/f/x.json"
# calibrate refuses before it measures anything (no 10 s of live runs).
out=$("$herd" calibrate -q -o "$tmp/nodir/p.json" 2>&1)
rc=$?
[[ $rc -eq 2 && $out == *"--out"* && ! -e $tmp/nodir ]] && ok "calibrate -o in a missing directory: exit 2, none created" ||
    nok "calibrate -o missing dir" "rc=$rc $out"
if [[ $(id -u) -ne 0 ]]; then
    echo ro >ro && chmod 444 ro
    expect_refused "a read-only file" "Permission denied" -o ro
    mkdir rodir && chmod 555 rodir
    expect_refused "a read-only directory" "Permission denied" -o rodir/x
    chmod 755 rodir
else
    ok "a read-only file and directory # SKIP root writes through permissions"
fi

# Killed mid-run: nothing of the run is on disk (the report is in memory until the end).
mkdir kill && cd kill || exit 1
echo keep >out.json
"$herd" run queue -q --set rate=1e6 --set duration_s=100 --set servers=1000 -o out.json &
pid=$!
sleep 1
kill -9 "$pid"
wait "$pid" 2>/dev/null
[[ $(ls -A | tr '\n' ' ') == "out.json " && $(cat out.json) == keep ]] &&
    ok "SIGKILL mid-run: the old file intact, no temporary file" || nok "killed run" "$(ls -A)"
# A temporary file of a dead run (a filesystem without O_TMPFILE, killed while it wrote)
# is removed by the next run into that directory; a live pid's is left alone.
touch .out.json.herd-tmp.2147483000 ".out.json.herd-tmp.$$"
cd .. && run -o kill/out.json && is_report kill/out.json && [[ ! -e kill/.out.json.herd-tmp.2147483000 &&
    -e kill/.out.json.herd-tmp.$$ ]] && ok "a dead run's temporary file is cleaned, a live one's kept" ||
    nok "stale temporary files" "$(ls -A kill)"
ls -A | grep -q herd-tmp && nok "a temporary file was left" "$(ls -A)" || ok "no temporary file left"

echo "1..$n"
exit "$fails"
