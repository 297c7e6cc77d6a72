"""Every RPC of the five services, fuzzed: no request makes a server fail or wedge.

The five real servers run in-process (SQLite, local object store) on an event loop
of their own thread, so plain blocking stubs and hypothesis drive them. For every
method of every service, hypothesis builds random but well-formed requests from
the proto descriptors (odd strings, extreme numbers, NaN, unknown enum values,
out-of-range timestamps, nested messages) and the answer must be a deliberate
status, never INTERNAL or UNKNOWN; the server must still be SERVING afterwards.
Random bytes, oversize messages and expired deadlines are checked the same way.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from llmops.v1 import common_pb2, cost_pb2, drift_pb2, experiment_pb2, guardrail_pb2, logsink_pb2
from prometheus_client import REGISTRY

from services.common.server import running_server
from services.cost.servicer import SPEC as COST
from services.cost.settings import CostSettings
from services.drift.servicer import SPEC as DRIFT
from services.drift.settings import DriftSettings
from services.experiment.servicer import SPEC as EXPERIMENT
from services.experiment.settings import ExperimentSettings
from services.guardrail.servicer import SPEC as GUARDRAIL
from services.guardrail.settings import GuardrailSettings
from services.logsink.servicer import SPEC as LOGSINK
from services.logsink.settings import LogSinkSettings

pytestmark = [pytest.mark.faults, pytest.mark.slow]

MAX_MESSAGE_BYTES = 1024 * 1024
# A server answering these has failed, not judged the request.
FAILURE_CODES = frozenset({grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN})
MODULES = {
    "guardrail": guardrail_pb2,
    "cost": cost_pb2,
    "drift": drift_pb2,
    "experiment": experiment_pb2,
    "logsink": logsink_pb2,
}
METHODS = [
    (name, method)
    for name, module in MODULES.items()
    for service in module.DESCRIPTOR.services_by_name.values()
    for method in service.methods
]
TRICKY_STRINGS = (
    "",
    " ",
    "\x00",
    "a" * 5000,
    "../../etc/passwd",
    "'; DROP TABLE records; --",
    "\ud7ff\ue000\U0010ffff",
    "💥" * 100,
    "%s%n{0}",
    "0",
    "-1",
    "NaN",
)


class ServerThread:
    """The five servers on an event loop in a daemon thread, for blocking clients."""

    def __init__(self, data: Path) -> None:
        self.ports: dict[str, int] = {}
        self._data = data
        self._loop = asyncio.new_event_loop()
        self._stack = AsyncExitStack()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def _servers(self) -> dict[str, tuple[Any, Any]]:
        common: dict[str, Any] = {
            "object_store": f"file:{self._data / 'objects'}",
            "max_message_bytes": MAX_MESSAGE_BYTES,
        }

        def db(name: str) -> str:
            return f"sqlite:///{self._data / name}.db"

        secret = "fuzz-test-pseudonym-secret-0123456789"
        return {
            "guardrail": (
                GUARDRAIL,
                GuardrailSettings(**common, database_url=db("g"), pseudonym_secret=secret),
            ),
            "cost": (
                COST,
                CostSettings(
                    **common,
                    database_url=db("c"),
                    tiktoken_cache_dir=self._data / "tiktoken",
                    budget_refresh_seconds=0,
                ),
            ),
            "drift": (DRIFT, DriftSettings(**common, database_url=db("d"))),
            "experiment": (EXPERIMENT, ExperimentSettings(**common, database_url=db("e"))),
            "logsink": (
                LOGSINK,
                LogSinkSettings(**common, database_url=db("l"), pseudonym_secret=secret),
            ),
        }

    async def _start(self) -> None:
        for name, (spec, server_settings) in self._servers().items():
            built = await self._stack.enter_async_context(running_server(spec, server_settings))
            self.ports[name] = built.port

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=300)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stack.aclose(), self._loop).result(timeout=60)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    thread = ServerThread(tmp_path_factory.mktemp("fuzz"))
    thread.start()
    try:
        yield thread
    finally:
        thread.stop()


@pytest.fixture(scope="module")
def channels(servers: ServerThread) -> Iterator[dict[str, grpc.Channel]]:
    opened = {
        name: grpc.insecure_channel(
            f"127.0.0.1:{port}",
            options=[("grpc.max_send_message_length", 4 * MAX_MESSAGE_BYTES)],
        )
        for name, port in servers.ports.items()
    }
    yield opened
    for channel in opened.values():
        channel.close()


def _message_class(descriptor: Descriptor) -> type[Message]:
    return message_factory.GetMessageClass(descriptor)


def _scalar(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return st.sampled_from(TRICKY_STRINGS) | st.text(max_size=40)
    if kind == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=64)
    if kind == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        width = 64 if kind == FieldDescriptor.TYPE_DOUBLE else 32
        return st.floats(width=width) | st.sampled_from([0.0, -1.0, 1e308, float("nan")])
    if kind == FieldDescriptor.TYPE_ENUM:
        # Open enums: values the schema does not know arrive as plain numbers.
        return st.integers(-3, max(v.number for v in field.enum_type.values) + 3)
    if kind in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32):
        return st.integers(0, 2**32 - 1)
    if kind in (FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64):
        return st.integers(0, 2**64 - 1)
    if kind in (
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SFIXED32,
    ):
        return st.integers(-(2**31), 2**31 - 1)
    return st.integers(-(2**63), 2**63 - 1)


def messages(descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy[Message]:
    """Random well-formed messages of ``descriptor``; nesting stops after four levels."""
    cls = _message_class(descriptor)
    if depth >= 4:
        return st.just(cls())
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for field in descriptor.fields:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            key, value = (
                field.message_type.fields_by_name["key"],
                field.message_type.fields_by_name["value"],
            )
            optional[field.name] = st.dictionaries(
                _value(key, depth), _value(value, depth), max_size=3
            )
        elif field.is_repeated:
            optional[field.name] = st.lists(_value(field, depth), max_size=4)
        else:
            optional[field.name] = _value(field, depth)
    return st.fixed_dictionaries({}, optional=optional).map(lambda values: _build(cls, values))


def _value(field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    if field.message_type is not None:
        return messages(field.message_type, depth + 1)
    return _scalar(field)


def _build(cls: type[Message], values: dict[str, Any]) -> Message:
    message = cls()
    for name, value in values.items():
        field = cls.DESCRIPTOR.fields_by_name[name]
        target = getattr(message, name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            for key, item in value.items():
                if isinstance(item, Message):
                    target[key].CopyFrom(item)
                else:
                    target[key] = item
        elif field.is_repeated:
            if field.message_type is not None:
                for item in value:
                    target.add().CopyFrom(item)
            else:
                target.extend(value)
        elif field.message_type is not None:
            target.CopyFrom(value)
        else:
            setattr(message, name, value)
    return message


def _call(channel: grpc.Channel, method: MethodDescriptor, requests: list[Message]) -> None:
    """Sends ``requests`` (one unless the client streams) and drains any answer stream."""
    path = f"/{method.containing_service.full_name}/{method.name}"
    serialize = _message_class(method.input_type).SerializeToString
    deserialize = _message_class(method.output_type).FromString
    if method.client_streaming and method.server_streaming:
        list(channel.stream_stream(path, serialize, deserialize)(iter(requests), timeout=30))
    elif method.client_streaming:
        channel.stream_unary(path, serialize, deserialize)(iter(requests), timeout=30)
    elif method.server_streaming:
        list(channel.unary_stream(path, serialize, deserialize)(requests[0], timeout=30))
    else:
        channel.unary_unary(path, serialize, deserialize)(requests[0], timeout=30)


def _raw_call(channel: grpc.Channel, method: MethodDescriptor, payload: bytes) -> None:
    """Sends ``payload`` unserialised, as the one message of the call."""
    path = f"/{method.containing_service.full_name}/{method.name}"
    if method.client_streaming and method.server_streaming:
        list(channel.stream_stream(path)(iter([payload]), timeout=10))
    elif method.client_streaming:
        channel.stream_unary(path)(iter([payload]), timeout=10)
    elif method.server_streaming:
        list(channel.unary_stream(path)(payload, timeout=10))
    else:
        channel.unary_unary(path)(payload, timeout=10)


def _status(call: Callable[[], object]) -> tuple[grpc.StatusCode, str]:
    try:
        call()
    except grpc.RpcError as error:
        return error.code(), error.details() or ""
    return grpc.StatusCode.OK, ""


def _assert_serving(channel: grpc.Channel) -> None:
    response = health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(), timeout=10
    )
    assert response.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize(("service", "method"), METHODS, ids=[f"{s}.{m.name}" for s, m in METHODS])
def test_random_well_formed_requests_get_a_deliberate_status(
    channels: dict[str, grpc.Channel], service: str, method: MethodDescriptor
) -> None:
    channel = channels[service]
    count = 3 if method.client_streaming else 1

    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.lists(messages(method.input_type), min_size=1, max_size=count))
    def check(requests: list[Message]) -> None:
        code, details = _status(lambda: _call(channel, method, requests))
        assert code not in FAILURE_CODES, f"{code}: {details}"

    check()
    _assert_serving(channel)


@pytest.mark.parametrize(("service", "method"), METHODS, ids=[f"{s}.{m.name}" for s, m in METHODS])
def test_random_bytes_never_take_a_server_down(
    channels: dict[str, grpc.Channel], service: str, method: MethodDescriptor
) -> None:
    channel = channels[service]
    for payload in (b"\xff" * 7, b"\x0a\xff\xff\xff\xff\x0f", bytes(range(256))):
        # Raw bytes that are not a message: the shared interceptor parses requests
        # itself, so they are a bad request like any other, and the server keeps serving.
        code, details = _status(lambda payload=payload: _raw_call(channel, method, payload))
        assert code is grpc.StatusCode.INVALID_ARGUMENT, f"{code}: {details}"
    _assert_serving(channel)


@pytest.mark.parametrize(
    ("service", "path", "request_message"),
    [
        (
            "guardrail",
            "/llmops.v1.GuardrailService/CheckInput",
            guardrail_pb2.CheckInputRequest(text="x" * (2 * MAX_MESSAGE_BYTES)),
        ),
        (
            "logsink",
            "/llmops.v1.LogSinkService/ListRecords",
            logsink_pb2.ListRecordsRequest(page_token="x" * (2 * MAX_MESSAGE_BYTES)),
        ),
        (
            "cost",
            "/llmops.v1.CostService/CountTokens",
            cost_pb2.CountTokensRequest(model="gpt-4o", text="x" * (2 * MAX_MESSAGE_BYTES)),
        ),
    ],
)
def test_oversize_message_is_resource_exhausted(
    channels: dict[str, grpc.Channel], service: str, path: str, request_message: Message
) -> None:
    channel = channels[service]
    call = channel.unary_unary(path, type(request_message).SerializeToString)
    with pytest.raises(grpc.RpcError) as caught:
        call(request_message, timeout=30)
    assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    _assert_serving(channel)


def test_oversize_stream_message_is_resource_exhausted(channels: dict[str, grpc.Channel]) -> None:
    record = common_pb2.CallRecord(request_id="big", model="m", prompt_text="x" * MAX_MESSAGE_BYTES)
    request = logsink_pb2.WriteRecordsRequest(records=[record, record])
    call = channels["logsink"].stream_unary(
        "/llmops.v1.LogSinkService/WriteRecords", logsink_pb2.WriteRecordsRequest.SerializeToString
    )
    with pytest.raises(grpc.RpcError) as caught:
        call(iter([request]), timeout=30)
    assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    _assert_serving(channels["logsink"])


def _in_flight() -> float:
    return sum(
        sample.value
        for family in REGISTRY.collect()
        if family.name == "llmops_rpc_in_flight"
        for sample in family.samples
    )


def test_expired_deadlines_leave_nothing_running(channels: dict[str, grpc.Channel]) -> None:
    observe = channels["drift"].unary_unary(
        "/llmops.v1.DriftService/Observe",
        drift_pb2.ObserveRequest.SerializeToString,
        drift_pb2.ObserveResponse.FromString,
    )
    texts = [f"text number {i} about refunds and invoices" for i in range(200)]
    for _ in range(5):
        with pytest.raises(grpc.RpcError) as caught:
            observe(drift_pb2.ObserveRequest(monitor_id="deadline", texts=texts), timeout=0.001)
        assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    # Cancelled calls unwind: nothing stays in flight, and the server still answers.
    for _ in range(100):
        if _in_flight() == 0:
            break
        threading.Event().wait(0.1)
    assert _in_flight() == 0
    response = observe(drift_pb2.ObserveRequest(monitor_id="deadline", texts=["ok"]), timeout=60)
    assert response.window_size >= 1
    for channel in channels.values():
        _assert_serving(channel)
