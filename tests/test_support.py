"""Sentence support: each sentence of an answer checked against the passages it cites."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from assistant import support
from assistant.abbreviations import Glossary
from assistant.answers import Source
from eval import support_check
from eval.gold import GoldItem, GoldSource
from tests.fakes import corpus_assistant, scripted  # noqa: F401 (fixtures)

PASSAGE = Source(
    n=1, doc="intentions.txt", title="Commissioning Intentions 2025/26", section="5.2. Urgent care", page=None,
    text=("Our budget is £5.4bn in 2025/26, of which 15% goes on mental health. We aim to have same day "
          "emergency care services open twelve hours a day in Blackpool, and 1,200 more staff by 2027-28."),
    start=0, end=200, date="2025-03",
)
BOARD = Source(n=2, doc="board.txt", title="Board paper", section="Roadmap", page=None,
               text="The roadmap sets three big shifts for the Royal Preston Hospital.", start=0, end=80, date="2025-05")


def one(text: str, sources=(PASSAGE,), glossary=None) -> support.SentenceSupport:
    checked = support.check(text, list(sources), glossary)
    assert len(checked) == 1, checked
    return checked[0]


@pytest.mark.parametrize("sentence", [
    "The budget is £5.4 billion in 2025-26 [1].",
    "The budget is £5.4billion in 25/26 [1].",
    "Fifteen per cent goes on mental health: 15 per cent of the budget [1].",
    "Same day emergency care opens 12 hours a day in Blackpool [1].",
    "There will be 1200 more staff by 2027/2028 [1].",
])
def test_the_usual_spellings_of_a_figure_agree(sentence):
    assert one(sentence).support == "supported"


@pytest.mark.parametrize("sentence, named", [
    ("The budget is £1 billion in 2025/26 [1].", "£1 billion"),
    ("Some 25% goes on mental health [1].", "25%"),
    ("There will be 1,500 more staff [1].", "1,500"),
    ("There will be 1,200 more staff by 2030/31 [1].", "2030/31"),
    ("Same day emergency care opens in Burnley [1].", "Burnley"),
    ("The budget is set at Royal Lancaster Infirmary [1].", "Royal Lancaster Infirmary"),
])
def test_a_figure_year_or_name_no_cited_passage_holds_is_unsupported_and_named(sentence, named):
    checked = one(sentence)
    assert checked.support == "unsupported"
    assert checked.reason.startswith(named) and checked.reason.endswith("not in [1].")


def test_names_are_found_as_the_passage_or_the_glossary_writes_them():
    sentence = "Blackpool runs UC services twelve hours a day [1]."
    assert one(sentence, glossary=Glossary({"UC": "urgent care"})).support == "supported"
    assert one(sentence).support == "unsupported"  # no glossary: "UC" is not known
    assert one("Blackpool runs SDEC services twelve hours a day [1].").support == "supported"  # spelled out in [1]
    defined = "Same day emergency care (SDEC) services open twelve hours a day in Blackpool [1]."
    assert one(defined).support == "supported"  # the sentence says what it stands for
    assert one("The May 2025 board paper sets three big shifts [2].", [BOARD]).support == "supported"  # its date


def test_a_sentence_whose_words_its_passage_does_not_hold_is_unsupported():
    checked = one("Parking charges for visitors will rise next spring [1].")
    assert checked.support == "unsupported" and checked.reason == "Few of its words are in [1]."
    assert one("Yes [1].").support == "supported"  # too few words to judge by them


def test_sentences_and_their_citations():
    text = ("The budget is £5.4bn. Blackpool gets the services [1].\n"
            "The priorities are:\n- Mental health, 15% [1]\n- Three big shifts. [2]\nNo citation here.")
    assert support.sentences(text) == [
        ("The budget is £5.4bn.", (1,)),  # no citation of its own: the next one in its line vouches for it
        ("Blackpool gets the services [1].", (1,)),
        ("Mental health, 15% [1]", (1,)),  # the lead-in "The priorities are:" states nothing
        ("Three big shifts. [2]", (2,)),  # a citation after the full stop is the sentence's
        ("No citation here.", ()),
    ]
    checked = support.check(text, [PASSAGE, BOARD])
    assert [s.support for s in checked] == ["supported", "supported", "supported", "supported", "uncited"]
    assert not support.supported(checked) and support.supported(checked[:4])
    assert checked[0].to_dict() == {"text": "The budget is £5.4bn.", "citations": [1], "support": "supported", "reason": ""}


def test_a_citation_of_a_passage_not_given_counts_as_none():
    assert one("The budget is £5.4bn [7].").support == "uncited"


@pytest.mark.parametrize("question", [
    "What does the Jean Bishop Integrated Care Centre in Hull provide?",
    "What are the plans for same-day emergency care (SDEC) in 2025/26?",
    "How big is the deficit in the 2024 state of the system report?",
    "What are the eight priorities in Our next steps?",
])
def test_quoted_answers_are_supported_sentence_by_sentence(corpus_assistant, question):
    answer = corpus_assistant.ask(question)
    assert answer.status == "answered"
    assert answer.sentences and all(s.support == "supported" for s in answer.sentences), answer.sentences
    assert answer.supported
    assert json.loads(json.dumps(answer.to_dict()))["sentences"][0]["support"] == "supported"


def test_a_model_answer_with_a_figure_its_passage_lacks_is_marked_with_the_reason(corpus_assistant, scripted):
    question = "What does the Jean Bishop Integrated Care Centre in Hull provide?"
    read = corpus_assistant.ask(question).citations[0].passage  # the number the Hull passage is read under
    # a name the Hull passage lacks (a figure it lacks is not shown at all: see test_answering)
    scripted.reply = f"The centre in Hull is run by Morecambe Bay Trust [{read}]. It serves frail older people [{read}]."
    answer = corpus_assistant.ask(question, backend="scripted")
    wrong = answer.sentences[0]
    assert wrong.support == "unsupported" and wrong.reason == "Morecambe Bay Trust is not in [1]."  # numbered as cited
    assert not answer.supported
    assert any("not supported by the passages cited" in notice for notice in answer.notices)
    shown = answer.to_dict()["sentences"]
    assert shown[0]["support"] == "unsupported" and shown[0]["citations"] == [1]


@pytest.mark.parametrize("sentence", [
    "Same Day Emergency Care (SDec) opens twelve hours a day in Blackpool [1].",  # a short form in brackets, any case
    "Same Day Emergency Care opens twelve hours a day in Blackpool, so SDEC is open longer [1].",  # written out, then short
])
def test_a_short_form_the_sentence_defines_itself_is_held_where_its_words_are(sentence):
    assert one(sentence).support == "supported"
    assert one(sentence.replace("Same Day Emergency Care", "Same Day Elective Care")).support == "unsupported"


def test_an_acronym_the_sentence_spells_out_itself_is_held_where_its_words_are():
    passage = Source(n=1, doc="roadmap.txt", title="Roadmap", section="Cancer", page=None,
                     text="The cancer programme will use artificial intelligence within its pathways.", start=0, end=80)
    assert one("Artificial Intelligence is used in the cancer pathways, where AI helps [1].", [passage]).support == "supported"
    assert one("Machine learning is used in the cancer pathways, where AI helps [1].", [passage]).support == "unsupported"


def test_an_uncited_sentence_is_given_the_citation_of_the_passage_that_holds_it():
    text = ("The roadmap sets three big shifts for the Royal Preston Hospital.\n"
            "- Our budget is £5.4bn in 2025/26 [1]\n"
            "- The budget is £9.9bn and rising fast every year.\n"
            "- It is also green.")
    attributed, added = support.attribute(text, [PASSAGE, BOARD])
    assert added == 1
    assert attributed.splitlines()[0] == "The roadmap sets three big shifts for the Royal Preston Hospital. [2]"
    assert attributed.splitlines()[1:] == text.splitlines()[1:]  # cited, invented (£9.9bn), too short: left as written
    assert [s.support for s in support.check(attributed, [PASSAGE, BOARD])] == ["supported", "supported", "uncited", "uncited"]


def test_a_short_uncited_item_is_cited_to_the_passage_holding_it_that_its_neighbours_cite_or_the_only_one():
    third = Source(n=3, doc="c.txt", title="Plan C", section="Places", page=None, start=0, end=60,
                   text="Mental health services in Blackpool and the Royal Preston Hospital.")
    text = "The priorities are: [1]\n- Blackpool\n- Mental health\n- Royal Preston Hospital\n- Dementia care\n- Urgent care"
    attributed, added = support.attribute(text, [PASSAGE, BOARD])
    assert added == 4 and attributed.splitlines()[1:] == [
        "- Blackpool [1]", "- Mental health [1]", "- Royal Preston Hospital [2]", "- Dementia care", "- Urgent care [1]"]
    # held by two passages and cited by no neighbour: no citation; a neighbour's citation picks one
    assert support.attribute("- Mental health\n- Dementia care", [PASSAGE, third]) == ("- Mental health\n- Dementia care", 0)
    assert support.attribute("- Mental health\n- Royal Preston Hospital [3]", [PASSAGE, third])[0].startswith("- Mental health [3]")


def test_a_heading_a_bare_yes_or_an_item_in_another_block_takes_no_citation_from_a_list():
    preston = Source(n=3, doc="c.txt", title="Plan C", section="Places", page=None, start=0, end=80,
                     text="Preston puts mental health and dementia care first. Yes, it covers urgent care.")
    for text in ("### Mental health\n**Urgent care**\n| Blackpool |", "Yes.\n- Yes\n- No\n- Other"):
        assert support.attribute(text, [PASSAGE, BOARD, preston]) == (text, 0)
    # the sentence citing [1] is in another block, under another heading: it picks nothing for the items
    text = "Blackpool puts mental health first [1].\n\n### Preston\n- Mental health\n- Dementia care"
    assert support.attribute(text, [PASSAGE, BOARD, preston])[0].splitlines()[-2:] == ["- Mental health", "- Dementia care [3]"]


def test_a_citation_is_added_after_the_sentence_itself_not_an_earlier_lead_in_with_its_words():
    text = "Same day emergency care opens twelve hours a day in Blackpool:\n- Same day emergency care opens twelve hours a day in Blackpool"
    attributed, added = support.attribute(text, [PASSAGE])
    assert added == 1 and attributed == text + " [1]"


def test_a_model_answer_left_uncited_is_cited_where_a_passage_holds_it_and_says_so(corpus_assistant, scripted):
    question = "What is the annual budget for 2025/26?"
    quoted = corpus_assistant.ask(question).answer  # the budget sentence, quoted and cited
    sentence = support.CITATION.sub("", quoted.split("[")[0]).strip()
    scripted.reply = f"{sentence} The ICB will also build a heron sanctuary by the estuary."
    answer = corpus_assistant.ask(question, backend="scripted")
    assert [s.support for s in answer.sentences] == ["supported", "uncited"]
    assert answer.sentences[0].citations == (1,) and answer.citations
    assert any("1 sentence the model left uncited was given the citation" in notice for notice in answer.notices)


def test_a_sentence_citing_a_passage_that_does_not_hold_it_cites_the_one_that_does():
    text = ("The roadmap sets three big shifts for the Royal Preston Hospital. [1]\n"
            "- Our budget is £5.4bn in 2025/26, of which 15% goes on mental health [2]\n"
            "- Our budget is £5.4bn in 2025/26, of which 15% goes on mental health [1]\n"
            "- The budget is £9.9bn in 2025/26 and 15% goes on mental health. [2]")
    recited, moved = support.recite(text, [PASSAGE, BOARD])
    assert moved == 2
    assert recited.splitlines() == [
        "The roadmap sets three big shifts for the Royal Preston Hospital. [2]",
        "- Our budget is £5.4bn in 2025/26, of which 15% goes on mental health [1]",
        "- Our budget is £5.4bn in 2025/26, of which 15% goes on mental health [1]",  # already right: as written
        "- The budget is £9.9bn in 2025/26 and 15% goes on mental health. [2]",  # no passage holds £9.9bn: as written
    ]
    assert [s.support for s in support.check(recited, [PASSAGE, BOARD])] == ["supported", "supported", "supported", "unsupported"]


def test_a_recited_sentence_keeps_one_citation_where_its_last_stood_and_one_vouched_for_gets_its_own():
    text = "The roadmap [1] sets three big shifts for the Royal Preston Hospital [1]. Our budget is £5.4bn in 2025/26. [1]"
    recited, moved = support.recite(text.replace("Our budget is £5.4bn in 2025/26. [1]", "It is £5.4bn. [2]"), [PASSAGE, BOARD])
    assert moved == 1 and recited.startswith("The roadmap sets three big shifts for the Royal Preston Hospital [2].")
    # the first sentence takes the second's [2] (BOARD): it is checked against it, and PASSAGE holds it
    text = "Our budget is £5.4bn in 2025/26, with 15% on mental health. The roadmap sets three big shifts for the Royal Preston Hospital. [2]"
    recited, moved = support.recite(text, [PASSAGE, BOARD])
    assert moved == 1
    assert recited == text.replace("health.", "health. [1]")


def test_a_sentence_is_not_recited_to_a_passage_about_another_place_nor_given_another_lines_citation():
    blackpool = Source(n=1, doc="a.txt", title="Plan A", section="Places", page=None, start=0, end=60,
                       text="Blackpool plans to renew the seafront health centre.")
    preston = Source(n=2, doc="b.txt", title="Plan B", section="Places", page=None, start=0, end=60,
                     text="Preston will open new community hubs across the town.")
    text = "Blackpool will open new community hubs across the town [1]."
    assert support.recite(text, [blackpool, preston]) == (text, 0)  # its first word names a place [2] does not hold
    # "Source: [1]" lends [1] to the sentence before it, and is no sentence itself: a later line's move leaves them be
    other = Source(n=3, doc="c.txt", title="Plan C", section="Other", page=None, text="Unrelated words here.", start=0, end=30)
    text = ("Our budget is £5.4bn in 2025/26, of which 15% goes on mental health. Source: [1]\n"
            "- The roadmap sets three big shifts for the Royal Preston Hospital [3]")
    recited, moved = support.recite(text, [PASSAGE, BOARD, other])
    assert moved == 1 and recited == text.replace("[3]", "[2]")


def test_a_model_answer_citing_the_wrong_passage_cites_the_right_one_and_says_so(corpus_assistant, scripted):
    question = "What is the annual budget for 2025/26?"
    quoted = corpus_assistant.ask(question)
    sentence = support.CITATION.sub("", quoted.answer.split("[")[0]).strip()
    holder = quoted.citations[0]
    other = next(s for s in quoted.contexts if s.doc != holder.doc or s.start != holder.start)
    scripted.reply = f"{sentence} [{other.passage or other.n}]"  # the model is given the passages under their first numbers
    answer = corpus_assistant.ask(question, backend="scripted")
    assert [s.support for s in answer.sentences] == ["supported"], answer.sentences
    assert (answer.citations[0].doc, answer.citations[0].start) == (holder.doc, holder.start)
    assert any("1 sentence did not cite the passage that holds it" in notice for notice in answer.notices)


# -- the measure of the check --------------------------------------------------------------------


def corpus() -> support_check.Corpus:
    from index.catalog import StoredChunk

    text = PASSAGE.text + "\n\n" + BOARD.text
    chunks = {
        "intentions.txt": [StoredChunk("c1", "intentions.txt", 0, PASSAGE.section, None, None, 0, len(PASSAGE.text), 60, "", PASSAGE.text)],
        "board.txt": [StoredChunk("c2", "board.txt", 0, BOARD.section, None, None, 0, len(BOARD.text), 20, "", BOARD.text)],
    }
    texts = {"intentions.txt": text[: len(PASSAGE.text)], "board.txt": BOARD.text}

    def number(held, n):
        source = PASSAGE if held[0].doc == "intentions.txt" else BOARD
        return Source(**{**source.__dict__, "n": n})

    return support_check.Corpus(texts, chunks, number)


ITEM = GoldItem(
    id="ci-900", question="What is the budget?", type="fact",
    reference_answer="The budget is £5.4bn in 2025/26. Same day emergency care opens twelve hours a day in Blackpool.",
    key_facts=(("£5.4bn",),), sources=(GoldSource("intentions.txt", "Our budget is £5.4bn in 2025/26"),),
)


OTHER = GoldItem(
    id="bp-900", question="What are the shifts?", type="fact",
    reference_answer="The roadmap sets three big shifts for the Royal Preston Hospital.", key_facts=(("shifts",),),
    sources=(GoldSource("board.txt", "three big shifts"),),
)


def test_corruptions_make_each_kind_of_wrong_sentence_and_the_check_catches_them():
    everything = support_check.build([ITEM, OTHER], corpus())
    cases = [case for case in everything if case.id == ITEM.id]
    untouched = cases[0]
    assert untouched.corrupted is None and untouched.sentences[0] == "The budget is £5.4bn in 2025/26. [1]"
    made = {case.kind: case for case in cases[1:]}
    assert set(made) == set(support_check.KINDS)
    assert "£16.2bn" in made["figure"].sentences[0]
    assert "2028/29" in made["year"].sentences[0]
    assert "Blackpool" not in made["name"].text and made["name"].corrupted == 1
    assert made["document"].sources[-1].doc == "board.txt" and "[2]" in made["document"].sentences[made["document"].corrupted]
    figures = support_check.measure(cases, support.MIN_WORD_SHARE)
    assert figures["false_flag_rate"] == 0.0 and figures["catch_rate"] == 1.0 and figures["corruptions"] == 4
    assert support_check.measure(everything, support.MIN_WORD_SHARE)["answers"] == 2


def test_a_citation_ends_a_name():
    """Quotes joined on one line: "… the Royal Lancaster Infirmary [1] Work is also planned …"."""
    assert [s.written for s in support.specifics("the Royal Lancaster Infirmary [1] Work is planned")] == [
        "Royal Lancaster Infirmary"]


def test_a_small_count_is_checked_and_a_label_is_not():
    """The local model answered "How many of the 33 priority wards are in Blackburn with Darwen?" with
    "There are 3 priority wards in Blackburn with Darwen. [1]", which no passage says; a lone digit was
    never checked, since most are labels."""
    wards = Source(n=1, doc="d.txt", title="T", section="5.3.1. Blackburn with Darwen", page=None,
                   text="- Continue focus on priority wards and high intensity users. Tier 2 services open.", start=0, end=80)
    assert one("There are 3 priority wards in Blackburn with Darwen. [1]", [wards]).reason == "3 priority wards is not in [1]."
    hubs = replace(wards, text="Tier 2 services open in three hubs.")
    assert one("Tier 2 services open in 3 hubs. [1]", [hubs]).support == "supported"  # "three hubs"; "Tier 2" a label
    for label in ("Priority 4 aims to build a group model.", "1. Maximise the benefits", "No one waits 4 hours.",
                  "| 2.1 LSC 2030 sets out our ambitions", "- 3 community diagnostic centres",
                  "Hubs and wards | 4 Recommendations to the board |"):  # a table cell's first figure
        assert [s for s in support.specifics(label) if s.kind in ("number", "count")] == [], label
    # held only beside what it counts: "three" elsewhere in the passage does not hold "3 priority wards"
    elsewhere = replace(wards, text="There are three hubs. The priority wards are in Darwen.")
    assert one("There are 3 priority wards in Darwen. [1]", [elsewhere]).support == "unsupported"
    assert one("There are 3 priority wards in Darwen. [1]", [replace(wards, text="Three priority wards are in Darwen.")]
               ).support == "supported"
    # near one of the words it counts, either side, as passages write it (review): not only right after it
    for said, written in [("We will open 3 new hubs in Darwen. [1]", "Three hubs will open in Darwen."),
                          ("There are 4 acute trusts in Darwen. [1]", "| Acute trusts in Darwen | 4 |"),
                          ("There are 3 priority wards in Darwen. [1]", "Priority wards in Darwen: 3.")]:
        assert one(said, [replace(wards, text=written)]).support == "supported", said
    # a date is no count, and a count is no figure an answer is withheld for (only its sentence is marked)
    assert [s.kind for s in support.specifics("It starts on 1 April 2026.")] == ["year", "name"]
    assert "count" not in support.FIGURES


def test_scaled_figures_and_written_out_acronyms():
    passage = Source(n=1, doc="d.txt", title="T", section="S", page=None,
                     text="Around 1.8 million residents. A budget of £5.4 billion. SDEC services open in Blackpool.", start=0, end=90)
    assert one("It serves about 1.9 million residents [1].", [passage]).reason == "1.9 million is not in [1]."
    assert one("It spends 7.1 billion pounds [1].", [passage]).reason == "7.1 billion is not in [1]."
    assert one("Around 1.8 million residents and a budget of 5.4 billion pounds [1].", [passage]).support == "supported"
    assert one("The Same Day Emergency Care services open in Blackpool [1].", [passage]).support == "supported"


def test_figures_no_passage_read_holds_are_found_whatever_is_cited():
    # the usual spellings of what the passages hold are theirs; cited or not, any passage read counts
    held = "The budget is £5.4 billion [2], 15 per cent on mental health and 1200 more staff by 2027/2028."
    assert support.unsourced_figures(held, [PASSAGE, BOARD]) == []
    made_up = "There are 10,437 GP practices [1], costing £1.5 million a year from 2031."
    assert support.unsourced_figures(made_up, [PASSAGE, BOARD]) == ["10,437", "£1.5 million", "2031"]
    # a figure the question gave may be repeated; a lone digit or a name is not a figure checked here
    assert support.unsourced_figures("Of the 700,000 appointments, 3 are in Barrow [1].", [PASSAGE],
                                     asked="How many of the 700,000 appointments are in Barrow?") == []


def test_a_figure_the_cited_passage_does_not_hold_is_unbacked_even_when_another_passage_has_it():
    # £5.4bn is in PASSAGE, not in the board paper the first sentence cites; the other sentence is backed
    text = "The roadmap's budget is £5.4bn [2]. The roadmap sets three big shifts for the Royal Preston Hospital [2]."
    checked = support.check(text, [PASSAGE, BOARD])
    assert [s.support for s in checked] == ["unsupported", "supported"]
    assert support.unbacked_figures(text, checked, [PASSAGE, BOARD]) == ["£5.4bn"]
    # a figure the question gives may be repeated, and so may one the answer has said, backed, already
    assert support.unbacked_figures(text, checked, [PASSAGE, BOARD], asked="Is it £5.4bn?") == []
    said = "Our budget is £5.4bn in 2025/26 [1]. " + text
    assert support.unbacked_figures(said, support.check(said, [PASSAGE, BOARD]), [PASSAGE, BOARD]) == []
    # a sentence marked for its words alone has no figure to blame
    words = "Blackpool has a lovely pier and fine trams today [2]."
    few = support.check(words, [PASSAGE, BOARD])
    assert few[0].support == "unsupported" and support.unbacked_figures(words, few, [PASSAGE, BOARD]) == []


def test_a_sentence_checked_against_the_next_ones_citation_is_marked_not_blamed_for_its_figure():
    # with no citation of its own it is marked, as one citing nothing is, on its line or before another
    for text in ("The yearly spend should come to roughly £5.4bn overall. The roadmap sets three big shifts [2].",
                 "The yearly spend should come to roughly £5.4bn overall.\nThe roadmap sets three big shifts [2]."):
        checked = support.check(text, [PASSAGE, BOARD])
        assert checked[0].support in ("unsupported", "uncited")
        assert support.unbacked_figures(text, checked, [PASSAGE, BOARD]) == [], text


@pytest.mark.parametrize("named", [
    "Since the 2019 plan", "Since the 2025/26 intentions", "Since the 2025-26 commissioning intentions",
    "As the LSC 2030 vision says", "In line with the 10 Year Health Plan", "With NHS 111 and since Covid-19",
])
def test_a_year_or_number_in_a_name_is_not_an_unbacked_figure(named):
    text = f"{named} the roadmap sets three big shifts for the Royal Preston Hospital [1]."
    board = replace(BOARD, n=1)
    assert support.unbacked_figures(text, support.check(text, [board]), [board]) == []


def test_a_year_standing_alone_is_an_unbacked_figure_even_when_a_document_is_dated_then():
    board = replace(BOARD, n=1)  # dated May 2025, holds no year in its text
    for text, year in (("The roadmap sets three big shifts for the Royal Preston Hospital in 2019 [1].", "2019"),
                       ("The new Royal Preston Hospital opens in 2038, the roadmap sets three big shifts [1].", "2038")):
        checked = support.check(text, [board])
        assert support.unbacked_figures(text, checked, [board]) == [year], text
