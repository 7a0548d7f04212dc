# The npm `smpp` package (pinned in tests/interop/package-lock.json), for the interop test
# tests/interop_node_smpp.rs, which runs tests/interop/smsc.js against the engine when this is set.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  node_smpp_dir="$CI_CACHE/node-smpp"
  mkdir -p "$node_smpp_dir"
  cp tests/interop/package.json tests/interop/package-lock.json "$node_smpp_dir/"
  (cd "$node_smpp_dir" && npm ci --no-audit --no-fund --loglevel=error)
  export OTPGATE_NODE_SMPP_DIR="$node_smpp_dir"
  export OTPGATE_NODE="$(command -v node)"
  echo "node $(node --version), smpp in $OTPGATE_NODE_SMPP_DIR"
else
  echo "node/npm not found: tests/interop_node_smpp.rs will be skipped" >&2
fi
