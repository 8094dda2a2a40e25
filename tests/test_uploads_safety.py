"""Uploads never lose data: a replacement that fails to index leaves the earlier version as it was;
a damaged manifest is never overwritten; two processes changing the manifest at once keep every
entry; publish and remove write the manifest first and leave everything as it was when a write fails.
"""

from __future__ import annotations

import errno
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.test_provenance import ADMIN, ALICE, BOB, ROADMAP, SECRET, services  # noqa: F401 (a fixture)

HERON = "# Heron plan\n\nThe heron hide opens in 2027 beside the estuary.\n"


def note(tmp_path, folder, name, text) -> str:
    path = tmp_path / "received" / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def add(services, tmp_path, name, text, request, title="", folder="a") -> str:
    from assistant.ui import documents

    return documents.upload_files(services, [note(tmp_path, folder, name, text)], title, "", "", request=request)


def entry_of(folder: Path, name: str) -> dict | None:
    from index.uploads import manifest_entries

    return next((e for e in manifest_entries(folder) if e["file"] == name), None)


def hidden_leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock"))


def events(services) -> list[tuple]:
    return [(e["event"], e["user"], e.get("file")) for e in services.audit.entries()]


# -- 1. a replacement that fails to index ------------------------------------------------------------


def test_a_replacement_that_cannot_be_indexed_leaves_the_earlier_upload_as_it_was(services, tmp_path):
    folder = services.uploads_dir
    indexer = services.assistant.indexer
    assert "Added kingfisher.md" in add(services, tmp_path, "kingfisher.md", SECRET, ALICE, "Kingfisher note")
    file_before = (folder / "kingfisher.md").read_bytes()
    entry_before = entry_of(folder, "kingfisher.md")
    record_before = indexer.catalog.document("kingfisher.md")

    report = add(services, tmp_path, "kingfisher.md", "   \n", ALICE, folder="b")  # no text in the new version

    assert "Could not add kingfisher.md" in report and "earlier kingfisher.md is kept" in report, report
    assert (folder / "kingfisher.md").read_bytes() == file_before
    assert entry_of(folder, "kingfisher.md") == entry_before
    assert indexer.catalog.document("kingfisher.md") == record_before
    assert hidden_leftovers(folder) == []
    indexer.run([], prune=True)  # the next `icb-assistant index` keeps it
    record = indexer.catalog.document("kingfisher.md")
    assert record is not None and record.state == "complete" and record.title == "Kingfisher note"
    assert "one pound" in indexer.catalog.document_text("kingfisher.md")
    assert [hit for hit in indexer.vectors.search("kingfisher budget", k=3, docs=["kingfisher.md"])]


def test_a_replacement_whose_embedding_fails_gives_back_the_earlier_version(services, tmp_path, monkeypatch):
    from index.embeddings import EmbeddingError

    folder = services.uploads_dir
    indexer = services.assistant.indexer
    add(services, tmp_path, "kingfisher.md", SECRET, ALICE, "Kingfisher note")
    file_before, entry_before = (folder / "kingfisher.md").read_bytes(), entry_of(folder, "kingfisher.md")
    embeddings = indexer.vectors.embeddings
    real = embeddings.embed_documents

    def once_down(texts):  # fails after the catalogue has begun the new version
        monkeypatch.setattr(embeddings, "embed_documents", real)
        raise EmbeddingError("the embedding model is not answering")

    monkeypatch.setattr(embeddings, "embed_documents", once_down)
    report = add(services, tmp_path, "kingfisher.md", "# Kingfisher v2\n\nA different note entirely.\n", ALICE,
                 folder="b")

    assert "Could not add kingfisher.md" in report and "kept as it was" in report, report
    assert (folder / "kingfisher.md").read_bytes() == file_before
    assert entry_of(folder, "kingfisher.md") == entry_before
    record = indexer.catalog.document("kingfisher.md")
    assert record.state == "complete" and Path(record.path) == folder / "kingfisher.md"
    assert "one pound" in indexer.catalog.document_text("kingfisher.md")
    assert hidden_leftovers(folder) == []


def test_a_replacement_that_indexes_takes_the_earlier_ones_place(services, tmp_path):
    folder = services.uploads_dir
    indexer = services.assistant.indexer
    add(services, tmp_path, "kingfisher.md", SECRET, ALICE, "Kingfisher note")
    report = add(services, tmp_path, "kingfisher.md", "# Kingfisher v2\n\nThe kingfisher budget is now two pounds.\n",
                 ALICE, "Kingfisher note v2", folder="b")

    assert "Added kingfisher.md" in report, report
    assert "two pounds" in (folder / "kingfisher.md").read_text()
    assert entry_of(folder, "kingfisher.md")["title"] == "Kingfisher note v2"
    record = indexer.catalog.document("kingfisher.md")
    assert Path(record.path) == folder / "kingfisher.md" and record.title == "Kingfisher note v2"
    assert "two pounds" in indexer.catalog.document_text("kingfisher.md")
    assert hidden_leftovers(folder) == []
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == ["kingfisher.md", "manifest.json"]


# -- 2. a damaged manifest -------------------------------------------------------------------------


@pytest.mark.parametrize("damage", [lambda text: text[:-2] + ",\n]", lambda text: json.dumps({"entries": text})])
def test_a_damaged_manifest_is_never_overwritten(services, tmp_path, damage):
    from index.uploads import manifest_entries

    folder = services.uploads_dir
    indexer = services.assistant.indexer
    add(services, tmp_path, "kingfisher.md", SECRET, ALICE, "Kingfisher note")
    add(services, tmp_path, "heron.md", HERON, BOB, "Heron plan")
    manifest = folder / "manifest.json"
    manifest.write_text(damage(manifest.read_text()), encoding="utf-8")
    damaged = manifest.read_bytes()
    files = sorted(p.name for p in folder.iterdir())

    report = add(services, tmp_path, "otter.md", "# Otter\n\nThe otter survey starts in May.\n", BOB, folder="c")
    assert "Could not add otter.md" in report and "damaged" in report and str(manifest) in report, report
    assert "nothing was changed" in report and "Traceback" not in report, report
    replaced = add(services, tmp_path, "kingfisher.md", "# New\n\nSomething else.\n", ALICE, folder="d")
    assert "Could not add kingfisher.md" in replaced and "damaged" in replaced, replaced
    from assistant.ui import documents
    published = documents.publish_document(services, "heron.md", ADMIN)
    assert "Could not publish" in published and "damaged" in published, published
    removed = documents.remove_document(services, "kingfisher.md", ALICE)
    assert "Could not remove" in removed and "damaged" in removed, removed

    assert manifest.read_bytes() == damaged
    assert sorted(p.name for p in folder.iterdir()) == files
    assert indexer.catalog.document("otter.md") is None
    assert not indexer.catalog.document("heron.md").provenance.official
    assert "one pound" in indexer.catalog.document_text("kingfisher.md")
    assert [e for e in events(services) if e[0] != "upload" or e[2] not in ("kingfisher.md", "heron.md")] == []
    if "," in damaged.decode()[-4:]:  # a trailing comma: showing it still reads every whole entry
        assert {e["file"] for e in manifest_entries(folder)} == {"kingfisher.md", "heron.md"}


# -- 3. two processes changing the manifest at once ------------------------------------------------

WRITER = """
import sys
from pathlib import Path
from index.documents import Provenance
from index.uploads import add_to_manifest
folder, who, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for i in range(n):
    add_to_manifest(folder, f"{who}-{i}.md", "", "", "", Provenance("uploaded", who, "2026-01-01T00:00:00+00:00"))
"""


def test_writers_in_several_processes_keep_every_entry(tmp_path):
    from index.uploads import manifest_entries

    folder = tmp_path / "uploads"
    folder.mkdir()
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(folder), who, "120"], cwd=REPO)
               for who in ("alice", "bob", "carol")]
    assert [writer.wait(timeout=300) for writer in writers] == [0, 0, 0]
    entries = manifest_entries(folder)
    assert len(entries) == 360
    assert {who: sum(e["owner"] == who for e in entries) for who in ("alice", "bob", "carol")} == {
        "alice": 120, "bob": 120, "carol": 120}
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []


def test_the_manifest_is_flushed_to_disk_before_it_replaces_the_old_one(tmp_path, monkeypatch):
    import os

    from index import uploads

    folder = tmp_path / "uploads"
    folder.mkdir()
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(("fsync", Path(f"/proc/self/fd/{fd}").resolve().name)),
                                                 real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append(("replace", Path(b).name)), real_replace(a, b))[1])
    uploads.add_to_manifest(folder, "a.md", "", "", "", uploads.Provenance("uploaded", "alice", "2026"))
    replaced = calls.index(("replace", "manifest.json"))
    assert any(call == "fsync" and name.endswith(".tmp") for call, name in calls[:replaced]), calls
    assert json.loads((folder / "manifest.json").read_text())[0]["file"] == "a.md"


# -- 4. publish and remove when a write fails ------------------------------------------------------


def full_disk(folder, entries):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_publish_on_a_full_disk_changes_nothing_and_says_so(services, tmp_path, monkeypatch):
    from assistant.ui import documents
    from index import uploads

    folder = services.uploads_dir
    add(services, tmp_path, "kingfisher.md", SECRET, ALICE)
    manifest = (folder / "manifest.json").read_bytes()
    monkeypatch.setattr(uploads, "write_manifest", full_disk)
    result = documents.publish_document(services, "kingfisher.md", ADMIN)  # no exception
    monkeypatch.undo()

    assert "Could not publish kingfisher.md" in result and "No space left on device" in result, result
    assert "nothing was changed" in result
    assert not services.assistant.indexer.catalog.document("kingfisher.md").provenance.official
    assert (folder / "manifest.json").read_bytes() == manifest
    assert ("publish", "admin", "kingfisher.md") not in events(services)

    result = documents.publish_document(services, "kingfisher.md", ADMIN)  # space again: done, and audited
    assert "Published" in result, result
    assert services.assistant.indexer.catalog.document("kingfisher.md").provenance.official
    assert entry_of(folder, "kingfisher.md")["origin"] == "official"
    assert ("publish", "admin", "kingfisher.md") in events(services)


def test_publish_writes_the_manifest_first_and_undoes_it_when_the_catalogue_fails(services, tmp_path, monkeypatch):
    from assistant.ui import documents

    folder = services.uploads_dir
    catalog = services.assistant.indexer.catalog
    add(services, tmp_path, "kingfisher.md", SECRET, ALICE)
    seen = []

    def locked(doc, provenance):
        seen.append(entry_of(folder, doc)["origin"])  # what the manifest said when the catalogue was written
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(catalog, "set_provenance", locked)
    result = documents.publish_document(services, "kingfisher.md", ADMIN)
    monkeypatch.undo()

    assert seen == ["official"]  # the durable record first
    assert "Could not publish kingfisher.md" in result, result
    assert entry_of(folder, "kingfisher.md")["origin"] == "uploaded"
    assert not catalog.document("kingfisher.md").provenance.official
    assert ("publish", "admin", "kingfisher.md") not in events(services)


def test_remove_on_a_full_disk_changes_nothing_and_says_so(services, tmp_path, monkeypatch):
    from assistant.ui import documents
    from index import uploads

    folder = services.uploads_dir
    add(services, tmp_path, "kingfisher.md", SECRET, ALICE)
    manifest = (folder / "manifest.json").read_bytes()
    monkeypatch.setattr(uploads, "write_manifest", full_disk)
    result = documents.remove_document(services, "kingfisher.md", ALICE)
    monkeypatch.undo()

    assert "Could not remove kingfisher.md" in result and "No space left on device" in result, result
    assert services.assistant.indexer.catalog.document("kingfisher.md") is not None
    assert (folder / "kingfisher.md").exists() and (folder / "manifest.json").read_bytes() == manifest
    assert ("remove", "alice", "kingfisher.md") not in events(services)

    result = documents.remove_document(services, "kingfisher.md", ALICE)
    assert "Removed" in result, result
    assert services.assistant.indexer.catalog.document("kingfisher.md") is None
    assert not (folder / "kingfisher.md").exists() and entry_of(folder, "kingfisher.md") is None
    assert hidden_leftovers(folder) == []
    assert ("remove", "alice", "kingfisher.md") in events(services)


def test_remove_when_the_document_store_is_down_puts_everything_back(services, tmp_path, monkeypatch):
    from assistant.ui import documents
    from index.vectors import VectorStoreError

    folder = services.uploads_dir
    indexer = services.assistant.indexer
    add(services, tmp_path, "kingfisher.md", SECRET, ALICE, "Kingfisher note")
    entry = entry_of(folder, "kingfisher.md")

    def down(doc):
        raise VectorStoreError("the document store is not answering")

    monkeypatch.setattr(indexer.vectors, "delete_document", down)
    result = documents.remove_document(services, "kingfisher.md", ALICE)
    monkeypatch.undo()

    assert "Could not remove kingfisher.md" in result, result
    assert indexer.catalog.document("kingfisher.md") is not None
    assert (folder / "kingfisher.md").read_text() == SECRET
    assert entry_of(folder, "kingfisher.md") == entry
    assert hidden_leftovers(folder) == []


# -- 5. a crash, another process or a locked catalogue while a replacement indexes --------------------

V2 = "# Kingfisher v2\n\nThe heron replacement text, never committed.\n"


def earlier_is_back(services, folder, entry_before) -> None:
    """The committed (earlier) version: its file, manifest entry and index entry, and no leftovers."""
    indexer = services.assistant.indexer
    record = indexer.catalog.document("kingfisher.md")
    assert record is not None and record.state == "complete", record
    assert Path(record.path) == folder / "kingfisher.md" and record.title == "Kingfisher note"
    assert "one pound" in indexer.catalog.document_text("kingfisher.md")
    assert "heron" not in indexer.catalog.document_text("kingfisher.md")
    assert (folder / "kingfisher.md").read_text() == SECRET
    assert entry_of(folder, "kingfisher.md") == entry_before
    assert hidden_leftovers(folder) == []


def can_replace_and_remove(services, tmp_path, folder) -> None:
    """Afterwards the user can replace the upload, and remove it for good (a rebuild keeps it gone)."""
    from assistant.ui import documents

    indexer = services.assistant.indexer
    again = add(services, tmp_path, "kingfisher.md", "# V3\n\nThe third kingfisher note.\n", ALICE, "V3", folder="c")
    assert "Added kingfisher.md" in again, again
    assert "third" in indexer.catalog.document_text("kingfisher.md")
    removed = documents.remove_document(services, "kingfisher.md", ALICE)
    assert "Removed" in removed and "stays where it is" not in removed, removed
    assert not (folder / "kingfisher.md").exists() and entry_of(folder, "kingfisher.md") is None
    indexer.rebuild()
    indexer.run([folder])
    assert indexer.catalog.document("kingfisher.md") is None
    assert hidden_leftovers(folder) == []


def test_a_locked_catalogue_while_a_replacement_indexes_keeps_the_earlier_version(services, tmp_path, monkeypatch):
    folder, indexer = services.uploads_dir, services.assistant.indexer
    assert "Added kingfisher.md" in add(services, tmp_path, "kingfisher.md", SECRET, ALICE, "Kingfisher note")
    entry_before = entry_of(folder, "kingfisher.md")
    embeddings = indexer.vectors.embeddings
    real = embeddings.embed_documents

    def locked(texts):  # after the catalogue has begun the new version
        monkeypatch.setattr(embeddings, "embed_documents", real)
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(embeddings, "embed_documents", locked)
    report = add(services, tmp_path, "kingfisher.md", V2, ALICE, "V2", folder="b")  # no exception

    assert "Could not add" in report and "database is locked" in report and "Traceback" not in report, report
    earlier_is_back(services, folder, entry_before)
    assert [hit for hit in indexer.vectors.search("kingfisher budget", k=3, docs=["kingfisher.md"])]
    assert ("upload", "alice", "kingfisher.md") in events(services)  # the first upload only
    assert len([e for e in events(services) if e[0] == "upload"]) == 1
    can_replace_and_remove(services, tmp_path, folder)


@pytest.mark.parametrize("when", ["while embedding", "after indexing, before taking its place"])
@pytest.mark.parametrize("then", ["app start-up", "icb-assistant index"])
def test_after_a_crash_mid_replacement_the_earlier_version_is_what_gets_indexed(services, tmp_path, monkeypatch,
                                                                                when, then):
    from assistant.ui.app import finish_interrupted
    from index import uploads

    folder, indexer = services.uploads_dir, services.assistant.indexer
    add(services, tmp_path, "kingfisher.md", SECRET, ALICE, "Kingfisher note")
    entry_before = entry_of(folder, "kingfisher.md")
    indexed = {r.doc: r for r in indexer.catalog.documents()}
    [item] = uploads.save(folder, [note(tmp_path, "b", "kingfisher.md", V2)], indexed, "alice", "V2", "", "")
    assert item.staged and not item.refused
    staged = Path(item.staged)
    if when == "while embedding":  # the process dies in the middle of indexing the new version
        def killed(texts):
            raise RuntimeError("killed")

        monkeypatch.setattr(indexer.vectors.embeddings, "embed_documents", killed)
        with pytest.raises(RuntimeError):
            indexer.run([staged], prune=False, finish_pending=False)
        monkeypatch.undo()
    else:  # ... or once it has indexed, before it took the earlier one's place
        indexer.run([staged], prune=False, finish_pending=False)
    if getattr(item, "hold", None) is not None:  # the process is gone: so is its hold on the staging folder
        item.hold.close()
    record = indexer.catalog.document("kingfisher.md")
    assert Path(record.path).parent.name.startswith(".replacing-")  # the state a crash leaves

    if then == "app start-up":
        finish_interrupted(services, lambda *args: None)
    else:
        indexer.run([folder])  # `icb-assistant index` with the uploads folder among its targets

    earlier_is_back(services, folder, entry_before)
    can_replace_and_remove(services, tmp_path, folder)


def test_a_live_replacement_in_another_process_is_left_alone_at_start_up(services, tmp_path):
    from index import uploads

    folder, indexer = services.uploads_dir, services.assistant.indexer
    add(services, tmp_path, "kingfisher.md", SECRET, ALICE, "Kingfisher note")
    indexed = {r.doc: r for r in indexer.catalog.documents()}
    [item] = uploads.save(folder, [note(tmp_path, "b", "kingfisher.md", V2)], indexed, "alice", "V2", "", "")
    indexer.finish_pending()  # another app (or `icb-assistant index`) starting meanwhile
    assert Path(item.staged).exists()  # still being worked on: not deleted under the uploader
    report = uploads.index_saved(indexer, folder, [item], indexed)
    assert report.indexed == ["kingfisher.md"] and "heron" in indexer.catalog.document_text("kingfisher.md")
    assert hidden_leftovers(folder) == []


def test_a_removal_interrupted_by_a_crash_is_finished_at_start_up(services, tmp_path):
    import os

    from assistant.ui.app import finish_interrupted
    from index import uploads

    folder, indexer = services.uploads_dir, services.assistant.indexer
    add(services, tmp_path, "kingfisher.md", SECRET, ALICE, "Kingfisher note")
    uploads.remove_from_manifest(folder, "kingfisher.md")  # remove()'s first steps, then the process dies
    os.replace(folder / "kingfisher.md", folder / ".removing-kingfisher.md")

    finish_interrupted(services, lambda *args: None)

    assert indexer.catalog.document("kingfisher.md") is None
    assert entry_of(folder, "kingfisher.md") is None and not (folder / "kingfisher.md").exists()
    assert hidden_leftovers(folder) == []


# -- 6. two app workers uploading the same name at once ----------------------------------------------


def test_two_workers_uploading_the_same_name_keep_both_uploads(tmp_path, monkeypatch):
    import threading

    from index import uploads

    folder = tmp_path / "uploads"
    folder.mkdir()
    real = uploads.safe_file_name
    alice_waits, bob_done = threading.Event(), threading.Event()

    def slow_for_alice(name):  # alice's worker has begun (and looked at the folder), then bob's runs whole
        if threading.current_thread().name == "alice":
            alice_waits.set()
            assert bob_done.wait(timeout=10)
        return real(name)

    monkeypatch.setattr(uploads, "safe_file_name", slow_for_alice)
    out = {}

    def worker(user):
        out[user] = uploads.save(folder, [note(tmp_path, user, "report.md", f"{user}'s report")], {}, user=user,
                                 title="", when="", kind="")

    alice = threading.Thread(target=worker, args=("alice",), name="alice")
    alice.start()
    assert alice_waits.wait(timeout=10)
    worker("bob")
    bob_done.set()
    alice.join(timeout=10)

    names = {user: [r.name for r in received if not r.refused] for user, received in out.items()}
    assert names == {"bob": ["report.md"], "alice": ["report-2.md"]}, names
    assert (folder / "report.md").read_text() == "bob's report"
    assert (folder / "report-2.md").read_text() == "alice's report"
    assert sorted((e["file"], e["owner"]) for e in uploads.manifest_entries(folder)) == [
        ("report-2.md", "alice"), ("report.md", "bob")]
    assert out["alice"][0].wanted == "report.md"


# -- 7. `icb-assistant publish` / `remove` while a replacement indexes -------------------------------


def test_a_publication_made_while_a_replacement_indexes_is_never_lost(services, tmp_path, monkeypatch):
    from index import uploads

    folder, indexer = services.uploads_dir, services.assistant.indexer
    add(services, tmp_path, "kingfisher.md", SECRET, ALICE, "Kingfisher note")
    embeddings = indexer.vectors.embeddings
    real = embeddings.embed_documents

    def admin_publishes_meanwhile(texts):  # `icb-assistant publish kingfisher.md` in another process
        monkeypatch.setattr(embeddings, "embed_documents", real)
        uploads.publish(indexer, folder, "kingfisher.md", by="admin")
        return real(texts)

    monkeypatch.setattr(embeddings, "embed_documents", admin_publishes_meanwhile)
    report = add(services, tmp_path, "kingfisher.md", V2, ALICE, "V2", folder="b")

    assert "Could not add kingfisher.md" in report and "published" in report, report
    record = indexer.catalog.document("kingfisher.md")
    assert record.provenance.official and record.provenance.published_by == "admin"
    assert record.state == "complete" and Path(record.path) == folder / "kingfisher.md"
    assert "one pound" in indexer.catalog.document_text("kingfisher.md")  # what was published
    entry = entry_of(folder, "kingfisher.md")
    assert entry["origin"] == "official" and entry["published_by"] == "admin" and entry["title"] == "Kingfisher note"
    assert (folder / "kingfisher.md").read_text() == SECRET
    assert hidden_leftovers(folder) == []
    indexer.rebuild()
    indexer.run([folder])
    assert indexer.catalog.document("kingfisher.md").provenance.official


@pytest.mark.parametrize("when", ["while embedding", "after indexing, before taking its place"])
def test_a_removal_made_while_a_replacement_indexes_stays_removed(services, tmp_path, monkeypatch, when):
    from index import uploads

    folder, indexer = services.uploads_dir, services.assistant.indexer
    add(services, tmp_path, "kingfisher.md", SECRET, ALICE, "Kingfisher note")
    if when == "while embedding":
        embeddings = indexer.vectors.embeddings
        real = embeddings.embed_documents

        def admin_removes_meanwhile(texts):  # `icb-assistant remove kingfisher.md` in another process
            monkeypatch.setattr(embeddings, "embed_documents", real)
            vectors = real(texts)
            uploads.remove(indexer, folder, "kingfisher.md")
            return vectors

        monkeypatch.setattr(embeddings, "embed_documents", admin_removes_meanwhile)
    else:
        real_commit = uploads.commit

        def removed_first(indexer_, folder_, item):
            uploads.remove(indexer, folder, "kingfisher.md")
            return real_commit(indexer_, folder_, item)

        monkeypatch.setattr(uploads, "commit", removed_first)
    report = add(services, tmp_path, "kingfisher.md", V2, ALICE, "V2", folder="b")  # no exception

    assert "Could not add kingfisher.md" in report and "removed" in report, report
    assert "kept as it was" not in report, report
    assert indexer.catalog.document("kingfisher.md") is None
    assert not indexer.vectors.search("heron replacement", k=5, docs=["kingfisher.md"])
    assert not (folder / "kingfisher.md").exists() and entry_of(folder, "kingfisher.md") is None
    assert hidden_leftovers(folder) == []
    indexer.rebuild()
    indexer.run([folder])
    assert indexer.catalog.document("kingfisher.md") is None


# -- 8. a locked catalogue while removing ------------------------------------------------------------


def test_remove_when_the_catalogue_is_locked_puts_everything_back_and_says_so(services, tmp_path, monkeypatch):
    from assistant.ui import documents

    folder, indexer = services.uploads_dir, services.assistant.indexer
    add(services, tmp_path, "kingfisher.md", SECRET, ALICE, "Kingfisher note")
    entry = entry_of(folder, "kingfisher.md")

    def locked(doc):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(indexer.catalog, "remove_document", locked)
    result = documents.remove_document(services, "kingfisher.md", ALICE)  # no exception
    monkeypatch.undo()

    assert "Could not remove kingfisher.md" in result and "database is locked" in result, result
    assert indexer.catalog.document("kingfisher.md") is not None
    assert (folder / "kingfisher.md").read_text() == SECRET and entry_of(folder, "kingfisher.md") == entry
    assert hidden_leftovers(folder) == []
    assert ("remove", "alice", "kingfisher.md") not in events(services)
