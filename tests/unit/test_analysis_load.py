"""Reading a run directory: frames per event kind, times, SLOs, and clear errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest

from dagstorm.analysis.outputs.result import analyze, result_document
from dagstorm.analysis.rundata.load import build_run_data, iso_at, load_run
from dagstorm.analysis.rundata.model import RunDirectoryError
from dagstorm.core.errors import ExitCode
from dagstorm.scenarios.slos import CountSlo, RecoveryTimeSlo, SlaSlo

ORIGIN = datetime(2026, 3, 1, 22, 0, tzinfo=UTC).timestamp()


def iso(t: float) -> str:
    return datetime.fromtimestamp(ORIGIN + t, UTC).isoformat()


def start(**fields: Any) -> dict[str, Any]:
    event = {"seq": 1, "t": 0.0, "wall": ORIGIN, "kind": "run_start", "time_compression": 24}
    return {**event, **fields}


def write(run_dir: Path, events: list[dict[str, Any]]) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "journal.jsonl").write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    return run_dir


def try_event(seq: int, t: float, state: str, **fields: Any) -> dict[str, Any]:
    return {
        "seq": seq,
        "t": t,
        "wall": ORIGIN + t,
        "kind": "task_try",
        "dag_id": "d",
        "run_id": "r",
        "task_id": "t",
        "map_index": -1,
        "try_number": 1,
        "state": state,
        "queued_when": iso(1),
        "start_date": iso(2) if state != "queued" else None,
        "end_date": iso(9.5) if state == "success" else None,
        **fields,
    }


def test_last_state_per_try_and_times_relative_to_the_start() -> None:
    events = [
        start(),
        try_event(2, 1, "queued"),
        try_event(3, 2, "running"),
        try_event(4, 10, "success"),
        try_event(5, 12, "failed", try_number=2, start_date=iso(11), end_date=iso(12)),
    ]
    data = build_run_data(events, run_dir=Path("run"))
    tries = data.task_tries
    assert len(tries) == 2
    first = tries[tries["try_number"] == 1].iloc[0]
    assert first["state"] == "success"
    assert (first["queued_when_t"], first["start_date_t"]) == (1.0, 2.0)
    assert first["end_date_t"] == pytest.approx(9.5)
    assert (first["first_seen_t"], first["changes"]) == (1, 3)
    assert data.origin_wall == ORIGIN
    assert (data.status, data.end_t) == ("unfinished", 12)


def test_slos_in_both_forms() -> None:
    slos = [
        {"type": "sla", "dag": "d", "within": 7200.0, "weight": 2},
        {"recovery_time": {"max": "<= 5m"}},
        {"lost_events": 0},
    ]
    data = build_run_data([start(slos=slos)], run_dir=Path("run"))
    sla, recovery, lost = data.scenario.slos
    assert isinstance(sla, SlaSlo) and sla.within == 7200 and sla.weight == 2
    assert isinstance(recovery, RecoveryTimeSlo) and recovery.max == "<= 5m"
    assert isinstance(lost, CountSlo) and lost.max == 0


def test_scenario_info() -> None:
    phases = [{"name": "chaos", "start_s": 10, "end_s": 20}]
    data = build_run_data(
        [start(scenario="smoke", seed=7, phases=phases, duration_s=300)], run_dir=Path("r")
    )
    info = data.scenario
    assert (info.name, info.seed, info.time_compression, info.duration_s) == (
        "smoke",
        7,
        24.0,
        300.0,
    )
    assert info.phases[0].name == "chaos" and info.phases[0].end_s == 20


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([{"seq": 1, "t": 0, "kind": "log"}], "no run_start event"),
        ([start(time_compression=None)], "no numeric time_compression"),
        ([start(time_compression=0)], "must be > 0"),
        ([start(slos=[{"type": "sla", "within": 60}])], "SLO #1 in run_start is not valid: sla"),
        ([start(slos=[{"type": "uptime"}])], "SLO #1 in run_start is of kind `uptime`, which no"),
    ],
)
def test_bad_journals_are_clear_errors(events: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(RunDirectoryError, match=message) as caught:
        build_run_data(events, run_dir=Path("run"))
    assert caught.value.exit_code is ExitCode.USAGE
    assert caught.value.where == "run/journal.jsonl"


def test_no_journal(tmp_path: Path) -> None:
    with pytest.raises(RunDirectoryError, match=r"no journal\.jsonl") as caught:
        analyze(tmp_path)
    assert "run directory" in (caught.value.fix or "")


def test_absent_and_unreadable_files_are_reasons(tmp_path: Path) -> None:
    run_dir = write(tmp_path / "run", [start()])
    (run_dir / "ledger").mkdir()
    pd.DataFrame({"hour": [1], "clicks": [2]}).to_parquet(run_dir / "serving.parquet")
    data = load_run(run_dir)
    assert data.ledger is None and data.serving is None
    assert data.absent["ledger"].startswith("ledger/ unreadable: no ledger in")
    assert data.absent["serving"] == (
        "serving.parquet lacks column(s) campaign_id, ad_id, impressions, conversions"
    )
    assert data.absent["partition_loads"] == "no partition_loads.parquet in the run directory"
    completeness = analyze(run_dir).measures.completeness
    assert not completeness.measured and completeness.reason == data.absent["ledger"]


def test_unknown_kinds_and_fields_are_ignored() -> None:
    events = [start(), {"seq": 2, "t": 5, "kind": "from_the_future", "x": 1}]
    data = build_run_data(events, run_dir=Path("run"))
    assert data.events == 2 and data.task_tries.empty and data.dag_runs.empty


def test_iso_at() -> None:
    assert iso_at(ORIGIN, 1.5) == "2026-03-01T22:00:01.500Z"


def test_runs_an_asset_event_started_are_the_runs_own_by_dag_and_run_id(tmp_path: Path) -> None:
    # Asset-triggered run ids repeat across the DAGs on one asset: the pair decides.
    def run(seq: int, dag_id: str) -> dict[str, Any]:
        return {
            "seq": seq,
            "t": 5.0,
            "wall": ORIGIN + 5,
            "kind": "dag_run",
            "dag_id": dag_id,
            "run_id": "asset_triggered__t1",
            "state": "success",
        }

    events = [
        start(),
        {
            "seq": 2,
            "t": 1.0,
            "wall": ORIGIN + 1,
            "kind": "dag_triggered",
            "dag_id": "audience_01",
            "run_id": None,
            "ok": True,
            "status": 200,
            "workload": "feed",
            "asset": "campaigns",
            "asset_event_id": 11,
        },
        run(3, "audience_01"),
        run(4, "audience_02"),
        run(5, "unrelated"),
        {
            "seq": 6,
            "t": 9.0,
            "wall": ORIGIN + 9,
            "kind": "asset_runs",
            "asset": "campaigns",
            "asset_id": 3,
            "workloads": ["feed"],
            "events": 1,
            "consumed": 1,
            "runs": [[dag, "asset_triggered__t1"] for dag in ("audience_01", "audience_02")],
        },
    ]
    data = build_run_data(events, run_dir=Path("run"))
    triggered = dict(zip(data.dag_runs["dag_id"], data.dag_runs["triggered"], strict=True))
    assert triggered == {"audience_01": True, "audience_02": True, "unrelated": False}
    assert data.triggers["asset"].tolist() == ["campaigns"]
    # ...and result.json has the asset storm's figures.
    measures = result_document(analyze(write(tmp_path / "run", events)))["measures"]
    (storm,) = measures["asset_storms"]
    assert (storm["asset"], storm["posted"], storm["consumed"], storm["runs"]) == (
        "campaigns",
        1,
        1,
        2,
    )
    assert storm["runs_by_dag"] == {"audience_01": 1, "audience_02": 1}
