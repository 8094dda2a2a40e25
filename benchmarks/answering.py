"""Benchmark the answer engine on the default corpus (real embedding model, real local LLM).

Reports, over ~20 questions: warm retrieval latency, warm extractive answer latency, and for the
local model its time to first token and total time; plus the cold start of `ask` in extractive
mode and of `ask --help`. Figures are measured, printed, and written as JSON. Not a test.

    .venv/bin/python benchmarks/answering.py              # everything
    .venv/bin/python benchmarks/answering.py --no-local   # skip the local LLM (minutes on 2 cores)
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

from timing import machine, percentile

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "What are the urgent care priorities for 2025/26?",
    "What would the system deficit be without national support funding?",
    "What is the ICB's vision for 2035?",
    "What are the cancer plans in the roadmap for 2027/28?",
    "Who presented the LSC 2030 Roadmap paper to the board?",
    "What are the four priority areas of the 2030 Roadmap?",
    "How much did trust cost improvement programmes save last year?",
    "What is planned for maternity services?",
    "What are Blackpool's place priorities?",
    "What did people tell the ICB in engagement?",
    "What happens to intermediate care in 2026/27?",
    "What is the target for completing CHC assessments within 28 days?",
    "What are the eight priorities in Our next steps?",
    "How many people live in Lancashire and South Cumbria?",
    "What is the plan for mental health services?",
    "What are the enablers for end of life and frailty care?",
    "What did the Healthier Streets project in Barrow do?",
    "How much was spent on agency staff savings?",
    "What are the ICB's strategic objectives?",
    "What are the plans for primary care?",
]



def summary(values: list[float]) -> dict:
    return {"n": len(values), "p50_s": round(percentile(values, 50), 3), "p95_s": round(percentile(values, 95), 3),
            "mean_s": round(statistics.fmean(values), 3)}


def timed_command(args: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(args, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-local", action="store_true", help="skip the local LLM measurements")
    parser.add_argument("--questions", type=int, default=len(QUESTIONS), help="how many questions to use (max 20)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "answering.json",
                        help="where to write the figures as JSON (default: %(default)s)")
    args = parser.parse_args()
    questions = QUESTIONS[: args.questions]

    home = Path(tempfile.mkdtemp(prefix="icb-bench-"))
    for name in [n for n in os.environ if n.startswith("ICB_ASSISTANT_") and n != "ICB_ASSISTANT_LOCAL_THREADS"]:
        del os.environ[name]  # measure the defaults, not the caller's server or config file
    os.environ["ICB_ASSISTANT_HOME"] = str(home)
    env = dict(os.environ)
    cli = str(Path(sys.executable).parent / "icb-assistant")
    print(f"Indexing the default corpus into {home} ...", flush=True)
    subprocess.run([cli, "index"], env=env, check=True, capture_output=True)

    results: dict = {"questions": len(questions), "machine": machine()}
    results["ask_help_s"] = round(min(timed_command([cli, "ask", "--help"], env) for _ in range(3)), 3)
    results["ask_extractive_cold_s"] = round(
        statistics.median(timed_command([cli, "ask", questions[0], "--backend", "extractive"], env) for _ in range(3)), 3
    )

    from assistant.config import load_settings
    from assistant.engine import Assistant

    # two assistants, each warmed up on another question: a search does not warm the other's caches
    # (the vector store keeps its last query embeddings), so each figure includes embedding the question
    assistant = Assistant(load_settings(), backend="extractive")
    searcher = Assistant(load_settings(), backend="extractive")
    for warm in (assistant, searcher):
        warm.ask("What is the vision for 2035?")  # loads the embedding model, opens the stores
    retrieval, extractive = [], []
    for question in questions:
        started = time.perf_counter()
        searcher.retriever.search(question, k=searcher.settings.search_top_k)
        retrieval.append(time.perf_counter() - started)
        started = time.perf_counter()
        assistant.ask(question)
        extractive.append(time.perf_counter() - started)
    searcher.close()
    results["retrieval_warm"] = summary(retrieval)
    results["extractive_answer_warm"] = summary(extractive)

    if not args.no_local:
        started = time.perf_counter()
        assistant.ask(questions[0], backend="local")  # starts the server, joins the model if needed
        results["local_first_answer_including_server_start_s"] = round(time.perf_counter() - started, 2)
        first, total, fallbacks, not_covered = [], [], 0, 0
        for i, question in enumerate(questions, start=1):
            answer = assistant.ask(question, backend="local")
            if answer.status == "unanswerable" and "first_token" not in answer.timings:
                not_covered += 1  # refused before the model was asked: nothing to time
                print(f"  local {i}/{len(questions)}: not covered by the documents (the model was not asked)", flush=True)
                continue
            if answer.fell_back or "first_token" not in answer.timings:
                fallbacks += 1
                print(f"  local {i}/{len(questions)}: fell back to extractive ({'; '.join(answer.notices)})", flush=True)
                continue
            first.append(answer.timings["first_token"] + answer.timings["retrieve"] + answer.timings["rewrite"])
            total.append(answer.timings["total"])
            print(f"  local {i}/{len(questions)}: first token {first[-1]:.1f} s, total {total[-1]:.1f} s, {answer.status}", flush=True)
        if first:
            results["local_time_to_first_token"] = summary(first)
            results["local_total"] = summary(total)
        results["local_fallbacks"] = fallbacks
        results["local_not_covered"] = not_covered
    assistant.close()
    shutil.rmtree(home, ignore_errors=True)  # the joined model is 1.1 GB

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
