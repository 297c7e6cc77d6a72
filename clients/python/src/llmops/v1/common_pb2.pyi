import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CallStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CALL_STATUS_UNSPECIFIED: _ClassVar[CallStatus]
    CALL_STATUS_SUCCESS: _ClassVar[CallStatus]
    CALL_STATUS_ERROR: _ClassVar[CallStatus]
    CALL_STATUS_TIMEOUT: _ClassVar[CallStatus]
    CALL_STATUS_FILTERED: _ClassVar[CallStatus]
CALL_STATUS_UNSPECIFIED: CallStatus
CALL_STATUS_SUCCESS: CallStatus
CALL_STATUS_ERROR: CallStatus
CALL_STATUS_TIMEOUT: CallStatus
CALL_STATUS_FILTERED: CallStatus

class Money(_message.Message):
    __slots__ = ("currency_code", "amount_micros")
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MICROS_FIELD_NUMBER: _ClassVar[int]
    currency_code: str
    amount_micros: int
    def __init__(self, currency_code: _Optional[str] = ..., amount_micros: _Optional[int] = ...) -> None: ...

class TimeRange(_message.Message):
    __slots__ = ("start_time", "end_time")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TokenUsage(_message.Message):
    __slots__ = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "reasoning_output_tokens", "estimated")
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_READ_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_CREATION_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    REASONING_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_FIELD_NUMBER: _ClassVar[int]
    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int
    cache_creation_input_tokens: int
    reasoning_output_tokens: int
    estimated: bool
    def __init__(self, input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., cache_read_input_tokens: _Optional[int] = ..., cache_creation_input_tokens: _Optional[int] = ..., reasoning_output_tokens: _Optional[int] = ..., estimated: _Optional[bool] = ...) -> None: ...

class CallRecord(_message.Message):
    __slots__ = ("request_id", "timestamp", "model", "provider", "prompt_template", "prompt_hash", "usage", "latency_ms", "status", "error_type", "error_message", "user_id", "experiment_id", "variant", "metadata", "prompt_text", "response_text", "time_to_first_token_ms", "batch", "tag", "billed_cost")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    PROMPT_HASH_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_TYPE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    VARIANT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TEXT_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_TEXT_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_FIRST_TOKEN_MS_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    BILLED_COST_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    timestamp: _timestamp_pb2.Timestamp
    model: str
    provider: str
    prompt_template: str
    prompt_hash: str
    usage: TokenUsage
    latency_ms: float
    status: CallStatus
    error_type: str
    error_message: str
    user_id: str
    experiment_id: str
    variant: str
    metadata: _containers.ScalarMap[str, str]
    prompt_text: str
    response_text: str
    time_to_first_token_ms: float
    batch: bool
    tag: str
    billed_cost: Money
    def __init__(self, request_id: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., model: _Optional[str] = ..., provider: _Optional[str] = ..., prompt_template: _Optional[str] = ..., prompt_hash: _Optional[str] = ..., usage: _Optional[_Union[TokenUsage, _Mapping]] = ..., latency_ms: _Optional[float] = ..., status: _Optional[_Union[CallStatus, str]] = ..., error_type: _Optional[str] = ..., error_message: _Optional[str] = ..., user_id: _Optional[str] = ..., experiment_id: _Optional[str] = ..., variant: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., prompt_text: _Optional[str] = ..., response_text: _Optional[str] = ..., time_to_first_token_ms: _Optional[float] = ..., batch: _Optional[bool] = ..., tag: _Optional[str] = ..., billed_cost: _Optional[_Union[Money, _Mapping]] = ...) -> None: ...
