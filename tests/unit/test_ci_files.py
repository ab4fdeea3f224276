"""docs/ci/: the GitHub Actions and GitLab CI pipelines parse, run commands that
exist, and run the same commands as each other."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml
from click.core import ParameterSource

from dagstorm.cli import cli

ROOT = Path(__file__).parents[2]
GITHUB = ROOT / "docs" / "ci" / "github-actions-nightly.yml"
GITLAB = ROOT / "docs" / "ci" / "gitlab-ci-nightly.yml"
DAGSTORM = ".venv/bin/dagstorm"


def github_commands() -> list[str]:
    doc = yaml.safe_load(GITHUB.read_text())
    (job,) = doc["jobs"].values()
    return [
        line.strip()
        for step in job["steps"]
        for line in str(step.get("run", "")).splitlines()
        if line.strip() and "GITHUB_ENV" not in line  # cache locations: GitHub-only plumbing
    ]


def gitlab_commands() -> list[str]:
    doc = yaml.safe_load(GITLAB.read_text())
    job = doc["dagstorm-nightly"]
    return [
        str(line).strip()
        for part in ("before_script", "script", "after_script")
        for line in job.get(part, [])
    ]


def test_github_workflow_shape() -> None:
    doc = yaml.safe_load(GITHUB.read_text())
    triggers = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["schedule"][0]["cron"].split()[2:] == ["*", "*", "*"]  # nightly
    (job,) = doc["jobs"].values()
    uses = [step.get("uses", "") for step in job["steps"]]
    assert any(u.startswith("actions/cache@") for u in uses)
    assert any(u.startswith("actions/upload-artifact@") for u in uses)
    assert any(u.startswith("mikepenz/action-junit-report@") for u in uses)
    cache = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/cache@"))
    cached = cache["with"]["path"].split()
    for location in (".cache/pip", ".cache/m2", ".cache/go-mod", ".dagstorm/installed"):
        assert location in cached
    upload = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-"))
    assert "runs/" in upload["with"]["path"].split()
    junit = next(s for s in job["steps"] if "junit" in s.get("uses", ""))
    assert junit["with"]["report_paths"] == "runs/*-suite-*/junit.xml"
    for step in job["steps"]:  # results are kept even when the suite fails
        if "upload" in step.get("uses", "") or "junit" in step.get("uses", ""):
            assert step["if"] == "always()"


def test_gitlab_job_shape() -> None:
    job = yaml.safe_load(GITLAB.read_text())["dagstorm-nightly"]
    assert {"if": '$CI_PIPELINE_SOURCE == "schedule"'} in job["rules"]
    (stack, _history) = job["cache"]
    assert ".cache/m2" in stack["paths"] and ".dagstorm/installed" in stack["paths"]
    assert job["artifacts"]["when"] == "always"
    assert "runs/" in job["artifacts"]["paths"]
    assert job["artifacts"]["reports"]["junit"] == "runs/*-suite-*/junit.xml"


def test_both_pipelines_run_the_same_commands() -> None:
    assert github_commands() == gitlab_commands()
    assert any(c.startswith(f"{DAGSTORM} nightly ") for c in github_commands())


def test_every_script_they_run_exists() -> None:
    for command in github_commands():
        program = shlex.split(command)[0]
        if "/" in program and not program.startswith("/"):
            assert (ROOT / program).is_file(), f"{program} (in {command!r}) does not exist"


def _leaf(args: list[str]) -> tuple[list[str], click.Command, list[str]]:
    """The subcommand path in ``args``, its command, and the rest of the arguments."""
    command: click.Command = cli
    path: list[str] = []
    while isinstance(command, click.Group) and args and args[0] in command.commands:
        path.append(args[0])
        command = command.commands[args.pop(0)]
    return path, command, args


@pytest.mark.parametrize("command", [c for c in github_commands() if c.startswith(DAGSTORM)])
def test_every_dagstorm_command_exists_and_parses(command: str) -> None:
    args = shlex.split(command)[1:]
    path, leaf, rest = _leaf(list(args))
    assert path, f"{command!r} names no dagstorm command"
    shown = subprocess.run(
        [sys.executable, "-m", "dagstorm", *path, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("Usage: ")
    # Its options and arguments are ones the command takes, each reaching the parameter
    # it is meant for with the value written (parsing only).
    assert misparsed(leaf, path[-1], rest) == []


def misparsed(command: click.Command, name: str, args: list[str]) -> list[str]:
    """What in ``args`` did not reach ``command``'s parameters as written.

    Parsing raises on an unknown option or a missing argument; this also catches
    arguments left over, an option whose value landed elsewhere or was overridden,
    and a required argument that was not given on the command line.
    """
    problems: list[str] = []
    with command.make_context(name, list(args)) as ctx:
        problems += [f"left over: {arg}" for arg in ctx.args]
        tokens = list(args)
        while tokens:
            token = tokens.pop(0)
            if not token.startswith("-"):
                continue
            flag, _, inline = token.partition("=")
            option = next((p for p in command.params if flag in p.opts), None)
            if not isinstance(option, click.Option) or option.name is None:
                problems.append(f"{flag}: no such option")
                continue
            if ctx.get_parameter_source(option.name) is not ParameterSource.COMMANDLINE:
                problems.append(f"{flag}: not taken from the command line")
                continue
            value = ctx.params[option.name]
            if option.is_flag:
                if value is not (flag in option.opts):
                    problems.append(f"{flag}: flag not set")
                continue
            written = inline or (tokens.pop(0) if tokens else "")
            converted = option.type.convert(written, option, ctx)
            if converted not in (value if option.multiple else (value,)):
                problems.append(f"{flag} {written}: parsed as {value!r}")
        required = [
            a.name
            for a in command.params
            if isinstance(a, click.Argument) and a.required and a.name is not None
        ]
        problems += [
            f"{arg}: not given"
            for arg in required
            if ctx.get_parameter_source(arg) is not ParameterSource.COMMANDLINE
        ]
    return problems


def test_misparsed_finds_what_parsing_alone_lets_through() -> None:
    nightly = cli.commands["nightly"]
    assert misparsed(nightly, "nightly", ["scenarios/nightly.yaml", "--runs-dir", "runs"]) == []
    # Parses (the last --runs-dir wins), but the first value never reaches the command.
    overridden = ["scenarios/nightly.yaml", "--runs-dir", "a", "--runs-dir", "b"]
    assert misparsed(nightly, "nightly", overridden) == ["--runs-dir a: parsed as PosixPath('b')"]


def test_the_nightly_command_they_run_plans_the_shipped_suite() -> None:
    (nightly,) = [c for c in github_commands() if c.startswith(f"{DAGSTORM} nightly ")]
    args = shlex.split(nightly)[1:]
    planned = subprocess.run(
        [sys.executable, "-m", "dagstorm", *args, "--dry-run"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.startswith("suite nightly (scenarios/nightly.yaml)")


HISTORY = "runs/history.jsonl"


def _nightly_args(commands: list[str]) -> list[str]:
    (nightly,) = [c for c in commands if c.startswith(f"{DAGSTORM} nightly ")]
    return shlex.split(nightly)[1:]


def test_github_carries_the_history_between_nights_and_judges_against_it() -> None:
    doc = yaml.safe_load(GITHUB.read_text())
    (job,) = doc["jobs"].values()
    steps = job["steps"]
    names = [step.get("uses", "") or step.get("run", "") for step in steps]
    nightly = next(i for i, n in enumerate(names) if f"{DAGSTORM} nightly " in n)
    restore = next(i for i, n in enumerate(names) if n.startswith("actions/cache/restore@"))
    save = next(i for i, n in enumerate(names) if n.startswith("actions/cache/save@"))
    assert restore < nightly < save
    assert steps[restore]["with"]["path"] == steps[save]["with"]["path"] == HISTORY
    # A new key each night (caches are immutable), the newest restored by prefix.
    assert steps[save]["with"]["key"] == steps[restore]["with"]["key"]
    assert steps[save]["with"]["key"].startswith(steps[restore]["with"]["restore-keys"])
    assert steps[save]["if"] == "always()"  # a failed night still records its runs
    args = _nightly_args(github_commands())
    assert args[args.index("--baseline") + 1] == HISTORY


def test_gitlab_carries_the_history_between_nights_and_judges_against_it() -> None:
    job = yaml.safe_load(GITLAB.read_text())["dagstorm-nightly"]
    history = next(c for c in job["cache"] if HISTORY in c["paths"])
    assert history["when"] == "always"
    args = _nightly_args(gitlab_commands())
    assert args[args.index("--baseline") + 1] == HISTORY


def test_the_first_night_runs_without_a_baseline(tmp_path: Path) -> None:
    missing = tmp_path / "history.jsonl"
    args = [*_nightly_args(github_commands()), "--dry-run"]
    args[args.index("--baseline") + 1] = str(missing)
    planned = subprocess.run(
        [sys.executable, "-m", "dagstorm", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert planned.returncode == 0, planned.stderr
    assert f"no history at {missing} yet: no scenario has a baseline" in planned.stderr
