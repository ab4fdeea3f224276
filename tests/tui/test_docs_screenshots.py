"""The TUI screenshots in docs/ are the snapshot tests' own files, byte for byte.

docs/tui.md shows two of the snapshots of tests/tui/test_snapshots.py; when a
change to the TUI regenerates a snapshot, the screenshot must follow, or the docs
show a TUI the code no longer draws (issue 19).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = ROOT / "tests" / "tui" / "__snapshots__" / "test_snapshots"

#: Each screenshot in docs/images → the snapshot it copies.
SCREENSHOTS = {
    "tui-during-fault-160x48.svg": "test_watch_during_the_fault[160x48].svg",
    "tui-finished-80x24.svg": "test_watch_finished_run[80x24].svg",
}


def test_every_tui_screenshot_the_docs_show_is_a_known_snapshot() -> None:
    shown = set(re.findall(r"images/(tui-[\w.-]+\.svg)", (ROOT / "docs" / "tui.md").read_text()))
    assert shown == set(SCREENSHOTS)


@pytest.mark.parametrize("image", sorted(SCREENSHOTS))
def test_the_screenshot_is_the_current_snapshot(image: str) -> None:
    snapshot = SNAPSHOTS / SCREENSHOTS[image]
    assert (ROOT / "docs" / "images" / image).read_bytes() == snapshot.read_bytes(), (
        f"docs/images/{image} is stale: cp '{snapshot.relative_to(ROOT)}' docs/images/{image}"
    )
