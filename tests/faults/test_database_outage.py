"""PostgreSQL goes away for 20 s while a client ships records to a real LogSink process.

The shared PostgreSQL server cannot be stopped under other tests, so LogSink reaches
it through a TCP proxy on loopback that the test cuts: open connections are reset
and new ones are closed at once, as when the server stops. The client is the real
llmops shipper with its disk spool. Afterwards every record is stored exactly once,
the shipper dropped nothing, and LogSink is SERVING again without a restart.
"""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest

from tests.conftest import POSTGRES_ADMIN_URL
from tests.faults.support import TcpProxy, logsink_process, proxied_url, ship

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(300)]

OUTAGE_SECONDS = 20
RECORDS_PER_PHASE = 300


def test_every_record_survives_a_database_outage_exactly_once(
    tmp_path: Path, database: str, proxy: TcpProxy
) -> None:
    environment = {
        "LLMOPS_DATABASE_URL": proxied_url(proxy, database),
        "LLMOPS_OBJECT_STORE": f"file:{tmp_path / 'objects'}",
    }
    with logsink_process(tmp_path, environment) as logsink:
        shipper = logsink.shipper(tmp_path / "spool")
        sent: list[str] = []
        try:
            ship(shipper, sent, RECORDS_PER_PHASE, seconds=2)
            proxy.cut()
            outage_end = time.monotonic() + OUTAGE_SECONDS
            ship(shipper, sent, RECORDS_PER_PHASE, seconds=OUTAGE_SECONDS / 2)
            time.sleep(max(0.0, outage_end - time.monotonic()))
            proxy.restore()
            ship(shipper, sent, RECORDS_PER_PHASE, seconds=2)
            assert shipper.flush(timeout=90), f"not delivered: {shipper.stats}"
        finally:
            shipper.close(timeout=5)

        stats = shipper.stats
        assert (stats.dropped, stats.rejected) == (0, 0), stats
        assert stats.stored + stats.duplicates == len(sent), stats
        assert logsink.serving(), "LogSink did not recover without a restart"

    with psycopg.connect(POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}") as conn:
        stored, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT request_id) FROM logsink_records"
            " WHERE request_id = ANY(%s)",
            (sent,),
        ).fetchone() or (0, 0)
    assert (stored, distinct) == (len(sent), len(sent))
