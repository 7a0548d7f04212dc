#!/usr/bin/env bash
# loadtest/bench.sh: otpgate side by side with Kannel 1.4.5 and a bare hyper JSON echo server,
# all on this machine's loopback, plus the SMPP window efficiency and throttle accuracy.
# Prints one table of measurements, targets and ratios, and writes target/bench/results.json.
#
#   bash loadtest/bench.sh            # about 3-5 minutes after the release build
#
# Every process it starts is stopped on exit; every load run is bounded in count and time.
# The headline rows (h1-h4) use wrk -t1 -c64 (Debian package wrk) as the HTTP client, in one
# fixed setup: memory store, cleartext HTTP/1.1, one tenant, no callbacks, one transceiver bind
# with window 64, the simulator answering at once with receipts at once. Each gives the rate at
# the client and at the SMSC and each server's own CPU seconds per message (/proc/PID/stat).
# Row h5 is the open-loop latency of both gateways at half Kannel's maximum rate (otp-load).
# The other rows use otp-load (open-loop latency, window efficiency, throttle accuracy).
#
# Environment: BENCH_OUT (default target/bench), BENCH_CONC (closed-loop connections, 64),
# BENCH_SECS (length of the main runs, 15), BENCH_FIXED_RATE (open-loop rate of the latency
# runs, 3000/s), BENCH_ENGINE=0 to skip the engine window bench,
# BENCH_NO_INSTALL=1 to never install Kannel or wrk, BENCH_ROWS (default
# "h1 h2 h3 h4 h5 1 2 3 4 5 6 7") to run only some, BENCH_LAT_RATE (open-loop rate of row h5;
# default half of Kannel's rate at the SMSC in h2, else BENCH_FIXED_RATE), BENCH_BASELINE="PATH..." other otpgate binaries
# measured in the same run beside this one (rows h1b1, h1b2...), BENCH_ONE_WORKER=1 to add h1w
# (otpgate on one runtime worker thread, TOKIO_WORKER_THREADS=1), BENCH_PAIRS=N for N shuffled
# rounds of the h1 and h4r setups of every build and the echo (medians), BENCH_NO_BUILD=1 to use the
# release binaries as they are, GW_BIN=PATH another otpgate binary in every row, BENCH_PGO=1 to
# measure the profile-guided build (packaging/pgo-build.sh; PGO_BOLT=1 as well for its BOLT
# layout) with the plain one as h1b1.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=loadtest/h1-config.sh
. "$ROOT/loadtest/h1-config.sh"
OUT=${BENCH_OUT:-$ROOT/target/bench}
BIN=$ROOT/target/release
CONC=${BENCH_CONC:-64}
SECS=${BENCH_SECS:-15}
FIXED=${BENCH_FIXED_RATE:-3000}
RUN=$(mktemp -d "${TMPDIR:-/tmp}/otpgate-bench.XXXXXX")
PIDS=()
USED_PORTS=" "
ROWS=" ${BENCH_ROWS:-h1 h2 h3 h4 h5 1 2 3 4 5 6 7} "
PATH=$PATH:/usr/sbin:/sbin
unset RUST_LOG

want() { case "$ROWS" in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
has() { [ -s "$OUT/$1.json" ]; }
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Stops every process started so far: TERM, up to 5 s of grace, then KILL.
stop_all() {
    local pid left i
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for i in $(seq 50); do
        left=0
        for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && left=1; done
        [ "$left" = 0 ] && break
        sleep 0.1
    done
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    PIDS=()
}
cleanup() {
    stop_all
    mkdir -p "$OUT/logs" && cp -f "$RUN"/*.log "$RUN"/*.toml "$RUN"/*.conf "$OUT/logs/" 2>/dev/null || true
    rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in curl jq awk; do
    command -v "$tool" >/dev/null || die "$tool is needed"
done

# A TCP port on 127.0.0.1 nobody listens on, not handed out before in this run, below the
# kernel's ephemeral range: a port there may be the local end of one of wrk's (or any
# client's) connections, which nothing can listen on while it lasts.
EPHEMERAL_LOW=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
PORT_LOW=10000 PORT_SPAN=$((${EPHEMERAL_LOW:-32768} - 10000))
[ "$PORT_SPAN" -ge 1000 ] || PORT_LOW=20000 PORT_SPAN=12000
free_port() {
    local p i
    for i in $(seq 200); do
        p=$((PORT_LOW + (RANDOM * 32768 + RANDOM) % PORT_SPAN))
        case "$USED_PORTS" in *" $p "*) continue ;; esac
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            USED_PORTS="$USED_PORTS$p "
            echo "$p"
            return 0
        fi
    done
    die "no free port found"
}

# Waits (at most $2 s) until something accepts on 127.0.0.1:$1.
wait_port() {
    local deadline=$((SECONDS + ${2:-20}))
    until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# Waits (at most $2 s) until GET $1 answers 200.
wait_http_ok() {
    local deadline=$((SECONDS + ${2:-20}))
    until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1")" = 200 ]; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# Waits (at most $2 s) until the simulator at $1 has a bound session.
wait_bound() {
    local deadline=$((SECONDS + ${2:-20})) n
    while :; do
        n=$(curl -s --max-time 2 "$1/counters" | jq -r '(.binds_transceiver + .binds_transmitter) // 0' 2>/dev/null || echo 0)
        [ "${n:-0}" -ge 1 ] && return 0
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# start_sim NAME ARGS...: starts a simulator; sets SIM_PORT and SIM_URL.
start_sim() {
    local name=$1
    shift
    SIM_PORT=$(free_port)
    local http
    http=$(free_port)
    RUST_LOG=warn "$BIN/smsc-sim" --listen "127.0.0.1:$SIM_PORT" --http "127.0.0.1:$http" \
        --quiet --no-messages "$@" >"$RUN/$name-sim.log" 2>&1 &
    PIDS+=($!)
    SIM_URL="http://127.0.0.1:$http"
    wait_port "$SIM_PORT" && wait_port "$http" || die "simulator $name did not start (see $RUN/$name-sim.log)"
}

# start_echo NAME: the bare hyper echo server; sets ECHO_ADDR and ECHO_PID once it listens.
start_echo() {
    local log="$RUN/$1-echo.log"
    "$BIN/echo-server" --listen 127.0.0.1:0 >"$log" 2>&1 &
    ECHO_PID=$!
    PIDS+=($!)
    for _ in $(seq 100); do grep -q '^listening on' "$log" && break; sleep 0.1; done
    ECHO_ADDR=$(sed -n 's/^listening on //p' "$log")
    [ -n "$ECHO_ADDR" ] || die "echo-server did not start (see $log)"
}

# start_bare NAME: bare-gateway on one bind (window 64) to the simulator at SIM_PORT; sets
# BARE_ADDR and BARE_PID once it listens.
start_bare() {
    local log="$RUN/$1-bare.log"
    "$BIN/bare-gateway" --listen 127.0.0.1:0 --smsc "127.0.0.1:$SIM_PORT" >"$log" 2>&1 &
    BARE_PID=$!
    PIDS+=($!)
    for _ in $(seq 100); do grep -q '^listening on' "$log" && break; sleep 0.1; done
    BARE_ADDR=$(sed -n 's/^listening on //p' "$log")
    [ -n "$BARE_ADDR" ] || die "bare-gateway did not start (see $log)"
}

# start_otpgate NAME TPS [TOML]: otpgate on one bind (window 64) to the simulator at SIM_PORT,
# TOML appended to its configuration; sets GW_URL and GW_PID once a bind is up.
start_otpgate() {
    local name=$1 tps=$2 extra=${3:-} port bin=${GW_BIN:-$BIN/otpgate}
    port=$(free_port)
    h1_config "$port" "$SIM_PORT" "$tps" "$extra" >"$RUN/$name.toml"
    "$bin" serve --config "$RUN/$name.toml" >"$RUN/$name-otpgate.log" 2>&1 &
    GW_PID=$!
    PIDS+=($!)
    GW_URL="http://127.0.0.1:$port"
    wait_port "$port" 30 || die "otpgate ($name) did not start: $(tail -n 5 "$RUN/$name-otpgate.log")"
    wait_http_ok "$GW_URL/readyz" 30 || die "otpgate ($name) never became ready: $(tail -n 5 "$RUN/$name-otpgate.log")"
    local code
    code=$(curl -s -o "$RUN/$name-probe.log" -w '%{http_code}' --max-time 5 -X POST "$GW_URL/otp" \
        -H 'Authorization: Bearer bench-token' -H 'Content-Type: application/json' \
        -d '{"phoneNumber":"+447400100000"}')
    [ "$code" = 201 ] || die "otpgate ($name) refused a create ($code): $(cat "$RUN/$name-probe.log")"
}

# load NAME ARGS...: one bounded otp-load run, its JSON report in $OUT/NAME.json.
load() {
    local name=$1
    shift
    log "load $name: otp-load $*"
    timeout 300 "$BIN/otp-load" --json "$@" >"$OUT/$name.json" 2>"$RUN/$name-load.log" ||
        die "otp-load $name failed: $(tail -n 5 "$RUN/$name-load.log")"
}

# warm NAME ARGS...: a short unrecorded run first (connections, allocator, caches).
warm() {
    "$BIN/otp-load" "$@" --requests 2000 --duration 3s >/dev/null 2>&1 || true
}

# q FILE JQ: a number from a report ("null" when absent).
q() { jq -r "$2" "$OUT/$1.json" 2>/dev/null || echo null; }
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }" 2>/dev/null || echo "n/a"; }

mkdir -p "$OUT"
rm -f "$OUT"/*.json
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
    log "building (release)"
    (cd "$ROOT" && cargo build --release -p otpgate -p otpgate-loadtest) >&2
fi
# BENCH_PGO=1: the otpgate rows measure the profile-guided build, the plain one beside it
if [ "${BENCH_PGO:-0}" = 1 ]; then
    log "building with profile-guided optimisation (packaging/pgo-build.sh, about 15 min)"
    bash "$ROOT/packaging/pgo-build.sh" >"$RUN/pgo-build.log" 2>&1 ||
        die "packaging/pgo-build.sh failed (see $RUN/pgo-build.log)"
    BENCH_BASELINE="$BIN/otpgate ${BENCH_BASELINE:-}"
    GW_BIN="$ROOT/target/$(rustc -vV | awk '/^host:/ {print $2}')/release/otpgate"
fi

# Kannel: install the Debian package when missing and allowed.
KANNEL=missing
if ! command -v bearerbox >/dev/null && [ "${BENCH_NO_INSTALL:-0}" != 1 ] && command -v apt-get >/dev/null; then
    if [ "$(id -u)" = 0 ]; then SUDO=(); elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=(sudo -n); else SUDO=(false); fi
    log "installing kannel with apt-get"
    { DEBIAN_FRONTEND=noninteractive timeout 300 "${SUDO[@]}" apt-get install -y --no-install-recommends kannel ||
        { timeout 300 "${SUDO[@]}" apt-get update && DEBIAN_FRONTEND=noninteractive timeout 300 "${SUDO[@]}" apt-get install -y --no-install-recommends kannel; }; } >"$RUN/apt.log" 2>&1 ||
        log "kannel could not be installed (see $OUT/logs/apt.log)"
fi
if command -v bearerbox >/dev/null && command -v smsbox >/dev/null; then
    KANNEL=$(bearerbox --version 2>&1 | sed -n "s/.*version \`\([^']*\)'.*/\1/p" | head -n 1)
fi

REQ=$((SECS * 20000))
# Valid UK mobile numbers, +447400100000 to +447400199999 (otp-load wraps its counter).
PHONES=(--phone-prefix +4474001 --phone-digits 5)
OTP_ARGS=(--mode otp --token bench-token "${PHONES[@]}")

# ---- headline rows: wrk -t1 -c64, zero-latency SMSC with receipts at once ------------------
if ! command -v wrk >/dev/null && [ "${BENCH_NO_INSTALL:-0}" != 1 ] && command -v apt-get >/dev/null; then
    if [ "$(id -u)" = 0 ]; then SUDO=(); elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=(sudo -n); else SUDO=(false); fi
    log "installing wrk with apt-get"
    { DEBIAN_FRONTEND=noninteractive timeout 300 "${SUDO[@]}" apt-get install -y --no-install-recommends wrk ||
        { timeout 300 "${SUDO[@]}" apt-get update && DEBIAN_FRONTEND=noninteractive timeout 300 "${SUDO[@]}" apt-get install -y --no-install-recommends wrk; }; } >"$RUN/apt-wrk.log" 2>&1 ||
        log "wrk could not be installed (see $OUT/logs/apt-wrk.log)"
fi
HZ=$(getconf CLK_TCK)

# cpu_ticks PID...: user + system CPU of the processes so far, in clock ticks (fields 14 and 15
# of /proc/PID/stat, counted after the command name, which may hold spaces).
cpu_ticks() {
    local pid t=0 v
    for pid in "$@"; do
        v=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $12 + $13 }') || v=0
        t=$((t + ${v:-0}))
    done
    echo "$t"
}

# thread_ticks PID: user + system CPU of each of the process's threads by thread name, in clock
# ticks, as a JSON object (otpgate: "otpgate-smpp" is the engine's thread, "tokio-rt-worker"
# the HTTP front's).
thread_ticks() {
    local t
    for t in /proc/"$1"/task/*; do
        printf '%s\t%s\n' "$(cat "$t/comm" 2>/dev/null)" \
            "$(sed 's/^.*) //' "$t/stat" 2>/dev/null | awk '{ print $12 + $13 }')"
    done | jq -R -s 'split("\n") | map(select(length > 0) | split("\t"))
        | reduce .[] as $r ({}; .[$r[0]] += ($r[1] | tonumber? // 0))' 2>/dev/null || echo '{}'
}

# sim_count URL FIELD: one simulator counter (0 without a simulator).
sim_count() {
    [ "$1" = - ] && { echo 0; return; }
    curl -s --max-time 2 "$1/counters" | jq -r ".$2 // 0" 2>/dev/null || echo 0
}

# wait_quiet URL SECONDS: until the simulator's parts and receipts stop moving for 1 s (what
# was queued is sent and its receipts processed), at most SECONDS.
wait_quiet() {
    local deadline=$((SECONDS + $2)) last="" now still=0
    while [ "$SECONDS" -lt "$deadline" ]; do
        now="$(sim_count "$1" parts) $(sim_count "$1" receipts_acked)"
        if [ "$now" = "$last" ]; then
            still=$((still + 1))
            [ "$still" -ge 5 ] && return 0
        else
            still=0
        fi
        last=$now
        sleep 0.2
    done
}

# wrk_ms LOG PERCENT: a latency percentile of wrk --latency, in ms.
wrk_ms() {
    awk -v p="$2%" '$1 == p { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
        f = (u == "us") ? 0.001 : (u == "s") ? 1000 : (u == "m") ? 60000 : 1; printf "%.3f", v * f }' "$1"
}

# wrk_run NAME PATH SCRIPT SIM_URL PID...: one bounded wrk -t1 -c$CONC run against URL (its
# Lua script from loadtest/wrk/), the CPU of the PIDs through the run and the SMSC's drain,
# the simulator's counters (SIM_URL "-" for none); the summary in $OUT/NAME.json.
wrk_run() {
    local name=$1 url=$2 script=$3 sim=$4
    shift 4
    local p0 r0 c0 pw p1 r1 c1 w="$RUN/$name-wrk.log" th0 th1
    timeout 30 wrk -t1 -c"$CONC" -d3s -s "$ROOT/loadtest/wrk/$script" "$url" >/dev/null 2>&1 || true
    [ "$sim" = - ] || wait_quiet "$sim" 60
    p0=$(sim_count "$sim" parts) r0=$(sim_count "$sim" receipts_acked) c0=$(cpu_ticks "$@") th0=$(thread_ticks "$1")
    log "wrk $name: wrk -t1 -c$CONC -d${SECS}s $url"
    timeout $((SECS + 60)) wrk -t1 -c"$CONC" -d"${SECS}s" --timeout 10s --latency \
        -s "$ROOT/loadtest/wrk/$script" "$url" >"$w" 2>&1 || die "wrk $name failed: $(tail -n 5 "$w")"
    pw=$(sim_count "$sim" parts)
    # The bind's own capacity (overload rows, WRK_CAPACITY=1), measured on the same bind right
    # after the run: while a full send queue drains with no HTTP load, the SMSC gets all the
    # bind can carry.
    local t0 capacity=null
    if [ "$sim" != - ] && [ "${WRK_CAPACITY:-0}" = 1 ]; then
        t0=$(date +%s.%N)
        sleep 1
        capacity=$(calc "($(sim_count "$sim" parts) - $pw) / ($(date +%s.%N) - $t0)" 1)
    fi
    [ "$sim" = - ] || wait_quiet "$sim" 60
    c1=$(cpu_ticks "$@") p1=$(sim_count "$sim" parts) r1=$(sim_count "$sim" receipts_acked) th1=$(thread_ticks "$1")
    local requests non2xx elapsed
    requests=$(awk '/ requests in / { print $1 }' "$w")
    elapsed=$(awk '/ requests in / { v = $4; sub(/s,$/, "", v); print v }' "$w")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$w")
    jq -n --argjson requests "${requests:-0}" --argjson elapsed "${elapsed:-0}" \
        --argjson non2xx "${non2xx:-0}" --argjson p50 "$(wrk_ms "$w" 50)" --argjson p99 "$(wrk_ms "$w" 99)" \
        --argjson p90 "$(wrk_ms "$w" 90)" --argjson cpu_s "$(calc "($c1 - $c0) / $HZ" 3)" \
        --argjson parts_in_run $((pw - p0)) --argjson parts $((p1 - p0)) --argjson receipts $((r1 - r0)) \
        --argjson drain_per_s "$capacity" \
        --argjson th0 "$th0" --argjson th1 "$th1" --argjson hz "$HZ" \
        '{client: "wrk -t1", requests: $requests, elapsed_s: $elapsed, non2xx: $non2xx,
          ok: ($requests - $non2xx), latency_ms: {p50: $p50, p90: $p90, p99: $p99},
          smsc: {parts_in_run: $parts_in_run, parts_per_s: (if $elapsed > 0 then $parts_in_run / $elapsed else 0 end),
                 parts: $parts, receipts_acked: $receipts, drain_per_s: $drain_per_s},
          server_cpu_s: $cpu_s,
          server_cpu_s_by_thread: ($th1 | with_entries(.value = ((.value - ($th0[.key] // 0)) / $hz)))}' >"$OUT/$name.json"
}

# wrk_otpgate NAME SIM_ARGS: otpgate on the memory store, one bind, under wrk.
wrk_otpgate() {
    local name=$1
    shift
    start_sim "$name" "$@"
    start_otpgate "$name" 0
    WRK_TOKEN=bench-token wrk_run "$name" "$GW_URL/otp" post.lua "$SIM_URL" "$GW_PID"
    stop_all
}

# wrk_refusing NAME: otpgate refusing under wrk. The SMSC answers in 5 s, so from the warm-up
# on the send queue (1000) stays full and nearly every create of the run is refused 503
# queue_full.
wrk_refusing() {
    start_sim "$1" --latency 5s --receipt-delay 0
    start_otpgate "$1" 0 "$(printf '[engine]\nqueue_capacity = 1000')"
    WRK_TOKEN=bench-token wrk_run "$1" "$GW_URL/otp" post.lua - "$GW_PID"
    stop_all
}

# build_of I: the otpgate binary of build I (0: this tree, then BENCH_BASELINE's in order).
build_of() {
    [ "$1" = 0 ] && { echo "${GW_BIN:-$BIN/otpgate}"; return; }
    echo "${BENCH_BASELINE:-}" | tr -s ' ' '\n' | grep -v '^$' | sed -n "$1p"
}

# start_kannel: bearerbox and smsbox on one bind to the simulator at SIM_PORT; sets KURL (the
# sendsms base URL), BB_PID and SB_PID once the bind is up.
start_kannel() {
    local admin boxp sendp
    admin=$(free_port) boxp=$(free_port) sendp=$(free_port)
    sed -e "s/@ADMIN_PORT@/$admin/g; s/@SMSBOX_PORT@/$boxp/g; s/@SENDSMS_PORT@/$sendp/g" \
        -e "s/@SMSC_PORT@/$SIM_PORT/g; s#@DIR@#$RUN#g" "$ROOT/loadtest/kannel/kannel.conf" >"$RUN/kannel.conf"
    bearerbox "$RUN/kannel.conf" >"$RUN/kannel-bearerbox-out.log" 2>&1 &
    BB_PID=$!
    PIDS+=($!)
    wait_port "$boxp" 30 || die "bearerbox did not start (see $OUT/logs/bearerbox.log)"
    smsbox "$RUN/kannel.conf" >"$RUN/kannel-smsbox-out.log" 2>&1 &
    SB_PID=$!
    PIDS+=($!)
    wait_port "$sendp" 30 || die "smsbox did not start (see $OUT/logs/smsbox.log)"
    wait_bound "$SIM_URL" 30 || die "Kannel never bound to the simulator"
    KURL="http://127.0.0.1:$sendp"
}

if command -v wrk >/dev/null; then
    if want h1; then
        log "h1. otpgate end to end under wrk"
        wrk_otpgate h_otpgate --latency 0 --receipt-delay 0
        i=0
        for other in ${BENCH_BASELINE:-}; do
            i=$((i + 1))
            log "h1b$i. other otpgate build ($other) under wrk"
            GW_BIN=$other wrk_otpgate "h_baseline$i" --latency 0 --receipt-delay 0
        done
        if [ "${BENCH_ONE_WORKER:-0}" = 1 ]; then
            log "h1w. otpgate on one runtime worker thread under wrk"
            TOKIO_WORKER_THREADS=1 wrk_otpgate h_one_worker --latency 0 --receipt-delay 0
        fi
    fi
    if want h2 && [ "$KANNEL" != missing ]; then
        log "h2. Kannel $KANNEL under wrk"
        start_sim h_kannel --latency 0 --receipt-delay 0
        start_kannel
        wrk_run h_kannel "$KURL/cgi-bin/sendsms" sendsms.lua "$SIM_URL" "$BB_PID" "$SB_PID"
        stop_all
    fi
    if want h3 || want h4; then
        log "h3. bare hyper echo under wrk"
        start_echo h
        WRK_TOKEN="" wrk_run h_echo "http://$ECHO_ADDR/" post.lua - "$ECHO_PID"
        stop_all
        # The floor of the SMPP side too: the same wire exchange as h1 (a submit_sm per
        # request on one bind of window 64, its receipt answered), with nothing else.
        log "h3f. bare HTTP-to-SMPP gateway under wrk"
        start_sim h_bare --latency 0 --receipt-delay 0
        start_bare h
        WRK_TOKEN="" wrk_run h_bare "http://$BARE_ADDR/otp" post.lua "$SIM_URL" "$BARE_PID"
        stop_all
    fi
    # Overload: the SMSC is the bottleneck (20 ms per answer on one bind of window 64: at most
    # 3200/s), wrk closed loop keeps offering more; the send queue fills and creates are refused
    # 503 queue_full. Admitted creates per second should stay at the SMSC's capacity.
    if want h4; then
        log "h4. otpgate overloaded (SMSC at 20 ms) under wrk"
        WRK_CAPACITY=1 wrk_otpgate h_overload --latency 20ms --receipt-delay 0
        i=0
        for other in ${BENCH_BASELINE:-}; do
            i=$((i + 1))
            log "h4b$i. other otpgate build ($other) overloaded under wrk"
            GW_BIN=$other WRK_CAPACITY=1 wrk_otpgate "h_overload_baseline$i" --latency 20ms --receipt-delay 0
        done
        log "h4r. otpgate refusing (send queue full) under wrk"
        wrk_refusing h_refusing
        i=0
        for other in ${BENCH_BASELINE:-}; do
            i=$((i + 1))
            log "h4rb$i. other otpgate build ($other) refusing under wrk"
            GW_BIN=$other wrk_refusing "h_refusing_baseline$i"
        done
    fi
    # BENCH_PAIRS=N: N more rounds of the h1 and h4r setups for this build and every baseline,
    # and of the echo, in a new shuffled order each round. One row moves by 10-20 % from run to
    # run on this machine (which core each thread lands on): the medians of the rounds show
    # what one row cannot.
    if [ "${BENCH_PAIRS:-0}" -gt 0 ]; then
        builds=$(echo ${BENCH_BASELINE:-} | wc -w)
        for round in $(seq "$BENCH_PAIRS"); do
            for v in $( (seq 0 "$builds"; echo echo) | shuf); do
                log "pairs, round $round of $BENCH_PAIRS: $v"
                if [ "$v" = echo ]; then
                    start_echo p
                    WRK_TOKEN="" wrk_run "p_echo_$round" "http://$ECHO_ADDR/" post.lua - "$ECHO_PID"
                    stop_all
                else
                    GW_BIN=$(build_of "$v") wrk_otpgate "p_h1_${v}_$round" --latency 0 --receipt-delay 0
                    GW_BIN=$(build_of "$v") wrk_refusing "p_ref_${v}_$round"
                fi
            done
        done
    fi
else
    log "wrk is not installed: headline rows skipped"
fi

# h5. Latency: both gateways offered the same open-loop rate, half of Kannel's maximum (its
# rate at the SMSC in h2), same simulator setup as h1; otp-load counts each request's latency
# from its intended start, so a stall delays every request behind it (no coordinated omission).
LAT_RATE=""
if want h5 && [ "$KANNEL" != missing ]; then
    LAT_RATE=${BENCH_LAT_RATE:-}
    [ -n "$LAT_RATE" ] || ! has h_kannel || LAT_RATE=$(calc "$(q h_kannel .smsc.parts_per_s) / 2" 0)
    [ -n "$LAT_RATE" ] && [ "$LAT_RATE" -gt 0 ] || LAT_RATE=$FIXED
    log "h5. open-loop latency at $LAT_RATE/s, otpgate then Kannel"
    start_sim h_lat_otpgate --latency 0 --receipt-delay 0
    start_otpgate h_lat_otpgate 0
    warm "${OTP_ARGS[@]}" --url "$GW_URL" --rate "$LAT_RATE"
    load h_lat_otpgate "${OTP_ARGS[@]}" --url "$GW_URL" --rate "$LAT_RATE" \
        --requests $((LAT_RATE * SECS)) --duration "${SECS}s"
    stop_all
    start_sim h_lat_kannel --latency 0 --receipt-delay 0
    start_kannel
    warm --mode sendsms --url "$KURL" --rate "$LAT_RATE" "${PHONES[@]}"
    load h_lat_kannel --mode sendsms --url "$KURL" --rate "$LAT_RATE" "${PHONES[@]}" \
        --requests $((LAT_RATE * SECS)) --duration "${SECS}s"
    stop_all
    # The floor: the bare echo at the same rate, so that the machine's own stalls (which
    # every server in the run shares) are told from the gateways' tails.
    start_echo h-lat
    warm --mode echo --url "http://$ECHO_ADDR/" --rate "$LAT_RATE"
    load h_lat_echo --mode echo --url "http://$ECHO_ADDR/" --rate "$LAT_RATE" \
        --requests $((LAT_RATE * SECS)) --duration "${SECS}s"
    stop_all
fi

# 1. otpgate end to end: otp-load -> POST /otp -> one bind -> simulator (at once, receipts on).
if want 1; then
log "1. otpgate end to end"
start_sim e2e --latency 0 --receipt-delay 0
start_otpgate e2e 0
warm "${OTP_ARGS[@]}" --url "$GW_URL" --concurrency "$CONC"
load otpgate_fixed "${OTP_ARGS[@]}" --url "$GW_URL" --rate "$FIXED" --requests $((FIXED * 10)) \
    --duration 10s --sim-counters "$SIM_URL" --drain 20s
load otpgate "${OTP_ARGS[@]}" --url "$GW_URL" --concurrency "$CONC" --requests "$REQ" \
    --duration "${SECS}s" --sim-counters "$SIM_URL" --drain 20s
stop_all
fi

# 2. Kannel: otp-load sendsms -> smsbox -> bearerbox -> one bind -> the same kind of simulator.
if want 2 && [ "$KANNEL" != missing ]; then
    log "2. Kannel $KANNEL"
    start_sim kannel --latency 0 --receipt-delay 0
    admin=$(free_port) boxp=$(free_port) sendp=$(free_port)
    sed -e "s/@ADMIN_PORT@/$admin/g; s/@SMSBOX_PORT@/$boxp/g; s/@SENDSMS_PORT@/$sendp/g" \
        -e "s/@SMSC_PORT@/$SIM_PORT/g; s#@DIR@#$RUN#g" "$ROOT/loadtest/kannel/kannel.conf" >"$RUN/kannel.conf"
    bearerbox "$RUN/kannel.conf" >"$RUN/kannel-bearerbox-out.log" 2>&1 &
    PIDS+=($!)
    wait_port "$boxp" 30 || die "bearerbox did not start (see $OUT/logs/bearerbox.log)"
    smsbox "$RUN/kannel.conf" >"$RUN/kannel-smsbox-out.log" 2>&1 &
    PIDS+=($!)
    wait_port "$sendp" 30 || die "smsbox did not start (see $OUT/logs/smsbox.log)"
    wait_bound "$SIM_URL" 30 || die "Kannel never bound to the simulator"
    KURL="http://127.0.0.1:$sendp"
    warm --mode sendsms --url "$KURL" --concurrency "$CONC" "${PHONES[@]}"
    load kannel_fixed --mode sendsms --url "$KURL" --rate "$FIXED" "${PHONES[@]}" \
        --requests $((FIXED * 10)) --duration 10s --sim-counters "$SIM_URL" --drain 20s
    load kannel --mode sendsms --url "$KURL" --concurrency "$CONC" "${PHONES[@]}" \
        --requests "$REQ" --duration "${SECS}s" --sim-counters "$SIM_URL" --drain 20s
    stop_all
fi

# 3. The bare hyper JSON echo server: the HTTP ceiling.
if want 3; then
log "3. bare hyper echo"
start_echo e2e
warm --mode echo --url "http://$ECHO_ADDR/" --concurrency "$CONC"
load echo --mode echo --url "http://$ECHO_ADDR/" --concurrency "$CONC" --requests $((REQ * 3)) --duration "${SECS}s"
stop_all
fi

# 6. otpgate with the SMSC path as cheap as it gets: simulator at 0 latency, no receipts.
if want 6; then
log "6. otpgate, SMSC stubbed"
start_sim stub --latency 0 --no-receipts
start_otpgate stub 0
warm "${OTP_ARGS[@]}" --url "$GW_URL" --concurrency "$CONC"
load stub "${OTP_ARGS[@]}" --url "$GW_URL" --concurrency "$CONC" --requests "$REQ" \
    --duration "${SECS}s" --sim-counters "$SIM_URL" --drain 20s
stop_all
fi

# 4. Window efficiency: one bind, 20 ms latency, W = 64, so at most W/L = 3200/s. Offered
# open loop at 3600/s so the bind always has work.
ENGINE_LINE=""
if want 4; then
log "4. window efficiency"
start_sim window --latency 20ms --no-receipts
start_otpgate window 0
load window "${OTP_ARGS[@]}" --url "$GW_URL" --rate 3600 --requests 43200 --duration 12s \
    --sim-counters "$SIM_URL" --drain 30s
stop_all
if [ "${BENCH_ENGINE:-1}" != 0 ] && [ -f "$ROOT/benches/smpp_window.rs" ]; then
    log "4b. engine window bench (cargo bench --bench smpp_window)"
    ENGINE_LINE=$(cd "$ROOT" && timeout 600 cargo bench -p otpgate --bench smpp_window 2>"$RUN/engine-bench.log" |
        grep '^smpp_window:' | tr '\n' ' ' || true)
fi
fi

# 5. Throttle accuracy: otpgate tps = 500 against a simulator enforcing 500/s; offered 600/s.
if want 5; then
log "5. throttle accuracy"
start_sim throttle --latency 1ms --no-receipts --tps 500
start_otpgate throttle 500
load throttle "${OTP_ARGS[@]}" --url "$GW_URL" --rate 600 --requests 7200 --duration 12s \
    --sim-counters "$SIM_URL" --drain 30s
stop_all
fi

# 7. The Redis store beside the memory store, one node, same run: the simulator answering at
# once with receipts at once, so the delivery updates (submitted, charged, receipt) reach the
# store as fast as the bind goes. Rate at the SMSC and CPU per message (from /proc).
cpu_ms() { awk -v t="$(getconf CLK_TCK)" '{ printf "%d", ($14 + $15) * 1000 / t }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# redis_commands PORT: "command calls" per line, sorted, from INFO commandstats.
redis_commands() {
    redis-cli -p "$1" INFO commandstats | tr -d '\r' |
        sed -n 's/^cmdstat_\([^:]*\):calls=\([0-9]*\),.*/\1 \2/p' | sort
}
if want 7; then
    log "7. otpgate, memory and Redis store, one node"
    for tool in redis-server redis-cli join; do
        command -v "$tool" >/dev/null || die "$tool is needed for row 7 (BENCH_ROWS without 7 skips it)"
    done
    for store in memory redis; do
        toml="" REDIS_PID=""
        if [ "$store" = redis ]; then
            rport=$(free_port)
            redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no >"$RUN/redis.log" 2>&1 &
            PIDS+=($!)
            REDIS_PID=$!
            wait_port "$rport" || die "redis-server did not start (see $RUN/redis.log)"
            toml=$(printf '[store]\nkind = "redis"\nurl = "redis://127.0.0.1:%s"' "$rport")
        fi
        start_sim "store_$store" --latency 0 --receipt-delay 0
        start_otpgate "store_$store" 0 "$toml"
        warm "${OTP_ARGS[@]}" --url "$GW_URL" --concurrency "$CONC"
        g0=$(cpu_ms "$GW_PID") r0=$([ -n "$REDIS_PID" ] && cpu_ms "$REDIS_PID" || echo 0)
        [ -n "$REDIS_PID" ] && redis_commands "$rport" >"$RUN/commands-before.txt"
        load "store_$store" "${OTP_ARGS[@]}" --url "$GW_URL" --concurrency "$CONC" --requests "$REQ" \
            --duration "${SECS}s" --sim-counters "$SIM_URL" --drain 20s
        g1=$(cpu_ms "$GW_PID") r1=$([ -n "$REDIS_PID" ] && cpu_ms "$REDIS_PID" || echo 0)
        commands=0
        if [ -n "$REDIS_PID" ]; then
            redis_commands "$rport" >"$RUN/commands-after.txt"
            # per command, the calls of the run: what one OTP costs Redis, robust to noise
            join -a 2 -e 0 -o 0,1.2,2.2 "$RUN/commands-before.txt" "$RUN/commands-after.txt" |
                awk '{ d = $3 - $2; if (d > 0) print $1, d }' >"$OUT/store_redis_commands.txt"
            commands=$(awk '{ n += $2 } END { print n + 0 }' "$OUT/store_redis_commands.txt")
        fi
        echo "{\"otpgate_cpu_ms\": $((g1 - g0)), \"redis_cpu_ms\": $((r1 - r0)), \"redis_commands\": $commands}" >"$OUT/store_${store}_cpu.json"
        stop_all
    done
fi

# ---- the table ------------------------------------------------------------------------------
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
NPROC=$(nproc)
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
REV=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)

row() { printf '%-36s %-44s %-24s %s\n' "$@" | sed 's/ *$//'; }
verdict() { if awk "BEGIN { exit !($1) }" 2>/dev/null; then echo "meets"; else echo "MISSES"; fi; }
# http NAME: "rate/s  p50 .. ms  p99 .. ms" of a run.
okrate() { q "$1" '.main.ok / .main.elapsed_s'; }
lat() { echo "p50 $(q "$1" .main.latency_ms.p50) ms  p99 $(q "$1" .main.latency_ms.p99) ms"; }
http() { echo "$(calc "$(okrate "$1")" 0)/s ok  $(lat "$1")  errors $(q "$1" .main.errors)"; }
smsc() { echo "$(calc "$(q "$1" .smsc.steady_parts_per_s)" 0)/s steady ($(q "$1" .smsc.parts) parts)"; }

{
    echo "otpgate benchmark  $DATE  commit $REV"
    echo "machine: $NPROC cores, $CPU, $(uname -sr)"
    echo "bounds: load generator, servers and SMSC simulator share these $NPROC cores; loopback only;"
    echo "        closed loop with $CONC connections unless noted; one SMPP bind, window 64."
    echo "        load average before the runs $LOAD_BEFORE, after $LOAD_AFTER (above $NPROC: other work"
    echo "        was competing for the cores and every figure is lower than on an idle machine)."
    echo
    row "measurement" "value" "target" "verdict"
    # Headline rows (wrk): rate at the client and at the SMSC, each server's CPU per message.
    wq() { jq -r "$2" "$OUT/$1.json" 2>/dev/null || echo null; }
    # per_msg NAME: server CPU seconds per message in µs (SMSC parts; requests for the echo).
    per_msg() { wq "$1" 'if .smsc.parts > 0 then .server_cpu_s / .smsc.parts * 1e6 else .server_cpu_s / (if .requests > 0 then .requests else 1 end) * 1e6 end'; }
    wrow() {
        row "$2" "$(calc "$(wq "$1" '.ok / .elapsed_s')" 0)/s ok  p50 $(wq "$1" .latency_ms.p50) ms  p99 $(wq "$1" .latency_ms.p99) ms  non-2xx $(wq "$1" .non2xx)" "" ""
        [ "$(wq "$1" .smsc.parts)" != 0 ] &&
            row "   at the SMSC, receipts acked" "$(calc "$(wq "$1" .smsc.parts_per_s)" 0)/s  ($(wq "$1" .smsc.parts) parts, $(wq "$1" .smsc.receipts_acked) receipts)" "" ""
        row "   CPU per message" "$(calc "$(per_msg "$1")" 1) µs ($(wq "$1" .server_cpu_s) s)" "" ""
        # otpgate's split: its engine's thread against the HTTP front's workers
        [ "$(wq "$1" '.server_cpu_s_by_thread["otpgate-smpp"] // 0')" != 0 ] &&
            row "   of it, engine thread / HTTP workers" "$(calc "$(wq "$1" '.server_cpu_s_by_thread["otpgate-smpp"] / .smsc.parts * 1e6')" 1) / $(calc "$(wq "$1" '.server_cpu_s_by_thread["tokio-rt-worker"] / .smsc.parts * 1e6')" 1) µs" "" ""
        return 0
    }
    has h_otpgate && wrow h_otpgate "h1. otpgate POST /otp, wrk -c$CONC"
    i=0
    for other in ${BENCH_BASELINE:-}; do
        i=$((i + 1))
        has "h_baseline$i" && wrow "h_baseline$i" "h1b$i. $(basename "$other"), wrk"
    done
    has h_one_worker && wrow h_one_worker "h1w. otpgate, 1 worker thread"
    has h_kannel && wrow h_kannel "h2. Kannel $KANNEL sendsms, wrk"
    has h_echo && wrow h_echo "h3. bare hyper JSON echo, wrk"
    if has h_otpgate && has h_echo; then
        go=$(per_msg h_otpgate) ge=$(per_msg h_echo)
        row "   otpgate / echo, CPU per message" "$(calc "$go / $ge" 2)x" "<= 2x" "$(verdict "$go <= 2 * $ge")"
        gr=$(wq h_otpgate .smsc.parts_per_s) er=$(wq h_echo '.ok / .elapsed_s')
        row "   otpgate at SMSC / echo rate" "$(calc "100 * $gr / $er" 1)%" ">= 50%" "$(verdict "$gr >= 0.5 * $er")"
    fi
    has h_bare && wrow h_bare "h3f. bare HTTP-to-SMPP gateway, wrk"
    if has h_bare && has h_echo; then
        row "   floor / echo, CPU per message" "$(calc "$(per_msg h_bare) / $(per_msg h_echo)" 2)x" "" ""
        has h_otpgate && row "   otpgate / floor, CPU per message" "$(calc "$(per_msg h_otpgate) / $(per_msg h_bare)" 2)x" "" ""
    fi
    if has h_otpgate && has h_kannel; then
        row "   otpgate / Kannel, rate at SMSC" "$(calc "$(wq h_otpgate .smsc.parts_per_s) / $(wq h_kannel .smsc.parts_per_s)" 2)x" "" ""
        row "   Kannel / otpgate, CPU per message" "$(calc "$(per_msg h_kannel) / $(per_msg h_otpgate)" 2)x" "" ""
    fi
    # orow NAME LABEL H1NAME: an overload row, its refusals costed at H1NAME's CPU per OTP.
    orow() {
        local ok ref cpu r503
        ok=$(wq "$1" .ok) ref=$(wq "$1" .non2xx) cpu=$(wq "$1" .server_cpu_s)
        local at cap
        at=$(wq "$1" .smsc.parts_per_s) cap=$(wq "$1" .smsc.drain_per_s)
        row "$2" "$(calc "$(wq "$1" '.ok / .elapsed_s')" 0)/s admitted, $(calc "$at" 0)/s at SMSC ($(calc "100 * $at / 3200" 1)% of 3200/s)" "" ""
        row "   at SMSC / the bind's capacity" "$(calc "100 * $at / $cap" 1)% of $(calc "$cap" 0)/s" ">= 95%" "$(verdict "$at >= 0.95 * $cap")"
        row "   refused 503 in the run" "$ref ($(calc "$ref / $(wq "$1" .elapsed_s)" 0)/s)" "" ""
        if has "$3" && has h_echo && [ "$ref" != 0 ]; then
            # What the refusals cost: the run's CPU less the admitted OTPs at the end-to-end cost.
            r503=$(calc "($cpu - $ok * $(per_msg "$3") / 1e6) / $ref * 1e6" 1)
            row "   CPU per refused create" "$r503 µs (echo $(calc "$(per_msg h_echo)" 1) µs)" "<= echo" "$(verdict "$r503 <= $(per_msg h_echo)")"
        fi
    }
    # rrow NAME LABEL H1NAME: a refusing row, CPU per refusal (the few admitted at H1NAME's cost).
    rrow() {
        local ok ref cpu r503
        ok=$(wq "$1" .ok) ref=$(wq "$1" .non2xx) cpu=$(wq "$1" .server_cpu_s)
        [ "$ref" != 0 ] || return 0
        r503=$(calc "($cpu - $ok * $( (has "$3" && per_msg "$3") || echo 0) / 1e6) / $ref * 1e6" 1)
        row "$2" "$(calc "$ref / $(wq "$1" .elapsed_s)" 0)/s refused, $ok admitted, p99 $(wq "$1" .latency_ms.p99) ms" "" ""
        row "   CPU per refused create" "$r503 µs (echo $(calc "$(per_msg h_echo)" 1) µs)" "<= echo" "$(verdict "$r503 <= $(per_msg h_echo)")"
    }
    has h_overload && orow h_overload "h4. overload: SMSC 20 ms (<= 3200/s)" h_otpgate
    i=0
    for other in ${BENCH_BASELINE:-}; do
        i=$((i + 1))
        has "h_overload_baseline$i" && orow "h_overload_baseline$i" "h4b$i. $(basename "$other"), overload" "h_baseline$i"
    done
    has h_refusing && has h_echo && rrow h_refusing "h4r. queue full: refusals only" h_otpgate
    i=0
    for other in ${BENCH_BASELINE:-}; do
        i=$((i + 1))
        has "h_refusing_baseline$i" && has h_echo &&
            rrow "h_refusing_baseline$i" "h4rb$i. $(basename "$other"), refusals" "h_baseline$i"
    done
    if [ "${BENCH_PAIRS:-0}" -gt 0 ] && has p_echo_1; then
        median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
        # medians PREFIX FN: the median over the rounds of FN applied to each round's run (per_msg
        # of a run without a simulator to count, the echo's or a refusing one's: per request)
        medians() { for r in $(seq "$BENCH_PAIRS"); do has "$1_$r" && "$2" "$1_$r"; echo; done | grep -v '^$' | median; }
        pe=$(medians p_echo per_msg)
        row "pairs: medians of $BENCH_PAIRS rounds" "bare echo $(calc "$pe" 1) µs per request" "" ""
        for v in $(seq 0 "$(echo ${BENCH_BASELINE:-} | wc -w)"); do
            label="this tree"
            [ "$v" = 0 ] || label=$(basename "$(build_of "$v")")
            p1=$(medians "p_h1_$v" per_msg) pr=$(medians "p_ref_$v" per_msg)
            row "   $label: h1, per OTP" "$(calc "$p1" 1) µs, $(calc "$p1 / $pe" 2)x the echo" "<= 2x" "$(verdict "$p1 <= 2 * $pe")"
            row "   $label: h4r, per refusal" "$(calc "$pr" 1) µs, $(calc "$pr / $pe" 2)x the echo" "<= 1x" "$(verdict "$pr <= $pe")"
        done
    fi
    if has h_lat_otpgate && has h_lat_kannel; then
        row "h5. open loop at $LAT_RATE/s: otpgate" "$(http h_lat_otpgate)" "" ""
        row "   Kannel $KANNEL sendsms" "$(http h_lat_kannel)" "" ""
        g99=$(q h_lat_otpgate .main.latency_ms.p99) k50=$(q h_lat_kannel .main.latency_ms.p50)
        row "   otpgate p99 / Kannel p50" "$g99 ms / $k50 ms" "<= 1" "$(verdict "$g99 <= $k50")"
        has h_lat_echo && row "   bare echo, same rate (the floor)" "$(http h_lat_echo)" "" ""
    fi
    if has otpgate; then
        row "1. otpgate POST /otp, $CONC conns" "$(http otpgate)" "" ""
        row "   submit_sm accepted at the SMSC" "$(smsc otpgate)" "" ""
    fi
    has otpgate_fixed && row "   open loop at $FIXED/s" "$(http otpgate_fixed)" "" ""
    if has kannel; then
        row "2. Kannel $KANNEL sendsms, $CONC conns" "$(http kannel)" "" ""
        row "   submit_sm accepted at the SMSC" "$(smsc kannel)" "" ""
    elif [ "$KANNEL" = missing ]; then
        row "2. Kannel sendsms" "not installed" "" ""
    fi
    has kannel_fixed && row "   open loop at $FIXED/s" "$(http kannel_fixed)" "" ""
    if has otpgate && has kannel; then
        g=$(okrate otpgate) k=$(okrate kannel)
        gs=$(q otpgate .smsc.steady_parts_per_s) ks=$(q kannel .smsc.steady_parts_per_s)
        row "   otpgate / Kannel, rate at SMSC" "$(calc "$gs / $ks" 2)x" ">= 10x" "$(verdict "$gs >= 10 * $ks")"
        row "   otpgate / Kannel, HTTP ok rate" "$(calc "$g / $k" 2)x" ">= 10x" "$(verdict "$g >= 10 * $k")"
    fi
    if has otpgate_fixed && has kannel_fixed; then
        g99=$(q otpgate_fixed .main.latency_ms.p99) k50=$(q kannel_fixed .main.latency_ms.p50)
        row "   at $FIXED/s: otpgate p99, Kannel p50" "$g99 ms vs $k50 ms" "p99 <= Kannel p50" "$(verdict "$g99 <= $k50")"
    fi
    has echo && row "3. bare hyper JSON echo" "$(http echo)" "(ceiling)" ""
    if has window; then
        w=$(q window .smsc.steady_parts_per_s)
        row "4. window efficiency, end to end" "$(calc "$w" 0)/s of W/L 3200/s = $(calc "100 * $w / 3200" 1)%" ">= 95%" "$(verdict "$w >= 0.95 * 3200")"
        row "   (HTTP offered 3600/s open loop)" "$(http window)" "" ""
    fi
    if [ -n "$ENGINE_LINE" ]; then
        eff=$(sed -n 's/.*efficiency \([0-9.]*\) %.*/\1/p' <<<"$ENGINE_LINE")
        rate=$(sed -n 's/.*= \([0-9]*\)\/s; W\/L.*/\1/p' <<<"$ENGINE_LINE")
        base=$(sed -n 's/.*same simulator: \([0-9]*\)\/s (\([0-9.]*\) % of W\/L).*/\1\/s = \2%/p' <<<"$ENGINE_LINE")
        share=$(sed -n 's/.*the engine reaches \([0-9.]*\) % of that.*/\1/p' <<<"$ENGINE_LINE")
        row "   window efficiency, engine alone" "$rate/s of 3200/s = $eff%" ">= 95%" "$(verdict "${eff:-0} >= 95")"
        [ -n "$base" ] && row "   bare SMPP client, same simulator" "$base of W/L; engine = $share% of it" "(ceiling)" ""
    fi
    if has throttle; then
        t=$(q throttle .smsc.steady_parts_per_s) th=$(q throttle .smsc.throttled)
        row "5. throttle, tps = 500, SMSC 500/s" "$(calc "$t" 1)/s ($(calc "100 * ($t - 500) / 500" 2)%), $th throttled" "within 2%, 0 throttled" "$(verdict "$t >= 490 && $t <= 510 && $th == 0")"
    fi
    if has stub; then
        row "6. otpgate, SMSC stubbed (0 ms)" "$(http stub)" "" ""
    fi
    for store in memory redis; do
        has "store_$store" || continue
        parts=$(q "store_$store" .smsc.parts)
        gcpu=$(q "store_${store}_cpu" .otpgate_cpu_ms) rcpu=$(q "store_${store}_cpu" .redis_cpu_ms)
        per="otpgate $(calc "1000 * $gcpu / $parts" 0) us/msg"
        if [ "$store" = redis ]; then
            per="$per, redis-server $(calc "1000 * $rcpu / $parts" 0) us/msg"
            per="$per, $(calc "$(q store_redis_cpu .redis_commands) / $parts" 1) Redis commands/msg"
        fi
        label="7. otpgate, memory store, one node"
        [ "$store" = redis ] && label="   otpgate, Redis store, one node"
        row "$label" "$(smsc "store_$store"), $(http "store_$store")" "" ""
        row "   CPU per message at the SMSC" "$per" "" ""
    done
    if has store_memory && has store_redis; then
        m=$(q store_memory .smsc.steady_parts_per_s) r=$(q store_redis .smsc.steady_parts_per_s)
        row "   Redis / memory, rate at SMSC" "$(calc "100 * $r / $m" 1)%" ">= 30%" "$(verdict "$r >= 0.3 * $m")"
    fi
    if has stub && has echo; then
        st=$(okrate stub) e=$(okrate echo)
        row "   otpgate stubbed / hyper echo" "$(calc "100 * $st / $e" 1)%" ">= 50%" "$(verdict "$st >= 0.5 * $e")"
    fi
    echo
    echo "notes: rows h1-h4: wrk -t1 -c$CONC; the simulator answers at once and sends each receipt"
    echo "       at once (otpgate asks for receipts, Kannel for none); 'at the SMSC' = submit_sm"
    echo "       accepted per second of the wrk run; 'CPU per message' = the server's own user +"
    echo "       system CPU (Kannel: bearerbox + smsbox) through the run and its drain, divided by"
    echo "       the parts the SMSC accepted (echo: by the requests). h4 = SMSC answering in 20 ms."
    echo "       The h4 admitted rate includes filling the send queue at the start of the run."
    echo "       The bind's capacity: the SMSC's rate in the second after wrk stops, the send queue"
    echo "       (10 000, over 3 s of sending) draining with no HTTP load on the machine."
    echo "       h3f: bare-gateway, h1's setup and wire exchange (submit_sm, its answer, the receipt"
    echo "       and its answer per request) with nothing else: the floor of a gateway here."
    echo "       h4r: SMSC answering in 5 s, send queue of 1000 full from the warm-up on: CPU per"
    echo "       refused create = the run's CPU less the admitted at the h1 cost, per refusal."
    echo "       pairs (BENCH_PAIRS=N): the h1 and h4r setups for every build and the echo, N rounds"
    echo "       in a new shuffled order each; medians of CPU per OTP, per refusal (the run's CPU"
    echo "       per request) and the echo's per request."
    echo "       h5: otp-load open loop at half Kannel's h2 rate at the SMSC, latency from each"
    echo "       request's intended start (paced by a thread of its own, not a millisecond timer);"
    echo "       otpgate answers 201 once queued, Kannel 202; the bare echo at the same rate is the floor."
    echo "       rows 1-2: otp-load, same simulator setup. 'ok' = successful replies per second at the"
    echo "       client (otpgate"
    echo "       201 once queued, Kannel 202 once queued); 'errors' are otpgate's 503 when its send"
    echo "       queue is full (Kannel's queue is unbounded: it accepts faster than it sends, then"
    echo "       drains). 'steady' = submit_sm accepted/s at the SMSC between 20% and 90% of the"
    echo "       parts (simulator counters sampled every 100 ms). Row 6 'stubbed' is the real SMSC"
    echo "       path against a simulator with 0 latency and no receipts, the closest real thing to"
    echo "       no SMSC. Row 4 offers 3600/s open loop; row 5 offers 600/s open loop."
    echo "       Row 7: simulator at 0 ms with receipts at once, otpgate on the memory store, then"
    echo "       on a fresh local redis-server (no persistence); CPU from /proc over the load run;"
    echo "       Redis commands from INFO commandstats over the load run (inside scripts included,"
    echo "       by command in store_redis_commands.txt)."
} | tee "$OUT/table.txt"

json_of() { if has "$1"; then cat "$OUT/$1.json"; else echo null; fi; }
jq -n \
    --arg date "$DATE" --arg commit "$REV" --argjson nproc "$NPROC" --arg cpu "$CPU" \
    --arg kernel "$(uname -sr)" --arg load_before "$LOAD_BEFORE" --arg load_after "$LOAD_AFTER" --arg kannel "$KANNEL" --argjson concurrency "$CONC" \
    --arg engine "$ENGINE_LINE" \
    --argjson otpgate "$(json_of otpgate)" --argjson kannel_run "$(json_of kannel)" \
    --argjson otpgate_fixed "$(json_of otpgate_fixed)" --argjson kannel_fixed "$(json_of kannel_fixed)" \
    --argjson echo "$(json_of echo)" --argjson stub "$(json_of stub)" \
    --argjson window "$(json_of window)" --argjson throttle "$(json_of throttle)" \
    --argjson store_memory "$(json_of store_memory)" --argjson store_redis "$(json_of store_redis)" \
    --argjson store_memory_cpu "$(json_of store_memory_cpu)" --argjson store_redis_cpu "$(json_of store_redis_cpu)" \
    --argjson h_otpgate "$(json_of h_otpgate)" --argjson h_baseline "$(json_of h_baseline1)" \
    --argjson h_one_worker "$(json_of h_one_worker)" --argjson h_kannel "$(json_of h_kannel)" \
    --argjson h_echo "$(json_of h_echo)" --argjson h_overload "$(json_of h_overload)" \
    --argjson h_lat_otpgate "$(json_of h_lat_otpgate)" --argjson h_lat_kannel "$(json_of h_lat_kannel)" \
    --arg lat_rate "$LAT_RATE" --argjson h_overload_baseline "$(json_of h_overload_baseline1)" \
    --argjson h_refusing "$(json_of h_refusing)" --argjson h_refusing_baseline "$(json_of h_refusing_baseline1)" \
    '{date: $date, commit: $commit, machine: {nproc: $nproc, cpu: $cpu, kernel: $kernel, loadavg_before: $load_before,
               loadavg_after: $load_after},
      concurrency: $concurrency, kannel_version: $kannel,
      fixed_rate: '"$FIXED"',
      runs: {otpgate: $otpgate, kannel: $kannel_run, otpgate_fixed_rate: $otpgate_fixed,
             kannel_fixed_rate: $kannel_fixed, echo: $echo, otpgate_stubbed: $stub,
             window: $window, throttle: $throttle, store_memory: $store_memory, store_redis: $store_redis,
             store_memory_cpu: $store_memory_cpu, store_redis_cpu: $store_redis_cpu},
      headline_wrk: {otpgate: $h_otpgate, baseline: $h_baseline, one_worker: $h_one_worker,
                     kannel: $h_kannel, echo: $h_echo, overload: $h_overload,
                     overload_baseline: $h_overload_baseline, refusing: $h_refusing,
                     refusing_baseline: $h_refusing_baseline},
      latency_open_loop: {rate: $lat_rate, otpgate: $h_lat_otpgate, kannel: $h_lat_kannel},
      engine_window_bench: $engine}' >"$OUT/results.json"
log "results: $OUT/results.json, table: $OUT/table.txt, logs: $OUT/logs/"
