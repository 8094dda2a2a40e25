"""CSV cells a spreadsheet will not run as formulas (OWASP's advice on CSV injection).

Excel, LibreOffice and Google Sheets read a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return as a formula, so a question such as ``=HYPERLINK("http://…","click")`` would
become a live link or command in an export. ``neutralise`` puts a single quote in front of such a
text cell (spreadsheets show it as text); the csv module then quotes the cell as CSV needs.

``restore`` undoes exactly that for the files we read back (the feedback export in
``eval-drafts``, a FAQ export uploaded again as a question list). So the two are exact inverses, a
cell that already begins with quotes before a trigger character (``'-5``) gets one more quote too.
Numbers (int, float) are written as they are: they cannot be formulas.
"""

from __future__ import annotations

import re

TRIGGERS = "=+-@\t\r"
_RISKY = re.compile(r"'*[=+\-@\t\r]")  # a trigger character, after any number of quotes


def neutralise(value):
    """``value`` with a leading ``'`` when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and _RISKY.match(value):
        return "'" + value
    return value


def restore(value: str) -> str:
    """The cell as it was before ``neutralise``: one leading quote dropped where it added one."""
    if isinstance(value, str) and value.startswith("'") and _RISKY.match(value, 1):
        return value[1:]
    return value


def safe_row(row):
    """A row for csv.writer (a list) or csv.DictWriter (a dict) with every cell neutralised."""
    if isinstance(row, dict):
        return {key: neutralise(value) for key, value in row.items()}
    return [neutralise(value) for value in row]
