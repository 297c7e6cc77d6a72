"""Fixtures shared by the in-process service tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.certs import write_pki


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, bytes]:
    return write_pki(tmp_path)
