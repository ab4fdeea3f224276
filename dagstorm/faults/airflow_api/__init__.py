"""Airflow's own objects as fault targets, through its REST API (any stack with Airflow).

Pools, DAGs, DAG runs, Connections and DAG files: each fault keeps what it
changed *inside Airflow* before it changes it (a Variable, or a backup
Connection), so a revert — scheduled, or by `dagstorm recover` after a SIGKILL —
needs nothing from dagstorm's own files and never any secret.
"""
