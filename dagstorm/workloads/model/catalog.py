"""The ad platform's catalogue: campaigns, ads, audience mixes, and their samplers.

Built once per run from the model config and the seed. Campaign popularity is
Zipf over campaigns and ad popularity Zipf within a campaign; both are folded into
one alias table over all ads, so drawing an ad costs two look-ups. Users are
ranks ``1..users`` drawn from a power law (the rank-r user visits ~ r^-s times as
often as the first), and a user's geo, device and OS are fixed functions of the
user, so returning users look the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dagstorm.workloads.model.config import AdModelConfig, ClippedLogNormal
from dagstorm.workloads.model.ids import affine_ids, hashed, seed_key
from dagstorm.workloads.model.schema import CPC, CPM

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
U64 = NDArray[np.uint64]

#: Upper bound on ads in a catalogue (alias tables are built with a Python loop).
MAX_ADS = 1_000_000


@dataclass(frozen=True)
class Alias:
    """Walker's alias table: O(1) draws from a discrete distribution."""

    prob: F64
    alias: I64

    @classmethod
    def build(cls, weights: F64) -> Alias:
        """The table for ``weights`` (need not sum to 1)."""
        k = weights.size
        scaled = weights * (k / weights.sum())
        prob = np.ones(k)
        alias = np.arange(k, dtype=np.int64)
        small = [i for i in range(k) if scaled[i] < 1.0]
        large = [i for i in range(k) if scaled[i] >= 1.0]
        values = scaled.tolist()
        while small and large:
            s, g = small.pop(), large.pop()
            prob[s], alias[s] = values[s], g
            values[g] -= 1.0 - values[s]
            (small if values[g] < 1.0 else large).append(g)
        return cls(prob=prob, alias=alias)

    def sample(self, uniforms: F64) -> I64:
        """One draw per uniform in [0, 1)."""
        x = uniforms * self.prob.size
        column = x.astype(np.int64)
        np.minimum(column, self.prob.size - 1, out=column)
        keep = (x - column) < self.prob[column]
        return np.where(keep, column, self.alias[column])

    def probabilities(self) -> F64:
        """The distribution the table draws from (for tests)."""
        k = self.prob.size
        p = self.prob / k
        np.add.at(p, self.alias, (1.0 - self.prob) / k)
        return p


@dataclass(frozen=True)
class Lookup16:
    """A 65,536-slot table for small mixes: one look-up per draw from 16 random bits.

    Each category gets ``round(p * 65536)`` slots (at least one), so probabilities
    are exact to within 1/65,536 — ample for geo, device/OS and placement mixes.
    """

    table: I64

    @classmethod
    def build(cls, weights: F64) -> Lookup16:
        """The table for ``weights`` (positive; need not sum to 1)."""
        size = 1 << 16
        if weights.size > size // 2:
            raise ValueError("Lookup16 is for small mixes")
        exact = weights / weights.sum() * size
        slots = np.maximum(1, np.floor(exact)).astype(np.int64)
        short = size - int(slots.sum())
        order = np.argsort(-(exact - np.floor(exact)) if short > 0 else -slots, kind="stable")
        step = 1 if short > 0 else -1
        i = 0
        while short != 0:
            k = order[i % order.size]
            if step > 0 or slots[k] > 1:
                slots[k] += step
                short -= step
            i += 1
        return cls(np.repeat(np.arange(weights.size, dtype=np.int64), slots))

    def sample(self, bits: NDArray[np.unsignedinteger[Any]]) -> I64:
        """One draw per 16-bit value (higher bits are ignored)."""
        drawn: I64 = self.table[bits & 0xFFFF]
        return drawn

    def probabilities(self) -> F64:
        """The distribution the table draws from."""
        return np.bincount(self.table).astype(np.float64) / self.table.size


def _normalised(mix: dict[str, float]) -> tuple[tuple[str, ...], F64]:
    names = tuple(mix)
    weights = np.array([mix[n] for n in names], dtype=np.float64)
    return names, weights / weights.sum()


def _clipped(rng: np.random.Generator, spec: ClippedLogNormal, size: int) -> F64:
    draws = spec.median * np.exp(spec.sigma * rng.standard_normal(size))
    return np.clip(draws, spec.low, spec.high)


class Catalog:
    """Campaigns, ads and audience mixes of one run, with vectorized samplers."""

    def __init__(self, config: AdModelConfig, seed: int) -> None:
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0xCA7A106]))
        self.config = config
        c = config.campaigns
        ads_per = 1 + rng.poisson(config.ads_per_campaign - 1.0, size=c)
        if int(ads_per.sum()) > MAX_ADS:
            raise ValueError(f"campaigns x ads_per_campaign exceeds {MAX_ADS} ads")
        #: 7-digit campaign ids, 9-digit ad ids (fixed widths keep lines fixed-width).
        self.campaign_ids = affine_ids(c, base=1_000_000, span=9_000_000, key=seed_key(seed, "c"))
        n_ads = int(ads_per.sum())
        self.ad_ids = affine_ids(n_ads, base=100_000_000, span=900_000_000, key=seed_key(seed, "a"))
        self.ad_campaign = np.repeat(np.arange(c, dtype=np.int64), ads_per)
        rank_in_campaign = np.arange(n_ads) - np.repeat(np.cumsum(ads_per) - ads_per, ads_per)
        campaign_p = (np.arange(c) + 1.0) ** -config.campaign_zipf
        campaign_p /= campaign_p.sum()
        ad_w = (rank_in_campaign + 1.0) ** -config.ad_zipf
        ad_w /= np.bincount(self.ad_campaign, weights=ad_w)[self.ad_campaign]
        #: Probability that an impression shows each ad (campaign Zipf x ad Zipf).
        self.ad_p = campaign_p[self.ad_campaign] * ad_w
        self.ads = Alias.build(self.ad_p)
        self.ad_ctr = _clipped(rng, config.ctr, n_ads)
        self.campaign_cvr = _clipped(rng, config.cvr, c)
        self.campaign_pricing = np.where(rng.random(c) < config.cpc_share, CPC, CPM).astype(np.int8)
        cpm = config.cpm_bid.median * np.exp(config.cpm_bid.sigma * rng.standard_normal(c))
        cpc = config.cpc_bid.median * np.exp(config.cpc_bid.sigma * rng.standard_normal(c))
        #: Median bid per campaign in cents: per mille for CPM, per click for CPC.
        self.campaign_bid_cents = np.where(self.campaign_pricing == CPC, cpc, cpm) * 100.0
        self.ad_pricing = self.campaign_pricing[self.ad_campaign]

        self.geo_names, geo_p = _normalised(config.geo)
        self.geo = Lookup16.build(geo_p)
        self.device_names, device_p = _normalised(config.device)
        self.os_names = tuple(sorted({o for mix in config.os.values() for o in mix}))
        pair_device, pair_os, pair_p = [], [], []
        for d, device in enumerate(self.device_names):
            names, os_p = _normalised(config.os[device])
            for name, p in zip(names, os_p, strict=True):
                pair_device.append(d)
                pair_os.append(self.os_names.index(name))
                pair_p.append(device_p[d] * p)
        #: (device, os) pairs; events carry the pair index ("devos").
        self.devos_device = np.array(pair_device, dtype=np.int64)
        self.devos_os = np.array(pair_os, dtype=np.int64)
        self.devos = Lookup16.build(np.array(pair_p))
        self.placement_names, placement_p = _normalised(config.placement)
        self.placement = Lookup16.build(placement_p)
        self._user_key = seed_key(seed, "user")
        self._attr_key = seed_key(seed, "user-attributes")

    @property
    def n_ads(self) -> int:
        """Number of ads in the catalogue."""
        return int(self.ad_ids.size)

    def sample_users(self, uniforms: F64) -> U64:
        """User ranks ``1..users`` with P(rank r) ~ r^-s (continuous inverse CDF)."""
        users, s = float(self.config.users), self.config.user_activity
        if abs(1.0 - s) < 1e-9:
            x = np.power(users + 1.0, uniforms)
        else:
            top = (users + 1.0) ** (1.0 - s) - 1.0
            x = np.power(top * uniforms + 1.0, 1.0 / (1.0 - s))
        return np.clip(x, 1.0, users).astype(np.uint64)

    def user_hashes(self, ranks: U64) -> U64:
        """The 64-bit id of each user (rendered as ``user_id``)."""
        return hashed(ranks, self._user_key)

    def user_attributes(self, user_hashes: U64) -> tuple[I64, I64]:
        """(geo index, devos index) of each user: fixed per user."""
        bits = hashed(user_hashes, self._attr_key)
        return self.geo.sample(bits), self.devos.sample(bits >> np.uint64(16))
