"""Whether a share measured over a few runs can support its target at all.

With ``n`` runs a compliance moves in steps of ``100/n`` %: over 2 runs one miss
takes it from 100% to 50%. Against ``>= 95%`` that sample cannot tell a pipeline
that meets 95% from one that meets 60%; only from 20 runs on can one miss leave
the target met. :func:`runs_needed` is that number, :func:`sample_note` the
sentence the SLO's detail and the report's "What next" carry.
"""

from __future__ import annotations

import math

from dagstorm.analysis.texts import plain_number
from dagstorm.scenarios.comparisons import Target

__all__ = ["runs_needed", "sample_note"]


def runs_needed(target: Target) -> int | None:
    """The fewest runs for which one miss can still meet the share ``target``.

    None when no number of runs allows a miss (``>= 100%``) or the target is not
    a lower bound on a share.
    """
    share = target.value
    if target.op not in (">=", ">") or not 0 <= share < 1:
        return None
    # One miss in n runs leaves (n - 1) / n: >= t needs n >= 1 / (1 - t); > t needs more.
    bound = 1.0 / (1.0 - share)
    if target.op == ">=":
        return max(1, math.ceil(bound - 1e-9))
    return math.floor(bound + 1e-9) + 1


def sample_note(counted: int, target: Target) -> str | None:
    """Why ``counted`` runs are too few for ``target``; None when they are enough."""
    needed = runs_needed(target)
    if needed is None or counted <= 0 or counted >= needed:
        return None
    step = plain_number(100.0 / counted, 3)
    return (
        f"sample too small to support the target: with {counted}"
        f" run{'' if counted == 1 else 's'} the finest step is {step}%, so a single miss"
        f" fails {target.text}; at least {needed} runs are needed before one miss can"
        " leave it met"
    )
