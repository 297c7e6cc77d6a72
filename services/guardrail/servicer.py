"""GuardrailService servicer: decodes requests and hands them to the engine (proto <-> domain).

Pattern-only checks of short texts run directly on the event loop: they take tens of
microseconds, less than a hop to a worker thread costs, and this is the hot path.
Long texts and checks that run the embedding model go to a worker thread so that one
large request never stalls the others.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from llmops.v1 import guardrail_pb2, guardrail_pb2_grpc

from services.common.errors import InvalidArgument
from services.common.server import ServiceSpec
from services.common.tenancy import current_tenant
from services.guardrail import metrics
from services.guardrail.engine import GuardrailEngine, OutputStreamGuard, StreamStep
from services.guardrail.model import Action, Finding, GuardResult, RedactionStyle
from services.guardrail.policy import DetectorConfig, Policy, load_policies
from services.guardrail.pseudonym import load_or_create_secret
from services.guardrail.settings import GuardrailSettings

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

_ACTIONS = {
    Action.PASS: guardrail_pb2.GUARD_ACTION_PASS,
    Action.FLAG: guardrail_pb2.GUARD_ACTION_FLAG,
    Action.REDACT: guardrail_pb2.GUARD_ACTION_REDACT,
    Action.BLOCK: guardrail_pb2.GUARD_ACTION_BLOCK,
}
_STYLES = {
    RedactionStyle.PLACEHOLDER: guardrail_pb2.REDACTION_STYLE_PLACEHOLDER,
    RedactionStyle.MASK: guardrail_pb2.REDACTION_STYLE_MASK,
    RedactionStyle.PSEUDONYM: guardrail_pb2.REDACTION_STYLE_PSEUDONYM,
}


def finding_to_proto(finding: Finding) -> guardrail_pb2.Finding:
    """Domain finding -> proto."""
    return guardrail_pb2.Finding(
        detector=finding.detector,
        type=finding.type,
        start=finding.start,
        end=finding.end,
        score=finding.score,
        action=_ACTIONS[finding.action],
        reason=finding.reason,
    )


def _detector_to_proto(config: DetectorConfig) -> guardrail_pb2.DetectorConfig:
    return guardrail_pb2.DetectorConfig(
        name=config.name,
        action=_ACTIONS[config.action],
        threshold=config.threshold,
        entity_types=sorted(config.entity_types),
        allow_list=sorted(config.allow_list),
        redaction_style=_STYLES[config.redaction_style],
        semantic=config.semantic,
    )


def policy_to_proto(policy: Policy) -> guardrail_pb2.Policy:
    """Domain policy -> proto."""
    return guardrail_pb2.Policy(
        name=policy.name,
        version=policy.version,
        description=policy.description,
        input_detectors=[_detector_to_proto(d) for d in policy.input_detectors],
        output_detectors=[_detector_to_proto(d) for d in policy.output_detectors],
        max_text_length=policy.max_text_length,
    )


class GuardrailServicer(guardrail_pb2_grpc.GuardrailServiceServicer):
    """Thin adapter from the GuardrailService API to :class:`GuardrailEngine`."""

    def __init__(self, engine: GuardrailEngine, inline_max_chars: int) -> None:
        self._engine = engine
        self._inline_max_chars = inline_max_chars

    async def _run_check(
        self, check: Callable[..., GuardResult], text: str, policy_name: str
    ) -> GuardResult:
        tenant = current_tenant()
        policy = self._engine.policy(policy_name)
        if len(text) <= self._inline_max_chars and not policy.uses_semantic:
            result = check(text, tenant=tenant, policy=policy_name)
        else:
            result = await asyncio.to_thread(check, text, tenant=tenant, policy=policy_name)
        metrics.record(result)
        return result

    async def CheckInput(
        self, request: guardrail_pb2.CheckInputRequest, context: grpc.aio.ServicerContext
    ) -> guardrail_pb2.CheckInputResponse:
        result = await self._run_check(self._engine.check_input, request.text, request.policy)
        return guardrail_pb2.CheckInputResponse(**_result_fields(result))

    async def CheckOutput(
        self, request: guardrail_pb2.CheckOutputRequest, context: grpc.aio.ServicerContext
    ) -> guardrail_pb2.CheckOutputResponse:
        result = await self._run_check(self._engine.check_output, request.text, request.policy)
        return guardrail_pb2.CheckOutputResponse(**_result_fields(result))

    async def CheckOutputStream(
        self,
        request_iterator: AsyncIterator[guardrail_pb2.CheckOutputStreamRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[guardrail_pb2.CheckOutputStreamResponse]:
        guard: OutputStreamGuard | None = None
        findings: list[Finding] = []
        step: StreamStep | None = None
        async for request in request_iterator:
            if guard is None:
                guard = self._engine.stream(tenant=current_tenant(), policy=request.policy)
            if request.end_of_stream:
                # One response to the last message: its chunk and the final flush together.
                step = await asyncio.to_thread(guard.finish, request.chunk)
            else:
                step = await self._feed(guard, request.chunk)
            findings.extend(step.findings)
            yield _stream_response(step, guard)
            if step.blocked or request.end_of_stream:
                break
        else:
            # The client half-closed without end_of_stream: still release what is held.
            if guard is not None and step is not None:
                step = await asyncio.to_thread(guard.finish)
                findings.extend(step.findings)
                yield _stream_response(step, guard)
        if guard is not None and step is not None:
            metrics.record(
                GuardResult(
                    step.action, tuple(findings), "", guard.policy.name, guard.policy.version
                )
            )

    async def _feed(self, guard: OutputStreamGuard, chunk: str) -> StreamStep:
        if len(chunk) <= self._inline_max_chars:
            return guard.feed(chunk)
        return await asyncio.to_thread(guard.feed, chunk)

    async def ListPolicies(
        self, request: guardrail_pb2.ListPoliciesRequest, context: grpc.aio.ServicerContext
    ) -> guardrail_pb2.ListPoliciesResponse:
        if request.page_size < 0:
            raise InvalidArgument("page_size", "must not be negative")
        size = min(request.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        after = _decode_page_token(request.page_token)
        remaining = [p for p in self._engine.policies() if p.name > after]
        page = remaining[:size]
        next_token = ""
        if len(remaining) > size:
            next_token = base64.urlsafe_b64encode(page[-1].name.encode()).decode()
        return guardrail_pb2.ListPoliciesResponse(
            policies=[policy_to_proto(p) for p in page],
            next_page_token=next_token,
            default_policy=self._engine.default_policy,
        )

    async def GetPolicy(
        self, request: guardrail_pb2.GetPolicyRequest, context: grpc.aio.ServicerContext
    ) -> guardrail_pb2.GetPolicyResponse:
        if not request.name:
            raise InvalidArgument("name", "must name a policy")
        return guardrail_pb2.GetPolicyResponse(
            policy=policy_to_proto(self._engine.policy(request.name))
        )


def _result_fields(result: GuardResult) -> dict[str, Any]:
    return {
        "action": _ACTIONS[result.action],
        "findings": [finding_to_proto(f) for f in result.findings],
        "safe_text": result.safe_text,
        "policy": result.policy,
        "policy_version": result.policy_version,
    }


def _stream_response(
    step: StreamStep, guard: OutputStreamGuard
) -> guardrail_pb2.CheckOutputStreamResponse:
    return guardrail_pb2.CheckOutputStreamResponse(
        release_text=step.release_text,
        findings=[finding_to_proto(f) for f in step.findings],
        action=_ACTIONS[step.action],
        held_back=step.held_back,
        policy=guard.policy.name,
        policy_version=guard.policy.version,
    )


def _decode_page_token(token: str) -> str:
    """The name of the last policy of the previous page ("" for the first page)."""
    if not token:
        return ""
    try:
        return base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidArgument("page_token", "is not a token from a previous response") from None


def build_engine(settings: GuardrailSettings) -> GuardrailEngine:
    """The engine a GuardrailService process runs, built from its settings."""
    from services.common.embeddings import get_encoder

    return GuardrailEngine(
        load_policies(settings.guardrail_policy_file, settings.guardrail_max_text_length),
        pseudonym_secret=load_or_create_secret(settings.pseudonym_secret),
        encoder_loader=lambda: get_encoder(settings.guardrail_semantic_device),
    )


async def create_servicer(settings: GuardrailSettings) -> tuple[GuardrailServicer, None]:
    """Build the servicer; loads the embedding model now if a policy needs it."""
    engine = build_engine(settings)
    await asyncio.to_thread(engine.load_semantic)
    return GuardrailServicer(engine, settings.guardrail_inline_max_chars), None


SPEC = ServiceSpec(
    name="guardrail",
    service_name=guardrail_pb2.DESCRIPTOR.services_by_name["GuardrailService"].full_name,
    settings_cls=GuardrailSettings,
    add_to_server=guardrail_pb2_grpc.add_GuardrailServiceServicer_to_server,
    factory=create_servicer,
)
