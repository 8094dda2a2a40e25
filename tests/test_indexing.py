"""Incremental indexing: add, change, delete, interrupted runs, bad files, model changes."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import CORPUS, FakeEmbeddings


def snapshot(indexer) -> tuple:
    """Everything that defines the index: chunk ids and texts in both stores, and the FTS rows."""
    catalog = indexer.catalog
    chunks = sorted((c.id, c.text) for c in catalog.chunks_by_id(sorted(catalog.chunk_ids())).values())
    vectors = indexer.vectors.collection.get(include=["documents"])
    in_chroma = sorted(zip(vectors["ids"], vectors["documents"]))
    fts_rows = catalog.db.execute("SELECT COUNT(*) FROM chunks_fts").fetchone()[0]
    documents = sorted((r.doc, r.content_hash, r.state, r.chunks) for r in catalog.documents())
    return documents, chunks, in_chroma, fts_rows


def test_index_the_default_corpus(indexer):
    report = indexer.run([CORPUS])
    assert len(report.indexed) == 5 and not report.failed
    assert report.documents_total == 5
    assert report.chunks_total == indexer.catalog.chunk_count() > 100
    # every chunk has its whole-text vector, long ones their windows too
    assert indexer.vectors.count() == indexer.catalog.vector_count() > indexer.catalog.chunk_count()
    titles = {r.title for r in indexer.catalog.documents()}
    assert "Lancashire and South Cumbria Commissioning Intentions 2025/26" in titles
    record = indexer.catalog.document("lsc-icb-board-2030-roadmap-paper-2025-05-22.txt")
    assert (record.date, record.kind) == ("2025-05-22", "board paper")


def test_unchanged_documents_are_skipped(indexer, corpus_copy, fake_embeddings):
    indexer.run([corpus_copy])
    calls = fake_embeddings.calls
    before = snapshot(indexer)
    report = indexer.run([corpus_copy])
    assert len(report.skipped) == 5 and not report.indexed
    assert fake_embeddings.calls == calls, "nothing should be embedded again"
    assert snapshot(indexer) == before


def test_a_moved_corpus_folder_is_followed_without_embedding_again(indexer, corpus_copy, fake_embeddings, tmp_path):
    """The same files in another folder (a fresh clone, a moved share): paths follow, nothing is re-embedded."""
    from eval.runner import prepare_index

    indexer.run([corpus_copy])
    calls = fake_embeddings.calls
    moved = shutil.copytree(corpus_copy, tmp_path / "elsewhere" / "corpus")
    shutil.rmtree(corpus_copy)

    class Owner:  # prepare_index takes the assistant that owns the indexer
        pass

    owner = Owner()
    owner.indexer = indexer
    summary = prepare_index(owner, moved)
    assert summary["documents"] == 5 and summary["indexed_now"] == 0
    assert fake_embeddings.calls == calls, "unchanged files should not be embedded again"
    assert {r.path for r in indexer.catalog.documents()} == {str(p) for p in moved.iterdir() if p.suffix == ".txt"}


def test_changed_document_is_replaced_without_duplicates(indexer, corpus_copy):
    indexer.run([corpus_copy])
    target = corpus_copy / "lsc-icb-board-2030-roadmap-paper-2025-05-22.txt"
    target.write_text(target.read_text() + "\n\n6. Addendum\n\nThe Board also noted a new zebra crossing policy.\n")
    report = indexer.run([corpus_copy])
    assert report.indexed == [target.name] and len(report.skipped) == 4
    documents, chunks, in_chroma, fts_rows = snapshot(indexer)
    assert len(chunks) == fts_rows
    assert len(in_chroma) == len(set(in_chroma)) == indexer.catalog.vector_count()
    assert {vector_id.rsplit("@", 1)[0] for vector_id, _ in in_chroma} == {chunk_id for chunk_id, _ in chunks}
    assert len({text for _, text in chunks}) == len(chunks), "duplicate chunks after a change"
    hits = indexer.catalog.keyword_search("zebra crossing", k=3)
    assert hits and hits[0].chunk.doc == target.name


def test_added_and_deleted_documents(indexer, corpus_copy, tmp_path):
    indexer.run([corpus_copy])
    extra = corpus_copy / "new-note.md"
    extra.write_text("# Dental access\n\nWe will fund more urgent dental appointments in Fleetwood.\n")
    report = indexer.run([corpus_copy])
    assert report.indexed == ["new-note.md"] and report.documents_total == 6

    (corpus_copy / "lsc-icb-state-of-the-system-report-2024.txt").unlink()
    report = indexer.run([corpus_copy])
    assert report.removed == ["lsc-icb-state-of-the-system-report-2024.txt"]
    assert indexer.catalog.document("lsc-icb-state-of-the-system-report-2024.txt") is None
    assert not indexer.vectors.collection.get(where={"doc": "lsc-icb-state-of-the-system-report-2024.txt"})["ids"]
    assert not indexer.catalog.keyword_search("Jean Bishop Integrated Care Centre", k=5, docs=["lsc-icb-state-of-the-system-report-2024.txt"])
    assert indexer.vectors.count() == indexer.catalog.vector_count()


def test_remove_one_document(indexer, corpus_copy):
    indexer.run([corpus_copy])
    assert indexer.remove("healthier-lsc-our-next-steps-2019.txt")
    assert not indexer.remove("healthier-lsc-our-next-steps-2019.txt")
    assert indexer.catalog.document("healthier-lsc-our-next-steps-2019.txt") is None
    assert indexer.vectors.count() == indexer.catalog.vector_count()


class Crash(Exception):
    pass


@pytest.fixture(scope="module")
def one_clean_run(_shared_corpus_index) -> tuple:
    """The snapshot of one clean run over the shipped corpus: the session's shared index is exactly
    that (a copy of the corpus, FakeEmbeddings, indexed once), and a snapshot holds no paths, so it
    stands for a clean run over any copy of the corpus without indexing it again."""
    from assistant.components import open_indexer
    from assistant.config import load_settings
    from tests.conftest import read_only, use_home

    with pytest.MonkeyPatch.context() as patch:
        use_home(_shared_corpus_index, patch)
        clean = read_only(open_indexer(load_settings(), embeddings=FakeEmbeddings()))
        try:
            return snapshot(clean)
        finally:
            clean.catalog.close()


@pytest.mark.parametrize("crash_at", ["after_begin", "after_vectors", "midway_through_corpus"])
def test_interrupted_run_then_rerun_equals_one_clean_run(settings, corpus_copy, crash_at, monkeypatch, one_clean_run):
    from assistant.components import open_indexer

    expected = one_clean_run

    crashing = open_indexer(settings, embeddings=FakeEmbeddings())
    if crash_at == "after_begin":
        monkeypatch.setattr(crashing.vectors, "delete_document", _raise)
    elif crash_at == "after_vectors":
        monkeypatch.setattr(crashing.catalog, "complete_document", _raise)
    else:
        real = crashing.catalog.complete_document
        done = []

        def crash_on_third(*args, **kwargs):
            if len(done) == 2:
                raise Crash()
            done.append(1)
            return real(*args, **kwargs)

        monkeypatch.setattr(crashing.catalog, "complete_document", crash_on_third)
    with pytest.raises(Crash):
        crashing.run([corpus_copy])
    monkeypatch.undo()

    rerun = open_indexer(settings, embeddings=FakeEmbeddings())
    rerun.run([corpus_copy])
    assert snapshot(rerun) == expected


def _raise(*args, **kwargs):
    raise Crash()


def test_vectors_lost_are_rebuilt(indexer, corpus_copy):
    indexer.run([corpus_copy])
    expected = snapshot(indexer)
    indexer.vectors.delete_document("lsc-icb-commissioning-intentions-2025-26.txt")
    report = indexer.run([corpus_copy])
    assert report.indexed == ["lsc-icb-commissioning-intentions-2025-26.txt"]
    assert snapshot(indexer) == expected


def test_bad_files_are_reported_and_the_rest_indexed(indexer, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(CORPUS / "lsc-icb-board-2030-roadmap-paper-2025-05-22.txt", folder)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7 this is not really a pdf")
    (folder / "empty.md").write_bytes(b"")
    (folder / "notes.xyz").write_text("ignored in a folder: not a document type")
    report = indexer.run([folder, tmp_path / "missing-folder"])
    assert report.indexed == ["lsc-icb-board-2030-roadmap-paper-2025-05-22.txt"]
    failed = dict((path.split("/")[-1], reason) for path, reason in report.failed)
    assert set(failed) == {"broken.pdf", "empty.md", "missing-folder"}
    assert "PDF" in failed["broken.pdf"]
    assert "empty" in failed["empty.md"]
    assert "no such file" in failed["missing-folder"]


def test_a_different_embedding_model_is_refused(settings, corpus_copy):
    from assistant.components import open_indexer
    from index.vectors import ModelMismatch

    open_indexer(settings, embeddings=FakeEmbeddings()).run([corpus_copy])
    other = open_indexer(settings, embeddings=FakeEmbeddings(model_id="another-model"))
    with pytest.raises(ModelMismatch, match="fake-hash-64.*another-model.*--rebuild"):
        other.run([corpus_copy])
    with pytest.raises(ModelMismatch):
        other.vectors.search("urgent care", k=3)
    other.rebuild()
    report = other.run([corpus_copy])
    assert len(report.indexed) == 5
    assert other.vectors.built_with() == "another-model"


def test_keyword_search_handles_any_input(corpus_indexer):
    for query in ['"unbalanced', "AND OR NOT", "NEAR(", "*", "💉🏥", "  ", "c.£56m", "2027/28"]:
        corpus_indexer.catalog.keyword_search(query, k=3)  # must not raise
    hits = corpus_indexer.catalog.keyword_search("c.£56m capital investment", k=3)
    assert hits and hits[0].chunk.doc == "lsc-2030-roadmap-programme-timelines-2025.txt"


def test_keyword_search_finds_a_hyphenated_word_written_as_one(corpus_indexer):
    """The question says "co-produce"; the commissioning intentions write "coproduce"."""
    from index.keyword import query_terms

    assert query_terms("co-produce the follow-up") == ['"co-produce"', '"coproduce"', '"follow-up"', '"followup"']
    hits = corpus_indexer.catalog.keyword_search("groups co-produce engagement consultation", k=3)
    assert any("Citizens Health Reference Group" in hit.chunk.text for hit in hits)


def test_a_keyword_index_from_before_it_held_documents_is_brought_up_to_date(indexer, corpus_copy, settings):
    """A catalogue written before the full-text index carried each chunk's document still works:
    on opening, its keyword index is copied into the new form, with the same scores."""
    from index.catalog import Catalog

    indexer.run([corpus_copy])
    doc = "lsc-2030-roadmap-programme-timelines-2025.txt"
    before = [(h.chunk.id, round(h.score, 6)) for h in indexer.catalog.keyword_search("cancer 2027/28", k=5, docs=[doc])]
    path = indexer.catalog.path
    indexer.catalog.close()
    db = sqlite3.connect(path)
    with db:  # the old form: text only
        db.executescript("""
            CREATE VIRTUAL TABLE old_fts USING fts5(search_text, tokenize = 'porter unicode61 remove_diacritics 2');
            INSERT INTO old_fts(rowid, search_text) SELECT rowid, search_text FROM chunks_fts;
            DROP TABLE chunks_fts;
            ALTER TABLE old_fts RENAME TO chunks_fts;
        """)
    db.close()
    reopened = Catalog(path)
    try:
        after = [(h.chunk.id, round(h.score, 6)) for h in reopened.keyword_search("cancer 2027/28", k=5, docs=[doc])]
        assert after == before and after
        assert "doc" in {row[1] for row in reopened.db.execute("PRAGMA table_info(chunks_fts)")}
    finally:
        reopened.close()


# -- an upload indexes only its own files; pending work is finished apart ----------------------


def _leave_pending(indexer, path) -> str:
    path = Path(path)
    """Index ``path`` as a run killed after it began the document would: left ``pending``."""
    real = indexer.catalog.complete_document
    indexer.catalog.complete_document = _raise
    try:
        with pytest.raises(Crash):
            indexer.run([path])
    finally:
        indexer.catalog.complete_document = real
    assert indexer.catalog.document(path.name).state == "pending"
    return path.name


def test_an_upload_run_leaves_another_pending_document_alone_and_finish_pending_completes_it(indexer, tmp_path):
    first = tmp_path / "killed"
    first.mkdir()
    left = _leave_pending(indexer, shutil.copy(CORPUS / "lsc-icb-board-2030-roadmap-paper-2025-05-22.txt", first))
    upload = tmp_path / "upload" / "ferry.md"
    upload.parent.mkdir()
    upload.write_text("# Ferry pilot\n\nThe kingfisher ferry carries patients across the Walney channel.\n")

    report = indexer.run([upload], prune=False, finish_pending=False)
    assert report.indexed == ["ferry.md"] and not report.failed and not report.removed
    assert indexer.catalog.document(left).state == "pending"

    finished = indexer.finish_pending()
    assert finished.indexed == [left]
    assert indexer.catalog.document(left).state == "complete"
    assert indexer.catalog.document("ferry.md").state == "complete"
    assert indexer.vectors.count() == indexer.catalog.vector_count()
    assert indexer.finish_pending().indexed == []  # nothing left


def test_finish_pending_removes_a_pending_document_whose_file_has_gone(indexer, tmp_path):
    folder = tmp_path / "killed"
    folder.mkdir()
    path = Path(shutil.copy(CORPUS / "lsc-icb-board-2030-roadmap-paper-2025-05-22.txt", folder))
    left = _leave_pending(indexer, path)
    path.unlink()
    assert indexer.run([tmp_path / "nothing-here.md"], prune=False, finish_pending=False).removed == []
    assert indexer.finish_pending().removed == [left]
    assert indexer.catalog.document(left) is None


# -- what a folder walk takes: no links out of the folder, never the app's own data -------------


def test_discover_skips_links_leading_out_of_the_folder(tmp_path):
    from index.corpus import discover

    secrets = tmp_path / "elsewhere"
    secrets.mkdir()
    (secrets / "ui-users.txt").write_text("alice:$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA\n")
    (secrets / "plans").mkdir()
    (secrets / "plans" / "estates.md").write_text("# Estates\n")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "ferry.md").write_text("# Ferry pilot\n")
    (folder / "users.txt").symlink_to(secrets / "ui-users.txt")
    (folder / "more").symlink_to(secrets / "plans", target_is_directory=True)
    (folder / "same-ferry.md").symlink_to(folder / "ferry.md")  # a link inside the folder is fine

    found = discover([folder])
    assert [info.path for info in found.documents] == [(folder / "ferry.md").resolve()]
    skipped = {path.name: reason for path, reason in found.skipped}
    assert "users.txt" in skipped and "estates.md" not in {info.doc for info in found.documents}
    assert all("outside the folder being indexed" in reason for reason in skipped.values())


def test_discover_never_takes_the_apps_own_files_but_takes_its_uploads(tmp_path):
    from index.corpus import discover

    home = tmp_path / "home"
    (home / "uploads").mkdir(parents=True)
    (home / "ui-users.txt").write_text("alice:$argon2id$hash\n")
    (home / "logs").mkdir()
    (home / "logs" / "audit.log").write_text("sign-in alice\n")
    (home / "uploads" / "ferry.md").write_text("# Ferry pilot\n")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "plan.md").write_text("# Plan\n")

    found = discover([folder, home, home / "ui-users.txt"], app_home=home)
    assert sorted(info.doc for info in found.documents) == ["ferry.md", "plan.md"]
    skipped = [(path.name, reason) for path, reason in found.skipped]
    assert ("ui-users.txt", "this is the assistant's own data, which is never indexed") in skipped
    assert any(name == "audit.log" for name, _ in skipped) is False  # .log is not a document type
    assert sum(name == "ui-users.txt" for name, _ in skipped) == 2
