"""Mutated shipped inputs: `dagstorm validate` exits 0 or 2, one line per problem, no traceback.

Every shipped scenario, the nightly suite, the stack file documented in
docs/stack.md, the shipped stack configs and the pipeline profiles are mutated at
YAML text level (bench/input_mutations.py: values replaced by values of other types,
keys dropped, written twice or renamed, values nested) and checked the way a user
would. Bounded and derandomized, so CI sees the same cases each time;
`bench/fuzz_inputs.py` runs the same mutations by the ten thousand
(docs/benchmarks.md, "Input fuzz").
"""

from __future__ import annotations

import importlib.util
import re
import sys
import traceback
from pathlib import Path
from random import Random
from types import ModuleType

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagstorm.cli import cli
from dagstorm.faults.journal import FaultJournal, orphaned
from dagstorm.stack.embedded.layout import StateLayout

ROOT = Path(__file__).resolve().parents[2]
#: A problem line: `file:line:column: [warning: ]what — fix: how`.
PROBLEM = re.compile(r"^\S+:\d+:\d+: (warning: )?\S.* — fix: \S.*$")
#: pydantic's own words, which must never reach a user.
RAW = ("Input should be", "Input tag", "String should match", "Field required", "Value error,")
ENV = {"DAGSTORM_STACK_FILE": None, "DAGSTORM_STATE_DIR": None, "DAGSTORM_FUZZ_UNSET": None}


def _load_mutations() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "input_mutations", ROOT / "bench" / "input_mutations.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


mutations = _load_mutations()


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """Path in the repository -> (its copy in a scratch directory, its shipped text)."""
    workdir = tmp_path_factory.mktemp("inputs")
    files = mutations.prepare(workdir)
    return {
        str(path.relative_to(workdir)): (path, path.read_text(encoding="utf-8")) for path in files
    }


def _names() -> list[str]:
    names: list[str] = mutations.shipped_names()
    return names


def _validate(path: Path) -> Result:
    # A state directory of its own: the checks never depend on what the default one
    # (./.dagstorm, the stack's) holds, e.g. a fault a killed run left applied.
    state = path.parent / "state"
    return CliRunner().invoke(cli, ["--state-dir", str(state), "validate", str(path)], env=ENV)


def assert_clean(result: Result, path: Path) -> None:
    """Exit 0 or 2; no traceback; every stderr line a problem line; ok only on exit 0."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        tb = "".join(traceback.format_exception(result.exception))
        pytest.fail(f"traceback for {path}:\n{tb}")
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
    errors = result.stderr.splitlines()
    bad = [line for line in errors if not PROBLEM.match(line) or any(r in line for r in RAW)]
    assert not bad, bad
    ok = [line for line in result.stdout.splitlines() if line.startswith(f"{path}: ok — ")]
    if result.exit_code == 0:
        assert len(ok) == 1 and all(": warning: " in line for line in errors), result.output
    else:
        assert not ok and any(": warning: " not in line for line in errors), result.output


def test_every_shipped_input_validates(shipped: dict[str, tuple[Path, str]]) -> None:
    assert set(shipped) == set(_names())
    kinds = {name.split("/")[0] for name in shipped}
    assert {"scenarios", "pipelines", "celery.stack.yaml", mutations.STACK_FILE_NAME} <= kinds
    for path, _text in shipped.values():
        result = _validate(path)
        assert_clean(result, path)
        assert result.exit_code == 0, result.output


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.sampled_from(_names()),
    rng=st.randoms(use_true_random=False),
    count=st.integers(min_value=1, max_value=3),
)
def test_a_mutated_input_gives_exit_0_or_2_with_one_line_per_problem(
    shipped: dict[str, tuple[Path, str]], name: str, rng: Random, count: int
) -> None:
    path, original = shipped[name]
    text, _done = mutations.mutate(original, rng, count)
    path.write_text(text, encoding="utf-8")
    try:
        result = _validate(path)
    finally:
        path.write_text(original, encoding="utf-8")
    assert_clean(result, path)


def test_the_mutations_reach_the_validators(shipped: dict[str, tuple[Path, str]]) -> None:
    """The fuzz is worth something only if most mutants parse and then fail validation."""
    path, original = shipped["scenarios/smoke.yaml"]
    codes: list[int] = []
    past_yaml = 0
    for seed in range(40):
        text, _done = mutations.mutate(original, Random(seed), 1)
        path.write_text(text, encoding="utf-8")
        try:
            result = _validate(path)
        finally:
            path.write_text(original, encoding="utf-8")
        codes.append(result.exit_code)
        past_yaml += "invalid YAML" not in result.stderr and result.exit_code == 2
    assert codes.count(2) >= 20 and past_yaml >= 15, codes


def test_a_fault_a_killed_run_left_in_the_working_directory_does_not_reach_the_checks(
    shipped: dict[str, tuple[Path, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every command warns about a fault left applied in ./.dagstorm: not this test's subject.

    Before the test had a state directory of its own, a run killed on the machine
    (its fault orphaned in the stack's state) failed every case with that warning.
    """
    journal = FaultJournal(StateLayout(tmp_path / ".dagstorm").fault_journal)
    journal.record("left", "intent", spec={"kind": "network", "link": "x", "effect": "down"})
    journal.record("left", "applied")
    lines = journal.path.read_text().splitlines()
    journal.path.write_text(
        "".join(re.sub(r'"pid": \d+', '"pid": null', ln) + "\n" for ln in lines)
    )
    assert orphaned(journal)
    monkeypatch.chdir(tmp_path)
    path, _text = shipped["scenarios/smoke.yaml"]
    result = _validate(path)
    assert_clean(result, path)
    assert result.exit_code == 0 and result.stderr == "", result.output
