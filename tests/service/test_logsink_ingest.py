"""LogSink ingestion over real gRPC: durability, idempotency, validation, texts."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path

import grpc
import psycopg
import pytest
import sqlalchemy as sa
import zstandard
from llmops.v1 import common_pb2, logsink_pb2
from prometheus_client import REGISTRY

from services.common.db import create_engine
from services.logsink.segments import segment_key
from services.logsink.store import RecordStore
from services.logsink.store import records as store_records
from tests.conftest import S3Server
from tests.service.logsink_support import (
    LogSink,
    batch,
    logsink,
    make_settings,
    record,
    sql_rows,
)

NOW_US = 1_800_000_000_000_000

STORED = logsink_pb2.RECORD_OUTCOME_STORED
DUPLICATE = logsink_pb2.RECORD_OUTCOME_DUPLICATE
REJECTED = logsink_pb2.RECORD_OUTCOME_REJECTED


async def _count(sink: LogSink, tenant: str = "default") -> int:
    total, token = 0, ""
    while True:
        page = await sink.stub.ListRecords(
            logsink_pb2.ListRecordsRequest(page_size=1000, page_token=token),
            metadata=(("x-llmops-tenant", tenant),),
        )
        total += len(page.records)
        token = page.next_page_token
        if not token:
            return total


def _outcome_samples(fields: Iterable[str]) -> dict[str, float]:
    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    outcomes = ("stored", "duplicate", "rejected")
    counts = {o: sample("logsink_records_total", outcome=o) for o in outcomes}
    return counts | {f: sample("logsink_rejected_records_total", field=f) for f in fields}


@pytest.mark.parametrize("store_kind", ["local", "s3"])
async def test_stream_acks_every_batch_in_order_and_texts_read_back(
    database_url: str, store_kind: str, tmp_path: Path, s3_server: S3Server
) -> None:
    settings = make_settings(database_url, store_kind, tmp_path, s3_server)
    async with logsink(settings) as sink:
        batches = [
            batch(
                f"b{n}",
                [
                    record(
                        f"req-{n}-{i}",
                        prompt_text=f"question {n}.{i} é",
                        response_text=f"answer {n}.{i} ✓",
                    )
                    for i in range(50)
                ],
            )
            for n in range(4)
        ]
        acks = await sink.stream(batches)
        assert [a.batch_id for a in acks] == ["b0", "b1", "b2", "b3"]
        assert all(a.stored == 50 and a.duplicates == 0 and a.rejected == 0 for a in acks)
        assert list(acks[0].results) == []
        got = await sink.stub.GetRecord(
            logsink_pb2.GetRecordRequest(request_id="req-2-17", include_text=True)
        )
        assert got.record.prompt_text == "question 2.17 é"
        assert got.record.response_text == "answer 2.17 ✓"
        assert got.record.timestamp.seconds == batches[0].records[0].timestamp.seconds
        assert got.ingest_time.seconds > 0
        without = await sink.stub.GetRecord(logsink_pb2.GetRecordRequest(request_id="req-2-17"))
        assert without.record.prompt_text == ""
        assert without.record.response_text == ""
        # One segment object per batch, not one per record.
        assert len(sink.objects.list("logsink/")) == 4
        # A page spanning several segments reads every record's texts back.
        page = await sink.stub.ListRecords(
            logsink_pb2.ListRecordsRequest(page_size=120, include_text=True)
        )
        assert len(page.records) == 120
        for listed in page.records:
            n, i = listed.request_id.removeprefix("req-").split("-")
            assert listed.prompt_text == f"question {n}.{i} é"
            assert listed.response_text == f"answer {n}.{i} ✓"
        assert await _count(sink) == 200


async def test_texts_of_many_frames_and_rows_of_earlier_formats_read_back(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, "local", tmp_path, None)
    async with logsink(settings) as sink:
        texts = {
            f"big-{i}": (f"prompt {i} " + "é" * (i * 500), f"answer {i}. " * 300) for i in range(12)
        }
        records = [record(i, prompt_text=p, response_text=r) for i, (p, r) in texts.items()]
        [ack] = await sink.stream([batch("b", records)])
        assert ack.stored == 12
        # Rows as earlier versions wrote them: one Zstandard frame per record, no index.
        compressor = zstandard.ZstdCompressor(level=1, write_checksum=True)
        old = {f"old-{i}": (f"old prompt {i}", f"old answer {i} ✓") for i in range(3)}
        frames = [
            compressor.compress(len(p.encode()).to_bytes(4, "big") + p.encode() + r.encode())
            for p, r in old.values()
        ]
        key = segment_key("default")
        sink.objects.put(key, b"".join(frames))
        rows = sql_rows(old, NOW_US)
        for n, row in enumerate(rows):
            row["text_offset"] = sum(map(len, frames[:n]))
            row["text_length"] = len(frames[n])
        engine = create_engine(database_url)
        store = RecordStore(engine)
        assert store.insert_batch("default", rows, key, NOW_US, lambda _: []) == set(old)
        with engine.connect() as conn:
            placed = conn.execute(
                sa.select(store_records.c.text_offset, store_records.c.text_index).where(
                    store_records.c.request_id.in_(texts)
                )
            ).all()
        engine.dispose()
        assert len({offset for offset, _ in placed}) > 1  # several frames in the segment
        assert all(index is not None for _, index in placed)
        page = await sink.stub.ListRecords(
            logsink_pb2.ListRecordsRequest(page_size=100, include_text=True)
        )
        got = {r.request_id: (r.prompt_text, r.response_text) for r in page.records}
        assert got == {**texts, **old}
        single = await sink.stub.GetRecord(
            logsink_pb2.GetRecordRequest(request_id="old-1", include_text=True)
        )
        assert (single.record.prompt_text, single.record.response_text) == old["old-1"]


@pytest.mark.parametrize("store_kind", ["local", "s3"])
async def test_replayed_batch_is_acknowledged_as_duplicates_and_stored_once(
    database_url: str, store_kind: str, tmp_path: Path, s3_server: S3Server
) -> None:
    settings = make_settings(database_url, store_kind, tmp_path, s3_server)
    async with logsink(settings) as sink:
        same = batch("again", [record(f"r{i}", response_text="hello") for i in range(30)])
        first = await sink.stream([same])
        duplicates_before = _outcome_samples([])["duplicate"]
        second = await sink.stream([same])
        assert _outcome_samples([])["duplicate"] - duplicates_before == 30
        assert (first[0].stored, first[0].duplicates) == (30, 0)
        assert (second[0].stored, second[0].duplicates) == (0, 30)
        assert [r.outcome for r in second[0].results] == [DUPLICATE] * 30
        assert [r.index for r in second[0].results] == list(range(30))
        assert await _count(sink) == 30


async def test_repeated_request_id_inside_one_batch_is_stored_once(
    database_url: str, tmp_path: Path
) -> None:
    async with logsink(make_settings(database_url, "local", tmp_path, None)) as sink:
        [ack] = await sink.stream([batch("b", [record("x"), record("y"), record("x")])])
        assert (ack.stored, ack.duplicates) == (2, 1)
        assert [(r.index, r.request_id, r.outcome) for r in ack.results] == [(2, "x", DUPLICATE)]
        assert await _count(sink) == 2


def _invalid_records() -> list[tuple[common_pb2.CallRecord, str]]:
    no_timestamp = record("no-ts")
    no_timestamp.ClearField("timestamp")
    future = record("future", seconds=4_000_000_000)
    cases = [
        (record(""), "request_id"),
        (record("x" * 129), "request_id"),
        (no_timestamp, "timestamp"),
        (future, "timestamp"),
        (record("no-model", model=""), "model"),
        (record("neg-in", input_tokens=-1), "usage.input_tokens"),
        (record("neg-out", output_tokens=-5), "usage.output_tokens"),
        (record("lat", latency_ms=-1.0), "latency_ms"),
        (record("nan", latency_ms=float("nan")), "latency_ms"),
        (record("status", status=common_pb2.CALL_STATUS_UNSPECIFIED), "status"),
        (record("status-99", status=99), "status"),
        (record("big", response_text="x" * 5000), "response_text"),
        (record("meta", metadata={"k": "v" * 300}), "metadata"),
    ]
    cached = record("cache")
    cached.usage.cache_read_input_tokens = 101
    cases.append((cached, "usage.cache_read_input_tokens"))
    money = record("money")
    money.billed_cost.currency_code = "usd"
    cases.append((money, "billed_cost.currency_code"))
    return cases


async def test_invalid_records_are_rejected_naming_the_field_and_the_rest_stored(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, "local", tmp_path, None, max_text_bytes=4096)
    cases = _invalid_records()
    records = [record("good-0")] + [r for r, _ in cases] + [record("good-1")]
    fields = Counter(field for _, field in cases)
    before = _outcome_samples(fields)
    async with logsink(settings) as sink:
        [ack] = await sink.stream([batch("mixed", records)])
        # Operators see the outcomes too: per outcome, and rejects per field.
        after = _outcome_samples(fields)
        assert after["stored"] - before["stored"] == 2
        assert after["rejected"] - before["rejected"] == len(cases)
        for field, count in fields.items():
            assert after[field] - before[field] == count, field
        assert (ack.stored, ack.rejected) == (2, len(cases))
        for result, (bad, field) in zip(ack.results, cases, strict=True):
            assert result.outcome == REJECTED
            assert result.request_id == bad.request_id
            assert result.reason.startswith(f"{field}:"), result.reason
        assert [r.index for r in ack.results] == list(range(1, len(cases) + 1))
        # The stream is still alive after the rejects.
        [later] = await sink.stream([batch("later", [record("good-2")])])
        assert later.stored == 1
        assert await _count(sink) == 3


async def test_a_nul_character_rejects_only_its_record_and_never_fails_the_batch(
    database_url: str, tmp_path: Path
) -> None:
    # PostgreSQL text cannot hold NUL: one such record used to fail its whole batch
    # (INTERNAL), which the client then retried forever.
    records = [
        record("good-0"),
        record("bad-user", user_id="u\x00x"),
        record("bad-model", model="gpt\x00"),
        record("bad-hash", prompt_hash="ab\x00"),
        record("nul-message", status=common_pb2.CALL_STATUS_ERROR, error_message="boom\x00!"),
    ]
    async with logsink(make_settings(database_url, "local", tmp_path, None)) as sink:
        [ack] = await sink.stream([batch("nul", records)])
        assert (ack.stored, ack.rejected) == (2, 3)
        reasons = {r.request_id: r.reason for r in ack.results}
        assert reasons["bad-user"].startswith("user_id:")
        assert reasons["bad-model"].startswith("model:")
        assert reasons["bad-hash"].startswith("prompt_hash:")
        # The call happened: its record is kept, the NUL replaced as truncation would.
        got = await sink.stub.GetRecord(logsink_pb2.GetRecordRequest(request_id="nul-message"))
        assert got.record.error_message == "boom\ufffd!"


async def test_long_error_message_is_truncated_to_500_characters(
    database_url: str, tmp_path: Path
) -> None:
    async with logsink(make_settings(database_url, "local", tmp_path, None)) as sink:
        failed = record(
            "err",
            status=common_pb2.CALL_STATUS_ERROR,
            error_type="rate_limit",
            error_message="é" * 800,
        )
        await sink.stream([batch("b", [failed])])
        got = await sink.stub.GetRecord(logsink_pb2.GetRecordRequest(request_id="err"))
        assert got.record.error_message == "é" * 500
        assert got.record.error_type == "rate_limit"


async def test_record_fields_round_trip_unchanged(database_url: str, tmp_path: Path) -> None:
    original = record(
        "full",
        provider="openai",
        prompt_hash="0123456789abcdef",
        user_id="u-1",
        experiment_id="exp",
        variant="B",
        metadata={"team": "search", "region": "eu"},
        time_to_first_token_ms=12.5,
        batch=True,
        tag="search",
        error_type="",
    )
    original.timestamp.nanos = 123_456_000
    original.usage.cache_read_input_tokens = 40
    original.usage.cache_creation_input_tokens = 10
    original.usage.output_tokens = 30
    original.usage.reasoning_output_tokens = 7
    original.usage.estimated = True
    original.billed_cost.currency_code = "USD"
    original.billed_cost.amount_micros = 1234
    async with logsink(make_settings(database_url, "local", tmp_path, None)) as sink:
        await sink.stream([batch("b", [original])])
        got = await sink.stub.GetRecord(logsink_pb2.GetRecordRequest(request_id="full"))
        assert got.record == original


async def test_write_records_client_stream_returns_one_summary(
    database_url: str, tmp_path: Path
) -> None:
    async with logsink(make_settings(database_url, "local", tmp_path, None)) as sink:
        requests = [
            logsink_pb2.WriteRecordsRequest(records=[record("a"), record("b")]),
            logsink_pb2.WriteRecordsRequest(records=[record("a"), record("", model="m")]),
        ]
        summary = await sink.stub.WriteRecords(iter(requests), timeout=30)
        assert (summary.received, summary.stored, summary.duplicates) == (4, 2, 1)
        [rejected] = summary.rejected
        assert (rejected.index, rejected.outcome) == (3, REJECTED)
        assert rejected.reason.startswith("request_id:")


async def test_get_record_errors_name_the_problem(database_url: str, tmp_path: Path) -> None:
    async with logsink(make_settings(database_url, "local", tmp_path, None)) as sink:
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await sink.stub.GetRecord(logsink_pb2.GetRecordRequest(request_id="nope"))
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.aio.AioRpcError) as empty:
            await sink.stub.GetRecord(logsink_pb2.GetRecordRequest())
        assert empty.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "request_id" in (empty.value.details() or "")


async def test_tenants_never_see_each_others_records(database_url: str, tmp_path: Path) -> None:
    async with logsink(make_settings(database_url, "local", tmp_path, None)) as sink:
        await sink.stream([batch("a", [record("shared-id", model="a-model")])], tenant="acme")
        [ack] = await sink.stream(
            [batch("b", [record("shared-id", model="b-model")])], tenant="globex"
        )
        # The same request_id in another tenant is a different record, not a duplicate.
        assert ack.stored == 1
        got = await sink.stub.GetRecord(
            logsink_pb2.GetRecordRequest(request_id="shared-id"),
            metadata=(("x-llmops-tenant", "globex"),),
        )
        assert got.record.model == "b-model"
        assert await _count(sink, "acme") == 1
        assert await _count(sink, "default") == 0


async def test_text_mode_none_keeps_no_text(database_url: str, tmp_path: Path) -> None:
    from services.logsink.settings import TextMode

    settings = make_settings(database_url, "local", tmp_path, None, text_mode=TextMode.NONE)
    async with logsink(settings) as sink:
        await sink.stream([batch("b", [record("t", prompt_text="secret", response_text="x")])])
        got = await sink.stub.GetRecord(
            logsink_pb2.GetRecordRequest(request_id="t", include_text=True)
        )
        assert (got.record.prompt_text, got.record.response_text) == ("", "")
        assert sink.objects.list() == []


SECRET = "0123456789abcdef0123456789abcdef"


async def test_redacted_mode_masks_pii_before_anything_is_stored(
    database_url: str, tmp_path: Path
) -> None:
    from services.logsink.settings import TextMode

    settings = make_settings(
        database_url, "local", tmp_path, None, text_mode=TextMode.REDACTED, pseudonym_secret=SECRET
    )
    async with logsink(settings) as sink:
        leaky = record(
            "pii",
            prompt_text="Mail jane.doe@example.com or call +1 415 555 0100",
            response_text="I wrote to jane.doe@example.com.",
        )
        await sink.stream([batch("b", [leaky, record("clean", response_text="nothing here")])])
        got = await sink.stub.GetRecord(
            logsink_pb2.GetRecordRequest(request_id="pii", include_text=True)
        )
        assert "jane.doe@example.com" not in got.record.prompt_text + got.record.response_text
        assert "[EMAIL_REDACTED]" in got.record.prompt_text
        assert "[PHONE_REDACTED]" in got.record.prompt_text
        assert got.record.response_text == "I wrote to [EMAIL_REDACTED]."
        clean = await sink.stub.GetRecord(
            logsink_pb2.GetRecordRequest(request_id="clean", include_text=True)
        )
        assert clean.record.response_text == "nothing here"
        # Nothing raw in the object store either: a segment decompresses as a run of
        # Zstandard frames (and the empty skippable frames that mark them).
        for key in sink.objects.list():
            frames = zstandard.ZstdDecompressor().decompressobj(read_across_frames=True)
            inflated = frames.decompress(sink.objects.get(key))
            assert b"[EMAIL_REDACTED]" in inflated
            assert b"jane.doe" not in inflated


async def test_pseudonyms_match_guardrail_and_differ_across_tenants(
    database_url: str, tmp_path: Path
) -> None:
    from services.guardrail.engine import GuardrailEngine
    from services.guardrail.pseudonym import parse_secret
    from services.logsink.settings import TextMode

    policy_file = tmp_path / "policies.yaml"
    policy_file.write_text(
        "default_policy: pseudo\n"
        "policies:\n"
        "  pseudo:\n"
        '    version: "1"\n'
        "    input:\n"
        "      - {detector: pii, action: redact, redaction_style: pseudonym}\n"
        "    output:\n"
        "      - {detector: pii, action: redact, redaction_style: pseudonym}\n"
    )
    settings = make_settings(
        database_url,
        "local",
        tmp_path,
        None,
        text_mode=TextMode.REDACTED,
        pseudonym_secret=SECRET,
        guardrail_policy_file=policy_file,
    )
    text = "contact jane.doe@example.com"
    async with logsink(settings) as sink:
        for tenant in ("acme", "globex"):
            await sink.stream([batch("b", [record("p", prompt_text=text)])], tenant=tenant)
        stored = {}
        for tenant in ("acme", "globex"):
            got = await sink.stub.GetRecord(
                logsink_pb2.GetRecordRequest(request_id="p", include_text=True),
                metadata=(("x-llmops-tenant", tenant),),
            )
            stored[tenant] = got.record.prompt_text
    guardrail = GuardrailEngine.from_policy_file(policy_file, pseudonym_secret=parse_secret(SECRET))
    assert stored["acme"] == guardrail.redact(text, tenant="acme")
    assert stored["acme"].startswith("contact <EMAIL_")
    assert stored["acme"] != stored["globex"]


async def test_object_store_failure_fails_the_stream_unavailable_and_stores_nothing(
    database_url: str, tmp_path: Path
) -> None:
    async with logsink(make_settings(database_url, "local", tmp_path, None)) as sink:
        # A file where the segment folder must go: every segment write fails.
        blocker = tmp_path / "objects" / "logsink"
        blocker.write_text("not a folder")
        same = batch("b", [record("t1", response_text="kept once")])
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await sink.stream([same])
        assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
        assert await _count(sink) == 0
        blocker.unlink()
        [ack] = await sink.stream([same])
        assert ack.stored == 1
        got = await sink.stub.GetRecord(
            logsink_pb2.GetRecordRequest(request_id="t1", include_text=True)
        )
        assert got.record.response_text == "kept once"


@contextlib.contextmanager
def _writes_blocked(database_url: str) -> Iterator[None]:
    """Another session holds the write lock of the records table: a stalled database."""
    if database_url.startswith("sqlite"):
        blocker = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        return
    with psycopg.connect(database_url) as blocker:
        blocker.execute("LOCK TABLE logsink_records IN SHARE ROW EXCLUSIVE MODE")
        yield
        blocker.rollback()


async def test_stalled_database_stops_reading_the_stream_instead_of_buffering(
    database_url: str, tmp_path: Path
) -> None:
    total = 120
    sent = 0

    async def requests() -> AsyncIterator[logsink_pb2.StreamRecordsRequest]:
        nonlocal sent
        for n in range(total):
            sent += 1
            yield batch(f"b{n}", [record(f"{n}-{i}", response_text="x" * 8000) for i in range(25)])

    async with logsink(make_settings(database_url, "local", tmp_path, None)) as sink:
        await sink.stream([batch("warm-up", [record("w")])])
        acks: list[logsink_pb2.StreamRecordsResponse] = []
        with _writes_blocked(database_url):
            call = sink.stub.StreamRecords(requests(), timeout=60)

            async def collect() -> None:
                acks.extend([ack async for ack in call])

            collector = asyncio.create_task(collect())
            await asyncio.sleep(2.0)
            assert acks == []
            # About 200 KB per batch: three in LogSink's pipeline, some more in the HTTP/2
            # flow-control windows (a fixed number of bytes, not a share of the stream);
            # the client generator is held back instead of the server buffering it all.
            assert sent < 60, sent
        await collector
        assert [a.batch_id for a in acks] == [f"b{n}" for n in range(total)]
        assert sum(a.stored for a in acks) == total * 25


async def test_partly_replayed_batch_stores_only_the_new_records(
    database_url: str, tmp_path: Path
) -> None:
    async with logsink(make_settings(database_url, "local", tmp_path, None)) as sink:
        await sink.stream([batch("first", [record("a"), record("b", response_text="old b")])])
        [ack] = await sink.stream(
            [
                batch(
                    "second",
                    [
                        record("b", response_text="new b"),
                        record("c"),
                        record("a"),
                        record("d", response_text="d"),
                    ],
                )
            ]
        )
        assert (ack.stored, ack.duplicates) == (2, 2)
        assert [(r.index, r.request_id, r.outcome) for r in ack.results] == [
            (0, "b", DUPLICATE),
            (2, "a", DUPLICATE),
        ]
        got = await sink.stub.GetRecord(
            logsink_pb2.GetRecordRequest(request_id="b", include_text=True)
        )
        assert got.record.response_text == "old b"
        assert await _count(sink) == 4


async def test_large_batch_with_scattered_duplicates_stores_and_reads_back_the_rest(
    database_url: str, tmp_path: Path
) -> None:
    # 1,250 records: SQLite inserts them as statements of 1,000, 100, 100 and 50 rows;
    # earlier copies sit in each.
    earlier = [5, 1050, 1150, 1240]
    async with logsink(make_settings(database_url, "local", tmp_path, None)) as sink:
        await sink.stream([batch("first", [record(f"r{i}", response_text="old") for i in earlier])])
        [ack] = await sink.stream(
            [batch("big", [record(f"r{i}", response_text=f"text {i}") for i in range(1250)])]
        )
        assert (ack.stored, ack.duplicates) == (1246, 4)
        assert [(r.index, r.outcome) for r in ack.results] == [(i, DUPLICATE) for i in earlier]
        for i in (0, 5, 999, 1000, 1050, 1099, 1100, 1150, 1199, 1200, 1240, 1249):
            got = await sink.stub.GetRecord(
                logsink_pb2.GetRecordRequest(request_id=f"r{i}", include_text=True)
            )
            assert got.record.response_text == ("old" if i in earlier else f"text {i}")
        assert await _count(sink) == 1250


async def test_concurrent_streams_sending_the_same_records_store_each_once(
    database_url: str, tmp_path: Path
) -> None:
    batches = [
        batch(f"b{n}", [record(f"{n}-{i}", response_text=f"t{n}-{i}") for i in range(40)])
        for n in range(8)
    ]
    async with logsink(make_settings(database_url, "local", tmp_path, None)) as sink:
        # Three clients replay the same batches at once, in different orders.
        results = await asyncio.gather(
            sink.stream(batches),
            sink.stream(list(reversed(batches))),
            sink.stream(batches[4:] + batches[:4]),
        )
        acks = [ack for stream in results for ack in stream]
        assert sum(a.stored for a in acks) == 8 * 40
        assert sum(a.duplicates for a in acks) == 2 * 8 * 40
        assert await _count(sink) == 8 * 40
        got = await sink.stub.GetRecord(
            logsink_pb2.GetRecordRequest(request_id="5-17", include_text=True)
        )
        assert got.record.response_text == "t5-17"
