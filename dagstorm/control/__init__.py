"""The control inbox of a run: how a client (the TUI, a script) steers a running engine.

Commands are files written atomically into ``<run dir>/control/inbox/``; the engine
polls the inbox on its clock, executes each command and acknowledges it in the
journal (``control``, then ``control_ack``). The protocol is documented in
docs/control.md. Nothing here imports the engine: clients need only this package.
"""
