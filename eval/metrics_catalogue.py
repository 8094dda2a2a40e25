"""Every metric of a run, declared once, and the summaries built from them.

Each :class:`Metric` says which per-item field it averages (and over which items), whether
higher is better, how it is printed, its default tolerances in the baseline gate, and where it
appears: a column of the per-type tables, a column of the terminal summary, a bar chart. The
runner's summaries, the report, the baseline gate and the command line all read this table.

    summarise(rows)            # {"n": ..., "pass_rate": ..., ...} for a set of result rows
    summarise_by_type(rows)    # {"overall": {...}, "by_type": {type: {...}}, "by_split": {split: {...}}}
    split_gaps(summary)        # headline figures whose dev and test values differ by more than GAP
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from eval import metrics
from eval.gold import SPLITS, TYPES

DECIMALS = {"rate": 3, "score": 2, "seconds": 2}  # how each kind of figure is printed
GAP = 0.05  # a headline figure whose dev and test values differ by more is a finding to explain


@dataclass(frozen=True)
class Metric:
    key: str  # its name in summary.json and the baseline
    label: str  # its name in the reports and the gate's messages
    kind: str  # "rate" (0-1), "score" (the judge's 1-5) or "seconds"
    higher_is_better: bool
    field: str  # the per-item field it aggregates
    over: str = "all"  # the items it is computed over: "all", "answerable" or "unanswerable"
    percentile: float | None = None  # None: the mean of the field; else this percentile of it
    tolerance: float | dict | None = None  # how much worse it may get overall (None: not gated)
    type_tolerance: float | None = None  # how much worse it may get within a type (None: not gated)
    column: str = ""  # its heading in the report's per-type table ("": not a column)
    console: str = ""  # its heading in the terminal's summary table ("": not shown)
    chart: int | None = None  # its place among the report's bar charts (None: no chart)
    reported: bool = True  # in the report's overall table and compared with the baseline
    headline: bool = False  # in the dev/test table: a target of the project, watched for a dev-test gap

    @property
    def direction(self) -> int:
        """+1 when higher is better, -1 when lower is better."""
        return 1 if self.higher_is_better else -1

    def of(self, rows: list[dict]) -> float | None:
        """The metric over a set of result rows (None when no row has a value)."""
        if self.over == "answerable":
            rows = [r for r in rows if r["type"] != "unanswerable"]
        elif self.over == "unanswerable":
            rows = [r for r in rows if r["type"] == "unanswerable"]
        values = [r.get(self.field) for r in rows]
        if self.percentile is None:
            return metrics.mean(values)
        return metrics.percentile(values, self.percentile)


def _rate(key: str, label: str, field: str, over: str = "all", higher_is_better: bool = True, **where) -> Metric:
    return Metric(key, label, "rate", higher_is_better, field, over, tolerance=0.02, type_tolerance=0.10, **where)


METRICS: tuple[Metric, ...] = (
    _rate("pass_rate", "pass rate", "passed", column="pass", console="pass", chart=5),
    _rate("hit_at_k", "hit@k", "hit_at_k", "answerable", column="hit@k", console="hit@k", chart=0, headline=True),
    _rate("mrr", "MRR", "rr", "answerable", column="MRR", console="MRR", chart=1, headline=True),
    _rate("quote_recall", "gold-quote recall@k", "quote_recall", "answerable"),
    _rate("context_recall", "key-fact recall of context", "context_recall", "answerable",
          column="ctx recall", console="ctx", chart=2),
    _rate("answer_recall", "key-fact recall of answer", "answer_recall", "answerable",
          column="ans recall", console="answer", chart=3, headline=True),
    _rate("fully_correct", "fully correct", "fully_correct", "answerable",
          column="fully correct", console="correct", chart=4),
    _rate("citation_support", "citation support", "citation_support", column="cit. support", headline=True),
    _rate("citation_coverage", "citation coverage", "citation_coverage", column="cit. coverage"),
    _rate("sentence_support", "sentence support (sentences backed by their citations)", "sentence_support",
          column="sent. support"),
    _rate("refusal_rate", "refusal rate (unanswerable)", "refused", "unanswerable", column="refusal", console="refusal", headline=True),
    _rate("false_refusal_rate", "false-refusal rate (answerable)", "refused", "answerable", higher_is_better=False,
          column="false refusal", console="f.refusal", headline=True),
    _rate("fallback_rate", "extractive fallback rate", "fallback", higher_is_better=False),
    _rate("brier", "answerability Brier score (P answerable)", "brier", higher_is_better=False),
    Metric("reading_ease", "reading ease of the answers (Flesch, 0-100; 60+ is plain English)", "score", True,
           "reading_ease", over="answerable", column="reading ease"),
    Metric("judge_faithfulness", "judge: faithfulness (1-5)", "score", True, "judge_faithfulness", tolerance=0.25),
    Metric("judge_correctness", "judge: correctness (1-5)", "score", True, "judge_correctness", tolerance=0.25),
    # timings are reported and compared, never gated: a baseline's times were measured on another
    # machine or the same one less busy, so a slower run says nothing about the code
    Metric("latency_p50", "latency p50 (s)", "seconds", False, "latency_s", percentile=50,
           column="p50 s", console="p50 s"),
    Metric("latency_p95", "latency p95 (s)", "seconds", False, "latency_s", percentile=95),
    Metric("latency_mean", "latency mean (s)", "seconds", False, "latency_s", reported=False),
)
BY_KEY = {metric.key: metric for metric in METRICS}
REPORTED = [metric for metric in METRICS if metric.reported]
COLUMNS = [metric for metric in METRICS if metric.column]
CONSOLE = [metric for metric in METRICS if metric.console]
HEADLINE = [metric for metric in METRICS if metric.headline]
CHARTS = sorted((metric for metric in METRICS if metric.chart is not None), key=lambda metric: metric.chart)


def fmt(value, kind: str = "rate") -> str:
    """A figure as the reports print it: its kind's decimals, yes/no for a boolean, – for none."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) or (isinstance(value, int) and kind != "rate"):
        return f"{value:.{DECIMALS[kind]}f}"
    return str(value)  # a count, or text


def default_tolerances() -> dict:
    """The gate's tolerances for a new baseline (then edited in the baseline file itself)."""
    return copy.deepcopy({
        "overall": {m.key: m.tolerance for m in METRICS if m.tolerance is not None},
        "per_type": {"min_items": 10, **{m.key: m.type_tolerance for m in METRICS if m.type_tolerance is not None}},
        "max_item_regressions": 0,
    })


def summarise(rows: list[dict]) -> dict:
    """Every metric of a set of result rows (system or reference: the same keys), with the counts."""
    return {
        "n": len(rows),
        "n_answerable": sum(1 for r in rows if r["type"] != "unanswerable"),
        "n_unanswerable": sum(1 for r in rows if r["type"] == "unanswerable"),
        "passed": sum(1 for r in rows if r.get("passed") is True),
        **{metric.key: metric.of(rows) for metric in METRICS},
    }


def _by_type(rows: list[dict]) -> dict:
    return {t: summarise([r for r in rows if r["type"] == t]) for t in TYPES if any(r["type"] == t for r in rows)}


def summarise_by_type(rows: list[dict]) -> dict:
    """{"overall": {...}, "by_type": {type: {...}}, "by_split": {split: {"overall", "by_type"}}}, in
    the gold set's type order; "by_split" holds the splits the rows come from (dev, test)."""
    by_split = {
        split: {"overall": summarise(chosen), "by_type": _by_type(chosen)}
        for split in SPLITS if (chosen := [r for r in rows if r.get("split") == split])
    }
    return {"overall": summarise(rows), "by_type": _by_type(rows), "by_split": by_split}


def split_gaps(summary: dict) -> list[str]:
    """The headline figures (overall) whose dev and test values differ by more than GAP, in words."""
    splits = summary.get("by_split", {})
    if not {"dev", "test"} <= set(splits):
        return []
    gaps = []
    for metric in HEADLINE:
        dev, test = splits["dev"]["overall"].get(metric.key), splits["test"]["overall"].get(metric.key)
        if dev is not None and test is not None and abs(dev - test) > GAP:
            gaps.append(f"{metric.label}: dev {fmt(dev, metric.kind)}, test {fmt(test, metric.kind)} "
                        f"({test - dev:+.3f} on test)")
    return gaps
