"""A throw-away gRPC service that exercises the shared bootstrap (``services.common.server``).

It has every handler kind and every way a handler can fail, and is served through the
same ``ServiceSpec`` path as the real services.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc

from services.common import errors
from services.common.server import ServiceSpec
from services.common.settings import CommonSettings
from services.common.tenancy import current_tenant

SERVICE = "test.v1.EchoService"


class EchoServicer:
    """Exercises every handler kind and every way a handler can fail."""

    def __init__(self) -> None:
        self.finished = asyncio.Event()

    async def Tenant(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return current_tenant().encode()

    async def Invalid(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        raise errors.InvalidArgument("model", "unknown model")

    async def Crash(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        raise RuntimeError("secret internals")

    async def Abort(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        await context.abort(grpc.StatusCode.NOT_FOUND, "nothing here")

    def Unimplemented(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        context.set_code(grpc.StatusCode.UNIMPLEMENTED)
        context.set_details("Method not implemented!")
        raise NotImplementedError("Method not implemented!")

    async def Slow(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        await asyncio.sleep(0.5)
        self.finished.set()
        return b"done"

    async def Stream(
        self, request: bytes, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[bytes]:
        for _ in range(3):
            yield current_tenant().encode()
        raise errors.ResourceExhausted("budget used up")

    async def Collect(
        self, requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext
    ) -> bytes:
        return b",".join([r async for r in requests]) + b"@" + current_tenant().encode()

    async def Chat(
        self, requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[bytes]:
        async for request in requests:
            yield request + b"@" + current_tenant().encode()


def _add(servicer: EchoServicer, server: grpc.aio.Server) -> None:
    unary = ("Tenant", "Invalid", "Crash", "Abort", "Unimplemented", "Slow")
    handlers: dict[str, grpc.RpcMethodHandler] = {
        name: grpc.unary_unary_rpc_method_handler(getattr(servicer, name)) for name in unary
    }
    handlers["Stream"] = grpc.unary_stream_rpc_method_handler(servicer.Stream)
    handlers["Collect"] = grpc.stream_unary_rpc_method_handler(servicer.Collect)
    handlers["Chat"] = grpc.stream_stream_rpc_method_handler(servicer.Chat)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))


async def _factory(settings: CommonSettings) -> tuple[EchoServicer, None]:
    return EchoServicer(), None


SPEC = ServiceSpec(
    name="echo",
    service_name=SERVICE,
    settings_cls=CommonSettings,
    add_to_server=_add,
    factory=_factory,
)
