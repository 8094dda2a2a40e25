"""Retrieval hit rate on the gold set: is a gold source passage among the top k passages?

A gold quote counts as retrieved when one of the top-k passages of its document holds the
quote's text (normalised, heading path included) or covers at least half of the quote's place
in the document: the rule of the evaluation harness, imported from eval/metrics.py. Follow-ups
are rewritten by the no-LLM rule, as in extractive mode. Builds a fresh index of the default
corpus with the real embedding model. Not a test; `icb-assistant eval --retrieval-only` gives
the same figure with MRR, key-fact recall of the context and a report.

    .venv/bin/python benchmarks/retrieval_hit_rate.py -k 5 --misses
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-k", type=int, default=5, help="how many passages count (default: %(default)s)")
    parser.add_argument("--gold", type=Path, default=REPO / "eval" / "gold_set.jsonl", help="the gold set (JSONL)")
    parser.add_argument("--misses", action="store_true", help="list the items whose sources were not retrieved")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="icb-hits-"))
    for name in [n for n in os.environ if n.startswith("ICB_ASSISTANT_")]:
        del os.environ[name]
    os.environ["ICB_ASSISTANT_HOME"] = str(home)

    from assistant.components import open_indexer
    from assistant.config import load_settings
    from assistant.retrieval import Retriever
    from assistant.rewrite import is_follow_up, rewrite_by_rule
    from eval.metrics import hit_at_k, quote_spans

    settings = load_settings()
    indexer = open_indexer(settings)
    indexer.run([settings.corpus_dir])
    retriever = Retriever(indexer.catalog, indexer.vectors, settings.dense_weight, settings.keyword_weight)
    glossary = retriever.glossary()  # misspelt words respelled, as the engine's respell stage does
    texts = {r.doc: indexer.catalog.document_text(r.doc) or "" for r in indexer.catalog.documents()}

    hits, totals, misses = collections.Counter(), collections.Counter(), []
    for line in args.gold.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        if item["type"] == "unanswerable":
            continue
        asked, history = glossary.respell(item["question"]), [glossary.respell(turn) for turn in item.get("history") or []]
        question = rewrite_by_rule(asked, history) if history and is_follow_up(asked) else asked
        also = [asked] if question != asked else []
        passages = retriever.search(question, k=args.k, also=also)
        spans = [span for source in item["sources"] for span in quote_spans(source["doc"], source["quote"], texts.get(source["doc"]))]
        found = bool(hit_at_k(passages, spans, args.k))
        totals[item["type"]] += 1
        hits[item["type"]] += found
        if not found:
            misses.append(f"{item['id']} ({item['type']}): {question}")

    total = sum(totals.values())
    print(f"hit@{args.k}: {sum(hits.values()) / total:.1%} ({sum(hits.values())}/{total} answerable items)")
    for kind in sorted(totals):
        print(f"  {kind:<12} {hits[kind] / totals[kind]:.0%}  ({hits[kind]}/{totals[kind]})")
    if args.misses:
        print("\nNot retrieved:")
        for miss in misses:
            print("  " + miss)
    indexer.catalog.close()
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
