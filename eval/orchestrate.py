"""One evaluation run from its options to its folder and verdict; and the repeat of a saved run.

    request = EvalRequest(backend="extractive", ids="ci-001,rm-010")
    plan = prepare(request, settings)          # the items chosen, the baseline read and checked
    outcome = execute(plan, progress)          # run, write the run folder, gate, maybe a new baseline
    request, settings = repeat("eval/runs/<run>/config.json", given={"k": 3})

Each run writes its folder (eval/report.py) with a ``config.json`` that holds what is needed to
run it again: the command's options, the item ids, the gold set and the settings used. A repeat
reads it back: the same items, backend, k, mode, reference and settings, into a new folder next
to the old one; options given again on the command line win over the saved ones. Nothing here
prints: eval/console.py shows the progress, the summary and the verdict.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from assistant.config import REPO_ROOT, Settings
from eval import baseline as gate
from eval.gold import GOLD_PATH, GoldItem, GoldSetError, file_hash, load_gold, parse_id_list, read_ids, select
from eval.report import git_state, redact, run_folder, utc_now, write_run
from eval.runner import EvalError, EvalOptions, Progress, run_eval

RUNS = REPO_ROOT / "eval" / "runs"


def runs_folder(settings: Settings) -> Path:
    """Where a run's folder goes by default: ``eval/runs`` in a source checkout; for an installed
    package (a wheel, where REPO_ROOT is site-packages) ``<home>/eval-runs``."""
    return RUNS if (REPO_ROOT / "pyproject.toml").is_file() else settings.home / "eval-runs"
SELECTION = ("ids", "types", "split", "per_type", "sample", "seed", "gold")  # the options that choose the items


@dataclass
class EvalRequest:
    """What `icb-assistant eval` is asked to do (config.json keeps it under "command")."""

    backend: str
    sample: int | None = None
    seed: int = 0
    ids: str | None = None  # a file of ids or a comma-separated list
    types: str | None = None
    split: str | None = None  # "dev" or "test" (comma-separated for both); None: every item
    per_type: int | None = None  # a stratified sample: this many items of each type (see --seed)
    retrieval_only: bool = False
    audience: str = "staff"  # "public": answers written for the public (plain English), as FAQ drafts are
    k: int = 5
    baseline: Path | None = None  # None: eval/baselines/<backend>[-retrieval].json
    update_baseline: bool = False
    reference: bool = True
    gold: Path | None = None  # None: eval/gold_set.jsonl
    out: Path | None = None  # None: eval/runs/
    items: list[str] | None = None  # a repeat: exactly these ids (ids/types/sample above say how they were chosen)
    repeat_of: str | None = None  # the run this one repeats

    @property
    def mode(self) -> str:
        return "retrieval-only" if self.retrieval_only else "full" if self.audience == "staff" else "full, for the public"

    def selection(self) -> str:
        """How the items were chosen, in words."""
        chosen = ", ".join(
            part for part in (
                f"ids {self.ids}" if self.ids else "", f"types {self.types}" if self.types else "",
                f"split {self.split}" if self.split else "",
                f"{self.per_type} a type (seed {self.seed})" if self.per_type else "",
                f"sample {self.sample} (seed {self.seed})" if self.sample else "",
            ) if part
        ) or "all items"
        return f"{chosen}; repeat of {self.repeat_of}" if self.repeat_of else chosen


@dataclass
class Plan:
    """A run ready to start: its items and the baseline it will be compared with."""

    request: EvalRequest
    settings: Settings
    gold_path: Path
    items_all: list[GoldItem]
    chosen: list[GoldItem]
    baseline_path: Path
    old: dict | None  # the baseline as read (None: there is none)
    fits: bool  # it was made with this backend, k and mode: compare with it


@dataclass
class Outcome:
    folder: Path
    summary: dict
    verdict: dict  # the gate's: verdict, message, lines
    notes: list[str] = field(default_factory=list)  # things to tell the user beside the report


def prepare(request: EvalRequest, settings: Settings) -> Plan:
    """Choose the items and read the baseline; EvalError says what is wrong before anything runs."""
    gold_path = request.gold or GOLD_PATH
    try:
        items_all = load_gold(gold_path)
        if request.items is not None:
            chosen = select(items_all, ids=request.items)
        else:
            chosen = select(
                items_all,
                ids=read_ids(request.ids) if request.ids else None,
                types=parse_id_list(request.types) if request.types else None,
                splits=parse_id_list(request.split) if request.split else None,
                per_type=request.per_type,
                sample=request.sample,
                seed=request.seed,
            )
    except GoldSetError as exc:
        raise EvalError(str(exc)) from exc
    baseline_path = request.baseline or gate.default_path(REPO_ROOT, request.backend, request.retrieval_only, request.audience)
    old, fits = None, False
    try:
        old = gate.load_baseline(baseline_path)
        if old is not None:
            gate.check_fits(old, request.backend, request.k, request.retrieval_only, baseline_path, request.audience)
            fits = True
    except gate.BaselineError as exc:
        if not request.update_baseline:
            raise EvalError(str(exc)) from exc
        # it is being replaced: keep its tolerances (if it could be read), compare nothing with it
    return Plan(request, settings, gold_path, items_all, chosen, baseline_path, old, fits)


def execute(plan: Plan, progress: Progress | None = None) -> Outcome:
    """Run the plan, write its folder, apply the gate, and write a new baseline when asked."""
    request, notes = plan.request, []
    options = EvalOptions(backend=request.backend, k=request.k, retrieval_only=request.retrieval_only,
                          reference=request.reference, audience=request.audience)
    result = run_eval(plan.chosen, plan.settings, options, progress=progress)
    if result.judge.startswith("skipped"):
        notes.append(f"the LLM judge was {result.judge}.")

    comparison = gate.compare(result.rows, plan.old, plan.baseline_path) if plan.old is not None and plan.fits else None
    verdict = gate.verdict(comparison, plan.baseline_path, updated=request.update_baseline)

    git = git_state(REPO_ROOT)
    models = [row.get("model") for row in result.rows if row.get("model")]
    meta = {
        "run": "", "backend": request.backend, "model": max(set(models), key=models.count) if models else "",
        "mode": request.mode, "k": request.k, "items": len(plan.chosen), "selection": request.selection(),
        "gold_set_sha256": file_hash(plan.gold_path), "git_commit": git.get("commit"), "git_dirty": git.get("dirty"),
        "judge": result.judge, "seconds": result.seconds, "created": utc_now(),
    }
    folder = run_folder(request.out or runs_folder(plan.settings), request.backend)
    meta["run"] = folder.name
    hidden = {name for name in Settings.model_fields if name.endswith("api_key")}
    config = {
        "run": folder.name,
        "created": meta["created"],
        "command": {"backend": request.backend, "sample": request.sample, "seed": request.seed, "ids": request.ids,
                    "types": request.types, "split": request.split, "per_type": request.per_type, "retrieval_only": request.retrieval_only, "audience": request.audience,
                    "k": request.k, "baseline": str(plan.baseline_path), "update_baseline": request.update_baseline,
                    "reference": request.reference},
        "items": [item.id for item in plan.chosen],
        "repeat_of": request.repeat_of,
        "gold_set": {"path": str(plan.gold_path), "sha256": meta["gold_set_sha256"], "items_total": len(plan.items_all)},
        "git": git,
        "settings": redact(result.settings.model_dump(mode="json", exclude=hidden)),
        "eval_index": result.index,
        "judge": result.judge,
        "python": sys.version.split()[0],
    }
    summary = write_run(folder, result, meta, config, comparison, verdict)

    if request.update_baseline:
        tolerances = (plan.old or {}).get("tolerances")
        baseline_meta = {"backend": request.backend, "model": meta["model"], "retrieval_only": request.retrieval_only,
                         "audience": request.audience, "k": request.k, "git_commit": git.get("commit"), "gold_set_sha256": meta["gold_set_sha256"],
                         "run": folder.name}
        gate.write_baseline(plan.baseline_path, gate.make_baseline(result.rows, baseline_meta, tolerances))
        if plan.old is not None and len(plan.old.get("items", {})) != len(result.rows):
            notes.append(f"the baseline now holds {len(result.rows)} items (it held {len(plan.old['items'])}).")
    return Outcome(folder, summary, verdict, notes)


# -- the repeat of a saved run ----------------------------------------------------------------------


def read_config(source: Path) -> tuple[Path, dict]:
    """(path, content) of a run's config.json, given the file or its run folder."""
    path = Path(source) / "config.json" if Path(source).is_dir() else Path(source)
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EvalError(f"Could not read the run's config {path}: {exc}") from exc
    if not (isinstance(saved, dict) and isinstance(saved.get("command"), dict) and isinstance(saved.get("items"), list)
            and isinstance(saved.get("settings"), dict)):
        raise EvalError(f"{path} is not the config.json of an evaluation run (eval/runs/<run>/config.json).")
    return path, saved


def repeat(source: Path, given: dict) -> tuple[EvalRequest, Settings]:
    """The request and settings of a saved run, with the options ``given`` on the command line on top.

    ``given`` holds EvalRequest fields. The items are the saved run's, so the options that choose
    items are refused; the saved baseline is kept unless the backend or mode changes (then the
    default one of the new backend and mode is used). A repeat never rewrites the baseline unless
    ``update_baseline`` is given. The new folder goes next to the saved run unless ``out`` is given.
    """
    path, saved = read_config(source)
    chosen_again = [name for name in SELECTION if name in given]
    if chosen_again:
        raise EvalError("A repeated run answers the items of the saved run: leave out "
                        + ", ".join(f"--{name}" for name in chosen_again) + " with --from-run.")
    command = saved["command"]
    backend = given.get("backend") or command["backend"]
    retrieval_only = given.get("retrieval_only", command["retrieval_only"])
    audience = given.get("audience", command.get("audience", "staff"))
    same_baseline = (backend == command["backend"] and retrieval_only == command["retrieval_only"]
                     and audience == command.get("audience", "staff"))
    request = EvalRequest(
        backend=backend,
        sample=command.get("sample"),
        seed=command.get("seed", 0),
        ids=command.get("ids"),
        types=command.get("types"),
        split=command.get("split"),
        per_type=command.get("per_type"),
        retrieval_only=retrieval_only,
        audience=audience,
        k=given.get("k", command["k"]),
        baseline=given.get("baseline") or (Path(command["baseline"]) if same_baseline else None),
        update_baseline=given.get("update_baseline", False),
        reference=given.get("reference", command["reference"]),
        gold=Path(saved.get("gold_set", {}).get("path") or GOLD_PATH),
        out=given.get("out") or path.parent.parent,
        items=[str(item) for item in saved["items"]],
        repeat_of=str(saved.get("run") or path.parent.name),
    )
    return request, saved_settings(saved["settings"], path)


def saved_settings(saved: dict, path: Path) -> Settings:
    """The settings a run used, from its config.json, for its repeat.

    This machine's ``home`` is kept (the saved one is the run's own index folder inside it), and
    secrets come from the environment or config file as usual: config.json never holds them (API
    keys are left out, other secrets and passwords in URLs are masked). A setting saved as unset
    stays unset, whatever the environment says now.
    """
    fields = Settings.model_fields
    kept = {
        name: value for name, value in saved.items()
        if name in fields and name != "home" and "SecretStr" not in str(fields[name].annotation)
        and not (isinstance(value, str) and "//***@" in value)
    }
    try:
        return Settings(**kept)
    except (OSError, ValueError) as exc:  # ValidationError is a ValueError
        raise EvalError(f"The settings saved in {path} cannot be used now: {exc}") from exc
