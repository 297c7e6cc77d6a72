"""LogSink pure logic: validation, row codec, segments, percentiles, sampling, labels."""

from __future__ import annotations

import random
import uuid
import zlib

import numpy as np
import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st
from llmops.v1 import common_pb2, cost_pb2, drift_pb2, experiment_pb2

from services.logsink.forwarder import backoff_seconds
from services.logsink.metrics import OVERFLOW_LABEL, LabelCap
from services.logsink.outbox import (
    COST,
    DRIFT,
    EXPERIMENT,
    MAX_DRIFT_TEXTS,
    ForwardPlan,
    StoredRecord,
    sampled,
)
from services.logsink.records import MAX_TOKENS, Limits, from_row, parse
from services.logsink.segments import (
    FRAME_BYTES,
    SegmentBuilder,
    decode_frame,
    decode_texts,
    segment_key,
)
from services.logsink.store import _sqlite_chunks, percentile

NOW_US = 1_790_000_000_000_000
LIMITS = Limits(max_text_bytes=16, max_future_us=60_000_000)


def validate(record: common_pb2.CallRecord, limits: Limits, now_us: int) -> str | None:
    """The rejection reason, or None when the record parses into a row."""
    parsed = parse(record, "t", now_us, limits)
    return parsed if isinstance(parsed, str) else None


def _record(**fields: object) -> common_pb2.CallRecord:
    defaults: dict[str, object] = {
        "request_id": "r",
        "model": "m",
        "status": common_pb2.CALL_STATUS_SUCCESS,
    }
    message = common_pb2.CallRecord(**{**defaults, **fields})
    if not message.HasField("timestamp"):
        message.timestamp.seconds = NOW_US // 1_000_000 - 10
    return message


def test_text_limit_counts_utf8_bytes_not_characters() -> None:
    assert validate(_record(prompt_text="a" * 16), LIMITS, NOW_US) is None
    # Six 3-byte characters are 18 bytes: over the 16-byte limit though only 6 characters.
    reason = validate(_record(prompt_text="€" * 6), LIMITS, NOW_US)
    assert reason == "prompt_text: larger than 16 bytes"
    assert validate(_record(response_text="€" * 5), LIMITS, NOW_US) is None


def test_timestamp_may_be_slightly_but_not_far_in_the_future() -> None:
    near = _record()
    near.timestamp.seconds = NOW_US // 1_000_000 + 59
    assert validate(near, LIMITS, NOW_US) is None
    far = _record()
    far.timestamp.seconds = NOW_US // 1_000_000 + 61
    assert validate(far, LIMITS, NOW_US) == "timestamp: too far in the future"


def test_request_id_with_control_characters_is_rejected() -> None:
    assert validate(_record(request_id="a\nb"), LIMITS, NOW_US) == (
        "request_id: contains control characters"
    )


def test_blank_request_id_or_model_is_rejected_as_missing() -> None:
    # CostService refuses a whole forwarded batch over one blank id or model, so a
    # record stored with one would take its batch's spend down with it.
    assert validate(_record(request_id="   "), LIMITS, NOW_US) == "request_id: required"
    assert validate(_record(model=" \t"), LIMITS, NOW_US) == "model: required"


def test_token_counts_beyond_any_real_call_are_rejected() -> None:
    # Priced, 2**62 tokens are more USD micros than CostService's BIGINT ledger holds:
    # it failed INTERNAL, and the forwarder retried the whole batch's spend forever.
    usage = common_pb2.TokenUsage(input_tokens=2**62)
    assert validate(_record(usage=usage), LIMITS, NOW_US) == (
        f"usage.input_tokens: more than {MAX_TOKENS}"
    )
    assert (
        validate(_record(usage=common_pb2.TokenUsage(input_tokens=MAX_TOKENS)), LIMITS, NOW_US)
        is None
    )


def test_reasoning_tokens_may_not_exceed_output_tokens() -> None:
    usage = common_pb2.TokenUsage(output_tokens=3, reasoning_output_tokens=4)
    assert validate(_record(usage=usage), LIMITS, NOW_US) == (
        "usage.reasoning_output_tokens: exceeds output_tokens"
    )


def test_row_round_trip_keeps_microseconds_and_drops_texts() -> None:
    original = _record(prompt_text="p", response_text="r", metadata={"a": "b"})
    original.timestamp.nanos = 123_456_789
    row = parse(original, "acme", NOW_US, LIMITS)
    assert isinstance(row, dict)
    assert row["tenant"] == "acme"
    assert row["ts_us"] % 1_000_000 == 123_456
    back = from_row({**row, "id": 1})
    assert back.timestamp.nanos == 123_456_000
    assert (back.prompt_text, back.response_text) == ("", "")
    assert dict(back.metadata) == {"a": "b"}


def _texts_of(payload: bytes, location: tuple[int, int, int]) -> tuple[str, str]:
    offset, length, index = location
    return decode_frame(payload[offset : offset + length])[index]


@given(
    st.lists(st.tuples(st.text(), st.text()), min_size=1, max_size=20),
    st.sampled_from([1, 64, 1024, FRAME_BYTES]),
)
def test_segment_frames_decode_to_the_texts_put_in(
    texts: list[tuple[str, str]], frame_bytes: int
) -> None:
    texts = [
        (p.encode("utf-8", "replace").decode(), r.encode("utf-8", "replace").decode())
        for p, r in texts
    ]
    builder = SegmentBuilder(frame_bytes)
    for prompt, response in texts:
        builder.add(prompt, response)
    payload, locations = builder.finish()
    assert len(locations) == len(texts)
    for location, expected in zip(locations, texts, strict=True):
        assert _texts_of(payload, location) == expected
    # The frames tile the payload, each record in one of them.
    frames = sorted({(offset, length) for offset, length, _ in locations})
    assert [offset for offset, _ in frames] == [0] + [o + n for o, n in frames[:-1]]
    assert frames[-1][0] + frames[-1][1] == len(payload)


def test_records_share_a_frame_until_it_holds_frame_bytes_of_text() -> None:
    builder = SegmentBuilder(frame_bytes=4096)
    for _ in range(10):
        builder.add("", "x" * 992)  # 1,000 bytes with the two lengths
    payload, locations = builder.finish()
    # The fifth record brings a frame to 5,000 >= 4,096 bytes and closes it.
    assert [index for _, _, index in locations] == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]
    assert len({offset for offset, _, _ in locations}) == 2
    assert len(payload) < 1000  # ten records compressed in two frames


@given(st.integers(0, 10_000), st.integers(1, 255))
def test_a_corrupted_segment_frame_is_refused_not_misread(position: int, flip: int) -> None:
    builder = SegmentBuilder()
    builder.add("first prompt", "first answer")
    builder.add("What is the refund policy?", "Thirty days, receipt needed.")
    payload, _ = builder.finish()
    blob = bytearray(payload)
    blob[position % len(blob)] ^= flip
    try:
        texts = decode_frame(bytes(blob))
    except ValueError:
        return
    # The only corruption that may pass is one that decodes to the very same texts
    # (e.g. a changed byte that the decoder never reads).
    assert texts == [
        ("first prompt", "first answer"),
        ("What is the refund policy?", "Thirty days, receipt needed."),
    ]


def test_a_frame_whose_records_do_not_fill_it_exactly_is_refused() -> None:
    compressor = zstandard.ZstdCompressor(write_checksum=True)
    marker = (0x184D2A5C).to_bytes(4, "little") + bytes(4)
    whole = (2).to_bytes(4, "big") + (3).to_bytes(4, "big") + b"hiyes"
    assert decode_frame(marker + compressor.compress(whole)) == [("hi", "yes")]
    for body in (whole[:-1], whole + b"\x00"):
        with pytest.raises(ValueError, match="corrupt"):
            decode_frame(marker + compressor.compress(body))
    with pytest.raises(ValueError, match="corrupt"):
        decode_frame(compressor.compress(whole))  # no marker


def test_a_reader_of_single_record_frames_refuses_a_shared_frame() -> None:
    # decode_texts is the reader of the earlier formats, as earlier versions had it.
    builder = SegmentBuilder()
    builder.add("prompt", "response")
    payload, _ = builder.finish()
    with pytest.raises(ValueError, match="corrupt"):
        decode_texts(payload)


def test_segments_of_one_zstandard_frame_per_record_still_decode() -> None:
    compressor = zstandard.ZstdCompressor(level=1, write_checksum=True)
    for prompt, response in [("", "only a response"), ("Qué tal? ✓", ""), ("p" * 900, "r")]:
        body = len(prompt.encode()).to_bytes(4, "big") + prompt.encode() + response.encode()
        assert decode_texts(compressor.compress(body)) == (prompt, response)


def _legacy_segment(texts: list[tuple[str, str]]) -> tuple[bytes, list[tuple[int, int]]]:
    """A segment as written before Zstandard: raw DEFLATE, CRC-32, a full flush each."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)
    parts, ranges, size = [], [], 0
    for prompt, response in texts:
        body = len(prompt.encode()).to_bytes(4, "big") + prompt.encode() + response.encode()
        blob = compressor.compress(zlib.crc32(body).to_bytes(4, "big") + body)
        blob += compressor.flush(zlib.Z_FULL_FLUSH)
        parts.append(blob)
        ranges.append((size, len(blob)))
        size += len(blob)
    return b"".join(parts), ranges


def test_segments_written_in_the_earlier_deflate_format_still_decode() -> None:
    texts = [("", "only a response"), ("Qué tal? ✓", ""), ("prompt " * 300, "answer " * 300)]
    payload, ranges = _legacy_segment(texts)
    for (offset, length), expected in zip(ranges, texts, strict=True):
        assert decode_texts(payload[offset : offset + length]) == expected
    offset, length = ranges[0]
    damaged = bytearray(payload[offset : offset + length])
    damaged[-3] ^= 0x40
    with pytest.raises(ValueError, match="corrupt"):
        decode_texts(bytes(damaged))


def test_segment_frames_claiming_more_than_a_record_can_hold_are_refused() -> None:
    builder = SegmentBuilder()
    builder.add("p", "r")
    payload, _ = builder.finish()
    marker, frame = payload[:8], payload[8:]
    # Magic, then the header descriptor: single segment, checksum, a 1-byte content size.
    assert (frame[4], frame[5]) == (0x24, 10)
    # The same frame with an 8-byte content size that claims 2**40 bytes.
    forged = frame[:4] + bytes([0xE4]) + (1 << 40).to_bytes(8, "little") + frame[6:]
    assert zstandard.frame_content_size(forged) == 1 << 40
    with pytest.raises(ValueError, match="corrupt"):
        decode_frame(marker + forged)
    with pytest.raises(ValueError, match="corrupt"):
        decode_texts(forged)


def test_segment_keys_are_unique_and_scoped_by_tenant() -> None:
    keys = {segment_key("acme") for _ in range(100)}
    assert len(keys) == 100
    assert all(k.startswith("logsink/acme/") and k.endswith(".seg") for k in keys)


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=200))
def test_percentile_matches_numpy_linear_definition(values: list[float]) -> None:
    ordered = sorted(values)
    for percent in (50, 95, 99):
        assert percentile(ordered, len(ordered), percent) == pytest.approx(
            float(np.percentile(ordered, percent, method="linear")), rel=1e-12, abs=1e-9
        )


def test_percentile_by_hand() -> None:
    assert percentile([100, 200, 300, 400], 4, 50) == 250
    assert percentile([100, 200, 300, 400], 4, 95) == pytest.approx(385)
    assert percentile([7.0], 1, 99) == 7.0
    assert percentile([], 0, 50) == 0.0


def test_label_cap_admits_first_values_then_overflows() -> None:
    cap = LabelCap(2)
    assert [cap(v) for v in ("a", "b", "c", "a", "d", "b")] == [
        "a",
        "b",
        OVERFLOW_LABEL,
        "a",
        OVERFLOW_LABEL,
        "b",
    ]


def test_drift_sample_is_stable_and_close_to_the_rate() -> None:
    ids = [str(uuid.UUID(int=random.Random(7).getrandbits(128) + i)) for i in range(20_000)]
    chosen = [i for i in ids if sampled(i, 0.1)]
    assert 0.09 < len(chosen) / len(ids) < 0.11
    assert chosen == [i for i in ids if sampled(i, 0.1)]
    assert all(sampled(i, 1.0) for i in ids[:10])
    assert not any(sampled(i, 0.0) for i in ids[:10])


def test_forward_plan_builds_one_entry_per_target_and_monitor() -> None:
    stored = [
        StoredRecord(
            _record(request_id="a", prompt_text="p", response_text="x", experiment_id="e"), "", "x"
        ),
        StoredRecord(_record(request_id="b", model="n", prompt_template="t"), "cut", "y"),
        StoredRecord(_record(request_id="c"), "", ""),
    ]
    entries = ForwardPlan(cost=True, experiment=True, drift_sample_rate=1.0).entries(stored)
    assert [e.target for e in entries] == [COST, EXPERIMENT, DRIFT, DRIFT]
    spend = cost_pb2.RecordSpendRequest.FromString(entries[0].payload)
    assert [r.request_id for r in spend.records] == ["a", "b", "c"]
    assert spend.records[0].prompt_text == ""
    assert spend.records[1].error_message == "cut"
    outcomes = experiment_pb2.RecordCallOutcomesRequest.FromString(entries[1].payload)
    assert [r.request_id for r in outcomes.records] == ["a"]
    monitors = [drift_pb2.ObserveRequest.FromString(e.payload) for e in entries[2:]]
    assert [(m.monitor_id, list(m.texts)) for m in monitors] == [("m/", ["x"]), ("n/t", ["y"])]
    assert ForwardPlan().entries(stored) == []


def test_drift_entries_fit_within_what_drift_accepts_per_request() -> None:
    # DriftService refuses (INVALID_ARGUMENT, so the forwarder drops) an Observe with
    # more texts than its limit, which is never below MAX_DRIFT_TEXTS.
    stored = [
        StoredRecord(_record(request_id=f"r{i}", response_text="x"), "", "x") for i in range(1201)
    ]
    entries = ForwardPlan(drift_sample_rate=1.0).entries(stored)
    requests = [drift_pb2.ObserveRequest.FromString(e.payload) for e in entries]
    assert all(len(r.texts) <= MAX_DRIFT_TEXTS for r in requests)
    assert [i for r in requests for i in r.request_ids] == [f"r{i}" for i in range(1201)]
    assert {r.monitor_id for r in requests} == {"m/"}


def test_backoff_grows_and_is_capped() -> None:
    assert 0.25 <= backoff_seconds(0, 300) <= 0.5
    assert 4 <= backoff_seconds(4, 300) <= 8
    assert all(backoff_seconds(n, 10) <= 10 for n in range(100))


def test_batch_histogram_exposes_what_prometheus_histogram_would() -> None:
    from prometheus_client import CollectorRegistry, Histogram, generate_latest

    from services.logsink.metrics import BatchHistogram

    buckets = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)
    values = [0.1, 0.25, 0.2500001, 0.0, 59.9, 60.0, 61.0, 3.0, 3.0, 0.05]
    reference, batched = CollectorRegistry(), CollectorRegistry()
    plain = Histogram("h_seconds", "doc", ["model"], buckets=buckets, registry=reference)
    for value in values:
        plain.labels("m").observe(value)
    ours = BatchHistogram("h_seconds", "doc", ["model"], buckets, registry=batched)
    ours.observe_many(("m",), values[:4])
    ours.observe_many(("m",), values[4:])

    def samples(registry: CollectorRegistry) -> list[str]:
        lines = generate_latest(registry).decode().splitlines()
        return sorted(
            line for line in lines if line.startswith("h_seconds") and "created" not in line
        )

    assert samples(batched) == samples(reference)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LLMOPS_LOGSINK_DRIFT_SAMPLE_RATE", "1.5"),
        ("LLMOPS_LOGSINK_RETENTION_DAYS", "-1"),
        ("LLMOPS_LOGSINK_MAX_TEXT_BYTES", "0"),
        ("LLMOPS_LOGSINK_TEXT_MODE", "everything"),
    ],
)
def test_out_of_range_settings_fail_naming_the_variable(variable: str, value: str) -> None:
    from services.common.settings import SettingsError, load_settings
    from services.logsink.settings import LogSinkSettings

    with pytest.raises(SettingsError, match=variable):
        load_settings(LogSinkSettings, {variable: value})


def test_retention_overrides_parse_and_reject_garbage() -> None:
    from services.common.settings import SettingsError, load_settings
    from services.logsink.settings import LogSinkSettings

    variable = "LLMOPS_LOGSINK_RETENTION_DAYS_BY_TENANT"
    parsed = load_settings(LogSinkSettings, {variable: " acme=30 ,globex=0,"})
    assert parsed.retention_overrides == {"acme": 30, "globex": 0}
    for bad in ("acme", "acme=x", "Bad Tenant=3", "acme=-1"):
        with pytest.raises(SettingsError, match=variable):
            load_settings(LogSinkSettings, {variable: bad})


@pytest.mark.parametrize(
    ("count", "max_rows", "chunks"),
    [
        (1000, 1056, [1000]),
        (1250, 1056, [1000, 100, 100, 50]),
        (256, 1056, [100, 100, 56]),
        (99, 1056, [99]),
        (0, 1056, []),
        (2100, 1056, [1000, 1000, 100]),
        (250, 32, [32] * 7 + [26]),  # SQLite before 3.32: 999 variables
        (250, 500, [100, 100, 50]),
    ],
)
def test_sqlite_batches_go_in_few_statement_shapes(
    count: int, max_rows: int, chunks: list[int]
) -> None:
    assert _sqlite_chunks(count, max_rows) == chunks
