"""Helpers of the reference ad pipeline's DAGs (imported by the DAG files, not DAGs).

Listed in the DAGs folder's .airflowignore so the DAG processor skips it. Keep
the modules light at import: heavy libraries are imported inside functions so
that the DAG files parse fast.
"""
