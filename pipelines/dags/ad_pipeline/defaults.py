"""default_args every task of the pipeline starts from."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ad_pipeline.alerts import on_task_failure, on_task_retry
from ad_pipeline.settings import MAX_RETRY_DELAY, RETRIES, RETRY_BACKOFF, RETRY_DELAY


def default_args(*, priority_weight: int, execution_timeout: timedelta) -> dict[str, Any]:
    """Retries with exponential backoff, alert callbacks, an absolute priority."""
    return {
        "owner": "ads-data",
        "retries": RETRIES,
        "retry_delay": RETRY_DELAY,
        "retry_exponential_backoff": RETRY_BACKOFF,
        "max_retry_delay": MAX_RETRY_DELAY,
        "on_failure_callback": on_task_failure,
        "on_retry_callback": on_task_retry,
        "priority_weight": priority_weight,
        "weight_rule": "absolute",
        "execution_timeout": execution_timeout,
    }
