"""Watchers of numbers (the triggers of ``AssetWatcher``) and what they remember between polls.

A watcher reads its account's shared poll (:mod:`.polling`) and fires one event per change of a
watched number (:mod:`airflow_provider_wa_phones.watches` says what counts as a change). Where
Airflow gives the watcher a state store (3.3), the last state seen is kept there under
:func:`store_key`, so a restarted triggerer fires the changes that happened while it was down and
not the ones it had fired.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import TriggerEvent

from airflow_provider_wa_phones import _compat, checks
from airflow_provider_wa_phones.exceptions import WaPhonesError
from airflow_provider_wa_phones.triggers.base import PollOptions
from airflow_provider_wa_phones.triggers.polling import AccountPoll, Poll
from airflow_provider_wa_phones.watches import check_spec, compare

if TYPE_CHECKING:
    # Self and Unpack are in typing from Python 3.11; type checkers read typing_extensions' (it comes
    # with Airflow and pydantic). Never imported at run time: annotations are postponed.
    from typing_extensions import Unpack

#: Seconds a watcher waits after firing before it records the change as seen: the triggerer writes
#: events to the database about every second, and an event it never wrote must fire again after a
#: restart rather than be lost.
SETTLE_SECONDS = 3.0


def store_key(service: str, scope: str | None, fields: Iterable[str]) -> str:
    """Where a watch keeps what it saw: per service, account (``default``: the connection's) and
    watched fields (a changed field list starts a new baseline rather than firing from nothing)."""
    return f"airflow_provider_wa_phones.watch:{service}:{scope or 'default'}:{','.join(fields)}"


async def load_state(store: Any, key: str, log: Any) -> Any:
    """The state stored under ``key``; None (a new baseline) without a store or when it fails."""
    if store is None:
        return None
    try:
        return await store.aget(key)
    except Exception as exc:  # several assets share the trigger, or the store is unreachable
        log.warning("No stored watch state (%s: %s): this start sets a new baseline", type(exc).__name__, exc)
        return None


async def save_state(store: Any, key: str, state: Any, log: Any) -> None:
    """Store ``state`` under ``key``; a failure is logged, and the watch goes on."""
    try:
        await store.aset(key, state)
    except Exception as exc:
        log.warning("Could not store the watch state (%s: %s)", type(exc).__name__, exc)


class PhoneWatch(AccountPoll):
    """Fires one event per change of a watched number (an ``AssetWatcher``'s trigger).

    The first look sets the baseline and fires nothing unless ``fire_on_first``. A subclass holds
    the numbers under its service's parameter name (:meth:`watched_phones`, checked by
    :meth:`check_phones`).

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

    poke_interval_default = 60.0

    def __init__(
        self,
        fields: list[str] | None,
        becomes: dict[str, Any] | None,
        leaves: dict[str, Any] | None,
        fire_on_first: bool,
        **options: Unpack[PollOptions],
    ) -> None:
        options.setdefault("poke_interval", self.poke_interval_default)
        super().__init__(**options)
        self.fields = fields
        self.becomes = becomes
        self.leaves = leaves
        self.fire_on_first = fire_on_first

    def check_arguments(self) -> None:
        super().check_arguments()
        self.check_phones()
        self.spec = check_spec(self.fields, self.becomes, self.leaves, self.watched_phones())
        self.fields = list(self.spec.fields)
        self.fire_on_first = checks.flag("fire_on_first", self.fire_on_first)

    def check_phones(self) -> None:
        """Normalise the watched numbers (None: every number of the account); ParameterError names
        the service's parameter."""
        raise NotImplementedError

    def watched_phones(self) -> list[str] | None:
        """The watched numbers as they stand (None: every number of the account)."""
        raise NotImplementedError

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
        store = _compat.trigger_state_store(self)
        if store is None:
            self.announce_no_state()
        key = self.state_key()
        state = await load_state(store, key, self.log)
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
                await save_state(store, key, state, self.log)
                saved = state

    def announce_no_state(self) -> None:
        """Say in the trigger's log what a restart does when this Airflow keeps no trigger state."""
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
        """Where this watch keeps what it saw (see :func:`store_key`)."""
        return store_key(self.service, self.account()[1], self.spec.fields)
