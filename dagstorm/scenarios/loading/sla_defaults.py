"""An ``sla`` SLO takes its deadline and reference from the pipeline profile.

A scenario may write ``- sla: {dag: orders_etl}``: the deadline (``within``) and
where a run's clock starts (``measure_from``) then come from the profile's
``dags: [{id: orders_etl, sla: {deadline: 2m, reference: queued}}]``. Whatever the
SLO writes itself wins. Each value taken from the profile is reported as a note
(``dagstorm validate`` prints it) naming the profile's ``file:line:column``; an SLO
left without a deadline is a problem at the SLO, with the two ways to give one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dagstorm.core.durations import duration_text
from dagstorm.core.errors import ScenarioError
from dagstorm.core.problems import Problem
from dagstorm.core.yamlsource import KeyPath, load_yaml
from dagstorm.profiles.loader import LoadedProfile
from dagstorm.scenarios.model import Scenario
from dagstorm.scenarios.slos import SlaSlo

__all__ = ["SlaDefaults", "fill_sla_defaults", "profile_positions"]

_EXAMPLE = "sla: {deadline: 2h, reference: queued}"


@dataclass
class SlaDefaults:
    """The scenario with its SLAs filled in, what was taken (notes) and what is missing."""

    scenario: Scenario
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is under it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def fill_sla_defaults(
    scenario: Scenario,
    profile: LoadedProfile | None,
    where: Callable[[KeyPath], str],
) -> SlaDefaults:
    """Fill each SLA's missing ``within`` / ``measure_from`` from ``profile``.

    ``where`` gives the scenario's ``file:line:column`` of a key path.
    """
    result = SlaDefaults(scenario)
    slos = list(scenario.slos)
    profile_where = profile_positions(profile)
    for index, slo in enumerate(slos):
        if not isinstance(slo, SlaSlo) or (slo.within is not None and slo.measure_from):
            continue
        at = where(("slos", index, "sla"))
        entry = None if profile is None else profile.profile.dag_of(slo.dag)
        declared = None if entry is None else entry.sla
        if declared is None:
            if slo.within is None:
                result.problems.append(_missing(index, slo, profile, entry is not None, at))
            else:
                slos[index] = slo.model_copy(update={"measure_from": slo.reference})
            continue
        assert profile is not None and entry is not None
        source = profile_where(("dags", profile.profile.dags.index(entry), "sla"))
        taken = []
        if slo.within is None:
            taken.append(f"deadline {duration_text(declared.deadline)} sim")
        if slo.measure_from is None:
            taken.append(f"reference `{declared.reference}`")
        slos[index] = slo.model_copy(
            update={
                "within": slo.within if slo.within is not None else declared.deadline,
                "measure_from": slo.measure_from or declared.reference,
            }
        )
        result.notes.append(
            f"{at}: slos.{index}: sla:{slo.dag} takes its {' and '.join(taken)} from pipeline"
            f" profile `{profile.profile.name}` ({source})"
        )
    if slos != list(scenario.slos):
        result.scenario = scenario.model_copy(update={"slos": slos})
    return result


def _missing(
    index: int, slo: SlaSlo, profile: LoadedProfile | None, in_profile: bool, at: str
) -> Problem:
    """The problem of an SLA with no deadline anywhere, and how to give one."""
    if profile is None:
        why = "no pipeline profile is named (`pipeline:`) or marked default"
        fix = f"write `within: 2h` in the SLO, or name a profile whose DAG declares `{_EXAMPLE}`"
    elif not in_profile:
        why = f"`{slo.dag}` is not a DAG of pipeline profile `{profile.profile.name}`"
        fix = (
            f"write `within: 2h` in the SLO, or add the DAG with `{_EXAMPLE}` to"
            f" {_shown(profile.path)}"
        )
    else:
        why = f"pipeline profile `{profile.profile.name}` declares no `sla` for DAG `{slo.dag}`"
        fix = (
            f"write `within: 2h` in the SLO, or add `{_EXAMPLE}` to the DAG in"
            f" {_shown(profile.path)}"
        )
    return Problem(at, f"slos.{index}: sla:{slo.dag} has no `within`, and {why}", fix)


def profile_positions(profile: LoadedProfile | None) -> Callable[[KeyPath], str]:
    """``file:line:column`` in the profile of a key path (the file as shown when unreadable)."""
    if profile is None:
        return lambda _key_path: "no profile"
    shown = _shown(profile.path)
    try:
        document = load_yaml(profile.path, error=ScenarioError)
    except ScenarioError:
        return lambda _key_path: shown

    def where(key_path: KeyPath) -> str:
        line_col = document.where(key_path).rsplit(":", 2)[-2:]
        return f"{shown}:{':'.join(line_col)}"

    return where
