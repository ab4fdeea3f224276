"""Triggering DAG runs through Airflow's REST API (one plain, authenticated POST)."""

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
    """POST /api/v2/dags/{dag_id}/dagRuns with a cached token (renewed on 401)."""

    def __init__(self, stack: Stack, *, timeout: float = 10.0) -> None:
        self.stack = stack
        self._client = httpx.Client(timeout=timeout)
        self._token: str | None = None

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
            response = self._client.post(url, json=body, headers=self._headers())
            if response.status_code == 401:
                response = self._client.post(url, json=body, headers=self._headers(renew=True))
        except (httpx.HTTPError, OSError) as exc:
            took = (time.monotonic() - started) * 1000
            return Triggered(dag_id, run_id, False, 0, took, type(exc).__name__)
        except Exception as exc:  # noqa: BLE001 - token fetch failures (unreachable API)
            took = (time.monotonic() - started) * 1000
            return Triggered(dag_id, run_id, False, 0, took, str(exc)[:200])
        took = (time.monotonic() - started) * 1000
        if response.status_code in (200, 201):
            return Triggered(
                dag_id, response.json().get("dag_run_id"), True, response.status_code, took
            )
        return Triggered(dag_id, run_id, False, response.status_code, took, response.text[:200])

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()
