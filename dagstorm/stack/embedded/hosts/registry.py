"""The registry of worker hosts a stack made: ``<state dir>/run/worker-hosts.json``.

An entry is written *before* its namespace and link are made and removed only
after they are gone, so a dagstorm killed half-way still leaves a record of
everything it may have made; ``down`` and ``recover`` read it.
"""

from __future__ import annotations

import json
from pathlib import Path

from dagstorm.core.atomic import atomic_write
from dagstorm.stack.embedded.hosts.plan import HostPlan

REGISTRY_NAME = "worker-hosts.json"


def registry_path(state_dir: Path | str) -> Path:
    """Where the registry of the stack in ``state_dir`` lives."""
    return Path(state_dir) / "run" / REGISTRY_NAME


def read_registry(state_dir: Path | str) -> list[HostPlan]:
    """The registered hosts, by index; unreadable or foreign entries are skipped."""
    path = registry_path(state_dir)
    try:
        raw = json.loads(path.read_text())
        entries = raw["hosts"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    plans: dict[int, HostPlan] = {}
    resolved = str(Path(state_dir).resolve())
    for entry in entries if isinstance(entries, list) else []:
        try:
            plan = HostPlan.from_dict(entry)
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        if plan.state_dir == resolved:  # a copied state dir never claims another's hosts
            plans[plan.index] = plan
    return [plans[i] for i in sorted(plans)]


def _write(state_dir: str, plans: list[HostPlan]) -> None:
    path = registry_path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"hosts": [p.to_dict() for p in sorted(plans, key=lambda p: p.index)]}
    atomic_write(path, json.dumps(body, indent=2) + "\n", fsync=True)


def register(plan: HostPlan) -> None:
    """Record ``plan`` (replacing an entry of the same index)."""
    others = [p for p in read_registry(plan.state_dir) if p.index != plan.index]
    _write(plan.state_dir, [*others, plan])


def unregister(plan: HostPlan) -> None:
    """Forget ``plan`` (nothing if it is not registered)."""
    current = read_registry(plan.state_dir)
    kept = [p for p in current if p.index != plan.index]
    if len(kept) != len(current):
        _write(plan.state_dir, kept)
