"""Clients of the stack's public APIs: Airflow's REST API, Toxiproxy's REST API, Kafka.

Each client takes URLs and credentials, never a stack or a run: the stack (to check
its health), faults, probes and workloads all speak through these.
"""
