"""A fault kind from an installed plugin package: validated, injected, reverted, refused.

The example plugin in examples/plugins/dagstorm-flagfile is installed with pip (no
network: --no-index, --no-build-isolation) into a directory of its own, found
through its `dagstorm.faults` entry point, and used from a scenario.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest

from dagstorm.core.errors import ExitCode, FaultError, PluginError
from dagstorm.core.progress import Progress
from dagstorm.engine.probe_set import default_probes
from dagstorm.engine.runner import Runner
from dagstorm.faults.base import Fault
from dagstorm.faults.kinds import FAULT_KINDS, parse_fault_spec
from dagstorm.plugin.context import RunContext
from dagstorm.plugin.registry import Kind, Registry
from dagstorm.probes.base import Probe
from dagstorm.probes.kinds import PROBE_KINDS, ProbeSpecBase
from dagstorm.run.clock import FakeClock
from dagstorm.run.events import Log
from dagstorm.run.journal import RunJournal, read_journal
from dagstorm.scenarios.loader import load_scenario
from dagstorm.stack.config import StackConfig
from dagstorm.stack.embedded.ports import free_port
from dagstorm.stack.endpoints import resolve_stack
from dagstorm.workloads.kinds import WORKLOAD_KINDS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "plugins" / "dagstorm-flagfile"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plugin, installed by pip into a directory of its own."""
    work = tmp_path_factory.mktemp("plugin")
    source = work / "src"
    shutil.copytree(EXAMPLE, source)
    target = work / "site"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index"),
            *("--no-build-isolation", "--target", str(target), str(source)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (target / "dagstorm_flagfile").is_dir()
    return target


@pytest.fixture
def plugged(site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process sees the installed plugin (and forgets it afterwards)."""
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    FAULT_KINDS.reload_plugins()
    yield
    FAULT_KINDS.unregister("flag_file")
    sys.modules.pop("dagstorm_flagfile", None)


def _scenario(tmp_path: Path, flag: Path) -> Path:
    path = tmp_path / "plugin.yaml"
    path.write_text(
        "name: plugin-fault\nduration: 4m\ntime_compression: 10\ndrain: 0\n"
        "faults:\n"
        "  - name: maintenance\n    at: 1m\n    duration: 1m\n"
        f"    fault: {{kind: flag_file, path: {flag}, content: maintenance}}\n"
    )
    return path


def _validate(path: Path, site: Path | None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(site) if site else "", env.get("PYTHONPATH", "")) if p
    )
    return subprocess.run(
        [sys.executable, "-m", "dagstorm", "validate", str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_an_installed_plugin_kind_validates_and_an_absent_one_is_refused(
    site: Path, tmp_path: Path
) -> None:
    scenario = _scenario(tmp_path, tmp_path / "flag")
    with_plugin = _validate(scenario, site)
    assert with_plugin.returncode == 0, with_plugin.stderr
    without = _validate(scenario, None)
    assert without.returncode == ExitCode.USAGE
    assert "unknown fault kind `flag_file`; known: network, broker, celery, spark, airflow" in (
        without.stderr
    )
    assert "Traceback" not in without.stderr


def test_a_plugin_fault_is_injected_verified_and_reverted_by_the_engine(
    plugged: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flag = tmp_path / "maintenance.flag"
    monkeypatch.setenv("DAGSTORM_AIRFLOW_USERNAME", "u")
    monkeypatch.setenv("DAGSTORM_AIRFLOW_PASSWORD", "pw")
    monkeypatch.setenv("DAGSTORM_SERVING_DB_DSN", "postgresql://u:p@127.0.0.1:1/x")
    config = StackConfig.model_validate(
        {
            "kind": "external",
            "state_dir": str(tmp_path / "state"),
            "ports": {"alert_sink": free_port()},
            "external": {
                "airflow_url": "http://127.0.0.1:1",
                "spark_master_url": "spark://127.0.0.1:1",
                "kafka_bootstrap": "127.0.0.1:1",
            },
        }
    )
    loaded = load_scenario(_scenario(tmp_path, flag), env={})
    assert type(loaded.scenario.faults[0].fault).__module__ == "dagstorm_flagfile"
    runner = Runner(
        loaded,
        config,
        runs_root=tmp_path / "runs",
        progress=Progress(quiet=True),
        clock=FakeClock(10.0),
        workload_factory=lambda ctx: [],
        probe_factory=lambda ctx: [],
    )
    outcome = runner.run()
    assert outcome.status == "completed", outcome.reason
    events = read_journal(outcome.run_dir / "journal.jsonl")
    applied = [e for e in events if e["kind"] == "fault_applied"]
    reverted = [e for e in events if e["kind"] == "fault_reverted"]
    assert [e["fault"] for e in applied] == [f"flag file {flag}"]
    # verify() read the real file the fault wrote: the engine's evidence says so.
    assert applied[0]["evidence"] == f"{flag} holds 'maintenance'"
    assert [e["fault_id"] for e in reverted] == [applied[0]["fault_id"]]
    assert not flag.exists()


def test_a_plugin_fault_refuses_a_flag_it_did_not_write(plugged: None, tmp_path: Path) -> None:
    flag = tmp_path / "someone-elses"
    flag.write_text("on\n")
    spec = parse_fault_spec({"kind": "flag_file", "path": str(flag)})
    with pytest.raises(FaultError, match="did not write"):
        FAULT_KINDS.get("flag_file").build(spec, "f1", None).check_targets()
    assert flag.read_text() == "on\n"


def test_a_clash_of_kind_names_is_refused() -> None:
    registry: Registry[Fault] = Registry("dagstorm.test", "test")
    network = FAULT_KINDS.get("network")
    registry.register(network)
    with pytest.raises(PluginError, match="already provided"):
        registry.register(Kind(spec=network.spec, build=network.build, source="other"))
    with pytest.raises(PluginError, match="unknown test kind `nope`") as refused:
        registry.get("nope")
    assert refused.value.fix is not None and refused.value.fix.startswith("use one of: network")


def test_the_built_in_kinds_are_registered_in_their_order() -> None:
    assert FAULT_KINDS.names()[:5] == ["network", "broker", "celery", "spark", "airflow"]
    assert WORKLOAD_KINDS.names()[:4] == ["ad_logs", "trigger_storm", "locust", "kafka_burst"]


class _FileSizeSpec(ProbeSpecBase):
    kind: Literal["test_file_size"] = "test_file_size"
    path: Path


class _FileSizeProbe(Probe):
    name = "file_size"

    def __init__(self, spec: _FileSizeSpec, ctx: RunContext, interval: float) -> None:
        super().__init__(ctx.journal, ctx.clock, interval=interval)
        self.path = spec.path

    def sample(self) -> None:
        self.journal.emit(Log(level="info", message=f"size {self.path.stat().st_size}"))


def test_a_probe_kind_from_a_plugin_runs_next_to_the_built_in_probes(tmp_path: Path) -> None:
    PROBE_KINDS.register(Kind(spec=_FileSizeSpec, build=_FileSizeProbe, source="this test"))
    try:
        watched = tmp_path / "watched"
        watched.write_bytes(b"12345")
        path = tmp_path / "p.yaml"
        path.write_text(
            "name: probes\nduration: 1m\nprobes:\n  interval: 5s\n"
            f"  extra: [{{kind: test_file_size, path: {watched}}}]\n"
        )
        loaded = load_scenario(path, env={})
        stack = resolve_stack(
            StackConfig.model_validate(
                {
                    "kind": "external",
                    "external": {
                        "airflow_url": "http://127.0.0.1:1",
                        "spark_master_url": "spark://127.0.0.1:1",
                        "kafka_bootstrap": "127.0.0.1:1",
                    },
                }
            ),
            env={"DAGSTORM_AIRFLOW_USERNAME": "u", "DAGSTORM_AIRFLOW_PASSWORD": "p"}
            | {"DAGSTORM_SERVING_DB_DSN": "postgresql://u:p@127.0.0.1:1/x"},
        )
        with RunJournal(tmp_path / "journal.jsonl", FakeClock()) as journal:
            ctx = RunContext(
                clock=FakeClock(),
                journal=journal,
                stack=stack,
                run_dir=tmp_path,
                state_dir=tmp_path / "state",
                seed=0,
                compression=1.0,
                duration_s=60.0,
                scenario_path=path,
            )
            probes = default_probes(ctx, loaded.scenario.probes)
            extra = probes[-1]
            assert isinstance(extra, _FileSizeProbe) and extra.interval == 5.0
            extra.sample()
        messages = [e.get("message") for e in read_journal(tmp_path / "journal.jsonl")]
        assert "size 5" in messages
    finally:
        PROBE_KINDS.unregister("test_file_size")
