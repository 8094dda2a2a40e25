"""Do the documents answer this question? Signals of a question against its search, and the
fitted logistic model that turns them into P(answerable) and a decision band.

    found = signals(query, passages, sources, catalog)       # {"coverage": 0.62, ...}
    model = load_model()                                      # assistant/answerability.json
    p = model.probability(found)
    band = model.band(p)                                      # answerable | uncertain | refused

The model's feature names, scaling, coefficients, intercept and thresholds, and the dev figures
they were chosen on, live in ``assistant/answerability.json``, written by
``python -m eval.fit_answerability`` (run it again after any change to retrieval or the signals).
Bands: P >= ``answer`` is answerable; P < ``refuse`` is refused before any answer is written; in
between is uncertain. An LLM answerer decides the uncertain band itself (its prompt's
NOT_IN_DOCUMENTS rule); the extractive answerer, which cannot, refuses below ``extractive``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from assistant import extractive
from assistant.abbreviations import Glossary, with_full_years
from assistant.answers import Source
from index.catalog import Catalog
from assistant.retrieval import RARE_MIN_CHUNKS
from index.keyword import BM25_K1, _idf, query_terms
from index.text import MONTH_NAMES, QUESTION_WORDS, STOPWORDS, WORD, cited_stretches, sentence_spans, terms

MODEL_FILE = "answerability.json"
BANDS = ("answerable", "uncertain", "refused")
TOP = 3  # the best passages the dense and keyword signals look at
# what a question asks for, and what its answer must then hold
_ASKS_QUANTITY = re.compile(
    r"\bhow (?:much|many|long|big|often)\b|\bwhat (?:percentage|proportion|share|number|amount)\b"
    r"|\b(?:cost|costs|budget|salary|price|fee|fees|charge|charges|spend|spent)\b", re.I,
)
# a sum of money: "how much … cost", "what budget": its answer must hold one ("£4.2m", "5 million pounds")
_ASKS_MONEY = re.compile(
    r"\b(?:cost|costs|costing|budget|salary|price|fee|fees|spend|spending|spent|pay|paid|funding|worth|allocation)\b"
    r"|\bhow much (?:money|funding|investment)\b|£", re.I,
)
# a count or a share asks for a figure even about money: "what percentage of the budget", "how many staff are paid"
_ASKS_COUNT = re.compile(r"\bhow many\b|\bwhat (?:percentage|proportion|share|number|fraction)\b|\bper ?cent\b|%", re.I)
_MONEY = re.compile(r"£\s?\d|\b\d[\d,.]*\s?(?:m|bn|k|million|billion|thousand)?\s?(?:pounds?|gbp)\b"
                    r"|\b\d[\d,.]*\s?(?:m|bn|million|billion)\b"
                    # a sum written in words: "one pound", "two million pounds", "half a billion"
                    r"|\b(?:a|one|two|three|four|five|six|seven|eight|nine|ten|twenty|fifty|hundred|thousand|million"
                    r"|billion)\s+(?:(?:hundred|thousand|million|billion)\s+)?(?:pounds?|million|billion)\b", re.I)
_ASKS_DATE = re.compile(r"^\s*when\b|\bwhat (?:year|date|month)\b|\btarget date\b|\bby when\b", re.I)
# a figure as it stands now ("right now", "so far", "the current wait"): a dated document cannot know it
_LIVE = re.compile(r"\b(?:right now|currently|current|so far|at the moment|to date|this (?:week|month|year)|nowadays)\b", re.I)
_YEARS = re.compile(r"\b((?:20)?(\d{2})[/-](\d{2})|(?:19|20)\d{2})\b")
# a year naming a document ("the 2019 plan", "the 2030 roadmap", "the 2024 report")
_DOCUMENT_YEAR = re.compile(
    r"\b(?:19|20)\d{2}(?:[/-]\d{2})?\s+(?:roadmap|plan|strategy|report|paper|board paper|document|commissioning intentions)s?\b",
    re.I,
)
_NAMED_YEAR = re.compile(r"\b(?:LSC|ICS|NHS)\s?20\d{2}\b", re.I)  # a programme named by a year: "LSC 2030"
_SHORT_RANGE = re.compile(r"(?<![\d/])\d{2}\s?[/–-]\s?\d{2}(?![\d/])")  # short ones left after with_full_years: ages, pages
_YEAR_LIKE = re.compile(r"^(?:19|20)\d{2}(?:/\d{2,4})?$")
_QUANTITY = re.compile(r"£\s?\d|\d\s?%|\b\d[\d,.]*\s?(?:m|bn|k|million|billion|per ?cent)\b", re.I)
_DATE = re.compile(r"\b(?:19|20)\d{2}\b|\b(?:" + "|".join(MONTH_NAMES) + r")\b", re.I)

_NAME_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_MINOR = {"a", "an", "and", "of", "the", "in", "on", "for", "to", "at", "by", "or", "with", "from"}  # lowercase in a title
TITLE_CASE_MIN_WORDS = 3  # a question with this many words after its first, none lowercase but small words: title case

# what no strategy document answers, whatever it says: advice for the asker's own care, and an
# opinion or a prediction (the documents give plans and figures, not judgements of them)
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|im|i've|ive|i'd|my|me|myself)\b", re.I)
# "me" in a request for information, not about the asker: "tell me about…", "show me what the documents say"
# (not "tell me which painkillers to take", "help me get a GP appointment")
_ASKING_ME = re.compile(r"\b(?:tell|show|remind)\s+me\s+(?=about\b|more\b|what (?:the|do|does|did|is|are)\b)", re.I)
_PERSONAL_CARE = re.compile(
    r"\b(?:should|can|could|do|shall|must|may)\s+(?:i|my \w+)\b|\b(?:how|where|what) (?:do|can|should) i\b"
    r"|\b(?:pain|painkillers?|symptoms?|medication|medicines?|tablets?|prescri\w*|diagnos\w*|assessment|referr\w*"
    r"|appointment|waiting|apply|go private|a&e|gp)\b|\bis it (?:ok|okay|safe|alright|all right) (?:for (?:me|him|her|them|my \w+) )?to (?:give|take|have|use|mix|eat|drink|stop|start|skip|miss)\b"
    # the care of someone in the asker's family: "my gran is in a care home, will the falls service come?"
    r"|\bmy (?:mum|mom|mother|dad|father|gran|granny|nan|nana|grandma|grandad|grandpa|grandmother|grandfather"
    r"|son|daughter|child|children|kids?|baby|toddler|teenager|boy|girl|wife|husband|partner|brother|sister|aunt|uncle"
    r"|\d+[ -]?(?:yrs?|years?|months?)[ -]?old)\b"
    r"(?!['’]s\b|\s+(?:organisations?|agencies|services|teams?|boards?|colleagues))", re.I,
)
_OPINION = re.compile(
    r"\b(?:do you think|in your (?:view|opinion)|your (?:view|opinion)|right (?:call|decision|choice|thing)"
    r"|good (?:job|idea|thing)|bad (?:idea|decision|job)|worth it|is it likely|how likely|going to (?:work|succeed)"
    r"|will\b.{0,60}\bsucceed|what are the chances|how (?:confident|sure)|do you (?:believe|reckon|expect)|can (?:we|i|you) be sure|which\b.{0,40}\bis better|better plan)\b",
    re.I,
)
# doubt about what will come of something: "will the hubs actually open?", "is it really going to happen?",
# "when will it actually open?", read within each question of a follow-up's rewrite ("…was it? Did it actually
# work?" doubts nothing), less a question of fact ("what actually happened?", "what is really planned?"). Only
# "will" or "would" doubts wherever it stands; "is", "was"... doubt as a yes/no question opening its clause, not
# after a question word ("when was the ICB actually set up?", "what are they actually doing about it?": three
# answerable questions of a held-out set refused so; no dev, test or extra question's reading changed)
_DOUBT = re.compile(
    r"(?:(?:^|[,;:(\"“‘–—-]\s*|\s'|\b(?:and|but|so|or|then)\s+)(?:is|are|was|were)|\b(?:will|would))\b.{0,60}\b(?:actually|really)\b",
    re.I,
)
_SENTENCE_BREAK = re.compile(r"[?!]+|\.(?=\s|$)")  # "The hospital was promised. Is it really going ahead?": each alone
_FACT_ASKED = re.compile(r"\b(?:what|when|where|who|how|which)(?:\s+(?:is|are|was|were|did|does|do|has|have))?\s+(?:actually|really)\b", re.I)
BEYOND = {  # why a question is beyond any document, as the refusal says it
    "personal_advice": "I can't give advice about your own or someone else's care: the documents are the ICB's "
    "plans, not medical advice. For advice, contact your GP practice or NHS 111 (call 111 or go to 111.nhs.uk); "
    "in an emergency call 999.",
    "opinion": "The documents set out the ICB's plans and figures; they don't give opinions or predictions, so I "
    "can't answer that. I can tell you what the plans say.",
}

# every signal, shown with each decision; the model file names those it weighs
SIGNALS = (
    "coverage", "dense_top", "dense_mean", "keyword_top", "specific_found", "specific_together", "years_found",
    "unknown_share", "answer_type", "agreement", "fused_top", "fused_gap", "pairs_found", "live_figure",
    "names_found", "personal_advice", "opinion",
)
FOCUS_SHARE = 0.1  # a question word in at most this share of the chunks says what the question is about


def beyond_documents(question: str) -> str:
    """The reason (a key of BEYOND) why no strategy document answers the question, or "":
    it asks for advice about the asker's own care, or for an opinion or a prediction."""
    asker = _ASKING_ME.sub(" ", question)  # "tell me about the GP estates plans" asks nothing about the asker's care
    if _FIRST_PERSON.search(asker) and _PERSONAL_CARE.search(asker):
        return "personal_advice"
    if _OPINION.search(question) or any(_DOUBT.search(_FACT_ASKED.sub(" ", part).strip(" '\"‘“(")) for part in _SENTENCE_BREAK.split(question)):
        return "opinion"
    return ""


def names(question: str) -> list[str]:
    """The proper names of two or more words a question uses ("Furness General Hospital", "Wes
    Streeting", "St Mary's Hospital"): runs of capitalised words, not counting the first word of a
    sentence; an acronym ("ELHT") or a small word ("and", "of") ends a run, and a possessive ends
    its last word ("Terry Whalley's job": "Terry Whalley"). None in a question typed in title case."""
    words, starts, ends = [], [], 0
    for match in _NAME_WORD.finditer(question):
        between = question[ends:match.start()].rstrip()  # what stands since the word before
        if words and between:
            words.append("")  # a figure, a comma or a sign between ("the Government's 10 Year Plan"): the run ends
            starts.append(False)
        words.append(match.group())
        starts.append(between[-1:] in (".", "?", "!", ":", ";") if between else not words[:-1])
        ends = match.end()
    lower = [w for w, start in zip(words, starts) if not start and w[:1].islower() and w.lower() not in _MINOR]
    if not lower and sum(not start for start in starts) >= TITLE_CASE_MIN_WORDS:
        return []  # "What Is The Budget For Urgent Care?": typed in title case, no word tells a name
    found, run = [], []
    for word, start in zip(words + [""], starts + [True]):
        if word[:1].isupper() and not start and word.lower() not in STOPWORDS and not (len(word) > 1 and word.isupper()):
            run.append(word)
            continue
        if len(run) >= 2:
            found.append(" ".join(run[:-1] + [re.sub(r"['’]s$", "", run[-1])]))
        run = []
    return found


_NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
# one of a numbered kind of thing ("Category 1", "cat 2", "phase two", "tier 3", "wave 1")
_NUMBERED = re.compile(
    r"\b(?:(category|cat|phase|tier|wave|stage|band)\.?[\s-]*(\d{1,2})"
    # a number written as a word only after a kind that takes one ("phase two", "Tier Three"), not in
    # running English ("at this stage one question", "a band one can join")
    r"|(category|phase|tier|wave)[\s-]+(" + "|".join(_NUMBER_WORDS) + r"))\b", re.I)


def numbered(question: str) -> list[tuple[str, list[str]]]:
    """The numbered things a question names ("Category 1", "phase two"), each as asked and with
    the phrases that would show it in a chunk ("category 1", "cat 1", "category one", "first category")."""
    found = []
    for match in _NUMBERED.finditer(question):
        kind, number = (match.group(1) or match.group(3)).lower(), (match.group(2) or match.group(4)).lower()
        value = int(number) if number.isdigit() else _NUMBER_WORDS.index(number) + 1
        kinds = ("category", "cat") if kind in ("category", "cat") else (kind,)
        forms = [str(value)] + ([_NUMBER_WORDS[value - 1]] if 1 <= value <= 10 else [])
        phrases = [f'"{k} {f}"' for k in kinds for f in forms]
        phrases += [f'"{_ORDINALS[value - 1]} {k}"' for k in kinds if 1 <= value <= 10]
        found.append((match.group(0), phrases))
    return found


_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
# a month of a year ("March 2027", "Sept 2025"): the year in four digits, as a day ("March 27") is not one
_MONTH_YEAR = re.compile(
    r"\b(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?,?\s+((?:19|20)\d{2})(?![\d])", re.I)


def dates(question: str) -> list[tuple[str, list[str], str]]:
    """The months of a year a question names ("by March 2027"), each as asked, with the phrases
    that would show it in a chunk ("march 2027", "mar 2027", or its financial year "2026/27") and as a
    document's date begins ("2027-03")."""
    found = []
    for match in _MONTH_YEAR.finditer(question):
        if match.group(1) in ("may", "MAY"):
            continue  # "what may 2030 look like?": a verb
        month = next(m for m in _MONTHS if m.startswith(match.group(1).lower()[:3]))
        year, number = match.group(2), _MONTHS.index(month) + 1
        short = {"september": ["sept", "sep"]}.get(month, [month[:3]] if len(month) > 3 else [])
        # the financial year it falls in (April to March): a document covering that year may answer for the month
        start = int(year) if number >= 4 else int(year) - 1
        phrases = [f'"{written} {year}"' for written in [month, *short]] + [f'"{start}/{(start + 1) % 100:02d}"']
        found.append((match.group(0), phrases, f"{year}-{number:02d}"))
    return found


def missing_names(question: str, catalog: Catalog) -> list[str]:
    """The question's proper names (:func:`names`) that no chunk holds as a phrase: a hospital,
    person or programme no document names cannot be what they answer about. The phrase is made
    as the index makes its words ("St Mary's": "st mary s"). So too a numbered thing no document
    names ("Category 1" where they name only Category 2): a figure for another one does not
    answer it; and a month of a year that no document names, nor is dated in, nor covers by its
    financial year ("the cancer target for March 2031"): what they say for another date does not
    answer it."""
    return _missing(question, catalog)[0]


def _missing(question: str, catalog: Catalog) -> tuple[list[str], int]:
    """The names, numbered things and months of the question that no chunk holds, and how many it asks about."""
    named, counted, dated = names(question), numbered(question), dates(question)
    phrases = [phrase for _, said in counted for phrase in said] + [phrase for _, said, _ in dated for phrase in said]
    counts = catalog.term_counts(phrases) if phrases else {}
    dated_on = {record.date[:7] for record in catalog.documents() if record.date} if dated else set()
    missing = _not_held(named, catalog) + [
        said for said, phrases in counted if not any(counts.get(phrase) for phrase in phrases)] + [
        said for said, phrases, month in dated if month not in dated_on and not any(counts.get(phrase) for phrase in phrases)]
    return missing, len(named) + len(counted) + len(dated)


def _not_held(asked: list[str], catalog: Catalog) -> list[str]:
    phrases = {name: '"' + " ".join(re.findall(r"[^\W_]+", name.lower())) + '"' for name in asked}
    counts = catalog.term_counts(list(phrases.values())) if asked else {}
    return [name for name, phrase in phrases.items() if not counts[phrase]]


def names_found(question: str, catalog: Catalog) -> float:
    """The share of the question's proper names and numbered things that some chunk holds (1.0
    when it names none)."""
    missing, asked = _missing(question, catalog)
    return 1.0 - len(missing) / asked if asked else 1.0


def specific_terms(question: str, catalog: Catalog, glossary: Glossary | None = None) -> list[list[str]]:
    """The question's words that pick out a fact, each as the terms that would show it in a
    passage: figures, years, money and percentages, names (a capital inside the question), and
    words in few chunks of the index, as the retriever counts rare words. An abbreviation the
    glossary knows is also shown by its meaning ("LTC": "long term condition"), and a clipped word
    by the whole words it starts ("derm": "dermatology")."""
    words = WORD.findall(question)
    rare = max(RARE_MIN_CHUNKS, catalog.chunk_count() // 100)
    counts = catalog.term_counts(query_terms(question))
    specific: list[list[str]] = []
    for position, word in enumerate(words):
        lowered = word.lower()
        if lowered in QUESTION_WORDS or (len(word) == 1 and not word.isdigit()):
            continue
        count = counts.get('"' + lowered.replace('"', '""') + '"')
        named = position > 0 and word[:1].isupper()
        if any(ch.isdigit() for ch in word) or named or (count is not None and count <= rare):
            meaning = glossary.terms.get(word) or glossary.terms.get(word.rstrip("s")) if glossary else None
            whole = glossary.clipped(word) if glossary else []  # "derm": "dermatology"
            forms = [t for t in terms(word)] + ([" ".join(terms(meaning))] if meaning else [])
            forms += [" ".join(terms(form)) for form in whole]
            if forms and forms not in specific:
                specific.append(forms)
    return specific


def _shows(forms: list[str], held: set[str]) -> bool:
    """A specific word is in a text when one of its forms is (a form of several terms: all of them)."""
    return any(all(t in held for t in form.split()) for form in forms)


def years(text: str) -> set[str]:
    """The years and financial years a text names, as "2027" and "2026/27" ("26/27", "2026-27" alike)."""
    found = set()
    for whole, first, second in _YEARS.findall(text):
        if second:
            start = int(first[-2:])
            if int(second) == (start + 1) % 100:
                found.add(f"20{start:02d}/{int(second):02d}")
        else:
            found.add(whole)
    return found


def _year_held(year: str, held: set[str]) -> bool:
    """A year is held by the text when it names it, or a financial year it begins or ends."""
    if "/" in year:
        return year in held
    return year in held or any(h[:4] == year or f"{h[:2]}{h[5:]}" == year for h in held if "/" in h)


def _keyword_share(query: str, best: float, catalog: Catalog) -> float:
    """The best BM25 score as a share of the most the query's words could score (each word
    gives at most IDF x (k1 + 1))."""
    plan = catalog.keyword_plan(query)
    counts = catalog.term_counts(plan.rare + plan.rest)
    total = catalog.chunk_count()
    most = sum(_idf(total, counts[term]) * (BM25_K1 + 1) for term in plan.rare + plan.rest)
    return min(1.0, best / most) if most > 0 else 0.0


def asks_for_money(query: str) -> bool:
    """The question is about a sum of money ("how much will it cost", "what is the budget"), not a
    count or a share of one ("how many staff are paid", "what percentage of the budget")."""
    return bool(_ASKS_MONEY.search(query)) and not _ASKS_COUNT.search(query)


# ... and asks for the amount itself: "how much", "what is the budget / cost / price", "what will it
# cost" (not "who will pay for it", "how is it funded", "what funding is there")
_ASKS_AMOUNT = re.compile(
    r"\bhow (?:much|big|large)\b|\bwhat(?:'s|’s|s)?\b[^?]{0,60}\b(?:costs?|budgets?|prices?|fees?|salary|salaries|worth"
    r"|allocation|spend)\b|\bcost(?:s|ing)?\b[^?]{0,30}\?\s*$", re.I,
)
_ASKS_HOW_MUCH = re.compile(r"\bhow (?:much|many)\b|\bwhat (?:percentage|proportion|share|number|fraction)\b", re.I)
_NOT_AN_AMOUNT = re.compile(r"^\W*(?:who|whom|why|where|which)\b"
                            r"|\b(?:spent|spend|used|use|pay|paid|go|goes|going)\s+(?:on|for|towards)\W*$", re.I)  # what it buys


def asks_for_an_amount(query: str) -> bool:
    """The question asks how much something costs, or what a budget or price is: quotes without a
    sum of money beside what it asks about cannot answer it."""
    return asks_for_money(query) and bool(_ASKS_AMOUNT.search(query)) and not _NOT_AN_AMOUNT.search(query)


def _answer_type(query: str, answer_text: str, catalog: Catalog, sources: Sequence[Source] = ()) -> float:
    """1.0 when the answer can hold what the question asks for: for a cost or budget a sum of money,
    for "how much / how many" a figure,
    for "when" a date (in the sentence or in the headings of the passage it cites: a timeline's
    "2027/28" section), in a sentence that also names what the question is about (one of its words
    in at most FOCUS_SHARE of the chunks), so a figure about something else does not count;
    0.0 when not. A question that asks for neither: 1.0."""
    # asked how many or how much, a figure the question gives is not its answer ("how many of the 33
    # priority wards…"): blanked out first (not for "why is it £4.5bn in one and £5.4bn in the other?")
    # (a figure naming something is not given as an amount: "the 10 Year Plan", "NHS 111")
    figures = ({m.group().rstrip(".,/") for m in re.finditer(r"\d[\d,./]*", query)
                if not re.match(r"[\s-]*(?:[A-Z]|years?\b)", query[m.end():]) and not re.search(r"[A-Z]{2,}\s*$", query[:m.start()])}
               if _ASKS_HOW_MUCH.search(query) else set())
    given = [re.compile(rf"(?<![\d.,/]){re.escape(f)}(?![\d/]|[.,]\d)") for f in figures if not _YEAR_LIKE.match(f)]

    def without_given(text: str) -> str:
        for figure in given:
            text = figure.sub(" ", text)
        return text

    if asks_for_an_amount(query):
        def holds(text: str, headings: str) -> bool:
            return bool(_MONEY.search(without_given(text)))
    elif _ASKS_QUANTITY.search(query):
        def holds(text: str, headings: str) -> bool:
            text = without_given(text)
            numbers = [w for w in re.findall(r"\d[\d,./]*", text) if not _YEAR_LIKE.match(w)]
            return bool(_QUANTITY.search(text) or numbers)
    elif _ASKS_DATE.search(query):
        def holds(text: str, headings: str) -> bool:
            return bool(_DATE.search(text) or _DATE.search(headings))
    else:
        return 1.0
    # asked for a financial year's figure, a figure the sentence gives for another year does not answer it
    # ("the budget for 2027/28?": "our annual budget for 2025/26 is £5.4billion"); a calendar year the
    # financial year spans is its own ("78 per cent by March 2026" for 2025/26)
    asked_years = ({y for y in years(_DOCUMENT_YEAR.sub(" ", query)) if "/" in y}
                   if _ASKS_QUANTITY.search(query) or asks_for_money(query) else set())

    def for_another_year(sentence: str, headings: str) -> bool:
        if not asked_years:
            return False
        # a heading's year counts only where the heading is a period ("Cancer > 2027/28"), and a sentence's only
        # where it is a year: not a name ("LSC 2030", "the 2019 plan") nor a range of ages ("16-17 year olds")
        periods = [part for part in re.split(r"\s+>\s+|\n", headings) if extractive.is_period(part.strip())]
        written = _SHORT_RANGE.sub(" ", with_full_years(_NAMED_YEAR.sub(" ", _DOCUMENT_YEAR.sub(" ", sentence))))
        named = years(" ".join([written, *periods]))
        spanned = {part for y in asked_years for part in (y, y[:4], y[:2] + y[5:])}
        return bool(named) and not named & spanned

    counts = catalog.term_counts(query_terms(query))
    most = max(1, int(catalog.chunk_count() * FOCUS_SHARE))
    focus = {term.strip('"') for term, count in counts.items() if 0 < count <= most}
    focus = {t for word in focus for t in terms(word)}
    sections = {str(source.n): source.section for source in sources}
    for text, cited in cited_stretches(answer_text):  # each stretch with the citations after it ("… 2027/28. [2]")
        headings = "\n".join(sections.get(n, "") for n in cited)
        for start, end in sentence_spans(text) or [(0, len(text))]:
            sentence = text[start:end]
            if (holds(sentence, headings) and (not focus or focus & set(terms(sentence)))
                    and not for_another_year(sentence, headings)):
                return 1.0
    return 0.0


def _pairs(words: list[str]) -> set[tuple[str, str]]:
    return set(zip(words, words[1:]))


def _top_ids(passages: Sequence, score: str) -> set[str]:
    ranked = sorted((p for p in passages if getattr(p, score) is not None), key=lambda p: -getattr(p, score))
    return {p.id for p in ranked[:TOP]}


def signals(
    query: str, passages: Sequence, sources: list[Source], catalog: Catalog, glossary: Glossary | None = None,
    quoted: extractive.ExtractiveResult | None = None,
) -> dict[str, float | None]:
    """Every signal of ``query`` against its search: the ranked ``passages`` (with their fused,
    dense and keyword scores) and the numbered ``sources`` made of them (``quoted``: their extractive
    answer read line by line, ``unwrap=False``, when already made: the model was fitted on that). Each is a number, most 0..1, or None where there is nothing to measure."""
    beyond = beyond_documents(query)
    if not passages or not sources:
        # nothing retrieved: refused before the model is asked
        return ({name: 0.0 for name in SIGNALS} | {name: float(beyond == name) for name in BEYOND}
                | {"names_found": names_found(query, catalog)})
    found = quoted if quoted is not None else extractive.answer(query, sources, unwrap=False, shown=False)
    dates = {p.doc: p.date for p in passages}
    words = [terms(f"{s.title} {dates.get(s.doc, '')[:4]} {s.section} {s.text}") for s in sources]
    texts = [set(ws) for ws in words]
    asked_pairs = _pairs(terms(query))
    everywhere = set().union(*texts)
    specific = specific_terms(query, catalog, glossary)
    asked_years = years(_DOCUMENT_YEAR.sub(" ", query))  # "the 2030 roadmap" names a document, not a year asked about
    held_years = years(" ".join(f"{p.date[:4]} {p.section} {p.text}" for p in passages) + " ".join(s.text for s in sources))
    # a word no chunk holds is unknown, unless it is a clipped word the glossary reads ("derm")
    asked = [count or bool(glossary and glossary.clipped(term.strip('"')))
             for term, count in catalog.term_counts(query_terms(query)).items()]
    answer_type = _answer_type(query, found.text, catalog, sources)
    dense = sorted((p.dense_score for p in passages if p.dense_score is not None), reverse=True)[:TOP]
    keyword = max((p.keyword_score for p in passages if p.keyword_score is not None), default=0.0)
    fused = sorted((p.score for p in passages), reverse=True)  # the reranker may put a lower fused score first
    return {
        "coverage": found.best,
        # none of the passages among the dense search's best: no evidence either way (see Model.probability)
        "dense_top": dense[0] if dense else None,
        "dense_mean": sum(dense) / len(dense) if dense else None,
        "keyword_top": _keyword_share(query, keyword, catalog),
        "specific_found": sum(_shows(f, everywhere) for f in specific) / len(specific) if specific else 1.0,
        "specific_together": max(sum(_shows(f, ts) for f in specific) for ts in texts) / len(specific) if specific else 1.0,
        "years_found": sum(_year_held(y, held_years) for y in asked_years) / len(asked_years) if asked_years else 1.0,
        "unknown_share": sum(c == 0 for c in asked) / len(asked) if asked else 0.0,
        "answer_type": answer_type,
        "agreement": len(_top_ids(passages, "dense_score") & _top_ids(passages, "keyword_score")) / TOP,
        "fused_top": fused[0] * 61,  # 1.0: first in one ranking (RRF constant 60)
        "fused_gap": (fused[0] - fused[1]) / fused[0] if len(fused) > 1 and fused[0] > 0 else 0.0,
        # the question's neighbouring words side by side in the evidence ("weight management",
        # "walk-in centre"): a paraphrase keeps some, a question about something else few
        "live_figure": float(bool(_ASKS_QUANTITY.search(query) and _LIVE.search(query))),
        "names_found": names_found(query, catalog),
        "pairs_found": len(asked_pairs & set().union(*map(_pairs, words))) / len(asked_pairs) if asked_pairs else 1.0,
        **{name: float(beyond == name) for name in BEYOND},
    }


def out_of_scope(found: dict[str, float | None], off_topic: float) -> bool:
    """More than ``off_topic`` of the question's words are in no document, it names a year that
    none of the retrieved passages (nor their documents' dates) names, or a hospital, person or
    programme no document names, or it asks for personal medical advice, an opinion or a
    prediction: the documents cannot answer it. Rules, not weights: each is a clear case the
    weights would only blur (the fit reports what they catch on dev)."""
    return (found["unknown_share"] > off_topic or found["years_found"] < 1.0
            or found.get("names_found", 1.0) < 1.0 or any(found.get(name) for name in BEYOND))


@dataclass(frozen=True)
class Model:
    """A logistic model over standardised signals, and its decision thresholds."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coefficients: tuple[float, ...]
    intercept: float
    refuse: float  # P below this: refused before any answer is written
    answer: float  # P at or above this: answerable
    extractive: float  # the extractive answerer's one threshold inside the uncertain band
    off_topic: float  # more than this share of the question's words in no document: out of scope, P = 0

    def out_of_scope(self, found: dict[str, float | None]) -> bool:
        return out_of_scope(found, self.off_topic)

    def probability(self, found: dict[str, float | None]) -> float:
        if self.out_of_scope(found):
            return 0.0
        z = self.intercept + sum(  # a signal with nothing to measure (None) counts as its dev mean: no evidence
            c * (found[name] - m) / s for name, m, s, c in zip(self.features, self.mean, self.scale, self.coefficients)
            if found[name] is not None
        )
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    def band(self, probability: float) -> str:
        if probability >= self.answer:
            return "answerable"
        return "refused" if probability < self.refuse else "uncertain"


def parse_model(data: dict) -> Model:
    """The model from the file's JSON; ValueError names what is wrong."""
    try:
        names = tuple(data["features"])
        model = Model(
            names, tuple(map(float, data["mean"])), tuple(map(float, data["scale"])),
            tuple(map(float, data["coefficients"])), float(data["intercept"]),
            float(data["thresholds"]["refuse"]), float(data["thresholds"]["answer"]),
            float(data["thresholds"]["extractive"]), float(data["thresholds"]["off_topic"]),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{MODEL_FILE}: missing or malformed field {exc}") from exc
    unknown = [name for name in names if name not in SIGNALS]
    if unknown:
        raise ValueError(f"{MODEL_FILE}: unknown signals {unknown}; re-fit with `python -m eval.fit_answerability`")
    if not len(names) == len(model.mean) == len(model.scale) == len(model.coefficients) or not names:
        raise ValueError(f"{MODEL_FILE}: features, mean, scale and coefficients must have the same length")
    if any(s <= 0 for s in model.scale):
        raise ValueError(f"{MODEL_FILE}: every scale must be positive")
    if not 0 <= model.off_topic <= 1 or not 0 <= model.refuse <= model.extractive <= model.answer <= 1:
        raise ValueError(f"{MODEL_FILE}: thresholds must satisfy 0 <= refuse <= extractive <= answer <= 1 and 0 <= off_topic <= 1")
    return model


def model_text() -> str:
    return (resources.files("assistant") / MODEL_FILE).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def load_model() -> Model:
    """The committed model (read once per process)."""
    return parse_model(json.loads(model_text()))
