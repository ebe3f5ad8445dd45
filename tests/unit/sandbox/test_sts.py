"""The emulated STS without a socket: its RPC signature V1 and its rules (sandbox/sts/)."""

from __future__ import annotations

import pytest

from airflow_provider_wa_phones.sandbox import data
from airflow_provider_wa_phones.sandbox.cams.models import CamsError
from airflow_provider_wa_phones.sandbox.state import SandboxState
from airflow_provider_wa_phones.sandbox.sts.auth import (
    canonical_query,
    rpc_params,
    rpc_signature,
    string_to_sign,
    verify_rpc_request,
)
from airflow_provider_wa_phones.sandbox.sts.models import MAX_ISSUED, StsBackend

# The worked example of Alibaba Cloud's RPC signature document (ECS DescribeRegions, secret testsecret).
DOC_PARAMS = {
    "AccessKeyId": "testid",
    "Action": "DescribeRegions",
    "Format": "XML",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
    "SignatureVersion": "1.0",
    "Timestamp": "2016-02-23T12:46:24Z",
    "Version": "2014-05-26",
}
DOC_STRING_TO_SIGN = (
    "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1"
    "%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0"
    "%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
)


def test_the_documented_example() -> None:
    assert string_to_sign("GET", DOC_PARAMS) == DOC_STRING_TO_SIGN
    assert rpc_signature("testsecret", DOC_STRING_TO_SIGN) == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_percent_encoding_follows_rfc_3986() -> None:
    params = {"B": "a b*c~d", "A": "é/+=", "Signature": "ignored"}
    assert canonical_query(params) == "A=%C3%A9%2F%2B%3D&B=a%20b%2Ac~d"


def test_the_query_decodes_as_a_form() -> None:
    assert rpc_params("A=a+b%2Bc&Sig=x%3D") == {"A": "a b+c", "Sig": "x="}
    with pytest.raises(CamsError, match="given twice"):
        rpc_params("A=1&A=2")


def test_the_library_signs_a_space_differently_from_the_document() -> None:
    # alibabacloud-credentials 1.0.12 encodes with quote_plus: a space becomes "+" (then %2B), where
    # the document (and this sandbox, like the real gateway) encodes %20 (then %2520). A Policy with
    # spaces is therefore refused; send compact JSON (json.dumps(..., separators=(",", ":"))).
    from alibabacloud_credentials.utils import parameter_helper

    params = {**DOC_PARAMS, "Policy": '{"a": 1}'}
    assert parameter_helper.compose_string_to_sign("GET", params) != string_to_sign("GET", params)
    compact = {**DOC_PARAMS, "Policy": '{"a":1,"b":["cams:*"]}'}
    assert parameter_helper.compose_string_to_sign("GET", compact) == string_to_sign("GET", compact)


def _signed(params: dict[str, str], secret: str) -> dict[str, str]:
    return {**params, "Signature": rpc_signature(secret, string_to_sign("GET", params))}


def _verify(state: SandboxState, params: dict[str, str]) -> str:
    return verify_rpc_request(
        "GET",
        params,
        find_key=state.cams.find_access_key,
        now=state.clock.wall_time(),
        use_nonce=state.sts.use_nonce,
    ).key_id


def _params(state: SandboxState, **extra: str) -> dict[str, str]:
    import datetime as dt

    now = dt.datetime.fromtimestamp(state.clock.wall_time(), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {**DOC_PARAMS, "AccessKeyId": data.CAMS_ACCESS_KEY_ID, "Timestamp": now, **extra}


def test_verification_order_and_codes() -> None:
    state = SandboxState()
    good = _signed(_params(state), data.CAMS_ACCESS_KEY_SECRET)
    assert _verify(state, good) == data.CAMS_ACCESS_KEY_ID
    with pytest.raises(CamsError, match="SignatureNonceUsed"):
        _verify(state, good)
    cases = {
        "IncompleteSignature": {k: v for k, v in good.items() if k != "Signature"},
        "InvalidAccessKeyId.NotFound": _signed(_params(state, AccessKeyId="nobody"), "x"),
        "SignatureDoesNotMatch": _signed(_params(state, SignatureNonce="n2"), "wrong"),
        "InvalidTimeStamp.Expired": _signed(
            _params(state, Timestamp="2016-02-23T12:46:24Z", SignatureNonce="n3"), data.CAMS_ACCESS_KEY_SECRET
        ),
        "InvalidTimeStamp.Format": _signed(
            _params(state, Timestamp="yesterday", SignatureNonce="n4"), data.CAMS_ACCESS_KEY_SECRET
        ),
    }
    for code, params in cases.items():
        with pytest.raises(CamsError) as raised:
            _verify(state, params)
        assert raised.value.code == code
    assert cases and raised.value.status == 400


def _backend(**fields: object) -> tuple[SandboxState, StsBackend]:
    state = SandboxState(**fields)  # type: ignore[arg-type]
    return state, state.sts


def _refused(call: object) -> tuple[str, int]:
    with pytest.raises(CamsError) as raised:
        call()  # type: ignore[operator]
    return raised.value.code, raised.value.status


def test_assume_role_rules() -> None:
    state, sts = _backend()
    key = state.cams.find_access_key(data.CAMS_ACCESS_KEY_ID)
    assert key is not None
    ok = {"RoleArn": data.STS_ROLE_ARN, "RoleSessionName": "s1", "DurationSeconds": "900"}
    answer = sts.assume_role(key, ok)
    assert answer["AssumedRoleUser"]["Arn"].endswith(f":assumed-role/{data.STS_ROLE_NAME}/s1")
    issued = state.cams.find_access_key(answer["Credentials"]["AccessKeyId"])
    assert issued is not None and issued.security_token == answer["Credentials"]["SecurityToken"]
    assert issued.token_expires_at == pytest.approx(state.clock.wall_time() + 900, abs=2)
    assert _refused(lambda: sts.assume_role(key, {**ok, "DurationSeconds": "899"})) == (
        "InvalidParameter.DurationSeconds",
        400,
    )
    assert _refused(lambda: sts.assume_role(key, {**ok, "DurationSeconds": "3601"}))[0] == (
        "InvalidParameter.DurationSeconds"
    )
    assert _refused(lambda: sts.assume_role(key, {**ok, "RoleSessionName": "bad name"}))[0] == (
        "InvalidParameter.RoleSessionName"
    )
    assert _refused(lambda: sts.assume_role(key, {**ok, "RoleArn": data.STS_UNKNOWN_ROLE_ARN})) == (
        "EntityNotExist.Role",
        404,
    )
    assert _refused(lambda: sts.assume_role(key, {**ok, "RoleArn": data.STS_OIDC_ROLE_ARN})) == (
        "NoPermission",
        403,
    )
    assert _refused(lambda: sts.assume_role(key, {"RoleSessionName": "s"}))[0] == "MissingParameter"


def test_lifetime_overrides_the_duration_and_expiry_is_on_the_wall_clock() -> None:
    state, sts = _backend(sts_lifetime=2)
    credentials = sts.issue(duration=3600)
    assert credentials.expires_at - state.clock.wall_time() <= 2
    sts.set_lifetime(None)
    assert sts.issue(duration=1000).expires_at - state.clock.wall_time() > 998
    with pytest.raises(ValueError):
        sts.set_lifetime(0)


def test_oidc_tokens_expire_and_are_bound_to_the_issuer() -> None:
    state, sts = _backend()
    params = {
        "OIDCProviderArn": data.STS_OIDC_PROVIDER_ARN,
        "RoleArn": data.STS_OIDC_ROLE_ARN,
        "RoleSessionName": "rrsa",
    }
    token = sts.issue_oidc_token(lifetime=30)
    assert sts.assume_role_with_oidc({**params, "OIDCToken": token})["OIDCTokenInfo"]["VerificationInfo"]
    state.clock.set_offset(31)
    assert _refused(lambda: sts.assume_role_with_oidc({**params, "OIDCToken": token}))[0] == (
        "AuthenticationFail.OIDCToken.Expired"
    )
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert _refused(lambda: sts.assume_role_with_oidc({**params, "OIDCToken": forged}))[0] == (
        "AuthenticationFail.OIDCToken.Invalid"
    )
    state.reset()  # a new IdP key: earlier tokens are no longer this provider's
    assert _refused(lambda: state.sts.assume_role_with_oidc({**params, "OIDCToken": token}))[0] == (
        "AuthenticationFail.OIDCToken.Invalid"
    )


def test_outage_and_its_services() -> None:
    _, sts = _backend()
    sts.set_outage(True, ["sts"])
    assert _refused(lambda: sts.check_up("sts")) == ("ServiceUnavailable", 503)
    sts.check_up("credentials_uri")
    sts.set_outage(False)
    sts.check_up("sts")
    with pytest.raises(ValueError, match="unknown service"):
        sts.set_outage(True, ["imds"])


def test_the_handed_out_keys_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    state, sts = _backend()
    monkeypatch.setattr("airflow_provider_wa_phones.sandbox.sts.models.MAX_ISSUED", 3)
    first = sts.issue()
    for _ in range(3):
        sts.issue()
    assert len(sts.issued) == 3 < MAX_ISSUED
    assert state.cams.find_access_key(first.access_key_id) is None


def test_ecs_tokens() -> None:
    state, sts = _backend()
    token = sts.ecs_token("10")
    assert sts.ecs_token_valid(token) and not sts.ecs_token_valid("forged") and not sts.ecs_token_valid(None)
    state.clock.set_offset(11)
    assert not sts.ecs_token_valid(token)
    for ttl in (None, "0", "21601", "ten"):
        with pytest.raises(ValueError):
            sts.ecs_token(ttl)
