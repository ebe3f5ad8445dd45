"""Which request meets which fault: plans, one-shot faults, seeds, counts, reset, CLI (no sockets)."""

from __future__ import annotations

import pytest

from airflow_provider_wa_phones.sandbox.__main__ import _fault_plan, _parse_args
from airflow_provider_wa_phones.sandbox.faults import (
    BEFORE_PROCESSING,
    DEFAULT_SLOW_SECONDS,
    FAULT_KINDS,
    Fault,
    FaultInjector,
    FaultPlan,
    make_plan,
)
from airflow_provider_wa_phones.sandbox.state import RecordedRequest, SandboxState

GET_PHONE = "/api/wa/getPhone"
CHECK = "/api/number/check"


def kinds_of(injector: FaultInjector, requests: list[tuple[str, str | None]]) -> list[str | None]:
    return [fault.kind if fault else None for fault in (injector.choose(p, a) for p, a in requests)]


def test_the_kinds_and_which_strike_before_processing() -> None:
    assert FAULT_KINDS == (
        "http_500",
        "http_502",
        "http_503",
        "reset",
        "slow",
        "throttle",
        "truncated",
        "lost",
    )
    assert {"http_500", "http_502", "http_503", "reset", "throttle"} == BEFORE_PROCESSING


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"rate": 1.5}, "rate"),
        ({"rate": -0.1}, "rate"),
        ({"rate": True}, "rate"),
        ({"rate": 0.5, "kinds": ()}, "at least one"),
        ({"rate": 0.5, "kinds": ("http_504",)}, "unknown fault kind 'http_504'"),
        ({"rate": 0.5, "slow_seconds": -1}, "slow_seconds"),
        ({"rate": 0.5, "paths": [""]}, "paths"),
    ],
)
def test_a_plan_rejects_bad_fields(fields: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        FaultPlan(**fields)


def test_a_plan_normalises_its_fields() -> None:
    plan = FaultPlan(rate=1, kinds="reset", seed="4", paths=GET_PHONE, actions=["A", "B"], slow_seconds=2)
    assert plan.as_json() == {
        "rate": 1.0,
        "kinds": ["reset"],
        "seed": 4,
        "paths": [GET_PHONE],
        "actions": ["A", "B"],
        "slow_seconds": 2.0,
    }
    assert FaultPlan(rate=0.2).kinds == FAULT_KINDS
    assert FaultPlan(rate=0.2).slow_seconds == DEFAULT_SLOW_SECONDS
    assert make_plan({"rate": 0.5, "kinds": ["lost"]}) == FaultPlan(rate=0.5, kinds=("lost",))
    assert make_plan(None) is None
    with pytest.raises(TypeError):
        make_plan(0.5)  # type: ignore[arg-type]


def test_the_same_seed_gives_the_same_faults_to_the_same_requests() -> None:
    plan = FaultPlan(rate=0.3, kinds=("http_503", "reset", "truncated"), seed=1)
    requests = [(GET_PHONE, None), ("/", "QueryChatappPhoneNumbers"), (CHECK, None)] * 100
    first = kinds_of(FaultInjector(plan), requests)
    assert first == kinds_of(FaultInjector(plan), requests)
    assert first != kinds_of(FaultInjector(FaultPlan(rate=0.3, kinds=plan.kinds, seed=2)), requests)
    faulted = [kind for kind in first if kind]
    assert 50 <= len(faulted) <= 130  # about 30 % of 300
    assert set(faulted) == set(plan.kinds)  # uniform over the kinds: each shows up


def test_requests_outside_the_plan_draw_nothing_from_it() -> None:
    plan = FaultPlan(rate=0.5, kinds=("http_502", "lost"), seed=9, paths=[GET_PHONE])
    alone = kinds_of(FaultInjector(plan), [(GET_PHONE, None)] * 40)
    injector = FaultInjector(plan)
    interleaved = kinds_of(injector, [(GET_PHONE, None), (CHECK, None), ("/", "X")] * 40)
    assert interleaved[1::3] == [None] * 40 and interleaved[2::3] == [None] * 40
    assert interleaved[0::3] == alone
    actions = FaultInjector(FaultPlan(rate=1, kinds=("reset",), actions=["QueryPhoneBusinessProfile"]))
    assert kinds_of(actions, [("/", "QueryChatappPhoneNumbers"), ("/", "QueryPhoneBusinessProfile")]) == [
        None,
        "reset",
    ]


def test_one_shot_faults_come_first_in_order_and_match_path_and_action() -> None:
    injector = FaultInjector(FaultPlan(rate=1.0, kinds=("http_503",), slow_seconds=3))
    injector.fail_next("reset", count=2)
    injector.fail_next("slow", path=CHECK, slow_seconds=0.25)
    injector.fail_next("throttle", action="QueryPhoneBusinessProfile")
    assert injector.as_json()["next"] == [
        {"kind": "reset", "count": 2, "path": None, "action": None, "slow_seconds": None},
        {"kind": "slow", "count": 1, "path": CHECK, "action": None, "slow_seconds": 0.25},
        {
            "kind": "throttle",
            "count": 1,
            "path": None,
            "action": "QueryPhoneBusinessProfile",
            "slow_seconds": None,
        },
    ]
    assert injector.choose(GET_PHONE, None) == Fault("reset", 3.0)
    assert injector.choose(CHECK, None) == Fault("reset", 3.0)
    assert injector.choose(GET_PHONE, None) == Fault("http_503", 3.0)  # only the plan is left for it
    assert injector.choose("/", "QueryChatappPhoneNumbers") == Fault("http_503", 3.0)
    assert injector.choose("/", "QueryPhoneBusinessProfile") == Fault("throttle", 3.0)
    assert injector.choose(CHECK, None) == Fault("slow", 0.25)
    assert injector.as_json()["next"] == []
    assert injector.counts() == {"http_503": 2, "reset": 2, "slow": 1, "throttle": 1}


def test_one_shot_faults_without_a_plan_use_the_default_slowness() -> None:
    injector = FaultInjector()
    assert injector.choose(GET_PHONE, None) is None
    injector.fail_next("slow")
    assert injector.choose(GET_PHONE, None) == Fault("slow", DEFAULT_SLOW_SECONDS)
    assert injector.choose(GET_PHONE, None) is None
    assert injector.counts() == {"slow": 1}


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("http_504",), "unknown fault kind"),
        (("reset", 0), "count"),
        (("reset", True), "count"),
        (("reset", 1, ""), "path"),
        (("slow", 1, None, None, -1), "slow_seconds"),
    ],
)
def test_fail_next_rejects_bad_arguments(args: tuple, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        FaultInjector().fail_next(*args)


def test_clear_forgets_everything_and_reset_returns_to_the_start_up_plan() -> None:
    start_up = FaultPlan(rate=0.5, kinds=("http_500", "lost"), seed=5)
    injector = FaultInjector(start_up)
    requests = [(GET_PHONE, None)] * 30
    first = kinds_of(injector, requests)
    injector.set_plan(FaultPlan(rate=1.0, kinds=("reset",)))
    injector.fail_next("slow", count=3)
    injector.reset()
    assert injector.as_json()["plan"] == start_up.as_json()
    assert (injector.as_json()["next"], injector.counts()) == ([], {})
    assert kinds_of(injector, requests) == first  # reseeded: the same sequence again
    injector.fail_next("slow")
    injector.clear()
    assert injector.as_json() == {"plan": None, "next": [], "counts": {}}
    assert kinds_of(injector, requests) == [None] * 30


def test_state_reset_resets_the_faults() -> None:
    state = SandboxState(time_scale=0.0)
    state.faults.set_plan(FaultPlan(rate=1.0, kinds=("http_503",)))
    state.faults.fail_next("reset")
    state.reset()
    assert state.faults.choose(GET_PHONE, None) is None
    assert state.faults.as_json() == {"plan": None, "next": [], "counts": {}}


def test_a_recorded_request_carries_its_fault() -> None:
    fields = dict(method="POST", path=CHECK, headers={}, body=b"{}", status=0, code=None, server_time=1.0)
    assert RecordedRequest(**fields).fault is None
    assert RecordedRequest(**fields).as_json()["fault"] is None
    faulted = RecordedRequest(**fields, fault="reset")
    assert (faulted.fault, faulted.as_json()["fault"], faulted.as_json()["status"]) == ("reset", "reset", 0)


def test_cli_fault_options_build_the_start_up_plan() -> None:
    args = _parse_args(
        [
            "--seed",
            "3",
            "--fault-rate",
            "0.25",
            "--fault-kinds",
            "http_503, reset",
            "--fault-slow-seconds",
            "2",
        ]
    )
    assert _fault_plan(args) == FaultPlan(rate=0.25, kinds=("http_503", "reset"), seed=3, slow_seconds=2)
    assert _fault_plan(_parse_args(["--fault-rate", "1", "--fault-seed", "8"])) == FaultPlan(rate=1.0, seed=8)
    assert _fault_plan(_parse_args([])) is None
    assert _fault_plan(_parse_args(["--fault-kinds", "lost"])) is None  # no rate, no faults


@pytest.mark.parametrize("argv", [["--fault-rate", "1.5"], ["--fault-rate", "x"], ["--fault-kinds", "boom"]])
def test_cli_rejects_bad_fault_options(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _parse_args(argv)
    assert exit_info.value.code == 2
    assert "--fault-" in capsys.readouterr().err
