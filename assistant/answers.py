"""What an answer is: its status, text, numbered sources, how long it took and how it was reached."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from index.documents import Provenance

if TYPE_CHECKING:  # retrieval imports this module for Source
    from assistant.retrieval import Filters, Passage

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
    date: str = ""  # its document's date ("2025-03"), when known

    def label(self) -> str:
        page = f", page {self.page}" if self.page else ""
        where = f" — {self.section}" if self.section else ""
        return f"[{self.n}] {self.title}{where}{page}"


@dataclass(frozen=True)
class Search:
    """What the retrieve stage searched and found: the trace evaluation scores retrieval on."""

    query: str  # the question searched: the follow-up rewrite, or the question as asked
    also: tuple[str, ...] = ()  # searched beside it (the question as asked, when it was rewritten)
    k: int = 0  # passages asked for
    filters: Filters | None = None
    passages: tuple[Passage, ...] = ()  # ranked best first, each with its fused score


@dataclass(frozen=True)
class Decision:
    """The signals the answerability decision saw, and what it decided."""

    answerable: bool
    coverage: float  # share of the question's weighted terms in the best sentence of the evidence, 0..1
    threshold: float  # the least coverage that counts as answerable
    evidence: int  # numbered passages the decision read


# the trace: kept on the Answer for evaluation and debugging, not part of ``to_dict`` (``ask --json``)
TRACE_FIELDS = ("search", "decision", "fell_back")


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
    search: Search | None = None  # None when the question never reached retrieval (an error)
    decision: Decision | None = None
    fell_back: bool = False  # the LLM failed and the extractive answerer wrote the answer

    def to_dict(self) -> dict:
        data = asdict(replace(self, search=None, decision=None))  # the trace is left out
        for name in TRACE_FIELDS:
            del data[name]
        data["timings"] = {k: round(v, 4) for k, v in self.timings.items()}
        return data


@dataclass(frozen=True)
class Event:
    """One step of a streamed answer. kind: rewritten | sources | token | notice | reset | answer."""

    kind: str
    text: str = ""
    sources: tuple[Source, ...] = ()
    answer: Answer | None = None
