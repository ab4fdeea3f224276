"""``python -m dagstorm.run.events``: print docs/journal.md's event table."""

from dagstorm.run.events import markdown_table

print(markdown_table(), end="")
