#!/usr/bin/env bash
# loadtest/bench.sh: otpgate side by side with Kannel 1.4.5 and a bare hyper JSON echo server,
# all on this machine's loopback, plus the SMPP window efficiency and throttle accuracy.
# Prints one table of measurements, targets and ratios, and writes target/bench/results.json.
#
#   bash loadtest/bench.sh            # about 3-5 minutes after the release build
#
# Every process it starts is stopped on exit; every load run is bounded in count and time.
# Environment: BENCH_OUT (default target/bench), BENCH_CONC (closed-loop connections, 64),
# BENCH_SECS (length of the main runs, 15), BENCH_FIXED_RATE (open-loop rate of the latency
# runs, 3000/s), BENCH_ENGINE=0 to skip the engine window bench,
# BENCH_NO_INSTALL=1 to never install Kannel, BENCH_ROWS (default "1 2 3 4 5 6 7") to run only some.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${BENCH_OUT:-$ROOT/target/bench}
BIN=$ROOT/target/release
CONC=${BENCH_CONC:-64}
SECS=${BENCH_SECS:-15}
FIXED=${BENCH_FIXED_RATE:-3000}
RUN=$(mktemp -d "${TMPDIR:-/tmp}/otpgate-bench.XXXXXX")
PIDS=()
USED_PORTS=" "
ROWS=" ${BENCH_ROWS:-1 2 3 4 5 6 7} "
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

# A TCP port on 127.0.0.1 nobody listens on, not handed out before in this run.
free_port() {
    local p i
    for i in $(seq 200); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
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

# start_otpgate NAME TPS [TOML]: otpgate on one bind (window 64) to the simulator at SIM_PORT,
# TOML appended to its configuration; sets GW_URL and GW_PID once a bind is up.
start_otpgate() {
    local name=$1 tps=$2 extra=${3:-} port
    port=$(free_port)
    cat >"$RUN/$name.toml" <<EOF
# Written by loadtest/bench.sh for one benchmark run.
[http]
listen = "127.0.0.1:$port"
max_in_flight = 10000

[[tenants]]
name = "bench"
token = "bench-token"
rate_limit_per_s = 0

[[smsc]]
name = "sim"
host = "127.0.0.1"
port = $SIM_PORT
system_id = "test"
password = "secret"
binds = 1
window = 64
tps = $tps

[limits]
per_number = 0

[security]
pin_secret = "bench-only-secret-0123456789abcdef"

[log]
level = "warn"
$extra
EOF
    "$BIN/otpgate" serve --config "$RUN/$name.toml" >"$RUN/$name-otpgate.log" 2>&1 &
    PIDS+=($!)
    GW_PID=$!
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

log "building (release)"
(cd "$ROOT" && cargo build --release -p otpgate -p otpgate-loadtest) >&2

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

# 1. otpgate end to end: otp-load -> POST /otp -> one bind -> simulator (5 ms, receipts on).
if want 1; then
log "1. otpgate end to end"
start_sim e2e --latency 5ms --receipt-delay 1s
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
    start_sim kannel --latency 5ms --receipt-delay 1s
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
"$BIN/echo-server" --listen 127.0.0.1:0 >"$RUN/echo.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q '^listening on' "$RUN/echo.log" && break; sleep 0.1; done
ECHO_ADDR=$(sed -n 's/^listening on //p' "$RUN/echo.log")
[ -n "$ECHO_ADDR" ] || die "echo-server did not start"
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
if want 7; then
    log "7. otpgate, memory and Redis store, one node"
    command -v redis-server >/dev/null || die "redis-server is needed for row 7 (BENCH_ROWS without 7 skips it)"
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
        load "store_$store" "${OTP_ARGS[@]}" --url "$GW_URL" --concurrency "$CONC" --requests "$REQ" \
            --duration "${SECS}s" --sim-counters "$SIM_URL" --drain 20s
        g1=$(cpu_ms "$GW_PID") r1=$([ -n "$REDIS_PID" ] && cpu_ms "$REDIS_PID" || echo 0)
        echo "{\"otpgate_cpu_ms\": $((g1 - g0)), \"redis_cpu_ms\": $((r1 - r0))}" >"$OUT/store_${store}_cpu.json"
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
        [ "$store" = redis ] && per="$per, redis-server $(calc "1000 * $rcpu / $parts" 0) us/msg"
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
    echo "notes: rows 1-2: simulator answering in 5 ms (otpgate asks for receipts, sent 1 s later;"
    echo "       Kannel asks for none). 'ok' = successful replies per second at the client (otpgate"
    echo "       201 once queued, Kannel 202 once queued); 'errors' are otpgate's 503 when its send"
    echo "       queue is full (Kannel's queue is unbounded: it accepts faster than it sends, then"
    echo "       drains). 'steady' = submit_sm accepted/s at the SMSC between 20% and 90% of the"
    echo "       parts (simulator counters sampled every 100 ms). Row 6 'stubbed' is the real SMSC"
    echo "       path against a simulator with 0 latency and no receipts, the closest real thing to"
    echo "       no SMSC. Row 4 offers 3600/s open loop; row 5 offers 600/s open loop."
    echo "       Row 7: simulator at 0 ms with receipts at once, otpgate on the memory store, then"
    echo "       on a fresh local redis-server (no persistence); CPU from /proc over the load run."
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
    '{date: $date, commit: $commit, machine: {nproc: $nproc, cpu: $cpu, kernel: $kernel, loadavg_before: $load_before,
               loadavg_after: $load_after},
      concurrency: $concurrency, kannel_version: $kannel,
      fixed_rate: '"$FIXED"',
      runs: {otpgate: $otpgate, kannel: $kannel_run, otpgate_fixed_rate: $otpgate_fixed,
             kannel_fixed_rate: $kannel_fixed, echo: $echo, otpgate_stubbed: $stub,
             window: $window, throttle: $throttle, store_memory: $store_memory, store_redis: $store_redis,
             store_memory_cpu: $store_memory_cpu, store_redis_cpu: $store_redis_cpu},
      engine_window_bench: $engine}' >"$OUT/results.json"
log "results: $OUT/results.json, table: $OUT/table.txt, logs: $OUT/logs/"
