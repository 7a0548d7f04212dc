# The official sms.cx Python client, for tests/sdk_smscx.rs (which runs it when this is set).
venv="$CI_CACHE/sdk-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check smscx-client pytest
export OTPGATE_SDK_PYTHON="$venv/bin/python"
