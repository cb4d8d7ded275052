"""web/waits.py: a delay that ends, answered 499, when the client closes its connection."""

import socket

import pytest

from conversations_mock.web.waits import ABANDONED_KEY, wait


@pytest.fixture
def connection():
    """(the server's end, the client's end) of a connected pair of sockets."""
    server, client = socket.socketpair()
    yield server, client
    server.close()
    client.close()


@pytest.mark.parametrize("key", ["gunicorn.socket", "werkzeug.socket"])
def test_a_client_that_closed_ends_the_wait_as_abandoned(connection, key):
    server, client = connection
    client.close()
    environ = {key: server}
    assert wait(environ, 30) is True  # not 30 seconds: the end of the stream ends it
    assert environ[ABANDONED_KEY] is True


@pytest.mark.parametrize("sent", [b"", b"GET / HTTP/1.1\r\n"])
def test_a_client_still_there_is_waited_for_and_nothing_it_sent_is_consumed(connection, sent):
    server, client = connection
    client.sendall(sent)
    environ = {"gunicorn.socket": server}
    assert wait(environ, 0.05) is False
    assert ABANDONED_KEY not in environ
    if sent:
        assert server.recv(100) == sent  # peeked, not read: the server parses it as its next request


def test_a_descriptor_past_selects_range_is_watched(connection):
    """A worker holding a thousand connections gives descriptors past 1024, which select() cannot watch."""
    import os
    import resource

    server, client = connection
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] <= 1100:
        pytest.skip("this process may not open descriptors past 1100")
    high = socket.socket(fileno=os.dup2(server.fileno(), 1100))
    client.close()
    try:
        assert wait({"gunicorn.socket": high}, 30) is True
    finally:
        high.close()


def test_without_a_socket_it_is_a_plain_wait():
    environ = {}
    assert wait(environ, 0.01) is False
    assert environ == {}
