"""Reranking the head of the fused ranking: which of the first passages answers the question.

Reciprocal-rank fusion knows each passage's rank in each search, not how well it matches the
question as a whole, so a passage that merely shares many of the question's words often comes
first and the one that answers it second (dev: 22 of 164 answerable questions had their first
answering passage at rank 2). The reranker reorders the first ``depth`` passages of the fused
ranking by a small logistic model, fitted on the gold set's dev items only
(``icb-assistant eval-fit-reranker``; coefficients and the figures they were chosen on in
``assistant/reranker.json``), over five signals of each passage:

- ``rank``: 1 / its rank in the fused ranking (what the fusion thought);
- ``dense``: its best embedding similarity to the question (0 when the dense search missed it);
- ``keyword``: its BM25 score as a share of the best one in the head (0 when BM25 missed it);
- ``pairs``: the share of the question's neighbouring words that stand side by side in it;
- ``density``: how much of the question it holds (each word weighed by its rarity) for its
  length: a short passage that holds the question beats a long one that holds it as well.

The signals are plain arithmetic over the passage's text and the index's word counts (already
cached for the keyword search), so reranking costs about a millisecond. Comparisons are reranked
before their sides are interleaved, so each side still opens with its own best passage.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from index.keyword import query_terms
from index.text import SEARCH_WORD, STOPWORDS

MODEL_FILE = "reranker.json"
FEATURES = ("rank", "dense", "keyword", "pairs", "density")


@dataclass(frozen=True)
class Candidate:
    """What the reranker reads of one fused passage."""

    rank: int  # 1-based, in the fused ranking
    section: str
    text: str
    dense: float | None  # best cosine similarity, if the dense search found it
    keyword: float | None  # BM25, if the keyword search found it


def words(text: str) -> list[str]:
    """The words of ``text`` as the keyword index sees them, less stopwords, in order."""
    return [w.replace("’", "'") for w in SEARCH_WORD.findall(text.lower()) if w not in STOPWORDS]


def signals(query: str, candidates: Sequence[Candidate], word_counts: Callable[[list[str]], dict[str, int]],
            chunk_count: int) -> list[dict[str, float]]:
    """The five signals of each candidate (see the module docstring), in the candidates' order.

    ``word_counts(phrases)``: how many chunks hold each FTS5 phrase (``Catalog.term_counts``)."""
    phrases = query_terms(query)
    counts = word_counts(phrases) if phrases else {}
    asked = list(dict.fromkeys(p.strip('"').replace('""', '"') for p in phrases))
    weight = {w: math.log((chunk_count + 1) / (counts.get('"' + w.replace('"', '""') + '"', 0) + 1)) for w in asked}
    total = sum(weight.values()) or 1.0
    asked_pairs = set(zip(asked, asked[1:]))
    best_keyword = max((c.keyword or 0.0 for c in candidates), default=0.0)
    found = []
    for candidate in candidates:
        held = words(f"{candidate.section}\n{candidate.text}")
        present = set(held)
        share = sum(weight[w] for w in asked if w in present) / total
        found.append({
            "rank": 1.0 / candidate.rank,
            "dense": candidate.dense or 0.0,
            "keyword": (candidate.keyword or 0.0) / best_keyword if best_keyword > 0 else 0.0,
            "pairs": len(asked_pairs & set(zip(held, held[1:]))) / len(asked_pairs) if asked_pairs else 0.0,
            "density": min(1.0, 10.0 * share * len(asked) / max(1, len(held))),
        })
    return found


@dataclass(frozen=True)
class Reranker:
    """A logistic model over standardised signals; it orders the first ``depth`` passages."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coefficients: tuple[float, ...]
    depth: int

    def score(self, found: dict[str, float]) -> float:
        return sum(c * (found[name] - m) / s for name, m, s, c in zip(self.features, self.mean, self.scale, self.coefficients))

    def order(self, found: Sequence[dict[str, float]]) -> list[int]:
        """The candidates' positions, best first (equal scores keep the fused order)."""
        scores = [self.score(f) for f in found]
        return sorted(range(len(found)), key=lambda i: (-scores[i], i))


def parse_model(data: dict) -> Reranker:
    """The reranker from the file's JSON; ValueError names what is wrong."""
    try:
        model = Reranker(
            tuple(data["features"]), tuple(map(float, data["mean"])), tuple(map(float, data["scale"])),
            tuple(map(float, data["coefficients"])), int(data["depth"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{MODEL_FILE}: missing or malformed field {exc}") from exc
    unknown = [name for name in model.features if name not in FEATURES]
    if unknown:
        raise ValueError(f"{MODEL_FILE}: unknown signals {unknown}; re-fit with `icb-assistant eval-fit-reranker`")
    if not model.features or not len(model.features) == len(model.mean) == len(model.scale) == len(model.coefficients):
        raise ValueError(f"{MODEL_FILE}: features, mean, scale and coefficients must have the same length")
    if any(s <= 0 for s in model.scale):
        raise ValueError(f"{MODEL_FILE}: every scale must be positive")
    if model.depth < 0:
        raise ValueError(f"{MODEL_FILE}: depth must be 0 (no reranking) or more")
    return model


@lru_cache(maxsize=1)
def load_model() -> Reranker:
    """The committed reranker (read once per process)."""
    return parse_model(json.loads((resources.files("assistant") / MODEL_FILE).read_text(encoding="utf-8")))
