"""The journal's entries: headers masked as the entry is made, and the memo that spares remaking them."""

from hypothesis import given, settings
from hypothesis import strategies as st

from conversations_mock.web import journal
from conversations_mock.web.journal import journal_entry, masked_headers
from conversations_mock.web.safety import MASK, mask_secrets
from tests.helpers import API_KEY

SECRETS = {"HTTP_X_API_KEY", "HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION", "HTTP_COOKIE"}


def reference_headers(environ) -> dict:
    """The headers as journal_entry made them before its memo: every environ key walked, every value masked."""
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
            headers[shown] = f"{scheme} {MASK}".lstrip()
        else:
            headers[shown] = mask_secrets(value)
    return headers


NAMES = st.sampled_from([
    *SECRETS, "HTTP_HOST", "HTTP_USER_AGENT", "HTTP_X_OTHER", "HTTP_X_REQUEST_ID", "CONTENT_TYPE",
    "CONTENT_LENGTH", "REQUEST_METHOD", "QUERY_STRING", "wsgi.url_scheme",
])
VALUES = st.one_of(
    st.sampled_from(["", "*/*", "Bearer xyz", API_KEY, f"v {API_KEY}", "token=abc", "Basic a b"]),
    st.text(max_size=30),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(NAMES, VALUES, max_size=8), min_size=1, max_size=6), st.data())
def test_masked_headers_are_what_walking_the_environ_made_whatever_came_before(environs, data):
    # Requests take turns, some with the same keys and other values, each asked twice: the memo
    # answers each with its own values' masking, never another request's.
    for environ in environs + environs:
        same_keys = {name: data.draw(VALUES) for name in environ}
        for one in (environ, same_keys):
            assert masked_headers(one) == reference_headers(one)


def test_a_secret_never_reaches_the_entry_though_the_memo_holds_it():
    environ = {"HTTP_X_API_KEY": API_KEY, "HTTP_AUTHORIZATION": "Bearer xyz", "HTTP_X_OTHER": f"v {API_KEY}"}
    for _ in range(2):
        entry = journal_entry("default", environ, 200)
        assert entry["headers"] == {"X-Api-Key": MASK, "Authorization": f"Bearer {MASK}", "X-Other": f"v {MASK}"}
        assert API_KEY not in str(entry) and "xyz" not in str(entry)


def test_each_entry_gets_its_own_headers_dict():
    environ = {"HTTP_ACCEPT": "*/*"}
    masked_headers(environ)["Accept"] = "changed"
    assert masked_headers(environ) == {"Accept": "*/*"}


def test_the_memos_stay_bounded(monkeypatch):
    monkeypatch.setattr(journal, "MEMO_SIZE", 8)
    for n in range(50):
        masked_headers({f"HTTP_X_{n}": "a", "HTTP_ACCEPT": str(n)})  # a new set of keys each time
        masked_headers({"HTTP_ACCEPT": str(n)})  # the same keys, new values
        assert len(journal._SHAPES) <= 8 and len(journal._MASKED) <= 8
    masked_headers({"HTTP_ACCEPT": "x" * (journal.MEMO_VALUE_BYTES + 1)})
    assert all(sum(map(len, values)) <= journal.MEMO_VALUE_BYTES for _, values in journal._MASKED)
