"""The fleet's config (fleet.yaml, next to this file) read into the DAGs it describes.

Plain Python and PyYAML, no Airflow: fleet_dags.py (the factory) and
ingest_raw_events.py (the shared upstream, in a file of its own) both use it,
and so does the v2 of ingest_raw_events once it is deployed in v1's place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CONFIG_FILE = Path(__file__).with_name("fleet.yaml")
TIERS = ("critical", "standard", "experimental")
VIAS = ("sensor", "trigger", "asset")


@dataclass(frozen=True)
class FleetDag:
    """One downstream DAG of the fleet."""

    dag_id: str
    family: str
    tier: str
    #: How its runs depend on the upstream: ``sensor``, ``trigger`` or ``asset``.
    via: str
    upstream: str


@dataclass(frozen=True)
class Upstream:
    """A shared upstream DAG: its tier and the asset its ``publish`` task emits."""

    dag_id: str
    tier: str
    asset: str


@dataclass(frozen=True)
class Fleet:
    """The whole fleet, as fleet.yaml describes it."""

    schedule: str
    start_date: datetime
    pool: str
    pool_slots: int
    priority: dict[str, int]
    poke_interval: float
    sensor_timeout: float
    upstreams: tuple[Upstream, ...]
    dags: tuple[FleetDag, ...]

    def upstream(self, dag_id: str) -> Upstream:
        """The upstream ``dag_id``."""
        return next(u for u in self.upstreams if u.dag_id == dag_id)

    def downstream_of(self, dag_id: str, via: str) -> list[FleetDag]:
        """The DAGs that depend on upstream ``dag_id`` through ``via``."""
        return [d for d in self.dags if d.upstream == dag_id and d.via == via]


def _tier(index: int, count: int, critical: int, experimental: int) -> str:
    if index < critical:
        return "critical"
    if index >= count - experimental:
        return "experimental"
    return "standard"


def _family(raw: dict[str, Any], upstreams: set[str]) -> list[FleetDag]:
    name, via, upstream = str(raw["name"]), str(raw["via"]), str(raw["upstream"])
    count, critical = int(raw["count"]), int(raw.get("critical", 0))
    experimental = int(raw.get("experimental", 0))
    if via not in VIAS or upstream not in upstreams or critical + experimental > count:
        raise ValueError(f"fleet.yaml: family {name}: bad via, upstream or tier counts")
    return [
        FleetDag(
            f"fleet_{name}_{n + 1:02d}",
            name,
            _tier(n, count, critical, experimental),
            via,
            upstream,
        )
        for n in range(count)
    ]


@cache
def load_fleet(path: Path = CONFIG_FILE) -> Fleet:
    """The fleet of ``path`` (cached: one read per parse of a file)."""
    raw = yaml.safe_load(path.read_text())
    upstreams = tuple(
        Upstream(str(u["id"]), str(u["tier"]), str(u["asset"])) for u in raw["upstreams"]
    )
    ids = {u.dag_id for u in upstreams}
    dags = tuple(d for family in raw["families"] for d in _family(family, ids))
    if any(u.tier not in TIERS for u in upstreams):
        raise ValueError("fleet.yaml: an upstream's tier is not one of " + ", ".join(TIERS))
    return Fleet(
        schedule=str(raw["schedule"]),
        start_date=datetime.fromisoformat(str(raw["start_date"])),
        pool=str(raw["pool"]["name"]),
        pool_slots=int(raw["pool"]["slots"]),
        priority={tier: int(raw["priority"][tier]) for tier in TIERS},
        poke_interval=float(raw["sensor"]["poke_interval"]),
        sensor_timeout=float(raw["sensor"]["timeout"]),
        upstreams=upstreams,
        dags=dags,
    )
