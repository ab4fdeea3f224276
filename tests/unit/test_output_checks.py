"""Output checks: count checks' measures, file rows, and the DAGs folder a profile deploys into."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from dagstorm.analysis import analyze, result_document
from dagstorm.analysis.measures.data.output_checks import output_check_measures
from dagstorm.analysis.rundata.pipeline import CheckFigures, read_pipeline
from dagstorm.core.progress import Progress
from dagstorm.engine.output.output_sources import file_rows
from dagstorm.profiles.loader import load_profile
from dagstorm.reports.page import write_report
from dagstorm.stack.config import StackConfig
from dagstorm.stack.deploy import DeployError
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.profile_deploy import (
    _link,
    deployed,
    managed_dags_folder,
    undeploy_profile,
)


def _figures(**changes: object) -> CheckFigures:
    base: dict[str, object] = {
        "name": "orders",
        "kind": "sql",
        "compare": "count",
        "count": 42,
        "distinct_ids": 40,
        "id_column": "order_id",
        "expected": 20,
        "per_run": True,
        "error": None,
    }
    base.update(changes)
    return CheckFigures(**base)  # type: ignore[arg-type]


def test_ids_give_lost_and_duplicated_separately() -> None:
    (m,) = output_check_measures([_figures()], triggered_runs=3)
    assert (m.basis, m.expected, m.found, m.distinct_ids) == ("ids", 60, 42, 40)
    assert (m.lost, m.duplicated) == (20, 2)


def test_counts_without_ids_compare_with_the_declared_total() -> None:
    (m,) = output_check_measures(
        [_figures(distinct_ids=None, id_column=None, per_run=False, expected=50)], 3
    )
    assert (m.basis, m.lost, m.duplicated) == ("counts", 8, 0)


def test_lag_is_lost_and_failures_are_not_measured() -> None:
    lag, failed, nothing = output_check_measures(
        [
            _figures(kind="kafka", measure="lag", count=7, distinct_ids=None, expected=None),
            _figures(count=None, error="OperationalError: refused"),
            _figures(distinct_ids=None, id_column=None, expected=None),
        ],
        1,
    )
    assert (lag.basis, lag.lost, lag.duplicated) == ("lag", 7, None)
    assert (failed.basis, failed.lost, failed.reason) == (None, None, "OperationalError: refused")
    assert nothing.reason == "no expected count declared and no id column"


def test_ledger_checks_are_left_to_completeness() -> None:
    assert output_check_measures([_figures(compare="ledger")], 1) == ()


def test_file_rows_count_files_written_since_the_start(tmp_path: Path) -> None:
    since = datetime.now(UTC) - timedelta(seconds=5)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "part-0.jsonl").write_text('{"id": 1}\n{"id": 2}\n\n')
    pd.DataFrame({"id": [3, 3]}).to_parquet(tmp_path / "a" / "part-1.parquet")
    (tmp_path / "a" / "_SUCCESS").write_text("")
    rows = file_rows(tmp_path, "**/*.jsonl", "jsonl", since=since)
    assert list(rows["id"]) == [1, 2]
    assert len(file_rows(tmp_path, "**/*.parquet", "parquet", since=since)) == 2
    later = datetime.now(UTC) + timedelta(hours=1)
    assert file_rows(tmp_path, "**/*.jsonl", "jsonl", since=later).empty


def test_run_directory_pipeline_and_checks_are_read(tmp_path: Path) -> None:
    (tmp_path / "pipeline.json").write_text(
        json.dumps({"name": "mine", "stages": {"load": ["l*"]}})
    )
    (tmp_path / "output_checks.json").write_text(
        json.dumps({"profile": "mine", "checks": [{"name": "rows", "kind": "files", "count": 3}]})
    )
    info = read_pipeline(tmp_path)
    assert (info.name, dict(info.stages)) == ("mine", {"load": ("l*",)})
    assert [(c.name, c.count, c.compare) for c in info.checks] == [("rows", 3, "count")]
    (tmp_path / "output_checks.json").unlink()
    assert read_pipeline(tmp_path).checks_absent == "no output_checks.json"


def _profile(tmp_path: Path, name: str, files: tuple[str, ...]) -> Path:
    folder = tmp_path / "pipelines" / name
    (folder / "dags").mkdir(parents=True)
    for file in files:
        (folder / "dags" / file).write_text("# a DAG\n")
    (folder / "dags" / ".airflowignore").write_text(f"{name}_helpers/\n")
    path = folder / "pipeline.yaml"
    path.write_text(
        f"name: {name}\ndags: [{{id: {name}, start: {{kind: api}}}}]\nsource: {{folders: [dags]}}\n"
    )
    return path


def test_profiles_link_into_the_folder_dagstorm_owns_and_undeploy(tmp_path: Path) -> None:
    ctx = StackContext(
        config=StackConfig(state_dir=tmp_path / "state"), progress=Progress(quiet=True)
    )
    folder = managed_dags_folder(ctx)
    assert ctx.dags_folder == folder
    one = load_profile(_profile(tmp_path, "one", ("one.py",)))
    two = load_profile(_profile(tmp_path, "two", ("two.py", "shared.py")))
    assert _link(ctx, one) == ["one.py"]
    assert _link(ctx, two) == ["shared.py", "two.py"]
    assert _link(ctx, one) == ["one.py"]  # idempotent
    assert (folder / "two.py").resolve() == (tmp_path / "pipelines/two/dags/two.py").resolve()
    assert deployed(folder) == {"one": ["one.py"], "two": ["shared.py", "two.py"]}
    assert (folder / ".airflowignore").read_text() == "one_helpers/\ntwo_helpers/\n"
    clash = load_profile(_profile(tmp_path, "three", ("shared.py",)))
    with pytest.raises(DeployError, match=r"`shared.py` is already in the DAGs folder \(profile"):
        _link(ctx, clash)
    assert undeploy_profile(ctx, "two") == ["shared.py", "two.py"]
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == ["one.py"]
    assert undeploy_profile(ctx, "two") == []


FIXTURE = Path(__file__).parents[1] / "fixtures" / "journals" / "broker_outage"


def test_count_checks_judge_the_count_slos_and_reach_the_report(tmp_path: Path) -> None:
    run_dir = tmp_path / "20260301T220000Z-broker-outage-fixture"
    shutil.copytree(FIXTURE, run_dir)  # no ledger, no serving.parquet: only the check
    check = {
        "name": "orders",
        "kind": "sql",
        "compare": "count",
        "count": 45,
        "distinct_ids": 40,
        "id_column": "order_id",
        "expected": 50,
    }
    (run_dir / "output_checks.json").write_text(json.dumps({"checks": [check]}))
    result = analyze(run_dir)
    (measure,) = result.measures.output_checks
    assert (measure.basis, measure.lost, measure.duplicated) == ("ids", 10, 5)
    verdicts = {v.name: v for v in result.verdict.slos}
    assert verdicts["lost_events"].value == 10 and not verdicts["lost_events"].passed
    assert "orders: 45 found of 50 expected (ids), 10 lost" in verdicts["lost_events"].detail
    assert verdicts["duplicate_events"].value == 5
    assert result_document(result)["measures"]["output_checks"][0]["basis"] == "ids"
    page = write_report(run_dir, result).read_text()
    assert "Output checks (counts the pipeline profile declares)" in page
    assert "ids known: duplicated = rows − distinct ids" in page
