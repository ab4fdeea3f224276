"""Port checks before anything starts."""

from __future__ import annotations

import socket
from collections.abc import Iterable, Mapping

import psutil

from dagstorm.core.errors import PortConflictError


def is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True if a TCP listener could bind ``host:port`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def owner_of(port: int) -> str:
    """Best-effort description of who listens on ``port``."""
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN:
                if conn.pid is None:
                    return "an unknown process"
                try:
                    proc = psutil.Process(conn.pid)
                    return f"pid {conn.pid} ({' '.join(proc.cmdline())[:80]})"
                except psutil.Error:
                    return f"pid {conn.pid}"
    except psutil.Error:
        pass
    return "another process"


def check_free(ports: Mapping[str, int], *, ours: Iterable[int] = ()) -> None:
    """Raise :class:`PortConflictError` naming every taken port not in ``ours``."""
    skip = set(ours)
    taken = [(name, port) for name, port in ports.items() if port not in skip and not is_free(port)]
    if not taken:
        return
    detail = ", ".join(f"{name}={port} (held by {owner_of(port)})" for name, port in taken)
    first = taken[0][0]
    raise PortConflictError(
        f"port(s) already in use: {detail}",
        where="stack config ports",
        fix=f"stop that process or choose another port, e.g. `ports: {{{first}: <free port>}}` "
        "in dagstorm.stack.yaml",
    )


def free_port() -> int:
    """A port the OS says is free now (for tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
