"""The ad-hoc faults the TUI offers: presets for the targets the run's stack declares.

Plain Python (no Textual). The targets come from the run directory (``run_start``
``fault_targets``), so the menu never offers what the engine would refuse; each
preset is a fault spec (docs/faults.md) with a duration, after which the engine
reverts it (and at the end of the run at the latest).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FaultChoice:
    """One menu entry: what the user reads and what the engine is sent."""

    label: str
    spec: dict[str, Any]
    duration_s: float


#: (component, label, spec, seconds) for process faults, offered when the component is declared.
_COMPONENT_PRESETS: tuple[tuple[str, str, dict[str, Any], float], ...] = (
    ("kafka", "Kafka broker paused (SIGSTOP)", {"kind": "broker", "action": "pause"}, 30),
    ("kafka", "Kafka broker killed, restarted on revert", {"kind": "broker", "action": "kill"}, 60),
    (
        "spark-worker",
        "Spark worker lost, restarted on revert",
        {"kind": "spark", "action": "worker_loss"},
        60,
    ),
    (
        "airflow-scheduler",
        "Airflow scheduler killed, restarted on revert",
        {"kind": "airflow", "action": "kill", "component": "scheduler"},
        60,
    ),
    (
        "airflow-triggerer",
        "Airflow triggerer paused",
        {"kind": "airflow", "action": "pause", "component": "triggerer"},
        60,
    ),
)


def fault_choices(links: Sequence[str], components: Sequence[str]) -> list[FaultChoice]:
    """Network faults on every declared link, then process faults on declared components."""
    choices: list[FaultChoice] = []
    for link in links:
        choices.append(
            FaultChoice(
                f"{link}: latency 500 ms",
                {"kind": "network", "link": link, "effect": "latency", "latency_ms": 500},
                60,
            )
        )
        choices.append(
            FaultChoice(
                f"{link}: link down", {"kind": "network", "link": link, "effect": "down"}, 30
            )
        )
    for component, label, spec, seconds in _COMPONENT_PRESETS:
        if component in components:
            choices.append(FaultChoice(label, spec, seconds))
    return choices
