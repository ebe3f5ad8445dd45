"""auth.py with plain data: the signing a connection's settings get, and what it shows."""

from __future__ import annotations

from airflow_provider_wa_phones import auth, signing
from airflow_provider_wa_phones.connections import CamsSettings, NxCloudSettings
from airflow_provider_wa_phones.operations import cams, nxcloud

SECRET = "Sup3r-s3cret-value"


def test_each_service_s_settings_get_their_own_signing_and_never_show_the_secret() -> None:
    nx = auth.for_settings(NxCloudSettings("c", "http://127.0.0.1:9", "key", SECRET, algorithm="sha256"))
    ali = auth.for_settings(CamsSettings("c", "http://127.0.0.1:9", "id", SECRET, security_token="sts-1"))
    assert isinstance(nx, auth.NxCloudAuth) and nx.algorithm == "sha256"
    assert isinstance(ali, auth.CamsAuth)
    assert SECRET not in repr(nx) + repr(ali) and "sts-1" not in repr(ali)


def test_the_async_signing_signs_the_request_the_operation_built() -> None:
    settings = NxCloudSettings("c", "http://127.0.0.1:9", "key", SECRET)
    request = nxcloud.PHONE_LIST.request(settings, nxcloud.phone_list_body("app-1"))
    headers = auth.for_settings(settings).sign(request)
    expected = signing.nxcloud_headers(
        "key", SECRET, "phoneList", "2", request.body, "md5", int(headers["ts"])
    )
    assert headers == expected

    cams_settings = CamsSettings("c", "http://127.0.0.1:9", "id", SECRET, security_token="sts-1")
    signed = auth.for_settings(cams_settings).sign(cams.PHONE_NUMBERS.request(cams_settings, {}))
    assert signed["x-acs-security-token"] == "sts-1"
    assert signed["Authorization"].startswith("ACS3-HMAC-SHA256 Credential=id,")
