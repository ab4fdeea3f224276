"""Field-by-field JSON rendering, for bad-data lines: drift variants and malformed lines.

Slower than the fixed-layout encoder (one Arrow join input per key and value) but
still vectorized; it only renders the few rows labelled as bad data. Rendering a
valid row this way gives exactly the fast encoder's bytes (a test checks it).

Variants are picked from each event id's bits, so they are deterministic:

- ``drift_missing``: one of :data:`MISSING` is left out;
- ``drift_extra``: an unknown ``"experiment":"exp-NN"`` field is appended;
- ``drift_retyped``: one of :data:`RETYPED` has the wrong JSON type (a number as
  a string, or ``event_time`` as epoch milliseconds);
- ``malformed``: the line is cut short inside the object (never valid JSON).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dagstorm.workloads.encoding import textbytes as tb
from dagstorm.workloads.model.admodel import MAX_CPM_CENTS
from dagstorm.workloads.model.catalog import Catalog
from dagstorm.workloads.model.events import EventColumns
from dagstorm.workloads.model.schema import EVENT_TYPES, FIELD_NAMES, PRICING_MODELS, Label

MISSING: tuple[str, ...] = ("campaign_id", "event_time", "spend", "user_id")
RETYPED: tuple[str, ...] = ("campaign_id", "bid_price", "event_time", "spend")
Renderer = Callable[[Catalog, EventColumns], pa.Array]


def _quoted(block: np.ndarray) -> pa.Array:
    n, width = block.shape
    out = np.full((n, width + 2), ord('"'), dtype=np.uint8)
    out[:, 1:-1] = block
    return tb.fixed_strings(out)


@lru_cache(maxsize=64)
def _quoted_names(names: tuple[str, ...]) -> pa.Array:
    return pa.array([f'"{n}"' for n in names], type=pa.string())


def _names(names: tuple[str, ...], codes: np.ndarray) -> pa.Array:
    return _quoted_names(names).take(pa.array(codes.astype(np.int64)))


def _ints(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values.astype(np.int64)), pa.string())


RENDERERS: dict[str, Renderer] = {
    "event_id": lambda c, ev: _quoted(tb.hex16(ev.event_id)),
    "event_time": lambda c, ev: _quoted(tb.iso_millis(ev.event_ms)),
    "campaign_id": lambda c, ev: _ints(c.campaign_ids[c.ad_campaign[ev.ad]]),
    "ad_id": lambda c, ev: _ints(c.ad_ids[ev.ad]),
    "pricing_model": lambda c, ev: _names(PRICING_MODELS, c.ad_pricing[ev.ad]),
    "user_id": lambda c, ev: _quoted(tb.hex16(ev.user)),
    "impression_id": lambda c, ev: _quoted(tb.hex16(ev.impression_id)),
    "geo": lambda c, ev: _names(c.geo_names, ev.geo),
    "spend": lambda c, ev: tb.fixed_strings(tb.micros_8(ev.spend_micros)),
    "event_type": lambda c, ev: _names(EVENT_TYPES, ev.event_type),
    "device": lambda c, ev: _names(c.device_names, c.devos_device[ev.devos]),
    "os": lambda c, ev: _names(c.os_names, c.devos_os[ev.devos]),
    "placement": lambda c, ev: _names(c.placement_names, ev.placement),
    "bid_price": lambda c, ev: tb.decimal_texts(MAX_CPM_CENTS, 2).take(pa.array(ev.bid_cents)),
    "schema_version": lambda c, ev: pa.array(["1"] * len(ev), type=pa.string()),
}

_RETYPE: dict[str, Renderer] = {
    "campaign_id": lambda c, ev: _quote_text(RENDERERS["campaign_id"](c, ev)),
    "bid_price": lambda c, ev: _quote_text(RENDERERS["bid_price"](c, ev)),
    "event_time": lambda c, ev: _ints(ev.event_ms),
    "spend": lambda c, ev: _quote_text(RENDERERS["spend"](c, ev)),
}


def _quote_text(values: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise('"', values, '"', "")


def render(
    catalog: Catalog,
    events: EventColumns,
    *,
    drop: str | None = None,
    retype: str | None = None,
    extra: bool = False,
    end: str = "\n",
) -> pa.StringArray:
    """Lines rendered key by key, optionally with one field dropped, retyped, or added.

    Each line ends with ``end`` (a newline; the empty string gives bare JSON texts).
    """
    parts: list[pa.Array | str] = []
    for name in FIELD_NAMES:
        if name == drop:
            continue
        renderer = _RETYPE[name] if name == retype else RENDERERS[name]
        parts += ["," if parts else "{", f'"{name}":', renderer(catalog, events)]
    if extra:
        tag = (events.event_id % np.uint64(100)).astype(np.int64)
        values = pa.array([f'"exp-{i:02d}"' for i in range(100)]).take(pa.array(tag))
        parts += [',"experiment":', values]
    parts.append("}" + end)
    return pc.binary_join_element_wise(*parts, "")


def _variant_bits(events: EventColumns) -> np.ndarray:
    return ((events.event_id >> np.uint64(17)) % np.uint64(997)).astype(np.int64)


def truncate(lines: pa.StringArray, event_ids: np.ndarray, end: str = "\n") -> pa.StringArray:
    """Each line (a JSON object then ``end``) cut to a strict prefix of its object, then ``end``."""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[
        lines.offset : lines.offset + len(lines) + 1
    ].astype(np.int64)
    data = np.frombuffer(lines.buffers()[2], dtype=np.uint8)
    tail = np.frombuffer(end.encode(), dtype=np.uint8)
    lengths = np.diff(offsets) - tail.size  # each object ends with "}": keep 1 .. length-1 bytes
    keep = 1 + (event_ids >> np.uint64(29)).astype(np.int64) % np.maximum(lengths - 1, 1)
    new_lengths = keep + tail.size
    new_offsets = np.zeros(len(lines) + 1, dtype=np.int64)
    np.cumsum(new_lengths, out=new_offsets[1:])
    row = np.repeat(np.arange(len(lines)), new_lengths)
    within = np.arange(int(new_offsets[-1])) - new_offsets[row]
    out = data[offsets[row] + within]
    for k in range(tail.size):
        out[new_offsets[1:] - tail.size + k] = tail[k]
    return pa.Array.from_buffers(
        pa.string(),
        len(lines),
        [None, pa.py_buffer(new_offsets.astype(np.int32)), pa.py_buffer(out)],
    )


def apply_variants(
    catalog: Catalog, events: EventColumns, lines: pa.StringArray, end: str = "\n"
) -> pa.StringArray:
    """``lines`` with the rows labelled malformed or drift replaced by their broken form.

    ``end`` is what every line ends with (the replacements end with it too).
    """
    special = np.flatnonzero(events.label >= Label.MALFORMED)
    if special.size == 0:
        return lines
    sub = events.take(special)
    bits = _variant_bits(sub)
    rendered: list[pa.Array] = []
    positions: list[np.ndarray] = []
    malformed = np.flatnonzero(sub.label == Label.MALFORMED)
    if malformed.size:
        cut = truncate(lines.take(pa.array(special[malformed])), sub.event_id[malformed], end)
        rendered.append(cut)
        positions.append(malformed)
    variants: list[tuple[Label, int, int, dict[str, object]]] = [
        (Label.DRIFT_MISSING, len(MISSING), i, {"drop": name}) for i, name in enumerate(MISSING)
    ]
    variants.append((Label.DRIFT_EXTRA, 1, 0, {"extra": True}))
    variants += [
        (Label.DRIFT_RETYPED, len(RETYPED), i, {"retype": name}) for i, name in enumerate(RETYPED)
    ]
    for label, modulus, residue, how in variants:
        picked = np.flatnonzero((sub.label == label) & (bits % modulus == residue))
        if picked.size:
            rendered.append(render(catalog, sub.take(picked), end=end, **how))  # type: ignore[arg-type]
            positions.append(picked)
    order = np.argsort(np.concatenate(positions), kind="stable")
    replacements = pa.concat_arrays(rendered).take(pa.array(order))
    mask = np.zeros(len(events), dtype=bool)
    mask[special] = True
    return pc.replace_with_mask(lines, pa.array(mask), replacements)
