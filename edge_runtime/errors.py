"""Exceptions the library raises; the CLI turns them into one-line errors."""


class EdgeSegError(Exception):
    """Base class for errors that are reported to the user as one line."""


class InputError(EdgeSegError, ValueError):
    """A file or array given by the user cannot be used; the message names it and the problem."""
