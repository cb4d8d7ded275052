"""Transport faults and dribbled bodies on the real gunicorn server: what clients meet in the wild.

Raw sockets see the bytes (a reset, nothing, a broken chunk, noise, half a body) on keep-alive
connections, first request and repeats; `requests` and Node's fetch fail as they do against a
failing backend; the journal names each fault with its request id, whichever worker answered.
"""

import json
import socket
import subprocess

import pytest
import requests

from tests.helpers import API_KEY, GENERATED_LISTING, fault_errors, only_worker, require, worker_pids

FAULTS = ("connection-reset", "empty-response", "malformed-chunk", "random-data-then-close", "truncated-body")
# What `requests` raises for each fault: its connection, chunked-encoding and incomplete-read errors.
RAISED = fault_errors()
REPEATS = 3
TARGET = GENERATED_LISTING + "?page=2"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One gunicorn server with 2 workers for the module (its tests only read)."""
    import os

    from tests.helpers import LiveServer

    log_dir = tmp_path_factory.mktemp("faults")
    env = {key: value for key, value in os.environ.items() if not key.startswith("MOCK_")}
    server = LiveServer(["--workers", "2"], {**env, "LOG_DIR": str(log_dir)})
    yield server
    server.stop()


def _request(prefer=None, request_id="") -> bytes:
    headers = [f"X-API-Key: {API_KEY}", "Host: 127.0.0.1"]
    headers += [f"Prefer: {prefer}"] if prefer else []
    headers += [f"X-Request-ID: {request_id}"] if request_id else []
    return (f"GET {TARGET} HTTP/1.1\r\n" + "".join(line + "\r\n" for line in headers) + "\r\n").encode()


def _read_answer(connection) -> tuple[bytes, bytes]:
    """(head, body) of one Content-Length answer read off a keep-alive connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    while len(body) < length:
        body += connection.recv(65536)
    return head, body


def _read_to_end(connection) -> tuple[bytes, BaseException | None]:
    """Everything until the server closes the connection, and the error that ended it (a reset), if any."""
    data = b""
    try:
        while chunk := connection.recv(65536):
            data += chunk
    except OSError as error:
        return data, error
    return data, None


@pytest.mark.parametrize("fault", FAULTS)
def test_each_fault_breaks_a_keep_alive_connection_as_named(server, fault):
    host, port = server.url.removeprefix("http://").split(":")
    plain_head, plain_body = None, None
    for attempt in range(REPEATS):
        with socket.create_connection((host, int(port)), timeout=10) as connection:
            connection.sendall(_request())  # an ordinary answer first: the fault comes on a kept-alive connection
            head, body = _read_answer(connection)
            assert head.startswith(b"HTTP/1.1 200 ") and b"connection: close" not in head.lower()
            plain_head, plain_body = plain_head or head, plain_body or body
            connection.sendall(_request(f"fault={fault}", f"fault-{fault}-{attempt}"))
            data, error = _read_to_end(connection)
        if fault == "connection-reset":
            assert (data, type(error)) == (b"", ConnectionResetError)
            continue
        assert error is None
        if fault == "empty-response":
            assert data == b""
        elif fault == "random-data-then-close":
            assert len(data) == 256 and not data.startswith(b"HTTP/")
        else:
            head, _, rest = data.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 OK\r\n")
            assert f"X-Request-ID: fault-{fault}-{attempt}".encode() in head
            if fault == "malformed-chunk":
                assert b"Transfer-Encoding: chunked" in head and rest.startswith(b"zz\r\n")
            else:
                assert f"Content-Length: {len(plain_body)}".encode() in head
                assert 0 < len(rest) < len(plain_body) and plain_body.startswith(rest)
    journal = requests.get(f"{server.url}/__mock/requests", timeout=10).json()
    faulted = {entry["request_id"]: (entry["fault"], entry["status"]) for entry in journal if entry["fault"]}
    status = 200 if fault in ("malformed-chunk", "truncated-body") else 0
    assert {f"fault-{fault}-{n}": faulted.get(f"fault-{fault}-{n}") for n in range(REPEATS)} == {
        f"fault-{fault}-{n}": (fault, status) for n in range(REPEATS)
    }


@pytest.mark.parametrize("fault", FAULTS)
def test_requests_raises_what_a_failing_backend_makes_it_raise(server, fault):
    raised, cause = RAISED[fault]
    with requests.Session() as session:  # keep-alive: the first answer's connection carries the fault
        for _ in range(REPEATS):
            assert session.get(server.url + TARGET, headers={"X-API-Key": API_KEY}, timeout=10).status_code == 200
            with pytest.raises(raised, match=cause):
                session.get(server.url + TARGET, headers={"X-API-Key": API_KEY, "Prefer": f"fault={fault}"},
                            timeout=10)


def test_every_worker_breaks_connections_alike(server):
    workers = worker_pids(server)
    for attempt in range(12):
        with only_worker(workers, workers[attempt % len(workers)]), pytest.raises(requests.ConnectionError):
            requests.get(server.url + TARGET, timeout=10, headers={
                "X-API-Key": API_KEY, "Prefer": "fault=connection-reset", "X-Request-ID": f"worker-{attempt}"})
    answered = {entry["request_id"]: (entry["worker"], entry["fault"])
                for entry in requests.get(f"{server.url}/__mock/requests", timeout=10).json()}
    assert {f"worker-{n}": answered.get(f"worker-{n}") for n in range(12)} == {
        f"worker-{n}": (workers[n % len(workers)], "connection-reset") for n in range(12)}
    assert len(workers) == 2


NODE_SCRIPT = """
const [url, key, faults] = [process.argv[2], process.argv[3], JSON.parse(process.argv[4])];
const outcomes = {};
for (const fault of faults) {
  try {
    const response = await fetch(url, {headers: {"X-API-Key": key, "Prefer": `fault=${fault}`}});
    await response.text();
    outcomes[fault] = `answered ${response.status}`;
  } catch (error) {
    outcomes[fault] = `failed: ${error.name}: ${error.cause?.code ?? error.cause?.message ?? error.message}`;
  }
}
console.log(JSON.stringify(outcomes));
"""


def test_node_fetch_fails_on_every_fault(server, tmp_path):
    node = require("node")
    script = tmp_path / "faults.mjs"
    script.write_text(NODE_SCRIPT, encoding="utf-8")
    result = subprocess.run([node, str(script), server.url + TARGET, API_KEY, json.dumps(FAULTS)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    outcomes = json.loads(result.stdout)
    assert sorted(outcomes) == sorted(FAULTS)
    assert all(outcome.startswith("failed: TypeError") for outcome in outcomes.values()), outcomes


def test_dribble_sends_the_plain_answer_s_bytes_in_pieces(server):
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        for _ in range(REPEATS):  # the first request and repeats, on one keep-alive connection
            connection.sendall(_request())
            _, plain = _read_answer(connection)
            connection.sendall(_request("dribble=600"))
            data, pieces = b"", 0
            while b"\r\n\r\n" not in data:
                data += connection.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            while len(body) < len(plain):
                body += connection.recv(65536)
                pieces += 1
            assert b"Preference-Applied: dribble=600" in head
            assert body == plain
            assert pieces >= 3  # arrived spread out, not at once


def test_dribbling_answers_hold_no_worker(server):
    import time
    from concurrent.futures import ThreadPoolExecutor

    def fetch(prefer=None):
        headers = {"X-API-Key": API_KEY, **({"Prefer": prefer} if prefer else {})}
        response = requests.get(server.url + TARGET, headers=headers, timeout=30)
        return response.status_code, len(response.content), time.monotonic()

    with ThreadPoolExecutor(24) as pool:
        dribbling = [pool.submit(fetch, "dribble=1500") for _ in range(20)]
        time.sleep(0.3)  # all twenty are being dribbled to (two workers, ten each at least)
        plain = fetch()
        results = [future.result() for future in dribbling]
    assert {(status, size) for status, size, _ in results} == {plain[:2]}
    # The plain request, sent while all twenty were dribbling, was answered before any of them ended.
    assert plain[2] < min(done for _, _, done in results)
