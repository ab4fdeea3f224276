"""Every user string reaches the page escaped (scenario names, descriptions, ids, files)."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson

from dagstorm.analysis import analyze
from dagstorm.reports import render_report
from dagstorm.reports.markup import Markup, el, esc

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "journals" / "broker_outage"
EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _poison(run_dir: Path) -> None:
    """Put EVIL into every user-controlled string of the journal and the scenario file."""
    lines = []
    for raw in (run_dir / "journal.jsonl").read_bytes().splitlines():
        try:
            event = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if event["kind"] == "run_start":
            event["scenario"] = f"evil{EVIL}"
            event["description"] = EVIL
            event["environment"] = {"machine": EVIL, f"version.{EVIL}": EVIL}
        for key in ("fault", "run_id", "task_id", "workload"):
            if key in event:
                event[key] = f"{event[key]}{EVIL}"
        lines.append(orjson.dumps(event))
    (run_dir / "journal.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    (run_dir / "scenario.yaml").write_text(f"name: evil\ndescription: '{EVIL}'\n")


def test_user_strings_are_escaped(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURE, run_dir)
    _poison(run_dir)
    html = render_report(run_dir, analyze(run_dir))
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html
    assert "onerror=alert(1)&gt;" in html


def test_el_escapes_text_and_attributes() -> None:
    assert el("td", "<b>") == "<td>&lt;b&gt;</td>"
    assert el("td", Markup("<b>x</b>")) == "<td><b>x</b></td>"
    assert el("a", title='"><x') == '<a title="&#34;&gt;&lt;x"></a>'
    assert (
        el("svg", view_box=None, hidden=True, aria_label="a") == '<svg hidden aria-label="a"></svg>'
    )
    assert esc(None) == ""
    assert esc(esc("<")) == "&lt;"  # escaping twice is a no-op on trusted markup
