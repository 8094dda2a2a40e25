"""What an answer is: its status, text, numbered sources, how long it took and how it was reached."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from index.documents import Provenance

if TYPE_CHECKING:  # retrieval imports this module for Source
    from assistant.retrieval import Filters, Passage
    from assistant.support import SentenceSupport

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
    passage: int = 0  # the number it was retrieved and read under, when an answer renumbered it (as first cited)

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
    """Whether the documents answer the question: the signals seen, P(answerable) from the fitted
    model (assistant/answerability.py), its band and what was decided."""

    answerable: bool  # the question goes on to an answer
    probability: float  # P(answerable), 0..1
    band: str  # "answerable", "uncertain" (an LLM decides; the extractive answerer, by its threshold) or "refused"
    threshold: float  # the least P this answerer goes on to answer with
    evidence: int  # numbered passages the decision read
    signals: dict[str, float | None] = field(default_factory=dict)  # None: nothing to measure
    quoted: str = ""  # the extractive answer read from that evidence: shown while an LLM writes

    @property
    def coverage(self) -> float:
        """Share of the question's weighted terms in the best sentence of the evidence, 0..1."""
        return self.signals.get("coverage") or 0.0

    def to_dict(self) -> dict:
        return {"probability": round(self.probability, 4), "band": self.band, "threshold": round(self.threshold, 4),
                "signals": {name: None if value is None else round(value, 4) for name, value in self.signals.items()}}


# the trace: kept on the Answer for evaluation and debugging, not part of ``to_dict`` (``ask --json``),
# which shows only the decision's probability, band and signals (as "answerability")
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
    supported: bool = True  # False when a sentence is not supported by the passages it cites (or none is cited)
    notices: list[str] = field(default_factory=list)  # fallbacks, removed citations, warnings
    sentences: list[SentenceSupport] = field(default_factory=list)  # each sentence checked (assistant/support.py)
    search: Search | None = None  # None when the question never reached retrieval (an error)
    decision: Decision | None = None
    fell_back: bool = False  # the LLM failed and the extractive answerer wrote the answer

    def to_dict(self) -> dict:
        data = asdict(replace(self, search=None, decision=None))  # the trace is left out
        for name in TRACE_FIELDS:
            del data[name]
        data["timings"] = {k: round(v, 4) for k, v in self.timings.items()}
        data["answerability"] = self.decision.to_dict() if self.decision else None  # why it answered or refused
        data["sentences"] = [sentence.to_dict() for sentence in self.sentences]
        return data


# what marks a ``quoted`` event's text on screen, in the app and the terminal
QUOTED_HEADING = "Quoted from the documents while the model writes its answer…"


@dataclass(frozen=True)
class Event:
    """One step of a streamed answer. kind: rewritten | sources | quoted | token | notice | reset | answer.

    ``quoted``: with an LLM, the extractive answer (sentences quoted from the documents) and the
    sources it cites, sent at once when the question is answerable; the model's first ``token``
    replaces it on screen."""

    kind: str
    text: str = ""
    sources: tuple[Source, ...] = ()
    answer: Answer | None = None
