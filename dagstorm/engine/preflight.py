"""Before a run touches anything: the stack has what the scenario needs, and it answers.

First every need of the scenario (workloads, faults, probes, SLOs: ``needs()``
on their specs) against the parts the stack declares — a shortfall is the
scenario's problem (exit 2, one line per need, with file:line:column). Then each
needed, declared part is asked for a quick answer (exit 3 when one does not).
The embedded stack is asked through its process status instead (the runner).
"""

from __future__ import annotations

from collections.abc import Callable

from dagstorm.core.errors import DagstormError, InfrastructureError
from dagstorm.scenarios.loader import LoadedScenario, ScenarioInvalid
from dagstorm.scenarios.needs import scenario_needs, unmet_needs
from dagstorm.stack.endpoints import Stack
from dagstorm.stack.parts import Part, part_text
from dagstorm.stack.reach import reach

#: Asks one part of a stack for a quick answer (raises when there is none).
ReachCheck = Callable[[Stack, Part], str]

#: Parts with nothing to ask before a run (StatsD is received; the others are local).
_NOTHING_TO_ASK: frozenset[Part] = frozenset({"statsd", "landing_zone", "processes"})


class PartsUnreachable(InfrastructureError):
    """Parts the scenario needs that do not answer (one line each)."""

    def __init__(self, lines: list[str], fix: str) -> None:
        super().__init__(lines[0] if len(lines) == 1 else f"{len(lines)} parts do not answer")
        self.lines = lines
        self.fix = fix

    def render(self) -> str:
        """One line per part, the fix on the last."""
        return "\n".join([*self.lines[:-1], f"{self.lines[-1]} — fix: {self.fix}"])

    def __str__(self) -> str:
        return self.render()


def check_needs(loaded: LoadedScenario, stack: Stack) -> None:
    """Refuse (exit 2) a scenario that needs a part the stack does not declare."""
    problems = unmet_needs(loaded, stack.parts, stack.source, stack.kind)
    if problems:
        raise ScenarioInvalid(loaded.path, problems)


def check_reachable(loaded: LoadedScenario, stack: Stack, ask: ReachCheck | None = None) -> None:
    """Refuse (exit 3) to start when a part the scenario needs does not answer."""
    ask = ask or reach
    first_need: dict[Part, str] = {}
    for need in scenario_needs(loaded):
        first_need.setdefault(need.part, need.what)
    lines: list[str] = []
    for part, what in first_need.items():
        if part in _NOTHING_TO_ASK or not stack.declares(part):
            continue
        try:
            ask(stack, part)
        except DagstormError as exc:
            lines.append(f"{stack.source}: {part_text(part)} (needed by {what}): {exc.what}")
    if lines:
        raise PartsUnreachable(
            lines,
            "make it answer from this machine (`dagstorm stack check` checks each part),"
            " then run again; nothing was started",
        )
