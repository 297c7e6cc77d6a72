"""Real in-process gRPC peers that speak the llmops protocols, for the client's tests.

They implement just enough of LogSink, Guardrail, Cost and Experiment (with plain,
documented rules) to exercise the client over real gRPC on loopback; the client is
tested against the real services in tests/service and tests/e2e as well.
"""

from __future__ import annotations

import datetime
import re
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.protobuf.duration_pb2 import Duration
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from llmops.v1 import (
    common_pb2,
    cost_pb2,
    cost_pb2_grpc,
    experiment_pb2,
    experiment_pb2_grpc,
    guardrail_pb2,
    guardrail_pb2_grpc,
    logsink_pb2,
    logsink_pb2_grpc,
)

from services.common.processes import free_ports

INJECTION = "ignore previous instructions"
OUTPUT_BLOCK_WORD = "BLOCKME"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
SECRET = re.compile(r"sk-[A-Za-z0-9]{8,}")


def free_port() -> int:
    return free_ports(1)[0]


class PeerLogSink(logsink_pb2_grpc.LogSinkServiceServicer):
    """Stores records by request_id (idempotent) and acks every batch, like LogSink."""

    def __init__(self) -> None:
        self.records: dict[str, common_pb2.CallRecord] = {}
        self.deliveries = 0
        self.metadata: list[dict[str, str]] = []
        self.refuse_with: grpc.StatusCode | None = None
        # Refuse the next stream with UNAVAILABLE and this google.rpc.RetryInfo delay.
        self.retry_after_once: float | None = None
        # A hung LogSink: never ack a batch, or never end the call after the half-close.
        self.hang_before_ack = False
        self.hang_after_half_close = False
        self.cancelled = threading.Event()
        self.lock = threading.Lock()

    def _hang(self, context: Any) -> None:
        """Block until the client abandons the call (or 30 s), noting the cancellation."""
        ended = threading.Event()
        context.add_callback(ended.set)
        ended.wait(30)
        if not context.is_active():
            self.cancelled.set()

    def StreamRecords(self, request_iterator: Iterator[Any], context: Any) -> Iterator[Any]:
        self.metadata.append({k: v for k, v in context.invocation_metadata()})
        if self.refuse_with is not None:
            context.abort(self.refuse_with, "peer refuses this stream")
        if self.retry_after_once is not None:
            delay = Duration()
            delay.FromTimedelta(datetime.timedelta(seconds=self.retry_after_once))
            self.retry_after_once = None
            detail = any_pb2.Any()
            detail.Pack(error_details_pb2.RetryInfo(retry_delay=delay))
            context.abort_with_status(
                rpc_status.to_status(
                    status_pb2.Status(
                        code=grpc.StatusCode.UNAVAILABLE.value[0],
                        message="overloaded, come back later",
                        details=[detail],
                    )
                )
            )
        for request in request_iterator:
            if self.hang_before_ack:
                self._hang(context)
                return
            ack = logsink_pb2.StreamRecordsResponse(batch_id=request.batch_id)
            with self.lock:
                for index, record in enumerate(request.records):
                    self.deliveries += 1
                    if not record.request_id:
                        ack.rejected += 1
                        ack.results.add(
                            index=index,
                            outcome=logsink_pb2.RECORD_OUTCOME_REJECTED,
                            reason="request_id: required",
                        )
                    elif record.request_id in self.records:
                        ack.duplicates += 1
                        ack.results.add(
                            request_id=record.request_id,
                            index=index,
                            outcome=logsink_pb2.RECORD_OUTCOME_DUPLICATE,
                        )
                    else:
                        self.records[record.request_id] = record
                        ack.stored += 1
            yield ack
        if self.hang_after_half_close:
            self._hang(context)


def _verdict(text: str, output: bool) -> tuple[int, str, list[guardrail_pb2.Finding]]:
    """Block injections (and BLOCKME in answers); redact emails (and sk- keys in answers)."""
    if INJECTION in text.lower() or (output and OUTPUT_BLOCK_WORD in text):
        finding = guardrail_pb2.Finding(
            detector="injection",
            type="INSTRUCTION_OVERRIDE",
            action=guardrail_pb2.GUARD_ACTION_BLOCK,
        )
        return guardrail_pb2.GUARD_ACTION_BLOCK, "", [finding]
    findings = [
        guardrail_pb2.Finding(detector="pii", type="EMAIL", start=m.start(), end=m.end())
        for m in EMAIL.finditer(text)
    ]
    safe = EMAIL.sub("[EMAIL]", text)
    if output:
        findings += [
            guardrail_pb2.Finding(detector="secrets", type="API_KEY", start=m.start(), end=m.end())
            for m in SECRET.finditer(text)
        ]
        safe = SECRET.sub("[SECRET]", safe)
    if findings:
        return guardrail_pb2.GUARD_ACTION_REDACT, safe, findings
    return guardrail_pb2.GUARD_ACTION_PASS, text, []


class PeerGuardrail(guardrail_pb2_grpc.GuardrailServiceServicer):
    def __init__(self) -> None:
        self.inputs: list[str] = []
        self.delay = 0.0

    def CheckInput(self, request: Any, context: Any) -> Any:
        time.sleep(self.delay)
        self.inputs.append(request.text)
        action, safe, findings = _verdict(request.text, output=False)
        return guardrail_pb2.CheckInputResponse(
            action=action, safe_text=safe, findings=findings, policy="peer"
        )

    def CheckOutput(self, request: Any, context: Any) -> Any:
        time.sleep(self.delay)
        action, safe, findings = _verdict(request.text, output=True)
        return guardrail_pb2.CheckOutputResponse(
            action=action, safe_text=safe, findings=findings, policy="peer"
        )

    def CheckOutputStream(self, request_iterator: Iterator[Any], context: Any) -> Iterator[Any]:
        """Holds back the last unfinished word, so a key or email is never split."""
        received = ""
        released = 0
        for request in request_iterator:
            time.sleep(self.delay)
            received += request.chunk
            if OUTPUT_BLOCK_WORD in received:
                yield guardrail_pb2.CheckOutputStreamResponse(
                    action=guardrail_pb2.GUARD_ACTION_BLOCK, policy="peer"
                )
                return
            cut = (
                len(received)
                if request.end_of_stream
                else max(released, max(received.rfind(" "), received.rfind("\n")) + 1)
            )
            action, safe, findings = _verdict(received[released:cut], output=True)
            released = cut
            yield guardrail_pb2.CheckOutputStreamResponse(
                release_text=safe,
                findings=findings,
                action=action,
                held_back=len(received) - cut,
                policy="peer",
            )
            if request.end_of_stream:
                return


class PeerCost(cost_pb2_grpc.CostServiceServicer):
    """Denies the model "expensive", warns on "pricey"; counts tokens as words."""

    def CheckBudget(self, request: Any, context: Any) -> Any:
        decision = {
            "expensive": cost_pb2.BUDGET_DECISION_DENY,
            "pricey": cost_pb2.BUDGET_DECISION_WARN,
        }.get(request.model, cost_pb2.BUDGET_DECISION_ALLOW)
        return cost_pb2.CheckBudgetResponse(decision=decision)

    def CountTokens(self, request: Any, context: Any) -> Any:
        return cost_pb2.CountTokensResponse(tokens=len(request.text.split()), estimated=True)

    def CountChatTokens(self, request: Any, context: Any) -> Any:
        words = sum(len(m.content.split()) for m in request.messages)
        return cost_pb2.CountChatTokensResponse(tokens=words + 3 * len(request.messages) + 3)


class PeerExperiment(experiment_pb2_grpc.ExperimentServiceServicer):
    """One experiment "exp-1" whose only variant echoes a rendered template."""

    def Assign(self, request: Any, context: Any) -> Any:
        if request.experiment_id != "exp-1":
            context.abort(grpc.StatusCode.NOT_FOUND, "no such experiment")
        return experiment_pb2.AssignResponse(
            assignment=experiment_pb2.Assignment(
                user_id=request.user_id,
                variant="echo",
                prompt_template="echo@v1",
                template_text="ECHO: Q={question}",
            ),
            status=experiment_pb2.EXPERIMENT_STATUS_RUNNING,
        )


class PeerServer:
    """A sync gRPC server on a fixed loopback port that can be stopped and started again."""

    def __init__(self, port: int | None = None, **servicers: Any) -> None:
        self.port = port or free_port()
        self.servicers = servicers
        self._server: grpc.Server | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> PeerServer:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        adders = {
            "logsink": logsink_pb2_grpc.add_LogSinkServiceServicer_to_server,
            "guardrail": guardrail_pb2_grpc.add_GuardrailServiceServicer_to_server,
            "cost": cost_pb2_grpc.add_CostServiceServicer_to_server,
            "experiment": experiment_pb2_grpc.add_ExperimentServiceServicer_to_server,
        }
        for name, servicer in self.servicers.items():
            adders[name](servicer, server)
        server.add_insecure_port(self.target)
        server.start()
        self._server = server
        return self

    def stop(self) -> None:
        """Abrupt, like a killed process: in-flight streams fail with UNAVAILABLE."""
        if self._server is not None:
            self._server.stop(grace=None).wait()
            self._server = None
