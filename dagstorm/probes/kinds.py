"""Probe kinds that plugins add (entry points ``dagstorm.probes``).

dagstorm's own probes (Airflow runs and tries, StatsD, Spark, Kafka lag, process
stats) always run, configured by the scenario's ``probes:`` settings. A plugin adds
a probe *kind*: a scenario lists it under ``probes.extra`` (``{kind: my_probe, …}``)
and the engine builds it with the run's :class:`~dagstorm.plugin.context.RunContext`;
it samples on the probe interval unless its spec says otherwise (docs/plugins.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict

from dagstorm.plugin.registry import OneOfKinds, Registry
from dagstorm.stack.parts import Part

if TYPE_CHECKING:
    from dagstorm.plugin.context import RunContext
    from dagstorm.probes.base import Probe


class ProbeSpecBase(BaseModel):
    """What every extra probe entry has: a ``kind`` (strict: unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    #: The probe's kind (each subclass narrows it to one ``Literal``).
    kind: str

    def needs(self) -> frozenset[Part]:
        """The stack parts this probe watches (a run refuses it where not declared)."""
        return frozenset()


#: Probe kinds plugins provide, looked up by the ``kind`` of a ``probes.extra`` entry.
PROBE_KINDS: Registry[Probe] = Registry("dagstorm.probes", "probe")

#: A ``probes.extra`` entry of any known kind.
ProbeSpec = Annotated[ProbeSpecBase, BeforeValidator(PROBE_KINDS.validate), OneOfKinds(PROBE_KINDS)]


def build_probe(spec: ProbeSpecBase, ctx: RunContext, interval: float) -> Probe:
    """The probe object for ``spec``, sampling every ``interval`` wall seconds."""
    return PROBE_KINDS.get(spec.kind).build(spec, ctx, interval)
