"""Distributions of the ad-log model with fixed seeds, within stated tolerances.

Tolerances are several standard deviations of the estimate for the sample used, so
the tests are stable, and tight enough that a wrong formula fails them.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from dagstorm.workloads.model.admodel import AdLogModel
from dagstorm.workloads.model.catalog import Alias, Catalog
from dagstorm.workloads.model.config import AdModelConfig
from dagstorm.workloads.model.events import EventColumns
from dagstorm.workloads.model.schedule import Schedule
from dagstorm.workloads.model.schema import CLICK, CONVERSION, CPC, CPM, IMPRESSION

START = 1_767_571_200_000  # 2026-01-05T00:00Z


@cache
def sample(seed: int = 11) -> tuple[AdLogModel, EventColumns]:
    """About 1.2 M events over 20 simulated minutes (clicks due within the span)."""
    model = AdLogModel(AdModelConfig(), seed)
    schedule = Schedule(events_per_second=1000.0, start_ms=START, batch_rows=65_536)
    parts = []
    for window in schedule.windows():
        if window.end_ms > START + 1200_000:
            break
        parts.append(model.generate(window).events)
    return model, EventColumns.concat(parts)


def of_type(events: EventColumns, kind: int) -> EventColumns:
    return events.take(events.event_type == kind)


def test_counts_follow_the_schedule() -> None:
    _, events = sample()
    assert len(of_type(events, IMPRESSION)) == 1_200_000


def test_ctr_in_display_range_and_as_configured() -> None:
    model, events = sample()
    cat = model.catalog
    assert cat.ad_ctr.min() >= 0.001 and cat.ad_ctr.max() <= 0.01
    imps, clicks = of_type(events, IMPRESSION), of_type(events, CLICK)
    ctr = len(clicks) / len(imps)
    expected = float((cat.ad_p * cat.ad_ctr).sum())
    sd = np.sqrt(expected / len(imps))
    assert 0.001 <= ctr <= 0.01
    # clicks still pending at the end (median delay 8 s) make it a little lower
    assert expected - 6 * sd - 0.0001 < ctr < expected + 6 * sd


def test_conversion_rate_below_ctr() -> None:
    model, events = sample()
    imps, clicks, convs = (of_type(events, k) for k in (IMPRESSION, CLICK, CONVERSION))
    assert 0 < len(convs) / len(imps) < len(clicks) / len(imps)
    cvr = model.catalog.campaign_cvr
    assert cvr.min() >= 0.005 and cvr.max() <= 0.3


def test_campaign_popularity_is_zipf() -> None:
    model, events = sample()
    imps = of_type(events, IMPRESSION)
    campaign = model.catalog.ad_campaign[imps.ad]
    share = np.bincount(campaign, minlength=model.config.campaigns) / len(imps)
    ranks = np.arange(1, 51)
    slope = np.polyfit(np.log(ranks), np.log(share[:50]), 1)[0]
    assert slope == pytest.approx(-model.config.campaign_zipf, abs=0.05)
    theory = ranks**-1.1 / (np.arange(1, 501) ** -1.1).sum()
    assert share[:5] == pytest.approx(theory[:5], rel=0.03)


def test_ad_popularity_within_a_campaign_is_zipf() -> None:
    model, events = sample()
    cat = model.catalog
    imps = of_type(events, IMPRESSION)
    ads_of_top = np.flatnonzero(cat.ad_campaign == 0)
    counts = np.array([(imps.ad == a).sum() for a in ads_of_top], dtype=float)
    weights = np.arange(1, ads_of_top.size + 1) ** -model.config.ad_zipf
    assert counts / counts.sum() == pytest.approx(weights / weights.sum(), rel=0.1, abs=0.005)


def test_alias_table_is_exact() -> None:
    weights = np.array([5.0, 1.0, 0.0, 3.0, 1.0])
    table = Alias.build(weights)
    assert table.probabilities() == pytest.approx(weights / weights.sum())
    draws = table.sample(np.random.default_rng(0).random(200_000))
    freq = np.bincount(draws, minlength=5) / draws.size
    assert freq == pytest.approx(weights / weights.sum(), abs=0.005)


def test_bids_are_lognormal_around_the_campaign_median() -> None:
    model, events = sample()
    cat = model.catalog
    imps = of_type(events, IMPRESSION)
    top = cat.ad_campaign[imps.ad] == 0
    logs = np.log(imps.bid_cents[top])
    assert logs.std() == pytest.approx(model.config.bid_jitter, rel=0.05)
    assert np.exp(np.median(logs)) == pytest.approx(cat.campaign_bid_cents[0], rel=0.02)
    medians = cat.campaign_bid_cents[cat.campaign_pricing == CPM] / 100
    spread = np.log(medians).std()
    assert spread == pytest.approx(model.config.cpm_bid.sigma, rel=0.2)


def test_spend_follows_the_pricing_model() -> None:
    model, events = sample()
    cat = model.catalog
    pricing = cat.ad_pricing[events.ad]
    imps = (events.event_type == IMPRESSION) & (pricing == CPM)
    ratio = events.spend_micros[imps] / (events.bid_cents[imps] * 10.0)
    assert ratio.min() >= 0.5 - 0.05 and ratio.max() <= 1.0 + 0.05
    assert (events.spend_micros[(events.event_type == IMPRESSION) & (pricing == CPC)] == 0).all()
    clicks = (events.event_type == CLICK) & (pricing == CPC)
    ratio = events.spend_micros[clicks] / (events.bid_cents[clicks] * 10_000.0)
    assert ratio.min() >= 0.5 - 1e-6 and ratio.max() <= 1.0 + 1e-6
    assert (events.spend_micros[(events.event_type == CLICK) & (pricing == CPM)] == 0).all()
    assert (events.spend_micros[events.event_type == CONVERSION] == 0).all()
    assert events.spend_micros.max() < 10_000_000


def test_users_come_back_with_the_same_attributes() -> None:
    _, events = sample()
    imps = of_type(events, IMPRESSION)
    users, first, counts = np.unique(imps.user, return_index=True, return_counts=True)
    assert users.size < 0.6 * len(imps)  # 1.2 M impressions, 2 M users
    top = np.sort(counts)[::-1][: max(1, users.size // 100)].sum() / len(imps)
    assert top > 0.15
    # attributes are a function of the user
    _, inverse = np.unique(imps.user, return_inverse=True)
    assert (imps.geo == imps.geo[first][inverse]).all()
    assert (imps.devos == imps.devos[first][inverse]).all()


def test_user_activity_is_a_power_law() -> None:
    cat = Catalog(AdModelConfig(users=1_000_000, user_activity=0.7), seed=1)
    ranks = cat.sample_users(np.random.default_rng(5).random(400_000))
    assert ranks.min() >= 1 and ranks.max() <= 1_000_000
    k, s, u = 10_000, 0.7, 1_000_000.0
    theory = ((k + 1) ** (1 - s) - 1) / ((u + 1) ** (1 - s) - 1)
    assert (ranks <= k).mean() == pytest.approx(theory, abs=0.005)


def test_audience_mixes_per_user() -> None:
    config = AdModelConfig()
    cat = Catalog(config, seed=2)
    geo, devos = cat.user_attributes(cat.user_hashes(np.arange(1, 200_001, dtype=np.uint64)))
    us = cat.geo_names.index("US")
    assert (geo == us).mean() == pytest.approx(30 / sum(config.geo.values()), abs=0.005)
    device = cat.devos_device[devos]
    mobile = device == cat.device_names.index("mobile")
    assert mobile.mean() == pytest.approx(0.62, abs=0.005)
    ios = cat.devos_os[devos] == cat.os_names.index("ios")
    assert (ios & mobile).sum() / mobile.sum() == pytest.approx(0.29, abs=0.01)
    ctv = devos[device == cat.device_names.index("ctv")]
    ctv_os = {cat.os_names[o] for o in cat.devos_os[ctv]}
    assert ctv_os == set(config.os["ctv"])


def test_clicks_and_conversions_follow_their_impression() -> None:
    _, events = sample()
    imps = of_type(events, IMPRESSION)
    by_id = {int(i): k for k, i in enumerate(imps.event_id)}
    for kind in (CLICK, CONVERSION):
        rows = of_type(events, kind)
        assert len(rows) > 0
        index = np.array([by_id[int(i)] for i in rows.impression_id])
        assert (rows.event_ms > imps.event_ms[index]).all()
        for column in ("ad", "user", "geo", "devos", "placement", "bid_cents"):
            assert (getattr(rows, column) == getattr(imps, column)[index]).all(), column
    assert (imps.impression_id == imps.event_id).all()


def test_event_ids_are_unique_and_lines_arrive_in_order() -> None:
    _, events = sample()
    assert np.unique(events.event_id).size == len(events)
    assert (np.diff(events.arrival_ms) >= 0).all()
    assert (events.arrival_ms == events.event_ms).all()


def test_same_seed_same_events_and_batches_recompute_alone() -> None:
    schedule = Schedule(events_per_second=500.0, start_ms=START, batch_rows=4096)
    windows = [w for _, w in zip(range(30), schedule.windows(), strict=False)]
    a, b = AdLogModel(AdModelConfig(), 5), AdLogModel(AdModelConfig(), 5)
    for w in windows:
        x, y = a.generate(w).events, b.generate(w).events
        assert (x.event_id == y.event_id).all() and (x.bid_cents == y.bid_cents).all()
    alone = AdLogModel(AdModelConfig(), 5).generate(windows[-1]).events
    again = a.generate(windows[-1]).events  # same window, after 30 others
    assert (of_type(alone, IMPRESSION).event_id == of_type(again, IMPRESSION).event_id).all()
    first = AdLogModel(AdModelConfig(), 5).generate(windows[0]).events
    other = AdLogModel(AdModelConfig(), 6).generate(windows[0]).events
    assert not np.array_equal(other.event_id, first.event_id)
