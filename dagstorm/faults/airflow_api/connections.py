"""A Connection broken: its host pointed at a closed loopback port, or its login changed.

The original values are kept inside Airflow, in a backup Connection dagstorm
creates (``dagstorm_fault_backup__<fault id>``) without the password — the
password is never read (the API masks it) nor written, so it survives the
fault untouched and no secret ever passes through dagstorm.
"""

from __future__ import annotations

import contextlib
from typing import Any

from airflow_client.client import ConnectionApi, ConnectionBody
from airflow_client.client.exceptions import ApiException, ConflictException, NotFoundException

from dagstorm.core.errors import FaultError
from dagstorm.faults.airflow_api.backup import backup_name
from dagstorm.faults.airflow_api.base import TIMEOUT, ApiFault, api_error

__all__ = ["BROKEN_HOST", "BROKEN_LOGIN", "BROKEN_PORT", "BreakConnection"]

#: Where a broken host points: loopback, a port nothing listens on (refused at once).
BROKEN_HOST, BROKEN_PORT = "127.0.0.1", 1
#: The user name a broken login becomes.
BROKEN_LOGIN = "dagstorm-broken-login"


def _fields(breaks: str) -> list[str]:
    return ["host", "port"] if breaks == "host" else ["login"]


class BreakConnection(ApiFault):
    """Break one Connection (host or login); revert restores it from the backup Connection."""

    def _backup_id(self) -> str:
        return backup_name(self.fault_id)

    def inject(self) -> dict[str, Any]:
        """Copy the connection (no password) to its backup, then break the chosen field."""
        cid = str(self.spec.connection_id)
        with self.client() as client:
            api = ConnectionApi(client)
            try:
                original = api.get_connection(cid, _request_timeout=TIMEOUT)
                self._keep(api, original)
                broken = ConnectionBody(
                    connection_id=cid,
                    conn_type=original.conn_type,
                    host=BROKEN_HOST,
                    port=BROKEN_PORT,
                    login=BROKEN_LOGIN,
                )
                api.patch_connection(
                    cid, broken, update_mask=_fields(self.spec.breaks), _request_timeout=TIMEOUT
                )
            except ApiException as exc:
                raise api_error(f"breaking connection {cid}", exc) from None
        return {"connection_id": cid, "breaks": self.spec.breaks, "backup": self._backup_id()}

    def _keep(self, api: ConnectionApi, original: Any) -> None:
        body = ConnectionBody(
            connection_id=self._backup_id(),
            conn_type=original.conn_type,
            host=original.host,
            port=original.port,
            login=original.login,
            var_schema=original.var_schema,
            description=f"dagstorm fault backup of {original.connection_id} (no password);"
            " removed when the fault is reverted",
        )
        with contextlib.suppress(ConflictException):  # the first backup holds the originals
            api.post_connection(body, _request_timeout=TIMEOUT)

    def verify(self) -> str:
        """The API shows the broken values, and the backup holds the originals."""
        cid = str(self.spec.connection_id)
        with self.client() as client:
            api = ConnectionApi(client)
            try:
                now = api.get_connection(cid, _request_timeout=TIMEOUT)
                api.get_connection(self._backup_id(), _request_timeout=TIMEOUT)
            except ApiException as exc:
                raise api_error(f"reading connection {cid} and its backup", exc) from None
        if self.spec.breaks == "host":
            ok = now.host == BROKEN_HOST and now.port == BROKEN_PORT
            shown = f"host now {BROKEN_HOST}:{BROKEN_PORT} (refused)"
        else:
            ok = now.login == BROKEN_LOGIN
            shown = "login changed"
        if not ok:
            raise FaultError(f"connection {cid} is not broken ({self.spec.breaks} unchanged)")
        return f"connection {cid}: {shown}; originals kept in {self._backup_id()}"

    def revert(self) -> None:
        """Restore the broken fields from the backup Connection, then delete it."""
        cid = str(self.spec.connection_id)
        with self.client() as client:
            api = ConnectionApi(client)
            try:
                kept = api.get_connection(self._backup_id(), _request_timeout=TIMEOUT)
            except NotFoundException:
                return  # never broken, or already restored
            except ApiException as exc:
                raise api_error(f"reading the backup of connection {cid}", exc) from None
            self._restore(api, cid, kept)

    def _restore(self, api: ConnectionApi, cid: str, kept: Any) -> None:
        body = ConnectionBody(
            connection_id=cid,
            conn_type=kept.conn_type,
            host=kept.host,
            port=kept.port,
            login=kept.login,
        )
        try:
            with contextlib.suppress(NotFoundException):  # gone: nothing left to restore
                api.patch_connection(
                    cid, body, update_mask=_fields(self.spec.breaks), _request_timeout=TIMEOUT
                )
            api.delete_connection(self._backup_id(), _request_timeout=TIMEOUT)
        except ApiException as exc:
            raise api_error(f"restoring connection {cid}", exc) from None
