"""Fit the answerability model on the gold set's dev items and write assistant/answerability.json.

    python -m eval.fit_answerability          # or: icb-assistant eval-fit-answerability
    python -m eval.fit_answerability --out /tmp/answerability.json --l2 1.0

Every dev item is answered through the engine with the extractive backend, exactly as
``icb-assistant eval`` does (its own index under ``<home>/eval``, follow-ups rewritten by the
engine's rule), and the signals of :mod:`assistant.answerability` are read from each answer's
decision. A logistic model (L2-regularised, standardised signals, fitted by Newton's method) then
predicts whether an item is answerable. The thresholds are chosen on out-of-fold probabilities
(5 folds by a hash of the id: each item scored by a model that never saw it), so the figures they
promise hold for questions the fit has not seen, with a margin under the issue's targets:

- extractive: refuse below ``extractive``; the most refusals with false refusal <= 0.05 (target 0.08);
- LLM: refuse below ``refuse`` before generation; the most refusals with false refusal <= 0.02
  (target 0.05); answer without doubt at or above ``answer``, the lowest P below which at least
  0.90 of the unanswerable items lie (target refusal 0.85): the band between goes to the model.

Beside the dev items, the fit reads ``eval/answerability_questions.jsonl``: questions written from the
five documents by people who never saw the gold set (four sets of unseen questions, stops 29 to 32),
each marked answerable or not, and none close to a test question (those were left out). They are
fitted on as dev items are, so that the model learns from more kinds of question than dev holds
(``--no-extra``: dev items only); the file's figures are reported beside dev's.

Test items are never read: the fit refuses them. Run it again after any change to retrieval, the
index or the signals, and commit the file it writes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from assistant.answerability import MODEL_FILE, out_of_scope, parse_model
from eval.gold import GOLD_PATH, REPO, GoldItem, file_hash, load_gold, sample_key, select

OUT = REPO / "assistant" / MODEL_FILE
EXTRA = REPO / "eval" / "answerability_questions.jsonl"
L2 = 5.0  # penalty on the standardised coefficients (not the intercept)
# the signals the model weighs: chosen on dev by out-of-fold AUC and Brier score (0.82 and 0.088
# with the first six; 0.79 and 0.096 with all eleven of assistant.answerability.SIGNALS then);
# pairs_found added on the 181 dev items of format 2: out-of-fold refusal 0.41 -> 0.48 at false refusal 0.046;
# then (after the retrieval changes) live_figure and an answer_type that needs the figure beside what the
# question is about: 0.379 -> 0.448 at 0.046, Brier 0.099 -> 0.093 (L2 1, 2, 5, 10: Brier 0.096, 0.095, 0.093, 0.093)
# then, on 243 dev items (79 unanswerable, the 50 new ones of the kinds test holds) with the names rule and a
# "when" answer's date read from its cited headings too: out-of-fold refusal 0.38 -> 0.51 (the rule) -> 0.62 at
# false refusal 0.049 with specific_together and fused_gap (Brier 0.122 -> 0.117; keyword_top, dense_top,
# unknown_share, L2 1/2/10 measured no better); a cost question's answer needing a sum of money: 0.646, Brier 0.113;
# the extractive answer read with the glossary's other forms, and a family member's care as personal advice:
# 0.722 at 0.049, Brier 0.108; with the reranker ordering the top five (fused_top and fused_gap read the
# highest fused scores, whatever comes first): 0.734 at 0.049, Brier 0.1075
FEATURES = ("coverage", "dense_mean", "answer_type", "fused_top", "specific_found", "agreement", "pairs_found",
            "live_figure", "specific_together", "fused_gap")
FOLDS = 5
# out of scope whatever the model says (assistant.answerability.out_of_scope): more than half the words in no
# document (dev answerables reach 0.4: "What's", "LTC"), a year no retrieved passage names, a proper name no
# document holds, or a question asking for personal medical advice or an opinion (the fit's "out_of_scope"
# figures say what these rules catch on dev)
OFF_TOPIC = 0.5
TARGETS = {"extractive_false_refusal": 0.05, "llm_false_refusal": 0.02, "llm_refusal": 0.90}


class FitError(RuntimeError):
    """The fit cannot run; the message says why."""


def dev_only(items: list[GoldItem]) -> list[GoldItem]:
    """The items, when every one is a dev item; test items are held out and must never be fitted on."""
    test = [item.id for item in items if item.split != "dev"]
    if test:
        raise FitError(f"Refusing to fit on {len(test)} test items ({', '.join(test[:5])}...): fit on dev items only.")
    if not any(item.answerable for item in items) or all(item.answerable for item in items):
        raise FitError("The dev items must hold both answerable and unanswerable questions.")
    return items


def collect(items: list[GoldItem], settings) -> list[dict]:
    """Each dev item's eval row (status, P and signals) from one extractive run through the engine."""
    from eval.runner import EvalOptions, run_eval

    result = run_eval(dev_only(items), settings, EvalOptions(backend="extractive", reference=False, judge=False))
    return result.rows


def load_extra(path: Path) -> list[dict]:
    """The extra questions: each with an ``id``, a ``question``, its ``history`` (earlier questions),
    its ``type`` and whether it is ``answerable``; FitError names a line that is not so."""
    questions, seen = [], set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            ok = (isinstance(item.get("id"), str) and isinstance(item.get("question"), str) and item["question"].strip()
                  and isinstance(item.get("history", []), list) and isinstance(item.get("answerable"), bool)
                  and isinstance(item.get("type"), str) and (item["type"] == "unanswerable") != item["answerable"])
        except (json.JSONDecodeError, AttributeError):
            ok = False
        if not ok or item["id"] in seen:
            raise FitError(f"{path}, line {number}: expected a new id, a question, its history, its type and "
                           f"answerable (true or false, and false only for type unanswerable)")
        seen.add(item["id"])
        questions.append(item)
    return questions


def collect_extra(questions: list[dict], settings) -> list[dict]:
    """Each extra question's signals, asked through the engine as an eval run asks a dev item."""
    from assistant.engine import Assistant
    from eval.runner import eval_settings, prepare_index

    assistant = Assistant(eval_settings(settings, "extractive", False), backend="extractive")
    try:
        prepare_index(assistant, settings.corpus_dir)
        rows = []
        for item in questions:
            answer = assistant.ask(item["question"], history=item.get("history") or [])
            signals = answer.decision.signals if answer.decision else None
            if signals:  # none only when the question never reached retrieval (an error): nothing to learn
                rows.append({"id": item["id"], "type": item["type"], "signals": signals, "extra": True})
        return rows
    finally:
        assistant.close()


# -- the logistic model --------------------------------------------------------------------------


def standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    return mean, np.where(scale > 1e-9, scale, 1.0)


def fit_logistic(z: np.ndarray, y: np.ndarray, l2: float = L2, steps: int = 100) -> tuple[np.ndarray, float]:
    """Coefficients and intercept maximising the L2-penalised log likelihood (Newton's method /
    IRLS) over standardised features ``z``; the intercept is not penalised."""
    design = np.hstack([np.ones((len(z), 1)), z])
    penalty = np.diag([0.0] + [l2] * z.shape[1])
    w = np.zeros(design.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-design @ w))
        gradient = design.T @ (p - y) + penalty @ w
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return w[1:], float(w[0])


def predict(z: np.ndarray, coefficients: np.ndarray, intercept: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(z @ coefficients + intercept)))


def out_of_fold(x: np.ndarray, y: np.ndarray, ids: list[str], l2: float = L2) -> np.ndarray:
    """Each item's P from a model fitted (and standardised) without its fold."""
    folds = np.array([int(sample_key(0, i), 16) % FOLDS for i in ids])
    p = np.zeros(len(y))
    for fold in range(FOLDS):
        held = folds == fold
        mean, scale = standardise(x[~held])
        coefficients, intercept = fit_logistic((x[~held] - mean) / scale, y[~held], l2)
        p[held] = predict((x[held] - mean) / scale, coefficients, intercept)
    return p


# -- thresholds and figures -------------------------------------------------------------------------


def rates(p: np.ndarray, y: np.ndarray, threshold: float) -> dict:
    """Refusal (of unanswerable items) and false refusal (of answerable ones) when P < threshold refuses."""
    refused = p < threshold
    return {"refusal": float(refused[y == 0].mean()), "false_refusal": float(refused[y == 1].mean())}


def _candidates(p: np.ndarray) -> list[float]:
    values = np.unique(p)
    return [0.0] + [float((a + b) / 2) for a, b in zip(values, values[1:])] + [1.0]


def most_refusals(p: np.ndarray, y: np.ndarray, max_false_refusal: float) -> float:
    """The threshold refusing the most unanswerable items with false refusal <= the limit (the
    middle of the range of thresholds that do, so that it sits between items, not on one)."""
    allowed = [(t, rates(p, y, t)) for t in _candidates(p) if rates(p, y, t)["false_refusal"] <= max_false_refusal]
    best = max(r["refusal"] for _, r in allowed)
    tied = [t for t, r in allowed if r["refusal"] == best]
    return (min(tied) + max(tied)) / 2


def least_doubt(p: np.ndarray, y: np.ndarray, min_refusal: float) -> float:
    """The lowest threshold below which at least ``min_refusal`` of the unanswerable items lie."""
    return next((t for t in _candidates(p) if rates(p, y, t)["refusal"] >= min_refusal), 1.0)


def by_type(rows: list[dict], p: np.ndarray, threshold: float) -> dict:
    types: dict[str, list[bool]] = {}
    for row, value in zip(rows, p):
        types.setdefault(row["type"], []).append(bool(value < threshold))
    return {t: {"n": len(v), "refused": round(sum(v) / len(v), 3)} for t, v in types.items()}


def figures(rows: list[dict], p: np.ndarray, y: np.ndarray, thresholds: dict) -> dict:
    """What the thresholds do on dev: refusal and false refusal, overall and by type; the bands."""
    bands = np.where(p >= thresholds["answer"], "answerable", np.where(p < thresholds["refuse"], "refused", "uncertain"))
    count = {name: {"answerable": int(((bands == name) & (y == 1)).sum()), "unanswerable": int(((bands == name) & (y == 0)).sum())}
             for name in ("answerable", "uncertain", "refused")}
    return {
        "brier": round(float(np.mean((p - y) ** 2)), 4),
        "extractive": {**_rounded(rates(p, y, thresholds["extractive"])), "by_type": by_type(rows, p, thresholds["extractive"])},
        "llm_refused_before_generation": _rounded(rates(p, y, thresholds["refuse"])),
        # with an LLM, the most it can refuse: every unanswerable item below ``answer``, if it says NOT_IN_DOCUMENTS
        "llm_refusal_ceiling": round(rates(p, y, thresholds["answer"])["refusal"], 3),
        "bands": count,
    }


def _rounded(values: dict) -> dict:
    return {name: round(value, 3) for name, value in values.items()}


def fit(rows: list[dict], l2: float = L2) -> dict:
    """The model file's content from the dev items' eval rows."""
    x = np.array([[row["signals"][name] for name in FEATURES] for row in rows], dtype=float)
    x = np.where(np.isnan(x), np.nanmean(x, axis=0), x)  # nothing to measure (None): the mean, as the engine reads it
    y = np.array([0.0 if row["type"] == "unanswerable" else 1.0 for row in rows])
    off_topic = np.array([out_of_scope(row["signals"], OFF_TOPIC) for row in rows])
    extra = np.array([bool(row.get("extra")) for row in rows])
    held_out = np.where(off_topic, 0.0, out_of_fold(x, y, [row["id"] for row in rows], l2))
    thresholds = {
        "refuse": most_refusals(held_out, y, TARGETS["llm_false_refusal"]),
        "extractive": most_refusals(held_out, y, TARGETS["extractive_false_refusal"]),
    }
    thresholds["answer"] = max(least_doubt(held_out, y, TARGETS["llm_refusal"]), thresholds["extractive"])
    thresholds["refuse"] = min(thresholds["refuse"], thresholds["extractive"])
    thresholds["off_topic"] = OFF_TOPIC
    mean, scale = standardise(x)
    coefficients, intercept = fit_logistic((x - mean) / scale, y, l2)
    in_sample = np.where(off_topic, 0.0, predict((x - mean) / scale, coefficients, intercept))
    return {
        "features": list(FEATURES),
        "mean": [round(v, 6) for v in mean.tolist()],
        "scale": [round(v, 6) for v in scale.tolist()],
        "coefficients": [round(v, 6) for v in coefficients.tolist()],
        "intercept": round(intercept, 6),
        "l2": l2,
        "thresholds": {name: round(value, 4) for name, value in thresholds.items()},
        "chosen_for": TARGETS,
        "dev": {
            "items": len(rows), "answerable": int(y.sum()), "unanswerable": int(len(y) - y.sum()),
            "out_of_scope": {"answerable": int((off_topic & (y == 1)).sum()), "unanswerable": int((off_topic & (y == 0)).sum())},
            "out_of_fold": figures(rows, held_out, y, thresholds),
            "in_sample": figures(rows, in_sample, y, thresholds),
            # the same out-of-fold figures for the gold set's dev items and for the extra questions apart
            "out_of_fold_apart": {
                name: {"items": int(chosen.sum()), **_rounded(rates(held_out[chosen], y[chosen], thresholds["extractive"]))}
                for name, chosen in (("gold_dev", ~extra), ("extra", extra)) if chosen.any()
            },
        },
    }


def main(argv: list[str] | None = None) -> int:
    from assistant.config import load_settings
    from eval.report import git_state, utc_now

    parser = argparse.ArgumentParser(prog="python -m eval.fit_answerability", description=__doc__.split("\n")[0])
    parser.add_argument("--gold", type=Path, default=GOLD_PATH, help="the gold set (its dev items are used)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"the model file to write (default {OUT})")
    parser.add_argument("--l2", type=float, default=L2, help="L2 penalty on the standardised coefficients")
    parser.add_argument("--extra", type=Path, default=EXTRA, help=f"more labelled questions to fit on (default {EXTRA})")
    parser.add_argument("--no-extra", action="store_true", help="fit on the gold set's dev items only")
    args = parser.parse_args(argv)
    try:
        extra = [] if args.no_extra else load_extra(args.extra)
        items = select(load_gold(args.gold), splits=["dev"])
        settings = load_settings()
        rows = collect(items, settings) + (collect_extra(extra, settings) if extra else [])
    except (FitError, OSError) as exc:
        print(exc, file=sys.stderr)
        return 2
    model = fit(rows, args.l2)
    git = git_state(REPO)
    model["fitted"] = {
        "command": "python -m eval.fit_answerability", "created": utc_now(), "git_commit": git.get("commit"),
        "git_dirty": git.get("dirty"), "gold_set_sha256": file_hash(args.gold), "backend": "extractive",
        "extra_questions": None if args.no_extra else {"file": str(args.extra.relative_to(REPO)) if args.extra.is_relative_to(REPO)
                                                       else str(args.extra), "sha256": file_hash(args.extra), "items": len(extra)},
    }
    parse_model(model)  # what the engine will read
    args.out.write_text(json.dumps(model, indent=2) + "\n", encoding="utf-8")
    dev = model["dev"]["out_of_fold"]
    print(f"Fitted on {len(rows)} questions ({len(items)} dev items, {len(rows) - len(items)} extra); thresholds {model['thresholds']}")
    print(f"out of fold: extractive refusal {dev['extractive']['refusal']:.3f}, false refusal "
          f"{dev['extractive']['false_refusal']:.3f}; LLM refused before generation {dev['llm_refused_before_generation']}, "
          f"ceiling {dev['llm_refusal_ceiling']:.3f}; Brier {dev['brier']:.4f}")
    for name, found in model["dev"]["out_of_fold_apart"].items():
        print(f"  {name}: {found['items']} items, refusal {found['refusal']:.3f}, false refusal {found['false_refusal']:.3f}")
    print(f"Wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
