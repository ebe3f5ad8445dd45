"""The pure parts of the triggers, driven with plain data: the error event, the shared poll's
bookkeeping (a failed look, the event it ends a wait with, the key that groups triggers) and the
watch's state store (its key, loading and saving through a store that may fail)."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from typing import Any

import pytest

from airflow_provider_wa_phones.exceptions import ParameterError, WaPhonesError
from airflow_provider_wa_phones.results import BATCHES_RULE, batch_entries
from airflow_provider_wa_phones.triggers.base import described, error_event, retry_fields
from airflow_provider_wa_phones.triggers.nxcloud import NxCloudNumberCheckTrigger
from airflow_provider_wa_phones.triggers.polling import Poll, stream_key
from airflow_provider_wa_phones.triggers.watch import load_state, save_state, store_key
from airflow_provider_wa_phones.waits import batch_targets

LOG = logging.getLogger("test_triggers_pure")


class Transient(WaPhonesError):
    retryable = True


class Refusal(WaPhonesError):
    retryable = False


# -- the error event ----------------------------------------------------------------------------


@pytest.mark.parametrize("refused", [True, False])
def test_error_event_is_the_payload_the_sensor_reads(refused: bool) -> None:
    assert error_event("why", refused=refused) == {"status": "error", "refused": refused, "message": "why"}


def test_a_provider_error_is_described_by_its_message_and_a_bug_with_its_type() -> None:
    assert described(ParameterError("appkey", "must be text")) == str(
        ParameterError("appkey", "must be text")
    )
    assert described(KeyError("x")) == "KeyError: 'x'"


# -- the shared poll's bookkeeping --------------------------------------------------------------


def test_a_poll_that_worked_ends_no_wait() -> None:
    assert Poll("2026-12-05T14:00:00+00:00", ({"phone_number": "1"},)).ending_event() is None


def test_a_transient_failure_keeps_the_wait_going() -> None:
    poll = Poll.failed("t", Transient("throttled"))
    assert (poll.failure, poll.refused, poll.unexpected) == ("throttled", False, False)
    assert poll.ending_event() is None


def test_a_refusal_ends_the_wait_as_refused() -> None:
    poll = Poll.failed("t", Refusal("bad credentials"))
    assert (poll.refused, poll.unexpected) == (True, False)
    assert poll.ending_event() == error_event("bad credentials", refused=True)


def test_a_bug_ends_the_wait_as_unexpected_with_its_type() -> None:
    poll = Poll.failed("t", RuntimeError("a bug"))
    assert (poll.refused, poll.unexpected) == (False, True)
    assert poll.ending_event() == error_event("RuntimeError: a bug", refused=False)


def test_stream_keys_group_equal_intervals_whatever_their_type() -> None:
    assert stream_key("nxcloud", "c", "app", 30, 30, None) == stream_key(
        "nxcloud", "c", "app", 30.0, 30.0, None
    )


@pytest.mark.parametrize(
    "other",
    [
        ("alibaba_cams", "c", "app", 30, 30, None),
        ("nxcloud", "d", "app", 30, 30, None),
        ("nxcloud", "c", "other", 30, 30, None),
        ("nxcloud", "c", None, 30, 30, None),
        ("nxcloud", "c", "app", 31, 30, None),
        ("nxcloud", "c", "app", 30, 29, None),
        ("nxcloud", "c", "app", 30, 30, {"max_attempts": 1}),
    ],
)
def test_stream_keys_differ_when_what_the_poll_depends_on_differs(other: tuple[Any, ...]) -> None:
    assert stream_key(*other) != stream_key("nxcloud", "c", "app", 30, 30, None)


def test_a_bad_argument_stays_as_given_in_the_key() -> None:
    key = stream_key("nxcloud", "c", "app", True, "ten", object)
    assert json.loads(key[2])[2:4] == [True, "ten"]


# -- retry fields -------------------------------------------------------------------------------


def test_retry_fields_are_kept_as_plain_data_or_refused_by_name() -> None:
    assert retry_fields(None) is None
    assert retry_fields({"max_attempts": 2}) == {"max_attempts": 2}
    for bad in ([1], {"no_such_field": 1}, {1: 2}):
        with pytest.raises(ParameterError) as caught:
            retry_fields(bad)
        assert caught.value.param == "retry"


# -- the watch's state store --------------------------------------------------------------------


class Store:
    """A state store as the triggerer gives one (aget/aset), kept in a dict; it can fail."""

    def __init__(self, fail: bool = False) -> None:
        self.kept: dict[str, Any] = {}
        self.fail = fail

    async def aget(self, key: str) -> Any:
        if self.fail:
            raise ConnectionError("store down")
        return self.kept.get(key)

    async def aset(self, key: str, value: Any) -> None:
        if self.fail:
            raise ConnectionError("store down")
        self.kept[key] = value


def test_store_key_names_service_account_and_fields() -> None:
    assert store_key("nxcloud", "app", ["status"]) == "airflow_provider_wa_phones.watch:nxcloud:app:status"
    assert store_key("alibaba_cams", None, ["status", "quality_rating"]) == (
        "airflow_provider_wa_phones.watch:alibaba_cams:default:status,quality_rating"
    )
    assert store_key("nxcloud", "", ["status"]) == store_key("nxcloud", None, ["status"])


def test_state_saved_is_the_state_loaded() -> None:
    store = Store()
    state = {"8613800001234": {"status": "CONNECTED"}}
    asyncio.run(save_state(store, "k", state, LOG))
    assert asyncio.run(load_state(store, "k", LOG)) == state
    assert asyncio.run(load_state(store, "another", LOG)) is None


def test_no_store_or_a_failing_one_means_a_new_baseline(caplog: pytest.LogCaptureFixture) -> None:
    assert asyncio.run(load_state(None, "k", LOG)) is None
    with caplog.at_level(logging.WARNING, logger=LOG.name):
        assert asyncio.run(load_state(Store(fail=True), "k", LOG)) is None
        asyncio.run(save_state(Store(fail=True), "k", {"a": 1}, LOG))
    assert [r.getMessage().split(" (")[0] for r in caplog.records if r.name == LOG.name] == [
        "No stored watch state",
        "Could not store the watch state",
    ]


# -- one home for "batches must be a list" ------------------------------------------------------


@pytest.mark.parametrize("bad", ["batch-1", [], ["not a dict"], 3])
def test_the_trigger_and_the_sensor_refuse_batches_through_the_one_check(bad: Any) -> None:
    with pytest.raises(ParameterError) as rule:
        batch_entries(bad)
    assert BATCHES_RULE in str(rule.value)
    with pytest.raises(ParameterError) as by_trigger:
        NxCloudNumberCheckTrigger(batches=bad).check_arguments()
    with pytest.raises(ParameterError) as by_sensor:
        batch_targets(batches=bad)
    assert str(by_trigger.value) == str(by_sensor.value) == str(rule.value)


# -- light imports ------------------------------------------------------------------------------

HEAVY = [
    "requests", "aiohttp", "phonenumbers", "fastapi", "uvicorn", "urllib3", "yarl",
    # Alibaba Cloud's credential library and what it brings: loaded only when a CAMS key is fetched.
    "alibabacloud_credentials", "Tea", "apscheduler", "aiofiles",
]  # fmt: skip


@pytest.mark.parametrize("module", ["triggers.nxcloud", "triggers.cams"])
def test_watcher_dag_files_import_the_triggers_without_http_or_phone_libraries(module: str) -> None:
    """A DAG file that declares an AssetWatcher imports the trigger module at parse time."""
    code = (
        f"import json, sys; import airflow_provider_wa_phones.{module}; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
