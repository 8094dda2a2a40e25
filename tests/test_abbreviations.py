"""Abbreviations both ways: mined from the documents and a common NHS list."""

from assistant.abbreviations import Glossary, mine
from tests.fakes import corpus_assistant  # noqa: F401 (fixture)


def test_definitions_are_mined_by_their_initials():
    text = (
        "We will expand same-day emergency care (SDEC) and the Morecambe Bay respiratory network (MBRN). "
        "Our partners (including councils) met in Preston (Lancashire)."
    )
    found = mine(text)
    assert found["SDEC"] == "same-day emergency care"
    assert found["MBRN"] == "morecambe bay respiratory network"
    assert "Lancashire" not in found  # a place in brackets is not an abbreviation


def test_expansion_goes_both_ways():
    glossary = Glossary({"SDEC": "same-day emergency care"})
    assert glossary.expand("What does the roadmap say for CYP in 2027/28?") == (
        "What does the roadmap say for CYP in 2027/28? (children and young people)"
    )
    assert "UEC" in glossary.expand("plans for urgent and emergency care")
    assert "same-day emergency care" in glossary.expand("Is SDEC open at weekends?")
    assert glossary.expand("What is the ICB's vision?") == "What is the ICB's vision?"  # too common to help


def test_retrieval_uses_the_glossary(corpus_indexer):
    from assistant.retrieval import Retriever

    retriever = Retriever(corpus_indexer.catalog, corpus_indexer.vectors)
    assert retriever.glossary().terms["MBRN"] == "morecambe bay respiratory network"
    sections = [p.section for p in retriever.search("What does the roadmap say for CYP in 2027/28?", k=5)]
    assert "LSC2030 Roadmap > Children & Young People > 2027/28" in sections


def test_a_clipped_word_is_read_as_the_whole_words_it_starts():
    words = {"dermatology", "gynaecology", "gynaecological", "hospice", "hospital", "hospitals", "respiratory",
             "respite", "response", "responsive", "change"}
    glossary = Glossary({}, words)
    assert glossary.clipped("derm") == ["dermatology"]
    assert glossary.clipped("Gynae") == ["gynaecological", "gynaecology"]
    assert glossary.clipped("resp") == []  # starts too many words to be read as any
    assert glossary.clipped("change") == [] and glossary.clipped("der") == []  # a word of theirs; too short
    assert glossary.expand("derm - what's changing?") == "derm - what's changing? (dermatology)"


def test_retrieval_reads_a_clipped_word(corpus_indexer):
    from assistant.retrieval import Retriever

    retriever = Retriever(corpus_indexer.catalog, corpus_indexer.vectors)
    assert retriever.glossary().clipped("derm") == ["dermatology"]
    passages = retriever.search("derm plans?", k=5)
    assert any("ermatology" in p.text for p in passages), [p.text[:80] for p in passages]


def test_a_financial_year_written_short_is_also_read_in_full():
    """The documents write "2025/26"; a question typed "25/26" is searched and quoted with both."""
    from assistant.abbreviations import financial_years

    glossary = Glossary({}, set())
    assert glossary.expand("how big is the ICB budget for 25/26?") == "how big is the ICB budget for 25/26? (2025/26)"
    assert financial_years("the 24/25 and 25-26 plans") == ["2024/25", "2025/26"]
    assert financial_years("in 2025/26, £25/26, 12/13 beds, 25/12/2025, 40/41") == []  # written in full; no years
    assert financial_years("the 25–26 plan") == ["2025/26"]
    for ranged in ("support for 16-17 year olds", "people aged 18-19", "pages 24-25 of the plan",
                   "open 15-16 hours a day", "for 19-20 year olds"):  # ages, pages, hours: no financial year
        assert financial_years(ranged) == [], ranged
    assert glossary.expand("What is planned for 2025/26?") == "What is planned for 2025/26?"


def test_a_question_with_a_short_financial_year_is_answered_from_the_full_one(corpus_assistant):
    answer = corpus_assistant.ask("how big is the ICB budget for 25/26?")
    assert answer.status == "answered" and "£5.4billion" in answer.answer, (answer.decision.probability, answer.answer)


def test_a_misspelt_word_is_read_as_the_documents_word_it_was_meant_as():
    from collections import Counter

    words = Counter({"commissioning": 60, "attendances": 9, "addition": 5, "assessments": 4, "assessment": 9,
                     "milestone": 3, "reconfigure": 2, "stroke": 4, "strike": 4, "morecambe": 12})
    glossary = Glossary({}, words, english=frozenset({"addiction", "the", "services", "strobe"}))
    assert glossary.respelled("comissioning") == "commissioning"  # a letter left out
    assert glossary.respelled("attendences") == "attendances"  # one changed
    assert glossary.respell("the comissioning intentions") == "the commissioning intentions"
    assert glossary.respelled("addiction") == ""  # an everyday English word, never taken for "addition"
    assert glossary.respelled("Morcambe") == ""  # a capitalised word may be a name no document uses
    assert glossary.respelled("milestones") == glossary.respelled("reconfigured") == ""  # the same word, another form
    assert glossary.respelled("stroke") == "" and glossary.respelled("strokes") == ""  # the documents' word, its plural
    assert glossary.respelled("assesment") == "assessment"
    assert glossary.respelled("strake") == ""  # "stroke" and "strike", used alike: no telling which was meant
    assert Glossary({}, Counter({"stroke": 4, "strike": 2}), english=frozenset({"the"})).respelled("strake") == "stroke"
    assert glossary.respelled("comisioning") == ""  # two slips: too far to tell
    assert Glossary({}, words).respelled("comissioning") == ""  # without a list of English words, nothing is respelled
    assert glossary.respelled("x" + "comissioning" * 400) == ""  # far too long to be a word: not tried
    uploaded = Glossary({}, words, english=frozenset({"the"}), known=frozenset({"comissioning"}))
    assert uploaded.respelled("comissioning") == ""  # a word of an upload is no misspelling


def test_words_spelled_right_are_not_respelled_against_the_real_documents(corpus_indexer):
    """Found by the review: words one slip from another of the documents' words, but meant as written."""
    from assistant.retrieval import Retriever

    glossary = Retriever(corpus_indexer.catalog, corpus_indexer.vectors).glossary()
    assert glossary.respelled("comissioning") == "commissioning" and glossary.respelled("attendences") == "attendances"
    for word in ("funder", "recommission", "prehabilitation", "organiser", "integrates", "helper", "isolates"):
        assert glossary.respelled(word) == "", word  # not "under", "decommission", "rehabilitation", "organised"...


def test_a_question_with_a_typo_is_answered_as_if_spelled_right(corpus_assistant):
    right = corpus_assistant.ask("What do the commissioning intentions say about the Morecambe Bay respiratory network?")
    typed = corpus_assistant.ask("What do the comissioning intentions say about the Morecambe Bay respiratory network?")
    assert typed.rewritten_question == "What do the commissioning intentions say about the Morecambe Bay respiratory network?"
    assert typed.status == right.status == "answered" and typed.answer == right.answer
    assert [p.id for p in typed.search.passages] == [p.id for p in right.search.passages]
    searched = corpus_assistant.retrieve("comissioning intentions respiratory network")
    assert searched.query == "commissioning intentions respiratory network"
