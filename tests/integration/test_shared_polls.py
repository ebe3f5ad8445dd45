"""One poll per account in the triggerer, and the phone watchers, against the live sandbox.

The triggers are subscribed through Airflow's own ``SharedStreamManager`` (what the 3.3 triggerer
runs them with), the way ``TriggerRunner.run_trigger`` does: a trigger whose
``shared_stream_key()`` is not None reads ``filter_shared_stream(manager.subscribe(...))`` and is
unsubscribed when it ends. The sandbox's request log is the judge of how many polls were made.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from airflow_provider_wa_phones.exceptions import ParameterError
from airflow_provider_wa_phones.sandbox import data
from airflow_provider_wa_phones.triggers.cams import CamsPhoneStatusTrigger, CamsPhoneWatchTrigger
from airflow_provider_wa_phones.triggers.nxcloud import NxCloudPhoneStatusTrigger, NxCloudPhoneWatchTrigger
from airflow_provider_wa_phones.waits import DEFAULT_FAILURE_STATUSES

pytestmark = pytest.mark.integration

GET_PHONE = "/api/wa/getPhone"
CAMS_LIST = "QueryChatappPhoneNumbers"
FAILURES = list(DEFAULT_FAILURE_STATUSES)
NX_PENDING = "6281234567890"  # PENDING until t=5, then CONNECTED
NX_FLAGGED = "5511987654321"  # CONNECTED/GREEN, FLAGGED/RED from t=4, BANNED from t=8
CAMS_PENDING = "6591110000"  # PENDING/UNKNOWN until t=5, then CONNECTED/GREEN
CAMS_FLAGGED = "6281299990000"  # FLAGGED/YELLOW from t=3, BANNED/RED from t=9
DEADLINE = 60.0


async def until(condition: Callable[[], bool], timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met within the deadline"
        await asyncio.sleep(0.005)


class Triggerer:
    """Runs triggers the way the 3.3 triggerer does: shared-stream ones through one manager."""

    def __init__(self) -> None:
        from airflow.triggers.shared_stream import SharedStreamManager

        self.manager = SharedStreamManager()
        self.events: dict[int, list[dict[str, Any]]] = {}
        self.tasks: dict[int, asyncio.Task[None]] = {}

    def start(self, trigger: Any) -> int:
        trigger_id = len(self.tasks)
        self.events[trigger_id] = []
        self.tasks[trigger_id] = asyncio.create_task(self._run(trigger_id, trigger))
        return trigger_id

    async def _run(self, trigger_id: int, trigger: Any) -> None:
        key = trigger.shared_stream_key()
        assert key is not None
        stream: AsyncIterator[Any] = trigger.filter_shared_stream(
            self.manager.subscribe(trigger_id=trigger_id, trigger=trigger, key=key)
        )
        try:
            async for event in stream:
                self.events[trigger_id].append(json.loads(json.dumps(event.payload)))
        finally:
            await self.manager.unsubscribe(trigger_id, key)

    def finished(self, ids: list[int]) -> bool:
        return all(self.tasks[i].done() for i in ids)

    async def stop(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        await self.manager.stop_all()


def gaps(sandbox: Any, **where: Any) -> list[float]:
    """Seconds between consecutive requests the sandbox received (its own clock)."""
    times = [r.server_time for r in sandbox.requests(**where)]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


async def test_1000_sensors_and_100_watchers_per_account_cost_one_request_per_service_per_poll(
    sandbox: Any,
) -> None:
    interval = 0.2
    runner = Triggerer()
    sensors = [
        runner.start(NxCloudPhoneStatusTrigger([NX_PENDING], "CONNECTED", FAILURES, poke_interval=interval))
        for _ in range(1000)
    ] + [
        runner.start(CamsPhoneStatusTrigger([CAMS_PENDING], "CONNECTED", FAILURES, poke_interval=interval))
        for _ in range(1000)
    ]
    watchers = [runner.start(NxCloudPhoneWatchTrigger(poke_interval=interval)) for _ in range(100)] + [
        runner.start(CamsPhoneWatchTrigger(poke_interval=interval)) for _ in range(100)
    ]
    try:
        await until(
            lambda: sandbox.request_count(GET_PHONE) >= 3 and sandbox.request_count(action=CAMS_LIST) >= 3
        )
        assert not any(runner.tasks[i].done() for i in sensors)  # still PENDING: every sensor waits
        sandbox.advance(6)  # both PENDING numbers become CONNECTED (and others change too)
        await until(lambda: runner.finished(sensors))
        assert all(runner.events[i] and runner.events[i][-1]["status"] == "success" for i in sensors)
        # Every watcher saw the changes of the same polls.
        await until(lambda: all(runner.events[i] for i in watchers))
        nx_changes = {json.dumps(runner.events[i], sort_keys=True) for i in watchers[:100]}
        cams_changes = {json.dumps(runner.events[i], sort_keys=True) for i in watchers[100:]}
        assert len(nx_changes) == len(cams_changes) == 1
    finally:
        await runner.stop()
    nx, cams = sandbox.request_count(GET_PHONE), sandbox.request_count(action=CAMS_LIST)
    print(f"\n1,100 triggers per service: {nx} NxCloud and {cams} CAMS requests in all")
    assert sandbox.request_count() == nx + cams
    # One request per service per interval: never two within one interval, whatever the subscribers.
    assert min(gaps(sandbox, path=GET_PHONE)) >= 0.8 * interval
    assert min(gaps(sandbox, action=CAMS_LIST)) >= 0.8 * interval
    assert nx < 50 and cams < 50  # a poll each per trigger would be 1,100 per interval
    # The shared getPhone asks for the whole application, not for anyone's numbers.
    assert {json.loads(r.body).get("business_phones") for r in sandbox.requests(GET_PHONE)} == {None}


async def test_different_accounts_or_intervals_do_not_share(sandbox: Any) -> None:
    keys = {
        NxCloudPhoneStatusTrigger([NX_PENDING], "CONNECTED", FAILURES, poke_interval=1).shared_stream_key(),
        NxCloudPhoneStatusTrigger([NX_PENDING], "CONNECTED", FAILURES, poke_interval=1.0).shared_stream_key(),
        NxCloudPhoneWatchTrigger(poke_interval=1).shared_stream_key(),
    }
    assert len(keys) == 1  # a sensor's wait and a watcher on the same account and interval share
    others = {
        NxCloudPhoneWatchTrigger(poke_interval=2).shared_stream_key(),
        NxCloudPhoneWatchTrigger(appkey="other-app", poke_interval=1).shared_stream_key(),
        NxCloudPhoneWatchTrigger(nxcloud_conn_id="nx2", poke_interval=1).shared_stream_key(),
        NxCloudPhoneWatchTrigger(poke_interval=1, request_timeout=5).shared_stream_key(),
        CamsPhoneWatchTrigger(poke_interval=1).shared_stream_key(),
    }
    assert len(others) == 5 and not keys & others


async def test_a_sensor_with_bad_arguments_fails_alone_and_the_others_keep_waiting(sandbox: Any) -> None:
    runner = Triggerer()
    good = runner.start(CamsPhoneStatusTrigger([CAMS_PENDING], "CONNECTED", FAILURES, poke_interval=0.05))
    bad = runner.start(CamsPhoneStatusTrigger(["not-a-phone"], "CONNECTED", FAILURES, poke_interval=0.05))
    try:
        await until(lambda: runner.finished([bad]))
        assert runner.events[bad][0]["status"] == "error" and runner.events[bad][0]["refused"] is True
        assert "not-a-phone" in runner.events[bad][0]["message"]
        await until(lambda: sandbox.request_count(action=CAMS_LIST) >= 2)
        sandbox.advance(6)
        await until(lambda: runner.finished([good]))
        assert runner.events[good][-1]["status"] == "success"
    finally:
        await runner.stop()


async def test_wrong_credentials_end_the_sensors_and_only_log_for_watchers(
    sandbox: Any, monkeypatch: Any
) -> None:
    conn = sandbox.connections()["alibaba_cams_default"] | {"password": "not-the-secret"}
    monkeypatch.setenv("AIRFLOW_CONN_ALIBABA_CAMS_DEFAULT", json.dumps(conn))
    runner = Triggerer()
    sensor = runner.start(CamsPhoneStatusTrigger([CAMS_PENDING], "CONNECTED", FAILURES, poke_interval=0.05))
    watcher = runner.start(CamsPhoneWatchTrigger(poke_interval=0.05))
    try:
        await until(lambda: runner.finished([sensor]))
        (event,) = runner.events[sensor]
        assert event["status"] == "error" and event["refused"] is True
        assert "SignatureDoesNotMatch" in event["message"] and "not-the-secret" not in event["message"]
        count = sandbox.request_count()
        await until(lambda: sandbox.request_count() >= count + 2)  # the watcher keeps looking
        assert not runner.tasks[watcher].done() and runner.events[watcher] == []
    finally:
        await runner.stop()


# --- watchers ----------------------------------------------------------------------------------------


class MemoryStore:
    """The asset state store the triggerer gives a watcher, as a test double with its interface
    (``aget(key, default=None)``, ``aset(key, value)``, JSON values)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.writes = 0

    async def aget(self, key: str, default: Any = None) -> Any:
        return json.loads(self.values[key]) if key in self.values else default

    async def aset(self, key: str, value: Any) -> None:
        self.values[key] = json.dumps(value)
        self.writes += 1


async def watch(
    trigger: Any, until_events: int, store: Any = None, timeout: float = DEADLINE
) -> list[dict[str, Any]]:
    """Run a watcher on its own (``run()``) until it has fired ``until_events`` events."""
    trigger.asset_state_store = store
    events: list[dict[str, Any]] = []

    async def consume() -> None:
        async for event in trigger.run():
            events.append(json.loads(json.dumps(event.payload)))
            if len(events) >= until_events:
                return

    await asyncio.wait_for(consume(), timeout)
    return events


async def test_the_first_look_is_a_baseline_and_each_change_fires_once(sandbox: Any) -> None:
    trigger = CamsPhoneWatchTrigger(phone_numbers=[CAMS_FLAGGED], poke_interval=0.05)
    task = asyncio.create_task(watch(trigger, until_events=2))
    await until(lambda: sandbox.request_count() >= 3)
    assert not task.done()  # three looks at a steady number: nothing fired
    sandbox.advance(4)  # t=3: FLAGGED, YELLOW
    events = await task
    assert {(e["field"], e["old"], e["new"]) for e in events} == {
        ("status", "CONNECTED", "FLAGGED"),
        ("quality_rating", "GREEN", "YELLOW"),
    }
    assert {e["phone_number"] for e in events} == {CAMS_FLAGGED} and {e["service"] for e in events} == {
        "alibaba_cams"
    }
    assert len({e["change_id"] for e in events}) == 2


async def test_filters_quality_becomes_red_and_status_leaves_connected(sandbox: Any) -> None:
    trigger = NxCloudPhoneWatchTrigger(
        becomes={"quality_rating": "RED"}, leaves={"status": ["CONNECTED"]}, poke_interval=0.05
    )
    task = asyncio.create_task(watch(trigger, until_events=2))
    await until(lambda: sandbox.request_count() >= 2)
    sandbox.advance(6)  # t=5: 5511987654321 FLAGGED/RED, 6281234567890 PENDING -> CONNECTED/GREEN
    events = await task
    assert sorted((e["phone_number"], e["field"], e["old"], e["new"]) for e in events) == [
        (NX_FLAGGED, "quality_rating", "GREEN", "RED"),
        (NX_FLAGGED, "status", "CONNECTED", "FLAGGED"),
    ]  # the PENDING number's changes (to CONNECTED, to GREEN) pass neither filter


async def test_fire_on_first_reports_every_watched_number(sandbox: Any) -> None:
    trigger = CamsPhoneWatchTrigger(fields=["status"], fire_on_first=True, poke_interval=0.05)
    events = await watch(trigger, until_events=4)  # the space's four numbers
    assert {e["old"] for e in events} == {None} and {e["field"] for e in events} == {"status"}
    assert {e["phone_number"] for e in events} == {"8613900001111", CAMS_PENDING, CAMS_FLAGGED, "60123456789"}


class Watching:
    """A watcher running on its own in the background, as a triggerer runs it, until stopped."""

    def __init__(self, trigger: Any, store: Any) -> None:
        trigger.asset_state_store = store
        self.events: list[dict[str, Any]] = []
        self.task = asyncio.create_task(self._run(trigger))

    async def _run(self, trigger: Any) -> None:
        async for event in trigger.run():
            self.events.append(json.loads(json.dumps(event.payload)))

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


def status_watch(interval: float = 0.05) -> CamsPhoneWatchTrigger:
    return CamsPhoneWatchTrigger(fields=["status"], poke_interval=interval)


async def test_a_restarted_watcher_fires_what_changed_while_down_and_nothing_again(sandbox: Any) -> None:
    store = MemoryStore()
    first = Watching(status_watch(), store)
    await until(lambda: store.writes >= 1)  # the baseline is stored
    sandbox.advance(4)  # t=3: 6281299990000 CONNECTED -> FLAGGED
    await until(lambda: len(first.events) == 1 and store.writes >= 2)  # fired, then recorded as seen
    await first.stop()  # the triggerer stops
    (fired,) = first.events
    assert (fired["phone_number"], fired["old"], fired["new"]) == (CAMS_FLAGGED, "CONNECTED", "FLAGGED")

    again = Watching(status_watch(), store)  # restarted: the same change is not fired again
    count = sandbox.request_count()
    await until(lambda: sandbox.request_count() >= count + 3)
    await again.stop()
    assert again.events == []

    sandbox.advance(6)  # while down, t=9: 6591110000 PENDING -> CONNECTED, 6281299990000 -> BANNED
    third = Watching(status_watch(), store)
    await until(lambda: len(third.events) >= 2)
    await third.stop()
    assert sorted((e["phone_number"], e["old"], e["new"]) for e in third.events) == [
        (CAMS_FLAGGED, "FLAGGED", "BANNED"),
        (CAMS_PENDING, "PENDING", "CONNECTED"),
    ]


async def test_a_change_fired_but_not_yet_recorded_fires_again_with_the_same_id(sandbox: Any) -> None:
    store = MemoryStore()
    first = Watching(status_watch(interval=0.5), store)  # records a change 0.5 s after firing it
    await until(lambda: store.writes >= 1)
    sandbox.advance(4)
    await until(lambda: len(first.events) == 1)
    await first.stop()  # stopped within that time: the event may not have reached the database
    assert store.writes == 1
    again = Watching(status_watch(), store)
    await until(lambda: len(again.events) == 1)
    await again.stop()

    # Fired again (at least once), with the same change_id. observed_at is when a poll saw the change:
    # the second watcher's poll may fall in a later second than the first's.
    def without_time(events: list[Any]) -> list[Any]:
        return [{k: v for k, v in event.items() if k != "observed_at"} for event in events]

    assert without_time(again.events) == without_time(first.events)
    assert [e["observed_at"] for e in again.events] >= [e["observed_at"] for e in first.events]


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"fields": ["colour"]}, "fields"),
        ({"becomes": {"quality_rating": "RED\n"}}, "becomes"),
        ({"fields": ["status"], "becomes": {"quality_rating": "RED"}}, "becomes"),
        ({"leaves": ["CONNECTED"]}, "leaves"),
        ({"phone_numbers": ["12"]}, "phone_numbers"),
        ({"fire_on_first": "yes"}, "fire_on_first"),
        ({"poke_interval": 0}, "poke_interval"),
        ({"cust_space_id": "has space"}, "cust_space_id"),
    ],
)
async def test_a_watcher_with_bad_arguments_fails_before_any_request(
    sandbox: Any, kwargs: Any, param: str
) -> None:
    with pytest.raises(ParameterError) as info:
        await watch(CamsPhoneWatchTrigger(**kwargs), 1)
    assert info.value.param == param
    assert sandbox.request_count() == 0


def test_watchers_serialise_to_plain_data_and_rebuild(sandbox: Any) -> None:
    import importlib

    for trigger in (
        NxCloudPhoneWatchTrigger(phones=[NX_FLAGGED], becomes={"quality_rating": ["RED"]}),
        CamsPhoneWatchTrigger(cust_space_id=data.CAMS_SPACE_ID, leaves={"status": "CONNECTED"}),
    ):
        classpath, kwargs = trigger.serialize()
        assert json.loads(json.dumps(kwargs)) == kwargs
        module, _, name = classpath.rpartition(".")
        rebuilt = getattr(importlib.import_module(module), name)(**kwargs)
        assert rebuilt.serialize() == (classpath, kwargs)
        assert rebuilt.shared_stream_key() == trigger.shared_stream_key()


def test_an_asset_watcher_takes_the_triggers_and_the_dag_serialises() -> None:
    from airflow.sdk import DAG, Asset, AssetWatcher
    from airflow.serialization.serialized_objects import DagSerialization

    asset = Asset(
        "wa-phones-quality",
        watchers=[
            AssetWatcher(name="nx", trigger=NxCloudPhoneWatchTrigger(becomes={"quality_rating": "RED"})),
            AssetWatcher(name="cams", trigger=CamsPhoneWatchTrigger(leaves={"status": "CONNECTED"})),
        ],
    )
    with DAG("quality_alert_test", schedule=[asset]) as dag:
        pass
    serialized = json.dumps(DagSerialization.to_dict(dag))
    assert "NxCloudPhoneWatchTrigger" in serialized and "CamsPhoneWatchTrigger" in serialized
