"""`dagstorm fault inject KIND key=value…` (and `control … inject`): bad arguments are
problems in `validate`'s words, one line each, all at once, exit 2, nothing injected.

Before, a value YAML could not read (``latency_ms=[1``) was a traceback, a value with
an alias bomb was expanded, and pydantic's own texts reached the user, first one only.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from dagstorm.cli import cli
from dagstorm.cli.stack.fault_args import spec_from_args
from dagstorm.core.errors import ExitCode, UsageError
from dagstorm.faults.specs import NetworkFault

RAW = ("Input should be", "Input tag", "String should match", "Field required", "Extra inputs")
GOOD = ("link=serving-db", "effect=latency")
BOMB = (
    "[&a [1,1,1,1,1,1,1,1,1]"
    + "".join(f", &{b} [{', '.join([f'*{a}'] * 9)}]" for a, b in zip("abcde", "bcdef", strict=True))
    + "]"
)


def lines_of(kind: str, args: tuple[str, ...]) -> list[str]:
    with pytest.raises(UsageError) as info:
        spec_from_args(kind, args)
    assert info.value.exit_code is ExitCode.USAGE
    lines = info.value.render().splitlines()
    assert lines and all(" — fix: " in line for line in lines), lines
    assert not [line for line in lines if any(raw in line for raw in RAW)], lines
    return lines


def test_good_arguments_make_the_spec() -> None:
    spec = spec_from_args("network", (*GOOD, "latency_ms=250"))
    assert isinstance(spec, NetworkFault) and spec.latency_ms == 250


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("latency_ms=[1",), "latency_ms=[1: not a YAML value: "),
        (("latency_ms=abc",), "latency_ms=abc: latency_ms: expected a whole number, got the text"),
        (("latency_ms={a: b}",), "latency_ms={a: b}: latency_ms: expected a whole number, got a"),
        (("bogus=1",), "bogus=1: bogus: unknown key `bogus` — fix: remove it; keys here: kind,"),
        ((f"latency_ms={BOMB}",), "once YAML aliases are expanded"),
    ],
)
def test_a_bad_argument_is_named_as_written(args: tuple[str, ...], expected: str) -> None:
    started = time.monotonic()
    (line,) = lines_of("network", (*GOOD, *args))
    assert line.startswith(expected) or expected in line, line
    assert time.monotonic() - started < 1


def test_every_problem_at_once_and_an_unreadable_value_is_not_also_missing() -> None:
    lines = lines_of("network", ("link=[1", "effect=latencyy", "nokv"))
    assert lines[0].startswith("link=[1: not a YAML value")
    assert "nokv: not key=value" in lines[1]
    assert lines[2].startswith("effect=latencyy: effect: `latencyy` is not one of")
    assert lines[2].endswith("fix: did you mean `latency`?")
    assert len(lines) == 3  # no "`link` is required" for the link that could not be read


def test_a_missing_field_says_which_key_to_add() -> None:
    (line,) = lines_of("network", ("effect=latency",))
    assert line == "fault network: `link` is required — fix: add link=…"


def test_an_unknown_kind_lists_the_known_ones() -> None:
    (line,) = lines_of("netwrk", ("link=serving-db",))
    assert line.startswith("KIND: unknown fault kind `netwrk` — fix: use one of: network,")


@pytest.mark.parametrize("command", ["fault inject", "control inject"])
def test_the_commands_print_one_line_per_problem_exit_2_and_inject_nothing(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a fault was about to be injected")

    monkeypatch.setattr("dagstorm.faults.manager.FaultManager", never)
    bad = ["network", "link=[1", "effect=latencyy"]
    if command == "fault inject":
        args = ["fault", "inject", *bad]
    else:
        run_dir = tmp_path / "run"
        run_dir.mkdir()
        (run_dir / "journal.jsonl").write_text("")
        args = ["control", str(run_dir), "inject", *bad]
    result = CliRunner().invoke(cli, ["--state-dir", str(tmp_path / "state"), *args])
    assert result.exit_code == 2, result.output
    assert not isinstance(result.exception, AssertionError)
    lines = result.output.splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("dagstorm: error: link=[1: not a YAML value")
    assert lines[1].startswith("dagstorm: error: effect=latencyy: effect: `latencyy`")
