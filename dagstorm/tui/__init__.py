"""The Textual TUI: ``dagstorm watch RUN_DIR`` follows a run directory live or replays it.

Everything that imports textual lives here; the core never imports this package.
The journal follower (:mod:`follow`), the windowed aggregates (:mod:`state`,
:mod:`series`), the replay clock (:mod:`replay`) and the live verdict
(:mod:`live_verdict`) are pure Python. Docs: docs/tui.md.
"""
