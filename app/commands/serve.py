"""Serve the app with gunicorn, after every setting and fixture file has been checked."""

import errno
import socket
import sys

from gunicorn.app.base import BaseApplication
from gunicorn.config import KNOWN_SETTINGS

import conversations_mock
from conversations_mock import ConfigError, FixtureError, create_app
from conversations_mock.commands import gunicorn_conf
from conversations_mock.commands.cpus import available_cpus
from conversations_mock.data import compiled
from conversations_mock.data.fixtures import DOCUMENTED_CHATBOT, DOCUMENTED_KEY
from conversations_mock.settings import SETTINGS, control_token, is_loopback


class MockServer(BaseApplication):
    """gunicorn running an app that was built, and checked, before it starts."""

    def __init__(self, application, options):
        self.application = application
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


def _setting(name):
    return f"Setting {SETTINGS[name].label()}"


def _check_address(host, port):
    """Fail with one line naming the setting at fault (not gunicorn's retries) when the address cannot be bound."""
    # A name that does not resolve or an address this machine lacks is the host's mistake, not the port's.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except socket.gaierror as error:
            raise ConfigError(
                f"{_setting('host')}: {host!r} does not resolve to an address ({error.strerror}); give an "
                "address of this machine, e.g. 127.0.0.1, or a name that resolves to one."
            ) from error
        except OSError as error:
            if error.errno == errno.EADDRNOTAVAIL:
                raise ConfigError(
                    f"{_setting('host')}: {host} is not an address of this machine; give one it has, "
                    "e.g. 127.0.0.1 (only this machine) or 0.0.0.0 (every interface)."
                ) from error
            address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            if error.errno == errno.EADDRINUSE:
                reason = "is already in use; stop what listens there, or give --port 0 for any free port"
            else:
                reason = f"cannot be bound ({error.strerror}); give another, or --port 0 for any free one"
            raise ConfigError(f"{_setting('port')}: {address} {reason}.") from error


def _announce(settings, made_token=None):
    # A key this server accepts: the operator's own when keys are configured, else the documented one.
    key = settings["api_keys"][0] if settings["api_keys"] else DOCUMENTED_KEY
    version = conversations_mock.__version__

    def when_ready(server):
        host, port = server.LISTENERS[0].sock.getsockname()[:2]
        origin = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"  # IPv6 in brackets
        url = f"{origin}{settings['base_path']}/chatbots/{DOCUMENTED_CHATBOT}/conversations"
        workers = f"{server.num_workers} worker" + ("" if server.num_workers == 1 else "s")
        scope = "only this machine can connect" if is_loopback(host) else "reachable from other machines"
        print(
            f"conversations-mock {version}: serving on {origin} ({scope}) with {workers}",
            file=sys.stderr,
            flush=True,
        )
        print(f"conversations-mock: try  curl -H 'X-API-Key: {key}' {url}", file=sys.stderr, flush=True)
        if made_token:
            print(
                f"conversations-mock: the control API (/__mock) takes 'Authorization: Bearer {made_token}', a token "
                f"made at start; give {SETTINGS['admin_token'].variable} (or {SETTINGS['admin_token'].flag}) "
                "for a fixed one",
                file=sys.stderr,
                flush=True,
            )
        if not compiled.is_compiled():  # said once, by the master: the workers share its modules
            print(f"conversations-mock: {compiled.NOT_BUILT}", file=sys.stderr, flush=True)

    return when_ready


def _worker_ready(worker):
    # Printed once the worker has its signal handlers: tests wait for it before stopping a server.
    print(f"conversations-mock: worker {worker.pid} ready", file=sys.stderr, flush=True)


def _goodbye(server):
    # gunicorn's own lines for the stop are at debug level (web/server_log.py): this one says it is over.
    print("conversations-mock: stopped", file=sys.stderr, flush=True)


def serve(overrides=None):
    """Check settings and fixtures, then serve until stopped; returns the exit status."""
    try:
        app = create_app(overrides)
        settings = app.config["SETTINGS"]
        _check_address(settings["host"], settings["port"])
        made_token = control_token(settings)
    except (ConfigError, FixtureError) as error:
        for line in str(error).splitlines():  # a fixture file's problems, one to a line
            print(f"conversations-mock: {line}", file=sys.stderr)
        return 2
    if made_token:
        # Set here, in gunicorn's master before the fork (the app is preloaded): every worker takes the same token.
        settings["admin_token"] = made_token
    # The settings file's names that gunicorn knows (as gunicorn reads a config file): not its imports.
    known = {setting.name for setting in KNOWN_SETTINGS}
    options = {name: getattr(gunicorn_conf, name) for name in dir(gunicorn_conf) if name in known}
    options["bind"] = f"[{settings['host']}]:{settings['port']}" if ":" in settings["host"] else f"{settings['host']}:{settings['port']}"
    options["workers"] = settings["workers"] or available_cpus()
    options["when_ready"] = _announce(settings, made_token)
    options["post_worker_init"] = _worker_ready
    options["on_exit"] = _goodbye
    MockServer(app, options).run()
    return 0
