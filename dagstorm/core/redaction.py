"""Keeping secrets out of what dagstorm writes (journals, logs, reports, resolved scenarios)."""

from __future__ import annotations


def redact(text: str, secret_values: list[str]) -> str:
    """Replace every occurrence of a secret in ``text`` with ``***``."""
    for value in secret_values:
        if value:
            text = text.replace(value, "***")
    return text
