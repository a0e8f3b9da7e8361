"""CSV cells that a spreadsheet shows as written and never runs (OWASP's CSV injection)."""

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""How a cell that Excel, LibreOffice or Google Sheets evaluates as a formula starts: a
photograph named ``=HYPERLINK(...).jpg`` or ``-2+3.png``, written as it is, runs as one."""

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?", re.IGNORECASE | re.ASCII)
"""A number as spreadsheets read one (``-0.5``, ``+1e5``; not Python's ``-inf``, ``-1_000``
or `` -1``, which they would run as formulas)."""


def spreadsheet_cell(cell: object) -> object:
    """``cell`` as a CSV file holds it: a text that starts as a formula does
    (:data:`FORMULA_STARTS`) and is no number (:data:`_NUMBER`) gets an apostrophe before it
    (``'=1+1.jpg``), which spreadsheets read as "text follows"; anything else is left as it
    is."""
    if not isinstance(cell, str) or not cell.startswith(FORMULA_STARTS):
        return cell
    return cell if _NUMBER.fullmatch(cell) else "'" + cell
