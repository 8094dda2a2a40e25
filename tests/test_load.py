"""Twenty conversations at once through the app's HTTP interface: two workers, one Chroma server.

Real processes on 127.0.0.1 (`chroma run`, two `icb-assistant ui` workers with sign-in on), real embeddings,
extractive answers; each conversation signs in (all from one address), then is its own session (the browser's
HTTP calls) asking a question and a follow-up. The full benchmark (more turns, the local model) is benchmarks/load_test.py.
"""

from __future__ import annotations

import json
import sys

import pytest

from tests.conftest import CORPUS, REPO

pytestmark = pytest.mark.slow

sys.path.insert(0, str(REPO / "benchmarks"))


def test_twenty_conversations_over_two_workers_without_an_error(tmp_path):
    from load_test import Deployment, run_conversations, summarise

    # the whole default corpus: the conversations' questions are about all five documents
    deployment = Deployment(tmp_path / "deployment", CORPUS, workers=2, backend="extractive", sign_in=True)
    try:
        turns, wall = run_conversations(deployment.urls, conversations=20, turns=2, time_limit=600,
                                        credentials=deployment.credentials)
        # both workers answered from the one Chroma server, and are still up
        assert all(app.process.poll() is None for app in deployment.apps)
    finally:
        deployment.stop()
    summary = summarise(turns, wall)
    signed_in = [json.loads(line)["event"] for line in (deployment.home / "audit.log").read_text().splitlines()]
    assert signed_in == ["sign-in"] * 20, "every conversation signed in, none was refused"
    print(f"\nload: {({k: v for k, v in summary.items() if k != 'errors'})}")
    assert summary["turns"] == 40
    assert summary["error"] == 0, summary["errors"]
    assert summary["answered"] + summary["unanswerable"] == 40
    assert summary["with_sources"] >= 30, "most of these questions are answered from the documents, with sources"
    assert {t.worker for t in turns} == {0, 1}
    follow_ups = [t for t in turns if t.turn == 1]
    assert sum(t.sources for t in follow_ups) >= 15, "follow-ups are answered within their own conversation"
