"""deploy/k8s runs the processes the way they really run."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from tests.support.manifests import (
    K8S,
    K8S_NOT_KUSTOMIZED,
    K8S_OLDEST,
    PROCESSES,
    SERVICE_EXTRA_ENV,
    SERVICES,
    Command,
    assert_http_address,
    assert_runs_like_procfile,
    http_port,
    image_cmd,
    image_uid,
    required_env,
    service_config,
)

# --- Kubernetes ------------------------------------------------------------------------


def load_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


@cache
def k8s_objects() -> dict[tuple[str, str], dict[str, Any]]:
    """(kind, name) -> object, for every manifest in deploy/k8s (template and Job too)."""
    objects = {}
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in load_documents(path):
            metadata = doc["metadata"]
            objects[doc["kind"], metadata.get("name") or metadata["generateName"]] = doc
    return objects


def k8s_object(kind: str, name: str) -> dict[str, Any]:
    assert (kind, name) in k8s_objects(), f"deploy/k8s: no {kind} {name!r}"
    return k8s_objects()[kind, name]


def pod_spec(process: str) -> dict[str, Any]:
    return k8s_object("Deployment", process)["spec"]["template"]["spec"]


def main_container(process: str) -> dict[str, Any]:
    containers = {container["name"]: container for container in pod_spec(process)["containers"]}
    assert process in containers, f"Deployment {process}: no container named {process}"
    return containers[process]


def container_command(container: dict[str, Any]) -> Command:
    if "command" in container:
        return Command((*container["command"], *container.get("args", [])))
    return Command((*image_cmd().argv[:1], *container.get("args", image_cmd().argv[1:])))


@cache
def config_map_data() -> dict[str, str]:
    return k8s_object("ConfigMap", "bridgework-config")["data"]


@cache
def secret_data() -> dict[str, str]:
    secret = k8s_object("Secret", "bridgework-secrets")
    return {**secret.get("data", {}), **secret.get("stringData", {})}


def resolved_env(container: dict[str, Any]) -> dict[str, str]:
    """The container's environment; values from the ConfigMap/Secret manifests."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            assert source["configMapRef"]["name"] == "bridgework-config"
            env.update(config_map_data())
        else:
            assert source["secretRef"]["name"] == "bridgework-secrets"
            env.update(secret_data())
    for item in container.get("env", []):
        name = item["name"]
        if "value" in item:
            env[name] = str(item["value"])
            continue
        value_from = item["valueFrom"]
        if "secretKeyRef" in value_from:
            ref, data = value_from["secretKeyRef"], secret_data()
            assert ref["name"] == "bridgework-secrets"
        else:
            ref, data = value_from["configMapKeyRef"], config_map_data()
            assert ref["name"] == "bridgework-config"
        assert ref["key"] in data, f"{name}: no key {ref['key']} in {ref['name']}"
        env[name] = data[ref["key"]]
    return env


def all_pod_specs() -> dict[str, dict[str, Any]]:
    specs = {f"Deployment {name}": pod_spec(name) for name in PROCESSES}
    job = next(doc for (kind, _), doc in k8s_objects().items() if kind == "Job")
    specs["Job migrate"] = job["spec"]["template"]["spec"]
    return specs


def test_kubernetes_manifests_are_valid_per_the_api_schemas() -> None:
    try:
        import kubernetes_validate
    except ImportError:
        pytest.fail("kubernetes-validate is missing: pip install -e '.[dev]'")
    versions = sorted({K8S_OLDEST, kubernetes_validate.latest_version()})
    failures = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in load_documents(path):
            for version in versions:
                try:
                    kubernetes_validate.validate(doc, version, strict=True)
                except kubernetes_validate.ValidationError as error:
                    failures.append(f"{path.name} {doc['kind']} (k8s {version}): {error}")
    assert not failures, "\n".join(failures)


def test_kustomization_applies_every_manifest_but_the_secret_template_and_job() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    on_disk = {path.name for path in K8S.glob("*.yaml")} - K8S_NOT_KUSTOMIZED
    assert listed == on_disk
    assert kustomization["namespace"] == "bridgework"
    assert {image["name"] for image in kustomization["images"]} == {"bridgework"}


@pytest.mark.parametrize("process", PROCESSES)
def test_kubernetes_runs_each_process_like_the_procfile(process: str) -> None:
    command = container_command(main_container(process))
    assert_runs_like_procfile(process, command, f"Deployment {process}")


@pytest.mark.parametrize("process", PROCESSES)
def test_kubernetes_sets_every_variable_the_process_reads(process: str) -> None:
    env = resolved_env(main_container(process))
    missing = required_env(process) - set(env)
    assert not missing, f"Deployment {process}: not set: {sorted(missing)}"
    assert_http_address(process, env, f"Deployment {process}")
    if process in SERVICES:
        for name, value in SERVICE_EXTRA_ENV.items():
            assert env[name] == value


@pytest.mark.parametrize("service", SERVICES)
def test_kubernetes_gives_a_service_only_its_own_database(service: str) -> None:
    others = {service_config(other).db_url_var for other in SERVICES if other != service}
    container = main_container(service)
    assert not others & {item["name"] for item in container.get("env", [])}
    assert not any("secretRef" in source for source in container.get("envFrom", []))


def test_kubernetes_keeps_credentials_out_of_the_config_map() -> None:
    secret_names = {"AMQP_URI"} | {service_config(s).db_url_var for s in SERVICES}
    assert not secret_names & set(config_map_data())
    assert secret_names <= set(secret_data())
    for name, value in secret_data().items():
        assert "CHANGE_ME" in value, f"secret template: {name} must be a placeholder"
    for service in SERVICES:
        url = make_url(secret_data()[service_config(service).db_url_var])
        assert url.drivername == "postgresql+psycopg2"
        assert url.database == f"bridgework_{service}"


@pytest.mark.parametrize("process", PROCESSES)
def test_kubernetes_probes_and_scrapes_the_process_port(process: str) -> None:
    container = main_container(process)
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert http_port(process) in ports.values()

    def probe(kind: str) -> tuple[str, int]:
        http_get = container[kind]["httpGet"]
        port = http_get["port"]
        return http_get["path"], ports[port] if isinstance(port, str) else port

    assert probe("livenessProbe") == ("/health/live", http_port(process))
    assert probe("readinessProbe") == ("/health/ready", http_port(process))
    annotations = k8s_object("Deployment", process)["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(http_port(process))
    assert annotations["prometheus.io/path"] == "/metrics"


@pytest.mark.parametrize("process", PROCESSES)
def test_kubernetes_service_reaches_the_deployment(process: str) -> None:
    deployment = k8s_object("Deployment", process)
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    service = k8s_object("Service", process)
    assert service["spec"]["selector"].items() <= pod_labels.items()
    ports = {port["name"]: port["containerPort"] for port in main_container(process)["ports"]}
    (service_port,) = service["spec"]["ports"]
    target = service_port["targetPort"]
    assert (ports[target] if isinstance(target, str) else target) == http_port(process)


@pytest.mark.parametrize("service", SERVICES)
def test_kubernetes_migrates_a_service_database_before_it_starts(service: str) -> None:
    (migrate,) = pod_spec(service)["initContainers"]
    assert container_command(migrate).argv == ("python", "-m", "shared.migrations", service)
    var = service_config(service).db_url_var
    assert resolved_env(migrate)[var] == resolved_env(main_container(service))[var]


def test_kubernetes_migration_job_upgrades_every_database() -> None:
    spec = all_pod_specs()["Job migrate"]
    (container,) = spec["containers"]
    assert container_command(container).argv == ("python", "-m", "shared.migrations")
    env = resolved_env(container)
    for service in SERVICES:
        var = service_config(service).db_url_var
        assert env[var] == resolved_env(main_container(service))[var]
    assert spec["restartPolicy"] == "Never"


@pytest.mark.parametrize("where", [*(f"Deployment {name}" for name in PROCESSES), "Job migrate"])
def test_kubernetes_pods_are_locked_down_and_sized(where: str) -> None:
    spec = all_pod_specs()[where]
    pod_security = spec["securityContext"]
    assert pod_security["runAsNonRoot"] is True
    assert pod_security["runAsUser"] == image_uid()
    assert spec.get("automountServiceAccountToken") is False
    tmp_volumes = {volume["name"] for volume in spec["volumes"] if "emptyDir" in volume}
    for container in spec["containers"] + spec.get("initContainers", []):
        name = f"{where}/{container['name']}"
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True, name
        assert security["allowPrivilegeEscalation"] is False, name
        assert security["capabilities"]["drop"] == ["ALL"], name
        mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
        assert mounts.get("/tmp") in tmp_volumes, f"{name}: /tmp must be a writable emptyDir"
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][bound]), f"{name}: {bound}"


def test_gateway_keeps_a_pod_through_voluntary_disruptions() -> None:
    deployment = k8s_object("Deployment", "gateway")
    budget = k8s_object("PodDisruptionBudget", "gateway")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    # A budget as large as the replica count would block every node drain.
    assert 1 <= budget["spec"]["minAvailable"] < deployment["spec"]["replicas"]
