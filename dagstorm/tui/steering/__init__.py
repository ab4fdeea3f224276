"""Steering a live run from the TUI: the engine's port, the fault menu, the app's actions.

:mod:`.port` is how the app reaches the engine (only through the run directory's
control inbox), :mod:`.fault_menu` the ad-hoc faults it offers (both plain
Python), and :mod:`.actions` the app's keys that send commands and the
acknowledgements it shows. Docs: docs/tui.md, docs/control.md.
"""
