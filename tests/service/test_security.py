"""The five real services behind mutual TLS and per-tenant API keys, and tenant isolation.

All five servers run in-process from their real ``SPEC`` with the settings an
operator would set (certificate, key, client CA, API keys file), on SQLite and a
local object store, and are called over loopback with real stubs: only clients with
a certificate from the CA and a known key get in, the key decides the tenant, and a
tenant never sees, changes or aggregates another tenant's records, spend, budgets,
monitors, experiments or pseudonyms.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from google.protobuf.timestamp_pb2 import Timestamp
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
    guardrail_pb2,
    guardrail_pb2_grpc,
    logsink_pb2,
    logsink_pb2_grpc,
)

from services.common.server import running_server
from services.common.tenancy import hash_api_key
from services.cost.servicer import SPEC as COST
from services.cost.settings import CostSettings
from services.drift.servicer import SPEC as DRIFT
from services.drift.settings import DriftSettings
from services.experiment.servicer import SPEC as EXPERIMENT
from services.experiment.settings import ExperimentSettings
from services.guardrail.servicer import SPEC as GUARDRAIL
from services.guardrail.settings import GuardrailSettings
from services.logsink.servicer import SPEC as LOGSINK
from services.logsink.settings import LogSinkSettings, TextMode
from tests.support.certs import write_pki

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]

ACME_KEY = "acme-" + uuid.uuid4().hex
GLOBEX_KEY = "globex-" + uuid.uuid4().hex
ACME = (("x-api-key", ACME_KEY),)
GLOBEX = (("authorization", f"Bearer {GLOBEX_KEY}"),)
INITECH_KEY = "initech-" + uuid.uuid4().hex
INITECH = (("x-api-key", INITECH_KEY),)
# The key the services present to each other (listed under "*").
SERVICE_KEY = "service-" + uuid.uuid4().hex
PSEUDONYM_SECRET = "security-test-pseudonym-secret-0123456789"


@dataclass(frozen=True)
class Pki:
    ca: bytes
    client_cert: bytes
    client_key: bytes
    files: dict[str, Path]

    def client_credentials(self, with_certificate: bool = True) -> grpc.ChannelCredentials:
        if not with_certificate:
            return grpc.ssl_channel_credentials(root_certificates=self.ca)
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca,
            private_key=self.client_key,
            certificate_chain=self.client_cert,
        )


@dataclass(frozen=True)
class Suite:
    ports: dict[str, int]
    pki: Pki
    secured: dict[str, Any]
    """The TLS, mutual TLS and API keys settings every server of the suite runs with."""

    def channel(self, service: str, with_certificate: bool = True) -> grpc.aio.Channel:
        return grpc.aio.secure_channel(
            f"localhost:{self.ports[service]}", self.pki.client_credentials(with_certificate)
        )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    contents = write_pki(folder, "app")
    files = {name: folder / f"{name}.pem" for name in ("ca", "server_cert", "server_key")}
    return Pki(contents["ca"], contents["client_cert"], contents["client_key"], files)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def suite(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> AsyncIterator[Suite]:
    data = tmp_path_factory.mktemp("suite")
    keys = data / "api-keys.json"
    keys.write_text(
        json.dumps(
            {
                "acme": [hash_api_key(ACME_KEY)],
                "globex": [hash_api_key(GLOBEX_KEY)],
                "initech": [hash_api_key(INITECH_KEY)],
                "*": [hash_api_key(SERVICE_KEY)],
            }
        )
    )
    secured: dict[str, Any] = {
        "host": "localhost",
        "tls_cert_file": pki.files["server_cert"],
        "tls_key_file": pki.files["server_key"],
        "tls_client_ca_file": pki.files["ca"],
        "api_keys_file": keys,
        "object_store": f"file:{data / 'objects'}",
    }

    def database(name: str) -> str:
        return f"sqlite:///{data / name}.db"

    servers = {
        "guardrail": (
            GUARDRAIL,
            GuardrailSettings(
                **secured, database_url=database("guardrail"), pseudonym_secret=PSEUDONYM_SECRET
            ),
        ),
        "cost": (
            COST,
            CostSettings(
                **secured,
                database_url=database("cost"),
                tiktoken_cache_dir=data / "tiktoken",
                budget_refresh_seconds=0,
            ),
        ),
        "drift": (DRIFT, DriftSettings(**secured, database_url=database("drift"))),
        "experiment": (
            EXPERIMENT,
            ExperimentSettings(**secured, database_url=database("experiment")),
        ),
        "logsink": (
            LOGSINK,
            LogSinkSettings(
                **secured,
                database_url=database("logsink"),
                text_mode=TextMode.FULL,
                pseudonym_secret=PSEUDONYM_SECRET,
            ),
        ),
    }
    async with AsyncExitStack() as stack:
        ports = {}
        for name, (spec, settings) in servers.items():
            built = await stack.enter_async_context(running_server(spec, settings))
            ports[name] = built.port
        yield Suite(ports, pki, secured)


# One cheap, read-only RPC per service: what an authenticated client may call.
ListCall = Callable[[grpc.aio.Channel, Any], Awaitable[Any]]
LIST_CALLS: dict[str, ListCall] = {
    "guardrail": lambda ch, md: guardrail_pb2_grpc.GuardrailServiceStub(ch).ListPolicies(
        guardrail_pb2.ListPoliciesRequest(), metadata=md, timeout=10
    ),
    "cost": lambda ch, md: cost_pb2_grpc.CostServiceStub(ch).ListBudgets(
        cost_pb2.ListBudgetsRequest(), metadata=md, timeout=10
    ),
    "drift": lambda ch, md: drift_pb2_grpc.DriftServiceStub(ch).ListMonitors(
        drift_pb2.ListMonitorsRequest(), metadata=md, timeout=10
    ),
    "experiment": lambda ch, md: experiment_pb2_grpc.ExperimentServiceStub(ch).ListExperiments(
        experiment_pb2.ListExperimentsRequest(), metadata=md, timeout=10
    ),
    "logsink": lambda ch, md: logsink_pb2_grpc.LogSinkServiceStub(ch).ListRecords(
        logsink_pb2.ListRecordsRequest(), metadata=md, timeout=10
    ),
}
SERVICES = sorted(LIST_CALLS)


async def _code(call: Awaitable[Any]) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value.code()


# ------------------------------------------------------------- TLS and API keys


@pytest.mark.parametrize("service", SERVICES)
async def test_client_with_certificate_and_key_gets_in(suite: Suite, service: str) -> None:
    async with suite.channel(service) as channel:
        await LIST_CALLS[service](channel, ACME)
        await LIST_CALLS[service](channel, GLOBEX)


@pytest.mark.parametrize("service", SERVICES)
async def test_client_without_certificate_is_refused_by_the_handshake(
    suite: Suite, service: str
) -> None:
    async with suite.channel(service, with_certificate=False) as channel:
        assert await _code(LIST_CALLS[service](channel, ACME)) is grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize("service", SERVICES)
async def test_plaintext_client_is_refused(suite: Suite, service: str) -> None:
    async with grpc.aio.insecure_channel(f"localhost:{suite.ports[service]}") as channel:
        assert await _code(LIST_CALLS[service](channel, ACME)) is grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize("service", SERVICES)
async def test_missing_or_unknown_key_is_unauthenticated_and_other_tenant_denied(
    suite: Suite, service: str
) -> None:
    call = LIST_CALLS[service]
    async with suite.channel(service) as channel:
        assert await _code(call(channel, ())) is grpc.StatusCode.UNAUTHENTICATED
        unknown = (("x-api-key", "acme-" + uuid.uuid4().hex),)
        assert await _code(call(channel, unknown)) is grpc.StatusCode.UNAUTHENTICATED
        # A valid key cannot be used to act as another tenant.
        other = (*ACME, ("x-llmops-tenant", "globex"))
        assert await _code(call(channel, other)) is grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize("service", SERVICES)
async def test_health_needs_the_certificate_but_no_key(suite: Suite, service: str) -> None:
    async with suite.channel(service) as channel:
        response = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=f"llmops.v1.{_proto_name(service)}"), timeout=10
        )
    assert response.status == health_pb2.HealthCheckResponse.SERVING


def _proto_name(service: str) -> str:
    return {"logsink": "LogSinkService"}.get(service, f"{service.capitalize()}Service")


async def test_client_library_channel_speaks_mutual_tls(suite: Suite) -> None:
    def list_experiments(credentials: grpc.ChannelCredentials) -> int:
        channel = create_channel(
            f"localhost:{suite.ports['experiment']}", "llmops.v1.ExperimentService", credentials
        )
        with channel:
            stub = experiment_pb2_grpc.ExperimentServiceStub(channel)
            response = stub.ListExperiments(
                experiment_pb2.ListExperimentsRequest(), metadata=ACME, timeout=10
            )
        return len(response.experiments)

    # The blocking client runs in a thread: the servers share this event loop.
    assert await asyncio.to_thread(list_experiments, suite.pki.client_credentials()) >= 0
    with pytest.raises(grpc.RpcError) as caught:
        await asyncio.to_thread(list_experiments, suite.pki.client_credentials(False))
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE


# ------------------------------------------------------------------ isolation


def _record(request_id: str, text: str) -> common_pb2.CallRecord:
    timestamp = Timestamp()
    timestamp.GetCurrentTime()
    return common_pb2.CallRecord(
        request_id=request_id,
        timestamp=timestamp,
        model="gpt-4o",
        prompt_template="support:v1",
        usage=common_pb2.TokenUsage(input_tokens=1000, output_tokens=500),
        latency_ms=120,
        status=common_pb2.CALL_STATUS_SUCCESS,
        prompt_text=text,
    )


async def test_records_are_invisible_to_another_tenant(suite: Suite) -> None:
    ids = [str(uuid.uuid4()) for _ in range(3)]
    async with suite.channel("logsink") as channel:
        stub = logsink_pb2_grpc.LogSinkServiceStub(channel)
        request = logsink_pb2.WriteRecordsRequest(records=[_record(i, "acme only") for i in ids])
        summary = await stub.WriteRecords(iter([request]), metadata=ACME, timeout=10)
        assert summary.stored == 3

        mine = await stub.ListRecords(logsink_pb2.ListRecordsRequest(), metadata=ACME, timeout=10)
        theirs = await stub.ListRecords(
            logsink_pb2.ListRecordsRequest(), metadata=GLOBEX, timeout=10
        )
        assert {r.request_id for r in mine.records} >= set(ids)
        assert not {r.request_id for r in theirs.records} & set(ids)

        get = logsink_pb2.GetRecordRequest(request_id=ids[0], include_text=True)
        assert (await stub.GetRecord(get, metadata=ACME, timeout=10)).record.request_id == ids[0]
        assert await _code(stub.GetRecord(get, metadata=GLOBEX, timeout=10)) is (
            grpc.StatusCode.NOT_FOUND
        )
        stats = logsink_pb2.GetStatsRequest(filter=logsink_pb2.RecordFilter(model="gpt-4o"))
        assert (
            sum(g.count for g in (await stub.GetStats(stats, metadata=ACME, timeout=10)).groups)
            >= 3
        )
        assert list((await stub.GetStats(stats, metadata=GLOBEX, timeout=10)).groups) == []

        # Another tenant's purge of everything leaves these records alone.
        everything = logsink_pb2.PurgeRecordsRequest(before=Timestamp(seconds=4_000_000_000))
        await stub.PurgeRecords(everything, metadata=GLOBEX, timeout=10)
        assert (await stub.GetRecord(get, metadata=ACME, timeout=10)).record.request_id == ids[0]
        # The same request_id is a different record in another tenant, not a duplicate.
        again = await stub.WriteRecords(
            iter([logsink_pb2.WriteRecordsRequest(records=[_record(ids[0], "globex")])]),
            metadata=GLOBEX,
            timeout=10,
        )
        assert (again.stored, again.duplicates) == (1, 0)


async def test_budgets_and_spend_are_invisible_to_another_tenant(suite: Suite) -> None:
    async with suite.channel("cost") as channel:
        stub = cost_pb2_grpc.CostServiceStub(channel)
        created = await stub.CreateBudget(
            cost_pb2.CreateBudgetRequest(
                budget=cost_pb2.Budget(
                    name="acme-monthly",
                    window=cost_pb2.BudgetWindow(kind=cost_pb2.BUDGET_WINDOW_KIND_CALENDAR_MONTH),
                    limit=common_pb2.Money(currency_code="USD", amount_micros=50_000_000),
                )
            ),
            metadata=ACME,
            timeout=10,
        )
        budget_id = created.status.budget.id
        await stub.RecordSpend(
            cost_pb2.RecordSpendRequest(records=[_record(str(uuid.uuid4()), "")]),
            metadata=ACME,
            timeout=10,
        )

        acme_spend = await stub.QuerySpend(cost_pb2.QuerySpendRequest(), metadata=ACME, timeout=10)
        globex_spend = await stub.QuerySpend(
            cost_pb2.QuerySpendRequest(), metadata=GLOBEX, timeout=10
        )
        assert acme_spend.total_cost.amount_micros > 0
        assert globex_spend.total_cost.amount_micros == 0
        assert list(globex_spend.rows) == []

        theirs = await stub.ListBudgets(cost_pb2.ListBudgetsRequest(), metadata=GLOBEX, timeout=10)
        assert budget_id not in {b.budget.id for b in theirs.budgets}
        get = cost_pb2.GetBudgetRequest(id=budget_id)
        assert await _code(stub.GetBudget(get, metadata=GLOBEX, timeout=10)) is (
            grpc.StatusCode.NOT_FOUND
        )
        delete = cost_pb2.DeleteBudgetRequest(id=budget_id)
        assert await _code(stub.DeleteBudget(delete, metadata=GLOBEX, timeout=10)) is (
            grpc.StatusCode.NOT_FOUND
        )
        mine = await stub.GetBudget(get, metadata=ACME, timeout=10)
        assert mine.status.spent.amount_micros == acme_spend.total_cost.amount_micros


async def test_monitors_are_invisible_to_another_tenant(suite: Suite) -> None:
    async with suite.channel("drift") as channel:
        stub = drift_pb2_grpc.DriftServiceStub(channel)
        await stub.Observe(
            drift_pb2.ObserveRequest(monitor_id="acme-support", texts=["hello", "refund please"]),
            metadata=ACME,
            timeout=60,
        )
        get = drift_pb2.GetMonitorRequest(monitor_id="acme-support")
        assert (await stub.GetMonitor(get, metadata=ACME, timeout=10)).monitor.window_size == 2
        theirs = await stub.ListMonitors(
            drift_pb2.ListMonitorsRequest(), metadata=GLOBEX, timeout=10
        )
        assert "acme-support" not in {m.monitor_id for m in theirs.monitors}
        assert await _code(stub.GetMonitor(get, metadata=GLOBEX, timeout=10)) is (
            grpc.StatusCode.NOT_FOUND
        )
        delete = drift_pb2.DeleteMonitorRequest(monitor_id="acme-support")
        assert await _code(stub.DeleteMonitor(delete, metadata=GLOBEX, timeout=10)) is (
            grpc.StatusCode.NOT_FOUND
        )
        assert (await stub.GetMonitor(get, metadata=ACME, timeout=10)).monitor.window_size == 2


def _experiment(description: str) -> experiment_pb2.Experiment:
    return experiment_pb2.Experiment(
        id="tone",
        description=description,
        variants=[
            experiment_pb2.Variant(name="control", prompt_template="answer:v1", weight=1),
            experiment_pb2.Variant(name="friendly", prompt_template="answer:v2", weight=1),
        ],
        status=experiment_pb2.EXPERIMENT_STATUS_RUNNING,
        primary_metric=experiment_pb2.MetricSpec(
            name="thumbs_up", kind=experiment_pb2.METRIC_KIND_PROPORTION, higher_is_better=True
        ),
    )


async def test_experiments_are_invisible_to_another_tenant(suite: Suite) -> None:
    async with suite.channel("experiment") as channel:
        stub = experiment_pb2_grpc.ExperimentServiceStub(channel)
        create = experiment_pb2.CreateExperimentRequest(experiment=_experiment("acme's"))
        await stub.CreateExperiment(create, metadata=ACME, timeout=10)

        get = experiment_pb2.GetExperimentRequest(id="tone")
        theirs = await stub.ListExperiments(
            experiment_pb2.ListExperimentsRequest(), metadata=GLOBEX, timeout=10
        )
        assert "tone" not in {e.id for e in theirs.experiments}
        assert await _code(stub.GetExperiment(get, metadata=GLOBEX, timeout=10)) is (
            grpc.StatusCode.NOT_FOUND
        )
        assign = experiment_pb2.AssignRequest(experiment_id="tone", user_id="u1")
        assert await _code(stub.Assign(assign, metadata=GLOBEX, timeout=10)) is (
            grpc.StatusCode.NOT_FOUND
        )
        # Ids are per tenant: the other tenant may use the same one without a conflict.
        other = experiment_pb2.CreateExperimentRequest(experiment=_experiment("globex's"))
        await stub.CreateExperiment(other, metadata=GLOBEX, timeout=10)
        mine = await stub.GetExperiment(get, metadata=ACME, timeout=10)
        assert mine.experiment.description == "acme's"


async def test_pseudonyms_are_stable_within_a_tenant_and_differ_across_tenants(
    suite: Suite,
) -> None:
    text = "Please write to jane.doe@example.com about the refund."
    async with suite.channel("guardrail") as channel:
        stub = guardrail_pb2_grpc.GuardrailServiceStub(channel)
        check = guardrail_pb2.CheckOutputRequest(text=text, policy="strict")
        acme_first = await stub.CheckOutput(check, metadata=ACME, timeout=10)
        acme_again = await stub.CheckOutput(check, metadata=ACME, timeout=10)
        globex = await stub.CheckOutput(check, metadata=GLOBEX, timeout=10)
    assert acme_first.action == guardrail_pb2.GUARD_ACTION_REDACT
    assert "jane.doe@example.com" not in acme_first.safe_text
    assert acme_first.safe_text == acme_again.safe_text
    assert globex.safe_text != acme_first.safe_text


# ------------------------------------------------------- calls between services


async def test_a_service_key_acts_only_for_the_tenant_it_names(suite: Suite) -> None:
    service = (("x-api-key", SERVICE_KEY),)
    async with suite.channel("experiment") as channel:
        stub = experiment_pb2_grpc.ExperimentServiceStub(channel)
        create = experiment_pb2.CreateExperimentRequest(experiment=_experiment("initech's"))
        await stub.CreateExperiment(create, metadata=INITECH, timeout=10)
        get = experiment_pb2.GetExperimentRequest(id="tone")
        as_initech = await stub.GetExperiment(
            get, metadata=(*service, ("x-llmops-tenant", "initech")), timeout=10
        )
        assert as_initech.experiment.description == "initech's"
        assert await _code(stub.GetExperiment(get, metadata=service, timeout=10)) is (
            grpc.StatusCode.INVALID_ARGUMENT
        )


async def test_logsink_forwards_to_a_secured_cost_with_its_certificate_and_service_key(
    suite: Suite, tmp_path: Path
) -> None:
    settings = LogSinkSettings(
        **suite.secured,
        database_url=f"sqlite:///{tmp_path / 'forwarding.db'}",
        pseudonym_secret=PSEUDONYM_SECRET,
        cost_address=f"localhost:{suite.ports['cost']}",
        tls_ca_file=suite.pki.files["ca"],
        internal_api_key=SERVICE_KEY,
        forward_interval_seconds=0.1,
    )
    async with (
        running_server(LOGSINK, settings) as built,
        grpc.aio.secure_channel(
            f"localhost:{built.port}", suite.pki.client_credentials()
        ) as logsink_channel,
        suite.channel("cost") as cost_channel,
    ):
        sink = logsink_pb2_grpc.LogSinkServiceStub(logsink_channel)
        request = logsink_pb2.WriteRecordsRequest(records=[_record(str(uuid.uuid4()), "")])
        assert (await sink.WriteRecords(iter([request]), metadata=INITECH, timeout=10)).stored == 1
        cost = cost_pb2_grpc.CostServiceStub(cost_channel)
        spend = cost_pb2.QuerySpendRequest()
        deadline = asyncio.get_running_loop().time() + 30
        while not (await cost.QuerySpend(spend, metadata=INITECH, timeout=10)).rows:
            assert asyncio.get_running_loop().time() < deadline, "never forwarded to Cost"
            await asyncio.sleep(0.1)
