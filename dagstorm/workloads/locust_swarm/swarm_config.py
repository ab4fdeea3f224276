"""What the harness tells the Locust processes: one JSON file, no secrets.

The harness writes it into the run directory and passes its path in the
environment (``DAGSTORM_LOCUST_CONFIG``); workers on other machines need a copy
(docs/locust.md). Credentials travel only in the environment
(``DAGSTORM_AIRFLOW_USERNAME`` / ``DAGSTORM_AIRFLOW_PASSWORD``).
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from dagstorm.core.atomic import atomic_write
from dagstorm.workloads.locust_swarm.spec import UserSpec
from dagstorm.workloads.traffic.shapes import Shape

CONFIG_ENV = "DAGSTORM_LOCUST_CONFIG"
USERNAME_ENV = "DAGSTORM_AIRFLOW_USERNAME"
PASSWORD_ENV = "DAGSTORM_AIRFLOW_PASSWORD"


class SwarmConfig(BaseModel):
    """One Locust run: users, shape, bounds, endpoints and where stats go."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    user: UserSpec
    workers: int = Field(ge=1)
    users: int = Field(ge=1)
    max_users: int = Field(ge=1)
    spawn_rate: float = Field(gt=0)
    shape: Shape | None = None
    compression: float = Field(1.0, gt=0)
    #: Wall seconds of load; then the master drains the workers and quits.
    duration_s: float = Field(gt=0)
    max_requests: int = Field(ge=1)
    #: Seconds the master waits for every worker's last stats after the load stops.
    drain_timeout_s: float = Field(gt=0)
    seed: int = Field(0, ge=0)
    kafka_bootstrap: str = ""
    airflow_url: str = ""
    #: The master appends stats lines here (:mod:`.stats_lines`).
    stats_path: Path
    #: The load winds down as soon as this file exists (the harness's stop).
    stop_path: Path
    #: While this file exists, users hold before their next request (the engine's pause).
    pause_path: Path | None = None

    def write(self, path: Path) -> Path:
        """Write atomically; returns ``path``."""
        return atomic_write(path, self.model_dump_json(indent=2))

    @classmethod
    def from_env(cls) -> SwarmConfig:
        """Read the file named by ``DAGSTORM_LOCUST_CONFIG`` (inside a Locust process)."""
        path = os.environ.get(CONFIG_ENV)
        if not path:
            raise RuntimeError(f"{CONFIG_ENV} is not set: dagstorm's locustfiles need their config")
        return cls.model_validate_json(Path(path).read_text())


def worker_quota(total: int, workers: int, index: int) -> int:
    """Worker ``index``'s share of ``total`` requests: shares differ by at most one, sum to it."""
    base, extra = divmod(total, workers)
    return base + (1 if index < extra else 0)
