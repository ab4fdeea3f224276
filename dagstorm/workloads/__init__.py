"""Workloads: synthetic ad logs at 2 TB/day scale, with exact ground truth.

Entry points (library API; ``docs/workloads.md`` has the details):

- :mod:`~dagstorm.workloads.config`: ``SourceConfig``, ``GeneratorConfig``,
  ``LandingConfig`` — pydantic models, cheap to import for scenario validation;
- :mod:`~dagstorm.workloads.generator`: ``AdLogGenerator`` writes hourly partitions
  (``advance_to``, ``run``, ``close``);
- :mod:`~dagstorm.workloads.source`: ``EventSource``, the labelled event stream any
  sink can consume; ``WallClock``, ``ManualClock``;
- :mod:`~dagstorm.workloads.rates`, :mod:`~dagstorm.workloads.shapes`: rate units,
  scale, time compression, traffic shapes;
- :mod:`~dagstorm.workloads.ledger`: ``load_ledger``, ``expected_counts``.

Nothing is imported here, so importing one module does not pull Arrow or pandas.
"""
