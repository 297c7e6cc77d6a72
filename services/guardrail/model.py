"""Domain types shared by the guardrail engine, its detectors and the servicer."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Action(enum.IntEnum):
    """What a policy does with a finding; ordered so that max() is the strongest."""

    PASS = 1
    FLAG = 2
    REDACT = 3
    BLOCK = 4


class RedactionStyle(enum.Enum):
    """How a redacted span is replaced."""

    PLACEHOLDER = "placeholder"
    MASK = "mask"
    PSEUDONYM = "pseudonym"


@dataclass(frozen=True)
class Candidate:
    """A raw detector hit, before the policy's threshold, allow-list and action apply.

    ``start``/``end`` are code-point offsets in the original text. ``value`` is the
    normalised matched value (used for allow-lists and pseudonyms; never logged).
    """

    detector: str
    type: str
    start: int
    end: int
    score: float
    reason: str
    value: str = ""


@dataclass(frozen=True)
class Finding:
    """One thing a detector found, with the action the policy assigns to it."""

    detector: str
    type: str
    start: int
    end: int
    score: float
    action: Action
    reason: str


@dataclass(frozen=True)
class GuardResult:
    """The verdict on one text."""

    action: Action
    findings: tuple[Finding, ...]
    safe_text: str
    policy: str
    policy_version: str
