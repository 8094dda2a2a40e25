"""The evaluation's face in a terminal: `icb-assistant eval` and `eval-drafts` (assistant/cli.py
maps their options and calls these with its two consoles, standard output and standard error).

    code = run_and_show(request, settings, console, errors)   # 0 passed or no baseline, 1 quality fell

Problems the user can fix raise :class:`eval.runner.EvalError` with the message to show.
"""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console

from assistant.config import Settings
from eval.metrics_catalogue import CONSOLE, HEADLINE, fmt, split_gaps
from eval.orchestrate import EvalRequest, execute, prepare
from eval.runner import EvalError


def run_and_show(request: EvalRequest, settings: Settings, console: Console, errors: Console) -> int:
    """Run the evaluation with a progress bar, print its summary and the gate's verdict; the exit code."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    plan = prepare(request, settings)
    errors.print(f"Evaluating {len(plan.chosen)} items with the {request.backend} backend ({request.mode}, "
                 f"k={request.k}).", highlight=False)
    with Progress(
        TextColumn("[bold]Evaluating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[item]}"),
        console=errors,
        transient=False,
        disable=not errors.is_terminal and not os.environ.get("ICB_ASSISTANT_PROGRESS"),
    ) as bar:
        task = bar.add_task("eval", total=len(plan.chosen), item="indexing the corpus")

        def progress(done: int, total: int, item: str) -> None:
            bar.update(task, completed=done, total=total, item=item or "done")

        outcome = execute(plan, progress)
    for note in outcome.notes:
        errors.print(f"Note: {note}", markup=False, highlight=False)

    print_summary(outcome.summary, console)
    verdict = outcome.verdict
    console.print(f"{verdict['verdict']}: {verdict['message']}", markup=False, highlight=False)
    console.print(f"Report: {outcome.folder / 'report.html'} (and report.md, results.csv, summary.json)",
                  markup=False, highlight=False)
    if verdict["verdict"] == "FAILED":
        errors.print("Quality fell against the baseline:", highlight=False)
        for line in verdict["lines"]:
            errors.print(f"  - {line}", markup=False, highlight=False)
        return 1
    return 0


def print_summary(summary: dict, console: Console) -> None:
    """The per-type table of the run (and of the naive reference), with the columns the catalogue names."""
    from rich import box
    from rich.table import Table

    current, reference = summary["current"], summary.get("reference")
    table = Table(title="Evaluation" + (" (rows 'naive': the naive reference)" if reference else ""),
                  box=box.SIMPLE_HEAD, padding=(0, 0), title_justify="left")
    table.add_column("Type", no_wrap=True, min_width=12)
    table.add_column("n", justify="right", no_wrap=True)
    for metric in CONSOLE:
        table.add_column(metric.console, justify="right", no_wrap=True, min_width=max(4, len(metric.console)))
    for name in list(current["by_type"]) + ["overall"]:
        mine = current["overall"] if name == "overall" else current["by_type"][name]
        cells = [fmt(mine.get(metric.key), metric.kind) for metric in CONSOLE]
        table.add_row(name, str(mine["n"]), *cells, style="bold" if name == "overall" else None)
        ref = (reference["overall"] if name == "overall" else reference["by_type"].get(name)) if reference else None
        if ref is not None:
            cells = [fmt(ref.get(metric.key), metric.kind) for metric in CONSOLE]
            table.add_row("  naive", "", *cells, style="dim")
    console.print(table)
    splits = current.get("by_split", {})
    if {"dev", "test"} <= set(splits):
        table = Table(title="Dev and test side by side (tune on dev; test is held out)", box=box.SIMPLE_HEAD,
                      padding=(0, 0), title_justify="left")
        table.add_column("Split", no_wrap=True)
        table.add_column("n", justify="right", no_wrap=True, min_width=4)
        for metric in HEADLINE:
            heading = metric.console or metric.column
            table.add_column(heading, justify="right", no_wrap=True, min_width=max(6, len(heading) + 1))
        for name in ("dev", "test"):
            part = splits[name]["overall"]
            table.add_row(name, str(part["n"]), *[fmt(part.get(metric.key), metric.kind) for metric in HEADLINE])
        console.print(table)
        for gap in split_gaps(current):
            console.print(f"Dev-test gap over 0.05 (a finding to explain): {gap}", markup=False, highlight=False)


def drafts_from_feedback(feedback: Path, out: Path, gold: Path | None, append: bool,
                         console: Console, errors: Console) -> None:
    """Turn the thumbs-down rows of a feedback export into draft gold items, and say what was done."""
    from eval.feedback_to_gold import FeedbackError, feedback_to_drafts
    from eval.gold import GOLD_PATH

    if not feedback.is_file():
        raise EvalError(f"No such file: {feedback}")
    try:
        result = feedback_to_drafts(feedback, out, gold or GOLD_PATH, append=append)
    except FeedbackError as exc:
        raise EvalError(str(exc)) from exc
    for reason in result.skipped:
        errors.print(f"Skipped {reason}", markup=False, highlight=False)
    console.print(
        f"Wrote {len(result.drafts)} draft items to {out} from thumbs-down feedback "
        f"({len(result.skipped)} skipped, {result.thumbs_up} thumbs-up ignored). Complete them as eval/README.md "
        "describes before adding them to eval/gold_set.jsonl.",
        markup=False, highlight=False,
    )
