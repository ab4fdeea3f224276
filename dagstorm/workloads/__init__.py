"""Workloads: the load a run puts on the stack, ad logs at 2 TB/day scale with exact ground truth.

Here, the contract and the wiring (library API; ``docs/workloads.md`` has the details):

- :mod:`.base`: :class:`~.base.Workload`, what the engine drives; :mod:`.pause`: its pause gate;
- :mod:`.specs`: the built-in workloads' scenario entries (``workloads:`` items);
- :mod:`.config`: ``SourceConfig``, ``GeneratorConfig``, ``LandingConfig`` — pydantic
  models, cheap to import for scenario validation;
- :mod:`.source`: ``EventSource``, the labelled event stream every sink consumes (paced
  on the run's one clock, :mod:`dagstorm.run.clock`);
- the workloads: :mod:`.ad_logs_workload` (the landing zone, paced on the run's clock),
  :mod:`.trigger_storm` (DAG runs through the REST API; :mod:`.dag_trigger` sends one).

Below, one sub-package per job:

- :mod:`.model`: the ad-event model (schema, catalogue, funnel, bad data, batch windows);
- :mod:`.encoding`: events as JSON lines and Arrow tables;
- :mod:`.traffic`: rates in human units and traffic shapes;
- :mod:`.sinks`: the landing zone, the generator, pre-generation and the ledger
  (``load_ledger``, ``expected_counts``);
- :mod:`.kafka`: the ``kafka_burst`` workload;
- :mod:`.locust_swarm`: Locust as a distributed load generator;
- :mod:`.spark_backend`: the generator on a Spark cluster.

Nothing is imported here, so importing one module does not pull Arrow or pandas.
"""
