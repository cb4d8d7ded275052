"""The real gunicorn server serves the documented example, and its banner says how to ask for it."""

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
from importlib.metadata import version

import pytest

from conversations_mock.settings import SETTINGS
from tests.helpers import (API_KEY, DOCUMENTED_CHATBOT, GENERATED_LISTING, LiveServer, container_command,
                           container_health_check, free_port, only_worker, worker_pids)


def test_gunicorn_serves_documented_chatbot(live_server, documented_example):
    server = live_server("--workers", "2")
    request = urllib.request.Request(
        f"{server.url}/chatbots/{DOCUMENTED_CHATBOT}/conversations", headers={"X-API-Key": API_KEY}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert json.loads(response.read()) == documented_example
    assert server.stop() == 0


OTHER_KEY = "0123456789abcdef" * 3


@pytest.mark.parametrize(
    "args, key",
    [
        ([], API_KEY),
        (["--api-keys", f"{OTHER_KEY},{'f' * 48}"], OTHER_KEY),
        (["--api-keys", OTHER_KEY, "--base-path", "/v1"], OTHER_KEY),
    ],
)
def test_banner_names_the_version_and_a_curl_that_works(live_server, args, key):
    server = live_server("--workers", "1", *args)
    log = server.log()
    assert f"serving on {server.url} (only this machine can connect) with 1 worker\n" in log
    assert f"conversations-mock {version('conversations-mock')}: serving on {server.url} " in log
    [curl] = [line.split("try  ", 1)[1] for line in log.splitlines() if "try  curl " in line]
    program, flag, header, url = shlex.split(curl)
    assert (program, flag, header) == ("curl", "-H", f"X-API-Key: {key}")
    name, value = header.split(": ")
    with urllib.request.urlopen(urllib.request.Request(url, headers={name: value}), timeout=10) as response:
        assert response.status == 200
        assert [c["chatbot_id"] for c in json.loads(response.read())] == [DOCUMENTED_CHATBOT] * 10


def test_a_burst_taken_by_one_worker_is_shared_out_once_its_sibling_can_run(live_server):
    """One worker accepted all 16 connections (its sibling stopped meanwhile): it sheds some (web/balance.py)."""
    import http.client
    import time
    from urllib.parse import urlsplit

    server = live_server("--workers", "2")
    workers = worker_pids(server)
    busy, stopped = workers
    address = urlsplit(server.url)
    connections = [http.client.HTTPConnection(address.hostname, address.port, timeout=10) for _ in range(16)]

    def get(connection, request_id):
        connection.request("GET", GENERATED_LISTING, headers={"X-API-Key": API_KEY, "X-Request-ID": request_id})
        response = connection.getresponse()
        assert response.status == 200 and len(json.loads(response.read())) == 10

    with only_worker(workers, busy):  # the burst arrives while the other worker cannot run
        for number, connection in enumerate(connections):
            get(connection, f"burst-{number}")
    time.sleep(1.5)  # its heartbeat, once a second, says it is back
    after = [f"after-{turn}-{number}" for turn in range(10) for number in range(16)]
    for request_id in after:
        get(connections[int(request_id.rsplit("-", 1)[1])], request_id)
    for connection in connections:
        connection.close()

    deadline, served = time.monotonic() + 10, {}
    while len(served) < 16 + len(after) and time.monotonic() < deadline:  # the access log is written after the answer
        served = dict(re.findall(r"request_id=((?:burst|after)-[\d-]+) worker=<(\d+)>", server.log()))
        time.sleep(0.1)
    assert {int(served[f"burst-{number}"]) for number in range(16)} == {busy}
    shared = [int(served[request_id]) for request_id in after[-16:]]  # the last turn, over all 16 connections
    assert shared.count(stopped) >= 3 and shared.count(busy) >= 3


def _status(url, **headers):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_past_loopback_without_a_token_the_api_answers_and_the_control_api_takes_the_printed_token(live_server):
    server = live_server("--host", "0.0.0.0", "--workers", "2")  # reached on 127.0.0.1
    [token] = re.findall(r"control API \(/__mock\) takes 'Authorization: Bearer (\S+)', a token made at start; "
                         r"give MOCK_ADMIN_TOKEN", server.log())
    assert _status(server.url + GENERATED_LISTING, **{"X-API-Key": API_KEY}) == 200
    workers = worker_pids(server)
    answers = {}
    for worker in workers:  # this worker alone accepts connections: each must take the token
        with only_worker(workers, worker):
            for name, headers in [("none", {}), ("wrong", {"Authorization": "Bearer " + "x" * 43}),
                                  ("printed", {"Authorization": f"Bearer {token}"})]:
                answers[worker, name] = _status(f"{server.url}/__mock/requests", **headers,
                                                **{"X-Request-ID": f"token-{worker}-{name}"})
    assert answers == {(worker, name): status for worker in workers
                       for name, status in (("none", 401), ("wrong", 401), ("printed", 200))}
    deadline, served = time.monotonic() + 10, {}
    while len(served) < len(answers) and time.monotonic() < deadline:  # the access log is written after the answer
        served = {(int(pid), name): int(by) for pid, name, by
                  in re.findall(r"request_id=token-(\d+)-(\w+) worker=<(\d+)>", server.log())}
        time.sleep(0.1)
    assert served == {key: key[0] for key in answers}  # each answered by the worker left running
    assert server.stop() == 0


def test_the_containers_command_serves_on_PORT_with_MOCK_WORKERS_and_its_health_check_follows(tmp_path):
    port = free_port()
    env = {name: value for name, value in os.environ.items()
           if name not in {setting.variable for setting in SETTINGS.values()}}
    env.update(PORT=str(port), MOCK_WORKERS="3", LOG_DIR=str(tmp_path))
    server = LiveServer(container_command()[2:], env, address=None)  # after `conversations-mock serve`
    try:
        assert server.url == f"http://127.0.0.1:{port}"
        assert f"serving on http://0.0.0.0:{port} (reachable from other machines) with 3 workers" in server.log()
        assert "a token made at start" in server.log()
        program, *args = container_health_check()
        assert program == "python"
        for health_port, status in ((port, 0), (free_port(), 1)):  # it asks PORT, not a fixed port
            result = subprocess.run([sys.executable, *args], env={**env, "PORT": str(health_port)},
                                    capture_output=True, timeout=30)
            assert result.returncode == status, result.stderr
    finally:
        server.stop()


def test_a_start_and_a_stop_print_the_mocks_lines_only(live_server):
    """gunicorn's lines for the same moments (version, address, worker class, each worker booting and exiting,
    the signal, the master's shutdown) are at debug level: the banner and the goodbye say it once."""
    server = live_server("--workers", "2")
    assert server.stop() == 0
    lines = server.log().splitlines()
    assert [line for line in lines if not line.startswith("conversations-mock")] == []
    assert lines[0].startswith("conversations-mock 0.1.0: serving on ") and lines[-1] == "conversations-mock: stopped"
    assert lines[0].endswith(" with 2 workers")
    assert len([line for line in lines if re.fullmatch(r"conversations-mock: worker \d+ ready", line)]) == 2


@pytest.mark.parametrize("workers", ["1", "3"])
def test_ctrl_c_stops_the_server_quietly(tmp_path, workers):
    """Ctrl-C sends SIGINT to the terminal's whole process group: master and workers stop, no traceback."""
    import http.client
    from urllib.parse import urlsplit

    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCK_") and k != "PORT"}
    server = LiveServer(["--workers", workers], {**env, "LOG_DIR": str(tmp_path)}, new_session=True)
    address = urlsplit(server.url)
    # An idle keep-alive connection: a quick stop does not wait for it (graceful_timeout is 30 s).
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request("GET", GENERATED_LISTING, headers={"X-API-Key": API_KEY, "X-Request-ID": "before-ctrl-c"})
        assert connection.getresponse().read()
        deadline = time.monotonic() + 10
        while "request_id=before-ctrl-c" not in server.log() and time.monotonic() < deadline:
            time.sleep(0.05)  # the access log is written after the answer
        before = len(server.log().splitlines())
        os.killpg(server.process.pid, signal.SIGINT)
        status = server.process.wait(timeout=15)
    finally:
        connection.close()
        server.stop()
    log = server.log()
    assert status == 0, log
    assert "Traceback" not in log and "SystemExit" not in log and "[ERROR]" not in log, log
    assert log.splitlines()[before:] == ["conversations-mock: stopped"]  # a one-line goodbye


def test_ctrl_c_during_a_graceful_stop_ends_it_at_once(tmp_path):
    """SIGTERM waits for requests in flight (up to 30 s); a Ctrl-C meanwhile stops without waiting more."""
    import http.client
    from urllib.parse import urlsplit

    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCK_") and k != "PORT"}
    server = LiveServer(["--workers", "1"], {**env, "LOG_DIR": str(tmp_path)}, new_session=True)
    address = urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        connection.request("GET", GENERATED_LISTING, headers={"X-API-Key": API_KEY, "Prefer": "delay=25000"})
        time.sleep(0.3)  # the request is in flight, its answer 25 s away
        os.killpg(server.process.pid, signal.SIGTERM)
        time.sleep(0.3)
        assert server.process.poll() is None  # waiting for that request
        os.killpg(server.process.pid, signal.SIGINT)
        status = server.process.wait(timeout=10)
    finally:
        connection.close()
        server.stop()
    log = server.log()
    assert status == 0, log
    assert "Traceback" not in log and "[ERROR]" not in log and "graceful timeout" not in log, log
    assert log.splitlines()[-1] == "conversations-mock: stopped"


def test_make_run_under_a_shells_host_serves_on_loopback_and_ctrl_c_ends_it_with_one_line(tmp_path):
    """`make run` from tcsh, which sets HOST to the machine's name, serves on 127.0.0.1 all the same; Ctrl-C
    (SIGINT to the terminal's process group: make, the server and its workers) ends it with the server's
    goodbye: no traceback, and no make "Interrupt" line."""
    from tests.helpers import REPO

    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOCK_", "MAKE", "MFLAGS")) and k != "PORT"}
    env.update(HOST="somehost", MOCK_WORKERS="2")
    # This interpreter's environment as make's virtualenv, its install taken as done (-o: either stamp's name).
    installed = [f"-o{sys.prefix}/.runtime-installed-{cc}" for cc in ("cc", "no-cc")]
    log = tmp_path / "make.log"
    with open(log, "wb") as output:
        make = subprocess.Popen(["make", "--no-print-directory", "-C", str(REPO), *installed, f"VENV={sys.prefix}",
                                 "run", "PORT=0"], stdout=output, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while make.poll() is None and time.monotonic() < deadline and len(re.findall("ready", log.read_text())) < 2:
            time.sleep(0.05)
        assert re.search(r"serving on http://127\.0\.0\.1:\d+ ", log.read_text()), log.read_text()
        os.killpg(make.pid, signal.SIGINT)
        make.wait(15)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGTERM)
            make.wait(30)
    lines = log.read_text().splitlines()
    assert lines[0] == f"MOCK_HOST=127.0.0.1 PORT=0 exec {sys.prefix}/bin/conversations-mock serve"
    assert lines[-1] == "conversations-mock: stopped", lines
    assert not [line for line in lines if "Traceback" in line or line.startswith("make")], lines


# `conversations-mock` as installed, but with the C helpers' module hidden, as an install without a compiler.
WITHOUT_SPEEDUPS = ["-c", "import sys; sys.modules['conversations_mock.data._speedups'] = None; "
                    "from conversations_mock.commands.cli import main; sys.exit(main())"]


@pytest.mark.parametrize("hidden", [True, False], ids=["not built", "built"])
def test_the_start_says_once_when_the_c_helpers_were_not_built(tmp_path, hidden):
    from conversations_mock.data.compiled import is_compiled

    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCK_") and k != "PORT"}
    program = [sys.executable, *WITHOUT_SPEEDUPS] if hidden else None
    server = LiveServer(["--workers", "2"], {**env, "LOG_DIR": str(tmp_path)}, program=program)
    server.stop()
    said = [line for line in server.log().splitlines() if "C helpers" in line]
    if hidden or not is_compiled():
        assert said == ["conversations-mock: the C helpers (app/data/_speedups.c) were not built at install, so "
                        "pages are about a fifth slower, with the same values; install a C compiler (Debian: "
                        "apt-get install gcc libc6-dev), then run make setup"]
    else:
        assert said == []
