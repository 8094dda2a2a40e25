"""The app's own data, through the real app (`icb-assistant ui` on 127.0.0.1): work an interrupted
upload left is finished at start-up without anyone's request; what the app writes is its owner's
only; a refused upload leaves nothing in Gradio's upload folder; exports do not outlive the app."""

from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser import NEEDS_CHROMIUM, Watched, chromium, tab
from tests.conftest import REPO
from tests.servers import App, build_index, clean_environment, small_corpus
from tests.test_upload_http import NOTE, upload

pytestmark = pytest.mark.slow

DOCUMENT = "lsc-2030-roadmap-programme-timelines-2025.txt"
LEFT = "ferry-timetable.md"


def states(home: Path) -> dict[str, str]:
    db = sqlite3.connect(home / "index" / "catalog.sqlite3")
    try:
        return dict(db.execute("SELECT doc, state FROM documents"))
    finally:
        db.close()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The app over an index where an upload was killed half-way: one document left ``pending``."""
    root = tmp_path_factory.mktemp("app-data")
    corpus = small_corpus(root / "corpus", [DOCUMENT])
    home = root / "home"
    build_index(home, corpus)
    killed = root / "killed-upload"
    killed.mkdir()
    (killed / LEFT).write_text("# Ferry timetable\n\nThe kingfisher ferry sails every hour from Roa Island.\n")
    (killed / "manifest.json").write_text(json.dumps([{"file": LEFT, "title": "Ferry timetable", "kind": "uploaded"}]))
    environment = clean_environment(ICB_ASSISTANT_HOME=str(home), ICB_ASSISTANT_CORPUS_DIR=str(corpus))
    subprocess.run([sys.executable, "-m", "assistant.cli", "index", str(killed / LEFT), "--no-prune"],
                   env=environment, cwd=REPO, check=True, capture_output=True, timeout=900)
    db = sqlite3.connect(home / "index" / "catalog.sqlite3")
    with db:  # what a killed run leaves: the document begun, its chunks dropped, never completed
        db.execute("UPDATE documents SET state='pending', chunks=0 WHERE doc=?", (LEFT,))
    db.close()
    assert states(home) == {DOCUMENT: "complete", LEFT: "pending"}

    temp = root / "tmp"
    temp.mkdir()
    app = App(home, corpus, env={"TMPDIR": str(temp), "GRADIO_TEMP_DIR": str(temp / "gradio")})
    app.root, app.temp, app.gradio_dir = root, temp, temp / "gradio"
    yield app
    if app.process.poll() is None:
        app.stop()


def test_a_document_left_pending_is_finished_at_start_up_without_any_request(site):
    site.wait_for_log("Finished the interrupted upload: 1 document indexed")
    log = site.log_path.read_text()
    assert "Finishing 1 document left by an interrupted upload" in log
    assert states(site.home) == {DOCUMENT: "complete", LEFT: "complete"}


@NEEDS_CHROMIUM
def test_the_apps_files_are_its_owners_only_and_a_refused_upload_is_not_kept(site):
    site.wait_for_log("Search is ready")
    with chromium() as browser:
        watched = Watched(browser, site.url).open()
        page = watched.page
        tab(page, "Documents")
        upload(page, "kingfisher-note.md", NOTE, "Added kingfisher-note.md")
        upload(page, "zeros.txt", b"\x00" * 4096, "Could not add zeros.txt")
        upload(page, "broken.docx", b"not a Word document", "Could not add broken.docx")
        watched.close()

    home = site.home
    assert mode(home) == 0o700
    assert mode(home / "uploads") == 0o700
    assert mode(home / "uploads" / "kingfisher-note.md") == 0o600
    assert mode(home / "uploads" / "manifest.json") == 0o600
    assert mode(home / "feedback.sqlite3") == 0o600
    assert mode(home / "index" / "catalog.sqlite3") == 0o600
    kept = [path for path in site.gradio_dir.rglob("*") if path.is_file()]
    assert kept and all(mode(path) == 0o600 for path in kept), [(p, oct(mode(p))) for p in kept]
    names = {path.name for path in kept}
    assert "kingfisher-note.md" in names  # an accepted upload's copy is Gradio's to tidy
    assert not names & {"zeros.txt", "broken.docx"}, names


def test_export_folders_are_removed_when_the_app_is_stopped(site):
    site.wait_for_log("Search is ready")
    exports = list(site.temp.glob("icb-assistant-exports-*"))
    assert len(exports) == 1 and exports[0].is_dir() and mode(exports[0]) == 0o700
    site.stop()  # SIGTERM, as `kill` or a service manager stops it
    assert site.process.returncode is not None
    assert not list(site.temp.glob("icb-assistant-exports-*"))
