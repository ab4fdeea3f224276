"""The measures of a run, each computed from its run data.

SLA compliance, alerts, Celery, cross-DAG waits and trigger errors at the top;
one sub-package per job: ``faults/`` (fault windows, recovery, throughput dips,
DAG faults), ``data/`` (completeness: landing and stream paths, output checks),
``scheduler/`` (throughput, tries never started, the run-time split, StatsD
figures). :mod:`.compute` computes them all once.
Definitions: docs/measures.md. Imports only the run data below it.
"""
