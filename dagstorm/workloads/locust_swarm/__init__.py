"""Locust as dagstorm's distributed load generator (docs/locust.md).

Two sides that never share a process:

- the **harness side** (imported by dagstorm): :mod:`.spec` (the ``kind: locust``
  scenario workload), :mod:`.swarm_config` (what the Locust processes are told),
  :mod:`.shape_users` (dagstorm shapes → user counts), :mod:`.stats_lines` (the stats
  file's lines and their per-second aggregation), :mod:`.stats_journal` (those
  lines as journal events), :mod:`.ad_records` (the records
  a Kafka user sends), :mod:`.swarm_process` (spawning and stopping one master + N
  workers) and :mod:`.workload` (the :class:`~dagstorm.workloads.base.Workload`);
- the **Locust side**, :mod:`.locustfiles`: run only by ``locust -f`` in its own
  processes, because importing Locust monkey-patches the process with gevent.

Nothing under this package but :mod:`.locustfiles` imports Locust (a test checks it).
"""
