"""The ad-log model (schema version 1): impressions, clicks and conversions.

For each batch window the model draws the window's impressions (ad from the
campaign x ad Zipf table, user from the power-law audience, placement from its
mix, a lognormal bid around the campaign's median, and a price paid below the
bid), then the funnel: each impression is clicked with its ad's CTR after a
lognormal delay, and each click converts with its campaign's rate after a longer
delay. Clicks and conversions carry their impression's ids and attributes and
wait in :class:`PendingEvents` until their time comes, so they land in the batch
(and hourly partition) of their own time.

Billing: CPM campaigns pay ``bid x clearing / 1000`` per impression; CPC campaigns
pay ``bid x clearing`` per click; conversions cost nothing.

Everything a batch draws comes from a generator seeded by (seed, batch index):
the same seed gives the same events, and a batch can be recomputed on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from dagstorm.workloads.model.catalog import Catalog
from dagstorm.workloads.model.config import AdModelConfig, KeySkewConfig
from dagstorm.workloads.model.events import EventColumns, PendingEvents
from dagstorm.workloads.model.ids import batch_rng, event_ids
from dagstorm.workloads.model.schedule import Window
from dagstorm.workloads.model.schema import CLICK, CONVERSION, CPC, CPM, IMPRESSION, Label
from dagstorm.workloads.model.skew import KeySkew

MAX_CPM_CENTS = 99_999  # 999.99 per mille
MAX_CPC_CENTS = 999  # 9.99 per click: a click's spend stays below 10


@dataclass(frozen=True)
class ModelBatch:
    """A window's events (label VALID), sorted by arrival, and the rows it created."""

    events: EventColumns
    rows_created: int


class AdLogModel:
    """Generates the events of successive windows; holds the pending funnel."""

    STREAM = "events"

    def __init__(
        self,
        config: AdModelConfig,
        seed: int,
        *,
        skew: KeySkewConfig | None = None,
        start_ms: int = 0,
    ) -> None:
        self.config = config
        self.seed = seed
        self.catalog = Catalog(config, seed)
        self.pending = PendingEvents()
        #: Key skew (``skew.at`` counts from ``start_ms``), or None.
        self.skew = None if skew is None else KeySkew(skew, self.catalog, seed, start_ms=start_ms)

    def impressions(
        self, rng: np.random.Generator, times_ms: np.ndarray, ids: np.ndarray
    ) -> EventColumns:
        """Impressions at ``times_ms`` with ``ids``: ad, user, placement, bid, spend."""
        cat = self.catalog
        n = times_ms.size
        ad = cat.ads.sample(rng.random(n))
        if self.skew is not None:
            ad = self.skew.apply(ad, times_ms, ids)
        user = cat.user_hashes(cat.sample_users(rng.random(n)))
        geo, devos = cat.user_attributes(user)
        placement = cat.placement.sample(rng.integers(0, 1 << 16, size=n, dtype=np.uint16))
        campaign = cat.ad_campaign[ad]
        jitter = np.exp(self.config.bid_jitter * rng.standard_normal(n))
        pricing = cat.campaign_pricing[campaign]
        cap = np.where(pricing == CPC, MAX_CPC_CENTS, MAX_CPM_CENTS)
        bid = np.clip(np.rint(cat.campaign_bid_cents[campaign] * jitter), 1, cap).astype(np.int64)
        clearing = self._clearing(rng, n)
        # CPM: bid is per mille, in cents: bid/100/1000 currency = bid * 10 micros.
        spend = np.where(pricing == CPM, np.rint(bid * 10.0 * clearing), 0).astype(np.int64)
        return EventColumns(
            event_id=ids,
            impression_id=ids,
            event_ms=times_ms,
            arrival_ms=times_ms,
            event_type=np.full(n, IMPRESSION, dtype=np.int8),
            ad=ad,
            user=user,
            geo=geo,
            devos=devos,
            placement=placement,
            bid_cents=bid,
            spend_micros=spend,
            label=np.full(n, Label.VALID, dtype=np.int8),
        )

    def _clearing(self, rng: np.random.Generator, n: int) -> np.ndarray:
        low = self.config.clearing_low
        return low + (1.0 - low) * rng.random(n)

    def _delays_ms(
        self, rng: np.random.Generator, n: int, median_s: float, sigma: float
    ) -> np.ndarray:
        seconds = median_s * np.exp(sigma * rng.standard_normal(n))
        return np.maximum(1, np.rint(seconds * 1000.0)).astype(np.int64)

    def _funnel(self, rng: np.random.Generator, imps: EventColumns, window: Window) -> int:
        """Queue the clicks and conversions that follow ``imps``; return how many."""
        cat, cfg = self.catalog, self.config
        n = len(imps)
        clicked = rng.random(n) < cat.ad_ctr[imps.ad]
        clicks = imps.take(clicked)
        c = len(clicks)
        delay = self._delays_ms(rng, c, cfg.click_delay_s.median, cfg.click_delay_s.sigma)
        click_ms = clicks.event_ms + delay
        cpc = cat.ad_pricing[clicks.ad] == CPC
        clearing = self._clearing(rng, c)
        spend = np.where(cpc, np.rint(clicks.bid_cents * 10_000.0 * clearing), 0).astype(np.int64)
        click_ids = event_ids(self.seed, window.index, n, c)
        clicks = clicks.replace(
            event_id=click_ids,
            event_ms=click_ms,
            arrival_ms=click_ms,
            event_type=np.full(c, CLICK, dtype=np.int8),
            spend_micros=spend,
        )
        converted = rng.random(c) < cat.campaign_cvr[cat.ad_campaign[clicks.ad]]
        convs = clicks.take(converted)
        k = len(convs)
        delay = self._delays_ms(rng, k, cfg.conversion_delay_s.median, cfg.conversion_delay_s.sigma)
        np.minimum(delay, int(cfg.max_conversion_delay_s * 1000), out=delay)
        conv_ms = convs.event_ms + delay
        convs = convs.replace(
            event_id=event_ids(self.seed, window.index, n + c, k),
            event_ms=conv_ms,
            arrival_ms=conv_ms,
            event_type=np.full(k, CONVERSION, dtype=np.int8),
            spend_micros=np.zeros(k, dtype=np.int64),
        )
        self.pending.push(clicks)
        self.pending.push(convs)
        return c + k

    def generate(self, window: Window) -> ModelBatch:
        """The events landing in ``window``, sorted by arrival time.

        That is the window's impressions plus the clicks and conversions due in it.
        """
        rng = batch_rng(self.seed, self.STREAM, window.index)
        n = window.count
        gaps = rng.standard_exponential(n + 1)
        cumulative = np.cumsum(gaps)
        span = window.end_ms - window.start_ms
        offsets = (cumulative[:n] * (span / cumulative[n])).astype(np.int64)
        np.minimum(offsets, span - 1, out=offsets)
        times = window.start_ms + offsets
        imps = self.impressions(rng, times, event_ids(self.seed, window.index, 0, n))
        created = n + self._funnel(rng, imps, window)
        due = self.pending.pop_due(window.end_ms)
        if len(due):
            imps = merge_by_arrival(imps, due)
        return ModelBatch(events=imps, rows_created=created)


def merge_by_arrival(first: EventColumns, second: EventColumns) -> EventColumns:
    """Rows of both, stably ordered by ``arrival_ms`` (``first`` must be sorted)."""
    order = np.argsort(second.arrival_ms, kind="stable")
    # Insert each row of ``second`` after the rows of ``first`` arriving at the same time.
    slots = np.searchsorted(first.arrival_ms, second.arrival_ms[order], side="right")
    return EventColumns(
        **{
            f.name: np.insert(getattr(first, f.name), slots, getattr(second, f.name)[order])
            for f in fields(EventColumns)
        }
    )
