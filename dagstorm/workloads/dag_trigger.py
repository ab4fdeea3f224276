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
from dagstorm.clients.airflow_assets import Request, asset_id_of, authenticated
from dagstorm.stack.endpoints import Stack

#: How long an asset that was not found is not looked up again (a storm may send 200/s).
MISSING_ASSET_RETRY_S = 5.0


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
    #: The asset event's id (an asset event that Airflow accepted).
    event_id: int | None = None

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
        if self.event_id is not None:
            fields["asset_event_id"] = self.event_id
        return fields


class DagTrigger:
    """DAG runs and asset events through the REST API, with a cached token (renewed on 401)."""

    def __init__(self, stack: Stack, *, timeout: float = 10.0) -> None:
        self.stack = stack
        self._client = httpx.Client(timeout=timeout)
        self._token: str | None = None
        #: Asset ids by the name or URI a scenario gave; when one was last not found.
        self._asset_ids: dict[str, int] = {}
        self._missing_until: dict[str, float] = {}

    def trigger(self, dag_id: str, conf: dict[str, Any], run_id: str | None = None) -> Triggered:
        """Create a DAG run now; never raises for HTTP or network errors."""
        body: dict[str, Any] = {"logical_date": None, "conf": conf}
        if run_id:
            body["dag_run_id"] = run_id
        started = time.monotonic()
        try:
            response = self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", json=body)
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

        The outcome names no run (the scheduler starts the runs later, as it does
        for a producer's update) but the event's id, which Airflow's record of the
        event links to the runs it started (docs/own-pipeline.md).
        """
        started = time.monotonic()
        try:
            asset_id = self._asset_id(asset)
            if asset_id is None:
                return Triggered(
                    dag_id,
                    None,
                    False,
                    0,
                    _ms_since(started),
                    f"no asset named or with URI {asset!r} on this Airflow"
                    " (is a DAG that uses it parsed?)",
                )
            body = {"asset_id": asset_id, "extra": extra}
            response = self.api("POST", "/api/v2/assets/events", json=body)
        except httpx.HTTPStatusError as exc:  # the asset lookup was refused
            status = exc.response.status_code
            took = _ms_since(started)
            return Triggered(dag_id, None, False, status, took, exc.response.text[:200])
        except Exception as exc:  # noqa: BLE001 - never raises: the outcome says what failed
            return Triggered(dag_id, None, False, 0, _ms_since(started), _error_text(exc))
        took = _ms_since(started)
        if response.status_code in (200, 201):
            event_id = response.json().get("id")
            return Triggered(
                dag_id,
                None,
                True,
                response.status_code,
                took,
                event_id=int(event_id) if event_id is not None else None,
            )
        return Triggered(dag_id, None, False, response.status_code, took, response.text[:200])

    def _asset_id(self, asset: str) -> int | None:
        """The asset's id: looked up once when found; not again within 5 s when not."""
        if asset in self._asset_ids:
            return self._asset_ids[asset]
        if time.monotonic() < self._missing_until.get(asset, 0.0):
            return None
        found = asset_id_of(self.api, asset)
        if found is None:
            self._missing_until[asset] = time.monotonic() + MISSING_ASSET_RETRY_S
        else:
            self._asset_ids[asset] = found
        return found

    @property
    def api(self) -> Request:
        """Authenticated plain requests to the REST API (a path, not a URL)."""
        return authenticated(self.stack.endpoint("airflow"), self._token_value, self._client)

    def _token_value(self, renew: bool) -> str:
        if self._token is None or renew:
            self._token = fetch_token(*self.stack.airflow_login())
        return self._token

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
