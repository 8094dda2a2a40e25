"""A model's reply that says a thing twice, or loops: each thing said once, and a loop stopped."""

from __future__ import annotations

from assistant.repeats import looping, without_repeats
from assistant.stages import LOOPED
from tests.fakes import corpus_assistant, scripted  # noqa: F401 (fixtures)


def test_a_sentence_said_again_goes_with_its_citations_and_what_is_new_in_its_line_stays():
    text = ("The ICB had a deficit of £350m. [1] Big plans follow [2]. The ICB had a deficit of £350m [1].\n"
            "- Stroke [2]\n"
            "\n"
            "- stroke\n"
            "- The ICB had a deficit of £350m. [1] Waiting lists fell. [4]\n"
            "3. The ICB had a deficit of £350m [1]\n"
            "    - Thrombectomy services open [1]\n"
            "(The ICB had a deficit of £350m [1].) Beds rose [3].")
    assert without_repeats(text) == ("The ICB had a deficit of £350m. [1] Big plans follow [2].\n"
                                      "- Stroke [2]\n"
                                      "\n"
                                      "- stroke\n"  # too short to tell a repeat from a list under another heading
                                      "- Waiting lists fell. [4]\n"
                                      "    - Thrombectomy services open [1]\n"
                                      "Beds rose [3].")
    assert without_repeats("Plans [1]. More plans [2].") == "Plans [1]. More plans [2]."


def test_the_same_words_citing_another_passage_short_ones_headings_and_table_rows_are_not_repeats():
    timeline = ("2025/26:\n- Cancer: faster diagnosis for all [1]\n2026/27:\n- Cancer: faster diagnosis for all [2]\n"
                "- Cancer: faster diagnosis for all [2]")
    assert without_repeats(timeline) == timeline.rsplit("\n", 1)[0]
    kept = ("### Blackpool place plans\n- Yes. [1]\n**Key actions for the place:**\n- Not stated\n"
            "### Blackpool place plans\n- Yes. [2]\n**Key actions for the place:**\n- Not stated\n"
            "| Stroke care is a priority | Yes. | Yes. |\n| Stroke care is a priority | No. | Yes. |")
    assert without_repeats(kept) == kept


def test_a_repeat_keeps_the_citation_the_sentence_before_it_is_checked_against():
    text = "The deficit is £350m this year. [1] Plans follow here. The deficit is £350m this year. [1]"
    assert without_repeats(text) == "The deficit is £350m this year. [1] Plans follow here. [1]"


def test_a_loop_is_the_last_lines_all_said_before_with_the_same_citations():
    line = "- The ICB will keep its spending within budget [1]\n"
    other = "- Waiting lists will fall across the area [2]\n"
    assert looping(line + other + line + line + line)
    assert looping(line + other + line + other + line + other)  # a block going round
    assert not looping(line + other + line + line + line.rstrip("\n"))  # the last line still being written
    assert not looping(line + other + line + line + "- A new point about stroke care here [3]\n")
    assert not looping(line + line.replace("[1]", "[2]") + line.replace("[1]", "[3]") + line.replace("[1]", "[4]"))
    per_place = "".join(f"**{place}**\n- Yes [1]\n- Not stated\n" for place in ("Blackpool", "Preston", "Lancaster", "Burnley"))
    assert not looping(per_place)


def test_a_model_that_loops_is_stopped_and_its_answer_says_each_thing_once(corpus_assistant, scripted, monkeypatch):
    looped = []

    def generate(self, question, sources, audience="staff"):
        yield "- The ICB's budget is £5.4bn in 2025/26 [1].\n- The"
        while len(looped) < 50:  # a model in a loop writes until it runs out of tokens
            looped.append(1)
            yield " ICB will keep its spending within the budget it is given [1].\n- The"

    monkeypatch.setattr(scripted, "generate", generate)
    answer = corpus_assistant.ask("What is the annual budget for 2025/26?", backend="scripted")
    assert len(looped) == 4 and LOOPED in answer.notices, (len(looped), answer.notices)
    assert answer.answer.count("keep its spending") == 1 and answer.answer.count("£5.4bn") == 1, answer.answer
    assert not answer.answer.endswith("The")  # the line it had begun when stopped
