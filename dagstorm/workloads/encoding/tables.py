"""Events as Arrow tables (schema version 1), for Parquet and for readers.

Categorical columns are dictionary-encoded (int8 codes into the catalogue's
names, no copying of strings); ids are the same 16-hex-digit strings as in JSON
lines; ``event_time`` is a UTC millisecond timestamp; amounts are float64 with the
same decimal values as the JSON text.

Schema drift in Parquet is per file: a drifted row cannot sit in a file with the
good schema, so drift rows are written to their own part files whose schema lacks
a column, has an extra one, or has one retyped (:func:`drift_table`). Malformed
lines exist only in JSON lines.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dagstorm.workloads.encoding import textbytes as tb
from dagstorm.workloads.model.catalog import Catalog
from dagstorm.workloads.model.events import EventColumns
from dagstorm.workloads.model.schema import (
    EVENT_TYPES,
    FIELDS,
    PRICING_MODELS,
    SCHEMA_VERSION,
    Label,
    arrow_schema,
)

SCHEMA = arrow_schema()
#: Parquet-level drift variants: (dropped column, retyped column) per label.
PARQUET_MISSING = "spend"
PARQUET_RETYPED = "campaign_id"


def _dictionary(codes: np.ndarray, names: tuple[str, ...]) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(
        pa.array(codes.astype(np.int8)), pa.array(list(names), type=pa.string())
    )


def to_table(events: EventColumns, catalog: Catalog) -> pa.Table:
    """``events`` as a table of :data:`SCHEMA` (labels are not part of the data)."""
    n = len(events)
    columns: dict[str, pa.Array] = {
        "event_id": tb.fixed_strings(tb.hex16(events.event_id)),
        "event_time": pa.array(events.event_ms, type=pa.timestamp("ms", tz="UTC")),
        "campaign_id": pa.array(catalog.campaign_ids[catalog.ad_campaign[events.ad]]),
        "ad_id": pa.array(catalog.ad_ids[events.ad]),
        "pricing_model": _dictionary(catalog.ad_pricing[events.ad], PRICING_MODELS),
        "user_id": tb.fixed_strings(tb.hex16(events.user)),
        "impression_id": tb.fixed_strings(tb.hex16(events.impression_id)),
        "geo": _dictionary(events.geo, catalog.geo_names),
        "spend": pa.array(events.spend_micros / 1e6),
        "event_type": _dictionary(events.event_type, EVENT_TYPES),
        "device": _dictionary(catalog.devos_device[events.devos], catalog.device_names),
        "os": _dictionary(catalog.devos_os[events.devos], catalog.os_names),
        "placement": _dictionary(events.placement, catalog.placement_names),
        "bid_price": pa.array(events.bid_cents / 100.0),
        "schema_version": pa.array(np.full(n, SCHEMA_VERSION, dtype=np.int32)),
    }
    return pa.Table.from_arrays([columns[f.name] for f in FIELDS], schema=SCHEMA)


def drift_table(events: EventColumns, catalog: Catalog, label: Label) -> pa.Table:
    """Drift rows of one kind as a table with the drifted schema."""
    table = to_table(events, catalog)
    if label == Label.DRIFT_MISSING:
        return table.drop_columns([PARQUET_MISSING])
    if label == Label.DRIFT_EXTRA:
        tag = (events.event_id % np.uint64(100)).astype(np.int64)
        values = pa.array([f"exp-{i:02d}" for i in range(100)]).take(pa.array(tag))
        return table.append_column("experiment", values)
    if label == Label.DRIFT_RETYPED:
        index = table.schema.get_field_index(PARQUET_RETYPED)
        as_text = pc.cast(table.column(PARQUET_RETYPED), pa.string())
        return table.set_column(index, PARQUET_RETYPED, as_text)
    raise ValueError(f"not a drift label: {label!r}")
