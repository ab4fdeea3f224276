"""Celery faults on a stack that runs no Celery: refused in one line naming the executor."""

from __future__ import annotations

from pathlib import Path

import pytest

from dagstorm.core.errors import FaultError
from dagstorm.faults.base import FaultContext
from dagstorm.faults.journal import FaultJournal
from dagstorm.faults.kinds import build_fault
from dagstorm.faults.specs import CeleryFault, FaultSpecBase, NetworkFault
from dagstorm.stack.endpoints import Stack
from dagstorm.stack.topology import LINKS


def _stack(executor: str | None, links: tuple[str, ...]) -> Stack:
    return Stack(
        kind="embedded",
        airflow_url="http://127.0.0.1:1",
        airflow_username="u",
        airflow_password="p",
        spark_master_url=None,
        spark_ui_url=None,
        spark_history_url=None,
        kafka_bootstrap=None,
        toxiproxy_url=None,
        serving_db_dsn=None,
        links=links,
        components=("airflow-scheduler",),
        executor=executor,
    )


def _ctx(tmp_path: Path, executor: str | None) -> FaultContext:
    links = tuple(link.name for link in LINKS)
    return FaultContext(stack=_stack(executor, links), journal=FaultJournal(tmp_path / "j"))


@pytest.mark.parametrize(
    "spec",
    [
        CeleryFault(action="kill", worker=1),
        NetworkFault(link="celery-broker", effect="down"),
    ],
)
def test_refused_on_a_local_executor_stack(tmp_path: Path, spec: FaultSpecBase) -> None:
    fault = build_fault(spec, "f1", _ctx(tmp_path, "local"))
    with pytest.raises(FaultError) as caught:
        fault.check_targets()
    assert "needs a CeleryExecutor stack" in caught.value.what
    assert "`airflow.executor: local`" in caught.value.what
    assert "executor: celery" in (caught.value.fix or "")


def test_on_a_celery_stack_the_usual_checks_apply(tmp_path: Path) -> None:
    # The worker is not among this fake stack's fault targets: the ordinary refusal.
    fault = build_fault(CeleryFault(action="kill", worker=1), "f1", _ctx(tmp_path, "celery"))
    with pytest.raises(FaultError, match="not a declared fault target"):
        fault.check_targets()


def test_other_links_keep_their_own_message(tmp_path: Path) -> None:
    spec = NetworkFault(link="kafka", effect="down")
    stack = _stack("local", ("airflow-db",))
    fault = build_fault(spec, "f1", FaultContext(stack=stack, journal=FaultJournal(tmp_path / "j")))
    with pytest.raises(FaultError, match="is not declared by the stack"):
        fault.check_targets()
