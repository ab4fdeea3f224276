"""The report's sections, one per domain (summary, trends, load and ramp, faults, what next)."""
