"""Fault injection: network, Kafka broker, Spark and Airflow faults."""
