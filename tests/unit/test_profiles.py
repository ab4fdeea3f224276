"""Pipeline profiles: the shipped ones load, bad ones give file:line:column problems,
and nothing in the package names the reference pipeline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dagstorm.analysis.rundata.stages import stage_of
from dagstorm.cli.file_check import check_file
from dagstorm.core.errors import ScenarioError
from dagstorm.profiles.loader import (
    ProfileInvalid,
    default_database,
    default_profile,
    find_profile,
    load_profile,
)
from dagstorm.scenarios.loader import ScenarioInvalid, load_scenario

ROOT = Path(__file__).resolve().parents[2]
#: Names of the reference pipeline the package must never contain (issue 14).
REFERENCE_NAMES = (
    "ad_serving",
    "load_serving",
    "aggregate_ad",
    "wait_for_partition",
    "ad_logs_hourly",
)


#: Any of the names, in any letter case, anywhere in a line.
NAMED = re.compile("|".join(REFERENCE_NAMES), re.IGNORECASE)


def _files_under(root: Path) -> list[Path]:
    """Every file under ``root`` but compiled bytecode and a built wheel's data copy."""
    return [
        path
        for path in sorted(root.rglob("*"))
        if path.is_file()
        and "__pycache__" not in path.parts
        # `_data/` is where a wheel build copies pipelines/ (the profiles themselves).
        and "_data" not in path.relative_to(root).parts
    ]


def _naming_lines(root: Path) -> list[str]:
    """``file:line: text`` of each line under ``root`` that names the reference pipeline."""
    return [
        f"{path.relative_to(root)}:{number}: {line.strip()}"
        for path in _files_under(root)
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if NAMED.search(line)
    ]


def test_the_package_never_names_the_reference_pipeline() -> None:
    # Every file of every kind (code, styles, templates, data), in any letter case.
    files = _files_under(ROOT / "dagstorm")
    assert len(files) > 250, "the scan must see the whole package"
    assert {".py", ".tcss"} <= {path.suffix for path in files}
    assert _naming_lines(ROOT / "dagstorm") == []


def test_the_scan_finds_a_name_in_any_file(tmp_path: Path) -> None:
    (tmp_path / "widgets").mkdir()
    (tmp_path / "widgets" / "pane.tcss").write_text("#x { }\n/* WAIT_FOR_PARTITION */\n")
    (tmp_path / "notes.md").write_text("orders_etl\nsee ad_serving_v2\n")
    (tmp_path / "_data").mkdir()
    (tmp_path / "_data" / "pipeline.yaml").write_text("id: ad_logs_hourly\n")
    assert _naming_lines(tmp_path) == [
        "notes.md:2: see ad_serving_v2",
        "widgets/pane.tcss:2: /* WAIT_FOR_PARTITION */",
    ]


def test_every_shipped_profile_is_valid() -> None:
    paths = sorted((ROOT / "pipelines").glob("*/pipeline.yaml"))
    assert paths
    for path in paths:
        check = check_file(path)
        assert check.valid, check.lines()
        assert check.kind == "pipeline"


def test_the_reference_profile_is_the_default_and_maps_its_stages() -> None:
    loaded = default_profile()
    assert loaded is not None
    profile = loaded.profile
    assert profile.name == "ad_logs"
    assert profile.partition_dag == "ad_logs_hourly"
    stages: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in profile.stages.items()}
    assert stage_of("wait_for_partition", stages) == "wait"
    assert stage_of("aggregate_light", stages) == "transform"
    assert stage_of("load_serving", stages) == "load"
    assert stage_of("check_serving", stages) == "check"
    assert stage_of("validate", stages) is None
    assert default_database() == "ad_serving"
    compares = {c.name: c.compare for c in profile.outputs}
    assert compares["serving"] == "ledger"
    assert profile.dag_of("scheduler_bench_007") is not None
    assert profile.dag_of("other") is None


def _write(tmp_path: Path, text: str, name: str = "mine") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "dags").mkdir()
    path = folder / "pipeline.yaml"
    path.write_text(text)
    return path


def test_problems_point_at_file_line_and_column(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "name: mine\n"
        "dags:\n"
        "  - id: a\n"
        "    start: {kind: kafka}\n"
        "source: {folders: [dags, missing]}\n"
        "stages: {spark: ['x*']}\n"
        "outputs:\n"
        "  - {name: rows, kind: files, path: out, format: xlsx}\n",
    )
    with pytest.raises(ProfileInvalid) as caught:
        load_profile(path)
    lines = caught.value.render().splitlines()
    assert lines[0].startswith(f"{path}:4:")
    assert "`kafka` start needs `topic" in lines[0]
    assert any(line.startswith(f"{path}:6:") and "spark" in line for line in lines)
    assert any(line.startswith(f"{path}:8:") and "xlsx" in line for line in lines)


def test_a_missing_folder_and_a_wrong_name_are_problems(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "name: other\ndags: [{id: a, start: {kind: schedule}}]\n"
        "source: {folders: [dags, missing]}\n",
    )
    with pytest.raises(ProfileInvalid) as caught:
        load_profile(path)
    text = caught.value.render()
    assert f"{path}:1:7: the profile is named `other` but its folder `mine`" in text
    assert f"{path}:3:" in text and "`missing` does not exist" in text


def test_count_checks_and_kafka_lag_validate(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "name: mine\n"
        "dags: [{id: a, start: {kind: api, conf: {n: 5}}, sla: {deadline: 10m}}]\n"
        "source: {kind: embedded, folders: [dags], database: {name: mine, dsn_env: MINE_DSN}}\n"
        "outputs:\n"
        "  - {name: rows, kind: sql, dsn_env: MINE_DSN, query: 'SELECT 1',"
        " expected: 5, per_run: true, id_column: id}\n"
        "  - {name: lag, kind: kafka, topic: t, measure: lag, group: g}\n"
        "  - {name: files, kind: files, path: '${state_dir}/out', format: jsonl}\n",
    )
    profile = load_profile(path).profile
    assert profile.dags[0].sla is not None and profile.dags[0].sla.deadline == 600.0
    assert [c.kind for c in profile.outputs] == ["sql", "kafka", "files"]


def test_upstreams_trigger_starts_and_pools(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "name: mine\n"
        "dags:\n"
        "  - {id: up, start: {kind: schedule}}\n"
        "  - {id: down_1, upstream: [up], start: {kind: trigger}, sla: {deadline: 2m}}\n"
        "  - {pattern: 'down_*', upstream: [up], start: {kind: asset, asset: a}}\n"
        "source: {folders: [dags], pools: {small: 2}}\n",
    )
    profile = load_profile(path).profile
    assert profile.source.pools == {"small": 2}
    assert profile.upstream_of("down_1") == ("up",)
    assert profile.upstream_of("down_7") == ("up",)
    assert profile.upstream_of("up") == ()
    (tmp_path / "bad").mkdir()
    bad = _write(
        tmp_path / "bad",
        "name: mine\n"
        "dags: [{id: d, start: {kind: trigger}}]\n"
        "source: {folders: [dags], pools: {small: -1}}\n",
    )
    with pytest.raises(ProfileInvalid) as caught:
        load_profile(bad)
    text = caught.value.render()
    assert "`trigger` start needs `upstream" in text
    assert "slots must be 0 or more" in text


def test_scenarios_name_a_profile_or_get_the_default(tmp_path: Path) -> None:
    smoke = load_scenario(ROOT / "scenarios" / "smoke.yaml")
    assert smoke.profile is not None and smoke.profile.profile.name == "ad_logs"
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: s\nduration: 10s\npipeline: nowhere\n")
    with pytest.raises(ScenarioInvalid) as caught:
        load_scenario(scenario)
    assert str(caught.value).startswith(f"{scenario}:3:11: no pipeline profile `nowhere`")


def test_a_profile_by_path_from_the_scenario(tmp_path: Path) -> None:
    _write(tmp_path, "name: mine\ndags: [{id: a, start: {kind: api}}]\nsource: {folders: [dags]}\n")
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: s\nduration: 10s\npipeline: mine/pipeline.yaml\n")
    loaded = load_scenario(scenario)
    assert loaded.profile is not None and loaded.profile.profile.name == "mine"
    with pytest.raises(ScenarioError, match="no pipeline profile"):
        find_profile("mine", env={"DAGSTORM_PIPELINES": str(tmp_path / "none")})
    assert find_profile("mine", env={"DAGSTORM_PIPELINES": str(tmp_path)}).profile.name == "mine"


def test_an_sla_on_a_dag_outside_the_profile_is_a_warning(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: s\nduration: 10s\nslos:\n  - sla: {dag: orders_etl, within: 1h}\n"
        "  - sla: {dag: scheduler_bench_003, within: 1h}\n"
    )
    loaded = load_scenario(scenario)
    (warning,) = loaded.warnings
    assert str(warning).startswith(f"{scenario}:4:5: warning: slos.0: the SLA's DAG `orders_etl`")
    assert "pipeline profile `ad_logs`" in str(warning)
