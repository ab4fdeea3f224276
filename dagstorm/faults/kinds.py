"""The fault kinds: dagstorm's own, and those plugins add (entry points ``dagstorm.faults``).

A kind pairs the model of its scenario entry (``fault: {kind: network, …}``) with
how to build the :class:`~dagstorm.faults.base.Fault` that injects, verifies and
reverts it. The built-in builders import their implementation when called, so
validating a scenario never loads the fault machinery (and its clients).
Writing a fault for your own system: docs/plugins.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator, TypeAdapter

from dagstorm.faults.specs import (
    AirflowFault,
    BrokerFault,
    CeleryFault,
    FaultSpecBase,
    HostFault,
    JvmFault,
    NetworkFault,
    SparkFault,
)
from dagstorm.plugin.registry import Kind, OneOfKinds, Registry

if TYPE_CHECKING:
    from dagstorm.faults.base import Fault, FaultContext

#: Every fault kind, looked up by the ``kind`` of a fault spec.
FAULT_KINDS: Registry[Fault] = Registry("dagstorm.faults", "fault")

#: A fault entry of any known kind, as a scenario field (validated by its kind's model).
FaultSpec = Annotated[FaultSpecBase, BeforeValidator(FAULT_KINDS.validate), OneOfKinds(FAULT_KINDS)]

_AIRFLOW_COMPONENTS = {
    "scheduler": "airflow-scheduler",
    "triggerer": "airflow-triggerer",
    "dag-processor": "airflow-dag-processor",
    "api-server": "airflow-api-server",
}


def _network(spec: NetworkFault, fault_id: str, ctx: FaultContext) -> Fault:
    from dagstorm.faults.network import NetworkLinkFault

    return NetworkLinkFault(spec, fault_id, ctx)


def _broker(spec: BrokerFault, fault_id: str, ctx: FaultContext) -> Fault:
    from dagstorm.faults.process import ProcessFault

    return ProcessFault(spec, fault_id, ctx, component="kafka", action=spec.action)


def _celery(spec: CeleryFault, fault_id: str, ctx: FaultContext) -> Fault:
    from dagstorm.faults.process import ProcessFault
    from dagstorm.stack.topology import worker_name

    # A warm shutdown is the worker's graceful stop (SIGTERM), started again on revert.
    action = "restart" if spec.action == "warm_shutdown" else spec.action
    return ProcessFault(spec, fault_id, ctx, component=worker_name(spec.worker), action=action)


def _host(spec: HostFault, fault_id: str, ctx: FaultContext) -> Fault:
    from dagstorm.faults.host import WorkerHostFault

    return WorkerHostFault(spec, fault_id, ctx)


def _spark(spec: SparkFault, fault_id: str, ctx: FaultContext) -> Fault:
    from dagstorm.faults.process import ProcessFault
    from dagstorm.faults.spark import ExecutorKill, ExecutorOom

    match spec.action:
        case "cluster_pressure" | "executor_oom":
            return ExecutorOom(spec, fault_id, ctx)
        case "executor_kill":
            return ExecutorKill(spec, fault_id, ctx)
        case "worker_loss":
            return ProcessFault(spec, fault_id, ctx, component="spark-worker", action="kill")
        case _:
            return ProcessFault(spec, fault_id, ctx, component="spark-master", action="restart")


def _jvm(spec: JvmFault, fault_id: str, ctx: FaultContext) -> Fault:
    from dagstorm.faults.jvm.fault import JvmRuleFault
    from dagstorm.faults.jvm.python_oom import PythonWorkerOom

    if spec.action == "python_oom":
        return PythonWorkerOom(spec, fault_id, ctx)

    return JvmRuleFault(spec, fault_id, ctx)


def _airflow(spec: AirflowFault, fault_id: str, ctx: FaultContext) -> Fault:
    from dagstorm.faults.airflow import TaskKill
    from dagstorm.faults.airflow_api.connections import BreakConnection
    from dagstorm.faults.airflow_api.dag_files import BreakDag, DeployDag
    from dagstorm.faults.airflow_api.objects import ClearRuns, PauseDag, SqueezePool
    from dagstorm.faults.process import ProcessFault

    through_api: dict[str, type[Fault]] = {
        "squeeze_pool": SqueezePool,
        "pause_dag": PauseDag,
        "clear_runs": ClearRuns,
        "break_connection": BreakConnection,
        "break_dag": BreakDag,
        "deploy_dag": DeployDag,
    }
    if spec.action in through_api:
        return through_api[spec.action](spec, fault_id, ctx)
    if spec.action == "kill_task":
        return TaskKill(spec, fault_id, ctx)
    assert spec.component is not None  # enforced by the model
    component: Any = _AIRFLOW_COMPONENTS[spec.component]
    return ProcessFault(spec, fault_id, ctx, component=component, action=spec.action)


for _kind in (
    Kind(spec=NetworkFault, build=_network),
    Kind(spec=BrokerFault, build=_broker),
    Kind(spec=CeleryFault, build=_celery),
    Kind(spec=SparkFault, build=_spark),
    Kind(spec=AirflowFault, build=_airflow),
    Kind(spec=JvmFault, build=_jvm),
    Kind(spec=HostFault, build=_host),
):
    FAULT_KINDS.register(_kind)

_ADAPTER: TypeAdapter[FaultSpecBase] = TypeAdapter(FaultSpec)


def parse_fault_spec(data: object) -> FaultSpecBase:
    """Validate a mapping into its kind's model (pydantic's ValidationError if it does not fit)."""
    result: FaultSpecBase = _ADAPTER.validate_python(data)
    return result


def build_fault(spec: FaultSpecBase, fault_id: str, ctx: FaultContext) -> Fault:
    """The fault object for ``spec``, built by its kind (built in or a plugin's)."""
    return FAULT_KINDS.get(spec.kind).build(spec, fault_id, ctx)
