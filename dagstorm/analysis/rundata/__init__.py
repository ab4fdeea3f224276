"""Reading a run directory into typed frames (:class:`~.load.RunData`).

The journal (scanned once), the ledgers, the serving data and the scenario's
workloads. The bottom layer of the analysis: it imports no other part of it.
"""
