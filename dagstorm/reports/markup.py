"""Escape-by-default HTML building: text is escaped unless it is already :class:`Markup`.

Scenario names, descriptions, fault names, DAG and run ids and the scenario file are
user input, so every value that reaches the page goes through :func:`esc` or
:func:`el`; only strings these functions return are trusted.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

__all__ = ["Child", "Markup", "el", "esc", "join", "num"]


class Markup(str):
    """A string of trusted HTML (built by :func:`el` or :func:`esc`)."""

    __slots__ = ()


#: What an element may contain: trusted markup, or anything else (escaped as text).
Child = object


def esc(value: object) -> Markup:
    """``value`` as HTML text: unchanged if it is already :class:`Markup`, else escaped."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape("" if value is None else str(value), quote=True))


def join(parts: Iterable[Child], separator: str = "") -> Markup:
    """Concatenate ``parts`` (each escaped unless trusted)."""
    return Markup(esc(separator).join(esc(p) for p in parts))


def el(tag: str, *children: Child, **attrs: object) -> Markup:
    """``<tag attrs>children</tag>``; attribute values and text children are escaped.

    Attribute names take a trailing underscore for Python keywords (``class_``) and
    underscores for dashes (``aria_label`` → ``aria-label``); a value of None or False
    leaves the attribute out, True writes it bare.
    """
    rendered = []
    for name, value in attrs.items():
        if value is None or value is False:
            continue
        key = name.rstrip("_").replace("_", "-")
        if value is True:
            rendered.append(f" {key}")
        else:
            rendered.append(f' {key}="{esc(value)}"')
    opening = f"<{tag}{''.join(rendered)}>"
    if tag in _VOID:
        return Markup(opening)
    return Markup(f"{opening}{join(children)}</{tag}>")


def num(value: float) -> str:
    """A coordinate for SVG: one decimal, no ``-0.0``."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


_VOID = frozenset({"meta", "br", "hr", "img", "input", "link"})
