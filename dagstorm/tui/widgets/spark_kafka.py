"""Spark (cluster, executors lost, failed tasks) and Kafka (consumer lag)."""

from __future__ import annotations

from textual.markup import escape

from dagstorm.tui.format import si
from dagstorm.tui.state import RunState
from dagstorm.tui.widgets.text_pane import TextPane


class SparkKafkaPane(TextPane, can_focus=True):
    """Spark workers and cores, executors lost, failed tasks; Kafka lag per group."""

    def show(self, state: RunState) -> None:
        """Render the Spark and Kafka figures."""
        s = state.spark
        lost_style = "$error" if s.executors_lost else "$success"
        lines = [
            f"spark {escape(s.status)}  workers {s.workers_alive}  "
            f"cores {s.cores_used}/{s.cores}  apps {s.active_apps} (+{s.apps_finished} done)",
            f"[{lost_style}]executors lost {s.executors_lost}[/]  failed tasks {s.failed_tasks}",
        ]
        lines += [f"  {escape(line)}" for line in list(s.recent_losses)[-2:]]
        if state.kafka_lag:
            lag = "  ".join(f"{t}/{g} {si(v)}" for (t, g), v in sorted(state.kafka_lag.items()))
            lines.append(f"kafka lag {escape(lag)}")
        else:
            lines.append("[$text-muted]kafka lag: no sample[/]")
        self.put("\n".join(lines))
