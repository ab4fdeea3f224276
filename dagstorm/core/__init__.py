"""The core: what every layer may use and that imports nothing else of dagstorm.

Errors and exit codes, durations, quantiles, atomic file writes, polling, progress
display, secret redaction and the position-aware YAML reader. The layers above are listed
in docs/architecture.md.
"""
