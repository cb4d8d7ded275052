"""The conversations mock: a Flask application built by create_app.

These names, and __version__, are looked up on first use, so importing a submodule alone (the pytest
plugin, which installing the package registers with every pytest run) does not load Flask and the whole app.
"""

import importlib

_EXPORTS = {
    "create_app": "conversations_mock.factory",
    "build_catalogue": "conversations_mock.factory",
    "ConfigError": "conversations_mock.settings",
    "FixtureError": "conversations_mock.data.fixtures",
}
__all__ = list(_EXPORTS)


def __getattr__(name):
    """Import create_app, build_catalogue, ConfigError or FixtureError, or read __version__, on first use."""
    if name == "__version__":
        from importlib.metadata import version

        # The installed distribution's version: pyproject.toml holds the only copy. Kept as a module
        # attribute, so the metadata is read once (/healthz answers with it).
        globals()["__version__"] = version("conversations-mock")
        return globals()["__version__"]
    if name not in _EXPORTS:
        raise AttributeError(f"module 'conversations_mock' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
