# The official sms.cx Python client, for tests/api/sdk_smscx.rs (ignored unless asked for; it
# fails when OTPGATE_SDK_PYTHON is not set).
venv="$CI_CACHE/sdk-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check smscx-client pytest
export OTPGATE_SDK_PYTHON="$venv/bin/python"
