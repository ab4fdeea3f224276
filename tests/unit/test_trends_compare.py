"""compare_measures and `dagstorm compare` on hand-built measures with known answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dagstorm.analysis.outputs.compare import compare_measures, parse_tolerance, parse_tolerances
from dagstorm.cli import cli
from dagstorm.core.errors import UsageError

BASE = {
    "sla_compliance": 0.98,
    "recovery_p95_sim_s": 600.0,
    "unrecovered_faults": 0.0,
    "throughput_per_min": 40.0,
    "score": 100.0,
    "lost_events": 0.0,
    "duplicate_events": 0.0,
}
CANDIDATE = {
    "sla_compliance": 0.965,  # -1.5 pp: within the default 0.02
    "recovery_p95_sim_s": 800.0,  # +33 %: beyond the default 25 %
    "unrecovered_faults": 0.0,
    "throughput_per_min": 37.0,  # -7.5 %: within the default 10 %
    "score": 90.0,  # -10: beyond the default 5
    "lost_events": 2.0,  # beyond 0
    "duplicate_events": None,  # measured before, not now
}


def regressed(baseline: dict[str, Any], candidate: dict[str, Any], *items: str) -> list[str]:
    comparison = compare_measures(baseline, candidate, parse_tolerances(items))
    return [r.spec.name for r in comparison.regressions]


def test_default_tolerances_flag_exactly_the_known_regressions() -> None:
    assert regressed(BASE, CANDIDATE) == [
        "recovery_p95_sim_s",
        "score",
        "lost_events",
        "duplicate_events",
    ]


def test_overridden_tolerances() -> None:
    items = ("recovery_p95_sim_s=50%", "score=10", "lost_events=5")
    assert regressed(BASE, CANDIDATE, *items) == ["duplicate_events"]
    assert regressed(BASE, CANDIDATE, "sla_compliance=0.01", *items) == [
        "sla_compliance",
        "duplicate_events",
    ]


def test_deltas_and_notes() -> None:
    rows = {r.spec.name: r for r in compare_measures(BASE, CANDIDATE).rows}
    assert rows["recovery_p95_sim_s"].delta == 200.0
    assert rows["recovery_p95_sim_s"].delta_pct == pytest.approx(33.333, abs=1e-3)
    assert rows["sla_compliance"].note == "worse by 1.5 pp, within tolerance 0.02"
    assert rows["lost_events"].delta_pct is None  # a zero baseline has no percentage
    assert rows["duplicate_events"].note == "measured in the baseline, not in this run"


def test_improvements_and_equal_values_never_regress() -> None:
    better = dict(BASE, sla_compliance=1.0, recovery_p95_sim_s=60.0, throughput_per_min=80.0)
    assert regressed(BASE, better) == []
    assert regressed(BASE, BASE) == []
    assert regressed({}, BASE) == []  # nothing measured in the baseline: nothing to lose


def test_tolerance_parsing() -> None:
    assert parse_tolerance("25%").relative and parse_tolerance("25%").value == 25.0
    assert parse_tolerance("0.02").allowed(0.9) == 0.02
    assert parse_tolerance("10%").allowed(40.0) == pytest.approx(4.0)
    for bad in ("", "-1", "abc", "5%%"):
        with pytest.raises(UsageError):
            parse_tolerance(bad)
    with pytest.raises(UsageError, match="NAME=VALUE"):
        parse_tolerances(["nonsense=1"])


def write_run(root: Path, name: str, measures: dict[str, Any]) -> Path:
    """A run directory with only a result.json of the given headline measures."""
    run = root / name
    run.mkdir()
    document = {
        "format": 1,
        "kind": "dagstorm.result",
        "run": {"directory": name, "started_at": "2026-11-01T00:00:00.000Z"},
        "scenario": {"name": "smoke"},
        "verdict": {"score": measures["score"]},
        "measures": {
            "sla": [{"compliance": measures["sla_compliance"]}],
            "recovery": [
                {
                    "faults": [{}],
                    "unrecovered": measures["unrecovered_faults"],
                    "p95_sim_s": measures["recovery_p95_sim_s"],
                }
            ],
            "throughput": {"median_finished_per_min": measures["throughput_per_min"]},
            "completeness": {
                "lost_events": measures["lost_events"],
                "duplicate_events": measures["duplicate_events"],
            },
        },
    }
    (run / "result.json").write_text(json.dumps(document))
    return run


def test_cli_compare_exit_codes(tmp_path: Path) -> None:
    a = write_run(tmp_path, "a", BASE)
    b = write_run(tmp_path, "b", CANDIDATE)
    runner = CliRunner()
    same = runner.invoke(cli, ["compare", str(a), str(a)])
    assert same.exit_code == 0, same.output
    assert "no regression" in same.output
    worse = runner.invoke(cli, ["compare", str(a), str(b)])
    assert worse.exit_code == 1
    assert "4 regression(s) beyond tolerance" in worse.output
    as_json = runner.invoke(cli, ["compare", str(a), str(b), "--json", "--tolerance", "score=20"])
    assert as_json.exit_code == 1
    rows = {r["name"]: r for r in json.loads(as_json.output)["measures"]}
    assert rows["score"]["regressed"] is False and rows["score"]["tolerance"] == "20"
    assert rows["lost_events"]["regressed"] is True
    bad = runner.invoke(cli, ["compare", str(a), str(b), "--tolerance", "score"])
    assert bad.exit_code == 2
    assert "Traceback" not in bad.output
