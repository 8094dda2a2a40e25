"""A cap on what one request can put in the web app's log.

Gradio prints the traceback of a request it cannot take straight to standard error, with the whole
exception message: one malformed chat payload of 4,000 messages is a validation error thousands
of lines long, which wrote 709 KB of log. While the app runs (``capped_output``), standard output
and standard error are wrapped in ``CappedStream``: any one write longer than ``MAX_WRITE_CHARS``
keeps its beginning and its end (where a traceback names the exception) and says how much was cut.
A log record goes out as one write (``logging.StreamHandler``), so every record is capped too.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

MAX_WRITE_CHARS = 4000


def shorten(text: str, limit: int = MAX_WRITE_CHARS) -> str:
    """``text``, or its first and last ``limit // 2`` characters around a note of what was left out."""
    if len(text) <= limit:
        return text
    half = limit // 2
    cut = len(text) - 2 * half
    return f"{text[:half]}\n… [{cut:,} characters left out of the log] …\n{text[-half:]}"


class CappedStream:
    """A text stream whose every write is ``shorten``-ed; anything else goes to the wrapped stream."""

    def __init__(self, stream, limit: int = MAX_WRITE_CHARS):
        self._stream = stream
        self._limit = limit

    def write(self, text: str) -> int:
        self._stream.write(shorten(text, self._limit))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name):  # flush, fileno, isatty, encoding, buffer…
        return getattr(self._stream, name)


@contextlib.contextmanager
def capped_output(limit: int = MAX_WRITE_CHARS) -> Iterator[None]:
    """Cap every write to standard output and standard error while the block runs."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = CappedStream(sys.stdout, limit), CappedStream(sys.stderr, limit)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
