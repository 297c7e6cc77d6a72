"""Keyed pseudonyms: stable within a tenant, unrelated across tenants, never a bare hash.

A tenant's key is ``HMAC-SHA256(secret, tenant)``; a value's token is
``<TYPE_hex>`` where hex is the first :data:`TOKEN_HEX_CHARS` hex digits of
``HMAC-SHA256(tenant key, normalised value)``. Without the secret nobody can test a
guess ("is this alice@example.com?") against a token, which an unsalted hash allows.

GuardrailService and LogSink must use the same secret so that a pseudonym in a stored
record matches the one the application saw; :func:`load_or_create_secret` is the one
place both read it from.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

TOKEN_HEX_CHARS = 8
SECRET_BYTES = 32
DEFAULT_SECRET_FILE = Path("./data/pseudonym.key")


def parse_secret(value: str) -> bytes:
    """A configured secret: hex if it is valid hex of at least 16 bytes, else its UTF-8 bytes."""
    stripped = value.strip()
    if len(stripped) >= 32 and len(stripped) % 2 == 0:
        try:
            return bytes.fromhex(stripped)
        except ValueError:
            pass
    if len(stripped.encode()) < 16:
        raise ValueError("the pseudonym secret must be at least 16 bytes long")
    return stripped.encode()


def load_or_create_secret(configured: str, path: Path = DEFAULT_SECRET_FILE) -> bytes:
    """The configured secret, else the one kept in ``path`` (created once, mode 0600).

    Creating the file with O_EXCL means two services starting at the same moment
    cannot both write a different key: the loser reads the winner's.
    """
    if configured:
        return parse_secret(configured)
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(SECRET_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return bytes.fromhex(path.read_text().strip())
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex() + "\n")
    return key


class Pseudonymizer:
    """Turns (tenant, entity type, value) into a keyed token like ``<EMAIL_1f3a9c0d>``."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the pseudonym secret must be at least 16 bytes long")
        self._secret = secret
        self._tenant_keys: dict[str, bytes] = {}

    def tenant_key(self, tenant: str) -> bytes:
        """HMAC(secret, tenant), cached: tenants are few and the key is used per finding."""
        key = self._tenant_keys.get(tenant)
        if key is None:
            key = hmac.new(self._secret, tenant.encode(), hashlib.sha256).digest()
            self._tenant_keys[tenant] = key
        return key

    def token(self, tenant: str, entity_type: str, normalised_value: str) -> str:
        """The pseudonym of a value; callers normalise it so formatting variants agree."""
        digest = hmac.new(
            self.tenant_key(tenant), normalised_value.encode(), hashlib.sha256
        ).hexdigest()
        return f"<{entity_type}_{digest[:TOKEN_HEX_CHARS]}>"
