"""An SLO kind from an installed plugin: validated in a scenario, judged by its own judge.

The plugin is a real distribution on ``sys.path`` — a module and its
``.dist-info`` (METADATA, entry_points.txt) written in tmp_path — found through its
``dagstorm.slos`` entry point like any installed package, and used from a scenario.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dagstorm.analysis.measures.compute import compute_measures
from dagstorm.analysis.rundata.load import build_run_data
from dagstorm.analysis.verdict.judgement import judge
from dagstorm.core.errors import ExitCode, PluginError
from dagstorm.plugin.registry import Kind, Registry
from dagstorm.plugin.slo import SloReading
from dagstorm.scenarios.loader import load_scenario
from dagstorm.scenarios.slo_kinds import SLO_KINDS

PLUGIN = '''
"""An SLO on the share of API triggers Airflow accepted."""
from typing import ClassVar, Literal

from pydantic import Field

from dagstorm.plugin.registry import Kind
from dagstorm.plugin.slo import SloReading
from dagstorm.scenarios.comparisons import Target
from dagstorm.scenarios.slos import SloSpecBase


class AcceptedTriggersSlo(SloSpecBase):
    type: Literal["accepted_triggers"] = "accepted_triggers"
    example: ClassVar[str] = "accepted_triggers: {min: 10}"
    min: int = Field(ge=1)

    def target(self) -> Target:
        return Target(">=", float(self.min), f">= {self.min}")


def judge(slo, evidence):
    triggers = evidence.events("dag_triggered")
    if not triggers:
        return SloReading.unmeasured("no trigger in the journal")
    accepted = sum(1 for e in triggers if e.get("ok"))
    return SloReading(True, float(accepted), f"{accepted} accepted",
                      f"{len(triggers)} sent")


ACCEPTED = Kind(spec=AcceptedTriggersSlo, build=judge)
'''


def _install(site: Path) -> None:
    """The plugin as an installed distribution: its module and its dist-info."""
    site.mkdir(parents=True, exist_ok=True)
    (site / "slo_accepted.py").write_text(PLUGIN)
    info = site / "slo_accepted-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: slo-accepted\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[dagstorm.slos]\naccepted_triggers = slo_accepted:ACCEPTED\n"
    )


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This process sees the plugin (and forgets it afterwards)."""
    site = tmp_path / "site"
    _install(site)
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    SLO_KINDS.reload_plugins()
    yield site
    SLO_KINDS.unregister("accepted_triggers")
    sys.modules.pop("slo_accepted", None)


SCENARIO = (
    "name: plugin-slo\nduration: 2m\n"
    "slos:\n  - lost_events: 0\n  - accepted_triggers: {min: 2, weight: 2}\n"
)


def _events(slos: list[dict[str, Any]], accepted: int, refused: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {"seq": 1, "t": 0, "wall": 1e9, "kind": "run_start", "time_compression": 1, "slos": slos}
    ]
    for n in range(accepted + refused):
        ok = n < accepted
        events.append(
            {"seq": n + 2, "t": n, "kind": "dag_triggered", "dag_id": "d", "run_id": f"r{n}"}
            | {"ok": ok, "error": None if ok else "ReadTimeout"}
        )
    events.append({"seq": len(events) + 1, "t": 60, "kind": "run_end", "status": "completed"})
    return events


def test_a_plugin_slo_is_validated_from_a_scenario_and_judged_by_its_own_judge(
    site: Path, tmp_path: Path
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    loaded = load_scenario(path, env={})
    slo = loaded.scenario.slos[1]
    assert type(slo).__module__ == "slo_accepted" and slo.name == "accepted_triggers"
    assert SLO_KINDS.get("accepted_triggers").source == "slo-accepted (slo_accepted:ACCEPTED)"
    # What the engine journals in run_start is what the analysis reads back.
    slos = [s.model_dump(mode="json") for s in loaded.scenario.slos]
    for accepted, refused, passed in ((3, 1, True), (1, 2, False)):
        data = build_run_data(_events(slos, accepted, refused), run_dir=tmp_path)
        verdict = judge(data, compute_measures(data))
        plugged = verdict.slos[1]
        assert (plugged.name, plugged.value, plugged.passed) == (
            "accepted_triggers",
            accepted,
            passed,
        )
        assert plugged.value_text == f"{accepted} accepted"
        assert plugged.detail == f"{accepted + refused} sent" and plugged.weight == 2
    # No trigger at all: not measured, which fails, with the judge's reason.
    data = build_run_data(_events(slos, 0, 0), run_dir=tmp_path)
    unmeasured = judge(data, compute_measures(data)).slos[1]
    assert not unmeasured.measured and not unmeasured.passed
    assert unmeasured.detail == "not measured: no trigger in the journal"


def test_a_plugin_slo_written_wrong_is_a_problem_at_its_line(site: Path, tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.replace("{min: 2, weight: 2}", "{min: 0}"))
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
    )
    done = subprocess.run(
        [sys.executable, "-m", "dagstorm", "validate", str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == ExitCode.USAGE
    assert f"{path}:5:30: slos.1.accepted_triggers.min: must be at least 1" in done.stderr
    assert "Traceback" not in done.stderr
    # Without the plugin the kind is unknown, and the known ones are listed.
    env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
    done = subprocess.run(
        [sys.executable, "-m", "dagstorm", "validate", str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == ExitCode.USAGE
    assert "unknown SLO `accepted_triggers`; known: sla, recovery_time" in done.stderr


def test_an_slo_kind_that_clashes_with_a_built_in_one_is_refused() -> None:
    registry: Registry[SloReading] = Registry("dagstorm.test", "SLO", tag="type")
    lost = SLO_KINDS.get("lost_events")
    registry.register(lost)
    with pytest.raises(PluginError, match="SLO kind `lost_events` of other is already provided"):
        registry.register(Kind(spec=lost.spec, build=lambda slo, ev: ev, source="other"))
