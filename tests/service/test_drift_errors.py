"""DriftService answers bad requests with the right status, naming the field.

One server (SQLite) serves the whole module; its LogSink address points at a test
peer: a real gRPC server whose ListRecords pages through a list of records and
remembers what it was asked.
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from google.protobuf import timestamp_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from llmops.v1 import common_pb2, drift_pb2, drift_pb2_grpc, logsink_pb2, logsink_pb2_grpc

from services.common.server import running_server
from services.drift.servicer import SPEC
from services.drift.settings import DriftSettings

pytestmark = pytest.mark.asyncio(loop_scope="module")

TIMEOUT = 30
PEER_PAGE = 7


class LogSinkPeer(logsink_pb2_grpc.LogSinkServiceServicer):
    """ListRecords over a fixed list, at most PEER_PAGE records a page, tenant-aware."""

    def __init__(self, records_by_tenant: dict[str, list[common_pb2.CallRecord]]) -> None:
        self.records_by_tenant = records_by_tenant
        self.requests: list[tuple[str, logsink_pb2.ListRecordsRequest]] = []

    async def ListRecords(
        self, request: logsink_pb2.ListRecordsRequest, context: grpc.aio.ServicerContext
    ) -> logsink_pb2.ListRecordsResponse:
        metadata = dict(context.invocation_metadata() or ())
        tenant = metadata.get("x-llmops-tenant", "default")
        self.requests.append((tenant, request))
        if request.filter.model == "rejected-model":
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "filter.model: unknown")
        matching = [
            r
            for r in self.records_by_tenant.get(tenant, [])
            if r.model == request.filter.model
            and r.status == request.filter.status
            and (
                not request.filter.prompt_template
                or r.prompt_template == request.filter.prompt_template
            )
        ]
        start = int(request.page_token or 0)
        end = start + min(request.page_size, PEER_PAGE)
        page = matching[start:end]
        if not request.include_text:
            page = [common_pb2.CallRecord(request_id=r.request_id) for r in page]
        return logsink_pb2.ListRecordsResponse(
            records=page, next_page_token=str(end) if end < len(matching) else ""
        )


def _records() -> dict[str, list[common_pb2.CallRecord]]:
    ok = common_pb2.CALL_STATUS_SUCCESS
    acme = [
        common_pb2.CallRecord(
            request_id=f"r{i}",
            model="gpt-4o",
            prompt_template="support@v1",
            status=ok,
            # Every fifth record has no stored response text.
            response_text="" if i % 5 == 0 else f"answer number {i}",
        )
        for i in range(30)
    ]
    acme.append(
        common_pb2.CallRecord(request_id="err", model="gpt-4o", status=2, response_text="x")
    )
    return {"acme": acme}


@dataclasses.dataclass
class Env:
    stub: drift_pb2_grpc.DriftServiceStub
    peer: LogSinkPeer


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    tmp: Path = tmp_path_factory.mktemp("drift-errors")
    peer = LogSinkPeer(_records())
    peer_server = grpc.aio.server()
    logsink_pb2_grpc.add_LogSinkServiceServicer_to_server(peer, peer_server)
    peer_port = peer_server.add_insecure_port("127.0.0.1:0")
    await peer_server.start()
    settings = dataclasses.replace(
        DriftSettings(),
        database_url=f"sqlite:///{tmp / 'drift.db'}",
        object_store=f"file:{tmp / 'objects'}",
        drift_max_texts_per_request=500,
        drift_logsink_address=f"127.0.0.1:{peer_port}",
    )
    try:
        async with (
            running_server(SPEC, settings) as built,
            grpc.aio.insecure_channel(f"127.0.0.1:{built.port}") as channel,
        ):
            yield Env(drift_pb2_grpc.DriftServiceStub(channel), peer)
    finally:
        await peer_server.stop(0)


def _md(tenant: str = "default") -> tuple[tuple[str, str], ...]:
    return (("x-llmops-tenant", tenant),)


async def _fails(call: Any, code: grpc.StatusCode) -> error_details_pb2.ErrorInfo:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    assert raised.value.code() is code, raised.value.details()
    status = rpc_status.from_call(raised.value)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    return info


@pytest.mark.parametrize("rpc", ["CheckDrift", "GetMonitor", "DeleteMonitor", "ScoreTexts"])
async def test_unknown_monitor_is_not_found(env: Env, rpc: str) -> None:
    request_class = getattr(drift_pb2, f"{rpc}Request")
    call = getattr(env.stub, rpc)(request_class(monitor_id="nobody"), timeout=TIMEOUT)
    info = await _fails(call, grpc.StatusCode.NOT_FOUND)
    assert info.metadata["monitor_id"] == "nobody"


async def test_empty_texts_are_skipped_and_counted(env: Env) -> None:
    response = await env.stub.Observe(
        drift_pb2.ObserveRequest(monitor_id="counted", texts=["", "  \n", "a real answer"]),
        timeout=TIMEOUT,
    )
    assert (response.accepted, response.skipped_empty, response.window_size) == (1, 2, 1)


async def test_check_before_a_baseline_is_a_failed_precondition(env: Env) -> None:
    await env.stub.Observe(
        drift_pb2.ObserveRequest(monitor_id="fresh", texts=[""]), timeout=TIMEOUT
    )
    call = env.stub.CheckDrift(drift_pb2.CheckDriftRequest(monitor_id="fresh"), timeout=TIMEOUT)
    await _fails(call, grpc.StatusCode.FAILED_PRECONDITION)
    score = env.stub.ScoreTexts(
        drift_pb2.ScoreTextsRequest(monitor_id="fresh", texts=["x"]), timeout=TIMEOUT
    )
    await _fails(score, grpc.StatusCode.FAILED_PRECONDITION)


async def test_small_baseline_says_how_many_more_texts_are_needed(env: Env) -> None:
    texts = [f"answer {i}" for i in range(120)] + ["", ""]
    call = env.stub.SetBaseline(
        drift_pb2.SetBaselineRequest(
            monitor_id="small", texts=drift_pb2.BaselineTexts(texts=texts)
        ),
        timeout=TIMEOUT,
    )
    info = await _fails(call, grpc.StatusCode.FAILED_PRECONDITION)
    assert info.metadata["needed"] == "380"


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (drift_pb2.ObserveRequest(monitor_id="m", texts=[""] * 501), "texts"),
        (drift_pb2.ObserveRequest(monitor_id="", texts=["x"]), "monitor_id"),
        (drift_pb2.ObserveRequest(monitor_id="m" * 201, texts=["x"]), "monitor_id"),
        (
            drift_pb2.ObserveRequest(monitor_id="m", texts=["x", "y"], request_ids=["a"]),
            "request_ids",
        ),
        (drift_pb2.ObserveRequest(monitor_id="m", texts=[], request_ids=["a"]), "request_ids"),
        (
            drift_pb2.ObserveRequest(monitor_id="m", texts=["x"], request_ids=["r" * 129]),
            "request_ids",
        ),
        (
            drift_pb2.SetBaselineRequest(
                monitor_id="m", texts=drift_pb2.BaselineTexts(texts=["a"] * 501)
            ),
            "texts.texts",
        ),
        (drift_pb2.SetBaselineRequest(monitor_id="m"), "source"),
        (drift_pb2.CheckDriftRequest(monitor_id="m", alpha=1.5), "alpha"),
        (drift_pb2.CheckDriftRequest(monitor_id="m", alpha=-0.1), "alpha"),
        (drift_pb2.CheckDriftRequest(monitor_id="m", alpha=0.001), "alpha"),
        (drift_pb2.ScoreTextsRequest(monitor_id="m", texts=["x"] * 501), "texts"),
        (drift_pb2.ListMonitorsRequest(page_size=-1), "page_size"),
        (drift_pb2.ListMonitorsRequest(page_token="%%%"), "page_token"),
        # PostgreSQL text cannot hold NUL: these failed INTERNAL there.
        (drift_pb2.ObserveRequest(monitor_id="m\x00", texts=["x"]), "monitor_id"),
        (
            drift_pb2.ObserveRequest(monitor_id="m", texts=["x"], request_ids=["r\x00"]),
            "request_ids",
        ),
        (drift_pb2.ListMonitorsRequest(page_token="bQA="), "page_token"),
        (
            drift_pb2.SetBaselineRequest(monitor_id="m", records=drift_pb2.RecordSelection()),
            "records.model",
        ),
        (
            drift_pb2.SetBaselineRequest(
                monitor_id="m", records=drift_pb2.RecordSelection(model="gpt-4o", limit=-1)
            ),
            "records.limit",
        ),
        (
            drift_pb2.SetBaselineRequest(
                monitor_id="m", records=drift_pb2.RecordSelection(model="gpt-4o", limit=501)
            ),
            "records.limit",
        ),
        (
            drift_pb2.SetBaselineRequest(
                monitor_id="m", records=drift_pb2.RecordSelection(model="rejected-model")
            ),
            "records",
        ),
        (
            drift_pb2.SetBaselineRequest(
                monitor_id="m",
                records=drift_pb2.RecordSelection(
                    model="gpt-4o",
                    time_range=common_pb2.TimeRange(
                        start_time=timestamp_pb2.Timestamp(seconds=2_000),
                        end_time=timestamp_pb2.Timestamp(seconds=1_000),
                    ),
                ),
            ),
            "records.time_range",
        ),
    ],
)
async def test_bad_request_is_invalid_argument_naming_the_field(
    env: Env, request_: Any, field: str
) -> None:
    rpc = type(request_).__name__.removesuffix("Request")
    info = await _fails(
        getattr(env.stub, rpc)(request_, timeout=TIMEOUT), grpc.StatusCode.INVALID_ARGUMENT
    )
    assert info.metadata["field"] == field


async def test_baseline_from_records_pages_through_logsink_as_the_tenant(env: Env) -> None:
    env.peer.requests.clear()
    call = env.stub.SetBaseline(
        drift_pb2.SetBaselineRequest(
            monitor_id="from-records",
            records=drift_pb2.RecordSelection(model="gpt-4o", prompt_template="support@v1"),
        ),
        metadata=_md("acme"),
        timeout=TIMEOUT,
    )
    info = await _fails(call, grpc.StatusCode.FAILED_PRECONDITION)
    # 30 successful records, 6 of them without text: 24 usable, 476 short of 500.
    assert info.metadata["needed"] == "476"
    assert len(env.peer.requests) == 5  # pages of 7
    for tenant, request in env.peer.requests:
        assert tenant == "acme"
        assert request.include_text
        assert request.filter.model == "gpt-4o"
        assert request.filter.prompt_template == "support@v1"
        assert request.filter.status == common_pb2.CALL_STATUS_SUCCESS


async def test_record_limit_caps_what_is_read(env: Env) -> None:
    env.peer.requests.clear()
    call = env.stub.SetBaseline(
        drift_pb2.SetBaselineRequest(
            monitor_id="limited", records=drift_pb2.RecordSelection(model="gpt-4o", limit=10)
        ),
        metadata=_md("acme"),
        timeout=TIMEOUT,
    )
    info = await _fails(call, grpc.StatusCode.FAILED_PRECONDITION)
    # Records 0..9, of which 0 and 5 are empty.
    assert info.metadata["needed"] == "492"
    assert [r.page_size for _, r in env.peer.requests] == [10, 3]


async def test_unreachable_logsink_is_unavailable(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings = dataclasses.replace(
        DriftSettings(),
        database_url=f"sqlite:///{tmp_path / 'drift.db'}",
        object_store=f"file:{tmp_path / 'objects'}",
        drift_logsink_address=f"127.0.0.1:{closed_port}",
        drift_logsink_timeout_seconds=5.0,
    )
    async with (
        running_server(SPEC, settings) as built,
        grpc.aio.insecure_channel(f"127.0.0.1:{built.port}") as channel,
    ):
        call = drift_pb2_grpc.DriftServiceStub(channel).SetBaseline(
            drift_pb2.SetBaselineRequest(
                monitor_id="m", records=drift_pb2.RecordSelection(model="gpt-4o")
            ),
            timeout=TIMEOUT,
        )
        await _fails(call, grpc.StatusCode.UNAVAILABLE)


async def test_monitors_are_listed_in_pages_per_tenant_and_deleted(env: Env) -> None:
    for name in ["list-c", "list-a", "list-b"]:
        await env.stub.Observe(
            drift_pb2.ObserveRequest(monitor_id=name, texts=[""]),
            metadata=_md("lister"),
            timeout=TIMEOUT,
        )
    first = await env.stub.ListMonitors(
        drift_pb2.ListMonitorsRequest(page_size=2), metadata=_md("lister"), timeout=TIMEOUT
    )
    assert [m.monitor_id for m in first.monitors] == ["list-a", "list-b"]
    assert first.monitors[0].window_capacity == 1000
    second = await env.stub.ListMonitors(
        drift_pb2.ListMonitorsRequest(page_size=2, page_token=first.next_page_token),
        metadata=_md("lister"),
        timeout=TIMEOUT,
    )
    assert [m.monitor_id for m in second.monitors] == ["list-c"]
    assert second.next_page_token == ""
    other = await env.stub.ListMonitors(
        drift_pb2.ListMonitorsRequest(), metadata=_md("someone-else"), timeout=TIMEOUT
    )
    assert list(other.monitors) == []

    await env.stub.DeleteMonitor(
        drift_pb2.DeleteMonitorRequest(monitor_id="list-a"), metadata=_md("lister"), timeout=TIMEOUT
    )
    gone = env.stub.GetMonitor(
        drift_pb2.GetMonitorRequest(monitor_id="list-a"), metadata=_md("lister"), timeout=TIMEOUT
    )
    await _fails(gone, grpc.StatusCode.NOT_FOUND)
