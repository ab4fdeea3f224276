"""Airflow-native faults: their specs, what they need of the stack, and how they are built."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from dagstorm.core.atomic import atomic_write
from dagstorm.core.errors import FaultError
from dagstorm.faults.airflow_api.backup import BACKUP_PREFIX, backup_name
from dagstorm.faults.airflow_api.connections import BreakConnection
from dagstorm.faults.airflow_api.dag_files import (
    BreakDag,
    DeployDag,
    broken_source,
    dag_file_in,
    file_record,
    restore_file,
)
from dagstorm.faults.airflow_api.objects import ClearRuns, PauseDag, SqueezePool
from dagstorm.faults.base import FaultContext
from dagstorm.faults.journal import FaultJournal
from dagstorm.faults.kinds import build_fault, parse_fault_spec
from dagstorm.faults.specs import AirflowFault
from dagstorm.stack.config import ExternalEndpoints, StackConfig
from dagstorm.stack.endpoints import resolve_stack

GOOD: list[tuple[dict[str, Any], type, str, frozenset[str]]] = [
    (
        {"action": "squeeze_pool", "pool": "spark_pool", "slots": 1},
        SqueezePool,
        "airflow pool spark_pool squeezed to 1 slots",
        frozenset({"airflow"}),
    ),
    (
        {"action": "pause_dag", "dag_id": "d"},
        PauseDag,
        "airflow DAG d paused",
        frozenset({"airflow"}),
    ),
    (
        {"action": "clear_runs", "dag_id": "d", "runs": 3, "only_failed": True},
        ClearRuns,
        "airflow 3 finished runs of d cleared",
        frozenset({"airflow"}),
    ),
    (
        {"action": "break_connection", "connection_id": "pg", "breaks": "login"},
        BreakConnection,
        "airflow connection pg broken (login)",
        frozenset({"airflow"}),
    ),
    (
        {"action": "break_dag", "dag_id": "d"},
        BreakDag,
        "airflow DAG d broken (its file fails to import)",
        frozenset({"airflow", "dag_files"}),
    ),
    (
        {"action": "deploy_dag", "dag_id": "d", "dag_file": "v2/d.py"},
        DeployDag,
        "airflow DAG d deployed from v2/d.py",
        frozenset({"airflow", "dag_files"}),
    ),
]


def _ctx(tmp_path: Path, **external: Any) -> FaultContext:
    config = StackConfig(
        kind="external",
        external=ExternalEndpoints(airflow_url="http://127.0.0.1:1", **external),
    )
    env = {"DAGSTORM_AIRFLOW_USERNAME": "u", "DAGSTORM_AIRFLOW_PASSWORD": "p"}
    return FaultContext(stack=resolve_stack(config, env), journal=FaultJournal(tmp_path / "j"))


@pytest.mark.parametrize(("data", "cls", "text", "needs"), GOOD)
def test_each_action_builds_its_fault_and_says_what_it_needs(
    tmp_path: Path, data: dict[str, Any], cls: type, text: str, needs: frozenset[str]
) -> None:
    spec = parse_fault_spec({"kind": "airflow", **data})
    assert isinstance(spec, AirflowFault) and spec.through_api
    assert spec.describe() == text
    assert spec.needs() == needs
    assert type(build_fault(spec, "f1", _ctx(tmp_path))) is cls


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "squeeze_pool", "pool": "p"}, "needs `slots`"),
        ({"action": "squeeze_pool", "slots": 1}, "needs `pool`"),
        ({"action": "squeeze_pool", "pool": "p", "slots": -1}, "slots"),
        ({"action": "pause_dag"}, "needs `dag_id`"),
        ({"action": "pause_dag", "dag_id": "d", "pool": "p"}, "takes no `pool`"),
        ({"action": "clear_runs", "dag_id": "d", "runs": 0}, "runs"),
        ({"action": "break_connection"}, "needs `connection_id`"),
        ({"action": "break_connection", "connection_id": "c", "breaks": "password"}, "breaks"),
        ({"action": "deploy_dag", "dag_id": "d"}, "needs `dag_file`"),
        ({"action": "break_dag", "dag_id": "d", "dag_file": "x.py"}, "takes no `dag_file`"),
        ({"action": "kill", "component": "scheduler", "dag_id": "d"}, "takes no `dag_id`"),
        ({"action": "pause_dag", "dag_id": "d", "breaks": "login"}, "takes no `breaks`"),
    ],
)
def test_settings_that_do_not_fit_the_action_are_refused(
    data: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_fault_spec({"kind": "airflow", **data})


def test_every_problem_of_an_entry_is_listed_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_fault_spec({"kind": "airflow", "action": "squeeze_pool", "dag_id": "d"})
    messages = " | ".join(str(e["msg"]) for e in caught.value.errors())
    assert "needs `pool`" in messages and "needs `slots`" in messages
    assert "takes no `dag_id`" in messages


def test_process_actions_still_need_processes() -> None:
    spec = parse_fault_spec({"kind": "airflow", "action": "kill", "component": "scheduler"})
    assert isinstance(spec, AirflowFault) and not spec.through_api
    assert spec.needs() == frozenset({"airflow", "processes"})


def test_backups_have_one_airflow_safe_name_per_fault() -> None:
    assert backup_name("f1") == BACKUP_PREFIX + "f1"
    assert backup_name("run 7/pool:squeeze") == BACKUP_PREFIX + "run_7_pool_squeeze"
    assert backup_name("a") != backup_name("b")
    assert len(backup_name("x" * 500)) <= 250  # Airflow's key limit


def test_a_broken_dag_file_is_parsed_by_safe_mode_and_fails_to_import() -> None:
    source = broken_source("f9")
    lowered = source.lower()
    assert "airflow" in lowered and "dag" in lowered  # DAG_DISCOVERY_SAFE_MODE reads it
    with pytest.raises(ImportError, match="f9"):
        exec(compile(source, "broken.py", "exec"), {})


def test_dag_file_faults_refuse_a_stack_without_a_dags_folder(tmp_path: Path) -> None:
    spec = parse_fault_spec({"kind": "airflow", "action": "break_dag", "dag_id": "d"})
    fault = build_fault(spec, "f1", _ctx(tmp_path))
    with pytest.raises(Exception, match="no DAGs folder"):
        fault.check_targets()
    folder = tmp_path / "dags"
    folder.mkdir()
    ctx = _ctx(tmp_path, dags_folder=folder)
    assert ctx.stack.dags_folder == folder.resolve()
    assert "dag_files" in ctx.stack.parts
    build_fault(spec, "f1", ctx).check_targets()


def test_deploy_refuses_a_missing_new_version(tmp_path: Path) -> None:
    folder = tmp_path / "dags"
    folder.mkdir()
    spec = parse_fault_spec(
        {"kind": "airflow", "action": "deploy_dag", "dag_id": "d", "dag_file": "nope/v2.py"}
    )
    fault = build_fault(spec, "f1", _ctx(tmp_path, dags_folder=folder))
    with pytest.raises(Exception, match="does not exist"):
        fault.check_targets()


@pytest.mark.parametrize("data", [d for d, *_ in GOOD])
def test_a_spec_read_back_from_the_journal_is_the_same_spec(data: dict[str, Any]) -> None:
    """The journal writes every field out; `recover` must parse it back unchanged."""
    spec = parse_fault_spec({"kind": "airflow", **data})
    assert parse_fault_spec(spec.model_dump(mode="json")) == spec
    kill = parse_fault_spec({"kind": "airflow", "action": "kill", "component": "scheduler"})
    assert parse_fault_spec(kill.model_dump(mode="json")) == kill


def test_a_linked_dag_file_is_replaced_and_restored_as_a_link(tmp_path: Path) -> None:
    source = tmp_path / "profile" / "dags"
    source.mkdir(parents=True)
    (source / "up.py").write_text("# v1\n")
    (source / "pkg").mkdir()
    (source / "pkg" / "inner.py").write_text("# inner\n")
    folder = tmp_path / "airflow" / "dags"
    folder.mkdir(parents=True)
    (folder / "up.py").symlink_to(source / "up.py")  # what `stack deploy` makes
    (folder / "pkg").symlink_to(source / "pkg")
    (folder / "own.py").write_text("# own\n")

    path = dag_file_in(folder, "up.py")
    kept = file_record(path)
    assert kept == {"content": "# v1\n", "link": str(source / "up.py")}
    atomic_write(path, "# v2\n")  # what inject does
    assert (source / "up.py").read_text() == "# v1\n"  # the profile's file is untouched
    restore_file(path, kept)
    assert path.is_symlink() and os.readlink(path) == str(source / "up.py")

    own = dag_file_in(folder, "own.py")
    kept = file_record(own)
    atomic_write(own, "# broken\n")
    restore_file(own, kept)
    assert not own.is_symlink() and own.read_text() == "# own\n"

    for outside in ("pkg/inner.py", "../elsewhere.py", "missing.py"):
        with pytest.raises(FaultError, match="not a file of the declared DAGs folder"):
            dag_file_in(folder, outside)
