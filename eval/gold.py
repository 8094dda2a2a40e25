"""Load and check the gold question set (eval/gold_set.jsonl, format version 2; see eval/README.md).

    from eval.gold import load_gold
    items = load_gold()                     # list[GoldItem], in file order
    items = select(items, ids=["ci-001"], types=["fact"], sample=20, seed=0)
    dev = select(items, splits=["dev"])    # tune on dev; read test only to report
    gate = select(items, splits=["test"], per_type=4)   # a stratified sample: 4 of each type

The loader checks what the harness relies on and names the line and id of every problem.
Draft items (``"draft": true``, written by ``icb-assistant eval-drafts`` from user feedback)
are refused: a person completes them before they join the gold set. The stricter content
checks (quotes are exact substrings, key facts are in the reference answer ...) live in
tests/test_gold_set.py.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GOLD_PATH = REPO / "eval" / "gold_set.jsonl"
FORMAT_VERSION = 2  # 2: every item has a fixed split, dev or test
TYPES = ("fact", "number", "list", "synthesis", "comparison", "unanswerable", "follow_up")
# dev: every threshold, weight and rule is chosen on it; test: held out, read only to report
SPLITS = ("dev", "test")
REQUIRED = {"id", "question", "type", "split", "reference_answer", "key_facts", "sources", "format_version"}
OPTIONAL = {"history"}
ID_PATTERN = re.compile(r"^[a-z]+-\d{3}$")


class GoldSetError(ValueError):
    """The gold set cannot be used; the message names the file, line and item."""


@dataclass(frozen=True)
class GoldSource:
    doc: str
    quote: str


@dataclass(frozen=True)
class GoldItem:
    id: str
    question: str
    type: str
    reference_answer: str
    key_facts: tuple[tuple[str, ...], ...]
    sources: tuple[GoldSource, ...]
    history: tuple[str, ...] = ()
    split: str = "dev"
    format_version: int = FORMAT_VERSION
    digest: str = field(default="", compare=False)  # hash of the item's JSON: did it change?

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable"


def file_hash(path: Path = GOLD_PATH) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# not part of what an item asks and expects: moving an item between splits, or a format bump that
# only adds a field, does not make its earlier results incomparable
NOT_DIGESTED = ("split", "format_version")


def item_digest(raw: dict) -> str:
    """A hash of what the item asks and expects (its question, history, answer, key facts, sources)."""
    kept = {key: value for key, value in raw.items() if key not in NOT_DIGESTED}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def parse_item(raw, where: str) -> GoldItem:
    """One gold item from its JSON object; ``where`` (file:line) prefixes every problem."""
    if not isinstance(raw, dict):
        raise GoldSetError(f"{where}: each line must be a JSON object")
    iid = raw.get("id")
    label = f"{where} ({iid})" if isinstance(iid, str) else where
    if raw.get("draft"):
        raise GoldSetError(
            f"{label} is a draft item (\"draft\": true). Drafts from `icb-assistant eval-drafts` must be "
            "completed before they join the gold set: give it a final id, write reference_answer, key_facts "
            "and sources, and delete the draft and note fields (see eval/README.md)."
        )
    keys = set(raw)
    if not REQUIRED <= keys:
        raise GoldSetError(f"{label}: missing fields {sorted(REQUIRED - keys)}")
    if not keys <= REQUIRED | OPTIONAL:
        raise GoldSetError(f"{label}: unknown fields {sorted(keys - REQUIRED - OPTIONAL)}")
    if raw["format_version"] != FORMAT_VERSION:
        raise GoldSetError(
            f"{label}: format_version must be {FORMAT_VERSION} (version 2 added the split field: dev or test)"
        )
    if not isinstance(iid, str) or not ID_PATTERN.match(iid):
        raise GoldSetError(f"{label}: id must look like 'ci-001'")
    if raw["type"] not in TYPES:
        raise GoldSetError(f"{label}: type {raw['type']!r} is not one of {', '.join(TYPES)}")
    if raw["split"] not in SPLITS:
        raise GoldSetError(f"{label}: split {raw['split']!r} is not one of {', '.join(SPLITS)}")
    for name in ("question", "reference_answer"):
        if not isinstance(raw[name], str) or not raw[name].strip():
            raise GoldSetError(f"{label}: {name} must be a non-empty string")
    facts = raw["key_facts"]
    if not isinstance(facts, list) or not all(
        isinstance(fact, list) and fact and all(isinstance(a, str) and a.strip() for a in fact) for fact in facts
    ):
        raise GoldSetError(f"{label}: key_facts must be a list of non-empty lists of non-empty strings")
    sources = raw["sources"]
    if not isinstance(sources, list) or not all(
        isinstance(s, dict) and isinstance(s.get("doc"), str) and isinstance(s.get("quote"), str) and s["quote"]
        for s in sources
    ):
        raise GoldSetError(f"{label}: sources must be a list of {{doc, quote}} objects")
    history = raw.get("history", [])
    if not isinstance(history, list) or not all(isinstance(turn, str) for turn in history):
        raise GoldSetError(f"{label}: history must be a list of strings")
    if raw["type"] == "follow_up" and not history:
        raise GoldSetError(f"{label}: a follow_up item needs its history")
    if raw["type"] == "unanswerable" and (facts or sources):
        raise GoldSetError(f"{label}: an unanswerable item has no key_facts and no sources")
    if raw["type"] != "unanswerable" and not (facts and sources):
        raise GoldSetError(f"{label}: an answerable item needs key_facts and sources")
    return GoldItem(
        id=iid,
        question=raw["question"],
        type=raw["type"],
        reference_answer=raw["reference_answer"],
        key_facts=tuple(tuple(fact) for fact in facts),
        sources=tuple(GoldSource(s["doc"], s["quote"]) for s in sources),
        history=tuple(history),
        split=raw["split"],
        format_version=raw["format_version"],
        digest=item_digest(raw),
    )


def load_gold(path: Path = GOLD_PATH) -> list[GoldItem]:
    """Every item of the gold set, in file order. Raises :class:`GoldSetError` on any problem."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldSetError(f"Could not read the gold set {path}: {exc}") from exc
    items: list[GoldItem] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise GoldSetError(f"{where}: not valid JSON ({exc.msg})") from exc
        item = parse_item(raw, where)
        if item.id in seen:
            raise GoldSetError(f"{where}: id {item.id} is already used on line {seen[item.id]}")
        seen[item.id] = number
        items.append(item)
    if not items:
        raise GoldSetError(f"The gold set {path} holds no items.")
    return items


def parse_id_list(value: str) -> list[str]:
    """Ids from a comma/space/line separated string; '#' starts a comment."""
    ids: list[str] = []
    for line in value.splitlines():
        line = line.split("#", 1)[0]
        ids.extend(part for part in re.split(r"[,\s]+", line) if part)
    return list(dict.fromkeys(ids))


def read_ids(value: str) -> list[str]:
    """``--ids``: a file of ids (one or more a line) or a comma-separated list."""
    path = Path(value).expanduser()
    if path.is_file():
        return parse_id_list(path.read_text(encoding="utf-8"))
    return parse_id_list(value)


def sample_key(seed: int, item_id: str) -> str:
    return hashlib.sha256(f"{seed}:{item_id}".encode()).hexdigest()


def _choices(values: Iterable[str], allowed: tuple[str, ...], label: str) -> set[str]:
    """The values asked for; GoldSetError names any that is not one of ``allowed``."""
    wanted = list(dict.fromkeys(values))
    unknown = [value for value in wanted if value not in allowed]
    if unknown:
        raise GoldSetError(f"Unknown {label}: {', '.join(unknown)}. Choose from {', '.join(allowed)}.")
    return set(wanted)


def select(
    items: list[GoldItem],
    ids: Iterable[str] | None = None,
    types: Iterable[str] | None = None,
    sample: int | None = None,
    seed: int = 0,
    splits: Iterable[str] | None = None,
    per_type: int | None = None,
) -> list[GoldItem]:
    """Filter by ids, types and splits, then take a deterministic sample; file order is kept.

    The sample ranks items by a hash of (seed, id), so the same seed gives the same items,
    and adding items to the gold set changes a sample only by the new items that enter it.
    ``per_type`` samples that way within each type: a stratified sample of ``per_type`` items a type.
    """
    chosen = list(items)
    if ids is not None:
        wanted = list(dict.fromkeys(ids))
        known = {item.id for item in items}
        unknown = [i for i in wanted if i not in known]
        if unknown:
            raise GoldSetError("Unknown ids (not in the gold set): " + ", ".join(unknown))
        keep = set(wanted)
        chosen = [item for item in chosen if item.id in keep]
    if types is not None:
        wanted_types = _choices(types, TYPES, "types")
        chosen = [item for item in chosen if item.type in wanted_types]
    if splits is not None:
        wanted_splits = _choices(splits, SPLITS, "split")
        chosen = [item for item in chosen if item.split in wanted_splits]
    if per_type is not None:
        if per_type < 1:
            raise GoldSetError("--per-type must be at least 1")
        ranked = sorted(chosen, key=lambda i: sample_key(seed, i.id))
        keep = set()
        for kind in TYPES:
            keep |= {item.id for item in [i for i in ranked if i.type == kind][:per_type]}
        chosen = [item for item in chosen if item.id in keep]
    if sample is not None:
        if sample < 1:
            raise GoldSetError("--sample must be at least 1")
        keep = {item.id for item in sorted(chosen, key=lambda i: sample_key(seed, i.id))[:sample]}
        chosen = [item for item in chosen if item.id in keep]
    if not chosen:
        raise GoldSetError("No gold items match the selection (check --ids, --types, --split, --per-type and --sample).")
    return chosen
