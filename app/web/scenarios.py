"""Scenarios on demand: the `Prefer` header (Prism's convention), the server's latency and error rate, and
the view's answer to a Decision.

Order, for a request the API would otherwise answer 200: the API key, path, query and body are
checked first (401/422/400 as usual, like Prism); then web/answers.py's deciders run, among them
`Prefer` (422 when malformed) and the latency/error-rate settings; then the request waits (`delay`,
or the `latency` setting); then a `fault` breaks the connection, or `code` (or the `error_rate`
setting) answers with an error; otherwise `example`, `seed` and `clock` choose the data, and
`dribble` spreads the body over time.
"""

import functools
from dataclasses import dataclass, field

import orjson
from flask import Response, current_app, request
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
from conversations_mock.web import draws
from conversations_mock.web.answers import Decider
from conversations_mock.web.faults import FaultResponse, dribble
from conversations_mock.web.pages import page_headers
from conversations_mock.web.problems import RETRY_AFTER_SECONDS, Problem, api_key_challenge, simulated_detail
from conversations_mock.web.waits import ABANDONED_STATUS, wait

_EXAMPLE_VALUES = {"code": "404", "delay": "1000", "example": "empty", "seed": "7", "clock": INSTANT_EXAMPLE,
                   "fault": "connection-reset", "dribble": "2000", "retry-after": "2"}
_schema = PreferencesSchema()
# Each preference as a client names it (a field's data_key, e.g. retry-after).
_PREFERENCES = {field.data_key or name for name, field in _schema.fields.items()}

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


def _prefer(context, decision):
    """The Prefer decider: the request's own ask, each honoured preference named for Preference-Applied."""
    preferences = decision.preferences = context.preferences
    delay, code, fault = preferences.get("delay"), preferences.get("code"), preferences.get("fault")
    if delay is not None:
        decision.applied.append(f"delay={delay}")
        if decision.delay_ms is None:
            decision.delay_ms = delay
    if code is not None:
        decision.applied.append(f"code={code}")
        retry_after = preferences.get("retry_after")
        if retry_after is not None:
            decision.applied.append(f"retry-after={retry_after}")
        decision.settle("prefer", code=code, retry_after=retry_after)
    if fault is not None:
        decision.applied.append(f"fault={fault}")
        decision.settle("prefer", fault=fault)
    dribble = preferences.get("dribble")
    if dribble is not None:
        decision.applied.append(f"dribble={dribble}")
        if decision.dribble_ms is None:
            decision.dribble_ms = dribble


def _chaos(context, decision):
    """The chaos decider: the server's latency (per request) and error rate (per attempt), drawn.

    The k-th attempt of the same request (method, path, query, API key, namespace) takes the k-th
    draw of a sequence seeded by the server's seed and that request: a run replays exactly, and a
    retry draws anew. The count is the store's (one counter for every worker and server).
    """
    settings, environ = context.settings, context.environ
    identity = draws.identity(environ)
    low, high = settings["latency"]
    if decision.delay_ms is None and high:
        decision.delay_ms = low + int(draws.draw(settings["seed"], identity, 0, "latency") * (high - low + 1))
    rate = settings["error_rate"]
    if rate <= 0 or decision.settled:
        return  # an answer already chosen (Prefer: code=200 too) is not an attempt the rate draws for
    attempt = draws.attempt(context.store, environ)
    if draws.draw(settings["seed"], identity, attempt, "error-rate") >= rate:
        return
    statuses = settings["error_status"]
    code = statuses[int(draws.draw(settings["seed"], identity, attempt, "error-status") * len(statuses))]
    decision.settle("error-rate", code=code, detail=(
        f"Simulated failure: the server's error_rate setting ({rate:g}) picked attempt {attempt} of this "
        f"request, and error_status {code}. A retry draws again; send 'Prefer: code=200' to opt out."
    ))


# Registered by answers.answers_for: Prefer for a request that sends the header, chaos when it is set.
PREFER = Decider("prefer", _prefer, wanted=lambda environ: "HTTP_PREFER" in environ)
CHAOS = Decider("chaos", _chaos)


def answer(decision, route, catalogue, values: dict, query: PageQuery):
    """The view's response to an admitted request: as its Decision says (web/answers.py), else its page.

    Waits the decision's delay, then breaks the connection (a fault), raises the Problem of an
    error code, or sends the page the preferences pick (dribbled if asked), with the decision's
    headers. Raises Problem(501) for a fault where the server gives no socket.
    """
    base_url = request.base_url
    if decision is None:
        at = catalogue.clock.now_us()  # once: the body and its X-Mock-Clock header name the same instant
        total, body = route.page(catalogue, values, query, at)
        return Response(body, headers=page_headers(base_url, query, total, body, at))
    if decision.delay_ms is not None and wait(request.environ, decision.delay_ms / 1000):
        return Response(b"", status=ABANDONED_STATUS)  # nobody reads it: the journal and the log say 499
    if decision.fault is None and decision.replaces_page:
        raise _simulated(decision)
    scenario = Scenario(decision.preferences, decision.applied)
    total, body, at = scenario.page(route, catalogue, values, query)
    headers = [*page_headers(base_url, query, total, body, at), *decision.headers]
    if decision.fault is not None:
        response = FaultResponse(decision.fault, body, headers, request.environ)
    elif decision.dribble_ms:
        response = Response(dribble(body, decision.dribble_ms), headers=headers)
    else:
        response = Response(body, headers=headers)
    return scenario.finish(response)


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
            if name in _PREFERENCES:
                problems.append(f"{given[name]}: Needs a value, e.g. {name}={_EXAMPLE_VALUES[name]}.")
            raw[name] = None
        else:
            raw[name] = value
    # Known preferences without a value are reported above; unknown ones go on to be refused as unknown.
    to_load = {name: value for name, value in raw.items() if value is not None or name not in _PREFERENCES}
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


def _simulated(decision):
    """The Problem answering a decision's error code, with its headers, Retry-After and Preference-Applied."""
    code = decision.code
    headers = dict(decision.headers)
    if decision.applied:
        headers[PREFERENCE_APPLIED_HEADER] = ", ".join(decision.applied)
    if decision.preferences:
        headers["Vary"] = PREFER_HEADER  # as on a 200 (Scenario.finish)
    retry_after = RETRY_AFTER_SECONDS if decision.retry_after is None else decision.retry_after
    if code in (429, 503):
        headers["Retry-After"] = str(retry_after)
    if code == 401:
        headers["WWW-Authenticate"] = api_key_challenge()
    # A 422 says "see errors": the simulated one names what asked for it there.
    errors = {PREFER_HEADER: [f"code={code}: asked for by this request."]} if code == 422 else None
    base_path = current_app.config["SETTINGS"]["base_path"]
    detail = decision.detail or simulated_detail(code, base_path, retry_after)
    return Problem(code, detail, errors=errors, headers=headers)


@functools.cache
def _documented_history():
    path = BUILTIN_FIXTURES / "documented-example.json"
    chatbot = read_fixture_file(path)[0]
    return ListedHistory(str(chatbot["id"]), chatbot["conversations"])


def _documented_page(chatbot_id: str, query: PageQuery) -> tuple[int, bytes]:
    """The API document's ten conversations, filtered and paged, as if chatbot_id had them."""
    total, items = items_of(_documented_history(), query)
    return total, orjson.dumps([{**item, "chatbot_id": chatbot_id} for item in items])
