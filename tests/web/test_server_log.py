"""gunicorn's routine start and stop lines are at debug level; its other lines are as gunicorn logs them."""

import logging

import pytest
from gunicorn.config import Config

from conversations_mock.web.server_log import MockLogger


def _logged(level, method, msg, *args):
    """The messages MockLogger emits at gunicorn's log `level` when called as log.`method`(msg, *args)."""
    config = Config()
    config.set("loglevel", level)
    config.set("errorlog", "-")  # gunicorn's handler writes to stderr, which pytest captures
    log = MockLogger(config)
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    log.error_log.addHandler(handler)
    try:
        getattr(log, method)(msg, *args)
    finally:
        log.error_log.removeHandler(handler)
    return [(record.levelname, record.getMessage()) for record in records]


@pytest.mark.parametrize("msg, args", [
    ("Booting worker with pid: %s", (123,)),
    ("Worker exiting (pid: %s)", (123,)),
    ("Handling signal: %s", ("int",)),
    ("Shutting down: %s", ("Master",)),
])
def test_routine_lines_wait_for_debug_level(msg, args):
    assert _logged("info", "info", msg, *args) == []
    assert _logged("debug", "info", msg, *args) == [("DEBUG", msg % args)]


@pytest.mark.parametrize("method, msg, level", [
    ("info", "Worker reloading: %s modified", "INFO"),
    ("warning", "Worker graceful timeout (pid:%s)", "WARNING"),
    ("error", "Shutting down: %s", "ERROR"),  # the master stopping on a failure
])
def test_other_lines_stay_as_gunicorn_logs_them(method, msg, level):
    assert _logged("info", method, msg, "x") == [(level, msg % "x")]
