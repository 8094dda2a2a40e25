"""`icb-assistant index` killed with SIGKILL at several points, then run again: the index ends
exactly as one clean run leaves it (the same documents, chunks, keyword rows and vectors, none
twice). Real processes, the real embedding model, real Chroma files.

The points are found by watching the catalogue the process writes, not by guessing times: before
the catalogue exists (still starting), while the first document is being embedded, while a later
one is (after the first was committed), and after every document is committed (while it prunes
and reports).
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.servers import clean_environment, small_corpus

pytestmark = pytest.mark.slow

DOCUMENTS = [
    "lsc-icb-board-2030-roadmap-paper-2025-05-22.txt",
    "lsc-2030-roadmap-programme-timelines-2025.txt",
    "lsc-icb-commissioning-intentions-2025-26.txt",
]


def start_index(home: Path, corpus: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "index"],
        env=clean_environment(ICB_ASSISTANT_HOME=str(home), ICB_ASSISTANT_CORPUS_DIR=str(corpus)),
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def states(home: Path) -> list[str] | None:
    """The state of every document in the catalogue the process is writing; None before it exists."""
    path = home / "index" / "catalog.sqlite3"
    if not path.exists():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            return [row[0] for row in db.execute("SELECT state FROM documents")]
        finally:
            db.close()
    except sqlite3.Error:  # being created right now
        return None


POINTS = {
    "while starting": lambda s: True,
    "while embedding the first document": lambda s: s is not None and s.count("pending") == 1 and "complete" not in s,
    "while embedding a later document": lambda s: s is not None and "pending" in s and "complete" in s,
    "after every document is committed": lambda s: s is not None and s.count("complete") == len(DOCUMENTS),
}


def kill_when(process: subprocess.Popen, home: Path, point: str, timeout: float = 300) -> list[str] | None:
    """SIGKILL ``process`` as soon as the catalogue shows ``point``; the states it saw then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = states(home)
        if POINTS[point](seen):
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            return seen
        if process.poll() is not None:
            raise AssertionError(f"the run ended before {point!r} ({process.returncode}): {process.stderr.read().decode()}")
        time.sleep(0.01)
    process.kill()
    raise AssertionError(f"never reached {point!r}")


def snapshot(home: Path) -> dict:
    import chromadb

    from index.vectors import chroma_settings

    db = sqlite3.connect(home / "index" / "catalog.sqlite3")
    try:
        documents = db.execute("SELECT doc, content_hash, state, chunks, vectors FROM documents ORDER BY doc").fetchall()
        chunk_ids = [row[0] for row in db.execute("SELECT id FROM chunks ORDER BY id")]
        keyword_rows = db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0]
    finally:
        db.close()
    client = chromadb.PersistentClient(path=str(home / "index" / "chroma"), settings=chroma_settings())
    collection = client.get_collection("icb_documents")
    vector_ids = collection.get(include=[])["ids"]
    return {
        "documents": documents, "chunk_ids": chunk_ids, "keyword_rows": keyword_rows,
        "vector_ids": sorted(vector_ids), "vector_count": collection.count(),
    }


@pytest.fixture(scope="module")
def corpus_and_clean(tmp_path_factory):
    root = tmp_path_factory.mktemp("killed")
    corpus = small_corpus(root / "corpus", DOCUMENTS)
    home = root / "clean-home"
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "index"], cwd=REPO, capture_output=True, text=True, timeout=900,
        env=clean_environment(ICB_ASSISTANT_HOME=str(home), ICB_ASSISTANT_CORPUS_DIR=str(corpus)),
    )
    assert done.returncode == 0, done.stderr
    clean = snapshot(home)
    assert [state for _, _, state, _, _ in clean["documents"]] == ["complete"] * len(DOCUMENTS)
    assert len(set(clean["vector_ids"])) == clean["vector_count"] > len(clean["chunk_ids"]) == clean["keyword_rows"] > 0
    return corpus, clean


@pytest.mark.parametrize("point", list(POINTS))
def test_killed_index_run_then_rerun_equals_one_clean_run(tmp_path, corpus_and_clean, point):
    corpus, clean = corpus_and_clean
    home = tmp_path / "home"
    seen = kill_when(start_index(home, corpus), home, point)
    if point != "while starting":
        assert seen, "the kill came while the run was writing"
    rerun = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "index"], cwd=REPO, capture_output=True, text=True, timeout=900,
        env=clean_environment(ICB_ASSISTANT_HOME=str(home), ICB_ASSISTANT_CORPUS_DIR=str(corpus)),
    )
    assert rerun.returncode == 0, rerun.stderr
    assert snapshot(home) == clean
