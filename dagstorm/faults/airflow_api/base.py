"""What the REST-API faults share: the Airflow client, the backup, the declared part."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import urllib3
from airflow_client.client import ApiClient
from airflow_client.client.exceptions import ApiException, NotFoundException

from dagstorm.clients.airflow import api_client
from dagstorm.core.errors import FaultError
from dagstorm.faults.airflow_api.backup import AirflowBackup
from dagstorm.faults.base import Fault
from dagstorm.faults.specs import AirflowFault

__all__ = ["ApiFault", "api_error"]

#: Seconds any one REST call may take.
TIMEOUT = 15.0


def api_error(what: str, exc: ApiException) -> FaultError:
    """A fault error for a refused or failed REST call (status and Airflow's own words)."""
    detail = str(exc.body or exc.reason or "").strip().splitlines()
    said = f": {detail[0][:200]}" if detail else ""
    return FaultError(
        f"{what} failed (HTTP {exc.status}{said})",
        where="Airflow REST API",
        fix="check the name in the scenario exists in Airflow (`dagstorm stack check`)",
    )


class ApiFault(Fault):
    """A fault on Airflow's own objects, done through its REST API."""

    spec: AirflowFault

    def check_targets(self) -> None:
        """The stack declares Airflow (no process is touched)."""
        if not self.ctx.stack.declares("airflow"):
            raise FaultError(
                "the stack declares no Airflow",
                where=self.ctx.stack.source,
                fix="declare `external.airflow_url` in the stack file",
            )

    @contextmanager
    def client(self) -> Iterator[ApiClient]:
        """An authenticated client of the stack's Airflow; its failures become FaultErrors."""
        try:
            with api_client(self.ctx.stack) as client:
                yield client
        except ApiException as exc:
            raise api_error("a REST call", exc) from None
        except urllib3.exceptions.HTTPError as exc:
            raise FaultError(
                f"Airflow's REST API did not answer ({type(exc).__name__})",
                where=self.ctx.stack.endpoint("airflow"),
                fix="check `dagstorm stack check`",
            ) from None

    def restore_from_backup(
        self,
        what: Callable[[dict[str, Any]], str],
        restore: Callable[[ApiClient, dict[str, Any]], None],
    ) -> None:
        """Revert from this fault's backup: ``restore`` it, then drop it.

        No backup: never applied, or already reverted — nothing to do. A target
        that is gone (404) leaves nothing to restore; the backup is dropped too.
        """
        with self.client() as client:
            backup = self.backup(client)
            kept = backup.load()
            if kept is None:
                return
            try:
                restore(client, kept)
            except NotFoundException:
                pass
            except ApiException as exc:
                raise api_error(what(kept), exc) from None
            backup.drop()

    def backup(self, client: ApiClient) -> AirflowBackup:
        """The backup of this fault inside Airflow."""
        return AirflowBackup(client, self.fault_id)
