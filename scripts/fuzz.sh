#!/usr/bin/env bash
# fuzz.sh SOURCE_ROOT WORK_DIR [SECONDS] — build the scenario-file reader's libFuzzer target
# (tests/fuzz/fuzz_scenario_file.c) with clang, ASan and UBSan, and run it for a bounded
# time (default 20 s) on a seed corpus of the shipped files and the malformed ones. Prints
# TAP: one case, skipped with the reason when clang (with libFuzzer) or libyaml is missing.
# A crash leaves its input in WORK_DIR (crash-*) and fails the case.
set -uo pipefail
src=${1:?source root}
work=${2:?work dir}
secs=${3:-20}
echo "1..1"
cc=$(command -v clang || command -v clang-14 || true)
if [[ -z $cc ]]; then
    echo "ok 1 - fuzz_scenario_file # SKIP clang is not installed (scripts/install-deps.sh)"
    exit 0
fi
if ! pkg-config --exists yaml-0.1; then
    echo "ok 1 - fuzz_scenario_file # SKIP libyaml-dev is not installed"
    exit 0
fi
mkdir -p "$work/corpus"
bin=$work/fuzz_scenario_file
# The reader and the catalogue it registers rows with; nothing that runs a simulation.
srcs=("$src"/tests/fuzz/fuzz_scenario_file.c "$src"/src/scenario/file.c
      "$src"/src/scenario/file_schema.c "$src"/src/scenario/catalogue.c)
while read -r name; do
    srcs+=("$src/src/scenario/$name.c")
done < <(sed -n 's/^ *X(\([a-z_]*\),.*/\1/p' "$src/src/scenario/list.h")
if ! "$cc" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I"$src/include" "${srcs[@]}" \
    $(pkg-config --cflags --libs yaml-0.1) -lm -lpthread -o "$bin" 2>"$work/build.log"; then
    if grep -q "fuzzer" "$work/build.log"; then
        echo "ok 1 - fuzz_scenario_file # SKIP this clang has no libFuzzer: $(head -1 "$work/build.log")"
        exit 0
    fi
    echo "not ok 1 - fuzz_scenario_file: the target does not build"
    sed 's/^/# /' "$work/build.log" | head -20
    exit 1
fi
cp "$src"/scenarios/*.yaml "$src"/tests/scenario-files/bad/*.yaml "$work/corpus/" 2>/dev/null
cd "$work" || exit 1
if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 corpus >"$work/fuzz.log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log")
    echo "ok 1 - fuzz_scenario_file: ${runs:-?} inputs in ${secs} s, no crash"
else
    echo "not ok 1 - fuzz_scenario_file: a crash (input in $work/crash-*)"
    grep -E "ERROR|SUMMARY|runtime error" "$work/fuzz.log" | head -10 | sed 's/^/# /'
    exit 1
fi
