"""docs/tui.md's key table stays true: every key and binding id it names exists, and back.

Issue 19 asks for a test that catches doc statements the code has overtaken: the
commands and scenarios are checked in tests/unit/test_docs.py; the keys are here,
since reading the bindings imports Textual.
"""

from __future__ import annotations

import re
from pathlib import Path

from textual.binding import Binding

from dagstorm.tui.bindings import WATCH_BINDINGS
from dagstorm.tui.screens.watch_screen import PANES

DOC = Path(__file__).resolve().parents[2] / "docs" / "tui.md"

#: How the table writes a key, as Textual names it.
_KEY_NAMES = {
    "←": "left",
    "→": "right",
    "shift+←": "shift+left",
    "shift+→": "shift+right",
    "+": "plus",
    "-": "minus",
    "/": "slash",
    "?": "question_mark",
    "esc": "escape",
}
#: Keys the table names without an id: Textual's own (focus) and the DAG-run table's.
_WITHOUT_ID = {"tab", "enter"}
_CODE = re.compile(r"`([^`]+)`")


def bindings() -> dict[str, set[str]]:
    """Each binding id → the keys bound to it."""
    return {
        binding.id: set(binding.key.split(","))
        for binding in WATCH_BINDINGS
        if isinstance(binding, Binding) and binding.id is not None
    }


def key_rows(text: str) -> list[tuple[int, list[str], list[str], str]]:
    """(line, keys, ids, what it does) of each row of the ``## Keys`` table."""
    section = text.split("\n## Keys\n", 1)[1].split("\n## ", 1)[0]
    first = text[: text.index("\n## Keys\n")].count("\n") + 3
    rows = []
    for offset, line in enumerate(section.splitlines()):
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) != 3 or set(cells[0]) <= {"-"}:
            continue
        keys, ids = _CODE.findall(cells[0]), _CODE.findall(cells[1])
        if not keys:  # the header row
            continue
        rows.append((first + offset, keys, ids, cells[2]))
    return rows


def problems(text: str, known: dict[str, set[str]], panes: tuple[str, ...]) -> list[str]:
    """What the key table says that the bindings do not do, and the ids it leaves out."""
    found: list[str] = []
    named: set[str] = set()
    for line, keys, ids, does in key_rows(text):
        if ids == ["pane.<id>"]:
            digits = [str(i) for i in range(1, len(panes) + 1)]
            if keys != [digits[0], digits[-1]]:
                found.append(f"line {line}: pane keys {keys}, the app has 1 … {len(panes)}")
            if f"focus {', '.join(panes)}" not in does:
                found.append(f"line {line}: the panes are {', '.join(panes)}")
            for digit, pane in zip(digits, panes, strict=True):
                named.add(f"pane.{pane}")
                if digit not in known.get(f"pane.{pane}", set()):
                    found.append(f"line {line}: `{digit}` does not focus {pane}")
            continue
        if not ids:
            found.extend(
                f"line {line}: `{key}` has no binding id" for key in keys if key not in _WITHOUT_ID
            )
            continue
        if len(ids) != len(keys):
            found.append(f"line {line}: {len(keys)} key(s) for {len(ids)} id(s)")
            continue
        for key, binding_id in zip(keys, ids, strict=True):
            named.add(binding_id)
            if binding_id not in known:
                found.append(f"line {line}: no binding has the id {binding_id}")
            elif _KEY_NAMES.get(key, key) not in known[binding_id]:
                found.append(f"line {line}: {binding_id} is not bound to `{key}`")
    found.extend(f"not in the table: {binding_id}" for binding_id in sorted(set(known) - named))
    return found


def test_every_key_and_id_the_table_names_is_bound_and_every_binding_is_named() -> None:
    assert problems(DOC.read_text(encoding="utf-8"), bindings(), PANES) == []


def test_the_check_finds_a_wrong_key_an_unknown_id_and_an_undocumented_binding() -> None:
    text = (
        "# t\n\n## Keys\n\n| key | id | does |\n|---|---|---|\n"
        "| `p` | `control.pause` | pause |\n"
        "| `x` | `control.abort` | abort |\n"
        "| `z` | `control.zap` | zap |\n"
        "| `1` … `2` | `pane.<id>` | focus traffic, log |\n"
        "| `tab` | | next pane |\n"
        "\n## Panes\n"
    )
    known = {
        "control.pause": {"p"},
        "control.abort": {"a"},
        "app.help": {"question_mark"},
        "pane.traffic": {"1"},
        "pane.alerts": {"2"},
    }
    assert problems(text, known, ("traffic", "alerts")) == [
        "line 8: control.abort is not bound to `x`",
        "line 9: no binding has the id control.zap",
        "line 10: the panes are traffic, alerts",
        "not in the table: app.help",
    ]
