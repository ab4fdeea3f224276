"""A trigger storm without `conf` sends its DAG's API-start conf from the pipeline profile.

The profile's ``start: {kind: api, conf: …}`` says how the DAG is triggered; a
scenario that writes no ``conf`` for its storm gets that one, and validate says so.
"""

from __future__ import annotations

from pathlib import Path

from dagstorm.scenarios.loader import load_scenario
from dagstorm.workloads.specs import TriggerStormWorkload

PROFILE = (
    "name: mine\n"
    "dags:\n"
    "  - id: orders\n"
    "    start: {kind: api, conf: {orders: 20, region: eu}}\n"
    "  - id: plain\n"
    "    start: {kind: api}\n"
    "  - id: nightly\n"
    "    start: {kind: schedule}\n"
    "source: {folders: [dags]}\n"
)


def _storms(tmp_path: Path, workloads: str) -> tuple[list[TriggerStormWorkload], list[str], Path]:
    folder = tmp_path / "mine"
    (folder / "dags").mkdir(parents=True, exist_ok=True)
    (folder / "pipeline.yaml").write_text(PROFILE)
    path = tmp_path / "s.yaml"
    path.write_text(
        f"name: s\nduration: 10s\npipeline: mine/pipeline.yaml\nworkloads:\n{workloads}"
    )
    loaded = load_scenario(path)
    storms = [w for w in loaded.scenario.workloads if isinstance(w, TriggerStormWorkload)]
    return storms, loaded.notes, path


def test_a_storm_without_conf_sends_the_profiles_and_validate_says_where_from(
    tmp_path: Path,
) -> None:
    storms, notes, path = _storms(
        tmp_path, "  - {kind: trigger_storm, name: shop, dag: orders, rate: 1}\n"
    )
    (storm,) = storms
    assert storm.conf == {"orders": 20, "region": "eu"}
    (note,) = notes
    assert note.startswith(f"{path}:5:")
    assert 'trigger_storm shop sends conf {"orders": 20, "region": "eu"} to orders' in note
    assert note.endswith(f"pipeline profile `mine` ({tmp_path / 'mine' / 'pipeline.yaml'}:4:24)")


def test_what_the_storm_writes_wins_even_an_empty_conf(tmp_path: Path) -> None:
    storms, notes, _ = _storms(
        tmp_path,
        "  - {kind: trigger_storm, name: a, dag: orders, rate: 1, conf: {orders: 3}}\n"
        "  - {kind: trigger_storm, name: b, dag: orders, rate: 1, conf: {}}\n",
    )
    assert [s.conf for s in storms] == [{"orders": 3}, {}]
    assert notes == []


def test_only_an_api_start_with_a_conf_gives_one(tmp_path: Path) -> None:
    storms, notes, _ = _storms(
        tmp_path,
        "  - {kind: trigger_storm, name: a, dag: plain, rate: 1}\n"
        "  - {kind: trigger_storm, name: b, dag: nightly, rate: 1}\n"
        "  - {kind: trigger_storm, name: c, dag: elsewhere, rate: 1}\n",
    )
    assert [s.conf for s in storms] == [{}, {}, {}]
    assert notes == []
