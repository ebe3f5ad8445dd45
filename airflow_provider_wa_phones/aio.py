"""One aiohttp session per event loop, shared by every trigger running in that loop.

A triggerer runs thousands of waits in one loop; a session each would mean thousands of connection
pools. The session opens with its first user and closes when its last user is done.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    import aiohttp


class _Shared:
    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        self.users = 0


_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Shared] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def shared_session() -> AsyncIterator[aiohttp.ClientSession]:
    """Lend the running loop's shared session for the duration of the ``async with`` block."""
    import aiohttp

    loop = asyncio.get_running_loop()
    entry = _by_loop.get(loop)
    if entry is None or entry.session.closed:
        # trust_env: proxy settings come from the environment once, when the session opens.
        entry = _by_loop[loop] = _Shared(
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100), trust_env=True)
        )
    entry.users += 1
    try:
        yield entry.session
    finally:
        entry.users -= 1
        if entry.users == 0:
            # A newer entry may have replaced this one (its session was closed under its users):
            # only this entry's own registration goes.
            if _by_loop.get(loop) is entry:
                del _by_loop[loop]
            await entry.session.close()


def open_sessions() -> int:
    """How many shared sessions are open (for tests and diagnostics)."""
    return sum(1 for entry in _by_loop.values() if not entry.session.closed)


class HoldsSharedSession:
    """For async hooks: ``async with hook:`` holds the loop's shared session while in use."""

    _lease: Any = None
    _session: Any = None

    async def __aenter__(self) -> Self:
        self._lease = shared_session()
        self._session = await self._lease.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        lease, self._lease, self._session = self._lease, None, None
        await lease.__aexit__(*exc_info)

    def http(self) -> aiohttp.ClientSession:
        """The held session; calls outside ``async with`` are a programming error."""
        if self._session is None:
            raise RuntimeError(f"use {type(self).__name__} inside 'async with'")
        session: aiohttp.ClientSession = self._session
        return session
