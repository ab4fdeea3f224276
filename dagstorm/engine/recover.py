"""`dagstorm recover`: revert what a killed dagstorm left applied, from the journal.

Faults whose owner (the dagstorm process that injected them) still runs are
left alone unless forced. Afterwards the embedded stack is healed: every
component's process group gets SIGCONT, stray `dagstorm-*` toxics are removed,
every declared proxy is enabled, the worker hosts are restored (partitions
healed, netem cleared, the per-host proxies' toxics removed and the proxies
enabled), and components that are down are started.
Locust swarms (load generators) whose dagstorm process is gone are stopped too.

With nothing to do (no orphaned fault, no stray toxic or disabled proxy, no
stopped process, every component running and healthy at a first look) that look
is the whole heal: nothing is started or deployed and nothing is waited for.
Only after a change is the stack watched until it stays whole. Each component is
started at most once, unless the report says why it was started again: it was
wedged (running but not working: stopped and started anew) or it died after its
start. The stack's pipeline profiles are deployed once, only if something was started.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pydantic import ValidationError

from dagstorm.core.errors import DagstormError, ToxiproxyError
from dagstorm.faults.base import FaultContext
from dagstorm.faults.journal import orphaned, owner_alive
from dagstorm.faults.kinds import build_fault, parse_fault_spec
from dagstorm.faults.process import resume_all
from dagstorm.stack.embedded.components.base import Component
from dagstorm.stack.embedded.hosts.lifecycle import (
    HostsRestored,
    restore_host_proxies,
    restore_namespaces,
)
from dagstorm.stack.embedded.launcher import EmbeddedStack
from dagstorm.stack.topology import ComponentName
from dagstorm.workloads.locust_swarm.swarm_process import stop_orphan_swarms

#: How the settle wait sleeps (tests pass a fake to see whether it waited at all).
Sleep = Callable[[float], None]


@dataclass
class RecoverReport:
    """What `recover` did."""

    reverted: list[str] = field(default_factory=list)
    skipped_live: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    toxics_removed: int = 0
    proxies_enabled: list[str] = field(default_factory=list)
    #: Components that had a stopped (SIGSTOPped) process, resumed with SIGCONT.
    resumed: list[str] = field(default_factory=list)
    #: Every start of a component, in order: by reverting a kill, by the heal, or
    #: after stopping a wedged one (a name twice means it was started twice).
    started: list[str] = field(default_factory=list)
    #: Components that ran but were stopped as wedged (and then started anew).
    wedged: list[str] = field(default_factory=list)
    #: Components this recover started that then died, and were started again.
    died: list[str] = field(default_factory=list)
    #: Whether the pipeline profiles were deployed (once, only if something started).
    deployed: bool = False
    #: The profiles that deploy put back (the stack's ``airflow.pipelines``; none when
    #: the stack reads a DAGs folder of its own).
    profiles_deployed: list[str] = field(default_factory=list)
    swarms_stopped: list[str] = field(default_factory=list)
    #: What was undone on the stack's worker hosts: partitions, netem, per-host toxics.
    hosts: HostsRestored = field(default_factory=HostsRestored)

    @property
    def restarted(self) -> bool:
        """Whether any component was started."""
        return bool(self.started)


def _heal_network(ctx: FaultContext, report: RecoverReport) -> None:
    """Declared links: stray toxics removed, proxies enabled; worker hosts' proxies cleared."""
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
        if ctx.embedded is not None:
            restore_host_proxies(client, report.hosts)


#: A component hit during a fault may still be on its way down when the fault is
#: reverted (Airflow's processes exit a few seconds after losing their database):
#: after a change, bring the stack up, wait this long and check again.
SETTLE_SECONDS = 6.0
#: Consecutive healthy checks before the stack counts as whole again after a change.
CHECKS = 2
HEAL_PASSES = 4

#: Which process runs each component (pid, creation time), None if it is down.
Processes = dict[str, tuple[int, float] | None]


def _processes(embedded: EmbeddedStack) -> Processes:
    processes: Processes = {}
    for name, comp in embedded.components.items():
        record = comp.running()
        processes[name] = None if record is None else (record.pid, record.create_time)
    return processes


def _started_since(before: Processes, embedded: EmbeddedStack) -> list[str]:
    """Components whose running process is not the one of ``before``: started since."""
    return [
        name
        for name, proc in _processes(embedded).items()
        if proc is not None and proc != before.get(name)
    ]


def _running_and_healthy(comp: Component) -> bool:
    return comp.running() is not None and comp.health().ok


def _whole(embedded: EmbeddedStack) -> bool:
    """Every component running and healthy now (probed side by side: one round trip)."""
    comps = list(embedded.components.values())
    with ThreadPoolExecutor(max_workers=max(1, len(comps)), thread_name_prefix="probe") as pool:
        return all(pool.map(_running_and_healthy, comps))


def _stays_whole(embedded: EmbeddedStack, sleep: Sleep) -> bool:
    """Every component running and healthy at :data:`CHECKS` checks SETTLE_SECONDS apart.

    One check is not enough after a change: a component can die some seconds after
    its fault was reverted. Airflow's triggerer retries its database a few times
    during an airflow-db outage, then exits (seen ~10 s after the link came back).
    """
    for _ in range(CHECKS):
        sleep(SETTLE_SECONDS)
        if not _whole(embedded):
            return False
    return True


def _bring_back(embedded: EmbeddedStack, report: RecoverReport, sleep: Sleep) -> bool:
    """Start what is down until the stack stays whole; False (error reported) if it does not.

    A pass whose start-up wait failed is followed by one that first stops the
    components still running unhealthy, so a wedged process is restarted rather
    than waited for again. A pass that came up but did not stay whole starts
    only what died: the next start-up wait gives a slow component its chance.
    """
    failed_wait = False
    for attempt in range(HEAL_PASSES):
        if attempt > 0:
            # Every second start must have a reason the report names: it died...
            died = {n for n in embedded.started if embedded.components[n].running() is None}
            report.died.extend(sorted(died - set(report.died)))
        if failed_wait:
            # ...or it ran but was not working.
            wedged = embedded.stop_unhealthy()
            report.wedged.extend(w for w in wedged if w not in report.wedged)
        try:
            embedded.up(deploy=False, roll_back=False)
        except DagstormError as exc:
            if attempt == HEAL_PASSES - 1:
                report.errors.append(exc.render())
                return False
            failed_wait = True
            continue
        failed_wait = False
        if _stays_whole(embedded, sleep):
            return True
    report.errors.append("the stack did not stay up after recovery; see `dagstorm stack status`")
    return False


def _heal_embedded(
    embedded: EmbeddedStack, report: RecoverReport, *, changed: bool, sleep: Sleep = time.sleep
) -> None:
    """Resume paused processes, then, if anything was wrong, heal until the stack stays whole.

    ``changed``: something was reverted or restarted before (a fault, a toxic, a
    proxy, a wedged process). If not, and nothing was stopped, one look decides: a
    stack whole at that look is left alone at once. The settle wait is for what a
    reverted fault can still do to a component; with nothing reverted there is no
    such cause, and a second look a second later would only repeat the first.
    """
    report.resumed = resume_all(embedded)
    running = [comp.running() is not None for comp in embedded.components.values()]
    # A fully stopped stack was stopped on purpose (`stack down`) and stays stopped.
    if not any(running):
        return
    if not changed and not report.resumed and _whole(embedded):
        return
    healed = _bring_back(embedded, report, sleep)
    report.started.extend(embedded.started)
    if healed and report.started:
        # Once, after every start: `up(deploy=False)` in each pass deployed nothing.
        try:
            report.profiles_deployed = embedded.deploy()
            report.deployed = True
        except DagstormError as exc:
            report.errors.append(exc.render())


def recover(ctx: FaultContext, *, force: bool = False, sleep: Sleep = time.sleep) -> RecoverReport:
    """Revert orphaned faults (all open ones with ``force``), then heal the stack."""
    report = RecoverReport()
    embedded: EmbeddedStack | None = None
    before: Processes = {}
    if ctx.embedded is not None:
        report.swarms_stopped = stop_orphan_swarms(ctx.embedded.layout.run_dir)
        embedded = EmbeddedStack(ctx.embedded)
        before = _processes(embedded)
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
    if embedded is not None:
        # Reverting a kill starts the component (and waits for its health).
        report.started = _started_since(before, embedded)
    if live:
        return report  # a live run owns the stack's state; heal only what we reverted
    if ctx.embedded is not None:
        # Worker hosts: partitions healed, netem cleared (their proxies: _heal_network).
        try:
            restore_namespaces(ctx.embedded.layout.root, report.hosts)
        except DagstormError as exc:
            report.errors.append(exc.render())
    try:
        _heal_network(ctx, report)
    except ToxiproxyError as exc:
        report.errors.append(exc.render())
    if embedded is not None:
        if db_outage:
            report.wedged.extend(_restart_after_db_outage(embedded, fresh=report.started))
        changed = bool(
            targets
            or report.toxics_removed
            or report.proxies_enabled
            or report.wedged
            or report.hosts
        )
        _heal_embedded(embedded, report, changed=changed, sleep=sleep)
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


def _restart_after_db_outage(embedded: EmbeddedStack, *, fresh: Collection[str] = ()) -> list[str]:
    """Stop the components of :data:`DB_OUTAGE_RESTARTS` that run; the heal starts them anew.

    Those in ``fresh`` were started after the outage was reverted (reverting an
    older kill) and are left alone.

    Airflow 3's scheduler logs a database error, ends its scheduling loop and then
    waits forever for its executor's running tasks: alive, healthy for another
    ~30 s (the heartbeat threshold), then unhealthy for good. A health check right
    after the outage cannot tell, so after reverting one the scheduler is restarted.
    """
    running = [
        n
        for n in DB_OUTAGE_RESTARTS
        if n not in fresh and embedded.components[n].running() is not None
    ]
    embedded.stop_components(running)
    return list(running)
