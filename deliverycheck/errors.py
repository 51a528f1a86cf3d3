"""Errors every command reports the same way."""


class UsageError(Exception):
    """A mistake in the command line or an input file; the message says how to fix it (exit 2)."""
