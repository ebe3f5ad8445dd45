"""Play the triggerer's part for asset watchers in a test: run their triggers, let each take its
baseline look, move the sandbox's clock, and collect what they fire (polling with a deadline)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from typing import Any


def quick(trigger: Any, interval: float = 0.05) -> Any:
    """The same trigger, rebuilt from its serialised kwargs, looking every ``interval`` seconds."""
    _, kwargs = trigger.serialize()
    return type(trigger)(**{**kwargs, "poke_interval": interval})


def watch_changes(
    triggers: Sequence[Any],
    sandbox: Any,
    *,
    done: Callable[[list[list[dict[str, Any]]]], bool],
    advance: float = 10,
    timeout: float = 30,
) -> list[dict[str, Any]]:
    """Run ``triggers`` until ``done(payloads per trigger)``; the clock moves by ``advance`` once
    each trigger has looked twice (a baseline, then one more), and nothing may fire before that.
    Returns every payload, as JSON (what an asset event's extra holds)."""
    fired: list[list[dict[str, Any]]] = [[] for _ in triggers]

    async def run(index: int, trigger: Any) -> None:
        async for event in trigger.run():
            fired[index].append(json.loads(json.dumps(event.payload)))

    async def main() -> None:
        tasks = [asyncio.create_task(run(index, trigger)) for index, trigger in enumerate(triggers)]
        try:
            deadline = time.monotonic() + timeout
            while sandbox.request_count() < 2 * len(triggers):
                assert time.monotonic() < deadline, "the watchers did not look"
                await asyncio.sleep(0.01)
            assert fired == [[] for _ in triggers], "the baseline fires nothing"
            sandbox.advance(advance)
            while not done(fired):
                assert time.monotonic() < deadline, fired
                await asyncio.sleep(0.01)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())
    return [payload for payloads in fired for payload in payloads]
