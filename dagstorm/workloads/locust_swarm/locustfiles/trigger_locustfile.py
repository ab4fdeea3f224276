"""Locust users that trigger DAG runs through Airflow 3's REST API (``locust -f`` this file).

Like data scientists triggering runs by hand: each user fetches a JWT from
``POST /auth/token`` (credentials from ``DAGSTORM_AIRFLOW_USERNAME`` /
``DAGSTORM_AIRFLOW_PASSWORD`` in its environment), then POSTs
``/api/v2/dags/{dag}/dagRuns`` with the configured ``conf`` and waits. Locust's
HTTP client fires the request events; each trigger's outcome (run id included)
goes to dagstorm through the stats file, which becomes a ``dag_triggered`` event.
Each trigger asks for its own run id (``dagstorm__<stamp>_<random>__<swarm>_w<worker>_<n>``),
so one that errored can still be matched with the run Airflow created.
"""

from __future__ import annotations

import itertools
import os
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from locust import HttpUser, between, task

from dagstorm.workloads.locust_swarm.locustfiles.swarm_runtime import (
    RECORDS,
    WORKER,
    SwarmShape,
    config,
)
from dagstorm.workloads.locust_swarm.spec import TriggerUserSpec
from dagstorm.workloads.locust_swarm.stats_lines import TriggeredLine
from dagstorm.workloads.locust_swarm.swarm_config import PASSWORD_ENV, USERNAME_ENV

__all__ = ["AirflowTriggerUser", "SwarmShape"]


def _spec() -> TriggerUserSpec:
    spec = config().user
    if not isinstance(spec, TriggerUserSpec):
        raise RuntimeError("trigger_locustfile.py needs a `user: {kind: trigger}` config")
    return spec


#: The run ids this worker asks for: ``<prefix>_<n>``, n counting from 1.
_RUN_PREFIX = (
    f"dagstorm__{datetime.now(UTC):%Y%m%dT%H%M%S}_{secrets.token_hex(3)}"
    f"__{config().name}_w{WORKER.index}"
)
_RUN_NUMBERS = itertools.count(1)


class AirflowTriggerUser(HttpUser):
    """POSTs one DAG run, waits ``wait`` seconds on average, repeats."""

    host = config().airflow_url
    wait_time = between(0.5 * _spec().wait, 1.5 * _spec().wait)

    def on_start(self) -> None:
        """Fetch a token."""
        self.token = ""
        self._renew_token()

    def _renew_token(self) -> None:
        credentials = {
            "username": os.environ.get(USERNAME_ENV, ""),
            "password": os.environ.get(PASSWORD_ENV, ""),
        }
        response = self.client.post("/auth/token", json=credentials, name="/auth/token")
        if response.status_code in (200, 201):
            self.token = str(response.json().get("access_token", ""))

    @task
    def trigger(self) -> None:
        """One POST dagRuns; its outcome goes to the stats file."""
        spec = _spec()
        conf: dict[str, Any] = {**spec.conf, "dagstorm_storm": config().name}
        asked = f"{_RUN_PREFIX}_{next(_RUN_NUMBERS)}"
        body = {"logical_date": None, "conf": conf, "dag_run_id": asked}
        with WORKER.request_slot():
            started = time.perf_counter()
            run_id: str | None = asked
            error: str | None = None
            ok = False
            with self.client.post(
                f"/api/v2/dags/{spec.dag}/dagRuns",
                json=body,
                headers={"Authorization": f"Bearer {self.token}"},
                name=f"/api/v2/dags/{spec.dag}/dagRuns",
                catch_response=True,
                context={RECORDS: 1},
            ) as response:
                status = response.status_code
                if status in (200, 201):
                    run_id = response.json().get("dag_run_id") or asked
                    ok = True
                    response.success()
                else:
                    error = (response.text or f"HTTP {status}")[:200]
                    response.failure(error)
            if status == 401:
                self._renew_token()
            WORKER.triggered.append(
                TriggeredLine(
                    worker=WORKER.index,
                    dag_id=spec.dag,
                    run_id=run_id,
                    ok=ok,
                    status=status,
                    latency_ms=round((time.perf_counter() - started) * 1000, 1),
                    error=error,
                    conf=conf,
                )
            )
