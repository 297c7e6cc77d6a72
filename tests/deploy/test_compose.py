"""docker-compose.yml is valid Compose and names only what the code really has.

No Docker engine runs here, so the file is checked offline: against the Compose
Specification JSON schema (vendored in tests/data/compose-spec.json, taken from the
check-jsonschema 0.39.0 wheel, Apache-2.0, licence beside it), and against the code:
command modules, ``LLMOPS_*`` variables, ports, health checks, volumes, scrape targets.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from llmops.v1 import cost_pb2, drift_pb2, experiment_pb2, guardrail_pb2, logsink_pb2

from services.common.settings import CommonSettings, env_name, load_settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
SCHEMA_FILE = REPO / "tests" / "data" / "compose-spec.json"
PROTO_SERVICES = {
    service.full_name
    for module in (cost_pb2, drift_pb2, experiment_pb2, guardrail_pb2, logsink_pb2)
    for service in module.DESCRIPTOR.services_by_name.values()
}
_INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::?-(?P<default>[^}]*))?\}")


@dataclass(frozen=True)
class LlmopsContainer:
    """A compose service that runs one of the llmops service modules."""

    name: str
    service: str
    """The llmops service it runs, e.g. ``guardrail`` for ``python -m services.guardrail``."""
    spec: dict[str, Any]
    environment: dict[str, str]


def interpolate(value: Any) -> str:
    """A compose value with ``${VAR:-default}`` resolved as compose does when VAR is unset."""
    text = str(value).replace("$$", "\0")
    text = _INTERPOLATION.sub(lambda m: m["default"] or "", text)
    return text.replace("\0", "$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def containers(compose: dict[str, Any]) -> list[LlmopsContainer]:
    found = []
    for name, spec in compose["services"].items():
        command = spec.get("command") or []
        if command[:2] == ["python", "-m"] and command[2].startswith("services."):
            env = spec.get("environment") or {}
            if isinstance(env, list):
                env = dict(item.split("=", 1) for item in env)
            environment = {key: interpolate(value) for key, value in env.items()}
            found.append(
                LlmopsContainer(name, command[2].removeprefix("services."), spec, environment)
            )
    assert found, "docker-compose.yml runs no llmops service"
    return found


@pytest.fixture(scope="module")
def settings_by_container(
    containers: list[LlmopsContainer], settings_classes: dict[str, type[CommonSettings]]
) -> dict[str, CommonSettings]:
    """Each container's settings, parsed from its compose environment as the process would."""
    return {c.name: load_settings(settings_classes[c.service], c.environment) for c in containers}


def _container_ports(spec: dict[str, Any]) -> set[int]:
    ports = set()
    for entry in spec.get("ports", []):
        target = entry["target"] if isinstance(entry, dict) else str(entry).rsplit(":", 1)[-1]
        ports.add(int(str(target).split("/")[0]))
    return ports


def test_compose_file_validates_against_the_compose_specification(
    compose: dict[str, Any],
) -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator(schema).validate(compose)


def test_schema_rejects_a_misspelt_service_key() -> None:
    """Guards the test above: the vendored schema really is strict about unknown keys."""
    schema = json.loads(SCHEMA_FILE.read_text())
    broken = {"services": {"guardrail": {"image": "llmops", "comand": ["python"]}}}
    with pytest.raises(jsonschema.ValidationError, match="comand"):
        jsonschema.Draft202012Validator(schema).validate(broken)


def test_every_service_of_the_code_runs_in_exactly_one_container(
    containers: list[LlmopsContainer], settings_classes: dict[str, type[CommonSettings]]
) -> None:
    assert sorted(c.service for c in containers) == sorted(settings_classes)


def test_every_command_module_exists_and_is_runnable(containers: list[LlmopsContainer]) -> None:
    for c in containers:
        assert importlib.util.find_spec(f"services.{c.service}.__main__") is not None, c.name


def test_every_llmops_variable_is_a_setting_of_that_service(
    containers: list[LlmopsContainer], settings_env_names: dict[str, set[str]]
) -> None:
    for c in containers:
        named = {key for key in c.environment if key.startswith("LLMOPS_")}
        undeclared = named - settings_env_names[c.service]
        assert named, f"{c.name} sets no LLMOPS_ variable"
        assert not undeclared, f"{c.name}: undeclared {sorted(undeclared)}"


def test_every_container_runs_on_postgresql_and_s3_listening_outside(
    settings_by_container: dict[str, CommonSettings],
) -> None:
    for name, settings in settings_by_container.items():
        assert settings.host == "0.0.0.0", name
        assert settings.database_url.startswith("postgresql+psycopg://"), name
        assert settings.object_store.startswith("s3://"), name
        assert settings.s3_endpoint, name
        assert settings.s3_access_key, name
        assert settings.s3_secret_key, name


def test_published_ports_are_the_settings_ports(
    containers: list[LlmopsContainer], settings_by_container: dict[str, CommonSettings]
) -> None:
    for c in containers:
        settings = settings_by_container[c.name]
        assert _container_ports(c.spec) == {settings.port, settings.metrics_port}, c.name


def test_health_checks_ask_the_right_port_and_proto_service(
    containers: list[LlmopsContainer], settings_by_container: dict[str, CommonSettings]
) -> None:
    for c in containers:
        test = c.spec["healthcheck"]["test"]
        assert test[:4] == ["CMD", "python", "-m", "services.common.healthcheck"], c.name
        assert test[4] == f"127.0.0.1:{settings_by_container[c.name].port}", c.name
        assert test[5] in PROTO_SERVICES, c.name
        assert test[5].lower().endswith(f".{c.service}service"), c.name


def test_forwarding_addresses_point_at_containers_on_their_grpc_ports(
    containers: list[LlmopsContainer], settings_by_container: dict[str, CommonSettings]
) -> None:
    ports = {name: settings.port for name, settings in settings_by_container.items()}
    addresses = [
        value
        for c in containers
        for key, value in c.environment.items()
        if key.endswith("_ADDRESS")
    ]
    assert addresses, "no container forwards to another"
    for address in addresses:
        host, port = address.rsplit(":", 1)
        assert ports.get(host) == int(port), address


def test_named_volumes_are_declared_and_bind_mounts_exist(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    used = set()
    for name, spec in compose["services"].items():
        for volume in spec.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume["source"]
            if source.startswith(("./", "/")):
                assert (REPO / source).exists(), f"{name}: {source} does not exist"
            else:
                used.add(source)
    assert used <= declared, f"undeclared volumes {sorted(used - declared)}"
    assert declared <= used, f"unused volumes {sorted(declared - used)}"


def test_depends_on_names_existing_services(compose: dict[str, Any]) -> None:
    names = set(compose["services"])
    for name, spec in compose["services"].items():
        assert set(spec.get("depends_on") or {}) <= names, name


def test_prometheus_scrapes_every_metrics_port_and_loads_mounted_rules(
    compose: dict[str, Any], settings_by_container: dict[str, CommonSettings]
) -> None:
    mounts = {
        target: source
        for source, target, *_ in (
            v.split(":") for v in compose["services"]["prometheus"]["volumes"]
        )
        if source.startswith("./")
    }
    config = yaml.safe_load((REPO / mounts["/etc/prometheus/prometheus.yml"]).read_text())
    targets = {
        target
        for job in config["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
    }
    for name, settings in settings_by_container.items():
        assert f"{name}:{settings.metrics_port}" in targets, name
    assert set(config["rule_files"]) <= set(mounts)


def test_images_are_built_from_the_repository_dockerfile(
    containers: list[LlmopsContainer],
) -> None:
    for c in containers:
        build = c.spec["build"]
        assert (REPO / build["context"] / build["dockerfile"]).is_file(), c.name


def test_variables_shared_by_services_get_the_same_value_everywhere(
    containers: list[LlmopsContainer], settings_env_names: dict[str, set[str]]
) -> None:
    """E.g. the pseudonym secret: Guardrail and LogSink must pseudonymise alike."""
    common = {env_name(field) for field in dataclasses.fields(CommonSettings)}
    declared_by: dict[str, list[LlmopsContainer]] = {}
    for c in containers:
        for variable in settings_env_names[c.service] - common:
            declared_by.setdefault(variable, []).append(c)
    shared = {v: cs for v, cs in declared_by.items() if len(cs) > 1}
    assert "LLMOPS_PSEUDONYM_SECRET" in shared
    for variable, sharing in shared.items():
        values = {c.environment.get(variable) for c in sharing}
        assert len(values) == 1, f"{variable} differs between {[c.name for c in sharing]}"
    # The default would create a key file under the read-only root, one per container.
    assert all(
        c.environment.get("LLMOPS_PSEUDONYM_SECRET") for c in shared["LLMOPS_PSEUDONYM_SECRET"]
    )
