"""The Chroma server restarted while the UI runs: the next question works.

Real processes: `chroma run`, `icb-assistant index` into it, `icb-assistant ui` against it, and
Chromium. While the server is down a question gets a clear message in the chat (no stack
trace) and the app keeps running; once the server is back on the same port with the same data,
questions are answered with their sources again, without restarting the app.
"""

from __future__ import annotations

import re
import urllib.request

import pytest

from tests.browser import BOT, NEEDS_CHROMIUM, Watched, ask, bot_messages, chromium, shot
from tests.conftest import FakeEmbeddings
from tests.servers import App, ChromaServer, build_index, small_corpus

pytestmark = pytest.mark.slow

DOCUMENT = "lsc-2030-roadmap-programme-timelines-2025.txt"
PLACEHOLDER = "Sources for the answer appear here"


def ask_answered(page, question: str, n: int) -> str:
    """Ask question number ``n``; it must be answered, with its sources listed and shown in the panel."""
    ask(page, question, n, sources=False)  # returns at the first text: wait for the whole answer
    page.wait_for_function(
        """([selector, n]) => {
            const text = document.querySelectorAll(selector)[n - 1]?.innerText || '';
            return ['Sources', 'Could not answer', 'went wrong'].some(end => text.includes(end));
        }""",
        arg=[BOT, n],
    )
    text = bot_messages(page).nth(n - 1).inner_text()
    assert "Could not answer" not in text and "went wrong" not in text, text
    assert re.search(r"\[\d+\]", text) and "Sources" in text, text
    page.wait_for_function("document.querySelector('#icb-sources').innerText.includes('Sources cited')")
    return text


@NEEDS_CHROMIUM
def test_chroma_server_restarted_while_the_ui_runs(tmp_path):
    (tmp_path / "chroma").mkdir()
    server = ChromaServer(tmp_path / "chroma")
    app = None
    try:
        corpus = small_corpus(tmp_path / "corpus", [DOCUMENT])
        home = tmp_path / "home"
        chroma = {"ICB_ASSISTANT_CHROMA_HOST": "127.0.0.1", "ICB_ASSISTANT_CHROMA_PORT": str(server.port),
                  "ICB_ASSISTANT_COLLECTION": "restart_test"}
        build_index(home, corpus, chroma)
        assert not (home / "index" / "chroma").exists()  # the vectors went to the server
        app = App(home, corpus, env=chroma)
        app.wait_for_log("Search is ready")

        with chromium() as browser:
            watched = Watched(browser, app.url).open()
            p = watched.page
            p.set_default_timeout(120_000)  # the first search after a restart loads the index; 2 busy cores
            ask_answered(p, "What happens to Integrated Neighbourhood Teams in 2027/28?", 1)

            # the server goes away: a clear message in the chat, and the app carries on
            server.stop()
            ask(p, "What happens to intermediate care in 2027/28?", 2, sources=False)
            p.wait_for_function(f"document.querySelector('#icb-sources').innerText.includes('{PLACEHOLDER}')")
            down = bot_messages(p).nth(1).inner_text()
            assert "Could not answer" in down, down
            assert "document store" in down.lower() and "cannot be reached" in down, down
            assert "chroma run" in down and "ICB_ASSISTANT_CHROMA_HOST" in down, down
            assert f"127.0.0.1:{server.port}" in down, down
            assert "Traceback" not in down and "Error(" not in down, down
            shot(p, "ask-chroma-down")
            assert app.process.poll() is None
            with urllib.request.urlopen(app.url, timeout=10) as response:
                assert response.status == 200

            # back on the same port with the same data: answered again, no restart of the app
            server.start()
            ask_answered(p, "What happens to intermediate care in 2027/28?", 3)
            ask_answered(p, "What happens to Integrated Neighbourhood Teams in 2027/28?", 4)
            shot(p, "ask-chroma-restarted")
            watched.check_clean()
            watched.close()
        assert app.process.poll() is None
    finally:
        if app is not None:
            app.stop()
            print(f"-- the app's log:\n{app.log_path.read_text()[-4000:]}")  # shown when the test fails
        server.stop()


def test_an_open_store_follows_a_rebuilt_collection_and_a_restarted_server(tmp_path):
    """The cached collection handle of a running app: another process rebuilds the collection
    (`icb-assistant index --rebuild`: a new collection id), the server stops, the server starts."""
    from index.vectors import VectorStore, VectorStoreError

    (tmp_path / "chroma").mkdir()
    server = ChromaServer(tmp_path / "chroma")
    embeddings = FakeEmbeddings()
    texts = ["the heron sanctuary opens in spring", "the ferry runs every Saturday"]

    def fill(store: VectorStore) -> None:
        store.add([f"c{i}@0" for i in range(len(texts))], texts, embeddings.embed_documents(texts),
                  [{"doc": f"d{i}"} for i in range(len(texts))])

    try:
        app = VectorStore.open_server("127.0.0.1", server.port, "followed", embeddings)
        indexer = VectorStore.open_server("127.0.0.1", server.port, "followed", embeddings)
        fill(indexer)
        assert app.search("heron sanctuary", k=1)[0].id == "c0"

        indexer.reset()  # a rebuild elsewhere: the app's handle names a collection that is gone
        fill(indexer)
        assert app.search("heron sanctuary", k=1)[0].id == "c0"
        assert app.count() == 2

        server.stop()
        for call in (lambda: app.search("ferry", k=1), app.count):
            with pytest.raises(VectorStoreError, match=rf"document store .*127\.0\.0\.1:{server.port}.*cannot be "
                                                       r"reached.*chroma run.*ICB_ASSISTANT_CHROMA_HOST"):
                call()

        server.start()
        assert app.search("ferry", k=1)[0].id == "c1"
        assert app.count() == 2
    finally:
        server.stop()
