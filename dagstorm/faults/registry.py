"""From a fault spec to the object that injects, verifies and reverts it."""

from __future__ import annotations

from dagstorm.faults.airflow import TaskKill
from dagstorm.faults.base import AnySpec, Fault, FaultContext
from dagstorm.faults.network import NetworkLinkFault
from dagstorm.faults.process import ProcessFault
from dagstorm.faults.spark import ExecutorKill, ExecutorOom
from dagstorm.faults.specs import AirflowFault, BrokerFault, NetworkFault, SparkFault
from dagstorm.stack.topology import ComponentName

_AIRFLOW_COMPONENTS: dict[str, ComponentName] = {
    "scheduler": "airflow-scheduler",
    "triggerer": "airflow-triggerer",
    "dag-processor": "airflow-dag-processor",
    "api-server": "airflow-api-server",
}


def build_fault(spec: AnySpec, fault_id: str, ctx: FaultContext) -> Fault:
    """The fault object for ``spec``."""
    match spec:
        case NetworkFault():
            return NetworkLinkFault(spec, fault_id, ctx)
        case BrokerFault():
            return ProcessFault(spec, fault_id, ctx, component="kafka", action=spec.action)
        case SparkFault(action="executor_oom"):
            return ExecutorOom(spec, fault_id, ctx)
        case SparkFault(action="executor_kill"):
            return ExecutorKill(spec, fault_id, ctx)
        case SparkFault(action="worker_loss"):
            return ProcessFault(spec, fault_id, ctx, component="spark-worker", action="kill")
        case SparkFault():
            return ProcessFault(spec, fault_id, ctx, component="spark-master", action="restart")
        case AirflowFault(action="kill_task"):
            return TaskKill(spec, fault_id, ctx)
        case AirflowFault():
            assert spec.component is not None  # enforced by the model
            component = _AIRFLOW_COMPONENTS[spec.component]
            return ProcessFault(spec, fault_id, ctx, component=component, action=spec.action)
    raise TypeError(f"no fault for {spec!r}")
