"""Measures around faults: their windows, retry recovery, throughput dips, DAG faults."""
