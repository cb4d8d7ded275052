"""pytest plugin: the `conversations_mock` fixture, a live mock shared by the session, reset for each test.

Installed with the package (entry point `pytest11`). Nothing is imported or started until a test
asks for the fixture; the server then runs on 127.0.0.1, port 0, in a daemon thread.

Fixtures:

- `conversations_mock` (each test): a ConversationsMock (its docstring lists what it offers),
  reset before and after the test.
- `conversations_mock_server` (the session): the ConversationsMockServer behind it.
- `conversations_mock_settings` (the session; override it in conftest.py): the server's settings,
  e.g. ``{"base_path": "/v1", "api_keys": "..."}``; the machine's MOCK_* variables are ignored.

The journal is the server's own, the one GET /__mock/requests lists: the same entries, each in its
namespace, newest first; control requests and health probes are not in it. Secrets (X-API-Key,
Authorization, Cookie, anything shaped like a key) are masked there as over HTTP and in the log;
`JournalEntry.sent(header, value)` checks what the client sent against a keyed digest that only
the server's processes can compute (with a Redis store, those of every server on it: the key is kept there).
"""

import json
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# Copies of conversations_mock.data.fixtures.DOCUMENTED_KEY and conversations_mock.schemas.request.MAX_SEED:
# importing those modules would load marshmallow into every pytest run of a project that merely has the
# package installed (tests/test_pytest_plugin.py checks both copies are equal to the originals).
# The API document's example key: accepted whenever the settings configure no keys.
DOCUMENTED_API_KEY = "15a23c21867f4f38b0b46f5e4adb1caf87a040b34eb58f68"
MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class JournalEntry:
    """One request the mock journalled: an entry of GET /__mock/requests, secrets masked as it shows them.

    Attributes, as the HTTP journal names them: `method`; `path` (the API path, without a namespace
    prefix); `query` (each parameter's first value); `headers` (werkzeug Headers, so
    `entry.headers["x-api-key"]` works; secrets show as ``***``); `status`; `namespace`; `time`
    (when it was answered, UTC, ISO 8601 to the ms); `received` (when it arrived: earlier by any
    delay); `target` (path and query as the access log shows them); `request_id`; `worker` (the pid
    that answered); `fault` (the transport fault it was answered with, or None: web/faults.py);
    `retry_after` (the seconds of a 429's or 503's Retry-After, or None); `problem` (an error's
    detail, or None); `applied` (the preferences honoured, as Preference-Applied says them, or None).
    `sent(header, value)` checks a header's value, masked or not.
    """

    method: str
    path: str
    query: dict
    headers: object
    status: int
    namespace: str
    time: str
    target: str
    request_id: str
    worker: int
    fault: str | None
    received: str
    retry_after: int | None
    problem: str | None
    applied: str | None
    _kept: dict = field(repr=False, compare=False)
    _entries: object = field(repr=False, compare=False)

    def sent(self, header: str, value: str) -> bool:
        """Whether the request carried `header` (any case) with exactly `value`, masked in `headers` or not.

        A masked value (X-API-Key, Authorization, Cookie, anything shaped like a key) is checked against
        a keyed digest the journal keeps and never serves, e.g. `entry.sent("X-API-Key", mock.api_key)`.
        """
        return self._entries.sent(self._kept, header, value)


class ConversationsMockServer:
    """The session's server: the mock app behind werkzeug's threaded server, in a daemon thread.

    - `base_url`: ``http://127.0.0.1:PORT``, without the base_path setting.
    - `app`: the Flask app (create_app); `settings`: its settings;
      `default_catalogue`: the data it started with.
    - `stop()`: stop serving, close the socket and the store.
    """

    def __init__(self, settings=None):
        from werkzeug.serving import WSGIRequestHandler, make_server

        from conversations_mock import create_app
        from conversations_mock.web.faults import FAULT_KEY

        class QuietHandler(WSGIRequestHandler):
            def log_request(self, *args, **kwargs):
                """Tests read the journal; an access log line per request would only be noise."""

            def connection_dropped(self, error, environ=None):
                """After a transport fault (web/faults.py), close at once: a connection-reset's close is its RST.

                werkzeug would shut the socket's write side first, a FIN the client would read before the RST.
                """
                if environ is not None and environ.get(FAULT_KEY) == "connection-reset":
                    self.close_connection = True
                    self.rfile.close()  # the socket's last other user: its close is then real
                    self.connection.close()

        # environ={}: the machine's MOCK_* variables never change what the tests see.
        self.app = create_app({**(settings or {}), "host": "127.0.0.1", "port": 0}, environ={})
        self.settings = self.app.config["SETTINGS"]
        self.default_catalogue = self.app.extensions["catalogue"]
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=QuietHandler)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="conversations-mock", daemon=True
        )
        self._thread.start()

    def stop(self):
        """Stop serving, close the socket and the store (its temporary files go)."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self.app.extensions["store"].close()


class ConversationsMock:
    """What a test gets: the mock's address and key, per-test data and seed, and the requests it received.

    - `url`: the API's base URL, ``http://127.0.0.1:PORT`` plus the base_path setting, if any.
    - `api_key`: a key the mock accepts (the first api_keys setting, else the documented example key).
    - `conversations_url(chatbot_id)`: the URL of a chatbot's conversations.
    - `seed` (read and set) and `set_seed(seed)`: the seed of this test's generated conversations.
    - `load_fixture(fixture)`: add chatbots for this test, from a dict, a file or a directory.
    - `requests(namespace="default", path=None)`: a namespace's requests, **newest first**, as
      JournalEntry (method, path, query, headers, status, namespace, time, target, request_id,
      worker, and `sent(header, value)`); the entries GET /__mock/requests lists.
    - `journal`: the default namespace's requests, **newest first** (``requests()``).
    - `verdicts(namespace="default")`: what the mock noticed about the client, as GET /__mock/verdicts
      lists it: dicts of `kind`, `detail` and `request_ids` ([] for a client that behaves).
    - `assert_well_behaved(namespace="default")`: fails the test with the verdicts, one per line, if any.
    - `reset()`: back to the session's data and seed; the chatbots and fault rules set with the control
      API and the journals of **every** namespace go. The fixture calls it before and after each test.
    """

    def __init__(self, server: ConversationsMockServer):
        self._server = server
        self._seed = server.settings["seed"]
        self._fixture_dirs = []
        self._scratch = None

    @property
    def url(self) -> str:
        """The API's base URL, e.g. http://127.0.0.1:PORT (plus the base_path setting, if any)."""
        return self._server.base_url + self._server.settings["base_path"]

    @property
    def api_key(self) -> str:
        """A key the mock accepts."""
        keys = self._server.settings["api_keys"]
        return keys[0] if keys else DOCUMENTED_API_KEY

    @property
    def journal(self) -> list:
        """The default namespace's requests during this test, newest first: `requests()`."""
        return self.requests()

    def requests(self, namespace: str = "default", path: str | None = None) -> list:
        """A namespace's requests during this test, newest first, as JournalEntry (GET /__mock/requests's).

        The same record the HTTP journal reads, so the same entries: control requests (/__mock/...)
        and health probes are not journalled, nor a request naming a bad namespace; each request is
        in the namespace it named (X-Mock-Namespace or /__mock/ns/{namespace}/...), under its path
        without the prefix. At most the journal_size setting's newest are kept. `path`: only requests
        to this path (e.g. "/chatbots/ID/conversations", with the base_path setting's prefix if any).
        Raises ValueError for a namespace no request can name.
        """
        from conversations_mock.schemas.control import NAMESPACE_RULE, valid_namespace
        from conversations_mock.web.journal import JOURNAL, journal_of, shown_entry

        if not isinstance(namespace, str) or not valid_namespace(namespace):
            raise ValueError(f"No request can name the namespace {namespace!r}: {NAMESPACE_RULE}")

        entries = self._server.app.extensions[JOURNAL]
        listed = []
        for kept in journal_of(self._server.app.extensions["store"], namespace, path):
            shown = shown_entry(kept)
            listed.append(
                JournalEntry(
                    **{name: shown[name] for name in _SHOWN_FIELDS},
                    headers=_headers(shown["headers"]),
                    _kept=kept,
                    _entries=entries,
                )
            )
        return listed

    def verdicts(self, namespace: str = "default") -> list:
        """What the mock noticed about the client in a namespace during this test (GET /__mock/verdicts's).

        Each a dict: `kind` (retry-before-retry-after, retry-without-backoff, ignored-auth-error,
        repeated-request), `detail` (a sentence) and `request_ids` (the requests involved, oldest
        first). Judged from the journal, so from its newest journal_size entries only. Raises
        ValueError for a namespace no request can name.
        """
        from conversations_mock.schemas.control import NAMESPACE_RULE, valid_namespace
        from conversations_mock.web.journal import journal_of
        from conversations_mock.web.verdicts import judge

        if not isinstance(namespace, str) or not valid_namespace(namespace):
            raise ValueError(f"No request can name the namespace {namespace!r}: {NAMESPACE_RULE}")
        return judge(journal_of(self._server.app.extensions["store"], namespace))

    def assert_well_behaved(self, namespace: str = "default"):
        """Fail the test (AssertionError) with each verdict on the client in `namespace`, if there is any.

        E.g. ``conversations_mock.assert_well_behaved()`` after the client under test met failures.
        """
        found = self.verdicts(namespace)
        if found:
            lines = "\n".join(
                f"- {verdict['kind']}: {verdict['detail']} Requests: {', '.join(verdict['request_ids'])}."
                for verdict in found
            )
            raise AssertionError(
                f"The client did not behave in namespace {namespace!r} ({len(found)} verdict(s), as GET "
                f"/__mock/verdicts lists them):\n{lines}"
            )

    def conversations_url(self, chatbot_id: str) -> str:
        """The URL of a chatbot's conversations."""
        return f"{self.url}/chatbots/{chatbot_id}/conversations"

    @property
    def seed(self) -> int:
        """The seed of generated conversations for this test."""
        return self._seed

    @seed.setter
    def seed(self, seed: int):
        self.set_seed(seed)

    def set_seed(self, seed: int):
        """Generate this test's conversations with `seed` (a whole number from 0 to 2**63-1)."""
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
            raise ValueError(f"The seed must be a whole number from 0 to {MAX_SEED}, not {seed!r}.")
        self._rebuild(seed, self._fixture_dirs)
        self._seed = seed

    def load_fixture(self, fixture):
        """Add chatbots for this test: a fixture document (dict), or the path of a fixture file or directory.

        A later load replaces chatbots of the same id. Raises app.FixtureError naming the file, item and
        field when the fixture is not valid; the mock then keeps the data it had.
        """
        if isinstance(fixture, dict):
            directory = self._new_scratch_dir()
            (directory / "load_fixture.json").write_text(json.dumps(fixture), encoding="utf-8")
        elif isinstance(fixture, (str, Path)):
            path = Path(fixture)
            if path.is_dir():
                directory = path
            elif path.is_file():
                directory = self._new_scratch_dir()
                shutil.copyfile(path, directory / f"{path.stem}.json")
            else:
                from conversations_mock import FixtureError

                raise FixtureError(f"{path}: no fixture file or directory there.")
        else:
            raise TypeError(
                f"load_fixture takes a dict or the path of a file or directory, not {type(fixture).__name__}."
            )
        self._rebuild(self._seed, [*self._fixture_dirs, directory])
        self._fixture_dirs.append(directory)

    def reset(self):
        """Back to the session's data and seed; every namespace's control-API chatbots, fault rules and journal go."""
        self._server.app.extensions["store"].reset_all()
        self._server.app.extensions["catalogue"] = self._server.default_catalogue
        self._seed = self._server.settings["seed"]
        self._fixture_dirs = []
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def _new_scratch_dir(self) -> Path:
        # One directory per load, so a later load may redefine a chatbot without a duplicate-id error.
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="conversations-mock-"))
        directory = self._scratch / f"{len(list(self._scratch.iterdir())):03d}"
        directory.mkdir()
        return directory

    def _rebuild(self, seed, fixture_dirs):
        from conversations_mock import build_catalogue

        settings = {**self._server.settings, "seed": seed}
        # Built before it is swapped in: a bad fixture leaves the running catalogue untouched.
        clock = self._server.app.extensions["catalogue"].clock  # the session's time goes on
        self._server.app.extensions["catalogue"] = build_catalogue(settings, fixture_dirs, clock=clock)


# JournalEntry's fields taken as GET /__mock/requests shows them (headers become werkzeug Headers).
_SHOWN_FIELDS = ("method", "path", "query", "status", "namespace", "time", "target", "request_id", "worker",
                 "fault", "received", "retry_after", "problem", "applied")


def _headers(shown: dict):
    from werkzeug.datastructures import Headers

    return Headers(list(shown.items()))


@pytest.fixture(scope="session")
def conversations_mock_settings():
    """Settings of the session's mock (override in conftest.py), e.g. {"base_path": "/v1"}."""
    return {}


@pytest.fixture(scope="session")
def conversations_mock_server(conversations_mock_settings):
    """The session's live mock server, started when a test first needs it."""
    server = ConversationsMockServer(conversations_mock_settings)
    yield server
    server.stop()


@pytest.fixture
def conversations_mock(conversations_mock_server):
    """The live mock for one test (a ConversationsMock), reset before and after it."""
    mock = ConversationsMock(conversations_mock_server)
    mock.reset()
    yield mock
    mock.reset()
