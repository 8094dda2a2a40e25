"""Provenance and roles in the running app (sign-in on, three users, Chromium): alice's upload is in
her answers, documents list and search filter only, marked as hers, until the administrator
publishes it; then bob has it too. Bob cannot remove it; the administrator can. The audit log
records the upload, the publication and the removal.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.browser import NEEDS_CHROMIUM, Watched, ask, bot_messages, chromium, shot, tab
from tests.servers import App, build_index, small_corpus
from tests.test_upload_http import table_shows, upload

pytestmark = pytest.mark.slow

DOCUMENT = "lsc-2030-roadmap-programme-timelines-2025.txt"
OFFICIAL_TITLE = "LSC2030 Roadmap"
SECRET = b"# Kingfisher budget note\n\nThe kingfisher budget is one pound for the whole ICB this year.\n"
QUESTION = "What is the kingfisher budget?"
PASSWORDS = {"alice": "alice-password", "bob": "bob-password", "admin": "admin-password"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from assistant.auth import hash_password

    root = tmp_path_factory.mktemp("provenance-http")
    corpus = small_corpus(root / "corpus", [DOCUMENT])
    home = root / "home"
    build_index(home, corpus)
    users = ",".join(f"{name}:{hash_password(password)}" + (":admin" if name == "admin" else "")
                     for name, password in PASSWORDS.items())
    app = App(home, corpus, env={"ICB_ASSISTANT_UI_USERS": users})
    app.wait_for_log("Search is ready")
    yield app
    app.stop()


def signed_in(browser, url: str, name: str) -> Watched:
    """A page signed in as ``name``, its documents and filters loaded for that user."""
    watched = Watched(browser, url)
    p = watched.page
    p.goto(url)
    p.get_by_label("username").fill(name)
    p.get_by_label("password").fill(PASSWORDS[name])
    p.get_by_role("button", name="Login").click()
    p.wait_for_selector("#icb-question textarea")
    tab(p, "Documents")
    p.wait_for_selector("#icb-doc-actions", state="visible")  # shown by the page's load event, with the lists
    return watched


def filter_options(page) -> list[str]:
    """The "Limit the search" document choices (the official roadmap is always one)."""
    tab(page, "Ask")
    page.locator("#icb-filters").get_by_text("Limit the search").click()
    page.locator("#icb-doc-filter input").click()
    page.get_by_role("option", name=re.compile(OFFICIAL_TITLE)).first.wait_for()
    texts = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return texts


def choose(page, name: str) -> None:
    """Pick the document named ``name`` in the Documents tab's publish / remove list."""
    page.locator("#icb-doc-target input").click()
    page.get_by_role("option", name=re.compile(re.escape(name))).first.click()


def action_result(page, expect: str) -> str:
    box = page.locator("#icb-doc-action-result")
    box.get_by_text(expect).wait_for()
    return box.inner_text()


@NEEDS_CHROMIUM
def test_an_upload_is_its_uploaders_alone_until_an_admin_publishes_it(site):
    with chromium() as browser:
        # alice uploads a note that copies the official roadmap's title
        alice = signed_in(browser, site.url, "alice")
        p = alice.page
        report = upload(p, "kingfisher-note.md", SECRET, "Added kingfisher-note.md")
        assert "you alone" in report, report
        table_shows(p, "uploaded by alice on")
        assert any("Kingfisher" in option for option in filter_options(p))
        ask(p, QUESTION, 1)
        assert "one pound" in bot_messages(p).nth(0).inner_text()
        sources = p.locator("#icb-sources").inner_text()
        assert "Uploaded by alice on" in sources and "not yet published" in sources, sources
        shot(p, "provenance-uploaded-sources")

        # bob: not in his documents, filter list or answers; nothing of his to remove
        bob = signed_in(browser, site.url, "bob")
        q = bob.page
        table_shows(q, OFFICIAL_TITLE)
        assert "kingfisher-note.md" not in q.locator("#icb-docs-table").inner_text()
        assert not any("Kingfisher" in option for option in filter_options(q))
        ask(q, QUESTION, 1)
        assert "one pound" not in bot_messages(q).nth(0).inner_text()
        assert not q.locator("#icb-doc-publish").is_visible()

        # the administrator sees it, marked as alice's, and publishes it
        admin = signed_in(browser, site.url, "admin")
        a = admin.page
        table_shows(a, "uploaded by alice on")
        choose(a, "kingfisher-note.md")
        a.locator("#icb-doc-publish").click()
        assert "official" in action_result(a, "Published")
        table_shows(a, "published by admin on")
        shot(a, "provenance-published")

        # bob, on a page loaded since: in his documents, filter list and answers now
        bob_again = signed_in(browser, site.url, "bob")
        q2 = bob_again.page
        table_shows(q2, "kingfisher-note.md")
        assert any("Kingfisher" in option for option in filter_options(q2))
        ask(q2, QUESTION, 1)
        assert "one pound" in bot_messages(q2).nth(0).inner_text()
        assert "published by admin" in q2.locator("#icb-sources").inner_text()

        # bob may not remove it (it is not in his list); the administrator removes it
        tab(q2, "Documents")
        q2.locator("#icb-doc-target input").click()
        assert not q2.get_by_role("option", name=re.compile("kingfisher")).count()
        q2.keyboard.press("Escape")
        tab(a, "Documents")
        choose(a, "kingfisher-note.md")
        a.locator("#icb-doc-remove").click()
        action_result(a, "Removed")
        assert not (site.home / "uploads" / "kingfisher-note.md").exists()
        for watched in (alice, bob, admin, bob_again):
            watched.check_clean()
            watched.close()

    events = [json.loads(line) for line in (site.home / "audit.log").read_text().splitlines()]
    done = [(e["event"], e["user"], e.get("file")) for e in events if e["event"] in ("upload", "publish", "remove")]
    assert done == [("upload", "alice", "kingfisher-note.md"), ("publish", "admin", "kingfisher-note.md"),
                    ("remove", "admin", "kingfisher-note.md")]
    assert all(e["address"] == "127.0.0.1" for e in events if e["event"] in ("upload", "publish", "remove"))
    assert site.process.poll() is None
