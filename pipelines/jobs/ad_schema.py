"""The ad event contract (record schema version 1): one record's checks, normalised.

Pure Python (standard library only) so the same rules run in Airflow's validate
task (landing zone) and inside Spark executors (the Kafka job ships this file).
The schema is the generator's (dagstorm/workloads/model/schema.py, docs/workloads.md);
docs/pipeline.md says what the pipeline accepts and why.

A valid record has exactly the fields of version 1, each of its JSON type:
strings non-empty, ``campaign_id``/``ad_id`` integers, amounts non-negative
numbers, ``event_time`` ISO-8601 with a UTC offset (or a timezone-aware
datetime from Parquet), ``schema_version`` 1. It becomes a flat dict of strings
(the columns Spark needs; amounts as decimals with six places, time in UTC)
plus ``hour``, the UTC hour of its event_time: late events count in their own
hour. An invalid record yields a short reason such as ``missing_field:ad_id``.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

SCHEMA_VERSION = 1
EVENT_TYPES = ("impression", "click", "conversion")
STRING_FIELDS = (
    "event_id",
    "pricing_model",
    "user_id",
    "impression_id",
    "geo",
    "device",
    "os",
    "placement",
)
ID_FIELDS = ("campaign_id", "ad_id")
AMOUNT_FIELDS = ("bid_price", "spend")
#: Every field a version-1 record carries; any other field is schema drift.
FIELDS = frozenset(
    (*STRING_FIELDS, *ID_FIELDS, *AMOUNT_FIELDS, "event_type", "event_time", "schema_version")
)
#: Columns of a normalised record, in order (what the Spark jobs read).
NORMALISED_FIELDS = (
    "event_id",
    "event_type",
    "event_time",
    "hour",
    "campaign_id",
    "ad_id",
    "user_id",
    "spend",
)

MAX_STRING = 256
MAX_AMOUNT = Decimal("999999999999")  # fits numeric(18,6)
SIX_PLACES = Decimal("0.000001")

Record = dict[str, str]
Outcome = tuple[Record | None, str | None]


def format_hour(moment: datetime) -> str:
    """The UTC hour of a moment: ``2024-05-01T13:00:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:00:00Z")


def _amount(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        value = Decimal(repr(value))
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    return amount.quantize(SIX_PLACES, rounding=ROUND_HALF_EVEN)


def _event_time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo is not None else None
    if not isinstance(value, str) or not value:
        return None
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:  # the contract says UTC, stated: no guessing
        return None
    return moment.astimezone(UTC)


def _check_fields(obj: dict[str, Any]) -> str | None:
    for name in sorted(FIELDS):
        if name not in obj or obj[name] is None:
            return f"missing_field:{name}"
    extra = sorted(set(obj) - FIELDS)
    return f"unknown_field:{extra[0]}" if extra else None


def _check_texts(obj: dict[str, Any], out: Record) -> str | None:
    for name in STRING_FIELDS:
        value = obj[name]
        if not isinstance(value, str):
            return f"bad_type:{name}"
        if not value or len(value) > MAX_STRING:
            return f"bad_value:{name}"
        out[name] = value
    for name in ID_FIELDS:
        value = obj[name]
        if isinstance(value, bool) or not isinstance(value, int):
            return f"bad_type:{name}"
        if value < 0:
            return f"bad_value:{name}"
        out[name] = str(value)
    event_type = obj["event_type"]
    if not isinstance(event_type, str):
        return "bad_type:event_type"
    if event_type not in EVENT_TYPES:
        return "bad_value:event_type"
    out["event_type"] = event_type
    version = obj["schema_version"]
    if isinstance(version, bool) or not isinstance(version, int):
        return "bad_type:schema_version"
    return None if version == SCHEMA_VERSION else "bad_value:schema_version"


def _check_time(obj: dict[str, Any], out: Record) -> str | None:
    value = obj["event_time"]
    if not isinstance(value, str | datetime):
        return "bad_type:event_time"
    moment = _event_time(value)
    if moment is None:
        return "bad_value:event_time"
    out["event_time"] = moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    out["hour"] = format_hour(moment)
    return None


def _check_amounts(obj: dict[str, Any], out: Record) -> str | None:
    for name in AMOUNT_FIELDS:
        amount = _amount(obj[name])
        if amount is None:
            return f"bad_type:{name}"
        if amount < 0 or amount > MAX_AMOUNT:
            return f"bad_value:{name}"
        out[name] = str(amount)
    return None


def check_record(obj: object) -> Outcome:
    """Check one decoded record; a normalised record or the reason it is bad."""
    if not isinstance(obj, dict):
        return None, "not_an_object"
    out: Record = {}
    reason = (
        _check_fields(obj)
        or _check_texts(obj, out)
        or _check_time(obj, out)
        or _check_amounts(obj, out)
    )
    if reason is not None:
        return None, reason
    return {name: out[name] for name in NORMALISED_FIELDS}, None


def check_line(line: str | bytes | None) -> Outcome:
    """Decode one JSON line and check it (floats are read as exact decimals)."""
    if line is None:
        return None, "malformed_json"
    try:
        obj = json.loads(line, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        return None, "malformed_json"
    return check_record(obj)
