"""An example dagstorm plugin: a fault kind for your own system, `flag_file`.

A flag file that your service reads (maintenance mode, a kill switch, a feature
flag) is written while the fault holds and removed on revert.

Scenario entry::

    faults:
      - name: maintenance
        at: 30s
        duration: 1m
        fault: {kind: flag_file, path: /srv/app/flags/maintenance, content: "on"}
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from dagstorm.core.errors import FaultError
from dagstorm.faults.base import Fault
from dagstorm.faults.specs import FaultSpecBase
from dagstorm.plugin.registry import Kind

#: Marks a flag file this plugin wrote, so revert never deletes somebody else's.
OWNER_LINE = "# set by dagstorm fault"


class FlagFileSpec(FaultSpecBase):
    """Write ``content`` to ``path`` while the fault holds."""

    kind: Literal["flag_file"] = "flag_file"
    path: Path
    content: str = Field("on", max_length=4096)

    def describe(self) -> str:
        """Short description."""
        return f"flag file {self.path}"


class FlagFileFault(Fault):
    """Writes the flag file on inject, removes it on revert (only if it is still ours)."""

    spec: FlagFileSpec

    def check_targets(self) -> None:
        """Refuse a relative path, a missing directory, or a flag somebody else set."""
        path = self.spec.path
        if not path.is_absolute():
            raise FaultError("the flag file's path must be absolute", where=str(path))
        if not path.parent.is_dir():
            raise FaultError("the flag file's directory does not exist", where=str(path.parent))
        if path.exists() and not self._ours():
            raise FaultError(
                "a flag file dagstorm did not write is already there",
                where=str(path),
                fix="remove it, or pick another path",
            )

    def inject(self) -> dict[str, Any]:
        """Write the flag atomically."""
        self.check_targets()
        tmp = self.spec.path.with_name(f".{self.spec.path.name}.{os.getpid()}.tmp")
        tmp.write_text(f"{self.spec.content}\n{OWNER_LINE} {self.fault_id}\n")
        tmp.replace(self.spec.path)
        return {"path": str(self.spec.path)}

    def verify(self) -> str:
        """The flag is there and ours."""
        if not self._ours():
            raise FaultError("the flag file is not there after inject", where=str(self.spec.path))
        return f"{self.spec.path} holds {self.spec.content!r}"

    def revert(self) -> None:
        """Remove the flag if it is still ours (idempotent)."""
        if self._ours():
            self.spec.path.unlink(missing_ok=True)

    def _ours(self) -> bool:
        try:
            return OWNER_LINE in self.spec.path.read_text()
        except OSError:
            return False


#: What the entry point names: the spec model and how to build the fault.
FLAG_FILE = Kind(spec=FlagFileSpec, build=FlagFileFault)
