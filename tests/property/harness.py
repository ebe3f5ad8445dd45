"""Run one generated case and judge its outcome against the oracle.

A refused case must raise the package's ParameterError (or ConnectionConfigError for a connection
field) naming a parameter the oracle calls bad, with a short message, before the counting server
saw any request. An accepted case must complete. Any other exception is re-raised as it is, so
Hypothesis reports each distinct stray exception (type and place) as its own failure; the judging
failures are AssertionError subclasses named after what went wrong and which parameter, for the
same reason (``AcceptedInvalid[appkey]`` and ``AcceptedInvalid[date]`` are two bugs, not one).
"""

from __future__ import annotations

import json
import os
import tempfile
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import Connection
from airflow.sdk._shared.secrets_masker.secrets_masker import reset_secrets_masker
from airflow.sdk.exceptions import AirflowFailException
from hypothesis import settings
from hypothesis import strategies as st

from airflow_provider_wa_phones.exceptions import (
    ConnectionConfigError,
    ParameterError,
    WaPhonesError,
    add_note,
)
from tests.property.rules import EITHER, INVALID, V
from tests.property.values import fuzzed, short

#: The longest error message accepted, whatever the input (a 1 MB value must be cut when quoted).
MAX_MESSAGE = 400
#: A scratch folder: the working directory of the property tests and where output files go.
SCRATCH = Path(tempfile.mkdtemp(prefix="wa-phones-property-"))


class SurveyRefused(pytest.UsageError):
    """Survey mode asked for where it must not run (CI)."""


def survey_file(environ: Mapping[str, str]) -> str | None:
    """Where survey mode records failures (``PROPERTY_SURVEY``), or None for a normal run.

    Survey mode turns failures into lines of a file, so a leaked variable would silence the whole
    property suite: under CI (``CI`` set to anything but empty, ``0``, ``false`` or ``no``) it is
    refused, and the session stops before any test runs.
    """
    path = environ.get("PROPERTY_SURVEY")
    if not path:
        return None
    if environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        raise SurveyRefused(
            f"PROPERTY_SURVEY={path} is set under CI={environ['CI']}: survey mode records failures "
            "instead of failing, so CI must not run in it. Unset PROPERTY_SURVEY."
        )
    return path


#: Where failures are recorded instead of raised (see ``check``), if anywhere.
SURVEY = survey_file(os.environ)
#: Failures recorded in survey mode this session, per kind (the session fails if any).
SURVEYED: Counter[str] = Counter()
#: Cases run in this session, per test (printed at the end of the session by conftest.py).
CASES: Counter[str] = Counter()


class Server:
    """Where the counting server is (set by the package's fixture)."""

    url = ""
    count: Callable[[], int] = staticmethod(lambda: 0)


@cache
def failure(kind: str, name: str) -> type[AssertionError]:
    """An AssertionError subclass per kind of failure and parameter, so each is reported apart."""
    return type(f"{kind}[{name}]", (AssertionError,), {"__module__": __name__})


class Args(dict[str, Any]):
    """The generated arguments of one case, printed short (a 1 MB string shows as its start)."""

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{key}={short(value)}" for key, value in self.items()) + "}"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


@dataclass
class Expect:
    """The oracle's verdict on one case: which names are bad and which are undecided."""

    invalid: set[str] = field(default_factory=set)
    either: set[str] = field(default_factory=set)

    def add(self, name: str, verdict: V) -> None:
        if verdict is INVALID:
            self.invalid.add(name)
        elif verdict is EITHER:
            self.either.add(name)

    def judge(self, **verdicts: V) -> Expect:
        for name, verdict in verdicts.items():
            self.add(name, verdict)
        return self

    @property
    def refusable(self) -> set[str]:
        return self.invalid | self.either


def judge(**verdicts: V) -> Expect:
    return Expect().judge(**verdicts)


@dataclass
class Outcome:
    """What a check saw: the error that refused the case (None if accepted) and the result."""

    error: Exception | None = None
    result: Any = None
    requests: int = 0


def check(test: str, args: Args, call: Callable[[], Any], expect: Expect, **options: Any) -> Outcome:
    """Run ``call`` once and judge it (see ``_check`` for the options).

    With ``PROPERTY_SURVEY=<file>`` in the environment, a failure is written to that file (JSON
    lines) instead of raised, so one run lists every kind of failure with how often it occurs,
    and takes as long as a run without failures (no shrinking).
    """
    if not SURVEY:
        return _check(test, args, call, expect, **options)
    try:
        return _check(test, args, call, expect, **options)
    except Exception as exc:
        _survey(test, args, exc)
        return Outcome(error=exc)


def report(test: str, args: Args, exc: AssertionError) -> None:
    """Raise a failure found outside ``check`` (or record it in survey mode)."""
    if not SURVEY:
        raise exc
    _survey(test, args, exc)


def _survey(test: str, args: Args, exc: Exception) -> None:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [frame for frame in frames if "/airflow_provider_wa_phones/" in frame.filename]
    where = ours[-1] if ours else (frames[-1] if frames else None)
    record = {
        "test": test,
        "failure": type(exc).__name__,
        "message": short(str(exc)) if isinstance(exc, AssertionError) else _short_text(str(exc)),
        "at": f"{where.filename.split('/airflow_provider_wa_phones/')[-1]}:{where.lineno} {where.name}"
        if where
        else "",
        "args": repr(args),
    }
    SURVEYED[record["failure"]] += 1
    with open(str(SURVEY), "a", encoding="utf-8") as out:
        out.write(json.dumps(record, ensure_ascii=True) + "\n")


def survey_summary(surveyed: Counter[str], path: str | None) -> list[str]:
    """The lines that end a survey run: how many failures of which kind went to ``path``."""
    if path is None:
        return []
    if not surveyed:
        return [f"property survey: no failures recorded ({path})"]
    lines = [
        f"property survey: {sum(surveyed.values())} failures recorded in {path}, not raised: "
        "the session fails"
    ]
    lines.extend(f"{count:7d}  {kind}" for kind, count in surveyed.most_common())
    return lines


def survey_exit_status(surveyed: Counter[str], status: int) -> int:
    """The session's exit status: failed when survey mode recorded any failure (each test passed,
    because its failures went to the file instead)."""
    if surveyed and status == pytest.ExitCode.OK:
        return pytest.ExitCode.TESTS_FAILED
    return status


def _short_text(text: str) -> str:
    return text if len(text) <= 300 else f"{text[:300]}...<{len(text)} characters>"


def _check(
    test: str,
    args: Args,
    call: Callable[[], Any],
    expect: Expect,
    *,
    sends: bool | None = True,
    accept: tuple[type[BaseException], ...] = (),
    connection_fields: Iterable[str] = (),
    also_parameter: Iterable[str] = (),
    new_case: bool = True,
    transport: bool = False,
) -> Outcome:
    """Run ``call`` once and judge it.

    :param sends: an accepted call must reach the server (hooks, operators, sensors), or must not
        (trigger constructors), or may either way (None).
    :param accept: exception types that mean "accepted" (TaskDeferred for a deferrable sensor).
    :param connection_fields: names the oracle judged as connection fields: their refusal must be a
        ConnectionConfigError, except for ``also_parameter`` ones, which README documents as
        ParameterError too (appkey, cust_space_id).
    :param new_case: False for a second check of the same generated case (counted once).
    :param transport: a service or transport error after a request went out counts as accepted
        (a connection host other than the counting server: the proxy refuses to tunnel https).
    """
    if new_case:
        CASES[test] += 1
    reset_secrets_masker()  # a masker that grows with every fuzzed secret slows each case down
    before = Server.count()
    refusal: ParameterError | ConnectionConfigError | None = None
    try:
        result = call()
    except (ParameterError, ConnectionConfigError) as exc:
        refusal = exc
    except AirflowFailException as exc:
        # A sensor fails its task without retries for a refusal: the refusal is the cause.
        if not isinstance(exc.__cause__, (ParameterError, ConnectionConfigError)):
            raise
        refusal = exc.__cause__
    except accept as exc:
        result = exc
    except BaseException as exc:
        sent = Server.count() > before
        if transport_ok(exc) and sent and expect.invalid:  # the bad value went out in a request
            raise failure("AcceptedInvalid", sorted(expect.invalid)[0])(
                f"{test} {args!r}: sent, then {type(exc).__name__}; {sorted(expect.invalid)} break a rule"
            ) from None
        if transport and transport_ok(exc) and (sent or sends is None) and not expect.invalid:
            return Outcome(result=exc, requests=Server.count() - before)
        _shorten(exc)
        add_note(exc, f"[property] {test} with {args!r}: oracle says bad={sorted(expect.invalid)}")
        raise
    if refusal is not None:  # judged outside the except block: no 1 MB message as the failure's context
        return _judge_refusal(
            test, args, refusal, expect, Server.count() - before, connection_fields, also_parameter
        )
    requests = Server.count() - before
    if expect.invalid:
        name = sorted(expect.invalid)[0]
        raise failure("AcceptedInvalid", name)(
            f"{test} {args!r} completed ({requests} request(s)) but {sorted(expect.invalid)} break a rule"
        )
    if sends is True and not requests:
        raise failure("AcceptedWithoutRequest", test)(f"{test} {args!r}")
    if sends is False and requests:
        raise failure("UnexpectedRequest", test)(f"{test} {args!r}")
    return Outcome(result=result, requests=requests)


def _judge_refusal(
    test: str,
    args: Args,
    exc: ParameterError | ConnectionConfigError,
    expect: Expect,
    requests: int,
    connection_fields: Iterable[str],
    also_parameter: Iterable[str],
) -> Outcome:
    name = exc.param if isinstance(exc, ParameterError) else exc.field
    message = str(exc)
    where = f"{test} {args!r}: {type(exc).__name__}({short(message)})"
    if requests:
        raise failure("RequestBeforeRefusal", name)(f"{requests} request(s) reached the server; {where}")
    if len(message) > MAX_MESSAGE:
        raise failure("LongMessage", name)(f"message of {len(message)} characters; {where}")
    if name not in expect.refusable:
        kind = "WrongParameterNamed" if expect.invalid else "RefusedValid"
        raise failure(kind, name)(
            f"bad: {sorted(expect.invalid)}, undecided: {sorted(expect.either)}; {where}"
        )
    if name in set(connection_fields) - set(also_parameter) and not isinstance(exc, ConnectionConfigError):
        raise failure("NotAConnectionError", name)(where)
    return Outcome(error=exc, requests=requests)


def _shorten(exc: BaseException) -> None:
    """Cut a stray exception's huge message (it may quote a 1 MB value) so the report stays readable."""
    try:
        text = str(exc)
    except Exception:
        return
    if len(text) > 2000 and exc.args:
        exc.args = (f"{text[:1000]}...<{len(text)} characters>",)


def transport_ok(error: BaseException) -> bool:
    """A package error other than a refusal: fine once the request went out (a fuzzed host)."""
    return isinstance(error, WaPhonesError) and not isinstance(error, (ParameterError, ConnectionConfigError))


# -- connections -----------------------------------------------------------------------------------

NX = "nxcloud_default"
CAMS = "alibaba_cams_default"
#: The connections every case sees unless it fuzzes one; set up by conftest.py.
CONNECTIONS: dict[str, Connection] = {}


def nxcloud_connection(**fields: Any) -> Connection:
    defaults = {"login": "nx-access-key", "password": "nx-access-secret", "host": Server.url}
    extra = fields.pop("extra", json.dumps({"appkey": "app-1"}))
    return Connection(conn_id=NX, conn_type="nxcloud", extra=extra, **(defaults | fields))


def cams_connection(**fields: Any) -> Connection:
    defaults = {"login": "cams-key-id", "password": "cams-key-secret", "host": Server.url}
    extra = fields.pop("extra", json.dumps({"cust_space_id": "space-1"}))
    return Connection(conn_id=CAMS, conn_type="alibaba_cams", extra=extra, **(defaults | fields))


def default_connections() -> dict[str, Connection]:
    return {NX: nxcloud_connection(), CAMS: cams_connection()}


@contextmanager
def connections(**by_id: Connection) -> Iterator[None]:
    """Replace some connections for the duration of one case."""
    saved = dict(CONNECTIONS)
    CONNECTIONS.update(by_id)
    try:
        yield
    finally:
        CONNECTIONS.clear()
        CONNECTIONS.update(saved)


# -- generating cases ------------------------------------------------------------------------------


def examples(weight: float = 1.0) -> settings:
    """The active profile with ``weight`` times its examples per test."""
    return settings(max_examples=max(1, round(settings().max_examples * weight)))


@st.composite
def cases(
    draw: st.DrawFn,
    valid: dict[str, st.SearchStrategy[Any]],
    required: Iterable[str] = (),
    raw: Iterable[str] = (),
    deep: bool = True,
) -> Args:
    """Arguments for one call: valid values for all but (usually) one or two, which are fuzzed.

    Optional arguments not fuzzed are sometimes left out, so defaults are exercised too. Names in
    ``raw`` are drawn from their own strategy only, which holds their bad values too (a file path
    is never left to ``anything()``, which could name a real file). ``deep``: see ``anything()``.
    """
    names = list(valid)
    targets = draw(st.lists(st.sampled_from(names), max_size=2, unique=True), label="fuzzed")
    args = Args()
    for name in names:
        if name in targets and name not in raw:
            args[name] = draw(fuzzed(valid[name], deep=deep), label=name)
        elif name in targets or name in required or draw(st.booleans()):
            args[name] = draw(valid[name], label=name)
    return args


def task_cases(valid: dict[str, st.SearchStrategy[Any]], **options: Any) -> st.SearchStrategy[Args]:
    """``cases()`` for operators and sensors: no 5,000-deep list (see ``values.anything``)."""
    return cases(valid, deep=False, **options)
