"""Issue 19: values that were accepted and then mishandled, against the live sandbox.

Each is now refused before any request with an error naming the field, or handled as documented.
The one-line refusals live in ``test_bad_input.py`` (and the README's Validation table); this file
holds what a table row cannot show: files that must not be replaced, what a publish names, one
meaning of ``cust_space_id=""`` in three places, and the one sanitiser of output file names.

Nothing here writes outside ``tmp_path``: devices are stood in for by a FIFO and symbolic links in
``tmp_path``, and ``/dev/null`` is only ever a refused value, checked before any write.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import re
import stat
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from airflow_provider_wa_phones.exceptions import ConnectionConfigError, ParameterError, WaPhonesError
from airflow_provider_wa_phones.hooks.cams import CamsAsyncHook, CamsHook
from airflow_provider_wa_phones.hooks.nxcloud import NxCloudHook
from airflow_provider_wa_phones.operators import nxcloud as nx_operators
from airflow_provider_wa_phones.operators.cams import CamsPhoneBusinessProfileOperator
from airflow_provider_wa_phones.operators.nxcloud import NxCloudNumberCheckResultsOperator
from airflow_provider_wa_phones.reports import file_safe, output_file_name
from airflow_provider_wa_phones.retry import NO_RETRY
from airflow_provider_wa_phones.sandbox import data
from airflow_provider_wa_phones.sensors.cams import CamsPhoneStatusSensor
from airflow_provider_wa_phones.triggers.cams import CamsPhoneStatusTrigger

pytestmark = pytest.mark.integration

TODAY = dt.datetime.now(dt.timezone.utc).date().isoformat()
CAMS_LIST = "QueryChatappPhoneNumbers"
ROOT = Path(__file__).resolve().parents[2]


def results_operator(output_path: str, batch_no: str = "preloaded-3") -> NxCloudNumberCheckResultsOperator:
    return NxCloudNumberCheckResultsOperator(
        task_id="results", date=TODAY, batch_no=batch_no, output_path=output_path, request_retry=NO_RETRY
    )


# -- output_path: never replace anything but a regular file ------------------------------------------


def test_a_local_path_is_written_and_published_as_a_file_url(sandbox, tmp_path) -> None:
    sandbox.preload_number_check_batch("preloaded-3", 3)
    target = tmp_path / "out" / "results.jsonl"
    outcome = results_operator(str(target)).execute({})
    assert outcome["asset_uri"] == f"file://{target}"  # was ':///…' (no scheme) for a plain path
    assert outcome["record_count"] == 3
    assert len(target.read_text(encoding="utf-8").splitlines()) == 3
    assert sorted(path.name for path in target.parent.iterdir()) == ["results.jsonl"]


def test_a_relative_path_is_published_with_its_absolute_path(sandbox, tmp_path, monkeypatch) -> None:
    sandbox.preload_number_check_batch("preloaded-3", 3)
    monkeypatch.chdir(tmp_path)
    outcome = results_operator("relative.jsonl").execute({})
    assert outcome["asset_uri"] == f"file://{tmp_path / 'relative.jsonl'}"
    assert (tmp_path / "relative.jsonl").is_file()


def _stand_ins(tmp_path: Path) -> dict[str, Path]:
    """A FIFO, a link to it, a link to a regular file and a socket, all inside tmp_path."""
    import socket

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    regular = tmp_path / "regular.jsonl"
    regular.write_text("kept\n")
    (tmp_path / "link-to-fifo").symlink_to(fifo)
    (tmp_path / "link-to-regular").symlink_to(regular)
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "sock"))
    server.close()  # the socket file stays
    return {
        "fifo": fifo,
        "link-to-fifo": tmp_path / "link-to-fifo",
        "link-to-regular": tmp_path / "link-to-regular",
        "sock": tmp_path / "sock",
    }


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("fifo", "a FIFO (named pipe)"),
        ("link-to-fifo", "a symbolic link"),
        ("link-to-regular", "a symbolic link"),
        ("sock", "a socket"),
    ],
)
@pytest.mark.parametrize("as_url", [False, True])
def test_an_existing_target_that_is_not_a_regular_file_is_refused_before_any_request(
    sandbox, tmp_path, name: str, kind: str, as_url: bool
) -> None:
    paths = _stand_ins(tmp_path)
    before = {path.name: os.lstat(path).st_mode for path in tmp_path.iterdir()}
    target = paths[name]
    given = f"file://{target}" if as_url else str(target)
    with pytest.raises(ParameterError) as info:
        results_operator(given).execute({})
    assert info.value.param == "output_path"
    assert f"is {kind}" in info.value.rule
    assert sandbox.request_count() == 0
    assert {path.name: os.lstat(path).st_mode for path in tmp_path.iterdir()} == before  # nothing replaced
    assert (tmp_path / "regular.jsonl").read_text() == "kept\n"


def test_dev_null_is_refused_in_validation_before_any_write(sandbox, monkeypatch) -> None:
    """Only a value: the refusal comes from _output_target. Every writer is stubbed out first, so
    even a regression of the check could not write to the real /dev/null."""

    def no_write(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a writer was reached for a refused output_path")

    monkeypatch.setattr(NxCloudNumberCheckResultsOperator, "_write", no_write)
    monkeypatch.setattr(nx_operators, "_write_local", no_write)
    for value in ("/dev/null", "file:///dev/null", "/dev/../dev/null", "/proc/self/fd/1"):
        with pytest.raises(ParameterError, match=r"must not be under /dev, /proc or /sys") as info:
            nx_operators._output_target(value)
        assert info.value.param == "output_path"
        with pytest.raises(ParameterError, match=r"must not be under /dev, /proc or /sys"):
            results_operator(value).execute({})
    assert sandbox.request_count() == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_fifo_appearing_while_the_file_is_written_is_not_replaced(tmp_path) -> None:
    target = tmp_path / "results.jsonl"

    def write(out: Any) -> None:
        out.write("{}\n")
        os.mkfifo(target)  # another process makes it while the records stream

    with pytest.raises(ParameterError, match="is a FIFO"):
        nx_operators._write_local(str(target), str(target), write)
    assert stat.S_ISFIFO(os.lstat(target).st_mode)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["results.jsonl"]  # no .partial left


def test_a_partial_file_that_is_a_link_is_refused(tmp_path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("kept\n")
    (tmp_path / "results.jsonl.partial").symlink_to(outside)
    with pytest.raises(ParameterError, match="symbolic link"):
        nx_operators._write_local(str(tmp_path / "results.jsonl"), "results.jsonl", lambda out: None)
    assert outside.read_text() == "kept\n"


def test_a_failing_cleanup_never_hides_the_first_error(tmp_path) -> None:
    target = tmp_path / "results.jsonl"

    def write(out: Any) -> None:
        os.unlink(str(target) + ".partial")  # the cleanup's unlink will fail
        raise RuntimeError("the first error")

    with pytest.raises(RuntimeError, match="the first error"):
        nx_operators._write_local(str(target), str(target), write)


@pytest.mark.parametrize(
    "name",
    ["r.jsonl\n", "r\u202elsonj.jsonl", "r\u200b.jsonl", "r\u2066.jsonl", "r\tx.jsonl", "r.jsonl ", "a\x00b"],
    ids=["newline", "rtl-override", "zero-width-space", "bidi-isolate", "tab", "trailing-space", "nul"],
)
def test_hidden_characters_in_a_file_name_are_refused(sandbox, tmp_path, monkeypatch, name: str) -> None:
    monkeypatch.setattr(NxCloudNumberCheckResultsOperator, "_write", lambda *args: pytest.fail("written"))
    with pytest.raises(ParameterError) as info:
        results_operator(str(tmp_path / name)).execute({})
    assert info.value.param == "output_path"
    assert "NUL" in info.value.rule or "without control characters" in info.value.rule
    assert list(tmp_path.iterdir()) == []
    assert sandbox.request_count() == 0


def test_a_long_path_gives_a_short_message(sandbox, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(NxCloudNumberCheckResultsOperator, "_write", lambda *args: pytest.fail("written"))
    with pytest.raises(ParameterError) as info:
        results_operator(str(tmp_path) + "/" + "x" * 1_048_576).execute({})
    assert len(str(info.value)) < 200
    with pytest.raises(ParameterError) as info:
        results_operator(str(tmp_path) + "/" + "x" * 4000 + "\n").execute({})
    assert len(str(info.value)) < 400
    assert sandbox.request_count() == 0


# -- one meaning of cust_space_id="" -----------------------------------------------------------------


@pytest.fixture
def second_space(sandbox, monkeypatch) -> str:
    """The CAMS connection's space set to the second space, so "the connection's space" and "the
    account's default space" (the first) can be told apart in the requests."""
    conn = sandbox.connections()["alibaba_cams_default"]
    conn["extra"] = {**conn.get("extra", {}), "cust_space_id": data.CAMS_SECOND_SPACE_ID}
    monkeypatch.setenv("AIRFLOW_CONN_ALIBABA_CAMS_DEFAULT", json.dumps(conn))
    return data.CAMS_SECOND_SPACE_ID


def spaces_asked(sandbox, action: str) -> list[list[str]]:
    return [parse_qs(request.query).get("CustSpaceId", []) for request in sandbox.requests(action=action)]


def test_empty_space_means_the_connections_space_in_poke(sandbox, second_space) -> None:
    sensor = CamsPhoneStatusSensor(
        task_id="s", phone_numbers=["6591110000"], cust_space_id="", request_retry=NO_RETRY
    )
    sensor.poke({})
    assert spaces_asked(sandbox, CAMS_LIST) == [[second_space]]  # was: none (the account's default)


async def test_empty_space_means_the_connections_space_in_the_trigger(sandbox, second_space) -> None:
    trigger = CamsPhoneStatusTrigger(
        ["6591110000"], "CONNECTED", ["BANNED"], cust_space_id="", poke_interval=0.05
    )

    async def first_event() -> Any:
        async for event in trigger.run():
            return event
        return None

    task = asyncio.create_task(first_event())
    deadline = asyncio.get_running_loop().time() + 20
    while sandbox.request_count(action=CAMS_LIST) == 0 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert spaces_asked(sandbox, CAMS_LIST)[0] == [second_space]


def test_empty_space_means_the_connections_space_in_the_business_profile(sandbox, second_space) -> None:
    hook = CamsHook(retry_policy=NO_RETRY)
    try:
        # The number may not be in that space: what matters is the space asked (was a ParameterError).
        with contextlib.suppress(WaPhonesError):
            hook.query_phone_business_profile("+65 9111 0000", cust_space_id="")
    finally:
        hook.close()
    assert spaces_asked(sandbox, "QueryPhoneBusinessProfile") == [[second_space]]


def test_empty_space_without_a_connection_space_still_needs_one_for_a_profile(sandbox, monkeypatch) -> None:
    conn = sandbox.connections()["alibaba_cams_default"]
    conn["extra"] = {key: value for key, value in conn.get("extra", {}).items() if key != "cust_space_id"}
    monkeypatch.setenv("AIRFLOW_CONN_ALIBABA_CAMS_DEFAULT", json.dumps(conn))
    operator = CamsPhoneBusinessProfileOperator(task_id="p", phone_number="+65 9111 0000", cust_space_id="")
    with pytest.raises(ParameterError, match="cust_space_id: required"):
        operator.execute({})
    assert sandbox.request_count() == 0


async def test_empty_space_in_the_async_hook_means_the_connections_space(sandbox, second_space) -> None:
    async with CamsAsyncHook() as hook:
        await hook.query_phone_numbers(cust_space_id="")
    assert spaces_asked(sandbox, CAMS_LIST) == [[second_space]]


# -- count_batch_results takes what submit_number_check returns ------------------------------------


def test_count_batch_results_takes_the_entries_of_a_submit(sandbox) -> None:
    hook = NxCloudHook(retry_policy=NO_RETRY)
    try:
        entries = hook.submit_number_check(["+86 138 0000 1234", "+1 415 555 0123"], batch_no="counted")
        counts = [hook.count_batch_results(entry) for entry in entries]  # was AttributeError: 'dict'…
        records = [list(hook.iter_batch_results(entry)) for entry in entries]
    finally:
        hook.close()
    assert [found for found, _ in counts] == [len(found) for found in records]
    with pytest.raises(ParameterError, match=r"^batch: the number of records to wait for"):
        NxCloudHook().count_batch_results({**entries[0], "phone_count": 0})


# -- connections: hosts that are more than scheme://host[:port] ---------------------------------------


@pytest.mark.parametrize("hook_class", [NxCloudHook, CamsHook])
def test_a_host_with_credentials_is_never_printed(sandbox, monkeypatch, hook_class) -> None:
    conn_id = hook_class.default_conn_name
    conn = sandbox.connections()[conn_id] | {"host": "http://someone:hunter2-secret@127.0.0.1:9/x#y"}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    hook = hook_class(retry_policy=NO_RETRY)
    try:
        ok, message = hook.test_connection()
        with pytest.raises(ConnectionConfigError) as info:
            hook.settings  # noqa: B018 - reading the connection is the check
    finally:
        hook.close()
    assert not ok and "field host" in message
    for text in (message, str(info.value), repr(info.value)):
        assert "hunter2" not in text and "someone" not in text
    assert sandbox.request_count() == 0


# -- overflow values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [2**63, 10**5000, 1001, "9" * 5000], ids=["2**63", "10**5000", "1001", "5000 digits"]
)
def test_rate_limit_out_of_range_is_refused_in_the_constructor(value: Any) -> None:
    with pytest.raises(ParameterError) as info:
        CamsHook(rate_limit=value)
    assert info.value.param == "rate_limit" and len(str(info.value)) < 200


def test_reuse_since_long_ago_reads_as_the_services_window(sandbox) -> None:
    from airflow_provider_wa_phones.submits import Options

    options = Options.checked(True, dt.datetime.min.replace(tzinfo=dt.timezone.utc), 0.0, 60.0)
    assert options.reuse_since is not None
    assert dt.datetime.now(dt.timezone.utc) - options.reuse_since <= dt.timedelta(days=14, minutes=1)


# -- one sanitiser names every output file -----------------------------------------------------------


@pytest.mark.parametrize(
    ("run_id", "expected"),
    [
        (
            "manual__2026-12-05T06:55:08.134296+00:00",
            "number-check-manual__2026-12-05T06-55-08.134296-00-00.jsonl",
        ),
        ("scheduled__2026-12-05T00:00:00+00:00", "number-check-scheduled__2026-12-05T00-00-00-00-00.jsonl"),
        (None, "number-check-manual.jsonl"),
        ("", "number-check-manual.jsonl"),
        ("../../etc/passwd", "number-check-etc-passwd.jsonl"),
        ("run\n\u202eevil\u200b", "number-check-run-evil.jsonl"),
        ("::", "number-check-run.jsonl"),
    ],
)
def test_output_file_name(run_id: str | None, expected: str) -> None:
    assert output_file_name(run_id, "number-check", "jsonl") == expected


def test_output_file_names_are_short_and_plain() -> None:
    name = output_file_name("x" * 250, "incidents", "jsonl")
    assert len(name) <= len("incidents-") + 120 + len(".jsonl")
    assert re.fullmatch(r"[A-Za-z0-9._-]+", name)
    assert file_safe("a:b") == "a-b"


def test_every_report_file_is_named_by_the_one_sanitiser() -> None:
    """Example DAGs and the README build report names with output_file_name, nowhere by hand."""
    sources = {path.name: path.read_text(encoding="utf-8") for path in (ROOT / "example_dags").glob("*.py")}
    sources["README.md"] = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, text in sources.items():
        assert "replace(':'" not in text, name
        assert not re.search(r"f\"[a-z-]+-\{file_safe\(", text), name
    writers = ["example_number_check.py", "example_onboarding.py", "example_phone_health.py"]
    for name in [*writers, "example_quality_alert.py", "README.md"]:
        assert "output_file_name" in sources[name], name


def test_the_number_check_dag_names_its_file_through_the_filter() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "example_dags" / "example_number_check.py"))
    dag = bag.dags["number_check"]
    assert dag.user_defined_filters["output_file_name"] is output_file_name
    template = dag.get_task("results").output_path
    assert "output_file_name('number-check', 'jsonl')" in template
