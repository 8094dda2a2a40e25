"""The evaluation metrics themselves (eval/metrics.py): exact values on small, hand-made cases."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from eval import metrics
from eval.gold import GOLD_PATH, GoldSetError, load_gold, parse_item, select
from eval.metrics import Span


@dataclass(frozen=True)
class P:  # a passage: what the metrics read of one
    doc: str
    start: int
    end: int
    text: str = ""
    section: str = ""


FACTS = [["£350million", "£350 million", "£350m"], ["2035"], ["eight", "8"]]


# -- normalisation and key facts ---------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("  The  ICB\n\tplans ", "the icb plans"),
        ("2027–28 and 2027—28 and 2027‑28", "2027-28 and 2027-28 and 2027-28"),
        ("35,000 staff and 1,800,000 people", "35000 staff and 1800000 people"),
        ("1,5 and 12,34", "1,5 and 12,34"),  # not thousands separators
        ("£ 350m and £5.4 billion", "£350m and £5.4 billion"),
        ("Women’s “health”", "women's \"health\""),
        ("NON\u00a0BREAKING", "non breaking"),
    ],
)
def test_normalise(raw, expected):
    assert metrics.normalise(raw) == expected


def test_a_perfect_answer_scores_one_and_an_empty_one_zero():
    perfect = "A deficit of £350 million [1]. The vision runs to 2035 with eight places [2]."
    assert metrics.key_fact_recall(FACTS, perfect) == 1.0
    assert metrics.fully_correct(FACTS, perfect) is True
    assert metrics.key_fact_recall(FACTS, "") == 0.0
    assert metrics.fully_correct(FACTS, "") is False
    assert metrics.missing_facts(FACTS, "") == ["£350million", "2035", "eight"]


def test_partial_answer_scores_its_exact_share():
    answer = "The deficit is £350M."  # one fact of three, upper case
    assert metrics.key_fact_recall(FACTS, answer) == pytest.approx(1 / 3)
    assert metrics.fully_correct(FACTS, answer) is False
    assert metrics.missing_facts(FACTS, answer) == ["2035", "eight"]


def test_normalisation_applies_to_both_sides():
    assert metrics.key_fact_recall([["35,000"]], "about 35000 staff") == 1.0
    assert metrics.key_fact_recall([["35000"]], "about 35,000 staff") == 1.0
    assert metrics.key_fact_recall([["2026–2030"]], "from 2026-2030") == 1.0
    assert metrics.key_fact_recall([["£5m"]], "£45m") == 0.0  # the pound sign keeps numbers apart


def test_no_key_facts_means_nothing_to_score():
    assert metrics.key_fact_recall([], "anything") is None
    assert metrics.fully_correct([], "anything") is None


def test_every_reference_answer_scores_full_recall():
    """The gold reference answers are perfect answers: recall 1 for every answerable item."""
    for item in load_gold():
        if item.answerable:
            assert metrics.key_fact_recall(item.key_facts, item.reference_answer) == 1.0, item.id


# -- retrieval against gold quotes ---------------------------------------------------------------


def test_quote_spans_finds_every_occurrence():
    text = "abc QUOTE def QUOTE"
    assert metrics.quote_spans("d.txt", "QUOTE", text) == [Span("d.txt", 4, 9, "QUOTE"), Span("d.txt", 14, 19, "QUOTE")]
    assert metrics.quote_spans("d.txt", "missing", text) == []
    assert metrics.quote_spans("d.txt", "QUOTE", None) == []


def test_passage_hits_by_overlap_or_by_text():
    span = Span("a.txt", 100, 200, "the gold quote")
    assert metrics.passage_hits(P("a.txt", 0, 150), [span])  # half the quote: a hit
    assert not metrics.passage_hits(P("a.txt", 0, 149), [span])  # less than half
    assert not metrics.passage_hits(P("b.txt", 100, 200), [span])  # another document
    assert metrics.passage_hits(P("a.txt", 500, 600, text="... The  Gold\nquote ..."), [span])  # holds its text
    assert metrics.passage_hits(P("a.txt", 500, 600, section="A > The gold quote"), [span])  # as its heading


def test_hit_at_k_and_mrr_exact_values():
    span = [Span("a.txt", 100, 200, "q")]
    miss, hit = P("a.txt", 300, 400), P("a.txt", 90, 210)
    passages = [miss, miss, hit, miss]
    assert metrics.first_hit_rank(passages, span) == 3
    assert metrics.hit_at_k(passages, span, 3) is True
    assert metrics.hit_at_k(passages, span, 2) is False
    assert metrics.reciprocal_rank(passages, span) == pytest.approx(1 / 3)
    assert metrics.reciprocal_rank(passages, span, k=2) == 0.0
    assert metrics.reciprocal_rank([hit], span) == 1.0
    assert metrics.hit_at_k(passages, [], 5) is None and metrics.reciprocal_rank(passages, []) is None
    mrr = metrics.mean([metrics.reciprocal_rank(p, span) for p in ([hit], [miss, hit], [miss])])
    assert mrr == pytest.approx((1 + 0.5 + 0) / 3)


def test_quote_recall_counts_each_gold_quote():
    first, second = [Span("a.txt", 0, 10, "x")], [Span("b.txt", 0, 10, "y")]
    assert metrics.quote_recall([P("a.txt", 0, 50)], [first, second]) == 0.5
    assert metrics.quote_recall([P("a.txt", 0, 50), P("b.txt", 0, 50)], [first, second]) == 1.0
    assert metrics.quote_recall([P("a.txt", 0, 50)], [[], []]) is None


def test_context_recall_reads_headings_too():
    passages = [P("r.txt", 0, 10, text="Develop a flexible workforce", section="Roadmap > 2027/28")]
    assert metrics.key_fact_recall([["2027/28"], ["flexible workforce"]], metrics.context_text(passages)) == 1.0


# -- citations -------------------------------------------------------------------------------------


def test_citation_support():
    span = [Span("a.txt", 100, 200, "q")]
    facts = [["£350m"]]
    holds_fact = P("b.txt", 0, 50, text="a deficit of £350m")
    overlaps_quote = P("a.txt", 190, 260, text="nothing relevant")
    neither = P("c.txt", 0, 50, text="nothing relevant")
    assert metrics.citation_support([holds_fact, overlaps_quote], facts, span) == 1.0
    assert metrics.citation_support([holds_fact, neither], facts, span) == 0.5
    assert metrics.citation_support([neither], facts, span) == 0.0
    assert metrics.citation_support([], facts, span) is None


@pytest.mark.parametrize(
    "answer, coverage",
    [
        ("The deficit is £350m [1]. The vision runs to 2035 [2].", 1.0),
        ("The deficit is £350m [1]. The vision runs to 2035.", 0.5),
        ("The deficit is £350m. [1] The vision runs to 2035. [2]", 1.0),  # citation after the stop
        ("Priorities:\n- urgent care [1]\n- cancer [2]\n- maternity", 2 / 3),  # lead-in line not counted
        ("It costs £5.4bn a year [1, 2]. No source here! And here [3-4]?", 2 / 3),
        ("No citations at all.", 0.0),
    ],
)
def test_citation_coverage(answer, coverage):
    assert metrics.citation_coverage(answer) == pytest.approx(coverage)


def test_citation_coverage_of_nothing():
    assert metrics.citation_coverage("") is None
    assert metrics.answer_sentences("[1]") == []


# -- aggregation -----------------------------------------------------------------------------------


def test_mean_and_percentiles_skip_missing_values():
    assert metrics.mean([True, False, None, 1.0]) == pytest.approx(2 / 3)
    assert metrics.mean([None]) is None
    assert metrics.percentile([1, 2, 3, 4], 50) == 2.5
    assert metrics.percentile([5], 95) == 5
    assert metrics.percentile([], 50) is None


# -- the gold-set loader ---------------------------------------------------------------------------


def test_gold_set_loads_as_typed_items():
    items = load_gold()
    assert len(items) >= 120 and items[0].id == "ci-001"
    follow_up = next(item for item in items if item.type == "follow_up")
    assert follow_up.history and isinstance(follow_up.key_facts[0], tuple)
    assert {item.type for item in items} == {"fact", "number", "list", "synthesis", "comparison", "unanswerable", "follow_up"}


def test_drafts_are_refused_with_a_clear_message(tmp_path):
    draft = {"id": "fb-12", "question": "Q?", "type": "fact", "reference_answer": "", "key_facts": [],
             "sources": [], "split": "test", "format_version": 2, "draft": True, "note": "wrong year"}
    with pytest.raises(GoldSetError, match="draft item"):
        parse_item(draft, "gold_set.jsonl:7")
    path = tmp_path / "gold.jsonl"
    path.write_text(GOLD_PATH.read_text(encoding="utf-8").splitlines()[0] + "\n" + __import__("json").dumps(draft) + "\n")
    with pytest.raises(GoldSetError, match=r"gold.jsonl:2 \(fb-12\) is a draft"):
        load_gold(path)


def test_split_selects_dev_or_test_and_a_version_1_item_is_refused():
    items = load_gold()
    dev, test = select(items, splits=["dev"]), select(items, splits=["test"])
    assert dev and test and {i.split for i in dev} == {"dev"} and {i.split for i in test} == {"test"}
    assert len(dev) + len(test) == len(items)
    with pytest.raises(GoldSetError, match="Unknown split: train"):
        select(items, splits=["train"])
    old = {"id": "ci-900", "question": "Q?", "type": "fact", "reference_answer": "A.", "key_facts": [["a"]],
           "sources": [{"doc": "d.txt", "quote": "a"}], "format_version": 1}
    with pytest.raises(GoldSetError, match="missing fields \\['split'\\]"):
        parse_item(old, "gold_set.jsonl:3")
    with pytest.raises(GoldSetError, match="split 'train' is not one of dev, test"):
        parse_item({**old, "split": "train", "format_version": 2}, "gold_set.jsonl:3")


def test_per_type_takes_a_stratified_sample():
    items = load_gold()
    chosen = select(items, splits=["test"], per_type=3, seed=1)
    counts = __import__("collections").Counter(item.type for item in chosen)
    assert set(counts) == {"fact", "number", "list", "synthesis", "comparison", "unanswerable", "follow_up"}
    assert set(counts.values()) == {3} and {item.split for item in chosen} == {"test"}
    assert [i.id for i in chosen] == [i.id for i in select(items, splits=["test"], per_type=3, seed=1)]
    assert [i.id for i in chosen] != [i.id for i in select(items, splits=["test"], per_type=3, seed=2)]
    with pytest.raises(GoldSetError, match="--per-type must be at least 1"):
        select(items, per_type=0)


def test_selection_is_deterministic():
    items = load_gold()
    first = select(items, sample=10, seed=3)
    assert [i.id for i in first] == [i.id for i in select(items, sample=10, seed=3)]
    assert [i.id for i in first] != [i.id for i in select(items, sample=10, seed=4)]
    assert len(first) == 10
    assert {i.type for i in select(items, types=["number", "list"])} == {"number", "list"}
    assert [i.id for i in select(items, ids=["ci-002", "ci-001"])] == ["ci-001", "ci-002"]
    with pytest.raises(GoldSetError, match="zz-001"):
        select(items, ids=["zz-001"])
    with pytest.raises(GoldSetError, match="Unknown types"):
        select(items, types=["poem"])
