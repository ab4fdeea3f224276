"""Input fuzz: mutated scenario, suite and stack files must give exit 0 or 2, never a traceback.

Usage: .venv/bin/python bench/fuzz_inputs.py [--cases 20000] [--max-seconds 600] [--seed 1]

Each case takes one shipped file (scenarios/*.yaml, the nightly suite, the stack file
documented in docs/stack.md), applies 1-3 mutations (bench/input_mutations.py) and
checks it the way a user would: `dagstorm validate FILE` in-process for scenarios and
suites, `load_stack_config` for the stack file (what every command calls). Prints the
cases tried, the outcome histogram, tracebacks (with the first few cases to replay),
lines not in the `file:line:column: what — fix: how` form, and the slowest case.
"""

from __future__ import annotations

import argparse
import collections
import re
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from types import FrameType

sys.path.insert(0, str(Path(__file__).resolve().parent))

from click.testing import CliRunner
from input_mutations import STACK_FILE_NAME, mutate, prepare

from dagstorm.cli import cli
from dagstorm.core.errors import DagstormError
from dagstorm.stack.config import load_stack_config

#: A problem line (errors go to stderr, optionally after `dagstorm: error: `).
PROBLEM = re.compile(r"^(dagstorm: error: )?\S+:\d+:\d+: (warning: )?\S.* — fix: \S.*$")
OK = re.compile(r"^\S+: ok — ")
#: A note under a valid scenario's `ok` line (stdout, indented; `dagstorm validate --help`).
NOTE = re.compile(r"^  \S+:\d+:\d+: \S")
#: pydantic's own words: a problem line holding them counts as not in the one-line form.
RAW = ("Input should be", "Input tag", "String should match", "Field required", "Value error,")
CASE_SECONDS = 20


def _one_line(line: str, outcome: str) -> bool:
    """An `ok` line (exit 0 only), a warning, or an error line (exit 2 only), in words."""
    if any(raw in line for raw in RAW):
        return False
    if OK.match(line) or NOTE.match(line):
        return outcome == "exit 0"
    return PROBLEM.match(line) is not None and (outcome == "exit 2" or ": warning: " in line)


class CaseTimeout(BaseException):
    """A case ran longer than CASE_SECONDS (BaseException: no `except Exception` eats it)."""


def _alarm(_signum: int, _frame: FrameType | None) -> None:
    raise CaseTimeout


def check_file(path: Path, runner: CliRunner) -> tuple[str, list[str], str]:
    """(outcome, output lines, traceback text) for one file."""
    if path.name == STACK_FILE_NAME:
        try:
            load_stack_config(path, env={}, cwd=path.parent)
        except DagstormError as exc:
            return "exit 2", exc.render().splitlines(), ""
        except Exception:  # noqa: BLE001 — a traceback is what this benchmark looks for
            return "traceback", [], traceback.format_exc()
        return "exit 0", [], ""
    # A state directory of its own: a fault a killed run left in ./.dagstorm would add
    # its warning line to every case.
    state = ["--state-dir", str(path.parent / "state")]
    result = runner.invoke(
        cli,
        [*state, "validate", str(path)],
        env={"DAGSTORM_STACK_FILE": None, "DAGSTORM_FUZZ_UNSET": None},
    )
    lines = (result.stdout + result.stderr).splitlines()
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        tb = "".join(traceback.format_exception(result.exception))
        return "traceback", lines, tb
    return f"exit {result.exit_code}", lines, ""


@dataclass
class Tally:
    """What the cases gave."""

    tried: int = 0
    outcomes: collections.Counter[str] = field(default_factory=collections.Counter)
    bad_lines: list[tuple[int, str]] = field(default_factory=list)
    tracebacks: dict[str, list[int]] = field(default_factory=lambda: collections.defaultdict(list))
    first_tb: dict[str, str] = field(default_factory=dict)
    slowest: tuple[float, int, str] = (0.0, -1, "")

    def add(self, case: int, name: str, result: tuple[str, list[str], str], took: float) -> None:
        outcome, lines, tb = result
        self.tried += 1
        self.outcomes[outcome] += 1
        if took > self.slowest[0]:
            self.slowest = (took, case, name)
        if tb:
            last = tb.strip().splitlines()[-1]
            self.tracebacks[last].append(case)
            self.first_tb.setdefault(last, tb)
        if outcome in ("exit 0", "exit 2"):
            self.bad_lines += [(case, line) for line in lines if not _one_line(line, outcome)]


def run_cases(files: list[Path], cases: int, seed: int, max_seconds: float) -> Tally:
    """Mutate, check and restore one file per case, until ``cases`` or ``max_seconds``."""
    runner = CliRunner()
    tally = Tally()
    originals = {path: path.read_text(encoding="utf-8") for path in files}
    started = time.monotonic()
    for case in range(cases):
        if time.monotonic() - started > max_seconds:
            break
        rng = Random(f"{seed}:{case}")
        path = rng.choice(files)
        text, _done = mutate(originals[path], rng, rng.randint(1, 3))
        path.write_text(text, encoding="utf-8")
        t0 = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, CASE_SECONDS)
        try:
            result = check_file(path, runner)
        except CaseTimeout:
            result = (f"timeout > {CASE_SECONDS} s", [], "")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        tally.add(case, path.parent.name + "/" + path.name, result, time.perf_counter() - t0)
        path.write_text(originals[path], encoding="utf-8")
    return tally


def report(tally: Tally, seconds: float, seed: int, show: int) -> None:
    """Print the figures (docs/benchmarks.md, "Input fuzz")."""
    rate = tally.tried / seconds if seconds else 0.0
    print(f"cases tried: {tally.tried} in {seconds:.0f} s (seed {seed}; {rate:.0f}/s)")
    for outcome, count in sorted(tally.outcomes.items()):
        print(f"  {outcome}: {count}")
    total = sum(len(c) for c in tally.tracebacks.values())
    print(f"tracebacks: {total} ({len(tally.tracebacks)} distinct)")
    for last, cases in sorted(tally.tracebacks.items(), key=lambda kv: -len(kv[1])):
        print(f"  {len(cases):5d} × {last[:150]}   (cases {cases[:5]})")
    print(f"lines not in the one-line form (or in pydantic's words): {len(tally.bad_lines)}")
    for case, line in tally.bad_lines[:10]:
        print(f"  case {case}: {line[:160]}")
    took, case, name = tally.slowest
    print(f"slowest case: {took * 1000:.0f} ms (case {case}, {name})")
    for last in list(tally.first_tb)[:show]:
        print("\n" + tally.first_tb[last])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=20_000, help="mutated inputs to check")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="stop after this long")
    parser.add_argument("--seed", type=int, default=1, help="seed of the mutations")
    parser.add_argument("--show", type=int, default=5, help="tracebacks to print")
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, _alarm)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        tally = run_cases(prepare(Path(tmp)), args.cases, args.seed, args.max_seconds)
    report(tally, time.monotonic() - started, args.seed, args.show)


if __name__ == "__main__":
    main()
