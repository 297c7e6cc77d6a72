"""deploy/Dockerfile and .dockerignore: what an image build needs, checked without Docker.

No Docker engine runs here, so the build itself happens elsewhere; these checks
catch what would break it or weaken the image: a source the context leaves out,
an unpinned base, root at run time, a CUDA torch, a model download at start-up.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "deploy" / "Dockerfile"


@pytest.fixture(scope="module")
def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def _in_build_context(path: str) -> bool:
    """Docker's rule: the last .dockerignore pattern matching a path decides."""
    included = True
    for pattern in (REPO / ".dockerignore").read_text().splitlines():
        pattern = pattern.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path, pattern) or path.startswith(f"{pattern}/"):
            included = negated
    return included


def test_build_is_multi_stage_from_a_pinned_slim_python(
    instructions: list[tuple[str, str]],
) -> None:
    args = dict(a.split("=", 1) for k, a in instructions if k == "ARG" and "=" in a)
    stages = [a for k, a in instructions if k == "FROM"]
    assert len(stages) >= 2
    for stage in stages:
        image = stage.split()[0]
        image = args.get(image.strip("${}"), image)
        assert ":" in image or "@sha256:" in image, image
        assert not image.endswith(":latest"), image
        assert image.startswith("python:3.11-slim"), image


def test_every_copied_source_exists_and_is_in_the_build_context(
    instructions: list[tuple[str, str]],
) -> None:
    copies = [a for k, a in instructions if k == "COPY" and "--from=" not in a]
    assert copies
    for arguments in copies:
        sources = [part for part in arguments.split() if not part.startswith("--")][:-1]
        for source in sources:
            assert (REPO / source).exists(), source
            assert _in_build_context(source), f"{source} is excluded by .dockerignore"


def test_context_leaves_out_local_state_and_caches() -> None:
    for path in (".venv", "data", ".git", "tests", "services/cost/__pycache__"):
        assert not _in_build_context(path), path


def test_torch_is_the_cpu_build_installed_before_the_lock(
    instructions: list[tuple[str, str]],
) -> None:
    runs = [a for k, a in instructions if k == "RUN"]
    torch = next(i for i, run in enumerate(runs) if "torch==" in run)
    lock = next(i for i, run in enumerate(runs) if "requirements.lock" in run)
    assert torch < lock
    assert "--index-url https://download.pytorch.org/whl/cpu" in runs[torch]
    pinned = re.search(r"torch==([\d.]+)", runs[torch])
    assert pinned is not None
    assert pinned[1] in (REPO / "Makefile").read_text()


def test_runtime_is_non_root_offline_and_listens_outside(
    instructions: list[tuple[str, str]],
) -> None:
    last_stage = max(i for i, (k, _) in enumerate(instructions) if k == "FROM")
    runtime = instructions[last_stage:]
    users = [a for k, a in runtime if k == "USER"]
    assert users
    assert users[-1].split(":")[0] not in ("0", "root")
    env = " ".join(a for k, a in runtime if k == "ENV")
    for setting in ("HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1", "LLMOPS_HOST=0.0.0.0"):
        assert setting in env, setting
    # Caches go to /tmp, the one writable mount under a read-only root (deploy/k8s).
    for variable in ("HOME", "XDG_CACHE_HOME", "HF_HOME"):
        assert re.search(rf"\b{variable}=/tmp\b", env), variable
