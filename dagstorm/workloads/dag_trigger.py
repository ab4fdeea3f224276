"""Starting DAG runs through Airflow's REST API (one plain, authenticated POST).

Either a run of the DAG (``POST /api/v2/dags/{dag_id}/dagRuns``) or an event on an
asset the DAG is scheduled on (``POST /api/v2/assets/events``), after which the
scheduler starts the DAG's run itself.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from dagstorm.clients.airflow import fetch_token
from dagstorm.stack.endpoints import Stack


def run_id_prefix(workload: str) -> str:
    """``dagstorm__<UTC stamp>_<random>__<workload>``: run ids a trigger asks for start so.

    A trigger that asks for its own ``dag_run_id`` can be matched with the run
    Airflow created even when the request errored (a timeout after the commit).
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"dagstorm__{stamp}_{secrets.token_hex(3)}__{workload}"


@dataclass(frozen=True)
class Triggered:
    """Outcome of one trigger."""

    dag_id: str
    run_id: str | None
    ok: bool
    status: int
    latency_ms: float
    error: str = ""

    def event(self, workload: str, conf: dict[str, Any] | None = None) -> dict[str, Any]:
        """The fields of its ``dag_triggered`` journal event."""
        fields: dict[str, Any] = {
            "dag_id": self.dag_id,
            "run_id": self.run_id,
            "ok": self.ok,
            "status": self.status,
            "latency_ms": round(self.latency_ms, 1),
            "error": self.error or None,
            "workload": workload,
        }
        if conf is not None:
            fields["conf"] = conf
        return fields


class DagTrigger:
    """DAG runs and asset events through the REST API, with a cached token (renewed on 401)."""

    def __init__(self, stack: Stack, *, timeout: float = 10.0) -> None:
        self.stack = stack
        self._client = httpx.Client(timeout=timeout)
        self._token: str | None = None
        #: Asset ids by the name or URI a scenario gave.
        self._asset_ids: dict[str, int] = {}

    def _headers(self, renew: bool = False) -> dict[str, str]:
        if self._token is None or renew:
            self._token = fetch_token(*self.stack.airflow_login())
        return {"Authorization": f"Bearer {self._token}"}

    def trigger(self, dag_id: str, conf: dict[str, Any], run_id: str | None = None) -> Triggered:
        """Create a DAG run now; never raises for HTTP or network errors."""
        body: dict[str, Any] = {"logical_date": None, "conf": conf}
        if run_id:
            body["dag_run_id"] = run_id
        url = f"{self.stack.endpoint('airflow')}/api/v2/dags/{dag_id}/dagRuns"
        started = time.monotonic()
        try:
            response = self._request("POST", url, json=body)
        except Exception as exc:  # noqa: BLE001 - never raises: the outcome says what failed
            return Triggered(dag_id, run_id, False, 0, _ms_since(started), _error_text(exc))
        took = _ms_since(started)
        if response.status_code in (200, 201):
            return Triggered(
                dag_id, response.json().get("dag_run_id"), True, response.status_code, took
            )
        return Triggered(dag_id, run_id, False, response.status_code, took, response.text[:200])

    def asset_event(self, dag_id: str, asset: str, extra: dict[str, Any]) -> Triggered:
        """Post an event on ``asset`` (name or URI) for ``dag_id``'s runs; never raises.

        The outcome names no run: the scheduler starts the run later, and several
        events queued before its next loop start one run.
        """
        started = time.monotonic()
        try:
            asset_id = self._asset_id(asset)
            if asset_id is None:
                return Triggered(
                    dag_id,
                    None,
                    False,
                    404,
                    _ms_since(started),
                    f"no asset named or with URI {asset!r} on this Airflow"
                    " (is the DAG that uses it parsed?)",
                )
            url = f"{self.stack.endpoint('airflow')}/api/v2/assets/events"
            response = self._request("POST", url, json={"asset_id": asset_id, "extra": extra})
        except httpx.HTTPStatusError as exc:  # the asset lookup was refused
            status = exc.response.status_code
            took = _ms_since(started)
            return Triggered(dag_id, None, False, status, took, exc.response.text[:200])
        except Exception as exc:  # noqa: BLE001 - never raises: the outcome says what failed
            return Triggered(dag_id, None, False, 0, _ms_since(started), _error_text(exc))
        took = _ms_since(started)
        if response.status_code in (200, 201):
            return Triggered(dag_id, None, True, response.status_code, took)
        return Triggered(dag_id, None, False, response.status_code, took, response.text[:200])

    def _asset_id(self, asset: str) -> int | None:
        """The id of the asset whose name or URI is ``asset`` (looked up once when found)."""
        if asset in self._asset_ids:
            return self._asset_ids[asset]
        url = f"{self.stack.endpoint('airflow')}/api/v2/assets"
        for search in ("name_pattern", "uri_pattern"):
            response = self._request("GET", url, params={search: asset, "limit": 100})
            response.raise_for_status()
            for item in response.json().get("assets", []):
                if asset in (item.get("name"), item.get("uri")):
                    self._asset_ids[asset] = int(item["id"])
                    return self._asset_ids[asset]
        return None

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = self._client.request(method, url, headers=self._headers(), **kwargs)
        if response.status_code == 401:
            response = self._client.request(
                method, url, headers=self._headers(renew=True), **kwargs
            )
        return response

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()


def _ms_since(started: float) -> float:
    return (time.monotonic() - started) * 1000


def _error_text(exc: Exception) -> str:
    """A transport error by its class (``ReadTimeout``), anything else by its message."""
    if isinstance(exc, (httpx.HTTPError, OSError)):
        return type(exc).__name__
    return str(exc)[:200]
