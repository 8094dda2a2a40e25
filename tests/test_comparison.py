"""Comparison answers: a question comparing documents is answered as a table of what each says,
each row cited, then a sentence on where they agree or differ (issue 13, part 2)."""

from __future__ import annotations

import pytest

from assistant import comparison, stages, support
from assistant.answers import Source
from assistant.query_plan import Compared, DocumentNames, compared, named_groups
from index.catalog import DocumentRecord
from tests.fakes import corpus_assistant, scripted  # noqa: F401 (fixtures)

NEXT_STEPS = "healthier-lsc-our-next-steps-2019.txt"
STATE_OF_SYSTEM = "lsc-icb-state-of-the-system-report-2024.txt"
INTENTIONS = "lsc-icb-commissioning-intentions-2025-26.txt"
BOARD_PAPER = "lsc-icb-board-2030-roadmap-paper-2025-05-22.txt"
ROADMAP = "lsc-2030-roadmap-programme-timelines-2025.txt"
BUDGETS = "Does the state of the system report give the same budget as the commissioning intentions?"


def _names() -> DocumentNames:
    records = [
        DocumentRecord(doc=doc, path=doc, title=title, date=date, kind=kind, publisher="", content_hash="", state="complete",
                       chunks=1, vectors=1, characters=1, pages=None, indexed_at="")
        for doc, title, date, kind in (
            (NEXT_STEPS, "Our next steps - Healthier Lancashire and South Cumbria", "2019-10", "strategy"),
            (STATE_OF_SYSTEM, "Beyond the challenge: state of the system report", "2024", "report"),
            (INTENTIONS, "Lancashire and South Cumbria Commissioning Intentions 2025/26", "2025", "commissioning intentions"),
            (ROADMAP, "LSC2030 Roadmap - programme timelines", "2025", "roadmap"),
        )
    ]
    return DocumentNames(records)


@pytest.mark.parametrize(
    "question, expected",
    [
        ("Is the timing the same in the CI and the roadmap?", Compared((INTENTIONS, ROADMAP), False)),
        ("The report says £175m but the commissioning intentions say £350m: which is right?", Compared((STATE_OF_SYSTEM, INTENTIONS), False)),
        ("The report and the commissioning intentions both give a budget: what figures?", Compared((STATE_OF_SYSTEM, INTENTIONS), False)),
        ("What does the roadmap say about both mental and physical health, and the CI about dementia?", None),
        ("How has the deficit changed since the 2019 strategy?", Compared((NEXT_STEPS,), True)),
        ("Is the vision consistent across the documents?", Compared((), True)),
        ("What does the roadmap say about diagnostics, and when does the CI start it?", None),  # two documents, no comparison
        ("What is the annual budget?", None),
        ("What does the CI say about SDEC (same day emergency care)?", None),  # "same" is no comparison
        ("What do the documents say about the annual budget?", None),
        ("Does the roadmap match funding to the CI priorities?", None),
        ("What does the 2019 strategy say, but only for mental health?", None),
    ],
)
def test_what_a_question_compares_comes_from_its_wording_and_the_documents_it_names(question, expected):
    names = _names()
    assert compared(question, named_groups(question, names, None, names.order)) == expected


def test_a_kind_of_document_is_named_by_its_initials_in_capitals_only():
    names = _names()
    assert names.named("What does the CI say?") == [INTENTIONS]
    assert names.named("Is ci mentioned?") == []
    assert "CI" not in names.within("the CI and its plans", [INTENTIONS])


def _source(n: int, doc: str, text: str, date: str) -> Source:
    return Source(n=n, doc=doc, title=doc.split(".")[0], section="Finance", page=None, text=text, start=n * 100,
                  end=n * 100 + len(text), date=date)


def test_a_table_has_a_cited_row_for_each_document_oldest_first_and_a_sentence_on_what_differs():
    sources = [
        _source(1, INTENTIONS, "Our annual budget for 2025/26 is approximately £5.4billion.", "2025"),
        _source(2, STATE_OF_SYSTEM, "We currently deliver a £4.5 billion budget through hospitals.", "2024"),
        _source(3, ROADMAP, "Roll out the digital front door.", "2025"),
    ]
    plan = Compared((STATE_OF_SYSTEM, INTENTIONS), False)
    table = comparison.build("How does the annual budget compare?", plan, sources, lambda q, docs: q)
    assert [row.doc for row in table.rows] == [STATE_OF_SYSTEM, INTENTIONS]  # the roadmap is not compared
    assert [row.cited for row in table.rows] == [(2,), (1,)]
    summary = comparison.rule_summary(table)
    assert "£4.5 billion" in summary and "£5.4billion" in summary and "[2]" in summary and "[1]" in summary
    text = comparison.answer_text(table, summary)
    checked = support.check(text, sources)
    assert [s.support for s in checked] == ["supported"] * 3  # two rows and the summary; no header, no labels
    assert comparison.blocks(text) == [
        [list(comparison.HEADER), [table.rows[0].label, table.rows[0].text], [table.rows[1].label, table.rows[1].text]],
        summary,
    ]


def test_rows_giving_the_same_figure_are_said_to_agree_and_rows_without_figures_get_no_sentence():
    same = [
        _source(1, INTENTIONS, "Consultants will work in the community by 2027/28.", "2025"),
        _source(2, ROADMAP, "Community consultants in post in 2027/28.", "2025"),
    ]
    plan = Compared((INTENTIONS, ROADMAP), False)
    table = comparison.build("When will consultants work in the community?", plan, same, lambda q, docs: q)
    assert comparison.rule_summary(table) == "Both give 2027/28 [1][2]."
    plain = [_source(1, INTENTIONS, "Consultants will work in the community.", "2025"),
             _source(2, ROADMAP, "Community consultants are planned.", "2025")]
    table = comparison.build("When will consultants work in the community?", plan, plain, lambda q, docs: q)
    assert table is not None and comparison.rule_summary(table) == ""


def test_one_document_is_no_comparison():
    sources = [_source(1, INTENTIONS, "Our annual budget is £5.4billion.", "2025"),
               _source(2, INTENTIONS, "The budget is under pressure.", "2025")]
    assert comparison.build("Compare the budget", Compared((INTENTIONS, ROADMAP), False), sources, lambda q, d: q) is None


def test_a_comparison_question_is_answered_with_a_table_from_both_documents(corpus_assistant):
    answer = corpus_assistant.ask(BUDGETS)
    assert answer.status == "answered"
    table = next(block for block in comparison.blocks(answer.answer) if isinstance(block, list))
    labels = [row[0] for row in table[1:]]
    assert len(labels) == 2 and "state of the system" in labels[0] and "Commissioning Intentions" in labels[1]
    assert all(support.CITATION.search(row[1]) for row in table[1:])  # every row cited
    assert {source.doc for source in answer.citations} == {STATE_OF_SYSTEM, INTENTIONS}
    assert "£4.5 billion" in answer.answer and "£5.4billion" in answer.answer
    assert answer.supported and all(s.support == "supported" for s in answer.sentences)


def test_an_llm_writes_the_sentence_under_the_table_as_it_streams(corpus_assistant, scripted):
    scripted.summary = "The report gives £4.5 billion [1] and the intentions £5.4billion [2]."
    events = list(corpus_assistant.stream(BUDGETS, backend="scripted"))
    tokens = [event.text for event in events if event.kind == "token"]
    assert tokens[0].startswith("| Document | What it says |")  # the table at once, before the model writes
    answer = events[-1].answer
    assert support.CITATION.sub("", answer.answer).endswith(support.CITATION.sub("", scripted.summary))  # numbered as read
    assert answer.model == "scripted"
    assert not any(event.kind == "quoted" for event in events)  # the table is the quotes
    assert len(scripted.asked) == 1 and len(scripted.asked[0][1]) == 2  # asked once, with the two rows


@pytest.mark.parametrize("failure, summary", [("server down", ""), ("", "NOT_IN_DOCUMENTS")])
def test_a_model_that_fails_or_finds_nothing_leaves_the_table_and_the_rules_sentence(corpus_assistant, scripted, failure, summary):
    scripted.failure, scripted.summary = failure, summary or scripted.summary
    answer = corpus_assistant.ask(BUDGETS, backend="scripted")
    assert answer.status == "answered" and "NOT_IN_DOCUMENTS" not in answer.answer
    assert answer.answer.splitlines()[-1].startswith("They give different sums:")
    assert answer.model == "extractive"
    assert any("written by rule" in notice for notice in answer.notices) == bool(failure)


def test_a_sentence_under_the_table_with_a_made_up_figure_gives_way_to_the_rules(corpus_assistant, scripted):
    scripted.summary = "The gap of £0.9 billion [1][2] is explained by inflation."  # £5.4bn less £4.5bn: in no row
    answer = corpus_assistant.ask(BUDGETS, backend="scripted")
    assert "£0.9 billion" not in answer.answer and answer.answer.splitlines()[-1].startswith("They give different sums:")
    assert answer.model == "extractive" and answer.fell_back
    assert any("gave £0.9 billion" in notice and "written by rule" in notice for notice in answer.notices)


def test_a_question_comparing_nothing_is_answered_as_before(corpus_assistant):
    answer = corpus_assistant.ask("What is the annual budget for 2025/26?")
    assert answer.status == "answered" and "|" not in answer.answer


def test_the_word_export_draws_a_comparison_as_a_table(tmp_path, corpus_assistant):
    from docx import Document

    from assistant import faq

    answer = corpus_assistant.ask(BUDGETS, audience="public")
    draft = faq.draft_from_answer(BUDGETS, answer)
    path = faq.export_docx([draft], tmp_path / "faq.docx")
    tables = Document(str(path)).tables
    assert len(tables) == 1 and len(tables[0].rows) == 3
    assert tables[0].rows[0].cells[0].text == "Document"
    assert "[" in tables[0].rows[1].cells[1].text  # its citations kept
    assert "| Document |" in faq.export_markdown([draft]) and "| Document |" in faq.export_csv([draft])


def test_a_row_without_a_figure_takes_its_best_sentence_with_one_if_it_is_close_enough(monkeypatch):
    from assistant import extractive

    monkeypatch.setattr(extractive, "CLOSE", 1.01)  # only the best sentence is quoted of itself
    held = [_source(1, ROADMAP, "Community diagnostic centres will open across every place. Staff parking is free. "
                                "Diagnostic centres will open with £20m in 2025/26.", "2025")]
    row = comparison._row("When will community diagnostic centres open?", held)
    assert row.text.startswith("Community diagnostic centres will open across every place.")
    assert "£20m" in row.text and row.text.endswith("[1]")  # most of the question's words: close enough
    monkeypatch.setattr(comparison, "FIGURE_SHARE", 0.9)
    assert "£20m" not in comparison._row("When will community diagnostic centres open?", held).text


def test_what_is_compared_and_searched_stays_within_the_documents_the_asker_may_see(corpus_assistant, monkeypatch):
    from assistant.retrieval import Filters

    retriever = corpus_assistant.retriever
    question = "Is the budget the same in the state of the system report and the commissioning intentions?"
    assert retriever.compared(question, Filters(docs=[INTENTIONS, ROADMAP])) is None  # one of them is out of reach
    wide = corpus_assistant._number(corpus_assistant.retrieve(question))[:5]
    searched = []
    real = retriever.search
    monkeypatch.setattr(retriever, "search", lambda *a, **k: searched.append(k.get("filters")) or real(*a, **k))
    stages.compare(retriever, question, wide, Filters(user="bob", kinds=["report", "commissioning intentions"]),
                   corpus_assistant.indexer.chunker.tokens)
    assert searched and all(f.user == "bob" and f.kinds == ["report", "commissioning intentions"] and len(f.docs) == 1
                            for f in searched)


def test_a_model_that_writes_nothing_leaves_the_rules_sentence_and_says_it_fell_back(corpus_assistant, scripted):
    scripted.summary = " "
    answer = corpus_assistant.ask(BUDGETS, backend="scripted")
    assert answer.answer.splitlines()[-1].startswith("They give different sums:")
    assert answer.model == "extractive" and answer.fell_back


def test_the_tables_sources_come_before_it_numbered_as_it_cites_them(corpus_assistant):
    events = list(corpus_assistant.stream(BUDGETS))
    kinds = [event.kind for event in events]
    table_at = next(i for i, e in enumerate(events) if e.kind == "token")
    sources = [e for e in events[:table_at] if e.kind == "sources"][-1].sources
    cited = {int(n) for n in support.CITATION.findall(events[table_at].text)}
    assert cited <= {source.n for source in sources} and kinds[-1] == "answer"


def test_a_table_a_model_writes_is_checked_in_every_cell_and_ours_by_its_rows():
    invented = "| Both documents | The budget is £9.9bn [1] |"
    assert [s.support for s in support.check(invented, [_source(1, INTENTIONS, "Our budget is £5.4billion.", "2025")])] == ["unsupported"]
    header = "| Plan | Year |\n|---|---|\n| The budget is £5.4billion [1] | 2025 |"
    assert len(support.sentences(header)) == 2  # a header that is not ours is read too


def test_both_give_cites_the_passage_giving_the_figure_however_it_is_written():
    sources = [_source(1, INTENTIONS, "The budget is £5.4bn.", "2025"),
               _source(2, ROADMAP, "Plans for the budget are set out.", "2025"),
               _source(3, ROADMAP, "The budget is £5.4 billion.", "2025")]
    rows = (comparison.Row(INTENTIONS, "CI (2025)", "2025", "The budget is £5.4bn. [1]", (1,), 1.0),
            comparison.Row(ROADMAP, "Roadmap (2025)", "2025", "Plans for the budget are set out. [2] The budget is £5.4 billion. [3]", (2, 3), 1.0))
    assert comparison.rule_summary(comparison.Table(rows)) == "Both give £5.4bn [1][3]."


def test_for_the_public_a_table_stays_a_table():
    from assistant import extractive

    text = "| Document | What it says |\n|---|---|\n| A (2019) | x is here [1] |\n\nThey give different sums: £1m in A [1]."
    public = extractive.for_audience(text, "public")
    assert public.startswith("| Document | What it says |\n|---|---|\n| A (2019) | x is here [1] |")
    assert public.endswith("- They give different sums: £1m in A [1].")


def test_the_terminal_draws_cells_as_text_not_markup(capsys):
    from assistant import cli

    cli._print_text("| Document | What it says |\n|---|---|\n| A [/note] | [link=https://evil.example]click[/link] [1] |")
    shown = capsys.readouterr().out
    flat = "".join(shown.replace("│", "").split())
    assert "A[/note]" in flat and "[link=https://evil.example]click[/link][1]" in flat  # as written, not run


def test_the_sentence_under_a_table_cites_each_passage_giving_its_figures():
    rows = (comparison.Row(INTENTIONS, "CI (2025)", "2025", "Joint commissioning in 2025/26. [1]", (1,), 1.0),
            comparison.Row(ROADMAP, "Roadmap (2025)", "2025",
                           "Intermediate Care, 2026/27: Formalise joint commissioning [2]; 2027/28: Clear leadership [3]", (2, 3), 1.0))
    assert comparison.rule_summary(comparison.Table(rows)) == (
        "They give different financial years: 2025/26 in CI (2025) [1]; 2026/27 and 2027/28 in Roadmap (2025) [2][3].")
