"""The journal's entries: headers masked and digested as the entry is made, and the memo that spares it."""

import itertools
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conversations_mock.web import journal
from conversations_mock.web.journal import Entries, shown_entry
from conversations_mock.web.safety import MASK, mask_secrets
from tests.helpers import API_KEY, api_get

ENTRIES = Entries()
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqYW5lIn0.c2lnbmF0dXJlLWJ5dGVz"
SECRETS = {"HTTP_X_API_KEY", "HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION", "HTTP_COOKIE"}
# Headers whose name says what their value is: shown as *** alone.
NAMED_SECRETS = {"HTTP_X_AUTH_TOKEN", "HTTP_X_SESSION_ID", "HTTP_X_CLIENT_SECRET", "HTTP_X_PASSWORD", "HTTP_X_APIKEY"}


def reference_headers(environ) -> dict:
    """The headers as entries made them before the memo: every environ key walked, every value masked.

    Each shown name maps to (the value shown, the value sent).
    """
    headers = {}
    for name, value in environ.items():
        if name.startswith("HTTP_"):
            shown = name[5:].replace("_", "-").title()
        elif name in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            shown = name.replace("_", "-").title()
        else:
            continue
        if name in SECRETS:
            scheme = value.split(" ", 1)[0] if " " in value and name != "HTTP_X_API_KEY" else ""
            headers[shown] = (f"{scheme} {MASK}".lstrip(), value)
        elif name in NAMED_SECRETS:
            headers[shown] = (MASK, value)
        else:
            headers[shown] = (mask_secrets(value), value)
    return headers


NAMES = st.sampled_from([
    *SECRETS, *NAMED_SECRETS, "HTTP_HOST", "HTTP_USER_AGENT", "HTTP_X_OTHER", "HTTP_X_REQUEST_ID", "CONTENT_TYPE",
    "CONTENT_LENGTH", "REQUEST_METHOD", "QUERY_STRING", "wsgi.url_scheme",
])
VALUES = st.one_of(
    st.sampled_from(["", "*/*", "Bearer xyz", API_KEY, f"v {API_KEY}", "token=abc", "Basic a b", JWT, "***"]),
    st.text(max_size=30),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(NAMES, VALUES, max_size=8), min_size=1, max_size=6), st.data())
def test_masked_headers_are_what_walking_the_environ_made_whatever_came_before(environs, data):
    # Requests take turns, some with the same keys and other values, each asked twice: the memo
    # answers each with its own values' masking and digests, never another request's.
    for environ in environs + environs:
        same_keys = {name: data.draw(VALUES) for name in environ}
        for one in (environ, same_keys):
            reference = reference_headers(one)
            headers, digests = ENTRIES.headers(one)
            assert headers == {name: shown for name, (shown, _) in reference.items()}
            # A digest of each value masking changed, and of no other.
            assert digests == {
                name: ENTRIES.digest(sent) for name, (shown, sent) in reference.items() if shown != sent
            }


def test_a_secret_never_reaches_the_entry_though_the_memo_holds_it():
    environ = {"HTTP_X_API_KEY": API_KEY, "HTTP_AUTHORIZATION": "Bearer xyz", "HTTP_X_OTHER": f"v {API_KEY}"}
    for _ in range(2):
        entry = ENTRIES.entry("default", environ, 200)
        assert entry["headers"] == {"X-Api-Key": MASK, "Authorization": f"Bearer {MASK}", "X-Other": f"v {MASK}"}
        assert API_KEY not in str(entry) and "xyz" not in str(entry)


def test_headers_are_masked_by_meaning_and_each_masked_value_can_be_checked():
    environ = {"HTTP_X_AUTH_TOKEN": "t0k3n", "HTTP_X_SESSION_ID": "s3ss", "HTTP_X_CLIENT_SECRET": "c",
               "HTTP_X_PASSWORD": "hunter2", "HTTP_X_FORWARDED_USER": f"Bearer {JWT}", "HTTP_X_TRACE": JWT,
               "HTTP_X_REQUEST_ID": "r-1", "QUERY_STRING": "session=abc&page=2&token_type=x", "PATH_INFO": "/x"}
    entry = ENTRIES.entry("default", environ, 200)
    assert entry["headers"] == {"X-Auth-Token": MASK, "X-Session-Id": MASK, "X-Client-Secret": MASK,
                                "X-Password": MASK, "X-Forwarded-User": f"Bearer {MASK}", "X-Trace": MASK,
                                "X-Request-Id": "r-1"}
    assert entry["query"] == f"session={MASK}&page=2&token_type={MASK}"
    for secret in ("t0k3n", "s3ss", "hunter2", JWT, "abc"):
        assert secret not in str(shown_entry(entry))
    # The pytest plugin's entry.sent() checks each against its digest.
    for name, value in [("X-Auth-Token", "t0k3n"), ("x-session-id", "s3ss"), ("X-Password", "hunter2"),
                        ("X-Forwarded-User", f"Bearer {JWT}"), ("X-Trace", JWT)]:
        assert ENTRIES.sent(entry, name, value) and not ENTRIES.sent(entry, name, value + "x")


@pytest.mark.parametrize(
    "header, value, sent",
    [
        ("X-API-Key", API_KEY, True),  # masked: checked against its digest, the name in any case
        ("x-api-key", API_KEY.upper(), False),
        ("Authorization", "Bearer xyz", True),
        ("Authorization", "Bearer xy", False),
        ("Accept", "*/*", True),  # not masked: checked against the value shown
        ("Accept", "text/html", False),
        ("Cookie", "a=b", False),  # not sent
    ],
)
def test_sent_checks_what_the_client_sent_masked_or_not(header, value, sent):
    entry = ENTRIES.entry("default", {"HTTP_X_API_KEY": API_KEY, "HTTP_AUTHORIZATION": "Bearer xyz",
                                      "HTTP_ACCEPT": "*/*"}, 200)
    assert ENTRIES.sent(entry, header, value) is sent


def test_digests_made_with_another_key_cannot_be_checked_and_are_never_shown():
    environ = {"HTTP_X_API_KEY": API_KEY}
    mine, other = Entries(), Entries()
    entry = other.entry("default", environ, 200)
    digest = entry["digests"]["headers"]["X-Api-Key"]
    assert digest != mine.entry("default", environ, 200)["digests"]["headers"]["X-Api-Key"]
    with pytest.raises(ValueError, match="X-API-Key was masked with a digest key this server no longer"):
        mine.sent(entry, "X-API-Key", API_KEY)
    assert other.sent(entry, "X-API-Key", API_KEY)
    assert "digests" not in shown_entry(entry) and digest not in str(shown_entry(entry))


def test_an_entry_with_nothing_masked_keeps_no_digests():
    assert ENTRIES.entry("default", {"HTTP_ACCEPT": "*/*"}, 200)["digests"] is None


def test_each_entry_gets_its_own_dicts():
    environ = {"HTTP_ACCEPT": "*/*", "HTTP_X_API_KEY": API_KEY}
    headers, digests = ENTRIES.headers(environ)
    headers["Accept"], digests["X-Api-Key"] = "changed", "changed"
    assert ENTRIES.headers(environ) == (
        {"Accept": "*/*", "X-Api-Key": MASK}, {"X-Api-Key": ENTRIES.digest(API_KEY)}
    )


def test_the_memos_stay_bounded(monkeypatch):
    monkeypatch.setattr(journal, "MEMO_SIZE", 8)
    entries = Entries()
    for n in range(50):
        entries.headers({f"HTTP_X_{n}": "a", "HTTP_ACCEPT": str(n)})  # a new set of keys each time
        entries.headers({"HTTP_ACCEPT": str(n)})  # the same keys, new values
        assert len(journal._SHAPES) <= 8 and len(entries._keyed[2]) <= 8
    entries.headers({"HTTP_ACCEPT": "x" * (journal.MEMO_VALUE_BYTES + 1)})
    assert all(sum(map(len, values)) <= journal.MEMO_VALUE_BYTES for _, values in entries._keyed[2])


def _keyed_alike(apps) -> bool:
    return len({app.extensions[journal.JOURNAL].key_id for app in apps}) == 1


def test_servers_on_one_redis_digest_with_one_key_and_check_each_others_entries_even_after_a_flush(
        redis_server, redis_url):
    from conversations_mock.factory import create_app

    apps = [create_app({"store": redis_url}) for _ in range(2)]  # two servers sharing one Redis
    try:
        for round_ in ("before", "after"):
            if round_ == "after":
                redis_server.client.flushall()  # the store comes back empty: its key is gone with the journal
                apps.append(create_app({"store": redis_url}))  # started since: makes or reads a new one
                deadline = time.monotonic() + 5  # each listener looks at the store twice a second
                while not _keyed_alike(apps) and time.monotonic() < deadline:
                    time.sleep(0.05)
            for app in apps:
                assert api_get(app.test_client(), namespace=round_).status_code == 200
            kept = journal.journal_of(apps[0].extensions["store"], round_)
            assert len(kept) == len(apps)
            assert len({entry["digests"]["headers"]["X-Api-Key"] for entry in kept}) == 1
            for app, entry in itertools.product(apps, kept):
                entries = app.extensions[journal.JOURNAL]
                assert entries.sent(entry, "X-API-Key", API_KEY)
                assert not entries.sent(entry, "X-API-Key", "other")
    finally:
        for app in apps:
            app.extensions["store"].close()
