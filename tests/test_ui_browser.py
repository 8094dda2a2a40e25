"""The web app in a real browser: Debian's Chromium driven by Playwright, against `icb-assistant ui`.

The app runs as a subprocess (extractive answers, real embeddings, its own home folder). Every
page checks that nothing is fetched from any host but 127.0.0.1, and that no dialog (alert)
ever opens. Each test leaves a screenshot of its tab in screenshots/.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import subprocess
import sys

import pytest

from assistant.local_model import free_port
from tests.browser import BOT, CHROMIUM, Watched, ask, bot_messages, chromium, shot, tab
from tests.servers import App, clean_environment, small_corpus

# a small corpus keeps indexing with the real embedding model quick
SMALL_CORPUS = ["lsc-icb-commissioning-intentions-2025-26.txt", "lsc-2030-roadmap-programme-timelines-2025.txt"]
EVIL_DOC = """# Heron sanctuary plan <script>alert("doc")</script>

The Morecambe Bay heron sanctuary will open in spring 2027 <img src=x onerror=alert(1)> beside the estuary path.
Volunteers from the heron sanctuary will run guided walks every Saturday.
"""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.is_file(), reason="Debian's Chromium is not installed (/usr/bin/chromium): apt-get install chromium"),
]


# -- the app -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The app with an index already built (so its start-up time is the UI's own)."""
    root = tmp_path_factory.mktemp("ui")
    corpus = small_corpus(root / "corpus", SMALL_CORPUS)
    home = root / "home"
    environment = clean_environment(ICB_ASSISTANT_HOME=str(home), ICB_ASSISTANT_CORPUS_DIR=str(corpus))
    subprocess.run([sys.executable, "-m", "assistant.cli", "index"], env=environment, check=True,
                   capture_output=True, timeout=900)
    running = App(home, corpus)
    print(f"\nUI ready {running.ready_s:.2f} s after `icb-assistant ui` started (index present)")
    warm = running.wait_for_log("Search is ready")
    print(f"search warmed up {warm:.2f} s after start")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser, app):
    watched = Watched(browser, app.url).open()
    yield watched
    try:
        watched.check_clean()
    finally:
        watched.close()


def test_ask_follow_up_sources_copy_and_feedback(page, app):
    p = page.page
    shot(p, "ask-empty")
    assert p.locator("#icb-chat").get_by_text("What is the ICB's financial position?").count() == 1  # examples on an empty chat

    first_text = ask(p, "What are the urgent and emergency care priorities for 2025/26?", 1)
    print(f"\nSend → first answer text in the browser: {first_text:.2f} s (extractive)")
    answer = bot_messages(p).nth(0).inner_text()
    assert re.search(r"\[\d+\]", answer) and "Sources" in answer

    # the source: title, section and page, expandable to the passage with marked words
    source = p.locator("#icb-sources details.icb-source").first
    assert "Commissioning Intentions" in source.locator("summary").inner_text()
    source.locator("summary").click()
    assert source.locator(".icb-passage").is_visible()
    assert source.locator(".icb-passage mark").count() > 0

    # a follow-up uses the conversation
    follow_up = ask(p, "And what about mental health?", 2)
    print(f"Send → first answer text, second question: {follow_up:.2f} s (extractive)")
    second = bot_messages(p).nth(1).inner_text()
    assert "Understood as" in second
    p.locator("#icb-sources details.icb-source summary").first.click()
    shot(p, "ask-answered")

    # thumbs up on the follow-up, with a comment; stored with its history
    p.locator("#icb-chat button[aria-label='Like']").last.click()
    p.wait_for_selector("#icb-feedback", state="visible")
    p.locator("#icb-comment textarea").fill("Useful, but name the services")
    p.locator("#icb-save-comment").click()
    p.get_by_text("Comment saved").wait_for()
    db = sqlite3.connect(app.home / "feedback.sqlite3")
    rows = db.execute("SELECT rating, question, history, comment, status, citations FROM feedback").fetchall()
    db.close()
    assert len(rows) == 1
    rating, question, history, comment, status, citations = rows[0]
    assert (rating, question, comment) == ("up", "And what about mental health?", "Useful, but name the services")
    assert "urgent and emergency care" in history and status in ("answered", "unanswerable")
    shot(p, "ask-feedback")

    # new conversation clears it all
    p.locator("#icb-new").click()
    p.wait_for_function(f"document.querySelectorAll(\"{BOT}\").length === 0")
    assert "Sources for the answer appear here" in p.locator("#icb-sources").inner_text()


def test_unanswerable_question_is_shown_differently(page):
    p = page.page
    ask(p, "What is the recipe for Cumberland sausage?", 1)
    text = bot_messages(p).nth(0).inner_text()
    assert "Not covered by the documents" in text
    assert "Closest passages" in p.locator("#icb-sources").inner_text()
    shot(p, "ask-unanswerable")


def test_a_comparison_is_answered_as_a_table_with_a_cited_row_for_each_document(page):
    p = page.page
    ask(p, "Is the timing of intermediate care the same in the commissioning intentions and the roadmap?", 1)
    bubble = bot_messages(p).nth(0)
    table = bubble.locator("table")
    table.wait_for()
    assert table.locator("th").first.inner_text().strip() == "Document"
    rows = table.locator("tbody tr")
    assert rows.count() == 2
    labels = [rows.nth(i).locator("td").nth(0).inner_text() for i in range(2)]
    assert "Commissioning Intentions" in labels[0] and "Roadmap" in labels[1]
    assert all(re.search(r"\[\d+\]", rows.nth(i).locator("td").nth(1).inner_text()) for i in range(2))  # each row cited
    assert "Sources cited" in p.locator("#icb-sources").inner_text()
    shot(p, "ask-comparison-table")


def test_filter_by_document(page):
    p = page.page
    p.locator("#icb-filters").get_by_text("Limit the search").click()
    chooser = p.locator("#icb-doc-filter input")
    chooser.click()
    chooser.fill("LSC2030")
    p.keyboard.press("Enter")
    p.keyboard.press("Escape")
    ask(p, "What happens to intermediate care in 2027/28?", 1)
    titles = p.locator("#icb-sources .icb-title").all_inner_texts()
    assert titles and all(title.startswith("LSC2030 Roadmap") for title in titles), titles
    shot(p, "ask-filtered")


# -- FAQ -----------------------------------------------------------------------------------------


def test_faq_drafting_and_docx_download(page, tmp_path):
    from docx import Document

    p = page.page
    tab(p, "FAQ drafting")
    questions = ["What are the urgent and emergency care priorities?", "What will happen to community services?"]
    p.locator("#icb-faq-questions textarea").fill("\n".join(questions))
    p.locator("#icb-faq-draft").click()
    p.get_by_text("Drafted 2 answers").wait_for(timeout=120_000)
    table = p.locator("#icb-faq-table").inner_text()
    assert questions[0] in table and questions[1] in table and "Reading ease" in table

    # review the first: edit, approve
    p.locator("#icb-faq-table").get_by_test_id("cell-0-1").click()
    editor = p.locator("#icb-faq-editor textarea")
    p.wait_for_function("document.querySelector('#icb-faq-editor textarea').value.includes('[1]')")
    editor.fill(editor.input_value() + "\n\nEdited by the engagement team.")
    p.locator("#icb-faq-approve").click()
    p.get_by_text("is approved").wait_for()
    assert "Approved" in p.locator("#icb-faq-table").inner_text()
    shot(p, "faq")

    # an edit typed into the second draft and not saved is kept when the first is opened again
    p.locator("#icb-faq-table").get_by_test_id("cell-1-1").click()
    p.wait_for_function("!document.querySelector('#icb-faq-editor textarea').value.includes('Edited by the engagement')")
    editor.fill(editor.input_value() + "\n\nTyped and not saved.")
    p.locator("#icb-faq-table").get_by_test_id("cell-0-1").click()
    p.get_by_text("Your edit to draft 2 was not lost").wait_for()
    rows = p.locator("#icb-faq-table").inner_text()
    assert "Drafted, edited" in rows and "Yes" in rows.split("Approved", 1)[1]  # draft 1 still approved
    p.locator("#icb-faq-table").get_by_test_id("cell-1-1").click()
    p.wait_for_function("document.querySelector('#icb-faq-editor textarea').value.includes('Typed and not saved.')")

    p.locator("#icb-faq-scope").get_by_text("All drafted answers").click()
    p.locator("#icb-faq-export").click()
    link = p.locator("#icb-faq-files a[download$='.docx']")
    link.wait_for()
    with p.expect_download() as info:
        link.click()
    target = tmp_path / "faq.docx"
    info.value.save_as(target)
    document = Document(str(target))
    headings = [para.text for para in document.paragraphs if para.style.name == "Heading 1"]
    assert headings == questions
    texts = [para.text for para in document.paragraphs]
    assert "Edited by the engagement team." in texts and "Typed and not saved." in texts
    assert any(para.style.name == "List Number" for para in document.paragraphs)
    shot(p, "faq-exported")

    # "Clear all drafts" asks first; "Keep them" keeps them
    p.locator("#icb-faq-clear").click()
    p.get_by_text("Clear all 2 drafts, 1 of them approved?").wait_for()
    shot(p, "faq-clear-asks")
    p.locator("#icb-faq-clear-no").click()
    p.locator("#icb-faq-clear-ask").wait_for(state="hidden")
    assert questions[0] in p.locator("#icb-faq-table").inner_text()
    p.locator("#icb-faq-clear").click()
    p.locator("#icb-faq-clear-yes").click()
    p.wait_for_function(f"!document.querySelector('#icb-faq-table').innerText.includes({questions[0]!r})")
    assert p.locator("#icb-faq-editor textarea").input_value() == ""


# -- documents -----------------------------------------------------------------------------------


def test_upload_a_document_then_ask_it_and_nothing_runs(page, app, tmp_path):
    p = page.page
    tab(p, "Documents")
    before = p.locator("#icb-docs-table").inner_text()
    assert "Commissioning Intentions" in before

    evil = tmp_path / "heron plan.md"
    evil.write_text(EVIL_DOC, encoding="utf-8")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"this is not a PDF at all")
    p.locator("#icb-upload-files input[type=file]").set_input_files([str(evil), str(broken)])
    p.locator("#icb-upload-add").click()
    p.locator("#icb-upload-result").get_by_text("Added heron-plan.md").wait_for(timeout=120_000)
    result = p.locator("#icb-upload-result").inner_text()
    assert "Added heron-plan.md" in result
    assert "Could not add broken.pdf" in result and "PDF" in result and "Nothing else was changed" in result
    assert (app.home / "uploads" / "heron-plan.md").is_file()
    assert not (app.home / "uploads" / "broken.pdf").exists()
    table = p.locator("#icb-docs-table").inner_text()
    assert "Commissioning Intentions" in table and "heron" in table.lower()
    assert '<script>alert("doc")</script>' in table or "Heron sanctuary plan" in table
    shot(p, "documents")

    tab(p, "Ask")
    ask(p, "When will the heron sanctuary open?", 1)
    answer = bot_messages(p).nth(0).inner_text()
    assert "2027" in answer
    source = p.locator("#icb-sources details.icb-source").first
    source.locator("summary").click()
    passage = source.locator(".icb-passage").inner_text()
    assert "<img src=x onerror=alert(1)>" in passage  # shown as text, never run
    assert p.locator("#icb-sources img, #icb-chat img[src='x'], script:text('doc')").count() == 0
    shot(p, "ask-uploaded")


# -- the LLM down, and sign-in -----------------------------------------------------------------------


def test_llm_fallback_notice_and_sign_in(browser, tmp_path):
    from assistant.auth import hash_password

    corpus = small_corpus(tmp_path / "corpus", ["lsc-2030-roadmap-programme-timelines-2025.txt"])
    closed = free_port()
    app = App(tmp_path / "home", corpus, backend="openai", env={
        "ICB_ASSISTANT_OPENAI_BASE_URL": f"http://127.0.0.1:{closed}/v1",
        "ICB_ASSISTANT_OPENAI_API_KEY": "sk-test-not-a-real-key",
        "ICB_ASSISTANT_LLM_TIMEOUT_S": "5",
        "ICB_ASSISTANT_UI_USERS": "alice:" + hash_password("correct-horse-battery"),
    })
    watched = Watched(browser, app.url)
    try:
        p = watched.page
        p.goto(app.url)
        p.get_by_label("username").fill("alice")
        p.get_by_label("password").fill("wrong-password")
        p.get_by_role("button", name="Login").click()
        p.get_by_text("Incorrect").wait_for()
        p.get_by_label("username").fill("alice")  # the form is cleared after a failed try
        p.get_by_label("password").fill("correct-horse-battery")
        p.get_by_role("button", name="Login").click()
        p.wait_for_selector("#icb-question textarea")
        p.get_by_text("Signed in as").wait_for()
        ask(p, "What happens to Integrated Neighbourhood Teams in 2027/28?", 1)
        text = bot_messages(p).nth(0).inner_text()
        assert "language model is unavailable" in text and re.search(r"\[\d+\]", text)
        assert "Traceback" not in text and "sk-test" not in text
        shot(p, "ask-llm-down")
        tab(p, "Documents")
        assert p.locator("#icb-upload-add").is_visible()  # signed in: may upload
        watched.check_clean()
    finally:
        watched.close()
        app.stop()
    log = app.log_path.read_text()
    assert "correct-horse-battery" not in log and "sk-test-not-a-real-key" not in log


# -- quotes while the model writes ---------------------------------------------------------------


@contextlib.contextmanager
def app_with_model(browser, tmp_path, llm):
    """The app over the roadmap alone, answering with the fake model ``llm``; yields its Watched page."""
    corpus = small_corpus(tmp_path / "corpus", ["lsc-2030-roadmap-programme-timelines-2025.txt"])
    app = App(tmp_path / "home", corpus, backend="openai", env={
        "ICB_ASSISTANT_OPENAI_BASE_URL": llm.base_url, "ICB_ASSISTANT_OPENAI_API_KEY": "sk-test-not-a-real-key",
        "ICB_ASSISTANT_LLM_TIMEOUT_S": "60",
    })
    watched = Watched(browser, app.url)
    try:
        app.wait_for_log("Search is ready")
        yield watched
    finally:
        watched.close()
        app.stop()


def test_the_quotes_show_while_the_model_is_slow_and_its_answer_replaces_them(browser, tmp_path):
    import threading

    from assistant.answers import QUOTED_HEADING
    from tests.fake_llm import FakeLLM

    first_token = threading.Event()  # the model's first token waits for the test: a slow model
    reply = "The fake model says the teams mature in 2027/28 [1]."
    with FakeLLM(reply=reply, first_token=first_token) as llm, app_with_model(browser, tmp_path, llm) as watched:
        try:
            p = watched.open().page
            p.locator("#icb-question textarea").fill("What happens to Integrated Neighbourhood Teams in 2027/28?")
            p.locator("#icb-send").click()
            bubble = bot_messages(p).nth(0)
            bubble.get_by_text(QUOTED_HEADING).wait_for()
            quoting = bubble.inner_text()
            assert "The fake model says" not in quoting and re.search(r"\[\d+\]", quoting)  # cited quotes
            assert bubble.locator("blockquote").count() == 1  # as a block quote
            assert "Sources of the quotes" in p.locator("#icb-sources").inner_text()
            shot(p, "ask-quotes-while-the-model-writes")

            first_token.set()
            bubble.get_by_text("The fake model says").first.wait_for()
            p.locator("#icb-sources").get_by_text("Sources cited").wait_for()
            answer = bubble.inner_text()
            assert QUOTED_HEADING not in answer and bubble.locator("blockquote").count() == 0
            assert "The fake model says the teams mature in 2027/28 [1]." in answer and "Sources" in answer
            shot(p, "ask-model-answer-replaced-the-quotes")
            watched.check_clean()
        finally:
            first_token.set()


def test_a_made_up_figure_is_taken_back_and_the_documents_quotes_shown_with_the_reason(browser, tmp_path):
    from tests.fake_llm import FakeLLM

    reply = "Integrated Neighbourhood Teams will get 4,321 new nurses in 2027/28 [1]."  # in no passage
    with FakeLLM(reply=reply) as llm, app_with_model(browser, tmp_path, llm) as watched:
        p = watched.open().page
        ask(p, "What happens to Integrated Neighbourhood Teams in 2027/28?", 1)
        bubble = bot_messages(p).nth(0)
        bubble.get_by_text("in none of the passages it read").wait_for()
        shown = bubble.inner_text()
        assert "4,321" in shown.split("in none of the passages")[0]  # named in the notice ...
        assert "new nurses" not in shown  # ... and the model's answer is not shown
        assert re.search(r"\[\d+\]", shown) and "Sources" in shown  # the documents' quotes, cited, instead
        shot(p, "ask-made-up-figure-withheld")
        watched.check_clean()


# -- sentence support ----------------------------------------------------------------------------


def test_an_unsupported_sentence_is_marked_its_draft_needs_confirming_and_simplify_rewrites_it(browser, tmp_path):
    from tests.fake_llm import FakeLLM

    # the question gives £987 million, so the answer may repeat it (a figure in nothing the model read
    # or was asked is made up, and the answer is not shown at all: tests/test_answering.py); [1] lacks it.
    # It must reach the model: "… and do they cost £987 million?" is refused before it (P 0.07 over the
    # roadmap alone, under the refuse threshold since stop 31's re-fit), as a cost no document gives should be
    question = "What is planned for Integrated Neighbourhood Teams in 2027/28, within the £987 million programme?"
    reply = "Integrated Neighbourhood Teams mature in 2027/28 [1]. The programme costs £987 million [1]."
    simpler = "The teams grow in 2027/28 [1]. It costs £987 million [1]."  # what the model's Simplify returns
    with FakeLLM(reply=reply, rewrite=simpler) as llm, app_with_model(browser, tmp_path, llm) as watched:
        p = watched.open().page
        ask(p, question, 1)
        bubble = bot_messages(p).nth(0)
        bubble.locator(".icb-support-list").wait_for()
        mark = bubble.locator(".icb-support-mark", has_text="not supported")
        assert mark.count() >= 1
        assert "£987 million is not in [1]." in (mark.last.get_attribute("title") or "")  # the reason on hover
        listed = bubble.locator(".icb-support-list").inner_text()
        assert "to check against the sources" in listed and "£987 million is not in [1]." in listed  # and in words
        mark.last.hover()
        shot(p, "ask-unsupported-sentence-marked")

        tab(p, "FAQ drafting")
        p.locator("#icb-faq-questions textarea").fill(question)
        p.locator("#icb-faq-draft").click()
        p.get_by_text("Drafted 1 answer").wait_for(timeout=120_000)
        p.locator("#icb-faq-table").get_by_test_id("cell-0-1").click()
        p.wait_for_function("document.querySelector('#icb-faq-editor textarea').value.includes('£987')")
        assert "to check" in p.locator("#icb-faq-table").inner_text()
        assert "£987 million is not in [1]." in p.locator("#icb-faq-reading").inner_text()
        p.locator("#icb-faq-approve").click()
        p.get_by_text("Not approved:").wait_for()
        assert "Yes" not in p.locator("#icb-faq-table").inner_text().split("Approved", 1)[1]
        shot(p, "faq-unsupported-needs-confirming")
        p.locator("#icb-faq-confirm input").check()
        p.locator("#icb-faq-approve").click()
        p.get_by_text("confirmed by you").first.wait_for()
        assert "Yes" in p.locator("#icb-faq-table").inner_text()
        shot(p, "faq-unsupported-confirmed")

        p.locator("#icb-faq-simplify").click()  # rewritten more simply: what was approved no longer stands
        p.get_by_text("Draft 1 simplified: reading ease").wait_for()
        assert p.locator("#icb-faq-editor textarea").input_value() == simpler
        assert "Yes" not in p.locator("#icb-faq-table").inner_text().split("Approved", 1)[1]
        assert "£987 million is not in [1]." in p.locator("#icb-faq-reading").inner_text()  # checked again
        shot(p, "faq-simplified")
        watched.check_clean()
