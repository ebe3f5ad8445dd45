"""Number-check rules of the NxCloud backend (submit, query, pagination, retention), without HTTP."""

from __future__ import annotations

import datetime as dt
import re
import time
import tracemalloc
from decimal import Decimal
from typing import Any

import phonenumbers
import pytest

from airflow_provider_wa_phones.sandbox import data
from airflow_provider_wa_phones.sandbox.nxcloud.models import Account, NxCloudBackend, NxCloudError
from airflow_provider_wa_phones.sandbox.state import SandboxClock

APPKEY = data.NXCLOUD_APPKEY
ID_MOBILES = ",".join(f"628123456{i:04d}" for i in range(30))


@pytest.fixture
def clock() -> SandboxClock:
    clock = SandboxClock(time_scale=0.0)  # virtual time moves only through advance()
    # Pin the server's wall clock to noon UTC so a test never straddles midnight.
    noon = dt.datetime.combine(dt.datetime.now(dt.timezone.utc).date(), dt.time(12), tzinfo=dt.timezone.utc)
    clock.set_offset(noon.timestamp() - time.time())
    return clock


@pytest.fixture
def backend(clock: SandboxClock) -> NxCloudBackend:
    return NxCloudBackend(clock, seed=7, result_delay=(0.5, 3.0))


@pytest.fixture
def integrator(backend: NxCloudBackend) -> Account:
    account = backend.find_account(data.NXCLOUD_ACCESS_KEY)
    assert account is not None
    return account


@pytest.fixture
def basic(backend: NxCloudBackend) -> Account:
    account = backend.find_account(data.NXCLOUD_BASIC_ACCESS_KEY)
    assert account is not None
    return account


def today(clock: SandboxClock, days: int = 0) -> str:
    date = dt.datetime.fromtimestamp(clock.wall_time(), dt.timezone.utc).date() + dt.timedelta(days=days)
    return date.isoformat()


def submit(backend: NxCloudBackend, account: Account, phone: str, **body: Any) -> dict[str, str]:
    return backend.submit_number_check(account, {"appkey": APPKEY, "phone": phone, **body})


def query(backend: NxCloudBackend, account: Account, clock: SandboxClock, **body: Any) -> dict[str, Any]:
    return backend.query_number_check(account, {"page": 1, "pageSize": 100, "date": today(clock), **body})


def error_code(call: Any, *args: Any, **kwargs: Any) -> int:
    with pytest.raises(NxCloudError) as raised:
        call(*args, **kwargs)
    return raised.value.code


def test_submit_returns_a_message_id_and_keeps_or_generates_the_batch(
    backend: NxCloudBackend, integrator: Account
) -> None:
    given = submit(backend, integrator, "6281234567890", batchNo="campaign-7")
    assert re.fullmatch(r"[0-9a-f]{32}", given["messageId"])
    assert given["batchNo"] == "campaign-7"
    generated = submit(backend, integrator, "6281234567890")
    assert re.fullmatch(r"[0-9]{12}", generated["batchNo"])
    assert generated["messageId"] != given["messageId"]


def test_results_appear_only_after_their_delay(
    backend: NxCloudBackend, integrator: Account, clock: SandboxClock
) -> None:
    batch = submit(backend, integrator, "6281234567890")["batchNo"]
    clock.advance(0.49)
    assert query(backend, integrator, clock, batchNo=batch)["totalSize"] == 0
    clock.advance(2.51)
    assert query(backend, integrator, clock, batchNo=batch)["totalSize"] == 1


def test_pages_never_shift_while_results_arrive(
    backend: NxCloudBackend, integrator: Account, clock: SandboxClock
) -> None:
    batch = submit(backend, integrator, ID_MOBILES)["batchNo"]
    seen: list[dict[str, Any]] = []
    partial_sizes = set()
    for _ in range(12):
        clock.advance(0.25)
        page = query(backend, integrator, clock, batchNo=batch)["result"]
        assert page[: len(seen)] == seen  # newly ready records only append
        first_ten = query(backend, integrator, clock, batchNo=batch, pageSize=10)["result"]
        assert first_ten == page[:10]
        seen = page
        partial_sizes.add(len(page))
    assert len(seen) == 30
    assert len(partial_sizes) > 3  # results really did arrive over time
    assert {record["phone"] for record in seen} == set(ID_MOBILES.split(","))


def test_pagination_totals_and_pages_beyond_the_last(
    backend: NxCloudBackend, integrator: Account, clock: SandboxClock
) -> None:
    preload = backend.preload_batch("paged", 250)
    third = query(backend, integrator, clock, batchNo="paged", page=3)
    assert (third["page"], third["pageSize"], third["totalPage"], third["totalSize"]) == (3, 100, 3, 250)
    first = int(query(backend, integrator, clock, batchNo="paged")["result"][0]["phone"])
    assert [int(r["phone"]) - first for r in third["result"]] == list(range(200, 250))
    assert all(r["messageId"].startswith(f"{preload['message_id']}-") for r in third["result"])
    beyond = query(backend, integrator, clock, batchNo="paged", page=4)
    assert (beyond["result"], beyond["totalPage"], beyond["totalSize"]) == ([], 3, 250)
    assert query(backend, integrator, clock, batchNo="paged", pageSize=7)["totalPage"] == 36


def test_records_of_a_submit_share_message_ids_as_the_published_example_does(
    backend: NxCloudBackend, integrator: Account, clock: SandboxClock
) -> None:
    """contracts/nxcloud/number-query-success-shared-messageid.json: two records, two phones, one
    messageId. The sandbox must make such records, or a client that keys records by messageId alone
    passes every test against it."""
    from collections import Counter

    from airflow_provider_wa_phones.sandbox.nxcloud.models import SHARED_RUN_LENGTHS

    preload = backend.preload_batch("shared", 1_000)
    records = [
        record
        for page in range(1, 11)
        for record in query(backend, integrator, clock, batchNo="shared", page=page)["result"]
    ]
    assert len(records) == 1_000
    by_id = Counter(record["messageId"] for record in records)
    assert len({(record["messageId"], record["phone"]) for record in records}) == 1_000
    assert len(by_id) < 1_000  # some records share an id...
    assert max(by_id.values()) <= max(SHARED_RUN_LENGTHS)
    assert sum(count for count in by_id.values() if count > 1) >= 300  # ...and not a few by chance
    assert all(message_id.startswith(f"{preload['message_id']}-") for message_id in by_id)


def test_record_of_a_single_valid_number(
    backend: NxCloudBackend, integrator: Account, clock: SandboxClock
) -> None:
    submitted = submit(backend, integrator, "6281234567890", batchNo="one")
    clock.advance(3)
    assert query(backend, integrator, clock, batchNo="one")["result"] == [
        {
            "messageId": submitted["messageId"],  # no index suffix for a single number
            "batchNo": "one",
            "phone": "6281234567890",
            "checkLevel": 1,
            "preCheck": "YES",
            "regionCode": "ID",
            "countryCode": "62",
            "nationalNumber": "81234567890",
            "standNumber": "6281234567890",
            "numberType": 2,
            "carrier": "Telkomsel",
            "price": 0.005,
            "currency": "USD",
            "validity": "",
            "reachable": "",
            "roaming": "",
        }
    ]


def test_invalid_number_fails_precheck_with_code_114(
    backend: NxCloudBackend, integrator: Account, clock: SandboxClock
) -> None:
    submit(backend, integrator, "447700900123,447911123456", batchNo="uk")
    clock.advance(3)
    records = {r["phone"]: r for r in query(backend, integrator, clock, batchNo="uk")["result"]}
    invalid, valid = records["447700900123"], records["447911123456"]
    assert (invalid["preCheck"], invalid["code"], invalid["msg"]) == ("NO", 114, "invalid number format")
    assert invalid["regionCode"] == "GB"
    assert valid["preCheck"] == "YES"
    assert "code" not in valid and "msg" not in valid


def test_check_levels_add_their_fields(
    backend: NxCloudBackend, integrator: Account, clock: SandboxClock
) -> None:
    for level in (1, 4, 5):
        submit(backend, integrator, ID_MOBILES, batchNo=f"level-{level}", checkLevel=level)
    clock.advance(3)
    basic = query(backend, integrator, clock, batchNo="level-1")["result"]
    call = query(backend, integrator, clock, batchNo="level-4")["result"]
    hlr = query(backend, integrator, clock, batchNo="level-5")["result"]
    assert all(r["validity"] == r["reachable"] == r["roaming"] == "" and "early" not in r for r in basic)
    assert all({r["early"], r["answered"]} <= {"YES", "NO", "UNKNOWN"} and r["response"] for r in call)
    assert len({r["response"] for r in call}) > 1
    assert all({r["validity"], r["reachable"], r["roaming"]} <= {"YES", "NO", "UNKNOWN"} for r in hlr)
    assert len({r["reachable"] for r in hlr}) > 1
    assert {r["price"] for r in hlr} == {0.01}


def test_outcomes_and_ids_are_deterministic_for_a_seed(clock: SandboxClock) -> None:
    def run(seed: int) -> list[dict[str, Any]]:
        own_clock = SandboxClock(time_scale=0.0, offset_seconds=clock.offset_seconds)
        backend = NxCloudBackend(own_clock, seed=seed)
        account = backend.find_account(data.NXCLOUD_ACCESS_KEY)
        assert account is not None
        submit(backend, account, ID_MOBILES, batchNo="det", checkLevel=5)
        own_clock.advance(3)
        return query(backend, account, own_clock, batchNo="det")["result"]

    first, second, other = run(3), run(3), run(4)
    assert first == second
    assert [r["messageId"] for r in first] != [r["messageId"] for r in other]


def test_same_phone_twice_gives_two_records(
    backend: NxCloudBackend, integrator: Account, clock: SandboxClock
) -> None:
    message_id = submit(backend, integrator, "6281234567890,6281234567890", batchNo="twice")["messageId"]
    clock.advance(3)
    result = query(backend, integrator, clock, batchNo="twice")["result"]
    assert [r["phone"] for r in result] == ["6281234567890", "6281234567890"]
    assert all(r["messageId"].startswith(f"{message_id}-") for r in result)


def test_duplicate_batch_no_charges_again_and_joins_the_batch(
    backend: NxCloudBackend, integrator: Account, clock: SandboxClock
) -> None:
    first = submit(backend, integrator, "6281234567890,6281234567891", batchNo="dup")["messageId"]
    second = submit(backend, integrator, "6281234567892", batchNo="dup")["messageId"]
    assert backend.app(APPKEY).balance == Decimal("100.0") - 3 * Decimal("0.005")
    clock.advance(3)
    assert query(backend, integrator, clock, batchNo="dup")["totalSize"] == 3
    # The messageId search is exact (documented): a several-number submit's own id is no record's.
    assert query(backend, integrator, clock, messageId=first)["totalSize"] == 0
    assert [r["messageId"] for r in query(backend, integrator, clock, messageId=second)["result"]] == [second]
    batch = query(backend, integrator, clock, batchNo="dup")["result"]
    of_first = [r for r in batch if r["messageId"].startswith(f"{first}-")]
    assert sorted(r["phone"] for r in of_first) == ["6281234567890", "6281234567891"]
    (record_id,) = [r["messageId"] for r in of_first if r["phone"] == "6281234567891"]
    exact = query(backend, integrator, clock, messageId=record_id)["result"]
    assert {r["messageId"] for r in exact} == {record_id}
    assert "6281234567891" in {r["phone"] for r in exact}
    assert query(backend, integrator, clock, messageId=first, batchNo="other")["totalSize"] == 0
    assert query(backend, integrator, clock, messageId="f" * 32)["totalSize"] == 0


def test_balance_limits_submissions(backend: NxCloudBackend, integrator: Account) -> None:
    assert error_code(submit, backend, integrator, "6281234567890", appkey=data.NXCLOUD_BROKE_APPKEY) == 211
    backend.app(APPKEY).balance = Decimal("0.01")
    assert error_code(submit, backend, integrator, "6281234567890,6281234567891,6281234567892") == 211
    assert backend.app(APPKEY).balance == Decimal("0.01")  # a refused call costs nothing
    submit(backend, integrator, "6281234567890,6281234567891")
    assert backend.app(APPKEY).balance == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"appkey": None}, 201),
        ({"phone": None}, 201),
        ({"phone": " , "}, 201),
        ({"phone": "+6281234567890"}, 201),
        ({"checkLevel": "4"}, 201),
        ({"checkLevel": True}, 201),
        ({"batchNo": 12345}, 201),
        ({"drUrl": 1}, 201),
        ({"phone": "6281234567890,447911123456"}, 201),
        ({"appkey": "no-such-app"}, 202),
        ({"phone": "999123456"}, 203),
        ({"checkLevel": 2}, 207),
        ({"appkey": data.NXCLOUD_BASIC_APPKEY}, 210),
        ({"batchNo": "b" * 65}, 212),
    ],
)
def test_submit_errors(backend: NxCloudBackend, integrator: Account, body: dict[str, Any], code: int) -> None:
    request = {"appkey": APPKEY, "phone": "6281234567890", **body}
    assert error_code(backend.submit_number_check, integrator, request) == code


def test_multi_country_message_names_the_problem(backend: NxCloudBackend, integrator: Account) -> None:
    with pytest.raises(NxCloudError, match="more than one country"):
        submit(backend, integrator, "6281234567890,14155550123")


def test_batch_no_of_64_characters_is_accepted(backend: NxCloudBackend, integrator: Account) -> None:
    assert submit(backend, integrator, "6281234567890", batchNo="b" * 64)["batchNo"] == "b" * 64


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"page": 0}, "page"),
        ({"page": "1"}, "page"),
        ({"pageSize": 0}, "pageSize must be between 1 and 100"),
        ({"pageSize": 101}, "pageSize must be between 1 and 100"),
        ({"date": "2024/01/01"}, r"Incorrect date format \[yyyy-MM-dd\]"),
        ({"date": "2024-13-01"}, r"Incorrect date format \[yyyy-MM-dd\]"),
        ({"date": None}, r"Incorrect date format \[yyyy-MM-dd\]"),
        ({"batchNo": None}, "batchNo and messageId cannot be empty at the same time"),
        ({"batchNo": ""}, "batchNo and messageId cannot be empty at the same time"),
        ({"phone": 6281234567890}, "phone"),
    ],
)
def test_query_parameter_errors_are_88(
    backend: NxCloudBackend, integrator: Account, clock: SandboxClock, body: dict[str, Any], message: str
) -> None:
    with pytest.raises(NxCloudError, match=message) as raised:
        query(backend, integrator, clock, **{"batchNo": "any", **body})
    assert raised.value.code == 88


def test_query_appkey_errors(backend: NxCloudBackend, integrator: Account, clock: SandboxClock) -> None:
    assert error_code(query, backend, integrator, clock, batchNo="any", appkey="no-such-app") == 202
    assert (
        error_code(query, backend, integrator, clock, batchNo="any", appkey=data.NXCLOUD_BASIC_APPKEY) == 210
    )


def test_query_filters_by_phone_appkey_and_customer(
    backend: NxCloudBackend, integrator: Account, basic: Account, clock: SandboxClock
) -> None:
    submit(backend, integrator, "6281234567890,6281234567891", batchNo="shared")
    submit(backend, integrator, "6281234567892", batchNo="shared", appkey=data.NXCLOUD_LIST_APPKEY)
    backend.submit_number_check(
        basic, {"appkey": data.NXCLOUD_BASIC_APPKEY, "phone": "6281234567893", "batchNo": "shared"}
    )
    clock.advance(3)
    assert query(backend, integrator, clock, batchNo="shared")["totalSize"] == 3
    assert [r["phone"] for r in query(backend, basic, clock, batchNo="shared")["result"]] == ["6281234567893"]
    by_phone = query(backend, integrator, clock, batchNo="shared", phone="6281234567891")["result"]
    assert [r["phone"] for r in by_phone] == ["6281234567891"]
    by_app = query(backend, integrator, clock, batchNo="shared", appkey=data.NXCLOUD_LIST_APPKEY)["result"]
    assert [r["phone"] for r in by_app] == ["6281234567892"]


def test_query_matches_the_submit_date_only(
    backend: NxCloudBackend, integrator: Account, clock: SandboxClock
) -> None:
    submit(backend, integrator, "6281234567890", batchNo="dated")
    clock.advance(3)
    assert query(backend, integrator, clock, batchNo="dated")["totalSize"] == 1
    assert query(backend, integrator, clock, batchNo="dated", date=today(clock, -1))["totalSize"] == 0


def test_results_older_than_14_days_are_gone(
    backend: NxCloudBackend, integrator: Account, clock: SandboxClock
) -> None:
    backend.preload_batch("kept", 3, date=today(clock, -14))
    backend.preload_batch("expired", 3, date=today(clock, -15))
    assert query(backend, integrator, clock, batchNo="kept", date=today(clock, -14))["totalSize"] == 3
    assert query(backend, integrator, clock, batchNo="expired", date=today(clock, -15))["totalSize"] == 0
    submitted_on = today(clock)
    submit(backend, integrator, "6281234567890", batchNo="aging")
    clock.advance(3)
    clock.set_offset(clock.offset_seconds + 15 * 86_400)
    result = query(backend, integrator, clock, batchNo="aging", date=submitted_on)
    assert (result["totalSize"], result["result"]) == (0, [])


def test_preloading_100k_results_makes_page_1000_the_tail(
    backend: NxCloudBackend, integrator: Account, clock: SandboxClock
) -> None:
    # How fast it is stays out of the assertions (a loaded machine is slow): make bench preloads too.
    preload = backend.preload_batch("big", 100_000)
    assert preload == {
        "batch_no": "big",
        "message_id": preload["message_id"],
        "count": 100_000,
        "date": today(clock),
    }
    page = query(backend, integrator, clock, batchNo="big", page=1000)
    assert (page["totalSize"], page["totalPage"], len(page["result"])) == (100_000, 1000, 100)
    assert all(r["messageId"].startswith(f"{preload['message_id']}-") for r in page["result"])
    first = query(backend, integrator, clock, batchNo="big", pageSize=1)["result"][0]["phone"]
    last = page["result"][-1]["phone"]
    assert int(last) - int(first) == 99_999  # distinct numbers
    for phone in (first, last):
        assert phone.startswith("62812")
        assert phonenumbers.is_valid_number(phonenumbers.parse("+" + phone))


def test_preloaded_records_are_compact(backend: NxCloudBackend) -> None:
    backend.preload_batch("warm-up", 1)
    tracemalloc.start()
    try:
        backend.preload_batch("sized", 10_000)
        used, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert used / 10_000 < 600  # bytes per record, so 100k records stay well under 100 MB


@pytest.mark.parametrize(
    "kwargs",
    [
        {"batch_no": ""},
        {"batch_no": "b" * 65},
        {"count": 0},
        {"count": 1_000_000},
        {"date": "yesterday"},
        {"appkey": "no-such-app"},
        {"check_level": 3},
    ],
)
def test_preload_rejects_bad_arguments(backend: NxCloudBackend, kwargs: dict[str, Any]) -> None:
    arguments = {"batch_no": "ok", "count": 1, **kwargs}
    with pytest.raises(ValueError):
        backend.preload_batch(**arguments)
