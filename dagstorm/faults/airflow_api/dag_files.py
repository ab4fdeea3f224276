"""Faults on a DAG's file: a new version deployed mid-run, or a file that fails to import.

The DAG's file is found through the API (``relative_fileloc``) inside the DAGs
folder the stack declares (the embedded stack's own; ``external.dags_folder``
for an external Airflow). Its original text is kept in the fault's backup inside
Airflow before it is replaced, so revert — or `dagstorm recover` — puts it back
byte for byte. Both faults ask Airflow to re-parse the file at once, then wait
(bounded) for the effect to show in the API: the import error, or the new DAG
version. The time that takes is the fault's time to effect.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any

from airflow_client.client import (
    ApiClient,
    DAGApi,
    DAGParsingApi,
    DagSourceApi,
    DagVersionApi,
    ImportErrorApi,
)
from airflow_client.client.exceptions import ApiException

from dagstorm.core.atomic import atomic_symlink, atomic_write
from dagstorm.core.errors import FaultError
from dagstorm.core.polling import poll_until
from dagstorm.faults.airflow_api.base import TIMEOUT, ApiFault, api_error

__all__ = ["BreakDag", "DeployDag", "broken_source", "dag_file_in", "file_record", "restore_file"]

#: How long inject waits for Airflow to show the effect, and revert for the restore.
PARSE_WAIT_S = 150.0
_POLL_S = 2.0


def broken_source(fault_id: str) -> str:
    """A DAG file that fails to import (it names Airflow and DAG, so safe mode parses it)."""
    return (
        "# An Airflow DAG file broken on purpose by a dagstorm fault"
        f" ({fault_id}); the original comes back when the fault is reverted.\n"
        f'raise ImportError("DAG file broken by dagstorm fault {fault_id}")\n'
    )


def dag_file_in(folder: Path, relative: str) -> Path:
    """The DAG file ``relative`` inside ``folder``, as a path in it (a link is not followed).

    A DAG file may be a symlink in the folder (``dagstorm stack deploy`` links a
    profile's files there): the fault replaces the link, never the file it points
    to. A file under a linked *directory* is refused: writing it would write into
    the directory the link points to (the profile's own source tree).
    """
    root = folder.resolve()
    path = root / relative
    inside = os.path.normpath(path).startswith(str(root) + os.sep)
    if not inside or not path.parent.resolve().is_relative_to(root) or not path.is_file():
        raise FaultError(
            f"the DAG file {relative} is not a file of the declared DAGs folder {folder}"
            " (or sits in a linked directory)",
            where=str(folder),
            fix="point the stack's DAGs folder at the folder this Airflow reads; deploy the"
            " DAG as a file (or a link to one) at the folder's top level or in a real folder",
        )
    return path


def file_record(path: Path) -> dict[str, Any]:
    """What a revert needs to put ``path`` back: its text, and its link target if a link."""
    link = os.readlink(path) if path.is_symlink() else None
    return {"content": path.read_text(), "link": link}


def restore_file(path: Path, kept: dict[str, Any]) -> None:
    """Put ``path`` back as ``kept`` recorded it: the same link, or the same text."""
    link = kept.get("link")
    if link:
        atomic_symlink(path, str(link))
    else:
        atomic_write(path, str(kept["content"]))


class _DagFileFault(ApiFault):
    """Replace a DAG's file while the fault is held; revert restores it from the backup."""

    def check_targets(self) -> None:
        """Airflow and a DAGs folder dagstorm may write are declared."""
        super().check_targets()
        if self.ctx.stack.dags_folder is None:
            raise FaultError(
                "the stack declares no DAGs folder dagstorm can write",
                where=self.ctx.stack.source,
                fix="declare `external.dags_folder` (where the Airflow reads its DAG files)",
            )

    def new_source(self) -> str:
        """The text the DAG's file holds while the fault is held."""
        raise NotImplementedError

    def _locate(self, client: ApiClient) -> tuple[Path, str, str | None]:
        """The DAG's file on this machine, its path relative to the folder, its file token."""
        folder = self.ctx.stack.dags_folder
        assert folder is not None  # check_targets
        dag_id = str(self.spec.dag_id)
        try:
            dag = DAGApi(client).get_dag(dag_id, _request_timeout=TIMEOUT)
        except ApiException as exc:
            raise api_error(f"finding DAG {dag_id}", exc) from None
        relative = dag.relative_fileloc or Path(dag.fileloc).name
        path = dag_file_in(folder, relative)
        return path, relative, getattr(dag, "file_token", None)

    def _reparse(self, client: ApiClient, token: str | None) -> None:
        if token:
            # Without it, the DAG processor's own refresh picks the change up anyway.
            with contextlib.suppress(ApiException):
                DAGParsingApi(client).reparse_dag_file(token, _request_timeout=TIMEOUT)

    def _latest_version(self, client: ApiClient) -> int:
        page = DagVersionApi(client).get_dag_versions(
            str(self.spec.dag_id), order_by=["-version_number"], limit=1, _request_timeout=TIMEOUT
        )
        return page.dag_versions[0].version_number if page.dag_versions else 0

    def _import_error(self, client: ApiClient, relative: str) -> str | None:
        page = ImportErrorApi(client).get_import_errors(
            filename_pattern=Path(relative).name, _request_timeout=TIMEOUT
        )
        for error in page.import_errors:
            if error.filename.endswith(relative):
                lines = error.stack_trace.strip().splitlines()
                return lines[-1][:200] if lines else "import error"
        return None

    def inject(self) -> dict[str, Any]:
        """Keep the file's text and the DAG's version in the backup, then replace the file."""
        source = self.new_source()
        with self.client() as client:
            path, relative, token = self._locate(client)
            version = self._latest_version(client)
            kept = self.backup(client).save(
                {"path": relative, **file_record(path), "version": version}
            )
            atomic_write(path, source)
            self._reparse(client, token)
        return {"dag_id": self.spec.dag_id, "file": relative, "version_before": kept["version"]}

    def wait_for_effect(self, client: ApiClient, relative: str) -> str:
        """Poll until the API shows the fault; the evidence text (FaultError on timeout)."""
        raise NotImplementedError

    def verify(self) -> str:
        """Wait (bounded) until the API shows the change; the evidence and how long it took."""
        started = time.monotonic()
        with self.client() as client:
            relative = str(self.applied.get("file") or self._locate(client)[1])
            evidence = self.wait_for_effect(client, relative)
        return f"{evidence} after {time.monotonic() - started:.1f} s"

    def revert(self) -> None:
        """Write the original text back (from the backup), wait for the re-parse, drop it."""
        folder = self.ctx.stack.dags_folder
        with self.client() as client:
            backup = self.backup(client)
            kept = backup.load()
            if kept is None or folder is None:
                return
            relative = str(kept["path"])
            restore_file(folder.resolve() / relative, kept)
            token = None
            with contextlib.suppress(ApiException):
                token = getattr(DAGApi(client).get_dag(str(self.spec.dag_id)), "file_token", None)
            self._reparse(client, token)
            poll_until(
                lambda: True if self._import_error(client, relative) is None else None,
                timeout=PARSE_WAIT_S,
                interval=_POLL_S,
            )
            backup.drop()


class BreakDag(_DagFileFault):
    """The DAG's file replaced by one that fails to import; revert restores it."""

    def new_source(self) -> str:
        """A file that raises ImportError."""
        return broken_source(self.fault_id)

    def wait_for_effect(self, client: ApiClient, relative: str) -> str:
        """The import error of the file shows in the API."""
        found = poll_until(
            lambda: self._import_error(client, relative),
            timeout=PARSE_WAIT_S,
            interval=_POLL_S,
        )
        if found is None:
            raise FaultError(
                f"no import error for {relative} within {PARSE_WAIT_S:.0f} s",
                fix="is the DAG processor running and reading this folder?",
            )
        return f"import error for {relative} shown ({found})"


class DeployDag(_DagFileFault):
    """A new version of the DAG's file goes live mid-run; revert puts the old one back."""

    def check_targets(self) -> None:
        """The new version's file exists here."""
        super().check_targets()
        if not Path(str(self.spec.dag_file)).is_file():
            raise FaultError(
                f"the new version's file {self.spec.dag_file} does not exist",
                where="dag_file",
                fix="give a path relative to the directory dagstorm runs in",
            )

    def new_source(self) -> str:
        """The new version's text."""
        return Path(str(self.spec.dag_file)).read_text()

    def wait_for_effect(self, client: ApiClient, relative: str) -> str:
        """Airflow serves the new file's source for the DAG (and the file imports).

        The DAG version is reported, not waited for: Airflow 3 makes a new version
        only when the old one has runs; otherwise it updates that version in place.
        """
        before = int(self.applied.get("version_before", 0))
        wanted = self.new_source().strip()

        def serving() -> str | None:
            error = self._import_error(client, relative)
            if error is not None:
                raise FaultError(f"the new version of {relative} fails to import: {error}")
            source = DagSourceApi(client).get_dag_source(
                str(self.spec.dag_id), _request_timeout=TIMEOUT
            )
            if (source.content or "").strip() != wanted:
                return None
            latest = source.version_number or self._latest_version(client)
            return f"DAG {self.spec.dag_id} serves the new file (version {before} → {latest})"

        found = poll_until(serving, timeout=PARSE_WAIT_S, interval=_POLL_S)
        if found is None:
            raise FaultError(
                f"DAG {self.spec.dag_id} does not serve the new file within {PARSE_WAIT_S:.0f} s",
                fix="does the new file define the same dag_id, and is the DAG processor running?",
            )
        return found
