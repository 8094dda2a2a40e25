"""Benchmark indexing and search on the default corpus with the real embedding model.

Measures: the wall time of `icb-assistant index` into an empty home (a fresh process, so
imports and model load count; package install does not), the chunks made, and warm search
latency p50/p95 over 50 queries (hybrid, dense only, keyword only). Not a test.

    .venv/bin/python benchmarks/index_and_search.py
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import percentile

REPO = Path(__file__).resolve().parent.parent
QUERIES = [
    "urgent care priorities", "What is the financial deficit?", "Cancer plans for 2027/28", "vision for 2035",
    "integrated neighbourhood teams", "Blackpool place priorities", "maternity services", "mental health crisis",
    "learning disabilities and autism", "children and young people", "population health", "primary care access",
    "community care", "all-age continuing care", "diagnostics and pathology", "planned care waiting lists",
    "South Cumbria place", "Blackburn with Darwen", "Lancashire place intentions", "end of life and frailty",
    "intermediate care 2026/27", "service configuration", "long-term conditions", "shared care record",
    "workforce training", "estates capital investment", "agency costs", "CHC assessments within 28 days",
    "hypertension treating to target", "falls service", "Healthier Streets Barrow", "Jean Bishop centre",
    "new hospitals Royal Preston", "delegation of budget to place", "priority wards", "waste reduction plans",
    "QIPP", "model ICB blueprint", "Lord Darzi report", "who presented the roadmap paper",
    "stabilise recover transform", "annual plan necessities", "engagement themes", "what people told us",
    "Our next steps priorities", "1.7 million people", "£167m spending reduction", "ICS partnership",
    "neighbourhood care models", "digital and information shared services",
]



def latency(fn, queries: list[str]) -> dict:
    times = []
    for query in queries:
        started = time.perf_counter()
        fn(query)
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(percentile(times, 50), 1), "p95_ms": round(percentile(times, 95), 1),
            "mean_ms": round(statistics.fmean(times), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "index_and_search.json",
                        help="where to write the figures as JSON (default: %(default)s)")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="icb-bench-"))
    for name in [n for n in os.environ if n.startswith("ICB_ASSISTANT_") and n != "ICB_ASSISTANT_LOCAL_THREADS"]:
        del os.environ[name]  # measure the defaults, not the caller's server or config file
    os.environ["ICB_ASSISTANT_HOME"] = str(home)
    cli = str(Path(sys.executable).parent / "icb-assistant")
    started = time.perf_counter()
    done = subprocess.run([cli, "index"], capture_output=True, text=True)
    index_seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"`icb-assistant index` failed:\n{done.stderr}")

    from assistant.components import open_indexer
    from assistant.config import load_settings
    from assistant.retrieval import Retriever

    settings = load_settings()
    indexer = open_indexer(settings)
    retriever = Retriever(indexer.catalog, indexer.vectors)
    retriever.search("warm-up", k=5)  # loads the model
    results = {
        "index_from_empty_s": round(index_seconds, 2),
        "documents": len(indexer.catalog.documents()),
        "chunks": indexer.catalog.chunk_count(),
        "index_size_mb": round(sum(f.stat().st_size for f in settings.index_dir.rglob("*") if f.is_file()) / 2**20, 1),
        "queries": len(QUERIES),
        "search_hybrid": latency(lambda q: retriever.search(q, k=5), QUERIES),
        "search_dense_only": latency(lambda q: indexer.vectors.search(q, k=5), QUERIES),
        "search_keyword_only": latency(lambda q: indexer.catalog.keyword_search(q, k=5), QUERIES),
    }
    indexer.catalog.close()
    shutil.rmtree(home, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    print("Run it on an otherwise idle machine: anything else on these 2 cores changes the figures.", file=sys.stderr)


if __name__ == "__main__":
    main()
