"""Fixtures for integration tests: the real embedded stack, started by dagstorm's own code.

The stack comes from the usual stack config (``DAGSTORM_STACK_FILE`` /
``DAGSTORM_STATE_DIR`` are honoured). A stack that is already running is reused
and left running; one this session started is stopped at the end. A component
that cannot start fails the session: integration tests never skip.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dagstorm.core.errors import ComponentStartError, DagstormError
from dagstorm.core.progress import Progress
from dagstorm.stack.config import load_stack_config
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.embedded.install import Installer
from dagstorm.stack.embedded.launcher import EmbeddedStack
from dagstorm.stack.endpoints import Stack, resolve_stack


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that stop and restart the shared stack run after all others."""
    items.sort(key=lambda item: item.get_closest_marker("stack_lifecycle") is not None)


@pytest.fixture(scope="session")
def stack_context() -> Iterator[StackContext]:
    """The embedded stack, installed and up."""
    config = load_stack_config()
    ctx = StackContext(config=config, progress=Progress())
    installer = Installer(ctx)
    if not installer.is_installed():
        installer.install()
    embedded = EmbeddedStack(ctx)
    was_running = all(comp.running() for comp in embedded.components.values())
    try:
        embedded.up()
    except DagstormError as err:
        # The whole message in the test report: what failed, where, why, its log's last lines.
        tail = err.log_tail if isinstance(err, ComponentStartError) else ""
        pytest.fail(f"the embedded stack did not come up: {err.render()}\n{tail}")
    yield ctx
    if not was_running:
        embedded.down()


@pytest.fixture(scope="session")
def stack(stack_context: StackContext) -> Stack:
    """Endpoints and credentials of the running stack."""
    return resolve_stack(stack_context.config)


@pytest.fixture(scope="session")
def toxiproxy_url(stack: Stack) -> str:
    """The Toxiproxy API of the running stack."""
    assert stack.toxiproxy_url is not None
    return stack.toxiproxy_url
