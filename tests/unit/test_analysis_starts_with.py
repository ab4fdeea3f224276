"""starts_with: a categorical column gives what ``astype(str).str.startswith`` gives."""

from __future__ import annotations

import pandas as pd
import pytest

from dagstorm.analysis.measures.scheduler.scheduler_metrics import starts_with

NAMES = ["executor.open_slots", None, "executor.open_slots.pool", "scheduler.tasks", "nan", "ex"]


@pytest.mark.parametrize("prefix", ["executor.open_slots", "sched", "nan", "", "zzz"])
def test_categorical_matches_text(prefix: str) -> None:
    text = pd.Series(NAMES, dtype=object, index=range(10, 16))
    expected = text.astype(str).str.startswith(prefix).fillna(False).astype(bool)
    got = starts_with(text.astype("category"), prefix)
    pd.testing.assert_series_equal(got, expected, check_names=False)
    pd.testing.assert_series_equal(starts_with(text, prefix), expected, check_names=False)


def test_empty_categorical() -> None:
    assert starts_with(pd.Series([], dtype="category"), "a").tolist() == []
