"""How an SLO kind is judged: the judge's signature, what it reads, what it says.

An SLO kind (registry ``dagstorm.scenarios.slo_kinds.SLO_KINDS``, entry points
``dagstorm.slos``) is a :class:`~dagstorm.plugin.registry.Kind` whose ``spec`` is
the model of the scenario entry (a ``SloSpecBase`` subclass, tagged by ``type``)
and whose ``build`` is its **judge**: ``judge(slo, evidence) -> SloReading``.

The analysis calls the judge with the run's :class:`SloEvidence` and compares the
reading's value with the SLO's target. The types live here, below the scenarios
and the analysis, so a spec never imports the analysis and a plugin's judge is
typed without it. dagstorm's own SLO kinds judge through the analysis' measures
by name (:func:`judge_by_measure`); a plugin may do the same with a measure
dagstorm has, or read the journal's events itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class SloReading:
    """What a judge measured for one SLO (the verdict compares ``value`` with the target)."""

    #: False: the run does not say (the SLO then fails with ``not measured: <detail>``).
    measured: bool
    #: The number compared with the target; None when not measured.
    value: float | None
    #: The value in words (``3 trigger errors``).
    value_text: str
    #: Evidence in one line (or, when not measured, why not).
    detail: str
    #: Fails the SLO even when the value passes (a fault that never recovered).
    veto: bool = False

    @classmethod
    def unmeasured(cls, why: str) -> SloReading:
        """A reading that says the run cannot tell, and why."""
        return cls(measured=False, value=None, value_text="not measured", detail=why)


class SloEvidence(Protocol):
    """What a judge may read of a run (the analysis provides it)."""

    @property
    def compression(self) -> float:
        """Simulated seconds per wall second."""
        ...

    @property
    def end_t(self) -> float:
        """Wall seconds from the start to the end of the run."""
        ...

    def events(self, kind: str) -> Sequence[Mapping[str, Any]]:
        """The run's journal events of ``kind`` in journal order (docs/journal.md).

        Periodic samples read as frames (``statsd``, ``workload_stats``, …) are not
        listed here.
        """
        ...

    def judge_by_measure(self, slo: Any) -> SloReading:
        """``slo`` judged by the analysis' measure named by its spec's ``measure``."""
        ...


#: An SLO kind's judge (its Kind's ``build``).
SloJudge = Callable[[Any, SloEvidence], SloReading]


def judge_by_measure(slo: Any, evidence: SloEvidence) -> SloReading:
    """The judge of an SLO that names one of dagstorm's measures (``measure`` on its spec)."""
    return evidence.judge_by_measure(slo)
