"""Output file names cut to fit the 255 bytes a file system allows a name, and names that are
not UTF-8 written as text."""

import os
from collections.abc import Callable

FILE_NAME_BYTES = 255
"""The longest file name, in bytes, that file systems allow (Linux's ``NAME_MAX``)."""

MAX_NAME_BYTES = FILE_NAME_BYTES - len("_overlay.png") - len("-9999")
"""Output names are cut to this many bytes, so that every output file name fits the
:data:`FILE_NAME_BYTES` file systems allow (``eval --report``'s ``_comparison.png`` too, which
has no ``-2``)."""


def fitted_name(stem: str) -> str:
    """A photograph's stem as its output files are named: cut to :data:`MAX_NAME_BYTES`, at
    the start of a UTF-8 character (bytes that are no UTF-8 are kept as they are)."""
    raw = os.fsencode(stem)
    if len(raw) <= MAX_NAME_BYTES:
        return stem
    cut = MAX_NAME_BYTES
    while cut > MAX_NAME_BYTES - 3 and raw[cut] & 0xC0 == 0x80:  # inside a UTF-8 character
        cut -= 1
    return os.fsdecode(raw[:cut])


def utf8_text(text: str) -> str:
    """``text`` with what the bytes of a file name that are not UTF-8 became (``os.fsdecode``
    makes byte 0xFF the lone surrogate ``'\\udcff'``) written as that escape, the six
    characters ``\\udcff``, as messages show it: text that any UTF-8 or JSON reader takes
    whole, where a lone surrogate cannot be encoded, and JSON's escape of one is refused or
    read as U+FFFD (which byte it was, lost) by many readers."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def card_key(name: str) -> str:
    """A name as a FAT or exFAT card (a camera's) compares it: each character upper-cased where
    it stays one character (``A.png`` and ``a.png`` are one name there, ``micro`` and ``mu``
    signs too; ``Strasse`` with an eszett is not ``STRASSE``)."""
    return "".join(upper if len(upper := c.upper()) == 1 else c for c in name)


def unique_name(stem: str, used: set[str], clashes: Callable[[str], bool] = lambda _: False) -> str:
    """``stem`` as its outputs are named (:func:`fitted_name`), or with ``-2``, ``-3``... after
    it: the first name that is none of ``used`` on a FAT card (``used`` holds :func:`card_key`
    of the names taken, and takes this one's) and does not ``clash``."""
    fitted, n = fitted_name(stem), 1
    while True:
        name = fitted if n == 1 else f"{fitted}-{n}"
        if card_key(name) not in used and not clashes(name):
            used.add(card_key(name))
            return name
        n += 1
