"""deploy/kubernetes/: the retrain CronJob and the API Deployment parse and are wired like the image."""

from __future__ import annotations

import pytest

from forecasting.lifecycle.schedule import parse_cron
from tests.deploy.conftest import (
    KUBERNETES_DIR,
    dockerfile_instructions,
    env_settings,
    load_yaml_documents,
    stages,
)


def manifests() -> dict[str, dict]:
    by_kind: dict[str, dict] = {}
    for path in sorted(KUBERNETES_DIR.glob("*.yaml")):
        for document in load_yaml_documents(path):
            assert {"apiVersion", "kind", "metadata"} <= set(document), f"{path.name}: not a Kubernetes object"
            assert document["kind"] not in by_kind, f"two {document['kind']} objects"
            by_kind[document["kind"]] = document
    return by_kind


@pytest.fixture(scope="module")
def objects() -> dict[str, dict]:
    return manifests()


def image_user_id() -> int:
    runtime = stages(dockerfile_instructions())[-1]
    args = [i.arguments for i in runtime if i.keyword == "ARG" and i.arguments.startswith("APP_UID=")]
    return int(args[0].split("=", 1)[1])


def only_container(pod_spec: dict) -> dict:
    assert len(pod_spec["containers"]) == 1
    return pod_spec["containers"][0]


def test_the_manifests_hold_a_cronjob_a_deployment_and_a_service(objects: dict[str, dict]) -> None:
    assert set(objects) == {"CronJob", "Deployment", "Service", "Ingress", "ConfigMap", "NetworkPolicy", "Job"}
    assert objects["CronJob"]["apiVersion"] == "batch/v1"
    assert objects["Deployment"]["apiVersion"] == "apps/v1"
    assert objects["Service"]["apiVersion"] == "v1"


def test_the_cronjob_never_overlaps_and_runs_the_one_shot_cycle(objects: dict[str, dict]) -> None:
    spec = objects["CronJob"]["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    assert parse_cron(spec["schedule"])
    assert spec.get("timeZone") == "Etc/UTC", "the schedule is in UTC, like `provocast schedule`"
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["restartPolicy"] in {"Never", "OnFailure"}
    container = only_container(pod)
    assert container["args"] == ["cycle"], "the entrypoint's one-shot `cycle` (sync, then retrain), not the scheduler"
    assert "command" not in container, "keep the image's entrypoint"
    assert {"secretRef": {"name": "provocast"}} in container["envFrom"]


def test_api_deployment_serves_with_probes_on_healthz_and_readyz(objects: dict[str, dict]) -> None:
    deployment = objects["Deployment"]
    spec = deployment["spec"]
    assert spec["replicas"] == 2
    labels = spec["template"]["metadata"]["labels"]
    assert spec["selector"]["matchLabels"].items() <= labels.items()
    container = only_container(spec["template"]["spec"])
    assert container["args"] == ["serve"] and "command" not in container
    env = {item["name"]: item["value"] for item in container.get("env", [])}
    port = int(env.get("PROVOCAST_PORT", env_settings(dockerfile_instructions())["PROVOCAST_PORT"]))
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["http"] == port
    assert int(env["PROVOCAST_WORKERS"]) >= 1
    for probe, path in (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        assert container[probe]["httpGet"] == {"path": path, "port": "http"}, probe
    assert {"secretRef": {"name": "provocast"}} in container["envFrom"]
    assert all("retrain" not in arg for arg in container["args"]), "no scheduler inside the API pods"


def test_service_selects_the_api_pods(objects: dict[str, dict]) -> None:
    service = objects["Service"]["spec"]
    labels = objects["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert service["selector"].items() <= labels.items()
    assert service["ports"][0]["targetPort"] == "http"


def test_the_owner_migrates_and_grants_the_app_role(objects: dict[str, dict]) -> None:
    job = only_container(objects["Job"]["spec"]["template"]["spec"])
    assert job["args"] == ["migrate"] and {"secretRef": {"name": "provocast-owner"}} in job["envFrom"]
    assert {e["name"]: e["value"] for e in job["env"]}["PROVOCAST_APP_ROLE"] == "provocast_app"
    for kind in ("Deployment", "CronJob"):
        spec = objects[kind]["spec"]
        pod = (spec["jobTemplate"]["spec"] if kind == "CronJob" else spec)["template"]["spec"]
        assert {"secretRef": {"name": "provocast"}} in only_container(pod)["envFrom"], kind


@pytest.mark.parametrize("kind", ["CronJob", "Deployment", "Job"])
def test_pods_run_as_the_images_non_root_user(objects: dict[str, dict], kind: str) -> None:
    template = objects[kind]["spec"]
    if kind == "CronJob":
        template = template["jobTemplate"]["spec"]
    security = template["template"]["spec"]["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] == image_user_id()
    container = only_container(template["template"]["spec"])
    assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_outside_traffic_crosses_nginx_with_its_limits(objects: dict[str, dict]) -> None:
    service = objects["Service"]["spec"]
    assert service.get("type", "ClusterIP") == "ClusterIP", "the Service is not exposed; the Ingress is"
    ingress = objects["Ingress"]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": objects["Service"]["metadata"]["name"], "port": {"name": "http"}}
    annotations = ingress["metadata"]["annotations"]
    for limit in ("limit-rps", "limit-connections", "proxy-body-size"):
        assert f"nginx.ingress.kubernetes.io/{limit}" in annotations, limit
    controller = objects["ConfigMap"]["data"]
    assert int(controller["client-header-timeout"]) <= 10 and controller["large-client-header-buffers"] == "4 8k"
    assert controller["use-forwarded-headers"] == "false"
    policy = objects["NetworkPolicy"]["spec"]
    labels = objects["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= labels.items()
    (rule,) = policy["ingress"]
    assert rule["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}]
    env = {e["name"]: e["value"] for e in only_container(objects["Deployment"]["spec"]["template"]["spec"])["env"]}
    assert env["FORWARDED_ALLOW_IPS"] != "*"
