"""Ad-log schema version 1: fields, event types and bad-data labels.

One place names what a generated record looks like, so the JSON-lines encoder,
the Parquet writer, the ledger and the docs (``docs/workloads.md``) agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import pyarrow as pa

#: Version of the record schema written into every ``_SUCCESS`` marker and ledger.
SCHEMA_VERSION = 1

#: ``event_type`` values, indexed by the generator's int8 code.
EVENT_TYPES: tuple[str, ...] = ("impression", "click", "conversion")
IMPRESSION, CLICK, CONVERSION = 0, 1, 2

#: ``pricing_model`` values, indexed by the catalog's int8 code.
PRICING_MODELS: tuple[str, ...] = ("cpm", "cpc")
CPM, CPC = 0, 1


class Label(IntEnum):
    """What a written line is, for the ledger: one label per physical line."""

    VALID = 0
    LATE = 1
    DUPLICATE = 2
    MALFORMED = 3
    DRIFT_MISSING = 4
    DRIFT_EXTRA = 5
    DRIFT_RETYPED = 6

    @property
    def slug(self) -> str:
        """The lower-case name used in markers, the ledger and the docs."""
        return self.name.lower()


#: Labels a correct pipeline counts: valid lines and late lines (in their event hour).
COUNTED_LABELS: frozenset[Label] = frozenset({Label.VALID, Label.LATE})
#: Labels of schema drift, applied to one record each.
DRIFT_LABELS: tuple[Label, ...] = (Label.DRIFT_MISSING, Label.DRIFT_EXTRA, Label.DRIFT_RETYPED)


@dataclass(frozen=True)
class Field:
    """One field of the record, for the docs and the schema checks."""

    name: str
    json_type: str
    arrow_type: pa.DataType
    description: str


FIELDS: tuple[Field, ...] = (
    Field("event_id", "string", pa.string(), "16 hex digits, unique in a run (copies repeat it)"),
    Field("event_time", "string", pa.timestamp("ms", tz="UTC"), "ISO-8601 UTC, milliseconds"),
    Field("campaign_id", "integer", pa.int64(), "7 digits"),
    Field("ad_id", "integer", pa.int64(), "9 digits; an ad belongs to one campaign"),
    Field("pricing_model", "string", pa.string(), "cpm or cpc: what the campaign pays for"),
    Field("user_id", "string", pa.string(), "16 hex digits; users come back"),
    Field("impression_id", "string", pa.string(), "the impression this event follows"),
    Field("geo", "string", pa.string(), "ISO 3166-1 alpha-2 country of the user"),
    Field("spend", "number", pa.float64(), "amount charged for this event, 6 decimals"),
    Field("event_type", "string", pa.string(), "impression, click or conversion"),
    Field("device", "string", pa.string(), "mobile, desktop, tablet, ctv, ..."),
    Field("os", "string", pa.string(), "operating system, depends on the device"),
    Field("placement", "string", pa.string(), "where the ad was shown"),
    Field("bid_price", "number", pa.float64(), "bid in currency units, 2 decimals"),
    Field("schema_version", "integer", pa.int32(), f"always {SCHEMA_VERSION}"),
)

FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)

#: Columns that are categorical: Parquet stores them dictionary-encoded.
CATEGORICAL = frozenset({"event_type", "geo", "device", "os", "placement", "pricing_model"})


def arrow_schema() -> pa.Schema:
    """The Arrow/Parquet schema of version 1 (categoricals as dictionaries)."""
    fields = []
    for f in FIELDS:
        kind = pa.dictionary(pa.int8(), pa.string()) if f.name in CATEGORICAL else f.arrow_type
        fields.append(pa.field(f.name, kind, nullable=False))
    return pa.schema(fields, metadata={"dagstorm.schema_version": str(SCHEMA_VERSION)})
