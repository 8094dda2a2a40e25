"""The extractive answer covers every part of a question: each part of a multi-part question, a
list's items, each side of a comparison; no sentence twice."""

from __future__ import annotations

from dataclasses import replace

from markdown_it import MarkdownIt

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


def test_a_quoted_name_with_full_stops_is_quoted_whole():
    """An unseen question's answer read "under the banner 'Your health. [1] Your future. [1]"."""
    sources = [passage(1, INTENTIONS, "Between September and November 2024", "shared their views online")]
    result = extractive.answer("what was the autumn 2024 public engagement programme called?", sources)
    assert "'Your health. Your future. Your say.' [1]" in result.text


def test_the_best_bullet_brings_the_bullets_indented_under_it():
    """"- 3.2 ... through three lenses." has its lenses as bullets under it, whose words are not the
    question's: an unseen question got the lead-in and one lens of three."""
    board = "lsc-icb-board-2030-roadmap-paper-2025-05-22.txt"
    developing = "3. Developing the LSC 2030 Vision and Roadmap"
    sources = [replace(passage(n, doc, first, last), section=section) for n, (doc, first, last, section) in enumerate([
        (board, "- 3.1 The LSC 2030 Vision", "- 3.2.3 **Transform**", developing),  # as the search found them
        (INTENTIONS, "Despite the challenging position we find ourselves", "- Service configuration",
         "6. Transformational intentions 2025/26 onwards"),
        (board, "- 3.5 There have been various workshops", "action plans supporting LSC 2030.", developing),
        (board, "- 1.3 To develop our vision further", "in neighbourhood and community settings.", "1. Introduction"),
        (board, "- 3.3 The Roadmap's priority areas", "a more appropriate alternative for them.", developing),
    ], start=1)]
    result = extractive.answer("what are the 3 lenses the 2030 roadmap uses?", sources)
    for lens in ("**Stabilise**", "**Recover**", "**Transform**"):
        assert lens in result.text, result.text


def test_a_lead_in_with_no_items_keeps_its_indent():
    """Read as a sentence, a lead-in without items is still as deep as it was, so it brings no
    shallower bullets after it as its own (found by the review)."""
    text = "- Top item about hubs.\n  - Mid two about hubs\n    - Deep lead-in about hubs:\n  - Mid three about hubs"
    deep = [unit for unit in extractive.units_of(source(1, text)) if unit.text.startswith("Deep")][0]
    assert deep.depth == 4 and not deep.leads_in


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


NEXT_STEPS = "healthier-lsc-our-next-steps-2019.txt"


def test_a_timeline_item_says_when_by_the_period_heading_over_it():
    roadmap = [
        source(1, "- Community based model (Gynaecology Cancer pathway) fully implemented",
               section="LSC2030 Roadmap > Cancer > 2028/29"),
        source(2, "- Commence rollout of community-based model (Gynaecology Cancer pathway)",
               section="LSC2030 Roadmap > Cancer > 2027/28"),
    ]
    question = "When will the community-based gynaecology cancer model be fully in place?"
    lines = extractive.answer(question, roadmap).text.splitlines()
    assert lines == [
        "Cancer, 2028/29:",  # the heading above the period once, then the period alone
        "- Community based model (Gynaecology Cancer pathway) fully implemented [1]",
        "",
        "2027/28:",
        "- Commence rollout of community-based model (Gynaecology Cancer pathway) [2]",
    ]
    assert extractive.for_audience("\n".join(lines), "public").splitlines() == lines  # the public see when too
    # drawn as Markdown (the web app), a period's line is no part of the list item before it
    html = MarkdownIt().render("\n".join(lines))
    assert "<p>2027/28:</p>" in html and "2027/28" not in html.split("</ul>")[0]
    after = roadmap + [source(3, "- Community based gynaecology cancer model in place after public consultation",
                                section="Engagement > Cancer")]
    text = extractive.answer(question, after).text
    assert "\n\n- Community based gynaecology cancer model in place after public consultation [3]" in text  # a passage under no period, set apart
    assert "2028/29" not in extractive.answer(question, roadmap, shown=False).text  # as the answerability signals read it
    dated = [source(1, "- Digital pathology implemented in 2027/28", section="LSC2030 Roadmap > Pathology > 2027/28")]
    assert extractive.answer("When is digital pathology implemented?", dated).text == "- Digital pathology implemented in 2027/28 [1]"
    assert extractive.period_label("3. Strategic context > 3.2. Financial challenge") == ""  # no period, no label


def test_a_bullet_leading_into_bullets_at_its_own_depth_brings_them_all():
    sources = [passage(1, INTENTIONS, "- In terms of the transformation programme", "- Maintaining collective focus")]
    result = extractive.answer("What have ICBs been told to focus on for transformation in 25/26?", sources)
    assert all(item in result.text for item in (
        "Reducing demand through developing neighbourhood health service models", "analogue to digital",
        "shifting towards prevention", "Living within the budget allocated", "quality and safety of services"))
    nested = source(1, "- The priorities are:\n  - Urgent care\n  - Mental health\n- Staff parking is free")
    assert "Staff parking" not in extractive.answer("What are the priorities?", [nested]).text  # back at its depth: its list ended
    flat = source(1, "- ICBs should focus on the following:\n- Reducing demand\n- Making the shift to digital, including:\n"
                     "- Shared care records\n- Living within the budget\n- Improving quality and safety")
    text = extractive.answer("What should ICBs focus on?", [flat]).text
    assert "- Making the shift to digital, including: [1]" in text  # one more item of the list, not a list of its own
    assert "- Improving quality and safety [1]" in text


def test_a_name_or_a_figure_a_pdf_wrapped_onto_the_next_line_is_read_with_its_sentence():
    units = [unit.text for unit in extractive.units_of(passage(1, NEXT_STEPS, "The Healthier Fleetwood model", "200 offers"))]
    assert "The Healthier Fleetwood model resulted in the Primary Care Network receiving an award from the National " \
           "Association of Primary Care" in units  # a name cut at "Primary", and at "National"
    assert any(unit.endswith("recruitment exercise with over 200 offers of employment being made") for unit in units)
    by_month = source(1, "NHS and council commissioners are to agree new arrangements for complex care by March\n2020.")
    assert [unit.text for unit in extractive.units_of(by_month)] == [
        "NHS and council commissioners are to agree new arrangements for complex care by March 2020."]
    kept_apart = source(1, (
        "Presented by\tProf Dr Andy Knox, Interim Director of Population Health\nConfidential\tNo\n"  # a cover sheet's rows
        "Date of meeting\t22 May 2025\nTitle of paper\tLSC ICB 2030 Roadmap\n"
        "Our work will support the people who live and work in Lancashire and South Cumbria\n"  # two items, not a name
        "Establishment of Health and Social Care Academies\n"
        "Staff will be recruited to services across the whole of Lancashire\nThe ICB will lead this work.\n"  # a new sentence
        "Establish a group model for all Hospital services in Lancashire and South Cumbria\n"
        "How will we track progress for this priority in our local\ncommunities?\n"  # a slide's heading
        "Reinvigorate strategic partnerships across the public sector"))  # the next title of a list of them
    assert [unit.text for unit in extractive.units_of(kept_apart)] == [
        "Presented by\tProf Dr Andy Knox, Interim Director of Population Health", "Confidential\tNo",
        "Date of meeting\t22 May 2025", "Title of paper\tLSC ICB 2030 Roadmap",
        "Our work will support the people who live and work in Lancashire and South Cumbria",
        "Establishment of Health and Social Care Academies",
        "Staff will be recruited to services across the whole of Lancashire", "The ICB will lead this work.",
        "Establish a group model for all Hospital services in Lancashire and South Cumbria",
        "How will we track progress for this priority in our local communities?",
        "Reinvigorate strategic partnerships across the public sector",
    ]


def test_asking_what_is_on_a_plan_for_a_year_quotes_that_years_list_whole_and_no_other_year():
    items = ["Community services commissioning plan commence", "Neighbourhood Teams expansion phase 2",
             "Provider Collaborative go live", "Expanded minor surgery services", "Enhanced team offer"]
    roadmap = [
        source(1, "\n".join(f"- {item}" for item in items), section="LSC2030 Roadmap > Long-Term Conditions > 2026/27"),
        source(2, "- Long-Term Conditions services in community", section="LSC2030 Roadmap > Long-Term Conditions > 2027/28"),
    ]
    text = extractive.answer("What's in the long-term conditions programme for 2026/27?", roadmap).text
    assert all(f"- {item} [1]" in text for item in items)  # every item, not the best three
    assert "[2]" not in text  # the other year's heading holds the question's words too, but not its year
    # only the heading's own period counts, not a year in the headings above it
    under = [roadmap[0], source(2, "- Community services commence", section="Plan 2025/26 > Long-Term Conditions > 2026/27")]
    assert "[2]" in extractive.answer("What's in the long-term conditions programme for 2026/27?", under).text
    assert extractive._financial_years("in 26/27, 2027-28 and 2025/26, not 13/05/2025") == {"26", "27", "25"}
    assert extractive._financial_years("2028–29, 2029/2030 and FY24/25") == {"28", "29", "24"}
    assert "- Rollout of services [1]" in extractive.answer("What does the plan include?", [source(1, "- Rollout of services")]).text


def test_a_lead_in_brings_the_short_unmarked_lines_under_it_as_its_items():
    sources = [passage(1, NEXT_STEPS, "The current clinical workstreams are as follows:", "Elective Care")]
    lines = extractive.answer("What clinical workstreams did the ICS have?", sources).text.splitlines()
    assert lines[0] == "The current clinical workstreams are as follows: [1]"
    assert lines[1:4] == ["- Cancer [1]", "- Regulated Care [1]", "- Stroke [1]"]
    assert "- Maternity and Paediatrics [1]" in lines  # wrapped after "and", read whole
    # a short line in capitals is an item, never the start of a name cut in two
    titles = source(1, "The workstreams are as follows:\nCancer\nChildren and Young People\nPrimary Care\nPlanned Care")
    assert extractive.answer("What are the workstreams?", [titles]).text.splitlines()[1:] == [
        "- Cancer [1]", "- Children and Young People [1]", "- Primary Care [1]", "- Planned Care [1]"]
    # only lines without marks, straight after the lead-in: a heading after its bulleted items is not one more
    marked = extractive.units_of(source(1, "This includes:\n- Urgent care\n- Mental health\n\nPlanned care\n- Hips and knees"))
    assert [(unit.text, unit.lead) for unit in marked][3:] == [("Planned care", None), ("Hips and knees", 4)]


def test_a_list_question_gets_the_whole_list_after_the_sentences_that_lead_to_it():
    """The 2019 plan's thirteen clinical workstreams, asked for with the sentences around them in other
    passages: the items after the eighth are quoted too, to the last."""
    around = source(1, "Confirm the highest priorities for the ICS' clinical workstreams. Support the further system "
                       "development work now being arranged. It will be necessary to review these workstreams.")
    sources = [around, passage(2, NEXT_STEPS, "The current clinical workstreams are as follows:", "Prevention")]
    answer = extractive.answer("what clinical workstreams did the ICS have back in 2019?", sources).text
    for item in ("Cancer", "Regulated Care", "Stroke", "Mental Health", "Urgent Care", "Elective Care", "Primary Care",
                 "Prevention"):
        assert f"- {item} [2]" in answer.splitlines(), item


def test_a_line_under_an_unmarked_item_keeps_the_list_going():
    places = source(1, "The four places are:\nLancashire\nSplit into three localities – east, north, and central\nSouth Cumbria\n"
                       "The boundary is not aligned with any one local authority\nBlackburn with Darwen\nBlackpool\n"
                       "It is our ambition to have places at the heart of our system.")
    assert extractive.answer("What are the four places?", [places]).text.splitlines() == [
        "The four places are: [1]", "- Lancashire [1]", "Split into three localities – east, north, and central [1]",
        "- South Cumbria [1]", "The boundary is not aligned with any one local authority [1]",
        "- Blackburn with Darwen [1]", "- Blackpool [1]"]
    # one line per item: a second line, or one ending a sentence, ends the list, and a line after the last item
    # is no line on it (it may be a heading or a closing remark)
    units = extractive.units_of(source(1, "The places are:\nLancashire\nSplit into three localities – east, north, and central\n"
                                                 "It is the largest of the places by far\nBlackpool"))
    assert [(unit.text, unit.lead) for unit in units] == [
        ("The places are:", 0), ("Lancashire", 0), ("Split into three localities – east, north, and central", None),
        ("It is the largest of the places by far", None), ("Blackpool", None)]
    closing = source(1, "The four places are:\nLancashire\nSouth Cumbria\nBlackburn with Darwen\nBlackpool\n"
                        "Finance and performance overview for the year 2024 to 2025\nWe will spend £5bn this year.")
    assert "Finance" not in extractive.answer("What are the four places?", [closing]).text
    units = extractive.units_of(source(1, "The places are:\nLancashire\nIt has three localities.\nBlackpool"))
    assert [unit.lead for unit in units] == [0, 0, None, None]
    # a longer line opening as the first item does is one more item; a line after the last is no line on it
    ambitions = source(1, "At the heart of this are the following ambitions:\n We will have healthy communities\n"
                          "We will have high quality and efficient services\n"
                          "We will have a health and care service that works for everyone, including our staff\n"
                          " Section 1: A case for changing the way we work")
    assert extractive.answer("What are the ambitions?", [ambitions]).text.splitlines() == [
        "At the heart of this are the following ambitions: [1]", "- We will have healthy communities [1]",
        "- We will have high quality and efficient services [1]",
        "- We will have a health and care service that works for everyone, including our staff [1]"]
    # read line by line, as the answerability signals read it, the list ends as before
    assert [unit.lead for unit in extractive.units_of(places, unwrap=False)][:4] == [0, 0, None, None]


def test_the_sentence_after_the_best_one_comes_with_it():
    text = ("Continuing healthcare assessments were transferred to a new provider last year. "
            "We are now completing 80 per cent of them within 28 days. Car parking was resurfaced.")
    answer = extractive.answer("What improvements has the ICB made to continuing healthcare assessments?", [source(1, text)])
    assert "80 per cent of them within 28 days" in answer.text and "Car parking" not in answer.text
    signals = extractive.answer("What improvements has the ICB made to continuing healthcare assessments?", [source(1, text)],
                                shown=False)
    assert "80 per cent" not in signals.text  # as the answerability model was fitted to read it
    question = "How many community diagnostic centres will open?"
    for apart in ("\n\nWorkforce\n\nStaff turnover fell to 9 per cent.",  # a heading comes next
                  " The priorities for primary care are:\n- Access\n- Estates"):  # a lead-in to a list of its own
        answer = extractive.answer(question, [source(1, "We will open three community diagnostic centres by March 2026." + apart)])
        assert answer.text == "We will open three community diagnostic centres by March 2026. [1]"
    # it goes after the best one and before the close sentences: too long an answer loses those first
    hubs = [source(1, "Family hubs are in Darwen and Livesey. They opened in a refurbished library last spring."),
            source(2, "Family hubs in Darwen and Livesey open on weekdays.")]
    assert extractive.answer("Where are the family hubs in Darwen?", hubs, max_chars=100).text == (
        "Family hubs are in Darwen and Livesey. [1] They opened in a refurbished library last spring. [1]")


def test_the_sentence_after_a_close_one_comes_with_it_too():
    # the best sentence in one passage, a close one in another whose next sentence names who does it
    sources = [source(1, "Community group work on the streets of Barrow is led by local teams."),
               source(2, "Car parking was resurfaced. The Healthier Streets project in Barrow has targeted four streets. "
                         "Its partner is Love Barrow Families. Staff turnover fell.")]
    question = "Which community group works on the Healthier Streets project in Barrow?"
    answer = extractive.answer(question, sources)
    assert "Healthier Streets project" in answer.text and "Love Barrow Families" in answer.text
    assert answer.text.index("four streets") < answer.text.index("Love Barrow Families")  # next to the one it follows
    assert "Staff turnover" not in answer.text and "Car parking" not in answer.text
    assert "Love Barrow" not in extractive.answer(question, sources, shown=False).text  # as the model was fitted


def test_a_sentence_pointing_back_brings_the_one_it_points_to():
    text = ("Car parking was resurfaced. Morecambe Bay's trust moved from a rating of four, up to three. "
            "This takes the trust out of the Recovery Support Programme.")
    question = "Which trust came out of the Recovery Support Programme?"
    answer = extractive.answer(question, [source(1, text)])
    assert answer.text == ("Morecambe Bay's trust moved from a rating of four, up to three. [1] "
                           "This takes the trust out of the Recovery Support Programme. [1]")
    assert "Morecambe" not in extractive.answer(question, [source(1, text)], shown=False).text  # as the model was fitted
    # cut short (a comparison's cell), the answer keeps the sentence it was asked for, not the one it points back to
    long_before = ("University Hospitals of Morecambe Bay NHS Foundation Trust moved from segment four of the NHS "
                   "oversight framework to segment three after a long period of work on its finances, its quality, "
                   "its workforce and its leadership, as the regulator's letter to the board set out in detail. ")
    pointing = "This takes the trust out of the Recovery Support Programme, which it had been in since the spring."
    cell = extractive.answer(question, [source(1, long_before + pointing)], max_chars=150)
    assert cell.text == pointing + " [1]"
    plain = "Car parking was resurfaced. The trust left the Recovery Support Programme in May."
    assert extractive.answer(question, [source(1, plain)]).text == "The trust left the Recovery Support Programme in May. [1]"


def test_a_question_about_a_topic_as_a_whole_quotes_each_passage_that_bears_on_it():
    sources = [
        source(1, "The Better Care Fund pools NHS and council budgets."),
        source(2, "A review of the Better Care Fund across the four places is under way."),
        source(3, "In Blackpool the Better Care Fund pays for discharge support."),
        source(4, "The Better Care Fund in Lancashire funds reablement."),
        source(5, "Staff turnover fell to 9 per cent."),
    ]
    broad = extractive.answer("What do the documents say about the Better Care Fund?", sources)
    assert broad.cited == [1, 2, 3, 4]
    assert "turnover" not in broad.text
    # a question after one fact quotes the best sentences only, and so do the answerability signals and a
    # comparison's cell (its size set by the table)
    assert len(extractive.answer("Which places does the Better Care Fund cover?", sources).cited) == 3
    assert len(extractive.answer("What do the documents say about the Better Care Fund?", sources, shown=False).cited) == 3
    assert len(extractive.answer("What do the documents say about the Better Care Fund?", sources, max_chars=450).cited) == 3
    for one_fact in ("How will the Better Care Fund workforce be funded?", "What is the Better Care Fund summary care record?"):
        assert len(extractive.answer(one_fact, sources).cited) == 3, one_fact
    # as people ask it (an unseen "what's going on in Barrow?" got one passage of four)
    for asked in ("what's going on with the Better Care Fund?", "whats the Better Care Fund up to?",
                  "what's the deal with the Better Care Fund?"):
        assert extractive.answer(asked, sources).cited == [1, 2, 3, 4], asked
    for one_fact in ("How many places signed up to the Better Care Fund?", "Who turned up to the Better Care Fund review?",
                     "what is the Better Care Fund worth up to 2030?", "what's the Better Care Fund up to £5m for?"):
        assert len(extractive.answer(one_fact, sources).cited) == 3, one_fact


def test_a_question_asking_for_a_quantity_is_answered_by_the_sentence_that_gives_one():
    text = ("Neighbourhood teams are at the heart of how neighbourhoods in Lancashire and South Cumbria work together. "
            "Car parking was resurfaced.\n\nThere are currently 41 neighbourhoods.")
    sources = [source(1, text)]
    question = "How many neighbourhoods are there in Lancashire and South Cumbria?"
    assert extractive.answer(question, sources).text.startswith("There are currently 41 neighbourhoods.")
    # not as the answerability model reads it, nor for a question that asks for no quantity
    assert extractive.answer(question, sources, shown=False).text.startswith("Neighbourhood teams")
    assert extractive.answer("Where are neighbourhoods in Lancashire and South Cumbria?", sources).text.startswith("Neighbourhood teams")
    # a year is no figure, nor a name with digits in it; "what %" asks for one
    dated = [source(1, "The 2024 LSC2030 survey asked how long patients wait for a community mental health appointment."),
             source(2, "Patients will wait no longer than 14 days for a community mental health appointment.")]
    for asked in ("How long will patients wait for a community mental health appointment?",
                  "What % of patients wait for a community mental health appointment?"):
        assert extractive.answer(asked, dated).text.startswith("Patients will wait"), asked
        # what the best sentence holds is what it held before, whatever comes first (a comparison's row is kept by it)
        assert extractive.answer(asked, dated).best == extractive.answer(asked, dated, shown=False).best


def test_the_part_of_a_question_that_asks_for_a_quantity_is_answered_by_a_figure():
    hubs = [source(1, "Family hubs in Darwen are run by Darwen council."),
            source(2, "Staff turnover was low. The hubs saw 1,200 families.")]
    answer = extractive.answer("Who runs the family hubs in Darwen, and how many families did the hubs see?", hubs)
    assert "Family hubs in Darwen are run by Darwen council." in answer.text  # the other part, which asks for no figure
    assert "1,200 families" in answer.text, answer.text
    # the part asking for a figure is answered by one, not only by a sentence sharing its words
    areas = [source(1, "Local areas (ICPs) in the plan cover 300-500,000 people."),
             source(2, "There are great neighbourhoods and local areas."),
             source(3, "Neighbourhood teams number 41 in all.")]
    answer = extractive.answer("How big are local areas in the plan, and how many neighbourhoods are there?", areas)
    assert "41 in all" in answer.text, answer.text


def test_a_question_asking_who_wrote_or_leads_is_answered_by_the_name_signed_with_its_role():
    """A foreword signed "Professor Craig Harris" / "Chief Operating Officer" is read as one line, and a
    question asking who wrote it quotes that line first (a dev question quoted the foreword's sentences)."""
    foreword = source(1, "Professor Craig Harris\nChief Operating Officer\n\nWe continue to work with our partners.",
                      section="1. Foreword")
    intentions = replace(source(2, "This document describes our commissioning intentions for 2025/26, developed with patients.",
                                section="2. Introduction"), doc=foreword.doc)  # the same document
    signed = source(2, "We have to be ambitious.\n\nKevin Lavery\n\nChief executive, NHS Lancashire and South Cumbria "
                       "Integrated Care Board")
    texts = [unit.text for unit in extractive.units_of(foreword) + extractive.units_of(signed)]
    assert "Professor Craig Harris, Chief Operating Officer" in texts
    assert "Kevin Lavery, Chief executive, NHS Lancashire and South Cumbria Integrated Care Board" in texts
    # a cover sheet's row is no name, nor a heading a role
    assert "Confidential\tNo" in [u.text for u in extractive.units_of(source(3, "Confidential\tNo\nChair's summary\nIt grew."))]
    # a heading above a sentence is no name, nor a name joined to the line before it the head of a role
    heading = "Primary Care Networks\nChief Officer of primary care networks\n\nWe work with primary care."
    assert "Primary Care Networks" in [u.text for u in extractive.units_of(source(4, heading))]
    wrapped = extractive.units_of(source(5, "The foreword was written by\nKevin Lavery\nChief Executive"))
    assert [u.text for u in wrapped] == ["The foreword was written by Kevin Lavery", "Chief Executive"]
    asked = extractive.answer("Who wrote the foreword to the commissioning intentions 2025/26?", [intentions, foreword])
    assert "Professor Craig Harris, Chief Operating Officer [1]" in asked.text, asked.text
    # a person signing another document is not who the question means
    elsewhere = extractive.answer("Who wrote the foreword to the commissioning intentions 2025/26?",
                                  [replace(intentions, doc="other.txt"), foreword])
    assert "Craig Harris" not in elsewhere.text
    # not a question asking something else of it, nor a follow-up whose own question asks when
    assert "Craig Harris" not in extractive.answer("What are the commissioning intentions for 2025/26?", [intentions, foreword]).text
    dated = source(1, "Professor Craig Harris\nChief Operating Officer\n\nThe foreword was written in March 2025.",
                   section="1. Foreword")
    follow_up = "Who wrote the foreword? When was the foreword written?"
    assert extractive.answer(follow_up, [dated]).text.startswith("The foreword was written in March 2025. [1]")


def test_a_follow_up_is_answered_for_what_it_asks_last():
    """"How many priority wards are there? Who wrote the chief executive's report?" (a follow-up's rewrite) asks for a person."""
    signed = source(1, "Kevin Lavery\n\nChief executive, NHS Lancashire and South Cumbria ICB\n\nThis report sets out our progress.")
    wards = replace(source(2, "There are 33 priority wards across Lancashire and South Cumbria, 12 of them new."), doc=signed.doc)
    asked = extractive.answer("How many priority wards are there? Who wrote the chief executive's report?", [wards, signed])
    assert asked.text.startswith("Kevin Lavery, Chief executive"), asked.text
