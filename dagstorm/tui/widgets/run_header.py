"""The header: scenario, phase, wall and simulated time, compression, verdict, SLO lights, score."""

from __future__ import annotations

from textual.markup import escape

from dagstorm.core.durations import coarse_text, stopwatch_text
from dagstorm.tui.format import cells, fit, light, styled
from dagstorm.tui.live_verdict import LiveVerdict
from dagstorm.tui.state import RunState
from dagstorm.tui.widgets.text_pane import TextPane


class RunHeader(TextPane):
    """Two lines at the top: where the run is, and whether its SLOs hold."""

    def show(self, state: RunState, verdict: LiveVerdict, mode: str) -> None:
        """Render ``state`` and ``verdict``; ``mode`` is LIVE or the replay position."""
        duration = state.duration_s
        remaining = max(0.0, duration - state.now_t) if duration is not None else None
        sim_total = duration * state.compression if duration is not None else None
        status = state.status if state.status != "running" else ""
        width = max(self.size.width - 2, 20)  # the header's padding
        # Rank 0 stays whatever the width; higher ranks go first on a narrow terminal,
        # so the line never wraps and pushes the verdict line out of the header.
        first = fit(
            [
                (0, f"[b]{escape(state.scenario or '…')}[/b]"),
                (2, f"phase [b]{escape(state.current_phase() or '-')}[/b]"),
                (0, f"wall {stopwatch_text(state.now_t)}/{stopwatch_text(duration)}"),
                (4, f"(−{stopwatch_text(remaining)})"),
                (3, f"sim {coarse_text(state.now_sim)}/{coarse_text(sim_total)}"),
                (5, f"×{state.compression:g}"),
                (1, styled(mode, "$accent")),
                (
                    0,
                    styled("WORKLOADS PAUSED", "$warning")
                    if state.paused and not state.ended
                    else "",
                ),
                (
                    0,
                    styled(status.upper(), "$success" if status == "completed" else "$error")
                    if status
                    else "",
                ),
            ],
            width,
        )
        wide = self.size.width >= 120
        chips = [
            light(s.name, s.light, s.value_text.split(" (")[0] if wide else "")
            for s in verdict.slos
        ]
        score = score_text(verdict, ended=state.ended)
        badge, finding = outcome(verdict)
        if chips:
            lead = cells(f"{badge}score {score}  ")
            second = whole_chips(chips, width - lead)  # the finding after them may be cut
        elif verdict.final:
            second = styled("no SLOs declared", "$text-muted")
        else:
            second = styled("no SLO verdict yet", "$text-muted")
        self.tooltip = "score: the resilience score, the weighted share of SLOs passed"
        self.put(f"{first}\n{badge}score [b]{score}[/b]  {second}{finding}")


def whole_chips(chips: list[str], width: int) -> str:
    """As many whole SLO chips as fit in ``width`` cells, then ``+N more``.

    A chip cut at the edge (``✖ lost_ev``) would name an SLO wrongly; the first chip
    stays whatever the width.
    """
    for shown in range(len(chips), 0, -1):
        more = f"  +{len(chips) - shown} more" if shown < len(chips) else ""
        line = "  ".join(chips[:shown]) + more
        if cells(line) <= width or shown == 1:
            return line
    return ""


def score_text(verdict: LiveVerdict, *, ended: bool) -> str:
    """The score as the run stands: a number only once some SLO is decided.

    ``pending`` while every SLO could still pass or fail (0.0 would read as "all
    failed"); ``judging…`` between the run's end and its final verdict, rather than
    the last live score.
    """
    if ended and not verdict.final:
        return "judging…"
    if verdict.score is not None:
        return f"{verdict.score:.1f}"
    return "pending" if verdict.slos and not verdict.final else "-"


def outcome(verdict: LiveVerdict) -> tuple[str, str]:
    """The run's verdict once known: the badge that leads the line, the finding that ends it.

    ``PASS`` / ``FAIL exit N`` first; the first finding last, after the SLO chips,
    since a long line is cut.
    """
    if verdict.passed is None:
        return "", ""
    if verdict.passed:
        return styled("PASS", "$success") + "  ", ""
    badge = styled(f"FAIL exit {verdict.exit_code}", "$error") + "  "
    if not verdict.findings:
        return badge, ""
    more = f" (+{len(verdict.findings) - 1} more)" if len(verdict.findings) > 1 else ""
    return badge, "  " + styled(f"{verdict.findings[0]}{more}", "$error")
