"""Connection fields with generated values, through every kind of caller.

login, password, host and the extras (appkey, sign_algorithm; region, security_token,
cust_space_id, access_key_id, access_key_secret), and an ``extra`` that is not JSON or not a JSON
object. A bad field must be refused with ConnectionConfigError naming it (README also documents a
connection's appkey and cust_space_id refused as ParameterError: both are accepted), before any
request; a good one must complete (or, for a host other than the counting server, reach it as the
proxy). ``test_connection`` must never raise, and must answer False without a request.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_wa_phones.hooks.cams import CamsAsyncHook, CamsHook
from airflow_provider_wa_phones.hooks.nxcloud import NxCloudAsyncHook, NxCloudHook
from airflow_provider_wa_phones.operators.cams import CamsPhoneNumbersOperator
from airflow_provider_wa_phones.operators.nxcloud import NxCloudNumberCheckOperator
from airflow_provider_wa_phones.retry import NO_RETRY
from airflow_provider_wa_phones.sensors.cams import CamsPhoneStatusSensor
from airflow_provider_wa_phones.sensors.nxcloud import NxCloudPhoneStatusSensor
from airflow_provider_wa_phones.services import AUTH_TYPES
from tests.property import rules, values
from tests.property.harness import (
    CAMS,
    MAX_MESSAGE,
    NX,
    Args,
    Expect,
    Server,
    cams_connection,
    check,
    connections,
    examples,
    failure,
    nxcloud_connection,
    report,
)
from tests.property.rules import INVALID, VALID

NX_FIELDS = ("login", "password", "host", "extra", "appkey", "sign_algorithm")
CAMS_FIELDS = (
    "login", "password", "host", "extra", "region", "security_token", "cust_space_id", "access_key_id",
    "access_key_secret",
)  # fmt: skip
#: README documents these connection fields refused as ParameterError as well.
ALSO_PARAMETER = ("appkey", "cust_space_id")

# -- generating connections ---------------------------------------------------------------------------


def host() -> st.SearchStrategy[str | None]:
    """The counting server in its written forms, other (proxied) hosts, and the fuzzed rest."""
    forms = st.sampled_from(["{url}", "{url}/", "localhost", "http://localhost:1", "example.com"])
    valid = st.builds(lambda form: form.format(url=Server.url), forms)
    bad = st.sampled_from(
        [
            "ftp://example.com", "http://", "http://exa mple.com", "example.com/api", "http://h:0",
            # issue 19: a path, query, fragment, user info or port 0 was accepted
            "http://u:p@example.com", "https://example.com#x", "https://example.com?x=1", "0:0",
            "HTTP://0:0", "example.com/a/b",
        ]
    )  # fmt: skip
    return st.one_of(valid, valid, values.any_string(valid), bad)


EXTRA_FORMS = ("object", "object", "object", "object", "none", "empty", "not json", "not an object")


@st.composite
def extra(draw: st.DrawFn, fields: dict[str, st.SearchStrategy[Any]], prefix: str) -> str | None:
    """The extra as Airflow stores it: JSON text of an object, or something else."""
    form = draw(st.sampled_from(EXTRA_FORMS), label="extra form")
    if form == "none":
        return None
    if form == "empty":
        return ""
    if form == "not json":
        return draw(
            st.one_of(
                st.sampled_from(["{not json", '{"appkey": ', "appkey=app-1", "{'a': 1}"]), values.any_text()
            )
        )
    if form == "not an object":
        return json.dumps(draw(st.sampled_from([[1], 1, None, "app-1", True, 0, False, ""])))
    content: dict[str, Any] = {}
    for name, strategy in fields.items():
        if draw(st.booleans(), label=f"{name} given"):
            value = draw(st.one_of(strategy, values.json_values), label=name)
            content[f"extra__{prefix}__{name}" if draw(st.booleans()) and name != "custom" else name] = value
    return json.dumps(content)


def parse_extra(text: str | None) -> tuple[dict[str, Any], rules.V]:
    """The extras a connection holds, and whether its ``extra`` is acceptable: empty, or JSON text of
    an object (strict: ``null`` and other JSON that is not an object are refused)."""
    if text is None or text == "":
        return {}, VALID
    try:
        value = json.loads(text)
    except ValueError:
        return {}, INVALID
    return (value, VALID) if isinstance(value, dict) else ({}, INVALID)


def extra_value(extras: dict[str, Any], name: str, prefix: str) -> Any:
    return extras[name] if name in extras else extras.get(f"extra__{prefix}__{name}")


def absent(value: Any) -> bool:
    return value is None or value == ""


NX_EXTRAS = {"appkey": values.appkey, "sign_algorithm": st.sampled_from(["md5", "sha256", "MD5", "Sha256"])}
CAMS_EXTRAS = {
    "region": st.sampled_from(["ap-southeast-1", "cn-hangzhou", "me-east-1", "cn-shanghai-finance-1"]),
    "security_token": values.credential,
    "cust_space_id": values.space_id,
    "access_key_id": values.credential,
    "access_key_secret": values.credential,
}

nxcloud_fields = st.fixed_dictionaries(
    {
        "login": values.any_string(values.credential),
        "password": values.any_string(values.credential, big=False),
        "host": host(),
        "extra": extra(NX_EXTRAS, "nxcloud"),
    }
).map(Args)
cams_fields = st.fixed_dictionaries(
    {
        "login": st.one_of(st.none(), values.any_string(values.credential)),
        "password": st.one_of(st.none(), values.any_string(values.credential, big=False)),
        "host": host(),
        "extra": extra(CAMS_EXTRAS, "alibaba_cams"),
    }
).map(Args)


# -- the oracle -------------------------------------------------------------------------------------


def expect_nxcloud(fields: Args, *, uses_appkey: bool) -> Expect:
    extras, extra_ok = parse_extra(fields["extra"])
    expect = Expect().judge(
        login=rules.credential(fields["login"]),
        password=rules.credential(fields["password"]),
        host=rules.host(fields["host"]),
        extra=extra_ok,
        sign_algorithm=rules.sign_algorithm(extra_value(extras, "sign_algorithm", "nxcloud")),
    )
    appkey = extra_value(extras, "appkey", "nxcloud")
    if uses_appkey:  # no appkey= argument in these calls: the connection's is required
        expect.add("appkey", INVALID if absent(appkey) else rules.appkey(appkey))
    elif not absent(appkey):  # an appkey set in the connection is checked even when not used
        expect.add("appkey", rules.worst(rules.appkey(appkey), rules.EITHER))
    if extra_ok is INVALID:
        expect.add("appkey", rules.EITHER)  # an unreadable extra may well be reported as no appkey
    return expect


def expect_cams(fields: Args, *, needs_space: bool) -> Expect:
    extras, extra_ok = parse_extra(fields["extra"])
    expect = Expect().judge(host=rules.host(fields["host"]), extra=extra_ok)
    # README: no login, no password (nor their extras) and no auth_type is Alibaba Cloud's default
    # credential chain, which finds this test's environment keys (see _default_chain_keys).
    default_chain = all(absent(fields[name]) for name in ("login", "password")) and all(
        absent(extra_value(extras, name, "alibaba_cams")) for name in ("access_key_id", "access_key_secret")
    )
    for field, alternative in (("login", "access_key_id"), ("password", "access_key_secret")):
        if default_chain:
            continue
        if not absent(fields[field]):
            expect.add(field, rules.credential(fields[field]))
        else:  # README: login (or extra access_key_id) is required
            value = extra_value(extras, alternative, "alibaba_cams")
            verdict = INVALID if absent(value) else rules.credential(value)
            expect.judge(**{field: verdict, alternative: verdict})
    region = extra_value(extras, "region", "alibaba_cams")
    expect.add("region", rules.region(region))
    token = extra_value(extras, "security_token", "alibaba_cams")
    expect.add("security_token", VALID if absent(token) else rules.credential(token))
    space = extra_value(extras, "cust_space_id", "alibaba_cams")
    if absent(space):
        expect.add("cust_space_id", INVALID if needs_space else VALID)
    else:
        expect.add("cust_space_id", rules.space_id(space))
    if extra_ok is INVALID and needs_space:
        expect.add("cust_space_id", rules.EITHER)
    return expect


def expect_test_button(fields: Args) -> Expect:
    """NxCloud's Test button reads phone info when the connection has an appkey, else runs a query."""
    expect = expect_nxcloud(fields, uses_appkey=False)
    appkey = extra_value(parse_extra(fields["extra"])[0], "appkey", "nxcloud")
    if not absent(appkey):  # an empty conn-field is how the form stores "no default appkey"
        expect.add("appkey", rules.appkey(appkey))
    return expect


@pytest.fixture(autouse=True)
def _default_chain_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Keys for the default chain to find (its environment provider reads what the library read
    from the environment at import), and no cached source left for other tests."""
    from airflow_provider_wa_phones import credentials

    auth_util = importlib.import_module("alibabacloud_credentials.utils.auth_util")
    monkeypatch.setattr(auth_util, "environment_access_key_id", "LTAIpropertyDefaultChain")
    monkeypatch.setattr(auth_util, "environment_access_key_secret", "property-default-chain-secret")
    credentials.forget_sources()
    yield
    credentials.forget_sources()


# -- callers -----------------------------------------------------------------------------------------


def _closing(hook: Any, action: Callable[[Any], Any]) -> Any:
    try:
        return action(hook)
    finally:
        hook.close()


def _run_async(hook_class: type, method: str, *args: Any) -> Any:
    async def call() -> Any:
        async with hook_class(retry_policy=NO_RETRY) as hook:
            return await getattr(hook, method)(*args)

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(call())
    finally:
        loop.close()


def _task(task: Any, action: Callable[[Any], Any]) -> Any:
    try:
        return action(task)
    finally:
        if "hook" in task.__dict__:
            task.hook.close()


TODAY = dt.datetime.now(dt.timezone.utc).date().isoformat()
#: name -> (whether the connection's appkey is needed, the call)
NX_CALLERS: dict[str, tuple[bool, Callable[[], Any]]] = {
    "NxCloudHook.list_phones": (
        True,
        lambda: _closing(NxCloudHook(retry_policy=NO_RETRY), lambda h: h.list_phones()),
    ),
    "NxCloudHook.query_number_check": (
        False,
        lambda: _closing(
            NxCloudHook(retry_policy=NO_RETRY), lambda h: h.query_number_check(TODAY, batch_no="b")
        ),
    ),
    "NxCloudAsyncHook.get_phone_info": (True, lambda: _run_async(NxCloudAsyncHook, "get_phone_info")),
    "NxCloudPhoneStatusSensor.poke": (
        True,
        lambda: _task(
            NxCloudPhoneStatusSensor(task_id="t", phones="+86 138 0000 1234", request_retry=NO_RETRY),
            lambda t: t.poke({}),
        ),
    ),
    "NxCloudNumberCheckOperator.execute": (
        True,
        lambda: _task(
            NxCloudNumberCheckOperator(task_id="t", phones="+86 138 0000 1234", request_retry=NO_RETRY),
            lambda t: t.execute({}),
        ),
    ),
}
#: name -> (whether a space id is required, the call)
CAMS_CALLERS: dict[str, tuple[bool, Callable[[], Any]]] = {
    "CamsHook.query_phone_numbers": (
        False,
        lambda: _closing(CamsHook(retry_policy=NO_RETRY), lambda h: h.query_phone_numbers()),
    ),
    "CamsHook.query_phone_business_profile": (
        True,
        lambda: _closing(
            CamsHook(retry_policy=NO_RETRY), lambda h: h.query_phone_business_profile("+86 138 0000 1234")
        ),
    ),
    "CamsAsyncHook.query_phone_numbers": (False, lambda: _run_async(CamsAsyncHook, "query_phone_numbers")),
    "CamsPhoneStatusSensor.poke": (
        False,
        lambda: _task(
            CamsPhoneStatusSensor(task_id="t", phone_numbers="+86 138 0000 1234", request_retry=NO_RETRY),
            lambda t: t.poke({}),
        ),
    ),
    "CamsPhoneNumbersOperator.execute": (
        False,
        lambda: _task(CamsPhoneNumbersOperator(task_id="t", request_retry=NO_RETRY), lambda t: t.execute({})),
    ),
}


def is_counting_server(host: Any) -> bool:
    return isinstance(host, str) and host.rstrip("/") == Server.url


def check_test_connection(name: str, fields: Args, hook: Any, expect: Expect) -> None:
    """``test_connection`` answers (ok, message) and never raises; False without a request when a
    field is bad; the message short."""
    before = Server.count()
    try:
        ok, message = hook.test_connection()
    finally:
        hook.close()
    requests = Server.count() - before
    test = f"{name}.test_connection"
    if expect.invalid and (ok or requests):
        seen = f"ok={ok}, {requests} request(s): {message[:200]}"
        report(test, fields, failure("TestButtonAcceptsBadField", name)(f"{fields!r}: {seen}"))
    elif len(message) > MAX_MESSAGE:
        report(test, fields, failure("LongMessage", test)(f"{fields!r}: {len(message)} characters"))
    elif not ok and not requests and not expect.refusable:
        report(test, fields, failure("TestButtonRefusesGoodConnection", name)(f"{fields!r}: {message[:200]}"))


# -- the properties --------------------------------------------------------------------------------


@examples(1.5)
@given(fields=nxcloud_fields, caller=st.sampled_from(sorted(NX_CALLERS)))
def test_nxcloud_connection(fields: Args, caller: str) -> None:
    uses_appkey, call = NX_CALLERS[caller]
    expect = expect_nxcloud(fields, uses_appkey=uses_appkey)
    with connections(**{NX: nxcloud_connection(**fields)}):
        check(
            f"nxcloud connection via {caller}",
            fields,
            call,
            expect,
            connection_fields=NX_FIELDS,
            also_parameter=ALSO_PARAMETER,
            transport=not is_counting_server(fields["host"]),
        )
        check_test_connection("NxCloudHook", fields, NxCloudHook(), expect_test_button(fields))


@examples(1.5)
@given(fields=cams_fields, caller=st.sampled_from(sorted(CAMS_CALLERS)))
def test_cams_connection(fields: Args, caller: str) -> None:
    needs_space, call = CAMS_CALLERS[caller]
    expect = expect_cams(fields, needs_space=needs_space)
    with connections(**{CAMS: cams_connection(**fields)}):
        check(
            f"alibaba_cams connection via {caller}",
            fields,
            call,
            expect,
            connection_fields=CAMS_FIELDS,
            also_parameter=ALSO_PARAMETER,
            transport=not is_counting_server(fields["host"]),
        )
        check_test_connection("CamsHook", fields, CamsHook(), expect_cams(fields, needs_space=False))


# -- auth_type and its fields -------------------------------------------------------------------------

ROLE_ARN = "acs:ram::1234567890123456:role/cams-reader"
AUTH_EXTRAS: dict[str, st.SearchStrategy[Any]] = {
    "auth_type": st.sampled_from([*AUTH_TYPES, "Default", "assume_role"]),
    "role_arn": st.sampled_from([ROLE_ARN, "acs:ram::1:role/", "arn:aws:iam::1:role/x"]),
    "oidc_provider_arn": st.sampled_from(["acs:ram::1234:oidc-provider/ack", ROLE_ARN]),
    "oidc_token_file": st.sampled_from(["/var/run/token", "a\nb"]),
    "role_session_name": st.sampled_from(["airflow", "a", "bad name"]),
    "external_id": st.sampled_from(["ext-1234", "x"]),
    "policy": st.sampled_from(['{"Version": "1"}', "[1]", "not json"]),
    "duration_seconds": st.sampled_from([900, 43200, 899, "3600", 3600.0, True]),
    "role_name": st.sampled_from(["EcsRole", "bad role"]),
    "credentials_uri": st.sampled_from(["http://127.0.0.1:1/c?token=secret-in-query", "ftp://h/x", "http://u:p@h/x"]),
    "sts_region": st.sampled_from(["ap-southeast-1", "Bad"]),
    "sts_endpoint": st.sampled_from(["127.0.0.1:8443", "https://sts.aliyuncs.com", "h:0"]),
    "enable_vpc": st.sampled_from([True, "false", "maybe", 1]),
}  # fmt: skip


@examples(1.0)
@given(
    extras=st.dictionaries(
        st.sampled_from(sorted(AUTH_EXTRAS)),
        st.none(),
        max_size=len(AUTH_EXTRAS),
    ).flatmap(
        lambda names: st.fixed_dictionaries(
            {name: st.one_of(AUTH_EXTRAS[name], values.json_values, values.any_text()) for name in names}
        )
    ),
    keys=st.sampled_from([(None, None), ("LTAIkey", "key-secret-value"), ("LTAIkey", None)]),
)
def test_auth_type_fields_are_read_or_refused_by_name_never_echoing_a_secret(
    extras: dict[str, Any], keys: tuple[str | None, str | None]
) -> None:
    from types import SimpleNamespace

    from airflow_provider_wa_phones.connections import CamsSettings
    from airflow_provider_wa_phones.exceptions import ConnectionConfigError

    login, password = keys
    conn = SimpleNamespace(
        conn_id="c",
        host=None,
        schema=None,
        port=None,
        login=login,
        password=password,
        extra=json.dumps(extras),
    )
    try:
        settings = CamsSettings.from_connection(conn)
    except ConnectionConfigError as exc:
        named = exc.field.split(" ")[0]
        assert named in {*AUTH_EXTRAS, "login", "password", "security_token"}, exc.field
        assert len(str(exc)) <= MAX_MESSAGE
        for secret in ("key-secret-value", "secret-in-query"):
            assert secret not in str(exc)
        return
    assert settings.auth_type in AUTH_TYPES
    for secret in ("key-secret-value", "secret-in-query"):
        assert secret not in repr(settings) and secret not in settings.identity
