"""What the exports hold and who made them: CSV cells a spreadsheet cannot run as formulas
(feedback and FAQ, read back with the csv module, and exactly restored by eval-drafts and the FAQ
question list), Markdown with no live HTML or dangerous links, and an `export` entry in the audit
log for every export from the web app and the command line."""

from __future__ import annotations

import csv
import getpass
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

from assistant.answers import Source
from assistant.audit import AuditLog, audit_path
from assistant.csv_safety import TRIGGERS, neutralise, restore
from assistant.faq import Draft, export_markdown, read_question_file, write_exports
from assistant.feedback import COLUMNS, Feedback, FeedbackStore, feedback_path
from tests.conftest import FakeEmbeddings

FORMULAS = ['=HYPERLINK("http://x","click")', "+1", "-2", "@SUM(A1)", "\t=1", "\r=1"]
HARMLESS = ["-5% change?", "'=typed with a quote", "What is the ICB's budget?"]


def cli(home, *args):
    """`icb-assistant ARGS` (in this process: the test is about what the command writes and says)."""
    from tests.cli_here import run_cli_here

    return run_cli_here(*args, home=home)


def read_csv(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def no_formula_cells(rows: list[dict]) -> None:
    """No cell a spreadsheet would run: none begins with a trigger character, but for numbers we
    wrote as numbers (a reading ease can be below 0)."""
    for row in rows:
        for name, cell in row.items():
            assert not cell.startswith(tuple(TRIGGERS)) or re.fullmatch(r"-\d+(\.\d+)?", cell), (name, cell)


def squeezed(text: str) -> str:
    return " ".join(text.split())


# -- CSV ---------------------------------------------------------------------------------------


def test_neutralise_and_restore_are_exact_inverses():
    for text in FORMULAS + HARMLESS + ["", "'", "''-1", "plain", "a=b"]:
        assert restore(neutralise(text)) == text
    assert [neutralise(text) for text in FORMULAS] == ["'" + text for text in FORMULAS]
    assert neutralise("What is the ICB's budget?") == "What is the ICB's budget?"
    assert neutralise(-12.5) == -12.5  # a number is never a formula


def test_feedback_export_neutralises_formulas(settings, tmp_path):
    store = FeedbackStore(feedback_path(settings))
    for text in FORMULAS:
        store.add(Feedback(rating="down", question=text, answer=text, comment=f"{text} (comment)", user=text,
                           history=[text], backend=text, model=text))
    out = tmp_path / "feedback.csv"
    assert store.export_csv(out) == len(FORMULAS)
    store.close()
    rows = read_csv(out)
    assert [row["question"] for row in rows] == ["'" + text for text in FORMULAS]
    assert [row["answer"] for row in rows] == ["'" + text for text in FORMULAS]
    assert [row["user"] for row in rows] == ["'" + text for text in FORMULAS]
    no_formula_cells(rows)


def test_feedback_round_trips_through_export_and_eval_drafts(settings, tmp_path):
    questions = FORMULAS + HARMLESS
    store = FeedbackStore(feedback_path(settings))
    for text in questions:
        store.add(Feedback(rating="down", question=text, answer=f"-{text}", comment=f"= {text}", history=["-1 earlier?"]))
    store.close()
    exported = tmp_path / "feedback.csv"
    result = cli(settings.home, "feedback-export", "--out", str(exported))
    assert result.returncode == 0, result.stderr
    no_formula_cells(read_csv(exported))

    gold = tmp_path / "gold.jsonl"
    gold.write_text("")
    drafts = tmp_path / "drafts.jsonl"
    result = cli(settings.home, "eval-drafts", str(exported), "--out", str(drafts), "--gold", str(gold))
    assert result.returncode == 0, result.stderr
    items = [json.loads(line) for line in drafts.read_text(encoding="utf-8").splitlines()]
    expected = list(dict.fromkeys(squeezed(text) for text in questions))  # eval-drafts squeezes spaces
    assert [item["question"] for item in items] == expected
    assert "-5% change?" in [item["question"] for item in items]
    for item in items:
        assert item["history"] == ["-1 earlier?"]
        assert item["note"].startswith("= ")
        assert item["feedback"]["answer"].startswith("-")


def faq_drafts(questions: list[str]) -> list[Draft]:
    cited = Source(n=1, doc="plan.txt", title="-The plan", section="", page=None, text="Text.", start=0, end=5)
    return [Draft(question=text, answer=f"{text} answer [1].", status="answered", citations=[cited], approved=True)
            for text in questions]


def test_faq_csv_export_neutralises_formulas_and_reads_back_as_questions(tmp_path):
    paths = write_exports(faq_drafts(FORMULAS + HARMLESS), tmp_path / "out")
    csv_path = next(path for path in paths if path.suffix == ".csv")
    rows = read_csv(csv_path)
    assert [row["question"] for row in rows][: len(FORMULAS)] == ["'" + text for text in FORMULAS]
    assert [row["answer"] for row in rows][: len(FORMULAS)] == ["'" + f"{text} answer [1]." for text in FORMULAS]
    no_formula_cells(rows)
    # the export uploaded again as a question list gives the questions back as they were asked
    expected = list(dict.fromkeys(squeezed(text) for text in FORMULAS + HARMLESS))
    assert read_question_file(csv_path) == expected


def test_evaluation_results_csv_neutralises_formulas(tmp_path):
    from eval.report import write_csv

    rows = [{"id": f"q-{n}", "type": "fact", "question": text, "answer": text, "history": [text], "rr": 0.5,
             "reference": {"answer": text}} for n, text in enumerate(FORMULAS)]
    write_csv(tmp_path / "results.csv", rows, {"q-0": "-fixed"})
    table = read_csv(tmp_path / "results.csv")
    assert [row["question"] for row in table] == ["'" + text for text in FORMULAS]
    assert [row["ref_answer"] for row in table] == ["'" + text for text in FORMULAS]
    assert table[0]["rr"] == "0.5000"
    no_formula_cells(table)


# -- Markdown ----------------------------------------------------------------------------------

ATTACKS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[z](javascript:alert(1))",
    "![p](data:text/html;base64,PHNjcmlwdD4=)",
    "[v](vbscript:msgbox(1))",
    "<javascript:alert(3)>",
    "[ref][r]\n\n[r]: javascript:alert(4)",
    "[1]: javascript:alert(5)",
]


class Tags(HTMLParser):
    """Every tag and attribute of rendered HTML."""

    def __init__(self, text: str):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, {name: value or "" for name, value in attrs}))


def assert_inert(html_text: str) -> None:
    for tag, attributes in Tags(html_text).found:
        assert tag not in ("script", "img", "iframe", "object", "embed"), (tag, attributes)
        for name, value in attributes.items():
            assert not name.startswith("on"), (tag, attributes)
            target = "".join(value.split()).lower()
            assert not target.startswith(("javascript:", "data:", "vbscript:")), (tag, attributes)


def attack_drafts() -> list[Draft]:
    cited = Source(n=1, doc="plan.txt", title='<b onmouseover="alert(6)">The plan</b>', section="[s](javascript:x)",
                   page=3, text="Text.", start=0, end=5)
    drafts = [Draft(question=attack, answer=f"{attack} The plan says so [1].", status="answered", citations=[cited])
              for attack in ATTACKS]
    drafts.append(Draft(question="What is A&E?", answer="Urgent care comes first [1]. 5 > 4.", status="answered",
                        citations=[cited]))
    return drafts


def test_markdown_export_has_no_live_html_or_dangerous_links():
    from markdown_it import MarkdownIt

    text = export_markdown(attack_drafts(), title='Public FAQ <img src=x onerror="alert(7)">')
    assert "<script" not in text and "<img" not in text and "<b " not in text and "<javascript:" not in text
    assert "](javascript:" not in text and "]: javascript:" not in text
    # ordinary text and citations read as written
    assert "## What is A&E?" in text and "Urgent care comes first [1]. 5 > 4." in text
    assert "The plan says so [1]." in text and "alert(1)" in text

    # CommonMark passes raw HTML through; markdown-it refuses javascript: targets itself, hence the
    # checks of the text above for renderers that do not
    rendered = MarkdownIt("commonmark").render(text)
    assert_inert(rendered)
    assert "<script" not in rendered and "What is A&amp;E?" in rendered and "[1]" in rendered


def test_an_answer_cannot_add_a_heading_to_the_markdown_export():
    """A line of an answer opening with "#", or "---" / "===" under a line of text, once made a
    heading of its own: a false question in the published page."""
    from markdown_it import MarkdownIt

    answer = ("The centres open in 2026 [1].\n# Are the centres closing?\nYes, all of them.\n---\n"
              "  ## And the hospitals?\nThem too.\n===\nThe list:\n- Blackpool [1]\n- Preston [1]\n\n"
              "| Document | Says |\n|---|---|\n| The plan | 2026 [1] |")
    drafts = [Draft(question="When do the centres open?", answer=answer, status="answered")]
    rendered = MarkdownIt("commonmark").enable("table").render(export_markdown(drafts, title="FAQ"))
    assert rendered.count("<h1>") == 1 and rendered.count("<h2>") == 1 and "<h3>" not in rendered  # title, question
    assert "# Are the centres closing?" in rendered and "## And the hospitals?" in rendered
    assert rendered.count("<li>") == 2 and "<table>" in rendered  # lists and tables still render


# -- the audit log -----------------------------------------------------------------------------


def handler(demo, name: str):
    return next(block.fn for block in demo.fns.values() if getattr(block.fn, "__name__", "") == name)


def test_web_exports_are_in_the_audit_log(settings):
    from assistant import ui
    from assistant.engine import Assistant

    assistant = Assistant(settings, backend="extractive", embeddings=FakeEmbeddings())
    try:
        demo = ui.build_app(assistant, settings)
        request = SimpleNamespace(username="alice", client=SimpleNamespace(host="10.1.2.3"))
        demo.services.feedback.add(Feedback(rating="up", question="Q?"))
        demo.services.feedback.add(Feedback(rating="down", question="R?"))
        files, note = handler(demo, "make_files")("All drafted answers", "FAQ", faq_drafts(["A?", "B?", "C?"]), None, None,
                                                  request)
        assert "3 answers exported" in note and "not saved" not in note
        unsaved = faq_drafts(["A?", "B?"])  # an edit typed into draft 2 and not saved: exported as last saved, and said
        files, note = handler(demo, "make_files")("All drafted answers", "FAQ", unsaved, {"index": 1}, "Typed, not saved.",
                                                  request)
        assert "2 answers exported" in note and "Draft 2 has an edit you have not saved" in note
        download, count = handler(demo, "make_csv")(request)
        assert "2 ratings exported" in count
        demo.services.feedback.close()
    finally:
        assistant.close()
    entries = [e for e in AuditLog(audit_path(settings)).entries() if e["event"] == "export"]
    assert [(e["user"], e["address"], e["what"], e["rows"]) for e in entries] == [
        ("alice", "10.1.2.3", "faq", 3), ("alice", "10.1.2.3", "faq", 2), ("alice", "10.1.2.3", "feedback", 2)]


def test_with_sign_in_a_user_sees_and_exports_only_their_own_ratings(home, monkeypatch):
    """A rating carries its question, answer and sources, which may quote the rater's unpublished
    upload: another user must not read it in the ratings table or the export; an administrator may."""
    from assistant import auth, ui
    from assistant.config import load_settings
    from assistant.engine import Assistant

    hashed = auth.hash_password("long enough password", n=2**10)
    monkeypatch.setenv("ICB_ASSISTANT_UI_USERS", f"alice:{hashed},bob:{hashed},root:{hashed}:admin")
    settings = load_settings()
    assistant = Assistant(settings, backend="extractive", embeddings=FakeEmbeddings())
    try:
        demo = ui.build_app(assistant, settings, sign_in=True)
        store = demo.services.feedback
        store.add(Feedback(rating="up", question="What is the kingfisher budget?", answer="One pound [1].", user="alice"))
        store.add(Feedback(rating="down", question="Where are the ferries?", user="bob"))
        as_user = {name: SimpleNamespace(username=name, client=SimpleNamespace(host="127.0.0.1"))
                   for name in ("alice", "bob", "root")}
        exported = {}
        for name, request in as_user.items():
            download, note = handler(demo, "make_csv")(request)
            exported[name] = [row["question"] for row in read_csv(Path(download["value"]))]
        assert exported == {"alice": ["What is the kingfisher budget?"], "bob": ["Where are the ferries?"],
                            "root": ["What is the kingfisher budget?", "Where are the ferries?"]}
        loads = [block.fn for block in demo.fns.values() if getattr(block.fn, "__name__", "") == "on_load"]
        tables = {}
        for name, request in as_user.items():
            shown = [output for fn in loads for output in fn(request) if isinstance(output, list)]
            tables[name] = {row[2] for rows in shown for row in rows if len(row) == 5 and row[1] in ("Helpful", "Not helpful")}
        assert tables == {"alice": {"What is the kingfisher budget?"}, "bob": {"Where are the ferries?"},
                          "root": {"What is the kingfisher budget?", "Where are the ferries?"}}
        store.close()
    finally:
        assistant.close()


def test_feedback_export_command_is_in_the_audit_log(settings, tmp_path):
    store = FeedbackStore(feedback_path(settings))
    store.add(Feedback(rating="down", question="Q?"))
    store.close()
    result = cli(settings.home, "feedback-export", "--out", str(tmp_path / "fb.csv"))
    assert result.returncode == 0, result.stderr
    entries = [json.loads(line) for line in (settings.home / "audit.log").read_text().splitlines()]
    assert [(e["event"], e["user"], e["address"], e["what"], e["rows"]) for e in entries] == [
        ("export", getpass.getuser(), "console", "feedback", 1)]
    assert tuple(read_csv(tmp_path / "fb.csv")[0]) == COLUMNS
