"""Global options anywhere on the line: ``dagstorm run x.yaml -q`` as ``dagstorm -q run x.yaml``.

click reads a group's options only before the subcommand's name; users (and CI
scripts) put ``-q`` or ``--stack-file`` at the end as often as at the start.
:class:`GlobalOptionsGroup` moves them in front before click parses the line.
No subcommand defines an option of the same name (a test checks it).
"""

from __future__ import annotations

from collections.abc import Sequence

import click

#: The global flags (no value) and options (one value), every spelling.
FLAGS = frozenset({"-q", "--quiet"})
VALUED = frozenset({"--stack-file", "--state-dir"})


def hoist(args: Sequence[str]) -> list[str]:
    """``args`` with every global option moved in front (order kept; ``--`` ends the scan)."""
    front: list[str] = []
    rest: list[str] = []
    items = iter(args)
    for arg in items:
        if arg == "--":
            rest.append(arg)
            rest.extend(items)
            break
        name = arg.split("=", 1)[0]
        if arg in FLAGS or (name in VALUED and "=" in arg):
            front.append(arg)
        elif arg in VALUED:
            front.append(arg)
            value = next(items, None)
            if value is not None:
                front.append(value)
        else:
            rest.append(arg)
    return front + rest


class GlobalOptionsGroup(click.Group):
    """A group whose own options may also come after the subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Hoist the global options, then parse as click does."""
        return super().parse_args(ctx, hoist(args))
