"""Authenticated access to Airflow 3's REST API through apache-airflow-client.

Airflow 3 issues JWTs from ``POST /auth/token``; the generated client does not
wrap that call, so it is one plain HTTP POST here, then the token goes into the
client's ``Configuration`` (host without ``/api/v2``).
"""

from __future__ import annotations

from typing import Protocol

import httpx
from airflow_client.client import ApiClient, Configuration

from dagstorm.core.errors import ServiceUnreachableError


class AirflowLogin(Protocol):
    """Where Airflow's REST API is and who logs in (a stack's endpoints are one)."""

    def airflow_login(self) -> tuple[str, str, str]:
        """The API server's base URL (without ``/api/v2``), the user name and password."""


def fetch_token(base_url: str, username: str, password: str, *, timeout: float = 10.0) -> str:
    """A JWT access token for the REST API."""
    url = f"{base_url.rstrip('/')}/auth/token"
    try:
        response = httpx.post(
            url, json={"username": username, "password": password}, timeout=timeout
        )
    except httpx.HTTPError as exc:
        raise ServiceUnreachableError(
            f"Airflow does not answer ({exc.__class__.__name__})",
            where=url,
            fix="check that Airflow's API server answers at that URL (`dagstorm stack check`)",
        ) from None
    if response.status_code not in {200, 201}:
        raise ServiceUnreachableError(
            f"Airflow refused the token request (HTTP {response.status_code})",
            where=url,
            fix="check the Airflow credentials (DAGSTORM_AIRFLOW_USERNAME/PASSWORD)",
        )
    token: str = response.json()["access_token"]
    return token


def api_client(login: AirflowLogin) -> ApiClient:
    """An ``airflow_client.client.ApiClient`` authenticated as ``login`` says."""
    url, username, password = login.airflow_login()
    token = fetch_token(url, username, password)
    return ApiClient(Configuration(host=url, access_token=token))
