"""credentials.py: when the library is asked for keys, what happens when it fails, and that async
callers share one refresh without blocking the loop. The library's providers are replaced by a fake
``ICredentialsProvider`` that counts calls, can fail and returns chosen expirations; the clock is a
variable."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest
from alibabacloud_credentials.provider.refreshable import Credentials
from alibabacloud_credentials_api import ICredentialsProvider

from airflow_provider_wa_phones import credentials, redact
from airflow_provider_wa_phones.connections import CamsSettings
from airflow_provider_wa_phones.credentials import RefreshingKeys, StoredKeys, source_for
from airflow_provider_wa_phones.exceptions import AuthenticationError, CredentialsUnavailableError

ROLE = "acs:ram::1234567890123456:role/cams-reader"
IDENTITY = f"role {ROLE}"
START = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


class FakeProvider(ICredentialsProvider):
    """Answers like an STS provider: new keys per call, living ``lifetime`` seconds from now."""

    def __init__(self, clock: Clock, lifetime: float = 3600) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.calls = 0
        self.failing = False
        self.gate: asyncio.Event | None = None
        self.block: threading.Event | None = None
        self.inside = threading.Event()

    def _answer(self) -> Credentials:
        self.calls += 1
        if self.failing:
            # As the library words it, quoting what it sent and got (a secret among them).
            raise RuntimeError(
                "error refreshing credentials from ram_role_arn, http_code: 503, result: "
                f"https://sts.aliyuncs.com/?Action=AssumeRole&OIDCToken=oidc-token-xyz "
                f'{{"AccessKeySecret": "secret-{self.calls - 1}-value"}}'
            )
        return Credentials(
            access_key_id=f"STS.key{self.calls}",
            access_key_secret=f"secret-{self.calls}-value",
            security_token=f"token-{self.calls}-value",
            expiration=int(self.clock() + self.lifetime),
            provider_name="fake",
        )

    def get_credentials(self) -> Credentials:
        self.inside.set()
        if self.block is not None:
            self.block.wait(10)
        return self._answer()

    async def get_credentials_async(self) -> Credentials:
        if self.gate is not None:
            await self.gate.wait()
        return self._answer()

    def get_provider_name(self) -> str:
        return "fake"


def source(provider: FakeProvider, clock: Clock) -> RefreshingKeys:
    return RefreshingKeys(lambda: provider, "ram_role_arn", IDENTITY, clock=clock)


@pytest.fixture(autouse=True)
def _no_airflow_masking(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    masked: list[str] = []

    async def amask(secret: Any, name: Any = None) -> None:
        masked.append(secret)

    monkeypatch.setattr(credentials._compat, "mask_secret", lambda secret, name=None: masked.append(secret))
    monkeypatch.setattr(credentials._compat, "amask_secret", amask)
    return masked


# --- refresh without stalls ----------------------------------------------------------------------


@pytest.mark.parametrize("lifetime", [600, 3600, 21_600])
def test_three_lifetimes_without_failure_ask_once_per_lifetime_and_never_sign_with_expired_keys(
    lifetime: float,
) -> None:
    clock = Clock()
    provider = FakeProvider(clock, lifetime)
    keys_source = source(provider, clock)
    step = lifetime / 40
    seen = set()
    for _ in range(120):  # three lifetimes
        keys = keys_source.current()
        assert keys.expiration is not None and keys.expiration > clock.now
        seen.add(keys.access_key_id)
        clock.now += step
    # Asked again a quarter of the lifetime (at most 15 minutes) before each expiry: 3 lifetimes
    # need 4 or 5 fetches, never one per call (the library alone refetches on every call under 15 min).
    assert 3 <= provider.calls <= 5
    assert len(seen) == provider.calls


def test_an_outage_with_valid_keys_uses_them_and_asks_at_most_once_per_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    provider = FakeProvider(clock, 3600)
    keys_source = source(provider, clock)
    first = keys_source.current()
    provider.failing = True
    clock.now = first.expiration - 600  # inside the library's 15 stale minutes: it would raise
    with caplog.at_level(logging.DEBUG):
        assert keys_source.current() == first
        assert keys_source.current() == first
        assert provider.calls == 2  # one attempt, then none until the retry interval has passed
        clock.now += credentials.RETRY_INTERVAL + 1
        assert keys_source.current() == first
    assert provider.calls == 3
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and ROLE in warnings[0] and "signing with the current keys" in warnings[0]
    assert not any(secret in caplog.text for secret in ("secret-1-value", "token-1-value", "oidc-token-xyz"))


def test_an_outage_past_expiry_raises_a_typed_error_and_the_next_call_after_it_recovers() -> None:
    clock = Clock()
    provider = FakeProvider(clock, 900)
    keys_source = source(provider, clock)
    first = keys_source.current()
    provider.failing = True
    clock.now = first.expiration + 1
    with pytest.raises(CredentialsUnavailableError) as caught:
        keys_source.current()
    error = caught.value
    assert isinstance(error, AuthenticationError) and error.retryable
    assert error.auth_type == "ram_role_arn" and error.identity == IDENTITY
    text = str(error)
    assert ROLE in text and "Check that STS" in text and "have expired" in text
    for secret in ("secret-1-value", "token-1-value", "oidc-token-xyz"):
        assert secret not in text and secret not in repr(error)
    provider.failing = False  # STS is back: the very next call gets keys (a task retry works)
    keys = keys_source.current()
    assert keys.access_key_id != first.access_key_id and keys.expiration > clock.now


def test_no_keys_yet_and_a_failing_provider_raise_at_once() -> None:
    clock = Clock()
    provider = FakeProvider(clock)
    provider.failing = True
    with pytest.raises(CredentialsUnavailableError, match="no valid keys for role"):
        source(provider, clock).current()


def test_a_provider_that_cannot_be_built_is_a_typed_error_that_names_the_mode() -> None:
    def build() -> Any:
        raise ValueError("IMDS credentials is disabled")

    keys_source = RefreshingKeys(build, "ecs_ram_role", "the ECS instance's RAM role")
    with pytest.raises(CredentialsUnavailableError, match="auth_type ecs_ram_role") as caught:
        keys_source.current()
    assert not caught.value.retryable and "IMDS credentials is disabled" in str(caught.value)


def test_keys_without_an_expiry_are_asked_for_again_after_a_minute() -> None:
    clock = Clock()
    provider = FakeProvider(clock)

    class NoExpiry(FakeProvider):
        def _answer(self) -> Credentials:  # the default chain drops the expiration
            answer = super()._answer()
            answer._expiration = None
            return answer

    provider = NoExpiry(clock)
    keys_source = source(provider, clock)
    keys_source.current()
    clock.now += 30
    keys_source.current()
    assert provider.calls == 1
    clock.now += 31
    keys_source.current()
    assert provider.calls == 2
    assert "expiry not stated" in keys_source.describe(keys_source.current())


def test_every_fetched_secret_is_masked_the_moment_it_arrives(_no_airflow_masking: list[str]) -> None:
    clock = Clock()
    keys = source(FakeProvider(clock), clock).current()
    assert {"secret-1-value", "token-1-value"} <= set(_no_airflow_masking)
    assert {"secret-1-value", "token-1-value"} <= set(redact.known_secrets())
    assert "secret-1-value" not in repr(keys) and "token-1-value" not in str(keys)
    assert redact.scrub("answer quoted secret-1-value") == "answer quoted ***"


def test_the_test_button_words_say_mode_identity_and_lifetime() -> None:
    clock = Clock()
    keys_source = source(FakeProvider(clock, 3600), clock)
    keys = keys_source.current()
    described = credentials.lifetime(keys, clock.now + 60)
    assert described == "temporary keys, 59 min left"
    assert keys_source.describe(keys).startswith(f"auth_type ram_role_arn, {IDENTITY}, temporary keys")
    stored = StoredKeys("LTAIkey", "stored-secret-value", None)
    assert stored.describe(stored.current()) == "auth_type access_key, AccessKey LTAIkey, stored keys"
    assert "stored-secret-value" not in repr(stored)


# --- async: one refresh per loop, the loop never blocked ------------------------------------------


async def _lag_probe(stop: asyncio.Event, lags: list[float]) -> None:
    """How late the loop runs a 5 ms sleep, again and again, until ``stop``."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(0.005)
        lags.append(loop.time() - before - 0.005)


async def _wait_for(condition: Any, seconds: float = 10) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.001)


def test_a_hundred_concurrent_callers_make_one_library_call() -> None:
    clock = Clock()
    provider = FakeProvider(clock)
    provider.gate = asyncio.Event()
    keys_source = source(provider, clock)

    async def main() -> list[Any]:
        callers = [asyncio.create_task(keys_source.current_async()) for _ in range(100)]
        await asyncio.sleep(0)
        await _wait_for(lambda: len(keys_source._flights) == 1)
        assert provider.gate is not None
        provider.gate.set()
        return await asyncio.gather(*callers)

    answers = asyncio.run(main())
    assert provider.calls == 1
    assert {keys.access_key_id for keys in answers} == {"STS.key1"}


def test_a_refresh_held_by_a_thread_does_not_block_the_loop() -> None:
    """A sync caller in another thread is inside the library (the library's own async path would
    then wait on its threading.Lock inside the loop, up to 5 s): the loop keeps running."""
    clock = Clock()
    provider = FakeProvider(clock)
    provider.block = threading.Event()
    keys_source = source(provider, clock)
    worker = threading.Thread(target=keys_source.current)
    worker.start()
    assert provider.inside.wait(10)

    async def main() -> tuple[Any, list[float], int]:
        stop = asyncio.Event()
        lags: list[float] = []
        probe = asyncio.create_task(_lag_probe(stop, lags))
        callers = [asyncio.create_task(keys_source.current_async()) for _ in range(20)]
        await _wait_for(lambda: len(lags) >= 20)  # the loop ran while the thread held the library
        calls_while_held = provider.calls
        assert provider.block is not None
        provider.block.set()
        answers = await asyncio.gather(*callers)
        stop.set()
        await probe
        return answers, lags, calls_while_held

    answers, lags, calls_while_held = asyncio.run(main())
    worker.join(10)
    assert calls_while_held == 0  # nobody entered the library beside the thread
    assert provider.calls == 1  # the callers took the thread's keys
    assert {keys.access_key_id for keys in answers} == {"STS.key1"}
    assert max(lags) < 0.5  # the library's lock would have held the loop for up to 5 s


def test_a_cancelled_caller_leaves_the_refresh_to_the_others() -> None:
    clock = Clock()
    provider = FakeProvider(clock)
    provider.gate = asyncio.Event()
    keys_source = source(provider, clock)

    async def main() -> Any:
        first = asyncio.create_task(keys_source.current_async())
        second = asyncio.create_task(keys_source.current_async())
        await _wait_for(lambda: len(keys_source._flights) == 1)
        first.cancel()
        assert provider.gate is not None
        provider.gate.set()
        return await second

    assert asyncio.run(main()).access_key_id == "STS.key1"
    assert provider.calls == 1


def test_async_outage_past_expiry_raises_the_typed_error_to_every_caller() -> None:
    clock = Clock()
    provider = FakeProvider(clock, 900)
    keys_source = source(provider, clock)
    first = keys_source.current()
    provider.failing = True
    clock.now = first.expiration + 5

    async def main() -> list[Any]:
        return await asyncio.gather(*(keys_source.current_async() for _ in range(10)), return_exceptions=True)

    answers = asyncio.run(main())
    assert all(isinstance(answer, CredentialsUnavailableError) for answer in answers)
    assert provider.calls == 2


# --- one source per credential settings per process ----------------------------------------------


def settings(**changes: Any) -> CamsSettings:
    fields: dict[str, Any] = {
        "conn_id": "c",
        "base_url": "https://cams.ap-southeast-1.aliyuncs.com",
        "key": "",
        "secret": "",
        "auth_type": "ram_role_arn",
        "role_arn": ROLE,
    }
    return CamsSettings(**{**fields, **changes})


def test_equal_credential_settings_share_one_source_in_the_process() -> None:
    credentials.forget_sources()
    one = source_for(settings())
    assert source_for(settings(conn_id="other", cust_space_id="s")) is one  # same keys, same source
    assert source_for(settings(role_arn=ROLE + "2")) is not one
    assert source_for(settings(duration_seconds=900)) is not one
    stored = source_for(settings(auth_type="access_key", key="LTAIk", secret="s3cret-value"))
    assert isinstance(stored, StoredKeys)
    assert "s3cret" not in repr(one) + repr(stored)
    credentials.forget_sources()


def test_the_limit_key_follows_the_identity_not_the_key() -> None:
    role = settings(key="LTAIsource", secret="x" * 8)
    assert role.account == (role.base_url, "ram_role_arn", ROLE)
    assert settings(auth_type="default").account[2] == "c"  # the connection id
    assert settings(auth_type="access_key", key="LTAIk", secret="s").account[2] == "LTAIk"


# --- the library's loggers ------------------------------------------------------------------------


def test_the_library_loggers_lose_their_stderr_handlers_and_hide_secrets(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    credentials._providers()
    for name in credentials.LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        assert not [h for h in logger.handlers if type(h) is logging.StreamHandler]
        assert any(isinstance(f, redact.SecretFilter) for f in logger.filters)
    redact.remember_secret("fetched-secret-abc")
    with caplog.at_level(logging.DEBUG, logger="credentials"):
        logging.getLogger("credentials").debug("refreshed: %s", "fetched-secret-abc")
        try:
            raise RuntimeError("https://sts.aliyuncs.com/?OIDCToken=abcdefgh fetched-secret-abc")
        except RuntimeError as exc:
            logging.getLogger("credentials").exception(exc)
    out, err = capfd.readouterr()
    assert "fetched-secret-abc" not in out + err + caplog.text
    assert "abcdefgh" not in caplog.text
    assert "refreshed: ***" in caplog.text
