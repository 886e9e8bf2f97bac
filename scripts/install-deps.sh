#!/usr/bin/env bash
# Install what herd needs from Debian's packages, only what is missing: a no-op
# when everything is there. Works as root on a bare Debian 12 machine (uses sudo
# when not root). The list is the one place the project's system dependencies live.
set -euo pipefail

packages=(
    gcc make pkg-config meson ninja-build python3
    libjansson-dev libsqlite3-dev libcriterion-dev libmicrohttpd-dev libyaml-dev chromium
)
# libyaml reads scenario files (docs/scenario-file.md says why: small, stable, an event
# parser with every node's line and column); clang builds the reader's fuzz target.
packages+=(clang)
# The real services of the live herds on Redis and PostgreSQL (issue 16): the servers, which
# herd starts privately per run (src/live/svc.c), and their C clients. Debian's postgresql
# brings pg_stat_statements, from which the origin's queries are counted.
packages+=(redis-server libhiredis-dev postgresql libpq-dev)
# ZooKeeper's jars (Debian's zookeeper, not zookeeperd: herd starts its own server per run,
# no system service) and its multi-threaded C client.
packages+=(zookeeper libzookeeper-mt-dev)
# OpenMPI for `herd sweep --mpi` (DESIGN §5: sweeps spread over MPI ranks) and its test
# under mpirun; herd still builds without it (--mpi then says so).
packages+=(libopenmpi-dev openmpi-bin)
# Node and npm for the page's build (uPlot) and its end-to-end test (playwright-core
# driving Debian's chromium; nothing downloads a browser). Test for the commands, not the
# packages: a NodeSource nodejs brings its own npm, which Debian's npm would conflict with.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
# `install-deps.sh bench`: also what the benchmarks compare against (Go's singleflight).
if [[ ${1:-} == bench ]]; then
    packages+=(golang-go golang-golang-x-sync-dev python3-simpy3 jq)
fi

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

# The page's npm packages (web/package-lock.json), before meson configures: meson embeds
# web/ only when web/node_modules is there. A no-op when they are installed and current.
npm_deps() {
    local web
    web=$(cd "$(dirname "$0")/../web" && pwd)
    if [[ ! -d $web/node_modules/uplot || ! $web/node_modules/.package-lock.json -nt $web/package-lock.json ]]; then
        echo "install-deps: npm ci in web/" >&2
        (cd "$web" && npm ci --no-audit --no-fund --loglevel=error >&2)
    fi
}

if ((${#missing[@]} == 0)); then
    npm_deps
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
npm_deps
