"""The stages of an answer, each a function from a typed input to a typed output.

    prepare → respell → rewrite → retrieve → decide → compare → generate (with fallback) → verify

(compare: a question setting documents side by side is answered as a table of what each says,
:func:`compare` and :func:`compared`; any other goes on to generate.)

:meth:`assistant.engine.Assistant.stream` runs them in order and finishes the :class:`Answer` in
one place. A stage that streams (generate) is a generator: it yields :class:`Event` s and returns
its output (``generated = yield from generate(...)``). Each stage fails closed: a question that
cannot be asked, evidence that does not cover it, a model that is down, says NOT_IN_DOCUMENTS or
begins to quote its instructions, and a citation of no source all end in a safe answer. The
decide stage weighs the search's signals by the fitted model of :mod:`assistant.answerability`.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field, replace

from assistant import answerability, comparison, extractive, support
from assistant.answerers import FALLBACK, NOT_IN_DOCUMENTS, Answerer
from assistant.answers import Decision, Event, Search, Source, Status
from assistant.citations import check_citations, number_as_read, renumbered
from assistant.evidence import without_labels
from assistant.language import NOT_ENGLISH_NOTICE, looks_english
from assistant.llm import LLMUnavailable
from assistant.prompt_leak import LeakWatch, without_examples
from assistant.repeats import citation_changes, looping, settled, without_repeats
from assistant.retrieval import Filters, Passage, Retriever
from assistant.rewrite import is_follow_up, moves_a_year, rewrite_by_rule

MAX_QUESTION_CHARS = 2000
NOTHING_INDEXED = "Nothing is indexed yet, so there is nothing to answer from. Build the index with `icb-assistant index`."
WITHHELD = (
    "The model began to quote its own instructions, so its reply was withheld (they are not shared): "
    "this answer is made of sentences quoted from the documents."
)
_ENDS_SENTENCE = re.compile(r"[.!?\n]")  # a piece that may end a sentence: a loop is looked for then
LOOPED = "The model began to write the same lines again and again, so it was stopped there."
EXAMPLE_ONLY = (
    "The model's reply only copied the example answer in its instructions, so this answer is made of "
    "sentences quoted from the documents."
)
LABELS_ONLY = (
    "The model's reply only repeated the labels of the passages it read, so this answer is made of "
    "sentences quoted from the documents."
)


# -- 1. prepare ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    question: str  # control characters dropped, whitespace squeezed
    history: tuple[str, ...]  # the conversation's earlier questions, cleaned, empty ones dropped (earlier_questions)
    problem: str = ""  # why it cannot be answered (shown to the user); "" when it can
    typed: str = ""  # the question as typed, when respell changed it


def clean_question(question: str) -> str:
    """Drop control characters and squeeze whitespace; keep every script and emoji."""
    kept = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in question or "")
    return re.sub(r"\s+", " ", kept).strip()


def question_problem(question: str) -> str:
    if not question:
        return "The question is empty. Type a question about the ICB's strategy documents."
    if len(question) > MAX_QUESTION_CHARS:
        return (
            f"The question is too long ({len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,}). "
            "Shorten it to the question itself."
        )
    if not re.search(r"\w", question):
        return "The question has no words in it. Type a question about the ICB's strategy documents."
    return ""


class HistoryError(ValueError):
    """A conversation history that cannot be read; the message says which turn and why."""


HISTORY_FORM = ('each earlier turn is a question (text) or a chat message such as {"role": "user", "content": "..."}')
_ASKED = frozenset({"user", "human"})  # the roles whose turns are the conversation's questions
_ANSWERED = frozenset({"assistant", "ai", "system", "tool", "function", "developer"})  # replies and instructions


def _message_text(content) -> str | None:
    """A chat message's text: a string, or the text parts of a list of parts (``{"type": "text",
    "text": ...}`` as OpenAI writes them; an image or other part is left out); None when it is
    neither."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        pieces = [part if isinstance(part, str) else part.get("text") if isinstance(part, dict) and part.get("type", "text") == "text"
                  else "" if isinstance(part, dict) else None for part in content]
        if all(isinstance(piece, str) for piece in pieces):
            return " ".join(piece for piece in pieces if piece)
    return None


def _role(turn) -> str | None:
    """Who wrote a chat message: its ``role`` (a dict, LangChain's ``ChatMessage``) or its LangChain
    ``type`` ("human", "ai"; a streamed chunk's "AIMessageChunk" too), lower-cased."""
    role = turn.get("role") if isinstance(turn, dict) else getattr(turn, "role", None)
    if not isinstance(role, str) and not isinstance(turn, dict):
        role = getattr(turn, "type", None)
    if not isinstance(role, str):
        return None
    role = role.lower()
    return role.removesuffix("messagechunk") or None


def earlier_questions(history) -> tuple[str, ...]:
    """The conversation's earlier questions, cleaned, empty ones dropped. ``history``: a list (or
    any sequence) whose turns are questions (text), chat messages -- ``{"role": "user", "content":
    "..."}`` as OpenAI, Gradio and most chat exports write them, or LangChain's messages -- of which
    the user's are the questions (the assistant's replies are not asked again, whatever they hold),
    or [question, reply] pairs as older Gradio chats keep them; one string is one question. Raises
    HistoryError, naming the turn, for anything else."""
    if history is None:
        return ()
    if isinstance(history, str):
        history = [history]
    if isinstance(history, (dict, bytes)) or not hasattr(history, "__iter__"):
        raise HistoryError(f"The conversation history must be a list; {HISTORY_FORM}. It was {type(history).__name__}.")
    questions = []
    for number, turn in enumerate(history, start=1):
        if isinstance(turn, (list, tuple)) and len(turn) == 2 and all(part is None or isinstance(part, str) for part in turn):
            turn = turn[0] or ""  # [question, reply]
        if isinstance(turn, str):
            text = turn
        else:
            role = _role(turn)
            if role in _ANSWERED:
                continue
            text = _message_text(turn.get("content") if isinstance(turn, dict) else getattr(turn, "content", None))
            if role not in _ASKED or text is None:
                raise HistoryError(f"Turn {number} of the conversation history cannot be read: {HISTORY_FORM}.")
        cleaned = clean_question(text)
        if cleaned:
            questions.append(cleaned)
    return tuple(questions)


def prepare(question: str, history: Sequence | None, indexed: bool = True) -> Prepared:
    """The question and its conversation's earlier questions cleaned, and why it cannot be answered
    (an empty, wordless or too long question, a history that cannot be read, nothing indexed)."""
    cleaned = clean_question(question) if isinstance(question, str) else ""
    try:
        turns, unreadable = earlier_questions(history), ""
    except HistoryError as exc:
        turns, unreadable = (), str(exc)
    return Prepared(cleaned, turns, question_problem(cleaned) or unreadable or ("" if indexed else NOTHING_INDEXED))


def respell(prepared: Prepared, glossary) -> Prepared:
    """The question and its history with each misspelt word written as the documents' word it was
    meant as ("comissioning": "commissioning"; :meth:`assistant.abbreviations.Glossary.respell`),
    the question as typed kept in ``typed``. A search finds no passage by a misspelt word, and
    the decision would count it as a word no document uses."""
    question = glossary.respell(prepared.question)
    history = tuple(glossary.respell(turn) for turn in prepared.history)
    if question == prepared.question and history == prepared.history:
        return prepared
    return replace(prepared, question=question, history=history, typed=prepared.question)


# -- 2. rewrite ---------------------------------------------------------------------------------


def rewrite(prepared: Prepared, answerer: Answerer | None = None) -> str:
    """A follow-up as a standalone question: the rule's rewrite, bettered by the answerer's LLM
    when it has one and answers (a down LLM leaves the rule's; the generate stage reports it),
    except for "the year after"/"before": the rule moves the earlier question's year exactly, and
    a model that hands the follow-up back as it was asked has not made it standalone."""
    question, history = prepared.question, list(prepared.history)
    if not (history and is_follow_up(question)):
        return question
    rewritten = rewrite_by_rule(question, history)
    if answerer is None or moves_a_year(question, history):  # the rule's year arithmetic is exact
        return rewritten
    try:
        better = answerer.rewrite(question, history)
    except LLMUnavailable:
        return rewritten
    return better if better and better.strip().casefold() != question.strip().casefold() else rewritten


# -- 3. retrieve --------------------------------------------------------------------------------


def retrieve(retriever: Retriever, prepared: Prepared, query: str, k: int, filters: Filters | None) -> Search:
    """Hybrid search for the standalone question and, beside it, the question as asked and the
    rule's rewrite when a model wrote the query (a model's rewrite can drop the earlier question's
    subject: "When was the meeting?"; on dev the local model's follow-ups found their passage in
    the top five 0.70 against 0.87 with the rule's)."""
    also = tuple(dict.fromkeys(text for text in (prepared.question, rewrite(prepared)) if text != query))
    passages = retriever.search(query, k=k, filters=filters, also=list(also))
    return Search(query=query, also=also, k=k, filters=filters, passages=tuple(passages))


# -- 4. decide ----------------------------------------------------------------------------------


def decide(query: str, passages: Sequence[Passage], evidence: list[Source], retriever: Retriever, uses_llm: bool) -> Decision:
    """P(answerable) from the signals of the question against its search (the fitted model of
    :mod:`assistant.answerability`) and its band. An LLM answerer goes on to answer unless the
    band is "refused" (it decides the uncertain band itself: NOT_IN_DOCUMENTS); the extractive
    answerer, which cannot, answers only at or above its own threshold. The extractive answer the
    signals read is kept (``quoted``): shown while an LLM writes. ``passages`` are the top ones
    every answerer's decision reads (an LLM's search retrieves more: those are for its evidence),
    so a question is decided alike whichever answerer writes."""
    model = answerability.load_model()
    # read with the glossary's other forms, as the search reads it ("CI" also as "commissioning intentions",
    # "derm" as "dermatology"): dev answer recall 0.523 -> 0.542, comparisons 0.325 -> 0.419, refusals unchanged
    glossary = retriever.glossary()
    quoted = extractive.answer(glossary.expand(query), evidence)  # empty, coverage 0, without evidence
    # the signals read the passages line by line, as a PDF wrapped them: the model was fitted on that
    # (a re-fit on whole sentences measured worse out of fold on dev: refusal 0.696 against 0.734 at
    # false refusal 0.049), while the answer quotes whole sentences (dev key facts 0.556 -> 0.593)
    lines = extractive.answer(glossary.expand(query), evidence, unwrap=False, shown=False)
    found = answerability.signals(query, passages, evidence, retriever.catalog, glossary, lines)
    probability = model.probability(found) if evidence else 0.0
    band = model.band(probability)
    threshold = model.refuse if uses_llm else model.extractive
    answerable = bool(evidence) and probability >= threshold
    if not uses_llm and answerability.asks_for_an_amount(query) and found["answer_type"] == 0.0:
        # quotes cannot say how much something costs when none of them gives a sum of money beside
        # what the question is about (an LLM, which reads more of the passages, still decides);
        # dev: 2 more unanswerable questions refused, no answerable one
        answerable = False
    return Decision(answerable, probability, band, threshold, len(evidence), found, quoted.text)


def not_covered(passages: Sequence[Passage], question: str = "", missing: Sequence[str] = ()) -> str:
    """The refusal, naming the closest topics the documents do cover (and, for a question no
    document could answer, such as one asking for personal medical advice, why; ``missing``: the
    names it uses that no document does)."""
    beyond = answerability.beyond_documents(question)
    if beyond:
        return answerability.BEYOND[beyond]
    topics = []
    for passage in passages:
        topic = passage.section.split(" > ")[-1] if passage.section else passage.title
        if topic and topic not in topics:
            topics.append(topic)
    if missing:
        message = f"The documents don't mention {' or '.join(missing)}, so I can't answer this from them."
    else:
        message = "The documents don't cover this, so I can't answer it from them."
    if topics:
        message += " The closest topics they do cover: " + "; ".join(topics[:3]) + "."
    return message


def refusal_notices(question: str) -> list[str]:
    """Why the search may have found nothing: a question not in English."""
    return [] if looks_english(question) else [NOT_ENGLISH_NOTICE]


# -- 4b. compare --------------------------------------------------------------------------------

PER_DOCUMENT = 3  # passages searched within each compared document
PER_DOCUMENT_TOKENS = 900  # ... and the tokens of them read at most


def compare(retriever: Retriever, query: str, wide: list[Source], filters: Filters | None, count_tokens) -> tuple[comparison.Table | None, list[Source]]:
    """A comparison of documents as a table (see :mod:`assistant.comparison`), and the sources it
    cites: ``wide`` (the top passages, numbered) and, after them, the best passages searched within
    each document compared. (None, ``wide``) for a question that compares no documents, or when
    fewer than two of them answer it."""
    plan = retriever.compared(query, filters)  # as asked: the glossary's "same day emergency care" compares nothing
    if plan is None:
        return None, wide
    docs = list(plan.named) + ([source.doc for source in wide] if plan.others else [])
    docs = list(dict.fromkeys(docs))[: comparison.MAX_ROWS + 1]
    asked = retriever.within(query, list(plan.named)) if plan.named else query
    sources = list(wide)
    for doc in docs:
        if filters is not None and filters.docs and doc not in filters.docs:
            continue
        found = retriever.search(asked, k=PER_DOCUMENT, filters=replace(filters or Filters(), docs=[doc]))
        for source in retriever.sources(found, PER_DOCUMENT_TOKENS, count_tokens) if found else []:
            if not any(s.doc == source.doc and s.start < source.end and source.start < s.end for s in sources):
                sources.append(replace(source, n=len(sources) + 1))
    expanded = retriever.glossary().expand(query)  # each row read with "A&E" as the documents write it too
    table = comparison.build(expanded, plan, sources, retriever.within)
    return table, sources


# -- 5. generate --------------------------------------------------------------------------------


@dataclass
class Generated:
    text: str  # as written, citations not yet checked
    model: str
    contexts: list[Source]  # the numbered sources it was written from
    notices: list[str] = field(default_factory=list)
    fell_back: bool = False  # the LLM failed or began to quote its instructions: the fallback answerer wrote it


def generate(
    answerer: Answerer, fallback: Answerer, prepared: Prepared, query: str,
    evidence: list[Source], wide: list[Source], audience: str, timings: dict[str, float], quoted: str = "",
) -> Generator[Event, None, Generated]:
    """The answerer's answer, streamed, without lines that only copy a passage's label nor
    sentences copied from the prompt's example answer (a model that loops is stopped); the
    fallback's (from the ``wide`` sources) when an LLM fails, begins to quote its instructions or
    only repeats the labels (``quoted``: the fallback's answer, when the decision already made it)."""
    notices: list[str] = []
    if answerer.uses_llm:
        try:
            text, looped = yield from _from_llm(answerer, prepared, query, evidence, audience, timings)
            if looped:
                notices.append(LOOPED)
                yield Event("notice", text=LOOPED)
            labelled = without_labels(text, evidence) if text is not None else None
            answer = without_examples(labelled, evidence) if labelled else None
            if answer:
                return Generated(answer, answerer.model, evidence, notices)
            # nothing of the reply is kept; the documents' own sentences answer instead
            notice = WITHHELD if text is None else LABELS_ONLY if not labelled else EXAMPLE_ONLY
            notices.append(notice)
            yield Event("notice", text=notice)
            yield Event("reset")
        except LLMUnavailable as exc:
            notice = f"The language model is unavailable ({exc}), so this answer is made of sentences quoted from the documents."
            notices.append(notice)
            yield Event("notice", text=notice)
            yield Event("reset")
    return (yield from quote(fallback, query, wide, audience, timings, notices, answerer.uses_llm, quoted))


def quote(
    fallback: Answerer, query: str, wide: list[Source], audience: str, timings: dict[str, float],
    notices: list[str], fell_back: bool, quoted: str = "",
) -> Generator[Event, None, Generated]:
    """The fallback's answer: sentences quoted from the ``wide`` sources (``quoted``: that answer,
    when the decision already made it from them: :attr:`Decision.quoted`, not made again)."""
    mark = time.perf_counter()
    text = extractive.for_audience(quoted, audience) if quoted else "".join(fallback.generate(query, wide, audience))
    yield Event("token", text=text)
    timings["generate"] = time.perf_counter() - mark
    return Generated(text, fallback.model, wide, notices, fell_back=fell_back)


def compared(
    answerer: Answerer, table: comparison.Table, sources: list[Source], query: str, audience: str, timings: dict[str, float],
) -> Generator[Event, None, Generated]:
    """A comparison's answer: its sources and table at once, then the sentence on where the
    documents agree or differ: the model's as it streams, when the answerer's model writes it (a
    model that fails, writes nothing, finds no answer in the table or begins to quote its
    instructions gives way to the rule's sentence, with a notice), else the rule's
    (:func:`comparison.rule_summary`)."""
    mark = time.perf_counter()
    shown = table.markdown()
    yield Event("sources", sources=tuple(sources))  # numbered as the table cites them
    yield Event("token", text=shown)
    timings["first_token"] = time.perf_counter() - mark
    notices: list[str] = []
    summary = None
    asked = answerer.uses_llm and answerer.summarises_comparisons
    if asked:
        try:
            answerer.start()
            raw: list[str] = []
            watch = LeakWatch(query, [source.text for source in sources])
            pieces = _shown(answerer.summarise(query, table, audience), raw)
            started = False
            for piece in pieces:
                if not started:
                    piece, started = "\n\n" + piece.lstrip(), True
                yield Event("token", text=piece)
                if watch.feed(piece):
                    pieces.close()
                    break
            summary = "".join(raw).strip()
            if watch.leaked:
                notices.append(WITHHELD)
                yield Event("notice", text=WITHHELD)
                summary = None
            elif not summary or summary.upper().startswith(NOT_IN_DOCUMENTS):
                summary = None
            elif figures := support.unsourced_figures(summary, sources, query):
                notice = made_up_notice(figures, "The sentence under the table was written by rule.")
                notices.append(notice)
                yield Event("notice", text=notice)
                summary = None
        except LLMUnavailable as exc:
            notice = f"The language model is unavailable ({exc}), so the sentence under the table was written by rule."
            notices.append(notice)
            yield Event("notice", text=notice)
        if summary is None:
            yield Event("reset")
            yield Event("token", text=shown)
    by_model = summary is not None
    if summary is None:
        summary = comparison.rule_summary(table)
        if summary:
            yield Event("token", text="\n\n" + summary)
    timings["generate"] = time.perf_counter() - mark
    return Generated(comparison.answer_text(table, summary), answerer.model if by_model else FALLBACK, sources, notices,
                     fell_back=asked and not by_model)


def _from_llm(
    answerer: Answerer, prepared: Prepared, query: str, evidence: list[Source], audience: str, timings: dict[str, float],
) -> Generator[Event, None, tuple[str | None, bool]]:
    """The LLM's answer as it streams (None when it began to quote its instructions), and whether
    it was stopped for writing the same lines again and again."""
    mark = time.perf_counter()
    answerer.start()  # starts the local model server if it is not running
    timings["llm_ready"] = time.perf_counter() - mark
    mark = time.perf_counter()
    raw: list[str] = []
    watch = LeakWatch(f"{prepared.question} {query}", [source.text for source in evidence])
    pieces = _shown(answerer.generate(query, evidence, audience), raw)
    looped = False
    for piece in pieces:
        if "first_token" not in timings:
            timings["first_token"] = time.perf_counter() - mark
        yield Event("token", text=piece)
        if watch.feed(piece):
            pieces.close()
            break
        if _ENDS_SENTENCE.search(piece) and looping("".join(raw)):
            pieces.close()
            looped = True
            break
    if watch.leaked:
        return None, looped
    text = "".join(raw)
    text = (settled(text) if looped else text).strip()  # a loop stopped: the sentence it had begun goes
    if not text:
        raise LLMUnavailable("the language model returned an empty answer")
    timings["generate"] = time.perf_counter() - mark
    return text, looped


def _shown(pieces, raw: list[str]):
    """The pieces to show; every piece received is appended to ``raw``. What is, or could still
    become, NOT_IN_DOCUMENTS is held back: it is never shown."""
    held, releasing = "", False
    for piece in pieces:
        raw.append(piece)
        if releasing:
            yield piece
            continue
        held += piece
        start = held.strip()
        if start.startswith(NOT_IN_DOCUMENTS) or NOT_IN_DOCUMENTS.startswith(start):
            continue
        releasing = True
        yield held


# -- 6. verify ----------------------------------------------------------------------------------


@dataclass
class Verified:
    status: Status
    text: str
    citations: list[Source] = field(default_factory=list)
    supported: bool = True
    notices: list[str] = field(default_factory=list)
    sentences: list[support.SentenceSupport] = field(default_factory=list)
    contexts: list[Source] | None = None  # the passages given, numbered as the answer reads them


def verify(generated: Generated, passages: Sequence[Passage], sources: Sequence[Source] = (), glossary=None) -> Verified:
    """The status, and the text with every citation checked against the sources it was written
    from, a sentence the model left uncited given the citation of the passage that holds it
    (:func:`support.attribute`), one whose citation does not hold it given the one that does
    (:func:`support.recite`), a sentence said again left out (:func:`assistant.repeats.without_repeats`),
    the sources numbered as the answer first cites them, and every
    sentence checked against the passages it cites (``sources``: the numbered passages, whole; see :mod:`assistant.support`).
    The answer is supported when every sentence is."""
    text = generated.text.strip()
    if text.upper().startswith(NOT_IN_DOCUMENTS) or text == NOT_IN_DOCUMENTS:
        return Verified("unanswerable", not_covered(passages))
    checked = check_citations(text.replace(NOT_IN_DOCUMENTS, "").strip(), generated.contexts)
    notices = []
    if checked.invalid:
        numbers = ", ".join(f"[{n}]" for n in checked.invalid)
        notices.append(f"Removed citation {numbers}: it named no source given to the model.")
    # a sentence the model left uncited gets the citation of the passage it read that holds its
    # figures, names and most of its words (dev: 0.85 of the model's own supported citations found again)
    given = {source.n for source in generated.contexts}
    readable = [source for source in (list(sources) or generated.contexts) if source.n in given]
    text, added = support.attribute(checked.text, readable, glossary)
    # a sentence citing a passage that does not back it, but another it read does, cites that one
    text, moved = support.recite(text, readable, glossary)
    # a sentence said again, citing nothing new (now that each cites what holds it), goes
    kept = without_repeats(text)
    if kept != text and (added or moved):  # the notices count the sentences still there
        added, moved = citation_changes(checked.text, kept)
    text = kept
    if added:
        notices.append(
            f"{added} sentence{'s' if added > 1 else ''} the model left uncited {'were' if added > 1 else 'was'} given the "
            "citation of the passage that holds its figures, names and most of its words."
        )
    if moved:
        notices.append(
            f"{moved} sentence{'s' if moved > 1 else ''} did not cite the passage that holds {'them' if moved > 1 else 'it'}: "
            f"{'each now cites' if moved > 1 else 'it now cites'} the passage that holds its figures, names and most of its words."
        )
    if text != checked.text:  # the citations it now has, checked once (it cites only sources the model read)
        checked = replace(check_citations(text, generated.contexts), invalid=checked.invalid)
    if not checked.supported:
        notices.append("This answer cites no source, so it could not be checked against the documents. Treat it with care.")
    # numbered as read: the first source the answer cites is [1] (each keeps its number as `passage`)
    text, numbering = number_as_read(checked.text, generated.contexts)
    contexts = renumbered(generated.contexts, numbering)
    whole = renumbered(list(sources) or generated.contexts, numbering)  # the passages whole, not the model's excerpts
    sentences = support.check(text, whole, glossary)
    unsupported = sum(s.support == "unsupported" for s in sentences)
    if unsupported and checked.supported:
        notices.append(
            f"{unsupported} of its {len(sentences)} sentences {'is' if unsupported == 1 else 'are'} not supported by the "
            "passages cited (marked ⚠ with the reason): check them against the sources before relying on them."
        )
    by_number = {source.n: source for source in whole}
    cited = [by_number.get(source.n, source) for source in renumbered(checked.cited, numbering)]  # a citation opens its whole passage
    return Verified("answered", text, cited, checked.supported and support.supported(sentences), notices, sentences, contexts)


OVERRULED = (
    "The model found no answer in the passages it read, but the documents clearly cover this question, "
    "so this answer is made of sentences quoted from them."
)


def overruled(decision: Decision, generated: Generated, verified: Verified) -> bool:
    """An LLM said NOT_IN_DOCUMENTS where the decision is sure the documents answer (the
    "answerable" band): its refusal gives way to quotations (a small model reading a few
    passages misses answers); in the uncertain band its refusal stands."""
    return (verified.status == "unanswerable" and decision.band == "answerable"
            and not generated.fell_back)


def _model_answered(generated: Generated, verified: Verified) -> bool:
    """The answer is the model's own words: quotes (the fallback's answer, a comparison's table)
    are the documents' own, and give no figure to withhold."""
    return verified.status == "answered" and not generated.fell_back and generated.model != FALLBACK


def made_up(generated: Generated, verified: Verified, sources: Sequence[Source], asked: str) -> list[str]:
    """The sums, percentages, figures and years a model's answer gives that none of the passages
    it read holds (whole, as numbered in ``sources``), nor the question (``asked``): made up,
    whatever it cites. On dev the bundled model wrote "There are 10 GP practices in Lancashire and
    South Cumbria [1]" and "£1.5 billion for 2026/27" for questions the documents do not answer,
    and invented bed numbers for one they do."""
    if not _model_answered(generated, verified):
        return []
    read = {source.n for source in generated.contexts}
    return support.unsourced_figures(generated.text, [source for source in sources if source.n in read], asked)


def unbacked(generated: Generated, verified: Verified, asked: str) -> list[str]:
    """The sums, percentages, figures and years a model's answer puts in a sentence that the
    passages it cites do not back, and that hold no such figure (:func:`support.unbacked_figures`):
    a real figure beside a claim no passage makes is as wrong as a made-up one."""
    if not _model_answered(generated, verified):
        return []
    return support.unbacked_figures(verified.text, verified.sentences, verified.citations, asked)


QUOTED_INSTEAD = "This answer is made of sentences quoted from the documents instead."
MAY_NOT_ANSWER = "The documents may not answer this question."


def made_up_notice(figures: Sequence[str], instead: str, cited: bool = False) -> str:
    """Why the model's words are not shown: the figures it made up (``cited``: put beside a claim
    the passages it cites do not make), then what is shown instead."""
    named = " and ".join([", ".join(figures[:-1]), figures[-1]] if len(figures) > 1 else list(figures))
    one = len(figures) == 1
    where = (f"which the passages it cites for {'it' if one else 'them'} do not hold" if cited
             else f"which {'is' if one else 'are'} in none of the passages it read")
    return f"The model's answer gave {named}, {where}, so it is not shown. {instead}"
