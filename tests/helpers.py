"""Helpers the tests share: the documented chatbot and key, one request as a client sees it, a live server."""

import contextlib
from pathlib import Path

DOCUMENTED_CHATBOT = "5afe16ed-5fd2-4552-a993-903bc9c32bb6"
GENERATED_CHATBOT = "0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11"
API_KEY = "15a23c21867f4f38b0b46f5e4adb1caf87a040b34eb58f68"
# The generated chatbot's listing, and its conversations in the control API.
GENERATED_LISTING = f"/chatbots/{GENERATED_CHATBOT}/conversations"
GENERATED_CONTROL = f"/__mock{GENERATED_LISTING}"
REPO = Path(__file__).resolve().parents[1]


# The fixture files the package ships (fixtures/): the tests expect these chatbots and no other listed ones.
SHIPPED_FIXTURES = ("documented-example.json",)


def unexpected_fixture_files(folder) -> list:
    """The names of the fixture files in the package's fixtures `folder` that it does not ship."""
    return sorted(path.name for path in Path(folder).glob("*.json") if path.name not in SHIPPED_FIXTURES)


DOCUMENTS = ["README.md", *sorted(path.relative_to(REPO).as_posix() for path in (REPO / "docs").rglob("*.md"))]


def doc_blocks(documents=DOCUMENTS):
    """Every fenced code block of the README and docs/*.md, in order, as dicts.

    Each has `document`, `heading` (the nearest heading above, without its #s), `language` (the
    fence's info word, "" when none), `text` (the block's lines, the fence's indentation removed) and
    `line` (the opening fence's line number).
    """
    import re

    blocks = []
    for document in documents:
        heading, fence = "", None
        for number, line in enumerate((REPO / document).read_text(encoding="utf-8").splitlines(), 1):
            if fence is None:
                opening = re.match(r"( *)(```+)(\S*)", line)
                if opening:
                    indent, marks, language = opening.groups()
                    fence, lines = (indent, marks), []
                    block = {"document": document, "heading": heading, "language": language, "line": number}
                elif line.startswith("#"):
                    heading = line.lstrip("#").strip()
            elif line.strip() == fence[1]:
                blocks.append({**block, "text": "".join(f"{text}\n" for text in lines)})
                fence = None
            else:
                lines.append(line.removeprefix(fence[0]))
    return blocks


def documented_commands(program="conversations-mock"):
    """The `program` command lines of the README's and the docs' sh blocks, each split as a shell would (argv[1:])."""
    import shlex

    commands = []
    for block in doc_blocks():
        if block["language"] != "sh":
            continue
        for line in block["text"].replace("\\\n", " ").splitlines():
            argv = shlex.split(line, comments=True)
            while argv and "=" in argv[0] and not argv[0].startswith("-"):  # VAR=value before the program
                argv = argv[1:]
            if argv and argv[0] == program:
                commands.append(argv[1:])
    return commands


def api_get(client, path=GENERATED_LISTING, namespace=None, **headers):
    """GET an API path with the key (and X-Mock-Namespace, when `namespace` is given)."""
    if namespace:
        headers["X-Mock-Namespace"] = namespace
    return client.get(path, headers={"X-API-Key": API_KEY, **headers})


def requests_behind(app, layer):
    """The paths of the requests that pass the app's WSGI `layer` (e.g. "fast") to what stands behind it."""
    wrapper = app.extensions["layers"][layer]
    inner, calls = wrapper.wsgi_app, []

    def counted(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    wrapper.wsgi_app = counted
    return calls


def answer(app, path, headers=None, method="GET", key=API_KEY, **environ):
    """(status, headers but X-Request-ID, body) of one request, as a client sees them.

    `key` goes in X-API-Key unless None (or `headers` names another); `environ` overrides the WSGI environ.
    """
    headers = {**({"X-API-Key": key} if key else {}), **(headers or {})}
    response = app.test_client().open(path, method=method, headers=headers, environ_overrides=environ)
    kept = [(name, value) for name, value in response.headers if name.lower() != "x-request-id"]
    return response.status, kept, response.get_data()


def demo_flags() -> list[str]:
    """The flags `make demo` serves with, as the Makefile's demo recipe gives them."""
    import re

    recipe = re.search(r"^demo:.*\n\t(.*)$", (REPO / "Makefile").read_text(), re.MULTILINE).group(1)
    return recipe.split(" serve ", 1)[1].split()


class LiveServer:
    """A `conversations-mock serve` process on 127.0.0.1 (or 0.0.0.0, given --host), port chosen by the OS.

    `program` is the command to run (default: this checkout's, with the running interpreter), `cwd` its
    working directory; its log goes to LOG_DIR/server.log. `address` is the host and port given before
    `args`; None gives neither, so that `args` and the environment (MOCK_HOST, PORT) decide, as in the container.
    """

    def __init__(self, args, env, program=None, cwd=REPO, new_session=False, address=("127.0.0.1", "0")):
        import re
        import subprocess
        import sys
        import time

        self.log_path = Path(env["LOG_DIR"]) / "server.log"
        self._log = open(self.log_path, "w+b")
        program = program or [sys.executable, "-m", "conversations_mock.commands.cli"]
        command = [*program, "serve", *(["--host", address[0], "--port", address[1]] if address else []), *args]
        # new_session: the server and its workers get a process group of their own, which a test may
        # signal whole (os.killpg) as a shell's Ctrl-C or a service manager does, without signalling pytest.
        self.process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=new_session
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            log = self.log_path.read_bytes()
            match = re.search(rb"serving on http://(?:127\.0\.0\.1|0\.0\.0\.0):(\d+) .* with (\d+) workers?", log)
            if match and len(re.findall(rb"worker \d+ ready", log)) >= int(match.group(2)):
                self.url = f"http://127.0.0.1:{match.group(1).decode()}"  # a server on 0.0.0.0 is reached on loopback
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server did not start: {self.log()}")

    def log(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout=30):
        """SIGTERM the server and wait for it to exit; return its exit status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except Exception:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode


def free_port() -> int:
    """A TCP port nothing on 127.0.0.1 listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def require(program: str) -> str:
    """The path of a Debian program the test needs (tests/system.py names them all).

    Missing, the test skips, naming the program and the command that installs it, or fails under CI=true,
    where `make test` installed everything and a missing program is a broken machine. Also usable at a
    test module's top level.
    """
    import pytest

    from tests import system

    found = system.find(program)
    if found is None:
        message = f"{program} is not installed, for {system.PROGRAMS[program][1]}: {system.install_command([program])}"
        if system.in_ci():
            pytest.fail(message + " (CI=true: a missing program fails)", pytrace=False)
        pytest.skip(message, allow_module_level=True)
    return found


class RedisServer:
    """Debian's redis-server on 127.0.0.1 in `directory`, no persistence (--save '' --appendonly no)."""

    def __init__(self, directory: Path):
        import redis

        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = Path(directory)
        self.log_path = self.directory / "redis.log"
        self.client = redis.Redis(port=self.port, socket_timeout=5)
        self._start()

    def _start(self):
        """Run redis-server on self.port and wait (bounded) until it answers."""
        import subprocess
        import time

        import redis

        self.process = subprocess.Popen(
            [require("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", str(self.directory),
             "--logfile", str(self.log_path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                self.client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not start: {self.log_path.read_text(errors='replace')}")

    def pause(self):
        """SIGSTOP: connections stay open but nothing answers, as with a hung or overloaded Redis."""
        import signal

        self.process.send_signal(signal.SIGSTOP)

    def resume(self):
        import signal

        self.process.send_signal(signal.SIGCONT)

    def used_memory(self) -> int:
        """INFO memory's used_memory, in bytes."""
        return int(self.client.info("memory")["used_memory"])

    def restart(self):
        """Stop redis-server and start it again on the same port: without persistence, it comes back empty."""
        self.stop()
        self._start()

    def stop(self):
        self.resume()
        self.process.terminate()
        self.process.wait(10)


def nginx_config(directory: Path, port: int, upstreams) -> Path:
    """deploy/nginx.conf, rewritten to run unprivileged from `directory`: listening on 127.0.0.1:`port`,
    its upstream the 127.0.0.1 `upstreams` ports instead of the `mock` service, pid, logs and temp files there."""
    import os
    import re

    text = (REPO / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    # The servers replace `server mock:8000 resolve ...;` without `resolve`: they are fixed addresses with no name
    # to look up, and Debian's nginx (1.22) lacks `resolve` in upstream blocks (open source since 1.27.3; compose
    # runs nginx 1.28). The retry policy, zone and keepalive are the file's own; only the resolving differs.
    servers = "".join(f"server 127.0.0.1:{upstream} max_fails=1 fail_timeout=2s;\n        " for upstream in upstreams)
    text, replaced = re.subn(r"server mock:8000[^;]*;\n\s*", servers, text)
    assert replaced == 1, "deploy/nginx.conf has no 'server mock:8000 ...;' line to replace"
    text, replaced = re.subn(r"listen 8000;", f"listen 127.0.0.1:{port};", text)
    assert replaced == 1, "deploy/nginx.conf has no 'listen 8000;' line to replace"
    temp = "".join(f"    {kind}_temp_path {directory}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    text = text.replace("http {\n", "http {\n" + temp, 1)
    user = "user root root;\n" if os.geteuid() == 0 else ""  # as root, nginx's workers would run as nobody
    head = f"daemon off;\n{user}pid {directory}/nginx.pid;\nerror_log {directory}/error.log warn;\n"
    path = Path(directory) / "nginx.conf"
    path.write_text(head + text, encoding="utf-8")
    return path


class Nginx:
    """Debian's nginx on 127.0.0.1, a free port, in front of the given 127.0.0.1 upstream ports."""

    def __init__(self, directory: Path, upstreams):
        import subprocess
        import time

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.directory = Path(directory)
        config = nginx_config(self.directory, self.port, upstreams)
        self.process = subprocess.Popen([require("nginx"), "-p", str(directory), "-c", str(config)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        import socket

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"nginx did not start: {self.errors()}")

    def errors(self) -> str:
        path = self.directory / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def container_command() -> list[str]:
    """The Dockerfile's ENTRYPOINT and CMD (exec form), as the container runs them."""
    import json
    import re

    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    entrypoint = json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", text, re.M).group(1))
    command = json.loads(re.search(r"^CMD (\[.*\])$", text, re.M).group(1))
    return entrypoint + command


def container_health_check() -> list[str]:
    """The Dockerfile's HEALTHCHECK command (exec form)."""
    import json
    import re

    text = (REPO / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    return json.loads(re.search(r"^HEALTHCHECK .*? CMD (\[.*\])$", text, re.M).group(1))


def sample_conversations(chatbot_id, count=3, states=("in_progress", "resolved", "closed")):
    """`count` conversations in the API's shape for `chatbot_id`, oldest first, made from the documented ones.

    Conversation i is created i minutes after 2025-03-01 00:00 UTC, has id 00000000-0000-4000-0000-{i:012x}
    and state states[i % len(states)].
    """
    import json
    import uuid

    fixture = json.loads((REPO / "fixtures" / "documented-example.json").read_text(encoding="utf-8"))
    documented = fixture["chatbots"][0]["conversations"]
    return [
        {**documented[i % len(documented)], "chatbot_id": chatbot_id, "id": str(uuid.UUID(int=(0x4000 << 64) | i)),
         "created_at": f"2025-03-01T{i // 60 % 24:02d}:{i % 60:02d}:00.000000+00:00",
         "state": states[i % len(states)], "active": states[i % len(states)] == "in_progress"}
        for i in range(count)
    ]


# How the tests start Debian's chromium headless (never Playwright's own browser download): as root,
# without the sandbox, and with nothing that reaches for the network on its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """The chromium the browser tests drive: $CHROMIUM, else Debian's."""
    import os
    import shutil

    return os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def call(url, method="GET", body=None, **headers):
    """(status, parsed JSON body or None) of one request on a new connection; an error status is an answer too."""
    import json
    import urllib.error
    import urllib.request

    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            content = response.read()
            return response.status, json.loads(content) if content else None
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def fault_errors():
    """What `requests` raises for each transport fault: (exception class, the cause its text names)."""
    import requests

    return {
        "connection-reset": (requests.ConnectionError, "ConnectionResetError"),
        "empty-response": (requests.ConnectionError, "RemoteDisconnected"),
        "malformed-chunk": (requests.exceptions.ChunkedEncodingError, "InvalidChunkLength"),
        "random-data-then-close": (requests.ConnectionError, "BadStatusLine"),
        "truncated-body": (requests.exceptions.ChunkedEncodingError, "IncompleteRead"),
    }


def worker_pids(server) -> list:
    """The pids of a live server's workers, as each said when ready."""
    import re

    return [int(pid) for pid in re.findall(r"worker (\d+) ready", server.log())]


@contextlib.contextmanager
def only_worker(workers, worker):
    """Within the block, `worker` alone accepts connections: the others are stopped (SIGSTOP) until it ends.

    Sequential requests otherwise land wherever the kernel wakes a listener, often all on one worker.
    """
    import os
    import signal

    others = [pid for pid in workers if pid != worker]
    try:
        for pid in others:
            os.kill(pid, signal.SIGSTOP)
            wait_until_stopped(pid)
        yield worker
    finally:
        for pid in others:
            os.kill(pid, signal.SIGCONT)


def wait_until_stopped(pid, timeout=5.0):
    """Wait until the kernel has stopped process `pid` (state T in /proc/PID/stat) after a SIGSTOP.

    A signal is delivered when it is: a process running on the other core goes on for a moment.
    """
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            if stat.read().rsplit(")", 1)[1].split()[0] in ("T", "t"):
                return
        time.sleep(0.001)
    raise AssertionError(f"process {pid} did not stop within {timeout} s")


def launched_chromium(sync_api, timeout_ms, extra_args=()):
    """Headless Debian chromium through Playwright's `sync_api`, or a skip naming why there is none.

    A generator for a fixture (`yield from launched_chromium(...)`): the browser is closed after it.
    """
    import os

    import pytest

    executable = chromium_path()
    if not os.path.exists(executable):
        require("chromium")
    with sync_api.sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=executable, timeout=timeout_ms,
                                                  args=[*CHROMIUM_ARGS, *extra_args])
        except sync_api.Error as error:
            pytest.skip(f"chromium at {executable} does not start: {str(error).splitlines()[0]}")
        yield launched
        launched.close()
