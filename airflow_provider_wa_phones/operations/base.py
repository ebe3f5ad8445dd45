"""The one contract every remote operation of both services follows (no I/O).

An :class:`Operation` ``[P, R]`` names a call, builds its unsigned :class:`Request` from the
connection's settings (a :class:`Target`) and the prepared arguments ``P`` (what its service's
``*_body`` or ``*_params`` function returned, so a bad argument fails before anything is signed),
and reads an :class:`Answer` into ``R`` or raises the typed error it stands for. ``charged``: the
call costs money, so it is never sent twice blindly (the hooks' charged-submit policy reads it).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

#: What an operation's request builder takes (a JSON body, query parameters).
P = TypeVar("P")
#: What an operation's reader returns.
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Request:
    """One request as an operation builds it: the body is the exact bytes to sign and send."""

    method: str
    url: str  # the query, if any, already encoded as it must be sent (CAMS signs it as it stands)
    headers: Mapping[str, str]
    body: bytes


#: The largest answer body (after gzip/deflate decoding) a hook reads, unless told otherwise
#: (``max_answer_bytes``). Every documented answer of both services is a few kilobytes to a few
#: hundred (a page holds at most 100 records); 16 MiB leaves room for any of them and keeps a
#: decompression bomb or an endless body from taking the worker's memory.
DEFAULT_MAX_ANSWER_BYTES = 16 * 1024 * 1024
#: The bounds of ``max_answer_bytes`` (hook option or connection extra): 64 KiB (the largest
#: documented answer, a page of 100 number check records, is well under it) to 1 GiB.
MIN_ANSWER_BYTES = 64 * 1024
MAX_ANSWER_BYTES = 1024**3


@dataclass(frozen=True, slots=True)
class Answer:
    """What the hooks read of an HTTP answer."""

    status: int
    headers: Mapping[str, str]
    content: bytes


class Target(Protocol):
    """What an operation needs of a connection's settings: where to send, and the credential values
    no text read from an answer may show."""

    @property
    def base_url(self) -> str: ...

    @property
    def secrets(self) -> tuple[str, ...]: ...


class Operation(ABC, Generic[P, R]):
    """One remote operation: its ``name`` (as errors and logs say it), whether it is ``charged``,
    how its request is built (:meth:`request`) and how its answer is read (:meth:`read`)."""

    name: str
    charged: bool

    @abstractmethod
    def request(self, target: Target, prepared: P) -> Request:
        """The unsigned request for one call with ``prepared``; the connection's auth signs each
        attempt afresh over exactly these bytes."""

    @abstractmethod
    def read(self, target: Target, answer: Answer) -> R:
        """What ``answer`` says: the parsed value, or the typed error it stands for (raised)."""
