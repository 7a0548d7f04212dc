#!/usr/bin/env bash
# Longer run of otpgate's reliability suite (tests/reliability/ and tests/smpp/reliability_links.rs),
# by hand.
#
#   loadtest/soak.sh            # the by-hand sizes (OTPGATE_FAULT_SCALE=full)
#   loadtest/soak.sh 3          # three times the CI sizes
#   loadtest/soak.sh full links # one file only: links | front | process
#
# Runs the tests one at a time (they measure time and memory) in the debug build and prints
# the figure line each test reports, then the cargo summary. Everything stays on loopback.
set -euo pipefail

scale="${1:-full}"
only="${2:-}"
cd "$(dirname "$0")/.."

# Each file is a module of its area's test binary: a filter on its name picks its tests.
case "$only" in
    "") tests=(--test smpp --test reliability -- reliability_) ;;
    links) tests=(--test smpp -- reliability_links::) ;;
    front | process) tests=(--test reliability -- "reliability_${only}::") ;;
    *) echo "unknown part $only: links | front | process" >&2; exit 2 ;;
esac

log="$(mktemp -t otpgate-soak.XXXXXX)"
trap 'rm -f "$log"' EXIT
echo "reliability suite at OTPGATE_FAULT_SCALE=$scale (log: $log)"
status=0
OTPGATE_FAULT_SCALE="$scale" cargo test --no-fail-fast -p otpgate "${tests[@]}" --nocapture --test-threads 1 \
    >"$log" 2>&1 || status=$?
grep -oE '(disconnects|throttling|hung SMSC|refused bind|outage|queue full|hanging callback receiver|SIGTERM|RSS): .*|stopped in [0-9.]+ s' "$log" || true
grep -E '^(test result|failures:|thread .* panicked)' "$log" || true
if [[ $status -ne 0 ]]; then
    echo "FAILED (exit $status); full log follows" >&2
    cat "$log" >&2
fi
exit "$status"
