"""A trigger storm starts its DAG's runs the way the DAG's profile entry says they start.

A pipeline profile says how each DAG starts in production. ``start: {kind: api,
conf: {orders: 20}}`` means the DAG is triggered through the REST API with that
conf: a ``trigger_storm`` on that DAG that writes no ``conf`` of its own sends the
profile's. ``start: {kind: asset, asset: campaigns}`` means a producer's update of
that asset starts the runs: a storm on that DAG that writes neither ``conf`` nor
``asset`` posts events on the asset, so the scheduler's asset path is what is
loaded, as in production. A storm that writes ``conf`` (even ``{}``) or ``asset``
(even ``null``) keeps what it wrote. Each value taken from the profile is reported
as a note (``dagstorm validate`` prints it) naming the profile's ``file:line:column``.
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
    """The scenario with each trigger storm given its DAG's start from the profile, and notes.

    ``where`` gives the scenario's ``file:line:column`` of a key path.
    """
    if profile is None:
        return scenario, []
    workloads = list(scenario.workloads)
    notes: list[str] = []
    profile_where = profile_positions(profile)
    for index, workload in enumerate(workloads):
        if not isinstance(workload, TriggerStormWorkload) or workload.model_fields_set & {
            "conf",
            "asset",
        }:
            continue
        entry = profile.profile.dag_of(workload.dag)
        if entry is None:
            continue
        start = entry.start
        if start.kind == "api" and start.conf:
            update: dict[str, object] = {"conf": dict(start.conf)}
            key = "conf"
            what = f"sends conf {json.dumps(start.conf, sort_keys=True, default=str)} to"
        elif start.kind == "asset" and start.asset:
            update = {"asset": start.asset}
            key = "asset"
            what = f"posts events on asset {start.asset!r} for"
        else:
            continue
        workloads[index] = workload.model_copy(update=update)
        source = profile_where(("dags", profile.profile.dags.index(entry), "start", key))
        notes.append(
            f"{where(('workloads', index))}: workloads.{index}: trigger_storm {workload.name}"
            f" {what} {workload.dag}, from pipeline profile"
            f" `{profile.profile.name}` ({source})"
        )
    if not notes:
        return scenario, []
    return scenario.model_copy(update={"workloads": workloads}), notes
