"""When the next live SLO check comes: every interval, slower when a check is costly.

A live check (:class:`~dagstorm.analysis.verdict.live.LiveChecks`) reads what is new
in the journal and judges the ``abort: true`` SLOs over every run so far, so its CPU
grows with the run: 0.3 s at 4 h of a soak's journal, several seconds at 24 h. At
one check per ``abort.slo_check_interval`` (10 s) that would take a fifth of a core
from the machine under test. The next check therefore waits at least
:data:`CHECK_COST_FACTOR` × the CPU the last one took: the checks never use more
than 1 / factor (5%) of one core, and a short run keeps its 10 s cadence.
"""

from __future__ import annotations

__all__ = ["CHECK_COST_FACTOR", "check_spacing"]

#: The next check waits at least this many times the last check's CPU seconds.
CHECK_COST_FACTOR = 20.0


def check_spacing(interval_s: float, took_cpu_s: float) -> float:
    """Seconds until the next live check: ``interval_s``, or more after a costly check."""
    if interval_s <= 0:
        raise ValueError(f"a check interval is > 0 s, got {interval_s}")
    return max(interval_s, CHECK_COST_FACTOR * max(took_cpu_s, 0.0))
