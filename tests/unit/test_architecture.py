"""The layer contracts hold, and docs/architecture.md shows the layers the contract enforces."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _contracts() -> dict[str, dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {c["id"]: c for c in config["contracts"]}


def test_every_import_contract_is_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--config", str(ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_every_package_is_in_a_layer() -> None:
    layers = _contracts()["layers"]["layers"]
    assert isinstance(layers, list)
    named = {m.strip().removeprefix("dagstorm.") for layer in layers for m in layer.split("|")}
    packages = {p.parent.name for p in (ROOT / "dagstorm").glob("*/__init__.py")}
    assert packages == named, f"packages outside the layers: {packages - named}"


def test_every_part_of_the_analysis_is_in_one_of_its_layers() -> None:
    contract = _contracts()["analysis-layers"]
    assert contract["containers"] == ["dagstorm.analysis"]
    layers = contract["layers"]
    assert isinstance(layers, list)
    named = {m.strip() for layer in layers for m in layer.split("|")}
    analysis = ROOT / "dagstorm" / "analysis"
    parts = {p.parent.name for p in analysis.glob("*/__init__.py")} | {
        p.stem for p in analysis.glob("*.py") if p.stem != "__init__"
    }
    assert parts == named, f"outside the analysis layers: {parts - named}"


def test_the_architecture_page_shows_the_enforced_layers() -> None:
    layers = _contracts()["layers"]["layers"]
    assert isinstance(layers, list)
    page = (ROOT / "docs" / "architecture.md").read_text()
    block = re.search(r"```text\n(.*?)```", page, re.S)
    assert block is not None, "docs/architecture.md has no ```text block with the layers"
    lines = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    drawn = [" | ".join(sorted(n.strip() for n in line.split("|"))) for line in lines if line]
    enforced = [
        " | ".join(sorted(m.strip().removeprefix("dagstorm.") for m in layer.split("|")))
        for layer in layers
    ]
    assert drawn == enforced


def test_the_forbidden_contracts_cover_textual_and_locust() -> None:
    contracts = _contracts()
    assert contracts["core-without-tui"]["forbidden_modules"] == ["textual", "dagstorm.tui"]
    assert contracts["no-locust"]["forbidden_modules"] == ["locust"]
