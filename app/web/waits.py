"""A request's delay that notices its client leaving: an abandoned request ends as 499, nginx's convention.

A client that timed out during `Prefer: delay=3000` closes its connection; answering it 200 three
seconds later would journal and log an answer nobody read. While a delayed request waits, the
connection's socket (web/faults.py `socket_of`) is watched: the end of the client's stream (a
read of 0 bytes, peeked so nothing is consumed) ends the wait at once, and the request is
answered `499 Client Closed Request`, which the journal and the access log record. Without a
socket (Flask's test client) the wait is a plain sleep. poll and sleep are gevent's under
gunicorn: a waiting request holds no worker.

Usage, where a Decision's delay is waited::

    if wait(environ, decision.delay_ms / 1000):
        return Response(b"", status=ABANDONED_STATUS)   # the client left
"""

import select
import socket
import time

from conversations_mock.web.faults import socket_of

# The status line of a request its client abandoned (nginx's 499: no HTTP status says it).
ABANDONED_STATUS = "499 Client Closed Request"
# environ key set when the client left during the wait.
ABANDONED_KEY = "mock.abandoned"


def wait(environ, seconds: float) -> bool:
    """Wait `seconds`; True, at once, when the client closes its connection meanwhile (no longer waited on).

    Bytes from the client (a pipelined request) say it is still there: the rest is slept plainly.
    """
    sock = socket_of(environ)
    if sock is None:
        time.sleep(seconds)
        return False
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        try:
            # poll, not select: a worker holding 1024 connections has descriptors select cannot watch.
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            if not poller.poll(left * 1000):
                return False
            gone = sock.recv(1, socket.MSG_PEEK) == b""
        except (BlockingIOError, InterruptedError):
            continue  # readable, then not: look again
        except OSError:
            gone = True  # reset by the peer, or closed
        if gone:
            environ[ABANDONED_KEY] = True
            return True
        break
    time.sleep(max(0.0, deadline - time.monotonic()))
    return False
