"""The Wilson score interval against published values and its edge cases."""

from __future__ import annotations

import pytest

from dagstorm.analysis.capacity.wilson import wilson_interval


def test_known_values() -> None:
    # Wilson (1927) / Newcombe (1998) table: 81 of 263 → 0.2553–0.3662 at 95%.
    interval = wilson_interval(81, 263)
    assert interval is not None
    assert interval.low == pytest.approx(0.2553, abs=1e-4)
    assert interval.high == pytest.approx(0.3662, abs=1e-4)
    # 5 of 5: the lower bound is 1 / (1 + z²/5) = 0.5655, the upper exactly 1.
    five = wilson_interval(5, 5)
    assert five is not None and five.high == 1.0
    assert five.low == pytest.approx(0.5655, abs=1e-4)
    assert five.text == "57–100% (95% CI)"
    zero = wilson_interval(0, 5)
    assert zero is not None and zero.low == 0.0 and zero.high == pytest.approx(1 - five.low)


def test_no_runs_is_no_interval() -> None:
    assert wilson_interval(0, 0) is None


def test_more_runs_narrow_it_and_higher_confidence_widens_it() -> None:
    small, large = wilson_interval(4, 5), wilson_interval(40, 50)
    assert small is not None and large is not None
    assert large.high - large.low < small.high - small.low
    wide = wilson_interval(4, 5, confidence=0.99)
    assert wide is not None and wide.low < small.low
    assert small.low < 0.8 < small.high


@pytest.mark.parametrize(("met", "runs"), [(-1, 3), (4, 3), (1, -1)])
def test_bad_counts_are_refused(met: int, runs: int) -> None:
    with pytest.raises(ValueError, match="met"):
        wilson_interval(met, runs)
