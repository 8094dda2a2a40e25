"""A model's reply that says a thing twice, or loops: each thing said once, and a loop stopped."""

from __future__ import annotations

from assistant.repeats import LOOP_SENTENCES, citation_changes, looping, settled, without_repeats
from assistant.stages import LOOPED
from tests.fakes import corpus_assistant, scripted  # noqa: F401 (fixtures)


def test_a_sentence_said_again_goes_with_its_citations_and_what_is_new_in_its_line_stays():
    text = ("The ICB had a deficit of £350m. [1] Big plans follow [2]. The ICB had a deficit of £350m [1].\n"
            "- Stroke [2]\n"
            "\n"
            "- stroke\n"
            "- The ICB had a deficit of £350m. [1] Waiting lists fell. [4]\n"
            "(The ICB had a deficit of £350m [1].) Beds rose by ten in Preston [3].\n"
            "- Yes. [1] Beds rose by ten in Preston [3].")
    assert without_repeats(text) == ("The ICB had a deficit of £350m. [1] Big plans follow [2].\n"
                                      "- Stroke [2]\n"
                                      "\n"
                                      "- Waiting lists fell. [4]\n"
                                      "Beds rose by ten in Preston [3].\n"
                                      "- Yes. [1]")  # a short sentence goes only with its whole line
    assert without_repeats("Plans [1]. More plans [2].") == "Plans [1]. More plans [2]."


def test_what_is_said_under_another_heading_or_citing_another_passage_is_not_a_repeat():
    timeline = ("2025/26:\n- Cancer: faster diagnosis for all [1]\n2026/27:\n- Cancer: faster diagnosis for all [2]\n"
                "- Cancer: faster diagnosis for all [2]")
    assert without_repeats(timeline) == timeline.rsplit("\n", 1)[0]
    per_place = "".join(f"### {place}\n#### Actions\n- Stroke care is a named priority [1]\n- Yes [1]\n"
                        for place in ("Blackpool", "Preston", "Lancaster", "Burnley"))
    assert without_repeats(per_place) == per_place
    assert not looping(per_place)
    bold = "".join(f"**{place}**\nKey actions:\n- Stroke care is a named priority [1]\n" for place in ("Blackpool", "Preston", "Barrow"))
    assert without_repeats(bold) == bold and not looping(bold)
    table = "| Stroke care is a priority | Yes. | Yes. |\n| Stroke care is a priority | No. | Yes. |"
    assert without_repeats(table) == table


def test_a_repeat_keeps_the_citation_the_sentence_before_it_is_checked_against_only_while_that_one_stays():
    text = "The deficit is £350m this year. [1] Plans follow here. The deficit is £350m this year. [1]"
    assert without_repeats(text) == "The deficit is £350m this year. [1] Plans follow here. [1]"
    twice = ("The deficit is £350m this year. Plans follow here in full. [1]\n"
             "The deficit is £350m this year. Plans follow here in full. [1] Funding comes from the Better Care Fund. [2]")
    assert without_repeats(twice) == "The deficit is £350m this year. Plans follow here in full. [1]\nFunding comes from the Better Care Fund. [2]"


def test_an_item_with_items_under_it_stays_and_a_loops_empty_headings_go():
    nested = "1. A plan for stroke care [1]\n2. B [2]\n3. A plan for stroke care [1]\n   - Thrombectomy will open in Preston [1]\n4. C [2]"
    assert without_repeats(nested) == nested
    looped = "### Stroke\n- A plan for stroke care [1]\n- Beds will rise by ten [2]\n" * 3
    assert without_repeats(looped) == "### Stroke\n- A plan for stroke care [1]\n- Beds will rise by ten [2]"


def test_a_heading_left_with_nothing_under_it_by_a_cut_goes():
    from assistant.repeats import without

    text = "### Timeline\n- Work starts in 2026/27 [1].\n### Other\n- Something said here [2]"
    assert without(text, lambda sentence: sentence.startswith("Work")) == "### Other\n- Something said here [2]"
    assert without("Timeline:\nWork starts in 2026/27 [1].", lambda sentence: sentence.startswith("Work")) == ""
    kept = "### Timeline\n- Work starts in 2026/27 [1].\n- Beds open in 2027/28 [2]."
    assert without(kept, lambda sentence: sentence.startswith("Work")) == "### Timeline\n- Beds open in 2027/28 [2]."


def test_a_loop_is_the_last_sentences_all_said_before_under_the_same_heading_with_the_same_citations():
    line = "- The ICB will keep its spending within budget [1]\n"
    other = "- Yes [1]\n"
    assert looping(line + other + line * LOOP_SENTENCES)
    assert looping((line + other) * (LOOP_SENTENCES // 2 + 1))  # a block going round, short lines and all
    assert looping("The plan is set. [1] " * (LOOP_SENTENCES + 2))  # in one paragraph
    assert not looping(line + other + line * (LOOP_SENTENCES - 1) + line.rstrip("\n"))  # the last still being written
    assert not looping(line + other + line * (LOOP_SENTENCES - 1) + "- A new point about stroke care here [3]\n")
    block = "".join(f"- Point number {n} about the plan here [1]\n" for n in range(LOOP_SENTENCES - 1))
    assert not looping(block + block + "- A new point after the block [2]\n")  # a block said twice, then on
    assert not looping("".join(line.replace("[1]", f"[{n}]") for n in range(1, LOOP_SENTENCES + 3)))


def test_a_stopped_loop_keeps_its_whole_sentences_only():
    assert settled("- A plan for stroke care [1]\n- A plan for str") == "- A plan for stroke care [1]\n"
    assert settled("The plan is set. [1] The plan is set. [1] The pl") == "The plan is set. [1] The plan is set. [1] "
    assert settled("- A plan for stroke care [1]\n") == "- A plan for stroke care [1]\n"


def test_a_model_that_loops_is_stopped_and_its_answer_says_each_thing_once(corpus_assistant, scripted, monkeypatch):
    looped = []

    def generate(self, question, sources, audience="staff"):
        yield "- The ICB's budget is £5.4bn in 2025/26 [1].\n- The"
        while len(looped) < 50:  # a model in a loop writes until it runs out of tokens
            looped.append(1)
            yield " ICB will keep its spending within the budget it is given [1].\n- The"

    monkeypatch.setattr(scripted, "generate", generate)
    answer = corpus_assistant.ask("What is the annual budget for 2025/26?", backend="scripted")
    assert len(looped) == LOOP_SENTENCES + 1 and LOOPED in answer.notices, (len(looped), answer.notices)
    assert answer.answer.count("keep its spending") == 1 and answer.answer.count("£5.4bn") == 1, answer.answer
    assert not answer.answer.endswith("The")  # the line it had begun when stopped


def test_the_notice_counts_only_the_cited_sentences_left_once_repeats_go(corpus_assistant, scripted):
    # the same uncited sentence three times: each is given the citation of the passage that holds it, two go as repeats
    line = "Our annual budget for 2025/26 is approximately £5.4billion."
    scripted.reply = "\n".join([line] * 3)
    answer = corpus_assistant.ask("What is the annual budget for 2025/26?", backend="scripted")
    assert answer.answer.count("£5.4billion") == 1 and "[1]" in answer.answer, answer.answer
    assert "1 sentence the model left uncited was given the citation" in " ".join(answer.notices), answer.notices


def test_citation_changes_count_the_sentences_still_there():
    before = "The budget is set [1].\nThe teams grow.\nThe plan is green [2].\nThe plan is green [2]."
    after = "The budget is set [2].\nThe teams grow [1].\nThe plan is green [2]."
    assert citation_changes(before, after) == (1, 1)  # one given a citation, one moved; the repeat gone
    assert citation_changes(before, before) == (0, 0)


def test_citation_changes_read_each_sentence_under_its_headings_and_count_only_its_own_citations():
    line = "Same day emergency care opens twelve hours a day"
    # under another heading the same words are another sentence: the Preston one was given [1]
    before = f"### Blackpool\n- {line} [1].\n- {line} [1].\n### Preston\n- {line}."
    assert citation_changes(before, f"### Blackpool\n- {line} [1].\n### Preston\n- {line} [1].") == (1, 0)
    # a sentence that now borrows its neighbour's new citation was given nothing itself
    before = f"Things look good. {line}.\nThe plan is green [2]."
    assert citation_changes(before, f"Things look good. {line} [1].\nThe plan is green [2].") == (1, 0)



def test_citation_changes_take_a_citation_the_model_gave_another_copy_of_the_sentence_as_no_change():
    line = "Waiting lists since the pandemic have grown a great deal for local people"
    before = f"{line}.\nThe plan is green [1].\n{line} [2]."
    assert citation_changes(before, f"{line} [2].\nThe plan is green [1].") == (0, 0)
