"""Paging that loses and doubles nothing, whatever order a service serves its results in.

The sandbox keeps pages stable (results only append), which is one possibility; a service may as
well sort newest first or reorder as results arrive. These replayed services move records across
page boundaries between two page requests, the way such a service would.
"""

from __future__ import annotations

import datetime as dt
import json

from tests.replay import Answer, Received

TODAY = dt.datetime.now(dt.timezone.utc).date().isoformat()
QUERY = "/api/number/query"


def record(n: int, message_id: str = "33f7c158a4194abe9ccdf3eac34a8422-000001") -> dict:
    # Several phones share one messageId, as in NxCloud's own example: identity is id and phone.
    return {"messageId": message_id, "batchNo": "b-1", "phone": f"62812000{n:05d}", "preCheck": "YES"}


class MovingResults:
    """Serves ``records`` in pages; before serving page ``at_page``, ``change`` rearranges them."""

    def __init__(self, records: list[dict], change, at_page: int = 2) -> None:
        self.records = list(records)
        self.change = change
        self.at_page = at_page
        self.changed = False

    def __call__(self, request: Received) -> Answer:
        body = json.loads(request.body)
        page, size = body["page"], body["pageSize"]
        if page == self.at_page and not self.changed:
            self.records = self.change(self.records)
            self.changed = True
        chunk = self.records[(page - 1) * size : page * size]
        data = {
            "result": chunk,
            "totalSize": len(self.records),
            "totalPage": -(-len(self.records) // size),
            "page": page,
            "pageSize": size,
        }
        return Answer.json({"code": 0, "msg": "Request successful", "data": data})


def test_a_result_arriving_on_top_while_paging_is_neither_lost_nor_doubled(nxcloud, replay):
    # Newest first: a new record pushes the last record of page 1 onto page 2.
    originals = [record(n) for n in range(150)]
    replay.set(QUERY, MovingResults(originals, lambda rs: [record(999), *rs]))
    got = list(nxcloud.iter_number_check_results(TODAY, batch_no="b-1"))
    assert sorted(r["phone"] for r in got) == sorted(r["phone"] for r in [*originals, record(999)])


def test_a_record_moving_to_an_earlier_page_while_paging_is_not_lost(nxcloud, replay):
    # Page 1 has been read when the first record of page 2 moves to the top.
    originals = [record(n) for n in range(150)]
    replay.set(QUERY, MovingResults(originals, lambda rs: [rs[100], *rs[:100], *rs[101:]]))
    got = list(nxcloud.iter_number_check_results(TODAY, batch_no="b-1"))
    assert len(got) == 150
    assert {r["phone"] for r in got} == {r["phone"] for r in originals}


def test_records_that_do_not_move_cost_one_request_per_page(nxcloud, replay):
    originals = [record(n) for n in range(250)]
    replay.set(QUERY, MovingResults(originals, lambda rs: rs))
    assert len(list(nxcloud.iter_number_check_results(TODAY, batch_no="b-1"))) == 250
    assert replay.count(QUERY) == 3


def test_a_service_counting_records_it_never_serves_is_read_a_bounded_number_of_times(nxcloud, replay):
    # totalSize says 3 but only 2 ever come: the walk reads again, then stops.
    def route(request: Received) -> Answer:
        data = {"result": [record(1), record(2)], "totalSize": 3, "totalPage": 1, "page": 1, "pageSize": 100}
        return Answer.json({"code": 0, "msg": "ok", "data": data})

    replay.set(QUERY, route)
    assert len(list(nxcloud.iter_number_check_results(TODAY, batch_no="b-1"))) == 2
    assert replay.count(QUERY) == 3
