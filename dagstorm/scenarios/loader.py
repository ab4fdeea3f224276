"""Load a scenario file: hostile-input checks, ``extends``, ``${VAR}``, then validation.

Every problem is reported at once, each with ``file:line:column``, what is
wrong and how to fix it. Nothing touches the stack until the whole file is
valid.

- ``extends: base.yaml`` (relative to the file): the base is loaded first and
  this file's keys override it; mappings merge recursively, lists are replaced.
- ``${VAR}`` and ``${VAR:-default}`` in any string are replaced from the
  environment; an unset variable without a default is an error.

Reading the file (``extends``, ``${VAR}``, positions) is
:mod:`dagstorm.scenarios.loading.source`'s; the defaults taken from the pipeline
profile are :mod:`~dagstorm.scenarios.loading.sla_defaults` and
:mod:`~dagstorm.scenarios.loading.trigger_defaults`. :class:`ScenarioInvalid` is
re-exported here, where its users import it.
"""

from __future__ import annotations

import contextlib
import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from dagstorm.core.durations import PositiveSeconds
from dagstorm.core.errors import ScenarioError
from dagstorm.core.problems import Problem, sort_problems
from dagstorm.core.validation_words import problems_from_validation
from dagstorm.core.yamlsource import KeyPath
from dagstorm.profiles.loader import LoadedProfile, ProfileInvalid, default_profile, find_profile
from dagstorm.scenarios.capacity import CapacityBlock
from dagstorm.scenarios.checks import Parts, check
from dagstorm.scenarios.loading.sla_defaults import fill_sla_defaults
from dagstorm.scenarios.loading.source import (
    Extends,
    ScenarioInvalid,
    merge,
    position_of,
    read,
    substitute,
)
from dagstorm.scenarios.loading.trigger_defaults import fill_trigger_conf
from dagstorm.scenarios.model import (
    DEFER_CHECKS,
    FaultPlan,
    Phase,
    Scenario,
)
from dagstorm.scenarios.slo_kinds import SloEntry
from dagstorm.scenarios.slos import SlaSlo
from dagstorm.workloads.kinds import WorkloadSpec

__all__ = ["LoadedScenario", "Problem", "ScenarioInvalid", "load_scenario"]

_FIX = "see `dagstorm schema` and docs/scenarios.md"


@dataclass
class LoadedScenario:
    """A valid scenario plus where it came from (and what is worth a warning)."""

    scenario: Scenario
    path: Path
    resolved: dict[str, Any]
    positions: dict[KeyPath, str] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    #: The pipeline profile under test (None: the scenario names none and no
    #: profile is the default, or the loader was asked not to resolve it).
    profile: LoadedProfile | None = None
    #: What the loader took from elsewhere, one ``file:line:column: what`` line each
    #: (an SLA's deadline from the profile); ``dagstorm validate`` prints them.
    notes: list[str] = field(default_factory=list)


@functools.cache
def _known_fields() -> tuple[str, ...]:
    """Every field name anywhere in the scenario schema (for "did you mean")."""
    schema = Scenario.model_json_schema()
    names = set(schema.get("properties", {}))
    for definition in schema.get("$defs", {}).values():
        names.update(definition.get("properties", {}))
    return tuple(sorted(names))


_DURATION: TypeAdapter[float] = TypeAdapter(PositiveSeconds)
_WORKLOAD: TypeAdapter[Any] = TypeAdapter(WorkloadSpec)
_SLO: TypeAdapter[Any] = TypeAdapter(SloEntry)


def _valid_items(value: Any, validate: Any) -> tuple[list[tuple[int, Any]], bool]:
    """(index, model) of each item that is valid on its own; and whether all were."""
    if not isinstance(value, list):
        return [], value is None
    valid: list[tuple[int, Any]] = []
    for index, item in enumerate(value):
        try:
            valid.append((index, validate(item)))
        except ValidationError:
            continue
    return valid, len(valid) == len(value)


def _partial(data: dict[str, Any]) -> Parts:
    """The pieces of an invalid scenario that are valid on their own (for the checks)."""
    duration: float | None = None
    with contextlib.suppress(ValidationError):
        duration = _DURATION.validate_python(data.get("duration"))
    phases, complete = _valid_items(data.get("phases"), Phase.model_validate)
    slos_raw = data.get("slos")
    capacity: CapacityBlock | None = None
    with contextlib.suppress(ValidationError):
        capacity = CapacityBlock.model_validate(data.get("capacity") or {})
    return Parts(
        duration=duration,
        phases=phases,
        phases_complete=complete,
        workloads=_valid_items(data.get("workloads"), _WORKLOAD.validate_python)[0],
        faults=_valid_items(data.get("faults"), FaultPlan.model_validate)[0],
        slos=_valid_items(slos_raw, _SLO.validate_python)[0],
        # Anything but an empty or missing list counts as written (its errors are reported).
        slos_written=len(slos_raw) if isinstance(slos_raw, list) else int(slos_raw is not None),
        capacity=capacity if data.get("capacity") is not None else None,
    )


def load_scenario(
    path: Path,
    *,
    env: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
    override_positions: dict[KeyPath, str] | None = None,
    pipeline: bool = True,
) -> LoadedScenario:
    """Load and validate ``path``; raises :class:`ScenarioInvalid` listing every problem.

    Every problem at once: YAML-level ones (keys written twice, unset ``${VAR}``),
    each invalid key, and the whole-scenario checks (:mod:`dagstorm.scenarios.checks`)
    over whatever parts are valid. Warnings (e.g. no SLOs) ride along in
    :attr:`LoadedScenario.warnings`. ``overrides`` (a suite's per-scenario changes)
    merge over the file like an ``extends`` child; ``override_positions`` say where
    they were written. With ``pipeline`` (the default) the pipeline profile is
    resolved too and its problems are the scenario's.
    """
    env = dict(os.environ) if env is None else env
    problems: list[Problem] = []
    data, positions = read(path, problems)
    if overrides:
        data, positions = merge(data, overrides, positions, override_positions or {})
    if any(isinstance(p, Extends) for p in problems):
        raise ScenarioInvalid(path, sort_problems(problems))
    data = substitute(data, env, (), positions, problems)
    already = {p.where for p in problems}  # an unset ${VAR} is reported once, not twice

    def where_of(key_path: KeyPath, at_key: bool) -> str:
        if at_key:
            return positions.get(("__key__", *key_path), position_of(key_path, positions))
        return position_of(key_path, positions)

    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(data, context={DEFER_CHECKS: True})
    except ValidationError as exc:
        found = problems_from_validation(
            exc,
            data,
            where_of,
            model=Scenario,
            default_fix=_FIX,
            known_keys=_known_fields(),
        )
        problems += [p for p in found if p.where not in already]
    findings = check(Parts.of(scenario) if scenario is not None else _partial(data))
    for finding in findings:
        dotted = ".".join(str(p) for p in finding.path) or "(top level)"
        problem = Problem(
            position_of(finding.path, positions), f"{dotted}: {finding.what}", finding.fix
        )
        if finding.warning:
            problem = Problem(problem.where, problem.what, problem.fix, warning=True)
        problems.append(problem)
    profile: LoadedProfile | None = None
    notes: list[str] = []
    if pipeline and scenario is not None:
        profile, resolved = _profile(scenario, path, env, positions, problems)
        if resolved:
            filled = fill_sla_defaults(scenario, profile, lambda kp: position_of(kp, positions))
            scenario, notes = filled.scenario, filled.notes
            problems += filled.problems
            scenario, conf_notes = fill_trigger_conf(
                scenario, profile, lambda kp: position_of(kp, positions)
            )
            notes += conf_notes
    errors = sort_problems(p for p in problems if not p.warning)
    warnings = [p for p in problems if p.warning]
    if scenario is None and not errors:  # every error was an unset ${VAR} reported above
        errors = [p for p in problems if not p.warning] or [Problem(f"{path}:1:1", "invalid", _FIX)]
    if errors:
        raise ScenarioInvalid(path, errors, warnings)
    assert scenario is not None
    return LoadedScenario(
        scenario=scenario,
        path=path,
        resolved=data,
        positions=positions,
        warnings=warnings,
        profile=profile,
        notes=notes,
    )


def _profile(
    scenario: Scenario,
    path: Path,
    env: dict[str, str],
    positions: dict[KeyPath, str],
    problems: list[Problem],
) -> tuple[LoadedProfile | None, bool]:
    """The scenario's pipeline profile, and whether it was resolved.

    The profile is None when none is named and none is the default; its problems
    go to ``problems``.
    """
    try:
        if scenario.pipeline is None:
            loaded = default_profile(env)
        else:
            loaded = find_profile(scenario.pipeline, base=path.parent, env=env)
    except ProfileInvalid as exc:
        problems.extend(exc.problems)
        return None, False
    except ScenarioError as exc:
        problems.append(Problem(position_of(("pipeline",), positions), exc.what, exc.fix or _FIX))
        return None, False
    if loaded is not None:
        for index, slo in enumerate(scenario.slos):
            # Without `within` it is an error (sla_defaults), not a warning.
            if (
                isinstance(slo, SlaSlo)
                and slo.within is not None
                and loaded.profile.dag_of(slo.dag) is None
            ):
                problems.append(
                    Problem(
                        position_of(("slos", index), positions),
                        f"slos.{index}: the SLA's DAG `{slo.dag}` is not a DAG of pipeline "
                        f"profile `{loaded.profile.name}`",
                        f"name one of its DAGs, or add it to {loaded.path}",
                        warning=True,
                    )
                )
    return loaded, True
