"""The Helm chart, rendered by Helm's own Go engine (helm-python-sdk), without a cluster.

Each rendered manifest is validated strictly against the Kubernetes schemas of the
oldest and the newest Kubernetes the chart supports. The ServiceMonitor is a
Prometheus Operator CRD with no schema there, so its fields are checked one by one.
The rendered inventory goes through ``lbhealth check-config``, and a rendered pod's
environment and probes are served by a real ``lbhealth serve``.
"""

from __future__ import annotations

import base64
import functools
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import helm_python as helm
import httpx
import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

from lbhealth.demo.cluster import JBOSS_WELCOME
from lbhealth.demo.simserver import SimServer
from tests._dockerfile import FINAL
from tests._inventory import inventory, node
from tests._kubeapi import fake_kube
from tests._poll import wait_ready
from tests._process import ROOT, lbhealth_command, running
from tests._servers import BackgroundLoop, free_port

CHART = ROOT / "helm" / "lbhealth"
EIM_WIM = yaml.safe_load((CHART / "ci" / "eim-wim-values.yaml").read_text(encoding="utf-8"))
VALUES: dict[str, dict[str, Any] | None] = {"default": None, "eim-wim": EIM_WIM}
#: Chart.yaml's kubeVersion floor, and the newest schemas kubernetes-validate ships.
KUBE_VERSIONS = ("1.25.0", latest_version())
RELEASE, NAMESPACE = "lb", "ops"
IMAGE_ENV = FINAL.env({}, {})
NOTES = "lbhealth/templates/NOTES.txt"

Manifest = dict[str, Any]
#: Prometheus Operator kinds: no schema in kubernetes-validate, checked field by field.
CRDS = ("ServiceMonitor", "PrometheusRule")


def render(values: dict[str, Any] | None = None) -> dict[str, str]:
    """Template path -> rendered text, as ``helm template`` would print it."""
    with helm.Chart.load(CHART) as chart:
        return chart.render(values, name=RELEASE, namespace=NAMESPACE)


@functools.cache
def _manifests(name: str) -> list[Manifest]:
    return manifests(render(VALUES[name]))


def manifests(rendered: dict[str, str]) -> list[Manifest]:
    return [
        doc
        for path, text in rendered.items()
        if not path.endswith("NOTES.txt")
        for doc in yaml.safe_load_all(text)
        if doc
    ]


def kinds(docs: list[Manifest]) -> dict[str, Manifest]:
    by_kind = {doc["kind"]: doc for doc in docs}
    assert len(by_kind) == len(docs), "one object of each kind expected"
    return by_kind


def of(values: dict[str, Any] | None, kind: str) -> Manifest:
    return kinds(manifests(render(values)))[kind]


def container(deployment: Manifest) -> Manifest:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(only)


def env_of(deployment: Manifest) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container(deployment)["env"]}


def check_config(configmap: Manifest, path: Path) -> subprocess.CompletedProcess[str]:
    """``lbhealth check-config`` on the ConfigMap's inventory, as a real subprocess."""
    path.write_text(configmap["data"]["inventory.yaml"], encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LBHEALTH_")}
    return subprocess.run(
        [sys.executable, "-m", "lbhealth", "check-config", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )


def checksum(values: dict[str, Any] | None) -> str:
    annotations = of(values, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    return str(annotations["checksum/config"])


@pytest.mark.parametrize("name", VALUES)
@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_chart_lints_strictly(name: str, kube_version: str) -> None:
    report = helm.lint(CHART, VALUES[name], strict=True, kube_version=f"v{kube_version}")
    assert report["errors"] == []
    # Severity 1 is information ("icon is recommended"); 2 and 3 are warnings and errors.
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


def test_lint_reports_values_the_schema_rejects() -> None:
    report = helm.lint(CHART, {"replicaCount": "two"}, strict=True)
    assert any("/replicaCount" in error for error in report["errors"])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("default", {"ConfigMap", "Service", "Deployment", "PodDisruptionBudget"}),
        (
            "eim-wim",
            {
                "ConfigMap",
                "Service",
                "Deployment",
                "PodDisruptionBudget",
                "ServiceMonitor",
                "ServiceAccount",
                "NetworkPolicy",
                "PrometheusRule",
            },
        ),
    ],
)
def test_chart_renders_the_expected_objects(name: str, expected: set[str]) -> None:
    assert set(kinds(_manifests(name))) == expected


@pytest.mark.parametrize("name", VALUES)
@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_every_core_manifest_validates_strictly(name: str, kube_version: str) -> None:
    checked = 0
    for doc in _manifests(name):
        if doc["kind"] in CRDS:
            continue  # see test_service_monitor_scrapes_the_service_port and test_prometheus_rule
        kubernetes_validate.validate(doc, kube_version, strict=True)
        checked += 1
    assert checked >= 4


def test_strict_validation_rejects_a_misspelled_field() -> None:
    deployment = of(None, "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        kubernetes_validate.validate(deployment, KUBE_VERSIONS[-1], strict=True)


def test_service_monitor_scrapes_the_service_port() -> None:
    objects = kinds(_manifests("eim-wim"))
    monitor, service = objects["ServiceMonitor"], objects["Service"]
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert set(monitor["metadata"]) == {"name", "labels"}
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert set(monitor["spec"]) == {"selector", "endpoints"}
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    assert selector.items() == service["spec"]["selector"].items()
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint == {
        "port": "http",
        "path": "/metrics",
        "interval": "30s",
        "scrapeTimeout": "10s",
    }
    assert [p["name"] for p in service["spec"]["ports"]] == ["http"]


@pytest.mark.parametrize(
    ("name", "summary"),
    [
        ("default", "2 nodes, 3 checks, roles: application, database"),
        (
            "eim-wim",
            "8 nodes, 11 checks, roles: application, database, file, messaging, services, web",
        ),
    ],
)
def test_rendered_inventory_passes_check_config(name: str, summary: str, tmp_path: Path) -> None:
    configmap = kinds(_manifests(name))["ConfigMap"]
    path = tmp_path / "inventory.yaml"
    result = check_config(configmap, path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"OK: {path}: {summary}\n"


def test_rendered_inventory_is_the_values_inventory_verbatim() -> None:
    configmap = kinds(_manifests("eim-wim"))["ConfigMap"]
    assert yaml.safe_load(configmap["data"]["inventory.yaml"]) == EIM_WIM["inventory"]


def test_an_invalid_inventory_renders_but_check_config_names_the_field(tmp_path: Path) -> None:
    values = {"inventory": {"nodes": {"app1": {"checks": [{"kind": "jboss", "url": "app1:9001"}]}}}}
    result = check_config(of(values, "ConfigMap"), tmp_path / "inventory.yaml")
    assert result.returncode == 2
    assert "nodes.app1.checks[0].url: 'app1:9001' is not an http(s) URL" in result.stderr


def test_inventory_change_changes_the_config_checksum() -> None:
    changed = {"inventory": {"settings": {"timeout": 5}}}
    assert checksum(changed) != checksum(None)


def test_a_change_outside_the_config_keeps_the_checksum() -> None:
    assert checksum({"replicaCount": 4}) == checksum(None)


@pytest.mark.parametrize("name", VALUES)
def test_pod_runs_non_root_read_only_without_privileges(name: str) -> None:
    deployment = kinds(_manifests(name))["Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    uid, _, gid = FINAL.one("USER").partition(":")
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": int(uid),
        "runAsGroup": int(gid),
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert pod["automountServiceAccountToken"] is False
    assert container(deployment)["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
    }


def test_pod_runs_the_image_as_built() -> None:
    deployment = of(None, "Deployment")
    main = container(deployment)
    assert "command" not in main and "args" not in main  # the image's CMD runs
    assert [p["containerPort"] for p in main["ports"]] == [int(IMAGE_ENV["LBHEALTH_PORT"])]
    mounts = {m["mountPath"]: m for m in main["volumeMounts"]}
    config_dir = str(Path(IMAGE_ENV["LBHEALTH_CONFIG"]).parent)
    assert mounts[config_dir]["readOnly"] is True
    assert env_of(deployment)["LBHEALTH_CONFIG"] == IMAGE_ENV["LBHEALTH_CONFIG"]
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]]


def test_probes_ask_lbhealths_own_endpoints() -> None:
    main = container(of(None, "Deployment"))
    paths = {
        probe: (main[probe]["httpGet"]["path"], main[probe]["httpGet"]["port"])
        for probe in ("startupProbe", "livenessProbe", "readinessProbe")
    }
    assert paths == {
        "startupProbe": ("/livez", "http"),
        "livenessProbe": ("/livez", "http"),
        "readinessProbe": ("/readyz", "http"),
    }


def test_admin_token_goes_to_a_secret_and_never_the_configmap() -> None:
    token = "s3cret-admin-token"
    rendered = render({"admin": {"token": token}, "replicaCount": 1})
    objects = kinds(manifests(rendered))
    secret, deployment = objects["Secret"], objects["Deployment"]
    assert base64.b64decode(secret["data"]["admin-token"]).decode() == token
    assert env_of(deployment)["LBHEALTH_ADMIN_TOKEN"] == {
        "secretKeyRef": {"name": secret["metadata"]["name"], "key": "admin-token"}
    }
    assert "checksum/secret" in deployment["spec"]["template"]["metadata"]["annotations"]
    leaks = [path for path, text in rendered.items() if token in text]
    assert leaks == []


def test_existing_secret_is_referenced_and_no_secret_is_created() -> None:
    objects = kinds(_manifests("eim-wim"))
    assert "Secret" not in objects
    assert env_of(objects["Deployment"])["LBHEALTH_ADMIN_TOKEN"] == {
        "secretKeyRef": {"name": "lbhealth-admin", "key": "token"}
    }


def test_no_token_leaves_the_admin_api_disabled() -> None:
    assert "LBHEALTH_ADMIN_TOKEN" not in env_of(of(None, "Deployment"))


def test_token_and_existing_secret_together_are_refused() -> None:
    with pytest.raises(helm.HelmRenderError, match="either token or existingSecret"):
        render({"admin": {"token": "t", "existingSecret": "s"}})


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"replicaCount": "two"}, "/replicaCount"),
        ({"inventory": {"nodes": None}}, "/inventory"),
        (
            {"inventory": {"nodes": {"bad name": {"checks": [{"kind": "tcp"}]}}}},
            "'bad name' does not match",
        ),
        ({"inventory": {"nodes": {"app3": {"checks": []}}}}, "/inventory/nodes/app3/checks"),
        ({"service": {"port": 70000}}, "/service/port"),
        ({"replicas": 3}, "replicas"),
    ],
)
def test_schema_rejects_bad_values(values: dict[str, Any], where: str) -> None:
    with pytest.raises(helm.HelmValuesError, match=where):
        render(values)


def test_autoscaling_is_refused_saying_why() -> None:
    with pytest.raises(helm.HelmRenderError, match="autoscaling was removed: replicas are an"):
        render({"autoscaling": {"enabled": True}})
    for name in VALUES:
        assert "HorizontalPodAutoscaler" not in kinds(_manifests(name))
        assert kinds(_manifests(name))["Deployment"]["spec"]["replicas"] >= 2


def test_a_single_replica_gets_no_disruption_budget() -> None:
    # A budget over one pod would block every node drain of the cluster.
    assert "PodDisruptionBudget" not in kinds(manifests(render({"replicaCount": 1})))


def test_notes_show_curl_for_every_node_and_explain_drain() -> None:
    notes = render(EIM_WIM)["lbhealth/templates/NOTES.txt"]
    for name in EIM_WIM["inventory"]["nodes"]:
        assert f"curl -i http://127.0.0.1:8080/health/{name}\n" in notes
    assert "admin_state" in notes


def test_rendered_pod_serves_its_probes(bg: BackgroundLoop, tmp_path: Path) -> None:
    """The rendered ConfigMap and container environment, run by a real ``lbhealth serve``."""
    backend = bg.run(SimServer({"/": JBOSS_WELCOME}).start())
    try:
        port = free_port()
        values = {
            "containerPort": port,
            "inventory": inventory({"app1": node("jboss", backend.url())}),
        }
        objects = kinds(manifests(render(values)))
        config = tmp_path / "inventory.yaml"
        config.write_text(objects["ConfigMap"]["data"]["inventory.yaml"], encoding="utf-8")
        env = {
            **os.environ,
            **env_of(objects["Deployment"]),
            "LBHEALTH_CONFIG": str(config),  # where the ConfigMap would be mounted
            "LBHEALTH_HOST": "127.0.0.1",  # the pod listens everywhere; tests stay on loopback
        }
        main = container(objects["Deployment"])
        base = f"http://127.0.0.1:{port}"
        with running(lbhealth_command("serve"), tmp_path / "serve.log", env) as proc:
            # Readiness follows the first probes; each probe path must then answer 200.
            wait_ready(base, process=proc)
            statuses = {
                probe: httpx.get(base + main[probe]["httpGet"]["path"], timeout=5).status_code
                for probe in ("startupProbe", "livenessProbe", "readinessProbe")
            }
            health = httpx.get(f"{base}/health/app1", timeout=10)
    finally:
        bg.run(backend.stop())
    assert statuses == {"startupProbe": 200, "livenessProbe": 200, "readinessProbe": 200}
    assert (health.status_code, health.text) == (200, "UP\n")


def test_default_inventory_runs_in_background_mode_without_cache_ttl() -> None:
    inventory = yaml.safe_load(kinds(_manifests("default"))["ConfigMap"]["data"]["inventory.yaml"])
    assert "cache_ttl" not in inventory["settings"]  # an on-demand setting: unused in background
    assert inventory["settings"].get("mode", "background") == "background"


def test_default_image_is_a_placeholder_that_notes_warn_about() -> None:
    image = container(of(None, "Deployment"))["image"]
    assert image.startswith("registry.invalid/")  # RFC 2606: never resolves, never pulls
    assert "WARNING: image.repository is still the placeholder" in render(None)[NOTES]
    assert "WARNING" not in render(EIM_WIM)[NOTES]


def test_platform_values_reach_the_pod() -> None:
    objects = kinds(_manifests("eim-wim"))
    deployment, account = objects["Deployment"], objects["ServiceAccount"]
    template = deployment["spec"]["template"]
    pod = template["spec"]
    assert pod["serviceAccountName"] == account["metadata"]["name"]
    assert account["automountServiceAccountToken"] is False
    assert account["metadata"]["annotations"] == {"example.com/owner": "ops"}
    assert pod["priorityClassName"] == "eim-critical"
    assert template["metadata"]["annotations"]["example.com/team"] == "contact-center"
    assert template["metadata"]["labels"]["example.com/cost-center"] == "4711"
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["name"]: m for m in container(deployment)["volumeMounts"]}
    assert volumes["corp-ca"]["configMap"] == {"name": "corp-ca-bundle"}
    assert mounts["corp-ca"]["mountPath"] == "/etc/ssl/corp"
    assert pod["topologySpreadConstraints"][0]["topologyKey"] == "kubernetes.io/hostname"
    # Without them, the pod runs under the namespace's default account, no priority class.
    default = of(None, "Deployment")["spec"]["template"]["spec"]
    assert default["serviceAccountName"] == "default" and "priorityClassName" not in default


def test_network_policy_admits_the_http_port_and_restricts_egress_when_asked() -> None:
    objects = kinds(_manifests("eim-wim"))
    policy = objects["NetworkPolicy"]["spec"]
    assert policy["podSelector"]["matchLabels"] == objects["Service"]["spec"]["selector"]
    (ingress,) = policy["ingress"]
    assert ingress["ports"] == [{"port": "http", "protocol": "TCP"}]
    assert ingress["from"] == EIM_WIM["networkPolicy"]["ingressFrom"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert policy["egress"] == EIM_WIM["networkPolicy"]["egress"]
    open_egress = of({"networkPolicy": {"enabled": True}}, "NetworkPolicy")["spec"]
    assert open_egress["policyTypes"] == ["Ingress"] and "egress" not in open_egress
    assert "from" not in open_egress["ingress"][0]
    assert "NetworkPolicy" not in kinds(_manifests("default"))


def test_prometheus_rule_ships_the_tested_alert_rules() -> None:
    rule = kinds(_manifests("eim-wim"))["PrometheusRule"]
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["metadata"]["labels"]["release"] == "prometheus"
    assert rule["spec"] == yaml.safe_load((CHART / "files" / "lbhealth-alerts.yaml").read_text())


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"extraVolumeMounts": [{"name": "x"}]}, "mountPath"),
        ({"networkPolicy": {"enabled": True, "ingres": []}}, "ingres"),
        ({"podLabels": {"tier": 1}}, "/podLabels/tier"),
        ({"serviceAccount": {"name": "Not_A_Name"}}, "/serviceAccount/name"),
        ({"prometheusRule": {"enabled": "yes"}}, "/prometheusRule/enabled"),
        ({"topologySpreadConstraints": [{"maxSkew": 1}]}, "topologyKey"),
    ],
)
def test_schema_rejects_bad_platform_values(values: dict[str, Any], where: str) -> None:
    with pytest.raises(helm.HelmValuesError, match=where):
        render(values)


def secret_checksum(config: helm.Config | None, values: dict[str, Any]) -> str:
    """The Deployment's ``checksum/secret``, rendered against ``config``'s cluster (or none)."""
    with helm.Chart.load(CHART) as chart:
        if config is None:
            rendered = chart.render(values, name=RELEASE, namespace=NAMESPACE)
        else:
            rendered = config.render(chart, values, name=RELEASE, namespace=NAMESPACE)
    deployment = kinds(manifests(rendered))["Deployment"]
    return str(deployment["spec"]["template"]["metadata"]["annotations"]["checksum/secret"])


def test_a_rotated_existing_secret_rolls_the_pods() -> None:
    """Helm reads the existing Secret with ``lookup`` (here from a fake API server): new data,
    new checksum in the pod template, so ``helm upgrade`` after a rotation rolls the pods."""
    values = {
        "replicaCount": 1,  # one replica needs no shared store for the admin API
        "admin": {"existingSecret": "lbhealth-admin", "existingSecretKey": "token"},
    }
    key = (NAMESPACE, "lbhealth-admin")
    with fake_kube() as kube:
        cluster = helm.Config(kubeconfig_content=kube.kubeconfig)
        kube.secrets[key] = {"token": base64.b64encode(b"first-token").decode()}
        first = secret_checksum(cluster, values)
        assert secret_checksum(cluster, values) == first  # same Secret, same pods
        kube.secrets[key] = {"token": base64.b64encode(b"rotated-token").decode()}
        rotated = secret_checksum(cluster, values)
        assert f"/api/v1/namespaces/{NAMESPACE}/secrets/lbhealth-admin" in kube.requests
    assert rotated != first
    # `helm template` has no cluster to read: a stable checksum, no failure.
    assert secret_checksum(None, values) == secret_checksum(None, values)


STORE_URL = "redis+sentinel://:St0re-Pass-421@redis-sentinel.ops.svc:26379/mymaster/0"


def test_the_store_url_goes_to_a_secret_and_nowhere_else() -> None:
    rendered = render({"admin": {"token": "s3cret-admin-token"}, "store": {"url": STORE_URL}})
    objects = kinds(manifests(rendered))
    secret, deployment = objects["Secret"], objects["Deployment"]
    name = secret["metadata"]["name"]
    assert base64.b64decode(secret["data"]["store-url"]).decode() == STORE_URL
    assert base64.b64decode(secret["data"]["admin-token"]).decode() == "s3cret-admin-token"
    env = env_of(deployment)
    assert env["LBHEALTH_STORE"] == {"secretKeyRef": {"name": name, "key": "store-url"}}
    assert env["LBHEALTH_ADMIN_TOKEN"] == {"secretKeyRef": {"name": name, "key": "admin-token"}}
    assert [path for path, text in rendered.items() if "St0re-Pass-421" in text] == []
    assert "checksum/secret" in deployment["spec"]["template"]["metadata"]["annotations"]
    assert "2 replicas share the store" in rendered["lbhealth/templates/NOTES.txt"]


def test_an_existing_store_secret_is_referenced() -> None:
    objects = kinds(_manifests("eim-wim"))
    assert env_of(objects["Deployment"])["LBHEALTH_STORE"] == {
        "secretKeyRef": {"name": "lbhealth-store", "key": "url"}
    }


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"admin": {"token": "t0ken-1234"}},
            "replicaCount 2 with the admin API enabled needs a shared store: a drain or"
            " maintenance set through one replica would not reach the others",
        ),
        (
            {"admin": {"existingSecret": "a"}, "replicaCount": 3},
            "replicaCount 3 with the admin API enabled needs a shared store",
        ),
        ({"store": {"url": STORE_URL, "existingSecret": "s"}}, "either url or existingSecret"),
    ],
)
def test_replicas_that_would_disagree_are_refused(values: dict[str, Any], message: str) -> None:
    with pytest.raises(helm.HelmRenderError) as refused:
        render(values)
    assert message in str(refused.value)
    assert "St0re-Pass-421" not in str(refused.value)


@pytest.mark.parametrize(
    "values",
    [
        {"admin": {"token": "t0ken-1234"}, "replicaCount": 1},  # one replica: nothing to share
        {"admin": {"token": "t0ken-1234"}, "store": {"existingSecret": "s"}},
        {},  # several replicas, admin API off: drain is declared in values
    ],
)
def test_replicas_that_agree_render(values: dict[str, Any]) -> None:
    assert of(values, "Deployment")["kind"] == "Deployment"


def test_a_stopping_pod_answers_until_the_service_dropped_it() -> None:
    deployment = of(None, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    delay = container(deployment)["lifecycle"]["preStop"]["exec"]["command"]
    assert delay == ["sleep", "10"]  # the image has coreutils' sleep (python:3.11-slim)
    assert pod["terminationGracePeriodSeconds"] > int(delay[1])
    assert "lifecycle" not in container(of({"preStopDelaySeconds": 0}, "Deployment"))


def test_rendered_pod_with_a_store_shares_it(
    bg: BackgroundLoop, tmp_path: Path, redis_server: Any
) -> None:
    """The rendered Secret resolved into the pod's environment, served by ``lbhealth serve``."""
    backend = bg.run(SimServer({"/": JBOSS_WELCOME}).start())
    try:
        port = free_port()
        nodes = {"app1": {"checks": [{"kind": "jboss", "url": backend.url()}]}}
        values = {"containerPort": port, "inventory": {"nodes": nodes}}
        values["store"] = {"url": redis_server.url()}
        objects = kinds(manifests(render(values)))
        config = tmp_path / "inventory.yaml"
        config.write_text(objects["ConfigMap"]["data"]["inventory.yaml"], encoding="utf-8")
        secret = objects["Secret"]["data"]
        env = {
            **os.environ,
            **{
                name: base64.b64decode(secret[value["secretKeyRef"]["key"]]).decode()
                if isinstance(value, dict)
                else value
                for name, value in env_of(objects["Deployment"]).items()
            },
            "LBHEALTH_CONFIG": str(config),
            "LBHEALTH_HOST": "127.0.0.1",
        }
        base = f"http://127.0.0.1:{port}"
        with running(lbhealth_command("serve"), tmp_path / "serve.log", env, tmp_path) as proc:
            wait_ready(base, process=proc)
            verbose = httpx.get(f"{base}/readyz?verbose", timeout=5).text
    finally:
        bg.run(backend.stop())
    assert "[+]store connected" in verbose
    assert redis_server.password not in verbose
    assert redis_server.client().keys("lbhealth:verdict:app1/*")  # shared through Redis
