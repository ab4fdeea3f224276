"""What a scenario needs of the stack, entry by entry, and where the stack falls short.

Each workload, fault, probe and SLO says which stack parts it needs (``needs()``
on its spec). :func:`scenario_needs` lists them with the place in the scenario
file; :func:`unmet_needs` turns every need the stack does not declare into a
one-line problem (``scenario.yaml:12:9: fault 'kafka-latency' needs Kafka, which
stack ext.yaml does not declare — fix: …``). `dagstorm run` refuses such a
scenario before anything starts, and so does `dagstorm validate --stack-file`.
"""

from __future__ import annotations

from dataclasses import dataclass

from dagstorm.core.problems import KeyPath, Problem
from dagstorm.scenarios.loader import LoadedScenario
from dagstorm.stack.parts import PARTS, Part, declare_hint, part_text


@dataclass(frozen=True)
class Need:
    """One entry of a scenario that needs one part of the stack."""

    part: Part
    #: The entry, as a message names it (``fault 'kafka-latency'``).
    what: str
    #: ``file:line:column`` of the entry.
    where: str


def _where(loaded: LoadedScenario, *paths: KeyPath) -> str:
    """The position of the first of ``paths`` the file has (the scenario's start if none)."""
    for path in paths:
        if path in loaded.positions:
            return loaded.positions[path]
    return loaded.positions.get((), f"{loaded.path}:1:1")


def scenario_needs(loaded: LoadedScenario) -> list[Need]:
    """Every (entry, part) the scenario needs, in file order."""
    scenario = loaded.scenario
    needs: list[Need] = []

    def add(parts: frozenset[Part], what: str, where: str) -> None:
        needs.extend(Need(part, what, where) for part in PARTS if part in parts)

    for i, workload in enumerate(scenario.workloads):
        where = _where(loaded, ("workloads", i, "kind"), ("workloads", i))
        add(workload.needs(), f"workload '{workload.name}'", where)
    for i, plan in enumerate(scenario.faults):
        where = _where(loaded, ("faults", i, "fault", "kind"), ("faults", i))
        add(plan.fault.needs(), f"fault '{plan.name or plan.fault.describe()}'", where)
    for i, slo in enumerate(scenario.slos):
        add(slo.needs(), f"SLO '{slo.name}'", _where(loaded, ("slos", i)))
    probes = scenario.probes
    if probes.kafka_topics:
        where = _where(loaded, ("probes", "kafka_topics"))
        add(frozenset({"kafka"}), "probes.kafka_topics", where)
    if probes.airflow_dags:
        where = _where(loaded, ("probes", "airflow_dags"))
        add(frozenset({"airflow"}), "probes.airflow_dags", where)
    for i, extra in enumerate(probes.extra):
        where = _where(loaded, ("probes", "extra", i, "kind"), ("probes", "extra", i))
        add(extra.needs(), f"probe '{extra.kind}'", where)
    return needs


def needed_parts(loaded: LoadedScenario) -> frozenset[Part]:
    """The parts the scenario needs, all entries together."""
    return frozenset(need.part for need in scenario_needs(loaded))


def _fix(need: Need, stack_kind: str) -> str:
    if need.part == "processes":
        return (
            "process faults need the embedded stack (dagstorm owns the processes); on another"
            " stack use a network fault through Toxiproxy (docs/faults.md)"
        )
    if need.part == "landing_zone":
        return (
            "ad_logs writes the embedded or compose stack's landing zone; on an external stack"
            " load it with trigger_storm or kafka_burst"
        )
    if stack_kind != "external":
        return f"{declare_hint(need.part)}, or remove this entry"
    return f"{declare_hint(need.part)} (docs/stack.md), or remove this entry"


def unmet_needs(
    loaded: LoadedScenario, declared: frozenset[Part], source: str, stack_kind: str
) -> list[Problem]:
    """One problem per need the stack (read from ``source``) does not declare."""
    return [
        Problem(
            need.where,
            f"{need.what} needs {part_text(need.part)}, which stack {source} does not declare",
            _fix(need, stack_kind),
        )
        for need in scenario_needs(loaded)
        if need.part not in declared
    ]
