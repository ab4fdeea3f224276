"""dagstorm: chaos and load testing for Airflow + Spark + Kafka data pipelines."""

__version__ = "0.1.0"
