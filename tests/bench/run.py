"""`make bench`: throughput, latency, startup and memory of the mock next to the Flask floor.

Every server listens on 127.0.0.1 and is started and stopped here; every load run is bounded.
Scenarios are interleaved (floor, then each mock scenario, repeated), so a noisy neighbour slows
them alike, and the table quotes medians and same-run ratios to the floor.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
API_KEY = "15a23c21867f4f38b0b46f5e4adb1caf87a040b34eb58f68"
DOCUMENTED = "5afe16ed-5fd2-4552-a993-903bc9c32bb6"
GENERATED = "0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11"
BIG = "9d5b1c0e-6a43-4f7e-8d21-0c3e5f4a7b99"
SET = "3c1f7a52-8e0b-4d6a-9b2c-6f4e1d8a7c35"  # the chatbot whose conversations the bench sets by PUT
SMALL_SIZE = 50  # the reference size of the scale target: page 1 of a 50-conversation chatbot
PATH = "/chatbots/{}/conversations"

# (label, server, path or Lua mode). "fresh:" rows walk pages no response cache has seen.
SCENARIOS = [
    ("floor: minimal Flask, precomputed bytes", "floor", PATH.format(DOCUMENTED)),
    ("(a) documented chatbot", "mock", PATH.format(DOCUMENTED)),
    (f"(b) generated chatbot ({SMALL_SIZE}), page 1", "mock", PATH.format(GENERATED)),
    ("(c) 1,000,000 conversations, page 1", "mock", PATH.format(BIG)),
    ("(c) 1,000,000 conversations, page 99,999", "mock", PATH.format(BIG) + "?page=99999"),
    ("(c) 1,000,000 conversations, state=resolved p.5000", "mock", PATH.format(BIG) + "?state=resolved&page=5000"),
    (f"(d) never-requested: new {SMALL_SIZE}-conv. chatbots, p.1", "mock", "lua:chatbots"),
    ("(d) never-requested: 1M pages, any page/state", "mock", "lua:pages"),
    # The same pages under `--clock now`: each second is a new instant, so the page cache helps within it only.
    (f"(e) now: generated chatbot ({SMALL_SIZE}), page 1", "now", PATH.format(GENERATED)),
    ("(e) now: 1,000,000 conversations, page 99,999", "now", PATH.format(BIG) + "?page=99999"),
    ("(e) now: 1,000,000 conversations, state=resolved p.5000", "now", PATH.format(BIG) + "?state=resolved&page=5000"),
    (f"(e) now: never-requested: new {SMALL_SIZE}-conv. chatbots, p.1", "now", "lua:chatbots"),
    ("(e) now: never-requested: 1M pages, any page/state", "now", "lua:pages"),
    # The same mock with --store redis://... and no data set: the store must add no round trip per request.
    ("(f) Redis store, no data: documented chatbot", "mock-redis", PATH.format(DOCUMENTED)),
    ("(f) Redis store, no data: never-requested 1M pages", "mock-redis", "lua:pages"),
    (f"(f) Redis store, {SMALL_SIZE} conversations set by PUT, page 1", "mock-redis", PATH.format(SET)),
    # A rate limit too high ever to be reached: every request is counted (the budget's cost), none refused.
    ("(g) rate limit never reached: documented chatbot", "mock-limit", PATH.format(DOCUMENTED)),
    ("(g) rate limit never reached, Redis store: documented chatbot", "mock-redis-limit", PATH.format(DOCUMENTED)),
    # The dashboard open: its live journal stream connected to the server being loaded, all along.
    ("(h) dashboard stream connected: documented chatbot", "mock-ui", PATH.format(DOCUMENTED)),
]
# The rate limit of the (g) rows: a budget no load run can spend.
UNREACHABLE_LIMIT = "1000000000/s"
# Each (e) row beside the row of the same pages under the fixed clock.
UNDER_FIXED = {
    f"(e) now: generated chatbot ({SMALL_SIZE}), page 1": f"(b) generated chatbot ({SMALL_SIZE}), page 1",
    "(e) now: 1,000,000 conversations, page 99,999": "(c) 1,000,000 conversations, page 99,999",
    "(e) now: 1,000,000 conversations, state=resolved p.5000": "(c) 1,000,000 conversations, state=resolved p.5000",
    f"(e) now: never-requested: new {SMALL_SIZE}-conv. chatbots, p.1":
        f"(d) never-requested: new {SMALL_SIZE}-conv. chatbots, p.1",
    "(e) now: never-requested: 1M pages, any page/state": "(d) never-requested: 1M pages, any page/state",
}
CONNECTIONS = (16, 64)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url, timeout=2.0):
    """(status, headers, body) of a GET with the API key; status 0 while nothing listens."""
    request = urllib.request.Request(url, headers={"X-API-Key": API_KEY})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
    except (OSError, urllib.error.URLError):
        return 0, {}, b""


def put_conversations(source, target):
    """Set SET's conversations on `target` through its control API: SMALL_SIZE of `source`'s generated ones."""
    status, _, body = fetch(f"{source.url}{PATH.format(SET)}?page_size={SMALL_SIZE}")
    items = [{**item, "chatbot_id": SET} for item in json.loads(body)]
    request = urllib.request.Request(f"{target.url}/__mock{PATH.format(SET)}", data=json.dumps(items).encode(),
                                     method="PUT", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert status == 200 and response.status in (200, 204), (status, response.status)


class Server:
    """A gunicorn process tree on 127.0.0.1, its log in `workdir`."""

    def __init__(self, name, command, env, port, workdir, probe_path, cwd=REPO):
        self.name, self.port = name, port
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(Path(workdir) / f"{name}-{port}.log", "wb")
        started = time.perf_counter()
        self.process = subprocess.Popen(command, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = started + 30
        while time.perf_counter() < deadline and self.process.poll() is None:
            if fetch(self.url + probe_path, timeout=1)[0] == 200:
                self.startup = time.perf_counter() - started
                return
            time.sleep(0.005)
        self.stop()
        raise SystemExit(f"bench: {name} did not start; see {self.log.name}")

    def pids(self):
        """The master and its workers."""
        pids = [self.process.pid]
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        except OSError:
            children = []
        return pids + [int(c) for c in children]

    def rss_mb(self) -> float:
        """Resident memory of the master and its workers together, in MB."""
        total = 0
        for pid in self.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            total += int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))
        return total / 1024

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class Redis:
    """Debian's redis-server on 127.0.0.1 in `workdir`, without persistence."""

    def __init__(self, workdir):
        redis_server = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/sbin:/usr/bin")
        if redis_server is None:
            raise SystemExit("bench: redis-server is not installed (make bench installs it with apt-get)")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = open(Path(workdir) / f"redis-{self.port}.log", "wb")
        self.process = subprocess.Popen(
            [redis_server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--dir", str(workdir)], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as probe:
                    probe.sendall(b"PING\r\n")
                    if probe.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise SystemExit(f"bench: redis-server did not start; see {self.log.name}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.log.close()


def gunicorn_command(target, worker_class, workers, port):
    """The mock's own gunicorn settings (app/commands/gunicorn_conf.py), bound to `port`; its worker class unless
    `worker_class` names another."""
    chosen = ["-k", worker_class] if worker_class else []
    return [sys.executable, "-m", "gunicorn", "-c", "python:conversations_mock.commands.gunicorn_conf", *chosen,
            "-w", str(workers), "-b", f"127.0.0.1:{port}", target]


def serve_command(port, workers, fixtures):
    """How a user starts the mock."""
    return [sys.executable, "-m", "conversations_mock.commands.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--fixtures", fixtures, "--conversations", str(SMALL_SIZE)]


def _seconds(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def wrk(url, target, connections, duration, run):
    """One bounded wrk run: (requests/s, p50 s, p99 s, non-2xx count)."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "5s", "--latency"]
    if target.startswith("lua:"):
        command += ["-s", str(HERE / "fresh.lua"), url, "--", target[4:], str(run), API_KEY, BIG]
    else:
        command += ["-H", f"X-API-Key: {API_KEY}", url + target]
    out = subprocess.run(command, capture_output=True, text=True, timeout=duration + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _seconds(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _seconds(re.search(r"\s99%\s+(\S+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return rps, p50, p99, (int(bad.group(1)) if bad else 0), (errors.group(1) if errors else "")


def write_fixtures(directory):
    fixture = {"chatbots": [{"id": BIG, "generated": {"count": 1_000_000}}]}
    (Path(directory) / "bench-big.json").write_text(json.dumps(fixture), encoding="utf-8")


def measure_throughput(args, workdir, fixtures, env, source, redis):
    """Interleaved wrk runs of every scenario; {(label, connections): [(rps, p50, p99), ...]}."""
    mock_port, floor_port, redis_port = free_port(), free_port(), free_port()
    mock_env = {**env, "MOCK_FIXTURES_DIR": fixtures, "MOCK_CONVERSATIONS": str(SMALL_SIZE)}
    mock = Server("mock", gunicorn_command("conversations_mock:create_app()", args.worker_class, args.workers, mock_port),
                  mock_env, mock_port, workdir, PATH.format(DOCUMENTED), cwd=source)
    servers = {"mock": mock}
    try:
        now_port = free_port()
        servers["now"] = Server(
            "now", gunicorn_command("conversations_mock:create_app()", args.worker_class, args.workers, now_port),
            {**mock_env, "MOCK_CLOCK": "now"}, now_port, workdir, PATH.format(DOCUMENTED), cwd=source)
        servers["mock-redis"] = Server(
            "mock-redis", gunicorn_command("conversations_mock:create_app()", args.worker_class, args.workers,
                                           redis_port),
            {**mock_env, "MOCK_STORE": redis.url}, redis_port, workdir, PATH.format(DOCUMENTED), cwd=source)
        for name, extra in (("mock-limit", {}), ("mock-redis-limit", {"MOCK_STORE": redis.url})):
            port = free_port()
            servers[name] = Server(
                name, gunicorn_command("conversations_mock:create_app()", args.worker_class, args.workers, port),
                {**mock_env, **extra, "MOCK_RATE_LIMIT": UNREACHABLE_LIMIT}, port, workdir, PATH.format(DOCUMENTED),
                cwd=source)
        ui_port = free_port()
        servers["mock-ui"] = Server(
            "mock-ui", gunicorn_command("conversations_mock:create_app()", args.worker_class, args.workers, ui_port),
            mock_env, ui_port, workdir, PATH.format(DOCUMENTED), cwd=source)
        put_conversations(mock, servers["mock-redis"])
        status, headers, body = fetch(mock.url + PATH.format(DOCUMENTED))
        page = {"body": body.decode(), "headers": {k: headers[k] for k in ("X-Total-Count", "Link")}}
        (Path(workdir) / "floor-page.json").write_text(json.dumps(page), encoding="utf-8")
        floor_env = {**env, "BENCH_FLOOR_PAGE": str(Path(workdir) / "floor-page.json")}
        servers["floor"] = Server(
            "floor", gunicorn_command("tests.bench.floor:app", args.worker_class, args.workers, floor_port),
            floor_env, floor_port, workdir, PATH.format(DOCUMENTED))
    except BaseException:
        for server in servers.values():
            server.stop()
        raise
    results, problems, run = {}, [], 0
    dashboard = DashboardStream(servers["mock-ui"].url + "/__mock/ui/stream")
    try:
        for _label, server, target in SCENARIOS:  # warm-up: imports, pools, first pages
            run += 1
            wrk(servers[server].url, target, 16, 1, run)
        for repeat in range(args.repeats):
            for connections in CONNECTIONS:
                for label, server, target in SCENARIOS:
                    run += 1
                    rps, p50, p99, bad, errors = wrk(servers[server].url, target, connections, args.duration, run)
                    results.setdefault((label, connections), []).append((rps, p50, p99))
                    if bad or errors:
                        problems.append(f"{label} @{connections}: {bad} non-2xx, socket errors {errors}")
                    print(f"  run {repeat + 1}/{args.repeats} @{connections:>2} {label:<55} {rps:>8.0f} req/s",
                          file=sys.stderr, flush=True)
    finally:
        dashboard.stop()
        for server in servers.values():
            server.stop()
    if not dashboard.events:
        problems.append("(h): the dashboard's stream sent nothing")
    return results, problems


class DashboardStream:
    """A dashboard's live journal, read in a thread while the load runs: reconnects when the stream ends."""

    def __init__(self, url):
        import threading

        self.url, self.events, self._stop = url, 0, threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        while not self._stop.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=5) as stream:
                    for line in stream:
                        self.events += line.startswith((b"event:", b"data:", b":"))
                        if self._stop.is_set():
                            return
            except OSError:
                time.sleep(0.2)

    def stop(self):
        self._stop.set()
        self._thread.join(10)


def measure_journal(redis, records):
    """`records` journal entries through one RedisStore (journal_size 1000): Redis's memory before and after,
    microseconds per record() call, and the entries kept."""
    import redis as redis_py

    from conversations_mock.store.redis import RedisStore

    client = redis_py.Redis.from_url(redis.url)
    store = RedisStore(redis.url)
    store.record("bench", {"path": "/warm-up"})
    store.journal("bench")
    before = client.info("memory")["used_memory"]
    entry = {"method": "GET", "path": PATH.format(GENERATED), "query": "page=1", "status": 200}
    started = time.perf_counter()
    for number in range(records):
        store.record("bench", {**entry, "n": number})
    per_record = (time.perf_counter() - started) / records
    kept = len(store.journal("bench"))
    after = client.info("memory")["used_memory"]
    store.close()
    client.close()
    return {"records": records, "before": before, "after": after, "per_record_us": per_record * 1e6, "kept": kept}


def measure_startup(args, workdir, fixtures, env, source):
    """Median seconds from process start to the first 200 answer, for the mock and the floor."""
    times = {"mock": [], "floor": []}
    floor_env = {**env, "BENCH_FLOOR_PAGE": str(Path(workdir) / "floor-page.json")}
    for _ in range(args.startups):
        port = free_port()
        server = Server("startup-mock", serve_command(port, args.workers, fixtures), env, port, workdir,
                        PATH.format(GENERATED), cwd=source)
        times["mock"].append(server.startup)
        server.stop()
        port = free_port()
        server = Server("startup-floor", gunicorn_command("tests.bench.floor:app", args.worker_class, args.workers, port),
                        floor_env, port, workdir, PATH.format(DOCUMENTED))
        times["floor"].append(server.startup)
        server.stop()
    return {name: statistics.median(values) for name, values in times.items()}


def _peak_during(server, command, seconds):
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak, deadline = 0.0, time.monotonic() + seconds + 20
    while process.poll() is None and time.monotonic() < deadline:
        peak = max(peak, server.rss_mb())
        time.sleep(0.1)
    if process.poll() is None:
        process.kill()
    process.wait()
    return max(peak, server.rss_mb())


def measure_memory(args, workdir, fixtures, env, source):
    """Peak resident MB of master + workers: idle, serving small chatbots, paging 1M ones."""
    port = free_port()
    server = Server("memory-mock", serve_command(port, args.workers, fixtures), env, port, workdir, PATH.format(GENERATED),
                    cwd=source)
    try:
        idle = server.rss_mb()
        seconds = args.memory_seconds
        # A new connection per request, so every worker serves in every phase: with keep-alive, a
        # phase's 64 connections were now and then all accepted by one worker, and the difference
        # between phases measured a second worker's caches filling, not the data asked for.
        wrk = ["wrk", "-t1", "-c64", f"-d{seconds}s", "--timeout", "5s", "-H", "Connection: close"]
        base = [*wrk, "-s", str(HERE / "fresh.lua"), server.url, "--"]
        small = _peak_during(server, base + ["chatbots", "900001", API_KEY, BIG], seconds)
        big = _peak_during(server, base + ["pages", "900002", API_KEY, BIG], seconds)
        deep = subprocess.Popen([*wrk, "-H", f"X-API-Key: {API_KEY}",
                                 server.url + PATH.format(BIG) + "?page=9999&page_size=100"],
                                stdout=subprocess.DEVNULL)
        deep.wait(seconds + 30)
        big = max(big, server.rss_mb())
    finally:
        server.stop()
    port = free_port()
    floor_env = {**env, "BENCH_FLOOR_PAGE": str(Path(workdir) / "floor-page.json")}
    floor = Server("memory-floor", gunicorn_command("tests.bench.floor:app", args.worker_class, args.workers, port),
                   floor_env, port, workdir, PATH.format(DOCUMENTED))
    floor_peak = _peak_during(floor, ["wrk", "-t1", "-c64", "-d2s", "-H", f"X-API-Key: {API_KEY}",
                                      floor.url + PATH.format(DOCUMENTED)], 2)
    floor.stop()
    return idle, small, big, floor_peak


def measure_compute(env, source):
    """In-process costs (tests/bench/compute.py) of the mock in `source`, as a dict."""
    out = subprocess.run([sys.executable, str(HERE / "compute.py")], cwd=source, env=env, capture_output=True,
                         text=True, timeout=600)
    if out.returncode:
        raise SystemExit(f"bench: compute.py failed:\n{out.stderr}")
    return json.loads(out.stdout)


def _ms(seconds):
    return f"{seconds * 1000:.1f}"


def report(args, results, problems, startup, memory, compute, journal=None):
    med = {key: tuple(statistics.median(v[i] for v in values) for i in range(3)) for key, values in results.items()}
    floor = SCENARIOS[0][0]
    print(f"\nconversations-mock benchmark: {args.workers} {args.worker_class or _configured_worker(args.source)} workers, wrk -t1, "
          f"{args.duration}s per run, median of {args.repeats} interleaved runs")
    print(f"machine: {os.cpu_count()} CPUs, {_cpu_model()}, Python {sys.version.split()[0]}\n")
    print("| scenario | req/s @16 | p50 @16 ms | p99 @16 ms | req/s @64 | p50 @64 ms | p99 @64 ms "
          "| x floor @16 | x floor @64 | p99@64 / floor's |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, _, _ in SCENARIOS:
        row = [label]
        for c in CONNECTIONS:
            rps, p50, p99 = med[(label, c)]
            row += [f"{rps:.0f}", _ms(p50), _ms(p99)]
        row += [f"{med[(label, c)][0] / med[(floor, c)][0]:.2f}" for c in CONNECTIONS]
        row.append(f"{med[(label, 64)][2] / med[(floor, 64)][2]:.2f}")
        print("| " + " | ".join(row) + " |")
    print()
    if startup:
        print(f"startup, process start to first 200 (median of {args.startups}): "
              f"mock {startup['mock'] * 1000:.0f} ms (`conversations-mock serve`, a generated page), "
              f"floor {startup['floor'] * 1000:.0f} ms")
    if memory:
        idle, small, big, floor_peak = memory
        print(f"resident memory, master + {args.workers} workers: mock idle {idle:.1f} MB, "
              f"peak serving new small chatbots {small:.1f} MB, peak paging 1,000,000-conversation chatbots "
              f"{big:.1f} MB (difference {big - small:+.1f} MB); floor peak {floor_peak:.1f} MB")
    small_ref = med[(SCENARIOS[6][0], 16)][0]
    fresh_big = med[(SCENARIOS[7][0], 16)][0]
    print(f"scale: new 1M-chatbot pages cost {small_ref / fresh_big:.2f}x page 1 of new "
          f"{SMALL_SIZE}-conversation chatbots (requests/s ratio @16)")
    clock = ", ".join(f"{label[8:]} {med[(label, 16)][0] / med[(fixed, 16)][0]:.2f}x"
                      for label, fixed in UNDER_FIXED.items())
    print(f"clock now vs fixed, requests/s @16 of the same pages: {clock}")
    if compute:
        pages, requests = compute["pages"], compute["requests"]
        small_page = pages["50 conversations, page 1"]
        print("\nin-process costs, no server, microseconds (median of 7 interleaved rounds):")
        print("| building an uncached page of 10 (new history each time; fixed clock unless 'now') | us | x 50-conv. page 1 |")
        print("|---|---:|---:|")
        for name, value in pages.items():
            print(f"| {name} | {value:.0f} | {value / small_page:.2f} |")
        print("\n| one GET through the app (WSGI, all middleware) | us | x floor app |")
        print("|---|---:|---:|")
        for name, value in requests.items():
            print(f"| {name} | {value:.0f} | {value / requests['floor app']:.2f} |")
        print("\n| encoding a page | us |")
        print("|---|---:|")
        for name, value in compute["encoding"].items():
            print(f"| {name} | {value:.1f} |")
    if journal:
        print(f"\njournal: {journal['records']:,} record() calls into one RedisStore (journal_size 1000): "
              f"{journal['per_record_us']:.1f} us each, {journal['kept']} entries kept, Redis used_memory "
              f"{journal['before'] / 1e6:.2f} MB before, {journal['after'] / 1e6:.2f} MB after")
    for problem in problems:
        print(f"warning: {problem}")


def _configured_worker(source):
    # app/commands/gunicorn_conf.py since the package's layout; app/gunicorn_conf.py in older checkouts.
    paths = [Path(source) / "app" / "commands" / "gunicorn_conf.py", Path(source) / "app" / "gunicorn_conf.py"]
    text = next((path.read_text(encoding="utf-8") for path in paths if path.exists()), "")
    match = re.search(r"^worker_class = [\"']([^\"']+)", text, re.M)
    return match.group(1) if match else "configured"


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=3, help="seconds per wrk run (default 3)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats, medians quoted (default 3)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="gunicorn workers (default: CPUs)")
    parser.add_argument("--worker-class", default=None,
                        help="gunicorn worker class for both, e.g. sync or gthread (default: app/commands/gunicorn_conf.py's)")
    parser.add_argument("--startups", type=int, default=5, help="startups to time, median quoted (default 5)")
    parser.add_argument("--memory-seconds", type=int, default=5, help="seconds of each memory phase (default 5)")
    parser.add_argument("--skip", default="", help="comma-separated parts to leave out: startup,memory,compute,journal")
    parser.add_argument("--journal-records", type=int, default=1_000_000,
                        help="record() calls of the journal-memory check (default 1,000,000)")
    parser.add_argument("--source", default=str(REPO),
                        help="source tree of the mock to measure, installed in this venv with pip install -e "
                        "(default: this one)")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("bench: wrk is not installed (make bench installs it with apt-get)")
    skip = set(filter(None, args.skip.split(",")))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCK_") and k not in ("HOST", "PORT")}
    # The floor and the bench scripts come from this tree; the mock (and its gunicorn settings) from --source.
    source = Path(args.source).resolve()
    env["PYTHONPATH"] = f"{source}{os.pathsep}{REPO}"
    with tempfile.TemporaryDirectory(prefix="mock-bench-") as workdir:
        fixtures = str(Path(workdir) / "fixtures")
        os.mkdir(fixtures)
        write_fixtures(fixtures)
        compute = None if "compute" in skip else measure_compute(env, source)
        redis = Redis(workdir)
        try:
            results, problems = measure_throughput(args, workdir, fixtures, env, source, redis)
            journal = None if "journal" in skip else measure_journal(redis, args.journal_records)
        finally:
            redis.stop()
        startup = None if "startup" in skip else measure_startup(args, workdir, fixtures, env, source)
        memory = None if "memory" in skip else measure_memory(args, workdir, fixtures, env, source)
        report(args, results, problems, startup, memory, compute, journal)
    return 0


if __name__ == "__main__":
    sys.exit(main())
