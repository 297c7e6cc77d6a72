"""The server interceptor every llmops service runs: tenancy, auth, metrics, errors.

grpc.aio calls ``intercept_service`` once per RPC to pick the handler; the handler's
behaviour then runs in the RPC's own task. This interceptor returns a copy of the
handler whose behaviour is wrapped, so that everything below happens inside that
task for all four handler kinds:

* the tenant is resolved (metadata ``x-llmops-tenant``, else the default tenant;
  with an API keys file, the key decides) and bound with ``tenant_scope``;
* requests are parsed here rather than by grpc, so a request protobuf refuses is
  INVALID_ARGUMENT naming the field (:mod:`services.common.decoding`);
* ``llmops_rpc_*`` metrics are recorded with the final status code, including
  CANCELLED or DEADLINE_EXCEEDED for a stream the client abandoned;
* domain errors become statuses through :mod:`services.common.grpc_errors`, a
  database that cannot take the request now (``DATABASE_UNAVAILABLE``) becomes
  UNAVAILABLE, which clients retry, and any other exception becomes a generic
  INTERNAL status after being logged with its traceback, so a bad request never
  takes the server down.

Label cardinality stays bounded: ``service`` and ``method`` come only from methods
that a handler was found for (unknown methods never reach the wrapper) and ``code``
from the fixed set of status codes.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import grpc
from prometheus_client import Counter, Gauge, Histogram

from services.common import errors, grpc_errors
from services.common.db import DATABASE_UNAVAILABLE, describe_database_error
from services.common.decoding import request_parser
from services.common.tenancy import (
    API_KEY_METADATA_KEY,
    TENANT_METADATA_KEY,
    ApiKeys,
    tenant_scope,
    validate_tenant,
)

logger = logging.getLogger(__name__)

RPC_DURATION = Histogram(
    "llmops_rpc_duration_seconds",
    "Time to complete an RPC on the server, by status code",
    ["service", "method", "code"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
RPC_REQUESTS = Counter(
    "llmops_rpc_requests_total", "RPCs completed on the server", ["service", "method", "code"]
)
RPC_IN_FLIGHT = Gauge("llmops_rpc_in_flight", "RPCs currently running", ["service", "method"])

# Infrastructure RPCs that probes and tools call without credentials.
AUTH_EXEMPT_SERVICES = frozenset(
    {
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    }
)


class ServerInterceptor(grpc.aio.ServerInterceptor):
    """Wraps every RPC handler with tenancy, authentication, metrics and error mapping."""

    def __init__(self, default_tenant: str, api_keys: ApiKeys | None = None) -> None:
        self._default_tenant = validate_tenant(default_tenant)
        self._api_keys = api_keys

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        service, _, method = handler_call_details.method.lstrip("/").rpartition("/")
        parse: Callable[[bytes], Any] = _identity
        if handler.request_deserializer is not None:
            parse = request_parser(handler.request_deserializer, service, method)
        call = _Call(self, service, method, parse)
        kind = _handler_kind(handler)
        wrapped = call.wrap(getattr(handler, kind), handler.request_streaming)
        # The wrapper parses requests itself (see services.common.decoding).
        return handler._replace(request_deserializer=None, **{kind: wrapped})

    def resolve_tenant(self, service: str, context: grpc.aio.ServicerContext) -> str:
        """The tenant this call acts as; raises a domain error when it may not run."""
        metadata = {key: value for key, value in (context.invocation_metadata() or ())}
        requested = metadata.get(TENANT_METADATA_KEY)
        if requested is not None:
            validate_tenant(requested)
        if self._api_keys is None or service in AUTH_EXEMPT_SERVICES:
            return requested or self._default_tenant
        return self._api_keys.resolve(_api_key(metadata), requested)


def _api_key(metadata: dict[str, str]) -> str | None:
    authorization = metadata.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return metadata.get(API_KEY_METADATA_KEY)


class _Call:
    """Per-RPC wrapper factory; holds the labels and the request parser of its method."""

    def __init__(
        self,
        interceptor: ServerInterceptor,
        service: str,
        method: str,
        parse: Callable[[bytes], Any],
    ) -> None:
        self._interceptor = interceptor
        self._service = service
        self._method = method
        self._parse = parse

    def wrap(self, behavior: Callable[..., Any], request_streaming: bool) -> Callable[..., Any]:
        """Wrap a handler behaviour of any of the four kinds.

        The wrapper is always a coroutine: a behaviour that is an async generator has
        its responses written with ``context.write`` here rather than by grpc. Left to
        grpc, a call cancelled while grpc writes a response leaves the generator
        suspended, to be closed later by asyncio in another task and context, where
        neither the tenant scope nor the metrics can finish properly.
        """

        async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> Any:
            requests = _Requests(request, self._parse) if request_streaming else None
            async with self._observed(context, requests):
                argument = requests if requests is not None else self._parse(request)
                result = behavior(argument, context)
                if inspect.isasyncgen(result):
                    async with contextlib.aclosing(result):
                        async for response in result:
                            await context.write(response)
                    return None
                # The generated base servicer's methods are plain functions.
                if inspect.isawaitable(result):
                    result = await result
                return result

        return wrapper

    @contextlib.asynccontextmanager
    async def _observed(
        self, context: grpc.aio.ServicerContext, requests: _Requests | None
    ) -> AsyncIterator[None]:
        """One call: tenant bound, metrics recorded with its final code, errors made statuses."""
        started = self._begin()
        code = grpc.StatusCode.UNKNOWN
        try:
            tenant = self._interceptor.resolve_tenant(self._service, context)
            with tenant_scope(tenant):
                yield
            if requests is not None and requests.ended:
                await _receive_cancellation(context)
            code = _code_of(context)
        except BaseException as exc:
            code, status = self._classify(exc, context)
            if status is None:
                raise
            await context.abort_with_status(status)
        finally:
            self._end(started, code)

    def _begin(self) -> float:
        RPC_IN_FLIGHT.labels(self._service, self._method).inc()
        return time.perf_counter()

    def _end(self, started: float, code: grpc.StatusCode) -> None:
        RPC_IN_FLIGHT.labels(self._service, self._method).dec()
        labels = (self._service, self._method, code.name)
        RPC_DURATION.labels(*labels).observe(time.perf_counter() - started)
        RPC_REQUESTS.labels(*labels).inc()

    def _classify(
        self, exc: BaseException, context: grpc.aio.ServicerContext
    ) -> tuple[grpc.StatusCode, grpc.Status | None]:
        """The final code of a failed call, and the status to abort with (None: re-raise)."""
        if isinstance(exc, grpc.aio.AbortError):
            # The handler already chose its status with context.abort().
            return _code_of(context), None
        if isinstance(exc, errors.LlmopsError):
            status = grpc_errors.to_grpc_status(exc)
            if status.code is grpc.StatusCode.INTERNAL:
                logger.error("domain error without a status mapping", exc_info=exc)
            return status.code, status
        if isinstance(exc, DATABASE_UNAVAILABLE):
            logger.warning(
                "database unavailable in %s/%s: %s",
                self._service,
                self._method,
                describe_database_error(exc),
            )
            status = grpc_errors.to_grpc_status(
                errors.Unavailable("database unavailable; retry later")
            )
            return status.code, status
        if isinstance(exc, Exception):
            preset = _code_of(context)
            if preset is not grpc.StatusCode.OK:
                # A servicer that set a code and then raised, as the generated base class
                # does to answer UNIMPLEMENTED, keeps the code it chose.
                return preset, grpc_errors.status_from_code(preset, context.details() or "")
            logger.error("unexpected error in %s/%s", self._service, self._method, exc_info=exc)
            return grpc.StatusCode.INTERNAL, grpc_errors.internal_status()
        # Cancellation (client went away, deadline passed, server stopping) propagates
        # untouched.
        return _abandoned_code(context), None


def _code_of(context: grpc.aio.ServicerContext) -> grpc.StatusCode:
    """The code set with ``set_code``/``abort`` so far; ``None`` until then means OK."""
    code: grpc.StatusCode | None = context.code()
    return code or grpc.StatusCode.OK


# The server's deadline for a call is the client's plus the time the request took to
# arrive, so when the client's own timer cancels the call at its deadline, the
# cancellation reaches the server a little before the server's deadline passes (seen:
# 4 calls in 400 under load, each within a few milliseconds of it).
DEADLINE_MARGIN_SECONDS = 0.05


def _abandoned_code(context: grpc.aio.ServicerContext) -> grpc.StatusCode:
    """The code of a call grpc cancelled: DEADLINE_EXCEEDED when the server's deadline
    for it has passed or is less than :data:`DEADLINE_MARGIN_SECONDS` away, else
    CANCELLED (the client cancelled or went away).
    """
    remaining: float | None = context.time_remaining()
    if remaining is not None and remaining <= DEADLINE_MARGIN_SECONDS:
        return grpc.StatusCode.DEADLINE_EXCEEDED
    return grpc.StatusCode.CANCELLED


async def _receive_cancellation(context: grpc.aio.ServicerContext) -> None:
    """Let grpc cancel this task now if the end of the request stream was a cancellation.

    grpc.aio ends a request stream the same way when the client half-closes and when
    the call is cancelled (client cancel, deadline, lost connection): the handler
    simply sees no more requests. grpc's separate notice of the cancellation, which
    cancels the RPC's task, comes through grpc core's completion queue and is ignored
    once the final status is on its way; a handler that returns as soon as its
    requests end usually finishes before the notice is processed, and the call was
    counted as OK. ``context.cancelled()`` and done callbacks do not help: cancelled()
    is true only when the server itself set CANCELLED.

    Core queues that notice when it cancels the call. A further read of the ended
    stream returns at once with nothing in either case, and its completion is queued
    behind the notice, so awaiting it lets a pending cancellation arrive here first,
    as a CancelledError in this task; after a half-close it costs one empty read.
    """
    await context.read()


def _identity(data: bytes) -> bytes:
    return data


def _handler_kind(handler: grpc.RpcMethodHandler) -> str:
    """The name of the field of ``handler`` that holds its behaviour."""
    if handler.request_streaming:
        return "stream_stream" if handler.response_streaming else "stream_unary"
    return "unary_stream" if handler.response_streaming else "unary_unary"


class _Requests:
    """The request stream a handler reads: parsed here, and remembering its end."""

    def __init__(self, raw: AsyncIterator[bytes], parse: Callable[[bytes], Any]) -> None:
        self._raw = raw
        self._parse = parse
        self.ended = False

    def __aiter__(self) -> _Requests:
        return self

    async def __anext__(self) -> Any:
        try:
            data = await self._raw.__anext__()
        except StopAsyncIteration:
            self.ended = True
            raise
        return self._parse(data)


def interceptors_for(default_tenant: str, api_keys: ApiKeys | None) -> Sequence[ServerInterceptor]:
    """The interceptor chain a service's server is built with."""
    return (ServerInterceptor(default_tenant, api_keys),)
