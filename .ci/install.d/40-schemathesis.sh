# schemathesis (PyPI), for tests/security/hostile_schemathesis.rs: property-based requests generated from
# /openapi.json against the running server. Exports OTPGATE_SCHEMATHESIS (the CLI's path).
st_venv="$CI_CACHE/schemathesis-venv"
[ -x "$st_venv/bin/python" ] || python3 -m venv "$st_venv"
if [ ! -x "$st_venv/bin/schemathesis" ]; then
  "$st_venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4,<5'
fi
"$st_venv/bin/schemathesis" --version
export OTPGATE_SCHEMATHESIS="$st_venv/bin/schemathesis"
