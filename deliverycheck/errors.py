"""Errors every command reports the same way (kept free of heavy imports: the CLI maps them)."""


class UsageError(Exception):
    """A mistake in the command line or an input file; the message says how to fix it (exit 2)."""


class ModelError(Exception):
    """The model itself is malformed (a bug in model/ or properties/); exit 2."""


# What a mistake in model/ or properties/ raises while a step or a property is evaluated (a
# misspelt name, a wrong index, Python's `and` on a state value): reported as a ModelError
MODEL_BUGS = (TypeError, ValueError, IndexError, KeyError, AttributeError, NameError)


class ReplayError(Exception):
    """A trace does not replay through the concrete model."""


class Stopped(Exception):
    """A limit (time, memory) or an interruption ended work before it was done; ``reason`` says which."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def not_a_file(path) -> str | None:
    """Why ``path`` cannot be read as an input file ("is a directory", ...), or None if it can.

    Checked before opening: reading a named pipe would wait for a writer for ever.
    """
    import stat
    from pathlib import Path
    p = Path(path)
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        return "does not exist"
    except OSError as e:
        return f"cannot be read ({e.strerror})"
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO), not a file"
    if not stat.S_ISREG(mode):
        return "is not a regular file"
    return None
