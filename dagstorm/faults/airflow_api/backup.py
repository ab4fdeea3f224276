"""What a fault changed, kept inside Airflow (a Variable per fault) until it is reverted."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

from airflow_client.client import ApiClient, VariableApi, VariableBody
from airflow_client.client.exceptions import ConflictException, NotFoundException

__all__ = ["BACKUP_PREFIX", "AirflowBackup", "backup_name"]

#: Every backup dagstorm keeps in Airflow starts with this (Variables and Connections).
BACKUP_PREFIX = "dagstorm_fault_backup__"
_TIMEOUT = 15.0


def backup_name(fault_id: str) -> str:
    """The Variable / Connection name of ``fault_id``'s backup (Airflow-safe characters)."""
    return BACKUP_PREFIX + re.sub(r"[^A-Za-z0-9_.-]", "_", fault_id)[:180]


class AirflowBackup:
    """One fault's backup: a JSON document in an Airflow Variable.

    The first save wins: injecting again (a retried inject, a second run's fault
    with the same id) never overwrites the original values with faulty ones.
    """

    def __init__(self, client: ApiClient, fault_id: str) -> None:
        self._api = VariableApi(client)
        self.key = backup_name(fault_id)

    def save(self, document: dict[str, Any]) -> dict[str, Any]:
        """Keep ``document`` unless a backup exists; returns the backup in effect."""
        body = VariableBody(
            key=self.key,
            value=json.dumps(document),
            description="dagstorm fault backup: removed when the fault is reverted",
        )
        try:
            self._api.post_variable(body, _request_timeout=_TIMEOUT)
        except ConflictException:
            kept = self.load()
            if kept is not None:
                return kept
            raise
        return document

    def load(self) -> dict[str, Any] | None:
        """The backup, or None when there is none (never applied, or already reverted)."""
        try:
            found = self._api.get_variable(self.key, _request_timeout=_TIMEOUT)
        except NotFoundException:
            return None
        value = json.loads(str(found.value))
        return value if isinstance(value, dict) else None

    def drop(self) -> None:
        """Remove the backup (harmless when it is gone)."""
        with contextlib.suppress(NotFoundException):
            self._api.delete_variable(self.key, _request_timeout=_TIMEOUT)
