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
      - file: celery-worker-loss.yaml
        stack: ../celery.stack.yaml   # its own stack config, relative to the suite file

An entry with ``stack:`` runs on that stack config: the suite brings it up
before the entry and its own stack back after (:mod:`dagstorm.harness.suite`);
each switch counts :data:`SWITCH_ESTIMATE_S` against the budget.

Loading validates every listed scenario with its overrides, and reports every
problem at once (a missing file, an invalid override or stack file, a plan over
budget), each
with ``file:line:column``. Nothing runs until the whole suite is valid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dagstorm.core.durations import parse_duration
from dagstorm.core.errors import ConfigError, ScenarioError
from dagstorm.core.problems import Problem
from dagstorm.core.validation_words import problems_from_validation
from dagstorm.core.yamlsource import MAX_BYTES, KeyPath, YamlDocument, load_yaml
from dagstorm.scenarios.loader import LoadedScenario, ScenarioInvalid, load_scenario
from dagstorm.stack.config import ConfigInvalid, StackConfig, load_stack_config

__all__ = [
    "SWITCH_ESTIMATE_S",
    "EntryStack",
    "LoadedSuite",
    "SuiteEntry",
    "SuiteFile",
    "is_suite_file",
    "load_suite",
    "planned_wall_s",
    "stack_executor",
]

#: Planned wall seconds of one stack switch: `dagstorm stack up` with another
#: executor stops Airflow and starts it again with (or without) Redis and the
#: Celery workers, then waits until every component is healthy (about 2 min on
#: the embedded stack, docs/nightly.md "Celery scenarios"; 3 min leaves a margin).
SWITCH_ESTIMATE_S = 180.0


class SuiteEntry(BaseModel):
    """One scenario of the suite, with its overrides."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    file: str = Field(min_length=1)
    overrides: dict[str, Any] = Field(default_factory=dict)
    #: A stack config file this entry runs on (relative to the suite file);
    #: None: the stack the suite runs on.
    stack: str | None = Field(default=None, min_length=1)


class SuiteFile(BaseModel):
    """A suite file as written."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

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
class EntryStack:
    """The stack config an entry names with ``stack:``, checked as the suite loads."""

    #: The file, resolved against the suite file's directory.
    path: Path
    #: As written in the suite (for messages and the summary).
    written: str
    #: The config read at load time (the harness reads it again with the run's state dir).
    config: StackConfig

    @property
    def label(self) -> str:
        """``celery.stack.yaml (celery executor)``."""
        return f"{self.written} ({stack_executor(self.config)})"


@dataclass(frozen=True)
class LoadedSuite:
    """A valid suite: its scenarios loaded with their overrides, in order."""

    name: str
    description: str
    budget_s: float | None
    path: Path
    scenarios: tuple[LoadedScenario, ...]
    #: Each scenario's own stack (``stack:``), None where it runs on the suite's;
    #: empty: none has one.
    stacks: tuple[EntryStack | None, ...] = ()

    def stack_of(self, index: int) -> EntryStack | None:
        """The stack the scenario at ``index`` (0-based) names, or None."""
        return self.stacks[index] if index < len(self.stacks) else None

    @property
    def switches(self) -> tuple[int, ...]:
        """Where the stack changes: before entry ``i`` (0-based), or ``len`` (back at the end).

        Consecutive entries naming the same stack file switch once; the suite
        ends on the stack it began on.
        """
        keys: list[Path | None] = [None]
        keys += [None if s is None else s.path for s in map(self.stack_of, range(len(self)))]
        keys.append(None)
        return tuple(i for i in range(len(keys) - 1) if keys[i] != keys[i + 1])

    def __len__(self) -> int:
        return len(self.scenarios)

    @property
    def planned_s(self) -> float:
        """Planned wall seconds of the whole suite (durations + drains + stack switches)."""
        runs = sum(planned_wall_s(s) for s in self.scenarios)
        return runs + len(self.switches) * SWITCH_ESTIMATE_S


def stack_executor(config: StackConfig) -> str:
    """``celery executor`` for an embedded stack; a compose or external one by its kind."""
    if config.kind == "embedded":
        return f"{config.airflow.executor} executor"
    return f"{config.kind} stack"


def planned_wall_s(loaded: LoadedScenario) -> float:
    """A scenario's planned wall time: its duration plus the drain."""
    return loaded.scenario.duration + loaded.scenario.drain


def is_suite_file(path: Path) -> bool:
    """True if ``path`` looks like a suite (a line starting with ``suite:``)."""
    try:
        with Path(path).open("rb") as handle:
            head = handle.read(MAX_BYTES + 1)  # a larger file is refused when loaded
    except OSError:
        return False
    return re.search(rb"^suite:", head, re.MULTILINE) is not None


def load_suite(path: Path, *, env: dict[str, str] | None = None) -> LoadedSuite:
    """Load ``path`` and every scenario it lists; :class:`ScenarioInvalid` lists every problem.

    Every problem at once: the suite's own keys, then each listed scenario that
    can be found (with its overrides), then the budget. The scenarios' warnings
    ride along (:attr:`LoadedScenario.warnings`, or the error's ``warnings``).
    """
    path = Path(path)
    doc = load_yaml(path, error=ScenarioError)
    _refuse_non_suites(path, doc)
    problems: list[Problem] = list(doc.duplicates)
    warnings: list[Problem] = []
    suite: SuiteFile | None = None
    try:
        suite = SuiteFile.model_validate(doc.data)
    except ValidationError as exc:
        problems += problems_from_validation(
            exc,
            doc.data,
            lambda key_path, at_key: doc.where(key_path, key=at_key),
            model=SuiteFile,
            default_fix="see docs/nightly.md for the suite format",
        )
    entries = list(enumerate(suite.scenarios)) if suite else _valid_entries(doc.data)
    loaded: list[LoadedScenario] = []
    stacks: list[EntryStack | None] = []
    for index, entry in entries:
        stack = _entry_stack(path, doc, index, entry, env=env, problems=problems)
        stacks.append(stack)
        file = path.parent / entry.file
        where = doc.where(("scenarios", index, "file"))
        try:
            found = file.is_file()
        except (OSError, ValueError) as exc:  # a name too long for the file system, …
            reason = getattr(exc, "strerror", None) or str(exc)
            problems.append(
                Problem(where, f"cannot use {entry.file[:40]!r}: {reason}", "check the name")
            )
            continue
        if not found:
            problems.append(
                Problem(
                    where,
                    f"scenario file {entry.file} not found (looked for {file})",
                    "check the name, or comment the entry out until the file exists",
                )
            )
            continue
        try:
            one = load_scenario(
                file, env=env, overrides=entry.overrides, override_positions=_positions(doc, index)
            )
        except ScenarioInvalid as exc:
            problems.extend(exc.problems)
            warnings.extend(exc.warnings)
        except ScenarioError as exc:
            problems.append(Problem(where, exc.what, exc.fix or "fix the scenario file"))
        else:
            loaded.append(one)
            warnings.extend(one.warnings)
    result: LoadedSuite | None = None
    if suite is not None and not problems:
        result = LoadedSuite(
            suite.suite,
            suite.description,
            suite.budget,
            path,
            tuple(loaded),
            tuple(stacks) if any(stacks) else (),
        )
        if suite.budget is not None and result.planned_s > suite.budget:
            switches = len(result.switches)
            problems.append(
                Problem(
                    doc.where(("budget",)),
                    f"the scenarios plan {result.planned_s:g} s of wall time (durations + "
                    "drains"
                    + (
                        f" + {switches} stack switch(es) × {SWITCH_ESTIMATE_S:g} s"
                        if switches
                        else ""
                    )
                    + f"), over the budget of {suite.budget:g} s",
                    "shorten scenarios with overrides, drop one, or raise the budget",
                )
            )
    if problems or result is None:
        raise ScenarioInvalid(path, problems, warnings)
    return result


def _entry_stack(
    path: Path,
    doc: YamlDocument,
    index: int,
    entry: SuiteEntry,
    *,
    env: dict[str, str] | None,
    problems: list[Problem],
) -> EntryStack | None:
    """The stack file an entry names, read and checked; its problems go to ``problems``."""
    if entry.stack is None:
        return None
    file = path.parent / entry.stack
    where = doc.where(("scenarios", index, "stack"))
    try:
        found = file.is_file()
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        problems.append(
            Problem(where, f"cannot use {entry.stack[:40]!r}: {reason}", "check the name")
        )
        return None
    if not found:
        problems.append(
            Problem(
                where,
                f"stack file {entry.stack} not found (looked for {file})",
                "the path is relative to the suite file, like `file:` (docs/nightly.md)",
            )
        )
        return None
    try:
        # The entry names its file, so $DAGSTORM_STACK_FILE is not consulted.
        config = load_stack_config(file, env=None if env is None else dict(env))
    except ConfigInvalid as exc:
        problems.extend(exc.problems)
        return None
    except ConfigError as exc:
        problems.append(Problem(exc.where or where, exc.what, exc.fix or "fix the stack file"))
        return None
    return EntryStack(file.resolve(), entry.stack, config)


def _refuse_non_suites(path: Path, doc: YamlDocument) -> None:
    """An empty file, or a scenario given where a suite belongs: one clear problem."""
    if doc.empty:
        raise ScenarioInvalid(
            path,
            [
                Problem(
                    f"{path}:1:1",
                    "the file is empty: a suite needs `suite:` and `scenarios:`",
                    "start from scenarios/nightly.yaml (docs/nightly.md)",
                )
            ],
        )
    if "suite" not in doc.data and ("name" in doc.data or "duration" in doc.data):
        key = "name" if "name" in doc.data else "duration"
        raise ScenarioInvalid(
            path,
            [
                Problem(
                    doc.where((key,), key=True),
                    "this file is a scenario, not a suite (a suite starts with `suite:`)",
                    f"run it with `dagstorm run {path}`",
                )
            ],
        )


def _valid_entries(data: dict[str, Any]) -> list[tuple[int, SuiteEntry]]:
    """The entries of an invalid suite that are valid on their own (checked anyway)."""
    raw = data.get("scenarios")
    valid: list[tuple[int, SuiteEntry]] = []
    for index, item in enumerate(raw if isinstance(raw, list) else []):
        try:
            valid.append((index, SuiteEntry.model_validate(item)))
        except ValidationError:
            continue
    return valid


def _positions(doc: YamlDocument, index: int) -> dict[KeyPath, str]:
    """Where each override key was written in the suite file, keyed as in the scenario."""
    prefix = ("scenarios", index, "overrides")
    positions: dict[KeyPath, str] = {}
    for key in doc.positions:
        if key[: len(prefix)] == prefix:
            positions[key[len(prefix) :]] = doc.where(key)
        elif key[:1] == ("__key__",) and key[1 : 1 + len(prefix)] == prefix:
            positions[("__key__", *key[1 + len(prefix) :])] = doc.where(key[1:], key=True)
    return positions
