"""The terminal driver of ``dagstorm watch`` when stdin is not a terminal.

Textual's input thread waits on stdin with ``select`` and reads what arrives. At end
of file (stdin from ``/dev/null``, a closed pipe, a CI job, ``nohup``) ``select``
reports stdin readable every time and ``read`` returns nothing, so the thread spins
a core for as long as the app runs. With no terminal there are no keys to read:
this driver points the input thread at a pipe nobody writes to, so it sleeps in
``select`` instead. Everything else (drawing to stderr) is Textual's own driver.
"""

from __future__ import annotations

import os
from contextlib import suppress
from typing import Any

from textual.drivers.linux_driver import LinuxDriver

__all__ = ["NoKeysDriver"]


class NoKeysDriver(LinuxDriver):
    """Textual's Linux driver, reading keys from a pipe that never has any."""

    def __init__(
        self,
        app: Any,
        *,
        debug: bool = False,
        mouse: bool = True,
        size: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(app, debug=debug, mouse=mouse, size=size)
        self._quiet_read, self._quiet_write = os.pipe()
        self.fileno = self._quiet_read
        self.input_tty = False

    def close(self) -> None:
        """Close the pipe too (the input thread has ended: ``disable_input`` joins it)."""
        super().close()
        for fd in (self._quiet_read, self._quiet_write):
            with suppress(OSError):
                os.close(fd)
