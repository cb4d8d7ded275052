"""The server's settings, as typed values with the rules each must follow."""

import ipaddress
import os
import re

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from conversations_mock.schemas.clock import ClockChoice
from conversations_mock.schemas.control import JOURNAL_NAMESPACES, JOURNAL_SIZE, MAX_JOURNAL_SIZE
from conversations_mock.schemas.limits import RateField
from conversations_mock.schemas.request import API_KEY_PATTERN, MAX_SEED

# A day of clock time per second of the wall clock's, and more, is past any demo.
MAX_CLOCK_SPEED = 1_000_000
# A week without a message closes a generated conversation (the API document's in-progress examples
# are at most three days and a few hours past their last message); data/states.py reads it.
IDLE_CLOSE_US = 7 * 86400 * 10**6
MIN_IDLE_US, MAX_IDLE_US = 10**6, 365 * 86400 * 10**6
# A hundred conversations a second per chatbot; a history may reach back at most this many days.
MAX_PER_HOUR = 360_000
MAX_HISTORY_DAYS = 3650


class NumberRange(fields.Field):
    """'N' or 'MIN-MAX' (whole numbers), loaded as a (min, max) pair."""

    default_error_messages = {"invalid": "Must be a whole number N or a range MIN-MAX, e.g. '30-300'."}
    _pattern = re.compile(r"\s*([0-9]{1,10})\s*(?:-\s*([0-9]{1,10})\s*)?")

    def _serialize(self, value, attr, obj, **kwargs):
        low, high = value
        return str(low) if low == high else f"{low}-{high}"

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (tuple, list)) and len(value) == 2:
            value = f"{value[0]}-{value[1]}"
        match = self._pattern.fullmatch(str(value))
        if not match:
            raise self.make_error("invalid")
        low = int(match.group(1))
        high = int(match.group(2) or low)
        if high < low:
            raise ValidationError(f"The range {low}-{high} runs backwards; write MIN-MAX.")
        return (low, high)


class Duration(fields.Field):
    """A length of time as a number and a unit, e.g. '30s', '5m', '12h' or '7d', loaded as microseconds."""

    UNITS_US = {"s": 10**6, "m": 60 * 10**6, "h": 3600 * 10**6, "d": 86400 * 10**6}
    default_error_messages = {
        "invalid": "Must be a whole number and a unit (s, m, h or d), e.g. '5m' or '7d'."}
    _pattern = re.compile(r"\s*([0-9]{1,9})\s*([smhd])\s*", re.IGNORECASE)

    def _serialize(self, value, attr, obj, **kwargs):
        for unit, size in sorted(self.UNITS_US.items(), key=lambda item: -item[1]):
            if value % size == 0:
                return f"{value // size}{unit}"
        return f"{value / 10**6}s"

    def _deserialize(self, value, attr, data, **kwargs):
        match = self._pattern.fullmatch(str(value))
        if not match:
            raise self.make_error("invalid")
        return int(match.group(1)) * self.UNITS_US[match.group(2).lower()]


class Words(fields.Field):
    """A list of words, given as a list or as one comma-separated string."""

    def _serialize(self, value, attr, obj, **kwargs):
        return ",".join(value)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, (list, tuple)) or not all(isinstance(w, str) for w in value):
            raise ValidationError("Must be a comma-separated list.")
        return tuple(word.strip() for word in value if word.strip())


class Statuses(fields.Field):
    """Statuses from a fixed choice, given as a list or as one comma-separated string, loaded as a tuple."""

    def __init__(self, choices, **kwargs):
        super().__init__(**kwargs)
        self.choices = choices

    def _serialize(self, value, attr, obj, **kwargs):
        return ",".join(map(str, value))

    def _deserialize(self, value, attr, data, **kwargs):
        words = value.split(",") if isinstance(value, str) else value
        allowed = ", ".join(map(str, self.choices))
        if not isinstance(words, (list, tuple)):
            raise ValidationError(f"Must be one or more of {allowed}, comma-separated.")
        statuses = []
        for word in words:
            text = str(word).strip()
            if not text.isdigit() or int(text) not in self.choices:
                raise ValidationError(f"{text!r} is not one of the statuses allowed: {allowed}.")
            if int(text) not in statuses:
                statuses.append(int(text))
        if not statuses:
            raise ValidationError(f"Give one or more of {allowed}, comma-separated.")
        return tuple(statuses)


# What the error rate may answer: the server's and gateways' failures a client should retry.
ERROR_STATUSES = (500, 502, 503, 504, 429)

# The first path segment of the control API: no API path may start with it.
CONTROL_SEGMENT = "__mock"


def _existing_directory(path):
    if not os.path.isdir(path):
        raise ValidationError(f"No directory at {path!r}.")


# A browser's Origin header: scheme, host and an optional port, nothing after.
_ORIGIN = re.compile(r"https?://(\[[0-9A-Fa-f:.]+\]|[^/\s:\[\]]+)(:[0-9]{1,5})?")


def _origins(origins):
    if not origins:
        raise ValidationError("Give '*' or at least one origin.")
    wrong = [origin for origin in origins if origin != "*" and not _ORIGIN.fullmatch(origin)]
    if wrong:
        raise ValidationError(
            f"{wrong[0]!r} is not an origin: write '*' or origins like 'http://localhost:5173' "
            "(scheme, host, optional port, no path or trailing slash)."
        )


def _control_origins(origins):
    wrong = [origin for origin in origins if not _ORIGIN.fullmatch(origin)]
    if wrong:
        raise ValidationError(
            f"{wrong[0]!r} is not an origin: write origins like 'https://dashboard.example.test' "
            "(scheme, host, optional port, no path or trailing slash; no '*': the control API changes data)."
        )


def _allowed_hosts(hosts):
    # A leading dot allows a domain and its subdomains ('.example.test'), as Django's ALLOWED_HOSTS does.
    wrong = [host for host in hosts if host != "*" and not _HOST_NAME.fullmatch(host.removeprefix("."))]
    if wrong:
        raise ValidationError(
            f"{wrong[0]!r} is not a host name: write names like 'mock.example.test' or '.example.test' "
            "(a domain and its subdomains), or '*' for any; no scheme, port or path."
        )


# A host name as the resolver takes it: dot-separated labels of letters, digits, '-' and '_'.
_HOST_NAME = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9_-]{1,63}(?<!-))*\.?")
_HOST_EXAMPLES = "e.g. 127.0.0.1, 0.0.0.0, ::1 or localhost"


def _host(host):
    """An address or name to bind; a port, scheme or path here is the host's mistake, not the port's."""
    try:
        ipaddress.ip_address(host)  # IPv4, or IPv6 such as ::1 (colons and all)
        return
    except ValueError:
        pass
    if "://" in host or "/" in host:
        raise ValidationError(f"Give an address or name without a scheme or path, {_HOST_EXAMPLES}.")
    if host.startswith("[") and host.endswith("]"):
        raise ValidationError(f"Write an IPv6 address without brackets, e.g. {host[1:-1]}.")
    if ":" in host:
        raise ValidationError("Give an address or name without a port; the port is --port / PORT.")
    if len(host) > 253 or not _HOST_NAME.fullmatch(host):
        raise ValidationError(f"Not an address or host name; give one, {_HOST_EXAMPLES}.")


def _whole_number(default, low, high=None, **kwargs):
    """An integer setting whose every error says which whole numbers are allowed."""
    allowed = f"from {low} to {high}" if high is not None else f"from {low} up"
    return fields.Integer(
        load_default=default,
        validate=validate.Range(low, high, error=f"{{input}} is out of range; give a whole number {allowed}."),
        error_messages={"invalid": f"Not a valid integer; give a whole number {allowed}."},
        **kwargs,
    )


def _api_keys(keys):
    wrong = [key for key in keys if not API_KEY_PATTERN.fullmatch(key)]
    if wrong:
        raise ValidationError(
            f"{len(wrong)} of the keys is not 48 lowercase hexadecimal characters (the documented shape)."
        )


def _described(flag: str, variable: str, help_text: str, default: str | None = None) -> dict:
    """A setting's description beside its type: command-line flag, environment variable, help, and
    how to print its default where the default value itself does not say it (e.g. 'the CPU count')."""
    return {"metadata": {"flag": flag, "variable": variable, "help": help_text, "default": default}}


class SettingsSchema(Schema):
    """Every setting of the mock, described once: type, default, rules, flag, variable and help.

    The command line, the gunicorn settings file, the error messages and the tests all read the
    description from here (conversations_mock.settings.SETTINGS).
    """

    # MOCK_HOST, not HOST: shells set HOST to the machine's name (tcsh does), which is rarely an address
    # to bind. PORT stays unprefixed: platforms such as Cloud Run set it for the server to listen on.
    host = fields.String(load_default="127.0.0.1", validate=_host, **_described(
        "--host", "MOCK_HOST", "address or name to bind (no port: that is --port)",
        "127.0.0.1: this machine only"))
    port = _whole_number(8000, 0, 65535, **_described("--port", "PORT", "port to listen on, 0 for any free one"))
    workers = _whole_number(None, 1, 64, allow_none=True, **_described(
        "--workers", "MOCK_WORKERS", "gunicorn worker processes",
        "the CPU count: the CPUs this process may use, the smaller of its cgroup CPU quota rounded up "
        "(a container's CPU limit) and its CPU affinity, at least 1"))
    seed = _whole_number(20250307, 0, MAX_SEED, **_described("--seed", "MOCK_SEED", "seed of all generated data"))
    fixtures_dir = fields.String(load_default=None, allow_none=True, validate=_existing_directory, **_described(
        "--fixtures", "MOCK_FIXTURES_DIR", "extra directory of fixture files",
        "none: the package's own fixtures are always read"))
    api_keys = Words(load_default=(), validate=_api_keys, **_described(
        "--api-keys", "MOCK_API_KEYS", "comma-separated API keys to accept", "any key of the documented shape"))
    base_path = fields.String(
        load_default="",
        validate=validate.Regexp(
            r"(/[A-Za-z0-9._~-]+)*\Z", error="Must be empty or like '/v1' (no trailing slash)."
        ),
        **_described("--base-path", "MOCK_BASE_PATH", "prefix of every API path, e.g. /v1", "none"),
    )
    conversations = NumberRange(load_default=(30, 300), **_described(
        "--conversations", "MOCK_CONVERSATIONS",
        "conversations per generated chatbot at the clock's start, N or MIN-MAX"))
    conversations_per_hour = _whole_number(None, 1, MAX_PER_HOUR, allow_none=True, **_described(
        "--conversations-per-hour", "MOCK_CONVERSATIONS_PER_HOUR",
        "new conversations an hour per generated chatbot, on average over its day",
        "each chatbot's count spread over 30 to 119 days"))
    idle_close = Duration(load_default=IDLE_CLOSE_US, validate=validate.Range(
        MIN_IDLE_US, MAX_IDLE_US, error="Must be from 1s to 365d."), **_described(
        "--idle-close", "MOCK_IDLE_CLOSE",
        "how long a generated conversation goes without a message before it is closed, e.g. 5m, 12h, 7d"))
    cors_origins = Words(load_default=("*",), validate=_origins, **_described(
        "--cors-origins", "MOCK_CORS_ORIGINS", "comma-separated origins browsers may call from"))
    control_origins = Words(load_default=(), validate=_control_origins, **_described(
        "--control-origins", "MOCK_CONTROL_ORIGINS",
        "comma-separated origins whose pages may also call the control API (/__mock)",
        "none: only the mock's own origin and http://localhost, 127.0.0.1 and [::1], any port"))
    allowed_hosts = Words(load_default=(), validate=_allowed_hosts, **_described(
        "--allowed-hosts", "MOCK_ALLOWED_HOSTS",
        "comma-separated host names requests may be addressed to (the Host header), besides loopback ones",
        "none: bound to loopback, loopback names and addresses only; bound elsewhere, any host"))
    reload = fields.Boolean(load_default=False, **_described(
        "--reload", "MOCK_RELOAD", "pick up fixture file changes without a restart", "off"))
    latency = NumberRange(load_default=(0, 0), **_described(
        "--latency", "MOCK_LATENCY", "added latency in milliseconds, N or MIN-MAX"))
    error_rate = fields.Float(
        load_default=0.0,
        validate=validate.Range(0.0, 1.0, error="{input} is out of range; give a share from 0 to 1, e.g. 0.05."),
        error_messages={"invalid": "Not a valid number; give a share from 0 to 1, e.g. 0.05."},
        **_described("--error-rate", "MOCK_ERROR_RATE",
                     "share of attempts answered with an error (--error-status), 0 to 1", "0"),
    )
    error_status = Statuses(ERROR_STATUSES, load_default=(500,), **_described(
        "--error-status", "MOCK_ERROR_STATUS",
        "what the error rate answers: one or more of 500, 502, 503, 504, 429, comma-separated "
        "(drawn among them); 429 and 503 carry Retry-After"))
    rate_limit = RateField(load_default=None, allow_none=True, **_described(
        "--rate-limit", "MOCK_RATE_LIMIT",
        "requests each API key may send per namespace, N/s, N/min or N/h (429 past it); "
        "shared by every worker and, with a Redis store, every server", "off"))
    max_body = _whole_number(1024 * 1024, 0, **_described(
        "--max-body", "MOCK_MAX_BODY", "largest request body accepted, in bytes"))
    clock = ClockChoice(load_default="fixed", **_described(
        "--clock", "MOCK_CLOCK",
        "the instant pages are evaluated at: fixed (2025-03-07T06:00:00Z), now, or an ISO 8601 instant"))
    clock_speed = fields.Float(
        load_default=None,
        allow_none=True,
        allow_nan=False,
        validate=validate.Range(0, MAX_CLOCK_SPEED, error="Must be a number from {min} to {max}."),
        error_messages={key: f"Must be a number from 0 to {MAX_CLOCK_SPEED}, e.g. 60."
                        for key in ("invalid", "special")},
        **_described("--clock-speed", "MOCK_CLOCK_SPEED",
                     f"clock seconds per real second from the server's start, 0 to {MAX_CLOCK_SPEED}; "
                     "1 under --clock now unless given", "0"),
    )
    store = fields.String(load_default="", validate=validate.Regexp(
        r"(embedded|rediss?://[^\s/]+(/[0-9]{1,2})?)?\Z",
        error="Give 'embedded' (or nothing) for the embedded store, or a URL like redis://127.0.0.1:6379/0.",
    ), **_described("--store", "MOCK_STORE",
                    "where control data and the journal live: embedded, or redis://HOST:PORT/DB",
                    "embedded: shared by this server's workers"))
    journal_size = _whole_number(JOURNAL_SIZE, 0, MAX_JOURNAL_SIZE, **_described(
        "--journal-size", "MOCK_JOURNAL_SIZE", "requests each namespace's journal keeps, 0 for none"))
    journal_namespaces = _whole_number(JOURNAL_NAMESPACES, 1, 100_000, **_described(
        "--journal-namespaces", "MOCK_JOURNAL_NAMESPACES",
        "namespaces whose journals are kept; the least recently journalled one's journal goes first"))
    admin_token = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(
        r"[\x21-\x7e]{16,256}\Z", error="Give 16 to 256 printable ASCII characters without spaces."
    ), **_described("--admin-token", "MOCK_ADMIN_TOKEN",
                    "token the control API (/__mock) requires as 'Authorization: Bearer TOKEN'",
                    "none: open on a loopback host; past loopback, a token made at start and printed in the log"))

    @validates_schema(skip_on_field_errors=True)
    def check_bounds(self, data, **kwargs):
        """Keep generated histories and injected latency within what the server can honour."""
        if data["conversations"][1] > 1_000_000_000:
            raise ValidationError("At most 1000000000 conversations per chatbot.", "conversations")
        rate = data["conversations_per_hour"]
        if rate and data["conversations"][1] > rate * 24 * MAX_HISTORY_DAYS:
            raise ValidationError(
                f"At {rate} conversations an hour, {data['conversations'][1]} reach back more than "
                f"{MAX_HISTORY_DAYS} days; give at most {rate * 24 * MAX_HISTORY_DAYS}, or a higher rate.",
                "conversations")
        if data["latency"][1] > 60_000:
            raise ValidationError("At most 60000 milliseconds.", "latency")
        if data["base_path"].split("/")[1:2] == [CONTROL_SEGMENT]:
            raise ValidationError(f"/{CONTROL_SEGMENT} is the control API's; give another base path.", "base_path")
