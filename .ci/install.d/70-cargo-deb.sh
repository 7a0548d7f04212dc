# cargo-deb (crates.io), for tests/packaging (the Debian package), and the release binary it
# packages (cargo deb --no-build: the test does not start a cargo build of its own). Exports
# OTPGATE_CARGO_DEB (the cargo-deb executable). About 4 minutes to install the first time, then
# cached; the release build takes about 6 minutes on 2 cores.
deb_root="$CI_CACHE/cargo-deb"
if [ ! -x "$deb_root/bin/cargo-deb" ]; then
  cargo install --locked --root "$deb_root" --version '^3' cargo-deb
fi
"$deb_root/bin/cargo-deb" --version
cargo build --release --locked -p otpgate --bin otpgate
export OTPGATE_CARGO_DEB="$deb_root/bin/cargo-deb"
