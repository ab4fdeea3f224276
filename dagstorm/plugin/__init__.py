"""What dagstorm hands to a workload, fault or probe: the :class:`RunContext`.

Workloads, faults and probes sit above this package and are given a context, never
the engine, so they can be written (and tested) without it — by dagstorm or by a
user's own package.
"""
