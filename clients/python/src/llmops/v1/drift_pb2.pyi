import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from llmops.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ObserveRequest(_message.Message):
    __slots__ = ("monitor_id", "texts", "request_ids")
    MONITOR_ID_FIELD_NUMBER: _ClassVar[int]
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_IDS_FIELD_NUMBER: _ClassVar[int]
    monitor_id: str
    texts: _containers.RepeatedScalarFieldContainer[str]
    request_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, monitor_id: _Optional[str] = ..., texts: _Optional[_Iterable[str]] = ..., request_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ObserveResponse(_message.Message):
    __slots__ = ("accepted", "skipped_empty", "window_size", "duplicates")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_EMPTY_FIELD_NUMBER: _ClassVar[int]
    WINDOW_SIZE_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    skipped_empty: int
    window_size: int
    duplicates: int
    def __init__(self, accepted: _Optional[int] = ..., skipped_empty: _Optional[int] = ..., window_size: _Optional[int] = ..., duplicates: _Optional[int] = ...) -> None: ...

class RecordSelection(_message.Message):
    __slots__ = ("time_range", "model", "prompt_template", "limit")
    TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    time_range: _common_pb2.TimeRange
    model: str
    prompt_template: str
    limit: int
    def __init__(self, time_range: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ..., model: _Optional[str] = ..., prompt_template: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class SetBaselineRequest(_message.Message):
    __slots__ = ("monitor_id", "texts", "records")
    MONITOR_ID_FIELD_NUMBER: _ClassVar[int]
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    monitor_id: str
    texts: BaselineTexts
    records: RecordSelection
    def __init__(self, monitor_id: _Optional[str] = ..., texts: _Optional[_Union[BaselineTexts, _Mapping]] = ..., records: _Optional[_Union[RecordSelection, _Mapping]] = ...) -> None: ...

class BaselineTexts(_message.Message):
    __slots__ = ("texts",)
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    texts: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, texts: _Optional[_Iterable[str]] = ...) -> None: ...

class Monitor(_message.Message):
    __slots__ = ("monitor_id", "baseline_size", "baseline_time", "window_size", "window_capacity", "distance_threshold", "last_check")
    MONITOR_ID_FIELD_NUMBER: _ClassVar[int]
    BASELINE_SIZE_FIELD_NUMBER: _ClassVar[int]
    BASELINE_TIME_FIELD_NUMBER: _ClassVar[int]
    WINDOW_SIZE_FIELD_NUMBER: _ClassVar[int]
    WINDOW_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    LAST_CHECK_FIELD_NUMBER: _ClassVar[int]
    monitor_id: str
    baseline_size: int
    baseline_time: _timestamp_pb2.Timestamp
    window_size: int
    window_capacity: int
    distance_threshold: float
    last_check: CheckDriftResponse
    def __init__(self, monitor_id: _Optional[str] = ..., baseline_size: _Optional[int] = ..., baseline_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., window_size: _Optional[int] = ..., window_capacity: _Optional[int] = ..., distance_threshold: _Optional[float] = ..., last_check: _Optional[_Union[CheckDriftResponse, _Mapping]] = ...) -> None: ...

class SetBaselineResponse(_message.Message):
    __slots__ = ("monitor", "skipped_empty")
    MONITOR_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_EMPTY_FIELD_NUMBER: _ClassVar[int]
    monitor: Monitor
    skipped_empty: int
    def __init__(self, monitor: _Optional[_Union[Monitor, _Mapping]] = ..., skipped_empty: _Optional[int] = ...) -> None: ...

class CheckDriftRequest(_message.Message):
    __slots__ = ("monitor_id", "alpha")
    MONITOR_ID_FIELD_NUMBER: _ClassVar[int]
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    monitor_id: str
    alpha: float
    def __init__(self, monitor_id: _Optional[str] = ..., alpha: _Optional[float] = ...) -> None: ...

class DriftExample(_message.Message):
    __slots__ = ("text", "distance")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_FIELD_NUMBER: _ClassVar[int]
    text: str
    distance: float
    def __init__(self, text: _Optional[str] = ..., distance: _Optional[float] = ...) -> None: ...

class CheckDriftResponse(_message.Message):
    __slots__ = ("monitor_id", "drifted", "distance", "distance_threshold", "p_value", "alpha", "test", "statistic", "baseline_size", "window_size", "baseline_examples", "window_examples", "check_time")
    MONITOR_ID_FIELD_NUMBER: _ClassVar[int]
    DRIFTED_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_FIELD_NUMBER: _ClassVar[int]
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    TEST_FIELD_NUMBER: _ClassVar[int]
    STATISTIC_FIELD_NUMBER: _ClassVar[int]
    BASELINE_SIZE_FIELD_NUMBER: _ClassVar[int]
    WINDOW_SIZE_FIELD_NUMBER: _ClassVar[int]
    BASELINE_EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    WINDOW_EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    CHECK_TIME_FIELD_NUMBER: _ClassVar[int]
    monitor_id: str
    drifted: bool
    distance: float
    distance_threshold: float
    p_value: float
    alpha: float
    test: str
    statistic: float
    baseline_size: int
    window_size: int
    baseline_examples: _containers.RepeatedCompositeFieldContainer[DriftExample]
    window_examples: _containers.RepeatedCompositeFieldContainer[DriftExample]
    check_time: _timestamp_pb2.Timestamp
    def __init__(self, monitor_id: _Optional[str] = ..., drifted: _Optional[bool] = ..., distance: _Optional[float] = ..., distance_threshold: _Optional[float] = ..., p_value: _Optional[float] = ..., alpha: _Optional[float] = ..., test: _Optional[str] = ..., statistic: _Optional[float] = ..., baseline_size: _Optional[int] = ..., window_size: _Optional[int] = ..., baseline_examples: _Optional[_Iterable[_Union[DriftExample, _Mapping]]] = ..., window_examples: _Optional[_Iterable[_Union[DriftExample, _Mapping]]] = ..., check_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ScoreTextsRequest(_message.Message):
    __slots__ = ("monitor_id", "texts")
    MONITOR_ID_FIELD_NUMBER: _ClassVar[int]
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    monitor_id: str
    texts: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, monitor_id: _Optional[str] = ..., texts: _Optional[_Iterable[str]] = ...) -> None: ...

class ScoreTextsResponse(_message.Message):
    __slots__ = ("distances", "outlier_threshold")
    DISTANCES_FIELD_NUMBER: _ClassVar[int]
    OUTLIER_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    distances: _containers.RepeatedScalarFieldContainer[float]
    outlier_threshold: float
    def __init__(self, distances: _Optional[_Iterable[float]] = ..., outlier_threshold: _Optional[float] = ...) -> None: ...

class ListMonitorsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListMonitorsResponse(_message.Message):
    __slots__ = ("monitors", "next_page_token")
    MONITORS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    monitors: _containers.RepeatedCompositeFieldContainer[Monitor]
    next_page_token: str
    def __init__(self, monitors: _Optional[_Iterable[_Union[Monitor, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetMonitorRequest(_message.Message):
    __slots__ = ("monitor_id",)
    MONITOR_ID_FIELD_NUMBER: _ClassVar[int]
    monitor_id: str
    def __init__(self, monitor_id: _Optional[str] = ...) -> None: ...

class GetMonitorResponse(_message.Message):
    __slots__ = ("monitor",)
    MONITOR_FIELD_NUMBER: _ClassVar[int]
    monitor: Monitor
    def __init__(self, monitor: _Optional[_Union[Monitor, _Mapping]] = ...) -> None: ...

class DeleteMonitorRequest(_message.Message):
    __slots__ = ("monitor_id",)
    MONITOR_ID_FIELD_NUMBER: _ClassVar[int]
    monitor_id: str
    def __init__(self, monitor_id: _Optional[str] = ...) -> None: ...

class DeleteMonitorResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
