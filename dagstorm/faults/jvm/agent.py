"""A client of Byteman's agent listener: the protocol ``byteman-submit`` speaks.

One command per connection, a line each (Byteman's ``TransformListener``):
``LOAD`` + ``SCRIPT <name>`` … ``ENDSCRIPT`` … ``ENDLOAD`` installs rules,
``DELETE`` … ``ENDDELETE`` removes them by their ``RULE <name>`` lines,
``LIST`` shows the loaded ones, ``VERSION`` the agent's version; every answer
ends with a line ``OK``. Spoken here rather than through the submit jar: no JVM
start per call (a rule reaches an executor in milliseconds, not a second).
"""

from __future__ import annotations

import re
import socket

from dagstorm.core.errors import FaultError

#: Seconds for one command: connect, send, and read the answer to its ``OK``.
TIMEOUT_S = 10.0
_RULE_LINE = re.compile(r"^RULE (.+)$", re.MULTILINE)


class AgentClient:
    """The Byteman agent of one JVM, at 127.0.0.1:``port``."""

    def __init__(self, port: int, *, host: str = "127.0.0.1", timeout: float = TIMEOUT_S) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout

    def _call(self, request: str) -> str:
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout) as conn:
                conn.sendall(request.encode())
                chunks: list[bytes] = []
                while True:
                    data = conn.recv(65536)
                    if not data:
                        break
                    chunks.append(data)
        except OSError as exc:
            raise FaultError(
                f"the Byteman agent at {self.host}:{self.port} does not answer ({exc})",
                fix="is the agent loaded into that JVM? (docs/faults.md, JVM faults)",
            ) from None
        answer = b"".join(chunks).decode(errors="replace")
        if not answer.rstrip().endswith("OK"):
            raise FaultError(
                f"the Byteman agent at {self.host}:{self.port} answered without OK: "
                f"{answer[-300:]!r}"
            )
        return answer.rstrip().removesuffix("OK").rstrip()

    def version(self) -> str:
        """The agent's version (also a check that a Byteman agent listens there)."""
        return self._call("VERSION\n").strip()

    def load(self, name: str, text: str) -> str:
        """Install one script; its answer (an ``ERROR``/``EXCEPTION`` raises)."""
        body = text if text.endswith("\n") else text + "\n"
        answer = self._call(f"LOAD\nSCRIPT {name}\n{body}ENDSCRIPT\nENDLOAD\n")
        _raise_on_error(answer, f"loading {name} into port {self.port}")
        return answer

    def delete(self, rule_names: list[str]) -> str:
        """Remove rules by name; names not loaded are no error (the answer says so)."""
        lines = "".join(f"RULE {name}\n" for name in rule_names)
        return self._call(f"DELETE\nSCRIPT dagstorm\n{lines}ENDSCRIPT\nENDDELETE\n")

    def rules(self) -> list[str]:
        """The names of the rules loaded now."""
        return [m.strip() for m in _RULE_LINE.findall(self._call("LIST\n"))]


def _raise_on_error(answer: str, what: str) -> None:
    for line in answer.splitlines():
        if line.startswith(("ERROR", "EXCEPTION")):
            raise FaultError(f"{what}: {answer[:400]}", fix="check the rule's class and method")
