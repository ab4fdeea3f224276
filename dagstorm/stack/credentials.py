"""Credentials of the stack: generated once for the embedded stack, from env for others.

Secrets never come from scenario files and are never printed or logged; use
:func:`redact` on any text that might contain one before it leaves the process.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from dagstorm.core.atomic import atomic_write
from dagstorm.core.errors import ConfigError

CREDENTIALS_FILE = "credentials.json"


@dataclass(frozen=True)
class Credentials:
    """Every secret the stack needs."""

    postgres_superuser_password: str
    airflow_db_password: str
    serving_db_password: str
    airflow_admin_password: str
    airflow_jwt_secret: str
    airflow_api_secret_key: str
    airflow_fernet_key: str
    #: The Celery broker's (Redis ``requirepass``); absent from files written before Celery.
    redis_password: str = ""

    #: Fixed, non-secret user names.
    postgres_superuser = "dagstorm"
    airflow_db_user = "airflow"
    serving_db_user = "serving"
    airflow_admin_user = "admin"

    def secret_values(self) -> list[str]:
        """All secret strings (for redaction)."""
        return [getattr(self, f.name) for f in fields(self)]


def _generate() -> Credentials:
    values = {f.name: secrets.token_urlsafe(24) for f in fields(Credentials)}
    # Airflow's Fernet key must be 32 url-safe base64-encoded bytes.
    values["airflow_fernet_key"] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    return Credentials(**values)


def load_or_create(secrets_dir: Path) -> Credentials:
    """Load the embedded stack's credentials, generating them (0600) on first use."""
    path = secrets_dir / CREDENTIALS_FILE
    if path.exists():
        try:
            raw = json.loads(path.read_text())
            creds = Credentials(**raw)
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"credentials file is corrupt ({exc.__class__.__name__})",
                where=str(path),
                fix="remove it and the state directory's postgres/ to start afresh",
            ) from None
        if not creds.redis_password:  # written by an older dagstorm: add the new secret
            creds = replace(creds, redis_password=secrets.token_urlsafe(24))
            atomic_write(path, json.dumps(asdict(creds)), mode=0o600, fsync=True)
        return creds
    secrets_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    creds = _generate()
    atomic_write(path, json.dumps(asdict(creds)), mode=0o600, fsync=True)
    return creds


def write_secret_file(path: Path, content: str) -> None:
    """Write a file only the owner can read (0600, whatever mode an older copy had)."""
    atomic_write(path, content, mode=0o600)


def from_env(name: str, env: dict[str, str] | None = None) -> str | None:
    """A secret from ``$NAME`` or from the file named by ``$NAME_FILE``."""
    env = dict(os.environ) if env is None else env
    if env.get(name):
        return env[name]
    file_name = env.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ConfigError(
                f"cannot read {name}_FILE: {exc.strerror}",
                where=file_name,
                fix=f"point {name}_FILE at a readable file",
            ) from None
    return None
