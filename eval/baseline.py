"""The regression gate: compare a run with a stored baseline, within tolerances.

A baseline (eval/baselines/<backend>.json, or <backend>-retrieval.json for --retrieval-only)
holds the per-item results of an accepted run and the tolerances. The comparison is made on
the items both runs share and whose gold entry did not change, so a --sample or --ids run is
compared fairly with a full baseline. The gate fails when

- an overall metric is worse than the baseline's by more than its tolerance, or a per-type one
  by more than the per-type tolerance (only for types with at least ``min_items`` shared items);
- more items than ``max_item_regressions`` (default 0) passed in the baseline and fail now.

Tolerances are edited in the baseline file and kept when ``--update-baseline`` rewrites it. A
number is an absolute tolerance; ``{"absolute": a, "relative": r}`` allows the larger of
``a`` and ``r`` × the baseline value. Timings (latency) are compared and shown, never gated,
even where a baseline file names a tolerance for them: the baseline's times were measured on
another machine, or on this one at a quieter moment, so a slower run says nothing about the code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from eval.metrics_catalogue import BY_KEY, REPORTED, default_tolerances, summarise, summarise_by_type

FORMAT = 1
# what a baseline keeps of each item: enough to recompute every summary metric, and to show it
ITEM_FIELDS = ["type", "gold_digest", "passed", "status", "refused", "fallback", "hit_at_k", "rank", "rr",
               "quote_recall", "context_recall", "answer_recall", "fully_correct", "missing_facts",
               "citation_support", "citation_coverage", "sentence_support", "reading_ease", "judge_faithfulness",
               "judge_correctness",
               "latency_s", "brier"]


class BaselineError(ValueError):
    """The baseline file cannot be read or does not fit this run."""


def default_path(repo: Path, backend: str, retrieval_only: bool, audience: str = "staff") -> Path:
    """eval/baselines/<backend>[-retrieval | -public].json: one baseline a backend, mode and audience."""
    suffix = "-retrieval" if retrieval_only else "-public" if audience == "public" else ""
    return repo / "eval" / "baselines" / f"{backend}{suffix}.json"


def load_baseline(path: Path) -> dict | None:
    """The baseline, or None when the file does not exist."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"Could not read the baseline {path}: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("items"), dict):
        raise BaselineError(f"{path} is not a baseline file (format {FORMAT}) written by `icb-assistant eval --update-baseline`.")
    return data


def _round(value):
    return round(value, 4) if isinstance(value, float) else value


def make_baseline(rows: list[dict], meta: dict, tolerances: dict | None = None) -> dict:
    items = {}
    for row in rows:
        kept = {name: _round(row.get(name)) for name in ITEM_FIELDS}
        kept["answer"] = (row.get("answer") or "")[:300]
        items[row["id"]] = kept
    summary = summarise_by_type(rows)
    return {
        "format": FORMAT,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **meta,
        "tolerances": tolerances or default_tolerances(),
        "summary": json.loads(json.dumps(summary), parse_float=lambda s: round(float(s), 4)),
        "items": items,
    }


def write_baseline(path: Path, baseline: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(baseline, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def check_fits(baseline: dict, backend: str, k: int, retrieval_only: bool, path: Path, audience: str = "staff") -> None:
    """A baseline made in another mode, for another audience or with another k measures something else."""
    problems = []
    if not retrieval_only and baseline.get("audience", "staff") != audience:
        problems.append(f"it was made with answers for {baseline.get('audience', 'staff')}, this run writes for {audience}")
    if bool(baseline.get("retrieval_only")) != bool(retrieval_only):
        made = "--retrieval-only" if baseline.get("retrieval_only") else "a full (answering) run"
        problems.append(f"it was made by {made}")
    if baseline.get("k") != k:
        problems.append(f"it was made with --k {baseline.get('k')}, this run uses --k {k}")
    if baseline.get("backend") != backend:
        problems.append(f"it was made with the {baseline.get('backend')} backend, this run uses {backend}")
    if problems:
        raise BaselineError(
            f"The baseline {path} does not fit this run: {'; '.join(problems)}. "
            "Name a matching one with --baseline, or write a new one with --update-baseline."
        )


@dataclass
class MetricChange:
    scope: str  # "overall" or a type
    metric: str
    before: float
    after: float
    allowed: float | None  # None: not gated
    worse_by: float  # positive: worse than the baseline

    @property
    def regressed(self) -> bool:
        return self.allowed is not None and self.worse_by > self.allowed + 1e-9

    def describe(self) -> str:
        label = BY_KEY[self.metric].label
        delta = self.after - self.before
        return (f"{self.scope} {label}: {self.before:.3f} → {self.after:.3f} ({delta:+.3f}; "
                f"tolerance {self.allowed:.3f})" if self.allowed is not None else
                f"{self.scope} {label}: {self.before:.3f} → {self.after:.3f} ({delta:+.3f})")


@dataclass
class ItemChange:
    id: str
    type: str
    kind: str  # regression | improvement | changed
    before: dict
    after: dict
    what: str


@dataclass
class Comparison:
    path: str
    compared: int = 0
    changes: list[MetricChange] = field(default_factory=list)
    items: list[ItemChange] = field(default_factory=list)
    new_items: list[str] = field(default_factory=list)  # not in the baseline
    gold_changed: list[str] = field(default_factory=list)  # the gold item was edited since
    not_run: int = 0  # baseline items this run did not include
    baseline_passed: dict = field(default_factory=dict)  # id -> passed in the baseline (shared items)
    before: dict = field(default_factory=dict)  # the baseline's overall metrics over the shared items
    after: dict = field(default_factory=dict)  # this run's, over the same items
    max_item_regressions: int = 0

    @property
    def metric_regressions(self) -> list[MetricChange]:
        return [c for c in self.changes if c.regressed]

    @property
    def item_regressions(self) -> list[ItemChange]:
        return [c for c in self.items if c.kind == "regression"]

    @property
    def failed(self) -> bool:
        return bool(self.metric_regressions) or len(self.item_regressions) > self.max_item_regressions

    def failure_lines(self) -> list[str]:
        lines = [c.describe() for c in self.metric_regressions]
        if len(self.item_regressions) > self.max_item_regressions:
            lines += [f"item {c.id} ({c.type}) passed in the baseline and fails now: {c.what}" for c in self.item_regressions]
        return lines


def allowed_worsening(tolerance, before: float) -> float | None:
    if tolerance is None:
        return None
    if isinstance(tolerance, dict):
        return max(float(tolerance.get("absolute", 0.0)), float(tolerance.get("relative", 0.0)) * abs(before))
    return float(tolerance)


NOISE = 1e-3  # baselines keep 4 decimals: smaller differences are rounding, not change


def _changes(scope: str, before: dict, after: dict, tolerances: dict, latency: bool = True) -> list[MetricChange]:
    """Every gated metric, and every other metric that changed (latency only if asked, never gated)."""
    found = []
    for metric in REPORTED:
        old, new = before.get(metric.key), after.get(metric.key)
        if old is None or new is None or (metric.kind == "seconds" and not latency):
            continue
        allowed = None if metric.kind == "seconds" else allowed_worsening(tolerances.get(metric.key), old)
        worse_by = -metric.direction * (new - old)
        if abs(new - old) > NOISE or allowed is not None:
            found.append(MetricChange(scope, metric.key, old, new, allowed, worse_by))
    return found


def _what_changed(before: dict, after: dict) -> str:
    parts = []
    if before.get("status") != after.get("status"):
        parts.append(f"status {before.get('status')} → {after.get('status')}")
    if before.get("hit_at_k") != after.get("hit_at_k") and after.get("hit_at_k") is not None:
        parts.append("gold passage " + ("now retrieved" if after.get("hit_at_k") else "no longer retrieved"))
    if before.get("rank") != after.get("rank") and before.get("hit_at_k") == after.get("hit_at_k") and after.get("hit_at_k"):
        parts.append(f"gold passage rank {before.get('rank')} → {after.get('rank')}")
    old, new = before.get("answer_recall"), after.get("answer_recall")
    if old is not None and new is not None and abs(old - new) > 1e-6:
        parts.append(f"key-fact recall {old:.2f} → {new:.2f}")
    if after.get("missing_facts") and not after.get("passed"):
        parts.append("missing " + ", ".join(repr(f) for f in after["missing_facts"]))
    return "; ".join(parts) or "metrics changed"


def compare(rows: list[dict], baseline: dict, path: Path | str = "") -> Comparison:
    tolerances = {**default_tolerances(), **(baseline.get("tolerances") or {})}
    result = Comparison(path=str(path), max_item_regressions=int(tolerances.get("max_item_regressions", 0)))
    base_items: dict = baseline["items"]
    current = {row["id"]: row for row in rows}
    common = []
    for iid, row in current.items():
        before = base_items.get(iid)
        if before is None:
            result.new_items.append(iid)
        elif before.get("gold_digest") and before.get("gold_digest") != row.get("gold_digest"):
            result.gold_changed.append(iid)
        else:
            common.append(iid)
    result.not_run = sum(1 for iid in base_items if iid not in current)
    result.compared = len(common)
    if not common:
        return result

    before_rows = [{"id": iid, **base_items[iid]} for iid in common]
    after_rows = [current[iid] for iid in common]
    result.before, result.after = summarise(before_rows), summarise(after_rows)
    result.changes += _changes("overall", result.before, result.after, tolerances.get("overall", {}))
    per_type = tolerances.get("per_type", {})
    for kind in dict.fromkeys(r["type"] for r in after_rows):
        before_kind = [r for r in before_rows if r["type"] == kind]
        after_kind = [r for r in after_rows if r["type"] == kind]
        gated = per_type if len(after_kind) >= int(per_type.get("min_items", 10)) else {}
        result.changes += _changes(kind, summarise(before_kind), summarise(after_kind), gated, latency=False)

    for iid in common:
        before, after = base_items[iid], current[iid]
        result.baseline_passed[iid] = before.get("passed")
        if before.get("passed") is True and after.get("passed") is False:
            kind = "regression"
        elif before.get("passed") is False and after.get("passed") is True:
            kind = "improvement"
        elif any(_differs(before.get(name), after.get(name)) for name in ("status", "hit_at_k", "answer_recall", "rank")):
            kind = "changed"
        else:
            continue
        result.items.append(ItemChange(iid, after["type"], kind, before, after, _what_changed(before, after)))
    order = {"regression": 0, "improvement": 1, "changed": 2}
    result.items.sort(key=lambda c: (order[c.kind], c.id))
    return result


def _differs(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is None or b is None or abs(a - b) > 1e-4
    return a != b


def verdict(comparison: Comparison | None, path: Path | str, updated: bool = False) -> dict:
    """What the gate says: verdict (PASSED, FAILED, NO BASELINE, BASELINE UPDATED), a message,
    the lines that fell, and a CSS class for the HTML report."""
    if updated:
        result = {"verdict": "BASELINE UPDATED", "css": "none", "message": f"this run is the new baseline {path}."}
    elif comparison is None:
        result = {"verdict": "NO BASELINE", "css": "none",
                  "message": f"there is no baseline at {path}: nothing to compare (write one with --update-baseline)."}
    elif comparison.compared == 0:
        result = {"verdict": "NO BASELINE", "css": "none",
                  "message": f"the baseline {path} shares no unchanged items with this run: nothing to compare."}
    elif comparison.failed:
        result = {"verdict": "FAILED", "css": "fail", "lines": comparison.failure_lines(),
                  "message": f"quality fell against {path} ({comparison.compared} items compared)."}
    else:
        better = sum(1 for c in comparison.items if c.kind == "improvement")
        result = {"verdict": "PASSED", "css": "pass",
                  "message": f"no metric fell beyond its tolerance and no item that passed in {path} fails "
                  f"({comparison.compared} items compared; {better} items newly pass)."}
    result["baseline"] = str(path)
    return result
