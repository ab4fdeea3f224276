"""Events → Kafka messages: one JSON record per message, keyed by campaign.

Values are the landing zone's JSON lines (same encoder, same bad-data
renditions) without their newline: rendered without one, into one Arrow array.
Keys are the campaign id as text; the partition of each campaign is computed
once with Kafka's default partitioner (murmur2 of the key, as the Java client
does), so a record lands where a keyed ``send`` would put it without hashing
every record in Python.
"""

from __future__ import annotations

import warnings

import numpy as np
import pyarrow as pa

from dagstorm.workloads.encoding.jsonl import JsonlEncoder
from dagstorm.workloads.encoding.jsonl_variants import apply_variants
from dagstorm.workloads.kafka.records import KeyTable
from dagstorm.workloads.model.catalog import Catalog
from dagstorm.workloads.model.events import EventColumns

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka.partitioner.default import murmur2


def key_partitions(keys: list[bytes], partitions: int) -> np.ndarray:
    """Kafka's default partition of each key (``toPositive(murmur2(key)) % n``)."""
    return np.array([(murmur2(k) & 0x7FFFFFFF) % partitions for k in keys], dtype=np.int32)


class MessageEncoder:
    """Values, keys and partitions of a batch of events, for one catalogue and topic."""

    def __init__(self, catalog: Catalog, partitions: int) -> None:
        self.encoder = JsonlEncoder(catalog, end="")
        self.catalog = catalog
        campaign_keys = [str(int(c)).encode() for c in catalog.campaign_ids]
        #: The keys: one row per campaign.
        self.key_table = KeyTable.of(campaign_keys)
        self._ad_campaign = np.asarray(catalog.ad_campaign, dtype=np.int64)
        self._ad_partition = key_partitions(campaign_keys, partitions)[catalog.ad_campaign]

    def partitions(self, events: EventColumns) -> np.ndarray:
        """The partition of each event (by its campaign)."""
        return self._ad_partition[events.ad]

    def key_index(self, events: EventColumns) -> np.ndarray:
        """Each event's row in :attr:`key_table` (its campaign)."""
        index: np.ndarray = self._ad_campaign[events.ad]
        return index

    def value_column(self, events: EventColumns) -> tuple[pa.StringArray, np.ndarray]:
        """One JSON record per event (no newline) as an Arrow array, and the length of each."""
        texts = apply_variants(self.catalog, events, self.encoder.lines(events), end="")
        return texts, np.diff(_bounds(texts)).astype(np.int64)

    def values(self, events: EventColumns) -> tuple[list[bytes], np.ndarray]:
        """One JSON record per event (no newline) as ``bytes``, and the length of each."""
        texts, lengths = self.value_column(events)
        if len(texts) == 0:
            return [], lengths
        bounds = _bounds(texts).tolist()
        data_buf = texts.buffers()[2]
        assert data_buf is not None
        data = data_buf.to_pybytes()
        return list(map(data.__getitem__, map(slice, bounds[:-1], bounds[1:]))), lengths


def _bounds(texts: pa.StringArray) -> np.ndarray:
    """Where each text starts in the array's data, then where the last one ends."""
    offsets_buf = texts.buffers()[1]
    assert offsets_buf is not None
    offsets = np.frombuffer(offsets_buf, dtype=np.int32)
    return offsets[texts.offset : texts.offset + len(texts) + 1]
