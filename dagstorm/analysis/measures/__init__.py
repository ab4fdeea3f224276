"""The measures of a run, each computed from its run data.

SLA compliance, recovery, alerts, throughput, scheduler metrics, data
completeness (landing and stream paths); :mod:`.compute` computes them all once.
Definitions: docs/measures.md. Imports only the run data below it.
"""
