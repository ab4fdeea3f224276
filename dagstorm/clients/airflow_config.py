"""The executor an Airflow runs, read from its REST API's configuration.

``GET /api/v2/config/section/core/option/executor`` answers only where the
Airflow exposes its configuration (``[api] expose_config``); elsewhere (403, no
answer, an unexpected body) the executor is ``unknown``. Used for the stacks
dagstorm does not configure itself (external, compose), so that ``run_start``
and ``result.json`` name the executor the run ran on.
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["UNKNOWN_EXECUTOR", "airflow_executor", "executor_of_config"]

UNKNOWN_EXECUTOR = "unknown"
_OPTION = "/api/v2/config/section/core/option/executor"


def airflow_executor(
    base_url: str,
    username: str,
    password: str,
    *,
    timeout: float = 5.0,
    transport: httpx.BaseTransport | None = None,
) -> str:
    """The executor's class name (``CeleryExecutor``), else ``unknown``; never raises."""
    base = base_url.rstrip("/")
    try:
        with httpx.Client(timeout=timeout, transport=transport) as client:
            token = client.post(
                f"{base}/auth/token", json={"username": username, "password": password}
            )
            if token.status_code not in {200, 201}:
                return UNKNOWN_EXECUTOR
            headers = {
                "Authorization": f"Bearer {token.json()['access_token']}",
                "Accept": "application/json",
            }
            response = client.get(f"{base}{_OPTION}", headers=headers)
            if response.status_code != 200:
                return UNKNOWN_EXECUTOR
            return executor_of_config(response.json())
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return UNKNOWN_EXECUTOR


def executor_of_config(body: Any) -> str:
    """``core.executor`` of a Config body, as a class name; ``unknown`` when absent.

    The value may be a dotted path or a list (``LocalExecutor,CeleryExecutor``, the
    first is the default): the first entry's last dotted part is kept.
    """
    sections = body.get("sections") if isinstance(body, dict) else None
    for section in sections if isinstance(sections, list) else []:
        if not isinstance(section, dict) or section.get("name") != "core":
            continue
        for option in section.get("options") or []:
            if isinstance(option, dict) and option.get("key") == "executor":
                value = option.get("value")
                if isinstance(value, str) and value.strip() and "hidden" not in value:
                    first = value.split(",")[0].strip()
                    return first.rsplit(".", 1)[-1].split(":")[-1] or UNKNOWN_EXECUTOR
    return UNKNOWN_EXECUTOR
