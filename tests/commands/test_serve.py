"""`serve`'s banner: where it serves, said as a client writes it, with a curl to try."""

import shlex
from types import SimpleNamespace

import pytest

import conversations_mock
from conversations_mock.commands.serve import _announce
from conversations_mock.settings import load_settings


@pytest.mark.parametrize("address, workers, said, origin", [
    (("127.0.0.1", 8000), 2, "(only this machine can connect) with 2 workers", "http://127.0.0.1:8000"),
    (("::1", 8000, 0, 0), 1, "(only this machine can connect) with 1 worker", "http://[::1]:8000"),
    (("0.0.0.0", 8001), 3, "(reachable from other machines) with 3 workers", "http://0.0.0.0:8001"),
    (("::", 8000, 0, 0), 1, "(reachable from other machines) with 1 worker", "http://[::]:8000"),
    (("127.0.0.2", 8000), 2, "(only this machine can connect) with 2 workers", "http://127.0.0.2:8000"),
])
def test_the_banner_gives_the_address_as_a_url(capsys, address, workers, said, origin):
    listener = SimpleNamespace(sock=SimpleNamespace(getsockname=lambda: address))
    _announce(load_settings(environ={}))(SimpleNamespace(LISTENERS=[listener], num_workers=workers))
    serving, curl = capsys.readouterr().err.splitlines()[:2]
    assert serving == f"conversations-mock {conversations_mock.__version__}: serving on {origin} {said}"
    assert shlex.split(curl.split("try  ", 1)[1])[-1].startswith(f"{origin}/chatbots/")
