"""What the fault tests share: a cuttable TCP proxy, a LogSink process, a shipping client."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from llmops.shipper import Shipper
from llmops.v1 import common_pb2

from services.common import processes
from services.common.healthcheck import check
from services.common.processes import SERVICES, free_ports
from tests.conftest import POSTGRES_ADMIN_URL
from tests.support.processes import wait_serving


class TcpProxy:
    """Forwards loopback connections to a port until cut; a cut resets them all."""

    def __init__(self, target_port: int) -> None:
        self._target = ("127.0.0.1", target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = int(self._listener.getsockname()[1])
        self._up = threading.Event()
        self._up.set()
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            if not self._up.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            # A cut or the other side closing: both sockets are closed below.
            pass
        finally:
            for sock in (source, sink):
                self._discard(sock)

    def _discard(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        # The peer may have gone already; closing is all that is left to do then.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def cut(self) -> None:
        self._up.clear()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            self._discard(sock)

    def restore(self) -> None:
        self._up.set()

    def close(self) -> None:
        self._closing.set()
        self.cut()
        self._thread.join(timeout=5)
        self._listener.close()


def proxied_url(proxy: TcpProxy, database: str) -> str:
    """The URL of ``database`` through ``proxy``."""
    user = POSTGRES_ADMIN_URL.split("://", 1)[1].split("@", 1)[0]
    return f"postgresql://{user}@127.0.0.1:{proxy.port}/{database}"


class LogSinkProcess:
    """``python -m services.logsink`` on free ports with ``environment`` on top of ours."""

    def __init__(self, folder: Path, environment: dict[str, str]) -> None:
        self.port, self._metrics_port = free_ports(2)
        self._target = f"127.0.0.1:{self.port}"
        self.log = folder / "logsink.log"
        self._folder = folder
        self._env = {
            **os.environ,
            "LLMOPS_LOGSINK_PORT": str(self.port),
            "LLMOPS_LOGSINK_METRICS_PORT": str(self._metrics_port),
            "LLMOPS_GRACE_SECONDS": "2",
            **environment,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        self.process = processes.start("services.logsink", self._env, self._folder, self.log)
        deadline = time.monotonic() + timeout
        wait_serving(self.process, self._target, SERVICES["logsink"], deadline, self.log)

    def serving(self) -> bool:
        return check(self._target, SERVICES["logsink"], timeout=1)

    def stop(self, timeout: float = 15) -> int:
        """SIGTERM, then SIGKILL after ``timeout``; returns the exit code."""
        assert self.process is not None
        return processes.stop(self.process, timeout)

    def shipper(self, spool: Path) -> Shipper:
        """The real client shipper, tuned to retry fast so the tests stay short."""
        return Shipper(
            lambda: grpc.insecure_channel(self._target),
            spool_dir=spool,
            batch_size=50,
            interval=0.1,
            ack_timeout=5.0,
            initial_backoff=0.2,
            max_backoff=2.0,
        )


@contextlib.contextmanager
def logsink_process(folder: Path, environment: dict[str, str]) -> Iterator[LogSinkProcess]:
    process = LogSinkProcess(folder, environment)
    process.start()
    try:
        yield process
    finally:
        process.stop()


def call_record() -> common_pb2.CallRecord:
    timestamp = Timestamp()
    timestamp.GetCurrentTime()
    return common_pb2.CallRecord(
        request_id=str(uuid.uuid4()),
        timestamp=timestamp,
        model="gpt-4o",
        prompt_template="support:v1",
        usage=common_pb2.TokenUsage(input_tokens=100, output_tokens=50),
        latency_ms=250,
        status=common_pb2.CALL_STATUS_SUCCESS,
        prompt_text="How do I get a refund?",
        response_text="Open Orders, pick the order, choose Refund.",
    )


def ship(shipper: Shipper, sent: list[str], count: int, seconds: float) -> None:
    """Enqueue ``count`` records spread over ``seconds``, as an application would."""
    for _ in range(count):
        record = call_record()
        sent.append(record.request_id)
        shipper.enqueue(record)
        time.sleep(seconds / count)
