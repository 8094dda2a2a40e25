"""A model's reply that says a thing twice, or loops: each thing said once, and a loop stopped."""

from __future__ import annotations

from assistant.repeats import looping, without_repeats
from assistant.stages import LOOPED
from tests.fakes import corpus_assistant, scripted  # noqa: F401 (fixtures)


def test_a_sentence_said_again_goes_with_its_citations_and_what_is_new_in_its_line_stays():
    text = ("The ICB had a deficit of £350m. [1] Big plans follow [2]. The ICB had a deficit of £350m [3].\n"
            "- Stroke [2]\n"
            "\n"
            "- stroke\n"
            "- The ICB had a deficit of £350m. [1] Waiting lists fell. [4]\n"
            "-")
    assert without_repeats(text) == ("The ICB had a deficit of £350m. [1] Big plans follow [2].\n"
                                      "- Stroke [2]\n"
                                      "\n"
                                      "- Waiting lists fell. [4]")
    assert without_repeats("Plans [1]. More plans [2].") == "Plans [1]. More plans [2]."


def test_a_loop_is_a_whole_line_written_for_the_third_time():
    assert looping("- A [1]\n- B [2]\n- A [1]\n- A. [1]\n")
    assert not looping("- A [1]\n- B [2]\n- A [1]\n- A [1]")  # the third still being written
    assert not looping("- A [1]\n- B [2]\n- A [1]\n\n\n\n")  # blank lines are no loop


def test_a_model_that_loops_is_stopped_and_its_answer_says_each_thing_once(corpus_assistant, scripted, monkeypatch):
    looped = []

    def generate(self, question, sources, audience="staff"):
        yield "- The ICB's budget is £5.4bn in 2025/26 [1].\n"
        while len(looped) < 50:  # a model in a loop writes until it runs out of tokens
            looped.append(1)
            yield "- The ICB will keep its spending within the budget it is given [1].\n"

    monkeypatch.setattr(scripted, "generate", generate)
    answer = corpus_assistant.ask("What is the annual budget for 2025/26?", backend="scripted")
    assert len(looped) == 3 and LOOPED in answer.notices, (len(looped), answer.notices)
    assert answer.answer.count("keep its spending") == 1 and answer.answer.count("£5.4bn") == 1, answer.answer
