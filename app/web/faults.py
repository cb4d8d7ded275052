"""Transport faults and dribbled bodies: what a flaky network or a failing backend does to a connection.

A fault is made at the socket, which the WSGI server gives the app: gunicorn as
`gunicorn.socket`, werkzeug's server (the pytest plugin's, `flask run`) as `werkzeug.socket`.
No library does this (WireMock and Toxiproxy are not Python), hence the hand-written bytes.
The answer's body iterator writes the fault's bytes itself, then raises ConnectionResetError:
gunicorn then closes the connection quietly (a SO_LINGER of 0 makes that close a TCP RST), and
werkzeug's server, whose reads the socket's shut read side ends, closes it too (after a FIN,
save in the pytest plugin's server, which closes a reset at once). The request is journalled
first, with its fault (web/journal.py), through start_response like any answer: status 0 when
no status line was sent.

Usage, as the view answers a Decision with a fault::

    return FaultResponse(decision.fault, body, headers, request.environ)   # Problem(501) with no socket
"""

import errno
import hashlib
import socket
import struct
import time

from conversations_mock.schemas.preferences import FAULTS
from conversations_mock.web.problems import Problem
from conversations_mock.web.responses import MockResponse
from conversations_mock.web.safety import REQUEST_ID_HEADER, REQUEST_ID_KEY

# environ key of the fault a request was answered with, for its journal entry.
FAULT_KEY = "mock.fault"
# Where WSGI servers put the connection's socket.
SOCKET_KEYS = ("gunicorn.socket", "werkzeug.socket")
# Faults that send a status line (200): the journal records it; the others record 0 (no status sent).
SENDS_STATUS = ("malformed-chunk", "truncated-body")
# How many pieces a dribbled body is sent in, at most (one a byte for a short body).
DRIBBLE_PIECES = 10


def socket_of(environ):
    """The connection's socket as the WSGI server gives it, or None (Flask's test client, other servers)."""
    for key in SOCKET_KEYS:
        sock = environ.get(key)
        if sock is not None:
            return sock
    return None


class FaultResponse(MockResponse):
    """An answer that breaks the connection as the fault says, instead of answering.

    :param fault: one of FAULTS
    :param body: the page's body (truncated-body sends part of it)
    :param headers: the page's headers (the faults that send a status line send them)
    :param environ: the request's, whose socket is broken
    :raise Problem: 501, when the server gives the app no socket to break (never a silent 200)
    """

    def __init__(self, fault: str, body: bytes, headers, environ):
        if fault not in FAULTS:
            raise ValueError(f"No such fault: {fault!r}; the faults are {', '.join(FAULTS)}.")
        if socket_of(environ) is None:
            raise Problem(501, (
                f"The fault {fault} is made on the connection's socket, which this server does not give "
                "the app (Flask's test client has none): run the mock with gunicorn (serve) or the pytest "
                "plugin's server."
            ))
        super().__init__(body, headers=headers)
        self.fault = fault

    def __call__(self, environ, start_response):
        sock = socket_of(environ)
        environ[FAULT_KEY] = self.fault
        headers = self.get_wsgi_headers(environ).to_wsgi_list()
        # The journal records the request here (web/namespaces.py); nothing is sent until the body is.
        start_response(self.status if self.fault in SENDS_STATUS else f"000 {self.fault}", headers)
        return self._break(sock, environ, headers)

    def _break(self, sock, environ, headers):
        """A body iterator that writes the fault's bytes, then ends the connection."""
        status_line = f"HTTP/1.1 {self.status}\r\n"
        headers = [*headers, (REQUEST_ID_HEADER, environ.get(REQUEST_ID_KEY, ""))]
        body = self.get_data()
        if self.fault == "malformed-chunk":
            head = _head(status_line, headers, {"Content-Length"}, [("Transfer-Encoding", "chunked")])
            # A chunk size must be hex digits: "zz" is not one, so no client can read on.
            sock.sendall(head + b"zz\r\n" + body[:16] + b"\r\n")
        elif self.fault == "truncated-body":
            head = _head(status_line, headers, set(), [])
            sock.sendall(head + body[: len(body) // 2])
        elif self.fault == "random-data-then-close":
            sock.sendall(_noise(environ.get(REQUEST_ID_KEY, "")))
        elif self.fault == "connection-reset":
            # Linger on, for 0 seconds: closing the socket then discards it with a TCP RST, not a FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        try:
            # werkzeug's server would wait for the connection's next request: its reads now end at once.
            sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass
        raise ConnectionResetError(errno.ECONNRESET, f"Connection broken on purpose: {self.fault}")
        yield  # a generator: the bytes go when the server asks for the body, after start_response


def _head(status_line: str, headers, dropped: set, added: list) -> bytes:
    """A response's status line and headers as bytes, some dropped and some added, closing the connection."""
    kept = [(name, value) for name, value in headers
            if name not in dropped and name.lower() not in ("connection", "transfer-encoding")]
    lines = [f"{name}: {value}\r\n" for name, value in [*kept, *added, ("Connection", "close")]]
    return (status_line + "".join(lines) + "\r\n").encode("latin-1")


def _noise(request_id: str) -> bytes:
    """256 bytes that are not HTTP, the same for the same request id (a run replays exactly)."""
    noise = b"".join(hashlib.blake2b(f"{request_id}:{n}".encode(), digest_size=64).digest() for n in range(4))
    return b"\x00" + noise[1:]  # never "HTTP/": a client cannot take it for a status line


def dribble(body: bytes, duration_ms: int):
    """The body in pieces, the pause between them spread over `duration_ms` (gevent: a sleep holds no worker)."""
    count = max(1, min(DRIBBLE_PIECES, len(body)))
    cuts = [len(body) * index // count for index in range(count + 1)]
    pieces = [body[start:end] for start, end in zip(cuts, cuts[1:])]
    pause = duration_ms / 1000 / max(1, len(pieces) - 1)
    for index, piece in enumerate(pieces):
        if index:
            time.sleep(pause)
        yield piece
