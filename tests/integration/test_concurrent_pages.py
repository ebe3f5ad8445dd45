"""Result pages read several at a time once the first page has told how many follow, in order and
once each, with the progress of a long read in the log; against the live sandbox."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

import pytest

from airflow_provider_wa_phones import results
from airflow_provider_wa_phones.exceptions import ParameterError
from airflow_provider_wa_phones.hooks.nxcloud import NxCloudAsyncHook, NxCloudHook
from airflow_provider_wa_phones.results import Batch
from airflow_provider_wa_phones.retry import NO_RETRY

pytestmark = pytest.mark.integration

QUERY = "/api/number/query"
TODAY = dt.datetime.now(dt.timezone.utc).date().isoformat()


def overlapping(sandbox: Any, within: float) -> int:
    """The most requests that arrived within ``within`` seconds of each other (in flight together:
    the sandbox answers each only after a delay)."""
    times = sorted(r.server_time for r in sandbox.requests(QUERY))
    return max(sum(1 for t in times if start <= t < start + within) for start in times)


def test_pages_are_read_together_in_order_each_record_once(sandbox: Any) -> None:
    sandbox.preload_number_check_batch("together", 3000)  # 30 pages
    one_at_a_time = NxCloudHook(page_concurrency=1)
    expected = list(one_at_a_time.iter_number_check_results(TODAY, batch_no="together"))
    assert sandbox.request_count(QUERY) == 30
    sandbox.clear_requests()
    # Every answer takes 50 ms: pages in flight together arrive within a few ms of each other.
    sandbox.set_faults(rate=1.0, kinds=["slow"], paths=[QUERY], slow_seconds=0.05)
    hook = NxCloudHook()
    records = list(hook.iter_number_check_results(TODAY, batch_no="together"))
    assert records == expected  # same records, same order
    assert len({(r["messageId"], r["phone"]) for r in records}) == 3000
    assert sandbox.request_count(QUERY) == hook.stats.requests == 30  # no page read twice
    assert overlapping(sandbox, 0.03) == hook.page_concurrency == 6


def test_a_batch_read_by_the_results_walk_is_concurrent_too(sandbox: Any) -> None:
    preloaded = sandbox.preload_number_check_batch("walked", 1234)
    sandbox.set_faults(rate=1.0, kinds=["slow"], paths=[QUERY], slow_seconds=0.05)
    hook = NxCloudHook(page_concurrency=4)
    batch = Batch(dates=(preloaded["date"],), batch_no="walked")
    records = list(hook.iter_batch_results(batch))
    assert len(records) == len({(r["messageId"], r["phone"]) for r in records}) == 1234
    assert sandbox.request_count(QUERY) == 13 and overlapping(sandbox, 0.03) == 4


async def test_the_async_hook_counts_pages_concurrently(sandbox: Any) -> None:
    preloaded = sandbox.preload_number_check_batch("counted", 2000)
    sandbox.set_faults(rate=1.0, kinds=["slow"], paths=[QUERY], slow_seconds=0.05)
    batch = Batch(dates=(preloaded["date"],), batch_no="counted", expected=2000)
    async with NxCloudAsyncHook() as hook:
        assert await hook.count_batch_results(batch) == (2000, True)
    assert sandbox.request_count(QUERY) == 20 and overlapping(sandbox, 0.03) == 6


def test_a_failed_page_fails_the_read_after_the_pages_in_flight(sandbox: Any) -> None:
    sandbox.preload_number_check_batch("broken", 2000)
    sandbox.fail_next("http_500", count=1, path=QUERY)  # the first page: not retried below
    hook = NxCloudHook(retry_policy=NO_RETRY)
    with pytest.raises(Exception, match="500"):
        list(hook.iter_number_check_results(TODAY, batch_no="broken"))
    assert sandbox.request_count(QUERY) == 1
    sandbox.clear_requests()
    sandbox.set_faults(rate=0.2, kinds=["http_500"], paths=[QUERY], seed=3)
    with pytest.raises(Exception, match="500"):
        list(hook.iter_number_check_results(TODAY, batch_no="broken"))
    assert sandbox.request_count(QUERY) <= 1 + hook.page_concurrency  # no page after the failed batch


@pytest.mark.parametrize("value", [0, 33, "many", 2.5, None, True])
def test_page_concurrency_is_a_whole_number_from_1_to_32(value: Any) -> None:
    with pytest.raises(ParameterError) as info:
        NxCloudHook(page_concurrency=value)
    assert info.value.param == "page_concurrency"


def test_a_long_read_logs_its_progress(sandbox: Any, monkeypatch: Any, caplog: Any, capfd: Any) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(results, "PROGRESS_EVERY", 0.0)  # a line per page instead of every 15 s
    sandbox.preload_number_check_batch("logged", 500)
    assert len(list(NxCloudHook().iter_number_check_results(TODAY, batch_no="logged"))) == 500
    captured = capfd.readouterr()
    text = caplog.text + captured.out + captured.err
    assert "Read 1 pages, 100 records in" in text and "records/s); about" in text and "left" in text
    assert "Read 5 pages, 500 records in" in text and "finishing" in text
    assert "Read 500 records in 5 pages" in text


async def test_the_phone_status_trigger_logs_each_polls_tally(sandbox: Any, caplog: Any, capfd: Any) -> None:
    from airflow_provider_wa_phones.triggers.cams import CamsPhoneStatusTrigger

    caplog.set_level(logging.INFO)
    trigger = CamsPhoneStatusTrigger(
        ["6591110000", "8613900001111"], "CONNECTED", ["BANNED"], poke_interval=0.01
    )
    run = trigger.run()
    task = asyncio.ensure_future(run.__anext__())
    deadline = asyncio.get_running_loop().time() + 20
    while sandbox.request_count() < 2:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.005)
    sandbox.advance(6)
    event = await asyncio.wait_for(task, 20)
    await run.aclose()
    assert event.payload["status"] == "success" and event.payload["message"].startswith("2 of 2 CONNECTED")
    captured = capfd.readouterr()
    assert "1 of 2 CONNECTED; waiting for 6591110000 is PENDING" in caplog.text + captured.out + captured.err


async def test_the_async_hooks_name_the_package_as_the_sync_hooks_do(sandbox: Any) -> None:
    from airflow_provider_wa_phones.hooks.cams import CamsAsyncHook, CamsHook

    NxCloudHook().get_phone_info()
    CamsHook().query_phone_numbers()
    async with NxCloudAsyncHook() as nxcloud, CamsAsyncHook() as cams:
        await nxcloud.get_phone_info()
        await cams.query_phone_numbers()
    agents = [request.headers.get("user-agent", "") for request in sandbox.requests()]
    assert len(agents) == 4
    assert agents[:2] == ["airflow-provider-wa-phones"] * 2
    # The triggerer's requests name the package and, after it, the library (the DAG tests tell
    # them apart by "aiohttp").
    assert all(agent.startswith("airflow-provider-wa-phones aiohttp/") for agent in agents[2:])
