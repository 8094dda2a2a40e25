"""The answerability decision: signals, the fitted model and its bands, and the fit on dev items.

The engine tests use the committed model (assistant/answerability.json) over the session's index
of the corpus; they pick questions far from the thresholds, so a re-fit on more dev items keeps
them where they are (re-check them after a re-fit)."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import numpy as np
import pytest

from assistant import answerability, stages
from eval import fit_answerability
from eval.gold import file_hash, load_gold, select
from index.keyword import query_terms
from tests.fakes import corpus_assistant, in_band, scripted  # noqa: F401 (fixtures)

COVERED = "What does the Jean Bishop Integrated Care Centre in Hull provide?"
# every word is in the documents, which name the programme and the year but give no cost for it
UNCOVERED = "How much does the Intermediate Care programme cost in 2027/28?"
# a hospital no document names (each of its words is in them): out of scope by rule
NAMES_NO_DOCUMENT = "What are the plans for the A&E at Fairfield General Hospital?"
# the documents describe the centre but give no cost to build it: the signals are mixed
UNCERTAIN = "How much will the Jean Bishop Integrated Care Centre in Hull cost to build?"


def test_a_covered_question_is_answered_and_says_why(corpus_assistant):
    answer = corpus_assistant.ask(COVERED)
    decision = answer.decision
    assert answer.status == "answered" and "Hull" in answer.answer
    assert decision.band == "answerable" and decision.probability >= decision.threshold
    assert set(decision.signals) == set(answerability.SIGNALS)
    shown = answer.to_dict()["answerability"]
    assert shown["band"] == "answerable" and shown["probability"] == round(decision.probability, 4)


def test_an_uncovered_question_whose_words_are_all_in_the_documents_is_refused(corpus_assistant):
    counts = corpus_assistant.indexer.catalog.term_counts(query_terms(UNCOVERED))
    assert all(counts.values()), counts  # not an unknown word: the documents use every one
    answer = corpus_assistant.ask(UNCOVERED)
    assert answer.status == "unanswerable" and "don't cover" in answer.answer
    assert answer.decision.band != "answerable" and not answer.decision.answerable
    assert answer.decision.probability < answerability.load_model().extractive
    assert answer.decision.signals["answer_type"] == 0.0  # it asks for a cost; the best sentences hold none


def test_a_refused_question_never_reaches_the_model(corpus_assistant, scripted):
    answer = corpus_assistant.ask(NAMES_NO_DOCUMENT, backend="scripted")
    assert answer.decision.band == "refused"
    assert answer.status == "unanswerable" and scripted.asked == []


def test_the_uncertain_band_goes_to_the_model_and_its_not_in_documents_refuses(corpus_assistant, scripted, in_band):
    in_band(corpus_assistant, UNCERTAIN, "uncertain")
    scripted.reply = "NOT_IN_DOCUMENTS"
    events = list(corpus_assistant.stream(UNCERTAIN, backend="scripted"))
    answer = events[-1].answer
    assert answer.decision.band == "uncertain" and answer.decision.answerable
    assert [question for question, _ in scripted.asked] == [UNCERTAIN]
    assert answer.status == "unanswerable" and "don't cover" in answer.answer
    assert not [e for e in events if e.kind == "token"]


def test_the_extractive_answerer_decides_the_uncertain_band_by_its_own_threshold(corpus_assistant, in_band):
    in_band(corpus_assistant, UNCERTAIN, "uncertain")
    decision = corpus_assistant.ask(UNCERTAIN).decision
    model = answerability.load_model()
    assert decision.band == "uncertain" and decision.threshold == model.extractive
    # ... and, as it asks for a sum of money, only when its quotes hold one (stages.decide)
    quotes_cannot = answerability.asks_for_an_amount(UNCERTAIN) and decision.signals["answer_type"] == 0.0
    assert decision.answerable == (decision.probability >= model.extractive and not quotes_cannot)


def test_quotes_without_a_sum_of_money_do_not_answer_what_something_costs(corpus_assistant, scripted, in_band):
    """However likely the question looks to be covered, quotes in which no sum of money stands
    beside what it asks about cannot say how much it costs; a model, which reads more, still may."""
    cost = "How much will the Millom dementia village cost?"
    in_band(corpus_assistant, cost, "answerable")
    quoted = corpus_assistant.ask(cost)
    assert quoted.decision.signals["answer_type"] == 0.0 and quoted.decision.band == "answerable"
    assert quoted.status == "unanswerable" and not quoted.decision.answerable
    scripted.reply = "The documents give no cost for it [1]."
    assert corpus_assistant.ask(cost, backend="scripted").decision.answerable and scripted.asked
    budget = "What is the ICB's annual budget for 2025/26?"  # its quotes hold the sum: answered
    in_band(corpus_assistant, budget, "answerable")
    answer = corpus_assistant.ask(budget)
    assert answer.decision.signals["answer_type"] == 1.0 and answer.status == "answered" and "£5.4billion" in answer.answer


def test_in_the_answerable_band_a_models_not_in_documents_gives_way_to_quotations(corpus_assistant, scripted, in_band):
    in_band(corpus_assistant, COVERED, "answerable")
    scripted.reply = "NOT_IN_DOCUMENTS"
    answer = corpus_assistant.ask(COVERED, backend="scripted")
    assert answer.decision.band == "answerable"
    assert answer.status == "answered" and answer.model == "extractive" and answer.fell_back
    assert stages.OVERRULED in answer.notices and "[1]" in answer.answer


def test_a_question_about_something_else_is_out_of_scope(corpus_assistant):
    answer = corpus_assistant.ask("What is the best recipe for a Victoria sponge cake?")
    assert answer.status == "unanswerable"
    assert answer.decision.probability == 0.0 and answer.decision.signals["unknown_share"] > 0.5


# -- the committed model file -----------------------------------------------------------------------


def test_the_committed_model_file_loads_and_holds_what_it_was_chosen_on():
    data = json.loads(answerability.model_text())
    model = answerability.parse_model(data)
    assert model == answerability.load_model()
    assert set(model.features) <= set(answerability.SIGNALS)
    assert 0 <= model.refuse <= model.extractive <= model.answer <= 1
    dev = data["dev"]
    assert dev["items"] == dev["answerable"] + dev["unanswerable"] > 0
    for figures in (dev["out_of_fold"], dev["in_sample"]):
        assert 0 <= figures["brier"] <= 1
        assert {"refusal", "false_refusal"} <= set(figures["extractive"])
        assert {"refusal", "false_refusal"} <= set(figures["llm_refused_before_generation"])
    assert data["fitted"]["git_commit"] and data["fitted"]["gold_set_sha256"] and data["l2"] > 0


def test_a_malformed_model_file_is_refused_with_the_reason():
    data = json.loads(answerability.model_text())
    with pytest.raises(ValueError, match="unknown signals"):
        answerability.parse_model({**data, "features": ["shoe_size"] * len(data["features"])})
    with pytest.raises(ValueError, match="thresholds"):
        answerability.parse_model({**data, "thresholds": {**data["thresholds"], "refuse": 0.99, "answer": 0.5}})
    with pytest.raises(ValueError, match="same length"):
        answerability.parse_model({**data, "coefficients": data["coefficients"][:-1]})


# -- the fit ---------------------------------------------------------------------------------------


def test_the_fit_refuses_test_items():
    items = load_gold()
    test = select(items, splits=["test"])[:1]
    with pytest.raises(fit_answerability.FitError, match="test items"):
        fit_answerability.dev_only(select(items, splits=["dev"]) + test)
    with pytest.raises(fit_answerability.FitError, match="test items"):
        fit_answerability.collect(test, settings=None)  # refused before anything is run


def _words(question: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9/]+", question.lower()) if w not in _SMALL_WORDS}


_SMALL_WORDS = set("a an the of to in on for and or is are was were what which who how when where why does do did will be "
                   "by with at from that this it its their they there as about any has have had can could should would me "
                   "my i you your our we us".split())


def test_the_extra_questions_are_well_formed_none_is_close_to_a_test_question_and_the_model_was_fitted_on_them():
    """The fit also learns from questions written without the gold set (eval/answerability_questions.jsonl):
    each is labelled, none shares half its words with a test question (the fit must never see test), and the
    committed model names the very file it was fitted with."""
    extra = fit_answerability.load_extra(fit_answerability.EXTRA)
    assert len(extra) >= 200 and any(q["answerable"] for q in extra) and not all(q["answerable"] for q in extra)
    # a test item's question and the earlier questions of its conversation, against each extra one's
    test = [_words(text) for item in select(load_gold(), splits=["test"]) for text in (item.question, *item.history)]
    for question in extra:
        for text in (question["question"], *question["history"]):
            asked = _words(text)
            assert max(len(asked & t) / len(asked | t) for t in test if asked | t) < 0.5, question["id"]
    fitted = json.loads(answerability.model_text())["fitted"]["extra_questions"]
    assert fitted["sha256"] == file_hash(fitted_path := fit_answerability.EXTRA) and fitted["items"] == len(extra), fitted_path


def test_a_malformed_extra_question_is_refused_with_its_line(tmp_path):
    good = {"id": "x-1", "question": "What is the budget?", "history": [], "type": "number", "answerable": True}
    other = {**good, "id": "x-2"}
    for bad in ({**other, "type": "unanswerable"}, {**other, "answerable": "yes"}, {**other, "question": " "}, good):
        path = tmp_path / "extra.jsonl"
        path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")  # the last: its id twice
        with pytest.raises(fit_answerability.FitError, match="line 2"):
            fit_answerability.load_extra(path)
    path.write_text(json.dumps(good) + "\n\n", encoding="utf-8")
    assert fit_answerability.load_extra(path) == [good]


def test_the_fit_reports_the_dev_items_and_the_extra_questions_apart():
    rng = np.random.default_rng(1)
    rows = []
    for k in range(120):
        answerable = k % 3 != 0
        signals = {name: float(rng.normal(0.7 if answerable else 0.3, 0.15)) for name in answerability.SIGNALS}
        signals.update(unknown_share=0.0, years_found=1.0, names_found=1.0, personal_advice=0.0, opinion=0.0)
        rows.append({"id": f"r{k}", "type": "fact" if answerable else "unanswerable", "signals": signals, "extra": k >= 80})
    apart = fit_answerability.fit(rows)["dev"]["out_of_fold_apart"]
    assert apart["gold_dev"]["items"] == 80 and apart["extra"]["items"] == 40
    assert {"refusal", "false_refusal"} <= set(apart["extra"])


def test_the_logistic_fit_recovers_known_coefficients():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(4000, 2))
    y = (rng.random(4000) < 1 / (1 + np.exp(-(0.5 + 2.0 * z[:, 0] - 1.0 * z[:, 1])))).astype(float)
    coefficients, intercept = fit_answerability.fit_logistic(z, y, l2=1e-6)
    assert np.allclose(coefficients, [2.0, -1.0], atol=0.2) and abs(intercept - 0.5) < 0.2


def test_the_thresholds_keep_false_refusal_within_the_limit_and_refuse_the_most():
    p = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95])
    y = np.array([0, 0, 1, 0, 1, 1, 0, 1, 1, 1], dtype=float)
    threshold = fit_answerability.most_refusals(p, y, max_false_refusal=0.0)
    assert 0.2 < threshold <= 0.3  # refuses the two lowest; the answerable 0.3 is kept
    assert fit_answerability.rates(p, y, threshold) == {"refusal": 0.5, "false_refusal": 0.0}
    assert fit_answerability.least_doubt(p, y, min_refusal=1.0) > 0.7  # every unanswerable item below it


# -- the report ------------------------------------------------------------------------------------


def test_the_report_bins_predicted_against_observed_answerable_rates():
    from eval.report import calibration, calibration_md, calibration_svg

    rows = [{"type": "fact", "p_answerable": 0.97}, {"type": "fact", "p_answerable": 0.99},
            {"type": "unanswerable", "p_answerable": 0.96}, {"type": "unanswerable", "p_answerable": 0.1},
            {"type": "fact", "p_answerable": None}]
    bins = calibration(rows)
    assert [(b["bin"], b["n"]) for b in bins] == [("0.00–0.50", 1), ("0.95–1.00", 3)]
    assert bins[0]["observed"] == 0.0 and bins[1]["observed"] == pytest.approx(2 / 3)
    assert bins[1]["predicted"] == pytest.approx((0.97 + 0.99 + 0.96) / 3)
    assert "| 0.95–1.00 | 3 | 0.973 | 0.667 |" in "\n".join(calibration_md(bins))
    assert calibration_svg(bins).startswith("<svg") and calibration_svg([]) == ""


@pytest.mark.parametrize("question, reason", [
    ("I've had chest pains since yesterday, should I go to A&E or wait for my GP?", "personal_advice"),
    ("My son is on the waiting list for an autism assessment - can I get him seen sooner?", "personal_advice"),
    ("My grandad lives alone and keeps having falls, will someone visit him at home?", "personal_advice"),
    ("my 4 yr old has asthma, is it ok to give her ibuprofen?", "personal_advice"),
    ("I'm pregnant, is it safe to have the flu jab?", "personal_advice"),
    ("Do you think the new hospital programme will deliver on time?", "opinion"),
    ("Is the plan to merge the community services a good idea?", "opinion"),
    ("Will the integrated wellness service actually cut admissions?", "opinion"),
    ("and is the new hospital really going to be built by 2030?", "opinion"),
    ("What are the chances the new hospital opens on time?", "opinion"),
    ("Will the new hospital, which is planned for 2030, actually open?", "opinion"),
    ("When will the new hospital actually open?", "opinion"),  # "will": doubt wherever it stands
    ("So is the new hospital really going ahead?", "opinion"),
    ("The hospital was promised in 2019. Is it really going ahead?", "opinion"),  # each sentence read alone
    ("(Is the new hub really going to open?)", "opinion"),
    ("Re the new hospital - is it really happening?", "opinion"),
])
def test_personal_medical_advice_and_opinions_are_refused_with_the_reason(corpus_assistant, question, reason):
    answer = corpus_assistant.ask(question)
    assert answer.status == "unanswerable" and answer.decision.signals[reason] == 1.0
    assert answer.answer == answerability.BEYOND[reason]


@pytest.mark.parametrize("question", [
    "How will my partner organisations be involved in the neighbourhood teams?",
    "What does the roadmap mean for my children's services team?",
])
def test_staff_speaking_of_their_partners_and_teams_are_not_taken_for_personal_advice(question):
    assert answerability.beyond_documents(question) == ""


@pytest.mark.parametrize("question", [
    "What does the roadmap say about waiting lists for autism assessments?",
    "How will the ICB improve access to GP appointments?",
    "What did the 2019 plan say it would do better for people with long-term conditions?",
    # "me" asking for information: an unseen follow-up after this was refused as personal advice
    "tell me about the GP estates plans in the LTC roadmap? how much capital is going into that?",
    "Can you show me what the documents say about GP access?",
    # "actually" in a question of fact, not doubt (an unseen comparison was refused as an opinion)
    "the 2019 plan said when CCGs would be reconfigured - what actually happened and when?",
    "What is actually planned for cancer in 2026/27?",
    "What was promised for GP access in 2019? Did it actually work?",  # a follow-up's rewrite: each question alone
    # "is", "was"... after a question word asks a fact (three unseen answerable questions were refused as opinions)
    "When was the ICB really established, and which bodies did it replace?",
    "why is the system so far in deficit and what are they actually doing to fix it?",
    "how many priority wards are there and what's actually happened in them so far?",
    "Is it ok to share the 2030 roadmap with my team?",  # staff asking about their work, not their care
    "Is it ok for me to quote the £167m deficit in my briefing?",
])
def test_questions_about_the_plans_are_not_taken_for_advice_or_opinion(question):
    assert answerability.beyond_documents(question) == ""


def test_asking_to_be_told_about_ones_own_care_is_still_personal_advice():
    assert answerability.beyond_documents("Tell me about my GP appointment, should I go to A&E?") == "personal_advice"
    assert answerability.beyond_documents("can you tell me if I should take my tablets?") == "personal_advice"
    for asked in ("Can you help me get a GP appointment?", "Tell me which painkillers to take for back pain",
                  "Show me how to get a referral to a dermatologist"):  # found by the review
        assert answerability.beyond_documents(asked) == "personal_advice", asked


# -- names and dates ------------------------------------------------------------------------------


@pytest.mark.parametrize("question, names", [
    ("What's happening to the A&E at Fairfield General Hospital?", ["Fairfield General Hospital"]),
    ("What's Terry Whalley's job?", ["Terry Whalley"]),
    ("Which services moved between ELHT and LSCft?", []),  # acronyms: the glossary's business
    ("What Is The Budget For Urgent Care?", []),  # typed in title case: no word tells a name
    ("Is Greater Manchester ICB doing the same?", ["Greater Manchester"]),
    ("Fairfield General is where?", []),  # a question's first word is capitalised anyway
    ("Where is Fairfield General Hospital?", ["Fairfield General Hospital"]),  # not title case: "is"
    ("What does the roadmap say about Women's Health?", ["Women's Health"]),  # a possessive inside a name stays
    ("Thanks. Which Royal Preston services move?", ["Royal Preston"]),  # a sentence's first word is no name
    ("Who is Zoë Smith?", ["Zoë Smith"]),
    ("Is the Fairfield Trust's 5 Year Estates Plan out?", ["Fairfield Trust", "Year Estates Plan"]),  # a figure ends a run
    ("Compare Royal Preston, Furness General and the hospitals in Kendal", ["Royal Preston", "Furness General"]),
])
def test_the_names_a_question_uses(question, names):
    assert answerability.names(question) == names


def test_a_name_the_documents_write_with_a_possessive_is_found(corpus_assistant):
    catalog = corpus_assistant.indexer.catalog
    assert catalog.term_counts(['"women s health"'])['"women s health"'] > 0  # the documents' "Women's health"
    assert answerability.missing_names("What does the roadmap say about Women's Health?", catalog) == []


def test_a_question_about_a_hospital_no_document_names_is_refused(corpus_assistant):
    """Every word of "Fairfield General Hospital" is in the documents, the name is in none."""
    counts = corpus_assistant.indexer.catalog.term_counts(query_terms("General Hospital A&E plans"))
    assert all(counts.values()), counts
    answer = corpus_assistant.ask(NAMES_NO_DOCUMENT)
    assert answer.status == "unanswerable" and answer.decision.signals["names_found"] == 0.0
    assert answer.answer.startswith("The documents don't mention Fairfield General Hospital, so I can't answer")
    assert answer.decision.probability == 0.0
    covered = corpus_assistant.ask(COVERED).decision  # a name the documents use
    assert covered.signals["names_found"] == 1.0 and covered.answerable


@pytest.mark.parametrize("asked, missing", [
    # the documents give a Category 2 ambulance response target and no Category 1 one
    ("what's the Category 1 ambulance response time target for 25/26?", "Category 1"),
    # they give the cancer 62-day target for March 2026, and no plan reaches 2030/31
    ("what is the cancer 62-day target for March 2031?", "March 2031"),
])
def test_a_numbered_thing_or_a_month_no_document_names_is_refused_and_named(corpus_assistant, asked, missing):
    """The answer must not be the figure for another category or month (unseen questions got exactly that)."""
    assert answerability.missing_names(asked, corpus_assistant.indexer.catalog) == [missing]
    answer = corpus_assistant.ask(asked)
    assert answer.status == "unanswerable" and answer.decision.probability == 0.0
    assert answer.answer.startswith(f"The documents don't mention {missing}, so I can't answer")


def test_a_numbered_thing_the_documents_name_is_no_reason_to_refuse(corpus_assistant):
    catalog = corpus_assistant.indexer.catalog
    # the one they name, written any of the usual ways, is no reason to refuse
    for named in ("What is the Category 2 response target?", "cat 2 response target?", "phase two of Albion Mill",
                  "the tier two hubs", "Phase 4 of the programme"):
        assert answerability.missing_names(named, catalog) == [], named
        assert answerability.names_found(named, catalog) == 1.0, named
    assert answerability.missing_names("what is in phase 5 and tier-3?", catalog) == ["phase 5", "tier-3"]
    # a number word in running English is not one of them
    assert answerability.numbered("At this stage one question: is there a band one can join?") == []


def test_a_month_the_documents_name_or_are_dated_in_is_no_reason_to_refuse(corpus_assistant):
    catalog = corpus_assistant.indexer.catalog
    assert corpus_assistant.ask("what is the cancer 62-day target for March 2026?").status == "answered"
    for named in ("What cancer levels are expected by March 2026?", "what happened in Sept 2019 and mar 2020?",
                  "Which board meeting in May 2025 discussed the roadmap?",  # the board paper is dated 2025-05-22
                  "How many intermediate care beds will open by March 2027?",  # 2026/27 is covered (review)
                  "What may 2030 look like for urgent care?",  # a verb
                  "plans for May 27"):  # a day, not a year
        assert answerability.missing_names(named, catalog) == [], named
    assert answerability.missing_names("What happened in june 2031 and by Sep. 2032?", catalog) == ["june 2031", "Sep. 2032"]


@pytest.mark.parametrize("question, amount", [
    ("How much will the Millom dementia village cost?", True),
    ("What is the ICB budget for 2025/26?", True),
    ("What will the new hospital cost?", True),
    ("Who will pay for the new hospitals?", False),  # about money, not how much
    ("How is the ICB funding the Albion Mill scheme?", False),
    ("What funding is there for Albion Mill?", False),
    ("what percentage of the budget goes on hospitals?", False),  # a share of it
    ("whats the ICB's total funding allocation for 26/27?", True),  # as typed
    ("what does the extra NHS money for 2025/26 have to pay for?", False),  # what it buys, not how much
    ("What is the Better Care Fund budget spent on?", False),
    ("whats the allocation for primary care?", True),
])
def test_which_questions_ask_for_an_amount_of_money(question, amount):
    assert answerability.asks_for_an_amount(question) == amount


def test_a_cost_question_needs_a_sum_of_money_and_a_share_of_a_budget_a_figure(corpus_assistant):
    catalog = corpus_assistant.indexer.catalog
    beds = "Kendal will get 8 intermediate care beds [1]"  # a figure, but no sum of money
    assert answerability._answer_type("How much will the intermediate care beds in Kendal cost?", beds, catalog) == 0.0
    assert answerability._answer_type("How much will the intermediate care beds in Kendal cost?",
                                      "The Kendal intermediate care beds cost £2.1m [1]", catalog) == 1.0
    # asked what money pays for, the things it pays for answer it (an unseen list question was refused)
    pays = "The extra money must cover final pay settlements and the rise in National Insurance [1]"
    assert answerability._answer_type("what does the extra NHS money for 2025/26 have to pay for?", pays, catalog) == 1.0
    assert answerability._answer_type("whats the total funding allocation for 2025/26?", pays, catalog) == 0.0
    share = "Mental health gets 8.6% of the ICB budget [1]"
    assert answerability._answer_type("What percentage of the budget goes to mental health?", share, catalog) == 1.0


def test_a_figure_the_question_gives_is_not_its_answer(corpus_assistant):
    """Asked how many of the 33 priority wards are in Blackburn with Darwen, a sentence that says
    only that there are 33 does not answer it (two unanswerable dev questions were answered so)."""
    catalog = corpus_assistant.indexer.catalog
    wards = "There are 33 priority wards across Lancashire and South Cumbria [1]"
    assert answerability._answer_type("How many of the 33 priority wards are in Blackburn with Darwen?", wards, catalog) == 0.0
    assert answerability._answer_type("How many priority wards are there?", wards, catalog) == 1.0
    dental = "700,000 extra urgent dental appointments nationally [1]"
    assert answerability._answer_type("How many of the 700,000 extra urgent dental appointments are local?", dental, catalog) == 0.0
    assert answerability._answer_type("How many of the 700,000 extra dental appointments are local?",
                                      "Of the 700,000 dental appointments, 21,000 are local [1]", catalog) == 1.0
    budget = "The annual budget is £5.4billion [1]"
    assert answerability._answer_type("How much of the £5.4billion budget goes on hospitals?", budget, catalog) == 0.0
    assert answerability._answer_type("How much of the budget goes on hospitals?", budget, catalog) == 1.0
    # a figure naming something is not given as an amount (found by the review)
    assert answerability._answer_type("How much funding does the 10 Year Plan bring?",
                                      "The 10 Year Plan brings £10bn of funding [1]", catalog) == 1.0
    # a question that gives both figures and asks why they differ is not asking for a figure
    both = "The ICB delivers a £4.5 billion budget [1] Our annual budget is approximately £5.4billion [2]"
    assert answerability._answer_type("One report says the budget is £4.5bn, the other £5.4bn. Why the difference?",
                                      both, catalog) == 1.0


def test_a_figure_for_another_year_is_not_the_answer(corpus_assistant):
    """Asked for the 2027/28 budget, the 2025/26 budget does not answer it (an unseen question got
    it, cited); a timeline's period heading says the year, a heading naming "LSC 2030" does not."""
    from assistant.answers import Source

    catalog = corpus_assistant.indexer.catalog
    budget = "Our annual budget for 2025/26 is approximately £5.4billion [1]"
    assert answerability._answer_type("What's the ICB's annual budget for 2027/28?", budget, catalog) == 0.0
    assert answerability._answer_type("What's the ICB's annual budget for 25/26?", budget, catalog) == 1.0
    beds = "Open 40 intermediate care beds [1]"
    timeline = [Source(1, "roadmap.txt", "LSC2030 Roadmap", "Intermediate Care > 2026/27", None, beds, 0, 30)]
    named = [Source(1, "paper.txt", "Board paper", "2. Aligning LSC 2030 to the annual plan", None, beds, 0, 30)]
    question = "How many intermediate care beds will open in 2027/28?"
    assert answerability._answer_type(question, beds, catalog, timeline) == 0.0
    assert answerability._answer_type(question.replace("2027/28", "2026/27"), beds, catalog, timeline) == 1.0
    assert answerability._answer_type(question, beds, catalog, named) == 1.0
    answer = corpus_assistant.ask("What's the ICB's annual budget for 2027/28?")
    assert answer.status == "unanswerable" and "£5.4billion" not in answer.answer
    # a calendar year the asked financial year spans is its own; a year in a name or an age range is no year
    # (found by the review)
    for asked, quoted in [("How many patients should be seen within four hours in 2025/26?",
                           "We expect 78 per cent of patients to be seen within four hours by March 2026 [1]"),
                          ("How many beds will open in 2026/27?", "Through LSC 2030 we will open 40 beds [1]"),
                          ("How many beds will open in 2026/27?", "12 beds for 16-17 year olds will open [1]")]:
        assert answerability._answer_type(asked, quoted, catalog) == 1.0, quoted
    # asked about money without "how much" (an unseen question got 2025/26's allocation)
    allocation = "Our total funding allocation for 2025/26 is approximately £5.4billion [1]"
    assert answerability._answer_type("whats the ICB's total funding allocation for 26/27?", allocation, catalog) == 0.0
    assert answerability._answer_type("whats the ICB's total funding allocation for 25/26?", allocation, catalog) == 1.0


def test_a_when_question_finds_its_date_in_the_heading_of_the_passage_cited(corpus_assistant):
    """A timeline's milestone ("Digital pathology implemented") has its year in its heading."""
    from assistant.answers import Source

    catalog = corpus_assistant.indexer.catalog
    source = Source(1, "roadmap.txt", "LSC2030 Roadmap", "Clinical Support Services > 2027/28", None,
                    "Digital pathology implemented", 0, 29)
    question = "When is digital pathology due to be implemented?"
    assert answerability._answer_type(question, "- Digital pathology implemented [1]", catalog, [source]) == 1.0
    undated = Source(1, "roadmap.txt", "LSC2030 Roadmap", "Clinical Support Services", None, source.text, 0, 29)
    assert answerability._answer_type(question, "- Digital pathology implemented [1]", catalog, [undated]) == 0.0
    assert answerability._answer_type(question, "- Digital pathology implemented", catalog, [source]) == 0.0


def test_a_clipped_word_is_not_taken_for_a_word_no_document_uses(corpus_assistant):
    """"derm" is in no document, but the glossary reads it as "dermatology": not out of scope, so the
    model weighs the question (whether it answers is for the real embeddings to say:
    tests/test_answerability_real.py; here the dense signals mean nothing)."""
    answer = corpus_assistant.ask("derm - what's changing?")
    # of "derm", "what's" and "changing" only "what's" is in no chunk (the documents never write it)
    assert answer.decision.signals["unknown_share"] == pytest.approx(1 / 3)
    assert not answerability.load_model().out_of_scope(answer.decision.signals) and answer.decision.probability > 0


def test_a_year_that_names_a_document_is_not_a_year_asked_about(corpus_assistant):
    """"the 2030 roadmap" names a document (LSC 2030 Roadmap): its passages need not write 2030.
    A year asked about still must be found ("in 2031/32": no passage names it)."""
    answer = corpus_assistant.ask("What does the 2030 roadmap say about frailty in 2026/27?")
    assert answer.decision.signals["years_found"] == 1.0
    assert answer.status == "answered"
    later = corpus_assistant.ask("What does the 2030 roadmap plan for frailty in 2031/32?")
    assert later.decision.signals["years_found"] == 0.0 and later.status == "unanswerable"


def test_each_year_asked_must_be_in_a_passage_found_even_beside_another(corpus_assistant):
    """Two years asked together are each looked for in the passages found, not in their whole
    documents, which name many years (a review found "the cancer 62 day performance in 2022 and
    2024?" answered with March 2026's targets when a document's years counted)."""
    for asked in ("What was the cancer 62 day performance in 2022 and 2024?",
                  "What was the population of Blackpool in 2019 and 2035?"):
        answer = corpus_assistant.ask(asked)
        assert answer.decision.signals["years_found"] < 1.0 and answer.status == "unanswerable", asked


def test_the_fused_signals_read_the_highest_scores_whatever_the_reranker_put_first(corpus_assistant):
    """The reranker may put a passage with a lower fused score first: fused_top and fused_gap do not change."""
    answer = corpus_assistant.ask(COVERED)
    passages = list(answer.search.passages)
    assert len({p.score for p in passages}) > 1
    sources = corpus_assistant._number(answer.search)[:5]
    catalog, glossary = corpus_assistant.indexer.catalog, corpus_assistant.retriever.glossary()
    as_ranked = answerability.signals(COVERED, passages, sources, catalog, glossary)
    reordered = answerability.signals(COVERED, passages[::-1], sources, catalog, glossary)
    assert (reordered["fused_top"], reordered["fused_gap"]) == (as_ranked["fused_top"], as_ranked["fused_gap"])
    assert as_ranked["fused_top"] == max(p.score for p in passages) * 61


def test_a_sum_of_money_written_in_words_is_one():
    """An uploaded note may write "one pound" or "two million pounds": quotes holding it answer a
    budget question (the money rule refused the uploads test's "The kingfisher budget is one pound")."""
    for text in ("The kingfisher budget is one pound.", "It costs two million pounds.", "£5.4billion", "5 pounds"):
        assert answerability._MONEY.search(text), text
    for text in ("ten people", "one of the plans", "the pound fell"):
        assert not answerability._MONEY.search(text), text
