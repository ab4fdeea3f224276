"""report.html in a real headless browser (Debian chromium): it renders, charts draw,
no console message, and no network request leaves the page.

Every request goes through ``--proxy-server`` to a loopback listener the test owns,
which records each request's target and answers nothing. Chromium itself calls
home (component updates, network time, sign-in) whatever the page, even with
``--disable-background-networking``: requests to its own service domains are set
apart, every other one fails the test. A control page that loads a remote image
proves the listener sees a page's requests.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dagstorm.analysis import analyze
from dagstorm.reports import write_report

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SMOKE = Path(__file__).resolve().parents[1] / "fixtures" / "report_runs" / "20261124T041804Z-smoke"
TIMEOUT_S = 90


#: Chromium's own housekeeping (seen: clients2.google.com/time, update.googleapis.com,
#: accounts.google.com); never a page's request, which the page's CSP would block anyway.
BROWSER_SERVICES = (".google.com", ".googleapis.com", ".gvt1.com")


class ConnectionCounter:
    """A loopback TCP listener that records the first line of every request, then drops it."""

    def __init__(self) -> None:
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.requests: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(2)
            try:
                line = conn.recv(1024).split(b"\r\n", 1)[0].decode("latin-1")
            except OSError:
                line = "(no request line)"
            self.requests.append(line)
            conn.close()

    def page_requests(self) -> list[str]:
        """Requests not made by chromium for itself (``CONNECT host:443`` or ``GET url``)."""
        return [r for r in self.requests if not _host(r).endswith(BROWSER_SERVICES)]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.server.close()


def _host(request_line: str) -> str:
    """The host a proxy request line targets."""
    parts = request_line.split()
    target = parts[1] if len(parts) > 1 else ""
    target = target.split("://", 1)[-1]
    return target.split("/", 1)[0].rsplit(":", 1)[0].lower()


@pytest.fixture
def proxy() -> Iterator[ConnectionCounter]:
    counter = ConnectionCounter()
    yield counter
    counter.close()


@pytest.fixture
def report(tmp_path: Path) -> Path:
    run_dir = tmp_path / SMOKE.name
    shutil.copytree(SMOKE, run_dir)
    return write_report(run_dir, analyze(run_dir))


def chromium(page: Path, profile: Path, port: int, *mode: str) -> subprocess.CompletedProcess[str]:
    """Run headless chromium on ``page`` with every request routed to ``port``."""
    assert CHROMIUM is not None, "chromium is not installed: apt-get install -y chromium"
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        f"--proxy-server=127.0.0.1:{port}",
        "--proxy-bypass-list=<-loopback>",
        "--enable-logging=stderr",
        "--v=0",
        *mode,
        page.as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


def console_messages(stderr: str) -> list[str]:
    """Chromium's log lines for the page's console (errors, CSP violations)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_report_renders_with_charts_and_no_network(
    report: Path, proxy: ConnectionCounter, tmp_path: Path
) -> None:
    done = chromium(report, tmp_path / "profile", proxy.port, "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert "dagstorm capacity report: smoke" in dom
    assert dom.count("<svg") >= 5
    assert dom.count("<polyline") >= 5
    assert 'class="fault"' in dom and 'class="threshold"' in dom
    assert console_messages(done.stderr) == []
    assert proxy.page_requests() == []


def test_report_screenshot(report: Path, proxy: ConnectionCounter, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    done = chromium(
        report,
        tmp_path / "profile",
        proxy.port,
        "--hide-scrollbars",
        "--window-size=1100,4200",
        f"--screenshot={shot}",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 100_000  # a drawn page, not a blank one
    assert proxy.page_requests() == []


def test_the_network_check_sees_a_request(proxy: ConnectionCounter, tmp_path: Path) -> None:
    """Control: a page that loads a remote image does reach the counting proxy."""
    page = tmp_path / "control.html"
    page.write_text('<!DOCTYPE html><img src="http://example.invalid/pixel.png">')
    chromium(page, tmp_path / "profile", proxy.port, "--dump-dom")
    assert any("example.invalid" in r for r in proxy.page_requests()), proxy.requests
