"""The DSNs a pipeline profile's checks and schema use: from the environment, or the stack's.

A check names its database by an environment variable (``dsn_env``). When the
variable is unset, dagstorm knows two of them itself, on a stack whose
PostgreSQL it knows (embedded, compose): ``DAGSTORM_SERVING_DB_DSN`` (the
stack's serving database) and the profile's own ``source.database.dsn_env``
(that database, as the serving user, through the serving-db proxy).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

from dagstorm.profiles.model import PipelineProfile
from dagstorm.stack.endpoints import Stack

__all__ = ["STACK_DB_ENV", "check_env", "profile_dsn"]

#: The environment variable of the stack's own serving database.
STACK_DB_ENV = "DAGSTORM_SERVING_DB_DSN"


def _with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def check_env(
    stack: Stack, profile: PipelineProfile | None, env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment, with the DSNs dagstorm knows where they are unset."""
    merged = dict(os.environ if env is None else env)
    stack_dsn = stack.serving_db_dsn
    if stack.kind == "external" or stack_dsn is None:
        return merged
    merged.setdefault(STACK_DB_ENV, stack_dsn)
    database = None if profile is None else profile.source.database
    if database is not None:
        merged.setdefault(database.dsn_env, _with_database(stack_dsn, database.name))
    return merged


def profile_dsn(
    stack: Stack, profile: PipelineProfile, name: str, env: Mapping[str, str] | None = None
) -> str | None:
    """The DSN in environment variable ``name`` (or the one dagstorm knows), or None."""
    return check_env(stack, profile, env).get(name) or None
