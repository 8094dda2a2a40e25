"""The evaluation harness end to end: `icb-assistant eval` over a copied corpus (fake embeddings,
extractive backend), the regression gate, feedback → draft gold items, and the LLM judge."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import CORPUS, FakeEmbeddings
from tests.fake_llm import FakeLLM

# five items that the extractive backend answers from two documents, plus a refusal
ITEMS = "ci-002,ci-003,rm-003,rm-010,un-001"
ROADMAP = "lsc-2030-roadmap-programme-timelines-2025.txt"


def _runner():
    from assistant import cli as cli_module

    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(cli_module.app, list(args))
        if result.exception is not None and not isinstance(result.exception, (SystemExit, cli_module.UserError)):
            raise result.exception  # a bug, not a message for the user
        return result

    return run


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    """Run `icb-assistant ARGS` in-process over a copy of the corpus with fake embeddings.
    The tests of this module that leave the corpus alone share it (and so the eval index)."""
    root = tmp_path_factory.mktemp("eval-shared")
    shutil.copytree(CORPUS, root / "corpus")
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("ICB_ASSISTANT_")]:
            patch.delenv(name)
        patch.setenv("ICB_ASSISTANT_HOME", str(root / "home"))
        patch.setenv("ICB_ASSISTANT_CORPUS_DIR", str(root / "corpus"))
        patch.setenv("ICB_ASSISTANT_BACKEND", "extractive")
        patch.setattr("assistant.components.make_embeddings", lambda settings: FakeEmbeddings())
        yield _runner()


@pytest.fixture
def own_cli(home, corpus_copy, monkeypatch):
    """The same over a corpus of the test's own, which it may change."""
    monkeypatch.setenv("ICB_ASSISTANT_CORPUS_DIR", str(corpus_copy))
    monkeypatch.setenv("ICB_ASSISTANT_BACKEND", "extractive")
    monkeypatch.setattr("assistant.components.make_embeddings", lambda settings: FakeEmbeddings())
    return _runner()


def _only_run(out: Path) -> Path:
    runs = sorted(p for p in out.iterdir() if p.is_dir())
    return runs[-1]


def test_run_folder_holds_every_file_and_they_parse(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("ICB_ASSISTANT_OPENAI_API_KEY", "sk-must-not-leak")
    out, baseline = tmp_path / "runs", tmp_path / "baseline.json"
    result = cli("eval", "--ids", ITEMS, "--out", str(out), "--baseline", str(baseline))
    assert result.exit_code == 0, result.output
    assert "NO BASELINE" in result.output and "nothing to compare" in result.output

    folder = _only_run(out)
    assert folder.name.endswith("-extractive")
    names = {"config.json", "results.jsonl", "results.csv", "summary.json", "report.md", "report.html"}
    assert names <= {p.name for p in folder.iterdir()}

    config = json.loads((folder / "config.json").read_text())
    assert config["items"] == ITEMS.split(",")
    assert len(config["gold_set"]["sha256"]) == 64
    assert "sk-must-not-leak" not in (folder / "config.json").read_text()
    assert "openai_api_key" not in config["settings"]

    rows = [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ITEMS.split(",")
    for row in rows:
        for key in ("status", "passed", "latency_s", "answer", "diagnosis", "reference"):
            assert key in row, key
        if row["type"] != "unanswerable":
            assert row["hit_at_k"] in (True, False) and 0 <= row["rr"] <= 1
            assert 0 <= row["answer_recall"] <= 1 and 0 <= row["context_recall"] <= 1
    refusal = next(r for r in rows if r["id"] == "un-001")
    assert refusal["answer_recall"] is None and refusal["passed"] == refusal["refused"]

    with (folder / "results.csv").open(newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [r["id"] for r in table] == ITEMS.split(",")
    for column in ("hit_at_k", "rr", "context_recall", "answer_recall", "fully_correct", "citation_support",
                   "citation_coverage", "latency_s", "passed", "ref_hit_at_k", "ref_answer_recall"):
        assert column in table[0], column

    summary = json.loads((folder / "summary.json").read_text())
    overall = summary["current"]["overall"]
    assert overall["n"] == 5 and overall["n_unanswerable"] == 1
    assert set(summary["current"]["by_type"]) == {r["type"] for r in rows}
    assert summary["reference"]["overall"]["n"] == 5
    assert overall["latency_p50"] > 0

    report = (folder / "report.html").read_text()
    assert report.count("<svg") >= 2  # metric bars and the latency histogram, inline
    assert "<script" not in report and "<link" not in report  # self-contained: nothing fetched
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", report)
    assert "naive reference" in report
    markdown = (folder / "report.md").read_text()
    assert "## By type (system / naive reference)" in markdown and "| overall |" in markdown
    # the items come from both splits (un-001 is held out): dev and test are reported side by side
    assert {r["split"] for r in rows} == {"dev", "test"}
    assert summary["current"]["by_split"]["test"]["overall"]["n"] == 1
    assert "## Dev and test side by side (dev / test)" in markdown and "| overall | 4 / 1 |" in markdown
    assert "Dev and test side by side" in report and "Dev and test side by side" in result.output


def test_gate_fails_when_a_passing_item_fails_and_passes_after_update(own_cli, tmp_path, corpus_copy):
    cli = own_cli
    out, baseline = tmp_path / "runs", tmp_path / "baselines" / "extractive.json"
    args = ["eval", "--ids", ITEMS, "--out", str(out), "--baseline", str(baseline), "--no-reference"]

    first = cli(*args, "--update-baseline")
    assert first.exit_code == 0, first.output
    stored = json.loads(baseline.read_text())
    assert stored["backend"] == "extractive" and stored["k"] == 5 and set(stored["items"]) == set(ITEMS.split(","))
    assert stored["tolerances"]["overall"]["pass_rate"] == 0.02
    passed_before = {iid for iid, item in stored["items"].items() if item["passed"]}
    assert {"rm-003", "rm-010"} <= passed_before

    (corpus_copy / ROADMAP).unlink()  # a document goes: its items can no longer be answered
    worse = cli(*args)
    assert worse.exit_code == 1, worse.output
    assert "FAILED" in worse.output and "rm-010" in worse.output and "passed in the baseline and fails now" in worse.output
    report = (_only_run(out) / "report.md").read_text()
    assert "regression" in report and "rm-010" in report

    accepted = cli(*args, "--update-baseline")
    assert accepted.exit_code == 0, accepted.output
    again = cli(*args)
    assert again.exit_code == 0, again.output
    assert "PASSED" in again.output and "5 items compared" in again.output


def test_baseline_made_in_another_mode_is_refused(cli, tmp_path):
    baseline = tmp_path / "b.json"
    assert cli("eval", "--ids", "rm-001", "--out", str(tmp_path / "runs"), "--baseline", str(baseline),
               "--no-reference", "--update-baseline").exit_code == 0
    other = cli("eval", "--ids", "rm-001", "--out", str(tmp_path / "runs"), "--baseline", str(baseline), "--k", "3")
    assert other.exit_code != 0
    assert "--k 5" in str(other.exception) and "--update-baseline" in str(other.exception)


def test_retrieval_only_run_passes_on_hits(cli, tmp_path):
    out = tmp_path / "runs"
    result = cli("eval", "--ids", ITEMS, "--retrieval-only", "--out", str(out), "--baseline", str(tmp_path / "none.json"))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (_only_run(out) / "results.jsonl").read_text().splitlines()]
    for row in rows:
        assert row["status"] == "retrieval only" and row["answer"] == ""
        assert row["passed"] == (row["hit_at_k"] if row["type"] != "unanswerable" else None)
        assert row["reference"]["hit_at_k"] in (True, False, None)


def test_bad_selection_is_a_message(cli, tmp_path):
    result = cli("eval", "--ids", "ci-001,zz-999", "--out", str(tmp_path / "runs"))
    assert result.exit_code != 0 and "zz-999" in str(result.exception)
    result = cli("eval", "--types", "poems", "--out", str(tmp_path / "runs"))
    assert result.exit_code != 0 and "Unknown types" in str(result.exception)


def test_a_run_is_repeated_from_its_config(cli, tmp_path, monkeypatch):
    out, baseline = tmp_path / "runs", tmp_path / "b.json"
    monkeypatch.setenv("ICB_ASSISTANT_KEYWORD_WEIGHT", "0.5")
    first = cli("eval", "--types", "fact,unanswerable", "--sample", "3", "--seed", "7", "--no-reference",
                "--out", str(out), "--baseline", str(baseline))
    assert first.exit_code == 0, first.output
    monkeypatch.delenv("ICB_ASSISTANT_KEYWORD_WEIGHT")  # the repeat takes its settings from config.json
    original = _only_run(out)
    saved = json.loads((original / "config.json").read_text())

    again = cli("eval", "--from-run", str(original / "config.json"))
    assert again.exit_code == 0, again.output
    repeated = _only_run(out)  # a new folder beside the first
    assert repeated != original and repeated.parent == original.parent
    config = json.loads((repeated / "config.json").read_text())
    assert config["items"] == saved["items"] and len(config["items"]) == 3
    assert config["command"] == {**saved["command"], "update_baseline": False}
    assert config["repeat_of"] == original.name and saved["repeat_of"] is None
    assert config["settings"]["keyword_weight"] == 0.5
    assert config["gold_set"] == saved["gold_set"]

    def results(folder):
        rows = map(json.loads, (folder / "results.jsonl").read_text().splitlines())
        return [(r["id"], r["passed"], r["answer"], r.get("reference")) for r in rows]

    assert results(repeated) == results(original)
    assert f"repeat of {original.name}" in (repeated / "report.md").read_text()

    # options given again win over the saved ones; a repeat of the folder works as well
    changed = cli("eval", "--from-run", str(original), "--k", "3", "--out", str(tmp_path / "other"))
    assert changed.exit_code == 0, changed.output
    config = json.loads((_only_run(tmp_path / "other") / "config.json").read_text())
    assert config["command"]["k"] == 3 and config["items"] == saved["items"]


def test_a_repeat_keeps_its_items_and_needs_a_run_config(cli, tmp_path):
    out = tmp_path / "runs"
    assert cli("eval", "--ids", "rm-001", "--no-reference", "--out", str(out),
               "--baseline", str(tmp_path / "b.json")).exit_code == 0
    refused = cli("eval", "--from-run", str(_only_run(out)), "--ids", "ci-001", "--seed", "2")
    assert refused.exit_code != 0 and "--ids, --seed" in str(refused.exception)
    other = tmp_path / "other.json"
    other.write_text('{"run": "x"}')
    wrong = cli("eval", "--from-run", str(other))
    assert wrong.exit_code != 0 and "not the config.json of an evaluation run" in str(wrong.exception)
    missing = cli("eval", "--from-run", str(tmp_path / "nowhere" / "config.json"))
    assert missing.exit_code != 0 and "Could not read" in str(missing.exception)
    assert len(list(out.iterdir())) == 1  # nothing was run


# -- the gate's arithmetic --------------------------------------------------------------------------


def _row(iid: str, passed: bool, recall: float, kind: str = "fact") -> dict:
    return {"id": iid, "type": kind, "gold_digest": "d", "passed": passed, "status": "answered", "refused": False,
            "hit_at_k": True, "rr": 1.0, "answer_recall": recall, "fully_correct": recall == 1.0, "latency_s": 0.1}


def test_compare_applies_tolerances():
    from eval.baseline import make_baseline, compare

    rows = [_row(f"ci-{n:03d}", True, 1.0) for n in range(50)] + [_row("ci-050", False, 0.5)]
    baseline = make_baseline(rows, {"backend": "extractive", "k": 5, "retrieval_only": False})
    assert not compare(rows, baseline).failed

    slightly = [dict(r) for r in rows]
    slightly[-1]["answer_recall"] = 0.0  # recall falls by 0.5/51 ≈ 0.01: within 0.02
    assert not compare(slightly, baseline).failed

    much = [dict(r) for r in rows]
    much[-1]["answer_recall"] = 0.0
    for r in much[:3]:
        r["answer_recall"] = 0.8  # still passing in this made-up case, but recall falls by ≈ 0.02 more
    result = compare(much, baseline)
    assert result.failed and [c.metric for c in result.metric_regressions][:1] == ["answer_recall"]
    assert "key-fact recall of answer" in result.failure_lines()[0]

    one_fails = [dict(r) for r in rows]
    one_fails[0]["passed"] = False
    result = compare(one_fails, baseline)
    assert result.failed and [c.id for c in result.item_regressions] == ["ci-000"]

    baseline["tolerances"]["max_item_regressions"] = 1  # tolerances are read from the baseline file
    baseline["tolerances"]["overall"]["pass_rate"] = 0.05
    assert not compare(one_fails, baseline).failed

    edited = [dict(r) for r in one_fails]
    edited[0]["gold_digest"] = "changed"  # the gold item was edited: not compared
    result = compare(edited, baseline)
    assert result.gold_changed == ["ci-000"] and not result.item_regressions


def test_a_slower_run_is_shown_but_never_fails_the_gate():
    """CI failed on a busy machine: same answers, p50 12 s → 42 s. Time is the machine's, not the code's."""
    from eval.baseline import make_baseline, compare

    rows = [_row(f"ci-{n:03d}", True, 1.0) for n in range(20)]
    baseline = make_baseline(rows, {"backend": "local", "k": 5, "retrieval_only": False})
    baseline["tolerances"]["overall"]["latency_p50"] = {"absolute": 1.0, "relative": 0.5}  # an old baseline's
    slower = [dict(r, latency_s=40.0) for r in rows]
    result = compare(slower, baseline)
    assert not result.failed and not result.failure_lines()
    shown = [c for c in result.changes if c.metric == "latency_p50"]
    assert len(shown) == 1 and shown[0].allowed is None and shown[0].after == 40.0
    assert "0.100 → 40.000" in shown[0].describe() and "tolerance" not in shown[0].describe()

    worse = [dict(r, latency_s=40.0) for r in rows]
    worse[0]["passed"] = False  # the same slow run with a real regression still fails, on the item only
    result = compare(worse, baseline)
    assert result.failed and [c.id for c in result.item_regressions] == ["ci-000"]
    assert not any(c.metric.startswith("latency") for c in result.metric_regressions)


# -- feedback → draft gold items ----------------------------------------------------------------------


def _feedback_csv(path: Path) -> Path:
    rows = [
        ["1", "2025-06-01T10:00:00", "alice", "down", "Wrong year", "What is the budget for 2026/27?", "[]",
         "About £5.4bn [1].", "answered", json.dumps([{"n": 1, "doc": "d.txt", "title": "T", "section": "S",
                                                      "page": None, "text": "x", "start": 0, "end": 1}]), "local", "qwen"],
        ["2", "2025-06-01T10:05:00", "bob", "up", "", "What is the deficit?", "[]", "£350m [1].", "answered", "[]",
         "local", "qwen"],
        ["3", "2025-06-01T10:06:00", "carol", "down", "Should mention 2028/29",
         "And the year after?", json.dumps(["What are the cancer plans for 2026/27?"]), "…", "answered", "[]",
         "extractive", ""],
        ["4", "2025-06-01T10:07:00", "dan", "down", "Still wrong", "what is the budget for 2026/27?", "[]", "…",
         "answered", "[]", "local", "qwen"],  # the same question again: merged
        ["5", "2025-06-01T10:08:00", "erin", "down", "",
         "When was the ICB set up, and which organisations did it replace?", "[]", "…", "answered", "[]", "local", ""],
        ["6", "2025-06-01T10:09:00", "finn", "down", "no question", "", "[]", "", "error", "[]", "local", ""],
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "time", "user", "rating", "comment", "question", "history", "answer", "status",
                         "citations", "backend", "model"])
        writer.writerows(rows)
    return path


def test_thumbs_down_feedback_becomes_draft_items(cli, tmp_path):
    from eval.gold import GoldSetError, load_gold

    feedback = _feedback_csv(tmp_path / "feedback.csv")
    out = tmp_path / "drafts.jsonl"
    result = cli("eval-drafts", str(feedback), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Wrote 2 draft items" in result.output
    assert "ci-001" in result.output  # the question already in the gold set is named

    drafts = [json.loads(line) for line in out.read_text().splitlines()]
    first, follow_up = drafts
    assert first["id"] == "fb-1" and first["type"] == "fact" and "history" not in first
    assert first["question"] == "What is the budget for 2026/27?"
    assert first["reference_answer"] == "" and first["key_facts"] == [] and first["sources"] == []
    assert first["draft"] is True and first["note"] == "Wrong year | Still wrong"
    assert first["feedback"]["answer"] == "About £5.4bn [1]." and first["feedback"]["cited"][0]["doc"] == "d.txt"
    assert "alice" not in out.read_text()  # user names stay out
    assert follow_up["id"] == "fb-3" and follow_up["type"] == "follow_up"
    assert follow_up["history"] == ["What are the cancer plans for 2026/27?"]

    # a drafts file is never overwritten by accident, and appending skips what it holds
    again = cli("eval-drafts", str(feedback), "--out", str(out))
    assert again.exit_code != 0 and "--append" in str(again.exception)
    appended = cli("eval-drafts", str(feedback), "--out", str(out), "--append")
    assert appended.exit_code == 0 and "Wrote 0 draft items" in appended.output
    assert len(out.read_text().splitlines()) == 2

    with pytest.raises(GoldSetError, match="draft"):
        load_gold(out)


def test_feedback_file_without_the_columns_is_a_message(cli, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    result = cli("eval-drafts", str(bad), "--out", str(tmp_path / "d.jsonl"))
    assert result.exit_code != 0 and "not a feedback export" in str(result.exception)


# -- the LLM judge ----------------------------------------------------------------------------------------


def test_judge_grades_through_an_openai_compatible_server(settings):
    from eval.judge import Judge, parse_verdict

    reply = '{"faithfulness": 5, "correctness": 4, "reason": "Matches the reference."}'
    with FakeLLM(reply=reply) as server:
        judge = Judge(settings.model_copy(update={"judge_model": "judge-model", "judge_base_url": server.base_url}))
        verdict = judge.grade("What is the deficit?", "About £350m.", ["The deficit is £350m."], "It is £350m [1].")
    assert (verdict.faithfulness, verdict.correctness, verdict.error) == (5, 4, "")
    assert verdict.reason == "Matches the reference."
    sent = server.requests[0]
    assert sent["model"] == "judge-model"
    assert "About £350m." in json.dumps(sent, ensure_ascii=False) and "It is £350m [1]." in json.dumps(sent, ensure_ascii=False)

    assert parse_verdict("faithfulness: 3\ncorrectness: 9").correctness == 5  # clamped to 1-5
    assert parse_verdict("I cannot grade this").error


def test_unreachable_judge_leaves_items_unjudged(settings):
    from assistant.local_model import free_port
    from eval.judge import Judge

    judge = Judge(settings.model_copy(update={
        "judge_model": "j", "judge_base_url": f"http://127.0.0.1:{free_port()}/v1", "openai_max_retries": 0}))
    verdict = judge.grade("Q?", "A.", [], "B.")
    assert verdict.faithfulness is None and "could not be reached" in verdict.error


def test_eval_run_with_a_judge(cli, tmp_path, monkeypatch):
    reply = '{"faithfulness": 4, "correctness": 3, "reason": "Partly."}'
    with FakeLLM(reply=reply) as server:
        monkeypatch.setenv("ICB_ASSISTANT_JUDGE_MODEL", "judge-model")
        monkeypatch.setenv("ICB_ASSISTANT_JUDGE_BASE_URL", server.base_url)
        out = tmp_path / "runs"
        # un-003 names a year no document names: refused whatever the fitted model weighs
        result = cli("eval", "--ids", "rm-001,un-003", "--out", str(out), "--baseline", str(tmp_path / "b.json"),
                     "--no-reference")
    assert result.exit_code == 0, result.output
    folder = _only_run(out)
    rows = {r["id"]: r for r in map(json.loads, (folder / "results.jsonl").read_text().splitlines())}
    assert rows["rm-001"]["judge_faithfulness"] == 4 and rows["rm-001"]["judge_correctness"] == 3
    assert rows["un-003"]["status"] == "unanswerable" and rows["un-003"].get("judge_faithfulness") is None  # not judged
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["current"]["overall"]["judge_faithfulness"] == 4.0
    assert json.loads((folder / "config.json").read_text())["judge"] == "judge-model"
    assert len(server.requests) == 1


def test_an_installed_eval_writes_its_runs_in_the_home_folder_not_beside_its_code(settings, tmp_path, monkeypatch):
    from eval import orchestrate

    assert orchestrate.runs_folder(settings) == orchestrate.RUNS  # this checkout: eval/runs
    monkeypatch.setattr(orchestrate, "REPO_ROOT", tmp_path / "site-packages")  # a wheel: no pyproject.toml
    assert orchestrate.runs_folder(settings) == settings.home / "eval-runs"


def test_a_baseline_is_made_for_one_audience():
    from pathlib import Path

    from eval import baseline as gate

    assert gate.default_path(Path("r"), "local", False, "public").name == "local-public.json"
    assert gate.default_path(Path("r"), "local", False).name == "local.json"
    with pytest.raises(gate.BaselineError, match="answers for staff, this run writes for public"):
        gate.check_fits({"backend": "local", "k": 5, "retrieval_only": False}, "local", 5, False, Path("b.json"), "public")
