"""`conversations-mock generate`: freeze a chatbot's generated conversations into a fixture file."""

import json
import os
import sys
from pathlib import Path

from marshmallow import ValidationError

from conversations_mock.data.clock import Clock
from conversations_mock.data.fixtures import BUILTIN_FIXTURES, FixtureError, error_lines
from conversations_mock.data.generator import ANCHOR_US, GeneratedHistory, Timing
from conversations_mock.data.messages import MessagePools
from conversations_mock.files import FileExists, write_output, written_to
from conversations_mock.schemas import FixtureFileSchema, SettingsSchema, canonical_chatbot_id
from conversations_mock.schemas.clock import ClockChoice
from conversations_mock.schemas.request import MAX_SEED

# A listed fixture is read, checked and held in memory whole by every worker: past ten thousand
# conversations a team wants a `generated` entry, which costs nothing however large.
MAX_COUNT = 10_000
DEFAULT_SEED = SettingsSchema().load({})["seed"]


class UsageError(Exception):
    """An argument that cannot be used; the message names it and says what is allowed."""


def register(subparsers):
    """Add the generate subcommand."""
    parser = subparsers.add_parser(
        "generate",
        help="write a fixture file listing a chatbot's generated conversations",
        description="Write a fixture file listing N conversations made by the server's generator, "
        "checked by the fixture schema, so they can be edited and committed.",
    )
    parser.add_argument("--chatbot", required=True, metavar="ID", help="the chatbot's UUID")
    parser.add_argument("--count", required=True, metavar="N", help=f"how many conversations, 0..{MAX_COUNT}")
    parser.add_argument("--seed", metavar="S", help=f"seed of the generated data (default {DEFAULT_SEED}, the server's)")
    parser.add_argument("--clock", metavar="WHEN", help="the instant to freeze: fixed (default, 2025-03-07T06:00:00Z), "
                        "now, or an ISO 8601 instant such as 2026-06-01T12:00:00Z; the COUNT newest conversations then")
    parser.add_argument("--out", required=True, metavar="FILE", help="file to write, or - for standard output")
    parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    parser.set_defaults(func=run)


def _whole_number(name, text, low, high):
    if text.startswith("-") and text[1:].isascii() and text[1:].isdigit():
        raise UsageError(f"--{name} {text} is negative; give a whole number from {low} to {high}.")
    if not text.isascii() or not text.isdigit():
        raise UsageError(f"--{name} {text!r} is not a whole number; give one from {low} to {high}.")
    value = int(text)
    if not low <= value <= high:
        raise UsageError(f"--{name} {value} is out of range; give one from {low} to {high}.")
    return value


def _check_destination(out: str):
    """Raise UsageError, naming the folder, when `out` is in the package's own fixtures folder."""
    folder = Path(out).parent
    try:
        builtin = out != "-" and os.path.samefile(folder, BUILTIN_FIXTURES)
    except OSError:  # no such folder: not the package's
        builtin = False
    if builtin:
        # The README's `--out fixtures/frozen.json`, run in the checkout, lands here: the server would
        # list the file's chatbot as built in, and the test suite's expectations of those would fail.
        raise UsageError(
            f"--out {out} is in the package's own fixtures folder ({BUILTIN_FIXTURES}), whose files every "
            "server loads and the test suite expects as shipped; write it to a folder of your own and serve "
            f"that, e.g. mkdir my-fixtures, then --out my-fixtures/{Path(out).name} "
            "and serve --fixtures my-fixtures."
        )


def _chatbot_id(text):
    try:
        return canonical_chatbot_id(text)  # as the server's path takes it
    except ValidationError:
        raise UsageError(f"--chatbot {text!r} is not a UUID, e.g. 5afe16ed-5fd2-4552-a993-903bc9c32bb6.") from None


def _clock(text):
    """Microseconds since the epoch of a --clock value; raises UsageError naming what is allowed."""
    try:
        setting = ClockChoice().deserialize(text)
    except ValidationError as error:
        raise UsageError(f"--clock {text!r}: {error.messages[0]}") from None
    return Clock.of(setting).now_us()


def fixture_document(chatbot_id: str, count: int, seed: int, at: int | None = None) -> dict:
    """The fixture file's content: one chatbot listing the `count` newest conversations of its history at
    instant `at` (None: the fixed clock's), all `count` of them: a server whose clock starts there has
    them."""
    at = ANCHOR_US if at is None else at
    history = GeneratedHistory(chatbot_id, seed, count, MessagePools(), timing=Timing(anchor_us=at))
    conversations = history.page(None, 0, count, at)
    return {
        "chatbots": [
            {
                "id": chatbot_id,
                "name": f"Generated by conversations-mock generate --seed {seed}",
                "conversations": conversations,
            }
        ]
    }


def encode(document: dict) -> bytes:
    """Check the document against the fixture schema, then encode it; raises FixtureError."""
    try:
        FixtureFileSchema().load(document)
    except ValidationError as error:
        # Only a bug in the generator gets here; say where, as a bad fixture file would.
        raise FixtureError(f"generated data: {next(error_lines(error.messages))}") from error
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def run(args) -> int:
    """Generate, check and write the file; the exit status is 2 for bad arguments, 1 for I/O."""
    try:
        _check_destination(args.out)
        chatbot_id = _chatbot_id(args.chatbot)
        count = _whole_number("count", args.count, 0, MAX_COUNT)
        seed = DEFAULT_SEED if args.seed is None else _whole_number("seed", args.seed, 0, MAX_SEED)
        at = None if args.clock is None else _clock(args.clock)
        data = encode(fixture_document(chatbot_id, count, seed, at))
        write_output(args.out, data, overwrite=args.force)
        if args.out != "-":
            print(f"conversations-mock: wrote {len(json.loads(data)['chatbots'][0]['conversations'])} conversations of chatbot {chatbot_id} to {args.out}", file=sys.stderr)
    except (UsageError, FileExists, FixtureError) as error:
        print(f"conversations-mock generate: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"conversations-mock generate: cannot write {written_to(args.out)}: {error.strerror or error}",
              file=sys.stderr)
        return 1
    return 0
