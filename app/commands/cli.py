"""The conversations-mock command: serve, and the tools client teams run beside it."""

import argparse
import sys

import conversations_mock
from conversations_mock.settings import SETTINGS

# Subcommands other modules add: each module has register(subparsers) and sets func on its parser.
COMMAND_MODULES = ("conversations_mock.commands.generate", "conversations_mock.web.openapi", "conversations_mock.commands.verify")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (not usage + error) naming the flag, and exit 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")

    def parse_args(self, args=None, namespace=None):
        # argparse hands a subcommand's unknown flags up to the top parser, whose error would point to
        # the top-level help; the subcommand's own parser knows its flags, so it reports them.
        args, extras = self.parse_known_args(args, namespace)
        if extras:
            subcommands = self._subparsers._group_actions[0].choices if self._subparsers else {}
            parser = subcommands.get(getattr(args, "command", None), self)
            parser.error(f"unrecognized arguments: {' '.join(extras)}")
        return args


def _add_setting_flags(parser):
    for name, setting in SETTINGS.items():
        help_text = f"{setting.help} (default {setting.default}); env {setting.variable}"
        if setting.switch:
            parser.add_argument(setting.flag, dest=name, action="store_const", const="true", help=help_text)
        else:
            parser.add_argument(setting.flag, dest=name, metavar=name.upper(), help=help_text)


def _serve(args):
    from conversations_mock.commands.serve import serve

    overrides = {name: getattr(args, name) for name in SETTINGS if getattr(args, name) is not None}
    return serve(overrides)


def build_parser():
    """The argument parser of every subcommand."""
    parser = _Parser(
        prog="conversations-mock",
        description="An offline mock of the Get Conversations API.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {conversations_mock.__version__}"
    )
    # Each subcommand's parser is a _Parser named after it, so its errors point to its own help.
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    serve = subparsers.add_parser("serve", help="serve the API with gunicorn")
    _add_setting_flags(serve)
    serve.set_defaults(func=_serve)
    for module_name in COMMAND_MODULES:
        module = __import__(module_name, fromlist=["register"])
        module.register(subparsers)
    return parser


def main(argv=None):
    """Run the command line; the exit status is the command's, 130 if Ctrl-C cut it short."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        # Ctrl-C while generate or verify runs, or before gunicorn's own handler is set (which stops a
        # serving server with status 0): the terminal shows ^C, a traceback would add nothing. 130 is
        # 128 + SIGINT, what a shell reports for a command that Ctrl-C ended.
        return 130


if __name__ == "__main__":
    sys.exit(main())
