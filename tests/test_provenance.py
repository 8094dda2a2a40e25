"""Provenance and roles: a web upload is seen only by its uploader until an administrator publishes it.

Retrieval (dense, keyword, named documents, the document filter), the engine, the catalogue's
migration, a rebuild from the uploads folder, and the UI's handlers for uploading, publishing and
removing (with the audit log), on real files with the fake embedder.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant.retrieval import Filters, Retriever
from index.catalog import SCHEMA, Catalog
from index.documents import Provenance
from index.uploads import add_to_manifest, publish
from tests.conftest import FakeEmbeddings

ROADMAP = "lsc-2030-roadmap-programme-timelines-2025.txt"
SECRET = "# Kingfisher budget note\n\nThe kingfisher budget is one pound for the whole ICB this year.\n"
UPLOADED = Provenance("uploaded", "alice", "2026-12-02T06:30:00+00:00")


def found(retriever: Retriever, query: str, user: str | None) -> set[str]:
    return {passage.doc for passage in retriever.search(query, k=10, filters=Filters(user=user))}


@pytest.fixture
def uploads_folder(settings, indexer, corpus_copy):
    """The roadmap indexed (official), and alice's upload that copies its title and kind."""
    indexer.run([corpus_copy / ROADMAP])
    folder = settings.home / "uploads"
    folder.mkdir(parents=True)
    (folder / "kingfisher.md").write_text(SECRET, encoding="utf-8")
    add_to_manifest(folder, "kingfisher.md", "LSC2030 Roadmap", "2025", "roadmap", UPLOADED)
    indexer.run([folder / "kingfisher.md"], prune=False)
    return folder


def test_an_upload_reaches_only_its_uploaders_searches_until_published(indexer, uploads_folder):
    retriever = Retriever(indexer.catalog, indexer.vectors)
    query = "What is the kingfisher budget?"
    assert "kingfisher.md" in found(retriever, query, "alice")
    assert "kingfisher.md" not in found(retriever, query, "bob")
    assert "kingfisher.md" not in found(retriever, query, "")  # the local user of an app without sign-in
    assert "kingfisher.md" in found(retriever, query, None)  # the console sees every document
    assert found(retriever, query, "bob")  # bob still gets the official roadmap
    # choosing it in the filter or naming its (copied) title does not reach it either
    assert retriever.search(query, filters=Filters(docs=["kingfisher.md"], user="bob")) == []
    assert "kingfisher.md" not in found(retriever, "What does the LSC2030 Roadmap say about the kingfisher budget?", "bob")
    passage = next(p for p in retriever.search(query, k=10, filters=Filters(user="alice")) if p.doc == "kingfisher.md")
    assert passage.provenance.describe() == "uploaded by alice on 2026-12-02 (not yet published)"

    publish(indexer, uploads_folder, "kingfisher.md", by="admin")
    assert "kingfisher.md" in found(retriever, query, "bob")
    record = indexer.catalog.document("kingfisher.md")
    assert record.provenance.official and record.provenance.published_by == "admin"
    assert record.provenance.describe().startswith("official (uploaded by alice on 2026-12-02, published by admin on ")
    entry = next(e for e in json.loads((uploads_folder / "manifest.json").read_text()) if e["file"] == "kingfisher.md")
    assert (entry["origin"], entry["owner"], entry["published_by"]) == ("official", "alice", "admin")


def test_an_upload_committed_while_a_search_runs_reaches_nobody_through_it(indexer, uploads_folder, monkeypatch):
    """Its vectors are in Chroma and its chunks in the catalogue, but the search's snapshot of the
    documents was taken before it completed: the search must leave it out, not show it as official."""
    retriever = Retriever(indexer.catalog, indexer.vectors)
    query = "What is the kingfisher budget?"
    records, names = retriever._document_index(indexer.catalog.version())
    before = {doc: record for doc, record in records.items() if doc != "kingfisher.md"}
    monkeypatch.setattr(retriever, "_document_index", lambda state: (before, names))
    for user in ("bob", None):
        assert "kingfisher.md" not in {p.doc for p in retriever.search(query, k=10, filters=Filters(user=user))}


def test_a_rebuild_from_the_uploads_folder_keeps_each_uploads_provenance(indexer, uploads_folder, corpus_copy):
    (uploads_folder / "heron.md").write_text("# Heron\n\nThe heron sanctuary opens in 2027.\n", encoding="utf-8")
    add_to_manifest(uploads_folder, "heron.md", "", "", "", Provenance("uploaded", "bob", "2026-12-01T09:00:00+00:00"))
    indexer.run([uploads_folder / "heron.md"], prune=False)
    publish(indexer, uploads_folder, "heron.md", by="admin")
    before = {r.doc: r.provenance for r in indexer.catalog.documents()}
    assert not before["kingfisher.md"].official and before["heron.md"].official and before[ROADMAP] == Provenance()

    indexer.rebuild()
    indexer.run([corpus_copy / ROADMAP, uploads_folder])
    assert {r.doc: r.provenance for r in indexer.catalog.documents()} == before


def test_an_upload_its_manifest_does_not_describe_is_nobodys_and_never_official(settings, indexer, uploads_folder):
    (uploads_folder / "stray.md").write_text("# Stray\n\nThe stray budget is two pounds.\n", encoding="utf-8")
    indexer.run([uploads_folder], prune=False)  # as `index --rebuild` does, with no manifest entry for it
    record = indexer.catalog.document("stray.md")
    assert record is not None and not record.provenance.official and record.provenance.owner == ""
    retriever = Retriever(indexer.catalog, indexer.vectors)
    assert "stray.md" not in found(retriever, "What is the stray budget?", "alice")


def test_an_old_catalogue_gains_provenance_and_its_documents_count_as_official(tmp_path):
    old_schema = re.sub(r",\s*origin TEXT.*?published_at TEXT NOT NULL DEFAULT ''", "", SCHEMA, flags=re.S)
    assert "origin" not in old_schema
    path = tmp_path / "catalog.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(old_schema)
    db.execute("INSERT INTO documents(doc, path, title, content_hash, state, indexed_at) "
               "VALUES ('a.txt', '/corpus/a.txt', 'A', 'h', 'complete', '2025-01-01')")
    db.commit()
    db.close()

    catalog = Catalog(path)
    try:
        record = catalog.document("a.txt")
        assert record.provenance == Provenance() and record.provenance.describe() == "official"
        catalog.set_provenance("a.txt", UPLOADED)
        assert catalog.document("a.txt").provenance == UPLOADED
    finally:
        catalog.close()


def test_saving_uploads_takes_plain_arguments_and_never_replaces_anothers_document(indexer, uploads_folder, tmp_path):
    from index.uploads import NAME_INDEXED, UNSUPPORTED, manifest_entries, save

    given = {}
    for folder, name in (("a", "kingfisher.md"), ("b", "Notes (v2).md"), ("c", "notes.exe"), ("d", ROADMAP)):
        given[name] = tmp_path / folder / name
        given[name].parent.mkdir()
        given[name].write_text(f"# {name}\n\nBob's {name}.\n", encoding="utf-8")
    indexed = {record.doc: record for record in indexer.catalog.documents()}

    received = save(uploads_folder, [str(path) for path in given.values()], indexed, user="bob", title="", when="2026",
                    kind="")

    assert [(r.name, r.wanted, r.refused) for r in received] == [
        ("kingfisher-2.md", "kingfisher.md", ""), ("Notes-v2.md", "", ""), ("notes.exe", "", UNSUPPORTED),
        (ROADMAP, "", NAME_INDEXED)]
    assert received[3].clash.title == indexed[ROADMAP].title
    assert (uploads_folder / "kingfisher.md").read_text() == SECRET  # alice's upload is untouched
    assert (uploads_folder / "kingfisher-2.md").read_text().startswith("# kingfisher.md")
    assert not (uploads_folder / "notes.exe").exists() and not (uploads_folder / ROADMAP).exists()
    entries = {entry["file"]: entry for entry in manifest_entries(uploads_folder)}
    assert {name: (entry["owner"], entry["origin"], entry.get("date")) for name, entry in entries.items()} == {
        "kingfisher.md": ("alice", "uploaded", "2025"), "kingfisher-2.md": ("bob", "uploaded", "2026"),
        "Notes-v2.md": ("bob", "uploaded", "2026")}
    # alice's own unpublished upload of that name is replaced, not renamed
    again = save(uploads_folder, [str(given["kingfisher.md"])], indexed, user="alice", title="", when="", kind="")
    assert [(r.name, r.wanted) for r in again] == [("kingfisher.md", "")]
    # ... once the new version has indexed: until then it waits aside, and the earlier one stays as it was
    assert Path(again[0].staged).read_text().startswith("# kingfisher.md")
    assert (uploads_folder / "kingfisher.md").read_text() == SECRET


# -- the engine and the web app's handlers -----------------------------------------------------------


class Request:
    """What the handlers read of a Gradio request: the signed-in user and the client's address."""

    def __init__(self, username: str):
        self.username = username
        self.client = SimpleNamespace(host="127.0.0.9")


ALICE, BOB, ADMIN = Request("alice"), Request("bob"), Request("admin")


@pytest.fixture
def services(settings, corpus_copy):
    from assistant.ui.services import Services
    from assistant.auth import add_user, users_file
    from assistant.engine import Assistant
    from assistant.feedback import FeedbackStore, feedback_path

    for name, admin in (("alice", False), ("bob", False), ("admin", True)):
        add_user(users_file(settings), name, f"{name}-password", admin=admin)
    assistant = Assistant(settings, backend="extractive", embeddings=FakeEmbeddings())
    assistant.indexer.run([corpus_copy / ROADMAP])
    made = Services(assistant, settings, FeedbackStore(feedback_path(settings)), sign_in=True)
    yield made
    made.feedback.close()
    assistant.close()


def note(tmp_path, folder: str, name: str, text: str):
    path = tmp_path / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def filter_choices(services, request) -> list[str]:
    from assistant.ui.chat import filter_updates

    docs, _ = filter_updates(services, request)
    return [value for _, value in docs["choices"]]


def test_users_see_their_own_uploads_until_an_admin_publishes_them(services, tmp_path):
    from assistant import sources_view
    from assistant.ui import chat, documents
    from assistant.ui.services import listed_records

    report = documents.upload_files(services, [note(tmp_path, "in", "kingfisher.md", SECRET)], "LSC2030 Roadmap", "",
                                    "roadmap", request=ALICE)
    assert "Added kingfisher.md" in report and "you alone" in report, report
    question = "What is the kingfisher budget?"

    # alice: in her searches, filter list and documents table, marked as her upload
    assert "kingfisher.md" in filter_choices(services, ALICE)
    answer = services.assistant.ask(question, filters=Filters(user="alice"))
    assert answer.status == "answered" and "one pound" in answer.answer
    cited = next(s for s in answer.citations if s.doc == "kingfisher.md")
    assert cited.provenance.describe().startswith("uploaded by alice on ")
    assert "uploaded by alice on " in chat.source_line(cited)
    assert "Uploaded by alice on " in sources_view.render_sources(answer.answer, answer.citations)
    rows = {row[-1]: row for row in documents.document_rows(listed_records(services, ALICE))}
    assert rows["kingfisher.md"][3].startswith("uploaded by alice on ") and rows[ROADMAP][3] == "official"

    # bob: not in his answers, filter list, documents table or action list; he cannot remove or publish it
    assert "kingfisher.md" not in filter_choices(services, BOB) and ROADMAP in filter_choices(services, BOB)
    assert "one pound" not in services.assistant.ask(question, filters=Filters(user="bob")).answer
    assert "kingfisher.md" not in {row[-1] for row in documents.document_rows(listed_records(services, BOB))}
    assert documents.action_choices(services, BOB) == []
    assert "not in the index" in documents.remove_document(services, "kingfisher.md", BOB)
    assert "only an administrator" in documents.publish_document(services, "kingfisher.md", BOB)
    assert "only an administrator" in documents.publish_document(services, "kingfisher.md", ALICE)
    assert (services.uploads_dir / "kingfisher.md").is_file()

    # the administrator lists it (to review it) but asks from official documents and their own
    assert "kingfisher.md" in {doc for _, doc in documents.action_choices(services, ADMIN)}
    assert "kingfisher.md" not in filter_choices(services, ADMIN)
    assert "Published" in documents.publish_document(services, "kingfisher.md", ADMIN)
    assert "already official" in documents.publish_document(services, "kingfisher.md", ADMIN)

    # published: official, for everyone; only an administrator may remove it now
    assert "kingfisher.md" in filter_choices(services, BOB)
    assert "one pound" in services.assistant.ask(question, filters=Filters(user="bob")).answer
    assert "only an administrator" in documents.remove_document(services, "kingfisher.md", ALICE)
    assert "Removed" in documents.remove_document(services, "kingfisher.md", ADMIN)
    assert services.assistant.indexer.catalog.document("kingfisher.md") is None
    assert not (services.uploads_dir / "kingfisher.md").exists()
    assert "kingfisher" not in (services.uploads_dir / "manifest.json").read_text()

    events = [(e["event"], e["user"], e["address"], e["file"]) for e in services.audit.entries()]
    assert events == [("upload", "alice", "127.0.0.9", "kingfisher.md"), ("publish", "admin", "127.0.0.9", "kingfisher.md"),
                      ("remove", "admin", "127.0.0.9", "kingfisher.md")]


def test_a_user_removes_their_own_upload_but_not_an_official_document(services, tmp_path):
    from assistant.ui import documents

    documents.upload_files(services, [note(tmp_path, "in", "heron.md", "# Heron\n\nThe heron hide opens in 2027.\n")], "", "",
                           "", request=BOB)
    assert [doc for _, doc in documents.action_choices(services, BOB)] == ["heron.md"]
    refused = documents.remove_document(services, ROADMAP, BOB)
    assert "only an administrator" in refused and services.assistant.indexer.catalog.document(ROADMAP) is not None
    assert "Removed" in documents.remove_document(services, "heron.md", BOB)
    assert not (services.uploads_dir / "heron.md").exists()
    assert [(e["event"], e["user"], e["file"]) for e in services.audit.entries()][-1] == ("remove", "bob", "heron.md")


def test_an_upload_named_like_another_users_upload_never_replaces_it(services, tmp_path):
    from assistant.ui import documents

    documents.upload_files(services, [note(tmp_path, "a", "kingfisher.md", SECRET)], "", "", "", request=ALICE)
    other = "# Kingfisher\n\nBob's kingfisher notes: the ferry runs on Sundays.\n"
    report = documents.upload_files(services, [note(tmp_path, "b", "kingfisher.md", other)], "", "", "", request=BOB)
    assert "Added kingfisher-2.md" in report and "another document is named kingfisher.md" in report, report
    assert (services.uploads_dir / "kingfisher.md").read_text() == SECRET
    assert (services.uploads_dir / "kingfisher-2.md").read_text() == other
    catalog = services.assistant.indexer.catalog
    assert (catalog.document("kingfisher.md").provenance.owner, catalog.document("kingfisher-2.md").provenance.owner) == ("alice", "bob")
    # alice's own upload of the same name replaces hers
    documents.upload_files(services, [note(tmp_path, "c", "kingfisher.md", SECRET + "Revised.\n")], "", "", "", request=ALICE)
    assert (services.uploads_dir / "kingfisher.md").read_text().endswith("Revised.\n")
    assert not (services.uploads_dir / "kingfisher-3.md").exists()


# -- the command line ------------------------------------------------------------------------------


def test_docs_json_publish_and_remove_at_the_console(indexer, uploads_folder, home):
    from tests.cli_here import run_cli_here as run_cli

    indexer.catalog.close()  # the commands below open the index themselves
    listed = run_cli("docs", "--json", home=home)
    assert listed.returncode == 0, listed.stderr
    documents = {d["doc"]: d for d in json.loads(listed.stdout)}
    assert documents[ROADMAP]["origin"] == "official" and documents[ROADMAP]["source"] == "official"
    upload = documents["kingfisher.md"]
    assert (upload["origin"], upload["owner"], upload["title"]) == ("uploaded", "alice", "LSC2030 Roadmap")
    assert upload["source"] == "uploaded by alice on 2026-12-02 (not yet published)"
    table = run_cli("docs", home=home, env={"COLUMNS": "200"})
    assert "uploaded by alice on 2026-12-02" in table.stdout

    published = run_cli("publish", "kingfisher.md", home=home)
    assert published.returncode == 0 and "Published kingfisher.md: official (uploaded by alice" in published.stdout
    again = run_cli("publish", "kingfisher.md", "nothing.md", home=home)
    assert again.returncode == 2 and "already official" in again.stderr and "nothing.md is not in the index" in again.stderr
    removed = run_cli("remove", "kingfisher.md", home=home)
    assert removed.returncode == 0, removed.stderr
    assert not (uploads_folder / "kingfisher.md").exists() and "kingfisher" not in (uploads_folder / "manifest.json").read_text()
    assert {d["doc"] for d in json.loads(run_cli("docs", "--json", home=home).stdout)} == {ROADMAP}
    events = [json.loads(line) for line in (home / "audit.log").read_text().splitlines()]
    assert [(e["event"], e["address"], e["file"]) for e in events] == [("publish", "console", "kingfisher.md"),
                                                                       ("remove", "console", "kingfisher.md")]
