"""The client's wrapper and shipper against the real LogSink service (SQLite and PostgreSQL).

The client is synchronous (gRPC threads); the in-process LogSink runs on this test's
event loop, so every blocking client call goes through ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import grpc
import openai
from llmops import Monitor, records
from llmops.testing.openai_server import FakeOpenAIServer
from llmops.v1 import common_pb2, logsink_pb2, logsink_pb2_grpc
from prometheus_client import REGISTRY

from services.common.server import running_server
from services.common.tenancy import hash_api_key
from services.logsink.servicer import SPEC
from tests.service.logsink_support import make_settings
from tests.support.client_peers import free_port


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


async def test_wrapped_calls_arrive_in_logsink_with_their_fields_and_tenant(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, "local", tmp_path, None)
    with FakeOpenAIServer() as llm:
        async with (
            running_server(SPEC, settings) as built,
            grpc.aio.insecure_channel(f"127.0.0.1:{built.port}") as channel,
        ):
            stub = logsink_pb2_grpc.LogSinkServiceStub(channel)
            monitor = Monitor(
                logsink=f"127.0.0.1:{built.port}",
                tenant="acme",
                spool_dir=tmp_path / "spool",
                shipper_options={"interval": 0.05},
            )
            client = monitor.wrap(openai.OpenAI(base_url=llm.base_url, api_key="t", max_retries=0))

            def calls() -> list[str]:
                ids = []
                answer = client.chat.completions.create(
                    model="o3-mini",
                    messages=user("What is the refund window?"),
                    llmops_user_id="u-9",
                    llmops_prompt_template="faq@v2",
                )
                ids.append(answer.id)
                stream = client.chat.completions.create(
                    model="fake-1", messages=user("stream please"), stream=True
                )
                ids.append("".join(c.choices[0].delta.content or "" for c in stream))
                return ids

            _, streamed_text = await asyncio.to_thread(calls)
            assert await asyncio.to_thread(monitor.flush, 15)
            listed = await stub.ListRecords(
                logsink_pb2.ListRecordsRequest(include_text=True),
                metadata=(("x-llmops-tenant", "acme"),),
            )
            other_tenant = await stub.ListRecords(
                logsink_pb2.ListRecordsRequest(), metadata=(("x-llmops-tenant", "globex"),)
            )
            await asyncio.to_thread(monitor.close, 5)
    assert other_tenant.records == []
    by_model = {r.model: r for r in listed.records}
    assert set(by_model) == {"o3-mini", "fake-1"}
    faq = by_model["o3-mini"]
    assert faq.status == common_pb2.CALL_STATUS_SUCCESS
    assert (faq.user_id, faq.prompt_template) == ("u-9", "faq@v2")
    assert faq.prompt_hash == records.prompt_hash(user("What is the refund window?"))
    assert faq.usage.reasoning_output_tokens > 0
    assert faq.usage.output_tokens > faq.usage.reasoning_output_tokens
    assert "refund window" in faq.prompt_text
    streamed = by_model["fake-1"]
    assert streamed.response_text == streamed_text
    assert streamed.time_to_first_token_ms > 0


def _stream_records_calls(code: str) -> float:
    labels = {"service": "llmops.v1.LogSinkService", "method": "StreamRecords", "code": code}
    return REGISTRY.get_sample_value("llmops_rpc_requests_total", labels) or 0.0


async def _ship_one(monitor: Monitor) -> common_pb2.CallRecord:
    """Enqueue one successful call record and wait until LogSink has acknowledged it."""
    assert monitor.shipper is not None
    record = records.new_record(model="fake-1", provider="openai", started_ns=10**18)
    record.status = common_pb2.CALL_STATUS_SUCCESS
    monitor.shipper.enqueue(record)
    assert await asyncio.to_thread(monitor.flush, 15)
    return record


async def test_shipper_close_ends_its_record_stream_ok_not_cancelled(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, "local", tmp_path, None)
    async with running_server(SPEC, settings) as built:
        monitor = Monitor(
            logsink=f"127.0.0.1:{built.port}",
            spool_dir=tmp_path / "spool",
            shipper_options={"interval": 0.05},
        )
        await _ship_one(monitor)
        ok, cancelled = _stream_records_calls("OK"), _stream_records_calls("CANCELLED")
        assert await asyncio.to_thread(monitor.close, 5)
        for _ in range(200):
            if _stream_records_calls("OK") + _stream_records_calls("CANCELLED") > ok + cancelled:
                break
            await asyncio.sleep(0.01)
    assert _stream_records_calls("OK") == ok + 1
    assert _stream_records_calls("CANCELLED") == cancelled
    assert list((tmp_path / "spool").iterdir()) == []


async def test_records_spooled_while_logsink_is_down_are_stored_once_after_it_starts(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    monitor = Monitor(
        logsink=f"127.0.0.1:{port}",
        spool_dir=tmp_path / "spool",
        shipper_options={"interval": 0.05, "initial_backoff": 0.05, "max_backoff": 0.2},
    )
    assert monitor.shipper is not None
    sent = []
    for i in range(120):
        record = records.new_record(model="fake-1", provider="openai", started_ns=10**18 + i)
        record.status = common_pb2.CALL_STATUS_SUCCESS
        record.latency_ms = 12.5
        sent.append(record.request_id)
        monitor.shipper.enqueue(record)
    assert not await asyncio.to_thread(monitor.flush, 0.5)
    settings = make_settings(database_url, "local", tmp_path, None)
    async with running_server(SPEC, settings, port=port) as built:
        assert built.port == port
        assert await asyncio.to_thread(monitor.flush, 20)
        stats = monitor.shipper.stats
        await asyncio.to_thread(monitor.close, 5)
    assert stats.stored == 120
    assert stats.dropped == 0
    assert list((tmp_path / "spool").iterdir()) == []


async def test_mutual_tls_and_api_key_put_records_in_the_keys_tenant(
    database_url: str,
    tmp_path: Path,
    pki: dict[str, bytes],
) -> None:
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps({"globex": [hash_api_key("globex-key-1")]}))
    settings = dataclasses.replace(
        make_settings(database_url, "local", tmp_path, None),
        tls_cert_file=tmp_path / "server_cert.pem",
        tls_key_file=tmp_path / "server_key.pem",
        tls_client_ca_file=tmp_path / "ca.pem",
        api_keys_file=keys_file,
    )
    credentials = grpc.ssl_channel_credentials(pki["ca"], pki["client_key"], pki["client_cert"])
    async with running_server(SPEC, settings) as built:
        monitor = Monitor(
            logsink=f"localhost:{built.port}",
            tls=credentials,
            api_key="globex-key-1",
            spool_dir=tmp_path / "spool",
            shipper_options={"interval": 0.05},
        )
        record = await _ship_one(monitor)
        await asyncio.to_thread(monitor.close, 5)
        async with grpc.aio.secure_channel(f"localhost:{built.port}", credentials) as channel:
            stub = logsink_pb2_grpc.LogSinkServiceStub(channel)
            found = await stub.GetRecord(
                logsink_pb2.GetRecordRequest(request_id=record.request_id),
                metadata=(("authorization", "Bearer globex-key-1"),),
            )
    assert found.record.model == "fake-1"
