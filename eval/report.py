"""The run folder: config.json, results.jsonl, results.csv, summary.json, report.md, report.html.

report.html is one self-contained file (no CDN, no scripts): the charts are matplotlib figures
(Agg) embedded as inline SVG; the tables compare the system with the naive reference per type
and list what changed against the baseline.

It is over 400 lines because it holds the HTML template beside the Markdown writer: both render
the one ``report_data`` and are read together when the report changes.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timezone
from pathlib import Path

from assistant.csv_safety import safe_row
from eval.baseline import NOISE, Comparison
from eval.gold import TYPES
from eval.metrics_catalogue import BY_KEY, CHARTS, COLUMNS, HEADLINE, REPORTED, fmt, split_gaps, summarise_by_type
from eval.runner import RunResult

CSV_FIELDS = [
    "id", "type", "question", "history", "rewritten_question", "status", "refused", "passed", "hit_at_k", "rank",
    "rr", "quote_recall", "context_recall", "answer_recall", "fully_correct", "missing_facts", "citation_support",
    "citation_coverage", "n_citations", "latency_s", "fallback", "model", "p_answerable", "band", "judge_faithfulness", "judge_correctness",
    "judge_reason", "judge_error", "diagnosis", "answer",
]
REF_FIELDS = ["status", "refused", "passed", "hit_at_k", "rank", "rr", "quote_recall", "context_recall",
              "answer_recall", "fully_correct", "missing_facts", "citation_support", "citation_coverage",
              "latency_s", "diagnosis", "answer"]


def run_folder(out: Path, backend: str, now: datetime | None = None) -> Path:
    """A new folder <out>/<UTC timestamp>-<backend>/ (a suffix if that name is taken)."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    folder, n = out / f"{stamp}-{backend}", 1
    while True:
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            n += 1
            folder = out / f"{stamp}-{backend}-{n}"


def worst_items(rows: list[dict], count: int = 10) -> list[dict]:
    """Failing items first, the furthest from right first (refusals, missing facts, misses)."""

    def badness(row: dict):
        parts = [row.get(name) for name in ("answer_recall", "context_recall", "rr")]
        parts = [float(p) for p in parts if p is not None]
        return (row.get("passed") is not False, sum(parts) / len(parts) if parts else 0.0, row["id"])

    return [row for row in sorted(rows, key=badness) if row.get("passed") is False][:count]


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False) if value and not isinstance(value[0], str) else "; ".join(value)
    return str(value)


def write_csv(path: Path, rows: list[dict], changes: dict[str, str]) -> None:
    fields = CSV_FIELDS + ["baseline_passed", "baseline_change"] + [f"ref_{name}" for name in REF_FIELDS]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(fields)
        for row in rows:
            values = [json.dumps(row.get("history", []), ensure_ascii=False) if f == "history" else _csv_value(row.get(f))
                      for f in CSV_FIELDS]
            values += [_csv_value(row.get("baseline_passed")), changes.get(row["id"], "")]
            reference = row.get("reference") or {}
            values += [_csv_value(reference.get(name)) for name in REF_FIELDS]
            writer.writerow(safe_row(values))


# -- charts -------------------------------------------------------------------------------------


def _svg(figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.find("<svg"):]
    return re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)  # RDF credits: not needed inline


def _matplotlib():
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: small, searchable
    matplotlib.rcParams["svg.hashsalt"] = "icb-eval"  # the same run draws the same file
    from matplotlib.figure import Figure

    return Figure


def metric_bars_svg(current: dict, reference: dict | None) -> str:
    """One small chart per metric: a bar per type, the system beside the naive reference."""
    Figure = _matplotlib()
    types = [t for t in TYPES if t in current["by_type"]] + ["overall"]
    figure = Figure(figsize=(11, 6.2))
    axes = figure.subplots(2, 3, sharex=True, sharey=True)  # shared ticks: a third of the text to lay out
    width = 0.4 if reference else 0.7
    for ax, metric in zip(axes.flat, CHARTS):
        def values(summary):
            return [((summary["overall"] if t == "overall" else summary["by_type"].get(t, {})).get(metric.key)) for t in types]

        mine = values(current)
        xs = list(range(len(types)))
        ax.bar([x - (width / 2 if reference else 0) for x in xs], [v or 0 for v in mine], width,
               label="system", color="#1f6fb4")
        if reference:
            ax.bar([x + width / 2 for x in xs], [v or 0 for v in values(reference)], width,
                   label="naive reference", color="#c9c9c9")
        for x, v in zip(xs, mine):
            if v is None:
                ax.text(x, 0.02, "–", ha="center", fontsize=8)
        ax.set_title(metric.label, fontsize=10)
        ax.set_ylim(0, 1.05)
        ax.grid(axis="y", alpha=0.3)
    for ax in axes[-1]:
        ax.set_xticks(range(len(types)))
        ax.set_xticklabels([t.replace("_", " ") for t in types], rotation=40, ha="right", fontsize=8)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="upper center", ncol=2, fontsize=9, frameon=False)
    figure.subplots_adjust(left=0.05, right=0.99, top=0.9, bottom=0.14, hspace=0.25, wspace=0.08)
    return _svg(figure)


def latency_svg(rows: list[dict]) -> str:
    values = [row["latency_s"] for row in rows if row.get("latency_s") is not None]
    if not values:
        return ""
    Figure = _matplotlib()
    figure = Figure(figsize=(7, 3))
    ax = figure.subplots()
    ax.hist(values, bins=min(30, max(5, len(values) // 4)), color="#1f6fb4")
    ax.set_xlabel("seconds per answer")
    ax.set_ylabel("items")
    ax.set_title("Latency")
    ax.grid(axis="y", alpha=0.3)
    figure.subplots_adjust(left=0.1, right=0.98, top=0.88, bottom=0.18)
    return _svg(figure)


CALIBRATION_BINS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0)  # most items are answerable: finer bins near 1


def calibration(rows: list[dict]) -> list[dict]:
    """P(answerable) of the answerability decision in bins against the share of the bin's items
    that are answerable; empty bins left out."""
    scored = [(row["p_answerable"], row["type"] != "unanswerable") for row in rows if row.get("p_answerable") is not None]
    bins = []
    for low, high in zip(CALIBRATION_BINS, CALIBRATION_BINS[1:]):
        inside = [(p, y) for p, y in scored if low <= p < high or (high == 1.0 and p == 1.0)]
        if inside:
            bins.append({"bin": f"{low:.2f}–{high:.2f}", "n": len(inside),
                         "predicted": sum(p for p, _ in inside) / len(inside),
                         "observed": sum(y for _, y in inside) / len(inside)})
    return bins


def calibration_svg(bins: list[dict]) -> str:
    """Predicted against observed answerable rate per bin, the diagonal for perfect calibration."""
    if not bins:
        return ""
    Figure = _matplotlib()
    figure = Figure(figsize=(5, 4))
    ax = figure.subplots()
    ax.plot([0, 1], [0, 1], color="#c9c9c9", linestyle="--", label="perfectly calibrated")
    ax.plot([b["predicted"] for b in bins], [b["observed"] for b in bins], marker="o", color="#1f6fb4", label="this run")
    for b in bins:
        ax.annotate(f"n={b['n']}", (b["predicted"], b["observed"]), textcoords="offset points", xytext=(4, -10), fontsize=8)
    ax.set_xlabel("predicted P(answerable)")
    ax.set_ylabel("observed answerable rate")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8, loc="upper left", frameon=False)
    ax.grid(alpha=0.3)
    figure.subplots_adjust(left=0.14, right=0.97, top=0.95, bottom=0.13)
    return _svg(figure)


def calibration_md(bins: list[dict]) -> list[str]:
    if not bins:
        return []
    lines = ["## Answerability calibration", "",
             "Predicted P(answerable) in bins against the observed share of answerable items (report.html draws it).", ""]
    lines += _md_table(["P bin", "n", "mean predicted", "observed answerable"],
                       [[b["bin"], b["n"], fmt(b["predicted"]), fmt(b["observed"])] for b in bins])
    return lines + [""]


# -- the report's content, shared by Markdown and HTML ----------------------------------------------


def _cell(summary: dict | None, metric) -> str:
    return fmt(summary.get(metric.key) if summary else None, metric.kind)


def split_rows(current: dict) -> list[dict]:
    """The dev/test table: per type and overall, each headline figure on dev and on test, side by
    side (empty unless the run holds items of both splits)."""
    splits = current.get("by_split", {})
    if not {"dev", "test"} <= set(splits):
        return []
    dev, test = splits["dev"], splits["test"]
    rows = []
    for t in [t for t in TYPES if t in current["by_type"]] + ["overall"]:
        mine = {name: (part["overall"] if t == "overall" else part["by_type"].get(t)) for name, part in (("dev", dev), ("test", test))}
        rows.append({
            "type": t,
            "n": f"{mine['dev']['n'] if mine['dev'] else 0} / {mine['test']['n'] if mine['test'] else 0}",
            "cells": [f"{_cell(mine['dev'], metric)} / {_cell(mine['test'], metric)}" for metric in HEADLINE],
        })
    return rows


def report_data(result: RunResult, meta: dict, summary: dict, comparison: Comparison | None, gate: dict) -> dict:
    current, reference = summary["current"], summary.get("reference")
    types = [t for t in TYPES if t in current["by_type"]]
    type_rows = []
    for t in types + ["overall"]:
        mine = current["overall"] if t == "overall" else current["by_type"][t]
        ref = (reference["overall"] if t == "overall" else reference["by_type"].get(t)) if reference else None
        cells = []
        for metric in COLUMNS:
            cells.append(_cell(mine, metric) + (f" / {_cell(ref, metric)}" if reference else ""))
        type_rows.append({"type": t, "n": mine["n"], "cells": cells})
    before = {c.metric: c for c in comparison.changes if c.scope == "overall"} if comparison else {}
    overall_rows = []
    for metric in REPORTED:
        mine = current["overall"].get(metric.key)
        ref = reference["overall"].get(metric.key) if reference else None
        if mine is None and ref is None:
            continue
        change = before.get(metric.key)
        old = comparison.before.get(metric.key) if comparison else None
        overall_rows.append({
            "label": metric.label,
            "current": _cell(current["overall"], metric),
            "reference": _cell(reference["overall"] if reference else None, metric),
            "baseline": fmt(old, metric.kind),
            "delta": f"{change.after - change.before:+.3f}" if change and abs(change.after - change.before) > NOISE else "",
            "flag": "REGRESSION" if change and change.regressed else "",
        })
    metric_changes = []
    item_changes = []
    if comparison:
        metric_changes = [
            {"scope": c.scope, "label": BY_KEY[c.metric].label, "before": fmt(c.before, BY_KEY[c.metric].kind),
             "after": fmt(c.after, BY_KEY[c.metric].kind), "delta": f"{c.after - c.before:+.3f}",
             "allowed": fmt(c.allowed, BY_KEY[c.metric].kind) if c.allowed is not None else "not gated",
             "flag": "REGRESSION" if c.regressed else ("better" if c.worse_by < -NOISE else "worse" if c.worse_by > NOISE else "")}
            for c in comparison.changes if c.regressed or abs(c.after - c.before) > NOISE
        ]
        item_changes = [
            {"id": c.id, "type": c.type, "kind": c.kind, "before": fmt(c.before.get("passed")),
             "after": fmt(c.after.get("passed")), "what": c.what}
            for c in comparison.items
        ]
    worst = [
        {"id": r["id"], "type": r["type"], "question": r["question"], "status": r.get("status", ""),
         "answer_recall": fmt(r.get("answer_recall")), "rank": r.get("rank") or "–", "diagnosis": r.get("diagnosis", "")}
        for r in worst_items(result.rows, 10)
    ]
    notes = []
    if result.quotes_not_found:
        notes.append(f"{len(result.quotes_not_found)} gold quotes were not found in the indexed text (their items "
                     f"have no retrieval score): " + ", ".join(result.quotes_not_found[:20]))
    if comparison and comparison.new_items:
        notes.append(f"{len(comparison.new_items)} items are not in the baseline: " + ", ".join(comparison.new_items[:20]))
    if comparison and comparison.gold_changed:
        notes.append("Gold items edited since the baseline (not compared): " + ", ".join(comparison.gold_changed))
    if comparison and comparison.not_run:
        notes.append(f"{comparison.not_run} baseline items were not part of this run; the baseline figures above are "
                     "recomputed over the items both runs share.")
    fallbacks = [r["id"] for r in result.rows if r.get("fallback")]
    if fallbacks:
        notes.append(f"{len(fallbacks)} answers fell back to the extractive answerer (the LLM was unavailable or "
                     "too slow): " + ", ".join(fallbacks[:20]))
    if not reference:
        notes.append("The naive reference was not run (--no-reference).")
    for gap in split_gaps(current):
        notes.append(f"Dev-test gap over 0.05, a finding to explain: {gap}.")
    return {
        "meta": meta,
        "gate": gate,
        "columns": [metric.column for metric in COLUMNS],
        "type_rows": type_rows,
        "split_columns": [metric.column for metric in HEADLINE],
        "split_rows": split_rows(current),
        "overall_rows": overall_rows,
        "metric_changes": metric_changes,
        "item_changes": item_changes,
        "worst": worst,
        "notes": notes,
        "has_reference": bool(reference),
        "calibration": calibration(result.rows),
    }


def markdown(data: dict) -> str:
    meta, gate = data["meta"], data["gate"]
    out = [f"# Evaluation run {meta['run']}", ""]
    out.append(f"- Backend: **{meta['backend']}** (model: {meta.get('model') or '–'}), mode: {meta['mode']}, k = {meta['k']}")
    out.append(f"- Items: {meta['items']} of the gold set ({meta['selection']}); gold set sha256 {meta['gold_set_sha256'][:12]}")
    out.append(f"- Git commit: {meta.get('git_commit') or 'unknown'}{' (uncommitted changes)' if meta.get('git_dirty') else ''}")
    out.append(f"- Judge: {meta.get('judge')}; run time {meta['seconds']:.1f} s; {meta['created']}")
    out.append(f"- **Gate: {gate['verdict']}** — {gate['message']}")
    for line in gate.get("lines", []):
        out.append(f"  - {line}")
    out.append("")
    out.append("## Overall")
    out.append("")
    out.append("| Metric | System | Naive reference | Baseline | Δ vs baseline | |")
    out.append("| --- | --- | --- | --- | --- | --- |")
    for row in data["overall_rows"]:
        out.append(f"| {row['label']} | {row['current']} | {row['reference']} | {row['baseline']} | {row['delta']} | {row['flag']} |")
    out.append("")
    out.append("## By type" + (" (system / naive reference)" if data["has_reference"] else ""))
    out.append("")
    out.append("| Type | n | " + " | ".join(data["columns"]) + " |")
    out.append("| --- | --- | " + " | ".join("---" for _ in data["columns"]) + " |")
    for row in data["type_rows"]:
        out.append(f"| {row['type']} | {row['n']} | " + " | ".join(row["cells"]) + " |")
    out.append("")
    if data["split_rows"]:
        out.append("## Dev and test side by side (dev / test)")
        out.append("")
        out.append("Every threshold, weight and rule was chosen on dev; test is held out and only reported.")
        out.append("")
        out += _md_table(["Type", "n"] + data["split_columns"], [[r["type"], r["n"], *r["cells"]] for r in data["split_rows"]])
        out.append("")
    out += calibration_md(data["calibration"])
    out.append("## Against the baseline")
    out.append("")
    if data["metric_changes"]:
        out += _md_table(
            ["Scope", "Metric", "Baseline", "Now", "Δ", "Tolerance", ""],
            [[c["scope"], c["label"], c["before"], c["after"], c["delta"], c["allowed"], c["flag"]] for c in data["metric_changes"]],
        )
        out.append("")
    if data["item_changes"]:
        out += _md_table(
            ["Item", "Type", "Change", "Passed before", "Passes now", "What"],
            [[c["id"], c["type"], c["kind"], c["before"], c["after"], _md(c["what"])] for c in data["item_changes"]],
        )
        out.append("")
    if not data["metric_changes"] and not data["item_changes"]:
        out.append(gate["message"])
        out.append("")
    out.append("## Worst items")
    out.append("")
    if data["worst"]:
        out += _md_table(
            ["Item", "Type", "Status", "Key-fact recall", "Gold rank", "Question", "Why"],
            [[w["id"], w["type"], w["status"], w["answer_recall"], w["rank"], _md(w["question"]), _md(w["diagnosis"])] for w in data["worst"]],
        )
    else:
        out.append("Every item passed.")
    out.append("")
    if data["notes"]:
        out.append("## Notes")
        out.append("")
        out.extend(f"- {_md(note)}" for note in data["notes"])
        out.append("")
    out.append("Per-item results: `results.csv` / `results.jsonl`; charts: `report.html`.")
    return "\n".join(out) + "\n"


def _md_table(headers: list[str], rows: list[list]) -> list[str]:
    """A Markdown table's lines: header, rule, one line per row."""
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    return lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Evaluation {{ meta.run }}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5em 0 1em; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f3f5f7; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.pass { color: #146c2e; font-weight: bold; } .fail { color: #b00020; font-weight: bold; } .none { color: #555; font-weight: bold; }
.flag { color: #b00020; font-weight: bold; } .better { color: #146c2e; }
.meta li { margin: 0; } svg { max-width: 100%; height: auto; }
</style></head><body>
<h1>Evaluation run {{ meta.run }}</h1>
<ul class="meta">
<li>Backend <b>{{ meta.backend }}</b> (model: {{ meta.model or "–" }}), mode: {{ meta.mode }}, k = {{ meta.k }}</li>
<li>Items: {{ meta["items"] }} ({{ meta.selection }}); gold set sha256 {{ meta.gold_set_sha256[:12] }}</li>
<li>Git commit: {{ meta.git_commit or "unknown" }}{% if meta.git_dirty %} (uncommitted changes){% endif %}</li>
<li>Judge: {{ meta.judge }}; run time {{ "%.1f"|format(meta.seconds) }} s; {{ meta.created }}</li>
</ul>
<p>Gate: <span class="{{ gate.css }}">{{ gate.verdict }}</span> — {{ gate.message }}</p>
{% if gate.lines %}<ul>{% for line in gate.lines %}<li>{{ line }}</li>{% endfor %}</ul>{% endif %}

<h2>Overall</h2>
<table><tr><th>Metric</th><th>System</th><th>Naive reference</th><th>Baseline</th><th>Δ vs baseline</th><th></th></tr>
{% for r in overall_rows %}<tr><td>{{ r.label }}</td><td class="num">{{ r.current }}</td><td class="num">{{ r.reference }}</td><td class="num">{{ r.baseline }}</td><td class="num">{{ r.delta }}</td><td class="flag">{{ r.flag }}</td></tr>
{% endfor %}</table>

<h2>By type{% if has_reference %} (system / naive reference){% endif %}</h2>
<table><tr><th>Type</th><th>n</th>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for r in type_rows %}<tr><td>{{ r.type }}</td><td class="num">{{ r.n }}</td>{% for c in r.cells %}<td class="num">{{ c }}</td>{% endfor %}</tr>
{% endfor %}</table>
{{ bars_svg | safe }}
{% if split_rows %}<h2>Dev and test side by side (dev / test)</h2>
<p>Every threshold, weight and rule was chosen on dev; test is held out and only reported.</p>
<table><tr><th>Type</th><th>n</th>{% for c in split_columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for r in split_rows %}<tr><td>{{ r.type }}</td><td class="num">{{ r.n }}</td>{% for c in r.cells %}<td class="num">{{ c }}</td>{% endfor %}</tr>
{% endfor %}</table>{% endif %}
{% if latency_svg %}<h2>Latency</h2>{{ latency_svg | safe }}{% endif %}
{% if calibration %}<h2>Answerability calibration</h2>
<table><tr><th>P bin</th><th>n</th><th>mean predicted</th><th>observed answerable</th></tr>
{% for b in calibration %}<tr><td>{{ b.bin }}</td><td class="num">{{ b.n }}</td><td class="num">{{ "%.3f"|format(b.predicted) }}</td><td class="num">{{ "%.3f"|format(b.observed) }}</td></tr>
{% endfor %}</table>{{ calibration_svg | safe }}{% endif %}

<h2>Against the baseline</h2>
{% if metric_changes %}<table><tr><th>Scope</th><th>Metric</th><th>Baseline</th><th>Now</th><th>Δ</th><th>Tolerance</th><th></th></tr>
{% for c in metric_changes %}<tr><td>{{ c.scope }}</td><td>{{ c.label }}</td><td class="num">{{ c.before }}</td><td class="num">{{ c.after }}</td><td class="num">{{ c.delta }}</td><td class="num">{{ c.allowed }}</td><td class="{{ 'flag' if c.flag == 'REGRESSION' else ('better' if c.flag == 'better' else '') }}">{{ c.flag }}</td></tr>
{% endfor %}</table>{% endif %}
{% if item_changes %}<table><tr><th>Item</th><th>Type</th><th>Change</th><th>Passed before</th><th>Passes now</th><th>What</th></tr>
{% for c in item_changes %}<tr><td>{{ c.id }}</td><td>{{ c.type }}</td><td class="{{ 'flag' if c.kind == 'regression' else ('better' if c.kind == 'improvement' else '') }}">{{ c.kind }}</td><td>{{ c.before }}</td><td>{{ c.after }}</td><td>{{ c.what }}</td></tr>
{% endfor %}</table>{% endif %}
{% if not metric_changes and not item_changes %}<p>{{ gate.message }}</p>{% endif %}

<h2>Worst items</h2>
{% if worst %}<table><tr><th>Item</th><th>Type</th><th>Status</th><th>Key-fact recall</th><th>Gold rank</th><th>Question</th><th>Why</th></tr>
{% for w in worst %}<tr><td>{{ w.id }}</td><td>{{ w.type }}</td><td>{{ w.status }}</td><td class="num">{{ w.answer_recall }}</td><td class="num">{{ w.rank }}</td><td>{{ w.question }}</td><td>{{ w.diagnosis }}</td></tr>
{% endfor %}</table>{% else %}<p>Every item passed.</p>{% endif %}
{% if notes %}<h2>Notes</h2><ul>{% for n in notes %}<li>{{ n }}</li>{% endfor %}</ul>{% endif %}
<p>Per-item results: results.csv and results.jsonl in this folder.</p>
</body></html>
"""


def html(data: dict, bars_svg: str, latency: str) -> str:
    from jinja2 import Environment

    environment = Environment(autoescape=True, trim_blocks=False)
    return environment.from_string(HTML).render(
        **data, bars_svg=bars_svg, latency_svg=latency, calibration_svg=calibration_svg(data["calibration"])
    )


def write_run(
    folder: Path, result: RunResult, meta: dict, config: dict, comparison: Comparison | None, gate: dict
) -> dict:
    """Write every file of the run folder; returns the summary written to summary.json."""
    folder = Path(folder)
    baseline_passed = comparison.baseline_passed if comparison else {}
    changes = {c.id: c.kind for c in comparison.items} if comparison else {}
    for row in result.rows:
        if row["id"] in baseline_passed:
            row["baseline_passed"] = baseline_passed[row["id"]]
    reference_rows = [row["reference"] for row in result.rows if row.get("reference")]
    summary = {
        "run": meta["run"],
        "backend": meta["backend"],
        "mode": meta["mode"],
        "k": meta["k"],
        "items": len(result.rows),
        "current": summarise_by_type(result.rows),
        "reference": summarise_by_type(reference_rows) if reference_rows else None,
        "gate": {key: value for key, value in gate.items() if key != "css"},
    }
    if comparison:
        summary["gate"]["compared_items"] = comparison.compared
        summary["gate"]["item_regressions"] = [c.id for c in comparison.item_regressions]
        summary["gate"]["item_improvements"] = [c.id for c in comparison.items if c.kind == "improvement"]
        summary["gate"]["metric_regressions"] = [c.describe() for c in comparison.metric_regressions]

    (folder / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    with (folder / "results.jsonl").open("w", encoding="utf-8") as handle:
        for row in result.rows:
            handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    write_csv(folder / "results.csv", result.rows, changes)
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    data = report_data(result, meta, summary, comparison, gate)
    (folder / "report.md").write_text(markdown(data), encoding="utf-8")
    bars = metric_bars_svg(summary["current"], summary["reference"])
    (folder / "report.html").write_text(html(data, bars, latency_svg(result.rows)), encoding="utf-8")
    return summary


def git_state(repo: Path) -> dict:
    """The commit and whether tracked files have uncommitted changes (read-only git calls)."""
    import os
    import subprocess

    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10, env=env)
        status = subprocess.run(["git", "-C", str(repo), "--no-optional-locks", "status", "--porcelain",
                                 "--untracked-files=no"], capture_output=True, text=True, timeout=20, env=env)
    except (OSError, subprocess.SubprocessError):
        return {}
    if commit.returncode != 0:
        return {}
    return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip()) if status.returncode == 0 else None}


def redact(settings: dict) -> dict:
    """Settings for config.json (API keys already left out): no passwords inside URLs."""
    return {name: re.sub(r"//[^/@\s]+@", "//***@", value) if isinstance(value, str) else value
            for name, value in settings.items()}


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
