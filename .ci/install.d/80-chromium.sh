# Debian's Chromium, for tests/api/browser_cors.rs: a real headless browser runs the sms.cx
# page's XHR example against otpgate (ignored unless asked for; it fails when
# OTPGATE_TEST_CHROMIUM is not set). The Debian package only: nothing downloads a browser.
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
export OTPGATE_TEST_CHROMIUM="$(command -v chromium)"
"$OTPGATE_TEST_CHROMIUM" --version
