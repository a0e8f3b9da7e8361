"""Exceptions the library raises; the CLI turns them into one-line errors.

Who is at fault decides what a batch or the drop-folder watcher does next: an
:class:`InputError` is the input's (that file is reported and skipped for good), a
:class:`ModelError` is the model's (nothing can be segmented with it), an :class:`OutputError`
is the output side's (a full disk, a read-only folder: the same input may succeed later).
"""


class EdgeSegError(Exception):
    """Base class for errors that are reported to the user as one line."""


class InputError(EdgeSegError, ValueError):
    """A file or array given by the user cannot be used; the message names it and the problem."""


class UnreadableError(InputError):
    """A file that is there cannot be read (permission denied, an I/O error): what it holds is
    unknown, which is not to say that it is damaged."""


class ModelError(EdgeSegError, ValueError):
    """The model file cannot be loaded or run; the message names it and the problem.

    Not an :class:`InputError`: a bad model fails every input, a bad input only itself.
    """


class OutputError(EdgeSegError, OSError):
    """An output cannot be written (the message names it); the input itself may be fine."""


class NetworkError(EdgeSegError):
    """A download failed on the way (the network or the server); the message names the address,
    and trying again may succeed."""


def one_line(message: str) -> str:
    """``message`` with control characters (a newline in a file name, say) escaped, so that it
    stays one line on a terminal or in a log."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` with its noun, singular for 1 alone: ``counted(1, "photograph")`` is "1 photograph"
    and ``counted(0, "photograph")`` "0 photographs"; ``plural`` where it is not ``noun`` + s."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (native errors run to many lines), or its type."""
    lines = str(exc).strip().splitlines()
    return lines[0].strip() if lines else type(exc).__name__


def os_error_line(exc: OSError, where: object = None) -> str:
    """One line for an OSError: the file it names, else ``where`` when given (a failed write
    names none: ``No space left on device``), and what the system said."""
    named = exc.filename or where
    said = exc.strerror or str(exc)
    return one_line(f"{named}: {said}" if named else said)


def describe_failure(exc: BaseException, path: object) -> str:
    """One line for an exception raised while processing ``path``: our own errors say it
    themselves; anything else is named as unexpected."""
    if isinstance(exc, EdgeSegError):
        return one_line(str(exc))
    return one_line(f"{path}: unexpected {type(exc).__name__}: {first_line(exc)}")


def described(value: object) -> str:
    """What an argument is, for a message: an array's dtype and shape, or its type."""
    if hasattr(value, "dtype") and hasattr(value, "shape"):
        return f"a {value.dtype} array of shape {value.shape}"
    return f"a {type(value).__name__}"
