"""The extractive answer covers every part of a question: each part of a multi-part question, a
list's items, each side of a comparison; no sentence twice."""

from __future__ import annotations

from assistant import extractive
from assistant.answers import Source
from tests.conftest import CORPUS

STATE = "lsc-icb-state-of-the-system-report-2024.txt"
INTENTIONS = "lsc-icb-commissioning-intentions-2025-26.txt"


def source(n: int, text: str, section: str = "S", title: str = "Plan", date: str = "") -> Source:
    return Source(n=n, doc=f"d{n}.txt", title=title, section=section, page=None, text=text, start=0,
                  end=len(text), date=date)


def passage(n: int, doc: str, first: str, last: str) -> Source:
    """The text of a corpus document from the line starting ``first`` to the line holding ``last``."""
    text = (CORPUS / doc).read_text(encoding="utf-8")
    start = text.index(first)
    end = text.index("\n", text.index(last, start))
    return Source(n=n, doc=doc, title=doc, section="", page=None, text=text[start:end], start=start, end=end)


def test_a_multi_part_question_quotes_each_part():
    sources = [
        passage(1, STATE, "Blackburn with Darwen: Family hubs", "school at age five"),
        passage(2, INTENTIONS, "- Deliver our admission avoidance schemes", "crisis café"),
    ]
    result = extractive.answer("Where are Blackburn with Darwen's family hubs and who do they support?", sources)
    assert "Darwen, Livesey, Little Harwood and Shadsworth" in result.text  # where
    assert "age 19" in result.text  # who they support


def test_a_sentence_leading_into_a_list_brings_its_items():
    sources = [passage(1, STATE, "Single approach to workforce", "- Procurement")]
    result = extractive.answer("Which trust functions are covered by the shared services approach?", sources)
    assert result.text.splitlines()[-5:] == [
        f"- {item} [1]" for item in ("Digital and information", "Estates and facilities", "Finance", "HR", "Procurement")
    ]


def test_a_list_question_quotes_the_list_the_best_sentence_leads_into():
    text = (
        "Four organisations were placed into segment 4 of the oversight framework. The affected organisations are:\n"
        "- North Trust\n- South Trust\n- East Trust\n- West ICB\n"
        "Teams are working with each organisation."
    )
    result = extractive.answer("Which organisations were placed into segment 4?", [source(1, text)])
    lines = result.text.splitlines()
    assert lines[0].startswith("Four organisations were placed") and lines[1] == "The affected organisations are: [1]"
    assert lines[2:] == ["- North Trust [1]", "- South Trust [1]", "- East Trust [1]", "- West ICB [1]"]


def test_a_comparison_quotes_each_side():
    plans = [
        source(1, "The 2025 plan for urgent care sets up four places, with a director for each. Each place has its "
                  "own urgent care plan. The urgent care plans are reviewed each year.", date="2025-03"),
        source(2, "Local partnerships will lead the work on urgent care.", date="2019-05"),  # its year is its document's
    ]
    result = extractive.answer("How did the urgent care plans change between 2019 and 2025?", plans)
    assert "four places" in result.text and "Local partnerships will lead" in result.text
    assert result.cited == [1, 2]


def test_long_lists_are_capped_and_no_sentence_is_quoted_twice():
    items = "\n".join(f"- Priority number {i} for urgent care" for i in range(1, 21))
    text = f"The urgent care priorities are:\n{items}"
    result = extractive.answer("What are the urgent care priorities?", [source(1, text), source(2, text)])
    lines = result.text.splitlines()
    assert len(lines) <= extractive.MAX_UNITS and len(set(lines)) == len(lines)
    assert len(result.text) <= extractive.MAX_CHARS + 10 * len(lines)  # quotes, plus their marks and citations
    assert sum(line.startswith("- ") for line in lines) <= extractive.MAX_ITEMS


def test_a_sentence_a_pdf_wrapped_over_lines_is_quoted_whole():
    wrapped = Source(n=1, doc="plan.txt", title="Plan", section="Finance", page=None, start=0, end=200, text=(
        "Priority 7\n"
        "The system runs a recurrent deficit, resulting in a deficit of\n"
        "£167m per annum by 2023/24, unless\n"
        "savings are made.\n"
        "- Develop local targets as part\n"
        "of ICS reviews\n"
        "Measure inward funding"))
    units = [unit.text for unit in extractive.units_of(wrapped)]
    assert "The system runs a recurrent deficit, resulting in a deficit of £167m per annum by 2023/24, unless savings are made." in units
    assert "Develop local targets as part of ICS reviews" in units  # a wrapped bullet too
    assert "Priority 7" in units and "Measure inward funding" in units  # a line going on in capitals is a line of its own
    answer = extractive.answer("What deficit per annum does the plan give?", [wrapped])
    assert "£167m per annum by 2023/24, unless savings are made. [1]" in answer.text
