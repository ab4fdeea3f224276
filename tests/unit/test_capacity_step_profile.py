"""A search step's profile: merging sub-runs, and naming the resource that grew most."""

from __future__ import annotations

import pytest

from dagstorm.analysis.capacity.step_profile import (
    SPARK_SATURATED_SHARE,
    ResourceUse,
    SparkUse,
    StepProfile,
    first_saturated,
    limiting_resource,
    merge_profiles,
)


def profile(
    cpu: dict[str, float], rss: float = 500.0, transform: float | None = 600.0
) -> StepProfile:
    stages = {"wait": 60.0, "queueing": None, "transform": transform, "load": 30.0, "check": None}
    uses = tuple(ResourceUse(name, value, value + 5, rss) for name, value in cpu.items())
    return StepProfile(stages, uses, 1000.0)


def test_merging_sub_runs() -> None:
    merged = merge_profiles(
        [
            profile({"spark-worker": 40.0}, rss=400.0, transform=600.0),
            profile({"spark-worker": 60.0, "kafka": 10.0}, rss=900.0, transform=None),
            profile({"spark-worker": 50.0}, rss=500.0, transform=700.0),
        ]
    )
    assert merged is not None
    assert merged.stages["transform"] == 650.0 and merged.stages["queueing"] is None
    (spark,) = [u for u in merged.resources if u.component == "spark-worker"]
    assert (spark.cpu_pct_median, spark.cpu_pct_p95, spark.rss_mb_max) == (50.0, 65.0, 900.0)
    assert [u.component for u in merged.resources] == ["kafka", "spark-worker"]
    assert merge_profiles([]) is None


def test_the_component_that_grew_most_is_named_above_the_noise() -> None:
    low = profile({"spark-worker": 30.0, "airflow-scheduler": 20.0})
    high = profile({"spark-worker": 95.0, "airflow-scheduler": 60.0}, rss=700.0)
    cpu, memory = limiting_resource((1.0, low), (8.0, high))
    assert cpu is not None and cpu.component == "spark-worker"
    assert cpu.text == "spark-worker CPU 30% → 95% of a core from ×1 to ×8"
    assert memory is not None and memory.measure == "memory" and memory.high - memory.low == 200
    # Below 20 points of CPU and 100 MB: nothing is named.
    flat = profile({"spark-worker": 45.0, "airflow-scheduler": 35.0}, rss=550.0)
    assert limiting_resource((1.0, low), (8.0, flat)) == (None, None)
    # A component sampled only at the high step has nothing to grow from.
    new = profile({"kafka": 90.0})
    assert limiting_resource((1.0, low), (8.0, new)) == (None, None)


@pytest.mark.parametrize("rise", [19.9, 20.0])
def test_the_cpu_threshold(rise: float) -> None:
    cpu, _ = limiting_resource((1.0, profile({"x": 10.0})), (2.0, profile({"x": 10.0 + rise})))
    assert (cpu is not None) == (rise >= 20.0)


def spark(share: float, samples: int = 100, cores: int = 2, apps: int = 1) -> StepProfile:
    use = SparkUse(cores, used_mean=cores * share, saturated_share=share, apps_max=apps,
                   samples=samples)  # fmt: skip
    return StepProfile({}, (), None, spark=use)


def test_sub_runs_spark_figures_merge_weighted_by_their_samples() -> None:
    merged = merge_profiles([spark(0.2, samples=300, apps=1), spark(0.6, samples=100, apps=3)])
    assert merged is not None and merged.spark is not None
    assert merged.spark.saturated_share == pytest.approx(0.3)  # (60 + 60) / 400
    assert merged.spark.used_mean == pytest.approx(0.6)
    assert (merged.spark.samples, merged.spark.apps_max, merged.spark.cores) == (400, 3, 2)
    no_samples = merge_profiles([profile({"x": 1.0})])
    assert no_samples is not None and no_samples.spark is None


def test_the_lowest_step_with_spark_saturated_is_named_whatever_the_order() -> None:
    steps = [(8.0, spark(0.9)), (2.0, spark(0.1)), (4.0, spark(SPARK_SATURATED_SHARE))]
    saturated = first_saturated(steps)
    assert saturated is not None and (saturated.multiplier, saturated.share) == (4.0, 0.5)
    assert saturated.text == (
        "Spark at its 2 cores (all in use in 50% of the master's samples) from ×4"
    )
    assert first_saturated([(1.0, spark(0.49)), (2.0, profile({"x": 1.0}))]) is None
