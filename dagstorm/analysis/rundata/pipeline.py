"""The pipeline a run tested: its profile's stage map and the output checks' figures.

Both come from the run directory: ``pipeline.json`` (the profile as resolved when
the run started) and ``output_checks.json`` (what each check found at the end).
A run directory written before profiles existed has no ``pipeline.json``: it
tested the default profile, whose stage map is used then.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from dagstorm.core.errors import DagstormError
from dagstorm.profiles.loader import default_profile
from dagstorm.run.rundir import RunDirectory

__all__ = ["CheckFigures", "DagDependency", "PipelineInfo", "read_pipeline"]


@dataclass(frozen=True)
class CheckFigures:
    """What one output check found (a row of ``output_checks.json``)."""

    name: str
    kind: str
    compare: str
    count: int | None
    distinct_ids: int | None
    id_column: str | None
    expected: int | None
    per_run: bool
    error: str | None
    #: What ``count`` counts: ``rows``, ``messages`` or ``lag``.
    measure: str = "rows"


@dataclass(frozen=True)
class DagDependency:
    """A DAG entry of the profile (an id, or a glob pattern) and the DAGs its runs wait for."""

    dag: str
    pattern: bool
    upstream: tuple[str, ...]

    def matches(self, dag_id: str) -> bool:
        """True when ``dag_id`` is this entry's DAG (or matches its pattern)."""
        return fnmatchcase(dag_id, self.dag) if self.pattern else dag_id == self.dag


def _dependencies(dags: Any) -> tuple[DagDependency, ...]:
    """Every DAG entry of a profile document, in order (entries match first to last)."""
    found: list[DagDependency] = []
    for entry in dags if isinstance(dags, list) else []:
        if not isinstance(entry, Mapping):
            continue
        pattern = entry.get("id") is None
        name = entry.get("pattern") if pattern else entry.get("id")
        if isinstance(name, str):
            upstream = tuple(str(u) for u in entry.get("upstream") or ())
            found.append(DagDependency(name, pattern, upstream))
    return tuple(found)


@dataclass(frozen=True)
class PipelineInfo:
    """The profile's name and stage map, and the output checks' figures."""

    name: str | None
    stages: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    checks: tuple[CheckFigures, ...] = ()
    #: Why the checks are absent (None when ``output_checks.json`` was read).
    checks_absent: str | None = None
    #: The profile's DAG entries with their declared ``upstream`` DAGs.
    dependencies: tuple[DagDependency, ...] = ()

    def upstream_of(self, dag_id: str) -> tuple[str, ...]:
        """The DAGs ``dag_id``'s runs wait for (its first matching entry's ``upstream``)."""
        entry = self.entry_of(dag_id)
        return entry.upstream if entry is not None else ()

    def entry_of(self, dag_id: str) -> DagDependency | None:
        """The profile entry ``dag_id`` belongs to (entries match first to last)."""
        return next((d for d in self.dependencies if d.matches(dag_id)), None)


def _figures(row: Mapping[str, Any]) -> CheckFigures:
    def number(key: str) -> int | None:
        value = row.get(key)
        return int(value) if isinstance(value, int | float) else None

    return CheckFigures(
        name=str(row.get("name")),
        kind=str(row.get("kind")),
        compare=str(row.get("compare", "count")),
        count=number("count"),
        distinct_ids=number("distinct_ids"),
        id_column=row.get("id_column") or None,
        expected=number("expected"),
        per_run=bool(row.get("per_run")),
        error=row.get("error") or None,
        measure=str(row.get("measure") or "rows"),
    )


def read_pipeline(run_dir: Path) -> PipelineInfo:
    """The pipeline of ``run_dir`` (see the module docstring)."""
    directory = RunDirectory(Path(run_dir))
    name: str | None = None
    stages: dict[str, tuple[str, ...]] = {}
    dependencies: tuple[DagDependency, ...] = ()
    try:
        document = json.loads(directory.pipeline.read_text())
        name = str(document.get("name"))
        stages = {str(k): tuple(v) for k, v in (document.get("stages") or {}).items()}
        dependencies = _dependencies(document.get("dags"))
    except FileNotFoundError:
        try:
            default = default_profile()
        except DagstormError:
            default = None
        if default is not None:
            name = default.profile.name
            stages = {k: tuple(v) for k, v in default.profile.stages.items()}
            dependencies = _dependencies(default.profile.model_dump(mode="json")["dags"])
    except (OSError, ValueError, AttributeError):
        pass
    try:
        checks_doc = json.loads(directory.output_checks.read_text())
        rows = checks_doc.get("checks") or []
        checks = tuple(_figures(row) for row in rows if isinstance(row, Mapping))
        return PipelineInfo(name, stages, checks, None, dependencies)
    except FileNotFoundError:
        return PipelineInfo(name, stages, (), f"no {RunDirectory.OUTPUT_CHECKS}", dependencies)
    except (OSError, ValueError, AttributeError) as exc:
        absent = f"{RunDirectory.OUTPUT_CHECKS} unreadable: {exc}"
        return PipelineInfo(name, stages, (), absent, dependencies)
