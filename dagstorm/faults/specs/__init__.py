"""What a fault is, as data: the models scenario files and `dagstorm fault inject` share.

Each family is one model with a ``kind`` (the registry in
:mod:`dagstorm.faults.kinds` picks the model by it); unknown keys are errors.
Specs say *what* to break; when and for how long is the scenario's business (or
``--duration`` on the command line). One module per family: :mod:`.network`
(links and the broker), :mod:`.workers` (Celery workers and their hosts),
:mod:`.spark`, :mod:`.airflow`, :mod:`.jvm`; :mod:`.base` is what they share.
"""

from __future__ import annotations

from dagstorm.faults.specs.airflow import (
    API_ACTIONS,
    PROCESS_ACTIONS,
    AirflowAction,
    AirflowComponent,
    AirflowFault,
)
from dagstorm.faults.specs.base import FaultSpecBase, StreamChoice
from dagstorm.faults.specs.jvm import JOB_START, TASK_START, JvmAction, JvmFault
from dagstorm.faults.specs.network import BrokerFault, NetworkFault
from dagstorm.faults.specs.spark import SparkFault
from dagstorm.faults.specs.workers import CeleryFault, HostAction, HostFault

__all__ = [
    "API_ACTIONS",
    "JOB_START",
    "PROCESS_ACTIONS",
    "TASK_START",
    "AirflowAction",
    "AirflowComponent",
    "AirflowFault",
    "BrokerFault",
    "CeleryFault",
    "FaultSpecBase",
    "HostAction",
    "HostFault",
    "JvmAction",
    "JvmFault",
    "NetworkFault",
    "SparkFault",
    "StreamChoice",
]
