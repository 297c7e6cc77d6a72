"""DriftStore on real databases (SQLite, PostgreSQL) and object stores (folder, S3)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from services.common.db import create_engine
from services.common.embeddings import EMBEDDING_DIM
from services.common.objectstore import LocalObjectStore, ObjectStore, S3ObjectStore
from services.drift.stats import Calibration
from services.drift.store import Appended, Baseline, DriftStore
from tests.conftest import S3Server


@pytest.fixture
def object_store(database_url: str, tmp_path: Path, s3_server: S3Server) -> ObjectStore:
    """SQLite with a local folder, PostgreSQL with S3: both of each, in half the runs."""
    if database_url.startswith("sqlite"):
        return LocalObjectStore(tmp_path / "objects")
    return S3ObjectStore(s3_server.client(), f"drift-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def store(database_url: str, object_store: ObjectStore) -> Iterator[DriftStore]:
    engine = create_engine(database_url)
    drift_store = DriftStore(engine, object_store)
    drift_store.migrate()
    yield drift_store
    engine.dispose()


def _vectors(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, EMBEDDING_DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_window_is_a_ring_keeping_the_newest_texts(store: DriftStore) -> None:
    vectors = _vectors(12, 1)
    texts = [f"text {i}" for i in range(12)]
    assert store.append_window("acme", "m", texts[:5], vectors[:5], capacity=8) == Appended(5, 5)
    assert store.append_window("acme", "m", texts[5:], vectors[5:], capacity=8) == Appended(7, 8)
    loaded_texts, loaded = store.load_window("acme", "m", capacity=8)
    assert loaded_texts == texts[4:]
    np.testing.assert_array_equal(loaded, vectors[4:])


def test_a_request_id_already_in_the_window_is_not_added_again(store: DriftStore) -> None:
    vectors = _vectors(4, 10)
    ids = ["r0", "r1", None, None]
    texts = ["t0", "t1", "no id", "no id either"]
    assert store.append_window("acme", "m", texts, vectors, 8, ids) == Appended(4, 4)
    # The same ids again (a race the engine's lookup missed): only the id-less texts land.
    assert store.append_window("acme", "m", texts, vectors, 8, ids) == Appended(2, 6)
    assert store.observed_request_ids("acme", "m", ["r0", "r1", "r9"]) == {"r0", "r1"}
    # Ids are per tenant and monitor.
    assert store.append_window("acme", "other", texts[:1], vectors[:1], 8, ["r0"]).added == 1
    assert store.append_window("globex", "m", texts[:1], vectors[:1], 8, ["r0"]).added == 1
    assert store.observed_request_ids("globex", "m", ["r1"]) == set()


def test_a_trimmed_text_forgets_its_request_id(store: DriftStore) -> None:
    vectors = _vectors(6, 11)
    ids = [f"r{i}" for i in range(6)]
    texts = [f"text {i}" for i in range(6)]
    store.append_window("acme", "m", texts[:3], vectors[:3], 3, ids[:3])
    assert store.append_window("acme", "m", texts[3:], vectors[3:], 3, ids[3:]) == Appended(3, 3)
    assert store.observed_request_ids("acme", "m", ids) == {"r3", "r4", "r5"}
    assert store.load_window("acme", "m", 3)[0] == texts[3:]


def test_a_text_with_a_nul_character_is_kept_with_a_replacement(store: DriftStore) -> None:
    # PostgreSQL text cannot hold NUL; a forwarded response with one used to fail the
    # whole append, which LogSink then retried forever.
    vectors = _vectors(2, 12)
    appended = store.append_window("acme", "m", ["a\x00b", "fine"], vectors, 8, ["r0", "r1"])
    assert appended == Appended(2, 2)
    assert store.load_window("acme", "m", 8)[0] == ["a\ufffdb", "fine"]


def test_observing_nothing_still_creates_the_monitor(store: DriftStore) -> None:
    appended = store.append_window("acme", "m", [], np.zeros((0, EMBEDDING_DIM)), capacity=8)
    assert appended == Appended(0, 0)
    row = store.get_monitor("acme", "m")
    assert row is not None
    assert row.window_size == 0
    assert row.baseline is None


def test_baseline_round_trips_and_replacing_it_deletes_the_old_objects(
    store: DriftStore, object_store: ObjectStore
) -> None:
    first = Baseline("a" * 32, _vectors(20, 2), [f"b{i}" for i in range(20)])
    store.set_baseline("acme", "gpt/answer@v1", first, Calibration(2.5, 0.7))
    row = store.get_monitor("acme", "gpt/answer@v1")
    assert row is not None
    assert row.baseline is not None
    assert row.baseline.size == 20
    assert row.baseline.calibration == Calibration(2.5, 0.7)
    assert row.baseline.time.tzinfo is not None
    loaded = store.load_baseline("acme", "gpt/answer@v1", "a" * 32)
    np.testing.assert_array_equal(loaded.embeddings, first.embeddings)
    assert loaded.texts == first.texts

    second = Baseline("b" * 32, _vectors(30, 3), [f"c{i}" for i in range(30)])
    store.set_baseline("acme", "gpt/answer@v1", second, Calibration(3.0, 0.8))
    keys = object_store.list("acme/drift/")
    assert len(keys) == 2
    assert all("b" * 32 in key for key in keys)


def test_last_check_is_kept_until_a_new_baseline(store: DriftStore) -> None:
    store.set_baseline(
        "acme", "m", Baseline("a" * 32, _vectors(4, 4), list("abcd")), Calibration(1, 1)
    )
    store.save_last_check("acme", "m", {"drifted": True})
    row = store.get_monitor("acme", "m")
    assert row is not None
    assert row.last_check == {"drifted": True}
    store.set_baseline(
        "acme", "m", Baseline("b" * 32, _vectors(4, 5), list("abcd")), Calibration(1, 1)
    )
    row = store.get_monitor("acme", "m")
    assert row is not None
    assert row.last_check is None


def test_tenants_never_see_each_other(store: DriftStore) -> None:
    store.append_window("acme", "shared-name", ["acme text"], _vectors(1, 6), capacity=8)
    store.append_window("globex", "shared-name", ["globex text"], _vectors(1, 7), capacity=8)
    assert store.load_window("acme", "shared-name", 8)[0] == ["acme text"]
    assert [m.monitor_id for m in store.list_monitors("globex", "", 10)] == ["shared-name"]
    assert store.get_monitor("initech", "shared-name") is None
    assert store.delete_monitor("acme", "shared-name")
    assert store.load_window("globex", "shared-name", 8)[0] == ["globex text"]


def test_list_pages_by_id_and_delete_removes_everything(
    store: DriftStore, object_store: ObjectStore
) -> None:
    for name in ["c", "a", "b"]:
        store.append_window("acme", name, [name], _vectors(1, 8), capacity=8)
    store.set_baseline(
        "acme", "a", Baseline("a" * 32, _vectors(4, 9), list("wxyz")), Calibration(1, 1)
    )
    first = store.list_monitors("acme", "", 2)
    assert [m.monitor_id for m in first] == ["a", "b"]
    assert first[0].window_size == 1
    assert [m.monitor_id for m in store.list_monitors("acme", "b", 2)] == ["c"]
    assert store.delete_monitor("acme", "a")
    assert not store.delete_monitor("acme", "a")
    assert store.get_monitor("acme", "a") is None
    assert object_store.list("acme/drift/") == []
