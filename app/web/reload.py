"""Fixture reload: each worker notices fixture files added, edited or removed, and swaps its catalogue.

The check runs on a request, at most once per INTERVAL seconds per worker, and costs a directory
listing and a stat per file. Polling on requests, not a watcher thread, because gunicorn builds
the app once in the master (preload_app) and forks: a thread would not survive the fork, and
each gevent worker must swap its own copy of the catalogue anyway.
"""

import os
import sys
import threading
import time

from conversations_mock.data.fixtures import FixtureError, fixture_files

INTERVAL = 1.0


def snapshot(directories) -> tuple:
    """What identifies the directories' fixture files now: path, size, mtime and inode of each."""
    entries = []
    for path in fixture_files(directories):
        try:
            status = path.stat()
        except OSError:
            continue  # removed between the listing and the stat: as good as gone
        # The inode catches editors that save by renaming a new file over the old one.
        entries.append((str(path), status.st_size, status.st_mtime_ns, status.st_ino))
    return tuple(entries)


def _say(message):
    print(f"conversations-mock: worker {os.getpid()}: {message}", file=sys.stderr, flush=True)


class FixtureReloader:
    """Rebuilds an app's catalogue from its settings when its fixture files change."""

    def __init__(self, app, build, interval=INTERVAL, clock=time.monotonic):
        self.app = app
        self.build = build
        self.interval = interval
        self.clock = clock
        self.directories = app.extensions["catalogue"].fixture_dirs
        self._seen = snapshot(self.directories)
        self._checked = clock()
        self._reported = None
        self._lock = threading.Lock()

    def check(self):
        """Swap in a new catalogue if the files changed since the last check (at most every INTERVAL)."""
        if self.clock() - self._checked < self.interval:
            return
        # One request rebuilds; others meanwhile are served from the catalogue in place.
        if not self._lock.acquire(blocking=False):
            return
        try:
            self._checked = self.clock()
            current = snapshot(self.directories)
            if current != self._seen:
                self._seen = current
                self._rebuild(len(current))
        finally:
            self._lock.release()

    def _rebuild(self, files):
        try:
            catalogue = self.build(self.app.config["SETTINGS"])
        except FixtureError as error:
            # Said once per distinct problem, not on every check while the file stays broken.
            if str(error) != self._reported:
                self._reported = str(error)
                for line in str(error).splitlines():
                    _say(f"fixtures not reloaded, still serving the last good data: {line}")
            return
        self.app.extensions["catalogue"] = catalogue
        self._reported = None
        _say(f"fixtures reloaded: {len(catalogue.chatbot_ids())} chatbots from {files} files")


class FixtureReload:
    """WSGI layer that has the reloader check the fixture files before the request is answered.

    It stands in front of the fast path and Flask, so every answer comes from the catalogue in
    place after the check.

    :param wsgi_app: what answers the request
    :param reloader: the app's FixtureReloader
    """

    def __init__(self, wsgi_app, reloader: FixtureReloader):
        self.wsgi_app = wsgi_app
        self.reloader = reloader

    def __call__(self, environ, start_response):
        self.reloader.check()
        return self.wsgi_app(environ, start_response)
