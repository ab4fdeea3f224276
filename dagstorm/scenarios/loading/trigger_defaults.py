"""A trigger storm sends the ``conf`` its DAG's profile entry declares for API starts.

A pipeline profile says how each DAG starts in production; ``start: {kind: api,
conf: {orders: 20}}`` means the DAG is triggered through the REST API with that
conf. A ``trigger_storm`` on that DAG that writes no ``conf`` of its own sends the
profile's, so a scenario need not repeat it; one that writes ``conf`` (even ``{}``)
keeps it. Each conf taken from the profile is reported as a note (``dagstorm
validate`` prints it) naming the profile's ``file:line:column``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from dagstorm.core.yamlsource import KeyPath
from dagstorm.profiles.loader import LoadedProfile
from dagstorm.scenarios.loading.sla_defaults import profile_positions
from dagstorm.scenarios.model import Scenario
from dagstorm.workloads.specs import TriggerStormWorkload

__all__ = ["fill_trigger_conf"]


def fill_trigger_conf(
    scenario: Scenario,
    profile: LoadedProfile | None,
    where: Callable[[KeyPath], str],
) -> tuple[Scenario, list[str]]:
    """The scenario with each conf-less trigger storm given its DAG's API-start conf, and notes.

    ``where`` gives the scenario's ``file:line:column`` of a key path.
    """
    if profile is None:
        return scenario, []
    workloads = list(scenario.workloads)
    notes: list[str] = []
    profile_where = profile_positions(profile)
    for index, workload in enumerate(workloads):
        if not isinstance(workload, TriggerStormWorkload) or "conf" in workload.model_fields_set:
            continue
        entry = profile.profile.dag_of(workload.dag)
        if entry is None or entry.start.kind != "api" or not entry.start.conf:
            continue
        workloads[index] = workload.model_copy(update={"conf": dict(entry.start.conf)})
        source = profile_where(("dags", profile.profile.dags.index(entry), "start", "conf"))
        conf = json.dumps(entry.start.conf, sort_keys=True, default=str)
        notes.append(
            f"{where(('workloads', index))}: workloads.{index}: trigger_storm {workload.name}"
            f" sends conf {conf} to {workload.dag}, from pipeline profile"
            f" `{profile.profile.name}` ({source})"
        )
    if not notes:
        return scenario, []
    return scenario.model_copy(update={"workloads": workloads}), notes
