"""`validate`, `run` and `nightly` on bad input: exit 2, one line per problem, warnings apart."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner, Result

from dagstorm.cli import cli
from dagstorm.core.errors import ExitCode

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "scenarios" / "smoke.yaml"
NIGHTLY = ROOT / "scenarios" / "nightly.yaml"
LINE = re.compile(r"^(dagstorm: error: )?\S+:\d+:\d+: (warning: )?\S.* — fix: \S.*$")
NO_SLOS = "name: bare\nduration: 2m\n"


def _invoke(args: list[str]) -> Result:
    result = CliRunner().invoke(
        cli, args, env={"DAGSTORM_STACK_FILE": None, "DAGSTORM_STATE_DIR": None}
    )
    assert "Traceback" not in result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_validate_lists_every_problem_of_every_file_one_line_each(tmp_path: Path) -> None:
    bad = _write(
        tmp_path,
        "bad.yaml",
        SMOKE.read_text().replace("duration: 3m", "duration: {a: b}").replace("at: 40s", "at: [1]"),
    )
    empty = _write(tmp_path, "empty.yaml", "")
    result = _invoke(["validate", str(bad), str(SMOKE), str(empty)])
    assert result.exit_code == ExitCode.USAGE
    errors = result.stderr.splitlines()
    assert len(errors) == 3 and all(LINE.match(line) for line in errors), errors
    assert errors[0].startswith(f"{bad}:13:1: duration: a duration is")
    assert errors[1].startswith(f"{bad}:26:5: faults.0.at: a duration is")
    assert errors[2].startswith(f"{empty}:1:1: the file is empty")
    ok, note = result.stdout.splitlines()
    assert ok == f"{SMOKE}: ok — smoke, 00:03:00 wall (sim 02:00:00), 1 fault(s), 4 SLO(s)"
    # smoke's SLA writes `within` but not where runs are timed from: the profile says.
    assert note.startswith(f"  {SMOKE}:30:5: slos.0: sla:") and "takes its reference" in note


def test_validate_warns_about_a_scenario_without_slos_and_exits_0(tmp_path: Path) -> None:
    path = _write(tmp_path, "bare.yaml", NO_SLOS)
    result = _invoke(["validate", str(path)])
    assert result.exit_code == ExitCode.OK
    (warning,) = result.stderr.splitlines()
    assert LINE.match(warning) and warning.startswith(f"{path}:1:1: warning: slos: no SLOs")
    assert result.stdout.startswith(f"{path}: ok — bare")


def test_run_prints_the_warnings_before_the_timeline(tmp_path: Path) -> None:
    path = _write(tmp_path, "bare.yaml", NO_SLOS)
    result = _invoke(["run", str(path), "--dry-run"])
    assert result.exit_code == ExitCode.OK
    assert result.stderr.startswith(f"{path}:1:1: warning: slos: no SLOs")
    assert "run end" in result.stdout


def test_run_with_many_problems_prefixes_each_line(tmp_path: Path) -> None:
    text = SMOKE.read_text().replace("seed: 42", "seed: x").replace("kind: ad_logs", "kind: ads")
    path = _write(tmp_path, "bad.yaml", text)
    result = _invoke(["run", str(path), "--dry-run"])
    assert result.exit_code == ExitCode.USAGE
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and all(line.startswith("dagstorm: error: ") for line in lines)
    assert all(LINE.match(line) for line in lines), lines
    assert "unknown workload kind `ads`; known: ad_logs, trigger_storm" in lines[1]


def test_run_of_a_suite_points_to_nightly() -> None:
    result = _invoke(["run", str(NIGHTLY), "--dry-run"])
    assert result.exit_code == ExitCode.USAGE
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"dagstorm: error: {NIGHTLY}:11:1: this file is a suite (nightly)")
    assert f"run it with `dagstorm nightly {NIGHTLY}`" in line


def test_nightly_of_a_scenario_points_to_run() -> None:
    result = _invoke(["nightly", str(SMOKE), "--dry-run"])
    assert result.exit_code == ExitCode.USAGE
    (line,) = result.stderr.splitlines()
    assert "this file is a scenario, not a suite" in line and "dagstorm run" in line


def test_validate_checks_a_suite_and_its_scenarios(tmp_path: Path) -> None:
    (tmp_path / "smoke.yaml").write_text(SMOKE.read_text())
    suite = _write(
        tmp_path,
        "suite.yaml",
        "suite: Night\nbudget: {a: 1}\nscenarios:\n  - file: smoke.yaml\n"
        "    overrides: {seed: [1]}\n  - file: gone.yaml\n",
    )
    result = _invoke(["validate", str(suite)])
    assert result.exit_code == ExitCode.USAGE
    lines = result.stderr.splitlines()
    assert len(lines) == 4 and all(LINE.match(line) for line in lines), lines
    assert lines[0].startswith(f"{suite}:1:8: suite: `Night` must be 1-63 lowercase")
    assert lines[1].startswith(f"{suite}:2:1: budget: a duration is")
    assert lines[2].startswith(f"{suite}:5:17: seed: expected a whole number")
    assert lines[3].startswith(f"{suite}:6:11: scenario file gone.yaml not found")


def test_validate_checks_a_stack_file(tmp_path: Path) -> None:
    good = _write(tmp_path, "dagstorm.stack.yaml", "kind: embedded\nports: {kafka: 9093}\n")
    bad = _write(
        tmp_path,
        "other.stack.yaml",
        "kind: cloud\nports: {kafka: 0, airflow_api: [1]}\nspark: {worker_memory: 2 GB}\n",
    )
    result = _invoke(["validate", str(good), str(bad)])
    assert result.exit_code == ExitCode.USAGE
    assert result.stdout.strip() == f"{good}: ok — stack config, kind embedded"
    lines = result.stderr.splitlines()
    assert len(lines) == 4 and all(LINE.match(line) for line in lines), lines
    assert "kind: `cloud` is not one of: embedded, compose, external" in lines[0]
    assert "spark.worker_memory: `2 GB` must be a memory size like 512m or 2g" in lines[3]


def test_the_issue_alias_bomb_is_refused_by_validate(tmp_path: Path) -> None:
    lines = ["a: &l0 [" + ", ".join(["lol"] * 9) + "]"]
    lines += [f"b{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]
    bomb = _write(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    result = _invoke(["validate", str(bomb)])
    assert result.exit_code == ExitCode.USAGE
    (line,) = result.stderr.splitlines()
    assert LINE.match(line) and "values once YAML aliases are expanded" in line


def test_a_suite_without_its_name_is_recognised(tmp_path: Path) -> None:
    text = NIGHTLY.read_text().replace("suite: nightly\n", "")
    (tmp_path / "smoke.yaml").write_text(SMOKE.read_text())
    path = _write(tmp_path, "nightly.yaml", text)
    result = _invoke(["validate", str(path)])
    assert result.exit_code == ExitCode.USAGE
    (line,) = result.stderr.splitlines()
    assert "a suite without its `suite:` name" in line and LINE.match(line)


def test_validate_json_lists_each_file_with_its_problems_and_warnings(tmp_path: Path) -> None:
    import json

    bad = _write(tmp_path, "bad.yaml", "name: x\nduration: {a: b}\n")
    bare = _write(tmp_path, "bare.yaml", NO_SLOS)
    result = _invoke(["validate", "--json", str(bad), str(bare), str(SMOKE)])
    assert result.exit_code == ExitCode.USAGE
    files = json.loads(result.stdout)
    assert [(f["file"], f["valid"], f["kind"]) for f in files] == [
        (str(bad), False, "scenario"),
        (str(bare), True, "scenario"),
        (str(SMOKE), True, "scenario"),
    ]
    assert files[0]["problems"][0]["where"].startswith(f"{bad}:2:")
    assert files[0]["summary"] is None and files[2]["summary"].startswith("smoke, ")
    assert [w["where"] for w in files[1]["warnings"]] == [f"{bare}:1:1"]
    assert files[2]["problems"] == [] and files[2]["warnings"] == []


def test_dry_run_json_is_the_plan_in_seconds() -> None:
    import json

    result = _invoke(["run", str(SMOKE), "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["scenario"] == "smoke" and plan["duration_s"] == 180.0
    assert plan["sim_duration_s"] == 180.0 * plan["time_compression"]
    kinds = [a["kind"] for a in plan["actions"]]
    assert "fault_inject" in kinds and "fault_revert" in kinds
    assert all(a["sim_s"] == a["at_s"] * plan["time_compression"] for a in plan["actions"])


def test_json_without_dry_run_is_refused() -> None:
    result = _invoke(["run", str(SMOKE), "--json"])
    assert result.exit_code == ExitCode.USAGE and "--json goes with --dry-run" in result.output
