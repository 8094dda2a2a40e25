"""Load test: many conversations at once through the app's HTTP interface, several app workers.

Everything runs on 127.0.0.1, as a deployment would: a Chroma server (`chroma run`), the index
built into it, N app workers (`icb-assistant ui`, one process each, sharing the Chroma server,
the home folder, the users file and, with the local backend, one llama.cpp server on a fixed port),
then C conversations started together. Each conversation signs in (sign-in is on unless
``--no-sign-in``; every conversation from the one address, as one user), then is its own session
speaking the browser's HTTP protocol (queue join, server-sent events; the chat event) on worker
``i % N`` and asks T questions in turn, the later ones follow-ups that only make sense with the
earlier ones.

Reported: errors (must be 0), answers with sources, "not covered" answers, fallbacks to
extractive answers, throughput, and p50/p95 of the time to first text and to the whole answer.
Bounded: ``--time-limit`` stops the run; a turn still waiting then counts as an error.

    .venv/bin/python benchmarks/load_test.py --backend extractive --workers 2 --conversations 20 --turns 3
    .venv/bin/python benchmarks/load_test.py --backend local --workers 2 --conversations 20 --turns 1
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

from assistant.answerers import answerer_class  # noqa: E402
from timing import percentile  # noqa: E402

# Each script is one conversation: a first question, then follow-ups that lean on it.
SCRIPTS = [
    ["What are the urgent care priorities for 2025/26?", "And what about 2026/27?", "Which services does that involve?"],
    ["What would the system deficit be without national support funding?", "How will it be reduced?", "By when?"],
    ["What are the cancer plans in the roadmap for 2027/28?", "And in 2028/29?", "Who leads that work?"],
    ["What is the ICB's vision for 2035?", "What are the big shifts it describes?", "How will progress be measured?"],
    ["What are Blackpool's place priorities?", "What about Morecambe Bay?", "And Pennine Lancashire?"],
    ["What is planned for maternity services?", "What about neonatal care?", "When will that happen?"],
    ["What are the eight priorities in Our next steps?", "Which of them is about mental health?", "What did it promise?"],
    ["What did people tell the ICB in engagement?", "How did the ICB respond?", "What changed as a result?"],
    ["What is the target for completing CHC assessments within 28 days?", "What about all-age continuing care?", "How much will it save?"],
    ["Who presented the LSC 2030 Roadmap paper to the board?", "What did the paper ask the board to do?", "What happens next?"],
]
PLACEHOLDERS = ("*Searching the documents…*", "*Writing the answer…*")


@dataclass
class Turn:
    conversation: int
    turn: int
    worker: int
    question: str
    outcome: str  # answered | unanswerable | fallback | error
    sources: bool
    first_text_s: float | None
    total_s: float | None
    detail: str = ""


def classify(message: str) -> tuple[str, bool]:
    """What the chat shows for a finished answer: its outcome and whether it lists sources."""
    if "icb-error" in message:
        return "error", False
    sources = "**Sources**" in message
    if "language model is unavailable" in message:
        return "fallback", sources
    if "icb-unanswerable" in message:
        return "unanswerable", False
    return "answered", sources


def assistant_text(messages) -> str:
    """The text of the last assistant message in a chat history (Gradio's messages format)."""
    for message in reversed(messages or []):
        if isinstance(message, dict) and message.get("role") == "assistant":
            content = message.get("content")
            if isinstance(content, list):  # Gradio sends text as [{"type": "text", "text": ...}]
                content = " ".join(part.get("text", "") for part in content if isinstance(part, dict))
            return str(content or "")
    return ""


def shows_text(text: str) -> bool:
    """Whether the chat shows some of the answer yet (not just a placeholder)."""
    return bool(text) and text not in PLACEHOLDERS and not text.endswith(PLACEHOLDERS[1])


class Session:
    """One browser tab's conversation, over the same HTTP calls the page makes: POST
    ``gradio_api/queue/join`` with the event's inputs, then read the event's progress from the
    server-sent events of ``gradio_api/queue/data``. The chat history lives with the session
    on the worker (as for a browser), so follow-ups are understood there."""

    def __init__(self, http, url: str, chat_event: int):
        import uuid

        self.http, self.url, self.chat_event = http, url.rstrip("/"), chat_event
        self.session = uuid.uuid4().hex[:12]
        self.messages: list = []

    def ask(self, question: str, deadline: float, seen: list | None = None) -> tuple[str, float | None, float]:
        """The final assistant message, seconds to its first text, seconds to the whole answer;
        every message shown on the way is added to ``seen`` as (seconds, text), when given."""
        import json as json_lib

        from gradio_client.utils import apply_diff

        began = time.perf_counter()
        data = [question, self.messages, None, None, [], [], "", ""]  # state inputs stay on the server
        body = {"data": data, "fn_index": self.chat_event, "session_hash": self.session, "event_data": None, "trigger_id": None}
        joined = self.http.post(f"{self.url}/gradio_api/queue/join", json=body)
        joined.raise_for_status()
        event = joined.json()["event_id"]
        first, outputs = None, None
        with self.http.stream("GET", f"{self.url}/gradio_api/queue/data", params={"session_hash": self.session}) as stream:
            stream.raise_for_status()
            for line in stream.iter_lines():
                if time.monotonic() > deadline:
                    raise TimeoutError("time limit reached")
                if not line.startswith("data:"):
                    continue
                message = json_lib.loads(line[5:])
                if message.get("event_id") not in (None, event):
                    continue
                kind = message.get("msg")
                if kind == "process_generating":
                    data = message["output"]["data"]
                    outputs = data if outputs is None else [apply_diff(old, diff) for old, diff in zip(outputs, data)]
                    if seen is not None:
                        seen.append((time.perf_counter() - began, assistant_text(outputs[1])))
                    if first is None and shows_text(assistant_text(outputs[1])):
                        first = time.perf_counter() - began
                elif kind == "process_completed":
                    if not message.get("success"):
                        raise RuntimeError(f"the event failed: {message.get('output', {}).get('error')}")
                    self.messages = message["output"]["data"][1]
                    total = time.perf_counter() - began
                    return assistant_text(self.messages), first or total, total
                elif kind in ("unexpected_error", "close_stream"):
                    raise RuntimeError(f"the stream ended: {message}")
        raise RuntimeError("the stream closed before the answer was complete")


def chat_event(http, url: str) -> int:
    """The chat event's number in the page's config (what the page's Send posts to)."""
    config = http.get(url.rstrip("/") + "/config").json()
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == "chat")


def sign_in(http, url: str, credentials: tuple[str, str]) -> None:
    """Gradio's sign-in form, as its page posts it; the session cookie stays in ``http``."""
    name, password = credentials
    http.post(url.rstrip("/") + "/login", data={"username": name, "password": password}).raise_for_status()


def converse(index: int, url: str, worker: int, turns: int, deadline: float, start: threading.Barrier, http,
             credentials: tuple[str, str] | None = None) -> list[Turn]:
    """One conversation: (signing in, then) a session asking ``turns`` questions of its script in order."""
    script = SCRIPTS[index % len(SCRIPTS)]
    results: list[Turn] = []
    try:
        if credentials is not None:
            sign_in(http, url, credentials)
        session = Session(http, url, chat_event(http, url))
    except Exception as exc:  # the worker did not answer at all
        start.wait()
        return [Turn(index, 0, worker, script[0], "error", False, None, None, f"connect: {exc}")]
    start.wait()
    for number in range(turns):
        question = script[number % len(script)]
        if time.monotonic() > deadline:
            results.append(Turn(index, number, worker, question, "error", False, None, None, "time limit reached"))
            continue
        try:
            text, first, total = session.ask(question, deadline)
            outcome, sources = classify(text)
            results.append(Turn(index, number, worker, question, outcome, sources, first, total))
        except Exception as exc:  # a failed request, a broken stream, the time limit
            results.append(Turn(index, number, worker, question, "error", False, None, None, f"{type(exc).__name__}: {exc}"[:300]))
    return results


def run_conversations(urls: list[str], conversations: int, turns: int, time_limit: float,
                      credentials: tuple[str, str] | None = None) -> tuple[list[Turn], float]:
    """Start every conversation together (each signing in with ``credentials`` first, when given);
    return every turn and the wall time."""
    import httpx

    deadline = time.monotonic() + time_limit
    start = threading.Barrier(conversations + 1)
    # one connection pool, kept alive, as a browser keeps its connections (a new client per request
    # would spend more CPU on TLS set-up than the app spends answering)
    limits = httpx.Limits(max_connections=2 * conversations + 4, max_keepalive_connections=2 * conversations + 4)
    with httpx.Client(timeout=httpx.Timeout(120.0), limits=limits) as http, ThreadPoolExecutor(max_workers=conversations) as pool:
        futures = [
            pool.submit(converse, i, urls[i % len(urls)], i % len(urls), turns, deadline, start, http, credentials)
            for i in range(conversations)
        ]
        start.wait()
        began = time.perf_counter()
        done = [turn for future in futures for turn in future.result()]
    return done, time.perf_counter() - began


def summarise(turns: list[Turn], wall_s: float) -> dict:
    finished = [t for t in turns if t.total_s is not None]
    firsts = [t.first_text_s for t in finished if t.first_text_s is not None]
    totals = [t.total_s for t in finished]
    count = {outcome: sum(1 for t in turns if t.outcome == outcome) for outcome in ("answered", "unanswerable", "fallback", "error")}
    return {
        "turns": len(turns),
        **count,
        "with_sources": sum(1 for t in turns if t.sources),
        "wall_s": round(wall_s, 2),
        "throughput_per_s": round(len(finished) / wall_s, 3) if wall_s else 0.0,
        "first_text_p50_s": round(percentile(firsts, 50), 3) if firsts else None,
        "first_text_p95_s": round(percentile(firsts, 95), 3) if firsts else None,
        "total_p50_s": round(percentile(totals, 50), 3) if totals else None,
        "total_p95_s": round(percentile(totals, 95), 3) if totals else None,
        "errors": [asdict(t) for t in turns if t.outcome == "error"][:10],
    }


class Deployment:
    """A Chroma server, the index built into it, and N app workers sharing both; with ``sign_in``,
    a users file of one user (``credentials``) that every worker asks for."""

    def __init__(self, root: Path, corpus: Path, workers: int, backend: str, env: dict | None = None,
                 sign_in: bool = True):
        import secrets
        import subprocess

        from assistant.auth import add_user
        from assistant.local_model import free_port
        from tests.servers import App, ChromaServer, clean_environment

        root.mkdir(parents=True, exist_ok=True)
        self.credentials = ("load-tester", secrets.token_urlsafe(16)) if sign_in else None
        if self.credentials is not None:
            add_user(root / "users.txt", *self.credentials)
        self.chroma = ChromaServer(root)
        self.home = root / "home"
        self.env = {
            "ICB_ASSISTANT_CHROMA_HOST": "127.0.0.1",
            "ICB_ASSISTANT_CHROMA_PORT": str(self.chroma.port),
            "ICB_ASSISTANT_LOCAL_PORT": str(free_port()),  # one llama.cpp server for every worker
            **({"ICB_ASSISTANT_UI_USERS_FILE": str(root / "users.txt")} if sign_in else {}),
            **(env or {}),
        }
        self.apps: list = []
        try:
            began = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "assistant.cli", "index"],
                env=clean_environment(ICB_ASSISTANT_HOME=str(self.home), ICB_ASSISTANT_CORPUS_DIR=str(corpus), **self.env),
                check=True, capture_output=True, timeout=1800, cwd=REPO,
            )
            self.index_s = time.perf_counter() - began
            with ThreadPoolExecutor(max_workers=workers) as pool:
                self.apps = list(pool.map(lambda _: App(self.home, corpus, env=self.env, backend=backend), range(workers)))
            for app in self.apps:
                app.wait_for_log("Search is ready", timeout=600)
            if answerer_class(backend).starts_model:
                for app in self.apps:  # the warm-up starts (or finds) the shared model server
                    app.wait_for_log("local model", timeout=900)
        except BaseException:
            self.stop()
            raise

    @property
    def urls(self) -> list[str]:
        return [app.url for app in self.apps]

    def stop(self) -> None:
        for app in self.apps:
            app.stop()
        self.chroma.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["extractive", "local"], default="extractive")
    parser.add_argument("--workers", type=int, default=2, help="app worker processes (default: %(default)s)")
    parser.add_argument("--conversations", type=int, default=20, help="conversations at once (default: %(default)s)")
    parser.add_argument("--turns", type=int, default=3, help="questions per conversation (default: %(default)s)")
    parser.add_argument("--sign-in", action=argparse.BooleanOptionalAction, default=True,
                        help="workers ask for sign-in and every conversation signs in (default: on)")
    parser.add_argument("--time-limit", type=float, default=900, help="seconds before the run stops (default: %(default)s)")
    parser.add_argument("--llm-timeout", type=float, default=60, help="ICB_ASSISTANT_LLM_TIMEOUT_S for the workers (default: %(default)s)")
    parser.add_argument("--corpus", type=Path, default=REPO / "corpus", help="documents to index (default: the default corpus)")
    parser.add_argument("--out", type=Path, default=None, help="JSON results (default: benchmarks/results/load-<backend>.json)")
    args = parser.parse_args()

    out = args.out or REPO / "benchmarks" / "results" / f"load-{args.backend}.json"
    with tempfile.TemporaryDirectory(prefix="icb-load-") as folder:
        began = time.perf_counter()
        deployment = Deployment(Path(folder), args.corpus, args.workers, args.backend,
                                env={"ICB_ASSISTANT_LLM_TIMEOUT_S": str(args.llm_timeout)}, sign_in=args.sign_in)
        ready = time.perf_counter() - began
        print(f"{args.workers} workers ready over one Chroma server in {ready:.1f} s (index {deployment.index_s:.1f} s)")
        try:
            turns, wall = run_conversations(deployment.urls, args.conversations, args.turns, args.time_limit,
                                            deployment.credentials)
        finally:
            deployment.stop()
    summary = {
        "backend": args.backend, "workers": args.workers, "conversations": args.conversations, "sign_in": args.sign_in,
        "turns_each": args.turns, "llm_timeout_s": args.llm_timeout, **summarise(turns, wall),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"summary": summary, "turns": [asdict(t) for t in turns]}, indent=2))
    shown = {k: v for k, v in summary.items() if k != "errors"}
    for key, value in shown.items():
        print(f"  {key:18} {value}")
    for error in summary["errors"]:
        print(f"  error: conversation {error['conversation']} turn {error['turn']}: {error['detail']}")
    print(f"Written: {out}")
    sys.exit(1 if summary["error"] else 0)


if __name__ == "__main__":
    main()
