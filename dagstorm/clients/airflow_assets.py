"""Airflow 3's assets over plain REST: an asset's id, its events, its queued runs.

The generated client's models lag the server's (fields are added release by
release), so these few reads are plain JSON through a ``request`` callable that
the caller authenticates (and renews its token in). Every list is read page by
page until the server's ``total_entries``, bounded by :data:`MAX_PAGES`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

import httpx

#: Items per request (Airflow caps a page at its ``maximum_page_limit``, 100 by default).
PAGE_SIZE = 100
#: Requests per listing at most: every read is bounded.
MAX_PAGES = 200


class Request(Protocol):
    """``request(method, path, params=…, json=…)``: one authenticated call to the REST API."""

    def __call__(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> httpx.Response:
        """Send it; the response whatever its status."""


def pages(request: Request, path: str, key: str, params: dict[str, Any]) -> Iterator[Any]:
    """The items under ``key`` of every page of ``path`` (raises on an HTTP error)."""
    offset = 0
    for _ in range(MAX_PAGES):
        response = request("GET", path, params={**params, "limit": PAGE_SIZE, "offset": offset})
        response.raise_for_status()
        body = response.json()
        items = list(body.get(key) or [])
        yield from items
        offset += len(items)
        if not items or offset >= int(body.get("total_entries") or 0):
            return


def asset_id_of(request: Request, asset: str) -> int | None:
    """The id of the asset whose name or URI is exactly ``asset``; None if there is none.

    The server's ``name_pattern`` / ``uri_pattern`` are case-insensitive substring
    matches (``_`` is a wildcard there): every page of candidates is read, and only
    an exact name or URI is taken.
    """
    for search in ("name_pattern", "uri_pattern"):
        for item in pages(request, "/api/v2/assets", "assets", {search: asset, "order_by": "id"}):
            if asset in (item.get("name"), item.get("uri")):
                return int(item["id"])
    return None


def asset_events(
    request: Request, asset_id: int, *, since: str | None = None, wanted: set[int] | None = None
) -> list[dict[str, Any]]:
    """The events of asset ``asset_id`` (at or after ISO time ``since``), newest first.

    With ``wanted``, reading stops once every event id in it was seen.
    """
    params: dict[str, Any] = {"asset_id": asset_id, "order_by": "-timestamp"}
    if since is not None:
        params["timestamp_gte"] = since
    found: list[dict[str, Any]] = []
    left = set(wanted) if wanted is not None else None
    for event in pages(request, "/api/v2/assets/events", "asset_events", params):
        found.append(event)
        if left is not None:
            left.discard(int(event.get("id", -1)))
            if not left:
                break
    return found


def queued_runs(request: Request, asset_id: int) -> list[dict[str, Any]]:
    """The DAG runs waiting to be created from events on ``asset_id`` (``dag_id``, ``created_at``).

    One per consumer DAG: Airflow queues a DAG once, and its next scheduler loop
    creates the run from the events up to that moment.
    """
    response = request("GET", f"/api/v2/assets/{asset_id}/queuedEvents")
    if response.status_code == 404:  # nothing queued (older servers answer so)
        return []
    response.raise_for_status()
    return list(response.json().get("queued_events") or [])


def authenticated(base_url: str, token: Callable[[bool], str], client: httpx.Client) -> Request:
    """A :class:`Request` on ``client``, with ``token(renew)`` as bearer (renewed once on 401)."""

    def request(
        method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> httpx.Response:
        url = f"{base_url.rstrip('/')}{path}"

        def send(renew: bool) -> httpx.Response:
            headers = {"Authorization": f"Bearer {token(renew)}"}
            return client.request(method, url, params=params, json=json, headers=headers)

        response = send(False)
        return send(True) if response.status_code == 401 else response

    return request
