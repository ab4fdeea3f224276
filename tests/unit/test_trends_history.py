"""The history file: append-safe lines, reading back, the runs of a scenario."""

from __future__ import annotations

import threading
from pathlib import Path

import orjson
import pytest

from dagstorm.analysis.outputs.history import (
    HISTORY_FORMAT,
    HistoryEntry,
    append_history,
    default_history_path,
    entry_of,
    read_history,
    runs_of_scenario,
)
from dagstorm.analysis.outputs.result import analyze, result_document
from dagstorm.core.errors import ExitCode, UsageError

FIXTURE = Path(__file__).parents[1] / "fixtures" / "journals" / "broker_outage"


def entry(
    run: str,
    scenario: str = "smoke",
    started: str = "2026-11-01T00:00:00.000Z",
    sla: float | None = 1.0,
    passed: bool = True,
) -> HistoryEntry:
    return HistoryEntry(
        run=run,
        path=f"/runs/{run}",
        scenario=scenario,
        started_at=started,
        status="completed",
        passed=passed,
        exit_code=0 if passed else 1,
        wall_s=180.0,
        measures={"sla_compliance": sla, "throughput_per_min": 40.0},
        slos={"sla:ad_logs_hourly": passed},
    )


def test_entry_of_a_result_has_the_headline_measures() -> None:
    e = entry_of(result_document(analyze(FIXTURE)), FIXTURE, suite="nightly")
    assert e.scenario == "broker-outage-fixture"
    assert e.started_at == "2026-03-01T22:00:00.000Z"
    assert (e.passed, e.exit_code, e.status) == (False, 1, "completed")
    assert e.measures["sla_compliance"] == pytest.approx(2 / 3, abs=1e-6)
    assert e.measures["recovery_p95_sim_s"] == 1080.0  # 18 min sim
    assert e.measures["unrecovered_faults"] == 0.0
    assert e.measures["lost_events"] is None  # no ledger in the fixture
    assert e.slos["sla:ad_logs_hourly"] is False
    assert e.suite == "nightly"
    assert e.path == str(FIXTURE.resolve())


def test_append_then_read_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "history.jsonl"
    first, second = entry("a"), entry("b", sla=None, passed=False)
    append_history(path, first)
    append_history(path, second)
    assert read_history(path) == [first, second]
    line = orjson.loads(path.read_bytes().splitlines()[0])
    assert line["format"] == HISTORY_FORMAT and line["kind"] == "dagstorm.history"


def test_torn_and_foreign_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    append_history(path, entry("a"))
    with path.open("ab") as handle:
        handle.write(b'{"kind": "something-else"}\n{"format": 1, "kind": "dagstorm.hist')
    assert [e.run for e in read_history(path)] == ["a"]


def test_a_newer_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_bytes(orjson.dumps({"format": 99, "kind": "dagstorm.history"}) + b"\n")
    with pytest.raises(UsageError) as caught:
        read_history(path)
    assert caught.value.exit_code == ExitCode.USAGE
    assert caught.value.where == f"{path}:1"


def test_absent_file_is_an_empty_history(tmp_path: Path) -> None:
    assert read_history(tmp_path / "none.jsonl") == []


def test_concurrent_appends_never_interleave(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"

    def write(prefix: str) -> None:
        for i in range(50):
            append_history(path, entry(f"{prefix}{i}"))

    threads = [threading.Thread(target=write, args=(p,)) for p in "abcd"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    runs = [e.run for e in read_history(path)]
    assert len(runs) == 200 and len(set(runs)) == 200


def test_runs_of_scenario_orders_dedupes_and_limits() -> None:
    entries = [
        entry("s3", started="2026-11-03T00:00:00.000Z"),
        entry("other", scenario="soak", started="2026-11-02T00:00:00.000Z"),
        entry("s1", started="2026-11-01T00:00:00.000Z"),
        entry("s2", started="2026-11-02T00:00:00.000Z", sla=0.5),
        entry("s2", started="2026-11-02T00:00:00.000Z", sla=0.6),  # re-recorded: latest wins
        entry("s4", started="2026-11-04T00:00:00.000Z"),
    ]
    runs = runs_of_scenario(entries, "smoke", until="2026-11-03T00:00:00.000Z", last=10)
    assert [r.run for r in runs] == ["s1", "s2", "s3"]
    assert runs[1].measures["sla_compliance"] == 0.6
    assert [r.run for r in runs_of_scenario(entries, "smoke", last=2)] == ["s3", "s4"]


def test_default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DAGSTORM_HISTORY", raising=False)
    assert default_history_path(tmp_path) == tmp_path / "history.jsonl"
    monkeypatch.setenv("DAGSTORM_HISTORY", "/elsewhere/h.jsonl")
    assert default_history_path(tmp_path) == Path("/elsewhere/h.jsonl")
    assert default_history_path(tmp_path, tmp_path / "x.jsonl") == tmp_path / "x.jsonl"


def test_cli_history_add_and_list(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from dagstorm.cli import cli

    history = tmp_path / "h.jsonl"
    runner = CliRunner()
    empty = runner.invoke(cli, ["history", "--history", str(history)])
    assert empty.exit_code == 0 and "no run recorded" in empty.output
    added = runner.invoke(cli, ["history", "--history", str(history), "add", str(FIXTURE)])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(cli, ["history", "--history", str(history)])
    assert listed.exit_code == 0
    assert "broker-outage-fixture" in listed.output and "FAIL (1)" in listed.output
    assert "66.7%" in listed.output and "18m" in listed.output
    as_json = runner.invoke(cli, ["history", "--history", str(history), "--json"])
    (line,) = as_json.output.splitlines()
    assert orjson.loads(line)["run"] == "broker_outage"
    other = runner.invoke(cli, ["history", "--history", str(history), "--scenario", "smoke"])
    assert "no run of scenario 'smoke'" in other.output
    assert "it has runs of: broker-outage-fixture" in other.output


def test_cli_history_never_cuts_a_run_name(tmp_path: Path) -> None:
    import shutil

    from click.testing import CliRunner

    from dagstorm.cli import cli

    # A name longer than the room the other columns leave: it must stay pasteable.
    name = "20261124T041804Z-broker-outage-with-a-long-name-" + "x" * 60
    run_dir = tmp_path / name
    shutil.copytree(FIXTURE, run_dir)
    history = tmp_path / "h.jsonl"
    runner = CliRunner()
    added = runner.invoke(cli, ["history", "--history", str(history), "add", str(run_dir)])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(cli, ["history", "--history", str(history)])
    assert listed.exit_code == 0
    assert any(name in line for line in listed.output.splitlines()), listed.output
