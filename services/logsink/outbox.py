"""What LogSink forwards, built in the ingestion transaction as outbox entries.

One entry per target and batch, holding the serialized request the forwarder sends:

* ``cost``: ``RecordSpendRequest`` with every stored record (texts removed);
* ``experiment``: ``RecordCallOutcomesRequest`` with the stored records that carry an
  experiment_id (texts removed);
* ``drift``: per monitor ``"<model>/<prompt_template>"``, ``ObserveRequest`` entries
  of at most ``MAX_DRIFT_TEXTS`` texts each with the stored (already redacted) response
  texts of a sample of the records and their request_ids. The sample is chosen from
  the request_id, so a replayed record is sampled the same way.

Every receiver deduplicates by request_id, so a redelivery after a crash or a retry
changes nothing.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from llmops.v1 import common_pb2, cost_pb2, drift_pb2, experiment_pb2

from services.logsink.store import OutboxEntry

COST = "cost"
EXPERIMENT = "experiment"
DRIFT = "drift"
MAX_MONITOR_ID_CHARS = 200
MAX_DRIFT_TEXTS = 500
"""Texts per ObserveRequest: the least DriftService's LLMOPS_DRIFT_MAX_TEXTS_PER_REQUEST
may be. A larger request would be refused as malformed and dropped by the forwarder."""


@dataclass(frozen=True)
class StoredRecord:
    """A record stored in this batch, as it was stored (error message truncated)."""

    record: common_pb2.CallRecord
    error_message: str
    response_text: str


def sampled(request_id: str, rate: float) -> bool:
    """Whether a record is in the drift sample: a stable function of its request_id."""
    if rate >= 1.0:
        return True
    if rate <= 0.0:
        return False
    digest = hashlib.sha256(request_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") < rate * 2**64


@dataclass(frozen=True)
class ForwardPlan:
    """Which targets are enabled; disabled targets get no outbox entries at all."""

    cost: bool = False
    experiment: bool = False
    drift_sample_rate: float = 0.0

    @property
    def enabled(self) -> bool:
        """True when any target receives records."""
        return self.cost or self.experiment or self.drift_sample_rate > 0

    def entries(self, stored: Sequence[StoredRecord]) -> list[OutboxEntry]:
        """The outbox entries for the records of one batch that were stored now."""
        if not stored:
            return []
        entries = []
        if self.cost or self.experiment:
            metadata_only = [_without_texts(s) for s in stored]
            if self.cost:
                request = cost_pb2.RecordSpendRequest(records=metadata_only)
                entries.append(OutboxEntry(COST, request.SerializeToString()))
            in_experiment = [r for r in metadata_only if r.experiment_id]
            if self.experiment and in_experiment:
                outcomes = experiment_pb2.RecordCallOutcomesRequest(records=in_experiment)
                entries.append(OutboxEntry(EXPERIMENT, outcomes.SerializeToString()))
        if self.drift_sample_rate > 0:
            texts: dict[str, list[str]] = defaultdict(list)
            request_ids: dict[str, list[str]] = defaultdict(list)
            for s in stored:
                monitor_id = f"{s.record.model}/{s.record.prompt_template}"
                if (
                    s.response_text
                    and len(monitor_id) <= MAX_MONITOR_ID_CHARS
                    and sampled(s.record.request_id, self.drift_sample_rate)
                ):
                    texts[monitor_id].append(s.response_text)
                    request_ids[monitor_id].append(s.record.request_id)
            for monitor_id, batch in sorted(texts.items()):
                ids = request_ids[monitor_id]
                for start in range(0, len(batch), MAX_DRIFT_TEXTS):
                    observe = drift_pb2.ObserveRequest(
                        monitor_id=monitor_id,
                        texts=batch[start : start + MAX_DRIFT_TEXTS],
                        request_ids=ids[start : start + MAX_DRIFT_TEXTS],
                    )
                    entries.append(OutboxEntry(DRIFT, observe.SerializeToString()))
        return entries


def _without_texts(stored: StoredRecord) -> common_pb2.CallRecord:
    copy = common_pb2.CallRecord()
    copy.CopyFrom(stored.record)
    copy.ClearField("prompt_text")
    copy.ClearField("response_text")
    copy.error_message = stored.error_message
    return copy
