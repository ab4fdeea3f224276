"""Commands for a run under way: `dagstorm watch`, `dagstorm control` and `run --tui`."""
