"""Suite files: a list of scenarios run one after another (``dagstorm nightly``).

A suite is a YAML file with a top-level ``suite:`` name (that is how it is told
apart from a scenario)::

    suite: nightly
    description: every scenario, shortened to fit a nightly CI job
    budget: 80m                 # wall; the planned total must fit
    scenarios:
      - file: smoke.yaml        # relative to the suite file
      - file: spark-oom.yaml
        overrides:              # merged over the scenario like `extends`
          duration: 4m

Loading validates every listed scenario with its overrides, and reports every
problem at once (a missing file, an invalid override, a plan over budget), each
with ``file:line:column``. Nothing runs until the whole suite is valid.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dagstorm.core.durations import parse_duration
from dagstorm.core.errors import ScenarioError
from dagstorm.core.yamlsource import KeyPath, load_yaml
from dagstorm.scenarios.loader import LoadedScenario, Problem, ScenarioInvalid, load_scenario

__all__ = [
    "LoadedSuite",
    "SuiteEntry",
    "SuiteFile",
    "is_suite_file",
    "load_suite",
    "planned_wall_s",
]


class SuiteEntry(BaseModel):
    """One scenario of the suite, with its overrides."""

    model_config = ConfigDict(extra="forbid")

    file: str = Field(min_length=1)
    overrides: dict[str, Any] = Field(default_factory=dict)


class SuiteFile(BaseModel):
    """A suite file as written."""

    model_config = ConfigDict(extra="forbid")

    suite: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    description: str = ""
    #: Wall seconds the whole suite may take (durations + drains); None: no limit.
    budget: float | None = None
    scenarios: list[SuiteEntry] = Field(min_length=1)

    @field_validator("budget", mode="before")
    @classmethod
    def _budget(cls, value: Any) -> Any:
        return None if value is None else parse_duration(value)


@dataclass(frozen=True)
class LoadedSuite:
    """A valid suite: its scenarios loaded with their overrides, in order."""

    name: str
    description: str
    budget_s: float | None
    path: Path
    scenarios: tuple[LoadedScenario, ...]

    @property
    def planned_s(self) -> float:
        """Planned wall seconds of the whole suite (durations + drains)."""
        return sum(planned_wall_s(s) for s in self.scenarios)


def planned_wall_s(loaded: LoadedScenario) -> float:
    """A scenario's planned wall time: its duration plus the drain."""
    return loaded.scenario.duration + loaded.scenario.drain


def is_suite_file(path: Path) -> bool:
    """True if ``path`` looks like a suite (a top-level ``suite:`` key)."""
    try:
        with Path(path).open(encoding="utf-8", errors="replace") as handle:
            return any(line.startswith("suite:") for line in handle)
    except OSError:
        return False


def load_suite(path: Path, *, env: dict[str, str] | None = None) -> LoadedSuite:
    """Load ``path`` and every scenario it lists; :class:`ScenarioInvalid` lists every problem."""
    path = Path(path)
    doc = load_yaml(path, error=ScenarioError)
    try:
        suite = SuiteFile.model_validate(doc.data)
    except ValidationError as exc:
        invalid = [
            Problem(
                doc.where(tuple(e["loc"]), key=e["type"] == "extra_forbidden"),
                f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}",
                "see docs/nightly.md for the suite format",
            )
            for e in exc.errors()
        ]
        raise ScenarioInvalid(path, invalid) from None
    problems: list[Problem] = []
    loaded: list[LoadedScenario] = []
    for index, entry in enumerate(suite.scenarios):
        file = path.parent / entry.file
        where = doc.where(("scenarios", index, "file"))
        if not file.is_file():
            problems.append(
                Problem(
                    where,
                    f"scenario file {entry.file} not found (looked for {file})",
                    "check the name, or comment the entry out until the file exists",
                )
            )
            continue
        try:
            loaded.append(
                load_scenario(
                    file,
                    env=env,
                    overrides=entry.overrides,
                    override_positions=_positions(doc, index),
                )
            )
        except ScenarioInvalid as exc:
            problems.extend(exc.problems)
        except ScenarioError as exc:
            problems.append(Problem(where, exc.what, exc.fix or "fix the scenario file"))
    result = LoadedSuite(suite.suite, suite.description, suite.budget, path, tuple(loaded))
    if not problems and suite.budget is not None and result.planned_s > suite.budget:
        problems.append(
            Problem(
                doc.where(("budget",)),
                f"the scenarios plan {result.planned_s:g} s of wall time (durations + drains),"
                f" over the budget of {suite.budget:g} s",
                "shorten scenarios with overrides, drop one, or raise the budget",
            )
        )
    if problems:
        raise ScenarioInvalid(path, problems)
    return result


def _positions(doc: Any, index: int) -> dict[KeyPath, str]:
    """Where each override key was written in the suite file, keyed as in the scenario."""
    prefix = ("scenarios", index, "overrides")
    positions: dict[KeyPath, str] = {}
    for key in doc.positions:
        if key[: len(prefix)] == prefix:
            positions[key[len(prefix) :]] = doc.where(key)
        elif key[:1] == ("__key__",) and key[1 : 1 + len(prefix)] == prefix:
            positions[("__key__", *key[1 + len(prefix) :])] = doc.where(key[1:], key=True)
    return positions
