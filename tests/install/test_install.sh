#!/usr/bin/env bash
# test_install.sh BUILD_DIR SOURCE_DIR — install libherd into a temporary DESTDIR and
# build every program in examples/ against the installed copy only (pkg-config, the
# installed headers, the shared and the static library), then run each. Prints TAP.
set -u
build=$1
src=$2
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT

if out=$(meson install -C "$build" --no-rebuild --destdir "$dest" 2>&1); then
    ok "meson install into DESTDIR"
else
    nok "meson install" "$out"
    echo "1..$n"
    exit 1
fi

pcdir=$(dirname "$(find "$dest" -name herd.pc | head -n 1)")
export PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$dest
if pkg-config --exists herd && [[ "$(pkg-config --modversion herd)" =~ ^[0-9] ]]; then
    ok "herd.pc is installed and valid"
else
    nok "herd.pc" "$(ls -R "$dest" | head -20)"
fi

# Every public header compiles on its own, against the installed tree.
for h in "$dest"/usr/local/include/herd/*.h "$dest"/*/include/herd/*.h; do
    [[ -f $h ]] || continue
    name=$(basename "$h")
    if echo "#include <herd/$name>" | cc -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags herd) -x c -c - -o /dev/null 2>"$dest/err"; then
        ok "installed header herd/$name compiles alone"
    else
        nok "header $name" "$(cat "$dest/err")"
    fi
done

libdir=$(dirname "$(find "$dest" -name 'libherd.so*' | head -n 1)")
for ex in "$src"/examples/*.c; do
    [[ -f $ex ]] || continue
    name=$(basename "$ex" .c)
    # An example that talks to a real SQLite links the system's libsqlite3 too.
    extra=()
    if grep -q '#include <sqlite3.h>' "$ex"; then
        read -ra extra <<<"$(PKG_CONFIG_PATH= PKG_CONFIG_SYSROOT_DIR= pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3)"
    fi
    if cc -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -o "$dest/$name" "$ex" \
        $(pkg-config --cflags --libs herd) "${extra[@]}" -pthread -lm 2>"$dest/err"; then
        ok "example $name builds against the installed shared library"
    else
        nok "example $name (shared)" "$(cat "$dest/err")"
        continue
    fi
    if out=$(LD_LIBRARY_PATH=$libdir timeout 60 "$dest/$name" 2>&1); then
        ok "example $name runs"
    else
        nok "example $name runs" "$out"
    fi
    if cc -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -o "$dest/$name-static" "$ex" \
        $(pkg-config --cflags herd) "$libdir/libherd.a" "${extra[@]}" -pthread -lm 2>"$dest/err" &&
        timeout 60 "$dest/$name-static" >/dev/null 2>&1; then
        ok "example $name builds and runs against the installed static library"
    else
        nok "example $name (static)" "$(cat "$dest/err")"
    fi
done

echo "1..$n"
exit $((fails > 0))
