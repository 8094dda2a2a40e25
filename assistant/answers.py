"""What an answer is: its status, text, numbered sources and how long it took."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from index.documents import Provenance

Status = Literal["answered", "unanswerable", "error"]


@dataclass(frozen=True)
class Source:
    """A numbered passage given to the answerer; citations ``[n]`` point at these."""

    n: int
    doc: str  # the source file name
    title: str
    section: str
    page: int | None
    text: str
    start: int  # character offsets of ``text`` in the document's extracted text
    end: int
    provenance: Provenance = Provenance()  # official, or uploaded by whom and when

    def label(self) -> str:
        page = f", page {self.page}" if self.page else ""
        where = f" — {self.section}" if self.section else ""
        return f"[{self.n}] {self.title}{where}{page}"


@dataclass
class Answer:
    status: Status
    answer: str
    citations: list[Source] = field(default_factory=list)  # the sources the answer cites, in order
    contexts: list[Source] = field(default_factory=list)  # every passage retrieved, best first
    rewritten_question: str = ""
    timings: dict[str, float] = field(default_factory=dict)  # seconds
    backend: str = ""
    model: str = ""
    supported: bool = True  # False when an answer cites no valid source
    notices: list[str] = field(default_factory=list)  # fallbacks, removed citations, warnings

    def to_dict(self) -> dict:
        data = asdict(self)
        data["timings"] = {k: round(v, 4) for k, v in self.timings.items()}
        return data
