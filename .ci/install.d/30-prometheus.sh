# promtool (Debian's prometheus package), for the promtool tests of tests/observability/
# (ignored unless asked for; they fail when OTPGATE_PROMTOOL is not set) and
# .ci/after.d/30-prometheus.sh. The package's service is not
# started in a container (policy-rc.d); where it is, it is stopped and disabled: CI needs the
# tool only.
if ! command -v promtool >/dev/null 2>&1; then
  apt-get update -qq -o DPkg::Lock::Timeout=600
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 prometheus
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
fi
OTPGATE_PROMTOOL="$(command -v promtool)"
export OTPGATE_PROMTOOL
"$OTPGATE_PROMTOOL" --version 2>&1 | sed -n 1p
