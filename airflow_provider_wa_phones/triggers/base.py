"""The polling loop every trigger of this provider runs, and one poll per account shared by many.

A trigger says how to poll once (:meth:`PollingTrigger.decide`, returning the same
:class:`~airflow_provider_wa_phones.waits.Decision` the sensor's poke acts on); this module runs
the loop, keeps transient errors from ending the wait and turns the decision into an event.

Triggers that look at a whole account's numbers (:class:`AccountPoll`: the phone-status waits of
deferred sensors and the phone watchers of ``AssetWatcher``) share one poll per connection, account
and interval in a triggerer that offers shared streams (Airflow 3.3): every one of them reads the
same :class:`Poll`, whatever their number. Elsewhere (older Airflow, ``dag.test()``) each polls on
its own, with the same decisions.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypedDict, Unpack

from airflow.triggers.base import BaseEventTrigger, BaseTrigger, TriggerEvent

from airflow_provider_wa_phones.exceptions import WaPhonesError

if TYPE_CHECKING:
    from airflow_provider_wa_phones.waits import Decision


class PollOptions(TypedDict, total=False):
    """What every trigger takes besides what it waits for.

    ``poke_interval``: seconds between polls (default 30). ``request_timeout``: seconds to wait for
    each answer (default 30). ``retry``: ``RetryPolicy`` fields as plain data (default: None, the
    default policy).
    """

    poke_interval: float
    request_timeout: float
    retry: dict[str, Any] | None


class PollingTrigger(BaseTrigger):
    """Polls :meth:`check` every ``poke_interval`` seconds until it has an answer.

    The event payload is always ``{"status": "success" | "failure" | "error", "message": ..., ...}``.
    Transient errors (connection problems, throttling, server errors) keep the wait going; any
    other error ends it at once with ``"error"``: ``refused`` True when retrying cannot help
    (credentials, permissions, parameters, connection), False for anything unexpected.
    """

    def __init__(
        self, poke_interval: float = 30.0, request_timeout: float = 30.0, retry: dict[str, Any] | None = None
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # BaseTrigger.__init__ is unannotated
        # Kept as given and checked when the trigger runs: the triggerer builds triggers from stored
        # kwargs and survives only a TypeError there, so a constructor must not raise on bad data.
        self.poke_interval = poke_interval
        self.request_timeout = request_timeout
        self.retry = retry

    def check_arguments(self) -> None:
        """Check (and normalise) every argument; raise ParameterError naming the bad one."""
        from airflow_provider_wa_phones import checks

        self.poke_interval = checks.seconds("poke_interval", self.poke_interval, high=7 * 86_400)
        self.request_timeout = checks.seconds(
            "request_timeout", self.request_timeout, high=checks.MAX_REQUEST_TIMEOUT
        )
        self.retry = _retry_fields(self.retry)

    def hook_settings(self) -> dict[str, Any]:
        """Keyword arguments for the async hook: timeout and retry policy."""
        from airflow_provider_wa_phones.retry import RetryPolicy

        policy = RetryPolicy(**self.retry) if self.retry else None
        return {"timeout": self.request_timeout, "retry_policy": policy}

    def common_kwargs(self) -> dict[str, Any]:
        """The serialised form of what every polling trigger takes."""
        return {
            "poke_interval": self.poke_interval,
            "request_timeout": self.request_timeout,
            "retry": self.retry,
        }

    def make_hook(self) -> Any:
        """Return the async hook to poll with (an async context manager)."""
        raise NotImplementedError

    async def decide(self, hook: Any) -> Decision:
        """Poll once and say what it means."""
        raise NotImplementedError

    async def check(self, hook: Any) -> TriggerEvent | None:
        """Poll once: an event ends the wait, None polls again after ``poke_interval``."""
        decision = await self.decide(hook)
        payload = decision.event()
        if payload is None:
            self.log.info("%s", decision.message)
            return None
        return TriggerEvent(payload)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {**self.kwargs(), **self.common_kwargs()},
        )

    def kwargs(self) -> dict[str, Any]:
        """The trigger's own arguments, as plain data (credentials are never among them)."""
        raise NotImplementedError

    async def run(self) -> AsyncIterator[TriggerEvent]:
        # The triggerer runs every trigger on one event loop: the HTTP stack (and the phone-number
        # tables the checks use) is imported off it, once.
        await asyncio.to_thread(_load_io_modules)
        try:
            self.check_arguments()
        except WaPhonesError as exc:
            yield TriggerEvent({"status": "error", "refused": True, "message": str(exc)})
            return
        async with self.make_hook() as hook:
            while True:
                # The sensor looked just before it deferred: the first poll waits its turn.
                await asyncio.sleep(self.poke_interval)
                try:
                    event = await self.check(hook)
                except WaPhonesError as exc:
                    if not exc.retryable:
                        yield TriggerEvent({"status": "error", "refused": True, "message": str(exc)})
                        return
                    self.log.warning("Poll failed (%s); polling again in %.0f s", exc, self.poke_interval)
                    event = None
                except Exception as exc:
                    # A bug must end the wait with its cause, not leave the task deferred for days.
                    message = f"{type(exc).__name__}: {exc}"
                    yield TriggerEvent({"status": "error", "refused": False, "message": message})
                    return
                if event is not None:
                    yield event
                    return


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


class AccountPoll(PollingTrigger, BaseEventTrigger):
    """A trigger that reads every number of one account (an NxCloud application, a CAMS space) per
    poll, so that all such triggers on the same connection, account, interval and request settings
    share one poll (:meth:`shared_stream_key`).

    A subclass names its service and arguments (``scope_param``: ``appkey`` or ``cust_space_id``;
    ``conn_param``), checks its scope, makes its hook and reads the account
    (:meth:`fetch_account`); :meth:`on_polls` turns the shared polls into its events.
    """

    service: ClassVar[str]
    scope_param: ClassVar[str]
    conn_param: ClassVar[str]

    def check_arguments(self) -> None:
        from airflow_provider_wa_phones import connections

        super().check_arguments()
        setattr(self, self.scope_param, self.check_scope(getattr(self, self.scope_param)))
        setattr(self, self.conn_param, connections.conn_id(self.conn_param, getattr(self, self.conn_param)))

    def check_scope(self, value: Any) -> str | None:
        """The application or space to look in (None: the connection's), checked."""
        raise NotImplementedError

    async def fetch_account(self, hook: Any) -> list[dict[str, Any]]:
        """The common-shape records of every number of the account, in one call."""
        raise NotImplementedError

    def shared_stream_key(self) -> Hashable | None:
        # What the poll depends on, as given (the triggerer asks before the trigger checks its
        # arguments): triggers with bad arguments share a group only with identical ones, and each
        # reports its own arguments' error before reading the stream.
        given = [getattr(self, self.conn_param), getattr(self, self.scope_param)]
        given += [_number(self.poke_interval), _number(self.request_timeout), self.retry]
        return ("airflow_provider_wa_phones", self.service, json.dumps(given, sort_keys=True, default=repr))

    @classmethod
    async def open_shared_stream(cls, kwargs: dict[str, Any]) -> AsyncIterator[Any]:
        async for poll in cls(**kwargs).polls():
            yield poll

    async def polls(self) -> AsyncIterator[Poll]:
        """Every ``poke_interval`` seconds, one look at the account, forever (a failure is a
        :class:`Poll` too: the stream never ends while a trigger listens)."""
        await asyncio.to_thread(_load_io_modules)
        AccountPoll.check_arguments(self)  # the poll's own arguments; each trigger checks the rest
        async with self.make_hook() as hook:
            while True:
                await asyncio.sleep(self.poke_interval)
                observed_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
                try:
                    records = await self.fetch_account(hook)
                except WaPhonesError as exc:
                    yield Poll(observed_at, failure=str(exc), refused=not exc.retryable)
                except Exception as exc:
                    yield Poll(observed_at, failure=f"{type(exc).__name__}: {exc}", unexpected=True)
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
        yield TriggerEvent({"status": "error", "refused": True, "message": str(exc)})

    def on_polls(self, polls: AsyncIterator[Poll]) -> AsyncIterator[TriggerEvent]:
        """This trigger's events from the account's polls."""
        raise NotImplementedError

    def announce_own_polls(self) -> None:
        """Say in the trigger's log when this Airflow cannot share the account's poll (before 3.3:
        its triggerer never asks for :meth:`shared_stream_key` and runs :meth:`run`)."""
        from airflow_provider_wa_phones import _compat

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
    (:meth:`run`) it asks for its own numbers, one call per poll for all of them. A subclass names
    ``phones_param`` and fetches its numbers' records (:meth:`fetch_records`).
    """

    phones_param: ClassVar[str]

    def __init__(
        self,
        phones: list[str],
        target_status: str,
        failure_statuses: list[str],
        scope: str | None,
        conn_id: str,
        **options: Unpack[PollOptions],
    ) -> None:
        super().__init__(**options)
        setattr(self, self.phones_param, phones)
        self.target_status = target_status
        self.failure_statuses = failure_statuses
        setattr(self, self.scope_param, scope)
        setattr(self, self.conn_param, conn_id)

    def check_arguments(self) -> None:
        from airflow_provider_wa_phones.phones import normalize_phones
        from airflow_provider_wa_phones.waits import check_status_arguments

        super().check_arguments()
        setattr(
            self, self.phones_param, normalize_phones(getattr(self, self.phones_param), self.phones_param)
        )
        self.target_status, self.failure_statuses = check_status_arguments(
            self.target_status, self.failure_statuses
        )

    async def fetch_records(self, hook: Any) -> list[dict[str, Any]]:
        """The common-shape records of the awaited numbers (others may be included), in one call."""
        raise NotImplementedError

    def kwargs(self) -> dict[str, Any]:
        names = (self.phones_param, "target_status", "failure_statuses", self.scope_param, self.conn_param)
        return {name: getattr(self, name) for name in names}

    def decision(self, records: Any) -> Decision:
        from airflow_provider_wa_phones.waits import phone_status

        phones = getattr(self, self.phones_param)
        return phone_status(records, phones, self.target_status, self.failure_statuses)

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
                if poll.refused or poll.unexpected:
                    yield TriggerEvent({"status": "error", "refused": poll.refused, "message": poll.failure})
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


#: Seconds a watcher waits after firing before it records the change as seen: the triggerer writes
#: events to the database about every second, and an event it never wrote must fire again after a
#: restart rather than be lost.
SETTLE_SECONDS = 3.0


class PhoneWatch(AccountPoll):
    """Fires one event per change of a watched number (an ``AssetWatcher``'s trigger): see
    :mod:`airflow_provider_wa_phones.watches` for what counts as a change.

    The first look sets the baseline and fires nothing unless ``fire_on_first``. Where Airflow
    gives the watcher a state store (3.3), the last state seen is kept there, so a restarted
    triggerer fires the changes that happened while it was down and not the ones it had fired.

    The arguments both services' watchers take:

    :param fields: which of ``status``, ``quality_rating``, ``messaging_limit_tier``,
        ``name_status`` to watch; default: those named in ``becomes``/``leaves``, else all.
    :param becomes: fire only when a field becomes one of these values, e.g.
        ``{"quality_rating": ["RED"]}``.
    :param leaves: fire only when a field leaves one of these values, e.g.
        ``{"status": ["CONNECTED"]}``.
    :param fire_on_first: fire for the first look at each number too (from ``None``).
    :param options: ``poke_interval`` (default 60 s), ``request_timeout``, ``retry``.
    """

    phones_param: ClassVar[str]
    poke_interval_default: ClassVar[float] = 60.0

    def __init__(
        self,
        scope: str | None,
        conn_id: str,
        phones: list[str] | None,
        fields: list[str] | None,
        becomes: dict[str, Any] | None,
        leaves: dict[str, Any] | None,
        fire_on_first: bool,
        **options: Unpack[PollOptions],
    ) -> None:
        options.setdefault("poke_interval", self.poke_interval_default)
        super().__init__(**options)
        setattr(self, self.scope_param, scope)
        setattr(self, self.conn_param, conn_id)
        setattr(self, self.phones_param, phones)
        self.fields = fields
        self.becomes = becomes
        self.leaves = leaves
        self.fire_on_first = fire_on_first

    def check_arguments(self) -> None:
        from airflow_provider_wa_phones import checks
        from airflow_provider_wa_phones.phones import normalize_phones
        from airflow_provider_wa_phones.watches import check_spec

        super().check_arguments()
        phones = getattr(self, self.phones_param)
        phones = None if phones is None else normalize_phones(phones, self.phones_param)
        setattr(self, self.phones_param, phones)
        self.spec = check_spec(self.fields, self.becomes, self.leaves, phones)
        self.fields = list(self.spec.fields)
        self.fire_on_first = checks.flag("fire_on_first", self.fire_on_first)

    def kwargs(self) -> dict[str, Any]:
        names = (
            self.scope_param,
            self.conn_param,
            self.phones_param,
            "fields",
            "becomes",
            "leaves",
            "fire_on_first",
        )
        return {name: getattr(self, name) for name in names}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        # Without a shared stream (Airflow before 3.3, a test): the same events from its own polls.
        self.announce_own_polls()
        async for event in self.filter_shared_stream(self.polls()):
            yield event

    async def refused(self, exc: WaPhonesError) -> AsyncIterator[TriggerEvent]:
        # A watcher has no task to fail: the triggerer logs this and shows the trigger as failed.
        raise exc
        yield  # noqa: V201  # pragma: no cover - unreachable on purpose: makes this an async generator

    async def on_polls(self, polls: AsyncIterator[Poll]) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_wa_phones.watches import compare

        store = _state_store(self)
        if store is None:
            self.announce_no_state()
        key = self.state_key()
        state = await _load_state(store, key, self.log)
        saved = state
        async for poll in polls:
            if poll.failure is not None:
                log = self.log.error if poll.refused or poll.unexpected else self.log.warning
                log(
                    "Could not look at the numbers (%s); looking again in %.0f s",
                    poll.failure,
                    self.poke_interval,
                )
                continue
            changes, state = compare(
                state, poll.records, self.spec, poll.observed_at, fire_on_first=self.fire_on_first
            )
            for change in changes:
                self.log.info(
                    "%s %s: %s %s -> %s",
                    change.service,
                    change.phone_number,
                    change.field,
                    change.old,
                    change.new,
                )
                yield TriggerEvent(change.payload())
            self.log.debug("Watched %d numbers: %d changes", len(state), len(changes))
            if store is not None and state != saved:
                if changes:
                    await asyncio.sleep(min(SETTLE_SECONDS, self.poke_interval))
                await _save_state(store, key, state, self.log)
                saved = state

    def announce_no_state(self) -> None:
        """Say in the trigger's log what a restart does when this Airflow keeps no trigger state."""
        from airflow_provider_wa_phones import _compat

        if not _compat.trigger_state_supported():
            self.log.warning(
                "%s",
                _compat.needs_newer_airflow(
                    "Trigger state",
                    "3.3",
                    "this watcher remembers what it saw only while it runs: after a triggerer restart"
                    " its first look sets a new baseline, and changes made while it was down are not"
                    " reported",
                ),
            )

    def state_key(self) -> str:
        """Where this watch keeps what it saw: per service, account and watched fields (a changed
        field list starts a new baseline rather than firing from nothing)."""
        scope = getattr(self, self.scope_param) or "default"
        return f"airflow_provider_wa_phones.watch:{self.service}:{scope}:{','.join(self.spec.fields)}"


def _state_store(trigger: Any) -> Any:
    """The asset state store the triggerer gives a watcher (Airflow 3.3), or None."""
    from airflow_provider_wa_phones import _compat

    return _compat.trigger_state_store(trigger)


async def _load_state(store: Any, key: str, log: Any) -> Any:
    if store is None:
        return None
    try:
        return await store.aget(key)
    except Exception as exc:  # several assets share the trigger, or the store is unreachable
        log.warning("No stored watch state (%s: %s): this start sets a new baseline", type(exc).__name__, exc)
        return None


async def _save_state(store: Any, key: str, state: Any, log: Any) -> None:
    try:
        await store.aset(key, state)
    except Exception as exc:
        log.warning("Could not store the watch state (%s: %s)", type(exc).__name__, exc)


def _number(value: Any) -> Any:
    """A number as a float (30 and 30.0 are the same interval); anything else as given."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _load_io_modules() -> None:
    import importlib

    for name in (
        "aiohttp",
        "airflow_provider_wa_phones.hooks.nxcloud",
        "airflow_provider_wa_phones.hooks.cams",
    ):
        importlib.import_module(name)


def _retry_fields(retry: Any) -> dict[str, Any] | None:
    """``RetryPolicy`` fields as plain data (None for the default policy), checked."""
    from airflow_provider_wa_phones.checks import quoted
    from airflow_provider_wa_phones.exceptions import ParameterError
    from airflow_provider_wa_phones.retry import RetryPolicy

    if retry is None:
        return None
    if not isinstance(retry, dict) or not all(isinstance(key, str) for key in retry):
        raise ParameterError("retry", f"must be RetryPolicy fields as a dict, or None, got {quoted(retry)}")
    try:
        RetryPolicy(**retry)
    except TypeError:
        fields = ", ".join(RetryPolicy.__dataclass_fields__)
        raise ParameterError(
            "retry", f"takes only RetryPolicy fields ({fields}), got {quoted(retry)}"
        ) from None
    except ParameterError as exc:
        raise ParameterError("retry", f"{exc.param}: {exc.rule}") from None
    return dict(retry)
