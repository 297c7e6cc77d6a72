import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from llmops.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RecordOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECORD_OUTCOME_UNSPECIFIED: _ClassVar[RecordOutcome]
    RECORD_OUTCOME_STORED: _ClassVar[RecordOutcome]
    RECORD_OUTCOME_DUPLICATE: _ClassVar[RecordOutcome]
    RECORD_OUTCOME_REJECTED: _ClassVar[RecordOutcome]

class StatsGroupBy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STATS_GROUP_BY_UNSPECIFIED: _ClassVar[StatsGroupBy]
    STATS_GROUP_BY_MODEL: _ClassVar[StatsGroupBy]
    STATS_GROUP_BY_PROMPT_TEMPLATE: _ClassVar[StatsGroupBy]
RECORD_OUTCOME_UNSPECIFIED: RecordOutcome
RECORD_OUTCOME_STORED: RecordOutcome
RECORD_OUTCOME_DUPLICATE: RecordOutcome
RECORD_OUTCOME_REJECTED: RecordOutcome
STATS_GROUP_BY_UNSPECIFIED: StatsGroupBy
STATS_GROUP_BY_MODEL: StatsGroupBy
STATS_GROUP_BY_PROMPT_TEMPLATE: StatsGroupBy

class WriteRecordsRequest(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[_common_pb2.CallRecord]
    def __init__(self, records: _Optional[_Iterable[_Union[_common_pb2.CallRecord, _Mapping]]] = ...) -> None: ...

class WriteRecordsResponse(_message.Message):
    __slots__ = ("received", "stored", "duplicates", "rejected")
    RECEIVED_FIELD_NUMBER: _ClassVar[int]
    STORED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    received: int
    stored: int
    duplicates: int
    rejected: _containers.RepeatedCompositeFieldContainer[RecordResult]
    def __init__(self, received: _Optional[int] = ..., stored: _Optional[int] = ..., duplicates: _Optional[int] = ..., rejected: _Optional[_Iterable[_Union[RecordResult, _Mapping]]] = ...) -> None: ...

class StreamRecordsRequest(_message.Message):
    __slots__ = ("batch_id", "records")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    records: _containers.RepeatedCompositeFieldContainer[_common_pb2.CallRecord]
    def __init__(self, batch_id: _Optional[str] = ..., records: _Optional[_Iterable[_Union[_common_pb2.CallRecord, _Mapping]]] = ...) -> None: ...

class RecordResult(_message.Message):
    __slots__ = ("request_id", "index", "outcome", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    index: int
    outcome: RecordOutcome
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., index: _Optional[int] = ..., outcome: _Optional[_Union[RecordOutcome, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class StreamRecordsResponse(_message.Message):
    __slots__ = ("batch_id", "stored", "duplicates", "rejected", "results")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    STORED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    stored: int
    duplicates: int
    rejected: int
    results: _containers.RepeatedCompositeFieldContainer[RecordResult]
    def __init__(self, batch_id: _Optional[str] = ..., stored: _Optional[int] = ..., duplicates: _Optional[int] = ..., rejected: _Optional[int] = ..., results: _Optional[_Iterable[_Union[RecordResult, _Mapping]]] = ...) -> None: ...

class RecordFilter(_message.Message):
    __slots__ = ("time_range", "model", "prompt_template", "status", "user_id", "experiment_id", "variant")
    TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    VARIANT_FIELD_NUMBER: _ClassVar[int]
    time_range: _common_pb2.TimeRange
    model: str
    prompt_template: str
    status: _common_pb2.CallStatus
    user_id: str
    experiment_id: str
    variant: str
    def __init__(self, time_range: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ..., model: _Optional[str] = ..., prompt_template: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.CallStatus, str]] = ..., user_id: _Optional[str] = ..., experiment_id: _Optional[str] = ..., variant: _Optional[str] = ...) -> None: ...

class ListRecordsRequest(_message.Message):
    __slots__ = ("filter", "page_size", "page_token", "include_text")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_TEXT_FIELD_NUMBER: _ClassVar[int]
    filter: RecordFilter
    page_size: int
    page_token: str
    include_text: bool
    def __init__(self, filter: _Optional[_Union[RecordFilter, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., include_text: _Optional[bool] = ...) -> None: ...

class ListRecordsResponse(_message.Message):
    __slots__ = ("records", "next_page_token")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[_common_pb2.CallRecord]
    next_page_token: str
    def __init__(self, records: _Optional[_Iterable[_Union[_common_pb2.CallRecord, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetRecordRequest(_message.Message):
    __slots__ = ("request_id", "include_text")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_TEXT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    include_text: bool
    def __init__(self, request_id: _Optional[str] = ..., include_text: _Optional[bool] = ...) -> None: ...

class GetRecordResponse(_message.Message):
    __slots__ = ("record", "ingest_time")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    INGEST_TIME_FIELD_NUMBER: _ClassVar[int]
    record: _common_pb2.CallRecord
    ingest_time: _timestamp_pb2.Timestamp
    def __init__(self, record: _Optional[_Union[_common_pb2.CallRecord, _Mapping]] = ..., ingest_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetStatsRequest(_message.Message):
    __slots__ = ("filter", "group_by")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    filter: RecordFilter
    group_by: _containers.RepeatedScalarFieldContainer[StatsGroupBy]
    def __init__(self, filter: _Optional[_Union[RecordFilter, _Mapping]] = ..., group_by: _Optional[_Iterable[_Union[StatsGroupBy, str]]] = ...) -> None: ...

class StatsGroup(_message.Message):
    __slots__ = ("model", "prompt_template", "count", "error_count", "error_rate", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "input_tokens", "output_tokens", "cache_read_input_tokens", "reasoning_output_tokens")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_RATE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P50_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P95_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P99_MS_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_READ_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    REASONING_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    model: str
    prompt_template: str
    count: int
    error_count: int
    error_rate: float
    latency_p50_ms: float
    latency_p95_ms: float
    latency_p99_ms: float
    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int
    reasoning_output_tokens: int
    def __init__(self, model: _Optional[str] = ..., prompt_template: _Optional[str] = ..., count: _Optional[int] = ..., error_count: _Optional[int] = ..., error_rate: _Optional[float] = ..., latency_p50_ms: _Optional[float] = ..., latency_p95_ms: _Optional[float] = ..., latency_p99_ms: _Optional[float] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., cache_read_input_tokens: _Optional[int] = ..., reasoning_output_tokens: _Optional[int] = ...) -> None: ...

class GetStatsResponse(_message.Message):
    __slots__ = ("groups",)
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[StatsGroup]
    def __init__(self, groups: _Optional[_Iterable[_Union[StatsGroup, _Mapping]]] = ...) -> None: ...

class PurgeRecordsRequest(_message.Message):
    __slots__ = ("before",)
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    before: _timestamp_pb2.Timestamp
    def __init__(self, before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PurgeRecordsResponse(_message.Message):
    __slots__ = ("deleted_records", "deleted_segments")
    DELETED_RECORDS_FIELD_NUMBER: _ClassVar[int]
    DELETED_SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    deleted_records: int
    deleted_segments: int
    def __init__(self, deleted_records: _Optional[int] = ..., deleted_segments: _Optional[int] = ...) -> None: ...
