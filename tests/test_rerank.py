"""The reranker: its signals, its order, its place in the search, the committed model and its fit."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant import rerank
from assistant.query_plan import keyword_text
from assistant.rerank import Candidate, Reranker
from assistant.retrieval import Retriever
from eval import fit_reranker
from eval.fit_answerability import FitError
from eval.gold import load_gold, select

CHUNKS = 1000


def counts(phrases):
    """Word counts of a made-up index: 'care' is everywhere, every other word is rare."""
    return {p: (900 if p == '"care"' else 3) for p in phrases}


def test_a_passage_with_the_questions_words_side_by_side_scores_pairs():
    question = "What is the community diagnostic centre programme?"
    together = Candidate(2, "Diagnostics", "The community diagnostic centre programme opens in 2026.", 0.5, 4.0)
    apart = Candidate(1, "Diagnostics", "A centre for the diagnostic service; the programme of the community.", 0.6, 8.0)
    found = rerank.signals(question, [apart, together], counts, CHUNKS)
    assert found[1]["pairs"] == 1.0 and found[0]["pairs"] == 0.0
    assert found[0]["rank"] == 1.0 and found[1]["rank"] == 0.5
    assert found[0]["keyword"] == 1.0 and found[1]["keyword"] == 0.5  # a share of the best BM25 in the head


def test_a_short_passage_holding_the_question_is_denser_than_a_long_one_and_a_miss_scores_zero():
    question = "When does the stroke unit open?"
    short = Candidate(1, "Stroke", "The stroke unit opens in 2027.", None, None)
    long = Candidate(2, "Stroke", "The stroke unit opens in 2027. " + "Other plans follow in later years. " * 20, 0.7, None)
    found = rerank.signals(question, [short, long], counts, CHUNKS)
    assert found[0]["density"] > found[1]["density"] > 0
    assert found[0]["dense"] == 0.0 and found[0]["keyword"] == 0.0  # neither search found it: no evidence


def test_the_order_is_by_score_and_equal_scores_keep_the_fused_order():
    by_pairs = Reranker(("pairs",), (0.0,), (1.0,), (1.0,), depth=5)
    assert by_pairs.order([{"pairs": 0.0}, {"pairs": 1.0}, {"pairs": 0.5}]) == [1, 2, 0]
    assert by_pairs.order([{"pairs": 0.5}, {"pairs": 0.5}, {"pairs": 0.5}]) == [0, 1, 2]


QUESTION = "When will the community-based gynaecology cancer model be fully in place?"


def test_the_search_reorders_only_its_first_passages(corpus_indexer):
    fused = Retriever(corpus_indexer.catalog, corpus_indexer.vectors, reranker=Reranker((), (), (), (), depth=0))
    by_pairs = Retriever(corpus_indexer.catalog, corpus_indexer.vectors,
                         reranker=Reranker(("pairs",), (0.0,), (1.0,), (1.0,), depth=5))
    before = fused.search(QUESTION, k=8)
    after = by_pairs.search(QUESTION, k=8)
    assert {p.id for p in after[:5]} == {p.id for p in before[:5]}  # the same five, perhaps in another order
    assert [p.id for p in after[5:]] == [p.id for p in before[5:]]  # below the depth: the fused order
    query = fused.glossary().expand(QUESTION)
    candidates = [Candidate(r, p.section, p.text, p.dense_score, p.keyword_score) for r, p in enumerate(before[:5], 1)]
    pairs = [f["pairs"] for f in rerank.signals(query, candidates, corpus_indexer.catalog.term_counts, 1)]
    assert after[0].id == before[pairs.index(max(pairs))].id  # the passage with the most pairs first
    assert after[0].score <= before[0].score  # each passage keeps its fused score


def test_the_committed_model_loads_and_holds_what_it_was_chosen_on():
    data = json.loads((rerank.resources.files("assistant") / rerank.MODEL_FILE).read_text(encoding="utf-8"))
    model = rerank.parse_model(data)
    assert model == rerank.load_model() and model.depth == fit_reranker.DEPTH
    dev = data["dev"]
    assert dev["items"] > 0 and data["l2"] in fit_reranker.L2S
    assert dev["out_of_fold"]["mrr"] >= dev["fused_order"]["mrr"]  # it was kept because it ranks better, out of fold
    assert dev["out_of_fold"]["hit_at_5"] == dev["fused_order"]["hit_at_5"]  # the top five reordered, not changed
    assert data["fitted"]["git_commit"] and data["fitted"]["gold_set_sha256"]


def test_a_malformed_model_file_is_refused_with_the_reason():
    data = json.loads((rerank.resources.files("assistant") / rerank.MODEL_FILE).read_text(encoding="utf-8"))
    with pytest.raises(ValueError, match="unknown signals"):
        rerank.parse_model({**data, "features": ["shoe_size"] * len(data["features"])})
    with pytest.raises(ValueError, match="same length"):
        rerank.parse_model({**data, "mean": data["mean"][:-1]})
    with pytest.raises(ValueError, match="depth"):
        rerank.parse_model({**data, "depth": -1})
    with pytest.raises(ValueError, match="missing or malformed"):
        rerank.parse_model({k: v for k, v in data.items() if k != "coefficients"})


def test_the_fit_refuses_test_items():
    items = load_gold()
    test = select(items, splits=["test"])[:3]
    with pytest.raises(FitError, match="test items"):
        fit_reranker.collect(select(items, splits=["dev"]) + test, settings=None)  # refused before anything runs


def test_the_fit_learns_to_put_the_relevant_passage_first():
    rng = np.random.default_rng(0)
    rows = []
    for i in range(60):  # the relevant passage is second or third in the fused order, and the only one with pairs
        relevant = 1 + i % 2
        signals = [[1 / (r + 1), rng.uniform(0.3, 0.6), rng.uniform(0, 1), float(r == relevant), rng.uniform(0, 1)]
                   for r in range(5)]
        rows.append({"id": f"item-{i}", "type": "fact", "signals": signals, "relevant": [r == relevant for r in range(5)]})
    model = fit_reranker.fit(rows)
    assert model["dev"]["fused_order"]["mrr"] == pytest.approx(0.4167, abs=1e-3)
    assert model["dev"]["out_of_fold"]["mrr"] == 1.0
    assert model["coefficients"][rerank.FEATURES.index("pairs")] > 0


def test_the_keyword_searchs_best_passage_is_weighed_by_the_reranker_though_fusion_left_it_lower(corpus_indexer):
    """Fusion by rank alone can leave the passage that holds the question's words best below the
    fifth (here the sixth); the reranker weighs it beside the first five and may bring it up."""
    question = "When is digital pathology due to be implemented?"
    fused = Retriever(corpus_indexer.catalog, corpus_indexer.vectors, reranker=Reranker((), (), (), (), depth=0))
    best = corpus_indexer.catalog.keyword_search(keyword_text(fused.glossary().expand(question)), k=1)[0].chunk.id
    before = [p.id for p in fused.search(question, k=8)]
    assert best in before[5:]  # fusion put it below the first five
    by_keyword = Retriever(corpus_indexer.catalog, corpus_indexer.vectors,
                           reranker=Reranker(("keyword",), (0.0,), (1.0,), (1.0,), depth=5))
    after = [p.id for p in by_keyword.search(question, k=8)]
    assert after[0] == best  # the reranker put it first
    assert len(set(after)) == len(after) == 8  # no passage twice, none lost
    assert [c for c in after[6:]] == [c for c in before[5:] if c not in after[:6]][:2]  # below: the fused order
