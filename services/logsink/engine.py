"""LogSink's domain logic: ingest batches durably, read records back, aggregate, purge.

Blocking (SQL, object store, redaction): the servicer runs every method in a worker
thread. Ingestion order for one batch, which is what makes an ack trustworthy:

1. validate each record; drop repeats of a request_id inside the batch;
2. redact the texts (per the text mode) and pack them into one segment object;
3. write the segment object durably -- *before* SQL, so a committed row never points
   at a missing object (a crash here only leaves an orphan object behind);
4. in one transaction: the segment row, the records (``ON CONFLICT DO NOTHING``,
   returning which request_ids were new) and the outbox entries for those new ones;
5. only after the commit: update the LLM metrics and return the outcomes, which the
   servicer turns into the acknowledgement.
"""

from __future__ import annotations

import enum
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from llmops.v1 import common_pb2

from services.common.errors import LlmopsError, NotFound, Unavailable
from services.common.objectstore import ObjectStore
from services.logsink.metrics import LlmMetrics, count_outcomes
from services.logsink.outbox import ForwardPlan, StoredRecord
from services.logsink.records import Limits, from_row, parse
from services.logsink.segments import SegmentBuilder, decode_frame, decode_texts, segment_key
from services.logsink.settings import TextMode
from services.logsink.store import GroupStats, RecordFilter, RecordStore, StoredText, TenantScope

logger = logging.getLogger(__name__)

Redactor = Callable[[str, str], str]
"""``redact(text, tenant) -> text`` with the tenant's redaction policy applied."""


class Outcome(enum.Enum):
    """What happened to a record that was not stored now (stored ones are implied)."""

    DUPLICATE = 2
    REJECTED = 3


@dataclass(frozen=True)
class RecordResult:
    """The outcome of one record that was not simply stored."""

    index: int
    request_id: str
    outcome: Outcome
    reason: str = ""


@dataclass(frozen=True)
class BatchResult:
    """Outcome of one batch; ``results`` lists duplicates and rejects in batch order."""

    stored: int
    results: list[RecordResult]

    @property
    def duplicates(self) -> int:
        """Records already stored earlier (or earlier in the same batch)."""
        return sum(1 for r in self.results if r.outcome is Outcome.DUPLICATE)

    @property
    def rejected(self) -> int:
        """Records that failed validation."""
        return sum(1 for r in self.results if r.outcome is Outcome.REJECTED)


@dataclass
class PreparedBatch:
    """A validated batch with its texts packed into a segment; nothing stored yet.

    ``segment`` holds the segment's bytes until :meth:`LogSinkEngine.write_texts` has
    made them durable under ``segment_key``; it is None from then on, or when there is
    no text to keep.
    """

    tenant: str
    ingest_us: int
    accepted: list[tuple[int, common_pb2.CallRecord, dict[str, Any]]]
    responses: list[str]
    segment_key: str | None
    segment: bytes | None
    results: list[RecordResult]


@dataclass(frozen=True)
class FullRecord:
    """A stored record with its texts (empty unless asked for) and ingest time."""

    record: common_pb2.CallRecord
    ingest_us: int


MAX_PAGE_TEXT_BYTES = 2 * 1024 * 1024
"""Text bytes one page of records with texts may hold (one record at least): well under
the 4 MiB a gRPC client accepts by default."""


def _counted(result: BatchResult) -> BatchResult:
    """``result``, once its outcomes are counted in the ingestion metrics."""
    count_outcomes(
        result.stored,
        result.duplicates,
        (r.reason for r in result.results if r.outcome is Outcome.REJECTED),
    )
    return result


@contextmanager
def _object_store_unavailable() -> Iterator[None]:
    """Any failure of the object store client (I/O, HTTP, S3 error) is UNAVAILABLE."""
    try:
        yield
    except LlmopsError:
        raise
    except Exception as exc:
        logger.warning("object store unavailable: %s", type(exc).__name__)
        raise Unavailable("object store unavailable; retry later") from exc


def now_us() -> int:
    """The wall clock in integer microseconds since the epoch."""
    return time.time_ns() // 1000


class LogSinkEngine:
    """Ingestion, queries and retention over one SQL store and one object store."""

    def __init__(
        self,
        store: RecordStore,
        objects: ObjectStore,
        *,
        limits: Limits,
        text_mode: TextMode,
        redactor: Redactor | None,
        forward: ForwardPlan,
        metrics: LlmMetrics,
    ) -> None:
        if text_mode is TextMode.REDACTED and redactor is None:
            raise ValueError("text mode 'redacted' needs a redactor")
        self._store = store
        self._objects = objects
        self._limits = limits
        self._text_mode = text_mode
        self._redactor = redactor
        self._forward = forward
        self._metrics = metrics

    def prepare(self, tenant: str, batch: Sequence[common_pb2.CallRecord]) -> PreparedBatch:
        """Steps 1-2: validate, redact, pack the texts; never raises for a bad record.

        Then :meth:`write_texts` and :meth:`commit`, in that order. Three steps so that
        a stream prepares one batch while the previous one's segment is being written
        and the one before that commits.
        """
        ingest_us = now_us()
        results: list[RecordResult] = []
        accepted: list[tuple[int, common_pb2.CallRecord, dict[str, Any]]] = []
        seen: set[str] = set()
        for index, record in enumerate(batch):
            row = parse(record, tenant, ingest_us, self._limits)
            if isinstance(row, str):
                results.append(RecordResult(index, record.request_id, Outcome.REJECTED, row))
            elif row["request_id"] in seen:
                results.append(RecordResult(index, row["request_id"], Outcome.DUPLICATE))
            else:
                seen.add(row["request_id"])
                accepted.append((index, record, row))
        responses, segment = self._pack_texts(tenant, accepted) if accepted else ([], None)
        key = segment_key(tenant) if segment is not None else None
        return PreparedBatch(tenant, ingest_us, accepted, responses, key, segment, results)

    def write_texts(self, prepared: PreparedBatch) -> None:
        """Step 3: make the batch's segment durable in the object store.

        Nothing is in SQL yet, so a batch that is never committed leaves only an orphan
        object.
        """
        if prepared.segment is None:
            return
        assert prepared.segment_key is not None
        with _object_store_unavailable():
            self._objects.put(prepared.segment_key, prepared.segment)
        prepared.segment = None

    def commit(self, prepared: PreparedBatch) -> BatchResult:
        """Steps 4-5: one transaction for records and outbox, then metrics."""
        if prepared.segment is not None:
            raise RuntimeError("commit before write_texts: the rows would point at no object")
        accepted = prepared.accepted
        results = list(prepared.results)
        if not accepted:
            return _counted(BatchResult(0, results))
        rows = [row for _, _, row in accepted]

        def outbox_for(stored_ids: set[str]) -> Any:
            if not self._forward.enabled:
                return []
            return self._forward.entries(
                [
                    StoredRecord(record, row["error_message"], response)
                    for (_, record, row), response in zip(accepted, prepared.responses, strict=True)
                    if row["request_id"] in stored_ids
                ]
            )

        stored_ids = self._store.insert_batch(
            prepared.tenant, rows, prepared.segment_key, prepared.ingest_us, outbox_for
        )
        if len(stored_ids) < len(accepted):
            for index, _, row in accepted:
                if row["request_id"] not in stored_ids:
                    results.append(RecordResult(index, row["request_id"], Outcome.DUPLICATE))
            results.sort(key=lambda r: r.index)
        self._metrics.observe(row for row in rows if row["request_id"] in stored_ids)
        return _counted(BatchResult(len(stored_ids), results))

    def _pack_texts(
        self, tenant: str, accepted: list[tuple[int, common_pb2.CallRecord, dict[str, Any]]]
    ) -> tuple[list[str], bytes | None]:
        """Pack the kept texts into one segment; returns the stored responses and it."""
        if self._text_mode is TextMode.NONE:
            return [""] * len(accepted), None
        redact = self._redactor if self._text_mode is TextMode.REDACTED else None
        builder = SegmentBuilder()
        responses = []
        with_texts = []
        for _, record, row in accepted:
            prompt, response = record.prompt_text, record.response_text
            if redact is not None:
                prompt = redact(prompt, tenant) if prompt else prompt
                response = redact(response, tenant) if response else response
            responses.append(response)
            if prompt or response:
                builder.add(prompt, response)
                with_texts.append(row)
        if not with_texts:
            return responses, None
        payload, locations = builder.finish()
        for row, (offset, length, index) in zip(with_texts, locations, strict=True):
            row["text_offset"], row["text_length"], row["text_index"] = offset, length, index
        return responses, payload

    def get(self, tenant: str, request_id: str, include_text: bool) -> FullRecord:
        """One record by request_id; raises NotFound."""
        found = self._store.get(tenant, request_id)
        if found is None:
            raise NotFound(f"record {request_id!r} not found", {"request_id": request_id})
        row, text = found
        record = from_row(row)
        if include_text and text is not None:
            [(record.prompt_text, record.response_text)] = self._read_texts([text])
        return FullRecord(record, row["ingest_us"])

    def page(
        self,
        tenant: str,
        where: RecordFilter,
        limit: int,
        after: tuple[int, int] | None,
        include_text: bool,
    ) -> tuple[list[common_pb2.CallRecord], tuple[int, int] | None]:
        """A page of records, newest first, and the cursor of the next page (None at the end).

        One more row than asked is read to learn whether another page exists.
        """
        found = self._store.page(tenant, where, limit + 1, after)
        more = len(found) > limit
        found = found[:limit]
        page = [from_row(row) for row, _ in found]
        if include_text:
            # Texts are up to max_text_bytes each, so a full page of them could hold
            # gigabytes: the page ends once MAX_PAGE_TEXT_BYTES are read (stored,
            # then decompressed), and the cursor goes on from there.
            budget, end = MAX_PAGE_TEXT_BYTES, len(found)
            for i, (_, text) in enumerate(found):
                budget -= text.length if text is not None else 0
                if budget < 0 and i > 0:
                    end = i
                    break
            wanted = [(i, text) for i, (_, text) in enumerate(found[:end]) if text is not None]
            texts = self._read_texts([text for _, text in wanted], MAX_PAGE_TEXT_BYTES)
            for (i, _), (prompt, response) in zip(wanted, texts, strict=False):
                page[i].prompt_text, page[i].response_text = prompt, response
            if len(texts) < len(wanted):
                end = wanted[len(texts)][0]
            if end < len(found):
                found, page, more = found[:end], page[:end], True
        cursor = (found[-1][0]["ts_us"], found[-1][0]["id"]) if more else None
        return page, cursor

    def _read_texts(
        self, locations: Sequence[StoredText], budget: int | None = None
    ) -> list[tuple[str, str]]:
        """Texts of many records with one ranged read per segment object.

        With a ``budget`` of bytes, decoding stops before the record that would exceed
        it (the first record is always decoded), so fewer texts may come back.
        """
        by_key: dict[str, list[StoredText]] = defaultdict(list)
        for location in locations:
            by_key[location.object_key].append(location)
        # One slice per frame (object key, offset), however many records share it.
        chunks: dict[tuple[str, int], bytes] = {}
        for key, parts in by_key.items():
            start = min(p.offset for p in parts)
            end = max(p.offset + p.length for p in parts)
            with _object_store_unavailable():
                span = self._objects.get_range(key, start, end - start)
            for p in parts:
                if (key, p.offset) not in chunks:
                    chunks[key, p.offset] = span[p.offset - start : p.offset - start + p.length]
        frames: dict[tuple[str, int], list[tuple[str, str]]] = {}
        texts: list[tuple[str, str]] = []
        for location in locations:
            frame = (location.object_key, location.offset)
            if location.index is None:  # written alone, in an earlier format
                prompt, response = decode_texts(chunks[frame])
            else:
                if frame not in frames:
                    frames[frame] = decode_frame(chunks[frame])
                if location.index >= len(frames[frame]):
                    raise ValueError("segment frame is corrupt (fewer records than indexed)")
                prompt, response = frames[frame][location.index]
            if budget is not None:
                budget -= len(prompt.encode()) + len(response.encode())
                if budget < 0 and texts:
                    break
            texts.append((prompt, response))
        return texts

    def stats(
        self, tenant: str, where: RecordFilter, by_model: bool, by_template: bool
    ) -> list[GroupStats]:
        """Aggregates per group (see :meth:`RecordStore.stats`)."""
        return self._store.stats(tenant, where, by_model, by_template)

    def purge(self, scope: TenantScope, before_us: int) -> tuple[int, int]:
        """Delete records older than ``before_us`` and segments left without records.

        Rows go first and objects after, so a crash in between leaves segment rows
        pointing at objects nobody reads; the next purge finds and removes them.
        """
        deleted_records = self._store.delete_before(scope, before_us)
        empty = self._store.empty_segments(scope, before_us)
        with _object_store_unavailable():
            for _, key in empty:
                self._objects.delete(key)
        if empty:
            self._store.delete_segments([segment_id for segment_id, _ in empty])
        if deleted_records or empty:
            logger.info(
                "purged %d records and %d segments",
                deleted_records,
                len(empty),
                extra={"tenant": scope.tenant or "*"},
            )
        return deleted_records, len(empty)


@dataclass(frozen=True)
class Retention:
    """How long records are kept: a default, and per-tenant overrides (0 = forever)."""

    default_days: int
    days_by_tenant: dict[str, int]

    @property
    def enabled(self) -> bool:
        """Whether anything is ever deleted."""
        return self.default_days > 0 or any(d > 0 for d in self.days_by_tenant.values())

    def run(self, engine: LogSinkEngine, now: int) -> None:
        """One retention pass: each overridden tenant, then everyone else."""
        for tenant, days in sorted(self.days_by_tenant.items()):
            if days > 0:
                engine.purge(TenantScope(tenant=tenant), now - days * _DAY_US)
        if self.default_days > 0:
            others = TenantScope(exclude=frozenset(self.days_by_tenant))
            engine.purge(others, now - self.default_days * _DAY_US)


_DAY_US = 86_400 * 1_000_000
