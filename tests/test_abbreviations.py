"""Abbreviations both ways: mined from the documents and a common NHS list."""

from assistant.abbreviations import Glossary, mine


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
