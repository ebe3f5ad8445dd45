"""What the hooks of both services share: a connection read once, one call = build, sign, send, read.

A hook method is written once, as :class:`hook_method` steps: it checks its arguments, then yields
each call it needs (:class:`Call`: an :class:`~airflow_provider_wa_phones.operations.base.Operation`
with its prepared arguments, or :data:`SETTINGS` for the connection's fields) and gets the answer
back; a list of calls is made at once (threads, or the event loop) and answered in its order.
The sync hook runs those steps on requests, the async hook (for triggers) on aiohttp; both do the
rest the same way:

- the connection: read and checked once per hook (:mod:`~airflow_provider_wa_phones.connections`),
  its secrets registered with Airflow's masker;
- each call: the operation's ``request`` builds it, the connection's auth
  (:mod:`~airflow_provider_wa_phones.auth`) signs each attempt afresh,
  :mod:`~airflow_provider_wa_phones.transport` sends it, the operation's ``read`` parses the
  answer or raises the typed error; :class:`~airflow_provider_wa_phones.retry.RetryPolicy` retries
  what may be retried, and a charged call (a number-check submit) only when the failure shows the
  service did not take it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Generator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Concatenate, Generic, ParamSpec, TypedDict, TypeVar, overload

import requests

from airflow_provider_wa_phones import _compat, auth, checks, connections, redact, transport
from airflow_provider_wa_phones._compat import BaseHook
from airflow_provider_wa_phones.exceptions import WaPhonesError
from airflow_provider_wa_phones.operations.base import (
    DEFAULT_MAX_ANSWER_BYTES,
    MAX_ANSWER_BYTES,
    MIN_ANSWER_BYTES,
    Answer,
    Operation,
)
from airflow_provider_wa_phones.retry import NO_RETRY, CallStats, RetryPolicy, checked_policy
from airflow_provider_wa_phones.services import Service

if TYPE_CHECKING:
    # Self and Unpack are in typing from Python 3.11; type checkers read typing_extensions' (it comes
    # with Airflow and pydantic). Never imported at run time: annotations are postponed.
    from typing_extensions import Self, Unpack

A = ParamSpec("A")
T = TypeVar("T")
#: What an operation's request builder takes, and what its reader returns.
P = TypeVar("P")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Call(Generic[P, R]):
    """One step of a hook method: call ``operation`` with ``prepared`` (what its ``*_body`` or
    ``*_params`` function returned); the step gets the operation's reading of the answer (``R``)
    back."""

    operation: Operation[P, R]
    prepared: P


#: A step that gets the connection's settings back (read once per hook).
SETTINGS = object()

#: What a hook method's steps are: yield :class:`Call`, a list of them, or :data:`SETTINGS`;
#: return the result.
Steps = Generator[Any, Any, T]


class hook_method(Generic[A, T]):
    """Writes a hook method once for the sync and the async hook: on a :class:`ServiceHook` it is a
    plain method, on an :class:`AsyncServiceHook` a coroutine method, with the same signature and
    documentation. The decorated function checks its arguments and yields its calls (see the
    module's documentation); nothing in it does I/O."""

    def __init__(self, steps: Callable[Concatenate[Any, A], Steps[T]]) -> None:
        self.steps = steps
        self.__doc__ = steps.__doc__
        self.__name__ = steps.__name__
        self.__wrapped__ = steps

    @overload
    def __get__(self, hook: None, owner: type) -> Self: ...
    @overload
    def __get__(self, hook: ServiceHook, owner: type) -> Callable[A, T]: ...
    @overload
    def __get__(self, hook: AsyncServiceHook, owner: type) -> Callable[A, Coroutine[Any, Any, T]]: ...
    def __get__(self, hook: Any, owner: type) -> Any:
        if hook is None:
            return self
        steps = self.steps
        if isinstance(hook, AsyncServiceHook):

            async def run_async(*args: A.args, **kwargs: A.kwargs) -> T:
                return await hook._run_async(steps(hook, *args, **kwargs))

            return run_async

        def run(*args: A.args, **kwargs: A.kwargs) -> T:
            return hook._run(steps(hook, *args, **kwargs))  # type: ignore[no-any-return]

        return run


class HookOptions(TypedDict, total=False):
    """What every hook takes besides its connection id.

    ``timeout``: seconds each request may take in all, its answer's body included (default 30).
    ``retry_policy``: how transient failures are retried, each attempt signed afresh (default
    :class:`RetryPolicy()`). ``max_answer_bytes``: the largest answer body read, once decoded
    (when not given: the connection's ``max_answer_bytes`` extra, else 16 MiB,
    :data:`~airflow_provider_wa_phones.operations.base.DEFAULT_MAX_ANSWER_BYTES`); a larger one ends the
    call in :class:`~airflow_provider_wa_phones.exceptions.AnswerTooLargeError`.
    """

    timeout: float
    retry_policy: RetryPolicy | None
    max_answer_bytes: int | None


def _may_send_again(operation: Operation[Any, Any]) -> Callable[[WaPhonesError], bool] | None:
    """For a charged operation (a number-check submit), which must not be done twice: retry only a
    sure refusal; None (the retry policy alone decides) for any other.

    What counts as "may have taken it" is each error's ``may_have_taken_effect``. For the answers
    issue 19 named: a redirect (:class:`~airflow_provider_wa_phones.exceptions.RedirectError`) is never
    retried at all, and is "taken" only for 303 and unknown 3xx codes (301/302/307/308 answer
    instead of processing: a gateway or an old host that never forwarded the request); an answer
    over ``max_answer_bytes`` is never retried either, and counts as taken unless its status is a
    4xx (the body could not be read, so a 2xx or 5xx may stand for an accepted submit). Either way
    a submit that may have been taken is looked up, never sent again blindly.
    """
    if not operation.charged:
        return None
    return lambda error: not error.may_have_taken_effect


class ServiceHookBase(BaseHook):
    """The arguments and the connection of a hook, sync or async.

    A subclass names its service in its class statement (``class _NxCloud(ServiceHookBase,
    service=NXCLOUD)``), which sets the usual Airflow hook attributes (``conn_name_attr``,
    ``default_conn_name``, ``conn_type``, ``hook_name``) from
    :mod:`~airflow_provider_wa_phones.services`; it sets ``settings_class``. Its methods name the
    operations they call (:class:`Call`).
    """

    conn_name_attr: ClassVar[str]
    default_conn_name: ClassVar[str]
    conn_type: ClassVar[str]
    hook_name: ClassVar[str]
    settings_class: ClassVar[Any]

    def __init_subclass__(cls, *, service: Service | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if service is not None:
            cls.conn_name_attr = service.conn_id_param
            cls.default_conn_name = service.default_conn_id
            cls.conn_type = service.conn_type
            cls.hook_name = service.name

    def __init__(
        self,
        conn_id: str,
        *,
        timeout: float = 30.0,
        retry_policy: RetryPolicy | None = None,
        max_answer_bytes: int | None = None,
    ) -> None:
        super().__init__()
        setattr(self, self.conn_name_attr, conn_id)
        self.timeout = checks.seconds("timeout", timeout, high=checks.MAX_REQUEST_TIMEOUT)
        self.retry_policy = checked_policy("retry_policy", retry_policy) or RetryPolicy()
        # None: the connection's extra of that name, else the default (see answer_cap).
        self.max_answer_bytes = (
            None
            if max_answer_bytes is None
            else checks.whole_number("max_answer_bytes", max_answer_bytes, MIN_ANSWER_BYTES, MAX_ANSWER_BYTES)
        )
        self.stats = CallStats()
        self._sleep: Callable[[float], None] = time.sleep

    def _conn_id(self) -> str:
        return connections.conn_id(self.conn_name_attr, getattr(self, self.conn_name_attr))

    def answer_cap(self, settings: Any) -> int:
        """The largest answer body read: the hook's ``max_answer_bytes`` when given, else the
        connection's extra of that name, else 16 MiB."""
        if self.max_answer_bytes is not None:
            return self.max_answer_bytes
        return settings.max_answer_bytes or DEFAULT_MAX_ANSWER_BYTES

    def _call_for(self, operation: Operation[Any, Any], settings: Any) -> transport.CallInfo:
        return transport.CallInfo(self.hook_name, operation.name, settings.base_url, settings.secrets)

    def _log_answer(self, operation: Operation[Any, Any], answer: Answer, started: float) -> None:
        self.log.debug(
            "%s %s: HTTP %s in %.0f ms",
            self.hook_name,
            operation.name,
            answer.status,
            transport.elapsed_ms(started),
        )


class ServiceHook(ServiceHookBase):
    """A sync hook: one requests session per hook, signed by the connection's auth."""

    @cached_property
    def settings(self) -> Any:
        """The connection's fields, read and checked once per hook."""
        conn_id = self._conn_id()
        with connections.defined(self.conn_name_attr, conn_id):
            conn = self.get_connection(conn_id)
        settings = self.settings_class.from_connection(conn)
        for secret in settings.secrets:
            if secret:
                _compat.mask_secret(secret)
        return settings

    def get_conn(self) -> requests.Session:
        """Return the hook's HTTP session (created once, signing every request it sends)."""
        return self._session

    @cached_property
    def _session(self) -> requests.Session:
        session = transport.new_session(self.settings.base_url)
        session.auth = auth.for_settings(self.settings)
        return session

    def close(self) -> None:
        """Release the pooled HTTP connections."""
        if "_session" in self.__dict__:
            self.__dict__.pop("_session").close()

    def _run(self, steps: Steps[T]) -> T:
        """Run a :class:`hook_method`'s steps, each call on this hook's session."""
        try:
            step = next(steps)
            while True:
                if step is SETTINGS:
                    step = steps.send(self.settings)
                elif isinstance(step, list):
                    step = steps.send(self._call_all(step))
                else:
                    step = steps.send(self._call(step.operation, step.prepared))
        except StopIteration as stop:
            result: T = stop.value
            return result
        finally:
            steps.close()

    def _call_all(self, calls: list[Call[Any, Any]]) -> list[Any]:
        """Several calls at once, each on a thread of its own; the answers in the calls' order.

        The first failure is raised once every call has ended.
        """
        if len(calls) == 1:
            return [self._call(calls[0].operation, calls[0].prepared)]
        self.get_conn()  # the settings and the session are made once, before the threads share them
        with ThreadPoolExecutor(len(calls), thread_name_prefix=type(self).__name__) as pool:
            return list(pool.map(lambda call: self._call(call.operation, call.prepared), calls))

    def _call(self, operation: Operation[P, R], prepared: P) -> R:
        """One call of ``operation`` (arguments already checked and prepared), with retries."""
        settings = self.settings
        call = self._call_for(operation, settings)
        request = operation.request(settings, prepared)
        session = self._session
        cap = self.answer_cap(settings)

        def attempt() -> R:
            self._before_send(operation, settings)
            started = time.monotonic()
            self.stats.record_request()
            answer = transport.send(session, request, self.timeout, call, cap)
            self._log_answer(operation, answer, started)
            return operation.read(settings, answer)

        return self.retry_policy.run(
            attempt,
            name=f"{self.hook_name} {operation.name}",
            log=self.log,
            may_retry=_may_send_again(operation),
            on_retry=self.stats.record_retry,
            sleep=self._sleep,
        )

    def _before_send(self, operation: Operation[Any, Any], settings: Any) -> None:
        """Called before every attempt (the CAMS hook keeps to its rate limit here)."""

    def test_connection(self) -> tuple[bool, str]:
        """Make one cheap signed call and say whether the credentials work (the Test button)."""
        # The Test button wants one cheap answer: no retries, and never an exception.
        policy, self.retry_policy = self.retry_policy, NO_RETRY
        try:
            detail = self._probe()
        except Exception as exc:  # any failure is shown, scrubbed of every credential
            return False, redact.failure_message(exc, self._secrets())
        finally:
            self.retry_policy = policy
        return True, detail

    def _probe(self) -> str:
        """One cheap call; the Test button's message saying what it found."""
        raise NotImplementedError

    def _secrets(self) -> tuple[str, ...]:
        """The connection's credential values, to keep them out of any text."""
        if "settings" in self.__dict__:
            return tuple(self.settings.secrets)
        return redact.connection_secrets(self.get_connection, getattr(self, self.conn_name_attr))


class AsyncServiceHook(transport.HoldsSharedSession, ServiceHookBase):
    """An async hook for triggers: ``async with Hook(conn_id) as hook:`` holds the event loop's shared
    aiohttp session; each request is signed with the same auth the sync hook uses."""

    def __init__(self, conn_id: str, **options: Unpack[HookOptions]) -> None:
        super().__init__(conn_id, **options)
        self._settings: Any = None

    async def settings(self) -> Any:
        """The connection's fields, read once per hook without blocking the loop."""
        if self._settings is None:
            conn_id = self._conn_id()
            with connections.defined(self.conn_name_attr, conn_id):
                conn = await self.aget_connection(conn_id)
            self._settings = self.settings_class.from_connection(conn)
            for secret in self._settings.secrets:
                if secret:
                    await _compat.amask_secret(secret)
        return self._settings

    async def _run_async(self, steps: Steps[T]) -> T:
        """As the sync hook's ``_run``, on the shared aiohttp session."""
        try:
            step = next(steps)
            while True:
                if step is SETTINGS:
                    step = steps.send(await self.settings())
                elif isinstance(step, list):
                    step = steps.send(await self._call_all(step))
                else:
                    step = steps.send(await self._call(step.operation, step.prepared))
        except StopIteration as stop:
            result: T = stop.value
            return result
        finally:
            steps.close()

    async def _call_all(self, calls: list[Call[Any, Any]]) -> list[Any]:
        """As the sync hook's ``_call_all``, concurrently on the event loop."""
        answers = await asyncio.gather(
            *(self._call(call.operation, call.prepared) for call in calls), return_exceptions=True
        )
        for answer in answers:
            if isinstance(answer, BaseException):
                raise answer
        return list(answers)

    async def _call(self, operation: Operation[P, R], prepared: P) -> R:
        """As the sync hook's ``_call``, on the shared aiohttp session."""
        session = self.http()
        settings = await self.settings()
        call = self._call_for(operation, settings)
        request = operation.request(settings, prepared)
        signer = auth.for_settings(settings)
        cap = self.answer_cap(settings)

        async def attempt() -> R:
            await self._before_send(operation, settings)
            # Awaited here: temporary keys may need fetching, which must not block the loop.
            headers = await signer.asign(request)
            started = time.monotonic()
            self.stats.record_request()
            answer = await transport.asend(session, request, self.timeout, call, lambda _: headers, cap)
            self._log_answer(operation, answer, started)
            return operation.read(settings, answer)

        return await self.retry_policy.arun(
            attempt,
            name=f"{self.hook_name} {operation.name}",
            log=self.log,
            may_retry=_may_send_again(operation),
            on_retry=self.stats.record_retry,
        )

    async def _before_send(self, operation: Operation[Any, Any], settings: Any) -> None:
        """Called before every attempt (the CAMS hook keeps to its rate limit here)."""
