"""Probes: sample the stack (Airflow, Spark, Kafka, processes) into journal events."""
