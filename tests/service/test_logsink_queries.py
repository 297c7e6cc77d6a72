"""LogSink queries, stats, purge and retention over real gRPC, checked by hand."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
import time
from pathlib import Path

import grpc
import numpy as np
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from llmops.v1 import common_pb2, logsink_pb2

from services.logsink.engine import MAX_PAGE_TEXT_BYTES
from tests.conftest import S3Server
from tests.service.logsink_support import (
    BASE_SECONDS,
    LogSink,
    batch,
    logsink,
    make_settings,
    record,
)

ERROR = common_pb2.CALL_STATUS_ERROR
TIMEOUT = common_pb2.CALL_STATUS_TIMEOUT


def _ts(seconds: int) -> Timestamp:
    return Timestamp(seconds=seconds)


async def _list_all(sink: LogSink, request: logsink_pb2.ListRecordsRequest) -> list[str]:
    ids: list[str] = []
    while True:
        page = await sink.stub.ListRecords(request)
        assert len(page.records) <= (request.page_size or 100)
        ids += [r.request_id for r in page.records]
        if not page.next_page_token:
            return ids
        request.page_token = page.next_page_token


async def test_list_pages_newest_first_with_filters(database_url: str, tmp_path: Path) -> None:
    records = [
        record(
            f"r{i:02d}",
            # Pairs share a timestamp, so the order inside a second comes from the tie-break.
            seconds=BASE_SECONDS + i // 2,
            model="a" if i % 3 else "b",
            status=ERROR if i % 4 == 0 else common_pb2.CALL_STATUS_SUCCESS,
            user_id=f"u{i % 2}",
            experiment_id="exp" if i < 10 else "",
            variant="A" if i % 2 else "B",
        )
        for i in range(25)
    ]
    async with logsink(make_settings(database_url, "local", tmp_path, None)) as sink:
        # Two batches, the newer records first, so insertion order is not time order.
        await sink.stream([batch("new", records[12:]), batch("old", records[:12])])
        everything = await _list_all(sink, logsink_pb2.ListRecordsRequest(page_size=7))
        by_time = sorted(records, key=lambda r: r.timestamp.seconds, reverse=True)
        assert len(everything) == 25
        assert len(set(everything)) == 25
        seconds = {r.request_id: r.timestamp.seconds for r in records}
        assert [seconds[i] for i in everything] == [r.timestamp.seconds for r in by_time]

        def expect(keep: object) -> list[str]:
            return sorted(
                (r.request_id for r in records if keep(r)),  # type: ignore[operator]
                key=lambda i: seconds[i],
                reverse=True,
            )

        cases = [
            (logsink_pb2.RecordFilter(model="b"), lambda r: r.model == "b"),
            (logsink_pb2.RecordFilter(status=ERROR), lambda r: r.status == ERROR),
            (logsink_pb2.RecordFilter(user_id="u1"), lambda r: r.user_id == "u1"),
            (
                logsink_pb2.RecordFilter(experiment_id="exp", variant="A"),
                lambda r: r.experiment_id == "exp" and r.variant == "A",
            ),
            (
                logsink_pb2.RecordFilter(
                    time_range=common_pb2.TimeRange(
                        start_time=_ts(BASE_SECONDS + 3), end_time=_ts(BASE_SECONDS + 8)
                    )
                ),
                lambda r: BASE_SECONDS + 3 <= r.timestamp.seconds < BASE_SECONDS + 8,
            ),
        ]
        for where, keep in cases:
            got = await _list_all(sink, logsink_pb2.ListRecordsRequest(filter=where, page_size=3))
            want = expect(keep)
            assert sorted(got) == sorted(want), where
            assert [seconds[i] for i in got] == [seconds[i] for i in want], where


async def test_list_rejects_bad_tokens_and_arguments(database_url: str, tmp_path: Path) -> None:
    async with logsink(make_settings(database_url, "local", tmp_path, None)) as sink:
        await sink.stream(
            [batch("b", [record(f"r{i}", seconds=BASE_SECONDS + i) for i in range(5)])]
        )
        first = await sink.stub.ListRecords(logsink_pb2.ListRecordsRequest(page_size=2))
        assert first.next_page_token
        bad_requests = {
            "page_token": [
                logsink_pb2.ListRecordsRequest(page_token="not a token"),
                # A token is bound to the filter it was issued for.
                logsink_pb2.ListRecordsRequest(
                    page_token=first.next_page_token, filter=logsink_pb2.RecordFilter(model="x")
                ),
            ],
            "page_size": [logsink_pb2.ListRecordsRequest(page_size=-1)],
            "filter.time_range": [
                logsink_pb2.ListRecordsRequest(
                    filter=logsink_pb2.RecordFilter(
                        time_range=common_pb2.TimeRange(
                            start_time=_ts(BASE_SECONDS), end_time=_ts(BASE_SECONDS)
                        )
                    )
                )
            ],
            "filter.status": [
                logsink_pb2.ListRecordsRequest(filter=logsink_pb2.RecordFilter(status=42))
            ],
        }
        for field, requests in bad_requests.items():
            for request in requests:
                with pytest.raises(grpc.aio.AioRpcError) as error:
                    await sink.stub.ListRecords(request)
                assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
                assert (error.value.details() or "").startswith(f"{field}:")


async def test_list_rejects_forged_tokens_with_out_of_range_cursors(
    database_url: str, tmp_path: Path
) -> None:
    fingerprint = hashlib.sha256(b"").hexdigest()[:16]
    forged = [
        f'{{"t": Infinity, "i": 1, "f": "{fingerprint}"}}',
        f'{{"t": NaN, "i": 1, "f": "{fingerprint}"}}',
        f'{{"t": {2**70}, "i": 1, "f": "{fingerprint}"}}',
        f'{{"t": 1, "i": {-(2**70)}, "f": "{fingerprint}"}}',
    ]
    async with logsink(make_settings(database_url, "local", tmp_path, None)) as sink:
        await sink.stream([batch("b", [record("r0", seconds=BASE_SECONDS)])])
        for document in forged:
            token = base64.urlsafe_b64encode(document.encode()).decode()
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await sink.stub.ListRecords(logsink_pb2.ListRecordsRequest(page_token=token))
            assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT, document
            assert (error.value.details() or "").startswith("page_token:")


async def test_a_page_with_texts_stops_at_a_byte_budget_and_pages_on(
    database_url: str, tmp_path: Path
) -> None:
    # 1000 records of 1 MiB texts each used to be read into memory for one response.
    big = "x" * (1024 * 1024)
    records = [record(f"r{i}", seconds=BASE_SECONDS + i, response_text=big) for i in range(6)]
    async with logsink(make_settings(database_url, "local", tmp_path, None)) as sink:
        await sink.stream([batch("b", records[:3]), batch("c", records[3:])])
        seen: list[str] = []
        request = logsink_pb2.ListRecordsRequest(page_size=1000, include_text=True)
        while True:
            page = await sink.stub.ListRecords(request)
            assert 1 <= len(page.records) < 6
            assert sum(len(r.response_text) for r in page.records) <= MAX_PAGE_TEXT_BYTES
            assert all(r.response_text == big for r in page.records)
            seen += [r.request_id for r in page.records]
            if not page.next_page_token:
                break
            request.page_token = page.next_page_token
        assert seen == [f"r{i}" for i in reversed(range(6))]


async def test_a_nul_in_a_query_string_is_invalid_argument(
    database_url: str, tmp_path: Path
) -> None:
    # PostgreSQL text cannot hold NUL: these failed INTERNAL there.
    async with logsink(make_settings(database_url, "local", tmp_path, None)) as sink:
        calls = [
            (sink.stub.GetRecord(logsink_pb2.GetRecordRequest(request_id="r\x00")), "request_id"),
            (
                sink.stub.ListRecords(
                    logsink_pb2.ListRecordsRequest(filter=logsink_pb2.RecordFilter(model="m\x00"))
                ),
                "filter.model",
            ),
            (
                sink.stub.GetStats(
                    logsink_pb2.GetStatsRequest(filter=logsink_pb2.RecordFilter(user_id="\x00"))
                ),
                "filter.user_id",
            ),
        ]
        for call, field in calls:
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await call
            assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT, field
            assert (error.value.details() or "").startswith(f"{field}:")


async def test_stats_match_hand_computed_values(database_url: str, tmp_path: Path) -> None:
    records = [
        # model a, template t1: latencies 100, 200, 300, 400; one error, one timeout.
        record(
            "a1", model="a", prompt_template="t1", latency_ms=400, input_tokens=10, output_tokens=1
        ),
        record(
            "a2", model="a", prompt_template="t1", latency_ms=100, input_tokens=20, output_tokens=2
        ),
        record(
            "a3",
            model="a",
            prompt_template="t1",
            latency_ms=300,
            input_tokens=30,
            output_tokens=3,
            status=ERROR,
        ),
        record(
            "a4",
            model="a",
            prompt_template="t1",
            latency_ms=200,
            input_tokens=40,
            output_tokens=4,
            status=TIMEOUT,
        ),
        # model a, template t2: one record.
        record(
            "a5", model="a", prompt_template="t2", latency_ms=50, input_tokens=5, output_tokens=5
        ),
        # model b, template t1: outside the window below.
        record("b1", model="b", prompt_template="t1", latency_ms=1000, seconds=BASE_SECONDS + 100),
    ]
    records[0].usage.cache_read_input_tokens = 7
    records[1].usage.reasoning_output_tokens = 2
    window = logsink_pb2.RecordFilter(
        time_range=common_pb2.TimeRange(
            start_time=_ts(BASE_SECONDS), end_time=_ts(BASE_SECONDS + 50)
        )
    )
    async with logsink(make_settings(database_url, "local", tmp_path, None)) as sink:
        await sink.stream([batch("b", records)])
        by_both = await sink.stub.GetStats(
            logsink_pb2.GetStatsRequest(
                filter=window,
                group_by=[
                    logsink_pb2.STATS_GROUP_BY_PROMPT_TEMPLATE,
                    logsink_pb2.STATS_GROUP_BY_MODEL,
                ],
            )
        )
        [t1, t2] = by_both.groups
        assert (t1.model, t1.prompt_template, t1.count, t1.error_count) == ("a", "t1", 4, 2)
        assert t1.error_rate == 0.5
        # Type 7: p50 at rank 1.5 -> 250; p95 at rank 2.85 -> 385; p99 at rank 2.97 -> 397.
        assert t1.latency_p50_ms == pytest.approx(250.0, abs=1e-9)
        assert t1.latency_p95_ms == pytest.approx(385.0, abs=1e-9)
        assert t1.latency_p99_ms == pytest.approx(397.0, abs=1e-9)
        assert (t1.input_tokens, t1.output_tokens) == (100, 10)
        assert (t1.cache_read_input_tokens, t1.reasoning_output_tokens) == (7, 2)
        assert (t2.prompt_template, t2.count, t2.error_count, t2.error_rate) == ("t2", 1, 0, 0.0)
        assert t2.latency_p50_ms == t2.latency_p99_ms == 50.0

        overall = await sink.stub.GetStats(logsink_pb2.GetStatsRequest())
        [everything] = overall.groups
        assert (everything.model, everything.prompt_template, everything.count) == ("", "", 6)
        # Six values 50..1000: p50 at rank 2.5 -> (200 + 300) / 2.
        assert everything.latency_p50_ms == pytest.approx(250.0, abs=1e-9)

        per_model = await sink.stub.GetStats(
            logsink_pb2.GetStatsRequest(group_by=[logsink_pb2.STATS_GROUP_BY_MODEL])
        )
        assert [(g.model, g.prompt_template, g.count) for g in per_model.groups] == [
            ("a", "", 5),
            ("b", "", 1),
        ]
        empty = await sink.stub.GetStats(
            logsink_pb2.GetStatsRequest(filter=logsink_pb2.RecordFilter(model="nobody"))
        )
        assert list(empty.groups) == []
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await sink.stub.GetStats(logsink_pb2.GetStatsRequest(group_by=[0]))
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_stats_percentiles_match_numpy_for_every_group_size(
    database_url: str, tmp_path: Path
) -> None:
    # Group sizes around the rank boundaries of p95/p99 (1, 2, 20, 21, 101, 257), with
    # ties (latencies on a 5 ms grid) and in shuffled order, against numpy's type 7.
    rng = random.Random(11)
    sizes = {"m1": 1, "m2": 2, "m20": 20, "m21": 21, "m101": 101, "m257": 257}
    latencies: dict[str, list[float]] = {
        model: [5.0 * rng.randint(0, 60) for _ in range(size)] for model, size in sizes.items()
    }
    records = [
        record(f"{model}-{i}", model=model, latency_ms=value)
        for model, values in latencies.items()
        for i, value in enumerate(values)
    ]
    rng.shuffle(records)
    async with logsink(make_settings(database_url, "local", tmp_path, None)) as sink:
        await sink.stream(
            [batch(f"b{i}", records[i : i + 100]) for i in range(0, len(records), 100)]
        )
        reply = await sink.stub.GetStats(
            logsink_pb2.GetStatsRequest(group_by=[logsink_pb2.STATS_GROUP_BY_MODEL])
        )
    assert sorted(g.model for g in reply.groups) == sorted(sizes)
    for group in reply.groups:
        values = latencies[group.model]
        assert group.count == len(values)
        for got, percent in (
            (group.latency_p50_ms, 50),
            (group.latency_p95_ms, 95),
            (group.latency_p99_ms, 99),
        ):
            expected = float(np.percentile(values, percent, method="linear"))
            assert got == pytest.approx(expected, abs=1e-9), (group.model, percent)


@pytest.mark.parametrize("store_kind", ["local", "s3"])
async def test_purge_deletes_old_records_and_segments_left_empty(
    database_url: str, store_kind: str, tmp_path: Path, s3_server: S3Server
) -> None:
    old, new = BASE_SECONDS, BASE_SECONDS + 1000
    async with logsink(make_settings(database_url, store_kind, tmp_path, s3_server)) as sink:
        await sink.stream(
            [
                batch(
                    "old", [record(f"old{i}", seconds=old, response_text="o") for i in range(10)]
                ),
                batch(
                    "new", [record(f"new{i}", seconds=new, response_text="n") for i in range(10)]
                ),
                batch(
                    "mixed",
                    [
                        record(f"mix{i}", seconds=old if i < 5 else new, response_text="m")
                        for i in range(10)
                    ],
                ),
            ]
        )
        assert len(sink.objects.list()) == 3
        first = await sink.stub.PurgeRecords(logsink_pb2.PurgeRecordsRequest(before=_ts(old + 500)))
        assert (first.deleted_records, first.deleted_segments) == (15, 1)
        assert len(sink.objects.list()) == 2
        with pytest.raises(grpc.aio.AioRpcError) as gone:
            await sink.stub.GetRecord(logsink_pb2.GetRecordRequest(request_id="old3"))
        assert gone.value.code() == grpc.StatusCode.NOT_FOUND
        kept = await sink.stub.GetRecord(
            logsink_pb2.GetRecordRequest(request_id="mix7", include_text=True)
        )
        assert kept.record.response_text == "m"
        second = await sink.stub.PurgeRecords(logsink_pb2.PurgeRecordsRequest(before=_ts(new + 1)))
        assert (second.deleted_records, second.deleted_segments) == (15, 2)
        assert sink.objects.list() == []
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await sink.stub.PurgeRecords(logsink_pb2.PurgeRecordsRequest())
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_purge_only_touches_the_calling_tenant(database_url: str, tmp_path: Path) -> None:
    async with logsink(make_settings(database_url, "local", tmp_path, None)) as sink:
        await sink.stream([batch("a", [record("a", response_text="x")])], tenant="acme")
        await sink.stream([batch("b", [record("b", response_text="y")])], tenant="globex")
        purge = await sink.stub.PurgeRecords(
            logsink_pb2.PurgeRecordsRequest(before=_ts(BASE_SECONDS + 1)),
            metadata=(("x-llmops-tenant", "acme"),),
        )
        assert (purge.deleted_records, purge.deleted_segments) == (1, 1)
        left = await sink.stub.GetRecord(
            logsink_pb2.GetRecordRequest(request_id="b", include_text=True),
            metadata=(("x-llmops-tenant", "globex"),),
        )
        assert left.record.response_text == "y"


async def test_retention_job_deletes_records_older_than_the_setting(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(
        database_url, "local", tmp_path, None, retention_days=1, retention_interval_seconds=0.2
    )
    now = int(time.time())
    async with logsink(settings) as sink:
        await sink.stream(
            [
                batch(
                    "b",
                    [
                        record("ancient", seconds=now - 3 * 86400, response_text="a"),
                        record("recent", seconds=now - 3600, response_text="r"),
                    ],
                )
            ]
        )
        for _ in range(50):
            page = await sink.stub.ListRecords(logsink_pb2.ListRecordsRequest())
            if [r.request_id for r in page.records] == ["recent"]:
                break
            await asyncio.sleep(0.1)
        assert [r.request_id for r in page.records] == ["recent"]


async def test_retention_overrides_per_tenant(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(
        database_url,
        "local",
        tmp_path,
        None,
        retention_days=2,
        retention_days_by_tenant="acme=10, keeper=0",
        retention_interval_seconds=0.2,
    )
    now = int(time.time())
    ages = {"day1": 1, "day5": 5, "day20": 20}
    async with logsink(settings) as sink:
        for tenant in ("acme", "keeper", "other"):
            records = [record(name, seconds=now - d * 86400) for name, d in ages.items()]
            await sink.stream([batch("b", records)], tenant=tenant)
        expected = {
            "acme": ["day1", "day5"],  # 10 days
            "keeper": ["day1", "day5", "day20"],  # forever
            "other": ["day1"],  # the 2-day default
        }
        for _ in range(50):
            kept = {}
            for tenant in expected:
                page = await sink.stub.ListRecords(
                    logsink_pb2.ListRecordsRequest(), metadata=(("x-llmops-tenant", tenant),)
                )
                kept[tenant] = [r.request_id for r in page.records]
            if kept == expected:
                break
            await asyncio.sleep(0.1)
        assert kept == expected
