"""The TUI's text helpers: lines that fit their pane, short run labels."""

from __future__ import annotations

from dagstorm.tui.format import cells, fit, styled
from dagstorm.tui.widgets.dag_runs import run_label


def test_fit_keeps_everything_that_fits() -> None:
    assert fit([(0, "a"), (3, "b"), (1, "c")], 80) == "a  b  c"


def test_fit_drops_the_highest_ranks_first_and_keeps_the_order() -> None:
    pieces = [(0, "scenario"), (3, "x" * 30), (1, styled("REPLAY", "$accent")), (2, "y" * 10)]
    line = fit(pieces, 30)
    assert line == f"scenario  {styled('REPLAY', '$accent')}  {'y' * 10}"
    assert cells(line) <= 30


def test_fit_never_drops_rank_zero_even_when_too_long() -> None:
    assert fit([(0, "a" * 50), (0, "b"), (2, "c")], 10) == f"{'a' * 50}  b"


def test_markup_takes_no_cells() -> None:
    assert cells(styled("PASS", "$success")) == 4


def test_run_labels_are_the_logical_date_short() -> None:
    assert run_label("scheduled__2026-11-24T04:00:00+00:00") == "11-24 04:00"
    assert run_label("manual__2026-11-24T04:21:03.512+00:00") == "11-24 04:21"
    assert run_label("my-own-run-id") == "my-own-run-id"


def test_slo_chips_are_shown_whole_or_counted() -> None:
    from dagstorm.tui.format import cells, light
    from dagstorm.tui.widgets.run_header import whole_chips

    chips = [
        light(n, "red", "") for n in ("sla:ad_logs_hourly", "recovery_time:max", "lost_events")
    ]
    assert whole_chips(chips, 200) == "  ".join(chips)
    narrow = whole_chips(chips, 55)
    assert narrow == "  ".join(chips[:2]) + "  +1 more" and cells(narrow) <= 55
    assert whole_chips(chips, 5) == chips[0] + "  +2 more"  # the first stays
