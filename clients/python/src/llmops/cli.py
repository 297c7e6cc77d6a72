"""``llmops``: the command line for people running the suite.

    llmops status                          health of every service
    llmops records list|get|stats          what LogSink stored
    llmops spend                           what it cost (CostService.QuerySpend)
    llmops budgets set|list|alerts         spending limits
    llmops experiments create|start|stop|list|results
    llmops drift monitors|baseline|check

Readable aligned tables by default, ``--json`` for scripts. Addresses come from
``--<service> host:port``, else ``LLMOPS_<SERVICE>_ADDRESS``, else localhost:5005x.
Exit status: 0 on success, 1 when a service failed or is unreachable (one line on
stderr names it), 2 for a usage error; ``status`` exits 1 unless all are SERVING.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO

import grpc
from google.protobuf import field_mask_pb2, json_format, timestamp_pb2
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc

from llmops.channels import create_channel
from llmops.v1 import (
    common_pb2,
    cost_pb2,
    cost_pb2_grpc,
    drift_pb2,
    drift_pb2_grpc,
    experiment_pb2,
    experiment_pb2_grpc,
    logsink_pb2,
    logsink_pb2_grpc,
)

# name -> (proto service, default port); the ports every service listens on by default.
SERVICES: dict[str, tuple[str, int]] = {
    "guardrail": ("llmops.v1.GuardrailService", 50051),
    "cost": ("llmops.v1.CostService", 50052),
    "drift": ("llmops.v1.DriftService", 50053),
    "experiment": ("llmops.v1.ExperimentService", 50054),
    "logsink": ("llmops.v1.LogSinkService", 50055),
}
DEFAULT_TIMEOUT = 10.0
# Embedding a baseline of thousands of texts, or a permutation test, takes longer
# than a lookup on a busy CPU.
DRIFT_TIMEOUT = 120.0
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
MICROS = Decimal(1_000_000)
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
SPEND_DIMENSIONS = {
    "model": cost_pb2.SPEND_DIMENSION_MODEL,
    "user": cost_pb2.SPEND_DIMENSION_USER,
    "template": cost_pb2.SPEND_DIMENSION_PROMPT_TEMPLATE,
    "experiment": cost_pb2.SPEND_DIMENSION_EXPERIMENT,
    "variant": cost_pb2.SPEND_DIMENSION_VARIANT,
    "tag": cost_pb2.SPEND_DIMENSION_TAG,
}
GRANULARITIES = {
    "total": cost_pb2.TIME_GRANULARITY_UNSPECIFIED,
    "hour": cost_pb2.TIME_GRANULARITY_HOUR,
    "day": cost_pb2.TIME_GRANULARITY_DAY,
    "month": cost_pb2.TIME_GRANULARITY_MONTH,
}
CALL_STATUSES = {
    "success": common_pb2.CALL_STATUS_SUCCESS,
    "error": common_pb2.CALL_STATUS_ERROR,
    "timeout": common_pb2.CALL_STATUS_TIMEOUT,
    "filtered": common_pb2.CALL_STATUS_FILTERED,
}
EXPERIMENT_STATUSES = {
    "draft": experiment_pb2.EXPERIMENT_STATUS_DRAFT,
    "running": experiment_pb2.EXPERIMENT_STATUS_RUNNING,
    "paused": experiment_pb2.EXPERIMENT_STATUS_PAUSED,
    "stopped": experiment_pb2.EXPERIMENT_STATUS_STOPPED,
}
METRIC_KINDS = {
    "auto": experiment_pb2.METRIC_KIND_UNSPECIFIED,
    "continuous": experiment_pb2.METRIC_KIND_CONTINUOUS,
    "proportion": experiment_pb2.METRIC_KIND_PROPORTION,
}
# A health check failing with these means nothing answers at the address.
_DOWN_CODES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
STATS_GROUPS = {
    "model": logsink_pb2.STATS_GROUP_BY_MODEL,
    "template": logsink_pb2.STATS_GROUP_BY_PROMPT_TEMPLATE,
}


class UsageError(Exception):
    """A command line that cannot be turned into a request (exit status 2)."""


@dataclass
class Context:
    """What every command needs: where the services are, who is asking, how to print."""

    addresses: dict[str, str]
    metadata: tuple[tuple[str, str], ...]
    timeout: float
    as_json: bool
    out: TextIO
    channels: dict[str, grpc.Channel]
    tls: bool | grpc.ChannelCredentials = False

    def channel(self, name: str) -> grpc.Channel:
        if name not in self.channels:
            self.channels[name] = create_channel(self.addresses[name], SERVICES[name][0], self.tls)
        return self.channels[name]

    def call(self, service: str, method: Callable[..., Any], request: Message) -> Any:
        """One unary call with the deadline and metadata; errors name the service."""
        try:
            return method(request, timeout=self.timeout, metadata=self.metadata)
        except grpc.RpcError as exc:
            raise ServiceError(service, self.addresses[service], exc, self.timeout) from exc

    def emit(self, data: Any) -> None:
        json.dump(data, self.out, indent=2, ensure_ascii=False)
        self.out.write("\n")

    def print(self, text: str = "") -> None:
        self.out.write(text + "\n")


class ServiceError(Exception):
    """A failed RPC, phrased for a person: which service, where, and what went wrong."""

    def __init__(self, service: str, address: str, exc: grpc.RpcError, timeout: float) -> None:
        code = exc.code() if callable(getattr(exc, "code", None)) else None
        details = exc.details() if callable(getattr(exc, "details", None)) else str(exc)
        if code is grpc.StatusCode.UNAVAILABLE:
            message = f"{service} at {address} is not reachable"
        elif code is grpc.StatusCode.DEADLINE_EXCEEDED:
            message = f"{service} at {address} did not answer within {timeout:g} s"
        else:
            name = code.name if code is not None else "UNKNOWN"
            message = f"{service} at {address}: {name}: {details}"
        super().__init__(message)
        self.code = code


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point of the ``llmops`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    options = {**DEFAULTS, **vars(args)}
    try:
        tls = _credentials(options)
    except UsageError as exc:
        print(f"llmops: {exc}", file=sys.stderr)
        return EXIT_USAGE
    context = Context(
        addresses={
            name: options[name]
            or os.environ.get(f"LLMOPS_{name.upper()}_ADDRESS")
            or f"localhost:{port}"
            for name, (_, port) in SERVICES.items()
        },
        metadata=_metadata(options["tenant"], options["api_key"]),
        timeout=options["timeout"] or getattr(args, "default_timeout", DEFAULT_TIMEOUT),
        as_json=options["json"],
        out=out or sys.stdout,
        channels={},
        tls=tls,
    )
    try:
        return int(args.handler(context, args) or EXIT_OK)
    except ServiceError as exc:
        print(f"llmops: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except UsageError as exc:
        print(f"llmops: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        for channel in context.channels.values():
            channel.close()


def _credentials(options: dict[str, Any]) -> bool | grpc.ChannelCredentials:
    """Plaintext, TLS with the system roots (``--tls``), a private CA (``--ca-file``),
    and a client certificate for mutual TLS (``--cert-file`` with ``--key-file``)."""
    ca, cert, key = options["ca_file"], options["cert_file"], options["key_file"]
    if (cert is None) != (key is None):
        raise UsageError("--cert-file and --key-file go together")
    if not (options["tls"] or ca or cert):
        return False

    def read(path: Path | None, flag: str) -> bytes | None:
        if path is None:
            return None
        try:
            return path.read_bytes()
        except OSError as exc:
            raise UsageError(f"{flag}: cannot read {path}: {exc.strerror}") from None

    return grpc.ssl_channel_credentials(
        root_certificates=read(ca, "--ca-file"),
        private_key=read(key, "--key-file"),
        certificate_chain=read(cert, "--cert-file"),
    )


def _metadata(tenant: str | None, api_key: str | None) -> tuple[tuple[str, str], ...]:
    tenant = tenant or os.environ.get("LLMOPS_TENANT")
    api_key = api_key or os.environ.get("LLMOPS_API_KEY")
    pairs = [("x-llmops-tenant", tenant)] if tenant else []
    if api_key:
        pairs.append(("authorization", f"Bearer {api_key}"))
    return tuple(pairs)


# Command line.

DEFAULTS: dict[str, Any] = {
    **dict.fromkeys(SERVICES),
    "tenant": None,
    "api_key": None,
    "timeout": None,
    "json": False,
    "tls": False,
    "ca_file": None,
    "cert_file": None,
    "key_file": None,
}


def _common_options() -> argparse.ArgumentParser:
    """Options accepted before or after the command (``llmops --json status`` and
    ``llmops status --json``); SUPPRESS keeps a later parser from resetting them."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection and output")
    for name, (_, port) in SERVICES.items():
        group.add_argument(
            f"--{name}",
            metavar="HOST:PORT",
            default=argparse.SUPPRESS,
            help=f"{name} address (env LLMOPS_{name.upper()}_ADDRESS, default localhost:{port})",
        )
    group.add_argument(
        "--tenant", default=argparse.SUPPRESS, help="tenant to act as (env LLMOPS_TENANT)"
    )
    group.add_argument("--api-key", default=argparse.SUPPRESS, help="API key (env LLMOPS_API_KEY)")
    group.add_argument(
        "--timeout",
        type=float,
        default=argparse.SUPPRESS,
        help="deadline of each call in seconds (default 10; 120 for drift baseline/check)",
    )
    group.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print JSON for scripts"
    )
    group.add_argument(
        "--tls", action="store_true", default=argparse.SUPPRESS, help="TLS with the system CAs"
    )
    group.add_argument(
        "--ca-file", type=Path, default=argparse.SUPPRESS, help="CA bundle (PEM); implies TLS"
    )
    group.add_argument(
        "--cert-file",
        type=Path,
        default=argparse.SUPPRESS,
        help="client certificate (PEM) for mutual TLS, with --key-file",
    )
    group.add_argument(
        "--key-file", type=Path, default=argparse.SUPPRESS, help="client private key (PEM)"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common_options()
    parser = argparse.ArgumentParser(
        prog="llmops",
        description="Look at and steer a running llmops suite.",
        parents=[common],
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(
        parent: Any,
        name: str,
        handler: Callable[[Context, argparse.Namespace], int | None],
        **kw: Any,
    ) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = parent.add_parser(name, parents=[common], **kw)
        sub.set_defaults(handler=handler)
        return sub

    def group(name: str, help_text: str) -> Any:
        sub = commands.add_parser(name, help=help_text, parents=[common])
        return sub.add_subparsers(title="commands", metavar="COMMAND")

    command(commands, "status", cmd_status, help="health of every service")

    records = group("records", "call records stored by LogSink")
    listing = command(records, "list", cmd_records_list, help="newest records first")
    _record_filters(listing)
    listing.add_argument("--limit", type=int, default=20, help="records to show (default 20)")
    get = command(records, "get", cmd_records_get, help="one record")
    get.add_argument("request_id")
    get.add_argument("--text", action="store_true", help="include prompt and response texts")
    stats = command(records, "stats", cmd_records_stats, help="latency, errors and tokens")
    _record_filters(stats)
    stats.add_argument("--by", type=_choices_list(STATS_GROUPS), default=[], help="model,template")

    spend = command(commands, "spend", cmd_spend, help="spend by model, user, variant...")
    _time_range_options(spend)
    spend.add_argument(
        "--by",
        type=_choices_list(SPEND_DIMENSIONS),
        default=[],
        help=f"group by {','.join(SPEND_DIMENSIONS)}",
    )
    spend.add_argument("--granularity", choices=GRANULARITIES, default="total")
    spend.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="DIMENSION=VALUE",
        help="only spend where the dimension equals the value (repeatable)",
    )

    budgets = group("budgets", "spending limits")
    bset = command(budgets, "set", cmd_budgets_set, help="create or replace a budget by name")
    bset.add_argument("name")
    bset.add_argument("--limit", required=True, metavar="USD", help="hard limit, e.g. 250.00")
    bset.add_argument(
        "--scope",
        metavar="DIMENSION=VALUE",
        help=f"what it covers ({','.join(SPEND_DIMENSIONS)}); default the whole tenant",
    )
    bset.add_argument(
        "--window",
        default="month",
        help="day, month, rolling-hours:N or rolling-days:N (default month)",
    )
    bset.add_argument("--time-zone", default="", help="IANA zone of calendar windows (UTC)")
    bset.add_argument(
        "--alerts",
        type=_float_list,
        default=[50.0, 80.0, 100.0],
        metavar="P1,P2,...",
        help="alert thresholds in percent (default 50,80,100)",
    )
    command(budgets, "list", cmd_budgets_list, help="every budget and where it stands")
    command(budgets, "alerts", cmd_budgets_alerts, help="budgets past an alert threshold")

    experiments = group("experiments", "prompt A/B tests")
    create = command(experiments, "create", cmd_experiments_create, help="a new experiment")
    create.add_argument("id")
    create.add_argument(
        "--variant",
        action="append",
        required=True,
        metavar="NAME[:WEIGHT[:TEMPLATE]]",
        help="a variant (repeat; the first is the control), e.g. concise:1:answer@v2",
    )
    create.add_argument("--description", default="")
    create.add_argument("--metric", default="", help="primary metric, e.g. thumbs_up")
    create.add_argument("--kind", choices=METRIC_KINDS, default="auto")
    create.add_argument(
        "--lower-is-better", action="store_true", help="smaller metric values are better"
    )
    create.add_argument("--start", action="store_true", help="create it RUNNING")
    start = command(experiments, "start", cmd_experiments_start, help="set RUNNING")
    start.add_argument("id")
    stop = command(experiments, "stop", cmd_experiments_stop, help="stop for good")
    stop.add_argument("id")
    elist = command(experiments, "list", cmd_experiments_list, help="experiments, newest first")
    elist.add_argument("--status", choices=EXPERIMENT_STATUSES)
    results = command(experiments, "results", cmd_experiments_results, help="statistics")
    results.add_argument("id")
    results.add_argument("--metric", default="", help="default: the primary metric")
    results.add_argument("--alpha", type=float, default=0.0, help="default 0.05")
    results.add_argument("--min-samples", type=int, default=0, help="per variant; default 1000")

    drift = group("drift", "output drift monitors")
    command(drift, "monitors", cmd_drift_monitors, help="every monitor and its last check")
    baseline = command(drift, "baseline", cmd_drift_baseline, help="set a monitor's baseline")
    baseline.add_argument("monitor")
    source = baseline.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", type=Path, help="texts, one per line ('-' reads standard input)")
    source.add_argument("--model", help="use stored responses of this model")
    baseline.add_argument("--template", default="", help="with --model: only this template")
    baseline.add_argument("--limit", type=int, default=0, help="with --model: at most N texts")
    _time_range_options(baseline)
    baseline.set_defaults(default_timeout=DRIFT_TIMEOUT)
    check = command(drift, "check", cmd_drift_check, help="compare the window with the baseline")
    check.add_argument("monitor")
    check.add_argument("--alpha", type=float, default=0.0, help="default 0.01")
    check.set_defaults(default_timeout=DRIFT_TIMEOUT)
    return parser


def _record_filters(parser: argparse.ArgumentParser) -> None:
    _time_range_options(parser)
    parser.add_argument("--model", default="")
    parser.add_argument("--template", default="", help="prompt template")
    parser.add_argument("--status", choices=CALL_STATUSES)
    parser.add_argument("--user", default="", help="end-user id")
    # Not --experiment: that names the ExperimentService address.
    parser.add_argument("--experiment-id", default="", help="experiment id")
    parser.add_argument("--variant", default="")


def _time_range_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since", type=parse_time, help="start: 30m, 24h, 7d ago, or an ISO 8601 time"
    )
    parser.add_argument("--until", type=parse_time, help="end (exclusive), same forms")


def _choices_list(choices: dict[str, Any]) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        items = [item.strip() for item in text.split(",") if item.strip()]
        unknown = [item for item in items if item not in choices]
        if unknown:
            raise argparse.ArgumentTypeError(
                f"unknown {', '.join(unknown)}; choose from {', '.join(choices)}"
            )
        return items

    return parse


def _float_list(text: str) -> list[float]:
    try:
        return [float(item) for item in text.split(",") if item.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of numbers") from None


def parse_time(text: str, now: datetime | None = None) -> datetime:
    """``30m``/``24h``/``7d``/``2w`` ago, or an ISO 8601 time (UTC unless it says)."""
    match = _DURATION.match(text.strip())
    if match:
        amount, unit = match.groups()
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[unit]: float(amount)})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a duration like 24h nor an ISO 8601 time"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_usd(text: str) -> int:
    """``"12.50"`` or ``"$12.50"`` -> 12500000 micro-dollars, exactly (no float)."""
    try:
        amount = Decimal(text.strip().lstrip("$"))
    except InvalidOperation:
        raise UsageError(f"--limit: {text!r} is not an amount of dollars") from None
    micros = amount * MICROS
    if not amount.is_finite() or micros != micros.to_integral_value():
        raise UsageError(f"--limit: {text!r} is not a whole number of micro-dollars")
    return int(micros)


def _time_range(args: argparse.Namespace) -> common_pb2.TimeRange:
    time_range = common_pb2.TimeRange()
    if args.since is not None:
        time_range.start_time.FromDatetime(args.since)
    if args.until is not None:
        time_range.end_time.FromDatetime(args.until)
    return time_range


# Formatting.


def usd(money: common_pb2.Money | int) -> str:
    """Micro-units as dollars: at least cents, at most all six decimals, never rounded."""
    micros = money if isinstance(money, int) else money.amount_micros
    text = f"{Decimal(abs(micros)) / MICROS:,.6f}".rstrip("0")
    whole, _, fraction = text.partition(".")
    return f"{'-' if micros < 0 else ''}${whole}.{fraction.ljust(2, '0')}"


def when(stamp: timestamp_pb2.Timestamp) -> str:
    if not stamp.seconds and not stamp.nanos:
        return "-"
    return stamp.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%d %H:%M:%S")


def enum_name(value: int, enum: Any, prefix: str) -> str:
    """``CALL_STATUS_SUCCESS`` -> ``success``."""
    return str(enum.Name(value)).removeprefix(prefix).lower()


def number(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], right: str = "") -> str:
    """An aligned text table; columns whose header is in ``right`` align right."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    right_columns = set(right.split(",")) if right else set()

    def line(row: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if h in right_columns else c.ljust(w)
            for c, w, h in zip(row, widths, headers, strict=True)
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, cells)])


def to_dict(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


# Commands.


def cmd_status(context: Context, _args: argparse.Namespace) -> int:
    """Health of every service, checked in parallel: SERVING, NOT_SERVING or DOWN."""
    pending = {}
    for name, (service, _) in SERVICES.items():
        stub = health_pb2_grpc.HealthStub(context.channel(name))
        started = time.perf_counter()
        future = stub.Check.future(
            health_pb2.HealthCheckRequest(service=service),
            timeout=min(context.timeout, 3.0),
            metadata=context.metadata,
        )
        pending[name] = (future, started)
    rows = []
    for name, (future, started) in pending.items():
        try:
            response = future.result()
            state = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
            latency: float | None = (time.perf_counter() - started) * 1000
        except grpc.RpcError as exc:
            code = exc.code()
            # UNIMPLEMENTED or NOT_FOUND: something listens there, but not this service.
            state = "DOWN" if code in _DOWN_CODES else f"ERROR {code.name}"
            latency = None
        rows.append(
            {
                "service": name,
                "address": context.addresses[name],
                "status": state,
                "latency_ms": None if latency is None else round(latency, 2),
            }
        )
    if context.as_json:
        context.emit(rows)
    else:
        context.print(
            table(
                ["service", "address", "status", "latency"],
                [
                    [
                        r["service"],
                        r["address"],
                        r["status"],
                        "-" if r["latency_ms"] is None else f"{r['latency_ms']:.1f} ms",
                    ]
                    for r in rows
                ],
                right="latency",
            )
        )
    return EXIT_OK if all(r["status"] == "SERVING" for r in rows) else EXIT_FAILED


def _record_filter(args: argparse.Namespace) -> logsink_pb2.RecordFilter:
    return logsink_pb2.RecordFilter(
        time_range=_time_range(args),
        model=args.model,
        prompt_template=args.template,
        status=CALL_STATUSES[args.status] if args.status else common_pb2.CALL_STATUS_UNSPECIFIED,
        user_id=args.user,
        experiment_id=args.experiment_id,
        variant=args.variant,
    )


def cmd_records_list(context: Context, args: argparse.Namespace) -> None:
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    stub = logsink_pb2_grpc.LogSinkServiceStub(context.channel("logsink"))
    found: list[common_pb2.CallRecord] = []
    token = ""
    while len(found) < args.limit:
        page = context.call(
            "logsink",
            stub.ListRecords,
            logsink_pb2.ListRecordsRequest(
                filter=_record_filter(args),
                page_size=min(1000, args.limit - len(found)),
                page_token=token,
            ),
        )
        found.extend(page.records)
        token = page.next_page_token
        if not token:
            break
    if context.as_json:
        context.emit({"records": [to_dict(r) for r in found]})
        return
    rows = [
        [
            when(r.timestamp),
            r.request_id,
            r.model,
            r.prompt_template or "-",
            enum_name(r.status, common_pb2.CallStatus, "CALL_STATUS_"),
            number(r.latency_ms),
            f"{r.usage.input_tokens}/{r.usage.output_tokens}",
            r.user_id or "-",
            f"{r.experiment_id}:{r.variant}" if r.experiment_id else "-",
        ]
        for r in found
    ]
    headers = [
        "time (UTC)",
        "request id",
        "model",
        "template",
        "status",
        "latency ms",
        "tokens in/out",
        "user",
        "experiment:variant",
    ]
    context.print(table(headers, rows, right="latency ms,tokens in/out"))
    noun = "record" if len(found) == 1 else "records"
    context.print(f"{len(found)} {noun}" + (" (more with --limit)" if token else ""))


def cmd_records_get(context: Context, args: argparse.Namespace) -> None:
    stub = logsink_pb2_grpc.LogSinkServiceStub(context.channel("logsink"))
    response = context.call(
        "logsink",
        stub.GetRecord,
        logsink_pb2.GetRecordRequest(request_id=args.request_id, include_text=args.text),
    )
    if context.as_json:
        context.emit(to_dict(response))
        return
    r = response.record
    usage = r.usage
    fields = [
        ("request id", r.request_id),
        ("time (UTC)", when(r.timestamp)),
        ("stored at", when(response.ingest_time)),
        ("model", f"{r.model} ({r.provider})" if r.provider else r.model),
        ("template", r.prompt_template or "-"),
        ("prompt hash", r.prompt_hash or "-"),
        ("status", enum_name(r.status, common_pb2.CallStatus, "CALL_STATUS_")),
        ("error", f"{r.error_type}: {r.error_message}" if r.error_type else "-"),
        ("latency", f"{r.latency_ms:.1f} ms"),
        (
            "tokens",
            f"{usage.input_tokens} in ({usage.cache_read_input_tokens} cached), "
            f"{usage.output_tokens} out ({usage.reasoning_output_tokens} reasoning)"
            + (", estimated" if usage.estimated else ""),
        ),
        ("user", r.user_id or "-"),
        ("experiment", f"{r.experiment_id} / {r.variant}" if r.experiment_id else "-"),
        ("tag", r.tag or "-"),
    ]
    fields += [(f"metadata.{k}", v) for k, v in sorted(r.metadata.items())]
    if args.text:
        fields += [("prompt", r.prompt_text), ("response", r.response_text)]
    width = max(len(k) for k, _ in fields)
    for key, value in fields:
        context.print(f"{key.ljust(width)}  {value}".rstrip())


def cmd_records_stats(context: Context, args: argparse.Namespace) -> None:
    stub = logsink_pb2_grpc.LogSinkServiceStub(context.channel("logsink"))
    response = context.call(
        "logsink",
        stub.GetStats,
        logsink_pb2.GetStatsRequest(
            filter=_record_filter(args), group_by=[STATS_GROUPS[g] for g in args.by]
        ),
    )
    if context.as_json:
        context.emit(to_dict(response))
        return
    rows = [
        [
            g.model or "(all)",
            g.prompt_template or "(all)",
            f"{g.count:,}",
            f"{g.error_rate:.1%}",
            number(g.latency_p50_ms),
            number(g.latency_p95_ms),
            number(g.latency_p99_ms),
            f"{g.input_tokens:,}",
            f"{g.output_tokens:,}",
            f"{g.cache_read_input_tokens:,}",
        ]
        for g in response.groups
    ]
    headers = [
        "model",
        "template",
        "calls",
        "errors",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "tokens in",
        "tokens out",
        "cached",
    ]
    context.print(table(headers, rows, right=",".join(headers[2:])))


def cmd_spend(context: Context, args: argparse.Namespace) -> None:
    filters = []
    for item in args.filter:
        dimension, sep, value = item.partition("=")
        if not sep or dimension not in SPEND_DIMENSIONS:
            raise UsageError(
                f"--filter {item!r}: expected DIMENSION=VALUE with a dimension among "
                f"{', '.join(SPEND_DIMENSIONS)}"
            )
        filters.append(cost_pb2.DimensionFilter(dimension=SPEND_DIMENSIONS[dimension], value=value))
    stub = cost_pb2_grpc.CostServiceStub(context.channel("cost"))
    response = context.call(
        "cost",
        stub.QuerySpend,
        cost_pb2.QuerySpendRequest(
            time_range=_time_range(args),
            group_by=[SPEND_DIMENSIONS[d] for d in args.by],
            granularity=GRANULARITIES[args.granularity],
            filters=filters,
        ),
    )
    if context.as_json:
        context.emit(to_dict(response))
        return
    bucketed = args.granularity != "total"
    headers = (
        (["from (UTC)"] if bucketed else [])
        + list(args.by)
        + ["calls", "tokens in", "tokens out", "cached", "cost", "of which estimated"]
    )
    rows = [
        ([when(row.bucket_start)] if bucketed else [])
        + list(row.group_values)
        + [
            f"{row.calls:,}",
            f"{row.input_tokens:,}",
            f"{row.output_tokens:,}",
            f"{row.cache_read_input_tokens:,}",
            usd(row.cost),
            usd(row.estimated_cost),
        ]
        for row in response.rows
    ]
    context.print(
        table(headers, rows, right="calls,tokens in,tokens out,cached,cost,of which estimated")
    )
    context.print(f"total {usd(response.total_cost)}")


def _parse_window(text: str, time_zone: str) -> cost_pb2.BudgetWindow:
    kinds = {
        "day": cost_pb2.BUDGET_WINDOW_KIND_CALENDAR_DAY,
        "month": cost_pb2.BUDGET_WINDOW_KIND_CALENDAR_MONTH,
        "rolling-hours": cost_pb2.BUDGET_WINDOW_KIND_ROLLING_HOURS,
        "rolling-days": cost_pb2.BUDGET_WINDOW_KIND_ROLLING_DAYS,
    }
    kind, _, length = text.partition(":")
    if kind not in kinds or (kind.startswith("rolling") != bool(length)):
        raise UsageError(
            f"--window {text!r}: expected day, month, rolling-hours:N or rolling-days:N"
        )
    if length and not length.isdigit():
        raise UsageError(f"--window {text!r}: the length must be a whole number")
    return cost_pb2.BudgetWindow(kind=kinds[kind], length=int(length or 0), time_zone=time_zone)


def _describe_window(window: cost_pb2.BudgetWindow) -> str:
    zone = f" {window.time_zone}" if window.time_zone else ""
    return {
        cost_pb2.BUDGET_WINDOW_KIND_CALENDAR_DAY: f"day{zone}",
        cost_pb2.BUDGET_WINDOW_KIND_CALENDAR_MONTH: f"month{zone}",
        cost_pb2.BUDGET_WINDOW_KIND_ROLLING_HOURS: f"last {window.length} h",
        cost_pb2.BUDGET_WINDOW_KIND_ROLLING_DAYS: f"last {window.length} d",
    }.get(window.kind, "-")


def _all_budgets(context: Context, stub: cost_pb2_grpc.CostServiceStub) -> list[Any]:
    found: list[cost_pb2.BudgetStatus] = []
    token = ""
    while True:
        page = context.call(
            "cost", stub.ListBudgets, cost_pb2.ListBudgetsRequest(page_size=100, page_token=token)
        )
        found.extend(page.budgets)
        token = page.next_page_token
        if not token:
            return found


def cmd_budgets_set(context: Context, args: argparse.Namespace) -> None:
    """Create a budget; one with the same name is replaced (spend is kept: it lives in
    the ledger, not in the budget)."""
    dimension = cost_pb2.SPEND_DIMENSION_UNSPECIFIED
    value = ""
    if args.scope:
        name, sep, value = args.scope.partition("=")
        if not sep or name not in SPEND_DIMENSIONS:
            raise UsageError(
                f"--scope {args.scope!r}: expected DIMENSION=VALUE with a dimension among "
                f"{', '.join(SPEND_DIMENSIONS)}"
            )
        dimension = SPEND_DIMENSIONS[name]
    budget = cost_pb2.Budget(
        name=args.name,
        dimension=dimension,
        value=value,
        window=_parse_window(args.window, args.time_zone),
        limit=common_pb2.Money(currency_code="USD", amount_micros=parse_usd(args.limit)),
        alert_thresholds_percent=args.alerts,
    )
    stub = cost_pb2_grpc.CostServiceStub(context.channel("cost"))
    replaced = [s.budget.id for s in _all_budgets(context, stub) if s.budget.name == args.name]
    for budget_id in replaced:
        context.call("cost", stub.DeleteBudget, cost_pb2.DeleteBudgetRequest(id=budget_id))
    response = context.call("cost", stub.CreateBudget, cost_pb2.CreateBudgetRequest(budget=budget))
    if context.as_json:
        context.emit({**to_dict(response.status), "replaced": bool(replaced)})
        return
    verb = "replaced" if replaced else "created"
    context.print(f"budget {args.name!r} {verb} (id {response.status.budget.id})")
    context.print(budgets_table([response.status]))


def budgets_table(statuses: Sequence[cost_pb2.BudgetStatus]) -> str:
    """Budgets and where they stand (also used by the demo report)."""

    def scope(budget: cost_pb2.Budget) -> str:
        if budget.dimension == cost_pb2.SPEND_DIMENSION_UNSPECIFIED:
            return "tenant"
        names = {v: k for k, v in SPEND_DIMENSIONS.items()}
        return f"{names.get(budget.dimension, '?')}={budget.value}"

    rows = [
        [
            s.budget.name,
            scope(s.budget),
            _describe_window(s.budget.window),
            usd(s.budget.limit),
            usd(s.spent),
            f"{s.percent_used:.1f}%",
            f"{s.alert_threshold_crossed:g}%" if s.alert_threshold_crossed else "-",
            enum_name(s.decision, cost_pb2.BudgetDecision, "BUDGET_DECISION_"),
            when(s.window_reset_time),
        ]
        for s in statuses
    ]
    headers = [
        "budget",
        "scope",
        "window",
        "limit",
        "spent",
        "used",
        "alert",
        "decision",
        "resets (UTC)",
    ]
    return table(headers, rows, right="limit,spent,used,alert")


def cmd_budgets_list(context: Context, _args: argparse.Namespace) -> None:
    stub = cost_pb2_grpc.CostServiceStub(context.channel("cost"))
    statuses = _all_budgets(context, stub)
    if context.as_json:
        context.emit({"budgets": [to_dict(s) for s in statuses]})
    elif statuses:
        context.print(budgets_table(statuses))
    else:
        context.print("no budgets")


def cmd_budgets_alerts(context: Context, _args: argparse.Namespace) -> None:
    stub = cost_pb2_grpc.CostServiceStub(context.channel("cost"))
    response = context.call("cost", stub.ListBudgetAlerts, cost_pb2.ListBudgetAlertsRequest())
    if context.as_json:
        context.emit(to_dict(response))
    elif response.budgets:
        context.print(budgets_table(response.budgets))
    else:
        context.print("no budget is past an alert threshold")


def _parse_variant(text: str) -> experiment_pb2.Variant:
    name, _, rest = text.partition(":")
    weight_text, _, template = rest.partition(":")
    try:
        weight = float(weight_text) if weight_text else 1.0
    except ValueError:
        raise UsageError(f"--variant {text!r}: weight {weight_text!r} is not a number") from None
    return experiment_pb2.Variant(name=name, weight=weight, prompt_template=template)


def _experiment_stub(context: Context) -> experiment_pb2_grpc.ExperimentServiceStub:
    return experiment_pb2_grpc.ExperimentServiceStub(context.channel("experiment"))


def cmd_experiments_create(context: Context, args: argparse.Namespace) -> None:
    experiment = experiment_pb2.Experiment(
        id=args.id,
        description=args.description,
        variants=[_parse_variant(v) for v in args.variant],
        status=experiment_pb2.EXPERIMENT_STATUS_RUNNING
        if args.start
        else experiment_pb2.EXPERIMENT_STATUS_DRAFT,
    )
    if args.metric:
        experiment.primary_metric.CopyFrom(
            experiment_pb2.MetricSpec(
                name=args.metric,
                kind=METRIC_KINDS[args.kind],
                higher_is_better=not args.lower_is_better,
            )
        )
    response = context.call(
        "experiment",
        _experiment_stub(context).CreateExperiment,
        experiment_pb2.CreateExperimentRequest(experiment=experiment),
    )
    _show_experiment(context, response.experiment, "created")


def cmd_experiments_start(context: Context, args: argparse.Namespace) -> None:
    response = context.call(
        "experiment",
        _experiment_stub(context).UpdateExperiment,
        experiment_pb2.UpdateExperimentRequest(
            experiment=experiment_pb2.Experiment(
                id=args.id, status=experiment_pb2.EXPERIMENT_STATUS_RUNNING
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["status"]),
        ),
    )
    _show_experiment(context, response.experiment, "started")


def cmd_experiments_stop(context: Context, args: argparse.Namespace) -> None:
    response = context.call(
        "experiment",
        _experiment_stub(context).StopExperiment,
        experiment_pb2.StopExperimentRequest(id=args.id),
    )
    _show_experiment(context, response.experiment, "stopped")


def _show_experiment(context: Context, experiment: experiment_pb2.Experiment, verb: str) -> None:
    if context.as_json:
        context.emit(to_dict(experiment))
        return
    status = enum_name(experiment.status, experiment_pb2.ExperimentStatus, "EXPERIMENT_STATUS_")
    context.print(f"experiment {experiment.id!r} {verb}: {status}, version {experiment.version}")
    _print_experiments(context, [experiment])


def _print_experiments(context: Context, experiments: Sequence[experiment_pb2.Experiment]) -> None:
    rows = []
    for e in experiments:
        total = sum(v.weight for v in e.variants) or 1.0
        variants = ", ".join(f"{v.name} {v.weight / total:.0%}" for v in e.variants)
        rows.append(
            [
                e.id,
                enum_name(e.status, experiment_pb2.ExperimentStatus, "EXPERIMENT_STATUS_"),
                variants,
                e.primary_metric.name or "-",
                when(e.start_time),
                when(e.stop_time),
                e.version,
            ]
        )
    headers = ["experiment", "status", "variants", "metric", "started", "stopped", "version"]
    context.print(table(headers, rows, right="version"))


def cmd_experiments_list(context: Context, args: argparse.Namespace) -> None:
    stub = _experiment_stub(context)
    status = (
        EXPERIMENT_STATUSES[args.status]
        if args.status
        else experiment_pb2.EXPERIMENT_STATUS_UNSPECIFIED
    )
    found: list[experiment_pb2.Experiment] = []
    token = ""
    while True:
        page = context.call(
            "experiment",
            stub.ListExperiments,
            experiment_pb2.ListExperimentsRequest(status=status, page_size=100, page_token=token),
        )
        found.extend(page.experiments)
        token = page.next_page_token
        if not token:
            break
    if context.as_json:
        context.emit({"experiments": [to_dict(e) for e in found]})
    elif found:
        _print_experiments(context, found)
    else:
        context.print("no experiments")


def cmd_experiments_results(context: Context, args: argparse.Namespace) -> None:
    response = context.call(
        "experiment",
        _experiment_stub(context).GetResults,
        experiment_pb2.GetResultsRequest(
            experiment_id=args.id,
            metric=args.metric,
            alpha=args.alpha,
            min_samples_per_variant=args.min_samples,
        ),
    )
    if context.as_json:
        context.emit(to_dict(response))
        return
    for line in results_report(response):
        context.print(line)


def results_report(response: experiment_pb2.GetResultsResponse) -> list[str]:
    """Experiment results as lines a person reads (also used by the demo report)."""
    confidence = f"{1 - response.alpha:.0%}"
    lines = [
        f"experiment {response.experiment_id}, metric {response.metric.name} "
        f"({'higher' if response.metric.higher_is_better else 'lower'} is better), "
        f"control {response.control_variant}",
        table(
            ["variant", "n", "exposures", "mean", "std dev", f"{confidence} CI"],
            [
                [
                    v.variant,
                    f"{v.n:,}",
                    f"{v.exposures:,}",
                    f"{v.mean:.4g}",
                    f"{v.std_dev:.4g}",
                    f"[{v.ci_low:.4g}, {v.ci_high:.4g}]",
                ]
                for v in response.variants
            ],
            right="n,exposures,mean,std dev",
        ),
    ]
    if response.comparisons:
        lines.append("")
        lines.append(
            table(
                [
                    "vs control",
                    "difference",
                    "relative",
                    f"{confidence} CI",
                    "p",
                    "test",
                    "sequential p",
                    "enough data",
                    "significant",
                ],
                [
                    [
                        c.variant,
                        f"{c.difference:+.4g}",
                        f"{c.relative_difference_percent:+.1f}%",
                        f"[{c.ci_low:.4g}, {c.ci_high:.4g}]",
                        f"{c.p_value:.3g}",
                        c.test,
                        f"{c.sequential_p_value:.3g}",
                        "yes" if c.sample_size_reached else "no",
                        "yes" if c.significant else "no",
                    ]
                    for c in response.comparisons
                ],
                right="difference,relative,p,sequential p",
            )
        )
    srm = response.sample_ratio
    lines.append("")
    lines.append(
        f"sample ratio: chi2={srm.chi_square:.3g} p={srm.p_value:.3g}"
        + ("  MISMATCH: do not trust these results" if srm.mismatch else "  ok")
    )
    lines.append(f"verdict: {response.verdict}")
    return lines


def _drift_stub(context: Context) -> drift_pb2_grpc.DriftServiceStub:
    return drift_pb2_grpc.DriftServiceStub(context.channel("drift"))


def cmd_drift_monitors(context: Context, _args: argparse.Namespace) -> None:
    stub = _drift_stub(context)
    found: list[drift_pb2.Monitor] = []
    token = ""
    while True:
        page = context.call(
            "drift",
            stub.ListMonitors,
            drift_pb2.ListMonitorsRequest(page_size=100, page_token=token),
        )
        found.extend(page.monitors)
        token = page.next_page_token
        if not token:
            break
    if context.as_json:
        context.emit({"monitors": [to_dict(m) for m in found]})
        return
    if not found:
        context.print("no drift monitors")
        return
    rows = []
    for m in found:
        last = m.last_check if m.HasField("last_check") else None
        rows.append(
            [
                m.monitor_id,
                f"{m.baseline_size:,}" if m.baseline_size else "none",
                f"{m.window_size:,}/{m.window_capacity:,}",
                f"{m.distance_threshold:.4f}" if m.baseline_size else "-",
                ("DRIFTED" if last.drifted else "ok") if last else "-",
                f"{last.distance:.4f}" if last else "-",
                f"{last.p_value:.3g}" if last else "-",
                when(last.check_time) if last else "-",
            ]
        )
    headers = [
        "monitor",
        "baseline",
        "window",
        "threshold",
        "last check",
        "distance",
        "p",
        "checked (UTC)",
    ]
    context.print(table(headers, rows, right="baseline,window,threshold,distance,p"))


def _read_texts(path: Path) -> list[str]:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--file: cannot read {path}: {exc.strerror}") from None
    return [line for line in text.splitlines() if line.strip()]


def cmd_drift_baseline(context: Context, args: argparse.Namespace) -> None:
    request = drift_pb2.SetBaselineRequest(monitor_id=args.monitor)
    if args.file is not None:
        request.texts.texts.extend(_read_texts(args.file))
    else:
        request.records.CopyFrom(
            drift_pb2.RecordSelection(
                time_range=_time_range(args),
                model=args.model,
                prompt_template=args.template,
                limit=args.limit,
            )
        )
    response = context.call("drift", _drift_stub(context).SetBaseline, request)
    if context.as_json:
        context.emit(to_dict(response))
        return
    m = response.monitor
    context.print(
        f"baseline of {m.monitor_id!r} set from {m.baseline_size:,} texts "
        f"({response.skipped_empty} empty skipped); distance threshold "
        f"{m.distance_threshold:.4f}"
    )


def cmd_drift_check(context: Context, args: argparse.Namespace) -> int:
    response = context.call(
        "drift",
        _drift_stub(context).CheckDrift,
        drift_pb2.CheckDriftRequest(monitor_id=args.monitor, alpha=args.alpha),
    )
    if context.as_json:
        context.emit(to_dict(response))
    else:
        for line in drift_report(response):
            context.print(line)
    return EXIT_OK


def drift_report(r: drift_pb2.CheckDriftResponse) -> Iterator[str]:
    """A drift verdict as lines a person reads (also used by the demo report)."""
    verdict = "DRIFTED" if r.drifted else "no drift"
    yield (
        f"{r.monitor_id}: {verdict} (distance {r.distance:.4f} vs threshold "
        f"{r.distance_threshold:.4f}; {r.test} p={r.p_value:.3g} vs alpha {r.alpha:g}; "
        f"baseline {r.baseline_size:,} texts, window {r.window_size:,})"
    )
    for title, examples in (("baseline", r.baseline_examples), ("window", r.window_examples)):
        if examples:
            yield f"  typical {title} answers:"
            for example in examples[:3]:
                yield f"    - {_shorten(example.text, 100)}"


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


if __name__ == "__main__":
    sys.exit(main())
