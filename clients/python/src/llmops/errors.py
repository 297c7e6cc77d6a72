"""Exceptions the wrapped client raises instead of calling (or returning from) the LLM."""

from __future__ import annotations

from collections.abc import Sequence

from llmops.v1 import cost_pb2, guardrail_pb2


class LLMOpsError(Exception):
    """Base class of every exception the llmops client raises itself."""


class GuardrailBlocked(LLMOpsError):
    """A guardrail policy blocked the prompt (``stage="input"``) or the answer ("output").

    ``findings`` say what was found (never the matched text itself).
    """

    def __init__(
        self,
        stage: str,
        findings: Sequence[guardrail_pb2.Finding],
        policy: str = "",
        request_id: str = "",
    ) -> None:
        kinds = sorted({f"{f.detector}:{f.type}" for f in findings}) or ["unspecified"]
        super().__init__(f"{stage} blocked by guardrail policy {policy!r}: {', '.join(kinds)}")
        self.stage = stage
        self.findings = list(findings)
        self.policy = policy
        self.request_id = request_id


class BudgetExceeded(LLMOpsError):
    """CostService denied the call: a hard budget limit is reached."""

    def __init__(self, budgets: Sequence[cost_pb2.BudgetStatus], request_id: str = "") -> None:
        super().__init__(f"budget exceeded ({len(budgets)} budgets cover this call)")
        self.budgets = list(budgets)
        self.request_id = request_id


class GuardUnavailable(LLMOpsError):
    """A guard or budget check failed and the monitor is configured to fail closed."""

    def __init__(self, check: str, code: str, details: str) -> None:
        super().__init__(f"{check} failed ({code}: {details}); failing closed")
        self.check = check
        self.code = code
        self.details = details
