"""The data that flows through indexing: a loaded document and the chunks cut from it."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class DocumentInfo:
    """What we know about a source file before reading it (from the manifest or its name)."""

    path: Path
    title: str
    date: str = ""
    kind: str = ""
    publisher: str = ""

    @property
    def doc(self) -> str:
        """The document's key in the index and in citations: its file name."""
        return self.path.name


@dataclass
class LoadedDocument:
    """A document's extracted text, with where each page starts (for paged formats).

    ``text`` is the extracted text every offset refers to. Headings that the format marks
    (DOCX styles, HTML h1-h6, Markdown) appear in it as Markdown ``#`` lines.
    """

    info: DocumentInfo
    text: str
    page_starts: list[int] = field(default_factory=list)  # offset where page i+1 begins

    def page_at(self, offset: int) -> int | None:
        if not self.page_starts:
            return None
        return max(1, bisect.bisect_right(self.page_starts, offset))


@dataclass(frozen=True)
class Chunk:
    """A contiguous span ``text[start:end]`` of a document's extracted text, with its place in it."""

    doc: str
    index: int  # position of the chunk within its document, from 0
    text: str
    start: int
    end: int
    section: str  # heading path, e.g. "5. Priority intentions > 5.2.1. Urgent care"
    page: int | None = None
    page_end: int | None = None
    lead_in: str = ""  # the line that introduces a list this chunk continues, if any
    tokens: int = 0

    def search_text(self, title: str) -> str:
        """What is keyword-indexed: the text with its document title and headings in front."""
        return _join(" > ".join(part for part in (title, self.section) if part), self.lead_in, self.text)

    def embedding_text(self) -> str:
        """What is embedded: the text with its headings in front. The title is left out: it is the
        same for every chunk of a document, and the model reads only 256 word pieces."""
        return _join(self.section, self.lead_in, self.text)


def _join(*parts: str) -> str:
    return "\n".join(part for part in parts if part)
