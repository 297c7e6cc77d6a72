"""A service whose PostgreSQL goes away answers UNAVAILABLE, which clients retry, not
INTERNAL, and serves again once the database is back, without a restart.

The shared PostgreSQL server cannot be stopped under other tests, so each service
reaches it through a TCP proxy on loopback that the test cuts (see
test_database_outage.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from llmops.v1 import (
    cost_pb2,
    cost_pb2_grpc,
    drift_pb2,
    drift_pb2_grpc,
    experiment_pb2,
    experiment_pb2_grpc,
    logsink_pb2,
    logsink_pb2_grpc,
)

from services.common.server import ServiceSpec, running_server
from services.cost.servicer import SPEC as COST
from services.cost.settings import CostSettings
from services.drift.servicer import SPEC as DRIFT
from services.drift.settings import DriftSettings
from services.experiment.servicer import SPEC as EXPERIMENT
from services.experiment.settings import ExperimentSettings
from services.logsink.servicer import SPEC as LOGSINK
from services.logsink.settings import LogSinkSettings
from tests.faults.support import TcpProxy, proxied_url

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]

Call = Callable[[grpc.aio.Channel], Awaitable[Any]]


def _cost(url: str, tmp_path: Path) -> tuple[ServiceSpec[Any], Any, Call]:
    settings = CostSettings(
        database_url=url, tiktoken_cache_dir=tmp_path / "tiktoken", budget_refresh_seconds=0
    )
    stub = cost_pb2_grpc.CostServiceStub
    # Budgets are cached; a spend query always reads the ledger.
    return COST, settings, lambda ch: stub(ch).QuerySpend(cost_pb2.QuerySpendRequest())


def _experiment(url: str, tmp_path: Path) -> tuple[ServiceSpec[Any], Any, Call]:
    stub = experiment_pb2_grpc.ExperimentServiceStub
    return (
        EXPERIMENT,
        ExperimentSettings(database_url=url),
        lambda ch: stub(ch).ListExperiments(experiment_pb2.ListExperimentsRequest()),
    )


def _drift(url: str, tmp_path: Path) -> tuple[ServiceSpec[Any], Any, Call]:
    stub = drift_pb2_grpc.DriftServiceStub
    return (
        DRIFT,
        DriftSettings(database_url=url),
        lambda ch: stub(ch).ListMonitors(drift_pb2.ListMonitorsRequest()),
    )


def _logsink(url: str, tmp_path: Path) -> tuple[ServiceSpec[Any], Any, Call]:
    settings = LogSinkSettings(
        database_url=url, object_store=f"file:{tmp_path / 'objects'}", text_mode="full"
    )
    stub = logsink_pb2_grpc.LogSinkServiceStub
    return LOGSINK, settings, lambda ch: stub(ch).ListRecords(logsink_pb2.ListRecordsRequest())


SERVICES = {"cost": _cost, "experiment": _experiment, "drift": _drift, "logsink": _logsink}


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_a_lost_database_is_unavailable_not_internal(
    service: str, database: str, proxy: TcpProxy, tmp_path: Path
) -> None:
    spec, settings, call = SERVICES[service](proxied_url(proxy, database), tmp_path)
    async with (
        running_server(spec, settings) as built,
        grpc.aio.insecure_channel(f"127.0.0.1:{built.port}") as channel,
    ):
        await call(channel)
        proxy.cut()
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await call(channel)
        assert failure.value.code() is grpc.StatusCode.UNAVAILABLE, failure.value.details()
        proxy.restore()
        await call(channel)
