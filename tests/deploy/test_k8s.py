"""deploy/k8s: the Kubernetes manifests (kustomize base + the gpu overlay).

Both kustomizations are built in Python (tests/deploy/kustomize.py, checked against
``kubectl kustomize`` where kubectl is installed). Every object built is validated
against the strict Kubernetes JSON schemas that ``kubernetes-validate`` bundles (unknown
fields and wrong types fail), the KEDA objects against tests/deploy/schemas. Then the
contract of deploy/k8s/README.md: probes, resources, secrets only by reference,
selectors and ports that meet, the Ingress routes, the network policies, the KEDA
trigger, the gpu overlay.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
from referencing import Registry, Resource

from shared import keys
from tests.deploy import kustomize
from tests.deploy.kustomize import Obj

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
GPU = K8S / "overlays" / "gpu"
BUILDS = {"base": BASE, "gpu": GPU}
SCHEMAS = Path(__file__).resolve().parent / "schemas"
EXAMPLE_SECRETS = K8S / "secret.example.yaml"
README = K8S / "README.md"

# The oldest Kubernetes the manifests are for and the newest kubernetes-validate knows.
K8S_VERSIONS = ("1.30", kubernetes_validate.latest_version())

NAMESPACE = "satyamark"
INGRESS_NAMESPACE = "ingress-nginx"
MONITORING_NAMESPACE = "monitoring"
NAME_LABEL = "app.kubernetes.io/name"
COMPONENT_LABEL = "app.kubernetes.io/component"

# Deployment -> (python -m module, env prefix, settings class "module:Class"); the
# ports are the settings' defaults, which the manifests must spell out.
HTTP_SERVICES: dict[str, tuple[str, str, str]] = {
    "gateway": ("gateway", "GATEWAY", "gateway.config:GatewaySettings"),
    "auth-service": ("auth_service", "AUTH", "auth_service.config:AuthSettings"),
    "ratelimit-service": (
        "ratelimit_service",
        "RATELIMIT",
        "ratelimit_service.config:RateLimitSettings",
    ),
    "backend-service": ("backend_service", "BACKEND", "backend_service.config:BackendSettings"),
    "ai-service": ("ai_service", "AI", "ai_service.config:AiSettings"),
    "result-receiver": ("result_receiver", "RECEIVER", "result_receiver.config:ReceiverSettings"),
    "ws-service": ("ws_service", "WS", "ws_service.config:WsSettings"),
}
WORKER = "worker"
DEPLOYMENTS = {*HTTP_SERVICES, WORKER}
HPA_TARGETS = {"gateway", "ws-service"}
DB_USERS = {"auth-service", "backend-service", "result-receiver", WORKER}

# Who may connect to whom (network-policies.yaml): the callers of each service, as the
# services' settings name them (test_callers_match_the_settings), plus the Ingress
# controller's namespace for the two public components.
INGRESS_NS = ("namespace", INGRESS_NAMESPACE)
CALLERS: dict[str, set[object]] = {
    "gateway": {INGRESS_NS},
    "ws-service": {INGRESS_NS, "gateway"},
    "auth-service": {"gateway", "ws-service"},
    "ratelimit-service": {"gateway", "auth-service"},
    "backend-service": {"gateway", "ws-service"},
    "ai-service": {"backend-service"},
    "result-receiver": {WORKER},
}
# caller -> the settings field holding each service's URL
CALLED_VIA: dict[str, dict[str, str]] = {
    "gateway": {
        "auth-service": "auth_url",
        "ratelimit-service": "ratelimit_url",
        "backend-service": "backend_url",
        "ws-service": "ws_urls",
    },
    "auth-service": {"ratelimit-service": "ratelimit_url"},
    "ws-service": {"auth-service": "auth_url", "backend-service": "backend_url"},
    "backend-service": {"ai-service": "ai_url"},
}

# Env names that carry secrets (or URLs with passwords): never a literal `value`.
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|KEYS?$|CREDENTIAL|_URL$|DSN", re.I)
# Literal URLs of the config that are not secret: service addresses without userinfo.
PUBLIC_URL_NAMES = {"AUTH_URL", "RATELIMIT_URL", "BACKEND_URL", "AI_URL", "RECEIVER_URL"}
USERINFO_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s@]*@", re.I)

# KEDA's redis-streams scaler parameters (keda.sh/docs/scalers/redis-streams): KEDA
# ignores metadata it does not know, so a misspelt key would silently do nothing.
REDIS_STREAMS_METADATA = {
    "address",
    "addressFromEnv",
    "host",
    "hostFromEnv",
    "port",
    "portFromEnv",
    "usernameFromEnv",
    "passwordFromEnv",
    "stream",
    "consumerGroup",
    "pendingEntriesCount",
    "streamLength",
    "lagCount",
    "activationLagCount",
    "databaseIndex",
    "enableTLS",
    "unsafeSsl",
}
REDIS_STREAMS_AUTH_PARAMS = {
    "address",
    "host",
    "port",
    "username",
    "password",
    "enableTLS",
    "tls",
    "ca",
    "cert",
    "key",
    "keyPassword",
}


# ------------------------------------------------------------------ helpers


@cache
def built(name: str) -> tuple[Obj, ...]:
    return tuple(kustomize.build(BUILDS[name]))


def objects(build: str, kind: str) -> dict[str, Obj]:
    return {o["metadata"]["name"]: o for o in built(build) if o["kind"] == kind}


def one(build: str, kind: str, name: str) -> Obj:
    found = objects(build, kind)
    assert name in found, f"{build}: no {kind} {name}"
    return found[name]


def pod_spec(obj: Obj) -> Obj:
    spec = kustomize.pod_spec(obj)
    assert spec is not None, f"{obj['kind']} {obj['metadata']['name']} has no pod template"
    return spec


def pod_labels(obj: Obj) -> dict[str, str]:
    labels: dict[str, str] = obj["spec"]["template"]["metadata"]["labels"]
    return labels


def workloads(build: str) -> dict[str, Obj]:
    """Deployments and Jobs: every pod this build runs, by name."""
    return {**objects(build, "Deployment"), **objects(build, "Job")}


def all_containers(obj: Obj) -> list[Obj]:
    spec = pod_spec(obj)
    return [*(spec.get("initContainers") or []), *spec["containers"]]


def main_container(deployment: Obj) -> Obj:
    containers = pod_spec(deployment)["containers"]
    assert len(containers) == 1, f"{deployment['metadata']['name']}: one container expected"
    container: Obj = containers[0]
    return container


def env_of(container: Obj) -> dict[str, Obj]:
    return {e["name"]: e for e in container.get("env") or []}


def literal_env(container: Obj) -> dict[str, str]:
    return {name: e["value"] for name, e in env_of(container).items() if "value" in e}


def config_map(build: str) -> dict[str, str]:
    data: dict[str, str] = one(build, "ConfigMap", "satyamark-config")["data"]
    return data


def effective_env(build: str, container: Obj) -> dict[str, str]:
    """Literal env of a container: its envFrom ConfigMaps, then its own `value`s."""
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        assert "secretRef" in source or "configMapRef" in source, source
        if "configMapRef" in source:
            env.update(one(build, "ConfigMap", source["configMapRef"]["name"])["data"])
    env.update(literal_env(container))
    return env


def matches(selector: Obj | None, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels only; matchExpressions are refused) against labels."""
    if selector is None:
        return False
    assert not selector.get("matchExpressions"), "matchExpressions: not evaluated here"
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def container_ports(obj: Obj) -> dict[object, int]:
    """Port name and number -> number, over the pod's containers."""
    ports: dict[object, int] = {}
    for container in pod_spec(obj)["containers"]:
        for port in container.get("ports") or []:
            ports[port["containerPort"]] = port["containerPort"]
            if "name" in port:
                ports[port["name"]] = port["containerPort"]
    return ports


def settings_class(dotted: str) -> Any:
    module, _, name = dotted.partition(":")
    return getattr(importlib.import_module(module), name)


def setting_default(dotted: str, field: str) -> Any:
    return settings_class(dotted).model_fields[field].default


@cache
def keda_validators(version: str) -> dict[str, Any]:
    """jsonschema validators for the KEDA kinds, with the Kubernetes definitions (the
    strict ones kubernetes-validate bundles) that the schemas reference."""
    definitions = json.loads(
        (
            Path(kubernetes_validate.__file__).parent
            / "kubernetes-json-schema"
            / f"v{version_dir(version)}-local-strict"
            / "_definitions.json"
        ).read_text()
    )
    registry: Registry[Any] = Registry().with_resource(
        "https://kubernetes.io/api/_definitions.json", Resource.from_contents(definitions)
    )
    out = {}
    for kind, file in (
        ("ScaledObject", "keda-scaledobject-v1alpha1.json"),
        ("TriggerAuthentication", "keda-triggerauthentication-v1alpha1.json"),
    ):
        schema = json.loads((SCHEMAS / file).read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        out[kind] = jsonschema.Draft202012Validator(schema, registry=registry)
    return out


def version_dir(version: str) -> str:
    """The bundled schema directory's version for a "1.30" or "1.37.0"."""
    major_minor = ".".join(version.split(".")[:2])
    return f"{major_minor}.0"


def validate(obj: Obj, version: str) -> list[str]:
    name = f"{obj['kind']}/{obj['metadata']['name']}"
    if obj["apiVersion"] == "keda.sh/v1alpha1":
        validator = keda_validators(version).get(obj["kind"])
        if validator is None:
            return [f"{name}: no schema for KEDA kind {obj['kind']}"]
        return [
            f"{name}: {'.'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(obj)
        ]
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.ValidationError as e:
        return [f"{name}: {'.'.join(map(str, e.path))}: {e.message}"]
    except kubernetes_validate.SchemaNotFoundError as e:
        return [f"{name}: {e.message}"]
    return []


def walk(node: object, path: str = "") -> Iterator[tuple[str, object]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{path}[{i}]")


# ------------------------------------------------------------ files, build


def test_every_manifest_parses_strictly() -> None:
    files = sorted(K8S.rglob("*.yaml"))
    assert files, "no manifests under deploy/k8s"
    for path in files:
        for doc in kustomize.load_yaml_documents(path.read_text()):  # duplicate keys fail
            assert isinstance(doc, dict), f"{path}: a document is not a mapping"
            assert doc.get("apiVersion") and doc.get("kind"), f"{path}: apiVersion/kind"


def test_every_file_is_used_and_the_example_is_not() -> None:
    used = kustomize.resource_files(BASE) | kustomize.resource_files(GPU)
    files = {p.resolve() for p in K8S.rglob("*.yaml")}
    assert files - used == {EXAMPLE_SECRETS.resolve()}, (
        f"manifests no kustomization reads: {sorted(map(str, files - used - {EXAMPLE_SECRETS}))}"
    )
    assert EXAMPLE_SECRETS.resolve() not in used


@pytest.mark.parametrize("build", BUILDS)
def test_build_has_every_component(build: str) -> None:
    assert set(objects(build, "Deployment")) == DEPLOYMENTS
    assert set(objects(build, "Service")) == set(HTTP_SERVICES)
    assert set(objects(build, "PodDisruptionBudget")) == DEPLOYMENTS
    assert set(objects(build, "HorizontalPodAutoscaler")) == HPA_TARGETS
    assert set(objects(build, "Job")) == {"satyamark-migrate"}
    assert set(objects(build, "ScaledObject")) == {WORKER}
    assert len(objects(build, "Ingress")) >= 1
    for obj in built(build):
        if obj["kind"] == "Namespace":
            assert obj["metadata"]["name"] == NAMESPACE
        else:
            assert obj["metadata"].get("namespace") == NAMESPACE, obj["metadata"]["name"]


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("build", BUILDS)
def test_objects_validate_against_strict_schemas(build: str, version: str) -> None:
    errors = [error for obj in built(build) for error in validate(obj, version)]
    assert not errors, f"{build} against Kubernetes {version}:\n" + "\n".join(errors)


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_validation_catches_mistakes(version: str) -> None:
    """The schemas are strict: an unknown field, a wrong type, a missing field fail."""
    deployment = json.loads(json.dumps(one("base", "Deployment", "gateway")))
    main_container(deployment)["livenessprobe"] = main_container(deployment)["livenessProbe"]
    assert validate(deployment, version)
    deployment = json.loads(json.dumps(one("base", "Deployment", "gateway")))
    main_container(deployment)["ports"][0]["containerPort"] = "8000"
    assert validate(deployment, version)

    scaled = json.loads(json.dumps(one("base", "ScaledObject", WORKER)))
    scaled["spec"]["triggers"][0]["metadata"]["pendingEntriesCount"] = 32
    assert validate(scaled, version), "trigger metadata values are strings"
    scaled = json.loads(json.dumps(one("base", "ScaledObject", WORKER)))
    scaled["spec"]["maxReplicas"] = 3
    assert validate(scaled, version), "ScaledObject spec is closed"
    scaled = json.loads(json.dumps(one("base", "ScaledObject", WORKER)))
    del scaled["spec"]["scaleTargetRef"]["name"]
    assert validate(scaled, version)
    scaled = json.loads(json.dumps(one("base", "ScaledObject", WORKER)))
    behavior = scaled["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    behavior["scaleDown"]["stabilisationWindowSeconds"] = 1
    assert validate(scaled, version), "the HPA behavior is Kubernetes' strict schema"
    auth = json.loads(json.dumps(one("base", "TriggerAuthentication", "satyamark-redis")))
    auth["spec"]["secretTargetRef"][0]["secret"] = "x"
    assert validate(auth, version)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize("build", BUILDS)
def test_python_build_equals_kubectl_kustomize(build: str) -> None:
    out = subprocess.run(
        ["kubectl", "kustomize", str(BUILDS[build])],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    theirs = {kustomize.object_id(o): o for o in kustomize.load_yaml_documents(out)}
    ours = {kustomize.object_id(o): o for o in built(build)}
    assert ours.keys() == theirs.keys()
    for key, obj in ours.items():
        assert obj == theirs[key], f"{key} differs from kubectl kustomize's"


# ------------------------------------------------------------------ secrets


@pytest.mark.parametrize("build", BUILDS)
def test_no_secret_values_in_manifests(build: str) -> None:
    assert not objects(build, "Secret"), "Secrets are created outside the manifests"
    for obj in built(build):
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        for path, value in walk(obj):
            if isinstance(value, str):
                assert not USERINFO_URL.search(value), f"{where}{path}: URL with credentials"
        if obj["kind"] == "ConfigMap":
            for name in obj["data"]:
                assert not SECRET_NAME.search(name) or name in PUBLIC_URL_NAMES | {"WS_URLS"}, (
                    f"{where}: {name} looks secret: put it in a Secret"
                )
        if kustomize.pod_spec(obj) is None:
            continue
        for container in all_containers(obj):
            for name, env in env_of(container).items():
                if SECRET_NAME.search(name) and name not in PUBLIC_URL_NAMES:
                    assert "value" not in env, f"{where}: {name} has a literal value"
                    assert "secretKeyRef" in env.get("valueFrom", {}), (
                        f"{where}: {name} must come from a Secret (secretKeyRef)"
                    )


def referenced_secrets(build: str) -> set[tuple[str, str]]:
    """(Secret, key) pairs the build refers to; key "*" for a whole Secret."""
    refs: set[tuple[str, str]] = set()
    for obj in built(build):
        if kustomize.pod_spec(obj) is not None:
            for container in all_containers(obj):
                for env in env_of(container).values():
                    ref = env.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        refs.add((ref["name"], ref["key"]))
                for source in container.get("envFrom") or []:
                    if "secretRef" in source:
                        refs.add((source["secretRef"]["name"], "*"))
            for volume in pod_spec(obj).get("volumes") or []:
                assert "secret" not in volume, "no Secret volumes expected"
        if obj["kind"] == "TriggerAuthentication":
            refs |= {(r["name"], r["key"]) for r in obj["spec"].get("secretTargetRef") or []}
        if obj["kind"] == "Ingress":
            refs |= {(t["secretName"], "tls.crt") for t in obj["spec"].get("tls") or []}
    return refs


@pytest.mark.parametrize("build", BUILDS)
def test_every_referenced_secret_is_documented(build: str) -> None:
    example = {
        (doc["metadata"]["name"], key)
        for doc in kustomize.load_yaml_documents(EXAMPLE_SECRETS.read_text())
        for key in doc.get("stringData") or {}
    }
    readme = README.read_text()
    for name, key in referenced_secrets(build):
        assert (name, key) in example, f"{name}/{key} is missing from secret.example.yaml"
        assert f"create secret generic {name}" in readme or (
            f"create secret tls {name}" in readme
        ), f"README.md does not say how to create {name}"
        if key not in ("*", "tls.crt"):
            assert re.search(rf"(from-literal|from-file)={re.escape(key)}=", readme), (
                f"README.md's command for {name} lacks the key {key}"
            )
    for doc in kustomize.load_yaml_documents(EXAMPLE_SECRETS.read_text()):
        for key, value in doc["stringData"].items():
            assert value.count("<") >= 1, f"secret.example.yaml {key}: placeholders only"


def test_pods_get_only_the_secrets_they_need() -> None:
    needs = {
        "gateway": {"SATYAMARK_INTERNAL_TOKEN", "REDIS_URL"},
        "auth-service": {
            "SATYAMARK_INTERNAL_TOKEN",
            "REDIS_URL",
            "DATABASE_URL",
            "AUTH_JWT_KEYS",
            "AUTH_JWT_ACTIVE_KID",
        },
        "ratelimit-service": {"SATYAMARK_INTERNAL_TOKEN", "REDIS_URL"},
        "backend-service": {"SATYAMARK_INTERNAL_TOKEN", "REDIS_URL", "DATABASE_URL"},
        "ai-service": {"SATYAMARK_INTERNAL_TOKEN", "REDIS_URL"},
        "result-receiver": {
            "SATYAMARK_INTERNAL_TOKEN",
            "CALLBACK_SECRET",
            "REDIS_URL",
            "DATABASE_URL",
        },
        "ws-service": {"SATYAMARK_INTERNAL_TOKEN", "REDIS_URL"},
        WORKER: {"SATYAMARK_INTERNAL_TOKEN", "CALLBACK_SECRET", "REDIS_URL", "DATABASE_URL"},
        "satyamark-migrate": {"DATABASE_URL"},
    }
    for build in BUILDS:
        for name, obj in workloads(build).items():
            container = main_container(obj)
            got = {
                env_name
                for env_name, env in env_of(container).items()
                if "secretKeyRef" in env.get("valueFrom", {})
            }
            assert got == needs[name], f"{build} {name}: secrets {sorted(got)}"
            assert not any("secretRef" in s for s in container.get("envFrom") or [])


# --------------------------------------------------------------- workloads


@pytest.mark.parametrize("build", BUILDS)
def test_deployments_have_probes_on_livez_and_readyz(build: str) -> None:
    for name, deployment in objects(build, "Deployment").items():
        container = main_container(deployment)
        ports = container_ports(deployment)
        for probe, path in (("livenessProbe", "/livez"), ("readinessProbe", "/readyz")):
            assert probe in container, f"{name}: no {probe}"
            http = container[probe].get("httpGet")
            assert http, f"{name}: {probe} must be an HTTP GET"
            assert http["path"] == path, f"{name}: {probe} on {http['path']}, not {path}"
            assert http["port"] in ports, f"{name}: {probe} port {http['port']} is not declared"
        if name in HTTP_SERVICES:
            # The API port's /readyz checks the service's dependencies; the metrics
            # port's always answers ready.
            port = container["readinessProbe"]["httpGet"]["port"]
            assert ports[port] == ports["http"], f"{name}: readiness on the API port"
        else:
            module_port = setting_default("worker.config:WorkerSettings", "metrics_port")
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                assert ports[container[probe]["httpGet"]["port"]] == module_port, name


@pytest.mark.parametrize("build", BUILDS)
def test_every_container_has_requests_and_limits(build: str) -> None:
    for name, obj in workloads(build).items():
        for container in all_containers(obj):
            resources = container.get("resources") or {}
            for kind in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    assert resource in (resources.get(kind) or {}), (
                        f"{name}/{container['name']}: no {kind}.{resource}"
                    )


@pytest.mark.parametrize("build", BUILDS)
def test_pods_are_locked_down(build: str) -> None:
    """The images' unprivileged user (UID 10001), the "restricted" Pod Security Standard
    the namespace enforces, no service-link env (GATEWAY_PORT=tcp://… would be read as a
    setting), no API token."""
    namespace = one(build, "Namespace", NAMESPACE)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for name, obj in workloads(build).items():
        spec = pod_spec(obj)
        assert spec["enableServiceLinks"] is False, name
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] == 10001, name
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        for container in all_containers(obj):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["capabilities"]["drop"] == ["ALL"], name


@pytest.mark.parametrize("build", BUILDS)
def test_http_services_run_their_module_on_their_ports(build: str) -> None:
    for name, (module, prefix, settings) in HTTP_SERVICES.items():
        deployment = one(build, "Deployment", name)
        container = main_container(deployment)
        assert container["command"] == ["python", "-m", module], name
        assert container["image"].startswith("satyamark:"), name
        env = effective_env(build, container)
        port = setting_default(settings, "port")
        metrics_port = setting_default(settings, "metrics_port")
        assert env[f"{prefix}_HOST"] == "0.0.0.0", name
        assert env[f"{prefix}_PORT"] == str(port), name
        assert env[f"{prefix}_METRICS_PORT"] == str(metrics_port), name
        assert env["METRICS_HOST"] == "0.0.0.0", name
        ports = container_ports(deployment)
        assert ports["http"] == port and ports["metrics"] == metrics_port, name
        assert env["SATYAMARK_ENV"] == "production", name


@pytest.mark.parametrize("build", BUILDS)
def test_worker_runs_the_worker(build: str) -> None:
    worker = one(build, "Deployment", WORKER)
    container = main_container(worker)
    assert container["command"] == ["python", "-m", "worker"]
    env = effective_env(build, container)
    assert (
        env["WORKER_METRICS_PORT"]
        == "9490"
        == str(setting_default("worker.config:WorkerSettings", "metrics_port"))
    )
    assert env["METRICS_HOST"] == "0.0.0.0"
    consumer = env_of(container)["WORKER_CONSUMER"]["valueFrom"]["fieldRef"]["fieldPath"]
    assert consumer == "metadata.name", "a stable consumer name per pod"
    assert "replicas" not in worker["spec"], "KEDA owns the worker count"
    device = {"base": "cpu", "gpu": "cuda"}[build]
    assert env["WORKER_DEVICE"] == device
    assert container["image"] == f"satyamark-worker:{device}-latest"
    init = pod_spec(worker)["initContainers"]
    assert all(c["image"] == container["image"] for c in init), "one image per pod"


@pytest.mark.parametrize("build", BUILDS)
def test_service_urls_point_at_services_and_ports(build: str) -> None:
    config = config_map(build)
    services = objects(build, "Service")
    assert "REDIS_KEY_PREFIX" not in config, "KEDA's trigger names the unprefixed stream"
    for name, value in config.items():
        if not (name.endswith("_URL") or name == "WS_URLS"):
            continue
        for url in value.split(","):
            m = re.fullmatch(r"http://(?P<host>[a-z0-9-]+):(?P<port>\d+)", url)
            assert m, f"{name}={url}: http://<service>:<port> expected"
            assert m["host"] in services, f"{name}: no Service {m['host']}"
            ports = {p["port"] for p in services[m["host"]]["spec"]["ports"]}
            assert int(m["port"]) in ports, f"{name}: Service {m['host']} has no port {m['port']}"


def test_callers_match_the_settings() -> None:
    """CALLERS (what the network policies must allow) against the settings classes."""
    for caller, called in CALLED_VIA.items():
        fields = settings_class(HTTP_SERVICES[caller][2]).model_fields
        for service, field in called.items():
            assert field in fields, f"{caller} has no {field} to call {service}"
            assert caller in CALLERS[service]
    for service, callers in CALLERS.items():
        for who in callers:
            if isinstance(who, str) and who != WORKER:
                assert service in CALLED_VIA[who], f"{who} -> {service} is not a call"
    # The workers call result_receiver at the callback URL backend_service builds.
    assert "receiver_url" in settings_class(HTTP_SERVICES["backend-service"][2]).model_fields


@pytest.mark.parametrize("build", BUILDS)
def test_replicas_and_autoscalers(build: str) -> None:
    hpas = objects(build, "HorizontalPodAutoscaler")
    for name, deployment in objects(build, "Deployment").items():
        if name in HPA_TARGETS:
            assert "replicas" not in deployment["spec"], f"{name}: the HPA owns replicas"
        elif name != WORKER:
            assert deployment["spec"]["replicas"] >= 2, f"{name}: one replica is an outage"
    for name, hpa in hpas.items():
        assert hpa["apiVersion"] == "autoscaling/v2"
        ref = hpa["spec"]["scaleTargetRef"]
        assert ref == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert 2 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        resources = {m["resource"]["name"] for m in hpa["spec"]["metrics"]}
        container = main_container(one(build, "Deployment", name))
        for resource in resources:  # Utilization is relative to the requests
            assert resource in container["resources"]["requests"], name


# -------------------------------------------------------------- selectors


@pytest.mark.parametrize("build", BUILDS)
def test_selectors_meet_the_pods(build: str) -> None:
    deployments = objects(build, "Deployment")
    for name, deployment in deployments.items():
        labels = pod_labels(deployment)
        assert matches(deployment["spec"]["selector"], labels), f"{name}: selector"
        assert labels[COMPONENT_LABEL] == name, name
        assert deployment["metadata"]["labels"][COMPONENT_LABEL] == name, name
        # no other Deployment's pods fall under this one's selector
        for other, obj in deployments.items():
            if other != name:
                assert not matches(deployment["spec"]["selector"], pod_labels(obj)), (name, other)

    for kind, expected in (("Service", set(HTTP_SERVICES)), ("PodDisruptionBudget", DEPLOYMENTS)):
        for name, obj in objects(build, kind).items():
            selector = obj["spec"]["selector"]
            if kind == "Service":
                selector = {"matchLabels": selector}
            selected = {d for d, obj in deployments.items() if matches(selector, pod_labels(obj))}
            assert selected == {name}, f"{kind} {name} selects {sorted(selected)}"
        assert set(objects(build, kind)) == expected

    policies = objects(build, "NetworkPolicy")
    for name, obj in workloads(build).items():
        assert any(matches(p["spec"]["podSelector"], pod_labels(obj)) for p in policies.values()), (
            f"no NetworkPolicy selects {name}"
        )


@pytest.mark.parametrize("build", BUILDS)
def test_service_ports_meet_container_ports(build: str) -> None:
    for name, service in objects(build, "Service").items():
        deployment = one(build, "Deployment", name)
        ports = container_ports(deployment)
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP", name
        for port in service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            assert target in ports, f"Service {name}: targetPort {target} is no container port"
            assert ports[target] == port["port"], f"Service {name}: {port} maps to {ports[target]}"


@pytest.mark.parametrize("build", BUILDS)
def test_disruption_budgets_allow_a_drain(build: str) -> None:
    for name, pdb in objects(build, "PodDisruptionBudget").items():
        spec = pdb["spec"]
        assert spec.get("maxUnavailable") == 1 or "minAvailable" in spec, name
        if "minAvailable" in spec:
            replicas = one(build, "Deployment", name)["spec"].get("replicas", 1)
            assert spec["minAvailable"] < replicas, f"{name}: the PDB blocks every eviction"


# -------------------------------------------------------------- migrations


WAIT_SCRIPT = "wait_for_migrations.py"


@pytest.mark.parametrize("build", BUILDS)
def test_migration_job_and_the_pods_that_wait_for_it(build: str) -> None:
    job = one(build, "Job", "satyamark-migrate")
    container = main_container(job)
    command = " ".join(container["command"])
    assert "python -m shared.db migrate" in command
    assert "python -m satyamark kb load --starter" in command
    assert container["image"].startswith("satyamark:")
    assert pod_spec(job)["restartPolicy"] in ("OnFailure", "Never")
    assert config_map(build)["RUN_MIGRATIONS"] == "false", "the Job migrates, not the services"
    for name, deployment in objects(build, "Deployment").items():
        init = pod_spec(deployment).get("initContainers") or []
        waits = [c for c in init if WAIT_SCRIPT in " ".join(c["command"])]
        if name in DB_USERS:
            assert waits, f"{name} uses PostgreSQL: it must wait for the migrations"
            assert "DATABASE_URL" in env_of(waits[0])
            mounts = {m["name"]: m["mountPath"] for m in waits[0]["volumeMounts"]}
            volumes = {v["name"]: v for v in pod_spec(deployment)["volumes"]}
            volume = volumes[next(iter(mounts))]
            assert volume["configMap"]["name"] == "satyamark-wait-for-migrations"
            assert f"{next(iter(mounts.values()))}/{WAIT_SCRIPT}" in waits[0]["command"]
        else:
            assert not waits, f"{name} does not use PostgreSQL"
        assert "DATABASE_URL" in env_of(main_container(deployment)) or name not in DB_USERS


def load_wait_script() -> dict[str, Any]:
    source = one("base", "ConfigMap", "satyamark-wait-for-migrations")["data"][WAIT_SCRIPT]
    namespace: dict[str, Any] = {"__name__": "wait_for_migrations"}
    exec(compile(source, WAIT_SCRIPT, "exec"), namespace)
    return namespace


def test_wait_for_migrations_script(monkeypatch: pytest.MonkeyPatch) -> None:
    """The init container's script: done once every shipped migration is applied."""
    from shared.db import migration_files

    shipped = {version for version, _ in migration_files()}
    assert shipped, "no migrations found"
    script = load_wait_script()
    monkeypatch.setenv("DATABASE_URL", "postgresql://unused")
    monkeypatch.setitem(script, "POLL_S", 0.0)

    def applied_returning(versions: set[int]) -> Callable[[str], Any]:
        async def applied(dsn: str) -> set[int]:
            await asyncio.sleep(0)
            return versions

        return applied

    monkeypatch.setitem(script, "applied", applied_returning(shipped))
    assert script["main"]() == 0
    monkeypatch.setitem(script, "applied", applied_returning(shipped - {max(shipped)}))
    monkeypatch.setenv("WAIT_FOR_MIGRATIONS_S", "0")
    assert script["main"]() == 1

    async def down(dsn: str) -> set[int]:
        raise ConnectionRefusedError("database down")

    monkeypatch.setitem(script, "applied", down)
    assert script["main"]() == 1, "a database not up yet is waited for, not a crash"


# ----------------------------------------------------------------- routing


def ingress_routes(build: str) -> list[tuple[str, str, str, str, Obj]]:
    """(host, path, pathType, service, the Ingress) for every rule path."""
    routes = []
    for ingress in objects(build, "Ingress").values():
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                service = path["backend"]["service"]
                routes.append(
                    (rule["host"], path["path"], path["pathType"], service["name"], ingress)
                )
    return routes


REGEX_ANNOTATIONS = (
    "nginx.ingress.kubernetes.io/use-regex",
    "nginx.ingress.kubernetes.io/rewrite-target",
)


def route(build: str, request_path: str) -> tuple[str, str, Obj]:
    """The backend Service and upstream path of a request, the way ingress-nginx picks.

    Where any Ingress of a host uses a regex or a rewrite, every path of the host is a
    case-insensitive regex matched from the start ("^path"), the longest path first;
    otherwise Exact paths match exactly and the longest matching Prefix wins. A rewrite
    replaces what the path's regex matched (``rewrite "(?i)path" target``).
    """
    routes = ingress_routes(build)
    regex_host = any(
        ingress["metadata"].get("annotations", {}).get(a) not in (None, "false")
        for *_, ingress in routes
        for a in REGEX_ANNOTATIONS
    )
    candidates: list[tuple[str, str, str, str, Obj]]
    if regex_host:
        candidates = [r for r in routes if re.match(f"^{r[1]}", request_path, re.I)]
    else:
        exact = [r for r in routes if r[2] == "Exact" and r[1] == request_path]
        prefix = [
            r
            for r in routes
            if r[2] == "Prefix"
            and (
                r[1] == "/"
                or request_path == r[1].rstrip("/")
                or request_path.startswith(r[1].rstrip("/") + "/")
            )
        ]
        candidates = exact or prefix
    assert candidates, f"no Ingress rule for {request_path}"
    _, path, _, service, ingress = max(candidates, key=lambda r: len(r[1]))
    rewrite = (
        ingress["metadata"].get("annotations", {}).get("nginx.ingress.kubernetes.io/rewrite-target")
    )
    upstream = (
        request_path
        if rewrite is None
        else re.sub(path, rewrite, request_path, count=1, flags=re.I)
    )
    return service, upstream, ingress


@pytest.mark.parametrize("build", BUILDS)
def test_ingress_routes_ws_to_ws_service_and_the_rest_to_the_gateway(build: str) -> None:
    from ws_service.routes import router as ws_router

    routes = ingress_routes(build)
    hosts = {r[0] for r in routes}
    assert len(hosts) == 1, f"one host expected, got {hosts}"
    services = objects(build, "Service")

    service, upstream_path, ingress = route(build, "/v1/ws")
    assert service == "ws-service"
    assert upstream_path in {getattr(r, "path", None) for r in ws_router.routes}, (
        f"ws_service does not serve {upstream_path}"
    )
    annotations = ingress["metadata"]["annotations"]
    for timeout in ("proxy-read-timeout", "proxy-send-timeout"):
        value = annotations.get(f"nginx.ingress.kubernetes.io/{timeout}")
        assert value is not None and int(value) >= 3600, f"WebSocket {timeout}: {value}"

    for path in ("/", "/v1/verify", "/v1/tasks/01ABC", "/v1/wsx", "/v1/ws/x", "/assets/a.js"):
        service, upstream_path, ingress = route(build, path)
        assert service == "gateway", f"{path} -> {service}"
        assert upstream_path == path, f"{path} is rewritten to {upstream_path}"
        assert not set(REGEX_ANNOTATIONS) & set(ingress["metadata"].get("annotations", {}))
        assert "nginx.ingress.kubernetes.io/proxy-read-timeout" not in ingress["metadata"].get(
            "annotations", {}
        ), "the WebSocket timeouts must not reach the API"

    for host, _, path_type, service_name, ingress in routes:
        assert ingress["apiVersion"] == "networking.k8s.io/v1"
        assert ingress["spec"]["ingressClassName"] == "nginx"
        if path_type == "ImplementationSpecific":  # a regex: only with use-regex
            assert ingress["metadata"]["annotations"][REGEX_ANNOTATIONS[0]] == "true"
        tls = ingress["spec"]["tls"]
        assert any(host in t["hosts"] and t.get("secretName") for t in tls), f"{host}: no TLS"
        for path in ingress["spec"]["rules"][0]["http"]["paths"]:
            port = path["backend"]["service"]["port"]
            service_ports = services[service_name]["spec"]["ports"]
            assert any(
                p.get("name") == port.get("name") or p["port"] == port.get("number")
                for p in service_ports
            ), f"{service_name}: no port {port}"
    assert len({t["secretName"] for r in routes for t in r[4]["spec"]["tls"]}) == 1


# --------------------------------------------------------- network policies


def policy_peers(build: str, peer: Obj) -> set[object]:
    """What a NetworkPolicy `from` peer allows: component names (pods of this
    namespace), ("namespace", name) or ("ipBlock", cidr)."""
    if "ipBlock" in peer:
        return {("ipBlock", peer["ipBlock"]["cidr"])}
    if "namespaceSelector" in peer:
        selector = peer["namespaceSelector"]
        assert not selector.get("matchExpressions")
        labels = selector.get("matchLabels") or {}
        assert set(labels) == {"kubernetes.io/metadata.name"}, f"namespace by name: {labels}"
        pods = peer.get("podSelector")
        assert pods is None or pods == {}, "a pod selector in another namespace: not evaluated"
        return {("namespace", labels["kubernetes.io/metadata.name"])}
    # podSelector {} matches every pod of the namespace
    return {
        n for n, obj in workloads(build).items() if matches(peer["podSelector"], pod_labels(obj))
    }


def allowed_sources(build: str, component: str, port: int) -> set[object] | None:
    """Who may connect to ``port`` of ``component``'s pods; None = anyone (no policy
    selects the pods)."""
    obj = workloads(build)[component]
    labels, ports = pod_labels(obj), container_ports(obj)
    selecting = [
        p
        for p in objects(build, "NetworkPolicy").values()
        if matches(p["spec"]["podSelector"], labels)
    ]
    selecting = [p for p in selecting if "Ingress" in p["spec"].get("policyTypes", ["Ingress"])]
    if not selecting:
        return None
    allowed: set[object] = set()
    for policy in selecting:
        for rule in policy["spec"].get("ingress") or []:
            rule_ports = rule.get("ports")
            if rule_ports and not any(
                p.get("protocol", "TCP") == "TCP" and ports.get(p["port"]) == port
                for p in rule_ports
            ):
                continue
            peers = rule.get("from")
            if not peers:
                allowed.add("ANYONE")
                continue
            for peer in peers:
                allowed |= policy_peers(build, peer)
    return allowed


@pytest.mark.parametrize("build", BUILDS)
def test_network_policies_allow_exactly_the_calls(build: str) -> None:
    # Refused unless allowed, also for pods added later without a policy of their own.
    assert any(
        p["spec"]["podSelector"] == {}
        and p["spec"].get("policyTypes") == ["Ingress"]
        and not p["spec"].get("ingress")
        for p in objects(build, "NetworkPolicy").values()
    ), "no default-deny ingress policy"
    for name in HTTP_SERVICES:
        port = container_ports(one(build, "Deployment", name))["http"]
        allowed = allowed_sources(build, name, port)
        assert allowed == CALLERS[name], f"{name}:{port} is open to {allowed}"
    # only the workers may call result_receiver
    assert allowed_sources(build, "result-receiver", 8005) == {WORKER}
    # only gateway and ws-service are reachable from the Ingress controller
    for name, obj in workloads(build).items():
        for port in set(container_ports(obj).values()):
            allowed = allowed_sources(build, name, port)
            assert allowed is not None and "ANYONE" not in allowed, f"{name}:{port} is open"
            if INGRESS_NS in allowed:
                assert name in {"gateway", "ws-service"}, f"{name} reachable from the Ingress"
                assert port == container_ports(obj)["http"]


@pytest.mark.parametrize("build", BUILDS)
def test_metrics_ports_are_for_prometheus_only(build: str) -> None:
    for name, deployment in objects(build, "Deployment").items():
        port = container_ports(deployment)["metrics"]
        allowed = allowed_sources(build, name, port)
        assert allowed == {("namespace", MONITORING_NAMESPACE)}, f"{name}:{port}: {allowed}"
    for name in ("satyamark-migrate",):
        assert not container_ports(one(build, "Job", name))


# --------------------------------------------------------------------- KEDA


@pytest.mark.parametrize("build", BUILDS)
def test_keda_scales_workers_on_the_job_stream(build: str) -> None:
    scaled = one(build, "ScaledObject", WORKER)
    spec = scaled["spec"]
    target = spec["scaleTargetRef"]
    assert target.get("kind", "Deployment") == "Deployment" and target["name"] == WORKER
    assert target.get("apiVersion", "apps/v1") == "apps/v1"
    assert spec["minReplicaCount"] == 1
    assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
    triggers = [t for t in spec["triggers"] if t["type"] == "redis-streams"]
    assert len(triggers) == 1, "one redis-streams trigger"
    trigger = triggers[0]
    metadata = trigger["metadata"]
    assert set(metadata) <= REDIS_STREAMS_METADATA, (
        f"unknown: {set(metadata) - REDIS_STREAMS_METADATA}"
    )
    assert metadata["stream"] == "stream:ai:jobs"
    assert metadata["consumerGroup"] == "workers" == keys.WORKER_GROUP
    assert int(metadata["pendingEntriesCount"]) >= 1
    assert not {"address", "host", "port"} & set(metadata), "the address comes from the Secret"
    if spec.get("fallback"):
        assert trigger.get("metricType", "AverageValue") == "AverageValue", "fallback needs it"

    ref = trigger["authenticationRef"]
    assert ref.get("kind", "TriggerAuthentication") == "TriggerAuthentication"
    auth = one(build, "TriggerAuthentication", ref["name"])
    params = {r["parameter"] for r in auth["spec"]["secretTargetRef"]}
    assert params <= REDIS_STREAMS_AUTH_PARAMS
    assert {"password"} <= params and ({"address"} <= params or {"host", "port"} <= params)


def test_job_stream_names_are_the_codes() -> None:
    """The stream and group KEDA watches are the ones the workers use (with no
    REDIS_KEY_PREFIX, which the config does not set)."""
    assert keys.JOB_STREAM == f"{keys.PREFIX}stream:ai:jobs"
    assert keys.WORKER_GROUP == "workers"


def test_keda_schemas_are_closed() -> None:
    for file in SCHEMAS.glob("*.json"):
        schema = json.loads(file.read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        for path, node in walk(schema):
            if isinstance(node, dict) and isinstance(node.get("properties"), dict):
                assert node.get("additionalProperties") is False, f"{file.name}{path}: open"


# --------------------------------------------------------------- gpu overlay


def test_gpu_overlay_puts_workers_on_gpus() -> None:
    base = one("base", "Deployment", WORKER)
    gpu = one("gpu", "Deployment", WORKER)
    limits = main_container(gpu)["resources"]["limits"]
    assert int(limits["nvidia.com/gpu"]) >= 1
    assert "nvidia.com/gpu" not in main_container(base)["resources"]["limits"]
    spec = pod_spec(gpu)
    assert spec["nodeSelector"], "GPU workers need GPU nodes"
    assert any(
        t["key"] == "nvidia.com/gpu" and t["effect"] == "NoSchedule" for t in spec["tolerations"]
    )
    assert "nodeSelector" not in pod_spec(base) and "tolerations" not in pod_spec(base)
    assert gpu["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == 0, "no spare GPU to surge"


def test_gpu_overlay_changes_only_the_worker() -> None:
    base = {kustomize.object_id(o): o for o in built("base")}
    gpu = {kustomize.object_id(o): o for o in built("gpu")}
    assert base.keys() == gpu.keys()
    changed = {key[1:] for key in base if base[key] != gpu[key]}
    assert changed == {
        ("Deployment", NAMESPACE, WORKER),
        ("ScaledObject", NAMESPACE, WORKER),
    }


# ---------------------------------------------------------- the resolver


def test_strategic_merge_follows_kustomize() -> None:
    original = {
        "spec": {
            "tolerations": [{"key": "a"}],
            "containers": [
                {"name": "c1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                {"name": "c2", "image": "x"},
            ],
            "nodeSelector": {"a": "1"},
        }
    }
    patch = {
        "spec": {
            "tolerations": [{"key": "b"}],
            "containers": [
                {"name": "c3", "image": "y"},
                {"name": "c1", "env": [{"name": "C", "value": "3"}, {"name": "A", "value": "9"}]},
            ],
            "nodeSelector": {"a": None, "b": "2"},
        }
    }
    merged = kustomize.strategic_merge(original, patch, builtin=True)
    assert merged["spec"]["tolerations"] == [{"key": "b"}], "tolerations are replaced"
    assert [c["name"] for c in merged["spec"]["containers"]] == ["c3", "c1", "c2"]
    assert merged["spec"]["containers"][1]["env"] == [
        {"name": "C", "value": "3"},
        {"name": "A", "value": "9"},
        {"name": "B", "value": "2"},
    ]
    assert merged["spec"]["nodeSelector"] == {"b": "2"}
    with pytest.raises(kustomize.KustomizeError):
        kustomize.strategic_merge({"triggers": [{"type": "a"}]}, {"triggers": []}, builtin=False)
    with pytest.raises(kustomize.KustomizeError):
        kustomize.strategic_merge({"x": 1}, {"$patch": "delete"}, builtin=True)


def test_json6902_operations() -> None:
    doc = {"spec": {"items": [1, 2], "a": {"b": "c"}}}
    out = kustomize.apply_json6902(
        doc,
        [
            {"op": "test", "path": "/spec/a/b", "value": "c"},
            {"op": "add", "path": "/spec/items/-", "value": 3},
            {"op": "add", "path": "/spec/items/0", "value": 0},
            {"op": "replace", "path": "/spec/a/b", "value": "d"},
            {"op": "remove", "path": "/spec/items/1"},
            {"op": "add", "path": "/spec/x~1y", "value": True},
        ],
    )
    assert out == {"spec": {"items": [0, 2, 3], "a": {"b": "d"}, "x/y": True}}
    assert doc == {"spec": {"items": [1, 2], "a": {"b": "c"}}}, "the input is not changed"
    for bad in (
        [{"op": "test", "path": "/spec/a/b", "value": "x"}],
        [{"op": "replace", "path": "/spec/nope", "value": 1}],
        [{"op": "remove", "path": "/spec/items/5"}],
        [{"op": "move", "from": "/spec/a", "path": "/spec/b"}],
    ):
        with pytest.raises(kustomize.KustomizeError):
            kustomize.apply_json6902(doc, bad)


def test_yaml_loader_refuses_duplicate_keys() -> None:
    with pytest.raises(Exception, match="duplicate key"):
        kustomize.load_yaml_documents("a: 1\nb: 2\na: 3\n")
