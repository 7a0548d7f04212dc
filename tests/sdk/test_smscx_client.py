"""The official sms.cx Python client (smscx-client) against a running otpgate.

Started by tests/sdk_smscx.rs, which runs the server in-process and passes:
  OTPGATE_URL      base URL of the API
  OTPGATE_TOKEN    an API token
  OTPGATE_PIN_URL  a loopback side channel answering GET /pin/{otpId} with the PIN that was
                   put into the SMS (the test harness reads it from its recording dispatcher)
  OTPGATE_CA_FILE  (HTTPS only) the PEM file of the CA that signed the server's certificate,
                   the one CA the client trusts
Every reply is deserialized by the library into its own models, with type checking on.
"""

import json
import os
import ssl
import urllib.request
import uuid

import pytest
import smscx_client
from smscx_client.api import otp_api
from smscx_client.model.cancel_otp_response import CancelOtpResponse
from smscx_client.model.data_otp import DataOtp
from smscx_client.model.error import Error
from smscx_client.model.new_otp_request import NewOtpRequest
from smscx_client.model.new_otp_response import NewOtpResponse
from smscx_client.model.verify_pin_response import VerifyPinResponse

BASE = os.environ.get("OTPGATE_URL")
TOKEN = os.environ.get("OTPGATE_TOKEN")
PIN_URL = os.environ.get("OTPGATE_PIN_URL")
CA_FILE = os.environ.get("OTPGATE_CA_FILE")

pytestmark = pytest.mark.skipif(
    not (BASE and TOKEN and PIN_URL),
    reason="OTPGATE_URL, OTPGATE_TOKEN and OTPGATE_PIN_URL are set by tests/sdk_smscx.rs",
)


def configured(config):
    """Trusts the test's CA (and only it) when the API is served over HTTPS."""
    if CA_FILE:
        assert BASE.startswith("https://"), BASE
        config.ssl_ca_cert = CA_FILE
        config.verify_ssl = True
    return config


def api(token=None):
    config = configured(smscx_client.Configuration(host=BASE, access_token=token or TOKEN))
    return otp_api.OtpApi(smscx_client.ApiClient(config))


def api_key_client():
    config = configured(smscx_client.Configuration(host=BASE, api_key=TOKEN))
    return otp_api.OtpApi(smscx_client.ApiClient(config))


def pin_of(otp_id):
    with urllib.request.urlopen(f"{PIN_URL}/pin/{otp_id}", timeout=10) as r:
        return r.read().decode()


def error_of(exc):
    """The error body, validated by the library's Error model."""
    body = json.loads(exc.body)
    e = body["error"]
    model = Error(type=e["type"], message=e["message"], uri=e["uri"], code=e["code"])
    return model


def create(client, phone="+33612345678", **kw):
    req = NewOtpRequest(phone_number=phone, **kw)
    return client.new_otp(req)


def test_create_get_verify_cancel():
    client = api()
    track = str(uuid.uuid4())
    created = create(
        client,
        track_id=track,
        _from="Verify",
        template="Your code is {{pin}}",
        ttl=300,
        max_attempts=3,
        pin_type="numbers",
        pin_length=6,
    )
    assert isinstance(created, NewOtpResponse)
    assert created.status == "PENDING"
    assert created.track_id == track
    assert created.phone_number == "+33612345678"
    assert created.country_iso == "FR"
    assert created.max_attempts == 3
    assert created.attempts == 0
    assert created.ttl == 300
    assert created.parts == 1
    assert created.otp_callback_url is None
    assert created.date_expires > created.date_created

    got = client.get_otp_status(created.otp_id)
    assert isinstance(got, DataOtp)
    assert got.otp_id == created.otp_id
    assert got.status == "PENDING"

    pin = pin_of(created.otp_id)
    wrong = "000000" if pin != "000000" else "111111"
    with pytest.raises(smscx_client.InvalidPinException) as exc:
        client.verify_otp(created.otp_id, wrong)
    err = error_of(exc.value)
    assert (err.type, err.code) == ("invalid_pin", 2029)
    assert client.get_otp_status(created.otp_id).attempts == 1

    ok = client.verify_otp(created.otp_id, pin)
    assert isinstance(ok, VerifyPinResponse)
    assert ok.status == "VERIFIED"
    assert client.get_otp_status(created.otp_id).status == "VERIFIED"

    with pytest.raises(smscx_client.OtpAlreadyVerifiedException) as exc:
        client.verify_otp(created.otp_id, pin)
    assert error_of(exc.value).code == 2023

    # a verified OTP cannot be cancelled
    with pytest.raises(smscx_client.OtpActionNotAllowedException) as exc:
        client.cancel_otp(created.otp_id)
    assert error_of(exc.value).code == 2031

    second = create(client, phone="+33612345679")
    cancelled = client.cancel_otp(second.otp_id)
    assert isinstance(cancelled, CancelOtpResponse)
    assert cancelled.info.id == second.otp_id
    assert client.get_otp_status(second.otp_id).status == "CANCELLED"
    with pytest.raises(smscx_client.OtpCancelledException) as exc:
        client.cancel_otp(second.otp_id)
    assert error_of(exc.value).code == 2030
    with pytest.raises(smscx_client.OtpCancelledException):
        client.verify_otp(second.otp_id, pin_of(second.otp_id))


def test_attempts_exhausted():
    client = api()
    created = create(client, phone="+33612345670", max_attempts=1)
    pin = pin_of(created.otp_id)
    wrong = "000000" if pin != "000000" else "111111"
    with pytest.raises(smscx_client.OtpFailedException) as exc:
        client.verify_otp(created.otp_id, wrong)
    assert error_of(exc.value).code == 2027
    with pytest.raises(smscx_client.OtpFailedException) as exc:
        client.verify_otp(created.otp_id, pin)
    assert error_of(exc.value).code == 2026
    assert client.get_otp_status(created.otp_id).status == "FAILED"


def test_api_key_header_and_errors():
    client = api_key_client()
    created = create(client, phone="+33612345671", pin_type="alphanumeric", pin_length=8)
    assert isinstance(created, NewOtpResponse)

    with pytest.raises(smscx_client.ResourceNotFoundException) as exc:
        client.get_otp_status(str(uuid.uuid4()))
    assert error_of(exc.value).code == 2021

    with pytest.raises(smscx_client.InvalidRequestException) as exc:
        create(client, phone="+33123")
    err = error_of(exc.value)
    assert (err.type, err.code) == ("invalid_param", 2020)

    with pytest.raises(smscx_client.InvalidCredentialsException) as exc:
        create(api(token="not-a-valid-token"))
    assert error_of(exc.value).type == "invalid_api_key"


def resend(otp_id):
    """POST /otp/{otpId}/resend (otpgate's own endpoint: the client has no method for it)."""
    req = urllib.request.Request(
        f"{BASE}/otp/{otp_id}/resend",
        method="POST",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    # over HTTPS, the test's CA (and only it) is trusted, as by the client above
    context = ssl.create_default_context(cafile=CA_FILE) if CA_FILE else None
    with urllib.request.urlopen(req, timeout=10, context=context) as r:
        assert r.status == 200


def test_the_pin_a_resend_replaced_is_expired():
    client = api()
    created = create(client, phone="+33612345661")
    old = pin_of(created.otp_id)
    resend(created.otp_id)
    new = pin_of(created.otp_id)
    assert new != old
    with pytest.raises(smscx_client.OtpExpiredException) as exc:
        client.verify_otp(created.otp_id, old)
    err = error_of(exc.value)
    assert (err.type, err.code) == ("otp_expired", 2028)
    assert client.get_otp_status(created.otp_id).attempts == 1
    assert client.verify_otp(created.otp_id, new).status == "VERIFIED"
