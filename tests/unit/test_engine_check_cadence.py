"""The live checks' cadence: every interval, slower after a costly check."""

from __future__ import annotations

import pytest

from dagstorm.engine.check_cadence import CHECK_COST_FACTOR, check_spacing


def test_cheap_checks_keep_the_interval_costly_ones_stay_under_their_cpu_share() -> None:
    assert check_spacing(10.0, 0.05) == 10.0
    assert check_spacing(10.0, 0.0) == 10.0
    # A 2 s check (a 24 h journal): the next one comes 40 s later, 5% of a core.
    spacing = check_spacing(10.0, 2.0)
    assert spacing == 2.0 * CHECK_COST_FACTOR == 40.0
    assert 2.0 / spacing <= 0.05
    assert check_spacing(10.0, -1.0) == 10.0  # a clock that went backwards is no cost


def test_an_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="> 0 s"):
        check_spacing(0.0, 1.0)
