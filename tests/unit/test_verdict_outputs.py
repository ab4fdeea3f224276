"""Every output of a run says the same verdict: result.json, junit.xml, report.html's badge,
the history line, the printed lines and the exit code of `dagstorm analyze`.

The run is the hand-built ``interrupted_fault`` journal (network down on airflow-api, no
SLO, interrupted while the fault was applied), and variants of it: unfinished (the engine
killed: no ``run_end``), completed with the fault reverted but no DAG run succeeding after
it (never recovered), and completed with the fault reverted and the pipeline recovered.
Only the last one passes; the others never exit 0, whatever output is read.
"""

from __future__ import annotations

import html
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from dagstorm.analysis.outputs.history import read_history
from dagstorm.cli import cli
from dagstorm.cli.run_flow import analyse_and_report

FIXTURE = Path(__file__).parents[1] / "fixtures" / "journals" / "interrupted_fault"
NAME = "20260301T220000Z-airflow-api-down"


def as_is(lines: list[dict[str, object]]) -> list[dict[str, object]]:
    return lines


def completed_and_recovered(lines: list[dict[str, object]]) -> list[dict[str, object]]:
    """The same run, but the fault reverted at 120 s, a DAG run succeeding after it."""
    *body, end = lines
    wall = float(str(end["wall"])) - float(str(end["t"]))
    seq = len(lines)

    def event(t: float, kind: str, **fields: object) -> dict[str, object]:
        nonlocal seq
        seq += 1
        return {"v": 1, "seq": seq, "t": t, "wall": wall + t, "kind": kind, **fields}

    run = next(e for e in body if e["kind"] == "dag_run" and e["state"] == "success")
    again = {**run, "run_id": "manual__2", "end_date": "2026-03-01T22:02:30+00:00"}
    return [
        *body,
        event(120, "fault_reverted", fault_id="api-down", fault="network down on airflow-api"),
        {**event(150, "dag_run"), **{k: v for k, v in again.items() if k not in _HEAD}},
        event(300, "run_end", status="completed", reason="", fault_errors=[]),
    ]


_HEAD = {"v", "seq", "t", "wall", "sim", "kind"}


def unfinished(lines: list[dict[str, object]]) -> list[dict[str, object]]:
    """The same run with the engine killed before its end: no ``run_end``, no log line."""
    return [e for e in lines if e["kind"] not in ("run_end", "log")]


def completed_never_recovered(lines: list[dict[str, object]]) -> list[dict[str, object]]:
    """The same run completed, the fault reverted at 120 s, but no DAG run succeeding after."""
    *body, end = lines
    wall = float(str(end["wall"])) - float(str(end["t"]))
    seq = len(lines)
    return [
        *(e for e in body if e["kind"] != "log"),
        {"v": 1, "seq": seq + 1, "t": 120, "wall": wall + 120, "kind": "fault_reverted",
         "fault_id": "api-down", "fault": "network down on airflow-api"},
        {"v": 1, "seq": seq + 2, "t": 300, "wall": wall + 300, "kind": "run_end",
         "status": "completed", "reason": "", "fault_errors": []},
    ]  # fmt: skip


#: How the journal is changed, and the verdict expected: passed, exit code, findings.
CASES = [
    pytest.param(as_is, (False, 130, ["run_status", "fault_not_reverted"]), id="interrupted"),
    pytest.param(unfinished, (False, 3, ["run_status", "fault_not_reverted"]), id="unfinished"),
    pytest.param(completed_never_recovered, (False, 1, ["fault_unrecovered"]), id="unrecovered"),
    pytest.param(completed_and_recovered, (True, 0, []), id="completed"),
]


def run_dir_of(tmp_path: Path, change: Callable[..., list[dict[str, object]]]) -> Path:
    target = tmp_path / "runs" / NAME
    shutil.copytree(FIXTURE, target)
    journal = target / "journal.jsonl"
    lines = [orjson.loads(line) for line in journal.read_bytes().splitlines()]
    journal.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in change(lines)))
    return target


@pytest.mark.parametrize(("change", "expected"), CASES)
def test_every_output_says_the_same(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: Callable[..., list[dict[str, object]]],
    expected: tuple[bool, int, list[str]],
) -> None:
    passed, code, findings = expected
    run_dir = run_dir_of(tmp_path, change)
    history = tmp_path / "runs" / "history.jsonl"

    # What `dagstorm run` does once the run has ended.
    returned = analyse_and_report(run_dir, history=history, record=True)
    printed = capsys.readouterr().out
    assert int(returned) == code

    document = orjson.loads((run_dir / "result.json").read_bytes())
    verdict = document["verdict"]
    assert (verdict["passed"], verdict["exit_code"]) == (passed, code)
    assert [f["kind"] for f in verdict["findings"]] == findings
    assert verdict["score"] is None and verdict["slos_total"] == 0

    (entry,) = read_history(history)
    assert (entry.passed, entry.exit_code, entry.status) == (
        passed,
        code,
        document["run"]["status"],
    )

    report = (run_dir / "report.html").read_text()
    if passed:
        assert 'class="verdict pass">PASS<' in report and "verdict fail" not in report
    else:
        assert f'class="verdict fail">FAIL (exit {code})<' in report
        assert "verdict pass" not in report
        for finding in verdict["findings"]:
            assert html.escape(finding["text"], quote=True) in report

    suite = ET.parse(run_dir / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    judged = [c for c in suite.iter("testcase") if c.find("failure") is not None
              or c.find("error") is not None]  # fmt: skip
    assert len(judged) == len(findings)  # no SLO: every failing case is a finding
    assert int(suite.get("failures", "0")) + int(suite.get("errors", "0")) == len(findings)
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["exit_code"] == str(code)

    outcome = "PASS" if passed else "FAIL"
    status = document["run"]["status"]
    last = f"no SLOs declared; run {status}; " + (
        f"{len(findings)} finding{'s' * (len(findings) > 1)}" if findings else "no findings"
    )
    assert f"{last} — {outcome} (exit {code})" in printed
    assert "no SLOs declared — PASS" not in printed

    # `dagstorm analyze` recomputes all of it and exits with the verdict's code.
    analysed = CliRunner().invoke(cli, ["--state-dir", str(tmp_path / "state"), "analyze",
                                        str(run_dir)])  # fmt: skip
    assert analysed.exit_code == code, analysed.output
    assert orjson.loads((run_dir / "result.json").read_bytes())["verdict"] == verdict


def test_junit_tells_errors_from_failures(tmp_path: Path) -> None:
    run_dir = run_dir_of(tmp_path, as_is)
    CliRunner().invoke(cli, ["--state-dir", str(tmp_path / "state"), "analyze", str(run_dir)])
    root = ET.parse(run_dir / "junit.xml").getroot()
    cases = {c.get("name"): c for c in root.iter("testcase")}
    run_case, fault_case = cases["run"], cases["fault api-down"]
    error = run_case.find("error")
    failure = fault_case.find("failure")
    assert error is not None and error.get("type") == "run_status"
    assert failure is not None and failure.get("type") == "fault_not_reverted"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("2", "1", "1")
