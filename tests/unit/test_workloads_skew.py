"""Key skew (``skew:``): hot share, determinism, zero skew = same bytes, window, validation.

Every figure is measured on generated events (no mocks): the share of impressions
on the hot keys over >= 100k impressions with a fixed seed, the bytes encoded with
and without a zero skew, and the ledger against the landed files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from dagstorm.scenarios.loader import ScenarioInvalid, load_scenario
from dagstorm.workloads.config import GeneratorConfig, SourceConfig
from dagstorm.workloads.encoding.jsonl import JsonlEncoder
from dagstorm.workloads.model.events import EventColumns
from dagstorm.workloads.model.schema import IMPRESSION
from dagstorm.workloads.sinks.generator import AdLogGenerator
from dagstorm.workloads.sinks.ledger import load_ledger
from dagstorm.workloads.source import EventSource


def source(seed: int = 5, rate: str = "120k events/s", **extra: Any) -> EventSource:
    return EventSource(SourceConfig.model_validate({"seed": seed, "rate": rate, **extra}))


def events(src: EventSource, seconds: float) -> EventColumns:
    return EventColumns.concat([e for _, e in src.batches(seconds)])


def impressions(cols: EventColumns) -> EventColumns:
    return cols.take(cols.event_type == IMPRESSION)


@pytest.mark.parametrize(
    ("key", "hot_keys", "share"),
    [("campaign_id", 1, 0.6), ("ad_id", 1, 0.6), ("campaign_id", 3, 0.3), ("ad_id", 5, 0.9)],
)
def test_hot_share_within_tolerance(key: str, hot_keys: int, share: float) -> None:
    skew = {"key": key, "hot_share": share, "hot_keys": hot_keys}
    src = source(skew=skew)
    imps = impressions(events(src, 2.0))
    assert len(imps) >= 100_000
    model = src.model
    assert model.skew is not None and len(model.skew.hot_values) == hot_keys
    catalog = model.catalog
    if key == "campaign_id":
        values = catalog.campaign_ids[catalog.ad_campaign[imps.ad]]
    else:
        values = catalog.ad_ids[imps.ad]
    hot = np.isin(values, model.skew.hot_values)
    # Binomial sd at 120k rows is < 0.0015; 0.01 is > 6 sd.
    assert hot.mean() == pytest.approx(share, abs=0.01)
    # Spread over the hot keys: each gets about its part (equal split of the moved rows).
    per_key = np.array([(values == v).mean() for v in model.skew.hot_values])
    assert per_key.min() > 0.5 * share / hot_keys


def test_without_skew_the_same_keys_are_rare() -> None:
    plain = source()
    skewed = source(skew={"hot_share": 0.6})
    assert skewed.model.skew is not None
    hot = skewed.model.skew.ads
    assert np.isin(impressions(events(plain, 1.0)).ad, hot).mean() < 0.05


def test_deterministic_under_the_seed() -> None:
    skew = {"key": "ad_id", "hot_share": 0.5, "hot_keys": 2}
    a, b = events(source(skew=skew), 0.5), events(source(skew=skew), 0.5)
    assert np.array_equal(a.ad, b.ad) and np.array_equal(a.event_id, b.event_id)
    other = source(seed=6, skew=skew)
    same = source(skew=skew)
    assert other.model.skew is not None and same.model.skew is not None
    assert other.model.skew.hot_values != same.model.skew.hot_values


def _encoded(**extra: Any) -> bytes:
    src = source(rate="20k events/s", **extra)
    encoder = JsonlEncoder(src.model.catalog)
    return b"".join(encoder.encode(e) for _, e in src.batches(5.0))


def test_zero_skew_leaves_every_byte_unchanged() -> None:
    plain = _encoded()
    assert len(plain) > 1_000_000
    assert _encoded(skew={"hot_share": 0.0, "hot_keys": 3}) == plain
    assert _encoded(skew={"key": "ad_id", "hot_share": 0.0}) == plain
    assert _encoded(skew={"hot_share": 0.5}) != plain


def test_skew_moves_only_the_ad_and_what_follows_from_it() -> None:
    plain = impressions(events(source(rate="20k events/s"), 5.0))
    skewed = impressions(events(source(rate="20k events/s", skew={"hot_share": 0.5}), 5.0))
    # No random stream is consumed: ids, times, users, placements are the same draws.
    for name in ("event_id", "event_ms", "user", "geo", "devos", "placement"):
        assert np.array_equal(getattr(plain, name), getattr(skewed, name)), name
    moved = (plain.ad != skewed.ad).mean()
    assert 0.45 < moved < 0.55


def test_skew_holds_only_in_its_window() -> None:
    skew = {"hot_share": 0.8, "at": "2s", "duration": "1s"}
    src = source(rate="100k events/s", skew=skew)
    imps = impressions(events(src, 4.0))
    assert src.model.skew is not None
    t = (imps.event_ms - src.start_ms) / 1000.0
    hot = np.isin(imps.ad, src.model.skew.ads)
    inside = (t >= 2.0) & (t < 3.0)
    assert hot[inside].mean() == pytest.approx(0.8, abs=0.01)
    assert hot[~inside].mean() < 0.05


def test_skewed_records_stay_consistent() -> None:
    src = source(rate="5k events/s", skew={"hot_share": 0.7})
    cols = events(src, 60.0)
    cat = src.model.catalog
    clicks = cols.take(cols.event_type != IMPRESSION)
    assert len(clicks) > 100
    # Clicks follow their impression's (moved) ad: the funnel draws from the skewed ad.
    assert src.model.skew is not None
    assert np.isin(clicks.ad, src.model.skew.ads).mean() > 0.5
    # Every hot ad belongs to the hot campaign; the ledger keys by ad, so it stays exact.
    assert set(cat.campaign_ids[cat.ad_campaign[src.model.skew.ads]]) == set(
        src.model.skew.hot_values
    )


@pytest.mark.parametrize(
    ("skew", "fragment"),
    [
        ({"hot_share": 1.5}, "less than or equal to 1"),
        ({"hot_share": -0.1}, "greater than or equal to 0"),
        ({"hot_share": 0.5, "hot_keys": 0}, "greater than or equal to 1"),
        ({"hot_share": 0.5, "hot_keys": 101}, "less than or equal to 100"),
        ({"hot_share": 0.5, "key": "user_id"}, "'campaign_id' or 'ad_id'"),
        ({"hot_share": 0.5, "duration": "0s"}, "greater than 0"),
        ({"hot_share": 0.5, "at": "soon"}, "is not a duration"),
        ({"hot_share": 0.5, "hot": 1}, "Extra inputs"),
        ({}, "hot_share"),
    ],
)
def test_bad_skew_is_rejected(skew: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        SourceConfig.model_validate({"skew": skew})
    assert fragment in str(info.value)


def test_more_hot_keys_than_campaigns_is_rejected() -> None:
    with pytest.raises(ValidationError, match=r"skew.hot_keys \(20\) exceeds model.campaigns"):
        SourceConfig.model_validate(
            {"model": {"campaigns": 10}, "skew": {"hot_share": 0.5, "hot_keys": 20}}
        )


SCENARIO = """\
name: skewed
duration: 5m
workloads:
  - kind: ad_logs
    rate: 2TB/day
    scale: 1/10000
"""


@pytest.mark.parametrize(
    ("bad", "line", "words"),
    [
        ("    skew: {hot_share: 2}\n", 7, "hot_share"),
        ("    skew: {hot_share: 0.5, key: user_id}\n", 7, "key"),
        ("    skew:\n      hot_share: 0.5\n      hot_keys: 0\n", 9, "hot_keys"),
        ("    shape: {kind: spike, at: 2h, duration: 10m, rise: 8m, fall: 8m}\n", 7, "exceed"),
    ],
)
def test_bad_skew_in_a_scenario_is_reported_at_its_line(
    tmp_path: Path, bad: str, line: int, words: str
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO + bad)
    with pytest.raises(ScenarioInvalid) as info:
        load_scenario(path, env={})
    rendered = info.value.render()
    assert f"s.yaml:{line}" in rendered, rendered
    assert words in rendered, rendered


def test_ledger_equals_the_landed_records_under_skew_and_spike(tmp_path: Path) -> None:
    config = GeneratorConfig.model_validate(
        {
            "seed": 9,
            "rate": "40 events/s",
            "start": "2026-01-05T22:00:00Z",
            "skew": {"key": "ad_id", "hot_share": 0.6, "at": "30m", "duration": "1h"},
            "shape": {"kind": "spike", "at": "1h", "duration": "10m", "factor": 8},
            "bad_data": {"duplicate": 0.01, "late": 0.01, "malformed": 0.01},
            "landing": {"root": str(tmp_path / "landing")},
        }
    )
    generator = AdLogGenerator(config, ledger_dir=tmp_path / "ledger")
    generator.advance_to(2 * 3600)
    generator.close()
    lines = [
        line
        for part in sorted((tmp_path / "landing").rglob("part-*.jsonl"))
        for line in part.read_bytes().splitlines()
    ]
    ledger = load_ledger(tmp_path / "ledger")
    assert len(lines) == generator.records == int(ledger["written"].sum())
    assert (ledger["written"] == ledger["generated"]).all()
    # Per ad, the parseable lines on disk equal the ledger's non-malformed rows exactly.
    parsed = [json.loads(line) for line in lines if line.startswith(b"{") and line.endswith(b"}")]
    on_disk: dict[int, int] = {}
    for record in parsed:
        if isinstance(record.get("ad_id"), int):
            on_disk[record["ad_id"]] = on_disk.get(record["ad_id"], 0) + 1
    good = ledger[ledger["label"] != "malformed"].groupby("ad_id")["written"].sum()
    assert on_disk == {int(k): int(v) for k, v in good.items() if v}
    summary = json.loads((tmp_path / "ledger" / "summary.json").read_text())
    assert summary["skew"]["key"] == "ad_id" and len(summary["skew"]["hot_values"]) == 1
    hot = summary["skew"]["hot_values"][0]
    assert on_disk[hot] > 0.3 * len(lines)  # the hot hour dominates the run
    assert summary["shape"]["kind"] == "spike" and summary["shape"]["factor"] == 8
