"""Both object-store backends behave alike against real storage."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common.errors import InvalidArgument, NotFound
from services.common.objectstore import LocalObjectStore, ObjectStore, open_object_store
from services.common.settings import CommonSettings, SettingsError
from tests.conftest import S3Server


def test_put_then_get_round_trips(object_store: ObjectStore) -> None:
    object_store.put("acme/records/1.json", b'{"a": 1}')
    assert object_store.get("acme/records/1.json") == b'{"a": 1}'
    assert object_store.exists("acme/records/1.json")


def test_put_replaces_whole_object(object_store: ObjectStore) -> None:
    object_store.put("k", b"first version, long")
    object_store.put("k", b"second")
    assert object_store.get("k") == b"second"


def test_get_range_reads_a_slice(object_store: ObjectStore) -> None:
    object_store.put("k", b"0123456789")
    assert object_store.get_range("k", 2, 3) == b"234"
    assert object_store.get_range("k", 8, 10) == b"89"
    assert object_store.get_range("k", 20, 5) == b""


def test_missing_key_is_not_found(object_store: ObjectStore) -> None:
    with pytest.raises(NotFound):
        object_store.get("nope")
    with pytest.raises(NotFound):
        object_store.get_range("nope", 0, 1)
    assert not object_store.exists("nope")


def test_delete_removes_and_is_idempotent(object_store: ObjectStore) -> None:
    object_store.put("k", b"x")
    object_store.delete("k")
    object_store.delete("k")
    assert not object_store.exists("k")


def test_list_filters_by_prefix_sorted(object_store: ObjectStore) -> None:
    for key in ("b/2", "a/1", "b/1", "c"):
        object_store.put(key, b"x")
    assert object_store.list("b/") == ["b/1", "b/2"]
    assert object_store.list() == ["a/1", "b/1", "b/2", "c"]


@pytest.mark.parametrize("key", ["", "/abs", "../escape", "a/../b", "a//b", "a/.tmp-x"])
def test_unsafe_keys_are_rejected(object_store: ObjectStore, key: str) -> None:
    with pytest.raises(InvalidArgument):
        object_store.put(key, b"x")


def test_local_put_leaves_no_temp_files(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    store.put("a/b", b"x")
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["b"]


def test_open_object_store_from_settings(tmp_path: Path, s3_server: S3Server) -> None:
    local = open_object_store(CommonSettings(object_store=f"file:{tmp_path}/objs"))
    local.put("k", b"x")
    assert (tmp_path / "objs" / "k").read_bytes() == b"x"
    s3 = open_object_store(
        CommonSettings(
            object_store="s3://settings-bucket/prefix",
            s3_endpoint=s3_server.endpoint,
            s3_access_key=s3_server.access_key,
            s3_secret_key=s3_server.secret_key,
            s3_region=s3_server.region,
        )
    )
    s3.put("k", b"y")
    assert s3.list() == ["k"]
    assert s3_server.client().get_object("settings-bucket", "prefix/k").read() == b"y"


def test_s3_store_needs_an_endpoint() -> None:
    with pytest.raises(SettingsError, match="LLMOPS_S3_ENDPOINT"):
        open_object_store(CommonSettings(object_store="s3://bucket"))
