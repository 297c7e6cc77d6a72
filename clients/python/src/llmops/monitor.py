"""``Monitor``: guards, experiments, budgets and call records around an OpenAI-style client.

    mon = llmops.Monitor(guardrail="localhost:50051", logsink="localhost:50055")
    client = mon.wrap(openai.OpenAI())
    client.chat.completions.create(model="gpt-4o-mini", messages=[...])

Every step of a wrapped call is written once, as a generator that yields gRPC futures
(:class:`_Call`); a synchronous driver waits on them and an asyncio driver awaits them,
so ``OpenAI`` and ``AsyncOpenAI`` share the same logic and the same channels.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import logging
import os
import queue
import re
import threading
import time
from collections import deque
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Generator,
    Iterable,
    Iterator,
    Mapping,
)
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from llmops import records
from llmops.channels import create_channel
from llmops.errors import BudgetExceeded, GuardrailBlocked, GuardUnavailable
from llmops.shipper import Shipper
from llmops.v1 import (
    common_pb2,
    cost_pb2,
    cost_pb2_grpc,
    experiment_pb2,
    experiment_pb2_grpc,
    guardrail_pb2,
    guardrail_pb2_grpc,
)

logger = logging.getLogger(__name__)

DEFAULT_SPOOL_DIR = Path.home() / ".cache" / "llmops" / "spool"
# Whole-stream deadline of one streaming output guard: far above any LLM answer, so it
# only ever ends a stream the app abandoned without closing (each chunk separately
# waits at most guard_timeout).
OUTPUT_GUARD_STREAM_DEADLINE = 3600.0
GUARD_SCOPES = ("last_user", "all_user")
_WRAPPER_KWARGS = (
    "llmops_user_id",
    "llmops_experiment",
    "llmops_variables",
    "llmops_prompt_template",
    "llmops_tag",
    "llmops_metadata",
)
_Steps = Generator[grpc.Future, Any, Any]
_TENANT = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


@dataclass(frozen=True)
class _Stubs:
    guardrail: guardrail_pb2_grpc.GuardrailServiceStub | None
    cost: cost_pb2_grpc.CostServiceStub | None
    experiment: experiment_pb2_grpc.ExperimentServiceStub | None
    channels: tuple[grpc.Channel, ...]


class Monitor:
    """Connections to the llmops services and the policy for using them on the hot path.

    Every target is optional: without ``guardrail`` nothing is guarded, without
    ``logsink`` nothing is recorded, without ``cost`` no budget is checked (and missing
    usage is left at 0, marked estimated), without ``experiment`` the
    ``llmops_experiment=`` argument is refused.

    Failure policy: a guard, budget or assignment RPC that fails (unreachable, deadline
    of ``guard_timeout`` seconds exceeded, ...) lets the call through when
    ``fail_open`` (default, with one warning per kind of failure) and raises
    :class:`GuardUnavailable` otherwise.
    """

    def __init__(
        self,
        *,
        guardrail: str | None = None,
        logsink: str | None = None,
        cost: str | None = None,
        experiment: str | None = None,
        tenant: str | None = None,
        api_key: str | None = None,
        tls: bool | grpc.ChannelCredentials = False,
        fail_open: bool = True,
        guard_timeout: float = 0.1,
        rpc_timeout: float = 1.0,
        input_policy: str = "",
        output_policy: str = "",
        guard_scope: str = "last_user",
        guard_output: bool = True,
        check_budget: bool = True,
        provider: str = "openai",
        capture_text: bool = True,
        max_text_chars: int = 32_000,
        spool_dir: str | os.PathLike[str] | None = DEFAULT_SPOOL_DIR,
        shipper_options: Mapping[str, Any] | None = None,
    ) -> None:
        if guard_scope not in GUARD_SCOPES:
            raise ValueError(f"guard_scope must be one of {GUARD_SCOPES}")
        if tenant is not None and not _TENANT.match(tenant):
            # The servers' rule; failing here beats every RPC failing later.
            raise ValueError(f"tenant must match {_TENANT.pattern}")
        self._targets = {"guardrail": guardrail, "cost": cost, "experiment": experiment}
        self._tls = tls
        self.metadata: tuple[tuple[str, str], ...] = tuple(
            [("x-llmops-tenant", tenant)] if tenant else []
        ) + tuple([("authorization", f"Bearer {api_key}")] if api_key else [])
        self.fail_open = fail_open
        self.guard_timeout = guard_timeout
        self.rpc_timeout = rpc_timeout
        self.input_policy = input_policy
        self.output_policy = output_policy
        self.guard_scope = guard_scope
        self.guard_output = guard_output
        self.check_budget = check_budget
        self.provider = provider
        self.capture_text = capture_text
        self.max_text_chars = max_text_chars
        self._warned: set[str] = set()
        self._warn_lock = threading.Lock()
        self._stubs_lock = threading.Lock()
        self._stubs_pid = -1
        self._stubs_cache: _Stubs | None = None
        # Records waiting for a CostService token count are not in the shipper yet.
        self._estimating = 0
        self._estimating_done = threading.Condition()
        self.shipper: Shipper | None = None
        if logsink is not None:
            self.shipper = Shipper(
                lambda: create_channel(logsink, "llmops.v1.LogSinkService", tls, retries=False),
                metadata=self.metadata,
                spool_dir=spool_dir,
                **dict(shipper_options or {}),
            )

    def wrap(self, client: Any) -> Any:
        """A proxy of ``client`` whose ``chat.completions.create`` is monitored.

        Everything else is passed through unchanged. Works with ``openai.OpenAI``,
        ``openai.AsyncOpenAI`` and any object shaped like them.
        """
        return _WrappedClient(client, self)

    def assign(self, experiment_id: str, user_id: str) -> experiment_pb2.Assignment:
        """The user's variant, for apps that render prompts themselves."""
        stub = self._stubs().experiment
        if stub is None:
            raise ValueError("Monitor has no experiment target")
        response = stub.Assign(
            experiment_pb2.AssignRequest(experiment_id=experiment_id, user_id=user_id),
            timeout=self.rpc_timeout,
            metadata=self.metadata,
        )
        return response.assignment

    def record_outcome(
        self, experiment_id: str, user_id: str, metric: str, value: float, variant: str = ""
    ) -> None:
        """Report an app-level outcome (a thumbs-up, a score, a conversion) of a user.

        Without ``variant`` the user's assignment is looked up (it is deterministic).
        Not on the hot path: errors raise ``grpc.RpcError``.
        """
        stub = self._stubs().experiment
        if stub is None:
            raise ValueError("Monitor has no experiment target")
        outcome = experiment_pb2.Outcome(
            experiment_id=experiment_id,
            variant=variant or self.assign(experiment_id, user_id).variant,
            user_id=user_id,
            metric=metric,
            value=value,
        )
        stub.RecordOutcomes(
            experiment_pb2.RecordOutcomesRequest(outcomes=[outcome]),
            timeout=self.rpc_timeout,
            metadata=self.metadata,
        )

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every record so far is acknowledged by LogSink."""
        deadline = time.monotonic() + timeout
        with self._estimating_done:
            if not self._estimating_done.wait_for(lambda: self._estimating == 0, timeout=timeout):
                return False
        if self.shipper is None:
            return True
        return self.shipper.flush(max(0.0, deadline - time.monotonic()))

    def close(self, timeout: float = 10.0) -> bool:
        """Flush (spooling what cannot be sent) and close every channel."""
        deadline = time.monotonic() + timeout
        with self._estimating_done:
            self._estimating_done.wait_for(lambda: self._estimating == 0, timeout=timeout)
        remaining = max(0.0, deadline - time.monotonic())
        delivered = self.shipper.close(remaining) if self.shipper is not None else True
        with self._stubs_lock:
            if self._stubs_cache is not None:
                for channel in self._stubs_cache.channels:
                    channel.close()
            self._stubs_cache = None
        return delivered

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _stubs(self) -> _Stubs:
        """Channels are created lazily, and again in a forked child (they cannot cross a fork)."""
        pid = os.getpid()
        stubs = self._stubs_cache
        if stubs is not None and self._stubs_pid == pid:
            return stubs
        with self._stubs_lock:
            if self._stubs_cache is None or self._stubs_pid != pid:
                self._stubs_cache = self._connect()
                self._stubs_pid = pid
            return self._stubs_cache

    def _connect(self) -> _Stubs:
        channels: list[grpc.Channel] = []

        def channel(name: str, service: str) -> grpc.Channel | None:
            target = self._targets[name]
            if target is None:
                return None
            created = create_channel(target, f"llmops.v1.{service}", self._tls)
            channels.append(created)
            return created

        guard = channel("guardrail", "GuardrailService")
        cost = channel("cost", "CostService")
        experiment = channel("experiment", "ExperimentService")
        return _Stubs(
            guardrail=guardrail_pb2_grpc.GuardrailServiceStub(guard) if guard else None,
            cost=cost_pb2_grpc.CostServiceStub(cost) if cost else None,
            experiment=experiment_pb2_grpc.ExperimentServiceStub(experiment)
            if experiment
            else None,
            channels=tuple(channels),
        )

    def _check_failed(self, check: str, exc: grpc.RpcError) -> None:
        """Apply the failure policy to a failed hot-path RPC."""
        code = exc.code().name if exc.code() is not None else "UNKNOWN"
        details = exc.details() or ""
        if not self.fail_open:
            raise GuardUnavailable(check, code, details) from exc
        self.warn_once(
            f"{check}:{code}",
            "llmops: %s failed (%s: %s); failing open, the call goes ahead unchecked",
            check,
            code,
            details,
        )

    def warn_once(self, key: str, message: str, *args: Any) -> None:
        with self._warn_lock:
            if key in self._warned:
                return
            self._warned.add(key)
        logger.warning(message, *args)

    def _ship(self, record: common_pb2.CallRecord) -> None:
        if self.shipper is not None:
            self.shipper.enqueue(record)

    def _text(self, text: str) -> str:
        return records.clip(text, self.max_text_chars) if self.capture_text else ""


class _Call:
    """One wrapped ``create`` call: its state and its steps around the LLM call."""

    def __init__(self, monitor: Monitor, kwargs: dict[str, Any]) -> None:
        self.monitor = monitor
        self.started_ns = time.time_ns()
        self.options = {name: kwargs.pop(name, None) for name in _WRAPPER_KWARGS}
        self.kwargs = kwargs
        self.stream = bool(kwargs.get("stream"))
        self.messages: list[Any] = [
            dict(m) if isinstance(m, Mapping) else m for m in kwargs.get("messages") or []
        ]
        user = self.options["llmops_user_id"] or kwargs.get("user") or ""
        self.record = records.new_record(
            model=str(kwargs.get("model") or ""),
            provider=monitor.provider,
            started_ns=self.started_ns,
            user_id=str(user),
            prompt_template=self.options["llmops_prompt_template"] or "",
            tag=self.options["llmops_tag"] or "",
            metadata=self.options["llmops_metadata"],
        )
        self.llm_start = 0.0
        self.stubs = monitor._stubs()

    # Steps before the LLM call: experiment assignment and rendering, input guard, budget.

    def before(self) -> _Steps:
        yield from self._assign()
        self.kwargs["messages"] = self.messages
        self.record.prompt_hash = records.prompt_hash(self.messages)
        self.record.prompt_text = self.monitor._text(records.prompt_text(self.messages))
        yield from self._guard_input()
        yield from self._check_budget()
        self.llm_start = time.perf_counter()

    def _assign(self) -> _Steps:
        experiment_id = self.options["llmops_experiment"]
        if not experiment_id:
            return
        if self.stubs.experiment is None:
            raise ValueError("llmops_experiment= needs a Monitor with an experiment target")
        if not self.record.user_id:
            raise ValueError("llmops_experiment= needs llmops_user_id= (or user=)")
        request = experiment_pb2.AssignRequest(
            experiment_id=experiment_id, user_id=self.record.user_id
        )
        try:
            response = yield self.stubs.experiment.Assign.future(
                request, timeout=self.monitor.guard_timeout, metadata=self.monitor.metadata
            )
        except grpc.RpcError as exc:
            self.monitor._check_failed("experiment.Assign", exc)
            return
        assignment = response.assignment
        self.record.experiment_id = experiment_id
        self.record.variant = assignment.variant
        if assignment.prompt_template:
            self.record.prompt_template = assignment.prompt_template
        variables = self.options["llmops_variables"]
        if assignment.template_text and variables is not None:
            try:
                rendered = assignment.template_text.format_map(variables)
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(
                    f"template of variant {assignment.variant!r} cannot be rendered with "
                    f"llmops_variables: {exc!r}"
                ) from exc
            self._set_last_user(rendered)

    def _set_last_user(self, text: str) -> None:
        for i in range(len(self.messages) - 1, -1, -1):
            if records.field(self.messages[i], "role") == "user":
                self.messages[i] = {**_as_dict(self.messages[i]), "content": text}
                return
        self.messages.append({"role": "user", "content": text})

    def _guard_input(self) -> _Steps:
        stub = self.stubs.guardrail
        if stub is None:
            return
        user_indexes = [
            i for i, m in enumerate(self.messages) if records.field(m, "role") == "user"
        ]
        if self.monitor.guard_scope == "last_user":
            user_indexes = user_indexes[-1:]
        start = time.perf_counter()
        for i in user_indexes:
            text = records.content_text(records.field(self.messages[i], "content"))
            if not text.strip():
                continue
            request = guardrail_pb2.CheckInputRequest(text=text, policy=self.monitor.input_policy)
            try:
                verdict = yield stub.CheckInput.future(
                    request, timeout=self.monitor.guard_timeout, metadata=self.monitor.metadata
                )
            except grpc.RpcError as exc:
                self.monitor._check_failed("guardrail.CheckInput", exc)
                continue
            self._enforce("input", verdict)
            if verdict.action == guardrail_pb2.GUARD_ACTION_REDACT:
                content = records.field(self.messages[i], "content")
                self.messages[i] = {
                    **_as_dict(self.messages[i]),
                    "content": _with_text(content, verdict.safe_text),
                }
                self.record.metadata["llmops.input_redacted"] = "true"
        self.record.metadata["llmops.input_guard_ms"] = f"{records.elapsed_ms(start):.2f}"
        if user_indexes:
            # The text actually sent is the redacted one: hash and store that.
            self.kwargs["messages"] = self.messages
            self.record.prompt_hash = records.prompt_hash(self.messages)
            self.record.prompt_text = self.monitor._text(records.prompt_text(self.messages))

    def _check_budget(self) -> _Steps:
        stub = self.stubs.cost
        if stub is None or not self.monitor.check_budget:
            return
        r = self.record
        request = cost_pb2.CheckBudgetRequest(
            model=r.model,
            user_id=r.user_id,
            prompt_template=r.prompt_template,
            experiment_id=r.experiment_id,
            variant=r.variant,
            tag=r.tag,
        )
        try:
            response = yield stub.CheckBudget.future(
                request, timeout=self.monitor.guard_timeout, metadata=self.monitor.metadata
            )
        except grpc.RpcError as exc:
            self.monitor._check_failed("cost.CheckBudget", exc)
            return
        if response.decision == cost_pb2.BUDGET_DECISION_DENY:
            denied = BudgetExceeded(response.budgets, r.request_id)
            records.set_error(r, denied)
            self._ship()
            raise denied
        if response.decision == cost_pb2.BUDGET_DECISION_WARN:
            r.metadata["llmops.budget"] = "warn"
            ids = ",".join(sorted(s.budget.id for s in response.budgets))
            self.monitor.warn_once(
                f"budget-warn:{ids}", "llmops: budgets %s are past an alert threshold", ids
            )

    # Steps after the LLM call.

    def after(self, response: Any) -> _Steps:
        self.record.latency_ms = records.elapsed_ms(self.llm_start)
        reported = records.usage_from_provider(records.field(response, "usage"))
        if reported is not None:
            # Billed even if the output guard blocks the answer: the record says so.
            self.record.usage.CopyFrom(reported)
        choices = records.field(response, "choices") or []
        stub = self.stubs.guardrail
        if stub is not None and self.monitor.guard_output:
            for choice in choices:
                message = records.field(choice, "message")
                text = records.field(message, "content")
                if not isinstance(text, str) or not text.strip():
                    continue
                request = guardrail_pb2.CheckOutputRequest(
                    text=text, policy=self.monitor.output_policy
                )
                try:
                    verdict = yield stub.CheckOutput.future(
                        request, timeout=self.monitor.guard_timeout, metadata=self.monitor.metadata
                    )
                except grpc.RpcError as exc:
                    self.monitor._check_failed("guardrail.CheckOutput", exc)
                    continue
                self._enforce("output", verdict)
                if verdict.action == guardrail_pb2.GUARD_ACTION_REDACT:
                    _set_field(message, "content", verdict.safe_text)
                    self.record.metadata["llmops.output_redacted"] = "true"
        first = records.field(choices[0], "message") if choices else None
        text = records.field(first, "content")
        self.succeed(records.field(response, "usage"), text if isinstance(text, str) else "")
        return response

    def _enforce(
        self,
        stage: str,
        verdict: guardrail_pb2.CheckInputResponse | guardrail_pb2.CheckOutputResponse,
    ) -> None:
        """Note what a non-streaming check found; a block ends the call and raises."""
        self.note_findings(stage, verdict.findings)
        if verdict.action == guardrail_pb2.GUARD_ACTION_BLOCK:
            blocked = GuardrailBlocked(
                stage, verdict.findings, verdict.policy, self.record.request_id
            )
            self._finish_blocked(blocked)
            raise blocked

    def note_findings(self, stage: str, findings: Iterable[guardrail_pb2.Finding]) -> None:
        """What the guards found, as low-cardinality ``detector:TYPE`` lists in metadata."""
        key = f"llmops.{stage}_findings"
        kinds = {f"{f.detector}:{f.type}" for f in findings}
        if not kinds:
            return
        kinds.update(k for k in self.record.metadata.get(key, "").split(",") if k)
        self.record.metadata[key] = records.clip(
            ",".join(sorted(kinds)), records.MAX_METADATA_CHARS
        )

    def succeed(self, usage: Any, response_text: str) -> None:
        self.record.status = common_pb2.CALL_STATUS_SUCCESS
        self.record.response_text = self.monitor._text(response_text)
        reported = records.usage_from_provider(usage)
        if reported is not None:
            self.record.usage.CopyFrom(reported)
            self._ship()
        else:
            self._estimate_usage_then_ship(response_text)

    def fail(self, exc: BaseException) -> None:
        """The LLM call (or the stream) raised: record it; the caller re-raises."""
        if self.llm_start:
            self.record.latency_ms = records.elapsed_ms(self.llm_start)
        records.set_error(self.record, exc)
        self._ship()

    def _finish_blocked(self, blocked: GuardrailBlocked) -> None:
        if self.llm_start:
            self.record.latency_ms = records.elapsed_ms(self.llm_start)
        self.record.status = common_pb2.CALL_STATUS_FILTERED
        self.record.error_type = type(blocked).__name__
        self.record.error_message = records.clip(str(blocked), records.MAX_ERROR_MESSAGE)
        self.record.metadata["llmops.blocked_stage"] = blocked.stage
        self.record.response_text = ""
        self._ship()

    def _ship(self) -> None:
        self.monitor._ship(self.record)

    def _estimate_usage_then_ship(self, response_text: str) -> None:
        """No provider usage: ask CostService to count, off the app's thread, then ship."""
        self.record.usage.estimated = True
        stub = self.stubs.cost
        if stub is None or self.monitor.shipper is None:
            self._ship()
            return
        chat = cost_pb2.CountChatTokensRequest(model=self.record.model)
        for m in self.messages:
            chat.messages.add(
                role=str(records.field(m, "role") or ""),
                content=records.content_text(records.field(m, "content")),
                name=str(records.field(m, "name") or ""),
            )
        options = {"timeout": self.monitor.rpc_timeout, "metadata": self.monitor.metadata}
        futures = [stub.CountChatTokens.future(chat, **options)]
        if response_text:
            output = cost_pb2.CountTokensRequest(model=self.record.model, text=response_text)
            futures.append(stub.CountTokens.future(output, **options))
        remaining = [len(futures)]
        lock = threading.Lock()
        monitor = self.monitor
        with monitor._estimating_done:
            monitor._estimating += 1

        def done(_: grpc.Future) -> None:
            with lock:
                remaining[0] -= 1
                if remaining[0]:
                    return
            for target, future in zip(("input_tokens", "output_tokens"), futures, strict=False):
                if future.exception() is None:
                    setattr(self.record.usage, target, future.result().tokens)
            self._ship()
            with monitor._estimating_done:
                monitor._estimating -= 1
                monitor._estimating_done.notify_all()

        for future in futures:
            future.add_done_callback(done)


def _with_text(content: Any, text: str) -> Any:
    """``content`` with its text replaced; other parts of a multimodal list are kept."""
    if isinstance(content, str) or not isinstance(content, list):
        return text
    parts: list[Any] = []
    for part in content:
        if records.field(part, "type") != "text":
            parts.append(part)
        elif not any(records.field(p, "type") == "text" for p in parts):
            parts.append({"type": "text", "text": text})
    return parts


def _as_dict(message: Any) -> dict[str, Any]:
    if isinstance(message, Mapping):
        return dict(message)
    dump = getattr(message, "model_dump", None)
    return dict(dump(exclude_none=True)) if callable(dump) else {"role": "user"}


def _set_field(obj: Any, name: str, value: Any) -> None:
    if isinstance(obj, dict):
        obj[name] = value
    else:
        setattr(obj, name, value)


def _run_sync(steps: _Steps) -> Any:
    """Drive a step generator, blocking on each gRPC future it yields."""
    try:
        future = next(steps)
        while True:
            try:
                value = future.result()
            except grpc.RpcError as exc:
                future = steps.throw(exc)
            else:
                future = steps.send(value)
    except StopIteration as stop:
        return stop.value


async def _run_async(steps: _Steps) -> Any:
    """Drive a step generator from asyncio: gRPC futures complete on gRPC's threads."""
    try:
        future = next(steps)
        while True:
            try:
                value = await _awaitable(future)
            except grpc.RpcError as exc:
                future = steps.throw(exc)
            else:
                future = steps.send(value)
    except StopIteration as stop:
        return stop.value


def _awaitable(future: grpc.Future) -> asyncio.Future[Any]:
    loop = asyncio.get_running_loop()
    result: asyncio.Future[Any] = loop.create_future()

    def transfer(done: grpc.Future) -> None:
        if result.cancelled():
            return
        exc = done.exception()
        if exc is not None:
            result.set_exception(exc)
        else:
            result.set_result(done.result())

    future.add_done_callback(lambda done: loop.call_soon_threadsafe(transfer, done))
    return result


class _StreamGuard:
    """The CheckOutputStream guard of one choice of a streamed answer, pipelined.

    Chunks go to the guard as they arrive and never wait for its answer: each call
    releases whatever the guard has vetted so far (a reader thread queues its
    responses), so the guard works while the model is still generating and adds about
    one round trip in total, not one per chunk. Only the end of the answer waits, at
    most ``guard_timeout`` per response. A guard that falls more than
    ``guard_timeout`` behind, errs, or closes early has failed: fail-open then
    releases the raw text it had not released, and the rest passes unguarded.
    """

    _END = object()
    _CLOSED = object()

    def __init__(self, monitor: Monitor, stub: guardrail_pb2_grpc.GuardrailServiceStub) -> None:
        self._monitor = monitor
        self._requests: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._responses: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._call = stub.CheckOutputStream(
            iter(self._requests.get, self._END),
            metadata=monitor.metadata,
            timeout=OUTPUT_GUARD_STREAM_DEADLINE,
        )
        self._first = True
        self.failed = False
        self.ended = False
        self._received = ""
        self._held_back = 0
        # (send time, length) of each chunk the guard has not answered yet, oldest first.
        self._unanswered: deque[tuple[float, int]] = deque()
        self.findings: list[guardrail_pb2.Finding] = []
        self.blocked: GuardrailBlocked | None = None
        threading.Thread(target=self._read, name="llmops-output-guard", daemon=True).start()

    def push(self, chunk: str, end: bool = False) -> str:
        """Send a chunk (if any); return the text that may be shown now.

        Blocks only when ``end``: then every response until the server closes the
        stream is collected, however many it sends for that final message.
        """
        if self.failed:
            return chunk
        if self.ended:
            # Nothing belongs to an answer after its end; this guard has closed.
            return ""
        if chunk or end:
            self._send(chunk, end)
        released: list[str] = []
        while True:
            answer = self._next_answer(end)
            if answer is None:
                return "".join(released)
            if isinstance(answer, grpc.RpcError):
                return "".join(released) + self._fail_open(answer)
            self.findings.extend(answer.findings)
            if answer.action == guardrail_pb2.GUARD_ACTION_BLOCK:
                self.blocked = GuardrailBlocked("output", answer.findings, answer.policy)
                self.close()
                return ""
            self._held_back = answer.held_back
            if self._unanswered:
                self._unanswered.popleft()
            released.append(answer.release_text)

    def close(self) -> None:
        self._requests.put(self._END)
        self._call.cancel()

    def _send(self, chunk: str, end: bool) -> None:
        request = guardrail_pb2.CheckOutputStreamRequest(chunk=chunk, end_of_stream=end)
        if self._first:
            request.policy = self._monitor.output_policy
            self._first = False
        self._received += chunk
        self._unanswered.append((time.monotonic(), len(chunk)))
        self._requests.put(request)
        if end:
            self.ended = True
            self._requests.put(self._END)

    def _next_answer(self, wait: bool) -> Any:
        """The next response, an error, or None when nothing more is due now."""
        timeout = self._monitor.guard_timeout
        try:
            answer = self._responses.get(timeout=timeout) if wait else self._responses.get_nowait()
        except queue.Empty:
            late = self._unanswered and time.monotonic() - self._unanswered[0][0] > timeout
            if not wait and not late:
                return None
            self._call.cancel()
            return _GuardError(grpc.StatusCode.DEADLINE_EXCEEDED, "streaming guard fell behind")
        if answer is self._CLOSED:
            if wait:
                return None
            return _GuardError(grpc.StatusCode.UNAVAILABLE, "guard closed the stream early")
        return answer

    def _fail_open(self, exc: grpc.RpcError) -> str:
        self.failed = True
        self._requests.put(self._END)
        self._monitor._check_failed("guardrail.CheckOutputStream", exc)
        # Release the raw text the guard had not released: its held-back tail and the
        # chunks it never answered.
        unreleased = self._held_back + sum(length for _, length in self._unanswered)
        self._unanswered.clear()
        return self._received[len(self._received) - unreleased :]

    def _read(self) -> None:
        try:
            for response in self._call:
                self._responses.put(response)
        except grpc.RpcError as exc:
            self._responses.put(exc)
        else:
            self._responses.put(self._CLOSED)


class _GuardError(grpc.RpcError):
    """A streaming-guard failure detected on the client side (deadline, early close)."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self._code = code
        self._details = details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


class _StreamState:
    """What a streamed answer needs, shared by the sync and async stream wrappers."""

    def __init__(self, call: _Call, swallow_usage_chunk: bool) -> None:
        self.call = call
        self.swallow_usage_chunk = swallow_usage_chunk
        self.guards: dict[int, _StreamGuard] = {}
        self.texts: dict[int, list[str]] = {}
        self.usage: Any = None
        self.first_token_at = 0.0
        self.last_chunk: Any = None
        self.finished = False

    def guard(self, index: int) -> _StreamGuard | None:
        stub = self.call.stubs.guardrail
        if stub is None or not self.call.monitor.guard_output:
            return None
        if index not in self.guards:
            self.guards[index] = _StreamGuard(self.call.monitor, stub)
        return self.guards[index]

    def process(self, chunk: Any) -> bool:
        """Guard one chunk in place; False when it must not be shown to the app."""
        usage = records.field(chunk, "usage")
        if usage is not None:
            self.usage = usage
        choices = records.field(chunk, "choices") or []
        if not choices:
            return not (usage is not None and self.swallow_usage_chunk)
        self.last_chunk = chunk
        for choice in choices:
            index = records.field(choice, "index") or 0
            delta = records.field(choice, "delta")
            content = records.field(delta, "content")
            ended = records.field(choice, "finish_reason") is not None
            if content and not self.first_token_at:
                self.first_token_at = time.perf_counter()
            guard = self.guard(index)
            text = content or ""
            if guard is not None:
                text = guard.push(text, ended)
                if guard.blocked is not None:
                    self.block(guard.blocked)
            if delta is not None and (content is not None or text):
                _set_field(delta, "content", text)
            self.texts.setdefault(index, []).append(text)
        return True

    def open_guards(self) -> list[tuple[int, _StreamGuard]]:
        return [
            (i, g)
            for i, g in self.guards.items()
            if not (g.ended or g.failed or g.blocked is not None)
        ]

    def tail_chunk(self, index: int, text: str) -> Any:
        """A chunk carrying text released only at the end (the stream had no finish chunk)."""
        chunk = copy.deepcopy(self.last_chunk)
        for choice in records.field(chunk, "choices") or []:
            _set_field(records.field(choice, "delta"), "content", "")
        choice = (records.field(chunk, "choices") or [None])[0]
        _set_field(choice, "index", index)
        _set_field(records.field(choice, "delta"), "content", text)
        self.texts.setdefault(index, []).append(text)
        return chunk

    def block(self, blocked: GuardrailBlocked) -> None:
        blocked.request_id = self.call.record.request_id
        self.close_guards()
        self.finished = True
        reported = records.usage_from_provider(self.usage)
        if reported is not None:
            self.call.record.usage.CopyFrom(reported)
        else:
            # Providers report a stream's usage at its end, which a block never reaches.
            self.call.record.usage.estimated = True
        self.call._finish_blocked(blocked)
        raise blocked

    def succeed(self) -> None:
        if self.finished:
            return
        self.finished = True
        self.close_guards()
        record = self.call.record
        record.latency_ms = records.elapsed_ms(self.call.llm_start)
        if self.first_token_at:
            record.time_to_first_token_ms = (self.first_token_at - self.call.llm_start) * 1000
        self.call.succeed(self.usage, "".join(self.texts.get(0, [])))

    def fail(self, exc: BaseException) -> None:
        if self.finished:
            return
        self.finished = True
        self.close_guards()
        self.call.record.response_text = self.call.monitor._text("".join(self.texts.get(0, [])))
        self.call.fail(exc)

    def close_guards(self) -> None:
        for guard in self.guards.values():
            guard.close()
            self.call.note_findings("output", guard.findings)


class _GuardedStream:
    """Iterates a provider stream, re-yielding only what the output guard released."""

    def __init__(self, upstream: Any, state: _StreamState) -> None:
        self._upstream = upstream
        self._state = state
        self._iterator = self._iterate()

    def __iter__(self) -> Iterator[Any]:
        return self._iterator

    def __next__(self) -> Any:
        return next(self._iterator)

    def __enter__(self) -> _GuardedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._iterator.close()
        _close_quietly(self._upstream)
        # A stream closed before its first chunk never ran the generator's finaliser.
        self._state.succeed()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._upstream, name)

    def _iterate(self) -> Generator[Any, None, None]:
        state = self._state
        try:
            for chunk in self._upstream:
                if state.process(chunk):
                    yield chunk
            for index, guard in state.open_guards():
                tail = guard.push("", True)
                if guard.blocked is not None:
                    state.block(guard.blocked)
                if tail:
                    yield state.tail_chunk(index, tail)
        except GuardrailBlocked:
            _close_quietly(self._upstream)
            raise
        except GeneratorExit:
            state.succeed()
            raise
        except BaseException as exc:
            state.fail(exc)
            raise
        state.succeed()


class _AsyncGuardedStream:
    """The asyncio twin of :class:`_GuardedStream`; guard waits run in a worker thread."""

    def __init__(self, upstream: Any, state: _StreamState) -> None:
        self._upstream = upstream
        self._state = state
        self._iterator = self._iterate()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterator

    async def __anext__(self) -> Any:
        return await self._iterator.__anext__()

    async def __aenter__(self) -> _AsyncGuardedStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._iterator.aclose()
        await _aclose_quietly(self._upstream)
        self._state.succeed()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._upstream, name)

    async def _iterate(self) -> AsyncGenerator[Any, None]:
        state = self._state
        try:
            async for chunk in self._upstream:
                released = await self._guard_chunk(chunk)
                if released:
                    yield chunk
            for index, guard in state.open_guards():
                tail = await asyncio.to_thread(guard.push, "", True)
                if guard.blocked is not None:
                    state.block(guard.blocked)
                if tail:
                    yield state.tail_chunk(index, tail)
        except GuardrailBlocked:
            await _aclose_quietly(self._upstream)
            raise
        except GeneratorExit:
            state.succeed()
            raise
        except BaseException as exc:
            state.fail(exc)
            raise
        state.succeed()

    async def _guard_chunk(self, chunk: Any) -> bool:
        state = self._state
        choices = records.field(chunk, "choices") or []
        if not any(records.field(c, "finish_reason") is not None for c in choices):
            return state.process(chunk)
        # The end of an answer waits for the guard's last responses: off the event loop.
        return await asyncio.to_thread(state.process, chunk)


def _close_quietly(stream: Any) -> None:
    close = getattr(stream, "close", None)
    if callable(close):
        close()


async def _aclose_quietly(stream: Any) -> None:
    close = getattr(stream, "close", None)
    if callable(close):
        result = close()
        if inspect.isawaitable(result):
            await result


class _Completions:
    def __init__(self, completions: Any, monitor: Monitor) -> None:
        self._completions = completions
        self._monitor = monitor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._completions, name)

    def _prepare(self, kwargs: dict[str, Any]) -> tuple[_Call, bool]:
        call = _Call(self._monitor, kwargs)
        swallow = False
        if call.stream:
            options = dict(kwargs.get("stream_options") or {})
            if not options.get("include_usage"):
                # Ask for the usage chunk (billed tokens beat estimates) but hide it from
                # an app that did not ask for it and may not expect an empty choices list.
                kwargs["stream_options"] = {**options, "include_usage": True}
                swallow = True
        return call, swallow


class _SyncCompletions(_Completions):
    def create(self, *args: Any, **kwargs: Any) -> Any:
        call, swallow = self._prepare(kwargs)
        try:
            _run_sync(call.before())
        except GuardUnavailable as exc:
            call.fail(exc)
            raise
        try:
            response = self._completions.create(*args, **call.kwargs)
        except BaseException as exc:
            call.fail(exc)
            raise
        if call.stream:
            return _GuardedStream(response, _StreamState(call, swallow))
        return _run_sync(call.after(response))


class _AsyncCompletions(_Completions):
    async def create(self, *args: Any, **kwargs: Any) -> Any:
        call, swallow = self._prepare(kwargs)
        try:
            await _run_async(call.before())
        except GuardUnavailable as exc:
            call.fail(exc)
            raise
        try:
            response = await self._completions.create(*args, **call.kwargs)
        except BaseException as exc:
            call.fail(exc)
            raise
        if call.stream:
            return _AsyncGuardedStream(response, _StreamState(call, swallow))
        return await _run_async(call.after(response))


class _Chat:
    def __init__(self, chat: Any, monitor: Monitor) -> None:
        self._chat = chat
        # The openai SDK decorates create(); unwrap to see whether it is a coroutine.
        is_async = inspect.iscoroutinefunction(inspect.unwrap(chat.completions.create))
        self.completions = (_AsyncCompletions if is_async else _SyncCompletions)(
            chat.completions, monitor
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._chat, name)


class _WrappedClient:
    def __init__(self, client: Any, monitor: Monitor) -> None:
        self._client = client
        self._monitor = monitor
        self.chat = _Chat(client.chat, monitor)

    def with_options(self, *args: Any, **kwargs: Any) -> _WrappedClient:
        """The SDK's per-request options (timeout, retries...), still monitored."""
        return _WrappedClient(self._client.with_options(*args, **kwargs), self._monitor)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)
