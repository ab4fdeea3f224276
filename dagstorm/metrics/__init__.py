"""Live metrics of a run in the Prometheus text format (``dagstorm run --metrics-port``).

Fed from the run's journal only, like the TUI; exposed with prometheus-client.
Metric names: docs/metrics.md.
"""

from __future__ import annotations

from dagstorm.metrics.live import LiveMetrics
from dagstorm.metrics.server import MetricsAddress, MetricsServer, serve_metrics

__all__ = ["LiveMetrics", "MetricsAddress", "MetricsServer", "serve_metrics"]
