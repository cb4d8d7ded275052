"""gunicorn's error log as the mock's user reads it: its routine start and stop lines at debug level.

`conversations-mock serve` prints a banner of its own (where it serves, a curl to try, each worker
ready) and a goodbye. gunicorn's lines for the same moments (its version, the address again, the worker
class, each worker booting and exiting, the signal handled, the master shutting down) would say it all
twice, once per worker on a machine of many cores; at debug level (gunicorn run with --log-level debug)
they are still there. Warnings and errors, a worker that died or timed out among them, are untouched.
"""

from gunicorn.glogging import Logger

# gunicorn 23's format strings for those moments, which it logs at info level.
ROUTINE = frozenset({
    "Starting gunicorn %s",
    "Listening at: %s (%s)",
    "Using worker: %s",
    "Booting worker with pid: %s",
    "Worker exiting (pid: %s)",
    "Handling signal: %s",
    "Shutting down: %s",  # said at error level when the master stops on a failure: kept then
})


class MockLogger(Logger):
    """gunicorn's logger, with its ROUTINE messages at debug level instead of info."""

    def info(self, msg, *args, **kwargs):
        if msg in ROUTINE:
            self.debug(msg, *args, **kwargs)
        else:
            super().info(msg, *args, **kwargs)
