"""Helpers the tests share: the documented chatbot and key, one request as a client sees it, a live server."""

from pathlib import Path

DOCUMENTED_CHATBOT = "5afe16ed-5fd2-4552-a993-903bc9c32bb6"
GENERATED_CHATBOT = "0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11"
API_KEY = "15a23c21867f4f38b0b46f5e4adb1caf87a040b34eb58f68"
REPO = Path(__file__).resolve().parents[1]


def readme_commands(program="conversations-mock"):
    """The `program` command lines of the README's sh blocks, each split as a shell would (argv[1:])."""
    import re
    import shlex

    text = (REPO / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            argv = shlex.split(line, comments=True)
            if argv and argv[0] == program:
                commands.append(argv[1:])
    return commands


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


class LiveServer:
    """A `conversations-mock serve` process on 127.0.0.1, port chosen by the OS.

    `program` is the command to run (default: this checkout's, with the running interpreter), `cwd` its
    working directory; its log goes to LOG_DIR/server.log.
    """

    def __init__(self, args, env, program=None, cwd=REPO, new_session=False):
        import re
        import subprocess
        import sys
        import time

        self.log_path = Path(env["LOG_DIR"]) / "server.log"
        self._log = open(self.log_path, "w+b")
        program = program or [sys.executable, "-m", "conversations_mock.commands.cli"]
        command = [*program, "serve", "--host", "127.0.0.1", "--port", "0", *args]
        # new_session: the server and its workers get a process group of their own, which a test may
        # signal whole (os.killpg) as a shell's Ctrl-C or a service manager does, without signalling pytest.
        self.process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=new_session
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            log = self.log_path.read_bytes()
            match = re.search(rb"serving on (http://127\.0\.0\.1:\d+) .* with (\d+) workers", log)
            if match and len(re.findall(rb"worker \d+ ready", log)) >= int(match.group(2)):
                self.url = match.group(1).decode()
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
