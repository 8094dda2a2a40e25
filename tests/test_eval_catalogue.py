"""The metrics' one declaration (eval/metrics_catalogue.py): the summaries it builds, how it prints
figures, and that the baseline gate and the reports read the same table."""

from __future__ import annotations

import pytest

from eval.baseline import ITEM_FIELDS, make_baseline
from eval.metrics_catalogue import BY_KEY, CHARTS, COLUMNS, METRICS, default_tolerances, fmt, split_gaps, summarise, summarise_by_type


def _rows() -> list[dict]:
    return [
        {"id": "a", "type": "fact", "passed": True, "hit_at_k": True, "rr": 1.0, "answer_recall": 1.0,
         "fully_correct": True, "refused": False, "latency_s": 1.0},
        {"id": "b", "type": "fact", "passed": False, "hit_at_k": False, "rr": 0.0, "answer_recall": 0.5,
         "fully_correct": False, "refused": True, "latency_s": 3.0},
        {"id": "c", "type": "unanswerable", "passed": True, "hit_at_k": None, "rr": None, "answer_recall": None,
         "fully_correct": None, "refused": True, "latency_s": 2.0},
    ]


def test_summary_counts_each_metric_over_its_items():
    summary = summarise(_rows())
    assert (summary["n"], summary["n_answerable"], summary["n_unanswerable"], summary["passed"]) == (3, 2, 1, 2)
    assert summary["pass_rate"] == pytest.approx(2 / 3)
    assert summary["hit_at_k"] == 0.5 and summary["mrr"] == 0.5 and summary["answer_recall"] == 0.75
    assert summary["refusal_rate"] == 1.0  # the one unanswerable item was refused
    assert summary["false_refusal_rate"] == 0.5  # one of the two answerable ones was
    assert summary["latency_p50"] == 2.0 and summary["latency_p95"] == pytest.approx(2.9)
    assert summary["latency_mean"] == 2.0
    assert summary["citation_support"] is None  # no row has a value: not averaged
    assert list(summary)[4:] == [metric.key for metric in METRICS]


def test_figures_print_with_their_kinds_decimals():
    assert fmt(0.12345, "rate") == "0.123"
    assert fmt(0.12345, "seconds") == "0.12" and fmt(4, "score") == "4.00"
    assert fmt(None, "rate") == "–" and fmt(True) == "yes" and fmt(3) == "3"


def test_the_gate_and_the_reports_read_the_one_table():
    tolerances = default_tolerances()
    rates = [m.key for m in METRICS if m.kind == "rate"]
    assert rates and all(tolerances["overall"][key] == 0.02 for key in rates)
    assert all(tolerances["per_type"][key] == 0.10 for key in rates)
    # timings are never gated: a baseline's times come from another machine or a quieter moment
    assert not any(key.startswith("latency") for key in tolerances["overall"])
    assert tolerances["per_type"]["min_items"] == 10
    tolerances["overall"]["pass_rate"] = 9  # each baseline gets its own copy
    assert default_tolerances()["overall"]["pass_rate"] == 0.02

    # a baseline keeps every field a metric is computed from, so the gate can recompute them all
    assert {metric.field for metric in METRICS} <= set(ITEM_FIELDS)
    baseline = make_baseline(_rows(), {"backend": "extractive", "k": 5, "retrieval_only": False})
    assert set(BY_KEY) <= set(baseline["summary"]["overall"])

    assert [m.key for m in CHARTS] == ["hit_at_k", "mrr", "context_recall", "answer_recall", "fully_correct", "pass_rate"]
    assert COLUMNS[0].key == "pass_rate" and all(m.column for m in COLUMNS)


def test_dev_and_test_are_summarised_apart_and_a_gap_is_named():
    rows = _rows()
    rows[0]["split"], rows[1]["split"], rows[2]["split"] = "dev", "test", "test"
    summary = summarise_by_type(rows)
    assert summary["by_split"]["dev"]["overall"]["hit_at_k"] == 1.0
    assert summary["by_split"]["test"]["overall"]["hit_at_k"] == 0.0
    assert summary["by_split"]["test"]["by_type"]["unanswerable"]["n"] == 1
    gaps = split_gaps(summary)
    assert any(gap.startswith("hit@k: dev 1.000, test 0.000") for gap in gaps)
    assert not any(gap.startswith("refusal rate") for gap in gaps)  # dev has no unanswerable item: no figure
    rows[1].update(hit_at_k=True, rr=1.0, answer_recall=1.0, refused=False)
    assert not [g for g in split_gaps(summarise_by_type(rows)) if not g.startswith("refusal")]
    assert split_gaps(summarise_by_type([rows[0]])) == []  # one split: nothing to compare
