"""Small ad-event data sets with an exact ground truth, for tests and runs by hand.

Records follow the generator's schema version 1 (dagstorm/workloads/model/schema.py).
Every (campaign, ad) gets a fixed number of impressions, clicks and conversions
and a known spend; some impressions are late (previous hour), some events are
repeated (same event_id) and one bad line of each kind is mixed in, so the
pipeline's answer is known in advance::

    python pipelines/tools/sample_data.py --landing <state>/landing --hour 2024-05-01T13

writes ``<landing>/ad_logs/dt=2024-05-01/hour=13/part-*.jsonl`` and ``_SUCCESS``
and prints the expected serving rows as JSON. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any


@dataclass
class SampleSet:
    """Events (as dicts), bad lines, and the expected result per (hour, campaign, ad)."""

    hour: datetime
    events: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    bad_lines: list[str] = field(default_factory=list)
    truth: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)

    @property
    def records(self) -> int:
        """Lines written: events, their repeats and the bad lines."""
        return len(self.events) + len(self.duplicates) + len(self.bad_lines)

    def totals(self) -> dict[str, Any]:
        """Sums over the truth."""
        keys = ("impressions", "clicks", "conversions")
        out: dict[str, Any] = {k: sum(row[k] for row in self.truth.values()) for k in keys}
        out["spend"] = sum((row["spend"] for row in self.truth.values()), Decimal("0"))
        out["rows"] = len(self.truth)
        return out


PRICES = {"impression": "0.0015", "click": "0.25", "conversion": "1.125"}


def _event(
    moment: datetime, tag: str, n: int, *, campaign: int, ad: int, kind: str, spend: Decimal
) -> dict[str, Any]:
    """One record of schema version 1 (dagstorm/workloads/model/schema.py)."""
    return {
        "event_id": f"{tag}-{n:08d}",
        "event_time": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
        "campaign_id": campaign,
        "ad_id": ad,
        "pricing_model": ("cpm", "cpc")[campaign % 2],
        "user_id": f"u{n % 17:015d}",
        "impression_id": f"i{n:015d}",
        "geo": ("US", "DE", "FR")[n % 3],
        "spend": float(spend),
        "event_type": kind,
        "device": ("mobile", "desktop")[n % 2],
        "os": ("ios", "android", "linux")[n % 3],
        "placement": ("feed", "search")[n % 2],
        "bid_price": float(Decimal("0.25") + Decimal(n % 5) / 100),
        "schema_version": 1,
    }


def _bad_lines(template: dict[str, Any], tag: str) -> list[str]:
    """One line of each kind a correct pipeline rejects (the event is lost)."""
    missing = {k: v for k, v in template.items() if k != "user_id"}
    return [
        json.dumps(template)[:40],  # malformed: cut short inside the object
        '["not", "an", "object"]',
        json.dumps({**missing, "event_id": f"{tag}-missing"}),
        json.dumps({**template, "event_id": f"{tag}-extra", "experiment": "exp-07"}),
        json.dumps({**template, "event_id": f"{tag}-retyped", "campaign_id": "1000001"}),
        json.dumps({**template, "event_id": f"{tag}-epoch", "event_time": 1714568700000}),
    ]


def make_sample(
    hour: datetime, *, campaigns: int = 3, ads: int = 2, scale: int = 1, tag: str = "s"
) -> SampleSet:
    """A deterministic sample for one UTC hour; ``scale`` multiplies every count.

    Every 8th impression is late: its event_time is in the previous hour, where it
    counts. Every 10th event is delivered twice (counted once).
    """
    hour = hour.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    sample = SampleSet(hour=hour)
    n = 0
    for c in range(campaigns):
        for a in range(ads):
            campaign, ad = 1_000_000 + c, 100_000_000 + 10 * c + a
            wanted = {
                "impression": (20 + 5 * c + a) * scale,
                "click": (4 + c + a) * scale,
                "conversion": (1 + (c + a) % 2) * scale,
            }
            for kind, count in wanted.items():
                for _ in range(count):
                    n += 1
                    late = kind == "impression" and n % 8 == 0
                    base = hour - timedelta(hours=1) if late else hour
                    moment = base + timedelta(seconds=(n * 7) % 3600, milliseconds=n % 1000)
                    amount = Decimal(PRICES[kind]) + Decimal(n % 3) / 1000
                    event = _event(
                        moment, tag, n, campaign=campaign, ad=ad, kind=kind, spend=amount
                    )
                    sample.events.append(event)
                    key = (moment.strftime("%Y-%m-%dT%H:00:00Z"), str(campaign), str(ad))
                    row = sample.truth.setdefault(
                        key,
                        {"impressions": 0, "clicks": 0, "conversions": 0, "spend": Decimal(0)},
                    )
                    row[f"{kind}s"] += 1
                    row["spend"] += Decimal(repr(event["spend"]))
                    row.setdefault("user_set", set()).add(event["user_id"])
    for row in sample.truth.values():
        row["spend"] = row["spend"].quantize(Decimal("0.000001"))
        row["users"] = len(row.pop("user_set"))
    sample.duplicates = [dict(e) for e in sample.events[::10]]
    sample.bad_lines = _bad_lines(sample.events[0], tag)
    return sample


def partition_dir(landing: Path, hour: datetime) -> Path:
    """``<landing>/ad_logs/dt=YYYY-MM-DD/hour=HH``."""
    return landing / "ad_logs" / f"dt={hour:%Y-%m-%d}" / f"hour={hour:%H}"


def write_partition(landing: Path, sample: SampleSet, *, files: int = 2) -> Path:
    """Write the sample as ``part-*.jsonl`` files, then ``_SUCCESS`` (last)."""
    target = partition_dir(landing, sample.hour)
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("part-*"):
        old.unlink()
    (target / "_SUCCESS").unlink(missing_ok=True)
    lines = [json.dumps(e) for e in sample.events + sample.duplicates] + sample.bad_lines
    for index in range(files):
        chunk = lines[index::files]
        (target / f"part-{index:05d}.jsonl").write_text("\n".join(chunk) + "\n")
    marker = {
        "records": len(lines),
        "files": files,
        "generator": "pipelines/tools/sample_data.py",
        "written_at": datetime.now(UTC).isoformat(),
    }
    (target / "_SUCCESS").write_text(json.dumps(marker))
    return target


def main(argv: list[str]) -> int:
    """Write one sample partition and print its expected result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", required=True, type=Path)
    parser.add_argument("--hour", required=True, help="YYYY-MM-DDTHH (UTC)")
    parser.add_argument("--scale", type=int, default=1)
    args = parser.parse_args(argv)
    hour = datetime.strptime(args.hour, "%Y-%m-%dT%H").replace(tzinfo=UTC)
    sample = make_sample(hour, scale=args.scale)
    path = write_partition(args.landing, sample)
    expected = [
        {"hour": h, "campaign_id": c, "ad_id": a, **{k: str(v) for k, v in row.items()}}
        for (h, c, a), row in sorted(sample.truth.items())
    ]
    print(json.dumps({"partition": str(path), "records": sample.records, "rows": expected}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
