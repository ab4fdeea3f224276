"""A trigger storm starts its DAG's runs as the pipeline profile's `start` says.

The profile's ``start: {kind: api, conf: …}`` says how the DAG is triggered; a
scenario that writes no ``conf`` for its storm gets that one, and validate says so.
``start: {kind: asset, asset: …}``: the storm posts events on the asset instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dagstorm.core.errors import ScenarioError
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
    "  - id: audience\n"
    "    start: {kind: asset, asset: campaigns}\n"
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
    assert [s.asset for s in storms] == [None, None, None]
    assert notes == []


def test_a_storm_on_an_asset_started_dag_posts_events_on_its_asset(tmp_path: Path) -> None:
    storms, notes, path = _storms(
        tmp_path, "  - {kind: trigger_storm, name: feed, dag: audience, rate: 1}\n"
    )
    (storm,) = storms
    assert (storm.asset, storm.conf) == ("campaigns", {})
    (note,) = notes
    assert note.startswith(f"{path}:5:")
    assert "trigger_storm feed posts events on asset 'campaigns' for audience" in note
    assert note.endswith(f"pipeline profile `mine` ({tmp_path / 'mine' / 'pipeline.yaml'}:10:33)")


def test_a_storm_that_writes_conf_or_asset_keeps_it_on_an_asset_started_dag(
    tmp_path: Path,
) -> None:
    storms, notes, _ = _storms(
        tmp_path,
        "  - {kind: trigger_storm, name: a, dag: audience, rate: 1, conf: {}}\n"
        "  - {kind: trigger_storm, name: b, dag: audience, rate: 1, asset: null}\n"
        "  - {kind: trigger_storm, name: c, dag: audience, rate: 1, asset: other}\n",
    )
    assert [s.asset for s in storms] == [None, None, "other"]
    assert notes == []


def test_conf_and_asset_together_are_refused_where_written(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        _storms(
            tmp_path,
            "  - {kind: trigger_storm, name: a, dag: audience, rate: 1,\n"
            "     conf: {x: 1}, asset: campaigns}\n",
        )
    assert "an asset event carries no run conf" in str(info.value.render())
