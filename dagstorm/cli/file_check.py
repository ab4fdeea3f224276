"""`dagstorm validate`'s check of one file: scenario, suite, stack config or pipeline profile."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dagstorm.core.durations import clock_text
from dagstorm.core.errors import ConfigError, ScenarioError
from dagstorm.core.problems import Problem
from dagstorm.profiles.loader import ProfileInvalid, is_profile_file, load_profile
from dagstorm.scenarios.loader import ScenarioInvalid, load_scenario
from dagstorm.scenarios.needs import unmet_needs
from dagstorm.scenarios.plan import build_plan
from dagstorm.scenarios.suite import is_suite_file, load_suite
from dagstorm.stack.config import StackConfig, load_stack_config


@dataclass
class FileCheck:
    """What `validate` found in one file."""

    path: Path
    kind: str
    valid: bool
    summary: str = ""
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    #: What the loader took from elsewhere (an SLA's deadline from the profile).
    notes: list[str] = field(default_factory=list)
    #: An error that is not a list of problems (its one rendered line).
    error: str = ""

    def lines(self) -> list[str]:
        """The stderr lines: each problem, the error, then each warning."""
        lines = [str(p) for p in self.problems]
        if self.error:
            lines.append(self.error)
        return lines + [str(w) for w in self.warnings]

    def as_dict(self) -> dict[str, Any]:
        """The file's entry in `validate --json`."""

        def problem(p: Problem) -> dict[str, str]:
            return {"where": p.where, "what": p.what, "fix": p.fix}

        problems = [problem(p) for p in self.problems]
        if self.error:
            problems.append({"where": str(self.path), "what": self.error, "fix": ""})
        return {
            "file": str(self.path),
            "kind": self.kind,
            "valid": self.valid,
            "summary": self.summary or None,
            "problems": problems,
            "warnings": [problem(w) for w in self.warnings],
            "notes": list(self.notes),
        }


def _kind(path: Path) -> str:
    if path.name.endswith((".stack.yaml", ".stack.yml")):
        return "stack"
    if is_profile_file(path):
        return "pipeline"
    try:
        return "suite" if is_suite_file(path) else "scenario"
    except (OSError, ScenarioError):
        return "scenario"


def check_file(path: Path, stack: StackConfig | None = None) -> FileCheck:
    """Load ``path`` as what it is; every problem and warning, never an exception.

    With ``stack``, a scenario is also checked against the parts that stack declares.
    """
    kind = _kind(path)
    try:
        if kind == "stack":
            config = load_stack_config(path, env={})
            return FileCheck(path, kind, True, f"stack config, kind {config.kind}")
        if kind == "pipeline":
            profile = load_profile(path).profile
            return FileCheck(
                path,
                kind,
                True,
                f"pipeline {profile.name}, {len(profile.dags)} DAG entr"
                f"{'y' if len(profile.dags) == 1 else 'ies'}, "
                f"{len(profile.outputs)} output check(s)",
            )
        if kind == "suite":
            suite = load_suite(path)
            return FileCheck(
                path,
                kind,
                True,
                f"suite {suite.name}, {len(suite.scenarios)} scenario(s), "
                f"{clock_text(suite.planned_s)} wall planned",
                warnings=[w for s in suite.scenarios for w in s.warnings],
            )
        loaded = load_scenario(path)
        plan = build_plan(loaded.scenario)
        if stack is not None:
            unmet = unmet_needs(loaded, stack.parts(), stack.source, stack.kind)
            if unmet:
                return FileCheck(path, kind, False, problems=unmet, warnings=loaded.warnings)
        return FileCheck(
            path,
            kind,
            True,
            f"{loaded.scenario.name}, {clock_text(loaded.scenario.duration)} wall "
            f"(sim {clock_text(plan.sim(loaded.scenario.duration))}), "
            f"{len(plan.windows)} fault(s), {len(loaded.scenario.slos)} SLO(s)",
            warnings=list(loaded.warnings),
            notes=list(loaded.notes),
        )
    except ScenarioInvalid as exc:
        return FileCheck(path, kind, False, problems=exc.problems, warnings=exc.warnings)
    except ProfileInvalid as exc:
        return FileCheck(path, kind, False, problems=exc.problems)
    except (ScenarioError, ConfigError) as exc:
        return FileCheck(path, kind, False, error=exc.render())
