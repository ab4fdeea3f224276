"""The control commands, as data: what a client may ask a running engine to do.

One JSON object a file. Every command has an ``id`` (unique, sortable in sending
order), ``by`` (who sent it, journalled so the run says who paused or aborted it)
and ``command``; ``inject`` carries a fault spec (a mapping written as in scenario
files, checked by the engine against the fault kinds it knows) and ``revert`` a
fault id. Unknown keys are errors, so a typo is rejected
instead of half-understood.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter

from dagstorm.run.rundir import RunDirectory

#: The sub-directory of a run directory that holds the control inbox.
CONTROL_DIR = RunDirectory.CONTROL
#: Commands waiting for the engine (complete files only: they are renamed in).
INBOX = "inbox"
#: Commands the engine has handled (kept for the record; the outcome is in the journal).
PROCESSED = "processed"
#: A command file larger than this is rejected unread.
MAX_COMMAND_BYTES = 64 * 1024
#: The longest ad-hoc fault a client may ask for (it is reverted at the run's end anyway).
MAX_FAULT_SECONDS = 24 * 3600.0

Outcome = Literal["done", "rejected", "failed"]


def _names_a_kind(spec: dict[str, Any]) -> dict[str, Any]:
    kind = spec.get("kind")
    if not isinstance(kind, str) or not kind:
        raise ValueError("a fault spec needs a `kind` (e.g. network, broker, spark, airflow)")
    return spec


#: A fault spec as a scenario file writes it: ``kind`` and that kind's fields. The
#: engine validates the rest against the fault kinds it knows (built-in or plugins).
FaultMapping = Annotated[dict[str, Any], AfterValidator(_names_a_kind)]
CommandName = Literal["pause", "resume", "abort", "inject", "revert"]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,80}$")
    by: str = Field(max_length=200)


class Pause(_Command):
    """Pause every workload (generation, triggers); probes and faults go on."""

    command: Literal["pause"] = "pause"


class Resume(_Command):
    """Resume the paused workloads."""

    command: Literal["resume"] = "resume"


class Abort(_Command):
    """End the run early: workloads stop, every fault is reverted, exit code 130."""

    command: Literal["abort"] = "abort"


class Inject(_Command):
    """Inject an ad-hoc fault on a declared target, for ``duration_s`` or until reverted."""

    command: Literal["inject"] = "inject"
    fault: FaultMapping
    duration_s: float | None = Field(None, gt=0, le=MAX_FAULT_SECONDS)


class Revert(_Command):
    """Revert an applied fault (scheduled or ad-hoc) now."""

    command: Literal["revert"] = "revert"
    fault_id: str = Field(min_length=1, max_length=80)


Command = Annotated[Pause | Resume | Abort | Inject | Revert, Field(discriminator="command")]
COMMAND: TypeAdapter[Command] = TypeAdapter(Command)


def control_dir(run_dir: Path) -> Path:
    """``<run dir>/control``."""
    return RunDirectory(run_dir).control


def inbox_dir(run_dir: Path) -> Path:
    """Where clients put commands."""
    return control_dir(run_dir) / INBOX


def processed_dir(run_dir: Path) -> Path:
    """Where the engine moves the commands it handled."""
    return control_dir(run_dir) / PROCESSED
