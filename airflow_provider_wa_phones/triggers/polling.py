"""One poll per account, shared by the triggers of one triggerer.

Triggers that look at a whole account's numbers (:class:`AccountPoll`: the phone-status waits of
deferred sensors here, the phone watchers of ``AssetWatcher`` in :mod:`.watch`) share one poll per
connection, account and interval in a triggerer that offers shared streams (Airflow 3.3): every one
of them reads the same :class:`Poll`, whatever their number. Elsewhere (older Airflow,
``dag.test()``) each polls on its own, with the same decisions.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from airflow_provider_wa_phones import _compat
from airflow_provider_wa_phones.exceptions import WaPhonesError
from airflow_provider_wa_phones.triggers.base import (
    PollingTrigger,
    PollOptions,
    described,
    error_event,
    load_io_modules,
)
from airflow_provider_wa_phones.waits import Decision, check_status_arguments, phone_status

if TYPE_CHECKING:
    # Self and Unpack are in typing from Python 3.11; type checkers read typing_extensions' (it comes
    # with Airflow and pydantic). Never imported at run time: annotations are postponed.
    from typing_extensions import Unpack


@dataclass(frozen=True)
class Poll:
    """One look at an account, shared read-only by every trigger of its group: the numbers'
    common-shape ``records``, or the ``failure`` that kept the look from happening (``refused``
    when retrying cannot help, ``unexpected`` for a bug)."""

    observed_at: str
    records: tuple[Mapping[str, Any], ...] = ()
    failure: str | None = None
    refused: bool = False
    unexpected: bool = False

    @classmethod
    def failed(cls, observed_at: str, exc: BaseException) -> Poll:
        """The poll that ``exc`` kept from happening."""
        if isinstance(exc, WaPhonesError):
            return cls(observed_at, failure=described(exc), refused=not exc.retryable)
        return cls(observed_at, failure=described(exc), unexpected=True)

    def ending_event(self) -> dict[str, Any] | None:
        """The error event that ends a wait on this poll's failure, or None when the wait goes on
        (a look that worked, or a transient failure)."""
        if self.failure is None or not (self.refused or self.unexpected):
            return None
        return error_event(self.failure, refused=self.refused)


def stream_key(
    service: str, conn_id: Any, scope: Any, poke_interval: Any, request_timeout: Any, retry: Any
) -> tuple[str, str, str]:
    """What an account's poll depends on, as given: triggers with equal keys share one poll.

    Numbers compare as floats (30 and 30.0 are the same interval); anything else as given, so
    triggers with bad arguments share a group only with identical ones.
    """
    given = [conn_id, scope, _number(poke_interval), _number(request_timeout), retry]
    return ("airflow_provider_wa_phones", service, json.dumps(given, sort_keys=True, default=repr))


def observed_now() -> str:
    """When a poll looked: UTC, to the second (what a watch event's ``observed_at`` says)."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class AccountPoll(PollingTrigger, BaseEventTrigger):
    """A trigger that reads every number of one account (an NxCloud application, a CAMS space) per
    poll, so that all such triggers on the same connection, account, interval and request settings
    share one poll (:meth:`shared_stream_key`).

    A subclass names its ``service``, its account (:meth:`account`, checked by
    :meth:`check_account`) and makes its hook and reads the account (:meth:`fetch_account`);
    :meth:`on_polls` turns the shared polls into its events.
    """

    service: ClassVar[str]

    def check_arguments(self) -> None:
        super().check_arguments()
        self.check_account()

    def account(self) -> tuple[Any, Any]:
        """The connection id and the application or space to look in (None: the connection's), as
        they stand."""
        raise NotImplementedError

    def check_account(self) -> None:
        """Check (and normalise) the application or space, then the connection id."""
        raise NotImplementedError

    async def fetch_account(self, hook: Any) -> list[dict[str, Any]]:
        """The common-shape records of every number of the account, in one call."""
        raise NotImplementedError

    def shared_stream_key(self) -> Hashable | None:
        # The triggerer asks before the trigger checks its arguments: each trigger of a group with
        # bad arguments reports its own arguments' error before reading the stream.
        conn_id, scope = self.account()
        return stream_key(self.service, conn_id, scope, self.poke_interval, self.request_timeout, self.retry)

    @classmethod
    async def open_shared_stream(cls, kwargs: dict[str, Any]) -> AsyncIterator[Any]:
        async for poll in cls(**kwargs).polls():
            yield poll

    async def polls(self) -> AsyncIterator[Poll]:
        """Every ``poke_interval`` seconds, one look at the account, forever (a failure is a
        :class:`Poll` too: the stream never ends while a trigger listens)."""
        await asyncio.to_thread(load_io_modules)
        AccountPoll.check_arguments(self)  # the poll's own arguments; each trigger checks the rest
        async with self.make_hook() as hook:
            while True:
                await asyncio.sleep(self.poke_interval)
                observed_at = observed_now()
                try:
                    records = await self.fetch_account(hook)
                except Exception as exc:
                    yield Poll.failed(observed_at, exc)
                else:
                    yield Poll(observed_at, tuple(records))

    async def filter_shared_stream(self, shared_stream: AsyncIterator[Any]) -> AsyncIterator[TriggerEvent]:
        try:
            self.check_arguments()
        except WaPhonesError as exc:
            async for event in self.refused(exc):
                yield event
            return
        async for event in self.on_polls(shared_stream):
            yield event

    async def refused(self, exc: WaPhonesError) -> AsyncIterator[TriggerEvent]:
        """What the trigger does when its own arguments are wrong."""
        yield TriggerEvent(error_event(str(exc), refused=True))

    def on_polls(self, polls: AsyncIterator[Poll]) -> AsyncIterator[TriggerEvent]:
        """This trigger's events from the account's polls."""
        raise NotImplementedError

    def announce_own_polls(self) -> None:
        """Say in the trigger's log when this Airflow cannot share the account's poll (before 3.3:
        its triggerer never asks for :meth:`shared_stream_key` and runs :meth:`run`)."""
        if not _compat.shared_trigger_streams_supported():
            self.log.info(
                "%s",
                _compat.needs_newer_airflow(
                    "Shared trigger streams",
                    "3.3",
                    f"this trigger polls the {self.service} account on its own, one request per"
                    f" trigger every {_number(self.poke_interval)} s",
                ),
            )


class PhoneStatusPolling(AccountPoll):
    """Waits until every number has ``target_status``.

    In a triggerer with shared streams, it reads the shared poll of its account; elsewhere
    (:meth:`run`) it asks for its own numbers, one call per poll for all of them. A subclass holds
    the numbers under its service's parameter name (:meth:`awaited_phones`, checked by
    :meth:`check_phones`) and fetches their records (:meth:`fetch_records`).
    """

    def __init__(
        self, target_status: str, failure_statuses: list[str], **options: Unpack[PollOptions]
    ) -> None:
        super().__init__(**options)
        self.target_status = target_status
        self.failure_statuses = failure_statuses

    def check_arguments(self) -> None:
        super().check_arguments()
        self.check_phones()
        self.target_status, self.failure_statuses = check_status_arguments(
            self.target_status, self.failure_statuses
        )

    def check_phones(self) -> None:
        """Normalise the awaited numbers; ParameterError names the service's parameter."""
        raise NotImplementedError

    def awaited_phones(self) -> list[str]:
        """The awaited numbers, as they stand."""
        raise NotImplementedError

    async def fetch_records(self, hook: Any) -> list[dict[str, Any]]:
        """The common-shape records of the awaited numbers (others may be included), in one call."""
        raise NotImplementedError

    def decision(self, records: Any) -> Decision:
        return phone_status(records, self.awaited_phones(), self.target_status, self.failure_statuses)

    async def decide(self, hook: Any) -> Decision:
        return self.decision(await self.fetch_records(hook))

    async def run(self) -> AsyncIterator[TriggerEvent]:
        # Without a shared stream (Airflow before 3.3, dag.test): its own numbers, its own polls.
        self.announce_own_polls()
        async for event in super().run():
            yield event

    async def on_polls(self, polls: AsyncIterator[Poll]) -> AsyncIterator[TriggerEvent]:
        async for poll in polls:
            if poll.failure is not None:
                ending = poll.ending_event()
                if ending is not None:
                    yield TriggerEvent(ending)
                    return
                self.log.warning(
                    "Poll failed (%s); polling again in %.0f s", poll.failure, self.poke_interval
                )
                continue
            decision = self.decision(poll.records)
            payload = decision.event()
            if payload is not None:
                yield TriggerEvent(payload)
                return
            self.log.info("%s", decision.message)


def _number(value: Any) -> Any:
    """A number as a float (30 and 30.0 are the same interval); anything else as given."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
