import datetime

from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from llmops.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ExperimentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPERIMENT_STATUS_UNSPECIFIED: _ClassVar[ExperimentStatus]
    EXPERIMENT_STATUS_DRAFT: _ClassVar[ExperimentStatus]
    EXPERIMENT_STATUS_RUNNING: _ClassVar[ExperimentStatus]
    EXPERIMENT_STATUS_PAUSED: _ClassVar[ExperimentStatus]
    EXPERIMENT_STATUS_STOPPED: _ClassVar[ExperimentStatus]

class MetricKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    METRIC_KIND_UNSPECIFIED: _ClassVar[MetricKind]
    METRIC_KIND_CONTINUOUS: _ClassVar[MetricKind]
    METRIC_KIND_PROPORTION: _ClassVar[MetricKind]
EXPERIMENT_STATUS_UNSPECIFIED: ExperimentStatus
EXPERIMENT_STATUS_DRAFT: ExperimentStatus
EXPERIMENT_STATUS_RUNNING: ExperimentStatus
EXPERIMENT_STATUS_PAUSED: ExperimentStatus
EXPERIMENT_STATUS_STOPPED: ExperimentStatus
METRIC_KIND_UNSPECIFIED: MetricKind
METRIC_KIND_CONTINUOUS: MetricKind
METRIC_KIND_PROPORTION: MetricKind

class Variant(_message.Message):
    __slots__ = ("name", "prompt_template", "template_text", "weight")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_TEXT_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    name: str
    prompt_template: str
    template_text: str
    weight: float
    def __init__(self, name: _Optional[str] = ..., prompt_template: _Optional[str] = ..., template_text: _Optional[str] = ..., weight: _Optional[float] = ...) -> None: ...

class MetricSpec(_message.Message):
    __slots__ = ("name", "kind", "higher_is_better")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    HIGHER_IS_BETTER_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: MetricKind
    higher_is_better: bool
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[MetricKind, str]] = ..., higher_is_better: _Optional[bool] = ...) -> None: ...

class Experiment(_message.Message):
    __slots__ = ("id", "description", "variants", "status", "control_variant", "primary_metric", "guardrail_metrics", "start_time", "stop_time", "version", "create_time", "update_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VARIANTS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CONTROL_VARIANT_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_METRIC_FIELD_NUMBER: _ClassVar[int]
    GUARDRAIL_METRICS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    STOP_TIME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    description: str
    variants: _containers.RepeatedCompositeFieldContainer[Variant]
    status: ExperimentStatus
    control_variant: str
    primary_metric: MetricSpec
    guardrail_metrics: _containers.RepeatedCompositeFieldContainer[MetricSpec]
    start_time: _timestamp_pb2.Timestamp
    stop_time: _timestamp_pb2.Timestamp
    version: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., description: _Optional[str] = ..., variants: _Optional[_Iterable[_Union[Variant, _Mapping]]] = ..., status: _Optional[_Union[ExperimentStatus, str]] = ..., control_variant: _Optional[str] = ..., primary_metric: _Optional[_Union[MetricSpec, _Mapping]] = ..., guardrail_metrics: _Optional[_Iterable[_Union[MetricSpec, _Mapping]]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stop_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateExperimentRequest(_message.Message):
    __slots__ = ("experiment",)
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    experiment: Experiment
    def __init__(self, experiment: _Optional[_Union[Experiment, _Mapping]] = ...) -> None: ...

class CreateExperimentResponse(_message.Message):
    __slots__ = ("experiment",)
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    experiment: Experiment
    def __init__(self, experiment: _Optional[_Union[Experiment, _Mapping]] = ...) -> None: ...

class GetExperimentRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetExperimentResponse(_message.Message):
    __slots__ = ("experiment",)
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    experiment: Experiment
    def __init__(self, experiment: _Optional[_Union[Experiment, _Mapping]] = ...) -> None: ...

class ListExperimentsRequest(_message.Message):
    __slots__ = ("status", "page_size", "page_token")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    status: ExperimentStatus
    page_size: int
    page_token: str
    def __init__(self, status: _Optional[_Union[ExperimentStatus, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListExperimentsResponse(_message.Message):
    __slots__ = ("experiments", "next_page_token")
    EXPERIMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    experiments: _containers.RepeatedCompositeFieldContainer[Experiment]
    next_page_token: str
    def __init__(self, experiments: _Optional[_Iterable[_Union[Experiment, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateExperimentRequest(_message.Message):
    __slots__ = ("experiment", "update_mask", "new_version")
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    NEW_VERSION_FIELD_NUMBER: _ClassVar[int]
    experiment: Experiment
    update_mask: _field_mask_pb2.FieldMask
    new_version: bool
    def __init__(self, experiment: _Optional[_Union[Experiment, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., new_version: _Optional[bool] = ...) -> None: ...

class UpdateExperimentResponse(_message.Message):
    __slots__ = ("experiment",)
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    experiment: Experiment
    def __init__(self, experiment: _Optional[_Union[Experiment, _Mapping]] = ...) -> None: ...

class StopExperimentRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class StopExperimentResponse(_message.Message):
    __slots__ = ("experiment",)
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    experiment: Experiment
    def __init__(self, experiment: _Optional[_Union[Experiment, _Mapping]] = ...) -> None: ...

class AssignRequest(_message.Message):
    __slots__ = ("experiment_id", "user_id")
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    user_id: str
    def __init__(self, experiment_id: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class Assignment(_message.Message):
    __slots__ = ("user_id", "variant", "prompt_template", "template_text", "bucket", "control_fallback")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    VARIANT_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_TEXT_FIELD_NUMBER: _ClassVar[int]
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    CONTROL_FALLBACK_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    variant: str
    prompt_template: str
    template_text: str
    bucket: float
    control_fallback: bool
    def __init__(self, user_id: _Optional[str] = ..., variant: _Optional[str] = ..., prompt_template: _Optional[str] = ..., template_text: _Optional[str] = ..., bucket: _Optional[float] = ..., control_fallback: _Optional[bool] = ...) -> None: ...

class AssignResponse(_message.Message):
    __slots__ = ("assignment", "status")
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    assignment: Assignment
    status: ExperimentStatus
    def __init__(self, assignment: _Optional[_Union[Assignment, _Mapping]] = ..., status: _Optional[_Union[ExperimentStatus, str]] = ...) -> None: ...

class AssignBatchRequest(_message.Message):
    __slots__ = ("experiment_id", "user_ids")
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    user_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, experiment_id: _Optional[str] = ..., user_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class AssignBatchResponse(_message.Message):
    __slots__ = ("assignments", "status")
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    assignments: _containers.RepeatedCompositeFieldContainer[Assignment]
    status: ExperimentStatus
    def __init__(self, assignments: _Optional[_Iterable[_Union[Assignment, _Mapping]]] = ..., status: _Optional[_Union[ExperimentStatus, str]] = ...) -> None: ...

class Outcome(_message.Message):
    __slots__ = ("experiment_id", "variant", "user_id", "metric", "value", "timestamp")
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    VARIANT_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    variant: str
    user_id: str
    metric: str
    value: float
    timestamp: _timestamp_pb2.Timestamp
    def __init__(self, experiment_id: _Optional[str] = ..., variant: _Optional[str] = ..., user_id: _Optional[str] = ..., metric: _Optional[str] = ..., value: _Optional[float] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RecordOutcomesRequest(_message.Message):
    __slots__ = ("outcomes",)
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    outcomes: _containers.RepeatedCompositeFieldContainer[Outcome]
    def __init__(self, outcomes: _Optional[_Iterable[_Union[Outcome, _Mapping]]] = ...) -> None: ...

class RecordOutcomesResponse(_message.Message):
    __slots__ = ("recorded",)
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    recorded: int
    def __init__(self, recorded: _Optional[int] = ...) -> None: ...

class RecordCallOutcomesRequest(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[_common_pb2.CallRecord]
    def __init__(self, records: _Optional[_Iterable[_Union[_common_pb2.CallRecord, _Mapping]]] = ...) -> None: ...

class RecordCallOutcomesResponse(_message.Message):
    __slots__ = ("recorded", "duplicates", "ignored")
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    IGNORED_FIELD_NUMBER: _ClassVar[int]
    recorded: int
    duplicates: int
    ignored: int
    def __init__(self, recorded: _Optional[int] = ..., duplicates: _Optional[int] = ..., ignored: _Optional[int] = ...) -> None: ...

class GetResultsRequest(_message.Message):
    __slots__ = ("experiment_id", "metric", "alpha", "min_samples_per_variant")
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    MIN_SAMPLES_PER_VARIANT_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    metric: str
    alpha: float
    min_samples_per_variant: int
    def __init__(self, experiment_id: _Optional[str] = ..., metric: _Optional[str] = ..., alpha: _Optional[float] = ..., min_samples_per_variant: _Optional[int] = ...) -> None: ...

class VariantStats(_message.Message):
    __slots__ = ("variant", "n", "mean", "std_dev", "ci_low", "ci_high", "exposures")
    VARIANT_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    STD_DEV_FIELD_NUMBER: _ClassVar[int]
    CI_LOW_FIELD_NUMBER: _ClassVar[int]
    CI_HIGH_FIELD_NUMBER: _ClassVar[int]
    EXPOSURES_FIELD_NUMBER: _ClassVar[int]
    variant: str
    n: int
    mean: float
    std_dev: float
    ci_low: float
    ci_high: float
    exposures: int
    def __init__(self, variant: _Optional[str] = ..., n: _Optional[int] = ..., mean: _Optional[float] = ..., std_dev: _Optional[float] = ..., ci_low: _Optional[float] = ..., ci_high: _Optional[float] = ..., exposures: _Optional[int] = ...) -> None: ...

class Comparison(_message.Message):
    __slots__ = ("variant", "difference", "relative_difference_percent", "ci_low", "ci_high", "p_value", "test", "minimum_detectable_effect", "sample_size_reached", "significant", "sequential_p_value", "sequential_significant")
    VARIANT_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCE_FIELD_NUMBER: _ClassVar[int]
    RELATIVE_DIFFERENCE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    CI_LOW_FIELD_NUMBER: _ClassVar[int]
    CI_HIGH_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_FIELD_NUMBER: _ClassVar[int]
    TEST_FIELD_NUMBER: _ClassVar[int]
    MINIMUM_DETECTABLE_EFFECT_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_SIZE_REACHED_FIELD_NUMBER: _ClassVar[int]
    SIGNIFICANT_FIELD_NUMBER: _ClassVar[int]
    SEQUENTIAL_P_VALUE_FIELD_NUMBER: _ClassVar[int]
    SEQUENTIAL_SIGNIFICANT_FIELD_NUMBER: _ClassVar[int]
    variant: str
    difference: float
    relative_difference_percent: float
    ci_low: float
    ci_high: float
    p_value: float
    test: str
    minimum_detectable_effect: float
    sample_size_reached: bool
    significant: bool
    sequential_p_value: float
    sequential_significant: bool
    def __init__(self, variant: _Optional[str] = ..., difference: _Optional[float] = ..., relative_difference_percent: _Optional[float] = ..., ci_low: _Optional[float] = ..., ci_high: _Optional[float] = ..., p_value: _Optional[float] = ..., test: _Optional[str] = ..., minimum_detectable_effect: _Optional[float] = ..., sample_size_reached: _Optional[bool] = ..., significant: _Optional[bool] = ..., sequential_p_value: _Optional[float] = ..., sequential_significant: _Optional[bool] = ...) -> None: ...

class SampleRatioCheck(_message.Message):
    __slots__ = ("chi_square", "p_value", "mismatch")
    CHI_SQUARE_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_FIELD_NUMBER: _ClassVar[int]
    MISMATCH_FIELD_NUMBER: _ClassVar[int]
    chi_square: float
    p_value: float
    mismatch: bool
    def __init__(self, chi_square: _Optional[float] = ..., p_value: _Optional[float] = ..., mismatch: _Optional[bool] = ...) -> None: ...

class GetResultsResponse(_message.Message):
    __slots__ = ("experiment_id", "metric", "control_variant", "variants", "comparisons", "sample_ratio", "verdict", "alpha")
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    CONTROL_VARIANT_FIELD_NUMBER: _ClassVar[int]
    VARIANTS_FIELD_NUMBER: _ClassVar[int]
    COMPARISONS_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATIO_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    metric: MetricSpec
    control_variant: str
    variants: _containers.RepeatedCompositeFieldContainer[VariantStats]
    comparisons: _containers.RepeatedCompositeFieldContainer[Comparison]
    sample_ratio: SampleRatioCheck
    verdict: str
    alpha: float
    def __init__(self, experiment_id: _Optional[str] = ..., metric: _Optional[_Union[MetricSpec, _Mapping]] = ..., control_variant: _Optional[str] = ..., variants: _Optional[_Iterable[_Union[VariantStats, _Mapping]]] = ..., comparisons: _Optional[_Iterable[_Union[Comparison, _Mapping]]] = ..., sample_ratio: _Optional[_Union[SampleRatioCheck, _Mapping]] = ..., verdict: _Optional[str] = ..., alpha: _Optional[float] = ...) -> None: ...
