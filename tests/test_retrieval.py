"""Retrieval rules that do not need a model: documents a question names, rare words, budgets."""

from __future__ import annotations

from pathlib import Path

from assistant.answers import Source
from assistant.query_plan import named_documents
from assistant.retrieval import Retriever, fit_to_budget
from eval.gold import load_gold
from index.catalog import DocumentRecord
from tests.conftest import FakeEmbeddings


def record(doc: str, title: str, date: str, kind: str) -> DocumentRecord:
    return DocumentRecord(
        doc=doc, path=doc, title=title, date=date, kind=kind, publisher="", content_hash="", state="complete",
        chunks=1, vectors=1, characters=1, pages=None, indexed_at="",
    )


RECORDS = [
    record("ns.txt", "Our next steps - Healthier Lancashire and South Cumbria", "2019-10", "strategy"),
    record("sos.txt", "Beyond the challenge - Chief executive's state of the system report", "2024", "report"),
    record("bp.txt", "LSC ICB 2030 Roadmap (ICB Board paper, agenda item 11)", "2025-05-22", "board paper"),
    record("ci.txt", "Lancashire and South Cumbria Commissioning Intentions 2025/26", "2025", "commissioning intentions"),
]


def test_a_question_names_documents_by_year_kind_or_title():
    assert named_documents("How much had funding fallen according to the 2019 strategy?", RECORDS) == ["ns.txt"]
    assert named_documents("What does the board paper recommend?", RECORDS) == ["bp.txt"]
    assert named_documents("What did Our next steps say about wards?", RECORDS) == ["ns.txt"]
    assert named_documents("What does the state of the system report say?", RECORDS) == ["sos.txt"]
    # a financial year is not a publication year; nothing named, nothing narrowed
    assert named_documents("What is planned for 2025/26?", RECORDS) == []
    assert named_documents("What are the urgent care priorities?", RECORDS) == []
    both = named_documents("Compare the deficit in the 2019 strategy with the 2024 report", RECORDS)
    assert both == ["ns.txt", "sos.txt"]


def test_rare_words_pick_out_their_passage(corpus_indexer):
    catalog = corpus_indexer.catalog
    assert catalog.rare_terms("What is planned in Millom?", limit=3) == ["millom"]
    assert catalog.rare_terms("What is planned for care?", limit=3) == []  # common words are not rare
    retriever = Retriever(catalog, corpus_indexer.vectors)
    passages = retriever.search("What is planned in Millom?", k=5)
    assert "Millom" in passages[0].text  # the fake embedder knows nothing; the rare word finds it


def test_a_smaller_budget_keeps_a_prefix_of_the_sources():
    def count(text: str) -> int:
        return len(text.split())

    sources = [
        Source(n=n, doc="d.txt", title="T", section="S", page=None, text=" ".join(f"Sentence {n}.{i} here." for i in range(20)),
               start=n * 1000, end=n * 1000 + 400)
        for n in (1, 2, 3)
    ]
    wide = fit_to_budget(sources, 200, count)
    assert [s.n for s in wide] == [1, 2, 3]
    narrow = fit_to_budget(sources, 110, count)
    assert [s.n for s in narrow] == [1, 2]
    assert narrow[0] == sources[0]
    assert sources[1].text.startswith(narrow[1].text) and len(narrow[1].text) < len(sources[1].text)
    assert narrow[1].text.endswith("here.") and narrow[1].end == narrow[1].start + len(narrow[1].text)
    assert [s.n for s in fit_to_budget(sources, 5, count)] == [1]  # always at least one source


def test_the_dense_search_finds_the_true_nearest_vectors_in_every_process(corpus_indexer):
    """Chroma builds the graph of a small collection afresh in each process; with a narrow search
    beam, each fresh graph missed a few true nearest vectors for different questions, so a question
    could be answered in one process and refused in the next. Every gold question's nearest 40
    vectors are the true ones (ties at the cut aside)."""
    import numpy as np

    collection = corpus_indexer.vectors.collection
    stored = collection.get(include=["embeddings"])
    vectors, ids = np.asarray(stored["embeddings"], dtype=np.float32), stored["ids"]
    embeddings = FakeEmbeddings()
    missed = []
    for item in load_gold():
        query = np.asarray(embeddings.embed_query(item.question), dtype=np.float32)
        similarity = vectors @ query
        cut = np.sort(similarity)[-40]
        found = set(collection.query(query_embeddings=[query.tolist()], n_results=40, include=[])["ids"][0])
        missed += [(item.id, ids[i]) for i in np.argsort(-similarity)[:40]
                   if similarity[i] > cut + 1e-6 and ids[i] not in found]
    assert not missed, missed


_NARROW_INDEX = """
import sys, numpy as np, chromadb
from index.vectors import _chroma_embedding_function, chroma_settings
from tests.conftest import FakeEmbeddings
rng = np.random.default_rng(0)
vectors = rng.normal(size=(3000, 64)).astype(np.float32)
client = chromadb.PersistentClient(path=sys.argv[1], settings=chroma_settings())
made = client.get_or_create_collection("old", embedding_function=_chroma_embedding_function(FakeEmbeddings()),
                                       configuration={"hnsw": {"space": "cosine", "ef_search": 10}})
for begin in range(0, 3000, 1000):
    made.add(ids=[str(i) for i in range(begin, begin + 1000)], embeddings=vectors[begin:begin + 1000].tolist())
"""
_RECALL = """
import sys, numpy as np
from pathlib import Path
from index.vectors import VectorStore
from tests.conftest import FakeEmbeddings
rng = np.random.default_rng(0)
vectors = rng.normal(size=(3000, 64)).astype(np.float32)
vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
store = VectorStore.open_local(Path(sys.argv[1]), "old", FakeEmbeddings())
found = 0
for query in rng.normal(size=(20, 64)).astype(np.float32):
    true = {str(i) for i in np.argsort(-(vectors @ query))[:40]}
    found += len(true & set(store.collection.query(query_embeddings=[query.tolist()], n_results=40, include=[])["ids"][0]))
print(store.collection.configuration_json["hnsw"]["ef_search"], found / 800)
"""


def test_an_index_made_with_a_narrow_search_beam_is_widened_when_opened(tmp_path):
    """An index written with a narrow beam (here 10) searches with the wide one once the app opens
    it in a new process, as it does at start-up: the true nearest vectors are found."""
    import subprocess
    import sys

    from index.vectors import SEARCH_BEAM

    repo = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", _NARROW_INDEX, str(tmp_path)], cwd=repo, check=True, capture_output=True)
    shown = subprocess.run([sys.executable, "-c", _RECALL, str(tmp_path)], cwd=repo, check=True, capture_output=True,
                           text=True).stdout.split()
    assert int(shown[0]) == SEARCH_BEAM == 1000 and float(shown[1]) > 0.95, shown
