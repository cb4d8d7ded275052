"""Files the mock writes, written atomically: a reader sees the old file or the new, never half."""

import errno
import os
import sys
import tempfile
from pathlib import Path


class FileExists(Exception):
    """The target exists and overwriting was not asked for."""


def write_atomically(path, data: bytes, overwrite: bool = False) -> Path:
    """Write `data` to `path` through a temporary file in the same directory and a rename."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExists(f"{path} exists; pass --force to overwrite it.")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            # mkstemp makes the file private (0600); give it the mode any new file gets here.
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(stream.fileno(), 0o666 & ~umask)
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if overwrite:
            os.replace(temporary, path)
        else:
            # link() fails if the path appeared meanwhile, where a rename would clobber it.
            os.link(temporary, path)
            os.unlink(temporary)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return path


def write_output(out: str, data: bytes, overwrite: bool = False) -> None:
    """Write `data` to standard output when `out` is '-', else atomically to the file `out`."""
    if out == "-":
        # Python sets sys.stdout to None when the shell started it with standard output closed (>&-).
        if sys.stdout is None:
            raise OSError(errno.EBADF, "it is closed")
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        write_atomically(out, data, overwrite=overwrite)


def written_to(out: str) -> str:
    """What messages say is written: `out` itself, or 'to standard output' for '-'."""
    return "to standard output" if out == "-" else out
