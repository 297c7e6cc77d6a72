"""A deterministic OpenAI-compatible chat server for tests and the demo (stdlib only).

Run it with ``python -m llmops.testing.openai_server --port 8090`` and point the real
``openai`` SDK at ``http://127.0.0.1:8090/v1`` with any API key.

What it does, so that a monitor has something real to watch:

* ``POST /v1/chat/completions``: the answer is derived from a SHA-256 of the request's
  messages, so the same request always gets the same answer, and different requests
  get different ones. A last user message starting with ``ECHO:`` is answered with the
  rest of that message verbatim (to drive output guardrails with known text).
* Usage like OpenAI's: ``prompt_tokens`` (a word/punctuation count plus the per-message
  overhead), ``prompt_tokens_details.cached_tokens`` when a prompt prefix of at least
  ``--cache-min-tokens`` tokens was seen before (in ``--cache-granularity`` steps, as
  OpenAI's prompt caching does), and ``completion_tokens_details.reasoning_tokens`` for
  reasoning models (o1, o3, o4-mini, gpt-5...), included in ``completion_tokens``.
* Streaming as server-sent events, with the final usage-only chunk when the request sets
  ``stream_options.include_usage``.
* Faults on demand, per request: header ``x-fake-error: <status>`` (or a model named
  ``error-<status>``) answers with that HTTP status and an OpenAI-style error body;
  ``x-fake-latency-ms`` delays the answer; ``x-fake-chunk-delay-ms`` delays each
  streamed chunk.
* ``GET /fake/stats`` reports the number of chat requests served (a test checks that
  a blocked call never reached the model) and the current style.
* Drift for the demo: ``--style drifted``, ``POST /fake/style {"style": "drifted"}`` or a
  header ``x-fake-style: drifted`` switches answers to a different register (long,
  formal, off-topic vocabulary), so an embedding-drift monitor sees a real shift.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

STYLES = ("normal", "drifted")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_REASONING_MODEL = re.compile(r"^(o\d|gpt-5)")
_ERROR_MODEL = re.compile(r"^error-(\d{3})$")
# Per-message and reply-priming overhead of the chat format (OpenAI cookbook).
_TOKENS_PER_MESSAGE = 3
_REPLY_PRIMING = 3

_NORMAL_SENTENCES = (
    "You can reset your password from the account page.",
    "Our team checks every order within two working days.",
    "Refunds go back to the card you paid with.",
    "Shipping is free for orders above fifty euros.",
    "Please keep your receipt until the item arrives.",
    "Contact support if anything looks wrong with your order.",
    "Your subscription renews on the first day of each month.",
    "You can change the delivery address before the parcel ships.",
)
_DRIFTED_SENTENCES = (
    "Henceforth the aforementioned stipulations shall be construed under maritime law.",
    "Notwithstanding any provision hereinbefore enumerated, the lessee indemnifies the lessor.",
    "Volcanic sediment and tempestuous astronomical phenomena are expressly excluded.",
    "Medieval heraldic obligations survive the termination of this instrument.",
    "The undersigned irrevocably waives every claim arising from celestial navigation.",
    "All disputes shall be settled by a tribunal of three antiquarian cartographers.",
)


def count_tokens(text: str) -> int:
    """Words and punctuation marks: close enough to a BPE count to be realistic."""
    return len(_TOKEN.findall(text))


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def _message_tokens(message: dict[str, Any]) -> int:
    return (
        _TOKENS_PER_MESSAGE
        + count_tokens(_content_text(message.get("content")))
        + count_tokens(str(message.get("role", "")))
    )


class FakeLLM:
    """The deterministic model behind the HTTP handler; usable without HTTP too."""

    def __init__(
        self, style: str = "normal", cache_min_tokens: int = 1024, cache_granularity: int = 128
    ) -> None:
        self.style = style
        self.cache_min_tokens = cache_min_tokens
        self.cache_granularity = max(1, cache_granularity)
        self._seen_prefixes: set[str] = set()
        self._lock = threading.Lock()
        self.requests = 0

    def count_request(self) -> None:
        """Count a chat request (tests check that a blocked call never reached the model)."""
        with self._lock:
            self.requests += 1

    def answer(self, messages: list[dict[str, Any]], index: int, style: str) -> str:
        last_user = next(
            (
                _content_text(m.get("content"))
                for m in reversed(messages)
                if m.get("role") == "user"
            ),
            "",
        )
        if last_user.startswith("ECHO:"):
            return last_user[len("ECHO:") :].strip()
        seed = hashlib.sha256(
            json.dumps([messages, index, style], sort_keys=True).encode()
        ).digest()
        sentences = _DRIFTED_SENTENCES if style == "drifted" else _NORMAL_SENTENCES
        count = (3 if style == "drifted" else 1) + seed[0] % 3
        return " ".join(sentences[seed[i + 1] % len(sentences)] for i in range(count))

    def usage(
        self, model: str, messages: list[dict[str, Any]], answers: list[str]
    ) -> dict[str, Any]:
        per_message = [_message_tokens(m) for m in messages]
        prompt_tokens = sum(per_message) + _REPLY_PRIMING
        completion_tokens = sum(count_tokens(a) for a in answers)
        reasoning = 0
        if _REASONING_MODEL.match(model):
            digest = hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).digest()
            reasoning = 64 * (1 + digest[0] % 8)
            completion_tokens += reasoning
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {
                "cached_tokens": self._cached_tokens(messages, per_message),
                "audio_tokens": 0,
            },
            "completion_tokens_details": {
                "reasoning_tokens": reasoning,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }

    def _cached_tokens(self, messages: list[dict[str, Any]], per_message: list[int]) -> int:
        """Longest message prefix seen before, rounded down to the cache granularity."""
        cached = 0
        running = 0
        keys = []
        for i, tokens in enumerate(per_message):
            running += tokens
            key = hashlib.sha256(json.dumps(messages[: i + 1], sort_keys=True).encode())
            keys.append(key.hexdigest())
            with self._lock:
                if keys[-1] in self._seen_prefixes:
                    cached = running
        with self._lock:
            self._seen_prefixes.update(keys)
        if cached < self.cache_min_tokens:
            return 0
        return cached - cached % self.cache_granularity


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body are separate writes; with Nagle on, each keep-alive response
    # would wait for the client's delayed ACK (~40 ms).
    disable_nagle_algorithm = True
    server: _Server

    def handle(self) -> None:
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            # The client went away (a timeout test, an abandoned stream, shutdown).
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        # Request logs would interleave with test output; the SDK reports failures.
        return

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            models = [{"id": m, "object": "model", "owned_by": "fake"} for m in ("fake-1", "o3")]
            self._send_json(HTTPStatus.OK, {"object": "list", "data": models})
        elif self.path.rstrip("/") == "/fake/stats":
            llm = self.server.llm
            self._send_json(HTTPStatus.OK, {"requests": llm.requests, "style": llm.style})
        else:
            self._send_error(HTTPStatus.NOT_FOUND, f"no route {self.path}", "not_found")

    def do_POST(self) -> None:
        body = self._read_json()
        if body is None:
            return
        if self.path.rstrip("/") == "/fake/style":
            self._set_style(body)
        elif self.path.rstrip("/") == "/v1/chat/completions":
            self._chat(body)
        else:
            self._send_error(HTTPStatus.NOT_FOUND, f"no route {self.path}", "not_found")

    def _set_style(self, body: dict[str, Any]) -> None:
        style = body.get("style")
        if style not in STYLES:
            self._send_error(HTTPStatus.BAD_REQUEST, f"style must be one of {STYLES}", "style")
            return
        self.server.llm.style = style
        self._send_json(HTTPStatus.OK, {"style": style})

    def _chat(self, body: dict[str, Any]) -> None:
        model = body.get("model")
        messages = body.get("messages")
        if not isinstance(model, str) or not model:
            self._send_error(HTTPStatus.BAD_REQUEST, "model is required", "model")
            return
        if (
            not isinstance(messages, list)
            or not messages
            or not all(isinstance(m, dict) for m in messages)
        ):
            self._send_error(
                HTTPStatus.BAD_REQUEST, "messages must be a non-empty list", "messages"
            )
            return
        n = body.get("n") or 1
        if not isinstance(n, int) or not 1 <= n <= 8:
            self._send_error(HTTPStatus.BAD_REQUEST, "n must be between 1 and 8", "n")
            return
        self.server.llm.count_request()
        time.sleep(self._header_ms("x-fake-latency-ms") / 1000)
        status = self._requested_error(model)
        if status is not None:
            self._send_error(status, f"fake error {status.value} on request", "fake_error")
            return
        style = self.headers.get("x-fake-style") or self.server.llm.style
        answers = [self.server.llm.answer(messages, i, style) for i in range(n)]
        usage = self.server.llm.usage(model, messages, answers)
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        if body.get("stream"):
            options = body.get("stream_options") or {}
            self._stream(completion_id, model, answers, usage, bool(options.get("include_usage")))
            return
        choices = [
            {
                "index": i,
                "message": {"role": "assistant", "content": answer, "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
            for i, answer in enumerate(answers)
        ]
        self._send_json(
            HTTPStatus.OK,
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": choices,
                "usage": usage,
                "system_fingerprint": "fp_fake",
            },
        )

    def _stream(
        self,
        completion_id: str,
        model: str,
        answers: list[str],
        usage: dict[str, Any],
        include_usage: bool,
    ) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        delay = self._header_ms("x-fake-chunk-delay-ms") / 1000
        base = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_fake",
        }
        extra = {"usage": None} if include_usage else {}
        for i, answer in enumerate(answers):
            first = {"role": "assistant", "content": ""}
            self._event({**base, **extra, "choices": [_chunk_choice(i, first, None)]})
            for piece in _pieces(answer):
                time.sleep(delay)
                delta = {"content": piece}
                self._event({**base, **extra, "choices": [_chunk_choice(i, delta, None)]})
            self._event({**base, **extra, "choices": [_chunk_choice(i, {}, "stop")]})
        if include_usage:
            self._event({**base, "choices": [], "usage": usage})
        self._write_chunk(b"data: [DONE]\n\n")
        self._write_chunk(b"")

    def _event(self, data: dict[str, Any]) -> None:
        self._write_chunk(b"data: " + json.dumps(data).encode() + b"\n\n")

    def _write_chunk(self, payload: bytes) -> None:
        self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
        self.wfile.flush()

    def _requested_error(self, model: str) -> HTTPStatus | None:
        raw = self.headers.get("x-fake-error")
        match = _ERROR_MODEL.match(model)
        if raw is None and match is not None:
            raw = match.group(1)
        if raw is None:
            return None
        try:
            return HTTPStatus(int(raw))
        except ValueError:
            return HTTPStatus.INTERNAL_SERVER_ERROR

    def _header_ms(self, name: str) -> float:
        try:
            return max(0.0, float(self.headers.get(name, "0")))
        except ValueError:
            return 0.0

    def _read_json(self) -> dict[str, Any] | None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            self._send_error(HTTPStatus.BAD_REQUEST, "body is not valid JSON", "body")
            return None
        if not isinstance(body, dict):
            self._send_error(HTTPStatus.BAD_REQUEST, "body must be a JSON object", "body")
            return None
        return body

    def _send_error(self, status: HTTPStatus, message: str, param: str) -> None:
        kind = "invalid_request_error" if status < 500 else "server_error"
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            kind = "rate_limit_error"
        self._send_json(
            status,
            {"error": {"message": message, "type": kind, "param": param, "code": status.value}},
        )

    def _send_json(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _chunk_choice(index: int, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {"index": index, "delta": delta, "finish_reason": finish, "logprobs": None}


def _pieces(answer: str) -> Iterator[str]:
    """Split an answer into small streamed pieces that concatenate back to it exactly."""
    parts = re.findall(r"\S+\s*|\s+", answer)
    for i in range(0, len(parts), 2):
        yield "".join(parts[i : i + 2])


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], llm: FakeLLM) -> None:
        super().__init__(address, _Handler)
        self.llm = llm


class FakeOpenAIServer:
    """The server in a background thread: ``with FakeOpenAIServer() as srv: srv.base_url``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, llm: FakeLLM | None = None):
        self.llm = llm or FakeLLM()
        self._httpd = _Server((host, port), self.llm)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="fake-openai", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--style", choices=STYLES, default="normal")
    parser.add_argument("--cache-min-tokens", type=int, default=1024)
    parser.add_argument("--cache-granularity", type=int, default=128)
    args = parser.parse_args(argv)
    llm = FakeLLM(args.style, args.cache_min_tokens, args.cache_granularity)
    httpd = _Server((args.host, args.port), llm)
    print(f"fake OpenAI server on http://{args.host}:{httpd.server_address[1]}/v1", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


if __name__ == "__main__":
    main()
