"""The public API stays lint-clean and wire-compatible with the committed baseline.

``api/llmops-v1.image.json`` is the buf image of ``protos/`` as last released. Clients
in other languages are generated from these files, so a change that breaks them
(a removed or renumbered field, a changed type, a renamed RPC) must fail here, not in
a user's build. Additions pass. After a deliberate, announced change, refresh the
baseline with ``make api-baseline``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUF = str(Path(sys.executable).with_name("buf"))
BASELINE = ROOT / "api" / "llmops-v1.image.json"


def buf(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BUF, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_protos_pass_buf_lint() -> None:
    result = buf("lint")
    assert result.returncode == 0, result.stdout + result.stderr


def test_protos_are_wire_compatible_with_the_baseline() -> None:
    result = buf("breaking", "--against", str(BASELINE))
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_removed_field_is_caught_as_breaking(tmp_path: Path) -> None:
    shutil.copy(ROOT / "buf.yaml", tmp_path / "buf.yaml")
    shutil.copytree(ROOT / "protos", tmp_path / "protos")
    common = tmp_path / "protos" / "llmops" / "v1" / "common.proto"
    text = common.read_text()
    assert "  string currency_code = 1;\n" in text
    common.write_text(text.replace("  string currency_code = 1;\n", "", 1))
    result = buf("breaking", "--against", str(BASELINE), cwd=tmp_path)
    assert result.returncode != 0
    assert "currency_code" in result.stdout + result.stderr
