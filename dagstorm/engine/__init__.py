"""The engine: one clock, the run directory and its journal, and the runner."""
