#!/usr/bin/env bash
# loadtest/instructions.sh: the instructions otpgate executes per OTP, end to end, counted by
# valgrind's callgrind: the same for every run of the same build, so two builds compare
# without the noise of this shared machine (CPU time still decides: an instruction count
# does not see cache misses, system calls or waits).
#
#   bash loadtest/instructions.sh [OTPGATE ...]    # default target/release/otpgate
#
# Each build runs in h1's setup of bench.sh (memory store, one tenant, one transceiver bind of
# window 64, the simulator answering at once with receipts at once) under callgrind, slowed
# about fifty times: wrk -t1 -c16 for 5 s to warm up, the counts zeroed, INSTR_SECS (10) more
# seconds, the counts dumped. Prints, per build, the instructions per OTP (per part the
# simulator received) of the HTTP workers, the SMPP engine thread and in all, and each
# build's total against the first's. Needs valgrind and wrk (Debian packages of those names).
# Caution: valgrind's CPU lacks SHA extensions, so the keyed PIN hash counts its portable
# code (about 7,000 instructions a create more than on this machine's CPU).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=loadtest/h1-config.sh
. "$ROOT/loadtest/h1-config.sh"
BIN=$ROOT/target/release
SECS=${INSTR_SECS:-10}
RUN=$(mktemp -d "${TMPDIR:-/tmp}/otpgate-instructions.XXXXXX")
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ -n "${INSTR_KEEP:-}" ] || rm -rf "$RUN"
}
trap cleanup EXIT

for tool in valgrind callgrind_control wrk curl jq; do
    command -v "$tool" >/dev/null || { echo "instructions.sh: $tool is missing" >&2; exit 1; }
done

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# count NAME BIN: one build under callgrind; prints "workers engine total" per part.
count() {
    local dir=$RUN/$1 gw=$2 simp simh gwp sim g p0 p1 parts
    mkdir -p "$dir"
    simp=$(free_port) simh=$(free_port) gwp=$(free_port)
    "$BIN/smsc-sim" --listen "127.0.0.1:$simp" --http "127.0.0.1:$simh" --quiet --no-messages \
        --receipt-delay 0 >"$dir/sim.log" 2>&1 &
    sim=$!
    PIDS+=("$sim")
    h1_config "$gwp" "$simp" 0 >"$dir/gw.toml"
    (cd "$dir" && exec valgrind --tool=callgrind --separate-threads=yes --dump-line=no \
        --callgrind-out-file="$dir/cg.out" "$gw" serve --config "$dir/gw.toml") >"$dir/gw.log" 2>&1 &
    g=$!
    PIDS+=("$g")
    for _ in $(seq 600); do
        curl -sf -o /dev/null "http://127.0.0.1:$gwp/readyz" && break
        sleep 0.2
    done
    curl -sf -o /dev/null "http://127.0.0.1:$gwp/readyz" || { echo "$1 did not start: $dir/gw.log" >&2; exit 1; }
    cd "$ROOT"
    WRK_TOKEN=bench-token timeout 60 wrk -t1 -c16 -d5s -s loadtest/wrk/post.lua \
        "http://127.0.0.1:$gwp/otp" >/dev/null
    sleep 2
    p0=$(curl -s "http://127.0.0.1:$simh/counters" | jq .parts)
    callgrind_control -z "$g" >/dev/null 2>&1
    WRK_TOKEN=bench-token timeout $((SECS + 60)) wrk -t1 -c16 -d"${SECS}s" -s loadtest/wrk/post.lua \
        "http://127.0.0.1:$gwp/otp" >"$dir/wrk.log"
    sleep 3
    p1=$(curl -s "http://127.0.0.1:$simh/counters" | jq .parts)
    callgrind_control -d "$g" >/dev/null 2>&1
    sleep 1
    kill "$g" "$sim" 2>/dev/null || true
    wait "$g" "$sim" 2>/dev/null || true
    parts=$((p1 - p0))
    [ "$parts" -gt 0 ] || { echo "$1: no part reached the simulator" >&2; exit 1; }
    # one file per thread of the dump: the engine's runs the SMPP session, the workers' hyper
    local workers=0 engine=0 f n
    for f in "$dir"/cg.out.*-*; do
        n=$(awk '/^summary:/ {print $2; exit}' "$f")
        if grep -q 'Session::run_inner' "$f"; then
            engine=$((engine + n))
        elif grep -q 'hyper::proto::h1' "$f"; then
            workers=$((workers + n))
        fi
    done
    echo "$((workers / parts)) $((engine / parts)) $(((workers + engine) / parts)) $parts"
}

[ $# -gt 0 ] || set -- "$BIN/otpgate"
first=""
printf '%-40s %12s %12s %12s %8s %8s\n' build workers engine total parts "vs first"
i=0
for gw in "$@"; do
    i=$((i + 1))
    gw=$(realpath "$gw")
    count "b$i" "$gw" >"$RUN/b$i.result"
    read -r w e t parts <"$RUN/b$i.result"
    [ -n "$first" ] || first=$t
    printf '%-40s %12s %12s %12s %8s %8s\n' "$(basename "$(dirname "$gw")")/$(basename "$gw")" \
        "$w" "$e" "$t" "$parts" "$(awk -v a="$t" -v b="$first" 'BEGIN {printf "%.3fx", a / b}')"
done
