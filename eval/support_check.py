"""Measure the sentence-support check (assistant/support.py) on corrupted gold reference answers.

    python -m eval.support_check                 # or: icb-assistant eval-support
    python -m eval.support_check --choose        # choose the word-share threshold on dev, report both splits

Each answerable gold item with a reference answer becomes a cited answer: its passages are the
chunks that hold its gold quotes, numbered and widened by the engine's own retriever (as an answer
would cite them: with their headings, their document's title and date, and a short passage's
neighbours), and each sentence of the reference answer cites the passage holding
most of its words, and also a passage holding a figure, year or name of it that the first does
not (as a careful writer cites). That answer, untouched, should pass the check; four corruptions
of it should not:

- **figure**: a sum of money, percentage or other figure in one sentence multiplied by three;
- **year**: a year (or financial year) moved on three years;
- **name**: a place, organisation or person replaced by another name from the documents;
- **document**: one sentence made to cite a passage from another document instead.

Each corruption is made only where its passage does not hold the new figure, year or name, so
every corrupted sentence is wrong. The figures: the **catch rate** (corrupted sentences marked
unsupported) and the **false-flag rate** (untouched answers with any sentence not marked
supported), by split. ``--choose`` picks the word-share threshold on dev: the most catches with
false flags at most 0.05, or at the fewest false flags reached if none is that low (ties: the
lower threshold).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from assistant import support
from assistant.answers import Source
from eval import metrics
from eval.gold import GOLD_PATH, GoldItem, load_gold, select
from index.text import ANSWER_SENTENCE_END, terms

KINDS = ("figure", "year", "name", "document")
THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
MAX_FALSE_FLAGS = 0.05


@dataclass(frozen=True)
class Case:
    """One answer to check: untouched (``corrupted`` is None) or with one sentence corrupted."""

    id: str
    split: str
    sentences: tuple[str, ...]  # each with its citation
    sources: tuple[Source, ...]
    kind: str = ""  # the corruption, "" untouched
    corrupted: int | None = None  # which sentence

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


def _pick(key: str, options: list):
    """One of ``options``, the same every run (by a hash of ``key``)."""
    return options[int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(options)] if options else None


@dataclass(frozen=True)
class Corpus:
    """What the cases are made from: each document's text and chunks (in document order), and the
    engine's own numbering of passages (``number``: chunks → a source widened as an answer's is)."""

    texts: dict[str, str]
    chunks: dict[str, list]  # doc -> its StoredChunks, in document order
    number: Callable[[list, int], Source]  # (the chunks holding a quote, n) -> the numbered source


def passage(corpus: Corpus, span: metrics.Span, n: int) -> Source:
    """The chunks that hold the gold quote, as the numbered source an answer would cite."""
    held = [c for c in corpus.chunks.get(span.doc, []) if c.start < span.end and span.start < c.end] or [
        min(corpus.chunks[span.doc], key=lambda c: abs(c.start - span.start))]
    return corpus.number(held, n)


def reference_case(item: GoldItem, corpus: Corpus) -> Case | None:
    """The item's reference answer, each sentence citing the gold passage holding most of its words,
    and also those holding a figure, year or name of it that the first does not; None without one."""
    sources: list[Source] = []
    for source in item.sources:
        spans = metrics.quote_spans(source.doc, source.quote, corpus.texts.get(source.doc))
        if spans and corpus.chunks.get(source.doc):
            made = passage(corpus, spans[0], len(sources) + 1)
            if not any((s.doc, s.start) == (made.doc, made.start) for s in sources):
                sources.append(made)
    pieces = [p.strip() for line in item.reference_answer.splitlines() for p in ANSWER_SENTENCE_END.split(line) if p.strip()]
    if not sources or not pieces:
        return None
    held = {s.n: set(terms(support.context(s))) for s in sources}
    contexts = {s.n: (support.context(s).lower(), support.specifics(support.context(s))) for s in sources}
    cited = []
    for piece in pieces:
        words = set(terms(piece))
        chosen = [max(held, key=lambda n: (len(words & held[n]), -n))]
        for specific in support.specifics(piece):  # as a careful writer would: cite where each fact is
            if not any(support.held(specific, contexts[n][1], contexts[n][0], None) for n in chosen):
                chosen += [n for n in held if n not in chosen and support.held(specific, contexts[n][1], contexts[n][0], None)][:1]
        cited.append(f"{piece} " + "".join(f"[{n}]" for n in sorted(chosen)))
    return Case(item.id, item.split, tuple(cited), tuple(sources))


def _scaled_figure(written: str, factor: int) -> str:
    """The figure in ``written`` multiplied by ``factor``, written the same way ("£5.4bn" x3: "£16.2bn")."""
    def times(match: re.Match) -> str:
        value = float(match.group().replace(",", "")) * factor
        decimals = len(match.group().split(".")[1]) if "." in match.group() else 0
        return f"{value:,.{decimals}f}" if "," in match.group() else f"{value:.{decimals}f}"
    return re.sub(r"\d[\d,]*(?:\.\d+)?", times, written, count=1)


def _moved_year(written: str, years: int) -> str:
    """A year or financial year moved on ``years`` ("2027/28" +3: "2030/31")."""
    return re.sub(r"\d{2,4}", lambda m: str(int(m.group()) + years).zfill(len(m.group()))[-len(m.group()):], written)


# how a figure or a year is changed: the kinds of specific it applies to, and the changes tried in turn
_CHANGES = {
    "figure": (("money", "percent", "number"), [lambda w: _scaled_figure(w, 3), lambda w: _scaled_figure(w, 7)]),
    "year": (("year",), [lambda w: _moved_year(w, 3), lambda w: _moved_year(w, 5)]),
}


def corruptions(case: Case, names: list[str], foreign: list[Source], glossary=None) -> list[Case]:
    """The corrupted cases of an untouched one: one of each kind that can be made (in the first
    sentence that allows it)."""
    by_number = {s.n: s for s in case.sources}
    checked = []  # each sentence citing a known passage: (position, text, its passages' text, their specifics)
    for i, sentence in enumerate(case.sentences):
        split = support.sentences(sentence)
        passages = [by_number[n] for n in (split[0][1] if split else ()) if n in by_number]
        if passages:
            context = "\n".join(support.context(p) for p in passages)
            checked.append((i, sentence, context, support.specifics(context)))

    def with_sentence(i: int, new: str, **changed) -> Case:
        return replace(case, sentences=case.sentences[:i] + (new,) + case.sentences[i + 1:], corrupted=i, **changed)

    made: list[Case] = []
    for kind in KINDS:
        for i, sentence, context, held in checked:
            if kind in _CHANGES:
                kinds, changes = _CHANGES[kind]
                found = [s for s in support.specifics(sentence) if s.kind in kinds]
                # only a change its passages do not hold: every corrupted sentence is wrong
                new = next((sentence.replace(found[0].written, changed, 1) for change in changes if found
                            for changed in [change(found[0].written)]
                            if support.specifics(changed)
                            and not any(support.held(s, held, context.lower(), glossary) for s in support.specifics(changed)
                                        if s.kind != "name")), None)
            elif kind == "name":
                found = [s for s in support.specifics(sentence) if s.kind == "name"]
                pool = [n for n in names if n.lower() not in context.lower() and n.lower() != found[0].value] if found else []
                other = _pick(f"{case.id}:{found[0].written}", pool) if found else None
                new = re.sub(rf"(?<!\w){re.escape(found[0].written)}(?!\w)", other, sentence, count=1) if other else None
            else:  # document
                if len(set(terms(sentence))) < support.MIN_WORDS:
                    continue  # "Yes. [1]" states nothing a passage could contradict
                other = _pick(f"{case.id}:document", [s for s in foreign if all(s.doc != p.doc for p in case.sources)])
                if other:
                    n = len(case.sources) + 1
                    made.append(with_sentence(i, re.sub(r"\[\d+\]", f"[{n}]", sentence), kind=kind,
                                              sources=case.sources + (replace(other, n=n),)))
                    break
                continue
            if new is not None and new != sentence:
                made.append(with_sentence(i, new, kind=kind))
                break
    return made


def build(items: list[GoldItem], corpus: Corpus, glossary=None) -> list[Case]:
    """Every untouched case and its corruptions."""
    untouched = [c for c in (reference_case(item, corpus) for item in items if item.answerable) if c]
    names = sorted({n for text in corpus.texts.values() for n in support.names(text) if len(n) > 3 and not n.isupper()})
    foreign = [s for c in untouched for s in c.sources]
    cases: list[Case] = []
    for case in untouched:
        cases.append(case)
        cases += corruptions(case, names, foreign, glossary)
    return cases


def measure(cases: list[Case], min_word_share: float, glossary=None) -> dict:
    """Catch rate (by kind) and false-flag rate of the check over ``cases``."""
    caught: dict[str, list[bool]] = {kind: [] for kind in KINDS}
    flagged: list[bool] = []
    missed: list[str] = []
    for case in cases:
        checked = support.check(case.text, case.sources, glossary, min_word_share)
        if case.corrupted is None:
            flagged.append(not support.supported(checked))
        else:  # the corrupted sentence, found by its text (a lead-in or list line would shift the count)
            wrong = case.sentences[case.corrupted]
            found = [s for s in checked if s.text == wrong] or checked[case.corrupted:case.corrupted + 1]
            hit = bool(found) and found[0].support != "supported"
            caught[case.kind].append(hit)
            if not hit:
                missed.append(f"{case.id} {case.kind}: {case.sentences[case.corrupted]}")
    every = [hit for hits in caught.values() for hit in hits]
    return {
        "answers": len(flagged),
        "false_flag_rate": round(sum(flagged) / len(flagged), 4) if flagged else None,
        "corruptions": len(every),
        "catch_rate": round(sum(every) / len(every), 4) if every else None,
        "by_kind": {kind: {"n": len(hits), "catch_rate": round(sum(hits) / len(hits), 4) if hits else None}
                    for kind, hits in caught.items()},
        "missed": missed,
    }


def choose(cases: list[Case], glossary=None) -> float:
    """The word-share threshold with the most catches at false flags <= MAX_FALSE_FLAGS on these (dev) cases."""
    results = {t: measure(cases, t, glossary) for t in THRESHOLDS}
    fewest = min(results[t]["false_flag_rate"] for t in THRESHOLDS)
    allowed = [t for t in THRESHOLDS if results[t]["false_flag_rate"] <= max(MAX_FALSE_FLAGS, fewest)]
    return max(allowed, key=lambda t: (results[t]["catch_rate"], -t))


def engine_corpus(assistant) -> Corpus:
    """The corpus of an engine's index, its passages numbered and widened by its own retriever."""
    from assistant.retrieval import _passage

    catalog = assistant.indexer.catalog
    records = {r.doc: r for r in catalog.documents() if r.state == "complete"}
    chunks: dict[str, list] = {}
    for chunk in sorted(catalog.chunks_by_id(sorted(catalog.chunk_ids())).values(), key=lambda c: (c.doc, c.index)):
        if chunk.doc in records:
            chunks.setdefault(chunk.doc, []).append(chunk)

    def number(held: list, n: int) -> Source:
        record = records[held[0].doc]
        passages = [_passage(c, record.title, record.date or "", 0.0, None, None, record.provenance) for c in held]
        sources = assistant.retriever.sources(passages, 10_000, assistant.indexer.chunker.tokens)
        first, last = sources[0], sources[-1]
        text = catalog.document_text(first.doc) or ""
        return replace(first, n=n, end=last.end, text=text[first.start:last.end] if text else "\n".join(s.text for s in sources))

    return Corpus({doc: catalog.document_text(doc) or "" for doc in records}, chunks, number)


def main(argv: list[str] | None = None) -> int:
    from assistant.config import load_settings
    from assistant.engine import Assistant
    from eval.runner import eval_settings, prepare_index

    parser = argparse.ArgumentParser(prog="python -m eval.support_check", description=__doc__.split("\n")[0])
    parser.add_argument("--gold", type=Path, default=GOLD_PATH)
    parser.add_argument("--choose", action="store_true", help="choose the word-share threshold on dev first")
    parser.add_argument("--min-word-share", type=float, default=support.MIN_WORD_SHARE)
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    parser.add_argument("--show-missed", action="store_true", help="print the dev corruptions the check missed")
    args = parser.parse_args(argv)
    settings = load_settings()
    assistant = Assistant(eval_settings(settings, "extractive", True), backend="extractive")
    try:
        prepare_index(assistant, settings.corpus_dir)
        catalog = assistant.indexer.catalog
        corpus = engine_corpus(assistant)
        glossary = assistant.retriever.glossary()
        items = load_gold(args.gold)
        by_split = {split: build(select(items, splits=[split]), corpus, glossary) for split in ("dev", "test")}
    finally:
        assistant.close()
    threshold = choose(by_split["dev"], glossary) if args.choose else args.min_word_share
    figures = {"min_word_share": threshold, **{split: measure(cases, threshold, glossary) for split, cases in by_split.items()}}
    print(f"Sentence-support check, word share >= {threshold}" + (" (chosen on dev)" if args.choose else ""))
    print(f"{'split':6} {'answers':>7} {'false flags':>11} {'corruptions':>11} {'caught':>7}  " + "  ".join(f"{k:>8}" for k in KINDS))
    for split in ("dev", "test"):
        f = figures[split]
        kinds = "  ".join(f"{f['by_kind'][k]['catch_rate'] if f['by_kind'][k]['catch_rate'] is not None else '–':>8}" for k in KINDS)
        print(f"{split:6} {f['answers']:>7} {f['false_flag_rate']:>11} {f['corruptions']:>11} {f['catch_rate']:>7}  {kinds}")
    if args.show_missed:
        print("\n".join(figures["dev"]["missed"]))
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
