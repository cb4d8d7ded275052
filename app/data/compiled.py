"""C twins of the page builder's hottest helpers (data/_speedups.c), used where the install compiled them."""

try:
    from conversations_mock.data import _speedups
except ImportError:  # installed without a C compiler: the Python functions serve, the same values slower
    _speedups = None

# What to tell whoever serves without them (`serve` says it at start).
NOT_BUILT = (
    "the C helpers (app/data/_speedups.c) were not built at install, so pages are about a fifth slower, with "
    "the same values; install a C compiler (Debian: apt-get install gcc libc6-dev), then run make setup"
)

# name -> the Python function of each helper with a C twin: the reference tests/data/test_speedups.py
# holds the twin equal to.
PYTHON = {}


def compiled(function):
    """Decorator: `function`'s C twin of the same name where it was compiled, else `function` itself."""
    PYTHON[function.__name__] = function
    return getattr(_speedups, function.__name__, function)


def is_compiled() -> bool:
    """Whether the C twins were built and are in use."""
    return _speedups is not None
