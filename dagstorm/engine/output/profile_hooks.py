"""What a run's pipeline profile adds to it: the output checks and the signal loads.

The engine begins the profile's output checks when the run starts (their start
offsets taken then, ``pipeline.json`` written) and, for a profile whose output
check records loaded completion signals, gives the drain what to wait for.
"""

from __future__ import annotations

import json

from dagstorm.core.atomic import atomic_write
from dagstorm.engine.drain import SignalLoads
from dagstorm.engine.output.output_checks import OutputChecks
from dagstorm.profiles.model import SqlCheck
from dagstorm.run.rundir import RunDirectory
from dagstorm.scenarios.loader import LoadedScenario
from dagstorm.stack.config import StackConfig
from dagstorm.stack.endpoints import Stack
from dagstorm.stack.profile_env import check_env

__all__ = ["begin_output_checks", "signal_loads"]


def begin_output_checks(
    loaded: LoadedScenario, stack: Stack, config: StackConfig, directory: RunDirectory
) -> OutputChecks | None:
    """The profile's output checks (their start offsets taken now); writes pipeline.json."""
    profile = loaded.profile
    if profile is None:
        return None
    atomic_write(directory.pipeline, json.dumps(profile.document(), indent=2) + "\n")
    outputs = OutputChecks(profile, stack, directory.path, state_dir=config.resolved_state_dir())
    outputs.begin()
    return outputs


def signal_loads(loaded: LoadedScenario, stack: Stack) -> SignalLoads | None:
    """The profile's record of loaded completion signals (what the drain waits for)."""
    profile = loaded.profile
    if profile is None:
        return None
    check = next((c for c in profile.profile.outputs if c.compare == "stream_loads"), None)
    if not isinstance(check, SqlCheck):
        return None
    dsn = check_env(stack, profile.profile).get(check.dsn_env)
    return SignalLoads(dsn, check.query) if dsn else None
