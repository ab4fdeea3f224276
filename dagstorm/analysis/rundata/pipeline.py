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
from pathlib import Path
from typing import Any

from dagstorm.core.errors import DagstormError
from dagstorm.profiles.loader import default_profile
from dagstorm.run.rundir import RunDirectory

__all__ = ["CheckFigures", "PipelineInfo", "read_pipeline"]


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
class PipelineInfo:
    """The profile's name and stage map, and the output checks' figures."""

    name: str | None
    stages: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    checks: tuple[CheckFigures, ...] = ()
    #: Why the checks are absent (None when ``output_checks.json`` was read).
    checks_absent: str | None = None


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
    try:
        document = json.loads(directory.pipeline.read_text())
        name = str(document.get("name"))
        stages = {str(k): tuple(v) for k, v in (document.get("stages") or {}).items()}
    except FileNotFoundError:
        try:
            default = default_profile()
        except DagstormError:
            default = None
        if default is not None:
            name = default.profile.name
            stages = {k: tuple(v) for k, v in default.profile.stages.items()}
    except (OSError, ValueError, AttributeError):
        pass
    try:
        checks_doc = json.loads(directory.output_checks.read_text())
        rows = checks_doc.get("checks") or []
        checks = tuple(_figures(row) for row in rows if isinstance(row, Mapping))
        return PipelineInfo(name, stages, checks, None)
    except FileNotFoundError:
        return PipelineInfo(name, stages, (), f"no {RunDirectory.OUTPUT_CHECKS}")
    except (OSError, ValueError, AttributeError) as exc:
        return PipelineInfo(name, stages, (), f"{RunDirectory.OUTPUT_CHECKS} unreadable: {exc}")
