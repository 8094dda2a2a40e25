"""Whether a question looks written in English, the language of the documents.

A cheap check, no model: mostly non-Latin letters (Arabic, Cyrillic, Chinese ...) is not English;
nor is Latin script of three or more words with not one common English word but accented letters
or another language's common words ("Quelles sont les priorités ?"). Keywords ("Blackpool place
priorities") stay English.
Used to tell someone whose question found nothing that asking in English may find it.
"""

from __future__ import annotations

import re
import unicodedata

ENGLISH_WORDS = frozenset(
    "a about after an and any are as at be before by can could do does for from has have how i if in "
    "into is it its me my not of on or our plan plans should tell that the their there these they this "
    "to want was we what when where which who why will with would year you your".split()
)
OTHER_WORDS = frozenset(
    "als am auf beth como con cual das de del der des die du ein eine el est et ist jak jakie jest la las le "
    "les los mae na nie para pe por pour qual quais que quel quelle quelles qui son sont sind und una une "
    "uno was wie yn yw".split()
)
NOT_ENGLISH_NOTICE = (
    "The documents are in English, and this question does not look like English: "
    "asking in English may find what they say."
)


def looks_english(question: str) -> bool:
    letters = [ch for ch in question if ch.isalpha()]
    if not letters:
        return True
    latin = sum(1 for ch in letters if "LATIN" in unicodedata.name(ch, ""))
    if latin / len(letters) < 0.5:
        return False
    words = re.findall(r"[^\W\d_]+", question.lower())
    if len(words) < 3 or any(word in ENGLISH_WORDS for word in words):
        return True
    accented = any(not ch.isascii() for ch in letters)
    return not (accented or any(word in OTHER_WORDS for word in words))
