"""The ad-event model: what a generated event is and how a run's events are drawn.

- :mod:`.schema`: schema version 1 — fields, event types, bad-data labels;
- :mod:`.config`: ``AdModelConfig`` and ``BadDataConfig`` (pydantic, light to import);
- :mod:`.ids`: deterministic ids and per-batch random streams from the seed;
- :mod:`.catalog`: campaigns, ads, audience mixes and their samplers;
- :mod:`.events`: events as columns, and the funnel's pending events;
- :mod:`.schedule`: batch windows — simulated time cut into batches;
- :mod:`.admodel`: impressions, clicks and conversions per window;
- :mod:`.baddata`: labelled bad data mixed into a batch.

Nothing here encodes or writes events (:mod:`dagstorm.workloads.encoding`,
:mod:`dagstorm.workloads.sinks`). Nothing is imported here.
"""
