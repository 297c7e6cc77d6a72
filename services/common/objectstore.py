"""Blob storage for raw texts: a local folder by default, MinIO / any S3 at scale.

The methods are blocking (file and HTTP I/O); asyncio code calls them through
``asyncio.to_thread`` so the event loop keeps serving. Keys are ``/``-separated
relative paths (``<tenant>/records/<id>.json``); a key never escapes the store.
A missing key raises :class:`~services.common.errors.NotFound`.
"""

from __future__ import annotations

import os
import tempfile
from io import BytesIO
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from minio import Minio
from minio.error import S3Error

from services.common.errors import InvalidArgument, NotFound
from services.common.settings import CommonSettings, SettingsError

_TEMP_PREFIX = ".tmp-"


class ObjectStore(Protocol):
    """What services need from blob storage."""

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` durably and atomically (readers see old or new)."""

    def get(self, key: str) -> bytes:
        """The bytes under ``key``."""

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        """``length`` bytes of ``key`` starting at ``offset`` (fewer at the end)."""

    def delete(self, key: str) -> None:
        """Remove ``key``; deleting a missing key is not an error."""

    def list(self, prefix: str = "") -> list[str]:
        """Sorted keys starting with ``prefix``."""

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""


def validate_key(key: str) -> str:
    """Reject keys that are empty, absolute, or walk out of the store."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise InvalidArgument("key", f"invalid object key {key!r}")
    if parts[-1].startswith(_TEMP_PREFIX):
        raise InvalidArgument("key", f"object names may not start with {_TEMP_PREFIX!r}")
    return key


class LocalObjectStore:
    """Objects as files under ``root``; writes are atomic and survive power loss."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        # The rename is durable only once the directory entry itself is on disk.
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"object {key!r} not found") from None

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        try:
            with self._path(key).open("rb") as file:
                file.seek(offset)
                return file.read(length)
        except FileNotFoundError:
            raise NotFound(f"object {key!r} not found") from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list(self, prefix: str = "") -> list[str]:
        keys = (
            path.relative_to(self.root).as_posix()
            for path in self.root.rglob("*")
            if path.is_file() and not path.name.startswith(_TEMP_PREFIX)
        )
        return sorted(key for key in keys if key.startswith(prefix))

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class S3ObjectStore:
    """Objects in one bucket (optionally under a prefix) of MinIO or any S3 service."""

    def __init__(self, client: Minio, bucket: str, prefix: str = "") -> None:
        self._client = client
        self._bucket = bucket
        self._prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        if not client.bucket_exists(bucket):
            try:
                client.make_bucket(bucket)
            except S3Error as exc:
                # Another replica created it between our check and our create.
                if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise

    def _name(self, key: str) -> str:
        return self._prefix + validate_key(key)

    def put(self, key: str, data: bytes) -> None:
        # S3 PUTs are atomic: the object is replaced whole or not at all.
        self._client.put_object(self._bucket, self._name(key), BytesIO(data), len(data))

    def get(self, key: str) -> bytes:
        return self._read(key, offset=0, length=0)

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        if length <= 0:
            return b""
        return self._read(key, offset=offset, length=length)

    def _read(self, key: str, offset: int, length: int) -> bytes:
        try:
            response = self._client.get_object(
                self._bucket, self._name(key), offset=offset, length=length
            )
        except S3Error as exc:
            if exc.code == "NoSuchKey":
                raise NotFound(f"object {key!r} not found") from None
            if exc.code == "InvalidRange":
                # Offset past the end: read nothing, as a file read there would.
                return b""
            raise
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def delete(self, key: str) -> None:
        self._client.remove_object(self._bucket, self._name(key))

    def list(self, prefix: str = "") -> list[str]:
        objects = self._client.list_objects(
            self._bucket, prefix=self._prefix + prefix, recursive=True
        )
        return sorted(
            obj.object_name[len(self._prefix) :] for obj in objects if obj.object_name is not None
        )

    def exists(self, key: str) -> bool:
        try:
            self._client.stat_object(self._bucket, self._name(key))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "NotFound"):
                return False
            raise
        return True


def open_object_store(settings: CommonSettings) -> ObjectStore:
    """The store ``LLMOPS_OBJECT_STORE`` names: ``file:<folder>`` or ``s3://bucket[/prefix]``."""
    location = settings.object_store
    if location.startswith("file:"):
        path = location.removeprefix("file:")
        if path.startswith("//"):
            path = urlparse(location).path
        return LocalObjectStore(Path(path))
    if location.startswith("s3://"):
        parsed = urlparse(location)
        if not parsed.netloc:
            raise SettingsError(f"LLMOPS_OBJECT_STORE={location!r} names no bucket")
        if not settings.s3_endpoint:
            raise SettingsError("LLMOPS_S3_ENDPOINT is required for an s3:// object store")
        client = Minio(
            settings.s3_endpoint,
            access_key=settings.s3_access_key or None,
            secret_key=settings.s3_secret_key or None,
            secure=settings.s3_secure,
            region=settings.s3_region,
        )
        return S3ObjectStore(client, parsed.netloc, parsed.path)
    raise SettingsError(
        f"Invalid value for environment variable LLMOPS_OBJECT_STORE: {location!r} "
        "is neither file:<folder> nor s3://<bucket>"
    )
