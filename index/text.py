"""The text rules the index, retrieval, answers, the source viewer and the metrics share: words,
stopwords, sentences, stems and citation marks.

They live in ``index/`` because the index uses them and imports nothing from ``assistant/``.
Where two parts need different rules (a word list for a keyword search is not one for marking
words in a passage), each rule is a named set or pattern here with the reason beside it: each
one decides an existing behaviour (search results, answers, scores), so they are kept as they
were rather than merged.
"""

from __future__ import annotations

import re

# -- words --------------------------------------------------------------------------------------

# A word of a question or passage: letters, digits, £ and %, joined by "/" or "." ("2026/27", "£3.5m").
WORD = re.compile(r"[\w£%]+(?:[/.][\w]+)*")
# A word of :func:`terms`: also a short form of letters joined by "&" ("A&E", "R&D", "L&SC"), one term and not
# single letters left out ("what about A&E?" asked nothing; dev: that follow-up's key facts 0 -> 1, no other
# answer changed); longer words so joined stay apart ("Health&Wellbeing" reads as "health", "wellbeing").
TERM_WORD = re.compile(rf"(?<![\w&])[^\W\d_]{{1,3}}&[^\W\d_]{{1,3}}(?![\w&])|{WORD.pattern}")
# A word of a keyword search: also $, and "'" or "-" inside a word ("people's", "co-produce"),
# which FTS5 then splits as it does in the documents.
SEARCH_WORD = re.compile(r"[\w£$%]+(?:[/.'’-][\w]+)*")
# A word to mark in a passage: also a thousands comma inside it ("35,000" marks as one word).
MARK_WORD = re.compile(r"[\w£$%]+(?:[/.,'’-][\w]+)*")

MONTH_NAMES = ("January February March April May June July August September October November December").split()

# Words too common to help a keyword search; BM25 would weigh them low anyway. Also the words
# the naive reference of the evaluation leaves out, and the start of QUESTION_WORDS.
STOPWORDS = frozenset(
    """a about all also an and any are as at be been but by can could did do does for from had has
    have how i if in into is it its me my no not of on or our over say says said should so than
    that the their them then there these they this those to under up us was we were what when
    where which while who whom why will with would you your tell please""".split()
)

# The words of a question that say nothing about what it asks in these documents (every one is
# about the ICB, Lancashire and South Cumbria, and asks what a document says or plans): left out
# of the words an extractive answer and a heading must match. A keyword search keeps them (BM25
# gives a word in most chunks little weight by itself).
QUESTION_WORDS = STOPWORDS | {
    "icb", "lsc", "l&sc", "lancashire", "south", "cumbria", "nhs", "document", "documents", "plan", "plans",
    "say", "says", "mention", "mentioned", "according", "ask", "know", "happen", "happening",
}

# Words not worth marking in a passage: the usual English function words (a longer list than a
# search's: marking "because" or "most" would only add noise, while a search ranks them low anyway).
MARK_STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be been being before below between both but by can
    could did do does doing down during each few for from further had has have having he her here hers him his how i if
    in into is it its itself just me more most my no nor not now of off on once only or other our ours out over own same
    she should so some such than that the their theirs them then there these they this those through to too under until
    up very was we were what when where which while who whom why will with would you your yours will shall may might must
    which per via""".split()
)

# Words of a document's title that do not pick the document out: nearly every title in this
# corpus holds some of them ("Lancashire and South Cumbria Integrated Care Board paper").
TITLE_STOPWORDS = frozenset(
    "a an and the of for in on to with by from at as is our nhs icb ics lsc lancashire south cumbria integrated "
    "care board system health paper report item agenda".split()
)


def stem(word: str) -> str:
    """A word without a plural-like ending ("priorities" → "priority", "plans" → "plan") or a
    possessive "'s"; words of four letters or fewer are kept whole. Crude: "es" goes whole, so
    "services" → "servic" and does not meet "service".

    Not FTS5's porter stemmer, which the keyword index uses ("priorities" → "prioriti", "caring"
    → "care"): matching a question's words against a passage with porter stems changes which
    sentences the extractive answerer picks, and its evaluation results with them."""
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    for suffix in ("ies", "es", "s"):
        if len(word) > 4 and word.endswith(suffix) and not word.endswith("ss"):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def terms(text: str) -> list[str]:
    """The stemmed words of ``text`` that say what it is about ("A&E" one of them): question words,
    and single letters other than digits, left out."""
    words = TERM_WORD.findall(text.lower())
    return [w if "&" in w else stem(w) for w in words if w not in QUESTION_WORDS and (len(w) > 1 or w.isdigit())]


def title_words(text: str) -> list[str]:
    """The words of a title (or a question naming one) that may pick a document out, in order."""
    return [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in TITLE_STOPWORDS]


# -- list lines ---------------------------------------------------------------------------------

# A line set out under a lead-in ("The four places are:" / "Lancashire" / "Split into three localities – east,
# north, and central" / …) is one of its items or says something of one when it has at most this many words:
# the chunker keeps such lines with their lead-in, and the quotes keep them in its list.
ITEM_LINE_WORDS = 25


def opens_alike(line: str, other: str) -> bool:
    """Both lines open with the same two words, whatever their case ("We will have healthy
    communities" / "We will have high quality and efficient services")."""
    first = line.lower().split()[:2]
    return len(first) == 2 and other.lower().split()[:2] == first


# -- sentences ----------------------------------------------------------------------------------

# A sentence of a document ends at ".", "!" or "?" (and any closing quotes or bracket) before a
# space and a capital, a digit or "£" (a lower-case word does not start one), unless the full
# stop ends a common abbreviation ("e.g.", "c. 5,000").
SENTENCE_END = re.compile(r"(?<=[.!?])[\"'’”)]*\s+(?=[\"'‘“(]?[A-Z0-9£])")
ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "c.", "approx.", "Prof.", "Dr.", "Mr.", "Mrs.", "Ms.", "St.", "No.", "vs.", "Cllr.")
# A sentence of an answer ends at ".", "!" or "?" (and any closing quotes or bracket) before any
# word: an answer is scored sentence by sentence, and a model may start one in lower case; not at
# the full stop of an abbreviation ("(e.g. one in ten", "Dr. Smith"), but "etc." and "No." may end one.
ANSWER_SENTENCE_END = re.compile(
    r"(?<=[.!?])" + "".join(rf"(?<!\b{re.escape(a)})" for a in ABBREVIATIONS if a not in ("etc.", "No.")) + r"[\"'’”)]*\s+(?=\S)"
)
_CITED_STRETCH = re.compile(r"([^\[\n]*(?:\[(?!\d)[^\[\n]*)*)((?:[ \t]*\[\d+\])*)")


def cited_stretches(text: str) -> list[tuple[str, list[str]]]:
    """Each stretch of an answer's lines with the citation numbers that follow it: "In 2027/28. [2]"
    gives ("In 2027/28. ", ["2"]); a citation after a sentence's full stop is that sentence's."""
    return [(words, CITATION.findall(cited)) for line in (text or "").splitlines()
            for words, cited in _CITED_STRETCH.findall(line) if words.strip() or cited]


_OPENING_QUOTE = re.compile(r"(?:^|(?<=[\s(]))['‘\"“](?=\w)")
_CLOSING_QUOTE = re.compile(r"(?<=[\w.!?,])['’\"”](?!\w)")
QUOTED_MAX = 60  # characters a quoted name runs at most: an opening quote not closed by then is no quotation


_CLOSES = {"'": "'’", "‘": "’'", '"': '"”', "“": '”"'}  # the quotes that close each opening one


def _quotations(text: str) -> list[tuple[int, int]]:
    """The short quotations of ``text`` ("the banner 'Your health. Your future. Your say.'"): from
    each opening quote to the first closing one of its kind within QUOTED_MAX characters (a double
    quote is not closed by a single one). A plural possessive ("the trusts' plans") closes a single
    quote still open: titles that end in a plural ("'Better services' in May") are far commoner
    than a stray opening quote."""
    found = []
    for opening in _OPENING_QUOTE.finditer(text):
        if found and opening.start() < found[-1][1]:
            continue
        kinds = _CLOSES[opening.group(0)[-1]]
        for closing in _CLOSING_QUOTE.finditer(text, opening.end(), opening.end() + QUOTED_MAX):
            if closing.group(0) in kinds:
                found.append((opening.start(), closing.start()))
                break
    return found


def answer_sentence_parts(line: str) -> list[str]:
    """A line of an answer cut at ANSWER_SENTENCE_END (the cut's quotes and spaces left out, as
    ``re.split`` leaves them), but not at a full stop inside a short quotation (a name such as
    'Your health. Your future. Your say.')."""
    quoted = _quotations(line)
    parts, last = [], 0
    for match in ANSWER_SENTENCE_END.finditer(line):
        if not any(a < match.start() < b for a, b in quoted):
            parts.append(line[last:match.start()])
            last = match.end()
    return parts + [line[last:]]


def sentence_spans(text: str, start: int = 0, end: int | None = None, quotes: bool = False) -> list[tuple[int, int]]:
    """Sentence spans within text[start:end]; a sentence may run across wrapped lines. With
    ``quotes``, a full stop inside a short quotation ends none ("'Your health. Your future. Your say.'
    Events took place…" is two sentences, not four)."""
    end = len(text) if end is None else end
    span = text[start:end]
    cuts = [0]
    quoted = _quotations(span) if quotes else []
    for match in SENTENCE_END.finditer(span):
        before = span[: match.start()].rstrip("\"'’”)")
        if before.endswith(ABBREVIATIONS):
            continue
        if quotes and any(a < match.start() < b for a, b in quoted):
            continue
        cuts.append(match.end())
    cuts.append(len(span))
    units = []
    for a, b in zip(cuts, cuts[1:]):
        piece = span[a:b]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            units.append((start + a + lead, start + a + len(piece.rstrip())))
    return units


# -- citations ----------------------------------------------------------------------------------

_NUMBERS = r"\d{1,3}(?:\s*(?:,|-|–|and)\s*\d{1,3})*"  # "1", "1, 2", "1-3", "1 and 2"
# A citation as an answer holds it once checked: one number in brackets, "[2]".
CITATION = re.compile(r"\[(\d+)\]")
# A citation as a model writes it: [1], [1, 2], [1-3], [Source 2], [passage 3] (the numbers grouped).
WRITTEN_CITATION = re.compile(rf"\[(?:(?:source|passage)\s*)?({_NUMBERS})\]", re.IGNORECASE)
# A citation the metrics count in an answer: numbers only, spaces allowed inside the brackets.
SCORED_CITATION = re.compile(rf"\[\s*{_NUMBERS}\s*\]")
# Citations at the start of a piece of an answer ("[2] The next..."): they belong to the sentence before.
LEADING_CITATIONS = re.compile(r"^((?:\[[^\]]*\d[^\]]*\]\s*)+)(.*)$", re.S)
