#!/usr/bin/env bash
# packaging/pgo-build.sh: otpgate built with profile-guided optimisation (PGO), the build to
# package: LLVM inlines and lays out the code by the counts of a training run, so the request
# and SMPP paths sit together and the rest out of their way (docs/performance.md, "The
# profile-guided build": about 0.55x the CPU per OTP of the plain release build).
#
#   bash packaging/pgo-build.sh            # PGO
#   PGO_BOLT=1 bash packaging/pgo-build.sh # PGO, then BOLT (needs llvm-bolt: Debian bolt-19)
#   cargo deb -p otpgate --target "$(rustc -vV | awk '/^host:/ {print $2}')" --no-build
#
# The binary lands in target/<host triple>/release/otpgate (the plain build's
# target/release/otpgate is left alone). Steps:
#   1. llvm-profdata of rustc's own LLVM (the rustup component llvm-tools, added if missing);
#   2. an instrumented build, in target/pgo-instrumented;
#   3. a training run on loopback, about a minute: smsc-sim answering at once with receipts,
#      otp-load sending creates (mostly the common one, then others: verifies, national
#      numbers, other countries, UCS-2 and language templates, letter PINs, bad bodies);
#   4. its counts merged (target/pgo/otpgate.profdata) and the final build reading them.
# With PGO_BOLT=1, three more: the final build keeps its relocations (--emit-relocs), BOLT
# instruments it, the same training runs it, and BOLT lays the binary's functions and blocks
# out again by those counts (target/pgo/bolt; LLVM's PGO places blocks within a function, BOLT
# also orders the functions, so the hot ones share cache lines and pages).
# Needs rustup, curl, jq and python3 (a free port), as loadtest/instructions.sh does.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=loadtest/h1-config.sh
. "$ROOT/loadtest/h1-config.sh"

for tool in rustup curl jq python3; do
    command -v "$tool" >/dev/null || { echo "pgo-build.sh: $tool is missing" >&2; exit 1; }
done
BOLT_TOOL=""
if [ "${PGO_BOLT:-0}" = 1 ]; then
    BOLT_TOOL=$(command -v llvm-bolt || ls /usr/lib/llvm-*/bin/llvm-bolt 2>/dev/null | sort -V | tail -1 || true)
    [ -n "$BOLT_TOOL" ] && [ -x "$BOLT_TOOL" ] || {
        echo "pgo-build.sh: PGO_BOLT=1 needs llvm-bolt (Debian: apt-get install bolt-19)" >&2
        exit 1
    }
fi

TRIPLE=$(rustc -vV | awk '/^host:/ {print $2}')
PROFDATA_TOOL="$(rustc --print sysroot)/lib/rustlib/$TRIPLE/bin/llvm-profdata"
if [ ! -x "$PROFDATA_TOOL" ]; then
    rustup component add llvm-tools
fi
[ -x "$PROFDATA_TOOL" ] || { echo "pgo-build.sh: no llvm-profdata at $PROFDATA_TOOL" >&2; exit 1; }

PGO=$ROOT/target/pgo
RAW=$PGO/raw
BOLT=$PGO/bolt
rm -rf "$RAW" "$BOLT"
mkdir -p "$RAW" "$BOLT"
FINAL=$ROOT/target/$TRIPLE/release/otpgate

step() { printf '\n== %s ==\n' "$*"; }

# --target: the flags reach otpgate and its dependencies, not build scripts and proc macros
step "instrumented build"
RUSTFLAGS="${RUSTFLAGS:-} -Cprofile-generate=$RAW" CARGO_TARGET_DIR=$ROOT/target/pgo-instrumented \
    cargo build --release --locked -p otpgate --bin otpgate --target "$TRIPLE"
INSTRUMENTED=$ROOT/target/pgo-instrumented/$TRIPLE/release/otpgate

step "training tools"
cargo build --release --locked -p otpgate-loadtest --bin smsc-sim --bin otp-load

PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# train DIR BINARY: runs BINARY (an instrumented otpgate, which writes its counts when it
# exits) under the training load; its logs go to DIR. Fails unless the run created and
# verified OTPs: a run that trained refusals only would lay the code out for them.
train() {
    local dir=$1 binary=$2 sim_port sim_http gw_port sim gw created verified
    sim_port=$(free_port) sim_http=$(free_port) gw_port=$(free_port)
    target/release/smsc-sim --listen "127.0.0.1:$sim_port" --http "127.0.0.1:$sim_http" --quiet \
        --receipt-delay 0 >"$dir/sim.log" 2>&1 &
    sim=$!
    PIDS+=("$sim")
    h1_config "$gw_port" "$sim_port" 0 >"$dir/otpgate.toml"
    "$binary" serve --config "$dir/otpgate.toml" >"$dir/otpgate.log" 2>&1 &
    gw=$!
    PIDS+=("$gw")
    for _ in $(seq 300); do
        curl -sf -o /dev/null "http://127.0.0.1:$gw_port/readyz" && break
        sleep 0.2
    done
    curl -sf -o /dev/null "http://127.0.0.1:$gw_port/readyz" || {
        echo "pgo-build.sh: the instrumented otpgate did not start ($dir/otpgate.log)" >&2
        exit 1
    }

    # load CONCURRENCY REQUESTS DURATION [otp-load options]: one bounded closed-loop run,
    # with the tenant's token unless OTP_LOAD_TOKEN names another
    load() {
        local concurrency=$1 requests=$2 duration=$3
        shift 3
        OTP_LOAD_TOKEN=${OTP_LOAD_TOKEN:-bench-token} target/release/otp-load \
            --url "http://127.0.0.1:$gw_port" --concurrency "$concurrency" --requests "$requests" \
            --duration "$duration" "$@" >>"$dir/load.log" 2>&1 || true
    }
    : >"$dir/load.log"
    # the common create, the bulk of the counts: a UK mobile number, the default template
    load 64 400000 20s --phone-prefix +4474001
    load 8 3000 15s --phone-prefix +4474002 --verify "http://127.0.0.1:$sim_http"
    load 16 20000 3s --phone-prefix +336123 \
        --body '{"phoneNumber":"{phone}","template":"Votre code : {{pin}}","language":"fr"}'
    load 16 20000 3s --phone-prefix +7916123 --phone-digits 4 \
        --body '{"phoneNumber":"{phone}","template":"Ваш код: {{pin}}","pinType":"letters","pinLength":8}'
    load 16 20000 3s --phone-prefix 0151234 \
        --body '{"phoneNumber":"{phone}","countryIso":"DE","ttl":300,"maxAttempts":3}'
    load 16 20000 3s --phone-prefix +12125 --phone-digits 6 \
        --body '{"phoneNumber":"{phone}","pinType":"alphanumeric","trackId":"9d0f1c4e-2b7a-4c55-8e1f-3a6b2c9d7e10"}'
    load 8 5000 2s --body '{"phoneNumber":"{phone}","pinLength":'
    load 8 5000 2s --body '{"phoneNumber":"12"}'
    OTP_LOAD_TOKEN=wrong-token load 8 5000 2s

    # the counts are written when the process exits
    kill -TERM "$gw" "$sim"
    wait "$gw" 2>/dev/null || true
    wait "$sim" 2>/dev/null || true
    created=$(awk '$1 == "201" {n += $2} END {print n + 0}' "$dir/load.log")
    verified=$(awk '$1 == "verify" {getline; print $4; exit}' "$dir/load.log")
    echo "training: $created OTPs created, ${verified:-0} verified"
    [ "$created" -ge 100000 ] && [ "${verified:-0}" -ge 1000 ] || {
        echo "pgo-build.sh: the training run did not create and verify OTPs ($dir/load.log)" >&2
        exit 1
    }
}

step "training run"
LLVM_PROFILE_FILE="$RAW/otpgate-%p-%m.profraw" train "$PGO" "$INSTRUMENTED"
ls "$RAW"/otpgate-*.profraw >/dev/null 2>&1 || {
    echo "pgo-build.sh: the training run wrote no counts ($PGO/otpgate.log)" >&2
    exit 1
}

step "merge"
"$PROFDATA_TOOL" merge -o "$PGO/otpgate.profdata" "$RAW"/otpgate-*.profraw

step "optimised build"
RELOCS=""
[ -z "$BOLT_TOOL" ] || RELOCS="-Clink-arg=-Wl,--emit-relocs"
RUSTFLAGS="${RUSTFLAGS:-} -Cprofile-use=$PGO/otpgate.profdata $RELOCS" \
    cargo build --release --locked -p otpgate --bin otpgate --target "$TRIPLE"

if [ -n "$BOLT_TOOL" ]; then
    step "BOLT: instrumented binary"
    cp "$FINAL" "$BOLT/otpgate.pgo"
    "$BOLT_TOOL" "$BOLT/otpgate.pgo" -instrument -o "$BOLT/otpgate.instrumented" \
        --instrumentation-file="$BOLT/otpgate.fdata" >"$BOLT/instrument.log" 2>&1 || {
        echo "pgo-build.sh: llvm-bolt could not instrument the binary ($BOLT/instrument.log)" >&2
        exit 1
    }
    step "BOLT: training run"
    train "$BOLT" "$BOLT/otpgate.instrumented"
    [ -s "$BOLT/otpgate.fdata" ] || {
        echo "pgo-build.sh: the BOLT training run wrote no counts ($BOLT/otpgate.log)" >&2
        exit 1
    }
    step "BOLT: layout"
    "$BOLT_TOOL" "$BOLT/otpgate.pgo" -o "$BOLT/otpgate" --data="$BOLT/otpgate.fdata" \
        --reorder-blocks=ext-tsp --reorder-functions=cdsort --split-functions \
        --split-all-cold --split-eh --dyno-stats --icf=1 --use-gnu-stack \
        >"$BOLT/optimise.log" 2>&1 || {
        echo "pgo-build.sh: llvm-bolt could not lay the binary out ($BOLT/optimise.log)" >&2
        exit 1
    }
    "$BOLT/otpgate" --version >/dev/null
    cp "$BOLT/otpgate" "$FINAL"
fi
echo "pgo-build.sh: $FINAL"
