"""The evidence an LLM reads: the best sentences of the top passages within its budget, each
passage numbered as itself, with its heading path and its document's year."""

from __future__ import annotations

import dataclasses

import re

from assistant import evidence
from assistant.answerers import make_answerer
from assistant.answers import Source
from tests.fakes import corpus_assistant, scripted  # noqa: F401 (fixtures)

LIST_QUESTION = "What are the priorities for urgent and emergency care and for mental health?"


def numbered_passages(assistant, question: str, k: int = 10) -> list[Source]:
    passages = assistant.retriever.search(question, k=k)
    return assistant.retriever.sources(passages, 3000, assistant.indexer.chunker.tokens)


def test_a_list_question_gets_sentences_of_several_passages_within_the_budget(corpus_assistant):
    count = corpus_assistant.indexer.chunker.tokens
    sources = numbered_passages(corpus_assistant, LIST_QUESTION)
    assert len(sources) >= 8
    local = make_answerer("local", corpus_assistant.settings)
    given = local.evidence(LIST_QUESTION, sources, count)

    block = evidence.context(given)
    assert count(block) <= local.context_budget
    assert len({source.n for source in given}) >= 3  # whole passages: the first one or two
    by_number = {source.n: source for source in sources}
    for source in given:
        passage = by_number[source.n]  # numbered as its passage, with its place in the document
        assert (source.doc, source.section, source.start, source.end) == (passage.doc, passage.section, passage.start, passage.end)
        for piece in re.split(r"\n|…", source.text):  # every sentence is the passage's own
            assert piece.strip().removeprefix("- ") in passage.text
        heading = passage.section.split(" > ")[-1]
        assert f"({passage.date[:4]})" in evidence.label(source) and heading in evidence.label(source)
        assert f"{evidence.label(source)}\n{source.text}" in block
    assert any(len(source.text) < len(by_number[source.n].text) for source in given)  # sentences were left out


def words(text: str) -> int:
    return len(text.split())


def test_a_low_ranked_passage_that_answers_is_read_and_the_top_one_most():
    filler = " ".join(f"Sentence {i} is about the estates budget." for i in range(30))
    sources = [
        Source(n=n, doc=f"d{n}.txt", title=f"Plan {n}", section="Money > Estates", page=None, date="2025-03",
               text=f"The estates plan for urgent care is set. {filler}", start=0, end=10)
        for n in range(1, 10)
    ]
    sources.append(Source(n=10, doc="d10.txt", title="Plan 10", section="Urgent care", page=None, date="2019-06",
                          text="Nothing here. The urgent care plan opens two treatment centres in Millom. More.", start=0, end=10))
    given = evidence.best_sentences("Where will the urgent care plan open treatment centres?", sources, 200, words)
    assert words(evidence.context(given)) <= 200
    numbers = [source.n for source in given]
    assert numbers[0] == 1 and 10 in numbers  # ranked last, but it answers: read
    assert "The urgent care plan opens two treatment centres in Millom." in given[-1].text
    assert words(given[0].text) > max(words(source.text) for source in given[1:])  # the top passage gets the most


def test_a_wide_budget_keeps_the_passages_whole(corpus_assistant):
    count = corpus_assistant.indexer.chunker.tokens
    sources = numbered_passages(corpus_assistant, LIST_QUESTION, k=3)
    given = evidence.best_sentences(LIST_QUESTION, sources, 100_000, count)
    assert [s.n for s in given] == [s.n for s in sources]
    assert all("…" not in s.text for s in given)


def test_the_model_reads_the_new_evidence_and_its_citations_map_to_their_passages(corpus_assistant, scripted):
    scripted.reply = "One priority [7]. Another [2]."
    answer = corpus_assistant.ask(LIST_QUESTION, backend="scripted")
    assert answer.search.k == corpus_assistant.settings.evidence_passages == 10  # the evidence is drawn from ten
    question, given = scripted.asked[-1]
    # the answer numbers them as it cites them ([7] first, so [1]); each keeps the number it was read under
    assert [dataclasses.replace(s, n=s.passage, passage=0) for s in sorted(answer.contexts, key=lambda s: s.passage)] == given
    assert len(given) >= 6 and answer.answer == "One priority [1]. Another [2]."
    assert [(c.n, c.passage) for c in answer.citations] == [(1, 7), (2, 2)]
    numbered = {s.n: s for s in numbered_passages(corpus_assistant, LIST_QUESTION)}
    for cited in answer.citations:  # the checker and the eval find the passage in the document by its span
        read = numbered[cited.passage]
        assert (cited.doc, cited.start, cited.end) == (read.doc, read.start, read.end)


def test_lines_that_copy_a_passages_label_are_dropped_and_the_rest_kept():
    sources = [Source(n=1, doc="a.txt", title="Our next steps: Healthier Lancashire (2019)", section="Priority 8", page=None,
                      text="x", start=0, end=1, date="2019-01"),
               Source(n=2, doc="b.txt", title="LSC2030 Roadmap", section="Cancer > 2026/27", page=None, text="x",
                      start=0, end=1, date="2025-05")]
    assert evidence.label(sources[0]).startswith("[1] Our next steps (2019) — ")  # the label the model read
    reply = ("AI appears in these passages:\n[1] Our next steps (2019) — Priority 8\n- lsc2030 roadmap (2025) — Cancer > [2] 2026/27\n"
             "1. [1] Our next steps – Priority 8\n- Review of Artificial Intelligence solutions [2]")
    assert evidence.without_labels(reply, sources) == "AI appears in these passages:\n- Review of Artificial Intelligence solutions [2]"
    # a line that goes on past the headings says something; a title in running text, or alone, is no label
    kept = ("- [1] Our next steps (2019) — Priority 8: neighbourhood teams will be in place by 2020 [1].\n"
            "LSC2030 Roadmap (2025) — the plan to 2030 — commits to 41 neighbourhoods [2].\n"
            "The LSC2030 Roadmap (2025) sets out the plans [2].\n- LSC2030 Roadmap (2025) [2]")
    assert evidence.without_labels(kept, sources) == kept
