"""Scenarios on demand: the `Prefer` header (Prism's convention) and the server's latency and error rate.

Order, for a request the API would otherwise answer 200: the API key, path, query and body are
checked first (401/422/400 as usual, like Prism); then `Prefer` is read (422 when malformed); then
the request waits (`delay`, or the `latency` setting); then `code` (or the `error_rate` setting)
answers with an error; otherwise `example`, `seed` and `clock` choose the data.
"""

import functools
import hashlib
import time
from dataclasses import dataclass, field

import orjson
from flask import current_app, request
from marshmallow import RAISE, ValidationError
from werkzeug.http import parse_list_header, unquote_header_value

from conversations_mock.data.catalogue import items_of
from conversations_mock.data.fixtures import BUILTIN_FIXTURES, ListedHistory, read_fixture_file
from conversations_mock.data.generator import timestamp_text
from conversations_mock.schemas import PageQuery
from conversations_mock.schemas.clock import INSTANT_EXAMPLE
from conversations_mock.schemas.preferences import (
    PREFER_HEADER,
    PREFERENCE_APPLIED_HEADER,
    RFC_7240_PREFERENCES,
    PreferencesSchema,
)
from conversations_mock.web.problems import RETRY_AFTER_SECONDS, Problem, api_key_challenge, simulated_detail
from conversations_mock.web.safety import REQUEST_ID_HEADER

_EXAMPLE_VALUES = {"code": "404", "delay": "1000", "example": "empty", "seed": "7", "clock": INSTANT_EXAMPLE}
_schema = PreferencesSchema()

@dataclass
class Scenario:
    """What one request asked for, and which of its preferences were honoured."""

    preferences: dict = field(default_factory=dict)
    applied: list = field(default_factory=list)

    def page(self, route, catalogue, values: dict, query: PageQuery) -> tuple[int, bytes, int]:
        """(total, JSON bytes, the instant it was evaluated at) of the page, from the example, seed or
        clock asked for, else the route's own page at the clock's instant."""
        chatbot_id = values["chatbot_id"]
        example = self.preferences.get("example")
        seed, asked_at = self.preferences.get("seed"), self.preferences.get("clock")
        at = catalogue.clock.now_us() if asked_at is None else asked_at
        if example == "empty":
            self.applied.append("example=empty")
            return 0, b"[]", at
        if example == "documented":
            self.applied.append("example=documented")
            return *_documented_page(chatbot_id, query), at
        if seed is None and asked_at is None:
            # What the fast path answers an ordinary request with.
            return *route.page(catalogue, values, query, at), at
        # A chatbot whose conversations a fixture lists is the same whatever the seed (and the clock, unshifted).
        if seed is not None and not catalogue.is_listed(chatbot_id):
            self.applied.append(f"seed={seed}")
        if asked_at is not None and catalogue.follows_clock(chatbot_id):
            # Quoted: an instant's colons are not token characters (RFC 7240 values are tokens or quoted).
            self.applied.append(f'clock="{timestamp_text(at)}"')
        return *catalogue.page(chatbot_id, query, seed=seed, at=at), at

    def finish(self, response):
        """Echo the honoured preferences (RFC 7240 Preference-Applied) on the response."""
        if self.applied:
            response.headers[PREFERENCE_APPLIED_HEADER] = ", ".join(self.applied)
        if self.preferences:
            response.vary.add(PREFER_HEADER)
        return response


def chaos(settings) -> bool:
    """Whether the server-wide latency or error rate is set: each request then draws its own."""
    return settings["latency"] != (0, 0) or settings["error_rate"] > 0


def prepare():
    """Read the request's preferences and the server's chaos settings: wait, or raise the error asked for.

    Raises Problem(422) naming each malformed preference, or the Problem a `code` or the error rate picks.
    """
    settings = current_app.config["SETTINGS"]
    # WSGI servers join repeated headers with commas; the environ is cheaper to read than request.headers.
    prefer = request.environ.get("HTTP_PREFER")
    drawn = chaos(settings)
    if not prefer and not drawn:
        return Scenario()
    scenario = Scenario(read_preferences(prefer) if prefer else {})
    delay, code = scenario.preferences.get("delay"), scenario.preferences.get("code")
    injected = None
    if drawn and (delay is None or code is None):
        latency, failure = _draws(settings)
        if delay is None and latency:
            time.sleep(latency / 1000)
        if code is None and failure:
            injected = (
                f"Simulated failure: the server's error_rate setting ({settings['error_rate']:g}) picked "
                f"this request. Send 'Prefer: code=200' to opt out, or another {REQUEST_ID_HEADER} "
                "to draw again."
            )
    if delay is not None:
        scenario.applied.append(f"delay={delay}")
        # Under gunicorn's gevent workers time.sleep yields, so a delayed request holds no worker.
        time.sleep(delay / 1000)
    if code is not None:
        scenario.applied.append(f"code={code}")
        if code != 200:
            raise _simulated(code, scenario)
    if injected:
        raise Problem(500, injected, headers=_error_headers(scenario))
    return scenario


def read_preferences(header: str) -> dict:
    """The preferences of a Prefer header value, loaded by PreferencesSchema.

    Tolerates spaces, empty items and quoted values; ignores RFC 7240's own preferences and
    any `;` parameters. Raises Problem(422) naming every preference that is unknown, repeated or malformed.
    """
    raw, given, problems = {}, {}, []
    for item in parse_list_header(header):
        name, has_value, value = item.split(";", 1)[0].partition("=")
        name, value = name.strip().lower(), unquote_header_value(value.strip())
        if not name or name in RFC_7240_PREFERENCES:
            continue
        given[name] = f"{name}={value}" if has_value else name
        if name in raw:
            problems.append(f"{given[name]}: Given more than once; send it once.")
        elif not has_value or value == "":
            if name in _schema.fields:
                problems.append(f"{given[name]}: Needs a value, e.g. {name}={_EXAMPLE_VALUES[name]}.")
            raw[name] = None
        else:
            raw[name] = value
    # Known preferences without a value are reported above; unknown ones go on to be refused as unknown.
    to_load = {name: value for name, value in raw.items() if value is not None or name not in _schema.fields}
    try:
        preferences = _schema.load(to_load, unknown=RAISE)
    except ValidationError as error:
        preferences = {}
        for name, messages in error.messages.items():
            problems.extend(f"{given[name]}: {message}" for message in messages)
    if problems:
        raise Problem(
            422,
            f"The {PREFER_HEADER} header asks for what this server cannot do: {'; '.join(problems)}",
            errors={PREFER_HEADER: problems},
            headers={"Vary": PREFER_HEADER},  # another Prefer header would be answered otherwise
        )
    return preferences


def _draws(settings):
    """(latency ms, fails?) for this request, the same whenever the same request is repeated."""
    parts = (
        str(settings["seed"]),
        request.method,
        request.path,
        request.query_string.decode("latin-1"),
        request.environ.get("HTTP_X_REQUEST_ID", ""),
    )
    digest = hashlib.blake2b("\0".join(parts).encode("utf-8", "replace"), digest_size=16).digest()
    low, high = settings["latency"]
    latency = low + int.from_bytes(digest[8:]) % (high - low + 1)
    return latency, int.from_bytes(digest[:8]) / 2**64 < settings["error_rate"]


def _error_headers(scenario):
    """Preference-Applied, and Vary: Prefer as on a 200 (Scenario.finish), for an error answer."""
    headers = {PREFERENCE_APPLIED_HEADER: ", ".join(scenario.applied)} if scenario.applied else {}
    if scenario.preferences:
        headers["Vary"] = PREFER_HEADER
    return headers


def _simulated(code, scenario):
    headers = _error_headers(scenario)
    if code in (429, 503):
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    if code == 401:
        headers["WWW-Authenticate"] = api_key_challenge()
    # A 422 says "see errors": the simulated one names what asked for it there.
    errors = {PREFER_HEADER: [f"code={code}: asked for by this request."]} if code == 422 else None
    base_path = current_app.config["SETTINGS"]["base_path"]
    return Problem(code, simulated_detail(code, base_path), errors=errors, headers=headers)


@functools.cache
def _documented_history():
    path = BUILTIN_FIXTURES / "documented-example.json"
    chatbot = read_fixture_file(path)[0]
    return ListedHistory(str(chatbot["id"]), chatbot["conversations"])


def _documented_page(chatbot_id: str, query: PageQuery) -> tuple[int, bytes]:
    """The API document's ten conversations, filtered and paged, as if chatbot_id had them."""
    total, items = items_of(_documented_history(), query)
    return total, orjson.dumps([{**item, "chatbot_id": chatbot_id} for item in items])
