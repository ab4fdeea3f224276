"""The capacity figures are the same in result.json, junit.xml, the history line and /metrics.

Each is cross-checked against a figure recomputed here straight from the journal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from dagstorm.analysis.outputs.history import entry_of
from dagstorm.analysis.outputs.junit import junit_tree
from dagstorm.analysis.outputs.result import analyze, result_document
from dagstorm.metrics.live import LiveMetrics
from dagstorm.run.journal import read_journal
from tests.unit.test_analysis_capacity import RAMP_WORKLOAD, journal, scenario_yaml

SMOKE = Path(__file__).parents[1] / "fixtures" / "report_runs" / "20261124T041804Z-smoke"


def junit_properties(result: Any) -> dict[str, str]:
    root = junit_tree(result).getroot()
    return {p.get("name", ""): p.get("value", "") for p in root.iter("property")}


def gauges(run_dir: Path) -> dict[tuple[str, tuple[str, ...]], float]:
    """Every sample of /metrics after replaying the whole journal: (name, labels) → value."""
    live = LiveMetrics(run_dir)
    live.feed(read_journal(run_dir / "journal.jsonl"))
    return {
        (s.name, tuple(s.labels.values())): s.value
        for family in live.collect()
        for s in family.samples
    }


def test_generated_traffic_is_the_same_everywhere() -> None:
    result = analyze(SMOKE)
    document = result_document(result)
    (row,) = document["capacity"]["workloads"]
    # Recomputed from the journal's lines: bytes ÷ the wall seconds their intervals cover.
    stats = [
        orjson.loads(line)
        for line in (SMOKE / "journal.jsonl").read_bytes().splitlines()
        if b'"workload_stats"' in line
    ]
    wall = sum(e["bytes"] for e in stats) / sum(e["interval_s"] for e in stats)
    full = wall / 40 * 20000  # time_compression 40, scale 1/20000 (scenario.yaml)
    ratio = full / (2e12 / 86400)  # the declared 2TB/day
    assert row["workload"] == "ad-logs"
    assert row["wall_bytes_per_s"] == pytest.approx(wall, rel=1e-9)
    assert row["full_scale_bytes_per_s"] == pytest.approx(full, rel=1e-9)
    assert row["target_ratio"] == pytest.approx(ratio, abs=1e-6)
    assert document["capacity"]["generated_vs_target"] == row["target_ratio"]
    assert row["target_ratio"] == pytest.approx(1.00936, abs=1e-6)  # the report's "101%"

    props = junit_properties(result)
    prefix = "capacity.workload.ad-logs"
    assert float(props[f"{prefix}.wall_bytes_per_s"]) == row["wall_bytes_per_s"]
    assert float(props[f"{prefix}.full_scale_bytes_per_s"]) == row["full_scale_bytes_per_s"]
    assert float(props[f"{prefix}.target_ratio"]) == row["target_ratio"]
    assert float(props["capacity.generated_vs_target"]) == row["target_ratio"]
    assert "capacity.ramp.headroom" not in props  # no ramp in this run

    history = entry_of(document, SMOKE).document()["measures"]
    assert history["generated_vs_target"] == row["target_ratio"]
    assert history["ramp_sustained_sim_bytes_per_s"] is None and history["ramp_headroom"] is None

    metrics = gauges(SMOKE)
    label = ("ad-logs",)
    wall_key = ("dagstorm_capacity_wall_bytes_per_second", label)
    assert metrics[wall_key] == pytest.approx(wall, rel=1e-9)
    assert metrics[("dagstorm_capacity_target_ratio", label)] == pytest.approx(ratio, rel=1e-9)
    assert metrics[("dagstorm_capacity_generated_vs_target", ())] == pytest.approx(
        row["target_ratio"], abs=1e-6
    )
    assert not any(name.startswith("dagstorm_capacity_ramp_") for name, _ in metrics)


def test_ramp_figures_are_the_same_everywhere(tmp_path: Path) -> None:
    run_dir = tmp_path / "ramp"
    run_dir.mkdir()
    events = journal()
    (run_dir / "journal.jsonl").write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    (run_dir / "scenario.yaml").write_text(scenario_yaml(RAMP_WORKLOAD), encoding="utf-8")
    result = analyze(run_dir)
    ramp = result_document(result)["capacity"]["ramp"]
    # Recomputed from the journal: step 2 ([120, 240) s wall) generated 2 MB/s wall; sim at
    # ×30; full scale ÷ 1/20000; against 2TB/day. Steps 1 and 2 held, step 3 broke.
    step_two = [e for e in events if e["kind"] == "workload_stats" and 120 <= e["t"] < 240]
    sim = sum(e["bytes"] for e in step_two) / sum(e["interval_s"] for e in step_two) / 30
    headroom = sim * 20000 / (2e12 / 86400)
    assert (ramp["sustained"], ramp["broke"]) == (1, 2)
    assert ramp["sustained_sim_bytes_per_s"] == pytest.approx(sim, abs=1e-6)
    assert ramp["headroom"] == pytest.approx(headroom, abs=1e-6)

    props = junit_properties(result)
    assert (props["capacity.ramp.sustained_step"], props["capacity.ramp.broke_step"]) == ("2", "3")
    assert props["capacity.ramp.bottleneck"] == "queueing"
    assert float(props["capacity.ramp.headroom"]) == ramp["headroom"]
    sustained = float(props["capacity.ramp.sustained_sim_bytes_per_s"])
    assert sustained == ramp["sustained_sim_bytes_per_s"]

    history = entry_of(result_document(result), run_dir).document()["measures"]
    assert history["ramp_headroom"] == ramp["headroom"]
    assert history["ramp_sustained_sim_bytes_per_s"] == ramp["sustained_sim_bytes_per_s"]

    metrics = gauges(run_dir)
    assert metrics[("dagstorm_capacity_ramp_sustained_step", ())] == 2
    assert metrics[("dagstorm_capacity_ramp_broke_step", ())] == 3
    assert metrics[("dagstorm_capacity_ramp_headroom", ())] == pytest.approx(headroom, rel=1e-9)
    assert metrics[("dagstorm_capacity_ramp_sustained_sim_bytes_per_second", ())] == (
        pytest.approx(sim, rel=1e-9)
    )


def test_ramp_gauges_appear_only_at_the_end(tmp_path: Path) -> None:
    run_dir = tmp_path
    (run_dir / "scenario.yaml").write_text(scenario_yaml(RAMP_WORKLOAD), encoding="utf-8")
    events = journal()
    live = LiveMetrics(run_dir)
    live.feed([e for e in events if e["kind"] != "run_end"])
    names = {family.name for family in live.collect()}
    assert "dagstorm_capacity_wall_bytes_per_second" in names
    assert not any(n.startswith("dagstorm_capacity_ramp_") for n in names)
    live.feed([e for e in events if e["kind"] == "run_end"])
    names = {family.name for family in live.collect()}
    assert "dagstorm_capacity_ramp_headroom" in names


def test_capacity_headlines_in_compare() -> None:
    from dagstorm.analysis.outputs.compare import compare_measures
    from dagstorm.analysis.outputs.headline import headline_spec, value_text

    headroom, rate = headline_spec("ramp_headroom"), headline_spec("ramp_sustained_sim_bytes_per_s")
    assert headroom is not None and rate is not None
    assert value_text(headroom, 57.6) == "57.6×"
    assert value_text(rate, 66_666.7) == "0.06667 MB/s"
    rows = {
        r.spec.name: r
        for r in compare_measures({"ramp_headroom": 2.0}, {"ramp_headroom": 1.7}).rows
    }
    assert rows["ramp_headroom"].regressed  # 15% lower, beyond the default 10%
    # A baseline recorded before capacity was a headline measured none of it: no regression.
    rows = {r.spec.name: r for r in compare_measures({}, {"ramp_headroom": 1.7}).rows}
    assert not rows["ramp_headroom"].regressed
