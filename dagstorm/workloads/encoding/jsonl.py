"""Vectorized JSON-lines encoder for schema version 1.

A line is built from three pieces joined by Arrow in C++:

1. a fixed-width run (224 bytes) holding ids, time, campaign/ad/pricing, user,
   impression id, geo and spend — a numpy structured array whose constant bytes
   (keys, quotes) are written once and whose fields are filled per batch by
   table look-ups and word arithmetic (:mod:`textbytes`);
2. the categorical tail ``event_type``, ``device``, ``os``, ``placement``: one
   look-up into the texts of all combinations;
3. ``bid_price`` and the closing bytes: one look-up into the texts of all bids.

Lines are compact JSON with keys in :data:`schema.FIELDS` order. Bad-data lines
(malformed, drift) are rendered by :mod:`jsonl_variants` and swapped in.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dagstorm.workloads.encoding import textbytes as tb
from dagstorm.workloads.encoding.jsonl_variants import apply_variants
from dagstorm.workloads.model.admodel import MAX_CPM_CENTS, AdLogModel
from dagstorm.workloads.model.catalog import Catalog
from dagstorm.workloads.model.config import AdModelConfig
from dagstorm.workloads.model.events import EventColumns
from dagstorm.workloads.model.schedule import Window
from dagstorm.workloads.model.schema import EVENT_TYPES, PRICING_MODELS, SCHEMA_VERSION

#: What follows the bid's value: the last field and the end of the object.
CLOSE_OBJECT = f',"schema_version":{SCHEMA_VERSION}}}'
CLOSING = CLOSE_OBJECT + "\n"

# The fixed run: constants and (field, width) slots, in line order.
_RUN: tuple[str | tuple[str, int], ...] = (
    '{"event_id":"',
    ("event_id", 16),
    '","event_time":"',
    ("event_time", 24),
    ("ad", 75),  # '","campaign_id":C7,"ad_id":A9,"pricing_model":"xxx","user_id":"'
    ("user", 16),
    '","impression_id":"',
    ("impression_id", 16),
    '","geo":"',
    ("geo", 2),
    '","spend":',
    ("spend", 8),
)


def _run_layout() -> tuple[bytes, np.dtype]:
    template = bytearray()
    names, formats, offsets = [], [], []
    for part in _RUN:
        if isinstance(part, str):
            template += part.encode()
        else:
            name, width = part
            names.append(name)
            formats.append(f"V{width}")
            offsets.append(len(template))
            template += b"\0" * width
    layout = np.dtype(
        {"names": names, "formats": formats, "offsets": offsets, "itemsize": len(template)}
    )
    return bytes(template), layout


RUN_TEMPLATE, RUN_DTYPE = _run_layout()


def ad_block(campaign_id: int, ad_id: int, pricing: str) -> str:
    """The run's 75-byte slot for one ad."""
    return f'","campaign_id":{campaign_id},"ad_id":{ad_id},"pricing_model":"{pricing}","user_id":"'


def combo_text(event_type: str, device: str, os: str, placement: str) -> str:
    """The categorical tail of a line, up to the bid's value."""
    return (
        f',"event_type":"{event_type}","device":"{device}","os":"{os}",'
        f'"placement":"{placement}","bid_price":'
    )


def _void(block: np.ndarray, width: int) -> np.ndarray:
    return np.ascontiguousarray(block).view(f"V{width}").reshape(-1)


class JsonlEncoder:
    """Turns :class:`EventColumns` into JSON lines for one catalogue.

    Every line ends with ``end``: a newline for JSON lines; ``""`` gives the bare
    JSON texts (Kafka message values).
    """

    def __init__(self, catalog: Catalog, *, end: str = "\n") -> None:
        self.catalog = catalog
        self.end = end
        blocks = [
            ad_block(int(c), int(a), PRICING_MODELS[int(p)])
            for c, a, p in zip(
                catalog.campaign_ids[catalog.ad_campaign],
                catalog.ad_ids,
                catalog.ad_pricing,
                strict=True,
            )
        ]
        if any(len(b) != 75 for b in blocks):
            raise ValueError("campaign ids must have 7 digits and ad ids 9")
        raw = np.frombuffer("".join(blocks).encode(), dtype=np.uint8)
        self._ads = raw.reshape(len(blocks), 75).view("V75").reshape(-1)
        geo = np.frombuffer("".join(catalog.geo_names).encode(), dtype=np.uint8)
        self._geo = geo.reshape(-1, 2).view("V2").reshape(-1)
        self.n_devos = catalog.devos_device.size
        self.n_placement = len(catalog.placement_names)
        combos = [
            combo_text(
                et,
                catalog.device_names[catalog.devos_device[d]],
                catalog.os_names[catalog.devos_os[d]],
                pl,
            )
            for et in EVENT_TYPES
            for d in range(self.n_devos)
            for pl in catalog.placement_names
        ]
        self._combos = pa.array(combos, type=pa.string())
        self._bids = tb.decimal_texts(MAX_CPM_CENTS, 2, suffix=CLOSE_OBJECT + end)
        self._run = np.zeros(0, dtype=RUN_DTYPE)

    def _run_buffer(self, n: int) -> np.ndarray:
        """A reusable structured array with the constants already in place."""
        if self._run.size < n:
            size = max(n, 2 * self._run.size)
            # Fill bytes, then view: copies of a structured dtype skip its gaps.
            template = np.frombuffer(RUN_TEMPLATE, dtype=np.uint8)
            self._run = np.tile(template, size).view(RUN_DTYPE)
        return self._run[:n]

    def combo_index(self, events: EventColumns) -> np.ndarray:
        """Index of each event's categorical tail in the combination table."""
        index = events.event_type.astype(np.int64) * self.n_devos + events.devos
        index *= self.n_placement
        index += events.placement
        return index

    def lines(self, events: EventColumns) -> pa.StringArray:
        """One JSON line (ending in :attr:`end`) per event, all rendered as valid records."""
        n = len(events)
        run = self._run_buffer(n)
        run["event_id"] = _void(tb.hex16(events.event_id), 16)
        run["event_time"] = _void(tb.iso_millis(events.event_ms), 24)
        run["ad"] = self._ads[events.ad]
        run["user"] = _void(tb.hex16(events.user), 16)
        run["impression_id"] = _void(tb.hex16(events.impression_id), 16)
        run["geo"] = self._geo[events.geo]
        run["spend"] = _void(tb.micros_8(events.spend_micros), 8)
        fixed = tb.fixed_strings(run.view(np.uint8).reshape(n, RUN_DTYPE.itemsize))
        combos = self._combos.take(pa.array(self.combo_index(events)))
        bids = self._bids.take(pa.array(events.bid_cents))
        return pc.binary_join_element_wise(fixed, combos, bids, "")

    def encode(self, events: EventColumns) -> pa.Buffer:
        """The JSON-lines bytes of ``events`` (bad-data labels applied)."""
        lines = self.lines(events)
        lines = apply_variants(self.catalog, events, lines, self.end)
        return tb.string_bytes(lines)


@lru_cache(maxsize=16)
def _mean_record_bytes(config_json: str) -> float:
    model = AdLogModel(AdModelConfig.model_validate_json(config_json), seed=0)
    events = model.generate(Window(index=0, start_ms=0, end_ms=3_600_000, count=20_000)).events
    return len(JsonlEncoder(model.catalog).encode(events)) / max(1, len(events))


def mean_record_bytes(config: AdModelConfig) -> float:
    """Mean JSON-lines bytes per event under ``config`` (a fixed 20k-event sample).

    Byte rates ("2TB/day") are turned into event rates with it, whatever the format.
    """
    return _mean_record_bytes(config.model_dump_json())
