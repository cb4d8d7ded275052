"""The clock as a client sees it: the clock settings, Prefer: clock=, shifted fixtures and the demo."""

import json
import re

import pytest

from conversations_mock import ConfigError, FixtureError, create_app
from conversations_mock.data.clock import Clock
from conversations_mock.data.fixtures import BUILTIN_FIXTURES
from conversations_mock.data.generator import timestamp_text
from tests.helpers import API_KEY, DOCUMENTED_CHATBOT, GENERATED_CHATBOT, demo_flags

QUOTE = '"'
URL = f"/chatbots/{GENERATED_CHATBOT}/conversations"
DOCUMENTED_URL = f"/chatbots/{DOCUMENTED_CHATBOT}/conversations"
CLOCKS = [{}, {"clock": "fixed"}, {"clock": "now"}, {"clock": "2026-06-01T12:00:00Z"},
          {"clock": "2020-01-01T00:00:00+09:00"}, {"clock": "now", "clock_speed": "3600"},
          {"clock": "fixed", "clock_speed": "60"}]


class Wall:
    """A wall clock the test moves by hand (seconds since the epoch)."""

    def __init__(self, seconds=1_780_315_200.0):
        self.seconds = seconds

    def __call__(self):
        return self.seconds


def _get(app, url, headers=None):
    return app.test_client().get(url, headers={"X-API-Key": API_KEY, **(headers or {})})


def _with_wall(app, start=None):
    """Swap the app's clock for the same clock reading a hand-moved wall clock, from the same start
    (or from `start`, seconds since the epoch: a `now` clock that starts then)."""
    start = app.extensions["catalogue"].clock.start_us / 10**6 if start is None else start
    wall, settings = Wall(start), app.config["SETTINGS"]
    app.extensions["catalogue"].clock = Clock.of(settings["clock"], settings["clock_speed"], wall=wall)
    return wall


@pytest.mark.parametrize("settings", CLOCKS)
def test_the_documented_example_is_unchanged_under_every_clock(settings, documented_example):
    app = create_app(settings)
    assert _get(app, DOCUMENTED_URL).json == documented_example
    answer = _get(app, DOCUMENTED_URL, {"Prefer": "clock=2031-01-01T00:00:00Z"})
    assert answer.json == documented_example and "Preference-Applied" not in answer.headers


@pytest.mark.parametrize("count", ["1", "50", "1000"])
@pytest.mark.parametrize("clock", [{}, {"clock": "2026-06-01T12:00:00Z"}, {"clock": "now"},
                                   {"clock": "now", "conversations_per_hour": "200"}])
def test_a_chatbot_has_its_configured_count_at_the_clocks_start(count, clock):
    # Under now at the start of the server's day (UTC): servers and restarts on one day agree, and the
    # count is not the fixed clock's grown by every day since 2025-03-07, only by today's arrivals.
    app = create_app({"conversations": count, **clock})
    anchor = timestamp_text(app.extensions["catalogue"].clock.anchor_us)
    assert _get(app, URL, {"Prefer": f"clock={anchor}"}).headers["X-Total-Count"] == count
    per_day = 24 * int(clock.get("conversations_per_hour", 1))
    now_total = int(_get(app, URL).headers["X-Total-Count"])
    assert int(count) <= now_total <= int(count) + per_day * (1 + int(count) // 30)
    if clock.get("clock") != "now":
        assert _get(app, URL).headers["X-Total-Count"] == count


def test_conversations_per_hour_sets_how_fast_they_arrive():
    app = create_app({"conversations": "1000", "conversations_per_hour": "200",
                      "clock": "2026-06-01T12:00:00Z"})
    day_later = _get(app, URL, {"Prefer": "clock=2026-06-02T12:00:00Z"})
    assert int(day_later.headers["X-Total-Count"]) == 1000 + 24 * 200


@pytest.mark.parametrize("settings", [{"clock": "2026-06-01T12:00:00Z", "clock_speed": "60"},
                                      {"clock": "now", "clock_speed": "3600"}])
def test_every_answer_says_the_instant_it_was_evaluated_at(make_app, settings):
    app = make_app({**settings, "conversations_per_hour": "600"})
    wall = _with_wall(app)
    seen = []
    for _ in range(3):  # the second and third requests are the fast path's, its headers made anew
        answer = _get(app, URL)
        clock = answer.headers["X-Mock-Clock"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", clock)
        # The body is the page at that instant: its newest conversation is the newest then, none later.
        history = app.extensions["catalogue"].history(GENERATED_CHATBOT)
        at = app.extensions["catalogue"].clock.now_us()
        assert answer.json == history.page(None, 0, 10, at) and answer.json[0]["created_at"] <= clock
        seen.append(clock)
        wall.seconds += 2  # two seconds later: two minutes of the clock at speed 60, two hours at 3600
    assert len(set(seen)) == 3 and seen == sorted(seen)
    now = timestamp_text(app.extensions["catalogue"].clock.now_us())
    assert now > seen[-1]
    error = _get(app, URL + "?page=0")  # an error says the clock's instant too
    assert error.status_code == 422 and error.headers["X-Mock-Clock"] == now
    health = app.test_client().get("/healthz")
    mode = "now" if settings["clock"] == "now" else "instant"
    assert health.json["clock"] == {"instant": now, "mode": mode, "speed": float(settings["clock_speed"])}
    assert health.headers["X-Mock-Clock"] == now


@pytest.mark.parametrize(("settings", "mode", "speed"), [({}, "fixed", 0.0), ({"clock": "now"}, "now", 1.0),
                                                         ({"clock": "2026-06-01T12:00:00Z"}, "instant", 0.0)])
def test_healthz_reports_the_clock(settings, mode, speed):
    health = create_app(settings).test_client().get("/healthz").json
    assert (health["clock"]["mode"], health["clock"]["speed"]) == (mode, speed)
    if mode != "now":
        expected = {"fixed": "2025-03-07T06:00:00+00:00"}.get(mode, "2026-06-01T12:00:00+00:00")
        assert health["clock"]["instant"] == expected


def test_a_later_instant_keeps_every_conversation_below_the_newer_ones(get):
    early = get(URL + "?page_size=5", headers={"Prefer": "clock=2025-06-01T00:00:00Z"})
    late_total = int(get(URL, headers={"Prefer": "clock=2025-09-01T00:00:00Z"}).headers["X-Total-Count"])
    arrived_since = late_total - int(early.headers["X-Total-Count"])
    assert arrived_since > 0
    page = arrived_since // 5 + 1
    late = get(f"{URL}?page_size=5&page={page}", headers={"Prefer": "clock=2025-09-01T00:00:00Z"}).json
    newest_then = late[arrived_since % 5]
    assert (newest_then["id"], newest_then["created_at"]) == (early.json[0]["id"], early.json[0]["created_at"])


def test_prefer_clock_answers_at_that_instant_and_says_so(get):
    at = get(URL, headers={"Prefer": "clock=2026-06-01T14:00:00+02:00"})
    # The server's history (its count at its clock's start, 2025-03-07T06:00:00Z) as it stands then.
    history = create_app().extensions["catalogue"].history(GENERATED_CHATBOT)
    then = 1_780_315_200_000_000
    assert at.status_code == 200 and at.json == history.page(None, 0, 10, then)
    assert at.headers["X-Total-Count"] == str(history.total(None, then))
    assert at.headers["X-Mock-Clock"] == "2026-06-01T12:00:00+00:00"
    assert at.headers["Preference-Applied"] == 'clock="2026-06-01T12:00:00+00:00"'
    assert "Prefer" in at.headers["Vary"]
    both = get(URL, headers={"Prefer": 'seed=7, clock="2026-06-01T12:00:00Z"'})
    assert both.headers["Preference-Applied"] == 'seed=7, clock="2026-06-01T12:00:00+00:00"'


@pytest.mark.parametrize("value", ["clock=yesterday", "clock=2026-06-01", "clock=2026-06-01T12:00:00",
                                   "clock=2026-02-30T12:00:00Z", "clock=1780315200", 'clock="now"'])
def test_a_malformed_prefer_clock_is_422_naming_clock(get, value):
    answer = get(URL, headers={"Prefer": value})
    assert answer.status_code == 422
    assert answer.json["errors"]["Prefer"] == [
        f"{value.replace(QUOTE, '')}: Must be an ISO 8601 instant with a UTC offset, e.g. 2026-06-01T12:00:00Z or 2026-06-01T14:00:00+02:00."]


def test_prefer_clock_without_a_value_shows_one(get):
    answer = get(URL, headers={"Prefer": "clock"})
    assert answer.status_code == 422
    assert answer.json["errors"]["Prefer"] == ["clock: Needs a value, e.g. clock=2026-06-01T12:00:00Z."]


@pytest.mark.parametrize(("setting", "value", "words"), [
    ("clock", "yesterday", "Must be 'fixed' (the frozen instant 2025-03-07T06:00:00Z), 'now' (the server's wall clock) "
                           "or an ISO 8601 instant with a UTC offset, e.g. 2026-06-01T12:00:00Z."),
    ("clock", "2026-06-01T12:00:00", "or an ISO 8601 instant with a UTC offset"),
    ("clock", "", "Must be 'fixed'"),
    ("clock_speed", "-1", "Must be a number from 0 to 1000000."),
    ("clock_speed", "fast", "Must be a number from 0 to 1000000, e.g. 60."),
    ("clock_speed", "nan", "Must be a number from 0 to 1000000, e.g. 60."),
])
def test_a_bad_clock_setting_is_a_config_error_naming_it(setting, value, words):
    with pytest.raises(ConfigError) as caught:
        create_app({setting: value})
    flag, variable = {"clock": ("--clock", "MOCK_CLOCK"), "clock_speed": ("--clock-speed", "MOCK_CLOCK_SPEED")}[setting]
    assert f"Setting {setting} ({flag} / {variable}) (got {value!r})" in str(caught.value)
    assert words in str(caught.value)


def test_the_clock_settings_come_from_the_environment_too(monkeypatch):
    monkeypatch.setenv("MOCK_CLOCK", "2026-06-01T12:00:00Z")
    monkeypatch.setenv("MOCK_CLOCK_SPEED", "2.5")
    settings = create_app().config["SETTINGS"]
    assert (settings["clock"], settings["clock_speed"]) == (1_780_315_200_000_000, 2.5)


def test_the_fast_path_and_the_view_answer_alike_under_a_running_clock(make_app, make_flask_app):
    fast, flask = make_app({"clock": "now"}), make_flask_app({"clock": "now"})
    fast_wall = _with_wall(fast)
    flask_wall = _with_wall(flask, fast_wall.seconds)  # one start: made a moment apart, they may straddle a second
    for query in ("", "?state=in_progress", "?state=closed&page=3"):
        for _ in range(2):  # the second request of a URL is the fast path's
            assert _get(fast, URL + query).data == _get(flask, URL + query).data
        fast_wall.seconds += 3600
        flask_wall.seconds += 3600


# --- fixtures that opt in to the clock -----------------------------------------------------------

def _listed(shift=None):
    chatbot = {"id": "11111111-2222-4333-8444-555555555555",
               "conversations": json.loads((BUILTIN_FIXTURES / "documented-example.json").read_text())
               ["chatbots"][0]["conversations"]}
    for conversation in chatbot["conversations"]:
        conversation["chatbot_id"] = chatbot["id"]
    if shift is not None:
        chatbot["shift"] = shift
    return {"chatbots": [chatbot]}


@pytest.mark.parametrize("clock", ["fixed", "2026-06-01T12:00:00Z"])
def test_a_shifted_fixture_ends_just_before_the_clock(write_fixture, clock, documented_example):
    directory = write_fixture("shifted.json", _listed(shift=True))
    app = create_app({"fixtures_dir": str(directory), "clock": clock})
    items = _get(app, "/chatbots/11111111-2222-4333-8444-555555555555/conversations").json
    latest = max(max(c["created_at"], c["updated_at"]) for c in items)
    expected = {"fixed": "2025-03-07T05:59:59", "2026-06-01T12:00:00Z": "2026-06-01T11:59:59"}[clock]
    assert latest.startswith(expected)
    # Only the moments move, all by the same amount; the order and everything else stay as written.
    assert [{**c, "created_at": None, "updated_at": None, "chatbot_id": None} for c in items] == [
        {**c, "created_at": None, "updated_at": None, "chatbot_id": None} for c in documented_example]


@pytest.mark.parametrize("shift", [None, False])
def test_a_fixture_stays_as_written_unless_it_opts_in(write_fixture, shift, documented_example):
    directory = write_fixture("listed.json", _listed(shift))
    app = create_app({"fixtures_dir": str(directory), "clock": "2030-01-01T00:00:00Z"})
    items = _get(app, "/chatbots/11111111-2222-4333-8444-555555555555/conversations").json
    assert [c["created_at"] for c in items] == [c["created_at"] for c in documented_example]


@pytest.mark.parametrize(("chatbot", "message"), [
    ({"generated": {"count": 5}, "shift": True},
     "shift: Only for listed conversations: generated ones follow the clock already."),
    ({"conversations": [], "shift": "yes"}, "shift: Not a valid boolean."),
])
def test_shift_is_for_listed_conversations_and_a_boolean(write_fixture, chatbot, message):
    directory = write_fixture("bad.json", {"chatbots": [{"id": "11111111-2222-4333-8444-555555555555", **chatbot}]})
    with pytest.raises(FixtureError) as caught:
        create_app({"fixtures_dir": str(directory)})
    assert f"chatbots[0].{message}" in str(caught.value)


# --- make demo --------------------------------------------------------------------------------------

def _demo_settings():
    """The settings `make demo` serves with, read from the Makefile's demo recipe."""
    flags = demo_flags()
    return {flag.removeprefix("--").replace("-", "_"): value for flag, value in zip(flags[::2], flags[1::2])}


# Instants through a day (UTC) the demo is watched from: its quiet night and busy hours alike, whatever
# the hour the suite runs at (watched from the real hour, page 1 of ten missed an ending in about one
# quarter-hour of five, for one chatbot: busy, ten conversations are two minutes of arrivals).
WATCHED_FROM = [f"2026-12-06T{hour:02d}:{hour * 7 % 60:02d}:00Z" for hour in range(0, 24, 3)]


@pytest.mark.parametrize("start", WATCHED_FROM)
@pytest.mark.parametrize("chatbot", [GENERATED_CHATBOT, "9d5b1c0e-6a43-4f7e-8d21-0c3e5f4a7b99",
                                     "00000000-0000-4000-8000-000000000000"])
def test_watching_page_one_of_the_demo_shows_arrivals_and_endings(chatbot, start):
    import datetime

    settings = _demo_settings()
    # The wall clock's pace: a client's "x minutes ago" from its own clock is right.
    assert settings["clock"] == "now" and float(settings.get("clock_speed", 1)) == 1
    app = create_app(settings)
    wall = _with_wall(app, datetime.datetime.fromisoformat(start).timestamp())
    url = f"/chatbots/{chatbot}/conversations?page_size=50"  # an inbox's first screen
    first = {c["id"] for c in _get(app, url).json}
    in_progress, arrived, ended = set(), False, False
    # Fifteen minutes of watching, a look every five seconds: at any hour of the day (a quiet night too),
    # new conversations come within a minute and every one ends within ten.
    for _ in range(15 * 60 // 5):
        page = _get(app, url).json
        arrived |= page[0]["id"] not in first
        ended |= any(c["id"] in in_progress and c["state"] != "in_progress" and not c["active"] for c in page)
        in_progress |= {c["id"] for c in page if c["state"] == "in_progress"}
        wall.seconds += 5
    assert arrived and ended


@pytest.mark.parametrize("chatbot", [GENERATED_CHATBOT, "9d5b1c0e-6a43-4f7e-8d21-0c3e5f4a7b99",
                                     "00000000-0000-4000-8000-000000000000"])
def test_the_demo_brings_a_conversation_every_10_to_30_seconds_and_ends_each_within_minutes(chatbot):
    app = create_app(_demo_settings())
    catalogue = app.extensions["catalogue"]
    history, start = catalogue.history(chatbot), catalogue.clock.start_us
    low, high = (int(n) for n in _demo_settings()["conversations"].split("-"))
    # Its count at the start of the clock's day, and the day's arrivals since; not grown since 2025.
    assert low <= history.total(None, catalogue.clock.anchor_us) <= high
    assert history.total(None, start) <= high + 24 * int(_demo_settings()["conversations_per_hour"])
    hour = 3600 * 10**6
    arrived = [history.total(None, start + h * hour) for h in range(25)]
    seconds_apart = [3600 / (later - earlier) for earlier, later in zip(arrived, arrived[1:])]
    # Through the busy half of a chatbot's day or more (14 to 15 hours of 24, by where the hours fall against
    # its rhythm) a new one every 10 to 30 seconds; at most a minute apart at night.
    assert sum(10 <= gap <= 30 for gap in seconds_apart) >= 12 and max(seconds_apart) < 60
    minutes = 60 * 10**6
    for minute in range(0, 24 * 60, 7):  # none in progress 5 minutes after its last message (of 5 minutes')
        at = start + minute * minutes
        recent = history.total(None, at) - history.total(None, at - 10 * minutes)
        assert history.total("in_progress", at) <= recent
