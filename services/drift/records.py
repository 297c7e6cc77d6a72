"""Baseline texts from stored call records, read through LogSink's ListRecords.

Only successful calls are read: a baseline describes known-good answers, and
failed, timed-out or filtered calls carry no answer worth comparing with. The
calling tenant is passed on as ``x-llmops-tenant`` metadata, so LogSink applies
its own tenant isolation.
"""

from __future__ import annotations

import json

import grpc
from llmops.v1 import common_pb2, drift_pb2, logsink_pb2, logsink_pb2_grpc

from services.common.errors import FailedPrecondition, InvalidArgument, Unavailable
from services.common.internal import PLAINTEXT, InternalCredentials

DEFAULT_LIMIT = 5000
"""Records read when the selection sets no limit (capped by the per-request maximum)."""
PAGE_SIZE = 1000
"""LogSink's largest page."""

# Retries are declared on the channel (UNAVAILABLE only), as the style guide asks.
_SERVICE_CONFIG = json.dumps(
    {
        "methodConfig": [
            {
                "name": [{"service": "llmops.v1.LogSinkService", "method": "ListRecords"}],
                "retryPolicy": {
                    "maxAttempts": 4,
                    "initialBackoff": "0.2s",
                    "maxBackoff": "2s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
)


class LogSinkRecords:
    """Reads response texts of stored records from LogSink over one long-lived channel."""

    def __init__(
        self,
        address: str,
        timeout: float,
        max_records: int,
        credentials: InternalCredentials = PLAINTEXT,
    ) -> None:
        self._address = address
        self._credentials = credentials
        self._timeout = timeout
        self._max_records = max_records
        self._channel = credentials.channel(
            address,
            options=[("grpc.service_config", _SERVICE_CONFIG), ("grpc.enable_retries", 1)],
        )
        self._stub = logsink_pb2_grpc.LogSinkServiceStub(self._channel)

    async def response_texts(self, selection: drift_pb2.RecordSelection, tenant: str) -> list[str]:
        """Response texts of the selected records, newest first (empty ones included)."""
        if not selection.model:
            raise InvalidArgument("records.model", "must name the model of the records")
        limit = self._limit(selection)
        time_range = selection.time_range
        if (
            time_range.HasField("start_time")
            and time_range.HasField("end_time")
            and time_range.end_time.ToNanoseconds() <= time_range.start_time.ToNanoseconds()
        ):
            raise InvalidArgument("records.time_range", "end_time must be after start_time")
        request = logsink_pb2.ListRecordsRequest(
            filter=logsink_pb2.RecordFilter(
                time_range=time_range,
                model=selection.model,
                prompt_template=selection.prompt_template,
                status=common_pb2.CALL_STATUS_SUCCESS,
            ),
            include_text=True,
        )
        texts: list[str] = []
        while len(texts) < limit:
            request.page_size = min(PAGE_SIZE, limit - len(texts))
            response = await self._list(request, tenant)
            texts.extend(record.response_text for record in response.records)
            if not response.next_page_token or not response.records:
                break
            request.page_token = response.next_page_token
        return texts[:limit]

    async def close(self) -> None:
        """Close the channel."""
        await self._channel.close()

    def _limit(self, selection: drift_pb2.RecordSelection) -> int:
        if selection.limit < 0:
            raise InvalidArgument("records.limit", "must not be negative")
        if selection.limit == 0:
            return min(DEFAULT_LIMIT, self._max_records)
        limit = selection.limit
        if limit > self._max_records:
            raise InvalidArgument(
                "records.limit", f"at most {self._max_records} records per baseline"
            )
        return limit

    async def _list(
        self, request: logsink_pb2.ListRecordsRequest, tenant: str
    ) -> logsink_pb2.ListRecordsResponse:
        try:
            return await self._stub.ListRecords(
                request, timeout=self._timeout, metadata=self._credentials.metadata(tenant)
            )
        except grpc.aio.AioRpcError as exc:
            code, details = exc.code(), exc.details() or ""
            if code is grpc.StatusCode.INVALID_ARGUMENT:
                raise InvalidArgument(
                    "records", f"LogSink rejected the selection: {details}"
                ) from None
            if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
                raise FailedPrecondition(
                    f"LogSink at {self._address} refused to list records ({code.name}): {details}"
                ) from None
            raise Unavailable(
                f"LogSink at {self._address} could not list records ({code.name}): {details}"
            ) from None
