"""Fit the reranker on the gold set's dev items and write assistant/reranker.json.

    python -m eval.fit_reranker          # or: icb-assistant eval-fit-reranker
    python -m eval.fit_reranker --out /tmp/reranker.json

Each answerable dev item is searched through the engine exactly as ``icb-assistant eval`` searches
it (its own index under ``<home>/eval``, follow-ups rewritten by the engine's rule), with the
reranker off, and the first passages of the fused ranking are read with the signals of
:mod:`assistant.rerank`. A passage is relevant when it holds one of the item's gold quotes. A
logistic model (the same fit as the answerability model's) predicts relevance; the L2 penalty is
chosen by the mean reciprocal rank of the first relevant passage out of fold (5 folds by a hash of
the id: each item reordered by a model that never saw it), ties going to the stronger penalty.

Test items are never read: the fit refuses them. Run it again after any change to retrieval or
the index, and then re-fit the answerability model, which reads the reranked passages.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from assistant.rerank import FEATURES, MODEL_FILE, Candidate, Reranker, parse_model, signals
from eval import metrics
from eval.fit_answerability import FOLDS, FitError, fit_logistic, standardise
from eval.gold import GOLD_PATH, REPO, GoldItem, file_hash, load_gold, sample_key, select

OUT = REPO / "assistant" / MODEL_FILE
# It reorders the first five passages, the ones an answer and the answerability decision read. Deeper
# was measured on dev (243 items): out-of-fold MRR 0.829 at depth 5, at most 0.833 at 10, 15 or 20, with
# hit@5 unchanged (0.945; 0.951 at 20); but passages brought up from below the fifth changed what the
# answerability model reads: its re-fitted out-of-fold refusal was 0.696 at depth 15, against 0.734 at
# depth 5 and 0.722 without reranking (false refusal 0.049 each).
DEPTH = 5
L2S = (1.0, 5.0, 20.0)
K = 5  # hit@k and MRR as the evaluation counts them


def answerable_dev(items: list[GoldItem]) -> list[GoldItem]:
    test = [item.id for item in items if item.split != "dev"]
    if test:
        raise FitError(f"Refusing to fit on {len(test)} test items ({', '.join(test[:5])}...): fit on dev items only.")
    kept = [item for item in items if item.answerable and item.sources]
    if not kept:
        raise FitError("No answerable dev items with gold quotes to fit on.")
    return kept


def collect(items: list[GoldItem], settings) -> list[dict]:
    """Each item's first DEPTH fused passages (reranker off): their signals and relevance."""
    from assistant.engine import Assistant
    from assistant.rerank import Reranker
    from eval.runner import eval_settings, prepare_index

    items = answerable_dev(items)  # before anything is run
    assistant = Assistant(eval_settings(settings, "extractive", True), backend="extractive")
    try:
        prepare_index(assistant, settings.corpus_dir)
        retriever = assistant.retriever
        retriever.reranker = Reranker((), (), (), (), depth=0)
        catalog = assistant.indexer.catalog
        texts = {record.doc: catalog.document_text(record.doc) or "" for record in catalog.documents()}
        rows = []
        for item in items:
            spans = [span for source in item.sources for span in metrics.quote_spans(source.doc, source.quote, texts.get(source.doc))]
            search = assistant.retrieve(item.question, list(item.history), k=DEPTH)
            passages = list(search.passages)
            candidates = [Candidate(rank, p.section, p.text, p.dense_score, p.keyword_score) for rank, p in enumerate(passages, 1)]
            found = signals(retriever.glossary().expand(search.query), candidates, catalog.term_counts, catalog.chunk_count())
            rows.append({
                "id": item.id, "type": item.type,
                "signals": [[f[name] for name in FEATURES] for f in found],
                "relevant": [metrics.passage_hits(p, spans) for p in passages],
            })
        return rows
    finally:
        assistant.close()


def _figures(orders: list[list[bool]]) -> dict:
    ranks = [next((r for r, hit in enumerate(order[:K], 1) if hit), None) for order in orders]
    return {"hit_at_5": round(float(np.mean([r is not None for r in ranks])), 4),
            "mrr": round(float(np.mean([1 / r if r else 0.0 for r in ranks])), 4)}


def _reordered(model: tuple, row: dict) -> list[bool]:
    mean, scale, coefficients = model
    scores = ((np.array(row["signals"], dtype=float) - mean) / scale) @ coefficients
    return [row["relevant"][i] for i in sorted(range(len(scores)), key=lambda i: (-scores[i], i))]


def _fit(rows: list[dict], l2: float) -> tuple:
    x = np.array([s for row in rows for s in row["signals"]], dtype=float)
    y = np.array([float(r) for row in rows for r in row["relevant"]])
    mean, scale = standardise(x)
    coefficients, _ = fit_logistic((x - mean) / scale, y, l2)
    return mean, scale, coefficients


def out_of_fold(rows: list[dict], l2: float) -> dict:
    folds = [int(sample_key(0, row["id"]), 16) % FOLDS for row in rows]
    orders: list[list[bool]] = [[] for _ in rows]
    for fold in range(FOLDS):
        model = _fit([row for row, f in zip(rows, folds) if f != fold], l2)
        for i, (row, f) in enumerate(zip(rows, folds)):
            if f == fold:
                orders[i] = _reordered(model, row)
    return _figures(orders)


def fit(rows: list[dict]) -> dict:
    """The model file's content from the dev items' collected rows."""
    grid = {l2: out_of_fold(rows, l2) for l2 in L2S}
    l2 = max(grid, key=lambda key: (grid[key]["mrr"], key))
    mean, scale, coefficients = _fit(rows, l2)
    return {
        "features": list(FEATURES),
        "mean": [round(v, 6) for v in mean.tolist()],
        "scale": [round(v, 6) for v in scale.tolist()],
        "coefficients": [round(v, 6) for v in coefficients.tolist()],
        "depth": DEPTH,
        "l2": l2,
        "dev": {
            "items": len(rows),
            "fused_order": _figures([row["relevant"] for row in rows]),
            "out_of_fold": grid[l2],
            "by_l2": [{"l2": key, **figures} for key, figures in grid.items()],
        },
    }


def main(argv: list[str] | None = None) -> int:
    from assistant.config import load_settings
    from eval.report import git_state, utc_now

    parser = argparse.ArgumentParser(prog="python -m eval.fit_reranker", description=__doc__.split("\n")[0])
    parser.add_argument("--gold", type=Path, default=GOLD_PATH, help="the gold set (its dev items are used)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"the model file to write (default {OUT})")
    args = parser.parse_args(argv)
    try:
        rows = collect(select(load_gold(args.gold), splits=["dev"]), load_settings())
    except FitError as exc:
        print(exc, file=sys.stderr)
        return 2
    model = fit(rows)
    git = git_state(REPO)
    model["fitted"] = {
        "command": "python -m eval.fit_reranker", "created": utc_now(), "git_commit": git.get("commit"),
        "git_dirty": git.get("dirty"), "gold_set_sha256": file_hash(args.gold),
    }
    parse_model(model)  # what the engine will read
    args.out.write_text(json.dumps(model, indent=2) + "\n", encoding="utf-8")
    dev = model["dev"]
    print(f"Fitted on {len(rows)} answerable dev items; depth {model['depth']}, L2 {model['l2']}")
    print(f"dev hit@5 / MRR: fused order {dev['fused_order']['hit_at_5']:.3f} / {dev['fused_order']['mrr']:.3f}, "
          f"reranked out of fold {dev['out_of_fold']['hit_at_5']:.3f} / {dev['out_of_fold']['mrr']:.3f}")
    print(f"Wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
