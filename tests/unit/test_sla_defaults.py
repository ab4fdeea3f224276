"""An `sla` SLO without `within` / `measure_from` takes the pipeline profile's deadline
and reference; validate says which it used, and an SLA with neither is a file:line problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dagstorm.analysis.rundata.load import build_run_data
from dagstorm.analysis.rundata.model import RunDirectoryError
from dagstorm.cli.file_check import check_file
from dagstorm.scenarios.loader import ScenarioInvalid, load_scenario
from dagstorm.scenarios.loading.sla_defaults import fill_sla_defaults
from dagstorm.scenarios.slos import SlaSlo

PROFILE = (
    "name: mine\n"
    "dags:\n"
    "  - id: timed\n"
    "    start: {kind: api}\n"
    "    sla: {deadline: 30m, reference: logical_date}\n"
    "  - id: untimed\n"
    "    start: {kind: api}\n"
    "source: {folders: [dags]}\n"
)


def _scenario(tmp_path: Path, slos: str) -> Path:
    folder = tmp_path / "mine"
    (folder / "dags").mkdir(parents=True, exist_ok=True)
    (folder / "pipeline.yaml").write_text(PROFILE)
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\nduration: 10s\npipeline: mine/pipeline.yaml\nslos:\n{slos}")
    return path


def _slas(path: Path) -> list[SlaSlo]:
    return [s for s in load_scenario(path).scenario.slos if isinstance(s, SlaSlo)]


def test_an_sla_without_within_takes_the_profiles_deadline_and_reference(tmp_path: Path) -> None:
    path = _scenario(tmp_path, "  - sla: {dag: timed, compliance: '>= 90%'}\n")
    loaded = load_scenario(path)
    (sla,) = loaded.scenario.slos
    assert isinstance(sla, SlaSlo)
    assert (sla.within, sla.measure_from, sla.deadline_s) == (1800.0, "logical_date", 1800.0)
    # What the run journals (run_start) carries the filled values.
    assert sla.model_dump(mode="json")["within"] == 1800.0
    (note,) = loaded.notes
    assert note.startswith(f"{path}:5:")
    assert "takes its deadline 30m sim and reference `logical_date`" in note
    assert "pipeline profile `mine`" in note
    assert note.endswith(f"{tmp_path / 'mine' / 'pipeline.yaml'}:5:5)")


def test_what_the_slo_writes_wins_and_only_the_rest_is_taken(tmp_path: Path) -> None:
    cases = [
        ("{dag: timed, within: 1h}", (3600.0, "logical_date"), "its reference `logical_date`"),
        ("{dag: timed, measure_from: queued}", (1800.0, "queued"), "its deadline 30m sim from"),
        ("{dag: timed, within: 2h, measure_from: queued}", (7200.0, "queued"), None),
    ]
    for written, expected, note in cases:
        loaded = load_scenario(_scenario(tmp_path, f"  - sla: {written}\n"))
        (sla,) = loaded.scenario.slos
        assert isinstance(sla, SlaSlo) and (sla.within, sla.measure_from) == expected
        if note is None:
            assert loaded.notes == []
        else:
            (taken,) = loaded.notes
            assert note in taken


def test_a_within_without_a_profile_sla_measures_from_queued(tmp_path: Path) -> None:
    path = _scenario(tmp_path, "  - sla: {dag: untimed, within: 5m}\n")
    (sla,) = _slas(path)
    assert (sla.within, sla.measure_from) == (300.0, "queued")
    assert load_scenario(path).notes == []


def test_an_sla_with_no_deadline_anywhere_is_a_problem_with_a_fix(tmp_path: Path) -> None:
    path = _scenario(tmp_path, "  - sla: {dag: untimed}\n  - sla: {dag: elsewhere}\n")
    with pytest.raises(ScenarioInvalid) as caught:
        load_scenario(path)
    first, second = caught.value.problems
    assert first.where == f"{path}:5:5"
    assert "sla:untimed has no `within`" in first.what
    assert "profile `mine` declares no `sla` for DAG `untimed`" in first.what
    assert "write `within: 2h` in the SLO" in first.fix and "pipeline.yaml" in first.fix
    assert second.where == f"{path}:6:5"
    assert "`elsewhere` is not a DAG of pipeline profile `mine`" in second.what


def test_the_default_profile_answers_for_a_scenario_that_names_none(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nduration: 10s\nslos:\n  - sla: {dag: d}\n")
    # The project's pipelines/ has a default profile (ad_logs); `d` is not one of its DAGs.
    with pytest.raises(ScenarioInvalid, match="not a DAG of pipeline profile `ad_logs`"):
        load_scenario(path)


def test_without_any_profile_the_slo_must_say_within(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nduration: 10s\nslos:\n  - sla: {dag: d}\n")
    scenario = load_scenario(path, pipeline=False).scenario
    filled = fill_sla_defaults(scenario, None, lambda key_path: f"s.yaml:{key_path}")
    (problem,) = filled.problems
    assert problem.where == "s.yaml:('slos', 0, 'sla')"
    assert "no pipeline profile is named (`pipeline:`) or marked default" in problem.what
    assert filled.notes == [] and filled.scenario is scenario


def test_validate_shows_what_it_took(tmp_path: Path) -> None:
    path = _scenario(tmp_path, "  - sla: {dag: timed}\n")
    check = check_file(path)
    assert check.valid, check.lines()
    (note,) = check.as_dict()["notes"]
    assert "deadline 30m sim" in note and "pipeline profile `mine`" in note


def test_the_shipped_orders_scenario_can_leave_the_deadline_to_its_profile(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nduration: 10s\npipeline: orders_etl\nslos:\n  - sla: {dag: orders_etl}\n"
    )
    loaded = load_scenario(path)
    (sla,) = loaded.scenario.slos
    assert isinstance(sla, SlaSlo) and (sla.within, sla.measure_from) == (120.0, "queued")
    # The profile's line, shown relative to the working directory when under it.
    assert "pipelines/orders_etl/pipeline.yaml:11:5)" in loaded.notes[0]


def test_a_journal_sla_without_a_deadline_is_refused(tmp_path: Path) -> None:
    start = {
        "kind": "run_start",
        "seq": 1,
        "t": 0.0,
        "wall": 1_800_000_000.0,
        "time_compression": 10,
        "slos": [{"type": "sla", "dag": "d"}],
    }
    (tmp_path / "journal.jsonl").write_text(json.dumps(start) + "\n")
    with pytest.raises(RunDirectoryError, match=r"sla:d\) has no deadline"):
        build_run_data([start], run_dir=tmp_path)
