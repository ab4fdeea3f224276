"""The `kind: locust` workload in scenarios: validation with positions, the plan, the config."""

from __future__ import annotations

from pathlib import Path

import pytest

from dagstorm.scenarios.loader import ScenarioInvalid, load_scenario
from dagstorm.scenarios.plan import build_plan
from dagstorm.workloads.locust_swarm.spec import KafkaUserSpec, LocustWorkload, TriggerUserSpec
from dagstorm.workloads.locust_swarm.swarm_config import SwarmConfig, worker_quota

GOOD = """\
name: swarm
duration: 5m
time_compression: 12
workloads:
  - kind: locust
    name: kafka-swarm
    user: {kind: kafka, topic: ad_events, batch_records: 200}
    workers: 2
    users: 6
    shape: {kind: spike, at: 600, duration: 600, factor: 3}
    start: 30s
    duration: 2m
    max_requests: 5000
  - kind: locust
    name: people
    user: {kind: trigger, dag: scheduler_bench_000, conf: {team: ds}, wait: 2s}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def test_a_locust_scenario_loads_and_plans(tmp_path: Path) -> None:
    loaded = load_scenario(_write(tmp_path, GOOD), env={})
    kafka, people = loaded.scenario.workloads
    assert isinstance(kafka, LocustWorkload) and isinstance(kafka.user, KafkaUserSpec)
    assert kafka.user.batch_records == 200 and kafka.start == 30 and kafka.duration == 120
    assert isinstance(people, LocustWorkload) and isinstance(people.user, TriggerUserSpec)
    assert people.user.wait == 2.0 and people.user.conf == {"team": "ds"}
    actions = [(a.at, a.kind, a.name) for a in build_plan(loaded.scenario).actions]
    assert (30.0, "workload_start", "kafka-swarm") in actions
    assert (150.0, "workload_stop", "kafka-swarm") in actions
    assert (300.0, "workload_stop", "people") in actions


@pytest.mark.parametrize(
    ("bad", "line", "words"),
    [
        ("    workers: 0\n", 6, "workers: must be at least 1, got 0"),
        ("    user: {kind: kafka, acks: maybe}\n", 5, "workloads.0.user.acks"),
        ("    user: {kind: nope}\n", 5, "unknown user kind `nope`; known: kafka, trigger"),
        ("    users: 50\n    max_users: 10\n", 4, "users (50) is above max_users (10)"),
        ("    shape: {kind: spike}\n", 6, "workloads.0.shape: `duration` is required"),
        ("    hatch_rate: 3\n", 6, "unknown key `hatch_rate`"),
    ],
)
def test_bad_locust_workloads_are_reported_at_their_line(
    tmp_path: Path, bad: str, line: int, words: str
) -> None:
    text = (
        "name: swarm\nduration: 5m\nworkloads:\n  - kind: locust\n"
        "    user: {kind: trigger, dag: d}\n" + bad
    )
    if "user:" in bad:  # replaces the valid user
        text = text.replace("    user: {kind: trigger, dag: d}\n", "")
    with pytest.raises(ScenarioInvalid) as info:
        load_scenario(_write(tmp_path, text), env={})
    rendered = info.value.render()
    assert f"s.yaml:{line}" in rendered, rendered
    assert words in rendered


def test_a_locust_workload_must_start_before_the_run_ends(tmp_path: Path) -> None:
    text = "name: swarm\nduration: 1m\nworkloads:\n  - kind: locust\n    start: 2m\n"
    text += "    user: {kind: trigger, dag: d}\n"
    with pytest.raises(ScenarioInvalid, match="at or after the run ends"):
        load_scenario(_write(tmp_path, text), env={})


@pytest.mark.parametrize(("total", "workers"), [(10, 3), (1, 4), (100, 1), (7, 7), (1000, 6)])
def test_worker_quotas_sum_to_the_total_and_differ_by_at_most_one(total: int, workers: int) -> None:
    shares = [worker_quota(total, workers, i) for i in range(workers)]
    assert sum(shares) == total
    assert max(shares) - min(shares) <= 1


def test_the_swarm_config_round_trips_and_holds_no_secret(tmp_path: Path) -> None:
    config = SwarmConfig(
        name="x",
        user=TriggerUserSpec(dag="d", conf={"a": 1}),
        workers=2,
        users=3,
        max_users=5,
        spawn_rate=1,
        duration_s=10,
        max_requests=4,
        drain_timeout_s=20,
        airflow_url="http://127.0.0.1:1",
        stats_path=tmp_path / "stats.jsonl",
        stop_path=tmp_path / "stop",
    )
    path = config.write(tmp_path / "config.json")
    assert SwarmConfig.model_validate_json(path.read_text()) == config
    assert "password" not in path.read_text().lower()
