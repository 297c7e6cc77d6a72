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

class TierMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TIER_MODE_UNSPECIFIED: _ClassVar[TierMode]
    TIER_MODE_WHOLE_REQUEST: _ClassVar[TierMode]
    TIER_MODE_MARGINAL: _ClassVar[TierMode]

class SpendDimension(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SPEND_DIMENSION_UNSPECIFIED: _ClassVar[SpendDimension]
    SPEND_DIMENSION_MODEL: _ClassVar[SpendDimension]
    SPEND_DIMENSION_USER: _ClassVar[SpendDimension]
    SPEND_DIMENSION_PROMPT_TEMPLATE: _ClassVar[SpendDimension]
    SPEND_DIMENSION_EXPERIMENT: _ClassVar[SpendDimension]
    SPEND_DIMENSION_VARIANT: _ClassVar[SpendDimension]
    SPEND_DIMENSION_TAG: _ClassVar[SpendDimension]

class TimeGranularity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TIME_GRANULARITY_UNSPECIFIED: _ClassVar[TimeGranularity]
    TIME_GRANULARITY_HOUR: _ClassVar[TimeGranularity]
    TIME_GRANULARITY_DAY: _ClassVar[TimeGranularity]
    TIME_GRANULARITY_MONTH: _ClassVar[TimeGranularity]

class BudgetWindowKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BUDGET_WINDOW_KIND_UNSPECIFIED: _ClassVar[BudgetWindowKind]
    BUDGET_WINDOW_KIND_ROLLING_HOURS: _ClassVar[BudgetWindowKind]
    BUDGET_WINDOW_KIND_ROLLING_DAYS: _ClassVar[BudgetWindowKind]
    BUDGET_WINDOW_KIND_CALENDAR_DAY: _ClassVar[BudgetWindowKind]
    BUDGET_WINDOW_KIND_CALENDAR_MONTH: _ClassVar[BudgetWindowKind]

class BudgetDecision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BUDGET_DECISION_UNSPECIFIED: _ClassVar[BudgetDecision]
    BUDGET_DECISION_ALLOW: _ClassVar[BudgetDecision]
    BUDGET_DECISION_WARN: _ClassVar[BudgetDecision]
    BUDGET_DECISION_DENY: _ClassVar[BudgetDecision]
TIER_MODE_UNSPECIFIED: TierMode
TIER_MODE_WHOLE_REQUEST: TierMode
TIER_MODE_MARGINAL: TierMode
SPEND_DIMENSION_UNSPECIFIED: SpendDimension
SPEND_DIMENSION_MODEL: SpendDimension
SPEND_DIMENSION_USER: SpendDimension
SPEND_DIMENSION_PROMPT_TEMPLATE: SpendDimension
SPEND_DIMENSION_EXPERIMENT: SpendDimension
SPEND_DIMENSION_VARIANT: SpendDimension
SPEND_DIMENSION_TAG: SpendDimension
TIME_GRANULARITY_UNSPECIFIED: TimeGranularity
TIME_GRANULARITY_HOUR: TimeGranularity
TIME_GRANULARITY_DAY: TimeGranularity
TIME_GRANULARITY_MONTH: TimeGranularity
BUDGET_WINDOW_KIND_UNSPECIFIED: BudgetWindowKind
BUDGET_WINDOW_KIND_ROLLING_HOURS: BudgetWindowKind
BUDGET_WINDOW_KIND_ROLLING_DAYS: BudgetWindowKind
BUDGET_WINDOW_KIND_CALENDAR_DAY: BudgetWindowKind
BUDGET_WINDOW_KIND_CALENDAR_MONTH: BudgetWindowKind
BUDGET_DECISION_UNSPECIFIED: BudgetDecision
BUDGET_DECISION_ALLOW: BudgetDecision
BUDGET_DECISION_WARN: BudgetDecision
BUDGET_DECISION_DENY: BudgetDecision

class CountTokensRequest(_message.Message):
    __slots__ = ("model", "text")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    model: str
    text: str
    def __init__(self, model: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class CountTokensResponse(_message.Message):
    __slots__ = ("tokens", "encoding", "estimated")
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_FIELD_NUMBER: _ClassVar[int]
    tokens: int
    encoding: str
    estimated: bool
    def __init__(self, tokens: _Optional[int] = ..., encoding: _Optional[str] = ..., estimated: _Optional[bool] = ...) -> None: ...

class CountTokensBatchRequest(_message.Message):
    __slots__ = ("model", "texts")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    model: str
    texts: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, model: _Optional[str] = ..., texts: _Optional[_Iterable[str]] = ...) -> None: ...

class CountTokensBatchResponse(_message.Message):
    __slots__ = ("tokens", "encoding", "estimated")
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedScalarFieldContainer[int]
    encoding: str
    estimated: bool
    def __init__(self, tokens: _Optional[_Iterable[int]] = ..., encoding: _Optional[str] = ..., estimated: _Optional[bool] = ...) -> None: ...

class ChatMessage(_message.Message):
    __slots__ = ("role", "content", "name")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    role: str
    content: str
    name: str
    def __init__(self, role: _Optional[str] = ..., content: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class CountChatTokensRequest(_message.Message):
    __slots__ = ("model", "messages")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    model: str
    messages: _containers.RepeatedCompositeFieldContainer[ChatMessage]
    def __init__(self, model: _Optional[str] = ..., messages: _Optional[_Iterable[_Union[ChatMessage, _Mapping]]] = ...) -> None: ...

class CountChatTokensResponse(_message.Message):
    __slots__ = ("tokens", "encoding", "estimated")
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_FIELD_NUMBER: _ClassVar[int]
    tokens: int
    encoding: str
    estimated: bool
    def __init__(self, tokens: _Optional[int] = ..., encoding: _Optional[str] = ..., estimated: _Optional[bool] = ...) -> None: ...

class PriceTier(_message.Message):
    __slots__ = ("above_input_tokens", "mode", "input_per_mtok", "output_per_mtok", "cache_read_per_mtok", "cache_write_per_mtok")
    ABOVE_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    INPUT_PER_MTOK_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_PER_MTOK_FIELD_NUMBER: _ClassVar[int]
    CACHE_READ_PER_MTOK_FIELD_NUMBER: _ClassVar[int]
    CACHE_WRITE_PER_MTOK_FIELD_NUMBER: _ClassVar[int]
    above_input_tokens: int
    mode: TierMode
    input_per_mtok: str
    output_per_mtok: str
    cache_read_per_mtok: str
    cache_write_per_mtok: str
    def __init__(self, above_input_tokens: _Optional[int] = ..., mode: _Optional[_Union[TierMode, str]] = ..., input_per_mtok: _Optional[str] = ..., output_per_mtok: _Optional[str] = ..., cache_read_per_mtok: _Optional[str] = ..., cache_write_per_mtok: _Optional[str] = ...) -> None: ...

class PriceEntry(_message.Message):
    __slots__ = ("model", "provider", "effective_from", "input_per_mtok", "output_per_mtok", "cache_read_per_mtok", "cache_write_per_mtok", "batch_input_per_mtok", "batch_output_per_mtok", "reasoning_output_per_mtok", "tiers", "source", "aliases")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_FROM_FIELD_NUMBER: _ClassVar[int]
    INPUT_PER_MTOK_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_PER_MTOK_FIELD_NUMBER: _ClassVar[int]
    CACHE_READ_PER_MTOK_FIELD_NUMBER: _ClassVar[int]
    CACHE_WRITE_PER_MTOK_FIELD_NUMBER: _ClassVar[int]
    BATCH_INPUT_PER_MTOK_FIELD_NUMBER: _ClassVar[int]
    BATCH_OUTPUT_PER_MTOK_FIELD_NUMBER: _ClassVar[int]
    REASONING_OUTPUT_PER_MTOK_FIELD_NUMBER: _ClassVar[int]
    TIERS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    model: str
    provider: str
    effective_from: str
    input_per_mtok: str
    output_per_mtok: str
    cache_read_per_mtok: str
    cache_write_per_mtok: str
    batch_input_per_mtok: str
    batch_output_per_mtok: str
    reasoning_output_per_mtok: str
    tiers: _containers.RepeatedCompositeFieldContainer[PriceTier]
    source: str
    aliases: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, model: _Optional[str] = ..., provider: _Optional[str] = ..., effective_from: _Optional[str] = ..., input_per_mtok: _Optional[str] = ..., output_per_mtok: _Optional[str] = ..., cache_read_per_mtok: _Optional[str] = ..., cache_write_per_mtok: _Optional[str] = ..., batch_input_per_mtok: _Optional[str] = ..., batch_output_per_mtok: _Optional[str] = ..., reasoning_output_per_mtok: _Optional[str] = ..., tiers: _Optional[_Iterable[_Union[PriceTier, _Mapping]]] = ..., source: _Optional[str] = ..., aliases: _Optional[_Iterable[str]] = ...) -> None: ...

class EstimateCostRequest(_message.Message):
    __slots__ = ("model", "usage", "timestamp", "batch")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    model: str
    usage: _common_pb2.TokenUsage
    timestamp: _timestamp_pb2.Timestamp
    batch: bool
    def __init__(self, model: _Optional[str] = ..., usage: _Optional[_Union[_common_pb2.TokenUsage, _Mapping]] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., batch: _Optional[bool] = ...) -> None: ...

class CostLine(_message.Message):
    __slots__ = ("component", "tokens", "price_per_mtok", "cost")
    COMPONENT_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    PRICE_PER_MTOK_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    component: str
    tokens: int
    price_per_mtok: str
    cost: _common_pb2.Money
    def __init__(self, component: _Optional[str] = ..., tokens: _Optional[int] = ..., price_per_mtok: _Optional[str] = ..., cost: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class EstimateCostResponse(_message.Message):
    __slots__ = ("cost", "lines", "price_found", "price_effective_from", "tier_above_input_tokens")
    COST_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    PRICE_FOUND_FIELD_NUMBER: _ClassVar[int]
    PRICE_EFFECTIVE_FROM_FIELD_NUMBER: _ClassVar[int]
    TIER_ABOVE_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    cost: _common_pb2.Money
    lines: _containers.RepeatedCompositeFieldContainer[CostLine]
    price_found: bool
    price_effective_from: str
    tier_above_input_tokens: int
    def __init__(self, cost: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., lines: _Optional[_Iterable[_Union[CostLine, _Mapping]]] = ..., price_found: _Optional[bool] = ..., price_effective_from: _Optional[str] = ..., tier_above_input_tokens: _Optional[int] = ...) -> None: ...

class ListPricesRequest(_message.Message):
    __slots__ = ("model", "page_size", "page_token")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    model: str
    page_size: int
    page_token: str
    def __init__(self, model: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPricesResponse(_message.Message):
    __slots__ = ("prices", "next_page_token")
    PRICES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    prices: _containers.RepeatedCompositeFieldContainer[PriceEntry]
    next_page_token: str
    def __init__(self, prices: _Optional[_Iterable[_Union[PriceEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpsertPricesRequest(_message.Message):
    __slots__ = ("prices",)
    PRICES_FIELD_NUMBER: _ClassVar[int]
    prices: _containers.RepeatedCompositeFieldContainer[PriceEntry]
    def __init__(self, prices: _Optional[_Iterable[_Union[PriceEntry, _Mapping]]] = ...) -> None: ...

class UpsertPricesResponse(_message.Message):
    __slots__ = ("upserted",)
    UPSERTED_FIELD_NUMBER: _ClassVar[int]
    upserted: int
    def __init__(self, upserted: _Optional[int] = ...) -> None: ...

class ReloadPricesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ReloadPricesResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: int
    def __init__(self, entries: _Optional[int] = ...) -> None: ...

class RecordSpendRequest(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[_common_pb2.CallRecord]
    def __init__(self, records: _Optional[_Iterable[_Union[_common_pb2.CallRecord, _Mapping]]] = ...) -> None: ...

class RecordSpendResponse(_message.Message):
    __slots__ = ("recorded", "duplicates", "unpriced")
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    UNPRICED_FIELD_NUMBER: _ClassVar[int]
    recorded: int
    duplicates: int
    unpriced: int
    def __init__(self, recorded: _Optional[int] = ..., duplicates: _Optional[int] = ..., unpriced: _Optional[int] = ...) -> None: ...

class DimensionFilter(_message.Message):
    __slots__ = ("dimension", "value")
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    dimension: SpendDimension
    value: str
    def __init__(self, dimension: _Optional[_Union[SpendDimension, str]] = ..., value: _Optional[str] = ...) -> None: ...

class QuerySpendRequest(_message.Message):
    __slots__ = ("time_range", "group_by", "granularity", "filters")
    TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    GRANULARITY_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    time_range: _common_pb2.TimeRange
    group_by: _containers.RepeatedScalarFieldContainer[SpendDimension]
    granularity: TimeGranularity
    filters: _containers.RepeatedCompositeFieldContainer[DimensionFilter]
    def __init__(self, time_range: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ..., group_by: _Optional[_Iterable[_Union[SpendDimension, str]]] = ..., granularity: _Optional[_Union[TimeGranularity, str]] = ..., filters: _Optional[_Iterable[_Union[DimensionFilter, _Mapping]]] = ...) -> None: ...

class SpendRow(_message.Message):
    __slots__ = ("bucket_start", "group_values", "cost", "estimated_cost", "calls", "input_tokens", "output_tokens", "cache_read_input_tokens")
    BUCKET_START_FIELD_NUMBER: _ClassVar[int]
    GROUP_VALUES_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_COST_FIELD_NUMBER: _ClassVar[int]
    CALLS_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_READ_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    bucket_start: _timestamp_pb2.Timestamp
    group_values: _containers.RepeatedScalarFieldContainer[str]
    cost: _common_pb2.Money
    estimated_cost: _common_pb2.Money
    calls: int
    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int
    def __init__(self, bucket_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., group_values: _Optional[_Iterable[str]] = ..., cost: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., estimated_cost: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., calls: _Optional[int] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., cache_read_input_tokens: _Optional[int] = ...) -> None: ...

class QuerySpendResponse(_message.Message):
    __slots__ = ("rows", "total_cost")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[SpendRow]
    total_cost: _common_pb2.Money
    def __init__(self, rows: _Optional[_Iterable[_Union[SpendRow, _Mapping]]] = ..., total_cost: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class BudgetWindow(_message.Message):
    __slots__ = ("kind", "length", "time_zone")
    KIND_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    kind: BudgetWindowKind
    length: int
    time_zone: str
    def __init__(self, kind: _Optional[_Union[BudgetWindowKind, str]] = ..., length: _Optional[int] = ..., time_zone: _Optional[str] = ...) -> None: ...

class Budget(_message.Message):
    __slots__ = ("id", "name", "dimension", "value", "window", "limit", "alert_thresholds_percent")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    ALERT_THRESHOLDS_PERCENT_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    dimension: SpendDimension
    value: str
    window: BudgetWindow
    limit: _common_pb2.Money
    alert_thresholds_percent: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., dimension: _Optional[_Union[SpendDimension, str]] = ..., value: _Optional[str] = ..., window: _Optional[_Union[BudgetWindow, _Mapping]] = ..., limit: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., alert_thresholds_percent: _Optional[_Iterable[float]] = ...) -> None: ...

class BudgetStatus(_message.Message):
    __slots__ = ("budget", "spent", "remaining", "percent_used", "alert_threshold_crossed", "decision", "window_start", "window_reset_time")
    BUDGET_FIELD_NUMBER: _ClassVar[int]
    SPENT_FIELD_NUMBER: _ClassVar[int]
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    PERCENT_USED_FIELD_NUMBER: _ClassVar[int]
    ALERT_THRESHOLD_CROSSED_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    WINDOW_START_FIELD_NUMBER: _ClassVar[int]
    WINDOW_RESET_TIME_FIELD_NUMBER: _ClassVar[int]
    budget: Budget
    spent: _common_pb2.Money
    remaining: _common_pb2.Money
    percent_used: float
    alert_threshold_crossed: float
    decision: BudgetDecision
    window_start: _timestamp_pb2.Timestamp
    window_reset_time: _timestamp_pb2.Timestamp
    def __init__(self, budget: _Optional[_Union[Budget, _Mapping]] = ..., spent: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., remaining: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., percent_used: _Optional[float] = ..., alert_threshold_crossed: _Optional[float] = ..., decision: _Optional[_Union[BudgetDecision, str]] = ..., window_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., window_reset_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateBudgetRequest(_message.Message):
    __slots__ = ("budget",)
    BUDGET_FIELD_NUMBER: _ClassVar[int]
    budget: Budget
    def __init__(self, budget: _Optional[_Union[Budget, _Mapping]] = ...) -> None: ...

class CreateBudgetResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: BudgetStatus
    def __init__(self, status: _Optional[_Union[BudgetStatus, _Mapping]] = ...) -> None: ...

class GetBudgetRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetBudgetResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: BudgetStatus
    def __init__(self, status: _Optional[_Union[BudgetStatus, _Mapping]] = ...) -> None: ...

class ListBudgetsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListBudgetsResponse(_message.Message):
    __slots__ = ("budgets", "next_page_token")
    BUDGETS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    budgets: _containers.RepeatedCompositeFieldContainer[BudgetStatus]
    next_page_token: str
    def __init__(self, budgets: _Optional[_Iterable[_Union[BudgetStatus, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteBudgetRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteBudgetResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CheckBudgetRequest(_message.Message):
    __slots__ = ("model", "user_id", "prompt_template", "experiment_id", "variant", "tag", "expected_cost")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    VARIANT_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_COST_FIELD_NUMBER: _ClassVar[int]
    model: str
    user_id: str
    prompt_template: str
    experiment_id: str
    variant: str
    tag: str
    expected_cost: _common_pb2.Money
    def __init__(self, model: _Optional[str] = ..., user_id: _Optional[str] = ..., prompt_template: _Optional[str] = ..., experiment_id: _Optional[str] = ..., variant: _Optional[str] = ..., tag: _Optional[str] = ..., expected_cost: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class CheckBudgetResponse(_message.Message):
    __slots__ = ("decision", "budgets")
    DECISION_FIELD_NUMBER: _ClassVar[int]
    BUDGETS_FIELD_NUMBER: _ClassVar[int]
    decision: BudgetDecision
    budgets: _containers.RepeatedCompositeFieldContainer[BudgetStatus]
    def __init__(self, decision: _Optional[_Union[BudgetDecision, str]] = ..., budgets: _Optional[_Iterable[_Union[BudgetStatus, _Mapping]]] = ...) -> None: ...

class ListBudgetAlertsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListBudgetAlertsResponse(_message.Message):
    __slots__ = ("budgets",)
    BUDGETS_FIELD_NUMBER: _ClassVar[int]
    budgets: _containers.RepeatedCompositeFieldContainer[BudgetStatus]
    def __init__(self, budgets: _Optional[_Iterable[_Union[BudgetStatus, _Mapping]]] = ...) -> None: ...

class BilledAmount(_message.Message):
    __slots__ = ("request_id", "amount")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    amount: _common_pb2.Money
    def __init__(self, request_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class ImportBilledAmountsRequest(_message.Message):
    __slots__ = ("amounts",)
    AMOUNTS_FIELD_NUMBER: _ClassVar[int]
    amounts: _containers.RepeatedCompositeFieldContainer[BilledAmount]
    def __init__(self, amounts: _Optional[_Iterable[_Union[BilledAmount, _Mapping]]] = ...) -> None: ...

class ImportBilledAmountsResponse(_message.Message):
    __slots__ = ("applied", "unmatched")
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    UNMATCHED_FIELD_NUMBER: _ClassVar[int]
    applied: int
    unmatched: int
    def __init__(self, applied: _Optional[int] = ..., unmatched: _Optional[int] = ...) -> None: ...

class ImportBillingExportRequest(_message.Message):
    __slots__ = ("provider", "csv")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    CSV_FIELD_NUMBER: _ClassVar[int]
    provider: str
    csv: str
    def __init__(self, provider: _Optional[str] = ..., csv: _Optional[str] = ...) -> None: ...

class ImportBillingExportResponse(_message.Message):
    __slots__ = ("rows",)
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: int
    def __init__(self, rows: _Optional[int] = ...) -> None: ...

class GetReconciliationReportRequest(_message.Message):
    __slots__ = ("time_range", "model")
    TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    time_range: _common_pb2.TimeRange
    model: str
    def __init__(self, time_range: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ..., model: _Optional[str] = ...) -> None: ...

class ReconciliationRow(_message.Message):
    __slots__ = ("day", "model", "estimated", "billed", "gap_percent", "calls", "estimated_input_tokens", "billed_input_tokens", "estimated_output_tokens", "billed_output_tokens", "likely_cause")
    DAY_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_FIELD_NUMBER: _ClassVar[int]
    BILLED_FIELD_NUMBER: _ClassVar[int]
    GAP_PERCENT_FIELD_NUMBER: _ClassVar[int]
    CALLS_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    BILLED_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    BILLED_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    LIKELY_CAUSE_FIELD_NUMBER: _ClassVar[int]
    day: str
    model: str
    estimated: _common_pb2.Money
    billed: _common_pb2.Money
    gap_percent: float
    calls: int
    estimated_input_tokens: int
    billed_input_tokens: int
    estimated_output_tokens: int
    billed_output_tokens: int
    likely_cause: str
    def __init__(self, day: _Optional[str] = ..., model: _Optional[str] = ..., estimated: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., billed: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., gap_percent: _Optional[float] = ..., calls: _Optional[int] = ..., estimated_input_tokens: _Optional[int] = ..., billed_input_tokens: _Optional[int] = ..., estimated_output_tokens: _Optional[int] = ..., billed_output_tokens: _Optional[int] = ..., likely_cause: _Optional[str] = ...) -> None: ...

class GetReconciliationReportResponse(_message.Message):
    __slots__ = ("rows",)
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[ReconciliationRow]
    def __init__(self, rows: _Optional[_Iterable[_Union[ReconciliationRow, _Mapping]]] = ...) -> None: ...
