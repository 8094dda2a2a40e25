"""Sentence support: is each sentence of an answer backed by the passages it cites?

An answer is checked sentence by sentence (a bullet's sentences too; a citation written after the
full stop, "… (£20m). [1]", belongs to the sentence before it, and a sentence citing nothing is
checked against the next citation in its line or bullet; a lead-in ending in ":" states nothing
and is not checked). Each sentence gets one of:

- ``uncited``: it cites no passage, so nothing can be checked;
- ``unsupported``, with the reason: a figure, percentage, sum of money, year or name in it is in
  none of the passages it cites ("£1 billion is not in [2]"), or too few of its words are
  ("few of its words are in [2]");
- ``supported``: everything specific in it is in a passage it cites, and enough of its words.

Specifics are compared as values, so the usual spellings agree: £5.4billion, £5.4 billion and
£5.4bn; 2027/28, 2027-28 and 2027/2028; 15%, 15 per cent; 1,200 and 1200; "six" and 6. A name
(a capitalised word not starting the sentence, or an acronym) is found in the passage's text,
title or headings, or as the glossary's other form (ICB: Integrated Care Board). The word-share
threshold was chosen on the gold set's dev items (see ``eval/support_check.py``), where a set of
corrupted reference answers (a figure, year, name or cited document swapped) measures the check.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Literal

from assistant.answers import Source
from assistant.abbreviations import UBIQUITOUS, mine
from index.text import (
    CITATION, LEADING_CITATIONS, MONTH_NAMES, QUESTION_WORDS, SCORED_CITATION, STOPWORDS, answer_sentence_parts, terms,
)

Support = Literal["supported", "unsupported", "uncited"]
MIN_WORDS = 3  # a sentence with fewer words (less stopwords and figures) is judged by its specifics only
MIN_ATTRIBUTION_SHARE = 0.6  # an uncited sentence is given the citation of a source holding this share of its words (chosen on dev)
MIN_WORD_SHARE = 0.3  # the least share of a sentence's words its cited passages must hold (chosen on dev)

_SCALE = {"bn": 1e9, "billion": 1e9, "m": 1e6, "million": 1e6, "k": 1e3, "thousand": 1e3}
_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_MONTHS = frozenset(month.lower() for month in MONTH_NAMES)
_FIGURE = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"  # 1,200 / 1200 / 5.4 (not "4," nor "5.2.1")
_MONEY = re.compile(rf"£\s?({_FIGURE})\s?(bn|billion|m|million|k|thousand)?\b", re.I)
_PERCENT = re.compile(rf"({_FIGURE})\s?(?:%|per\s?cent\b)", re.I)
_FINANCIAL_YEAR = re.compile(r"\b((?:19|20)?\d{2})\s?[/–-]\s?((?:19|20)?\d{2})\b")  # 2027/28, 2027-2028, 27/28
_YEAR = re.compile(r"\b((?:19|20)\d{2})\b")
_SCALED = re.compile(rf"({_FIGURE})\s?(bn|billion|million|thousand)\b", re.I)  # "1.9 million", "7.1 billion pounds"
_SHORT_RANGE = re.compile(r"(?<![\d,.])(\d{1,3})\s?[-–]\s?(\d{1,3}(?:,\d{3})+)(?![\d,])")
_NUMBER = re.compile(rf"(?<![\w.£])({_FIGURE})(?![\w%]|\.\d)")  # a section number ("5.2.1") is no figure
_WORD = re.compile(r"[^\W\d_][\w'’&-]*")
_PAIRS = {")": "(", "”": "“", "’": "‘", '"': '"', "'": "'"}  # what may close a sentence after its full stop


def _closes(sentence: str, mark: str) -> bool:
    """``mark`` closes a bracket or quote the sentence opened ("(… the plan.)"), not one opened before it."""
    opener = _PAIRS.get(mark)
    if opener is None:
        return False
    if opener == mark:  # a straight quote: the sentence holds an odd number of them
        return sentence.count(mark) % 2 == 1
    return sentence.count(opener) > sentence.count(mark)


LIST_MARK = re.compile(r"^\s*(?:[-*•·–—▪●◦‣]|\d{1,2}[.)])\s+")  # a bullet or a list number
# words written with a capital that name nothing: a sentence's usual openers, days and the like
_NOT_NAMES = frozenset("i however also this these those there their its it our we they he she you".split())


@dataclass(frozen=True)
class SentenceSupport:
    """One sentence of an answer and whether the passages it cites back it."""

    text: str  # as written, citations included
    citations: tuple[int, ...]  # the passage numbers it cites
    support: Support
    reason: str = ""  # why it is unsupported or uncited

    def to_dict(self) -> dict:
        data = asdict(self)
        data["citations"] = list(self.citations)
        return data


@dataclass(frozen=True)
class Specific:
    """A figure, sum, share, year or name in a sentence: how it was written and what it is."""

    written: str
    kind: str  # "money" | "percent" | "year" | "number" | "count" (a digit with what it counts: "3 priority") | "name"
    value: object


def sentences(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """The answer's sentences with the passage numbers each cites: a citation after a sentence's
    full stop is that sentence's, and a sentence citing nothing takes the next citation in its line
    or bullet; lead-ins ending in ":" and pieces without a word are left out, and so are the rule
    and the header row of a comparison's table (see :func:`statements`)."""
    return [(part, cited) for _, part, cited in located(text)]


def located(text: str) -> list[tuple[int, str, tuple[int, ...]]]:
    """:func:`sentences`, each with where it ends in ``text`` (for a sentence citing nothing: where
    its own words end, so a citation can be put after them)."""
    return [(end, part, cited) for _, end, part, cited, _ in stretches(text)]


def stretches(text: str) -> list[tuple[int, int, str, tuple[int, ...], bool]]:
    """:func:`located`, each sentence with where it starts too, and whether the citations it is
    checked against are its own (not the next sentence's)."""
    found: list[tuple[int, int, str, tuple[int, ...], bool]] = []
    for offset, content in statements(text or ""):
        line = LIST_MARK.sub("", content).strip()
        if not line:
            continue
        start = offset + content.find(line)
        parts: list[list] = []  # [text, where it starts, where it ends]
        cursor = 0
        for part in answer_sentence_parts(line):
            at = line.find(part, cursor)
            cursor = at + len(part)
            match = LEADING_CITATIONS.match(part)
            if match and parts:
                parts[-1][0] += " " + match.group(1).strip()
                parts[-1][2] = start + at + len(match.group(1).rstrip())
                part, at = match.group(2), at + match.start(2)
            if part.strip():
                begins = start + at + len(part) - len(part.lstrip())
                parts.append([part.strip(), begins, start + at + len(part.rstrip())])
        cited = [tuple(dict.fromkeys(int(n) for n in CITATION.findall(part))) for part, _, _ in parts]
        for i, (part, begins, end) in enumerate(parts):
            bare = SCORED_CITATION.sub("", part).strip()
            if not re.search(r"\w", bare) or bare.endswith(":"):
                continue
            while end < len(text) and _closes(part, text[end]):  # "(… the plan.) Next": the bracket is its own
                part, end = part + text[end], end + 1
            # a sentence without its own citation is vouched for by the next one's in its line or
            # bullet ("X. Y. [1]": [1] is cited for X too, and X is checked against it)
            found.append((begins, end, part, cited[i] or next((c for c in cited[i + 1:] if c), ()), bool(cited[i])))
    return found


TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")  # |---|---|
TABLE_HEADER = ("Document", "What it says")  # the header of a comparison's table (assistant/comparison.py)


def statements(text: str) -> list[tuple[int, str]]:
    """The lines of an answer that state something, each with where it starts in ``text``: a table's
    rule left out, and its header row when it is a comparison's (``TABLE_HEADER``); a row is read
    whole, its first cell (a document's title and year, held in its passages' titles and dates)
    with the rest."""
    lines = text.splitlines(keepends=True)
    kept: list[tuple[int, str]] = []
    offset = 0
    for i, raw in enumerate(lines):
        line = raw.rstrip("\r\n")
        here, offset = offset, offset + len(raw)
        if line.lstrip().startswith("|") and line.count("|") >= 2:
            if TABLE_RULE.match(line):
                continue
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            following = lines[i + 1] if i + 1 < len(lines) else ""
            if tuple(cells) == TABLE_HEADER and TABLE_RULE.match(following):
                continue
            inner = line.strip().strip("|").strip()
            kept.append((here + line.find(inner), inner))
            continue
        kept.append((here, line))
    return kept


def _amount(digits: str) -> float:
    return float(digits.replace(",", ""))


_LABEL_BEFORE = re.compile(
    r"\b(?:priority|phase|tier|wave|stage|step|band|category|cat|type|level|section|part|item|number|no\.?|page|"
    r"appendix|table|figure|year|quarter|q|option|objective|goal|aim|ambition|principle|recommendation|slide|"
    r"chapter|point|annex|lens|shift|pillar|theme|workstream|domain)\s*$", re.I)
_NOT_COUNTED = ("and|or|to|of|in|on|at|by|for|the|a|an|per|x|times|year|years|yr|yrs|hours?|minutes?|days?|weeks?"
                "|months?|am|pm|" + "|".join(m.lower() for m in MONTH_NAMES))
_COUNTED_AFTER = re.compile(rf"(?:\s+(?!(?:{_NOT_COUNTED})\b)[a-z][a-z-]+){{1,3}}", re.I)
_LOOK_BACK = 40  # characters before a digit read to tell a label or a list mark


def _counted(text: str, match: re.Match) -> str:
    """What a digit from 1 to 9 counts ("3 priority wards", "5 new hubs": "priority wards", "new hubs"),
    or "" for a label ("Priority 4 aims", "Tier 2 services"), a list mark or a paragraph's number
    ("1. Maximise", "| 2.1 LSC 2030 …"), a time ("4 hours") or a date ("1 April 2026")."""
    if not match.group(1).isdigit():
        return ""  # "2.1": a paragraph's number
    before = text[max(0, match.start() - _LOOK_BACK): match.start()]
    line_start = r"(?:^|\n|\|)" if match.start() <= _LOOK_BACK else r"(?:\n|\|)"
    if re.search(line_start + r"\s*(?:[-*•]\s*)?$", before) or re.search(r"[\d.,/£]$", before.rstrip()[-1:] or " "):
        return ""  # a line's first figure is a list mark or a heading number
    if _LABEL_BEFORE.search(before):
        return ""
    after = text[match.end(): match.end() + 60]
    words = None if re.match(r"[.)\d%/:-]", after) else _COUNTED_AFTER.match(after)
    return " ".join(words.group().split()) if words else ""


def specifics(text: str) -> list[Specific]:
    """The figures, sums of money, percentages, years and names written in ``text``."""
    found: list[Specific] = []
    taken: list[tuple[int, int]] = []

    def free(match: re.Match) -> bool:
        return not any(match.start() < end and start < match.end() for start, end in taken)

    def add(match: re.Match, kind: str, value) -> None:
        found.append(Specific(match.group().strip(), kind, value))
        taken.append(match.span())

    bare = SCORED_CITATION.sub(". ", text)  # a citation ends a name and its sentence: "… Infirmary [1] Work is …"
    for match in _MONEY.finditer(bare):
        add(match, "money", round(_amount(match.group(1)) * _SCALE.get((match.group(2) or "").lower(), 1.0)))
    for match in _PERCENT.finditer(bare):
        if free(match):
            add(match, "percent", _amount(match.group(1)))
    for match in _SCALED.finditer(bare):
        if free(match):
            add(match, "number", float(round(_amount(match.group(1)) * _SCALE[match.group(2).lower()])))
    for match in _FINANCIAL_YEAR.finditer(bare):
        if free(match):
            first, end = match.group(1), match.group(2)
            start = int(first) if len(first) == 4 else 2000 + int(first)
            end_year = int(end) if len(end) == 4 else int(str(start)[:2] + end)
            if end_year == start + 1 and (len(first) == 4 or 15 <= int(first) <= 40):  # "25/26", not "3/4"
                add(match, "year", (start, end_year))
    for match in _YEAR.finditer(bare):
        if free(match):
            add(match, "year", (int(match.group(1)),))
    for match in _SHORT_RANGE.finditer(bare):  # "300-500,000": 300,000 to 500,000
        if free(match):
            high = match.group(2)
            add(match, "number", _amount(match.group(1)) * 1000 ** high.count(","))
            found.append(Specific(high, "number", _amount(high)))
    for match in _NUMBER.finditer(bare):
        # a lone digit is mostly a label ("priority 4", "1) maximise", "Tier 2"): not checked, unless it counts the
        # words after it ("There are 3 priority wards": the figure a "how many" question asks for; a model wrote
        # that one, and no passage says it). Held also where the passage writes it as a word ("three wards").
        if free(match) and _amount(match.group(1)) >= 10:
            add(match, "number", _amount(match.group(1)))
        elif free(match) and (counted := _counted(bare, match)):  # with what it counts: "3 priority wards", held beside it
            found.append(Specific(f"{match.group(1)} {counted}", "count", _amount(match.group(1))))
            taken.append(match.span())
    found += [Specific(name, "name", name.lower()) for name in names(bare)]
    return found


_JOINING = frozenset("and of for & in on".split())  # small words inside a name: "Health and Wellbeing Board"


def names(text: str) -> list[str]:
    """The names in ``text``: runs of capitalised words ("Royal Preston Hospital", "Better Care
    Fund"), small joining words inside a run ("Health and Wellbeing Board"), acronyms (SDEC) and
    months ("March 2026"), not counting the first word of a sentence or line, a stopword, nor the
    ICB, NHS, Lancashire and South Cumbria (every document is about them; a passage may say "we")."""
    found: list[str] = []
    run: list[str] = []

    def close() -> None:
        while run and run[-1].lower() in _JOINING:
            run.pop()
        if run:
            found.append(" ".join(run))
        run.clear()

    previous_end = 0
    for match in _WORD.finditer(text):
        between = text[previous_end:match.start()]
        first = previous_end == 0 or bool(re.search(r"[.!?:\n]\s*[\"'‘“(]?\s*$", between))
        previous_end = match.end()
        if between.strip() and not first:  # a comma, bracket or figure between: the run ends
            close()
        for piece in re.split(r"(?<=\w)-(?=\w)", match.group().rstrip("'’-&")):  # "NHS-funded": NHS, funded
            word = re.sub(r"['’]s$", "", piece)
            possessive = word != piece
            lowered = word.lower()
            if lowered in _JOINING:
                if run and run[-1].lower() not in _JOINING:
                    run.append(word)
                else:
                    close()
                continue
            named = (word[:1].isupper() and not first and len(lowered) > 1 and lowered not in STOPWORDS
                     and lowered not in _NOT_NAMES)
            if named and (lowered in QUESTION_WORDS or word in UBIQUITOUS):
                close()
                continue
            if named and re.fullmatch(r"[A-Z][A-Z&]+s?", word):  # an acronym is a name of its own
                close()
                run.append(word)
                close()
            elif named:
                run.append(word)
                if possessive:  # "Lord Darzi's September report": the name ends
                    close()
            else:
                close()
            first = False
    close()
    return list(dict.fromkeys(found))


_SMALL = frozenset("and of for & in on the to a with".split())


def _phrase_held(phrase: str, passage_text: str) -> bool:
    """The words of ``phrase`` side by side in the passage, in any case, spaced or hyphenated
    ("Barrow in Furness": "Barrow-in-Furness"), "and" or "&", the last perhaps plural; a footnote
    mark after it does not matter."""
    if " " not in phrase.strip() and re.search(rf"(?<![a-z0-9]){re.escape(phrase.lower())}(?![a-z0-9])", passage_text):
        return True  # as written: "A&E"
    words = [r"(?:and|&)" if w == "and" else re.escape(w) for w in re.findall(r"[^\W_]+|&", phrase.lower())]
    words = [r"(?:and|&)" if w == re.escape("&") else w for w in words]
    pattern = r"(?<![a-z0-9])" + r"[\s'’-]+".join(words) + r"s?(?![a-z0-9])"  # "County Council": "county councils"
    return bool(words) and re.search(pattern, passage_text) is not None


def _spelled(acronym: str, passage_text: str) -> bool:
    """Some words of the passage have the acronym's letters as their initials ("CYP": "children
    and young people"; small words skipped); not for two letters, which too many words spell."""
    letters = acronym.lower()
    words = [w for w in re.findall(r"[a-z][a-z'’]*", passage_text) if w not in _SMALL]
    initials = "".join(w[0] for w in words)
    return len(letters) > 2 and letters in initials and any(
        initials[i:i + len(letters)] == letters for i in range(len(initials) - len(letters) + 1))


def _name_held(name: str, passage_text: str, glossary, defined: dict[str, str]) -> bool:
    """The name in the passage as a phrase (or each of its parts joined by "and", "of"…); an
    acronym also as what the sentence or the glossary says it stands for, its singular ("AHPs"),
    or spelled out by the passage's words."""
    if _phrase_held(name, passage_text) or (defined.get(name) and _phrase_held(defined[name], passage_text)):
        return True
    parts = [p for p in re.split(r"\s+(?:and|of|for|&|in|on)\s+", name) if p]
    if len(parts) > 1 and all(_phrase_held(p, passage_text) for p in parts):
        return True
    if not re.fullmatch(r"[A-Z][A-Za-z&]*[A-Z]s?|[A-Z]{2,}", name):
        # written out where the passage has the acronym: "Same Day Emergency Care" for "SDEC"
        initials = "".join(w[0] for w in re.findall(r"[A-Za-z][\w'’]*", name) if w.lower() not in _SMALL)
        other = glossary.other_form(name) if glossary is not None else ""
        return (len(initials) > 2 and _phrase_held(initials, passage_text)) or bool(other and _phrase_held(other, passage_text))
    singular = name[:-1] if re.fullmatch(r"[A-Z]{2,}s", name) else name
    meanings = [defined.get(name), defined.get(singular)]
    if glossary is not None:
        meanings += [glossary.other_form(name), glossary.other_form(singular)]
    if any(m and _phrase_held(m, passage_text) for m in meanings):
        return True
    return _phrase_held(singular, passage_text) or _spelled(re.sub(r"[^A-Za-z]", "", singular), passage_text)


def held(specific: Specific, passage_specifics: list[Specific], passage_text: str, glossary,
          defined: dict[str, str] | None = None) -> bool:
    """``specific`` is in the passage (``defined``: acronyms the sentence itself spells out)."""
    if specific.kind == "name":
        return _name_held(specific.written, passage_text, glossary, defined or {})
    if specific.kind == "year":
        held = {year for s in passage_specifics if s.kind == "year" for year in s.value}
        return specific.value[0] in held if len(specific.value) == 1 else set(specific.value) <= held
    if specific.kind == "count":
        # a small count ("3 new hubs"): the number, as a digit or a word, within a few words of one of the words
        # it counts, either side ("three hubs will open", "| Acute trusts | 4 |"), not a "three" anywhere
        number = int(specific.value)
        said = "|".join([str(number)] + [w for w, n in _NUMBER_WORDS.items() if n == number])
        counted = "|".join(re.escape(w[:max(3, len(w) - 2)]) for w in specific.written.lower().split()[1:] if len(w) > 2)
        if not counted:
            return True
        near = r"(?:[^\w\n.!?]+[\w'’-]+){0,3}?[^\w\n.!?]+"  # within a sentence
        return re.search(rf"(?<![\w.])(?:{said})(?!\w|\.\d){near}(?:{counted})|(?:{counted})[\w'’-]*{near}(?:{said})(?!\w|\.\d)",
                         passage_text) is not None
    if specific.kind == "number":
        value = specific.value
        if value.is_integer() and int(value) in _NUMBER_WORDS.values():
            words = [w for w, n in _NUMBER_WORDS.items() if n == int(value)]
            if any(re.search(rf"\b{w}\b", passage_text) for w in words):
                return True
        # a plain figure may stand in the passage as a sum, a share or a year ("350" in "£350m")
        return any(
            value == s.value or (s.kind == "money" and value in _scaled(s.written))
            or (s.kind == "year" and value in s.value) or (s.kind == "percent" and value == s.value)
            for s in passage_specifics if s.kind != "name"
        )
    return any(s.kind == specific.kind and s.value == specific.value for s in passage_specifics)


def _scaled(written: str) -> set[float]:
    """The figures a sum of money is written with: "£350m" gives 350 (and 350,000,000)."""
    match = _MONEY.search(written)
    return {_amount(match.group(1))} if match else set()


_FIGURE_WORDS = frozenset("billion million thousand bn per cent percent".split())


# a bracketed short form right after a run of capitalised words: "… NHS Foundation Trust (LSCft)"
_BRACKETED = re.compile(r"((?:[A-Z][\w'’-]*(?:\s+(?:and|of|for|the|&))?\s+)*[A-Z][\w'’-]*)\s*\(([A-Za-z&]{2,10})\)")


def defined_in(sentence: str) -> dict[str, str]:
    """The short forms a sentence defines itself: "words (ABBR)" whose initials spell it (see
    :func:`assistant.abbreviations.mine`), any "Capitalised Words (Abbr)", and an acronym whose
    letters begin the words of a name it also writes out ("Artificial Intelligence … AI")."""
    found = mine(sentence)
    for match in _BRACKETED.finditer(sentence):
        found.setdefault(match.group(2), match.group(1).strip())
    spelled = {}
    for run in re.finditer(r"[A-Z][a-z]+(?:\s+(?:and\s+|of\s+|for\s+|&\s+)?[A-Z][a-z]+)+", sentence):
        words = [w for w in run.group().split() if w.lower() not in _SMALL and w != "&"]
        spelled.setdefault("".join(w[0] for w in words), run.group())
    for acronym in set(re.findall(r"\b[A-Z]{2,6}\b", sentence)):
        if acronym not in found and acronym in spelled:
            found[acronym] = spelled[acronym]
    return found


def _content_words(sentence: str) -> set[str]:
    return {t for t in terms(SCORED_CITATION.sub(" ", sentence)) if not re.search(r"\d", t) and t not in _FIGURE_WORDS}


def _word_share(sentence: str, passage_text: str) -> float:
    """The share of the sentence's words (stemmed, less stopwords, citations and figures, which
    are checked as values) in the passages."""
    asked = _content_words(sentence)
    if len(asked) < MIN_WORDS:
        return 1.0  # "Yes.", "Broadly, yes.": too few words to judge by them
    return len(asked & set(terms(passage_text))) / len(asked)


def context(source: Source) -> str:
    """What a sentence citing ``source`` may draw on: its document's title and date ("2025-05":
    "May 2025", so "the May 2025 board paper" is held), its headings and its text."""
    date = source.date or ""
    match = re.match(r"((?:19|20)\d{2})(?:-(\d{2}))?", date)
    when = ""
    if match:
        month = int(match.group(2) or 0)
        when = f"{MONTH_NAMES[month - 1]} {match.group(1)}" if 1 <= month <= 12 else match.group(1)
    return f"{source.title}\n{when}\n{source.section}\n{source.text}"


@lru_cache(maxsize=512)
def _read(source: Source) -> tuple[str, tuple[Specific, ...]]:
    """A source as a sentence is checked against it, read once: its :func:`context` lowered, and the
    specifics in it."""
    passage = context(source)
    return passage.lower(), tuple(specifics(passage))


def check(text: str, sources: Sequence[Source], glossary=None, min_word_share: float = MIN_WORD_SHARE) -> list[SentenceSupport]:
    """Every sentence of ``text`` checked against the sources it cites (see the module docstring);
    ``glossary`` (:class:`assistant.abbreviations.Glossary`) lets "ICB" match "Integrated Care Board"."""
    by_number = {source.n: source for source in sources}
    checked: list[SentenceSupport] = []
    cache: dict[tuple[int, ...], tuple[str, list[Specific]]] = {}
    for sentence, cited in sentences(text):
        known = tuple(n for n in cited if n in by_number)
        if not known:
            checked.append(SentenceSupport(sentence, cited, "uncited", "It cites no passage, so it could not be checked."))
            continue
        if known not in cache:
            passage = "\n".join(context(by_number[n]) for n in known)
            cache[known] = (passage.lower(), specifics(passage))
        checked.append(SentenceSupport(sentence, cited, *_verdict(sentence, known, *cache[known], glossary, min_word_share)))
    return checked


def _verdict(sentence: str, known: tuple[int, ...], passage_text: str, passage_specifics: list[Specific], glossary,
             min_word_share: float) -> tuple[Support, str]:
    """Whether the passages numbered ``known`` (their text lowered, and its specifics) back the sentence, and why not."""
    where = " or ".join(f"[{n}]" for n in known)
    defined = defined_in(sentence)  # "East Lancashire Hospitals Trust (ELHT)": ELHT is what it stands for
    missing = [s for s in specifics(sentence) if not held(s, passage_specifics, passage_text, glossary, defined)]
    if missing:
        what = ", ".join(dict.fromkeys(s.written for s in missing))
        return "unsupported", f"{what} {'is' if len(missing) == 1 else 'are'} not in {where}."
    if _word_share(sentence, passage_text) < min_word_share:
        return "unsupported", f"Few of its words are in {where}."
    return "supported", ""


def holds_all(sentence: str, source: Source, glossary=None) -> bool:
    """``source`` (its title, date, headings and text) holds every figure, year and name of the
    sentence and every word it says (stemmed, stopwords aside)."""
    lowered, passage_specifics = _read(source)
    defined = defined_in(sentence)
    return (all(held(s, passage_specifics, lowered, glossary, defined) for s in specifics(sentence))
            and _content_words(sentence) <= set(terms(lowered)))


def attribution(sentence: str, sources: Sequence[Source], glossary=None, min_word_share: float = MIN_ATTRIBUTION_SHARE) -> int | None:
    """The number of the source that backs an uncited ``sentence`` best: every figure, year and
    name in it held, and the largest share of its words (at least ``min_word_share``; the first
    source on a tie); None when no source does."""
    if len(_content_words(sentence)) < MIN_WORDS:
        return None  # "It is also green.": too few words to tell which passage holds it
    found = specifics(sentence)
    defined = defined_in(sentence)
    # its first word, when a name may stand there ("Blackpool will open …"), which names() cannot tell
    first = _WORD.search(SCORED_CITATION.sub(" ", sentence))
    lead = set(terms(first.group())) if first and first.group()[:1].isupper() and first.group().lower() not in STOPWORDS else set()
    best, best_share = None, min_word_share
    for source in sources:
        lowered, passage_specifics = _read(source)
        if not all(held(s, passage_specifics, lowered, glossary, defined) for s in found):
            continue
        if lead and not lead <= set(terms(lowered)):
            continue
        share = _word_share(sentence, lowered)
        if share > best_share or (best is None and share >= best_share):
            best, best_share = source.n, share
    return best


def attribute(text: str, sources: Sequence[Source], glossary=None, min_word_share: float = MIN_ATTRIBUTION_SHARE) -> tuple[str, int]:
    """``text`` with a citation added after each sentence that cites nothing (nor takes the next
    citation in its line) where one source backs it (:func:`attribution`; a short list item, "-
    Vascular", by :func:`_item_source`), and how many were added: a model that copies sentences
    from the passages often leaves them uncited."""
    placed = located(text)
    additions = []
    for i, (end, sentence, cited) in enumerate(placed):
        if cited:
            continue
        number = attribution(sentence, sources, glossary, min_word_share)
        if number is None and len(_content_words(sentence)) < MIN_WORDS and LIST_MARK.match(text[text.rfind("\n", 0, end) + 1:end]):
            # its neighbours' citations, the one before first, in its own block (no blank line nor heading between)
            before = [c for e, _, c in reversed(placed[:i]) if c and not _BLOCK_BREAK.search(text[e:end])][:1]
            after = [c for e, _, c in placed[i + 1:] if c and not _BLOCK_BREAK.search(text[end:e])][:1]
            number = _item_source(sentence, sources, [n for c in before + after for n in c], glossary)
        if number is not None:
            additions.append((end, f" [{number}]"))
    for end, citation in reversed(additions):
        text = text[:end] + citation + text[end:]
    return text, len(additions)


_BLOCK_BREAK = re.compile(r"\n\s*\n|\n\s*(?:#|\*\*)")  # a blank line, or a heading or bold line, between
_EMPTY_ITEMS = frozenset("yes no other others none etc tbc".split())  # an item of these says nothing to cite


def _item_source(item: str, sources: Sequence[Source], near: list[int], glossary=None) -> int | None:
    """The source of a short uncited list item ("- Vascular", "- Blackpool"): of the sources
    holding its words side by side (and its figures and names), the one its neighbours in the list
    cite, or the only one; None when none holds it, or several do and no neighbour cites one of
    them, or it has no word to look for ("- Yes")."""
    words = LIST_MARK.sub("", SCORED_CITATION.sub(" ", item)).strip(" .;:,")
    if not _content_words(words) - _EMPTY_ITEMS:
        return None
    found = specifics(words)
    holding = [source.n for source in sources for lowered, passage_specifics in [_read(source)]
               if _phrase_held(words, lowered) and all(held(s, passage_specifics, lowered, glossary, {}) for s in found)]
    chosen = next((n for n in near if n in holding), None)
    return chosen if chosen is not None else holding[0] if len(holding) == 1 else None


def recite(text: str, sources: Sequence[Source], glossary=None, min_word_share: float = MIN_ATTRIBUTION_SHARE) -> tuple[str, int]:
    """``text`` with each sentence that the passages it cites do not back (:func:`check`) cited
    instead to the source that does (:func:`attribution`), and holds more of its words, and how
    many were: a model often cites the passage next to the one it took a sentence from. A
    sentence's own citations are replaced where the last of them stood (a sentence before it in its
    line that had none of its own, and was checked against them, keeps them as its own); one
    checked against the next sentence's citation gets its own."""
    by_number = {source.n: source for source in sources}
    edits: list[tuple[int, int, str]] = []  # (start, end, what replaces text[start:end])
    borrowers: list[tuple[int, tuple[int, ...], bool]] = []  # sentences with no citation of their own: (end, cited, re-cited)
    moved = 0
    for begins, end, sentence, cited, own in stretches(text):
        borrowers = [b for b in borrowers if b[1] == cited and "\n" not in text[b[0]:begins]]  # its lender's, in its line
        known = tuple(n for n in cited if n in by_number)
        number = None
        if known:  # one citing nothing it read is attribute()'s to cite
            passage = "\n".join(context(by_number[n]) for n in known)
            if _verdict(sentence, known, passage.lower(), specifics(passage), glossary, MIN_WORD_SHARE)[0] != "supported":
                number = attribution(sentence, sources, glossary, min_word_share)
                if number in known or (number is not None and _word_share(sentence, _read(by_number[number])[0])
                                       <= _word_share(sentence, passage.lower())):
                    number = None
        moved += number is not None
        if not own:
            if number is not None:
                edits.append((end, end, f" [{number}]"))
            if cited:  # checked against the next sentence's citations
                borrowers.append((end, cited, number is not None))
            continue
        if number is not None:
            stretch = text[begins:end]
            last = list(CITATION.finditer(stretch))[-1]
            kept = stretch[:last.start()] + f"[{number}]" + stretch[last.end():]
            earlier = CITATION.sub("", kept[:last.start()])  # the others go, with the space before each
            earlier = re.sub(r"[ \t]+([.,;:])", r"\1", re.sub(r"[ \t]{2,}", " ", earlier))
            edits.append((begins, end, earlier + kept[last.start():]))
            old = "".join(f"[{n}]" for n in cited)
            edits.extend((at, at, f" {old}") for at, _, recited in borrowers if not recited)
        borrowers = []
    edits.sort(key=lambda edit: edit[0])
    for start, end, replacement in reversed(edits):
        text = text[:start] + replacement + text[end:]
    return text, moved


# a small count is marked on its sentence, not held against the whole answer: "3 new hubs" may be said
# "three hubs will open" (review, stop 30)
FIGURES = frozenset({"money", "percent", "number", "year"})


def unsourced_figures(text: str, sources: Sequence[Source], asked: str = "") -> list[str]:
    """The sums, percentages, figures and years ``text`` writes that none of ``sources`` holds
    (each whole: title, date, headings and text), nor ``asked`` (the question, which an answer may
    repeat): whatever the answer cites, nothing it read gave them."""
    read = "\n".join([*(context(source) for source in sources), asked])
    lowered, read_specifics = read.lower(), specifics(read)
    missing = [s.written for s in specifics(text) if s.kind in FIGURES and not held(s, read_specifics, lowered, None)]
    return sorted(dict.fromkeys(missing), key=text.find)  # as written


# a year as part of a name: "the 2019 plan", "the 2025/26 intentions", "the 2030 Roadmap", "LSC 2030"
_NAMES_AFTER = re.compile(r"^(?:['’]s)?\s+(?:[\w&-]+\s+)?(?:roadmap|plan|strategy|report|paper|intentions|vision|document|programme)s?\b", re.I)
_NAMES_BEFORE = re.compile(r"\bLSC\s?$", re.I)


def _in_a_name(sentence: str, written: str) -> bool:
    """``written`` (a year) stands in ``sentence`` as part of a document's or programme's name."""
    at = sentence.find(written)
    while at >= 0:
        if _NAMES_BEFORE.search(sentence[:at]) or _NAMES_AFTER.match(sentence[at + len(written):]):
            return True
        at = sentence.find(written, at + 1)
    return False


def _weighed(specific: Specific) -> bool:
    """A figure :func:`unbacked_figures` weighs: a sum, a share, a year, or a number written as a
    quantity (grouped, "120,000"; with decimals or a scale, "1.9 million"; or 1,000 and over). A bare
    number under 1,000 is as often part of a name ("NHS 111", "Covid-19", "the 10 Year Health Plan")."""
    if specific.kind in ("money", "percent", "year"):
        return True
    return specific.kind == "number" and (specific.value >= 1000 or not re.fullmatch(r"\d+", specific.written))


def unbacked_figures(text: str, checked: Sequence[SentenceSupport], cited: Sequence[Source], asked: str = "") -> list[str]:
    """The sums, percentages, figures and years of the sentences of ``text`` that :func:`check`
    marked unsupported (``checked``) and that the passages each cites itself (``cited``, by number:
    title, date, headings and text) do not hold, nor ``asked`` (the question, which an answer may
    repeat), nor a sentence of the answer its passages support (it said the figure, backed, first).
    Not counted: a year that is part of a name ("the 2019 plan", "LSC 2030"), a bare number under
    1,000 (see :func:`_weighed`), and a sentence checked against the next one's citations, having
    none of its own: it is marked as it is, like one citing nothing. These are figures put beside a
    claim no passage makes: on dev the bundled model answered "When will the new Royal Lancaster
    Infirmary open?" with "in 2038 [1]", a year a passage gives for hospital budgets. A sentence
    :func:`recite` could not move to a passage that holds it is one no passage read backs."""
    by_number = {source.n: source for source in cited}
    backed = "\n".join(sentence.text for sentence in checked if sentence.support == "supported")
    backed_lowered, backed_specifics = backed.lower(), specifics(backed)
    own = [mine for *_, mine in stretches(text)]
    found: list[str] = []
    for sentence, its_own in zip(checked, own):
        sources = [by_number[n] for n in sentence.citations if n in by_number]
        if sentence.support != "unsupported" or not its_own or not sources:
            continue
        passage = "\n".join([*(context(source) for source in sources), asked])
        lowered, passage_specifics = passage.lower(), specifics(passage)
        found += [s.written for s in specifics(sentence.text)
                  if _weighed(s) and not held(s, passage_specifics, lowered, None)
                  and not held(s, backed_specifics, backed_lowered, None)
                  and not (s.kind == "year" and _in_a_name(sentence.text, s.written))]
    return list(dict.fromkeys(found))


def supported(checked: Sequence[SentenceSupport]) -> bool:
    """An answer is supported when it has a sentence and every sentence is supported."""
    return bool(checked) and all(s.support == "supported" for s in checked)
