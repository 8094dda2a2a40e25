"""The data that flows through indexing: a loaded document and the chunks cut from it."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path


ORIGINS = ("official", "uploaded")


@dataclass(frozen=True)
class Provenance:
    """Where a document came from. ``official``: the shipped corpus, anything indexed from the
    command line, and uploads an administrator has published; ``uploaded``: a web upload not yet
    published, seen only by its ``owner`` (the uploader's user name; "" without sign-in, when the
    app has one local user). Times are UTC, ISO 8601."""

    origin: str = "official"
    owner: str = ""
    uploaded_at: str = ""
    published_by: str = ""
    published_at: str = ""

    @property
    def official(self) -> bool:
        return self.origin == "official"

    def visible_to(self, user: str | None) -> bool:
        """Whether ``user``'s questions may use the document: official ones and their own uploads.
        ``None`` is the server console (command line, evaluation), which sees every document."""
        return user is None or self.official or self.owner == user

    def describe(self) -> str:
        """'official', 'uploaded by alice on 2026-12-02', or for a published upload
        'official (uploaded by alice on 2026-12-02, published by bob on 2026-12-03)'."""
        uploaded = " ".join(part for part in ("uploaded", f"by {self.owner}" if self.owner else "",
                                              f"on {self.uploaded_at[:10]}" if self.uploaded_at else "") if part)
        if not self.official:
            return f"{uploaded} (not yet published)"
        if not self.published_by and not self.published_at:
            return "official"
        published = " ".join(part for part in ("published", f"by {self.published_by}" if self.published_by else "",
                                               f"on {self.published_at[:10]}" if self.published_at else "") if part)
        return f"official ({uploaded}, {published})" if self.uploaded_at or self.owner else f"official ({published})"


@dataclass(frozen=True)
class DocumentInfo:
    """What we know about a source file before reading it (from the manifest or its name)."""

    path: Path
    title: str
    date: str = ""
    kind: str = ""
    publisher: str = ""
    provenance: Provenance = Provenance()

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
    # what the chunk is that its text does not say (the document's title, kind and date for its
    # first chunk; "Signed by ..." for a sign-off): searched and embedded, never shown nor stored
    context: str = ""

    def search_text(self, title: str) -> str:
        """What is keyword-indexed: the text with its document title, headings and context in front."""
        return _join(" > ".join(part for part in (title, self.section) if part), self.context, self.lead_in, self.text)

    def embedding_text(self) -> str:
        """What is embedded: the text with its headings and context in front. The title is left out
        (but for the first chunk's context): it is the same for every chunk of a document, and the
        model reads only 256 word pieces."""
        return _join(self.section, self.context, self.lead_in, self.text)


def _join(*parts: str) -> str:
    return "\n".join(part for part in parts if part)
