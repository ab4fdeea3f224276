"""Refuse a Celery fault on a stack that runs no Celery, in one clear line.

A Celery worker fault (``kind: celery``) and a fault on the ``celery-broker`` link
only make sense on an embedded CeleryExecutor stack; on a LocalExecutor stack the
worker and the link do not exist, and saying so names the executor and the stack
setting to change, rather than only "not a declared fault target".
"""

from __future__ import annotations

from dagstorm.core.errors import FaultError
from dagstorm.stack.endpoints import Stack
from dagstorm.stack.topology import CELERY_BROKER_LINK

__all__ = ["CELERY_FIX", "is_celery_link", "not_celery"]

CELERY_FIX = (
    "run it on a CeleryExecutor stack: `airflow: {executor: celery}` and `celery: {workers: 2}`"
    " in the stack config (docs/stack.md), then `dagstorm stack up`"
)


def not_celery(stack: Stack, what: str) -> FaultError | None:
    """The refusal of ``what`` (a Celery fault) on ``stack``; None on a Celery stack."""
    if stack.executor == "celery":
        return None
    runs = f"`airflow.executor: {stack.executor}`" if stack.executor else "no executor dagstorm set"
    return FaultError(
        f"{what} needs a CeleryExecutor stack; this {stack.kind} stack runs {runs}",
        where=stack.source,
        fix=CELERY_FIX,
    )


def is_celery_link(link: str) -> bool:
    """Whether ``link`` is the Celery broker's link (CeleryExecutor stacks only)."""
    return link == CELERY_BROKER_LINK.name
