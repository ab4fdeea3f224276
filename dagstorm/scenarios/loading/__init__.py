"""The steps of loading a scenario that :mod:`dagstorm.scenarios.loader` puts together.

- :mod:`.source`: the file read over its ``extends`` chain, ``${VAR}`` substituted,
  every key's ``file:line:column``; :class:`~.source.ScenarioInvalid`;
- :mod:`.sla_defaults`: an ``sla`` SLO's deadline and reference from the pipeline profile;
- :mod:`.trigger_defaults`: a ``trigger_storm``'s ``conf`` from the pipeline profile.
"""
