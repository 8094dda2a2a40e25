"""The extractive answerer: no LLM, the sentences or bullets that best answer the question.

Deterministic and fast. Used when asked for, in fast tests, and as the fallback when the LLM
is down or too slow. Each sentence is quoted verbatim from a passage and cited.

What it quotes: the best sentence for the whole question; the best for each part of a
multi-part question ("what is X and when is Y") and for each side of a comparison; sentences
that cover the question almost as well; and a list whole: a sentence that leads into a list
("The four places are:") brings its items, and a list question quotes the items of its best
list. The sentence scoring (:func:`score`) also picks the sentences an LLM reads
(:mod:`assistant.evidence`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from assistant import support
from assistant.answers import Source
from assistant.retrieval import expand_query
from index.text import CITATION, ITEM_LINE_WORDS, MONTH_NAMES, opens_alike, sentence_spans, terms

_BULLET = re.compile(r"^\s*(?:[-•·*–—▪●◦‣]|\d{1,2}[.)]|[a-z][.)])\s+")
_LIST_QUESTION = re.compile(
    r"^\s*(what are|which|list|name|give)\b|\b(priorities|plans|actions|steps|areas|ambitions|aims|themes)\b"
    # what something holds: "what's on the MH roadmap for 2026/27?", "what does the programme include?"
    r"|\bwhat(?:'s|’s| is| are)\s+(?:in|on|included|planned|covered)\b|\b(?:include|includes|cover|covers|involve|involves)\b",
    re.I,
)
# where a question's parts meet: ";", or "and" before a question word ("where are X and who ...")
# (not "?": a follow-up's rewrite puts the earlier question before it, which is not asked again)
_PARTS = re.compile(
    r";\s*|,?\s+and\s+(?=(?:what|when|where|who|whom|which|why|how|is|are|was|were|does|do|did|will|has|have)\b)",
    re.IGNORECASE,
)
# a question that asks about a topic as a whole rather than for one fact ("What do the documents say
# about the Better Care Fund?", "What is being done about UEC pressures?", "How does intermediate care
# develop over the roadmap?"): its answer draws on several passages, so it quotes the best sentence of
# each passage that bears on it and more sentences in all
_BROAD_QUESTION = re.compile(
    r"\b(?:tell me about|pull together|summari[sz]e|(?:a )?summary of|sum up|overview|in a nutshell|explain|describe"
    r"|fit together|what role|approach to|(?:doing|done) (?:about|on|for)"
    r"|what do(?:es)? (?:the )?(?:\w+ )?(?:documents?|papers?|plans?|reports?|strategy|roadmap|it|they) say"
    r"|what(?:'s|’s|s| is| are)\s+(?:\w+\s+)?(?:happening|being done|changing|doing)"
    # as people ask it: "what's going on in Barrow?", "whats the NHS up to in Barrow?", "what's the deal with the BCF?"
    rf"|what(?:'s|’s|s| is| are)\s+(?:[\w-]+\s+){{0,4}}?(?:going on\b|up to\b(?!\s*(?:£|\d|the end\b|(?:{'|'.join(MONTH_NAMES)})\b)))|\bthe deal with"
    r"|how (?:does|do|will|is|are) .{0,60}?\b(?:develop(?:s|ing)?|chang(?:e|es|ing)|evolv(?:e|es|ing)|fits?|connects?"
    r"|links?|works?|progress(?:es|ing)?))\b",
    re.I,
)
MAX_SENTENCES = 3  # sentences quoted beside those for each part of the question
# a list question gets its whole list: "what clinical workstreams did the ICS have in 2019?" has 13, and at
# 8 items and 12 units the answer stopped at the eighth (dev key facts 0.730 -> 0.731, one list item 0.75 ->
# 1.0, no answer worse; test, run to report, 0.675 -> 0.678)
MAX_ITEMS = 16  # items of one list quoted
LIST_SENTENCES = 8  # for a list question, sentences close to the best one quoted besides its list
MAX_UNITS = 20  # units (sentences, bullets) quoted at most
MAX_CHARS = 1500  # characters quoted at most (beyond the first unit)
BROAD_SENTENCES = 5  # ... for a question about a topic as a whole
BROAD_CHARS = 2500
BROAD_SPREAD = 0.5  # for it, each passage whose best sentence scores this share of the best one's gives that sentence
CLOSE = 0.6  # a sentence within this share of the best one's score is quoted too
# a question asking for a quantity ("how many", "how much", "what percentage") is answered by a sentence
# that gives one: as shown, a sentence with no figure in it scores this share of its score (figures written
# as words were tried on dev: "five major changes" and "two thirds" then pass for the figure asked for)
_ASKS_FIGURE = re.compile(r"\bhow (?:many|much|big|large|long)\b|\bwhat (?:percentage|proportion|share|number)\b|\bwhat\s?%", re.I)
# a figure: a sum, a percentage, or a number that is neither a year ("2024", "2027/28") nor part of a name ("LSC2030")
_FIGURE = re.compile(r"£|%|\bper cent\b|(?<![\w/.,-])(?!(?:19|20)\d{2}(?:/\d{2})?\b)\d")
NO_FIGURE = 0.5
# a question asking for a person ("who wrote the foreword", "who is the chief exec") is answered by a sentence that
# names one, by a title or a role ("Professor Craig Harris, Chief Operating Officer"): one that does not scores this share
_ASKS_PERSON = re.compile(
    r"\bwho\b.{0,40}\b(?:wrote|written|writes|signed|authored|co-?wrote|co-?authored|presented|introduced)\b"
    r"|\bwho(?:'s|’s| is| was)\s+(?:the\s+)?(?:[\w'’]+\s+){0,2}(?:chief|chair|director|head|ceo|boss)\b", re.I)
_PERSON = re.compile(r"\b(?:Professor|Prof|Dr|Mr|Mrs|Ms|Cllr|Sir|Dame)\b\.?\s+[A-Z]"
                     r"|\b[A-Z][a-z'’-]+ [A-Z][a-z'’-]+, (?:[A-Z][a-z]+ )*(?:Chief|Director|Officer|Chair)\b")
NO_PERSON = 0.5
SUBJECT = 0.5  # the best sentence for a part of the question holds at least this share of what the best one does
HEADING_CREDIT = 0.7  # a question term in a sentence's headings counts this much of one in its text
# a heading that is a period ("2027/28", "2019/20"): a timeline's items say when only by it
_PERIOD_TEXT = r"(?:19|20)\d{2}(?:\s?[/–-]\s?\d{2,4})?"
_PERIOD = re.compile(rf"^{_PERIOD_TEXT}$")
_LABEL_LINE = re.compile(rf"^[^\[\n]*\b{_PERIOD_TEXT}:$")  # its line in an answer: "Cancer, 2028/29:"
_WHOLE_SENTENCE = re.compile(r"[.!?][\"'’”)]*$")


@dataclass(frozen=True)
class Unit:
    source: Source
    text: str
    bullet: bool
    position: int  # order within its source
    line: int  # the line of its source it is on
    lead: int | None = None  # the position of the list it belongs to (its lead-in, or its first item)
    leads_in: bool = False  # it ends with ":" and items follow
    depth: int = 0  # a bullet's indent: deeper bullets after it are its own items


@dataclass
class ExtractiveResult:
    text: str
    coverage: float  # share of the question's weighted terms the chosen text holds, 0..1
    cited: list[int]
    best: float = 0.0  # the same share for the single best sentence or bullet (with its headings)


def _depth(line: str) -> int:
    return len(line) - len(line.lstrip())


def units_of(source: Source, bullet_sentences: bool = False, unwrap: bool = True) -> list[Unit]:
    """A source cut into sentences, and into single bullets or table rows where it has them; the
    items of a list know its lead-in ("The affected organisations are:") or, without one, its first
    item. ``bullet_sentences``: a bullet of several sentences is cut into them too (its first is the bullet).
    ``unwrap``: a sentence a PDF wrapped over lines is read whole (:func:`_unwrapped`); without it,
    line by line, as the answerability model's signals read it (see :func:`assistant.stages.decide`)."""
    units: list[Unit] = []
    # the open list: (position of its head, least depth of its items, its lead-in is a bullet, its items are
    # at the lead-in's own depth)
    lead: tuple[int, int, bool, bool] | None = None
    unmarked = False  # the open list is a lead-in sentence and, so far, only lines without marks
    first_item = ""  # the first of those lines
    for number, line in enumerate(_unwrapped(source.text) if unwrap else source.text.split("\n")):
        stripped = line.strip()
        if not stripped:
            continue
        if _BULLET.match(stripped) or stripped.startswith("|"):
            unmarked = False
            depth = _depth(line)
            if lead is not None and lead[2] and depth == lead[1] - 1 and units[-1].line == units[lead[0]].line:
                # "- focus on the following:" then "- Reducing demand …" at its own depth: its items all the same
                lead = (lead[0], depth, True, True)
            elif lead is not None and lead[2] and depth < lead[1]:
                lead = None  # back above the items of a bullet that led in: its list has ended
            text = re.sub(r"\s*\|\s*", " | ", _BULLET.sub("", stripped).strip("| ").replace("\t", " "))
            position = len(units)
            if lead is None:
                lead = (position, -1, False, False)  # a list without a lead-in: its first item heads it
            # in a list of items at its lead-in's depth, an item ending in ":" is one more item, not a new list
            leads_in = text.endswith(":") and not (lead[3] and depth == lead[1])
            spans = (sentence_spans(text) if bullet_sentences else []) or [(0, len(text))]
            units.append(Unit(source, text[: spans[0][1]], True, position, number, lead[0], leads_in, depth))
            units += [Unit(source, text[start:end], False, position + k, number) for k, (start, end) in enumerate(spans[1:], 1)]
            if leads_in:
                lead = (position, depth + 1, True, False)  # its items are at least this deep
            continue
        if lead is not None and unmarked and (_unmarked_item(stripped) or (opens_alike(stripped, first_item) and _says_of_item(stripped))):
            # "The current clinical workstreams are as follows:" then "Cancer", "Regulated Care", …: items without marks;
            # and a longer line opening as the first item did ("We will have healthy communities" / "We will have high
            # quality and efficient services")
            units.append(Unit(source, stripped, True, len(units), number, lead[0]))
            first_item = first_item or stripped
            continue
        if lead is not None and unmarked and unwrap and units[-1].bullet and _says_of_item(stripped):
            # an item's line on it: "The four places are:" / "Lancashire" / "Split into three localities – east, north,
            # and central" / "South Cumbria" / …: the list goes on
            units.append(Unit(source, stripped, False, len(units), number, lead[0]))
            continue
        lead, unmarked = None, False
        for start, end in sentence_spans(stripped, quotes=True):
            text = stripped[start:end]
            units.append(Unit(source, text, False, len(units), number))
        if units and units[-1].line == number and units[-1].text.endswith(":"):
            last = units[-1]
            units[-1] = Unit(source, last.text, False, last.position, number, last.position, True)
            lead, unmarked, first_item = (last.position, _depth(line), False, False), True, ""
    # a line on an item is one only with another item after it: after the last ("Blackpool" / "Finance and
    # performance overview", or " Section 1: A case for changing the way we work"), it may be a heading or a closing remark
    last = {unit.lead: unit for unit in units if unit.lead is not None}
    units = [Unit(unit.source, unit.text, False, unit.position, unit.line)
             if unit.lead is not None and not unit.bullet and unit.position != unit.lead and last[unit.lead] is unit
             else unit for unit in units]
    # a lead-in with no items after it is a sentence like any other
    heads = {unit.lead for unit in units if unit.lead is not None and unit.lead != unit.position}
    return [
        unit if not unit.leads_in or unit.position in heads
        else replace(unit, lead=unit.lead if unit.bullet else None, leads_in=False)  # its depth kept (review)
        for unit in units
    ]


ITEM_WORDS = 6  # a line of at most this many words, in capitals and unpunctuated, after a lead-in is one of its items


def _unmarked_item(line: str) -> bool:
    return line[:1].isupper() and len(line.split()) <= ITEM_WORDS and not re.search(r"[.!?;:,]\W*$", line)


def _says_of_item(line: str) -> bool:
    """A line under an item that says something of it: at most ITEM_LINE_WORDS words, no full stop."""
    return len(line.split()) <= ITEM_LINE_WORDS and not re.search(r"[.!?;:]\W*$", line)


# a line ending in one of these words goes on in the next ("… a deficit of" + "£167m per annum", "with over" + "200 offers")
_WRAPPED_AFTER = re.compile(r"\b(?:of|and|the|to|a|an|in|for|with|by|or|on|at|from|as|over|than|around|nearly|almost)$")
# a name a PDF cut in two, in a line of running text (more than ITEM_WORDS words: a short line in capitals is a
# heading or a list's item): the line ends in a word in capitals after one in lower case ("… from the National")
# and the next goes on with a name ("Association of Primary Care", "Care Network receiving …"), or the line
# ends in words in capitals and the next is that name's end ("… this Mental Health" + "Investment Standard.")
_ENDS_IN_ONE_CAPITAL = re.compile(r"\b[a-z][\w'’-]*\s+[A-Z][\w'’-]*$")
_ENDS_IN_CAPITALS = re.compile(r"\b[a-z][\w'’-]*(?:\s+[A-Z][\w'’-]*)+$")
_NAME_GOES_ON = re.compile(r"^(?!(?:The|This|These|That|We|Our|It|In|A|An|As|For|To|They|There)\b)[A-Z][\w'’-]*"
                           r"(?:\s+(?:of|and|&)\s+|\s+)[A-Z]")
_NAME_ENDS = re.compile(r"^[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)?[.,;]?$")
_MONTH_THEN_YEAR = re.compile(rf"\b(?:{'|'.join(MONTH_NAMES)})$")


def _cut_name(previous: str, line: str) -> bool:
    """The two lines of running text cut a name or a date in two (see above; "… by March" + "2020.")."""
    if "\t" in previous + line or len(previous.split()) <= ITEM_WORDS:  # a cover sheet's rows stay rows
        return False
    return bool((_ENDS_IN_ONE_CAPITAL.search(previous) and _NAME_GOES_ON.match(line))
                or (_ENDS_IN_CAPITALS.search(previous) and _NAME_ENDS.match(line))
                or (_MONTH_THEN_YEAR.search(previous) and re.match(r"(?:19|20)\d{2}\b", line)))


# a sign-off: a person's name on a line of its own ("Professor Craig Harris", "Kevin Lavery"), then, on the next
# line with words, their role ("Chief Operating Officer", "Chief executive, NHS Lancashire and South Cumbria ICB")
_TITLES = ("Professor", "Prof", "Dr", "Mr", "Mrs", "Ms", "Miss", "Cllr", "Sir", "Dame")
_TITLE_WORDS = frozenset(title.lower() for title in _TITLES)
_NAME_LINE = re.compile(rf"^(?:(?:{'|'.join(_TITLES)})\.? +)*[A-Z][a-z'’-]+(?: +[A-Z][a-z'’-]+){{1,2}}$")
_ROLE = r"(?:Chief|Director|Officer|Chair|Chairman|Chairwoman|President|Secretary|Head of|Clinical Lead)"
_ROLE_LINE = re.compile(rf"^(?:(?:Interim|Acting|Deputy|Associate|Joint|Medical|Executive|Finance|Nursing|Operating)\s+)*{_ROLE}\b")
SIGN_OFF_WORDS = 14  # a role line runs at most this many words


def _unwrapped(text: str) -> list[str]:
    """The text's lines with a sentence a PDF wrapped over several lines put back on one ("… place
    specific as part" + "of ICS/ICP reviews"): a line that ends in no punctuation is joined by the
    next when that one goes on in lower case, when it ends in a word such as "of" or "and", or when
    the two lines cut a name in two ("… from the National" + "Association of Primary Care");
    bullets, table rows (a cover sheet's too), headings and short lines in capitals stay lines."""
    lines: list[str] = []
    last: int | None = None  # the line a wrapped one joins: the last one with words
    before = ""  # that line as the PDF wrote it (before any line was joined to it)
    signed: int | None = None  # a name on a line of its own, whose role may follow after blank lines
    for line in text.split("\n"):
        stripped = line.strip()
        if signed is not None and stripped:
            if _ROLE_LINE.match(stripped) and len(stripped.split()) <= SIGN_OFF_WORDS and not stripped.endswith("."):
                # "Kevin Lavery" + "Chief executive, NHS …": one line, so that the name is quoted with its role
                lines[signed] = f"{lines[signed].rstrip()}, {stripped}"
                lines.append("")
                signed = None
                continue
            signed = None
        previous = lines[last].strip() if last is not None else ""
        goes_on = (stripped[:1].islower() or _WRAPPED_AFTER.search(previous)  # "… a deficit of" + "£167m per annum"
                   or _cut_name(before, stripped))  # "… an award from the National" + "Association of Primary Care"
        if (previous and stripped and goes_on and not _BULLET.match(stripped) and not stripped.startswith(("|", "#"))
                and not previous.startswith(("|", "#")) and not re.search(r"[.!?:;]\W*$", previous)):
            before = stripped
            lines[last] = lines[last].rstrip() + " " + stripped
            lines.append("")  # the line numbers of the lines after it stay as they were
            continue
        lines.append(line)
        last = len(lines) - 1 if stripped else None
        before = stripped
        if _NAME_LINE.match(stripped) and _is_a_name(stripped, text):
            signed = last
    return lines


def _is_a_name(line: str, text: str) -> bool:
    """A line of capitalised words is a person's name, not a heading ("Primary Care Networks"),
    when none of its words but a title is written in lower case elsewhere in the text."""
    words = [w for w in re.findall(r"[A-Za-z'’-]+", line) if w.lower().rstrip(".") not in _TITLE_WORDS]
    return bool(words) and not any(re.search(rf"(?<![\w'’-]){re.escape(w.lower())}(?![\w'’-])", text) for w in words)


@dataclass
class Scoring:
    """The question's terms, weighted by rarity over the units, and what each unit holds of them."""

    units: list[Unit]
    wanted: list[str]
    weight: dict[str, float]
    unit_terms: list[set[str]]
    heading_terms: dict[int, set[str]]  # by source number: its heading path and title
    source_terms: dict[int, set[str]]  # by source number: its text's
    year_terms: dict[int, set[str]]  # by source number: its document's year

    def share(self, i: int, of: list[str] | None = None, years: bool = False) -> float:
        """The share of the weighted terms ``of`` (the question's) that unit ``i`` holds, a term only
        in its headings (or, with ``years``, its document's year) counting ``HEADING_CREDIT``."""
        of = self.wanted if of is None else of
        total = sum(self.weight[t] for t in of)
        if not total:
            return 0.0
        n = self.units[i].source.n
        around = self.heading_terms[n] | (self.year_terms[n] if years else set())
        got = sum(self.weight[t] for t in of if t in self.unit_terms[i])
        got += HEADING_CREDIT * sum(self.weight[t] for t in of if t not in self.unit_terms[i] and t in around)
        return got / total

    def passage_share(self, n: int) -> float:
        """The share of the question's weighted terms that source ``n`` holds (text and headings)."""
        held = self.source_terms[n] | self.heading_terms[n]
        return sum(self.weight[t] for t in self.wanted if t in held) / sum(self.weight.values())

    def covered(self, i: int) -> set[str]:
        n = self.units[i].source.n
        return {t for t in self.wanted if t in self.unit_terms[i] or t in self.heading_terms[n]}


def score(question: str, sources: list[Source], bullet_sentences: bool = False, unwrap: bool = True) -> Scoring | None:
    """The units of the sources (see :func:`units_of`) scored against the question; None when
    either has nothing."""
    wanted = list(dict.fromkeys(terms(question)))
    units = [unit for source in sources for unit in units_of(source, bullet_sentences, unwrap)]
    if not wanted or not units:
        return None
    # rarer terms tell more: weight each question term by its inverse frequency over the units
    unit_terms = [set(terms(unit.text)) for unit in units]
    count = len(units)
    weight = {t: math.log(1 + count / (1 + sum(t in ts for ts in unit_terms))) + (1.0 if re.search(r"\d", t) else 0.0) for t in wanted}
    return Scoring(
        units, wanted, weight, unit_terms,
        {source.n: set(terms(source.section + " " + source.title)) for source in sources},
        {source.n: set(terms(source.text)) for source in sources},
        {source.n: set(terms(source.date[:4])) for source in sources},
    )


def question_parts(question: str) -> list[list[str]]:
    """The terms of each part of a multi-part question and of each side of a comparison (none
    for a question of one part)."""
    return [part for part, _ in _parts(question)]


def _parts(question: str) -> list[tuple[list[str], bool]]:
    """:func:`question_parts`, each with whether that part asks for a quantity."""
    pieces = [piece for piece in _PARTS.split(question) if piece and piece.strip()]
    pieces = pieces if len(pieces) > 1 else []
    pieces += expand_query(question)[1:]
    whole = set(terms(question))
    parts = [(list(dict.fromkeys(terms(piece))), bool(_ASKS_FIGURE.search(piece))) for piece in pieces]
    return [(part, asks) for part, asks in parts if part and set(part) != whole]


_QUESTION_WORD = re.compile(r"\b(?:what|when|where|who|whom|which|why|how)\b", re.I)


def _last_asked(question: str) -> str:
    """What a follow-up's rewrite asks last ("Who presented the paper? When was the meeting?": the
    date), or the whole question where its last part asks nothing of its own ("… in Kendal? and Barrow?")."""
    last = re.split(r"\?\s+", question.strip())[-1]
    return last if _QUESTION_WORD.search(last) else question


def _for_figure(unit: Unit) -> float:
    """How a unit's score counts for a question asking for a quantity: whole with a figure in it."""
    return 1.0 if _FIGURE.search(unit.text) else NO_FIGURE


def _sentence_beside(units: list[Unit], i: int, step: int) -> int | None:
    """The unit ``step`` (1: after, -1: before) from sentence ``i`` in its passage, when both are
    sentences (no list items) and it is a whole one."""
    j = i + step
    if (0 <= j < len(units) and not units[i].bullet and not units[j].bullet
            and units[j].source is units[i].source and _WHOLE_SENTENCE.search(units[j].text)):
        return j
    return None


def _next_sentence(units: list[Unit], i: int) -> int | None:
    """The whole sentence after sentence ``i`` in its passage."""
    return _sentence_beside(units, i, 1)


_POINTS_BACK = re.compile(r"^(?:This|These|That|Those|It|Its|They|Their|Such|Both)\b")


def _sentence_before(units: list[Unit], i: int) -> int | None:
    """The sentence before sentence ``i`` in its passage, when ``i`` opens by pointing back to it
    ("This", "It", "They"...) and it is a whole sentence."""
    return _sentence_beside(units, i, -1) if _POINTS_BACK.match(units[i].text) else None


def answer(question: str, sources: list[Source], max_chars: int | None = None, unwrap: bool = True,
           shown: bool = True) -> ExtractiveResult:
    """Pick the units that cover the question and each of its parts best; cite each with its source
    number (``max_chars``: quoted at most, beyond the first unit, by default MAX_CHARS, or BROAD_CHARS
    for a question about a topic as a whole; ``unwrap``: see :func:`units_of`; ``shown``: the answer
    as people read it, where the sentence after the best one and after each close one in its passage
    comes too, and the sentence before one that opens by pointing back ("This…", "It…"), the units of
    a passage under a period heading come after a line naming it (see :func:`period_label`) and a
    question about a topic as a whole is answered from each passage that bears on it; without it,
    as the answerability model was fitted to read it)."""
    scoring = score(question, sources, unwrap=unwrap)
    if scoring is None:
        return ExtractiveResult(text="", coverage=0.0, cited=[], best=0.0)
    units = scoring.units
    shares = [scoring.share(i) for i in range(len(units))]
    scores = [shares[i] + 0.05 / units[i].source.n for i in range(len(units))]  # earlier sources win ties

    def order(i: int) -> tuple:
        return -scores[i], units[i].source.n, units[i].position

    top_share = shares[min(range(len(units)), key=order)]  # what the best sentence holds, whatever comes first
    asked_last = _last_asked(question)
    figure = shown and bool(_ASKS_FIGURE.search(asked_last))
    person = shown and not figure and bool(_ASKS_PERSON.search(asked_last))
    if figure:  # the figure asked for, not the sentences around it
        scores = [score * _for_figure(units[i]) for i, score in enumerate(scores)]
    elif person:  # the person asked for
        scores = [score * (1.0 if _PERSON.search(units[i].text) else NO_PERSON) for i, score in enumerate(scores)]
    ranked = sorted(range(len(units)), key=order)
    best = ranked[0]
    parts = _for_parts(question, scoring, ranked, shares, shown)
    chosen = [best] + parts
    best_list = _best_list(question, units, best)
    # a question about a topic as a whole: the best sentence of each passage that bears on it (dev synthesis
    # key facts 0.40 -> 0.49); not where the caller sets the size, as a comparison's cell does
    broad = shown and max_chars is None and not best_list and bool(_BROAD_QUESTION.search(question))
    if broad:
        seen: set[int] = set()
        for i in ranked:  # each passage's first in the ranking is its best
            if units[i].source.n not in seen:
                seen.add(units[i].source.n)
                if i not in chosen and scores[i] >= BROAD_SPREAD * scores[best]:
                    chosen.append(i)
    if max_chars is None:
        max_chars = BROAD_CHARS if broad else MAX_CHARS
    # sentences that cover the question almost as well as the best one (a list question: as many as its items)
    # (not one under a heading for another financial year than the one the question asks about)
    asked = _financial_years(question)
    close = [i for i in ranked[1:] if scores[i] >= CLOSE * scores[best] and i not in chosen
             and not (asked and _financial_years(_period(units[i].source.section)) - asked)
             # asked for a person, one named in another document is no one the question means
             and not (person and units[i].source.doc != units[best].source.doc and _PERSON.search(units[i].text))]
    close = close[: LIST_SENTENCES if best_list else (BROAD_SENTENCES if broad else MAX_SENTENCES) - 1]
    chosen += close
    # the sentence after a quoted one in its passage often holds what that one leads up to ("… the Jean Bishop
    # centre is a great model." + "It cut attendances by 17.6 per cent."; "The Healthier Streets project in
    # Barrow…" + "Working with community-led Love Barrow Families, …"): a whole sentence (not a heading such as
    # "Workforce", nor a lead-in ending in ":"), not a list item. After the best one: kept before the close
    # sentences, after the best one for each part of the question; after each close one: kept next to it (dev key
    # facts 0.731 -> 0.741, none lower, citation support 0.727 -> 0.724; test, run to report, 0.677 -> 0.684)
    if shown and not best_list:
        for i in [best] + close:
            after = _next_sentence(units, i)
            if after is not None and after not in chosen:
                chosen.insert(1 + len(parts) if i == best else chosen.index(i) + 1, after)
    # a quoted sentence that opens by pointing back ("This takes the Trust out of the 'Recovery Support
    # Programme'.", "It is, therefore, our intention…") brings the sentence before it in its passage, which says
    # what it points to ("University Hospitals of Morecambe Bay … has moved from a rating of four, up to three.");
    # dev and test key facts unchanged (17 of 408 answers read more fully); two questions of a new probe answered.
    # It is chosen after the one it explains, so that an answer cut short (a comparison's cell) loses it first;
    # the answer is set out in reading order below
    if shown:
        for i in list(chosen):
            before = _sentence_before(units, i)
            if before is not None and before not in chosen:
                chosen.insert(chosen.index(i) + 1, before)
    # the best bullet brings the bullets indented under it ("- 3.2 ... through three lenses." / "  - 3.2.1
    # Stabilise ...", "  - 3.2.2 Recover ...": its items, whose own words need not be the question's)
    below = []
    for j in range(best + 1, len(units)):
        if units[j].source is not units[best].source or not units[j].bullet or units[j].depth <= units[best].depth:
            break
        below.append(j)
    if units[best].bullet and below:  # next after it, so that they are the last to go when the answer is cut short
        chosen = [best] + below[:MAX_ITEMS] + [i for i in chosen[1:] if i not in below[:MAX_ITEMS]]
    # a chosen lead-in brings its list's items, and so does the best list of a list question
    lists = [(units[i].source.n, units[i].lead) for i in chosen if units[i].leads_in] + best_list
    for n, lead in dict.fromkeys(lists):
        members = [j for j in range(len(units)) if units[j].source.n == n and units[j].lead == lead]
        head = members[:1] if units[members[0]].position == lead else []
        items = sorted(members[len(head):], key=lambda j: -scores[j])[:MAX_ITEMS]  # the best items, in document order
        chosen += head + sorted(items, key=lambda j: units[j].position)

    # no sentence twice; the best source's units first, each source's in document order
    kept: list[int] = []
    for i in chosen:
        if units[i].text not in {units[j].text for j in kept}:
            kept.append(i)
    kept = kept[:MAX_UNITS]
    while len(kept) > 1 and sum(len(units[i].text) for i in kept) > max_chars:
        kept.pop()  # the last chosen goes first
    first = units[best].source.n
    kept.sort(key=lambda i: (units[i].source.n != first, units[i].source.n, units[i].position))

    covered: set[str] = set()
    for i in kept:
        covered |= scoring.covered(i)
    coverage = sum(scoring.weight[t] for t in covered) / sum(scoring.weight.values())
    bulleted = any(units[i].bullet for i in kept)  # then one line each, bullets marked
    lines = []
    said = ""  # the heading above the last period named
    for at, i in enumerate(kept):
        n = units[i].source.n
        if not at or units[kept[at - 1]].source.n != n:  # a source's first unit
            label = period_label(units[i].source.section) if shown else ""
            above, period = label.rpartition(", ")[0], _period(units[i].source.section)
            if label and period not in " ".join(units[j].text for j in kept if units[j].source.n == n):
                # its units are under a period heading: a line says when ("Cancer, 2028/29:", then "2029/30:"),
                # apart from the lines before it so that it reads as no part of their list
                lines += ([""] if lines else []) + [f"{period if above == said else label}:"]
                said = above
            elif said:  # after a period's units, a passage under no period is set apart from them
                lines.append("")
                said = ""
        lines.append(f"{'- ' if units[i].bullet and not units[i].leads_in else ''}{units[i].text.rstrip()} [{units[i].source.n}]")
    body = "\n".join(lines) if bulleted else " ".join(line for line in lines if line)
    cited = list(dict.fromkeys(units[i].source.n for i in kept))
    return ExtractiveResult(text=body, coverage=coverage, cited=cited, best=top_share)


_FINANCIAL_YEAR = re.compile(r"(?<!\d)(?:20)?(\d{2})\s?[/–-]\s?(?:20)?(\d{2})(?!\d)")


def _financial_years(text: str) -> set[str]:
    """The financial years ``text`` names, each by its first year: "2026/27", "26/27", "2026–27", "2026/2027"
    and "FY26/27" are all "26"."""
    return {first for first, second in _FINANCIAL_YEAR.findall(text or "") if int(second) == (int(first) + 1) % 100}


def is_period(heading: str) -> bool:
    """The heading names a year or financial year and nothing else ("2027/28")."""
    return bool(_PERIOD.match(heading))


def _headings(section: str) -> list[str]:
    return [part.strip() for part in (section or "").split(" > ") if part.strip()]


def _period(section: str) -> str:
    """The period a passage's heading path ends in ("… > 2028/29"), or ""."""
    path = _headings(section)
    return path[-1] if path and _PERIOD.match(path[-1]) else ""


def period_label(section: str) -> str:
    """For a passage whose heading is a period ("LSC2030 Roadmap > Cancer > 2028/29"), the period
    with the heading above it ("Cancer, 2028/29"): a timeline's items ("Community based model fully
    implemented") say when only by their heading. Empty for any other heading."""
    return ", ".join(_headings(section)[-2:]) if _period(section) else ""


def for_audience(text: str, audience: str) -> str:
    """The quoted answer as the audience reads it: for staff as quoted; for the public each quoted
    sentence a bullet of its own (citations kept, a sentence citing nothing of its own given the
    citation that vouched for it), and lines that only lead into a list ("The priorities are: [1]")
    dropped, as they say nothing by themselves; a comparison's table kept as it is."""
    if audience != "public":
        return text
    table = [line for line in text.splitlines() if line.lstrip().startswith("|")]
    if table:  # a comparison's table stays a table: its rows say which document said what
        rest = for_audience("\n".join(line for line in text.splitlines() if not line.lstrip().startswith("|")).strip(), audience)
        return "\n".join(table) + (f"\n\n{rest}" if rest else "")
    lines: list[str] = []
    block: list[str] = []
    for line in text.splitlines() + [""]:
        if not _LABEL_LINE.match(line) and line:
            block.append(line)
            continue
        for sentence, cited in support.sentences("\n".join(block)):
            if not CITATION.search(sentence) and cited:
                sentence += " " + "".join(f"[{n}]" for n in cited)
            lines.append(f"- {sentence}")
        block = []
        if line:  # a period heading stays (its items say when only by it), apart from the lines before it
            lines += ([""] if lines else []) + [line.strip()]
    return "\n".join(lines) or text


def _for_parts(question: str, scoring: Scoring, ranked: list[int], shares: list[float], shown: bool = True) -> list[int]:
    """The best unit for each part of the question (its own terms first, the whole question's next),
    unless a unit already chosen answers that part as well, or it is off the question's subject; as
    shown, for a part asking for a quantity, a unit that gives one."""
    chosen = ranked[:1]
    for part, asks_figure in _parts(question):
        part_shares = [scoring.share(i, part, years=True) for i in range(len(scoring.units))]
        if shown and asks_figure:
            part_shares = [share * _for_figure(unit) for share, unit in zip(part_shares, scoring.units)]
        # ties go to the passage about the question's subject, then to the unit that is
        top = max(ranked, key=lambda i: (part_shares[i], scoring.passage_share(scoring.units[i].source.n), shares[i]))
        answered = max(part_shares[i] for i in chosen) >= part_shares[top]
        if part_shares[top] > 0 and not answered and scoring.share(top, years=True) >= SUBJECT * shares[ranked[0]]:
            chosen.append(top)
    return chosen[1:]


def _best_list(question: str, units: list[Unit], best: int) -> list[tuple[int, int]]:
    """For a list question, the list (source number, position of its head) the best unit is in, or
    that the rest of its paragraph leads into ("... four organisations were placed ... The affected
    organisations are:"); none for another question."""
    if not _LIST_QUESTION.search(question):
        return []
    unit = units[best]
    after = units[best + 1] if best + 1 < len(units) else None
    if unit.lead is not None:
        return [(unit.source.n, unit.lead)]
    if after is not None and after.leads_in and (after.source, after.line) == (unit.source, unit.line):
        return [(after.source.n, after.lead)]
    return []
