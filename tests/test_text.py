"""The shared text rules: words, stems, title words, sentences and citation marks."""

from __future__ import annotations

from index.text import (
    CITATION,
    SCORED_CITATION,
    WRITTEN_CITATION,
    answer_sentence_parts,
    sentence_spans,
    stem,
    terms,
    title_words,
)


def test_the_stem_drops_plural_and_possessive_endings_only():
    assert stem("priorities") == "priority"
    assert stem("Plans") == "plan"
    assert stem("services") == "servic"  # "es" goes whole
    assert stem("people’s") == "people"
    assert stem("class") == "class"  # "ss" is not a plural
    assert stem("bus") == "bus"  # four letters or fewer: whole
    # not porter's stem, which FTS5 uses: "caring" and "care" stay apart
    assert stem("caring") == "caring"


def test_terms_leave_out_question_words_and_keep_figures():
    assert terms("What does the ICB plan for urgent care in 2026/27, at £3.5m?") == ["urgent", "care", "2026/27", "£3.5m"]
    assert terms("a 5 b") == ["5"]  # a single digit counts, a single letter does not
    # letters joined by "&" are one term, not two single letters left out: "what about A&E?" asks something
    assert terms("what about A&E? and R&D") == ["a&e", "r&d"]
    assert terms("health & care") == ["health", "care"]
    assert terms("the Health&Wellbeing Board") == ["health", "wellbeing", "board"]  # words, not a short form
    assert terms("L&SC and LSC plans") == []  # the area's name, as "LSC", says nothing the question asks


def test_title_words_leave_out_words_every_title_holds():
    assert title_words("LSC ICB 2030 Roadmap (ICB Board paper)") == ["2030", "roadmap"]


def test_a_sentence_ends_before_a_capital_not_after_an_abbreviation():
    text = "Care e.g. Home care grows. it continues. The plan (c. 5,000 staff) ends. “Next” starts."
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Care e.g. Home care grows. it continues.",
        "The plan (c. 5,000 staff) ends.",
        "“Next” starts.",
    ]


def test_a_full_stop_inside_a_short_quotation_ends_no_sentence_when_asked():
    text = ("It ran under the banner 'Your health. Your future. Your say.' Events took place in seven towns. "
            "We call it \u201cGet well. Stay well.\u201d It is the ICB's plan. The 'stray quote. Then more.")
    assert [text[a:b] for a, b in sentence_spans(text, quotes=True)] == [
        "It ran under the banner 'Your health. Your future. Your say.'",
        "Events took place in seven towns.",
        "We call it \u201cGet well. Stay well.\u201d",
        "It is the ICB's plan.",
        "The 'stray quote.",
        "Then more.",
    ]
    # a double quote is not closed by a single one; a title ending in a plural is a quotation
    stray = "Then \u201cmore. The trusts' plans grew. Next. We launched 'Better services' in May. The 'Start well' offer."
    assert [stray[a:b] for a, b in sentence_spans(stray, quotes=True)] == [
        "Then \u201cmore.", "The trusts' plans grew.", "Next.", "We launched 'Better services' in May.",
        "The 'Start well' offer."]
    titled = "The campaign 'Healthy lives. Better services' was launched in May. It ran."
    assert [titled[a:b] for a, b in sentence_spans(titled, quotes=True)] == [
        "The campaign 'Healthy lives. Better services' was launched in May.", "It ran."]
    # an answer's sentences, as the support check reads them, alike
    assert answer_sentence_parts("Under the banner 'Your health. Your say.' [1] Events ran. [1]") == [
        "Under the banner 'Your health. Your say.", "[1] Events ran.", "[1]"]
    # the chunker's sentences (the index) are as before
    assert "Your future." in [text[a:b] for a, b in sentence_spans(text)]


def test_each_citation_pattern_reads_its_own_forms():
    written = "A [1, 2] b [Source 3] c [passage 4-5] d [6 and 7] e [ 8 ]"
    assert [m.group(1) for m in WRITTEN_CITATION.finditer(written)] == ["1, 2", "3", "4-5", "6 and 7"]
    assert [m.group(0) for m in SCORED_CITATION.finditer(written)] == ["[1, 2]", "[6 and 7]", "[ 8 ]"]
    assert CITATION.findall("A [1] b [2, 3] c [Source 4]") == ["1"]
