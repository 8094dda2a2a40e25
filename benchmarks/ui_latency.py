"""Web app latency: how soon the app is ready after `ui` starts, and from Send to the first text.

Builds the index of the default corpus into a fresh home first (so the app starts with an index
present, as on every start after the first), then starts `icb-assistant ui` as a real process on
127.0.0.1 and measures:

- ready: seconds until the page answers, and until the app logs that search is ready (the
  embedding model loaded); with the local backend, until the local model is ready too;
- per question, asked one at a time, each in a new conversation over the browser's HTTP calls
  (queue join, server-sent events): seconds from Send to the first useful text shown (not a
  placeholder: with an LLM, the quotes from the documents shown while it writes), to the model's
  first token (its text in place of the quotes; answers the model wrote only), and to the whole
  answer;
- the machine: the CPU's name, whether it has AVX-512, the load average (other work on it).

    .venv/bin/python benchmarks/ui_latency.py --backend extractive
    .venv/bin/python benchmarks/ui_latency.py --backend local --questions 6
    .venv/bin/python benchmarks/ui_latency.py --backend local --home /tmp/home   # its index built already
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

from answering import QUESTIONS  # noqa: E402
from assistant.answerers import answerer_class  # noqa: E402
from assistant.answers import QUOTED_HEADING  # noqa: E402
from load_test import Session, chat_event, classify, shows_text  # noqa: E402
from timing import machine, percentile  # noqa: E402


def summary(values: list[float]) -> dict:
    return {"n": len(values), "p50_s": round(percentile(values, 50), 3), "p95_s": round(percentile(values, 95), 3),
            "mean_s": round(statistics.fmean(values), 3)} if values else {"n": 0}


def first_model_text(seen: list[tuple[float, str]]) -> float | None:
    """Seconds to the first message showing text that is not the quotes shown while the model writes."""
    return next((at for at, text in seen if shows_text(text) and QUOTED_HEADING not in text), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["extractive", "local"], default="extractive")
    parser.add_argument("--questions", type=int, default=10, help="questions to ask, one at a time (default: %(default)s, max 20)")
    parser.add_argument("--llm-timeout", type=float, default=120, help="ICB_ASSISTANT_LLM_TIMEOUT_S for the app (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=None, help="JSON results (default: benchmarks/results/ui-<backend>.json)")
    parser.add_argument("--home", type=Path, default=None,
                        help="use this home and its index (built with `icb-assistant index`) instead of a fresh one")
    args = parser.parse_args()

    import httpx

    from tests.servers import App, build_index

    out = args.out or REPO / "benchmarks" / "results" / f"ui-{args.backend}.json"
    results: dict = {"backend": args.backend, "machine": machine()}
    uses_llm = answerer_class(args.backend).uses_llm
    with tempfile.TemporaryDirectory(prefix="icb-ui-bench-") as folder:
        home = args.home or Path(folder) / "home"
        if args.home is None:
            print("Indexing the default corpus ...", flush=True)
            build_index(home, REPO / "corpus")
        env = {"ICB_ASSISTANT_LLM_TIMEOUT_S": str(args.llm_timeout)}
        app = App(home, REPO / "corpus", env=env, backend=args.backend)
        try:
            results["page_answers_s"] = round(app.ready_s, 2)
            results["search_ready_s"] = round(app.wait_for_log("Search is ready", timeout=600), 2)
            if answerer_class(args.backend).starts_model:
                results["local_model_ready_s"] = round(app.wait_for_log("The local model is ready", timeout=900), 2)
            print(f"Page answers after {results['page_answers_s']} s; search ready after {results['search_ready_s']} s", flush=True)
            firsts, model_firsts, totals, outcomes, quotes = [], [], [], [], 0
            with httpx.Client(timeout=httpx.Timeout(600.0)) as http:
                event = chat_event(http, app.url)
                for number, question in enumerate(QUESTIONS[: args.questions], start=1):
                    session = Session(http, app.url, event)  # a new conversation each time
                    seen: list[tuple[float, str]] = []
                    text, first, total = session.ask(question, deadline=time.monotonic() + 600, seen=seen)
                    outcome, _ = classify(text)
                    firsts.append(first)
                    totals.append(total)
                    outcomes.append(outcome)
                    model = first_model_text(seen) if uses_llm and outcome == "answered" else None
                    if model is not None:
                        model_firsts.append(model)
                    quoted = any(QUOTED_HEADING in shown for _, shown in seen)
                    quotes += quoted
                    print(f"  {number}/{args.questions}: first text {first:.2f} s{' (quotes)' if quoted else ''}, "
                          f"first model token {'-' if model is None else f'{model:.2f} s'}, "
                          f"whole answer {total:.2f} s, {outcome}", flush=True)
        finally:
            app.stop()
    results["send_to_first_text"] = summary(firsts)
    if uses_llm:
        results["answers_with_quotes_first"] = quotes
        results["send_to_first_model_token"] = summary(model_firsts)  # answers the model wrote
    results["send_to_whole_answer"] = summary(totals)
    results["outcomes"] = {name: outcomes.count(name) for name in sorted(set(outcomes))}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
