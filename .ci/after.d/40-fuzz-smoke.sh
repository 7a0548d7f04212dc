# Fuzz smoke: each codec fuzz target (codec/fuzz: decode, text) runs for FUZZ_SMOKE_SECONDS
# (default 30) under libFuzzer. cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP=1 lets the stable
# compiler accept them. cargo-fuzz is installed into $CI_CACHE when missing, within
# FUZZ_INSTALL_TIMEOUT seconds (default 600); when it cannot be installed or cannot build the
# targets, the smoke is skipped with a notice (the regression tests in codec/tests always run).
# A crash fails CI; its input is left in codec/fuzz/artifacts/<target>/.
fuzz_smoke() {
  local seconds="${FUZZ_SMOKE_SECONDS:-30}"
  local root="$CI_CACHE/cargo-fuzz"
  local cargo_fuzz
  cargo_fuzz="$(command -v cargo-fuzz || true)"
  if [ -z "$cargo_fuzz" ] && [ -x "$root/bin/cargo-fuzz" ]; then
    cargo_fuzz="$root/bin/cargo-fuzz"
  fi
  if [ -z "$cargo_fuzz" ]; then
    echo "installing cargo-fuzz into $root"
    if ! timeout "${FUZZ_INSTALL_TIMEOUT:-600}" cargo install --locked --root "$root" cargo-fuzz; then
      echo "NOTICE: cargo-fuzz could not be installed here; fuzz smoke skipped"
      return 0
    fi
    cargo_fuzz="$root/bin/cargo-fuzz"
  fi
  export PATH="$(dirname "$cargo_fuzz"):$PATH"
  if ! (cd codec && RUSTC_BOOTSTRAP=1 cargo fuzz build --debug-assertions); then
    echo "NOTICE: the fuzz targets do not build with this toolchain (sanitizer runtime missing?); fuzz smoke skipped"
    return 0
  fi
  local target
  for target in decode text; do
    mkdir -p "codec/fuzz/corpus/$target"
    echo "fuzzing $target for ${seconds}s"
    local log="$CI_CACHE/fuzz-$target.log" rc=0
    (cd codec && RUSTC_BOOTSTRAP=1 cargo fuzz run --debug-assertions "$target" -- \
      -max_total_time="$seconds" -timeout=30 -rss_limit_mb=1024 -print_final_stats=1) \
      >"$log" 2>&1 || rc=$?
    grep -E '^(stat::number_of_executed_units|stat::new_units_added|Done)' "$log" || true
    if [ "$rc" -ne 0 ]; then
      tail -n 60 "$log"
      echo "fuzz target $target failed; input in codec/fuzz/artifacts/$target/"
      return 1
    fi
  done
}
fuzz_smoke
