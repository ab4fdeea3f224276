"""Escape-by-default HTML building on markupsafe: text is escaped unless it is :class:`Markup`.

Scenario names, descriptions, fault names, DAG and run ids and the scenario file are
user input, so every value that reaches the page goes through :func:`esc` or
:func:`el`; only strings these functions return are trusted. :class:`Markup` is
markupsafe's: adding a plain string to it, or formatting one into it, escapes that
string too.
"""

from __future__ import annotations

from collections.abc import Iterable

from markupsafe import Markup, escape

__all__ = ["Child", "Markup", "el", "esc", "join", "num"]

#: What an element may contain: trusted markup, or anything else (escaped as text).
Child = object


def esc(value: object) -> Markup:
    """``value`` as HTML text: unchanged if it is already markup, else escaped; None is empty."""
    return Markup("") if value is None else escape(value)


def join(parts: Iterable[Child], separator: str = "") -> Markup:
    """Concatenate ``parts`` (each escaped unless trusted)."""
    return esc(separator).join(esc(p) for p in parts)


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
