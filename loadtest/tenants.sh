#!/usr/bin/env bash
# loadtest/tenants.sh: the end-to-end create (`otp-load --mode otp` -> otpgate `POST /otp` ->
# the embedded SMSC simulator) with 1, 10,000 and 100,000 tenants in one run, the token of the
# last tenant on every request; prints otpgate's CPU per OTP (user + system time from
# /proc/PID/stat over the measured run, divided by the OTPs answered 201), the rate, the
# start-up time (launch to /readyz) and the ratios to one tenant.
#
#   bash loadtest/tenants.sh          # about 2 minutes after the release build
#
# Each configuration runs TENANTS_ROUNDS times, interleaved (1, 10k, 100k, 1, 10k, 100k, ...),
# at the same open-loop rate, so that drift falls on all alike; the figures add the rounds up,
# and the median of the per-round ratios is printed beside them (robust to one noisy round).
# Then, with the largest set and an admin listener, the creates at TENANTS_RATE / 3 during
# TENANTS_CHANGES tenant creations through the admin API (each checks and builds the whole
# set): their errors and latency percentiles, and each change's answer time.
#
# Environment: TENANTS_SIZES ("1 10000 100000"), TENANTS_RATE (offered creates/s, 1500),
# TENANTS_CHANGES (admin changes in the last phase, 8; 0 skips it),
# TENANTS_SECS (seconds per measured run, 10), TENANTS_ROUNDS (2), TENANTS_PROFILE (release;
# `debug` uses target/debug), TENANTS_OUT (target/bench). Every process it starts is stopped on
# exit; every load run is bounded in count and time.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROFILE=${TENANTS_PROFILE:-release}
BIN=$ROOT/target/$PROFILE
OUT=${TENANTS_OUT:-$ROOT/target/bench}
SIZES=${TENANTS_SIZES:-1 10000 100000}
RATE=${TENANTS_RATE:-1500}
SECS=${TENANTS_SECS:-10}
ROUNDS=${TENANTS_ROUNDS:-2}
CHANGES=${TENANTS_CHANGES:-8}
ADMIN_TOKEN=bench-only-admin-token-0123456789
RUN=$(mktemp -d "${TMPDIR:-/tmp}/otpgate-tenants.XXXXXX")
PID=
TICK=$(getconf CLK_TCK)
unset RUST_LOG

log() { printf '[tenants %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

stop() {
    [ -n "$PID" ] || return 0
    kill -TERM "$PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=
}
cleanup() {
    stop
    mkdir -p "$OUT/tenants-logs" && cp -f "$RUN"/*.log "$OUT/tenants-logs/" 2>/dev/null || true
    rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in curl jq awk python3; do
    command -v "$tool" >/dev/null || die "$tool is needed"
done

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# cpu_ticks: user + system clock ticks of otpgate so far (every thread).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }

# config N PORT: a configuration with N tenants whose stored 4-byte tags differ (an id whose
# tag is taken gets a suffix, as an operator would choose another id), on PORT. The last
# tenant's token is "tok-last-tenant-0001".
config() {
    python3 - "$1" "$2" <<'PY'
import hashlib, sys
n, port = int(sys.argv[1]), sys.argv[2]
out = [f'[http]\nlisten = "127.0.0.1:{port}"\nmax_in_flight = 10000\n',
       '[demo]\nenabled = true\n[limits]\nper_number = 0\n[log]\nlevel = "warn"\n',
       '[security]\npin_secret = "bench-only-secret-0123456789abcdef"\n']
seen = set()
for i in range(n):
    name = f"customer-{i:06d}"
    while True:
        tag = hashlib.sha256(name.encode()).digest()[:4]
        if tag not in seen and tag != b"\0\0\0\0":
            break
        name += "-b"
    seen.add(tag)
    token = "tok-last-tenant-0001" if i == n - 1 else f"tok-{name}-0123456789abcdef"
    out.append(f'[[tenants]]\nname = "{name}"\ntoken = "{token}"\n')
sys.stdout.write("".join(out))
PY
}

# start N [EXTRA]: otpgate with N tenants (and the TOML lines EXTRA) on a free port; sets PID,
# url and STARTUP[N] (seconds from launch to /readyz answering 200).
start() {
    local n=$1 port t0 t1
    port=$(free_port)
    { config "$n" "$port"; printf '%s' "${2:-}"; } >"$RUN/t$n.toml"
    t0=$(date +%s.%N)
    "$BIN/otpgate" serve --config "$RUN/t$n.toml" >"$RUN/t$n-otpgate.log" 2>&1 &
    PID=$!
    url="http://127.0.0.1:$port"
    for _ in $(seq 1200); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url/readyz")" = 200 ] && break
        kill -0 "$PID" 2>/dev/null || die "otpgate ($n tenants) exited: $(tail -n 5 "$RUN/t$n-otpgate.log")"
        sleep 0.1
    done
    t1=$(date +%s.%N)
    STARTUP[$n]=$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }")
}

if [ "$PROFILE" = release ]; then
    log "building (release)"
    (cd "$ROOT" && cargo build --release -p otpgate -p otpgate-loadtest --bin otpgate --bin otp-load) >&2
else
    (cd "$ROOT" && cargo build -p otpgate -p otpgate-loadtest --bin otpgate --bin otp-load) >&2
fi
mkdir -p "$OUT"

declare -A TICKS OK REQS STARTUP
for n in $SIZES; do TICKS[$n]=0; OK[$n]=0; REQS[$n]=0; done

for round in $(seq "$ROUNDS"); do
    for n in $SIZES; do
        start "$n"
        log "round $round, $n tenants: ready in ${STARTUP[$n]} s"
        # warm-up: connections, allocator, caches
        "$BIN/otp-load" --url "$url" --token tok-last-tenant-0001 --rate "$RATE" \
            --requests $((RATE * 2)) --duration 2s >/dev/null 2>&1 || true
        before=$(cpu_ticks)
        timeout $((SECS + 60)) "$BIN/otp-load" --json --url "$url" --token tok-last-tenant-0001 \
            --rate "$RATE" --requests $((RATE * SECS)) --duration "${SECS}s" \
            --phone-prefix +4477010 >"$RUN/t$n-$round.json" 2>"$RUN/t$n-$round-load.log" ||
            die "otp-load failed: $(tail -n 5 "$RUN/t$n-$round-load.log")"
        after=$(cpu_ticks)
        ok=$(jq -r '.main.ok' "$RUN/t$n-$round.json")
        reqs=$(jq -r '.main.requests' "$RUN/t$n-$round.json")
        TICKS[$n]=$((TICKS[$n] + after - before))
        printf '%s\t%s\t%s\t%s\n' "$round" "$n" "$((after - before))" "$ok" >>"$RUN/rounds.tsv"
        OK[$n]=$((OK[$n] + ok))
        REQS[$n]=$((REQS[$n] + reqs))
        stop
    done
done

base=${SIZES%% *}
cpu_us() { awk "BEGIN { printf \"%.1f\", ${TICKS[$1]} * 1e6 / $TICK / (${OK[$1]} > 0 ? ${OK[$1]} : 1) }"; }
# median_ratio N: the median over the rounds of (CPU per OTP with N tenants / with the first
# size) - 1, each ratio taken within one round, so that the machine's drift between rounds
# cancels out; with the spread (lowest and highest) beside it.
median_ratio() {
    python3 - "$RUN/rounds.tsv" "$base" "$1" <<'PY'
import statistics, sys
path, base, n = sys.argv[1:]
per = {}
for line in open(path):
    rnd, size, ticks, ok = line.split()
    per.setdefault(rnd, {})[size] = int(ticks) / max(int(ok), 1)
ratios = sorted((r[n] / r[base] - 1) * 100 for r in per.values() if n in r and base in r and r[base] > 0)
if ratios:
    print(f"{statistics.median(ratios):+.1f} % ({ratios[0]:+.1f} to {ratios[-1]:+.1f})")
else:
    print("-")
PY
}
{
    echo "end-to-end create, $PROFILE build, $RATE/s offered for $SECS s x $ROUNDS rounds, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "| tenants | OTPs ok / sent | CPU per OTP, all rounds (µs) | vs $base tenant(s), all rounds | vs $base, median of the rounds (range) | ready after (s) |"
    echo "|---|---|---|---|---|---|"
    for n in $SIZES; do
        ratio=$(awk "BEGIN { printf \"%+.1f %%\", ($(cpu_us "$n") / $(cpu_us "$base") - 1) * 100 }")
        echo "| $n | ${OK[$n]} / ${REQS[$n]} | $(cpu_us "$n") | $ratio | $(median_ratio "$n") | ${STARTUP[$n]} |"
    done
} | tee "$OUT/tenants.txt"

[ "$CHANGES" -gt 0 ] || exit 0
# Admin changes under load: the largest set, creates at a third of RATE, CHANGES tenants
# created through the admin API one after the other meanwhile.
n=${SIZES##* }
admin_port=$(free_port)
mkdir -p "$RUN/state"
start "$n" "$(printf '[admin]\nlisten = "127.0.0.1:%s"\ntoken = "%s"\n[store]\nstate_dir = "%s"\n' \
    "$admin_port" "$ADMIN_TOKEN" "$RUN/state")"
rate=$((RATE / 3))
secs=$((CHANGES * 2 + 4))
"$BIN/otp-load" --url "$url" --token tok-last-tenant-0001 --rate "$rate" --requests "$rate" \
    --duration 1s >/dev/null 2>&1 || true
timeout $((secs + 60)) "$BIN/otp-load" --json --url "$url" --token tok-last-tenant-0001 \
    --rate "$rate" --requests $((rate * secs)) --duration "${secs}s" --phone-prefix +4477012 \
    >"$RUN/changes.json" 2>"$RUN/changes-load.log" &
load=$!
sleep 1
answers=()
for k in $(seq "$CHANGES"); do
    answers+=("$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 60 \
        -H "Authorization: Bearer $ADMIN_TOKEN" -H 'content-type: application/json' \
        -d "{\"name\":\"bench-added-$k\"}" "http://127.0.0.1:$admin_port/admin/tenants")")
done
wait "$load" || die "otp-load failed: $(tail -n 5 "$RUN/changes-load.log")"
stop
{
    echo
    echo "creates at $rate/s for $secs s with $n tenants while $CHANGES tenants are created through the admin API"
    echo
    echo "| creates ok / sent | errors | p50 / p99 / max (ms) | admin answers (status, seconds) |"
    echo "|---|---|---|---|"
    jq -r --arg answers "${answers[*]}" '.main | "| \(.ok) / \(.requests) | \(.errors) | \(.latency_ms.p50) / \(.latency_ms.p99) / \(.latency_ms.max) | \($answers) |"' "$RUN/changes.json"
} | tee -a "$OUT/tenants.txt"
