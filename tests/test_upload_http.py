"""Uploads through the real HTTP interface of `icb-assistant ui`: Chromium on the Documents tab,
and raw multipart posts to Gradio's upload route.

A file name is never a path: a name such as ``../../escape-note.md`` is saved and indexed under a
plain name inside <home>/uploads, and nothing lands beside or above Gradio's upload folder.
Uploading the same file twice keeps one copy; a file named like a document from elsewhere
(the corpus) never replaces it.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.browser import NEEDS_CHROMIUM, Watched, ask, bot_messages, chromium, shot, tab
from tests.conftest import REPO
from tests.servers import App, build_index, small_corpus

pytestmark = pytest.mark.slow

DOCUMENT = "lsc-2030-roadmap-programme-timelines-2025.txt"
NOTE = (
    b"# Kingfisher ferry pilot\n\n"
    b"The kingfisher ferry will carry patients across the Walney channel to Furness General Hospital from May 2026.\n"
    b"Tickets for the kingfisher ferry are free for anyone with an NHS hospital appointment.\n"
)
IMPOSTOR = b"# A different roadmap\n\nEvery programme in this roadmap is cancelled.\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The app with the one-document corpus indexed; Gradio's uploads in a folder of this test's own."""
    root = tmp_path_factory.mktemp("upload-http")
    corpus = small_corpus(root / "corpus", [DOCUMENT])
    home = root / "home"
    build_index(home, corpus)
    gradio_dir = root / "tmp" / "gradio"
    app = App(home, corpus, env={"GRADIO_TEMP_DIR": str(gradio_dir)})
    app.wait_for_log("Search is ready")
    app.root, app.corpus, app.gradio_dir = root, corpus, gradio_dir
    yield app
    app.stop()


def catalogue(home: Path) -> list[tuple]:
    """(doc, path, content_hash, chunks) of every document the app's catalogue holds."""
    db = sqlite3.connect(home / "index" / "catalog.sqlite3")
    try:
        return db.execute("SELECT doc, path, content_hash, chunks FROM documents ORDER BY doc").fetchall()
    finally:
        db.close()


def uploaded(home: Path) -> dict[str, bytes]:
    """The uploaded files (not the manifest, nor its hidden lock file)."""
    folder = home / "uploads"
    return ({f.name: f.read_bytes() for f in folder.iterdir() if f.name != "manifest.json" and not f.name.startswith(".")}
            if folder.is_dir() else {})


def strays(site, word: str) -> list[Path]:
    """Files named with ``word`` anywhere they should not be: outside Gradio's upload folder and
    <home>/uploads under the test's folder, and in the folders above them, /tmp and the repository."""
    allowed = (site.gradio_dir.resolve(), (site.home / "uploads").resolve())
    found = [path for path in site.root.rglob(f"*{word}*")
             if not any(path.resolve().is_relative_to(folder) for folder in allowed)]
    above = {site.gradio_dir.parent, site.root, site.root.parent, site.home, Path(tempfile.gettempdir()), REPO,
             REPO.parent, Path("/")}
    for folder in above:
        found += [path for path in folder.glob(f"*{word}*") if path not in found]
    return found


def table_shows(page, text: str) -> None:
    page.wait_for_function("text => document.querySelector('#icb-docs-table').innerText.includes(text)", arg=text)


def table_rows(page) -> int:
    """Rows in the documents table (its cells are named cell-<row>-<column>)."""
    return page.evaluate("""() => [...document.querySelectorAll('#icb-docs-table [data-testid]')]
        .filter(cell => /^cell-\\d+-0$/.test(cell.dataset.testid)).length""")


# what every upload report says (see add_files and upload_files in assistant/ui/documents.py)
REPORTS = ["Added ", "Could not add", "already in the index", "Nothing was added", "Choose one or more", "Only signed-in"]
# the upload report's own text, or null while the app is still working on it (its progress shows in the box)
REPORT_JS = """() => {
    const box = document.querySelector('#icb-upload-result');
    const tracker = box.querySelector('[data-testid="status-tracker"]');
    if (tracker && tracker.innerText.trim()) return null;
    return (box.querySelector('[data-testid="markdown"]') || box).innerText;
}"""


def upload(page, name: str, content: bytes, expect: str) -> str:
    """Add one file on the Documents tab; its upload report, which must say ``expect``."""
    before = page.evaluate(REPORT_JS)
    page.locator("#icb-upload-files input[type=file]").set_input_files(
        [{"name": name, "mimeType": "text/plain", "buffer": content}]
    )
    page.locator("#icb-upload-add").click()
    page.wait_for_function(
        f"""([before, reports]) => {{
            const text = ({REPORT_JS})();
            return text !== null && text !== before && reports.some(report => text.includes(report));
        }}""",
        arg=[before, REPORTS],
        timeout=180_000,
    )
    report = page.evaluate(REPORT_JS)
    assert expect in report, report
    return report


@NEEDS_CHROMIUM
def test_uploads_in_the_browser_stay_inside_and_never_duplicate_or_replace(site):
    home = site.home
    corpus_bytes = (site.corpus / DOCUMENT).read_bytes()
    before = {row[0]: row for row in catalogue(home)}
    assert list(before) == [DOCUMENT]

    with chromium() as browser:
        watched = Watched(browser, site.url).open()
        p = watched.page
        tab(p, "Documents")
        table_shows(p, DOCUMENT)
        assert table_rows(p) == 1

        # (a) a name with folders in it: saved and indexed under a plain name inside <home>/uploads
        report = upload(p, "../../escape-note.md", NOTE, "Added escape-note.md")
        assert ".." not in report, report
        assert uploaded(home) == {"escape-note.md": NOTE}
        rows = {row[0]: row for row in catalogue(home)}
        assert set(rows) == {DOCUMENT, "escape-note.md"}
        assert Path(rows["escape-note.md"][1]).resolve() == (home / "uploads" / "escape-note.md").resolve()
        assert all(".." not in doc and "/" not in doc and "\\" not in doc for doc in rows)
        assert not strays(site, "escape-note"), strays(site, "escape-note")
        table_shows(p, "escape-note.md")
        assert table_rows(p) == 2

        tab(p, "Ask")
        ask(p, "When does the kingfisher ferry start?", 1)
        answer = bot_messages(p).nth(0).inner_text()
        assert "May 2026" in answer and "Kingfisher ferry pilot" in answer, answer
        assert "Kingfisher ferry pilot" in p.locator("#icb-sources").inner_text()

        # (b) the same file again: one copy, and the app says it is unchanged
        tab(p, "Documents")
        report = upload(p, "../../escape-note.md", NOTE, "already in the index, unchanged")
        assert "escape-note.md" in report and "Added" not in report, report
        assert catalogue(home) == sorted(rows.values())
        assert uploaded(home) == {"escape-note.md": NOTE}
        assert table_rows(p) == 2
        assert p.locator("#icb-docs-table").inner_text().count("escape-note.md") == 1

        # (c) a different file that comes out under the corpus document's name: refused, nothing replaced
        report = upload(p, DOCUMENT.replace("-", " "), IMPOSTOR, f"Could not add {DOCUMENT}")
        assert "already indexed" in report and "Rename the file" in report, report
        assert catalogue(home) == sorted(rows.values())
        assert rows[DOCUMENT] == before[DOCUMENT]
        assert (site.corpus / DOCUMENT).read_bytes() == corpus_bytes
        assert uploaded(home) == {"escape-note.md": NOTE}
        assert DOCUMENT not in (home / "uploads" / "manifest.json").read_text()
        assert table_rows(p) == 2
        assert not strays(site, "escape-note"), strays(site, "escape-note")
        shot(p, "documents-uploads")
        watched.check_clean()
        watched.close()
    assert site.process.poll() is None


def filter_has(page, title: str) -> None:
    """Wait until the Ask tab's "Limit the search" document list offers ``title``."""
    tab(page, "Ask")
    page.locator("#icb-filters").get_by_text("Limit the search").click()
    page.locator("#icb-doc-filter input").click()
    page.get_by_role("option", name=title).wait_for()
    page.keyboard.press("Escape")


@NEEDS_CHROMIUM
def test_a_document_added_since_start_up_is_in_every_pages_search_filter(site):
    """The "Limit the search" list is read when a page loads and after each upload, not once at start-up."""
    with chromium() as browser:
        first = Watched(browser, site.url).open()
        tab(first.page, "Documents")
        upload(first.page, "otter-survey.md", b"# Otter survey 2026\n\nOtters were counted on the Lune.\n",
               "Added otter-survey.md")
        filter_has(first.page, "Otter survey 2026")
        later = Watched(browser, site.url).open()  # a page opened after the upload
        filter_has(later.page, "Otter survey 2026")
        for watched in (first, later):
            watched.check_clean()
            watched.close()


@pytest.mark.parametrize("name", ["../../../raw-escape.txt", "..\\..\\raw-escape-back.txt", "/tmp/raw-escape-abs.txt"])
def test_raw_upload_post_lands_inside_gradios_upload_folder(site, name):
    content = f"raw upload named {name}\n".encode()
    response = httpx.post(f"{site.url}gradio_api/upload", files={"files": (name, content, "text/plain")}, timeout=60)
    assert response.status_code == 200, response.text
    paths = [Path(path) for path in response.json()]
    assert len(paths) == 1
    path = paths[0]
    assert path.resolve().is_relative_to(site.gradio_dir.resolve()), path
    assert ".." not in path.parts and "raw-escape" in path.name and "/" not in path.name and "\\" not in path.name
    deadline = time.monotonic() + 30  # Gradio may move the file into place after answering
    while not path.is_file() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert path.read_bytes() == content
    assert not strays(site, "raw-escape"), strays(site, "raw-escape")


def test_downloads_serve_nothing_outside_the_apps_own_files(site):
    """Gradio's file route, asked for the app's databases, the settings, system files, and the
    same through ``..`` and its encodings: never their contents."""
    # the route itself works: a file uploaded to Gradio comes back
    posted = httpx.post(f"{site.url}gradio_api/upload", files={"files": ("mine.txt", b"my own upload\n", "text/plain")}, timeout=60)
    own = posted.json()[0]
    deadline = time.monotonic() + 30
    while not Path(own).is_file() and time.monotonic() < deadline:
        time.sleep(0.1)
    served = httpx.get(f"{site.url}gradio_api/file={own}", timeout=30)
    assert served.status_code == 200 and served.content == b"my own upload\n"

    (site.home / "config.toml").write_text('openai_api_key = "sk-never-served"\n')
    secrets = {
        "/etc/passwd": b"root:",
        str(site.home / "index" / "catalog.sqlite3"): b"SQLite format",
        str(site.home / "config.toml"): b"sk-never-served",
        str(site.corpus / DOCUMENT): b"LSC2030",
    }
    inside = site.gradio_dir.resolve()
    for target, marker in secrets.items():
        relative = "../" * len(inside.parts) + target.lstrip("/")
        for route in (
            f"gradio_api/file={target}",
            f"file={target}",
            f"gradio_api/file={inside}/{relative}",
            f"gradio_api/file={inside}/{relative.replace('../', '..%2F')}",
            f"gradio_api/file={inside}/{relative.replace('../', '%2e%2e/')}",
        ):
            response = httpx.get(site.url + route, timeout=30)
            assert marker not in response.content, f"{route} served {target} ({response.status_code})"
            assert response.status_code in (400, 403, 404, 405), (route, response.status_code)
    assert site.process.poll() is None
