# ruff: noqa: E501  (the pinned forms are kept whole, exactly as stored)
"""Each trigger's serialize() output, pinned byte for byte for a fixed argument set.

The triggerer stores ``serialize()`` in the metadata database and rebuilds the trigger from it, so
a task deferred before an upgrade must resume after it: the classpath, the argument names, their
order and their values (as given, and once checked) must not move. The shared-stream key and the
watch state key are pinned too: the first groups triggers in a running triggerer, the second names
the state a watcher kept across a restart.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_wa_phones.triggers.cams import CamsPhoneStatusTrigger, CamsPhoneWatchTrigger
from airflow_provider_wa_phones.triggers.nxcloud import (
    NxCloudNumberCheckTrigger,
    NxCloudPhoneStatusTrigger,
    NxCloudPhoneWatchTrigger,
)

OPTS: dict[str, Any] = {"poke_interval": 5, "request_timeout": 12.5, "retry": {"max_attempts": 2}}

CASES: dict[str, Callable[[], Any]] = {
    "nx_status": lambda: NxCloudPhoneStatusTrigger(
        ["+86 138 0000 1234", "14155550123"],
        "connected",
        ["BANNED"],
        appkey="app-1",
        nxcloud_conn_id="nx",
        **OPTS,
    ),
    "nx_status_defaults": lambda: NxCloudPhoneStatusTrigger(
        phones=["8613800001234"], target_status="CONNECTED", failure_statuses=[]
    ),
    "cams_status": lambda: CamsPhoneStatusTrigger(
        ["+86 139 0000 1111"],
        "CONNECTED",
        ["BANNED", "DELETED"],
        cust_space_id="cams-space",
        cams_conn_id="cams",
        **OPTS,
    ),
    "cams_status_defaults": lambda: CamsPhoneStatusTrigger(
        phone_numbers=["8613900001111"], target_status="CONNECTED", failure_statuses=["BANNED"]
    ),
    "nx_watch": lambda: NxCloudPhoneWatchTrigger(
        appkey="app-1",
        phones=["+86 138 0000 1234"],
        becomes={"quality_rating": ["RED"]},
        fire_on_first=True,
        nxcloud_conn_id="nx",
        **OPTS,
    ),
    "nx_watch_defaults": lambda: NxCloudPhoneWatchTrigger(),
    "cams_watch": lambda: CamsPhoneWatchTrigger(
        cust_space_id="cams-space",
        phone_numbers=["+86 139 0000 1111"],
        fields=["status"],
        leaves={"status": ["CONNECTED"]},
        cams_conn_id="cams",
        **OPTS,
    ),
    "cams_watch_defaults": lambda: CamsPhoneWatchTrigger(),
    "nx_check": lambda: NxCloudNumberCheckTrigger(
        [{"dates": ["2026-12-05"], "expected": 2, "batch_no": "b1", "submit_id": "s1", "message_id": None}],
        appkey="app-1",
        nxcloud_conn_id="nx",
        **OPTS,
    ),
    "nx_check_defaults": lambda: NxCloudNumberCheckTrigger(
        [{"dates": ["2026-12-05"], "expected": 1, "batch_no": "b1"}]
    ),
}

#: (as given, once checked): json.dumps(trigger.serialize())
PINNED = {
    "nx_status": (
        '["airflow_provider_wa_phones.triggers.nxcloud.NxCloudPhoneStatusTrigger", {"phones": ["+86 138 0000 1234", "14155550123"], "target_status": "connected", "failure_statuses": ["BANNED"], "appkey": "app-1", "nxcloud_conn_id": "nx", "poke_interval": 5, "request_timeout": 12.5, "retry": {"max_attempts": 2}}]',
        '["airflow_provider_wa_phones.triggers.nxcloud.NxCloudPhoneStatusTrigger", {"phones": ["8613800001234", "14155550123"], "target_status": "CONNECTED", "failure_statuses": ["BANNED"], "appkey": "app-1", "nxcloud_conn_id": "nx", "poke_interval": 5.0, "request_timeout": 12.5, "retry": {"max_attempts": 2}}]',
    ),
    "nx_status_defaults": (
        '["airflow_provider_wa_phones.triggers.nxcloud.NxCloudPhoneStatusTrigger", {"phones": ["8613800001234"], "target_status": "CONNECTED", "failure_statuses": [], "appkey": null, "nxcloud_conn_id": "nxcloud_default", "poke_interval": 30.0, "request_timeout": 30.0, "retry": null}]',
        '["airflow_provider_wa_phones.triggers.nxcloud.NxCloudPhoneStatusTrigger", {"phones": ["8613800001234"], "target_status": "CONNECTED", "failure_statuses": [], "appkey": null, "nxcloud_conn_id": "nxcloud_default", "poke_interval": 30.0, "request_timeout": 30.0, "retry": null}]',
    ),
    "cams_status": (
        '["airflow_provider_wa_phones.triggers.cams.CamsPhoneStatusTrigger", {"phone_numbers": ["+86 139 0000 1111"], "target_status": "CONNECTED", "failure_statuses": ["BANNED", "DELETED"], "cust_space_id": "cams-space", "cams_conn_id": "cams", "poke_interval": 5, "request_timeout": 12.5, "retry": {"max_attempts": 2}}]',
        '["airflow_provider_wa_phones.triggers.cams.CamsPhoneStatusTrigger", {"phone_numbers": ["8613900001111"], "target_status": "CONNECTED", "failure_statuses": ["BANNED", "DELETED"], "cust_space_id": "cams-space", "cams_conn_id": "cams", "poke_interval": 5.0, "request_timeout": 12.5, "retry": {"max_attempts": 2}}]',
    ),
    "cams_status_defaults": (
        '["airflow_provider_wa_phones.triggers.cams.CamsPhoneStatusTrigger", {"phone_numbers": ["8613900001111"], "target_status": "CONNECTED", "failure_statuses": ["BANNED"], "cust_space_id": null, "cams_conn_id": "alibaba_cams_default", "poke_interval": 30.0, "request_timeout": 30.0, "retry": null}]',
        '["airflow_provider_wa_phones.triggers.cams.CamsPhoneStatusTrigger", {"phone_numbers": ["8613900001111"], "target_status": "CONNECTED", "failure_statuses": ["BANNED"], "cust_space_id": null, "cams_conn_id": "alibaba_cams_default", "poke_interval": 30.0, "request_timeout": 30.0, "retry": null}]',
    ),
    "nx_watch": (
        '["airflow_provider_wa_phones.triggers.nxcloud.NxCloudPhoneWatchTrigger", {"appkey": "app-1", "nxcloud_conn_id": "nx", "phones": ["+86 138 0000 1234"], "fields": null, "becomes": {"quality_rating": ["RED"]}, "leaves": null, "fire_on_first": true, "poke_interval": 5, "request_timeout": 12.5, "retry": {"max_attempts": 2}}]',
        '["airflow_provider_wa_phones.triggers.nxcloud.NxCloudPhoneWatchTrigger", {"appkey": "app-1", "nxcloud_conn_id": "nx", "phones": ["8613800001234"], "fields": ["quality_rating"], "becomes": {"quality_rating": ["RED"]}, "leaves": null, "fire_on_first": true, "poke_interval": 5.0, "request_timeout": 12.5, "retry": {"max_attempts": 2}}]',
    ),
    "nx_watch_defaults": (
        '["airflow_provider_wa_phones.triggers.nxcloud.NxCloudPhoneWatchTrigger", {"appkey": null, "nxcloud_conn_id": "nxcloud_default", "phones": null, "fields": null, "becomes": null, "leaves": null, "fire_on_first": false, "poke_interval": 60.0, "request_timeout": 30.0, "retry": null}]',
        '["airflow_provider_wa_phones.triggers.nxcloud.NxCloudPhoneWatchTrigger", {"appkey": null, "nxcloud_conn_id": "nxcloud_default", "phones": null, "fields": ["status", "quality_rating", "messaging_limit_tier", "name_status"], "becomes": null, "leaves": null, "fire_on_first": false, "poke_interval": 60.0, "request_timeout": 30.0, "retry": null}]',
    ),
    "cams_watch": (
        '["airflow_provider_wa_phones.triggers.cams.CamsPhoneWatchTrigger", {"cust_space_id": "cams-space", "cams_conn_id": "cams", "phone_numbers": ["+86 139 0000 1111"], "fields": ["status"], "becomes": null, "leaves": {"status": ["CONNECTED"]}, "fire_on_first": false, "poke_interval": 5, "request_timeout": 12.5, "retry": {"max_attempts": 2}}]',
        '["airflow_provider_wa_phones.triggers.cams.CamsPhoneWatchTrigger", {"cust_space_id": "cams-space", "cams_conn_id": "cams", "phone_numbers": ["8613900001111"], "fields": ["status"], "becomes": null, "leaves": {"status": ["CONNECTED"]}, "fire_on_first": false, "poke_interval": 5.0, "request_timeout": 12.5, "retry": {"max_attempts": 2}}]',
    ),
    "cams_watch_defaults": (
        '["airflow_provider_wa_phones.triggers.cams.CamsPhoneWatchTrigger", {"cust_space_id": null, "cams_conn_id": "alibaba_cams_default", "phone_numbers": null, "fields": null, "becomes": null, "leaves": null, "fire_on_first": false, "poke_interval": 60.0, "request_timeout": 30.0, "retry": null}]',
        '["airflow_provider_wa_phones.triggers.cams.CamsPhoneWatchTrigger", {"cust_space_id": null, "cams_conn_id": "alibaba_cams_default", "phone_numbers": null, "fields": ["status", "quality_rating", "messaging_limit_tier", "name_status"], "becomes": null, "leaves": null, "fire_on_first": false, "poke_interval": 60.0, "request_timeout": 30.0, "retry": null}]',
    ),
    "nx_check": (
        '["airflow_provider_wa_phones.triggers.nxcloud.NxCloudNumberCheckTrigger", {"batches": [{"dates": ["2026-12-05"], "expected": 2, "batch_no": "b1", "submit_id": "s1", "message_id": null}], "appkey": "app-1", "nxcloud_conn_id": "nx", "batch_concurrency": 8, "poke_interval": 5, "request_timeout": 12.5, "retry": {"max_attempts": 2}}]',
        '["airflow_provider_wa_phones.triggers.nxcloud.NxCloudNumberCheckTrigger", {"batches": [{"dates": ["2026-12-05"], "batch_no": "b1", "submit_id": "s1", "message_id": null, "expected": 2}], "appkey": "app-1", "nxcloud_conn_id": "nx", "batch_concurrency": 8, "poke_interval": 5.0, "request_timeout": 12.5, "retry": {"max_attempts": 2}}]',
    ),
    "nx_check_defaults": (
        '["airflow_provider_wa_phones.triggers.nxcloud.NxCloudNumberCheckTrigger", {"batches": [{"dates": ["2026-12-05"], "expected": 1, "batch_no": "b1"}], "appkey": null, "nxcloud_conn_id": "nxcloud_default", "batch_concurrency": 8, "poke_interval": 30.0, "request_timeout": 30.0, "retry": null}]',
        '["airflow_provider_wa_phones.triggers.nxcloud.NxCloudNumberCheckTrigger", {"batches": [{"dates": ["2026-12-05"], "batch_no": "b1", "submit_id": null, "message_id": null, "expected": 1}], "appkey": null, "nxcloud_conn_id": "nxcloud_default", "batch_concurrency": 8, "poke_interval": 30.0, "request_timeout": 30.0, "retry": null}]',
    ),
}
STREAM_KEYS = {
    "nx_status": ("airflow_provider_wa_phones", "nxcloud", '["nx", "app-1", 5.0, 12.5, {"max_attempts": 2}]'),
    "cams_status": (
        "airflow_provider_wa_phones",
        "alibaba_cams",
        '["cams", "cams-space", 5.0, 12.5, {"max_attempts": 2}]',
    ),
    "nx_watch": ("airflow_provider_wa_phones", "nxcloud", '["nx", "app-1", 5.0, 12.5, {"max_attempts": 2}]'),
    "cams_watch": (
        "airflow_provider_wa_phones",
        "alibaba_cams",
        '["cams", "cams-space", 5.0, 12.5, {"max_attempts": 2}]',
    ),
    "nx_watch_defaults": (
        "airflow_provider_wa_phones",
        "nxcloud",
        '["nxcloud_default", null, 60.0, 30.0, null]',
    ),
    "cams_watch_defaults": (
        "airflow_provider_wa_phones",
        "alibaba_cams",
        '["alibaba_cams_default", null, 60.0, 30.0, null]',
    ),
}

STATE_KEYS = {
    "nx_watch": "airflow_provider_wa_phones.watch:nxcloud:app-1:quality_rating",
    "cams_watch": "airflow_provider_wa_phones.watch:alibaba_cams:cams-space:status",
    "nx_watch_defaults": (
        "airflow_provider_wa_phones.watch:nxcloud:default:status,quality_rating,messaging_limit_tier,name_status"
    ),
    "cams_watch_defaults": (
        "airflow_provider_wa_phones.watch:alibaba_cams:default:status,quality_rating,messaging_limit_tier,name_status"
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_serialize_output_is_pinned_as_given_and_once_checked(name: str) -> None:
    trigger = CASES[name]()
    given, checked = PINNED[name]
    assert json.dumps(trigger.serialize()) == given
    trigger.check_arguments()
    assert json.dumps(trigger.serialize()) == checked


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_stored_form_rebuilds_the_same_trigger_from_its_classpath(name: str) -> None:
    for stored in PINNED[name]:
        classpath, kwargs = json.loads(stored)
        module, _, name = classpath.rpartition(".")
        rebuilt = getattr(importlib.import_module(module), name)(**kwargs)
        assert json.dumps(rebuilt.serialize()) == stored


@pytest.mark.parametrize("name", sorted(STREAM_KEYS))
def test_shared_stream_key_is_pinned(name: str) -> None:
    assert CASES[name]().shared_stream_key() == STREAM_KEYS[name]


@pytest.mark.parametrize("name", sorted(STATE_KEYS))
def test_watch_state_key_is_pinned(name: str) -> None:
    trigger = CASES[name]()
    trigger.check_arguments()
    assert trigger.state_key() == STATE_KEYS[name]


def test_the_pin_can_fail() -> None:
    trigger = CASES["nx_status"]()
    trigger.appkey = "another-app"
    assert json.dumps(trigger.serialize()) != PINNED["nx_status"][0]
