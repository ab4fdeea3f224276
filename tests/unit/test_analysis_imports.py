"""The analysis is part of the core: it never imports textual or the TUI."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import dagstorm.analysis
import dagstorm.analysis.live
loaded = [m for m in sys.modules if m.split(".")[0] == "textual" or m.startswith("dagstorm.tui")]
print(",".join(loaded))
"""


def test_analysis_does_not_import_textual() -> None:
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
