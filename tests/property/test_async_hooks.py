"""The asynchronous hooks the triggers use: the same rules as the synchronous ones, checked before
the first request, on aiohttp."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given

from airflow_provider_wa_phones.hooks.cams import CamsAsyncHook
from airflow_provider_wa_phones.hooks.nxcloud import NxCloudAsyncHook
from airflow_provider_wa_phones.retry import NO_RETRY
from tests.property.calls import (
    GET_PHONE_INFO,
    PHONE_NUMBERS,
    QUERY,
    expect_get_phone_info,
    expect_phone_numbers,
    expect_query,
)
from tests.property.harness import Args, cases, check, examples


def run(loop: asyncio.AbstractEventLoop, hook_class: type, method: str, args: Args) -> Any:
    async def call() -> Any:
        async with hook_class(retry_policy=NO_RETRY) as hook:
            return await getattr(hook, method)(**args)

    return loop.run_until_complete(call())


@examples(0.8)
@given(args=cases(GET_PHONE_INFO))
def test_async_get_phone_info(loop: asyncio.AbstractEventLoop, args: Args) -> None:
    check(
        "NxCloudAsyncHook.get_phone_info",
        args,
        lambda: run(loop, NxCloudAsyncHook, "get_phone_info", args),
        expect_get_phone_info(args),
    )


@examples(0.8)
@given(args=cases(QUERY, required=["date", "batch_no"]))
def test_async_query_number_check(loop: asyncio.AbstractEventLoop, args: Args) -> None:
    check(
        "NxCloudAsyncHook.query_number_check",
        args,
        lambda: run(loop, NxCloudAsyncHook, "query_number_check", args),
        expect_query(args),
    )


@examples(0.8)
@given(args=cases(PHONE_NUMBERS))
def test_async_query_phone_numbers(loop: asyncio.AbstractEventLoop, args: Args) -> None:
    check(
        "CamsAsyncHook.query_phone_numbers",
        args,
        lambda: run(loop, CamsAsyncHook, "query_phone_numbers", args),
        expect_phone_numbers(args),
    )
