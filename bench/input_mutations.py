"""Mutations of the shipped input files, for the input fuzz test and benchmark.

A mutation edits a file's YAML text at the place a node was written (so comments,
layout and every other line stay as a user would have them): a value replaced by
one of another type (mapping, list, number, boolean, null, long or odd text), a key
dropped, a key or list item written twice, a value nested one level deeper, a key
renamed, a value swapped with another node of the file. Every choice comes from a
``random.Random``, so a seed reproduces a case exactly.

Used by ``tests/unit/test_input_fuzz.py`` (hypothesis draws the Random, a bounded
number of cases) and ``bench/fuzz_inputs.py`` (many cases).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from random import Random

import yaml

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
STACK_DOC = ROOT / "docs" / "stack.md"
STACK_FILE_NAME = "dagstorm.stack.yaml"
#: Stack configs the suite names (`stack: ../celery.stack.yaml`), copied beside it.
SUITE_STACKS = ("celery.stack.yaml",)
PIPELINES = ROOT / "pipelines"
#: A pipeline profile (docs/own-pipeline.md): `pipelines/<name>/pipeline.yaml`.
PROFILE_NAME = "pipeline.yaml"

#: Values of every YAML type, and text that is hostile or almost right.
REPLACEMENTS = (
    "{a: b}",
    "{}",
    "[1, 2]",
    "[]",
    "[[[]]]",
    "7",
    "-3",
    "0",
    "1.5e300",
    "-0.0",
    "1.0e+400",
    ".inf",
    "-.inf",
    ".nan",
    "true",
    "false",
    "null",
    "~",
    "''",
    '"' + "x" * 5000 + '"',
    '"${DAGSTORM_FUZZ_UNSET}"',
    '"${DAGSTORM_FUZZ_UNSET:-30s}"',
    '"-5m"',
    '"1h-2m"',
    '"99999999999999999999d"',
    '"1e999 events/s"',
    '"0/0"',
    '"1/0"',
    '">= 195%"',
    '"<= 5%"',
    '"< 0"',
    '"0s"',
    '"\\0"',
    '"line1\\nline2"',
    '"tab\\there"',
    '"é✓🌩"',
    '"Name With Spaces"',
    '"../../../etc/passwd"',
    "'{{'",
    '"[unclosed"',
    "2026-01-05",
    "2026-01-05T00:00:00",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!python/name:os.system",
    '"2TB/day"',
    '"kafka"',
    '"lost_event"',
    '"kill"',
    "*undefined_alias",
)
#: Keys a renamed key becomes: real ones (from another place), typos, non-text keys.
KEY_NAMES = (
    "name",
    "duration",
    "kind",
    "type",
    "at",
    "suite",
    "extends",
    "fault",
    "faults",
    "slos",
    "nmae",
    "x-unknown",
    "1",
    "null",
    "true",
    "''",
    "<<",
)


@dataclass(frozen=True)
class Entry:
    """A node of the file with where it sits: its key (in a mapping) and its parent."""

    node: yaml.Node
    key: yaml.Node | None
    parent: yaml.Node


def stack_example() -> str:
    """The stack file documented in docs/stack.md (the one users copy)."""
    text = STACK_DOC.read_text(encoding="utf-8")
    match = re.search(r"```yaml\n(# dagstorm\.stack\.yaml.*?)```", text, re.S)
    if match is None:
        raise RuntimeError("docs/stack.md has no dagstorm.stack.yaml example")
    return match.group(1)


def prepare(workdir: Path) -> list[Path]:
    """Copy every shipped input under ``workdir``, laid out as in the repository.

    The files to mutate: the scenario library (suite included), the stack example of
    docs/stack.md, the shipped stack configs and the pipeline profiles (each with the
    folders it names, so an unmutated copy validates as the original does).
    """
    target = workdir / "scenarios"
    shutil.copytree(SCENARIOS, target, dirs_exist_ok=True)
    for name in SUITE_STACKS:
        shutil.copy(ROOT / name, workdir / name)
    shutil.copytree(
        PIPELINES,
        workdir / PIPELINES.name,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (workdir / STACK_FILE_NAME).write_text(stack_example(), encoding="utf-8")
    profiles = sorted((workdir / PIPELINES.name).glob(f"*/{PROFILE_NAME}"))
    stacks = [workdir / name for name in (STACK_FILE_NAME, *SUITE_STACKS)]
    return [*sorted(target.glob("*.yaml")), *stacks, *profiles]


def shipped_names() -> list[str]:
    """What :func:`prepare` returns, as paths relative to its ``workdir``."""
    scenarios = sorted(f"{SCENARIOS.name}/{p.name}" for p in SCENARIOS.glob("*.yaml"))
    profiles = sorted(str(p.relative_to(ROOT)) for p in PIPELINES.glob(f"*/{PROFILE_NAME}"))
    return [*scenarios, STACK_FILE_NAME, *SUITE_STACKS, *profiles]


def _entries(node: yaml.Node) -> list[Entry]:
    out: list[Entry] = []
    seen: set[int] = set()

    def walk(parent: yaml.Node) -> None:
        if id(parent) in seen:  # an alias: its node is already listed
            return
        seen.add(id(parent))
        if isinstance(parent, yaml.MappingNode):
            for key, value in parent.value:
                out.append(Entry(value, key, parent))
                walk(value)
        elif isinstance(parent, yaml.SequenceNode):
            for item in parent.value:
                out.append(Entry(item, None, parent))
                walk(item)

    walk(node)
    return out


def _span(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.index, node.end_mark.index


def _flow(node: yaml.Node) -> bool:
    return bool(getattr(node, "flow_style", False))


def _single_line(text: str, node: yaml.Node) -> bool:
    start, end = _span(node)
    return "\n" not in text[start:end].rstrip()


def _replace(text: str, start: int, end: int, new: str) -> str:
    old = text[start:end]
    trailing = old[len(old.rstrip()) :]
    return text[:start] + new + trailing + text[end:]


def _dash(text: str, entry: Entry) -> int:
    """Where the ``- `` of a block-sequence item is."""
    return text.rfind("-", 0, entry.node.start_mark.index)


def _mutate_once(text: str, rng: Random) -> tuple[str, str]:
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    entries = _entries(root) if root is not None else []
    if not entries:
        return rng.choice(REPLACEMENTS) + "\n", "whole file replaced"
    entry = rng.choice(entries)
    start, end = _span(entry.node)
    where = f"line {entry.node.start_mark.line + 1}"
    operation = rng.choice(
        ("replace", "replace", "replace", "drop", "duplicate", "nest", "key", "swap")
    )
    if operation == "replace":
        new = rng.choice(REPLACEMENTS)
        return _replace(text, start, end, new), f"{where}: value → {new[:30]}"
    if operation == "swap":
        other = rng.choice(entries).node
        if not (_flow(other) or isinstance(other, yaml.ScalarNode)) or not _single_line(
            text, other
        ):
            return text, "no swap"
        new = text[slice(*_span(other))].strip()
        return _replace(text, start, end, new), f"{where}: value → another node's {new[:30]}"
    if operation == "nest":
        if not (_flow(entry.node) or isinstance(entry.node, yaml.ScalarNode)):
            return text, "no nest"
        inner = text[start:end].rstrip()
        new = rng.choice((f"[{inner}]", f"{{nested: {inner}}}", f"[[{inner}]]"))
        return _replace(text, start, end, new), f"{where}: value nested"
    if entry.key is not None:
        key_start = entry.key.start_mark.index
        if operation == "key":
            new_key = rng.choice(KEY_NAMES)
            return _replace(text, key_start, entry.key.end_mark.index, new_key), (
                f"{where}: key → {new_key}"
            )
        item = text[key_start:end].rstrip()
        if operation == "drop":
            return text[:key_start] + text[key_start + len(item) :], f"{where}: key dropped"
        sep = ", " if _flow(entry.parent) else "\n" + " " * entry.key.start_mark.column
        cut = key_start + len(item)
        return text[:cut] + sep + item + text[cut:], f"{where}: key written twice"
    # A list item.
    if _flow(entry.parent):
        item_start = start
        sep = ", "
    else:
        item_start = _dash(text, entry)
        sep = "\n" + " " * (item_start - text.rfind("\n", 0, item_start) - 1)
    item = text[item_start:end].rstrip()
    if operation == "drop":
        return text[:item_start] + text[item_start + len(item) :], f"{where}: item dropped"
    cut = item_start + len(item)
    return text[:cut] + sep + item + text[cut:], f"{where}: item written twice"


def mutate(text: str, rng: Random, count: int = 1) -> tuple[str, list[str]]:
    """Apply ``count`` mutations; stop early once the text is no longer YAML."""
    done: list[str] = []
    for _ in range(count):
        try:
            text, what = _mutate_once(text, rng)
        except yaml.YAMLError:
            break
        done.append(what)
    return text, done
