from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GuardAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GUARD_ACTION_UNSPECIFIED: _ClassVar[GuardAction]
    GUARD_ACTION_PASS: _ClassVar[GuardAction]
    GUARD_ACTION_FLAG: _ClassVar[GuardAction]
    GUARD_ACTION_REDACT: _ClassVar[GuardAction]
    GUARD_ACTION_BLOCK: _ClassVar[GuardAction]

class RedactionStyle(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REDACTION_STYLE_UNSPECIFIED: _ClassVar[RedactionStyle]
    REDACTION_STYLE_PLACEHOLDER: _ClassVar[RedactionStyle]
    REDACTION_STYLE_MASK: _ClassVar[RedactionStyle]
    REDACTION_STYLE_PSEUDONYM: _ClassVar[RedactionStyle]
GUARD_ACTION_UNSPECIFIED: GuardAction
GUARD_ACTION_PASS: GuardAction
GUARD_ACTION_FLAG: GuardAction
GUARD_ACTION_REDACT: GuardAction
GUARD_ACTION_BLOCK: GuardAction
REDACTION_STYLE_UNSPECIFIED: RedactionStyle
REDACTION_STYLE_PLACEHOLDER: RedactionStyle
REDACTION_STYLE_MASK: RedactionStyle
REDACTION_STYLE_PSEUDONYM: RedactionStyle

class Finding(_message.Message):
    __slots__ = ("detector", "type", "start", "end", "score", "action", "reason")
    DETECTOR_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    detector: str
    type: str
    start: int
    end: int
    score: float
    action: GuardAction
    reason: str
    def __init__(self, detector: _Optional[str] = ..., type: _Optional[str] = ..., start: _Optional[int] = ..., end: _Optional[int] = ..., score: _Optional[float] = ..., action: _Optional[_Union[GuardAction, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class CheckInputRequest(_message.Message):
    __slots__ = ("text", "policy")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    text: str
    policy: str
    def __init__(self, text: _Optional[str] = ..., policy: _Optional[str] = ...) -> None: ...

class CheckInputResponse(_message.Message):
    __slots__ = ("action", "findings", "safe_text", "policy", "policy_version")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    SAFE_TEXT_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    action: GuardAction
    findings: _containers.RepeatedCompositeFieldContainer[Finding]
    safe_text: str
    policy: str
    policy_version: str
    def __init__(self, action: _Optional[_Union[GuardAction, str]] = ..., findings: _Optional[_Iterable[_Union[Finding, _Mapping]]] = ..., safe_text: _Optional[str] = ..., policy: _Optional[str] = ..., policy_version: _Optional[str] = ...) -> None: ...

class CheckOutputRequest(_message.Message):
    __slots__ = ("text", "policy")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    text: str
    policy: str
    def __init__(self, text: _Optional[str] = ..., policy: _Optional[str] = ...) -> None: ...

class CheckOutputResponse(_message.Message):
    __slots__ = ("action", "findings", "safe_text", "policy", "policy_version")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    SAFE_TEXT_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    action: GuardAction
    findings: _containers.RepeatedCompositeFieldContainer[Finding]
    safe_text: str
    policy: str
    policy_version: str
    def __init__(self, action: _Optional[_Union[GuardAction, str]] = ..., findings: _Optional[_Iterable[_Union[Finding, _Mapping]]] = ..., safe_text: _Optional[str] = ..., policy: _Optional[str] = ..., policy_version: _Optional[str] = ...) -> None: ...

class CheckOutputStreamRequest(_message.Message):
    __slots__ = ("policy", "chunk", "end_of_stream")
    POLICY_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    END_OF_STREAM_FIELD_NUMBER: _ClassVar[int]
    policy: str
    chunk: str
    end_of_stream: bool
    def __init__(self, policy: _Optional[str] = ..., chunk: _Optional[str] = ..., end_of_stream: _Optional[bool] = ...) -> None: ...

class CheckOutputStreamResponse(_message.Message):
    __slots__ = ("release_text", "findings", "action", "held_back", "policy", "policy_version")
    RELEASE_TEXT_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    HELD_BACK_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    release_text: str
    findings: _containers.RepeatedCompositeFieldContainer[Finding]
    action: GuardAction
    held_back: int
    policy: str
    policy_version: str
    def __init__(self, release_text: _Optional[str] = ..., findings: _Optional[_Iterable[_Union[Finding, _Mapping]]] = ..., action: _Optional[_Union[GuardAction, str]] = ..., held_back: _Optional[int] = ..., policy: _Optional[str] = ..., policy_version: _Optional[str] = ...) -> None: ...

class DetectorConfig(_message.Message):
    __slots__ = ("name", "action", "threshold", "entity_types", "allow_list", "redaction_style", "semantic")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    ENTITY_TYPES_FIELD_NUMBER: _ClassVar[int]
    ALLOW_LIST_FIELD_NUMBER: _ClassVar[int]
    REDACTION_STYLE_FIELD_NUMBER: _ClassVar[int]
    SEMANTIC_FIELD_NUMBER: _ClassVar[int]
    name: str
    action: GuardAction
    threshold: float
    entity_types: _containers.RepeatedScalarFieldContainer[str]
    allow_list: _containers.RepeatedScalarFieldContainer[str]
    redaction_style: RedactionStyle
    semantic: bool
    def __init__(self, name: _Optional[str] = ..., action: _Optional[_Union[GuardAction, str]] = ..., threshold: _Optional[float] = ..., entity_types: _Optional[_Iterable[str]] = ..., allow_list: _Optional[_Iterable[str]] = ..., redaction_style: _Optional[_Union[RedactionStyle, str]] = ..., semantic: _Optional[bool] = ...) -> None: ...

class Policy(_message.Message):
    __slots__ = ("name", "version", "description", "input_detectors", "output_detectors", "max_text_length")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    INPUT_DETECTORS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_DETECTORS_FIELD_NUMBER: _ClassVar[int]
    MAX_TEXT_LENGTH_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    description: str
    input_detectors: _containers.RepeatedCompositeFieldContainer[DetectorConfig]
    output_detectors: _containers.RepeatedCompositeFieldContainer[DetectorConfig]
    max_text_length: int
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., description: _Optional[str] = ..., input_detectors: _Optional[_Iterable[_Union[DetectorConfig, _Mapping]]] = ..., output_detectors: _Optional[_Iterable[_Union[DetectorConfig, _Mapping]]] = ..., max_text_length: _Optional[int] = ...) -> None: ...

class ListPoliciesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPoliciesResponse(_message.Message):
    __slots__ = ("policies", "next_page_token", "default_policy")
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_POLICY_FIELD_NUMBER: _ClassVar[int]
    policies: _containers.RepeatedCompositeFieldContainer[Policy]
    next_page_token: str
    default_policy: str
    def __init__(self, policies: _Optional[_Iterable[_Union[Policy, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., default_policy: _Optional[str] = ...) -> None: ...

class GetPolicyRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetPolicyResponse(_message.Message):
    __slots__ = ("policy",)
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: Policy
    def __init__(self, policy: _Optional[_Union[Policy, _Mapping]] = ...) -> None: ...
