"""Turn thumbs-down feedback from the web UI into draft gold items for a person to complete.

The UI exports feedback as CSV with the columns
``id,time,user,rating,comment,question,history,answer,status,citations,backend,model``
(rating "up" or "down"; history a JSON list of earlier questions; citations a JSON list of
``{n, doc, title, section, page, text, start, end}``). Every thumbs-down row with a question
becomes one draft item:

    {"id": "fb-17", "question": ..., "type": "fact" | "follow_up", "history": [...] (follow-ups),
     "split": "test", "reference_answer": "", "key_facts": [], "sources": [], "format_version": 2,
     "draft": true, "note": "<the user's comment>", "feedback": {what the assistant answered}}

The same question (with the same history) asked twice becomes one draft with both comments;
a question already in the gold set is left out and reported. The gold-set loader refuses drafts:
a person fills in the answer, key facts and quotes, gives the item its final id and removes
``draft``, ``note`` and ``feedback`` before it joins eval/gold_set.jsonl (eval/README.md).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from assistant.csv_safety import restore
from eval.gold import FORMAT_VERSION

COLUMNS = ["id", "time", "user", "rating", "comment", "question", "history", "answer", "status", "citations",
           "backend", "model"]
DOWN = {"down", "thumbs_down", "thumbs-down", "-1", "👎"}


class FeedbackError(ValueError):
    """The feedback file cannot be read; the message says why."""


@dataclass
class Conversion:
    drafts: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "row N: why"
    thumbs_up: int = 0


def parse_history(value: str) -> list[str]:
    """The history column: a JSON list of questions; a plain non-JSON text is one question."""
    value = (value or "").strip()
    if not value:
        return []
    try:
        data = json.loads(value)
    except json.JSONDecodeError:
        return [value]
    if isinstance(data, list):
        return [str(turn).strip() for turn in data if str(turn).strip()]
    if isinstance(data, str) and data.strip():
        return [data.strip()]
    return []


def parse_citations(value: str) -> list[dict]:
    try:
        data = json.loads(value or "[]")
    except json.JSONDecodeError:
        return []
    cited = []
    for item in data if isinstance(data, list) else []:
        if isinstance(item, dict):
            cited.append({key: item.get(key) for key in ("n", "doc", "section", "page", "start", "end") if key in item})
    return cited


def draft_id(feedback_id: str, question: str, taken: set[str]) -> str:
    """fb-<feedback id> when it is a short plain id, else fb-<hash of the question>; never a repeat."""
    base = feedback_id.strip()
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", base):
        base = hashlib.sha1(question.encode()).hexdigest()[:10]
    candidate, n = f"fb-{base}", 1
    while candidate in taken:
        n += 1
        candidate = f"fb-{base}-{n}"
    taken.add(candidate)
    return candidate


def _key(question: str, history: list[str]) -> tuple:
    squeeze = lambda text: " ".join(text.lower().split())  # noqa: E731
    return (tuple(squeeze(turn) for turn in history), squeeze(question))


def convert(rows: list[dict], known: dict[tuple, str] | None = None, taken: set[str] | None = None) -> Conversion:
    """Draft items from feedback rows. ``known`` maps (history, question) keys already in the
    gold set (or an existing drafts file) to their ids; ``taken`` holds ids already used."""
    known = dict(known or {})
    taken = set(taken or set())
    result = Conversion()
    by_key: dict[tuple, dict] = {}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        rating = (row.get("rating") or "").strip().lower()
        if rating not in DOWN:
            result.thumbs_up += rating == "up"
            continue
        question = " ".join((row.get("question") or "").split())
        if not question:
            result.skipped.append(f"row {number}: thumbs-down without a question")
            continue
        history = parse_history(row.get("history", ""))
        comment = (row.get("comment") or "").strip()
        key = _key(question, history)
        if key in known:
            result.skipped.append(f"row {number}: the question is already in the gold set or drafts as {known[key]}")
            continue
        if key in by_key:  # the same question again: one draft, every comment kept
            draft = by_key[key]
            if comment and comment not in draft["note"]:
                draft["note"] = f"{draft['note']} | {comment}" if draft["note"] else comment
            draft["feedback"]["ids"].append((row.get("id") or "").strip())
            continue
        draft = {
            "id": draft_id(row.get("id") or "", question, taken),
            "question": question,
            "type": "follow_up" if history else "fact",
        }
        if history:
            draft["history"] = history
        draft.update(
            split="test",  # a question a user asked that nobody tuned for: held out, unless a person moves it
            reference_answer="",
            key_facts=[],
            sources=[],
            format_version=FORMAT_VERSION,
            draft=True,
            note=comment,
            feedback={  # what the assistant did, to help whoever completes the item (no user names)
                "ids": [(row.get("id") or "").strip()],
                "time": (row.get("time") or "").strip(),
                "status": (row.get("status") or "").strip(),
                "answer": (row.get("answer") or "").strip(),
                "cited": parse_citations(row.get("citations", "")),
                "backend": (row.get("backend") or "").strip(),
                "model": (row.get("model") or "").strip(),
            },
        )
        by_key[key] = draft
        result.drafts.append(draft)
    return result


def read_feedback(path: Path) -> list[dict]:
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip() for name in reader.fieldnames or []]
            missing = [name for name in ("rating", "question") if name not in header]
            if missing:
                raise FeedbackError(
                    f"{path} is not a feedback export: no {', '.join(missing)} column "
                    f"(expected the columns {','.join(COLUMNS)})."
                )
            # the export neutralised cells a spreadsheet would run ('=…' for =…): undo exactly that
            return [{(k or "").strip(): restore(v or "") for k, v in row.items()} for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise FeedbackError(f"Could not read {path}: {exc}") from exc


def known_questions(paths: list[Path]) -> tuple[dict[tuple, str], set[str]]:
    """(history, question) keys and ids of the items in existing JSONL files (gold set, drafts)."""
    known: dict[tuple, str] = {}
    ids: set[str] = set()
    for path in paths:
        if not Path(path).is_file():
            continue
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(item, dict) and isinstance(item.get("question"), str):
                known[_key(item["question"], item.get("history") or [])] = str(item.get("id"))
                ids.add(str(item.get("id")))
    return known, ids


def write_drafts(drafts: list[dict], out: Path, append: bool = False) -> None:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a" if append else "w", encoding="utf-8") as handle:
        for draft in drafts:
            handle.write(json.dumps(draft, ensure_ascii=False) + "\n")


def feedback_to_drafts(feedback: Path, out: Path, gold: Path, append: bool = False) -> Conversion:
    """Read the CSV, convert, write ``out``. Refuses to overwrite an existing file unless appending."""
    out = Path(out)
    if out.exists() and not append:
        raise FeedbackError(f"{out} already exists: add to it with --append, or choose another --out.")
    rows = read_feedback(feedback)
    known, ids = known_questions([gold] + ([out] if append else []))
    result = convert(rows, known, ids)
    if result.drafts or not out.exists():
        write_drafts(result.drafts, out, append=append and out.exists())
    return result
