"""Scenario loading: valid files, every error at once with positions, hostile input."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from dagstorm.core import yamlsource
from dagstorm.core.errors import DagstormError, ExitCode, ScenarioError
from dagstorm.core.validation_words import PATTERNS
from dagstorm.core.yamlsource import MAX_ALIASES, MAX_DEPTH, MAX_NODES
from dagstorm.profiles.loader import load_profile
from dagstorm.scenarios.loader import ScenarioInvalid, load_scenario
from dagstorm.scenarios.model import Scenario
from dagstorm.scenarios.suite import SuiteFile, is_suite_file, load_suite
from dagstorm.stack.config import StackConfig, load_stack_config
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
    with pytest.raises(ScenarioError, match=message) as info:
        load_scenario(path, env={})
    assert str(path) in info.value.render()


@pytest.mark.parametrize(
    "content", [_alias_bomb(), b"x: " + b"[" * 100 + b"]" * 100 + b"\n"], ids=["aliases", "nesting"]
)
def test_a_bomb_is_refused_from_the_event_stream_before_any_node_is_built(
    tmp_path: Path, content: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refused while reading YAML's events: no node tree, so no expansion, whatever its size."""

    def never(*_args: object) -> None:
        raise AssertionError("a node tree was built for a file the event stream refuses")

    monkeypatch.setattr(yamlsource._Loader, "get_single_node", never)
    path = tmp_path / "evil.yaml"
    path.write_bytes(content)
    with pytest.raises(ScenarioError, match=r"aliases|nesting"):
        load_scenario(path, env={})


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


# --- resource limits: refused from the event stream, before anything expands -------------


def _laughs(levels: int = 9, width: int = 9) -> str:
    """The issue's bomb: 9 levels of 9 aliases each (81 aliases, ~1 kB, 9**9 values)."""
    lines = ["a: &l0 [" + ", ".join(["lol"] * width) + "]"]
    lines += [f"b{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_under_the_alias_count_is_refused_by_its_expanded_size(
    tmp_path: Path,
) -> None:
    text = _laughs()
    assert text.count("*") == 72 < MAX_ALIASES and len(text) < 1100
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, env={})
    assert info.value.where == f"{path}:6:10"  # the alias that crosses the bound
    assert f"more than {MAX_NODES} values once YAML aliases are expanded" in info.value.what


def test_every_input_file_kind_has_the_limits(tmp_path: Path) -> None:
    bomb = _laughs()
    scenario = _write(tmp_path, bomb, "bomb.yaml")
    base = _write(tmp_path, bomb, "base.yaml")
    child = _write(tmp_path, "extends: base.yaml\nname: c\nduration: 1m\n", "child.yaml")
    suite = _write(tmp_path, "suite: s\n" + bomb, "suite.yaml")
    stack = _write(tmp_path, bomb, "bomb.stack.yaml")
    (tmp_path / "bomb").mkdir()
    profile = _write(tmp_path / "bomb", bomb, "pipeline.yaml")
    loaders: list[tuple[Path, Callable[[Path], object]]] = [
        (scenario, lambda p: load_scenario(p, env={})),
        (child, lambda p: load_scenario(p, env={})),
        (suite, lambda p: load_suite(p, env={})),
        (stack, lambda p: load_stack_config(p, env={})),
        (profile, load_profile),
    ]
    for path, load in loaders:
        with pytest.raises(DagstormError, match="once YAML aliases are expanded") as info:
            load(path)
        assert info.value.exit_code == ExitCode.USAGE
        assert (base if path == child else path).name in info.value.render()


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\nloop: &a [1, *a]\n")
    with pytest.raises(ScenarioError, match="inside its own anchor") as info:
        load_scenario(path, env={})
    assert info.value.where == f"{path}:2:14"


def test_nesting_through_aliases_counts_its_expanded_depth(tmp_path: Path) -> None:
    deep = "[" * 20 + "1" + "]" * 20
    path = _write(tmp_path, f"a: &deep {deep}\nb: {'[' * 20}*deep{']' * 20}\n")
    with pytest.raises(ScenarioError, match=f"deeper than {MAX_DEPTH} levels once"):
        load_scenario(path, env={})


def test_nesting_past_libyamls_own_bound_is_named_as_nesting_not_a_syntax_error(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, "name: x\nfoo: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ScenarioError, match=f"^nesting deeper than {MAX_DEPTH} levels$") as info:
        load_scenario(path, env={})
    assert info.value.fix == "flatten it" and str(info.value.where).startswith(f"{path}:2:")


def test_too_many_values_without_any_alias_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "x: [" + "1," * MAX_NODES + "1]\n")
    with pytest.raises(ScenarioError, match=f"more than {MAX_NODES} values in one file"):
        load_scenario(path, env={})


def test_a_nul_escape_in_a_value_is_refused_at_its_place(tmp_path: Path) -> None:
    path = _write(tmp_path, 'name: x\nstack: {file: "a\\0b"}\n')
    with pytest.raises(ScenarioError, match="NUL") as info:
        load_scenario(path, env={})
    assert info.value.where == f"{path}:2:15"


# --- shapes of file that are not a scenario -----------------------------------------------


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_an_empty_file_is_one_problem_at_line_1(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioInvalid) as info:
        load_scenario(path, env={})
    (problem,) = info.value.problems
    assert problem.where == f"{path}:1:1"
    assert "empty" in problem.what and "smoke.yaml" in problem.fix


def test_a_suite_given_as_a_scenario_points_to_nightly() -> None:
    suite = Path(__file__).parents[2] / "scenarios" / "nightly.yaml"
    with pytest.raises(ScenarioInvalid) as info:
        load_scenario(suite, env={})
    (problem,) = info.value.problems
    assert problem.where.startswith(f"{suite}:") and "is a suite (nightly)" in problem.what
    assert f"dagstorm nightly {suite}" in problem.fix
    assert "steps" not in str(problem)


def test_keys_written_twice_are_problems_with_both_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("seed: 7\n", "seed: 7\nseed: 8\n"))
    with pytest.raises(ScenarioInvalid) as info:
        load_scenario(path, env={})
    (problem,) = info.value.problems
    assert problem.where == f"{path}:5:1"
    assert "`seed` is written twice (first on line 4)" in problem.what


# --- wrong types anywhere: clean problems, in human words ---------------------------------

RAW_PYDANTIC = ("Input tag", "String should match", "Input should be", "Field required", "[type=")


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("duration: 10m", "duration: {a: b}", "duration: a duration is a number of seconds"),
        ("at: 3m", "at: [1, 2]", "faults.0.at: a duration is"),
        ("within: 2h", "within: [2h]", "within: a duration is"),
        ("rate: 2TB/day", "rate: {a: b}", "workloads.0.rate: a rate needs a unit, got dict"),
        ("scale: 1/2000", "scale: [1]", "workloads.0.scale: cannot read scale list"),
        ("seed: 7", "seed: [7]", "seed: expected a whole number, got a list"),
        ("name: demo", "name: Demo", "name: `Demo` must be 1-63 lowercase letters, digits"),
        ("kind: broker", "kind: lost_event", "unknown fault kind `lost_event`; known: network"),
        ("lost_events: 0", "lost_event: 0", "unknown SLO `lost_event`; known: sla"),
        ("action: pause", "action: nap", "`nap` is not one of: kill, pause, restart"),
        ("time_compression: 24", "time_compression: .inf", "time_compression: must be a"),
        ("min: 20", "min: .nan", "scheduler_throughput.min: must be a finite number"),
        ("phases:", "phases: 5\nx_phases:", "phases: expected a list, got the number 5"),
        ("slos:", "slos: {a: 1}\nx_slos:", "slos: expected a list, got a mapping"),
    ],
)
def test_a_wrong_type_is_a_problem_in_human_words(
    tmp_path: Path, old: str, new: str, words: str
) -> None:
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ScenarioInvalid) as info:
        load_scenario(path, env={})
    rendered = info.value.render()
    assert words in rendered, rendered
    assert not [raw for raw in RAW_PYDANTIC if raw in rendered], rendered
    assert all(
        re.match(rf"^{re.escape(str(path))}:\d+:\d+: ", line) for line in rendered.splitlines()
    )


def test_every_name_pattern_of_the_input_models_is_said_in_words() -> None:
    def patterns(schema: object) -> set[str]:
        if isinstance(schema, dict):
            found = {schema["pattern"]} if isinstance(schema.get("pattern"), str) else set()
            return found.union(*(patterns(v) for v in schema.values()))
        if isinstance(schema, list):
            return set().union(*(patterns(v) for v in schema))
        return set()

    used = set()
    for model in (Scenario, SuiteFile, StackConfig):
        used |= patterns(model.model_json_schema())
    assert used and used <= set(PATTERNS), used - set(PATTERNS)


# --- all problems at once, whole-scenario checks ------------------------------------------


def test_type_errors_and_whole_scenario_problems_are_reported_together(tmp_path: Path) -> None:
    text = (
        GOOD.replace("seed: 7", "seed: lots")  # a type error
        .replace("{name: chaos, duration: 6m}", "{name: chaos, duration: 5m}")  # phases short
        .replace("at: 3m", "at: 9m30s")  # ends after the run
        .replace("{name: cool-down", "{name: warm-up")  # a phase name twice
        .replace("  - duplicate_events: 0\n", "  - duplicate_events: 0\n  - lost_events: 1\n")
        .replace("weight: 3", "weight: -3")  # a bound
    )
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioInvalid) as info:
        load_scenario(path, env={})
    what = [p.what for p in info.value.problems]
    assert len(what) == 6, what
    for words in (
        "seed: expected a whole number",
        "duration: phases add up to 540 s but duration is 600 s",
        "phases.2.name: two phases are named `warm-up` (phases.0 too)",
        "slos.0.sla.weight: must be more than 0, got -3",
        "faults.0.at: fault `network latency 300 ms on kafka (both)` ends at 630 s",
        "slos.5: two SLOs are named `lost_events` (slos.3 too)",
    ):
        assert any(words in w for w in what), (words, what)
    lines = [int(p.where.split(":")[-2]) for p in info.value.problems]
    assert lines == sorted(lines)  # in file order


def test_faults_after_the_end_and_duplicate_names_are_each_reported(tmp_path: Path) -> None:
    text = GOOD.replace("  - at: 3m\n", "  - at: 3m\n    name: same\n").replace(
        "  - window: [4m, 8m]\n", "  - window: [4m, 12m]\n    name: same\n"
    )
    text = text.replace("    rate: 2TB/day\n", "    rate: 2TB/day\n  - kind: ad_logs\n")
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioInvalid) as info:
        load_scenario(path, env={})
    what = " | ".join(p.what for p in info.value.problems)
    assert "faults.1.name: two faults are named `same`" in what
    assert "faults.1.window: fault `kafka broker pause` ends at the latest at 720 s" in what
    assert "workloads.1.name: two workloads are named `ad-logs`" in what


@pytest.mark.parametrize(
    ("slo", "words"),
    [
        ('compliance: ">= 195%"', "a share is between 0% and 100%"),
        ('compliance: "-5%"', "a share is between 0% and 100%"),
        ('compliance: "<= 5%"', "caps the share of runs on time; it is a minimum"),
        ('compliance: "> 100%"', "can never pass"),
        ("within: 0s", "within: must be more than 0"),
    ],
)
def test_impossible_sla_targets_are_refused(tmp_path: Path, slo: str, words: str) -> None:
    text = GOOD.replace('compliance: ">= 95%"', slo if "compliance" in slo else "compliance: 95")
    if "within" in slo:
        text = text.replace("within: 2h", slo)
    with pytest.raises(ScenarioInvalid, match=re.escape(words)):
        load_scenario(_write(tmp_path, text), env={})


@pytest.mark.parametrize(
    ("target", "words"),
    [
        (">= 10m", "a recovery time is a maximum"),
        ("< 0s", "can never pass"),
        ("<= -5m", "expected a duration like 10m"),
    ],
)
def test_impossible_recovery_targets_are_refused(tmp_path: Path, target: str, words: str) -> None:
    path = _write(tmp_path, GOOD.replace('p95: "<= 10m"', f'p95: "{target}"'))
    with pytest.raises(ScenarioInvalid, match=re.escape(words)) as info:
        load_scenario(path, env={})
    assert info.value.problems[0].where == f"{path}:23:26"


def test_a_count_slo_below_zero_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioInvalid, match=r"slos\.3\.lost_events: must be at least 0, got -1"):
        load_scenario(_write(tmp_path, GOOD.replace("lost_events: 0", "lost_events: -1")), env={})


def test_a_scenario_without_slos_loads_with_a_warning(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD[: GOOD.index("slos:")])
    loaded = load_scenario(path, env={})
    (warning,) = loaded.warnings
    assert warning.warning and "no SLOs" in warning.what
    assert str(warning).startswith(f"{path}:1:1: warning: ")


def test_a_compliance_that_always_passes_is_a_warning(tmp_path: Path) -> None:
    loaded = load_scenario(_write(tmp_path, GOOD.replace('">= 95%"', '">= 0%"')), env={})
    assert [w.what for w in loaded.warnings] == [
        "slos.0: sla:ad_logs_hourly compliance `>= 0%` always passes"
    ]


def test_a_scenario_built_in_code_gets_the_same_checks() -> None:
    with pytest.raises(ValidationError, match="phases add up to 60 s but duration is 120 s"):
        Scenario.model_validate(
            {"name": "x", "duration": "2m", "phases": [{"name": "a", "duration": "1m"}]}
        )
