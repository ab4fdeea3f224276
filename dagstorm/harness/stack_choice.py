"""Which stack config a run uses: the caller's, the scenario's, or the default."""

from __future__ import annotations

from pathlib import Path

from dagstorm.scenarios.model import StackChoice
from dagstorm.stack.config import StackConfig, load_stack_config


def stack_config_for(
    choice: StackChoice | str | None,
    stack: StackConfig | Path | None = None,
    *,
    state_dir: Path | None = None,
) -> StackConfig:
    """The config a scenario runs on.

    ``stack`` is the caller's choice: a config, a stack file, or None (the
    default: ``$DAGSTORM_STACK_FILE`` or ``./dagstorm.stack.yaml`` if present).
    The scenario may name a stack file (used only when the caller gave none) or a
    kind and endpoints (applied over whichever config was chosen). ``state_dir``
    applies when a config is loaded from a file. A plain ``stack: embedded`` in the
    scenario changes nothing.
    """
    if not isinstance(choice, StackChoice):
        choice = None
    if isinstance(stack, StackConfig):
        config = stack
    elif stack is None and choice is not None and choice.file is not None:
        return load_stack_config(choice.file, state_dir=state_dir)
    else:
        config = load_stack_config(stack, state_dir=state_dir)
    if choice is not None and choice.kind is not None:
        update: dict[str, object] = {"kind": choice.kind}
        if choice.external is not None:
            update["external"] = choice.external
        config = config.model_copy(update=update)
        if choice.external is not None:
            config = config.from_source("the scenario's `stack.external`")
    return config


__all__ = ["stack_config_for"]
