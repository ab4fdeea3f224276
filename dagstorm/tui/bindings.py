"""The keys of ``dagstorm watch``: every binding has an id, so keys can be remapped.

Replay keys work only in a replay and engine keys only live
(:meth:`WatchApp.check_action <dagstorm.tui.app.WatchApp.check_action>`); the
footer shows what applies. docs/tui.md lists them.
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

from dagstorm.tui.screens.watch_screen import PANES

#: Actions that steer the engine (live only) and those that move a replay (replay only).
CONTROL_ACTIONS = frozenset({"pause_workloads", "abort_run", "inject_fault", "revert_fault"})
REPLAY_ACTIONS = frozenset({"toggle_play", "seek", "seek_to", "speed"})

#: The app's keys; the digits focus the panes.
WATCH_BINDINGS: list[BindingType] = [
    Binding("q", "quit", "quit", id="app.quit"),
    Binding("ctrl+c", "quit", "quit", id="app.interrupt", show=False, priority=True),
    Binding("question_mark", "help", "help", id="app.help"),
    Binding("space", "toggle_play", "play/pause", id="replay.toggle"),
    Binding("left", "seek(-10)", "−10s", id="replay.back", show=False),
    Binding("right", "seek(10)", "+10s", id="replay.forward", show=False),
    Binding("shift+left", "seek(-60)", "−1m", id="replay.back_more", show=False),
    Binding("shift+right", "seek(60)", "+1m", id="replay.forward_more", show=False),
    Binding("home", "seek_to(0)", "start", id="replay.start", show=False),
    Binding("end", "seek_to(-1)", "end", id="replay.end", show=False),
    Binding("plus,equals_sign", "speed(1)", "faster", id="replay.faster"),
    Binding("minus", "speed(-1)", "slower", id="replay.slower"),
    Binding("p", "pause_workloads", "pause", id="control.pause"),
    Binding("a", "abort_run", "abort", id="control.abort"),
    Binding("i", "inject_fault", "inject", id="control.inject"),
    Binding("r", "revert_fault", "revert", id="control.revert"),
    Binding("o", "open_report", "report", id="run.report", show=False),
    Binding("slash", "focus_filter", "filter", id="log.filter"),
    Binding("escape", "leave_filter", "leave filter", id="log.leave", show=False),
    *(
        Binding(str(i), f"focus_pane('{pane}')", pane, id=f"pane.{pane}", show=False)
        for i, pane in enumerate(PANES, start=1)
    ),
]

#: The action of each key (for saying why a key that does not apply did nothing).
KEY_ACTIONS: dict[str, str] = {
    key: binding.action.split("(")[0]
    for binding in WATCH_BINDINGS
    if isinstance(binding, Binding)
    for key in binding.key.split(",")
}
