"""JSON-lines and Arrow encodings of schema v1, and the bad-data renditions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dagstorm.workloads.encoding import textbytes as tb
from dagstorm.workloads.encoding.jsonl import JsonlEncoder, mean_record_bytes
from dagstorm.workloads.encoding.jsonl_variants import MISSING, RETYPED, apply_variants, render
from dagstorm.workloads.encoding.tables import (
    PARQUET_MISSING,
    PARQUET_RETYPED,
    SCHEMA,
    drift_table,
    to_table,
)
from dagstorm.workloads.model.admodel import AdLogModel
from dagstorm.workloads.model.config import AdModelConfig
from dagstorm.workloads.model.events import EventColumns
from dagstorm.workloads.model.schedule import Schedule
from dagstorm.workloads.model.schema import FIELD_NAMES, FIELDS, SCHEMA_VERSION, Label

START = 1_767_571_200_000
JSON_TYPES = {"string": str, "integer": int, "number": float}


@cache
def batch() -> tuple[AdLogModel, EventColumns]:
    model = AdLogModel(AdModelConfig(), 3)
    parts = []
    for window in Schedule(events_per_second=300.0, start_ms=START).windows():
        if window.end_ms > START + 120_000:
            break
        parts.append(model.generate(window).events)
    return model, EventColumns.concat(parts)


def decode(data: bytes) -> list[dict[str, object]]:
    assert data.endswith(b"\n")
    return [json.loads(line) for line in data.split(b"\n")[:-1]]


def test_every_line_is_a_schema_v1_record_matching_its_event() -> None:
    model, events = batch()
    cat = model.catalog
    records = decode(bytes(JsonlEncoder(cat).encode(events)))
    assert len(records) == len(events)
    for i, record in enumerate(records):
        assert tuple(record) == FIELD_NAMES
        for f in FIELDS:
            assert type(record[f.name]) is JSON_TYPES[f.json_type], f.name
        when = datetime.fromisoformat(str(record["event_time"]))
        assert int(when.timestamp() * 1000) == events.event_ms[i]
        assert record["event_id"] == f"{int(events.event_id[i]):016x}"
        assert record["impression_id"] == f"{int(events.impression_id[i]):016x}"
        assert record["campaign_id"] == cat.campaign_ids[cat.ad_campaign[events.ad[i]]]
        assert record["ad_id"] == cat.ad_ids[events.ad[i]]
        assert record["spend"] == events.spend_micros[i] / 1e6
        assert record["bid_price"] == events.bid_cents[i] / 100
        assert record["schema_version"] == SCHEMA_VERSION
        assert len(str(record["campaign_id"])) == 7 and len(str(record["ad_id"])) == 9


def test_fast_encoder_equals_field_by_field_rendering() -> None:
    model, events = batch()
    fast = JsonlEncoder(model.catalog).lines(events)
    slow = render(model.catalog, events)
    assert fast.equals(slow)


def test_encoder_reuses_its_buffer_safely() -> None:
    model, events = batch()
    encoder = JsonlEncoder(model.catalog)
    first = bytes(encoder.encode(events.take(np.arange(100))))
    encoder.encode(events)
    assert bytes(encoder.encode(events.take(np.arange(100)))) == first


def test_mean_record_bytes_is_stable_and_plausible() -> None:
    size = mean_record_bytes(AdModelConfig())
    assert 300 < size < 380
    assert mean_record_bytes(AdModelConfig()) == size


def _labelled(label: Label, n: int = 400) -> tuple[AdLogModel, EventColumns, EventColumns]:
    model, events = batch()
    sub = events.take(np.arange(n))
    bad = sub.replace(label=np.full(n, label, dtype=np.int8))
    return model, sub, bad


def test_drift_missing_drops_one_field() -> None:
    model, _, bad = _labelled(Label.DRIFT_MISSING)
    dropped = set()
    for record in decode(bytes(JsonlEncoder(model.catalog).encode(bad))):
        missing = set(FIELD_NAMES) - set(record)
        assert len(missing) == 1 and set(record) < set(FIELD_NAMES)
        dropped |= missing
    assert dropped == set(MISSING)


def test_drift_extra_adds_a_field() -> None:
    model, _, bad = _labelled(Label.DRIFT_EXTRA)
    for record in decode(bytes(JsonlEncoder(model.catalog).encode(bad))):
        assert set(record) - set(FIELD_NAMES) == {"experiment"}
        assert str(record["experiment"]).startswith("exp-")


def test_drift_retyped_changes_one_type() -> None:
    model, _, bad = _labelled(Label.DRIFT_RETYPED)
    seen = set()
    for record in decode(bytes(JsonlEncoder(model.catalog).encode(bad))):
        assert tuple(record) == FIELD_NAMES
        wrong = [f.name for f in FIELDS if type(record[f.name]) is not JSON_TYPES[f.json_type]]
        assert len(wrong) == 1
        seen |= set(wrong)
    assert seen == set(RETYPED)


def test_malformed_lines_are_cut_valid_lines() -> None:
    model, good, bad = _labelled(Label.MALFORMED)
    encoder = JsonlEncoder(model.catalog)
    originals = bytes(encoder.encode(good)).split(b"\n")[:-1]
    broken = bytes(encoder.encode(bad)).split(b"\n")[:-1]
    assert len(broken) == len(originals)
    for line, original in zip(broken, originals, strict=True):
        assert 1 <= len(line) < len(original)
        assert original.startswith(line)
        with pytest.raises(json.JSONDecodeError):
            json.loads(line)


def test_bad_rows_are_replaced_in_place() -> None:
    model, good, _ = _labelled(Label.VALID, 60)
    labels = np.array([Label.VALID, Label.MALFORMED, Label.DRIFT_EXTRA] * 20, dtype=np.int8)
    encoder = JsonlEncoder(model.catalog)
    lines = bytes(encoder.encode(good.replace(label=labels))).split(b"\n")[:-1]
    plain = bytes(encoder.encode(good)).split(b"\n")[:-1]
    for i, line in enumerate(lines):
        if labels[i] == Label.VALID:
            assert line == plain[i]
        elif labels[i] == Label.MALFORMED:
            assert plain[i].startswith(line) and len(line) < len(plain[i])
        else:
            assert line.startswith(plain[i][:-1]) and line.endswith(b'"}')


def test_arrow_table_matches_json() -> None:
    model, events = batch()
    table = to_table(events, model.catalog)
    assert table.schema == SCHEMA
    records = decode(bytes(JsonlEncoder(model.catalog).encode(events)))
    rows = table.to_pylist()
    for record, row in zip(records, rows, strict=True):
        row["event_time"] = row["event_time"].isoformat(timespec="milliseconds")
        record["event_time"] = str(record["event_time"]).replace("Z", "+00:00")
        assert row == record


@pytest.mark.parametrize("label", [Label.DRIFT_MISSING, Label.DRIFT_EXTRA, Label.DRIFT_RETYPED])
def test_parquet_drift_schemas(label: Label) -> None:
    model, events = batch()
    table = drift_table(events.take(np.arange(50)), model.catalog, label)
    names = set(table.schema.names)
    if label == Label.DRIFT_MISSING:
        assert names == set(FIELD_NAMES) - {PARQUET_MISSING}
    elif label == Label.DRIFT_EXTRA:
        assert names == {*FIELD_NAMES, "experiment"}
    else:
        assert table.schema.field(PARQUET_RETYPED).type == pa.string()


@given(st.integers(min_value=0, max_value=7_258_118_399_999))  # 1970 .. 2199
def test_iso_millis_matches_datetime(ms: int) -> None:
    text = bytes(tb.iso_millis(np.array([ms], dtype=np.int64))[0]).decode()
    expected = datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    assert text == f"{expected}.{ms % 1000:03d}Z"


def test_iso_millis_spanning_many_hours() -> None:
    ms = np.array([0, 5_000_000_000_000, 3_600_000 * 10_000 + 1], dtype=np.int64)
    texts = [bytes(row).decode() for row in tb.iso_millis(ms)]
    assert texts[0] == "1970-01-01T00:00:00.000Z"
    assert texts[1] == "2128-06-11T08:53:20.000Z"
    assert texts[2] == "1971-02-21T16:00:00.001Z"


@given(st.lists(st.integers(min_value=0, max_value=2**64 - 1), min_size=1, max_size=20))
def test_hex16_matches_format(values: list[int]) -> None:
    rows = tb.hex16(np.array(values, dtype=np.uint64))
    assert [bytes(r).decode() for r in rows] == [f"{v:016x}" for v in values]


@given(st.lists(st.integers(min_value=0, max_value=9_999_999), min_size=1, max_size=20))
def test_micros_8_matches_format(values: list[int]) -> None:
    rows = tb.micros_8(np.array(values, dtype=np.int64))
    assert [bytes(r).decode() for r in rows] == [f"{v / 1e6:.6f}" for v in values]


def test_decimal_texts() -> None:
    texts = tb.decimal_texts(1234, 2, suffix="}")
    assert texts[0].as_py() == "0.00}" and texts[1234].as_py() == "12.34}"


def _every_label(n: int = 600) -> tuple[AdLogModel, EventColumns]:
    model, good, _ = _labelled(Label.VALID, n)
    labels = np.array(list(Label) * (n // len(Label) + 1), dtype=np.int8)[:n]
    return model, good.replace(label=labels)


def test_lines_without_a_newline_are_the_json_lines_less_their_newline() -> None:
    model, events = _every_label()
    with_newline = bytes(JsonlEncoder(model.catalog).encode(events)).split(b"\n")[:-1]
    bare = JsonlEncoder(model.catalog, end="").lines(events)
    texts = apply_variants(model.catalog, events, bare, end="")
    assert texts.to_pylist() == [line.decode() for line in with_newline]
    assert all(not t.endswith("\n") for t in texts.to_pylist())
    assert set(events.label.tolist()) == {int(label) for label in Label}  # bad data included


def test_any_line_ending_gives_the_same_texts() -> None:
    model, events = _every_label(200)
    encoder = JsonlEncoder(model.catalog, end="\r\n")
    lines = bytes(encoder.encode(events)).split(b"\r\n")
    assert lines[-1] == b"" and len(lines) == len(events) + 1
    plain = bytes(JsonlEncoder(model.catalog).encode(events)).split(b"\n")
    assert lines == plain


def test_a_malformed_text_is_the_prefix_its_event_id_picks_whatever_the_line_ending() -> None:
    model, good, bad = _labelled(Label.MALFORMED, 300)
    for end in ("\n", ""):
        encoder = JsonlEncoder(model.catalog, end=end)
        valid = encoder.lines(good).to_pylist()
        cut = apply_variants(model.catalog, bad, encoder.lines(bad), end=end).to_pylist()
        for text, whole, event_id in zip(cut, valid, bad.event_id.tolist(), strict=True):
            obj = whole.removesuffix(end)
            keep = 1 + (event_id >> 29) % max(len(obj) - 1, 1)
            assert text == obj[:keep] + end
