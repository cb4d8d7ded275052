"""The gunicorn worker: gevent, gunicorn's errors as problem+json, keys masked in logs, load shared out.

gunicorn answers requests it cannot parse (a request line or header past its limits, a malformed
request line) itself, before the app sees them, with a small HTML page. This worker makes those
answers the same problem documents the app sends, with the CORS headers the app gives any origin
(web/cors.py), so a browser script can read them too. On SIGTERM it closes its listener at once
(gunicorn's gevent worker looks once a second), so a stopped server frees its port immediately; on
SIGINT (Ctrl-C) or SIGQUIT it stops at once without gunicorn's SystemExit traceback.
"""

import signal
import time
from functools import partial

import gevent
from gevent.event import Event
from gevent.pool import Pool
from gevent.server import StreamServer
from gunicorn import util
from gunicorn.sock import ssl_context
from gunicorn.workers.ggevent import GeventWorker

from conversations_mock.schemas import PROBLEM_CONTENT_TYPE
from conversations_mock.store import StoreUnavailable
from conversations_mock.web.balance import ConnectionTable
from conversations_mock.web.control import STORE
from conversations_mock.web.cors import unparsed_headers
from conversations_mock.web.problems import LOGGED, describe, problem_body, title
from conversations_mock.web.safety import MaskSecrets, request_id


def _explain(status: int, message: str, cfg) -> str:
    """gunicorn's terse reason, reworded to say which limit was passed and how to change it."""
    if "Request Line is too large" in message:
        return (f"The request line (method, path and query) is longer than {cfg.limit_request_line} bytes: "
                f"{message}.")
    if "limit request headers fields size" in message:
        return f"A request header is longer than {cfg.limit_request_field_size} bytes."
    if "limit request headers fields" in message:
        return f"The request has more than {cfg.limit_request_fields} header fields."
    if status == 500 and not message:
        return describe(500) + LOGGED
    return f"The request could not be parsed as HTTP: {message}."


def problem_writer(cfg, cors_headers=()):
    """A replacement for gunicorn.util.write_error that writes a problem document.

    :param cfg: gunicorn's settings, whose limits the document names
    :param cors_headers: (name, value) pairs every such answer carries (web/cors.py's unparsed_headers)
    """
    cors = "".join(f"{name}: {value}\r\n" for name, value in cors_headers)

    def write_problem(sock, status_int, reason, mesg):
        if status_int == 400 and "Request Line is too large" in mesg:
            # gunicorn says 400; RFC 9110 (15.5.15) has a status for a target longer than a server takes.
            status_int = 414
        reason = title(status_int)
        body = problem_body(status_int, _explain(status_int, mesg, cfg))
        head = (
            f"HTTP/1.1 {status_int} {reason}\r\n"
            "Connection: close\r\n"
            f"Content-Type: {PROBLEM_CONTENT_TYPE}\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            # gunicorn refused the request before its headers were read: a fresh id, as for any request.
            f"X-Request-ID: {request_id({})}\r\n"
            f"{cors}"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        util.write_nonblock(sock, head.encode("latin-1") + body)

    return write_problem


# Made on import, which happens in gunicorn's master (it loads the worker class before forking):
# every worker it forks shares this memory (web/balance.py).
CONNECTIONS = ConnectionTable()


class MockWorker(GeventWorker):
    """gevent worker: problem+json errors, masked keys, prompt stops, quiet Ctrl-C, connections shared out."""

    def init_process(self):
        for logger in (self.log.error_log, self.log.access_log):
            logger.addFilter(MaskSecrets())
        self._servers = []
        self._stopping = Event()
        self._quick = False  # stopping by INT or QUIT: requests in flight are not waited for
        self._seat = CONNECTIONS.seat(self.age, self.pid)
        super().init_process()

    def load_wsgi(self):
        super().load_wsgi()
        # gunicorn has no hook for the page it writes on a bad request; Worker.handle_error calls
        # util.write_error (with status, reason and message), so this worker process replaces it.
        util.write_error = problem_writer(self.cfg, unparsed_headers(self.wsgi))
        # The app was built in the master, before gevent's patching: the store makes its locks again, as
        # gevent's, and listens from the start (Store.start_worker).
        store = getattr(self.wsgi, "extensions", {}).get(STORE)
        if store is not None:
            try:
                store.start_worker()
            except StoreUnavailable:
                pass  # the listener retries; requests answer 503 naming the store meanwhile

    def handle_exit(self, sig, frame):
        # gunicorn's gevent worker notices SIGTERM at its next once-a-second check and accepts new
        # connections until then, so the port stays taken after the master has let it go.
        super().handle_exit(sig, frame)
        gevent.spawn(self._stopping.set)  # out of the signal handler, as gunicorn does for SIGQUIT

    def handle_quit(self, sig, frame):
        # gunicorn's gevent worker stops on INT or QUIT by sys.exit(0) in a greenlet it spawns per signal.
        # Ctrl-C sends INT to the whole process group and the master then sends QUIT: the second
        # greenlet's SystemExit arrives while Python exits and is printed as a traceback (gunicorn
        # issue 3239). Here the run loop ends instead, at once, dropping requests in flight (a quick stop).
        if self._quick:
            return  # the twin of the signal that started the stop
        self.alive = False
        self._quick = True
        gevent.spawn(self._quit)

    def _quit(self):
        self.cfg.worker_int(self)  # gunicorn's hook, called out of the signal handler as gunicorn does
        self._stopping.set()

    def handle(self, listener, client, addr):
        self._seat.opened()
        try:
            super().handle(listener, client, addr)
        finally:
            self._seat.closed()

    def handle_request(self, listener_name, req, sock, addr):
        if self._seat.crowded():
            req.must_close = True  # gunicorn answers with `Connection: close`; the client reconnects
        keep_alive = super().handle_request(listener_name, req, sock, addr)
        if not self.alive:
            # Stopping: the answer is sent; waiting for the connection's next request would only keep
            # the worker alive for the keepalive timeout.
            raise StopIteration()
        return keep_alive

    def run(self):
        """GeventWorker.run, woken by SIGTERM: stop accepting at once, then let requests in flight finish."""
        tls = {"ssl_context": ssl_context(self.cfg)} if self.cfg.is_ssl else {}
        for listener in self.sockets:
            listener.setblocking(1)
            pool = Pool(self.worker_connections)
            server = StreamServer(listener, handle=partial(self.handle, listener), spawn=pool, **tls)
            if self.cfg.workers > 1:
                server.max_accept = 1  # as gunicorn: leave the other connections to the other workers
            server.start()
            self._servers.append(server)
        while self.alive:
            self.notify()
            self._seat.beat()
            self._stopping.wait(1.0)
        try:
            self._drain()
        finally:
            # A stop signal to the process group reaches this worker and the master, which then sends
            # its own: arriving while Python exits (which restores the default actions), that one would
            # kill the worker by signal, an error in the master's log. Held back, it is never delivered.
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT, signal.SIGQUIT})

    def _drain(self):
        """Stop accepting at once; then, unless stopping quickly, let requests in flight finish."""
        for server in self._servers:
            server.close()  # the listener is closed: a new connection is refused, not queued
        deadline = time.monotonic() + self.cfg.graceful_timeout
        while not self._quick and time.monotonic() < deadline:  # a Ctrl-C meanwhile ends the wait too
            if all(server.pool.free_count() == server.pool.size for server in self._servers):
                return
            self.notify()
            gevent.sleep(0.1)
        if self._quick:
            return  # connections end with the process (killing their greenlets would log each as an error)
        self.log.warning("Worker graceful timeout (pid:%s)", self.pid)
        for server in self._servers:
            server.stop(timeout=1)
