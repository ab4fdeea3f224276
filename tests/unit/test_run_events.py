"""The catalogue of event kinds is the journal's definition: docs, writers and fixtures agree."""

from __future__ import annotations

import ast
from pathlib import Path

import orjson
import pytest
from pydantic import ValidationError

from dagstorm.run.clock import FakeClock
from dagstorm.run.events import (
    CATALOGUE,
    ENVELOPE,
    FORMAT_VERSION,
    Alert,
    EventFields,
    FaultApplied,
    KafkaLag,
    Kind,
    Log,
    markdown_table,
    validate_event,
)
from dagstorm.run.journal import RunJournal, read_journal

ROOT = Path(__file__).resolve().parents[2]


def test_the_docs_table_is_the_catalogue() -> None:
    page = (ROOT / "docs" / "journal.md").read_text()
    start = page.index("<!-- events:start -->\n") + len("<!-- events:start -->\n")
    end = page.index("<!-- events:end -->")
    assert page[start:end] == markdown_table(), "regenerate: python -m dagstorm.run.events"


def _emit_calls() -> list[tuple[str, ast.Call]]:
    calls = []
    for path in sorted((ROOT / "dagstorm").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr == "emit" and "journal" in ast.unparse(node.func.value):
                calls.append((f"{path.relative_to(ROOT)}:{node.lineno}", node))
    return calls


def test_every_writer_hands_the_journal_a_catalogued_event() -> None:
    calls = _emit_calls()
    assert len(calls) > 30
    names = {cls.__name__ for cls in CATALOGUE.values()}
    problems = []
    for where, call in calls:
        if call.keywords or len(call.args) != 1:
            problems.append(f"{where}: emit takes one event, not a kind and fields")
            continue
        (arg,) = call.args
        if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name):
            if arg.func.id.removesuffix("Event") not in names | {"FaultError"}:
                problems.append(f"{where}: {arg.func.id} is not a catalogued kind")
        elif not isinstance(arg, ast.Name):  # a variable holding one (control_handler)
            problems.append(f"{where}: {ast.unparse(arg)}")
    assert not problems, "\n".join(problems)


def test_an_event_is_checked_where_it_is_made() -> None:
    with pytest.raises(ValidationError, match="evidence"):
        FaultApplied(fault_id="f1", fault="network down", took_s=0.1)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="level"):
        Log(level="loud", message="x")  # type: ignore[arg-type]  # refused at run time too
    with pytest.raises(ValidationError, match="lag"):
        KafkaLag(topic="t", group="g", lag="many")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="colour"):
        Log(level="info", message="x", colour="red")  # type: ignore[call-arg]


class _Uncatalogued(EventFields):
    """A kind the catalogue does not have (a plugin's own, say)."""

    KIND = Kind.LOG
    note: str


def test_the_journal_refuses_an_event_class_that_is_not_catalogued(tmp_path: Path) -> None:
    with (
        RunJournal(tmp_path / "journal.jsonl", FakeClock()) as journal,
        pytest.raises(TypeError, match="_Uncatalogued is not a kind"),
    ):
        journal.emit(_Uncatalogued(note="x"))
    assert read_journal(tmp_path / "journal.jsonl") == []


def test_the_journal_writes_the_fields_given_as_given(tmp_path: Path) -> None:
    with RunJournal(tmp_path / "journal.jsonl", FakeClock()) as journal:
        journal.emit(FaultApplied(fault_id="f1", fault="x", evidence="e", took_s=2))
        journal.emit(Alert(alert_kind="retry", dag_id=None, received_at=1.5))
    applied, alert = read_journal(tmp_path / "journal.jsonl")
    assert {k: applied[k] for k in ("v", "seq", "kind")} == {
        "v": FORMAT_VERSION,
        "seq": 1,
        "kind": "fault_applied",
    }
    assert set(applied) - set(ENVELOPE) == {"fault_id", "fault", "evidence", "took_s"}
    assert applied["took_s"] == 2 and isinstance(applied["took_s"], int)  # not 2.0
    assert alert["dag_id"] is None and "task_id" not in alert  # given None vs left out


def _fixture_events() -> list[dict[str, object]]:
    events = []
    for journal in sorted((ROOT / "tests" / "fixtures").rglob("journal.jsonl")):
        for line in journal.read_bytes().splitlines():
            try:
                events.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                continue  # a torn line, on purpose
    return events


def test_every_recorded_event_fits_its_kind() -> None:
    events = _fixture_events()
    assert len(events) > 1000
    seen = set()
    for event in events:
        if event["kind"] == "future_kind":  # the fixture's deliberately unknown kind
            continue
        validate_event(event)
        seen.add(event["kind"])
    assert {"run_start", "run_end", "dag_run", "task_try", "fault_applied"} <= seen


def test_an_event_that_does_not_fit_is_refused() -> None:
    with pytest.raises(ValueError, match="status"):
        validate_event({"v": 1, "seq": 1, "t": 0, "wall": 0, "sim": 0, "kind": "run_end"})
    with pytest.raises(ValueError):
        validate_event({"kind": "no_such_kind"})


def test_a_reader_ignores_fields_a_later_writer_added() -> None:
    event = {"kind": "kafka_lag", "topic": "t", "group": "g", "lag": 3, "partition_lags": [1, 2]}
    assert validate_event(event) == KafkaLag(topic="t", group="g", lag=3)


def test_the_envelope_is_not_a_field_of_any_kind() -> None:
    for cls in CATALOGUE.values():
        assert not set(ENVELOPE) & set(cls.model_fields), cls.__name__
