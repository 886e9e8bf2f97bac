#!/usr/bin/env bash
# Install what herd needs from Debian's packages, only what is missing: a no-op
# when everything is there. Works as root on a bare Debian 12 machine (uses sudo
# when not root). The list is the one place the project's system dependencies live.
set -euo pipefail

packages=(
    gcc make pkg-config meson ninja-build python3
    libjansson-dev libsqlite3-dev libcriterion-dev libmicrohttpd-dev
)
# `install-deps.sh bench`: also what the benchmarks compare against (Go's singleflight).
if [[ ${1:-} == bench ]]; then
    packages+=(golang-go golang-golang-x-sync-dev python3-simpy3)
fi

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
    exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
as_root=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    as_root=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
