# The npm `smpp` package (pinned in tests/interop/package-lock.json), for the interop test
# tests/smpp/interop_node_smpp.rs, which runs tests/interop/smsc.js against the engine (ignored
# unless asked for; it fails when OTPGATE_NODE_SMPP_DIR is not set). node and npm come from
# Debian when missing, as redis-server and promtool do.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  apt-get update -qq -o DPkg::Lock::Timeout=600
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 nodejs npm >/dev/null
fi
node_smpp_dir="$CI_CACHE/node-smpp"
mkdir -p "$node_smpp_dir"
cp tests/interop/package.json tests/interop/package-lock.json "$node_smpp_dir/"
(cd "$node_smpp_dir" && npm ci --no-audit --no-fund --loglevel=error)
export OTPGATE_NODE_SMPP_DIR="$node_smpp_dir"
export OTPGATE_NODE="$(command -v node)"
echo "node $(node --version), smpp in $OTPGATE_NODE_SMPP_DIR"
