"""Scenarios: the YAML model, the loader (file:line errors) and the timeline plan."""
