"""`dagstorm recover`: revert what a killed dagstorm left applied, from the journal.

Faults whose owner (the dagstorm process that injected them) still runs are
left alone unless forced. Afterwards the embedded stack is healed: every
component's process group gets SIGCONT, stray `dagstorm-*` toxics are removed,
every declared proxy is enabled, and components that are down are started.
Locust swarms (load generators) whose dagstorm process is gone are stopped too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import psutil
from pydantic import ValidationError

from dagstorm.core.errors import DagstormError, ToxiproxyError
from dagstorm.faults.base import FaultContext
from dagstorm.faults.journal import FaultJournal, OpenFault
from dagstorm.faults.process import resume_all
from dagstorm.faults.registry import build_fault
from dagstorm.faults.specs import parse_fault_spec
from dagstorm.stack.embedded import EmbeddedStack
from dagstorm.stack.topology import ComponentName
from dagstorm.workloads.locust_swarm.swarm_process import stop_orphan_swarms


@dataclass
class RecoverReport:
    """What `recover` did."""

    reverted: list[str] = field(default_factory=list)
    skipped_live: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    toxics_removed: int = 0
    proxies_enabled: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    restarted: bool = False
    #: Components that ran but stayed unhealthy through a whole start-up wait: restarted.
    wedged: list[str] = field(default_factory=list)
    swarms_stopped: list[str] = field(default_factory=list)


def owner_alive(fault: OpenFault) -> bool:
    """True if the process that injected ``fault`` still runs (pid reuse excluded)."""
    if fault.owner_pid is None:
        return False
    try:
        proc = psutil.Process(fault.owner_pid)
        return (
            proc.status() != psutil.STATUS_ZOMBIE and proc.create_time() <= fault.injected_at + 1.0
        )
    except psutil.Error:
        return False


def orphaned(journal: FaultJournal) -> list[OpenFault]:
    """Open faults whose owner is gone."""
    return [f for f in journal.open_faults() if not owner_alive(f)]


def _heal_network(ctx: FaultContext, report: RecoverReport) -> None:
    if ctx.stack.toxiproxy_url is None:
        return
    with ctx.toxiproxy() as client:
        for proxy in client.list_proxies():
            if proxy.name not in ctx.stack.links:
                continue
            for toxic in proxy.toxics:
                if toxic.name.startswith("dagstorm-"):
                    client.remove_toxic(proxy.name, toxic.name, missing_ok=True)
                    report.toxics_removed += 1
            if not proxy.enabled:
                client.enable_proxy(proxy.name)
                report.proxies_enabled.append(proxy.name)


#: A component hit during a fault may still be on its way down when the fault is
#: reverted (Airflow's processes exit a few seconds after losing their database):
#: after bringing the stack up, wait this long and check again.
SETTLE_SECONDS = 6.0
#: Consecutive healthy checks before the stack counts as whole again.
CHECKS = 2
HEAL_PASSES = 4


def _stays_whole(embedded: EmbeddedStack) -> bool:
    """Every component running and healthy at :data:`CHECKS` checks SETTLE_SECONDS apart.

    One check is not enough: a component can die some seconds after its fault was
    reverted. Airflow's triggerer retries its database a few times during an
    airflow-db outage, then exits (seen ~10 s after the link came back).
    """
    for _ in range(CHECKS):
        time.sleep(SETTLE_SECONDS)
        if not all(c.running() is not None and c.health().ok for c in embedded.components.values()):
            return False
    return True


def _heal_embedded(embedded: EmbeddedStack, report: RecoverReport) -> None:
    """Resume paused processes, then start what is down until the stack stays whole.

    A pass that fails (a component never became healthy) is followed by one that
    first stops the components still running unhealthy, so a wedged process is
    restarted rather than waited for again.
    """
    report.resumed = resume_all(embedded)
    running = [comp.running() is not None for comp in embedded.components.values()]
    # A fully stopped stack was stopped on purpose (`stack down`) and stays stopped.
    if not any(running):
        return
    for attempt in range(HEAL_PASSES):
        if attempt > 0:
            # The last pass waited a whole start-up timeout: what still runs unhealthy
            # is wedged, not slow, and is started anew.
            wedged = embedded.stop_unhealthy()
            report.wedged.extend(w for w in wedged if w not in report.wedged)
        missing = [name for name, c in embedded.components.items() if c.running() is None]
        report.restarted = report.restarted or bool(missing)
        try:
            embedded.up()
        except DagstormError as exc:
            if attempt == HEAL_PASSES - 1:
                report.errors.append(exc.render())
                return
            continue
        if _stays_whole(embedded):
            return
    report.errors.append("the stack did not stay up after recovery; see `dagstorm stack status`")


def recover(ctx: FaultContext, *, force: bool = False) -> RecoverReport:
    """Revert orphaned faults (all open ones with ``force``), then heal the stack."""
    report = RecoverReport()
    if ctx.embedded is not None:
        report.swarms_stopped = stop_orphan_swarms(ctx.embedded.layout.run_dir)
    live = [] if force else [f for f in ctx.journal.open_faults() if owner_alive(f)]
    report.skipped_live = [f.fault_id for f in live]
    targets = ctx.journal.open_faults() if force else orphaned(ctx.journal)
    db_outage = False
    for item in reversed(targets):
        db_outage = db_outage or _cuts_airflow_db(item.spec)
        try:
            fault = build_fault(parse_fault_spec(item.spec), item.fault_id, ctx)
            fault.applied = item.applied
            fault.revert()
        except (DagstormError, OSError, ValidationError) as exc:
            message = exc.render() if isinstance(exc, DagstormError) else str(exc)
            ctx.journal.record(item.fault_id, "revert_failed", error=message)
            report.errors.append(f"{item.fault_id}: {message}")
            continue
        ctx.journal.record(item.fault_id, "reverted", detail={"by": "recover"})
        report.reverted.append(item.fault_id)
    if live:
        return report  # a live run owns the stack's state; heal only what we reverted
    try:
        _heal_network(ctx, report)
    except ToxiproxyError as exc:
        report.errors.append(exc.render())
    if ctx.embedded is not None:
        embedded = EmbeddedStack(ctx.embedded)
        if db_outage:
            report.wedged.extend(_restart_after_db_outage(embedded))
        _heal_embedded(embedded, report)
    return report


#: Airflow components whose loop an airflow-db outage can kill while the process lives.
DB_OUTAGE_RESTARTS: tuple[ComponentName, ...] = ("airflow-scheduler",)


def _cuts_airflow_db(spec: dict[str, object]) -> bool:
    """Whether a fault spec cut or broke the link to Airflow's metadata database."""
    return (
        spec.get("kind") == "network"
        and spec.get("link") == "airflow-db"
        and (spec.get("effect") != "latency")
    )


def _restart_after_db_outage(embedded: EmbeddedStack) -> list[str]:
    """Stop the components of :data:`DB_OUTAGE_RESTARTS` that run; the heal starts them anew.

    Airflow 3's scheduler logs a database error, ends its scheduling loop and then
    waits forever for its executor's running tasks: alive, healthy for another
    ~30 s (the heartbeat threshold), then unhealthy for good. A health check right
    after the outage cannot tell, so after reverting one the scheduler is restarted.
    """
    running = [n for n in DB_OUTAGE_RESTARTS if embedded.components[n].running() is not None]
    embedded.stop_components(running)
    return list(running)
