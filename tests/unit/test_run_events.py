"""The catalogue of event kinds is the journal's definition: docs, writers and fixtures agree."""

from __future__ import annotations

import ast
from pathlib import Path

import orjson
import pytest

from dagstorm.run.events import CATALOGUE, ENVELOPE, Kind, markdown_table, validate_event

ROOT = Path(__file__).resolve().parents[2]


def test_the_docs_table_is_the_catalogue() -> None:
    page = (ROOT / "docs" / "journal.md").read_text()
    start = page.index("<!-- events:start -->\n") + len("<!-- events:start -->\n")
    end = page.index("<!-- events:end -->")
    assert page[start:end] == markdown_table(), "regenerate: python -m dagstorm.run.events"


def _emit_calls() -> list[tuple[str, int, str | None, set[str], bool]]:
    calls = []
    for path in sorted((ROOT / "dagstorm").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr != "emit" or not node.args:
                continue
            first = node.args[0]
            kind = first.value if isinstance(first, ast.Constant) else None
            assert kind is None or isinstance(kind, str), f"{path}:{node.lineno}: emit({kind!r})"
            names = {kw.arg for kw in node.keywords if kw.arg}
            spread = any(kw.arg is None for kw in node.keywords)
            calls.append((str(path.relative_to(ROOT)), node.lineno, kind, names, spread))
    return calls


def test_every_writer_emits_a_catalogued_kind_with_catalogued_fields() -> None:
    calls = _emit_calls()
    assert len(calls) > 30
    problems = []
    for where, line, kind, names, _spread in calls:
        if kind is None:
            continue  # phase_start / phase_end from the plan: checked below
        if kind not in CATALOGUE:
            problems.append(f"{where}:{line}: kind {kind!r} is not in the catalogue")
            continue
        unknown = names - set(CATALOGUE[Kind(kind)].model_fields)
        if unknown:
            problems.append(f"{where}:{line}: {kind} has uncatalogued fields {sorted(unknown)}")
    assert not problems, "\n".join(problems)


def test_the_only_computed_kinds_are_the_plans_phase_actions() -> None:
    computed = [(where, line) for where, line, kind, _n, _s in _emit_calls() if kind is None]
    assert [where for where, _line in computed] == ["dagstorm/engine/runner.py"]
    source = (ROOT / "dagstorm" / "engine" / "runner.py").read_text().splitlines()
    for _where, line in computed:
        window = "\n".join(source[line - 3 : line])
        assert 'case "phase_start" | "phase_end":' in window, window
    assert {Kind.PHASE_START, Kind.PHASE_END} <= set(CATALOGUE)


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


def test_the_envelope_is_not_a_field_of_any_kind() -> None:
    for cls in CATALOGUE.values():
        assert not set(ENVELOPE) & set(cls.model_fields), cls.__name__
