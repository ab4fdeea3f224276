"""Faults on Airflow's objects: a pool squeezed, a DAG paused, finished runs cleared."""

from __future__ import annotations

from typing import Any

from airflow_client.client import (
    ApiClient,
    DAGApi,
    DAGPatchBody,
    DagRunApi,
    DAGRunClearBody,
    PoolApi,
    PoolPatchBody,
)
from airflow_client.client.exceptions import ApiException

from dagstorm.core.errors import FaultError
from dagstorm.faults.airflow_api.base import TIMEOUT, ApiFault, api_error

__all__ = ["ClearRuns", "PauseDag", "SqueezePool"]

#: Run states that mean "finished"; clearing one puts it back to queued.
_FINISHED = ("success", "failed")


def _slots_body(pool: str, slots: int, include_deferred: bool) -> PoolPatchBody:
    """A pool PATCH body: Airflow wants the name and ``include_deferred`` even with a mask."""
    return PoolPatchBody(pool=pool, slots=slots, include_deferred=include_deferred)


class SqueezePool(ApiFault):
    """A pool's slots cut to ``slots`` (e.g. a Spark pool 4 → 1); revert restores them."""

    def inject(self) -> dict[str, Any]:
        """Keep the pool's slots in the backup, then set the new value."""
        pool, slots = str(self.spec.pool), int(self.spec.slots or 0)
        with self.client() as client:
            api = PoolApi(client)
            try:
                before = api.get_pool(pool, _request_timeout=TIMEOUT)
                kept = self.backup(client).save(
                    {
                        "pool": pool,
                        "slots": before.slots,
                        "include_deferred": bool(before.include_deferred),
                    }
                )
                api.patch_pool(
                    pool,
                    _slots_body(pool, slots, bool(before.include_deferred)),
                    update_mask=["slots"],
                    _request_timeout=TIMEOUT,
                )
            except ApiException as exc:
                raise api_error(f"squeezing pool {pool}", exc) from None
        return {"pool": pool, "slots_before": kept["slots"], "slots": slots}

    def verify(self) -> str:
        """The pool reports the new slot count (and what runs and waits in it)."""
        pool = str(self.spec.pool)
        with self.client() as client:
            try:
                now = PoolApi(client).get_pool(pool, _request_timeout=TIMEOUT)
            except ApiException as exc:
                raise api_error(f"reading pool {pool}", exc) from None
        if now.slots != self.spec.slots:
            raise FaultError(f"pool {pool} has {now.slots} slots, not {self.spec.slots}")
        before = self.applied.get("slots_before", "?")
        return (
            f"pool {pool}: {before} → {now.slots} slots"
            f" ({now.running_slots} running, {now.queued_slots} queued)"
        )

    def revert(self) -> None:
        """Put the slots kept in the backup back, then drop the backup."""

        def restore(client: ApiClient, kept: dict[str, Any]) -> None:
            pool = str(kept["pool"])
            PoolApi(client).patch_pool(
                pool,
                _slots_body(pool, int(kept["slots"]), bool(kept.get("include_deferred"))),
                update_mask=["slots"],
                _request_timeout=TIMEOUT,
            )

        self.restore_from_backup(lambda kept: f"restoring pool {kept['pool']}", restore)


class PauseDag(ApiFault):
    """A DAG paused (no new runs are scheduled); revert restores its paused state."""

    def inject(self) -> dict[str, Any]:
        """Keep ``is_paused`` in the backup, then pause the DAG."""
        dag_id = str(self.spec.dag_id)
        with self.client() as client:
            api = DAGApi(client)
            try:
                before = api.get_dag(dag_id, _request_timeout=TIMEOUT)
                kept = self.backup(client).save({"dag_id": dag_id, "is_paused": before.is_paused})
                api.patch_dag(
                    dag_id,
                    DAGPatchBody(is_paused=True),
                    update_mask=["is_paused"],
                    _request_timeout=TIMEOUT,
                )
            except ApiException as exc:
                raise api_error(f"pausing DAG {dag_id}", exc) from None
        return {"dag_id": dag_id, "was_paused": kept["is_paused"]}

    def verify(self) -> str:
        """The API says the DAG is paused."""
        dag_id = str(self.spec.dag_id)
        with self.client() as client:
            try:
                dag = DAGApi(client).get_dag(dag_id, _request_timeout=TIMEOUT)
            except ApiException as exc:
                raise api_error(f"reading DAG {dag_id}", exc) from None
        if not dag.is_paused:
            raise FaultError(f"DAG {dag_id} is not paused")
        return f"DAG {dag_id} paused (next run due {dag.next_dagrun_run_after or 'none'})"

    def revert(self) -> None:
        """Restore the paused state kept in the backup, then drop the backup."""

        def restore(client: ApiClient, kept: dict[str, Any]) -> None:
            DAGApi(client).patch_dag(
                str(kept["dag_id"]),
                DAGPatchBody(is_paused=bool(kept["is_paused"])),
                update_mask=["is_paused"],
                _request_timeout=TIMEOUT,
            )

        self.restore_from_backup(lambda kept: f"unpausing DAG {kept['dag_id']}", restore)


class ClearRuns(ApiFault):
    """The newest finished runs of a DAG cleared: a rerun storm (does it load twice?).

    Nothing to revert: the reruns are the fault, and whether they duplicated data
    is what completeness and the output checks measure.
    """

    def inject(self) -> dict[str, Any]:
        """Clear up to ``runs`` of the DAG's newest finished runs."""
        dag_id = str(self.spec.dag_id)
        with self.client() as client:
            api = DagRunApi(client)
            try:
                page = api.get_dag_runs(
                    dag_id,
                    state=list(_FINISHED),
                    order_by=["-end_date"],
                    limit=self.spec.runs,
                    _request_timeout=TIMEOUT,
                )
                cleared = []
                for run in page.dag_runs:
                    api.clear_dag_run(
                        dag_id,
                        run.dag_run_id,
                        DAGRunClearBody(dry_run=False, only_failed=self.spec.only_failed),
                        _request_timeout=TIMEOUT,
                    )
                    end = run.end_date.isoformat() if run.end_date else None
                    cleared.append({"run_id": run.dag_run_id, "end_date": end})
            except ApiException as exc:
                raise api_error(f"clearing runs of DAG {dag_id}", exc) from None
        if not cleared:
            raise FaultError(
                f"DAG {dag_id} has no finished run to clear",
                fix="inject clear_runs after the DAG has finished runs",
            )
        return {"dag_id": dag_id, "cleared": cleared}

    def verify(self) -> str:
        """The cleared runs run again: queued or running, or finished anew (a new end)."""
        dag_id = str(self.spec.dag_id)
        cleared = self.applied.get("cleared", [])
        again = 0
        with self.client() as client:
            api = DagRunApi(client)
            for entry in cleared:
                try:
                    run = api.get_dag_run(dag_id, entry["run_id"], _request_timeout=TIMEOUT)
                except ApiException as exc:
                    raise api_error(f"reading run {entry['run_id']}", exc) from None
                end = run.end_date.isoformat() if run.end_date else None
                state = str(getattr(run.state, "value", run.state))
                if state not in _FINISHED or end != entry["end_date"]:
                    again += 1
        if not again:
            raise FaultError(f"none of the {len(cleared)} cleared runs of {dag_id} ran again")
        return f"{again} of {len(cleared)} finished runs of {dag_id} cleared and running again"

    def revert(self) -> None:
        """Nothing to undo: the reruns go on."""
