"""Every fenced code block of README.md and docs/*.md is run, checked, or named as covered by a test.

SAMPLES at the end is the table: a block's id (its document, the heading above it, its language,
and `#2`, `#3`... for a later block of the same language under the same heading) -> how it runs.
A block the table does not name fails `test_every_block_has_a_way_to_run`: add its line there,
with a runner below or a new one.

Commands run as printed, with the substitutions a reader would make: the address
http://127.0.0.1:8000 becomes a live server's on a free port, a server a sample starts binds
127.0.0.1 on a free port, and `$(openssl rand -hex 24)` is a fixed token of that shape. What
cannot run on this machine (no container engine, no cluster) is checked as far as it can be:
`docker run` starts the Dockerfile's ENTRYPOINT and CMD here with the same environment, and the
files `docker compose` and `kubectl` are given exist and read what the lines set.
"""

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.helpers import API_KEY, DOCUMENTED_CHATBOT, REPO, container_command, doc_blocks, require

ADDRESS = "http://127.0.0.1:8000"
# What `$(openssl rand -hex 24)` would print: a token of the same shape.
SAMPLE_TOKEN = "0123456789abcdef" * 3
BIN = str(Path(sys.executable).parent)  # conversations-mock, python and mkdocs of this checkout's venv


def block_ids(blocks):
    """{id: block}: "document > heading [language]", then " #2", " #3" for later ones of the same kind."""
    ids, seen = {}, {}
    for block in blocks:
        base = f"{block['document']} > {block['heading']} [{block['language']}]"
        seen[base] = seen.get(base, 0) + 1
        ids[base if seen[base] == 1 else f"{base} #{seen[base]}"] = block
    return ids


BLOCKS = block_ids(doc_blocks())


# --- How a block runs: each runner takes the block's text and the test's `request` -----------------------

def environment(**overrides):
    """The machine's environment with this venv first on PATH and no mock setting but those given."""
    from conversations_mock.settings import SETTINGS

    env = {name: value for name, value in os.environ.items()
           if name not in {setting.variable for setting in SETTINGS.values()}}
    return {**env, "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}", **overrides}


def http_get(url, headers=None):
    """(status, body text) of a GET; errors are answers too."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:  # closes its connection, which a server stopping would otherwise wait for
            return error.code, error.read().decode()


def shell(*serve_args, server=True, expect=()):
    """Run the block with bash (-euo pipefail) in an empty directory, against a live server started with
    `serve_args` (default one worker); it must exit 0 and print each of `expect`."""

    def run(text, request):
        tmp_path = request.getfixturevalue("tmp_path")
        if server:
            url = request.getfixturevalue("live_server")(*(serve_args or ("--workers", "1"))).url
            text = text.replace(ADDRESS, url)
        (tmp_path / "cwd").mkdir()
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", text], cwd=tmp_path / "cwd", env=environment(),
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        for expected in expect:
            assert expected in result.stdout, result.stdout
        return result

    return run


def generate_then_serve(text, request):
    """The generate block, then the file it wrote served from a fixtures directory of its own."""
    shell(server=False)(text + "mkdir my-fixtures && mv frozen.json my-fixtures/\n", request)
    directory = request.getfixturevalue("tmp_path") / "cwd" / "my-fixtures"
    server = request.getfixturevalue("live_server")("--workers", "1", "--fixtures", str(directory))
    chatbot = json.loads((directory / "frozen.json").read_text(encoding="utf-8"))["chatbots"][0]
    status, body = http_get(f"{server.url}/chatbots/{chatbot['id']}/conversations?page_size=100",
                            {"X-API-Key": "15a23c21867f4f38b0b46f5e4adb1caf87a040b34eb58f68"})
    assert (status, json.loads(body)) == (200, chatbot["conversations"])


def commands(text, request):
    """Each line by its program: `make` dry-run (`make -n`: the target exists and its commands expand),
    `conversations-mock serve` started and probed, `docker`, `kubectl` checked as LINE_CHECKS says."""
    lines = [line for line in text.replace("\\\n", " ").splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines
    context = {}
    for line in lines:
        line = re.sub(r"\s+#.*$", "", line)  # a trailing comment; no sample quotes a #
        line = line.replace("$(openssl rand -hex 24)", SAMPLE_TOKEN)
        program = re.sub(r"^(\w+=\S+\s+)*", "", line).split()[0]  # after VAR=value assignments
        LINE_CHECKS[program](line, request, context)


def make_dry_run(line, request, context):
    venv = request.getfixturevalue("tmp_path") / "venv"
    env = {name: value for name, value in environment().items()
           if name not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}  # as if typed in a shell, not under our make
    args = shlex.split(line)[1:]
    result = subprocess.run(["make", "-n", "-C", str(REPO), f"VENV={venv}", *args], env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def serving(command, env, request):
    """Start `command` (a shell line) in a process group of its own; the server's URL once /healthz answers."""
    log = request.getfixturevalue("tmp_path") / f"serve{time.monotonic_ns()}.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(["bash", "-c", command], stdout=output, stderr=subprocess.STDOUT, env=env,
                                   cwd=request.getfixturevalue("tmp_path"), start_new_session=True)

    def stop():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                raise

    request.addfinalizer(stop)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        text = log.read_text(errors="replace")
        # Every worker ready, as LiveServer waits: a SIGTERM to the group while one boots waits graceful_timeout.
        found = re.search(r"serving on (http://127\.0\.0\.1:\d+) .* with (\d+) workers?", text)
        if found and len(re.findall(r"worker \d+ ready", text)) >= int(found.group(2)):
            assert http_get(found.group(1) + "/healthz")[0] == 200
            return found.group(1), log
        time.sleep(0.1)
    stop()
    pytest.fail(f"{command!r} did not serve: {log.read_text(errors='replace')}")


def control_api_is_protected(url, token):
    """With a token set, a control request without it is refused and one with it answered."""
    assert http_get(f"{url}/__mock/requests")[0] == 401
    assert http_get(f"{url}/__mock/requests", {"Authorization": f"Bearer {token}"})[0] == 200


def serve_line(line, request, context):
    """`[VAR=...] conversations-mock serve ...` as printed, on 127.0.0.1 and a free port, one worker."""
    line = re.sub(r"--host \S+", "--host 127.0.0.1", re.sub(r"--port \d+", "--port 0", line))
    url, _ = serving(line, environment(PORT="0", MOCK_WORKERS="1"), request)
    if "MOCK_ADMIN_TOKEN=" in line:
        control_api_is_protected(url, SAMPLE_TOKEN)


def expanded(line, request):
    """The line's words after the shell's expansions ($(...), quotes), without running its program."""
    result = subprocess.run(["bash", "-c", f'printf "%s\\0" {line}'], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    words = result.stdout.split("\0")[:-1]
    return words[next(i for i, word in enumerate(words) if not re.match(r"\w+=", word)):]


def docker_line(line, request, context):
    """`docker build -t NAME .`: the Dockerfile is in that context. `docker run -p H:C -e ... NAME`: NAME was
    built, C is the port the image EXPOSEs, and the image's ENTRYPOINT and CMD, started here with the same
    environment (its ENV lines and the -e ones; 127.0.0.1 and a free port for 0.0.0.0 and C), serve /healthz.
    `VAR=... docker compose up --build`: compose.yaml reads each VAR from the environment."""
    words = expanded(line, request)
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    if words[1] == "build":
        context["image"] = words[words.index("-t") + 1]
        assert words[-1] == "." and (REPO / "Dockerfile").is_file()
    elif words[1] == "run":
        assert words[-1] == context.get("image", "conversations-mock"), "docker run names the image built"
        published = dict(words[i + 1].split(":")[::-1] for i, word in enumerate(words) if word == "-p")
        variables = dict(words[i + 1].split("=", 1) for i, word in enumerate(words) if word == "-e")
        exposed = re.search(r"^EXPOSE (\d+)$", dockerfile, re.M).group(1)
        assert list(published) == [variables.get("PORT", exposed)]
        local = {"0.0.0.0": "127.0.0.1", exposed: "0"}  # loopback and a free port, for the container's
        argv = [local.get(word, word) for word in container_command()]
        final_stage = dockerfile.rsplit("\nFROM ", 1)[-1]
        image_env = dict(pair.split("=", 1) for line in re.findall(r"^ENV (.+)$", final_stage, re.M)
                         for pair in shlex.split(line))
        image_env = {name: local.get(value, value) for name, value in image_env.items()}
        env = environment(**{**image_env, "MOCK_WORKERS": "1", **variables, "PORT": "0"})
        url, _ = serving(shlex.join(argv), env, request)
        if "MOCK_ADMIN_TOKEN" in variables:
            control_api_is_protected(url, variables["MOCK_ADMIN_TOKEN"])
    else:
        assert words[1:] == ["compose", "up", "--build"]
        compose = (REPO / "compose.yaml").read_text(encoding="utf-8")
        for assignment in re.findall(r"\b([A-Z_]+)=", line.split("docker", 1)[0]):
            assert f"${{{assignment}" in compose, f"compose.yaml does not read {assignment}"


def kubectl_line(line, request, context):
    """`kubectl create secret generic NAME --from-literal=KEY=...`: a manifest reads that secret's key.
    `kubectl apply -f DIR`: DIR holds the manifests, each parses."""
    words = expanded(line, request)
    manifests = [document for path in sorted((REPO / "deploy" / "k8s").glob("*.yaml"))
                 for document in yaml.safe_load_all(path.read_text(encoding="utf-8"))]
    if words[1:4] == ["create", "secret", "generic"]:
        key = words[5].removeprefix("--from-literal=").split("=", 1)[0]
        read = [found for found in walk(manifests, "secretKeyRef")]
        assert {"name": words[4], "key": key} in read, f"no manifest reads secret {words[4]}'s {key}: {read}"
    else:
        assert words[1:3] == ["apply", "-f"] and (REPO / words[3]).is_dir() and manifests


def walk(value, name):
    """Every value under the key `name`, anywhere in nested dicts and lists."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from [inner] if key == name else walk(inner, name)
    elif isinstance(value, list):
        for inner in value:
            yield from walk(inner, name)


LINE_CHECKS = {"make": make_dry_run, "conversations-mock": serve_line, "docker": docker_line,
               "kubectl": kubectl_line}


def bench_lines(text, request):
    """`make bench` lines dry-run; `tests/bench/run.py` lines (a benchmark: never run by tests) give only options
    its --help lists."""
    options = subprocess.run([sys.executable, str(REPO / "tests" / "bench" / "run.py"), "--help"],
                             capture_output=True, text=True, timeout=60, cwd=REPO).stdout
    for line in text.splitlines():
        line = re.sub(r"\s+#.*$", "", line)
        if line.startswith("make "):
            make_dry_run(line, request, {})
        else:
            assert line.split()[1] == "tests/bench/run.py"
            for option in re.findall(r"\s(--[a-z-]+)", line):
                assert f"{option} " in options, option


def json_answer(path, config=None, status=200, key=None):
    """The JSON block is what the app (built with `config`) answers to GET `path`, sent with the API `key`."""

    def run(text, request):
        from conversations_mock import create_app

        response = create_app(config).test_client().get(path, headers={"X-API-Key": key} if key else {})
        assert (response.status_code, json.loads(text)) == (status, response.json)

    return run


def fixture_file(text, request):
    """The JSON block, saved as my-fixtures/chatbots.json and served with --fixtures: each chatbot answers
    its listed conversations, or its generated count."""
    from conversations_mock import create_app

    directory = request.getfixturevalue("tmp_path") / "my-fixtures"
    directory.mkdir()
    (directory / "chatbots.json").write_text(text, encoding="utf-8")
    client = create_app({"fixtures_dir": str(directory)}).test_client()
    for chatbot in json.loads(text)["chatbots"]:
        response = client.get(f"/chatbots/{chatbot['id']}/conversations", headers={"X-API-Key": "a" * 48})
        listed = chatbot.get("conversations")
        total = len(listed) if listed is not None else chatbot["generated"]["count"]
        assert (response.status_code, response.headers["X-Total-Count"]) == (200, str(total))
        if listed is not None:
            assert [c["id"] for c in response.json] == [c["id"] for c in listed]


def node(expect=(), args=(), exit=0):
    """The script, saved as an .mjs file, run by Node (with `args`, e.g. --test) against a live server; it
    exits with `exit` and prints each of `expect`."""

    def run(text, request):
        program = require("node")
        url = request.getfixturevalue("live_server")("--workers", "1").url
        script = request.getfixturevalue("tmp_path") / "sample.mjs"
        script.write_text(text.replace(ADDRESS, url), encoding="utf-8")
        result = subprocess.run([program, *args, str(script)], capture_output=True, text=True, timeout=60)
        assert result.returncode == exit, result.stdout + result.stderr
        for expected in expect:
            assert expected in result.stdout, result.stdout

    return run


def python_script(expect=()):
    """The script, run by this venv's Python against a live server (two workers); it prints each of expect."""

    def run(text, request):
        url = request.getfixturevalue("live_server")("--workers", "2").url
        result = subprocess.run([sys.executable, "-c", text.replace(ADDRESS, url)], env=environment(),
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
        for expected in expect:
            assert expected in result.stdout, result.stdout

    return run


def client_test(text, request):
    """The block as a test module of a client project using the plugin: it passes, and fails when its client
    retries at once instead (the same test with the Retry replaced by none)."""
    project = request.getfixturevalue("tmp_path")
    (project / "test_client.py").write_text(text, encoding="utf-8")
    hasty = text.replace("retries=retry", "retries=urllib3.Retry(total=4, status_forcelist=[503], "
                                          "respect_retry_after_header=False)")
    assert hasty != text
    (project / "test_hasty_client.py").write_text(hasty, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(project)],
                            cwd=project, env=environment(), capture_output=True, text=True, timeout=120)
    assert "1 failed, 1 passed" in result.stdout, result.stdout + result.stderr
    assert "FAILED test_hasty_client.py" in result.stdout and "- retry-before-retry-after: " in result.stdout


def playwright_config(text, request):
    """Node loads the config; its webServer command is a make target here, and its url answers on a live server."""
    program = require("node")
    path = request.getfixturevalue("tmp_path") / "playwright.config.js"
    path.write_text(text, encoding="utf-8")
    loaded = subprocess.run([program, "-e", f"console.log(JSON.stringify(require({str(path)!r})))"],
                            capture_output=True, text=True, timeout=60)
    assert loaded.returncode == 0, loaded.stderr
    server = json.loads(loaded.stdout)["webServer"]
    target = re.fullmatch(r"make -C \.\./conversations-mock (\w+)", server["command"]).group(1)
    make_dry_run(f"make {target}", request, {})
    url = request.getfixturevalue("live_server")("--workers", "1").url
    assert http_get(server["url"].replace(ADDRESS, url))[0] == 200


def plugin_settings(text, request):
    """The block as a client project's conftest.py: a test there sees the settings it returns."""
    project = request.getfixturevalue("tmp_path")
    (project / "conftest.py").write_text("import pytest\n\n\n" + text, encoding="utf-8")
    (project / "test_settings.py").write_text(
        "import json, urllib.request\n\n"
        "def test_settings(conversations_mock):\n"
        "    assert conversations_mock.url.endswith('/v1')\n"
        "    url = conversations_mock.conversations_url('0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11')\n"
        "    request = urllib.request.Request(url, headers={'X-API-Key': conversations_mock.api_key})\n"
        "    with urllib.request.urlopen(request, timeout=10) as response:\n"
        "        assert response.headers['X-Total-Count'] == '100'\n",
        encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(project)],
                            cwd=project, env=environment(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "1 passed" in result.stdout, result.stdout + result.stderr


def yaml_document(text, request):
    """Parsed as YAML (a CI provider's workflow: not run here); its control request names a route of the mock."""
    workflow = yaml.safe_load(text)
    steps = " ".join(step.get("run", "") for step in workflow["jobs"]["e2e"]["steps"])
    assert "/__mock/reset" in steps and "X-Mock-Namespace" in steps


def same_as_file(path):
    """The block is the file, verbatim; the file is a test module of the suite, run by `make test`."""

    def run(text, request):
        assert text == (REPO / path).read_text(encoding="utf-8")

    return run


def included(path, run_by):
    """The block includes `path` (pymdownx.snippets); `run_by` runs that file."""

    def run(text, request):
        assert text == f'--8<-- "{path}"\n' and (REPO / path).is_file()
        assert Path(path).name in (REPO / run_by).read_text(encoding="utf-8") or path == run_by

    return run


def same_as(module, name):
    """The block equals `module`.`name`, the text a test writes and runs (tests/live/test_packaging.py)."""

    def run(text, request):
        import importlib

        assert text == getattr(importlib.import_module(module), name)

    return run


def output(checked_by, fragment):
    """Not a command: output shown as an example; `checked_by` asserts its form (it contains `fragment`)."""

    def run(text, request):
        assert fragment in text and fragment in (REPO / checked_by).read_text(encoding="utf-8")

    return run


def covered_by(test, fragment):
    """Cannot run as printed (a placeholder path or host); `test` does the same (it contains `fragment`)."""

    def run(text, request):
        assert fragment in (REPO / test).read_text(encoding="utf-8")

    return run


FIRST_REQUEST = shell(expect=("HTTP/1.1 200", "X-Total-Count: 10"))

# --- The table ---------------------------------------------------------------------------------------------

SAMPLES = {
    # README.md
    "README.md > The two commands [sh]": commands,
    "README.md > One request [sh]": FIRST_REQUEST,
    "README.md > Docker [sh]": commands,
    "README.md > From a pytest suite [python]": same_as_file("tests/test_pytest_plugin_example.py"),
    "README.md > From another language [js]": node(expect=("10 conversations",)),
    # docs/getting-started.md
    "docs/getting-started.md > The two commands [sh]": commands,
    "docs/getting-started.md > The first request [sh]": FIRST_REQUEST,
    "docs/getting-started.md > The first request [sh] #2": shell(expect=("HTTP/1.1 200", "X-Total-Count: ")),
    "docs/getting-started.md > Use it from your project [sh]": covered_by(
        "tests/live/test_packaging.py", '"pip", "wheel", "--no-deps"'),
    "docs/getting-started.md > Use it from your project [sh] #2": shell(server=False),
    # docs/settings.md
    "docs/settings.md > Settings [sh]": commands,
    "docs/settings.md > Safe defaults and limits [text]": output("tests/web/test_safety.py", "request_id="),
    # docs/scenarios.md
    "docs/scenarios.md > `Prefer`: one request's scenario [sh]": shell(
        expect=("HTTP/1.1 503", "Preference-Applied: delay=2000, code=503")),
    "docs/scenarios.md > Server-wide latency and errors [sh]": commands,
    "docs/testing-failures.md > Transport faults [sh]": shell("--workers", "2", expect=(
        "connection-reset: curl exit 56", "empty-response: curl exit 52", "malformed-chunk: curl exit 56",
        "random-data-then-close: curl exit 1", "truncated-body: curl exit 18", "dribbled: 200", "Retry-After: 5")),
    "docs/testing-failures.md > A sequence: 503 twice, then 200 [sh]": shell(
        "--workers", "2", expect=("200\n", "[200, 503, 503]")),
    "docs/testing-failures.md > A sequence: 503 twice, then 200 [python]": python_script(
        expect=("200 [503, 503]",)),
    "docs/testing-failures.md > Rate limits [sh]": commands,
    "docs/testing-failures.md > Rate limits [text]": output(
        "tests/web/test_limits.py", '"default";q=100;w=60'),
    "docs/testing-failures.md > Rate limits [sh] #2": shell("--workers", "2", expect=(
        "HTTP/1.1 429", 'RateLimit-Policy: "default";q=2;w=60', "X-RateLimit-Remaining: 1", "Retry-After: ",
        '{"rate_limit":"2/min","source":"namespace"}')),
    "docs/testing-failures.md > Verdicts [sh]": shell("--workers", "2", expect=(
        '"kind": "retry-before-retry-after"', "3 request(s) with one API key", "asked to wait 2 s")),
    "docs/testing-failures.md > Verdicts [python]": client_test,
    "docs/testing-failures.md > From a node test [js]": node(
        args=("--test",), exit=1, expect=("retry-before-retry-after: 2 request(s) with one API key",)),
    # docs/dashboard.md
    "docs/dashboard.md > The dashboard [sh]": shell(expect=("200 text/html; charset=utf-8",)),
    # docs/endpoint.md
    "docs/endpoint.md > Errors [sh]": shell(expect=('"status":422', '"pagesize"')),
    "docs/endpoint.md > Errors [json]": json_answer(
        f"/chatbots/{DOCUMENTED_CHATBOT}/conversations?pagesize=5", status=422, key=API_KEY),
    "docs/endpoint.md > The root page and the health check [json]": json_answer("/", {"base_path": "/v1"}),
    # docs/control-api.md
    "docs/control-api.md > With curl [sh]": shell(
        "--workers", "2", expect=('"namespace":"team-a"', '"status":200', "X-Total-Count: 1")),
    "docs/control-api.md > Fault rules [sh]": shell(
        "--workers", "2", expect=("503 503 200", '"times_left":0')),
    "docs/control-api.md > Parallel CI jobs [sh]": commands,
    "docs/control-api.md > Parallel CI jobs [yaml]": yaml_document,
    # docs/data.md
    "docs/data.md > Fixture files [json]": fixture_file,
    "docs/data.md > Fixture files [text]": output("tests/data/test_fixtures.py", "chatbots[0].conversations["),
    "docs/data.md > Editing fixtures while it runs [text]": output("tests/web/test_reload.py", "fixtures reloaded: "),
    "docs/data.md > Editing fixtures while it runs [text] #2": output(
        "tests/web/test_reload.py", "fixtures not reloaded, still serving the last good data"),
    "docs/data.md > The clock [sh]": commands,
    "docs/data.md > The clock [sh] #2": shell(expect=("Preference-Applied: clock=", "X-Total-Count: ")),
    "docs/data.md > Freezing data: `generate` [sh]": generate_then_serve,
    # docs/verify.md
    "docs/verify.md > Checking a real deployment: `verify` [sh]": shell(expect=("OK: no mismatches",)),
    "docs/verify.md > Checking a real deployment: `verify` [text]": output("tests/commands/test_verify.py", "FAIL: "),
    # docs/pytest-plugin.md
    "docs/pytest-plugin.md > The pytest plugin [python]": plugin_settings,
    "docs/pytest-plugin.md > A complete example [python]": included(
        "tests/test_pytest_plugin_example.py", "tests/test_pytest_plugin_example.py"),
    "docs/pytest-plugin.md > In a project of your own [toml]": same_as("tests.live.test_packaging", "CLIENT_PYPROJECT"),
    "docs/pytest-plugin.md > In a project of your own [python]": same_as("tests.live.test_packaging", "CLIENT_TEST"),
    # docs/other-languages.md
    "docs/other-languages.md > Node [js]": node(expect=("10 conversations",)),
    "docs/other-languages.md > Waiting for the server [sh]": shell(expect=('"status":"ok"',)),
    "docs/other-languages.md > Waiting for the server [js]": playwright_config,
    "docs/other-languages.md > A Playwright test (TypeScript) [ts]": included(
        "tests/live/playwright/conversations.spec.ts", "tests/live/test_playwright_example.py"),
    # docs/deployment.md
    "docs/deployment.md > Docker [sh]": commands,
    "docs/deployment.md > Docker [sh] #2": commands,
    "docs/deployment.md > Compose [sh]": commands,
    "docs/deployment.md > Kubernetes [sh]": commands,
    # docs/performance.md, docs/benchmarks.md
    "docs/performance.md > `make bench` [sh]": bench_lines,
    "docs/benchmarks.md > Reproduce [sh]": bench_lines,
}


def test_every_block_has_a_way_to_run():
    missing = [block_id for block_id in BLOCKS if block_id not in SAMPLES]
    assert missing == [], f"add these blocks to SAMPLES in {Path(__file__).name}: {missing}"


def test_the_table_names_only_blocks_that_exist():
    assert [block_id for block_id in SAMPLES if block_id not in BLOCKS] == []


@pytest.mark.live  # most runners start a server (through getfixturevalue, which collection cannot see)
@pytest.mark.parametrize("block_id", [block_id for block_id in BLOCKS if block_id in SAMPLES])
def test_the_sample_runs(block_id, request):
    SAMPLES[block_id](BLOCKS[block_id]["text"], request)
