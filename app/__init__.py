"""The conversations mock: a Flask application built by create_app.

These names are imported on first use, so importing a submodule alone (the pytest plugin, which
installing the package registers with every pytest run) does not load Flask and the whole app.
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
    """Import create_app, build_catalogue, ConfigError or FixtureError when first asked for."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'app' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
