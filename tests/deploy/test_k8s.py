"""deploy/k8s: valid Kubernetes 1.30 objects, hardened, and consistent with the code.

Validated offline with kubernetes-validate, whose wheel ships the Kubernetes JSON
schemas (strict mode: unknown fields are errors). The rest ties the manifests to the
services: ports, probes, settings variables, forwarding addresses, autoscaling.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import re2
import yaml

from services.common.settings import CommonSettings, env_name, load_settings

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
KUBERNETES_VERSION = "1.30.0"
NAMESPACE = "llmops"
# Stateless services scale out; drift stays at one replica (see deploy/k8s/drift.yaml).
AUTOSCALED = {"guardrail", "cost", "experiment", "logsink"}


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        found += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def _by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def _environment(container: dict[str, Any], objects: list[dict[str, Any]]) -> dict[str, str]:
    """The variables a container starts with: envFrom sources, then its own env."""
    config_maps = _by_kind(objects, "ConfigMap")
    secrets = _by_kind(objects, "Secret")
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env |= config_maps[source["configMapRef"]["name"]]["data"]
        else:
            env |= secrets[source["secretRef"]["name"]]["stringData"]
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = secrets[ref["name"]]["stringData"][ref["key"]]
    return env


@pytest.fixture(scope="module")
def settings_by_service(
    objects: list[dict[str, Any]], settings_classes: dict[str, type[CommonSettings]]
) -> dict[str, CommonSettings]:
    deployments = _by_kind(objects, "Deployment")
    return {
        name: load_settings(cls, _environment(_container(deployments[name]), objects))
        for name, cls in settings_classes.items()
    }


def test_every_object_validates_against_the_kubernetes_schemas(
    objects: list[dict[str, Any]],
) -> None:
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_validation_rejects_a_misspelt_field(objects: list[dict[str, Any]]) -> None:
    """Guards the test above: strict validation really rejects unknown fields."""
    deployment = copy.deepcopy(next(o for o in objects if o["kind"] == "Deployment"))
    _container(deployment)["readinessProbes"] = _container(deployment).pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files
    assert kustomization["namespace"] == NAMESPACE


def test_everything_is_in_the_llmops_namespace(objects: list[dict[str, Any]]) -> None:
    assert NAMESPACE in _by_kind(objects, "Namespace")
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == NAMESPACE, obj["metadata"]["name"]


def test_every_service_has_a_deployment_and_a_service(
    objects: list[dict[str, Any]], settings_classes: dict[str, type[CommonSettings]]
) -> None:
    assert set(_by_kind(objects, "Deployment")) == set(settings_classes)
    assert set(_by_kind(objects, "Service")) == set(settings_classes)


def test_deployments_run_their_service_module_from_one_image(
    objects: list[dict[str, Any]],
) -> None:
    images = set()
    for name, deployment in _by_kind(objects, "Deployment").items():
        container = _container(deployment)
        assert container["command"] == ["python", "-m", f"services.{name}"]
        images.add(container["image"])
    assert len(images) == 1


def test_container_ports_and_grpc_probes_use_the_settings_ports(
    objects: list[dict[str, Any]], settings_by_service: dict[str, CommonSettings]
) -> None:
    for name, deployment in _by_kind(objects, "Deployment").items():
        settings = settings_by_service[name]
        container = _container(deployment)
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports == {"grpc": settings.port, "metrics": settings.metrics_port}, name
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["grpc"]["port"] == settings.port, (name, probe)
        readiness = container["readinessProbe"]["grpc"]["service"]
        assert readiness.lower() == f"llmops.v1.{name}service", name
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == str(settings.metrics_port), name


def test_containers_are_hardened_and_bounded(objects: list[dict[str, Any]]) -> None:
    for name, deployment in _by_kind(objects, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        container = _container(deployment)
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert pod["automountServiceAccountToken"] is False, name
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True, name
        assert security["allowPrivilegeEscalation"] is False, name
        assert security["capabilities"]["drop"] == ["ALL"], name
        for bound in ("requests", "limits"):
            assert set(container["resources"][bound]) == {"cpu", "memory"}, (name, bound)


def test_writable_paths_are_on_emptydir_volumes(
    objects: list[dict[str, Any]], settings_by_service: dict[str, CommonSettings]
) -> None:
    """A read-only root leaves only mounted volumes writable: /tmp and every *_dir setting."""
    for name, deployment in _by_kind(objects, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        empty_dirs = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
        mounts = [
            Path(m["mountPath"])
            for m in _container(deployment)["volumeMounts"]
            if m["name"] in empty_dirs
        ]
        assert Path("/tmp") in mounts, name
        settings = settings_by_service[name]
        for field in dataclasses.fields(settings):
            if field.name.endswith("_dir"):
                path = Path(getattr(settings, field.name))
                assert path.is_absolute(), (name, field.name, path)
                assert any(path.is_relative_to(m) for m in mounts), (name, field.name, path)


def test_shutdown_grace_fits_in_the_termination_grace_period(
    objects: list[dict[str, Any]], settings_by_service: dict[str, CommonSettings]
) -> None:
    for name, deployment in _by_kind(objects, "Deployment").items():
        period = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        assert settings_by_service[name].grace_seconds < period, name


def test_shared_config_holds_only_settings_every_service_has(
    objects: list[dict[str, Any]],
) -> None:
    common = {env_name(field) for field in dataclasses.fields(CommonSettings)}
    for deployment in _by_kind(objects, "Deployment").values():
        for source in _container(deployment)["envFrom"]:
            ref = source.get("configMapRef") or source["secretRef"]
            obj = {**_by_kind(objects, "ConfigMap"), **_by_kind(objects, "Secret")}[ref["name"]]
            keys = set(obj.get("data") or obj.get("stringData") or {})
            assert keys <= common, f"{ref['name']}: {sorted(keys - common)}"


def test_container_variables_are_settings_of_that_service(
    objects: list[dict[str, Any]], settings_env_names: dict[str, set[str]]
) -> None:
    for name, deployment in _by_kind(objects, "Deployment").items():
        named = {item["name"] for item in _container(deployment).get("env", [])}
        assert named <= settings_env_names[name], (
            f"{name}: {sorted(named - settings_env_names[name])}"
        )


def test_every_service_runs_on_postgresql_and_s3_listening_outside(
    settings_by_service: dict[str, CommonSettings],
) -> None:
    for name, settings in settings_by_service.items():
        assert settings.host == "0.0.0.0", name
        assert settings.database_url.startswith("postgresql+psycopg://"), name
        assert settings.object_store.startswith("s3://"), name


def test_forwarding_addresses_name_services_and_their_grpc_ports(
    objects: list[dict[str, Any]], settings_by_service: dict[str, CommonSettings]
) -> None:
    services = _by_kind(objects, "Service")
    addresses = [
        item["value"]
        for deployment in _by_kind(objects, "Deployment").values()
        for item in _container(deployment).get("env", [])
        if item["name"].endswith("_ADDRESS")
    ]
    assert addresses
    for address in addresses:
        host, port = address.rsplit(":", 1)
        service_ports = {p["name"]: p["port"] for p in services[host]["spec"]["ports"]}
        assert service_ports["grpc"] == int(port) == settings_by_service[host].port, address


def test_services_select_their_pods_by_named_ports(objects: list[dict[str, Any]]) -> None:
    deployments = _by_kind(objects, "Deployment")
    for name, service in _by_kind(objects, "Service").items():
        pod_labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= pod_labels.items(), name
        ports = {p["name"]: p["targetPort"] for p in service["spec"]["ports"]}
        assert ports == {"grpc": "grpc", "metrics": "metrics"}, name


def test_stateless_services_autoscale_and_keep_one_pod_through_disruptions(
    objects: list[dict[str, Any]],
) -> None:
    autoscalers = _by_kind(objects, "HorizontalPodAutoscaler")
    assert set(autoscalers) == AUTOSCALED
    deployments = _by_kind(objects, "Deployment")
    for name, hpa in autoscalers.items():
        target = hpa["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", name)
        assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
        assert deployments[name]["spec"]["replicas"] == hpa["spec"]["minReplicas"]
    budgets = _by_kind(objects, "PodDisruptionBudget")
    assert set(budgets) == AUTOSCALED
    for name, budget in budgets.items():
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_variables_shared_by_services_get_the_same_value_everywhere(
    objects: list[dict[str, Any]], settings_env_names: dict[str, set[str]]
) -> None:
    """E.g. the pseudonym secret: Guardrail and LogSink must pseudonymise alike."""
    common = {env_name(field) for field in dataclasses.fields(CommonSettings)}
    values: dict[str, dict[str, str | None]] = {}
    for name, deployment in _by_kind(objects, "Deployment").items():
        env = _environment(_container(deployment), objects)
        for variable in settings_env_names[name] - common:
            values.setdefault(variable, {})[name] = env.get(variable)
    shared = {v: by_service for v, by_service in values.items() if len(by_service) > 1}
    assert "LLMOPS_PSEUDONYM_SECRET" in shared
    for variable, by_service in shared.items():
        assert len(set(by_service.values())) == 1, f"{variable}: {by_service}"
    assert all(shared["LLMOPS_PSEUDONYM_SECRET"].values())


def test_prometheus_k8s_config_discovers_the_annotated_pods_as_their_jobs(
    objects: list[dict[str, Any]],
) -> None:
    """Debian's promtool has no Kubernetes discovery, so the relabelling is checked here."""
    config = yaml.safe_load((REPO / "deploy" / "prometheus" / "prometheus-k8s.yml").read_text())
    (job,) = config["scrape_configs"]
    assert job["kubernetes_sd_configs"][0]["namespaces"]["names"] == [NAMESPACE]
    relabels = job["relabel_configs"]
    by_target = {r.get("target_label"): r for r in relabels}
    for rule in relabels:
        re2.compile(rule.get("regex", "(.*)"))

    # Prometheus turns annotation/label names into meta labels like this.
    def meta(kind: str, name: str) -> str:
        return f"__meta_kubernetes_pod_{kind}_" + "".join(c if c.isalnum() else "_" for c in name)

    for deployment in _by_kind(objects, "Deployment").values():
        template = deployment["spec"]["template"]["metadata"]
        annotations = {meta("annotation", k): v for k, v in template["annotations"].items()}
        labels = {meta("label", k): v for k, v in template["labels"].items()}
        keep = next(r for r in relabels if r.get("action") == "keep")
        assert re2.fullmatch(keep["regex"], annotations[keep["source_labels"][0]])
        address = by_target["__address__"]
        joined = f"10.0.0.7:50051;{annotations[address['source_labels'][1]]}"
        port = re2.sub(address["regex"], address["replacement"].replace("$", "\\"), joined)
        assert port == f"10.0.0.7:{_container(deployment)['ports'][1]['containerPort']}"
        assert labels[by_target["job"]["source_labels"][0]] == deployment["metadata"]["name"]


def test_network_policy_opens_grpc_to_all_and_metrics_to_monitoring_only(
    objects: list[dict[str, Any]],
) -> None:
    (policy,) = _by_kind(objects, "NetworkPolicy").values()
    selected = policy["spec"]["podSelector"]["matchLabels"].items()

    def opened(port: int) -> list[dict[str, Any]]:
        return [
            rule
            for rule in policy["spec"]["ingress"]
            for p in rule["ports"]
            if p["port"] <= port <= p.get("endPort", p["port"])
        ]

    for name, deployment in _by_kind(objects, "Deployment").items():
        assert selected <= deployment["spec"]["template"]["metadata"]["labels"].items(), name
        ports = {p["name"]: p["containerPort"] for p in _container(deployment)["ports"]}
        (grpc_rule,) = opened(ports["grpc"])
        assert "from" not in grpc_rule, name
        (metrics_rule,) = opened(ports["metrics"])
        assert metrics_rule["from"], name
