"""CostService servicer: decodes requests and hands them to the engine (proto <-> domain)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeAlias

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from llmops.v1 import common_pb2, cost_pb2, cost_pb2_grpc
from prometheus_client import Counter

from services.common.db import create_engine
from services.common.errors import InvalidArgument
from services.common.server import ServiceSpec
from services.common.tenancy import current_tenant
from services.cost.budgets import Budget, BudgetStatus, Decision, Window, WindowKind
from services.cost.engine import CostEngine, SpendRecord
from services.cost.prices import Cost, Price, Usage, price_to_fields
from services.cost.settings import CostSettings
from services.cost.store import CostStore
from services.cost.tokens import ChatMessage, ParallelCounter

Context: TypeAlias = grpc.aio.ServicerContext
BILLED_IGNORED = Counter(
    "llmops_cost_billed_ignored_total",
    "Billed amounts on records not applied (the estimate is used), by reason",
    ["reason"],
)
USD = "USD"

DIMENSIONS: dict[int, str] = {
    cost_pb2.SPEND_DIMENSION_MODEL: "model",
    cost_pb2.SPEND_DIMENSION_USER: "user",
    cost_pb2.SPEND_DIMENSION_PROMPT_TEMPLATE: "prompt_template",
    cost_pb2.SPEND_DIMENSION_EXPERIMENT: "experiment",
    cost_pb2.SPEND_DIMENSION_VARIANT: "variant",
    cost_pb2.SPEND_DIMENSION_TAG: "tag",
}
DIMENSION_ENUMS: dict[str, Any] = {name: value for value, name in DIMENSIONS.items()}
GRANULARITIES = {
    cost_pb2.TIME_GRANULARITY_UNSPECIFIED: None,
    cost_pb2.TIME_GRANULARITY_HOUR: "hour",
    cost_pb2.TIME_GRANULARITY_DAY: "day",
    cost_pb2.TIME_GRANULARITY_MONTH: "month",
}
WINDOW_KINDS = {
    cost_pb2.BUDGET_WINDOW_KIND_ROLLING_HOURS: WindowKind.ROLLING_HOURS,
    cost_pb2.BUDGET_WINDOW_KIND_ROLLING_DAYS: WindowKind.ROLLING_DAYS,
    cost_pb2.BUDGET_WINDOW_KIND_CALENDAR_DAY: WindowKind.CALENDAR_DAY,
    cost_pb2.BUDGET_WINDOW_KIND_CALENDAR_MONTH: WindowKind.CALENDAR_MONTH,
}
WINDOW_ENUMS = {kind: value for value, kind in WINDOW_KINDS.items()}
DECISIONS = {
    Decision.ALLOW: cost_pb2.BUDGET_DECISION_ALLOW,
    Decision.WARN: cost_pb2.BUDGET_DECISION_WARN,
    Decision.DENY: cost_pb2.BUDGET_DECISION_DENY,
}
TIER_MODES = {
    cost_pb2.TIER_MODE_WHOLE_REQUEST: "whole_request",
    cost_pb2.TIER_MODE_MARGINAL: "marginal",
}
TIER_ENUMS = {mode: value for value, mode in TIER_MODES.items()}
STATUSES = {
    common_pb2.CALL_STATUS_SUCCESS: "success",
    common_pb2.CALL_STATUS_ERROR: "error",
    common_pb2.CALL_STATUS_TIMEOUT: "timeout",
    common_pb2.CALL_STATUS_FILTERED: "filtered",
}
PRICE_STRING_FIELDS = (
    "model",
    "provider",
    "effective_from",
    "input_per_mtok",
    "output_per_mtok",
    "cache_read_per_mtok",
    "cache_write_per_mtok",
    "batch_input_per_mtok",
    "batch_output_per_mtok",
    "reasoning_output_per_mtok",
    "source",
)
TIER_PRICE_FIELDS = (
    "input_per_mtok",
    "output_per_mtok",
    "cache_read_per_mtok",
    "cache_write_per_mtok",
)


def money(micros: int) -> common_pb2.Money:
    return common_pb2.Money(currency_code=USD, amount_micros=micros)


def micros_of(value: common_pb2.Money, field: str) -> int:
    """USD micros of a Money; an empty currency means USD, others are refused."""
    if value.currency_code not in ("", USD):
        raise InvalidArgument(f"{field}.currency_code", "only USD amounts are accepted")
    return int(value.amount_micros)


def timestamp(moment: datetime) -> Timestamp:
    """Whole-second timestamps (window bounds and buckets never carry fractions)."""
    return Timestamp(seconds=int(moment.timestamp()))


def moment_of(message: Any, name: str, field: str) -> datetime | None:
    """The datetime of an optional Timestamp field (None when unset)."""
    if not message.HasField(name):
        return None
    value = getattr(message, name)
    if not 0 <= value.nanos < 1_000_000_000:
        raise InvalidArgument(field, "nanos out of range")
    try:
        return value.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise InvalidArgument(field, "is out of range") from None


def usage_of(usage: common_pb2.TokenUsage) -> Usage:
    return Usage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_input_tokens=usage.cache_read_input_tokens,
        cache_creation_input_tokens=usage.cache_creation_input_tokens,
        reasoning_output_tokens=usage.reasoning_output_tokens,
    )


def dimension_of(value: int, field: str) -> str:
    if value not in DIMENSIONS:
        raise InvalidArgument(field, "must be a known SpendDimension")
    return DIMENSIONS[value]


def price_fields(entry: cost_pb2.PriceEntry) -> dict[str, Any]:
    fields: dict[str, Any] = {name: getattr(entry, name) for name in PRICE_STRING_FIELDS}
    fields["aliases"] = list(entry.aliases)
    fields["tiers"] = [
        {
            "above_input_tokens": str(tier.above_input_tokens),
            "mode": TIER_MODES.get(tier.mode, ""),
            **{name: getattr(tier, name) for name in TIER_PRICE_FIELDS},
        }
        for tier in entry.tiers
    ]
    return fields


def price_entry(price: Price) -> cost_pb2.PriceEntry:
    fields = price_to_fields(price)
    tiers = [
        cost_pb2.PriceTier(
            above_input_tokens=int(tier["above_input_tokens"]),
            mode=TIER_ENUMS[tier["mode"]],
            **{name: tier[name] for name in TIER_PRICE_FIELDS},
        )
        for tier in fields.pop("tiers")
    ]
    return cost_pb2.PriceEntry(tiers=tiers, **fields)


@functools.lru_cache(maxsize=4096)
def budget_proto(budget: Budget) -> cost_pb2.Budget:
    """Budgets are immutable, so each one's message is built once (CheckBudget is hot)."""
    return cost_pb2.Budget(
        id=budget.id,
        name=budget.name,
        dimension=DIMENSION_ENUMS[budget.dimension]
        if budget.dimension
        else cost_pb2.SPEND_DIMENSION_UNSPECIFIED,
        value=budget.value,
        window=cost_pb2.BudgetWindow(
            kind=WINDOW_ENUMS[budget.window.kind],
            length=budget.window.length,
            time_zone=budget.window.time_zone,
        ),
        limit=money(budget.limit_micros),
        alert_thresholds_percent=list(budget.thresholds_percent),
    )


def status_proto(status: BudgetStatus) -> cost_pb2.BudgetStatus:
    message = cost_pb2.BudgetStatus(
        budget=budget_proto(status.budget),
        spent=money(status.spent_micros),
        remaining=money(status.remaining_micros),
        percent_used=status.percent_used,
        alert_threshold_crossed=status.threshold_crossed,
        decision=DECISIONS[status.decision],
        window_start=timestamp(status.window_start),
    )
    if status.reset_time is not None:
        message.window_reset_time.CopyFrom(timestamp(status.reset_time))
    return message


def budget_of(message: cost_pb2.Budget) -> Budget:
    if message.dimension and message.dimension not in DIMENSIONS:
        raise InvalidArgument("budget.dimension", "must be a known SpendDimension")
    if message.window.kind not in WINDOW_KINDS:
        raise InvalidArgument("budget.window.kind", "must be set")
    return Budget(
        id="",
        tenant="",
        name=message.name,
        dimension=DIMENSIONS.get(message.dimension),
        value=message.value,
        window=Window(
            WINDOW_KINDS[message.window.kind], message.window.length, message.window.time_zone
        ),
        limit_micros=micros_of(message.limit, "budget.limit"),
        thresholds_percent=tuple(message.alert_thresholds_percent),
    )


def spend_record(record: common_pb2.CallRecord, index: int) -> SpendRecord:
    where = f"records[{index}]"
    billed: int | None = None
    if record.HasField("billed_cost"):
        if record.billed_cost.currency_code in ("", USD):
            billed = record.billed_cost.amount_micros
        else:
            # LogSink accepts any currency and forwards whole batches; refusing the
            # batch would lose every record in it. The estimate stands instead.
            BILLED_IGNORED.labels("currency").inc()
    return SpendRecord(
        request_id=record.request_id,
        timestamp=moment_of(record, "timestamp", f"{where}.timestamp"),
        model=record.model,
        provider=record.provider,
        usage=usage_of(record.usage),
        status=STATUSES.get(record.status, ""),
        user_id=record.user_id,
        prompt_template=record.prompt_template,
        experiment_id=record.experiment_id,
        variant=record.variant,
        tag=record.tag,
        batch=record.batch,
        billed_micros=billed,
    )


def cost_response(cost: Cost) -> cost_pb2.EstimateCostResponse:
    return cost_pb2.EstimateCostResponse(
        cost=money(cost.micros),
        lines=[
            cost_pb2.CostLine(
                component=line.component,
                tokens=line.tokens,
                price_per_mtok=str(line.price_per_mtok),
                cost=money(line.micros),
            )
            for line in cost.lines
        ],
        price_found=cost.priced,
        price_effective_from=cost.price.effective_from.isoformat() if cost.price else "",
        tier_above_input_tokens=cost.tier.above_input_tokens if cost.tier else 0,
    )


class CostServicer(cost_pb2_grpc.CostServiceServicer):
    """Thin adapter over :class:`CostEngine` and :class:`ParallelCounter`."""

    def __init__(self, engine: CostEngine, counter: ParallelCounter) -> None:
        self._engine = engine
        self._counter = counter

    async def CountTokens(
        self, request: cost_pb2.CountTokensRequest, context: Context
    ) -> cost_pb2.CountTokensResponse:
        tokens, choice = await self._counter.count(request.model, request.text)
        return cost_pb2.CountTokensResponse(
            tokens=tokens, encoding=choice.name, estimated=choice.estimated
        )

    async def CountTokensBatch(
        self, request: cost_pb2.CountTokensBatchRequest, context: Context
    ) -> cost_pb2.CountTokensBatchResponse:
        counts, choice = await self._counter.count_batch(request.model, list(request.texts))
        return cost_pb2.CountTokensBatchResponse(
            tokens=counts, encoding=choice.name, estimated=choice.estimated
        )

    async def CountChatTokens(
        self, request: cost_pb2.CountChatTokensRequest, context: Context
    ) -> cost_pb2.CountChatTokensResponse:
        messages = [ChatMessage(m.role, m.content, m.name) for m in request.messages]
        tokens, choice = await self._counter.count_chat(request.model, messages)
        return cost_pb2.CountChatTokensResponse(
            tokens=tokens, encoding=choice.name, estimated=choice.estimated
        )

    async def EstimateCost(
        self, request: cost_pb2.EstimateCostRequest, context: Context
    ) -> cost_pb2.EstimateCostResponse:
        cost = self._engine.estimate(
            current_tenant(),
            request.model,
            usage_of(request.usage),
            moment_of(request, "timestamp", "timestamp"),
            request.batch,
        )
        return cost_response(cost)

    async def ListPrices(
        self, request: cost_pb2.ListPricesRequest, context: Context
    ) -> cost_pb2.ListPricesResponse:
        prices, token = self._engine.list_prices(
            current_tenant(), request.model, request.page_size, request.page_token
        )
        return cost_pb2.ListPricesResponse(
            prices=[price_entry(price) for price in prices], next_page_token=token
        )

    async def UpsertPrices(
        self, request: cost_pb2.UpsertPricesRequest, context: Context
    ) -> cost_pb2.UpsertPricesResponse:
        entries = [price_fields(entry) for entry in request.prices]
        upserted = await self._engine.upsert_prices(current_tenant(), entries)
        return cost_pb2.UpsertPricesResponse(upserted=upserted)

    async def ReloadPrices(
        self, request: cost_pb2.ReloadPricesRequest, context: Context
    ) -> cost_pb2.ReloadPricesResponse:
        entries = await self._engine.reload_prices(current_tenant())
        return cost_pb2.ReloadPricesResponse(entries=entries)

    async def RecordSpend(
        self, request: cost_pb2.RecordSpendRequest, context: Context
    ) -> cost_pb2.RecordSpendResponse:
        records = [spend_record(record, i) for i, record in enumerate(request.records)]
        result = await self._engine.record_spend(current_tenant(), records)
        return cost_pb2.RecordSpendResponse(
            recorded=result.recorded, duplicates=result.duplicates, unpriced=result.unpriced
        )

    async def QuerySpend(
        self, request: cost_pb2.QuerySpendRequest, context: Context
    ) -> cost_pb2.QuerySpendResponse:
        if request.granularity not in GRANULARITIES:
            raise InvalidArgument("granularity", "must be a known TimeGranularity")
        group_by = [
            dimension_of(value, f"group_by[{i}]") for i, value in enumerate(request.group_by)
        ]
        filters = [
            (dimension_of(f.dimension, f"filters[{i}].dimension"), f.value)
            for i, f in enumerate(request.filters)
        ]
        rows = await self._engine.query_spend(
            current_tenant(),
            moment_of(request.time_range, "start_time", "time_range.start_time"),
            moment_of(request.time_range, "end_time", "time_range.end_time"),
            group_by,
            GRANULARITIES[request.granularity],
            filters,
        )
        response = cost_pb2.QuerySpendResponse(total_cost=money(sum(r.cost_micros for r in rows)))
        for row in rows:
            message = response.rows.add(
                group_values=list(row.group_values),
                cost=money(row.cost_micros),
                estimated_cost=money(row.estimated_micros),
                calls=row.calls,
                input_tokens=row.input_tokens,
                output_tokens=row.output_tokens,
                cache_read_input_tokens=row.cache_read_input_tokens,
            )
            if row.bucket_start is not None:
                message.bucket_start.CopyFrom(Timestamp(seconds=row.bucket_start))
        return response

    async def CreateBudget(
        self, request: cost_pb2.CreateBudgetRequest, context: Context
    ) -> cost_pb2.CreateBudgetResponse:
        status = await self._engine.create_budget(current_tenant(), budget_of(request.budget))
        return cost_pb2.CreateBudgetResponse(status=status_proto(status))

    async def GetBudget(
        self, request: cost_pb2.GetBudgetRequest, context: Context
    ) -> cost_pb2.GetBudgetResponse:
        status = await self._engine.get_budget(current_tenant(), request.id)
        return cost_pb2.GetBudgetResponse(status=status_proto(status))

    async def ListBudgets(
        self, request: cost_pb2.ListBudgetsRequest, context: Context
    ) -> cost_pb2.ListBudgetsResponse:
        statuses, token = self._engine.list_budgets(
            current_tenant(), request.page_size, request.page_token
        )
        return cost_pb2.ListBudgetsResponse(
            budgets=[status_proto(s) for s in statuses], next_page_token=token
        )

    async def DeleteBudget(
        self, request: cost_pb2.DeleteBudgetRequest, context: Context
    ) -> cost_pb2.DeleteBudgetResponse:
        await self._engine.delete_budget(current_tenant(), request.id)
        return cost_pb2.DeleteBudgetResponse()

    async def CheckBudget(
        self, request: cost_pb2.CheckBudgetRequest, context: Context
    ) -> cost_pb2.CheckBudgetResponse:
        dimensions = {
            "model": request.model,
            "user": request.user_id,
            "prompt_template": request.prompt_template,
            "experiment": request.experiment_id,
            "variant": request.variant,
            "tag": request.tag,
        }
        expected = micros_of(request.expected_cost, "expected_cost")
        decision, statuses = self._engine.check_budget(current_tenant(), dimensions, expected)
        return cost_pb2.CheckBudgetResponse(
            decision=DECISIONS[decision], budgets=[status_proto(s) for s in statuses]
        )

    async def ListBudgetAlerts(
        self, request: cost_pb2.ListBudgetAlertsRequest, context: Context
    ) -> cost_pb2.ListBudgetAlertsResponse:
        statuses = self._engine.budget_alerts(current_tenant())
        return cost_pb2.ListBudgetAlertsResponse(budgets=[status_proto(s) for s in statuses])

    async def ImportBilledAmounts(
        self, request: cost_pb2.ImportBilledAmountsRequest, context: Context
    ) -> cost_pb2.ImportBilledAmountsResponse:
        amounts = [
            (amount.request_id, micros_of(amount.amount, f"amounts[{i}].amount"))
            for i, amount in enumerate(request.amounts)
        ]
        applied, unmatched = await self._engine.import_billed(current_tenant(), amounts)
        return cost_pb2.ImportBilledAmountsResponse(applied=applied, unmatched=unmatched)

    async def ImportBillingExport(
        self, request: cost_pb2.ImportBillingExportRequest, context: Context
    ) -> cost_pb2.ImportBillingExportResponse:
        rows = await self._engine.import_export(current_tenant(), request.provider, request.csv)
        return cost_pb2.ImportBillingExportResponse(rows=rows)

    async def GetReconciliationReport(
        self, request: cost_pb2.GetReconciliationReportRequest, context: Context
    ) -> cost_pb2.GetReconciliationReportResponse:
        rows = await self._engine.reconciliation(
            current_tenant(),
            moment_of(request.time_range, "start_time", "time_range.start_time"),
            moment_of(request.time_range, "end_time", "time_range.end_time"),
            request.model,
        )
        return cost_pb2.GetReconciliationReportResponse(
            rows=[
                cost_pb2.ReconciliationRow(
                    day=row.day,
                    model=row.model,
                    estimated=money(row.estimated_micros),
                    billed=money(row.billed_micros),
                    gap_percent=row.gap_percent,
                    calls=row.calls,
                    estimated_input_tokens=row.estimated_input_tokens,
                    billed_input_tokens=row.billed_input_tokens,
                    estimated_output_tokens=row.estimated_output_tokens,
                    billed_output_tokens=row.billed_output_tokens,
                    likely_cause=row.likely_cause,
                )
                for row in rows
            ]
        )


async def create_servicer(
    settings: CostSettings,
) -> tuple[CostServicer, Callable[[], Awaitable[None]]]:
    """Install vocabularies, open and migrate the database, load prices and budgets."""
    counter = await ParallelCounter.start(settings.tiktoken_cache_dir, settings.token_count_threads)
    sql = create_engine(settings.database_url)
    engine = CostEngine(
        CostStore(sql),
        settings.price_file,
        refresh_seconds=settings.budget_refresh_seconds,
        rebuild_seconds=settings.budget_rebuild_seconds,
        metrics_limit=settings.budget_metrics_limit,
        max_budgets=settings.max_budgets_per_tenant,
        tolerance_percent=settings.reconciliation_tolerance_percent,
    )
    try:
        await engine.start()
    except BaseException:
        sql.dispose()
        counter.close()
        raise

    async def close() -> None:
        await engine.close()
        sql.dispose()
        counter.close()

    return CostServicer(engine, counter), close


SPEC = ServiceSpec(
    name="cost",
    service_name=cost_pb2.DESCRIPTOR.services_by_name["CostService"].full_name,
    settings_cls=CostSettings,
    add_to_server=cost_pb2_grpc.add_CostServiceServicer_to_server,
    factory=create_servicer,
)
