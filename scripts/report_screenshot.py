"""Redraw docs/images/report-top.png: the top of the recorded smoke run's report.html.

The report is rendered from the fixture run (tests/fixtures/report_runs/…-smoke)
with the code of this checkout, then shot by headless Chromium (Debian's, as the
browser test uses) at 1100 × 1500. Run it after a change to the report's top:

    .venv/bin/python scripts/report_screenshot.py
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dagstorm.analysis import analyze  # noqa: E402 — after the checkout is on the path
from dagstorm.reports import write_report  # noqa: E402

SMOKE = ROOT / "tests" / "fixtures" / "report_runs" / "20261124T041804Z-smoke"
IMAGE = ROOT / "docs" / "images" / "report-top.png"
WINDOW = "1100,1500"


def main() -> int:
    """Render, shoot, and write the image; a message and exit 1 without a browser."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMAGE, help="where the PNG goes")
    args = parser.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("no chromium on PATH (scripts/bootstrap.sh installs Debian's)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(shutil.copytree(SMOKE, Path(tmp) / SMOKE.name))
        report = write_report(run_dir, analyze(run_dir))
        shot = Path(tmp) / "report-top.png"
        done = subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--hide-scrollbars",
                f"--user-data-dir={Path(tmp) / 'profile'}",
                f"--window-size={WINDOW}",
                f"--screenshot={shot}",
                report.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0 or not shot.is_file():
            print(f"chromium failed ({done.returncode}): {done.stderr[-500:]}", file=sys.stderr)
            return 1
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, args.out)
    print(f"{args.out} ({args.out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
