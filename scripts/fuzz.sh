#!/usr/bin/env bash
# fuzz.sh SOURCE_ROOT WORK_DIR [SECONDS] [RUNS] — build herd's libFuzzer targets with clang,
# ASan and UBSan, and run each for a bounded time (default 20 s; RUNS > 0 also stops a
# target after that many inputs: `make fuzz` gives 10 M) on its seed corpus:
#   scenario_file  the scenario-file reader (src/scenario/file*.c)
#   http_head      herd serve's request-head check (herd__gate_check_head, src/web/gate.c)
#   run_request    the API's run-request parser (herd__api_parse_run, src/web/api.c)
#   cli_args       herd run's command line (herd__cli_run_args, src/cli/args.c)
#   detect_read    herd detect's readers and analysis (CSV, JSON lines, Prometheus: src/detect/)
# The parsers are compiled here with the fuzzer's coverage; what they call beyond (the
# runner, the backends) is linked from the meson build in WORK_DIR/.. (its static
# libraries). Prints TAP: one case per target, skipped with the reason when clang (with
# libFuzzer), a library or the meson build is missing. A crash leaves its input in
# WORK_DIR/TARGET/crash-* and fails the case.
set -uo pipefail
src=$(realpath "${1:?source root}")
work=$(realpath -m "${2:?work dir}")
secs=${3:-20}
runs=${4:-0}
build=${HERD_BUILD:-$(dirname "$work")}
targets=(scenario_file http_head run_request cli_args detect_read)
echo "1..${#targets[@]}"
skip_all() {
    for t in "${targets[@]}"; do echo "ok - fuzz_$t # SKIP $1"; done
    exit 0
}
cc=$(command -v clang || command -v clang-14 || true)
[[ -n $cc ]] || skip_all "clang is not installed (scripts/install-deps.sh)"
for lib in yaml-0.1 jansson libmicrohttpd sqlite3; do
    pkg-config --exists $lib || skip_all "$lib is not installed"
done

# The scenario layer (the catalogue, every scenario's row, requests, files): what every
# target parses into.
scenario=("$src"/src/scenario/file.c "$src"/src/scenario/file_schema.c
          "$src"/src/scenario/catalogue.c "$src"/src/scenario/request.c)
while read -r name; do
    scenario+=("$src/src/scenario/$name.c")
done < <(sed -n 's/^ *X(\([a-z_]*\),.*/\1/p' "$src/src/scenario/list.h")
libs=()
for l in herd_web herd_front herd_live herd_sim herd_scenario herd_report herd; do
    libs+=("$build/lib$l.a")
done
# The live herds' service clients, when this machine has them (meson.build links the same
# ones into libherd_live: hiredis, libpq, libzookeeper-mt).
for p in hiredis libpq; do
    # shellcheck disable=SC2207
    pkg-config --exists "$p" && libs+=($(pkg-config --libs "$p"))
done
[[ -e /usr/include/zookeeper/zookeeper.h ]] && libs+=(-lzookeeper_mt)

i=0
fails=0
for t in "${targets[@]}"; do
    i=$((i + 1))
    dir=$work/$t
    bin=$dir/fuzz_$t
    mkdir -p "$dir/corpus"
    case $t in
    scenario_file) srcs=("${scenario[@]}"); link=("$build/libherd_report.a" "$build/libherd.a") ;;
    http_head) srcs=("$src"/src/web/gate.c); link=("${libs[@]}") ;;
    run_request) srcs=("$src"/src/web/api.c "${scenario[@]}"); link=("${libs[@]}") ;;
    cli_args) srcs=("$src"/src/cli/args.c "${scenario[@]}"); link=("${libs[@]}") ;;
    detect_read) srcs=("$src"/src/detect/read.c "$src"/src/detect/detect.c "$src"/src/detect/write.c)
                 link=("$build/libherd.a") ;;
    esac
    if [[ ${#link[@]} -gt 0 && ! -f $build/libherd_web.a ]]; then
        echo "ok $i - fuzz_$t # SKIP no meson build in $build (ninja -C $build first)"
        continue
    fi
    # shellcheck disable=SC2046
    if ! "$cc" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DHERD_VERSION=\"fuzz\" -I"$src/include" \
        "$src/tests/fuzz/fuzz_$t.c" "${srcs[@]}" -Wl,--start-group "${link[@]}" -Wl,--end-group \
        $(pkg-config --cflags --libs yaml-0.1 jansson libmicrohttpd sqlite3) -lm -lpthread \
        -o "$bin" 2>"$dir/build.log"; then
        if grep -q "fuzzer" "$dir/build.log"; then
            echo "ok $i - fuzz_$t # SKIP this clang has no libFuzzer: $(head -1 "$dir/build.log")"
            continue
        fi
        echo "not ok $i - fuzz_$t: the target does not build"
        sed 's/^/# /' "$dir/build.log" | head -20
        fails=$((fails + 1))
        continue
    fi
    case $t in
    scenario_file) cp "$src"/scenarios/*.yaml "$src"/tests/scenario-files/bad/*.yaml "$dir/corpus/" 2>/dev/null ;;
    *) cp "$src/tests/fuzz/$t"/* "$dir/corpus/" ;;
    esac
    # -close_fd_mask=2: the CLI parser's usage lines would flood the log.
    (cd "$dir" && "$bin" -max_total_time="$secs" -runs="$((runs > 0 ? runs : -1))" -timeout=10 \
        -rss_limit_mb=2560 -max_len=65536 -close_fd_mask=2 -print_final_stats=1 corpus \
        >"$dir/fuzz.log" 2>&1)
    rc=$?
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/fuzz.log")
    t_s=$(sed -n 's/.*Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$dir/fuzz.log")
    if [[ $rc -eq 0 ]]; then
        echo "ok $i - fuzz_$t: ${n:-?} inputs in ${t_s:-$secs} s, no crash"
    else
        echo "not ok $i - fuzz_$t: a crash (input in $dir/crash-*)"
        fails=$((fails + 1))
        grep -E "ERROR|SUMMARY|runtime error" "$dir/fuzz.log" | head -10 | sed 's/^/# /'
    fi
done
exit "$fails"
