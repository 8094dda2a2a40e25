"""Run gold items through the assistant (and the naive reference) and score every one.

    from eval.runner import EvalOptions, run_eval
    result = run_eval(items, settings, EvalOptions(backend="extractive", k=5))
    result.rows      # one dict per item: answer, retrieval, every metric, pass/fail, reference

eval/metrics_catalogue.py declares the metrics these rows are summarised into.

The run uses its own index of the corpus (``<home>/eval/``), brought up to date at the start
(unchanged documents are skipped), so documents indexed by hand never change the figures and a
change of chunking or documents always shows. One :class:`assistant.engine.Assistant` answers
every item; follow-ups get their ``history`` as the conversation's earlier questions.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.config import Settings
from assistant.faq import reading_ease
from eval import metrics
from eval.gold import GoldItem

Progress = Callable[[int, int, str], None]  # (done, total, current item id)


class EvalError(RuntimeError):
    """The evaluation cannot run; the message says why and what to do."""


@dataclass
class EvalOptions:
    backend: str = "extractive"
    k: int = 5
    retrieval_only: bool = False
    reference: bool = True
    judge: bool = True  # use the judge when one is configured
    audience: str = "staff"  # "public": answers written for the public, as FAQ drafts are


@dataclass
class RunResult:
    rows: list[dict]
    settings: Settings  # the settings the run used (its own index home)
    options: EvalOptions
    index: dict = field(default_factory=dict)  # documents and chunks in the eval index
    quotes_not_found: list[str] = field(default_factory=list)  # "id: doc" of gold quotes missing from the text
    judge: str = "not configured"  # "model name", "not configured" or "skipped: reason"
    seconds: float = 0.0


# -- the run ---------------------------------------------------------------------------------


def eval_settings(settings: Settings, backend: str, retrieval_only: bool) -> Settings:
    """The settings of the run: the user's, with the index in its own folder ``<home>/eval``.

    The local model stays where the user's home keeps it (it is 1.1 GB: joined once, never twice).
    """
    from assistant.answerers import answerer_class

    update: dict = {"home": settings.home / "eval", "chroma_host": None}
    if answerer_class(backend).starts_model and not retrieval_only and settings.local_model_path is None:
        from assistant.local_model import LocalModelError, assemble_model

        try:
            update["local_model_path"] = assemble_model(settings.models_dir)
        except LocalModelError:
            pass  # the engine meets the same problem, says so, and falls back to extractive answers
    return settings.model_copy(update=update)


def prepare_index(assistant, corpus_dir: Path) -> dict:
    """Bring the eval index up to date with the corpus folder, and only that folder."""
    from index.vectors import ModelMismatch

    indexer = assistant.indexer
    if not Path(corpus_dir).is_dir():
        raise EvalError(f"The corpus folder {corpus_dir} does not exist (ICB_ASSISTANT_CORPUS_DIR).")
    try:
        report = indexer.run([Path(corpus_dir)], prune=True)
    except ModelMismatch:  # the embedding model changed since the eval index was built
        indexer.rebuild()
        report = indexer.run([Path(corpus_dir)], prune=True)
    root = Path(corpus_dir).resolve()
    for record in indexer.catalog.documents():
        if not Path(record.path).resolve().is_relative_to(root):
            indexer.remove(record.doc)  # left from a run over another corpus folder
    records = [r for r in indexer.catalog.documents() if r.state == "complete"]
    if not records:
        failed = "; ".join(f"{path}: {reason}" for path, reason in report.failed) or "no readable documents"
        raise EvalError(f"Nothing could be indexed from {corpus_dir} ({failed}).")
    return {
        "corpus_dir": str(corpus_dir),
        "documents": len(records),
        "chunks": indexer.catalog.chunk_count(),
        "indexed_now": len(report.indexed),
        "failed": [f"{path}: {reason}" for path, reason in report.failed],
    }


def run_eval(
    items: list[GoldItem],
    settings: Settings,
    options: EvalOptions,
    embeddings=None,
    progress: Progress | None = None,
) -> RunResult:
    """Answer (or, retrieval-only, just retrieve) every item and score it; the reference too."""
    from assistant.engine import Assistant

    started = time.perf_counter()
    run_settings = eval_settings(settings, options.backend, options.retrieval_only)
    assistant = Assistant(run_settings, backend=options.backend, embeddings=embeddings)
    try:
        index_info = prepare_index(assistant, settings.corpus_dir)
        catalog = assistant.indexer.catalog
        records = {r.doc: r for r in catalog.documents() if r.state == "complete"}
        texts = {doc: catalog.document_text(doc) or "" for doc in records}

        spans: dict[str, list[list[metrics.Span]]] = {}
        missing: list[str] = []
        for item in items:
            spans[item.id] = []
            for source in item.sources:
                found = metrics.quote_spans(source.doc, source.quote, texts.get(source.doc))
                if not found:
                    missing.append(f"{item.id}: {source.doc}")
                spans[item.id].append(found)

        reference = None
        if options.reference:
            from eval.naive import NaiveReference

            reference = NaiveReference(texts, {doc: r.title for doc, r in records.items()})

        judge, judge_state = None, "not configured"
        if run_settings.judge_model and options.judge and not options.retrieval_only:
            from eval.judge import Judge, judge_problem

            problem = judge_problem(run_settings)
            if problem:
                judge_state = f"skipped: {problem}"
            else:
                judge = Judge(run_settings)
                judge_state = run_settings.judge_model

        rows = []
        for done, item in enumerate(items):
            if progress:
                progress(done, len(items), item.id)
            row = run_item(assistant, item, spans[item.id], options)
            if judge is not None and row["status"] == "answered":
                contexts = row.pop("_contexts", [])
                verdict = judge.grade(item.question, item.reference_answer, contexts, row["answer"])
                row.update(
                    judge_faithfulness=verdict.faithfulness, judge_correctness=verdict.correctness,
                    judge_reason=verdict.reason, judge_error=verdict.error,
                )
            row.pop("_contexts", None)
            if reference is not None:
                row["reference"] = run_reference(reference, item, spans[item.id], options)
            rows.append(row)
        if progress:
            progress(len(items), len(items), "")
    finally:
        assistant.close()
    return RunResult(
        rows=rows, settings=run_settings, options=options, index=index_info,
        quotes_not_found=missing, judge=judge_state, seconds=time.perf_counter() - started,
    )


def run_item(assistant, item: GoldItem, quote_spans: list[list[metrics.Span]], options: EvalOptions) -> dict:
    all_spans = [span for spans in quote_spans for span in spans]
    row: dict = {
        "id": item.id, "type": item.type, "split": item.split, "question": item.question, "history": list(item.history),
        "gold_digest": item.digest,
    }
    answer, search = None, None
    if not options.retrieval_only:
        mark = time.perf_counter()
        answer = assistant.ask(item.question, history=list(item.history), audience=options.audience)
        wall = time.perf_counter() - mark
        row["latency_s"] = answer.timings.get("total", wall)
        search = answer.search  # what the engine searched: the retrieval metrics score exactly that
    if search is None:  # retrieval only, or the engine stopped before retrieving (an error)
        mark = time.perf_counter()
        search = assistant.retrieve(item.question, item.history, k=options.k)
        if answer is None:
            row["latency_s"] = time.perf_counter() - mark
    query = search.query
    if search.k >= options.k:
        passages = list(search.passages[: options.k])  # the fused ranking is cut after sorting: a prefix is the top k
    else:
        passages = assistant.retriever.search(query, k=options.k, filters=search.filters, also=list(search.also))
    row["rewritten_question"] = query
    row.update(score_retrieval(item, passages, quote_spans, all_spans, options.k))
    row["retrieved"] = [
        {"doc": p.doc, "start": p.start, "end": p.end, "section": p.section} for p in passages
    ]
    if answer is None:
        row.update(status="retrieval only", answer="", refused=None, error=None, fallback=None, model="", notices=[])
        row["passed"] = row["hit_at_k"] if item.answerable else None
    else:
        row.update(score_answer(item, answer.status, answer.answer, answer.citations, all_spans))
        row["sentence_support"] = metrics.sentence_support(answer.sentences) if answer.status == "answered" else None
        row["reading_ease"] = reading_ease(answer.answer) if answer.status == "answered" else None
        row["unsupported_sentences"] = [s.to_dict() for s in answer.sentences if s.support != "supported"]
        row["model"] = answer.model
        row["notices"] = list(answer.notices)
        row["fallback"] = answer.fell_back
        row["citations"] = [
            {"n": c.n, "doc": c.doc, "start": c.start, "end": c.end, "section": c.section} for c in answer.citations
        ]
        row["_contexts"] = [f"{c.section}\n{c.text}" if c.section else c.text for c in answer.contexts]
        row.update(score_decision(item, answer.decision))
    row["diagnosis"] = diagnose(item, row)
    return row


def run_reference(reference, item: GoldItem, quote_spans: list[list[metrics.Span]], options: EvalOptions) -> dict:
    all_spans = [span for spans in quote_spans for span in spans]
    row: dict = {"id": item.id, "type": item.type, "split": item.split}
    if options.retrieval_only:
        mark = time.perf_counter()
        passages = reference.search(" ".join([*item.history, item.question]), options.k)
        row.update(score_retrieval(item, passages, quote_spans, all_spans, options.k))
        row.update(status="retrieval only", answer="", refused=None, latency_s=time.perf_counter() - mark)
        row["passed"] = row["hit_at_k"] if item.answerable else None
    else:
        naive = reference.ask(item.question, item.history, options.k)
        row.update(score_retrieval(item, naive.passages, quote_spans, all_spans, options.k))
        row.update(score_answer(item, naive.status, naive.answer, naive.citations, all_spans))
        row["latency_s"] = naive.seconds
    row["diagnosis"] = diagnose(item, row)
    return row


def score_retrieval(item: GoldItem, passages, quote_spans, all_spans, k: int) -> dict:
    if not item.answerable:
        return {"hit_at_k": None, "rank": None, "rr": None, "quote_recall": None, "context_recall": None,
                "context_missing": []}
    context = metrics.context_text(passages[:k])
    return {
        "hit_at_k": metrics.hit_at_k(passages, all_spans, k),
        "rank": metrics.first_hit_rank(passages, all_spans, k) if all_spans else None,
        "rr": metrics.reciprocal_rank(passages, all_spans, k),
        "quote_recall": metrics.quote_recall(passages, quote_spans, k),
        "context_recall": metrics.key_fact_recall(item.key_facts, context),
        "context_missing": metrics.missing_facts(item.key_facts, context),
    }


def score_answer(item: GoldItem, status: str, text: str, citations, all_spans) -> dict:
    refused = status == "unanswerable"
    answered = status == "answered"
    row = {
        "status": status,
        "answer": text,
        "refused": refused,
        "error": status == "error",
        "n_citations": len(citations),
        "citation_coverage": metrics.citation_coverage(text) if answered else None,
    }
    if item.answerable:
        recall = metrics.key_fact_recall(item.key_facts, text) if answered else 0.0
        correct = answered and recall == 1.0  # an answerable item passes when it is fully correct
        row.update(
            answer_recall=recall,
            fully_correct=correct,
            missing_facts=metrics.missing_facts(item.key_facts, text) if answered else [f[0] for f in item.key_facts],
            citation_support=metrics.citation_support(citations, item.key_facts, all_spans) if answered else None,
            passed=correct,
        )
    else:
        row.update(
            answer_recall=None, fully_correct=None, missing_facts=[],
            citation_support=None, passed=refused,
        )
    return row


def score_decision(item: GoldItem, decision) -> dict:
    """The answerability decision's P(answerable), band and signals, and its Brier score
    (squared error of P against whether the item is answerable)."""
    if decision is None:  # the engine stopped before deciding (an error)
        return {"p_answerable": None, "band": None, "signals": {}, "brier": None}
    p = decision.probability
    return {"p_answerable": p, "band": decision.band, "signals": dict(decision.signals),
            "brier": (p - float(item.answerable)) ** 2}


def diagnose(item: GoldItem, row: dict) -> str:
    """One line on what went wrong (or "ok"), telling retrieval misses from answer misses."""
    where = (
        f"gold passage at rank {row['rank']}" if row.get("rank")
        else "gold passage not in the top k" if row.get("hit_at_k") is False
        else "gold quote not found in the indexed text" if item.answerable
        else ""
    )
    status = row.get("status")
    if status == "retrieval only":
        if not item.answerable:
            return "not scored without answers"
        return "ok" if row.get("passed") else where
    if not item.answerable:
        return "refused, as it should" if row.get("refused") else "answered a question the documents do not cover"
    if status == "error":
        return f"error: {row.get('answer', '')[:100]}"
    if row.get("refused"):
        return f"false refusal; {where}"
    if row.get("passed"):
        return "ok"
    missing = ", ".join(repr(f) for f in row.get("missing_facts", []))
    if not row.get("context_missing"):
        return f"missing {missing}; the facts were in the retrieved passages, so the answer step left them out"
    lost = ", ".join(repr(f) for f in row["context_missing"])
    return f"missing {missing}; not in the retrieved passages: {lost}; {where}"
