"""What the deployment tests compare the manifests with: the services as the code declares them."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from pathlib import Path

import pytest

from services.common.settings import CommonSettings, env_name

REPO = Path(__file__).resolve().parents[2]


def _settings_class(service: str) -> type[CommonSettings]:
    """The one CommonSettings subclass a service declares in its settings module."""
    module = importlib.import_module(f"services.{service}.settings")
    classes = [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, CommonSettings)
        and cls is not CommonSettings
        and cls.__module__ == module.__name__
    ]
    assert len(classes) == 1, f"services/{service}/settings.py declares {classes}"
    return classes[0]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def settings_classes() -> dict[str, type[CommonSettings]]:
    """Every runnable service (a folder under services/ with ``__main__``) and its settings."""
    names = sorted(p.parent.name for p in (REPO / "services").glob("*/__main__.py"))
    assert names, "no services found under services/"
    return {name: _settings_class(name) for name in names}


@pytest.fixture(scope="session")
def settings_env_names(
    settings_classes: dict[str, type[CommonSettings]],
) -> dict[str, set[str]]:
    """The LLMOPS_* variables each service reads."""
    return {
        name: {env_name(field) for field in dataclasses.fields(cls)}
        for name, cls in settings_classes.items()
    }
