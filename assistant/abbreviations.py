"""NHS abbreviations, both ways: "CYP" finds "children and young people", and back.

Staff write "UEC", "LTC" or "CYP"; the public write the words; the documents use either.
Retrieval adds the other form to the question, and the whole word of a clipped one ("derm",
"gynae", "rehab") that no document uses. A misspelt word ("comissioning") is read as the
documents' word it was meant as (:meth:`Glossary.respell`). The list below holds common NHS terms; the
documents' own definitions ("same-day emergency care (SDEC)") are added when the index is read.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Iterable

COMMON = {
    "A&E": "accident and emergency",
    "AACC": "all-age continuing care",
    "ACP": "advance care planning",
    "CAMHS": "child and adolescent mental health services",
    "CCG": "clinical commissioning group",
    "CHC": "continuing healthcare",
    "CIP": "cost improvement programme",
    "CQC": "Care Quality Commission",
    "CVD": "cardiovascular disease",
    "CYP": "children and young people",
    "ED": "emergency department",
    "GP": "general practice",
    "ICP": "integrated care partnership",
    "INT": "integrated neighbourhood team",
    "INTs": "integrated neighbourhood teams",
    "LD&A": "learning disabilities and autism",
    "LDA": "learning disabilities and autism",
    "LES": "local enhanced service",
    "LTC": "long-term conditions",
    "MDT": "multi-disciplinary team",
    "MH": "mental health",
    "MSK": "musculoskeletal",
    "NHSE": "NHS England",
    "PCN": "primary care network",
    "QIPP": "quality, innovation, productivity and prevention",
    "RTT": "referral to treatment",
    "SDEC": "same-day emergency care",
    "SEND": "special educational needs and disabilities",
    "SOF": "system oversight framework",
    "UEC": "urgent and emergency care",
    "VCFSE": "voluntary, community, faith and social enterprise",
    "WRP": "waste reduction plan",
}

_DEFINED = re.compile(r"((?:[A-Za-z][\w'-]*[ ,&]+){1,8}?)\(([A-Z][A-Za-z&]{1,7})\)")
_SMALL = {"and", "&", "of", "the", "for", "in", "to", "with"}
# on every page of these documents: expanding them only adds noise to a search
UBIQUITOUS = {"ICB", "ICS", "LSC", "NHS", "ICBs"}


def mine(text: str) -> dict[str, str]:
    """Definitions written as "words (ABBR)" whose initials spell the abbreviation."""
    found: dict[str, str] = {}
    for match in _DEFINED.finditer(text):
        abbreviation = match.group(2)
        letters = [c for c in abbreviation if c.isalpha() and c.isupper()]
        words = re.findall(r"[A-Za-z][\w'-]*|&", match.group(1))
        # take the shortest run of trailing words whose initials give the capitals
        for size in range(1, len(words) + 1):
            run = words[-size:]
            content = [w for w in run if w.lower() not in _SMALL and w != "&"]
            whole = [w[0].upper() for w in content]
            parts = [p[0].upper() for w in content for p in w.split("-") if p]  # "same-day" gives S, D
            if letters in (whole, parts) and run[0].lower() not in _SMALL:
                found.setdefault(abbreviation, " ".join(run).lower().strip("'’\" ,"))
                break
    return found


CLIPPED_MIN = 4  # letters of a clipped word ("derm", "gynae", "rehab"): shorter ones start too many words
CLIPPED_MAX_FORMS = 3  # a clipped word that starts more of the documents' words than this is not read as any


RESPELL_MIN = 6  # letters of a word read as a misspelling: a shorter one is one letter from too many others
RESPELL_MAX = 30  # ... and at most: the slips of a longer one are too many to try (and no word is that long)


def vocabulary(text: str) -> Counter[str]:
    """The lowercase words of a text, each with how often it is used, as a clipped or misspelt
    word is looked up in them."""
    return Counter(re.findall(r"[a-z]{%d,}" % CLIPPED_MIN, text.lower()))


def one_letter_away(word: str) -> set[str]:
    """The strings one typing slip from ``word``: a letter left out, added or changed, or two side
    by side swapped."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + b[1:] for a, b in splits if b} | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
            | {a + c + b[1:] for a, b in splits if b for c in letters} | {a + c + b for a, b in splits for c in letters})


FIRST_SHORT_YEAR, LAST_SHORT_YEAR = 15, 39  # "15/16" to "39/40": plans' years, not "12/13 beds"
_SHORT_YEAR = re.compile(r"(?<![\d/£.,–-])(\d{2})\s?[/–-]\s?(\d{2})(?![\d/%.,–-])")
# a range of ages, pages, hours or the like is no financial year ("16-17 year olds", "pages 24-25")
_RANGE_BEFORE = re.compile(r"\b(?:aged?|ages|pages?|pp|between|from)\s*$", re.I)
_RANGE_AFTER = re.compile(r"^\s*(?:years?|yrs?|y/?o|olds?|hours?|hrs?|minutes?|mins?|weeks?|days?|months?|beds?|per\s?cent"
                          r"|percent|people|patients|staff)\b", re.I)


def financial_years(text: str) -> list[str]:
    """The financial years written short in ``text`` ("25/26", "25-26"), as the documents write them
    in full ("2025/26"): a question typed "the budget for 25/26" is then also read with "2025/26".
    A range of ages, pages or hours ("16-17 year olds", "pages 24-25") is not one."""
    return [f"20{match.group(1)}/{match.group(2)}" for match in _short_years(text)]


def with_full_years(text: str) -> str:
    """``text`` with each financial year written short (see :func:`financial_years`) or with a dash
    written in full: "children and young people in 26/27" (or "2026-27") -> "… in 2026/27"."""
    for match in reversed(list(_short_years(text))):
        text = f"{text[:match.start()]}20{match.group(1)}/{match.group(2)}{text[match.end():]}"
    # and one written in full with a dash ("2026-27") as the documents write it ("2026/27")
    return _DASHED_YEAR.sub(lambda m: f"{m.group(1)}/{m.group(2)}" if int(m.group(2)) == (int(m.group(1)) + 1) % 100
                            else m.group(), text)


_DASHED_YEAR = re.compile(r"\b(20\d{2})\s?[–-]\s?(\d{2})\b(?![/–-]\d)")


def _short_years(text: str):
    for match in _SHORT_YEAR.finditer(text):
        first, second = int(match.group(1)), int(match.group(2))
        if second != (first + 1) % 100 or not FIRST_SHORT_YEAR <= first <= LAST_SHORT_YEAR:
            continue
        if _RANGE_BEFORE.search(text[: match.start()]) or _RANGE_AFTER.match(text[match.end():]):
            continue
        yield match


class Glossary:
    def __init__(self, extra: dict[str, str] | None = None, words: Iterable[str] | None = None,
                 english: frozenset[str] = frozenset(), known: frozenset[str] = frozenset()):
        self.counts = words if isinstance(words, Counter) else Counter(words or ())  # the official documents' words, by use
        self.words = sorted(self.counts)  # a clipped word is read as those it starts
        self.english = english  # everyday English words: none is taken for a misspelling (none taken without them)
        self.known = known  # every document's words, uploads' too: none is taken for a misspelling either
        self.terms = dict(COMMON)
        for abbreviation, meaning in (extra or {}).items():
            self.terms.setdefault(abbreviation, meaning)
        for abbreviation in UBIQUITOUS:
            self.terms.pop(abbreviation, None)
        self._meanings = {meaning.lower(): abbreviation for abbreviation, meaning in self.terms.items()}
        self._meanings.update({re.sub(r"[\s-]+", " ", meaning): abbreviation for meaning, abbreviation in list(self._meanings.items())})

    def other_form(self, term: str) -> str:
        """The other form of an abbreviation or of what it stands for ("SDEC": "same day emergency
        care", and back), or "" when the glossary has none."""
        return (self.terms.get(term) or self.terms.get(term.rstrip("s"))
                or self._meanings.get(re.sub(r"[\s-]+", " ", term.lower()), ""))

    def clipped(self, word: str) -> list[str]:
        """The documents' words that a word no document uses is the start of ("derm":
        ["dermatology"]; "gynae": ["gynaecological", "gynaecology"]), or [] when none or too many."""
        word = word.lower()
        if len(word) < CLIPPED_MIN or not word.isalpha() or not self.words:
            return []
        at = bisect.bisect_left(self.words, word)
        if at < len(self.words) and self.words[at] == word:
            return []  # a word of the documents, not clipped
        forms = []
        for other in self.words[at:at + CLIPPED_MAX_FORMS + 1]:
            if not other.startswith(word):
                break
            forms.append(other)
        return forms if len(forms) <= CLIPPED_MAX_FORMS else []

    def respelled(self, word: str) -> str:
        """The documents' word a misspelt one was meant as ("comissioning": "commissioning",
        "attendences": "attendances"), or "": for a lower-case word of RESPELL_MIN to RESPELL_MAX
        letters that no document uses (``known``: every document's words, uploads' too) and that is
        no everyday English word (so "addiction" is never read as "addition"), the documents' word
        one slip away (:func:`one_letter_away`), the most used of them when one is. The slip is
        never in the first letter ("funder" is not "under", "recommission" not "decommission") nor
        in the last two, where words differ by their ending ("integrates": "integrated",
        "milestones": "milestone"); a capitalised word is left alone: a name no document uses must
        stay unknown."""
        if (not RESPELL_MIN <= len(word) <= RESPELL_MAX or not word.isascii() or not word.isalpha()
                or not word.islower() or not self.english or word in self.counts or word in self.known
                or word in self.english):
            return ""
        near = sorted(((self.counts[other], other) for other in one_letter_away(word) if other in self.counts), reverse=True)
        if not near or (len(near) > 1 and near[0][0] == near[1][0]):
            return ""
        meant = near[0][1]
        first_difference = next((i for i, (a, b) in enumerate(zip(word, meant)) if a != b), min(len(word), len(meant)))
        return meant if 1 <= first_difference <= min(len(word), len(meant)) - 2 else ""

    def respell(self, text: str) -> str:
        """``text`` with each misspelt word (:meth:`respelled`) written as it was meant."""
        return re.sub(r"[A-Za-z]+", lambda match: self.respelled(match.group()) or match.group(), text)

    def expand(self, query: str) -> str:
        """The query with the other form of each abbreviation or term it uses, and the whole
        words of a clipped one, in brackets."""
        additions: list[str] = []
        for token in set(re.findall(r"\b[A-Z][A-Za-z&]{1,6}s?\b", query)):
            meaning = self.terms.get(token) or self.terms.get(token.rstrip("s"))
            if meaning and meaning.lower() not in query.lower():
                additions.append(meaning)
        lowered = query.lower()
        for meaning, abbreviation in self._meanings.items():
            if len(meaning) > 6 and meaning in lowered and abbreviation not in query:
                additions.append(abbreviation)
        for word in dict.fromkeys(re.findall(r"[A-Za-z]+", query)):
            additions += [form for form in self.clipped(word) if form not in additions]
        additions += [year for year in financial_years(query) if year not in query and year not in additions]
        if not additions:
            return query
        return f"{query} ({', '.join(sorted(additions))})"  # other forms, not parts of the question: no ";"
