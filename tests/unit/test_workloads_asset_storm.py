"""A trigger storm with `asset`: events posted on the asset, through a fake Airflow API.

The real Airflow is in tests/integration/test_fleet.py; here the requests
themselves: the asset looked up once by exact name or URI over every page of the
server's substring matches, the event's body and id, 401 renewal, and failures
turned into outcomes (a storm never raises on one request).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

from dagstorm.run.clock import FakeClock
from dagstorm.run.journal import RunJournal
from dagstorm.stack.endpoints import Stack
from dagstorm.workloads.dag_trigger import DagTrigger
from dagstorm.workloads.trigger_storm import TriggerStorm
from tests.unit.stacks import airflow_stack

ASSETS: list[dict[str, Any]] = [
    {"id": 7, "name": "campaigns_v2", "uri": "s3://ads/campaigns_v2"},
    {"id": 3, "name": "campaigns", "uri": "s3://ads/campaigns"},
]


def _stack() -> Stack:
    return airflow_stack(airflow_url="http://airflow.test")


class FakeAirflow:
    """GET /api/v2/assets (name_pattern / uri_pattern: case-insensitive substring, paged)
    and POST its events (each gets an id)."""

    def __init__(self, *, post: Callable[[httpx.Request], httpx.Response] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.events: list[dict[str, Any]] = []
        self._post = post

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/api/v2/assets" and request.method == "GET":
            name = (request.url.params.get("name_pattern") or "").lower() or None
            uri = (request.url.params.get("uri_pattern") or "").lower() or None
            found = [
                a
                for a in ASSETS
                if (name is not None and name in a["name"].lower())
                or (uri is not None and uri in a["uri"].lower())
            ]
            offset = int(request.url.params.get("offset", 0))
            limit = min(100, int(request.url.params.get("limit", 50)))
            page = found[offset : offset + limit]
            return httpx.Response(200, json={"assets": page, "total_entries": len(found)})
        if request.url.path == "/api/v2/assets/events" and request.method == "POST":
            if self._post is not None:
                return self._post(request)
            body = json.loads(request.content)
            self.events.append(body)
            return httpx.Response(200, json={"id": 100 + len(self.events), **body})
        return httpx.Response(404, json={"detail": "not here"})


def _trigger(fake: FakeAirflow) -> DagTrigger:
    trigger = DagTrigger(_stack())
    trigger._client = httpx.Client(transport=httpx.MockTransport(fake.handler))
    trigger._token = "token"  # a token was fetched already
    return trigger


def test_an_event_goes_to_the_asset_of_that_exact_name_looked_up_once() -> None:
    fake = FakeAirflow()
    trigger = _trigger(fake)
    first = trigger.asset_event("audience", "campaigns", {"dagstorm_storm": "s", "n": 1})
    second = trigger.asset_event("audience", "campaigns", {"dagstorm_storm": "s", "n": 2})
    assert (first.ok, first.status, first.run_id, first.dag_id) == (True, 200, None, "audience")
    assert (first.event_id, second.event_id) == (101, 102)
    assert first.event("feed")["asset_event_id"] == 101
    # "campaigns" is a substring of both names: the exact one (id 3) is chosen.
    assert [e["asset_id"] for e in fake.events] == [3, 3]
    assert [e["extra"] for e in fake.events] == [
        {"dagstorm_storm": "s", "n": 1},
        {"dagstorm_storm": "s", "n": 2},
    ]
    lookups = [r for r in fake.requests if r.method == "GET"]
    assert len(lookups) == 1
    assert all(r.headers["authorization"] == "Bearer token" for r in fake.requests)


def test_an_asset_is_found_by_its_uri_too() -> None:
    fake = FakeAirflow()
    outcome = _trigger(fake).asset_event("audience", "s3://ads/campaigns_v2", {})
    assert outcome.ok
    assert [e["asset_id"] for e in fake.events] == [7]


def test_an_unknown_asset_is_a_failed_request_that_says_so() -> None:
    fake = FakeAirflow()
    trigger = _trigger(fake)
    outcome = trigger.asset_event("audience", "nowhere", {})
    # No HTTP status: no request was refused, the asset is not there.
    assert (outcome.ok, outcome.status) == (False, 0)
    assert "no asset named or with URI 'nowhere'" in outcome.error
    assert fake.events == []
    asked = len(fake.requests)
    assert not trigger.asset_event("audience", "nowhere", {}).ok
    assert len(fake.requests) == asked  # not looked up again at once (a storm sends 200/s)
    # Looked up again later: an asset that appears (its DAG parsed late) is found then.
    ASSETS.append({"id": 9, "name": "nowhere", "uri": "nowhere"})
    try:
        trigger._missing_until["nowhere"] = 0.0  # the retry delay is over
        assert trigger.asset_event("audience", "nowhere", {}).ok
    finally:
        ASSETS.pop()


def test_the_exact_asset_is_found_past_the_first_page_of_substring_matches() -> None:
    fake = FakeAirflow()
    many = [{"id": 1000 + n, "name": f"Campaigns_{n}", "uri": f"x://{n}"} for n in range(150)]
    ASSETS[:0] = many  # 150 names that contain "campaigns" (case-insensitively) come first
    try:
        assert _trigger(fake).asset_event("audience", "campaigns", {}).ok
    finally:
        del ASSETS[: len(many)]
    assert [e["asset_id"] for e in fake.events] == [3]
    offsets = [r.url.params.get("offset") for r in fake.requests if r.method == "GET"]
    assert offsets == ["0", "100"]


def test_a_refused_post_and_a_dead_api_are_outcomes_not_exceptions() -> None:
    refused = FakeAirflow(post=lambda _: httpx.Response(403, text="forbidden"))
    outcome = _trigger(refused).asset_event("audience", "campaigns", {})
    assert (outcome.ok, outcome.status, outcome.error) == (False, 403, "forbidden")

    def dead(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    trigger = DagTrigger(_stack())
    trigger._client = httpx.Client(transport=httpx.MockTransport(dead))
    trigger._token = "token"
    outcome = trigger.asset_event("audience", "campaigns", {})
    assert (outcome.ok, outcome.status, outcome.error) == (False, 0, "ConnectError")


def test_an_expired_token_is_renewed_once(monkeypatch: Any) -> None:
    fake = FakeAirflow()
    trigger = _trigger(fake)
    trigger._token = "old"
    handler = fake.handler

    def expiring(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] == "Bearer old":
            return httpx.Response(401)
        return handler(request)

    trigger._client = httpx.Client(transport=httpx.MockTransport(expiring))
    monkeypatch.setattr("dagstorm.workloads.dag_trigger.fetch_token", lambda *_: "new")
    assert trigger.asset_event("audience", "campaigns", {}).ok
    assert trigger._token == "new"


class _StopAfter(FakeClock):
    """A fake clock that stops the storm after ``n`` waits."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.left = n

    def wait(self, event: Any, seconds: float) -> bool:
        self.left -= 1
        if self.left < 0:
            event.set()
        return super().wait(event, seconds)


def test_the_storm_journals_each_event_with_its_asset_and_no_run_id(tmp_path: Path) -> None:
    fake = FakeAirflow()
    clock = _StopAfter(4)
    with RunJournal(tmp_path / "journal.jsonl", clock) as journal:
        storm = TriggerStorm(
            "feed",
            journal,
            clock,
            stack=_stack(),
            dag="audience",
            rate=2.0,
            max_total=3,
            conf={},
            asset="campaigns",
        )
        storm.trigger = _trigger(fake)
        storm.run()
    events = [orjson.loads(line) for line in (tmp_path / "journal.jsonl").read_bytes().splitlines()]
    triggered = [e for e in events if e["kind"] == "dag_triggered"]
    assert len(triggered) == 3 == len(fake.events)  # bounded by max_total
    assert {(e["dag_id"], e["asset"], e["run_id"], e["ok"]) for e in triggered} == {
        ("audience", "campaigns", None, True)
    }
    assert [e["extra"]["n"] for e in fake.events] == [1, 2, 3]
    assert {e["extra"]["dagstorm_storm"] for e in fake.events} == {"feed"}
