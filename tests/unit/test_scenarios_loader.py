"""Scenario loading: valid files, every error at once with positions, hostile input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagstorm.core.errors import ExitCode, ScenarioError
from dagstorm.scenarios.loader import ScenarioInvalid, load_scenario
from dagstorm.scenarios.suite import is_suite_file
from dagstorm.workloads.specs import AdLogsWorkload

GOOD = """\
name: demo
description: a small run
duration: 10m
seed: 7
time_compression: 24
phases:
  - {name: warm-up, duration: 2m}
  - {name: chaos, duration: 6m}
  - {name: cool-down, duration: 2m}
workloads:
  - kind: ad_logs
    rate: 2TB/day
    scale: 1/2000
faults:
  - at: 3m
    duration: 1m
    fault: {kind: network, link: kafka, effect: latency, latency_ms: 300}
  - window: [4m, 8m]
    duration: 30s
    fault: {kind: broker, action: pause}
slos:
  - sla: {dag: ad_logs_hourly, within: 2h, compliance: ">= 95%", weight: 3}
  - recovery_time: {p95: "<= 10m"}
  - scheduler_throughput: {min: 20}
  - lost_events: 0
  - duplicate_events: 0
"""


def _write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_good_scenario_loads(tmp_path: Path) -> None:
    loaded = load_scenario(_write(tmp_path, GOOD), env={})
    scenario = loaded.scenario
    assert scenario.duration == 600
    assert [p.name for p in scenario.phases] == ["warm-up", "chaos", "cool-down"]
    assert isinstance(scenario.workloads[0], AdLogsWorkload)
    assert [s.name for s in scenario.slos] == [
        "sla:ad_logs_hourly",
        "recovery_time:p95",
        "scheduler_throughput",
        "lost_events",
        "duplicate_events",
    ]
    assert scenario.slos[0].weight == 3


def test_every_problem_is_reported_with_its_position(tmp_path: Path) -> None:
    text = GOOD.replace("seed: 7", "seed: -1").replace("latency_ms: 300", "latency_ms: 300, x: 1")
    text = text.replace("action: pause", "action: nap")
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioInvalid) as info:
        load_scenario(path, env={})
    problems = info.value.problems
    assert len(problems) == 3
    assert info.value.exit_code == ExitCode.USAGE
    assert [p.where for p in problems] == [f"{path}:4:7", f"{path}:17:75", f"{path}:20:35"]
    assert any("seed" in p.what for p in problems)
    assert any("unknown key `x`" in p.what for p in problems)


def test_a_typo_gets_a_suggestion(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("description:", "descripton:"))
    with pytest.raises(ScenarioInvalid) as info:
        load_scenario(path, env={})
    assert info.value.problems[0].fix == "did you mean `description`?"
    assert info.value.problems[0].where == f"{path}:2:1"


def test_phases_must_add_up(tmp_path: Path) -> None:
    with pytest.raises(ScenarioInvalid, match="phases add up to 540"):
        load_scenario(
            _write(
                tmp_path, GOOD.replace("{name: chaos, duration: 6m}", "{name: chaos, duration: 5m}")
            ),
            env={},
        )


def test_a_fault_past_the_end_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioInvalid, match="after the run"):
        load_scenario(_write(tmp_path, GOOD.replace("at: 3m", "at: 9m30s")), env={})


def test_env_substitution_and_defaults(tmp_path: Path) -> None:
    text = GOOD.replace("seed: 7", "seed: ${SEED}").replace("name: demo", "name: ${NAME:-dflt}")
    loaded = load_scenario(_write(tmp_path, text), env={"SEED": "42"})
    assert loaded.scenario.seed == 42 and loaded.scenario.name == "dflt"


def test_an_unset_variable_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("seed: 7", "seed: ${NOPE}"))
    with pytest.raises(ScenarioInvalid) as info:
        load_scenario(path, env={})
    assert info.value.problems[0].where == f"{path}:4:7"
    assert "NOPE" in info.value.problems[0].what


def test_extends_merges_mappings_and_replaces_lists(tmp_path: Path) -> None:
    _write(tmp_path, GOOD, "base.yaml")
    child = _write(tmp_path, "extends: base.yaml\nname: child\nseed: 9\nfaults: []\n", "c.yaml")
    scenario = load_scenario(child, env={}).scenario
    assert (scenario.name, scenario.seed, scenario.faults) == ("child", 9, [])
    assert len(scenario.slos) == 5


def test_an_error_in_the_override_points_at_the_override(tmp_path: Path) -> None:
    _write(tmp_path, GOOD, "base.yaml")
    child = _write(tmp_path, "extends: base.yaml\nseed: lots\n", "c.yaml")
    with pytest.raises(ScenarioInvalid) as info:
        load_scenario(child, env={})
    assert info.value.problems[0].where == f"{child}:2:7"


def test_extends_cycles_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, "extends: b.yaml\n", "a.yaml")
    _write(tmp_path, "extends: a.yaml\n", "b.yaml")
    with pytest.raises(ScenarioInvalid, match="loops back"):
        load_scenario(tmp_path / "a.yaml", env={})


def _alias_bomb(levels: int = 60) -> bytes:
    """Each level refers three times to the one below: 3**60 nodes once expanded."""
    lines = ["a: &l0 [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"b{i}: &l{i} [*l{i - 1}, *l{i - 1}, *l{i - 1}]" for i in range(1, levels)]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (_alias_bomb(), "aliases"),
        (b"x: " + b"[" * 100 + b"]" * 100 + b"\n", "nesting"),
        (b"\x00\x01\x02binary\xff", "UTF-8"),
        (b"name: x\x00\n", "binary"),
        (b"x: " + b"y" * 1_100_000, "limit"),
        (b"- just\n- a list\n", "mapping"),
        (b"name: [unclosed\n", "invalid YAML"),
    ],
)
def test_hostile_input_is_refused_quickly_and_clearly(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "evil.yaml"
    path.write_bytes(content)
    started = time.monotonic()
    with pytest.raises(ScenarioError, match=message) as info:
        load_scenario(path, env={})
    assert time.monotonic() - started < 10  # bounded: refused before any expansion
    assert str(path) in info.value.render()


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_any_bytes_give_a_scenario_or_a_scenario_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(data)
    try:
        load_scenario(path, env={})
    except ScenarioError as exc:
        assert exc.render()


def test_the_shipped_scenario_library_is_valid() -> None:
    library = sorted((Path(__file__).parents[2] / "scenarios").glob("*.yaml"))
    assert len(library) >= 5
    for path in library:
        if is_suite_file(path):  # checked in test_scenarios_suite.py
            continue
        load_scenario(path, env={})
        assert path.read_text().startswith("# "), f"{path.name} has no documentation header"
