"""Checks on the evaluation gold set, eval/gold_set.jsonl (format version 2).

Fast and offline: standard library and pytest only. Every failure message names the item id,
so a broken item can be found and fixed directly. eval/README.md describes the format.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
GOLD = REPO / "eval" / "gold_set.jsonl"
CORPUS = REPO / "corpus"

TYPES = {"fact", "number", "list", "synthesis", "comparison", "unanswerable", "follow_up"}
PREFIXES = {"ci", "sos", "bp", "rm", "ns", "x", "un", "fu"}
ID_PATTERN = re.compile(r"^(ci|sos|bp|rm|ns|x|un|fu)-\d{3}$")
REQUIRED = {"id", "question", "type", "split", "reference_answer", "key_facts", "sources", "format_version"}
OPTIONAL = {"history"}

MIN_ITEMS = 120
# Absolute minimum count per type, and minimum share of the whole set for two of them.
MIN_PER_TYPE = {
    "fact": 20,
    "number": 15,
    "list": 12,
    "synthesis": 12,
    "comparison": 12,
    "unanswerable": 16,
    "follow_up": 16,
}
MIN_SHARE = {"unanswerable": 0.12, "follow_up": 0.10}

QUOTE_MIN, QUOTE_MAX = 30, 300
# A quote shorter than QUOTE_MIN is allowed only if it is a whole line of the document
# (optionally after a list marker), e.g. a table cell or a one-line heading.
LIST_MARKER = r"[\s\-•·*]*"


def _load_lines() -> list[tuple[int, str]]:
    return list(enumerate(GOLD.read_text(encoding="utf-8").splitlines(), start=1))


def _load_items() -> list[dict]:
    items = []
    for _, line in _load_lines():
        if line.strip():
            items.append(json.loads(line))
    return items


@pytest.fixture(scope="module")
def items() -> list[dict]:
    return _load_items()


@pytest.fixture(scope="module")
def documents() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(CORPUS.glob("*.txt"))}


def test_file_is_utf8_jsonl_of_objects():
    raw = GOLD.read_bytes()
    raw.decode("utf-8")  # raises if not UTF-8
    for number, line in _load_lines():
        assert line.strip(), f"line {number}: blank lines are not allowed"
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:  # pragma: no cover - message only
            pytest.fail(f"line {number}: not valid JSON ({error})")
        assert isinstance(value, dict), f"line {number}: each line must be a JSON object"


def test_enough_items(items):
    assert len(items) >= MIN_ITEMS, f"only {len(items)} items; at least {MIN_ITEMS} are required"


def test_ids_unique_and_well_formed(items):
    counts = Counter(item.get("id") for item in items)
    duplicates = sorted(str(i) for i, n in counts.items() if n > 1)
    assert not duplicates, f"duplicate ids: {duplicates}"
    for item in items:
        assert isinstance(item.get("id"), str) and ID_PATTERN.match(item["id"]), (
            f"{item.get('id')!r}: id must look like 'ci-001' with a prefix in {sorted(PREFIXES)}"
        )


def test_fields_and_types(items):
    for item in items:
        iid = item.get("id")
        keys = set(item)
        assert REQUIRED <= keys, f"{iid}: missing fields {sorted(REQUIRED - keys)}"
        assert keys <= REQUIRED | OPTIONAL, f"{iid}: unknown fields {sorted(keys - REQUIRED - OPTIONAL)}"
        assert item["format_version"] == 2 and type(item["format_version"]) is int, (
            f"{iid}: format_version must be the integer 2"
        )
        assert item["split"] in {"dev", "test"}, f"{iid}: split must be 'dev' or 'test'"
        assert item["type"] in TYPES, f"{iid}: type {item['type']!r} not in {sorted(TYPES)}"
        for field in ("question", "reference_answer"):
            value = item[field]
            assert isinstance(value, str) and value.strip(), f"{iid}: {field} must be a non-empty string"
            assert value == value.strip(), f"{iid}: {field} has leading/trailing whitespace"
        assert isinstance(item["key_facts"], list), f"{iid}: key_facts must be a list"
        for fact in item["key_facts"]:
            assert isinstance(fact, list) and fact, f"{iid}: each key fact must be a non-empty list of alternatives"
        assert isinstance(item["sources"], list), f"{iid}: sources must be a list"
        for source in item["sources"]:
            assert isinstance(source, dict) and set(source) == {"doc", "quote"}, (
                f"{iid}: each source must be an object with exactly 'doc' and 'quote'"
            )
            assert isinstance(source["doc"], str) and source["doc"].endswith(".txt"), (
                f"{iid}: source doc {source['doc']!r} must be a .txt file name"
            )
            assert isinstance(source["quote"], str) and source["quote"].strip(), f"{iid}: empty quote"


def test_id_prefix_matches_type(items):
    for item in items:
        prefix = item["id"].split("-")[0]
        if item["type"] == "unanswerable":
            assert prefix == "un", f"{item['id']}: unanswerable items use the 'un' prefix"
        elif item["type"] == "follow_up":
            assert prefix == "fu", f"{item['id']}: follow_up items use the 'fu' prefix"
        else:
            assert prefix not in {"un", "fu"}, f"{item['id']}: prefix {prefix!r} is reserved"


def test_history_only_on_follow_ups(items):
    for item in items:
        iid = item["id"]
        if item["type"] == "follow_up":
            history = item.get("history")
            assert isinstance(history, list) and history, f"{iid}: follow_up needs a non-empty history"
            for turn in history:
                assert isinstance(turn, str) and turn.strip(), f"{iid}: history entries must be non-empty strings"
        else:
            assert "history" not in item, f"{iid}: only follow_up items may have a history"


def test_unanswerable_and_answerable_shapes(items):
    for item in items:
        iid = item["id"]
        if item["type"] == "unanswerable":
            assert item["sources"] == [], f"{iid}: unanswerable items must have no sources"
            assert item["key_facts"] == [], f"{iid}: unanswerable items must have no key facts"
        else:
            assert len(item["sources"]) >= 1, f"{iid}: answerable items need at least one source"
            assert len(item["key_facts"]) >= 1, f"{iid}: answerable items need at least one key fact"


def test_key_fact_alternatives_are_nonempty_strings(items):
    for item in items:
        if item["type"] == "unanswerable":
            continue
        for index, fact in enumerate(item["key_facts"]):
            for alternative in fact:
                assert isinstance(alternative, str) and alternative.strip(), (
                    f"{item['id']}: key fact {index} has an empty or non-string alternative {alternative!r}"
                )


def test_key_facts_are_in_reference_answer(items):
    """Each key fact has at least one alternative in the reference answer (case-insensitive)."""
    for item in items:
        answer = item["reference_answer"].lower()
        for index, fact in enumerate(item["key_facts"]):
            assert any(alt.lower() in answer for alt in fact), (
                f"{item['id']}: no alternative of key fact {index} {fact} appears in its reference answer"
            )


def test_quotes_are_exact_substrings_of_their_documents(items, documents):
    assert documents, f"no .txt documents found in {CORPUS}"
    for item in items:
        for source in item["sources"]:
            iid, doc, quote = item["id"], source["doc"], source["quote"]
            assert doc in documents, f"{iid}: unknown document {doc!r}"
            assert "\n" not in quote and "\r" not in quote, f"{iid}: quote spans a line break: {quote[:60]!r}"
            assert quote in documents[doc], f"{iid}: quote not found verbatim in {doc}: {quote[:80]!r}"


def test_quote_lengths(items, documents):
    for item in items:
        for source in item["sources"]:
            quote = source["quote"]
            assert len(quote) <= QUOTE_MAX, f"{item['id']}: quote longer than {QUOTE_MAX} characters"
            if len(quote) < QUOTE_MIN:
                pattern = re.compile(LIST_MARKER + re.escape(quote) + r"\s*")
                whole_line = any(pattern.fullmatch(line) for line in documents.get(source["doc"], "").splitlines())
                assert whole_line, (
                    f"{item['id']}: quote {quote!r} is shorter than {QUOTE_MIN} characters "
                    "and is not a whole line of the document"
                )


def test_comparisons_and_syntheses_cite_two_passages(items):
    for item in items:
        if item["type"] in {"comparison", "synthesis"}:
            quotes = {(s["doc"], s["quote"]) for s in item["sources"]}
            assert len(quotes) >= 2, f"{item['id']}: {item['type']} items need at least two distinct sources"


def test_type_counts_meet_minimums(items):
    counts = Counter(item["type"] for item in items)
    total = len(items)
    for type_name, minimum in MIN_PER_TYPE.items():
        assert counts[type_name] >= minimum, f"only {counts[type_name]} {type_name} items; need {minimum}"
    for type_name, share in MIN_SHARE.items():
        assert counts[type_name] >= share * total, (
            f"{type_name} items are {counts[type_name]}/{total}; need at least {share:.0%}"
        )


def test_every_document_is_covered(items, documents):
    cited = Counter(source["doc"] for item in items for source in item["sources"])
    for name in documents:
        assert cited[name] >= 10, f"document {name} is cited by only {cited[name]} quotes"
    prefixes = Counter(item["id"].split("-")[0] for item in items)
    for prefix in ("ci", "sos", "bp", "rm", "ns", "x"):
        assert prefixes[prefix] >= 10, f"only {prefixes[prefix]} items with prefix {prefix!r}"


def test_questions_are_unique(items):
    seen: dict[tuple, str] = {}
    for item in items:
        key = (tuple(item.get("history", [])), item["question"].strip().lower())
        assert key not in seen, f"{item['id']}: same question (and history) as {seen[key]}"
        seen[key] = item["id"]


def test_every_type_is_in_both_splits(items):
    """Stratified: every type has items to tune on (dev) and items held out (test)."""
    by = Counter((item["type"], item["split"]) for item in items)
    for kind in TYPES:
        assert by[(kind, "dev")] >= 3 and by[(kind, "test")] >= 3, (
            f"type {kind}: {by[(kind, 'dev')]} dev and {by[(kind, 'test')]} test items; each split needs 3 or more"
        )


MIN_TEST_SHARE = 0.40


def test_test_split_is_at_least_forty_percent(items):
    """Issue 11: at least 40% of the gold set is held out as `test` (report only, never tuned on)."""
    held_out = sum(item["split"] == "test" for item in items)
    assert held_out >= MIN_TEST_SHARE * len(items), (
        f"only {held_out}/{len(items)} items ({held_out / len(items):.0%}) are in the test split; "
        f"need at least {MIN_TEST_SHARE:.0%}"
    )
