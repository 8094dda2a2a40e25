"""The answer pipeline: answerers looked up by name, the stages, and the trace an answer carries."""

from __future__ import annotations

import dataclasses
import re

import pytest

from assistant.answerers import ANSWERERS, UnknownAnswerer, answerer_class, make_answerer
from tests.fakes import corpus_assistant, in_band, scripted  # noqa: F401 (fixtures)

DEFICIT = "What would the system deficit be without national support funding?"


def test_the_three_answerers_are_registered_and_an_unknown_name_says_which_there_are(settings):
    assert list(ANSWERERS) == ["local", "openai", "extractive"]
    assert [answerer_class(name).uses_llm for name in ANSWERERS] == [True, True, False]
    assert make_answerer("local", settings).context_budget == 510
    assert make_answerer("openai", settings).context_budget == 3000
    assert make_answerer("local", settings.model_copy(update={"context_tokens": 900})).context_budget == 900
    with pytest.raises(UnknownAnswerer, match="choose local, openai or extractive"):
        answerer_class("gpt")


def test_a_registered_answerer_answers_and_its_citations_are_checked(corpus_assistant, scripted):
    scripted.reply = "The deficit would be about £350million [1]. And green [42]."
    events = list(corpus_assistant.stream(DEFICIT, backend="scripted"))
    answer = events[-1].answer
    assert answer.status == "answered" and answer.backend == "scripted" and answer.model == "scripted"
    assert answer.answer == "The deficit would be about £350million [1]. And green."
    assert any("[42]" in notice for notice in answer.notices) and not answer.fell_back
    assert "".join(e.text for e in events if e.kind == "token").startswith("The deficit would be")
    question, sources = scripted.asked[-1]
    assert question == DEFICIT and sources == [dataclasses.replace(s, passage=0) for s in answer.contexts]
    assert all(s.passage == s.n for s in answer.contexts)  # it cites [1] first: the numbering stands


def test_a_failing_answerer_falls_back_to_quotations(corpus_assistant, scripted):
    scripted.failure = "the scripted model is down"
    answer = corpus_assistant.ask(DEFICIT, backend="scripted")
    assert answer.status == "answered" and answer.model == "extractive" and answer.fell_back
    assert "£350million" in answer.answer and "scripted model is down" in answer.notices[0]
    assert not corpus_assistant.ask(DEFICIT).fell_back  # the extractive answerer itself never falls back


def test_not_in_documents_is_never_shown_and_refuses(corpus_assistant, scripted, in_band):
    question = "How much will the Jean Bishop Integrated Care Centre in Hull cost to build?"
    in_band(corpus_assistant, question, "uncertain")  # it reaches the model
    scripted.reply = "NOT_IN_DOCUMENTS"
    events = list(corpus_assistant.stream(question, backend="scripted"))
    assert events[-1].answer.status == "unanswerable" and "don't cover" in events[-1].answer.answer
    assert not [e for e in events if e.kind == "token"]


def test_the_answer_carries_what_was_searched_found_and_decided(corpus_assistant):
    history = ["What are the cancer plans in the LSC2030 roadmap for 2026/27?"]
    answer = corpus_assistant.ask("And the year after?", history=history)
    search = answer.search
    assert search.query == answer.rewritten_question == "What are the cancer plans in the LSC2030 roadmap for 2027/28?"
    assert search.also == ("And the year after?",) and search.k == corpus_assistant.settings.search_top_k
    scores = [p.score for p in search.passages]
    assert scores == sorted(scores, reverse=True) and len(scores) == search.k
    assert 0 <= answer.decision.probability <= 1 and answer.decision.signals["coverage"] > 0
    # the search alone (as evaluation runs it without answers) is the answer's search
    alone = corpus_assistant.retrieve("And the year after?", history)
    assert alone.query == search.query and [p.id for p in alone.passages] == [p.id for p in search.passages]


def test_a_refusal_shows_the_signal_it_was_decided_on(corpus_assistant):
    answer = corpus_assistant.ask("What is the best recipe for a Victoria sponge cake?")
    assert answer.status == "unanswerable"
    assert not answer.decision.answerable and answer.decision.probability < answer.decision.threshold
    assert answer.search.passages  # it searched; the passages did not cover the question


def test_an_error_has_no_trace_and_the_json_has_none(corpus_assistant):
    error = corpus_assistant.ask("   ")
    assert error.status == "error" and error.search is None and error.decision is None
    data = corpus_assistant.ask(DEFICIT).to_dict()
    assert set(data) == {"status", "answer", "citations", "contexts", "rewritten_question", "timings", "backend",
                         "model", "supported", "notices", "answerability", "sentences"}
    assert error.to_dict()["answerability"] is None and error.to_dict()["sentences"] == []


# -- quotes while an LLM writes ------------------------------------------------------------------


def test_an_llm_answer_is_preceded_by_the_quotes_which_it_replaces(corpus_assistant, scripted):
    quotes = corpus_assistant.ask(DEFICIT).answer  # the extractive answer to the same question
    scripted.reply = "Without national support the deficit would be about £350million [1]."
    events = corpus_assistant.stream(DEFICIT, backend="scripted")
    first = [next(events), next(events)]
    assert [e.kind for e in first] == ["sources", "quoted"] and first[1].text == quotes
    assert scripted.asked == []  # shown before the model was asked: it cannot wait for its first token
    numbers = [int(n) for n in re.findall(r"\[(\d+)\]", quotes)]
    assert numbers and [s.n for s in first[1].sources] == list(dict.fromkeys(numbers))  # with the sources they cite
    rest = list(events)
    assert rest[0].kind == "token" and "quoted" not in [e.kind for e in rest]
    answer = rest[-1].answer
    assert answer.model == "scripted" and answer.answer == scripted.reply and not answer.fell_back
    # the extractive answerer writes the quotes itself: none are sent ahead of them
    assert "quoted" not in [e.kind for e in corpus_assistant.stream(DEFICIT)]


def test_a_refused_question_sends_no_quotes_and_the_model_is_not_asked(corpus_assistant, scripted):
    answered = [e.kind for e in corpus_assistant.stream(DEFICIT, backend="scripted")]
    refused = list(corpus_assistant.stream("What is the best recipe for a Victoria sponge cake?", backend="scripted"))
    assert "quoted" in answered  # the same answerer sends quotes for a question the documents cover
    assert refused[-1].answer.status == "unanswerable" and "quoted" not in [e.kind for e in refused]
    assert len(scripted.asked) == 1


def test_when_the_model_fails_the_quotes_shown_are_the_answer_that_remains(corpus_assistant, scripted):
    scripted.failure = "the scripted model is down"
    events = list(corpus_assistant.stream(DEFICIT, backend="scripted"))
    kinds = [e.kind for e in events]
    assert kinds.index("quoted") < kinds.index("notice") < kinds.index("reset")
    answer = events[-1].answer
    assert answer.fell_back and answer.answer == events[kinds.index("quoted")].text


def test_the_extractive_answer_is_made_once_an_answer(corpus_assistant, monkeypatch):
    """The decision makes the extractive answer to read its signals; the answer it gives is that one,
    not made again."""
    from assistant import extractive

    made = []
    real = extractive.answer

    def counted(*args, **kwargs):
        if kwargs.get("unwrap", True):  # the answer; the signals read one line by line (see stages.decide)
            made.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(extractive, "answer", counted)
    answer = corpus_assistant.ask(DEFICIT)
    assert answer.status == "answered" and answer.answer == answer.decision.quoted
    assert len(made) == 1


def test_an_answer_citing_only_a_later_passage_numbers_it_one(corpus_assistant, scripted):
    read = corpus_assistant.ask(DEFICIT, backend="scripted")  # what the model reads, numbered as retrieved
    fourth = next(s for s in read.contexts if s.n == 4)
    scripted.reply = "The passage read fourth says so [4]."
    answer = corpus_assistant.ask(DEFICIT, backend="scripted")
    assert answer.answer == "The passage read fourth says so [1]."
    assert [(s.n, s.passage, s.start) for s in answer.citations] == [(1, 4, fourth.start)]
    assert [s.n for s in answer.contexts] == list(range(1, len(answer.contexts) + 1))
    assert answer.contexts[0].passage == 4 and answer.contexts[1].passage == 1  # the others after, in their order
    assert answer.to_dict()["citations"][0]["passage"] == 4  # the JSON keeps the number it was read under


def test_a_citation_opens_its_whole_passage_not_the_models_excerpt(corpus_assistant, scripted):
    scripted.reply = "The deficit is large [2]."
    answer = corpus_assistant.ask(DEFICIT, backend="scripted")
    cited = answer.citations[0]
    whole = {(s.doc, s.start): s for s in corpus_assistant._number(answer.search)}[(cited.doc, cited.start)]
    read = next(s for s in answer.contexts if s.n == cited.n)  # what the model was given under that number
    assert cited.text == whole.text and len(read.text) <= len(whole.text)


# -- the conversation history: earlier questions, or chat messages --------------------------------


FOLLOW_UP = ("What are the cancer plans in the LSC2030 roadmap for 2026/27?", "And the year after?")


def test_a_history_of_chat_messages_asks_what_its_user_asked():
    from langchain_core.messages import AIMessage, HumanMessage

    from assistant.stages import earlier_questions

    asked, reply = FOLLOW_UP[0], "Reduce waiting times [1]."
    as_text = earlier_questions([asked])
    assert as_text == (asked,)
    assert earlier_questions([{"role": "user", "content": asked}, {"role": "assistant", "content": reply}]) == as_text
    assert earlier_questions([HumanMessage(asked), AIMessage(reply)]) == as_text
    assert earlier_questions([{"role": "user", "content": [{"type": "text", "text": asked}]}]) == as_text
    assert earlier_questions(asked) == as_text  # one question, not its letters
    # found by the review: replies are skipped whatever they hold; images, chunks, roles, pairs and deques read
    from collections import deque

    from langchain_core.messages import AIMessageChunk, ChatMessage, HumanMessageChunk
    assert earlier_questions([{"role": "user", "content": asked}, {"role": "assistant", "content": None}]) == as_text
    assert earlier_questions([HumanMessage(asked), AIMessage(content=[{"type": "tool_use", "id": "t", "name": "f", "input": {}}])]) == as_text
    assert earlier_questions([{"role": "user", "content": [{"type": "text", "text": asked},
                                                           {"type": "image_url", "image_url": {"url": "x"}}]}]) == as_text
    assert earlier_questions([HumanMessageChunk(content=asked), AIMessageChunk(content=reply)]) == as_text
    assert earlier_questions([ChatMessage(role="user", content=asked)]) == as_text
    assert earlier_questions([[asked, reply]]) == earlier_questions(deque([asked])) == as_text
    assert earlier_questions(None) == earlier_questions([]) == earlier_questions([" ", {"role": "user", "content": ""}]) == ()


@pytest.mark.parametrize("history, turn", [
    ([FOLLOW_UP[0], {"role": "user"}], "Turn 2"),  # no content
    ([{"speaker": "user", "text": FOLLOW_UP[0]}], "Turn 1"),  # no role
    ([{"role": "narrator", "content": FOLLOW_UP[0]}], "Turn 1"),
    ([FOLLOW_UP[0], 2026], "Turn 2"),
    ({"role": "user", "content": FOLLOW_UP[0]}, "must be a list"),  # a message, not a list of them
])
def test_a_history_that_cannot_be_read_says_which_turn_and_is_not_answered(corpus_assistant, history, turn):
    from assistant.stages import HistoryError, earlier_questions

    with pytest.raises(HistoryError, match=turn):
        earlier_questions(history)
    answer = corpus_assistant.ask(FOLLOW_UP[1], history=history)
    assert answer.status == "error" and turn in answer.answer and "chat message" in answer.answer
    assert answer.search is None  # nothing was searched with a history half read
    with pytest.raises(HistoryError, match=turn):
        corpus_assistant.retrieve(FOLLOW_UP[1], history=history)


def test_a_follow_up_reads_the_same_from_messages_as_from_questions(corpus_assistant):
    by_text = corpus_assistant.ask(FOLLOW_UP[1], history=[FOLLOW_UP[0]])
    by_messages = corpus_assistant.ask(FOLLOW_UP[1], history=[
        {"role": "user", "content": FOLLOW_UP[0]}, {"role": "assistant", "content": "Faster diagnosis [1]."}])
    assert by_text.status == "answered" and "2027/28" in by_text.rewritten_question
    assert by_messages.answer == by_text.answer and by_messages.rewritten_question == by_text.rewritten_question
