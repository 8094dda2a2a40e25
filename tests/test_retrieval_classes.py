"""Classes of question that retrieval used to miss, on the shipped corpus (read-only shared index,
fake embedder: what the keyword, heading and named-document searches and the query plan do)."""

from __future__ import annotations

import pytest

from assistant.query_plan import interleave
from assistant.retrieval import Retriever

NEXT_STEPS = "healthier-lsc-our-next-steps-2019.txt"
STATE_OF_SYSTEM = "lsc-icb-state-of-the-system-report-2024.txt"
INTENTIONS = "lsc-icb-commissioning-intentions-2025-26.txt"
BOARD_PAPER = "lsc-icb-board-2030-roadmap-paper-2025-05-22.txt"
ROADMAP = "lsc-2030-roadmap-programme-timelines-2025.txt"


@pytest.fixture
def retriever(corpus_indexer) -> Retriever:
    return Retriever(corpus_indexer.catalog, corpus_indexer.vectors)


@pytest.mark.parametrize(
    "question, docs",
    [
        ("What is the difference between the board paper and the roadmap on intermediate care?", {BOARD_PAPER, ROADMAP}),
        ("Compare the financial position in the state of the system report with Our next steps.", {STATE_OF_SYSTEM, NEXT_STEPS}),
        ("How do the urgent care plans in the commissioning intentions differ from Our next steps?", {INTENTIONS, NEXT_STEPS}),
    ],
)
def test_a_comparison_of_two_documents_retrieves_from_both(retriever, question, docs):
    top = retriever.search(question, k=5)
    assert {p.doc for p in top} == docs
    assert top[0].doc != top[1].doc  # the two sides alternate from the top


def test_a_question_across_the_documents_retrieves_from_several(retriever):
    top = retriever.search("Is the ICB's vision the same across the documents?", k=5)
    assert len({p.doc for p in top}) >= 4


def test_interleave_puts_each_sides_best_first_then_the_ranking():
    ranked = ["a1", "a2", "a3", "b1", "c1", "a4", "b2"]
    doc_of = {chunk: chunk[0] for chunk in ranked}
    assert interleave(ranked, doc_of, [frozenset("b"), frozenset("a")], 4) == ["a1", "b1", "a2", "a3"]
    # an empty side is "every other document"
    assert interleave(ranked, doc_of, [frozenset("a"), frozenset()], 3) == ["a1", "b1", "a2"]
    assert interleave(ranked, doc_of, [frozenset("c")], 3) == ["c1", "a1", "a2"]
    # more sides than places: the best sides' bests
    assert interleave(ranked, doc_of, [frozenset("a"), frozenset("b"), frozenset("c")], 2) == ["a1", "b1"]


@pytest.mark.parametrize("swap", [False, True])
def test_equal_fused_scores_are_ordered_by_chunk_id(corpus_indexer, monkeypatch, swap):
    """Two chunks each found once, at the same rank by equally weighted searches (the two sides of
    a comparison of years), tie; they come out in chunk id order whichever search ran first."""
    from index.vectors import VectorHit

    catalog = corpus_indexer.catalog
    first, second = sorted(chunk_id for chunk_id, _, _ in catalog.chunk_sections())[:2]
    found = {"1998": second, "1999": first} if swap else {"1998": first, "1999": second}

    def dense(text, k, docs=None, chunks_in_docs=None):
        # the side of 1998 (its query has lost "1999") finds one chunk, the side of 1999 the other
        if "1998" in text and "1999" not in text:
            return [VectorHit(found["1998"], 0.5)]
        if "1999" in text and "1998" not in text:
            return [VectorHit(found["1999"], 0.5)]
        return []

    monkeypatch.setattr(corpus_indexer.vectors, "search", dense)
    top = Retriever(catalog, corpus_indexer.vectors).search("zzqx in 1998 vs 1999", k=2)
    assert [p.id for p in top] == [first, second]
    assert top[0].score == top[1].score


# -- roadmap follow-ups: "and the year after?" -------------------------------------------------


def _roadmap_search(corpus_indexer, question: str, history: list[str], answerer=None):
    from assistant import stages

    prepared = stages.prepare(question, history)
    query = stages.rewrite(prepared, answerer)
    retriever = Retriever(corpus_indexer.catalog, corpus_indexer.vectors)
    return query, stages.retrieve(retriever, prepared, query, 5, None).passages


@pytest.mark.parametrize(
    "history, question, year",
    [
        (["What does the roadmap plan for cancer in 2026/27?"], "And the year after?", "2027/28"),
        # a follow-up of a follow-up: the year moves on from the one the last turn reached
        (["What does the roadmap plan for cancer in 2026/27?", "And the year after?"], "And the year after that?", "2028/29"),
        (["What does the roadmap plan for cancer in 2027/28?", "What about the year before?"], "And the year before that?", "2025/26"),
    ],
)
def test_a_roadmap_follow_up_retrieves_the_next_years_section(corpus_indexer, history, question, year):
    query, passages = _roadmap_search(corpus_indexer, question, history)
    assert year in query and "cancer" in query
    assert any(p.section == f"LSC2030 Roadmap > Cancer > {year}" for p in passages[:5])


class _RewritingModel:
    """An LLM whose rewrite of any follow-up is ``reply`` (one that drops the earlier question's subject, say)."""

    def __init__(self, reply: str):
        self.reply = reply

    def rewrite(self, question, history):
        return self.reply


def test_the_rules_year_is_kept_over_a_models_rewrite_that_loses_the_subject(corpus_indexer):
    forgetful = _RewritingModel("What happens in the following year?")
    query, passages = _roadmap_search(
        corpus_indexer, "And the year after?", ["What does the roadmap plan for cancer in 2026/27?"], forgetful
    )
    assert query == "What does the roadmap plan for cancer in 2027/28?"
    assert any(p.section == "LSC2030 Roadmap > Cancer > 2027/28" for p in passages[:5])


JEAN_BISHOP = (["Tell me about the Jean Bishop Integrated Care Centre."], "Did it work?")


def test_a_follow_up_a_model_rewrote_without_its_subject_is_also_searched_as_the_rule_rewrites_it(corpus_indexer):
    from assistant import stages

    prepared = stages.prepare(JEAN_BISHOP[1], JEAN_BISHOP[0])
    query = stages.rewrite(prepared, _RewritingModel("Was it a success?"))
    assert query == "Was it a success?"  # the model's rewrite lost the centre
    retriever = Retriever(corpus_indexer.catalog, corpus_indexer.vectors)
    search = stages.retrieve(retriever, prepared, query, 5, None)
    assert search.also == ("Did it work?", stages.rewrite(prepared))  # as asked, and the rule's rewrite
    assert "Jean Bishop" in search.also[1]
    assert any("Jean Bishop" in p.section for p in search.passages)
    alone = retriever.search(query, k=5, also=["Did it work?"])  # what the search found without the rule's rewrite
    assert not any("Jean Bishop" in p.section for p in alone)


def test_a_follow_up_a_model_hands_back_as_asked_is_rewritten_by_the_rule():
    from assistant import stages

    prepared = stages.prepare(JEAN_BISHOP[1], JEAN_BISHOP[0])
    assert stages.rewrite(prepared, _RewritingModel("did it work? ")) == stages.rewrite(prepared)
    assert "Jean Bishop" in stages.rewrite(prepared)
    assert stages.rewrite(prepared, _RewritingModel("Did the Jean Bishop centre work?")) == "Did the Jean Bishop centre work?"


# -- front matter: cover sheets, authors, titles --------------------------------------------------


@pytest.mark.parametrize(
    "question, doc, holds",
    [
        ("Which agenda item was the LSC ICB 2030 Roadmap paper?", BOARD_PAPER, "Agenda item\t11"),  # a cover-sheet row
        ("Who is the author of the state of the system report?", STATE_OF_SYSTEM, "Kevin Lavery"),  # a sign-off
        ("When was the state of the system report published?", STATE_OF_SYSTEM, "Beyond the challenge"),  # the title page
    ],
)
def test_front_matter_is_found(retriever, question, doc, holds):
    top = retriever.search(question, k=5)
    assert any(p.doc == doc and holds in p.text for p in top)

