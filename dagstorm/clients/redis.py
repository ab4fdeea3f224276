"""The Celery broker's Redis, read-only: liveness, queue depths, server facts.

Only what dagstorm measures: it never writes to the broker. Connections are
short-lived and time out quickly, so a probe of a paused or cut-off Redis
answers "unreachable" within ``timeout`` seconds instead of hanging a run.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis


class RedisUnreachable(Exception):
    """Redis did not answer (refused, timed out, or refused our password)."""


class BrokerClient:
    """A read-only view of one Redis database used as a Celery broker."""

    def __init__(self, host: str, port: int, password: str | None, *, timeout: float = 3.0):
        self._redis = redis.Redis(
            host=host,
            port=port,
            password=password or None,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            decode_responses=True,
        )

    def __enter__(self) -> BrokerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop the connection pool."""
        self._redis.close()

    def ping(self) -> bool:
        """True when Redis answers PING (raises :class:`RedisUnreachable` otherwise)."""
        try:
            return bool(self._redis.ping())
        except redis.RedisError as exc:
            raise RedisUnreachable(_why(exc)) from None

    def version(self) -> str:
        """The server's ``redis_version``."""
        try:
            return str(self._redis.info("server").get("redis_version", "?"))
        except redis.RedisError as exc:
            raise RedisUnreachable(_why(exc)) from None

    def queue_depths(self, queues: Iterable[str]) -> dict[str, int]:
        """Messages waiting in each Celery queue (a Redis list per queue)."""
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                names = list(queues)
                for name in names:
                    pipe.llen(name)
                return {n: int(v) for n, v in zip(names, pipe.execute(), strict=True)}
        except redis.RedisError as exc:
            raise RedisUnreachable(_why(exc)) from None


def _why(exc: redis.RedisError) -> str:
    """One line for a Redis error, never with a password in it."""
    if isinstance(exc, redis.AuthenticationError):
        return "Redis refused the password"
    if isinstance(exc, redis.TimeoutError):
        return "Redis did not answer in time"
    if isinstance(exc, redis.ConnectionError):
        return "Redis refused the connection"
    return exc.__class__.__name__
