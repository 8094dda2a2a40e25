"""The `icb-assistant` command line.

Heavy libraries (Chroma, onnxruntime, LangChain, Gradio) are imported inside the commands
that need them, so `icb-assistant --help` stays quick.

Why one module of ~680 lines: it is a list of about fifteen typer commands, each a short mapping
of options to a call into index/, assistant/ or eval/ (where the work is), plus the one place that
turns every failure into a message and an exit code. Split, the commands would need a shared
``app`` module importing them back, for no gain in reading.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    name="icb-assistant",
    help="Ask questions of NHS Lancashire and South Cumbria ICB strategy documents, with sources.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
console = Console()
errors = Console(stderr=True)
CONSOLE = "console"  # the audit log's address for what is done at the server's command line


class UserError(Exception):
    """A problem the user can fix; shown as a message, never a stack trace."""


def _settings(**overrides):
    from pydantic import ValidationError

    from assistant.config import config_file_path, load_settings

    try:
        return load_settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'config'}: {error['msg']}" for error in exc.errors()
        )
        raise UserError(f"The configuration is not valid: {problems}") from exc
    except (OSError, ValueError) as exc:  # includes a TOML file that does not parse
        raise UserError(f"Could not read the config file {config_file_path()}: {exc}") from exc


def _open_indexer(settings, rebuild: bool = False):
    from assistant.components import open_indexer

    def said(old: Path, new: Path) -> None:
        errors.print(f"[yellow]{old} could not be opened; it is kept as {new.name} and a new one is built.[/yellow]",
                     highlight=False)

    return open_indexer(settings, rebuild=rebuild, on_set_aside=said)


@app.command("index")
def index_command(
    paths: Annotated[
        Optional[list[Path]],
        typer.Argument(help="Files or folders to index. Default: the shipped corpus of five ICB documents."),
    ] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Forget the existing index and build it again.")] = False,
    prune: Annotated[
        bool, typer.Option("--prune/--no-prune", help="Remove indexed documents whose file no longer exists.")
    ] = True,
) -> None:
    """Index documents (PDF, DOCX, HTML, Markdown, text). Unchanged files are skipped."""
    settings = _settings()
    targets = list(paths) if paths else [settings.corpus_dir]
    indexer = _open_indexer(settings, rebuild=rebuild)
    if rebuild:
        indexer.rebuild()
        if settings.uploads_dir.is_dir():  # documents added in the web app are part of the index too
            targets.append(settings.uploads_dir)
    report = _index_with_progress(indexer, targets, prune)

    table = Table(title="Index summary", show_header=False)
    table.add_row("Documents in index", str(report.documents_total))
    table.add_row("Chunks in index", str(report.chunks_total))
    table.add_row("Indexed now", f"{len(report.indexed)} ({report.chunks_added} chunks)")
    table.add_row("Skipped (unchanged)", str(len(report.skipped)))
    table.add_row("Removed", str(len(report.removed)))
    table.add_row("Failed", str(len(report.failed)))
    table.add_row("Seconds", f"{report.seconds:.1f}")
    console.print(table)
    for path, reason in report.failed:
        errors.print(f"[red]Could not index[/red] {path}: {reason}", highlight=False)
    if report.failed and not report.indexed and not report.skipped:
        raise typer.Exit(1)


def _index_with_progress(indexer, targets: list[Path], prune: bool):
    """indexer.run with a progress bar on stderr (when it is a terminal, or ICB_ASSISTANT_PROGRESS is set)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]Indexing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[doc]}"),
        console=errors,
        transient=False,
        disable=not errors.is_terminal and not os.environ.get("ICB_ASSISTANT_PROGRESS"),
    ) as bar:
        task = bar.add_task("index", total=None, doc="")

        def progress(step: int, total: int, doc: str | None) -> None:
            bar.update(task, completed=step, total=total, doc=doc or "done")

        return indexer.run(targets, progress=progress, prune=prune)


@app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[Optional[int], typer.Option("--k", "-k", min=1, max=100, help="How many passages to show.")] = None,
    doc: Annotated[
        Optional[list[str]], typer.Option("--doc", help="Only search this document (file name); repeatable.")
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Show whole passages, not the first lines.")] = False,
) -> None:
    """Show the passages that best match a query, with document, section, page and score."""
    from assistant.retrieval import Filters, Retriever

    query = query.strip()
    if not query:
        raise UserError("The query is empty: type some words to search for.")
    settings = _settings()
    indexer = _open_indexer(settings)
    _require_index(indexer, settings)
    retriever = Retriever(indexer.catalog, indexer.vectors, settings.dense_weight, settings.keyword_weight)
    respelled = retriever.glossary().respell(query)  # "comissioning" as "commissioning", as an answer reads it
    if respelled != query:
        console.print(f"Searching for: {respelled}", markup=False, highlight=False)
    passages = retriever.search(respelled, k=k or settings.search_top_k, filters=Filters(docs=doc or []))
    if not passages:
        console.print("No matching passages.")
        return
    for rank, passage in enumerate(passages, start=1):
        where = passage.section or "(no heading)"
        page = f", page {passage.page}" if passage.page else ""
        console.print(
            f"[bold]{rank}. {passage.title}[/bold] [dim]({passage.doc}{page}) score {passage.score:.4f}[/dim]",
            highlight=False,
        )
        console.print(f"   [cyan]{where}[/cyan]", highlight=False)
        text = passage.text.strip()
        if not full and len(text) > 400:
            text = text[:400].rsplit(" ", 1)[0] + " …"
        console.print("   " + text.replace("\n", "\n   "), markup=False, highlight=False)
        console.print()


BackendOption = Annotated[
    Optional[str],
    typer.Option("--backend", "-b", help="local (bundled LLM), openai (hosted or compatible) or extractive (no LLM). Default: from config."),
]


def _check_backend(backend: str | None) -> None:
    from assistant.answerers import UnknownAnswerer, answerer_class

    try:
        if backend is not None:
            answerer_class(backend)
    except UnknownAnswerer as exc:
        raise UserError(str(exc)) from exc


def _open_assistant(settings, backend):
    from assistant.engine import Assistant

    assistant = Assistant(settings, backend=backend)
    _require_index(assistant.indexer, settings)
    return assistant


def _print_text(text: str) -> None:
    """An answer's paragraphs, and a comparison's table drawn as a table."""
    from rich.table import Table
    from rich.text import Text

    from assistant.comparison import blocks

    for i, block in enumerate(blocks(text)):
        if i:
            console.print()
        if isinstance(block, str):
            console.print(block, markup=False, highlight=False)
            continue
        table = Table(show_lines=True)
        for cell in block[0]:
            table.add_column(Text(cell))  # text, never markup
        for row in block[1:]:
            table.add_row(*(Text(cell) for cell in row))
        console.print(table)


def _print_answer(answer, show_question: str = "") -> None:
    from rich.markup import escape

    from assistant.engine import understood_as

    if show_question and (rewrite := understood_as(show_question, answer.rewritten_question)):
        console.print(f"[dim](understood as: {escape(rewrite)})[/dim]")
    for notice in answer.notices:
        console.print(f"[yellow]Note:[/yellow] {escape(notice)}")
    if answer.status == "answered":
        _print_text(answer.answer)
        flagged = [s for s in answer.sentences if s.support != "supported"]
        if flagged:
            console.print(f"\n[bold yellow]⚠ {len(flagged)} sentence{'s' if len(flagged) > 1 else ''} to check against the sources[/bold yellow]")
            for sentence in flagged:
                label = "not supported" if sentence.support == "unsupported" else "no source cited"
                console.print(f"  ⚠ {label}: “{escape(sentence.text)}” – {escape(sentence.reason)}")
    elif answer.status == "unanswerable":
        console.print(f"[bold magenta]Not in the documents.[/bold magenta] {escape(answer.answer)}")
    else:
        console.print(f"[bold red]Could not answer:[/bold red] {escape(answer.answer)}")
    if answer.citations:
        console.print("\n[bold]Sources[/bold]")
        for source in answer.citations:
            origin = source.provenance.describe()
            origin = escape(origin) if source.provenance.official else f"[bold yellow]{escape(origin)}[/bold yellow]"
            console.print(f"  {escape(source.label())} [dim]({escape(source.doc)}, characters {source.start}-{source.end})[/dim] · {origin}")


@app.command("ask")
def ask_command(
    question: Annotated[Optional[str], typer.Argument(help="The question. Omit it with --batch.")] = None,
    history: Annotated[
        Optional[list[str]], typer.Option("--history", help="An earlier question of the conversation, oldest first; repeatable.")
    ] = None,
    backend: BackendOption = None,
    public: Annotated[bool, typer.Option("--public", help="Answer for the public (plain English) rather than staff.")] = False,
    doc: Annotated[Optional[list[str]], typer.Option("--doc", help="Only use this document (file name); repeatable.")] = None,
    kind: Annotated[Optional[list[str]], typer.Option("--kind", help="Only use documents of this kind; repeatable.")] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="Only documents dated from this year or date on.")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="Only documents dated up to this year or date.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object: status, answer, citations, contexts, timings.")] = False,
    batch: Annotated[Optional[Path], typer.Option("--batch", help="A JSONL file of {id, question, history?} to answer (history: the earlier questions, or chat messages {role, content}).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="With --batch: where to write the answers (JSONL).")] = None,
) -> None:
    """Answer a question from the documents, citing numbered sources."""
    import json

    from assistant.retrieval import Filters

    _check_backend(backend)
    settings = _settings()
    filters = Filters(docs=doc or [], kinds=kind or [], date_from=since or "", date_to=until or "")
    audience = "public" if public else "staff"
    if batch is not None:
        _ask_batch(settings, backend, batch, out, filters, audience)
        return
    if question is None:
        raise UserError("Give a question, or --batch FILE.")
    assistant = _open_assistant(settings, backend)
    try:
        if as_json:
            answer = assistant.ask(question, history=history or [], audience=audience, filters=filters)
            print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        else:
            answer = _stream_to_console(assistant, question, history or [], audience, filters)
            _print_answer(answer, question)
    finally:
        assistant.close()
    if answer.status == "error":
        raise typer.Exit(1)


def _stream_to_console(assistant, question, history, audience, filters):
    """Print an LLM's answer as it comes, after the quotes from the documents shown while it
    writes (dimmed); return the final answer (printed afterwards, checked)."""
    from assistant.answers import QUOTED_HEADING

    final = None
    streamed = quoted = False
    for event in assistant.stream(question, history=history, audience=audience, filters=filters):
        if event.kind == "quoted":
            errors.print(QUOTED_HEADING, style="dim italic", markup=False, highlight=False)
            errors.print(event.text, style="dim", markup=False, highlight=False, soft_wrap=True)
            errors.print()
            quoted = True
        elif event.kind == "token" and assistant.answerer.uses_llm:
            if quoted:
                errors.print("Model's answer:", style="bold", markup=False, highlight=False)
                quoted = False
            errors.print(event.text, end="", markup=False, highlight=False, soft_wrap=True)
            streamed = True
        elif event.kind == "reset":  # what comes next is the fallback's quotes, not the model's answer
            if streamed:
                errors.print()
            streamed = quoted = False
        elif event.kind == "answer":
            final = event.answer
    if streamed:
        errors.print("\n")
    return final


def _ask_batch(settings, backend, batch: Path, out: Path | None, filters, audience) -> None:
    import json

    from rich.progress import Progress

    if out is None:
        raise UserError("--batch needs --out FILE for the answers.")
    try:
        lines = [line for line in batch.read_text(encoding="utf-8").splitlines() if line.strip()]
        items = [json.loads(line) for line in lines]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"Could not read {batch}: {exc}") from exc
    from assistant.stages import HistoryError, earlier_questions

    for number, item in enumerate(items, start=1):  # every line read before any is answered
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            raise UserError(f"{batch}, line {number}: each line must be a JSON object with a 'question' string.")
        try:
            earlier_questions(item.get("history"))
        except HistoryError as exc:
            raise UserError(f"{batch}, line {number}: {exc}") from exc
    assistant = _open_assistant(settings, backend)
    counts: dict[str, int] = {}
    try:
        with out.open("w", encoding="utf-8") as sink, Progress(console=errors) as progress:
            task = progress.add_task("Answering", total=len(items))
            for number, item in enumerate(items, start=1):
                answer = assistant.ask(item["question"], history=item.get("history") or [], audience=audience, filters=filters)
                record = {"id": item.get("id", number), **answer.to_dict()}
                sink.write(json.dumps(record, ensure_ascii=False) + "\n")
                sink.flush()
                counts[answer.status] = counts.get(answer.status, 0) + 1
                progress.advance(task)
    finally:
        assistant.close()
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    console.print(f"Wrote {len(items)} answers to {out} ({summary}).")


@app.command("ui")
def ui_command(
    host: Annotated[
        Optional[str], typer.Option("--host", help="Address to listen on. Default: ui_host (127.0.0.1).")
    ] = None,
    port: Annotated[
        Optional[int], typer.Option("--port", min=1, max=65535, help="Port. Default: ui_port (7860).")
    ] = None,
    backend: BackendOption = None,
) -> None:
    """The web app (chat, FAQ drafting, documents) at http://127.0.0.1:7860. Indexes the default corpus on first use."""
    _check_backend(backend)
    settings = _settings()
    from assistant.auth import AuthError, load_users

    try:
        users = load_users(settings)
    except AuthError as exc:
        raise UserError(str(exc)) from exc
    indexer = _open_indexer(settings)
    if indexer.catalog.chunk_count() == 0:
        errors.print(f"No index yet: indexing {settings.corpus_dir} (first run only).", highlight=False)
        report = _index_with_progress(indexer, [settings.corpus_dir], prune=False)
        for path, reason in report.failed:
            errors.print(f"[red]Could not index[/red] {path}: {reason}", highlight=False)
    indexer.catalog.close()

    from assistant.log_limits import capped_output
    from assistant.ui import serve

    host, port = host or settings.ui_host, port or settings.ui_port
    try:
        with capped_output():  # one bad request cannot flood the log
            serve(settings, host=host, port=port, backend=backend, users=users,
                  log=lambda text: errors.print(text, highlight=False, markup=False))  # names are shown as typed
    except OSError as exc:
        raise UserError(
            f"Could not start the web UI on {host}:{port} ({exc}). Is it already running? Choose another --port."
        ) from exc


@app.command("add-user")
def add_user_command(
    name: Annotated[str, typer.Argument(help="The user name to sign in with.")],
    admin: Annotated[
        bool, typer.Option("--admin", help="An administrator: publishes documents and removes anyone's uploads.")
    ] = False,
) -> None:
    """Add a web UI user (or change a password): writes `name:hash` to the users file. Any user turns sign-in on.

    The password is asked for twice (never echoed); piped in, it is read from standard input (one line, or
    the same line twice). It is never an argument, which `ps` and the shell history would show.
    """
    from assistant.auth import AuthError, add_user, users_file

    settings = _settings()
    path = users_file(settings)
    password = _read_new_password()
    try:
        existed = add_user(path, name, password, admin=admin)
    except AuthError as exc:
        raise UserError(str(exc)) from exc
    role = "an administrator" if admin else "not an administrator"
    console.print(f"{'Changed the password of' if existed else 'Added'} {name.strip()} ({role}) in {path}.",
                  highlight=False)
    if settings.ui_users_file is None:
        console.print("Sign-in is on for the web UI (this is the default users file).", highlight=False)
    else:
        console.print("Sign-in is on for the web UI.", highlight=False)
    if existed:
        console.print("A running app takes the new password at once; sessions signed in with the old one end.",
                      highlight=False)


def _read_new_password() -> str:
    """A new password: asked for twice at a terminal, else one line of standard input (or two the same)."""
    if sys.stdin.isatty():
        return typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    lines = sys.stdin.read().splitlines()
    if not lines or not lines[0]:
        raise UserError("No password on standard input: pipe it in as one line, or run this at a terminal.")
    if len(lines) > 1 and lines[1] != lines[0]:
        raise UserError("The two passwords on standard input differ.")
    return lines[0]


@app.command("feedback-export")
def feedback_export_command(
    out: Annotated[Path, typer.Option("--out", help="The CSV file to write.")],
) -> None:
    """Write every thumbs up / down from the web UI to a CSV (the columns `eval-drafts` reads)."""
    from assistant.audit import AuditLog, audit_path
    from assistant.feedback import FeedbackStore, feedback_path

    settings = _settings()
    path = feedback_path(settings)
    if not path.is_file():
        raise UserError(f"No feedback yet: {path} does not exist. Ratings are made in the web UI (`icb-assistant ui`).")
    store = FeedbackStore(path)
    try:
        count = store.export_csv(out)
    except OSError as exc:
        raise UserError(f"Could not write {out}: {exc.strerror or exc}") from exc
    finally:
        store.close()
    AuditLog(audit_path(settings)).record("export", user=_console_user(), address=CONSOLE, what="feedback", rows=count)
    console.print(f"Wrote {count} rating{'s' if count != 1 else ''} to {out}.", highlight=False)


@app.command("chat")
def chat_command(
    backend: BackendOption = None,
    public: Annotated[bool, typer.Option("--public", help="Answer for the public (plain English).")] = False,
) -> None:
    """A conversation in the terminal: follow-up questions use the earlier ones. Type 'new' to start again, 'quit' to leave."""
    _check_backend(backend)
    settings = _settings()
    assistant = _open_assistant(settings, backend)
    history: list[str] = []
    console.print("Ask about the ICB's strategy documents. 'new' starts a new conversation; 'quit' (or Ctrl-D) leaves.")
    try:
        while True:
            try:
                question = console.input("[bold green]You:[/bold green] ").strip()
            except EOFError:
                break
            if question.lower() in ("quit", "exit", "q"):
                break
            if question.lower() in ("new", "/new", "reset"):
                history = []
                console.print("[dim]New conversation.[/dim]")
                continue
            if not question:
                continue
            answer = _stream_to_console(assistant, question, history, "public" if public else "staff", None)
            _print_answer(answer, question)
            console.print()
            if answer.status != "error":
                history.append(question)
    finally:
        assistant.close()


@app.command("eval")
def eval_command(
    ctx: typer.Context,
    backend: BackendOption = None,
    sample: Annotated[
        Optional[int], typer.Option("--sample", min=1, help="Run a deterministic sample of N items (see --seed).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of --sample: the same seed picks the same items.")] = 0,
    ids: Annotated[
        Optional[str], typer.Option("--ids", help="Only these items: a file of ids (one a line) or a comma-separated list.")
    ] = None,
    types: Annotated[
        Optional[str],
        typer.Option("--types", help="Only these types, comma-separated: fact,number,list,synthesis,comparison,unanswerable,follow_up."),
    ] = None,
    split: Annotated[
        Optional[str],
        typer.Option("--split", help="Only this split of the gold set: dev (tune on it) or test (held out: read it only to report)."),
    ] = None,
    per_type: Annotated[
        Optional[int], typer.Option("--per-type", min=1, help="A stratified sample: N items of each type (chosen as --sample chooses, see --seed).")
    ] = None,
    retrieval_only: Annotated[
        bool, typer.Option("--retrieval-only", help="Score retrieval only (no answers): an answerable item passes when hit@k.")
    ] = False,
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=100, help="Passages that count for hit@k, MRR and context recall.")] = 5,
    audience: Annotated[
        str, typer.Option("--audience", help="staff (default) or public: answers written for the public, as FAQ drafts are "
                                             "(compare their key facts with a staff run of the same items).")
    ] = "staff",
    baseline: Annotated[
        Optional[Path],
        typer.Option("--baseline", help="Baseline to compare with. Default: eval/baselines/<backend>.json (<backend>-retrieval.json with --retrieval-only, <backend>-public.json with --audience public)."),
    ] = None,
    update_baseline: Annotated[
        bool, typer.Option("--update-baseline", help="Write this run as the new baseline (tolerances in the old one are kept).")
    ] = False,
    out: Annotated[Optional[Path], typer.Option("--out", help="Folder for run folders. Default: eval/runs/.")] = None,
    no_reference: Annotated[bool, typer.Option("--no-reference", help="Skip the naive reference (BM25 + extractive).")] = False,
    gold: Annotated[Optional[Path], typer.Option("--gold", help="The gold set. Default: eval/gold_set.jsonl.")] = None,
    from_run: Annotated[
        Optional[Path],
        typer.Option("--from-run", help="Repeat a saved run from its config.json (or run folder): the same items, backend, k, mode and settings, into a new run folder beside it. Options given with it override the saved ones; --ids, --types, --split, --per-type, --sample, --seed and --gold cannot be given."),
    ] = None,
) -> None:
    """Score the assistant on the gold set, write a report, and fail (exit 1) if quality fell against the baseline."""
    from eval.console import run_and_show
    from eval.orchestrate import EvalRequest, repeat
    from eval.runner import EvalError

    _check_backend(backend)
    if audience not in ("staff", "public"):
        raise UserError(f"Unknown audience '{audience}': choose staff or public.")
    options = {"backend": backend, "sample": sample, "seed": seed, "ids": ids, "types": types,
               "split": split, "per_type": per_type, "retrieval_only": retrieval_only, "audience": audience, "k": k,
               "baseline": baseline, "update_baseline": update_baseline,
               "reference": not no_reference, "gold": gold, "out": out}
    try:
        if from_run is not None:
            parameter = {"reference": "no_reference"}  # the option behind each request field, where named otherwise
            given = {name: value for name, value in options.items()
                     if getattr(ctx.get_parameter_source(parameter.get(name, name)), "name", "") == "COMMANDLINE"}
            request, settings = repeat(from_run, given)
        else:
            settings = _settings()
            request = EvalRequest(**{**options, "backend": backend or settings.backend})
        code = run_and_show(request, settings, console, errors)
    except EvalError as exc:
        raise UserError(str(exc)) from exc
    if code:
        raise typer.Exit(code)


@app.command("eval-drafts")
def eval_drafts_command(
    feedback: Annotated[Path, typer.Argument(help="Feedback exported from the web UI (CSV).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the draft gold items (JSONL).")],
    append: Annotated[bool, typer.Option("--append", help="Add to an existing drafts file (skipping questions it holds).")] = False,
    gold: Annotated[Optional[Path], typer.Option("--gold", help="The gold set, to skip questions it already has. Default: eval/gold_set.jsonl.")] = None,
) -> None:
    """Turn thumbs-down feedback into draft gold items for a person to complete (see eval/README.md)."""
    from eval.console import drafts_from_feedback
    from eval.runner import EvalError

    try:
        drafts_from_feedback(feedback, out, gold, append, console, errors)
    except EvalError as exc:
        raise UserError(str(exc)) from exc


def _run_eval_tool(main, out: Path | None, gold: Path | None, *flags: str) -> None:
    """Run an eval module's ``main(argv)`` with the options given; its failure code is the command's."""
    code = main([*flags, *(["--out", str(out)] if out else []), *(["--gold", str(gold)] if gold else [])])
    if code:
        raise typer.Exit(code)


GoldOption = Annotated[Optional[Path], typer.Option("--gold", help="The gold set (its dev items for a fit). Default: eval/gold_set.jsonl.")]


@app.command("eval-fit-answerability")
def eval_fit_answerability_command(
    out: Annotated[Optional[Path], typer.Option("--out", help="The model file to write. Default: assistant/answerability.json.")] = None,
    gold: GoldOption = None,
) -> None:
    """Fit the answerability model on the dev items and write its coefficients, thresholds and dev figures."""
    from eval.fit_answerability import main

    _run_eval_tool(main, out, gold)


@app.command("eval-fit-reranker")
def eval_fit_reranker_command(
    out: Annotated[Optional[Path], typer.Option("--out", help="The model file to write. Default: assistant/reranker.json.")] = None,
    gold: GoldOption = None,
) -> None:
    """Fit the reranker on the dev items and write its coefficients, depth and dev figures (then re-fit answerability)."""
    from eval.fit_reranker import main

    _run_eval_tool(main, out, gold)


@app.command("eval-support")
def eval_support_command(
    choose: Annotated[bool, typer.Option("--choose", help="Choose the word-share threshold on dev first.")] = False,
    out: Annotated[Optional[Path], typer.Option("--out", help="Write the figures as JSON here.")] = None,
    gold: GoldOption = None,
) -> None:
    """Measure the sentence-support check on corrupted gold reference answers (catch and false-flag rates, dev and test)."""
    from eval.support_check import main

    _run_eval_tool(main, out, gold, *(["--choose"] if choose else []))


@app.command("docs")
def docs_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list: every document's details and provenance.")] = False,
) -> None:
    """List the indexed documents and where each came from (official, or uploaded by whom and when)."""
    import dataclasses
    import json

    settings = _settings()
    from assistant.components import open_catalog

    catalog = open_catalog(settings)
    records = catalog.documents()
    if as_json:
        flat = [{**dataclasses.asdict(r), **dataclasses.asdict(r.provenance), "source": r.provenance.describe()}
                for r in records]  # the provenance fields beside the others, as the catalogue stores them
        for entry in flat:
            del entry["provenance"]
        print(json.dumps(flat, ensure_ascii=False, indent=2))
        return
    if not records:
        console.print("Nothing is indexed yet. Run `icb-assistant index`.")
        return
    table = Table(title=f"Indexed documents ({settings.index_dir})")
    table.add_column("Document", overflow="fold")  # never cut: it is what --doc and remove take
    for column in ("Title", "Date", "Kind", "Source", "Chunks", "State"):
        table.add_column(column)
    for record in records:
        table.add_row(record.doc, record.title, record.date, record.kind, record.provenance.describe(),
                      str(record.chunks), record.state)
    console.print(table)


def _console_user() -> str:
    """Who runs the command, for the audit log and a publication's ``published_by``."""
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment or the password database
        return f"uid {os.getuid()}"


@app.command("remove")
def remove_command(
    docs: Annotated[list[str], typer.Argument(help="File names of indexed documents, as `docs` lists them.")],
) -> None:
    """Remove documents from the index; a web upload's file goes too. Written to the audit log."""
    from assistant.audit import AuditLog, audit_path
    from index.uploads import UploadError, remove

    settings = _settings()
    indexer = _open_indexer(settings)
    audit = AuditLog(audit_path(settings))
    missing, failed = [], []
    for doc in docs:
        try:
            record = remove(indexer, settings.uploads_dir, doc)
        except UploadError as exc:  # not indexed, or it could not be removed (nothing changed): each says which
            if indexer.catalog.document(doc) is None:
                missing.append(doc)
            else:
                failed.append(str(exc))
            continue
        audit.record("remove", user=_console_user(), address=CONSOLE, file=doc, title=record.title)
        console.print(f"Removed {doc}", markup=False, highlight=False)
    if missing or failed:
        lines = failed + (["Not in the index: " + ", ".join(missing) + ". See `icb-assistant docs`."] if missing else [])
        raise UserError("\n".join(lines))


@app.command("publish")
def publish_command(
    docs: Annotated[list[str], typer.Argument(help="File names of uploaded documents, as `docs` lists them.")],
) -> None:
    """Publish web uploads: they become official, for every user's questions. Written to the audit log."""
    from assistant.audit import AuditLog, audit_path
    from index.uploads import UploadError, publish

    settings = _settings()
    indexer = _open_indexer(settings)
    audit = AuditLog(audit_path(settings))
    by = _console_user()
    refused = []
    for doc in docs:
        try:
            record = publish(indexer, settings.uploads_dir, doc, by=by)
        except UploadError as exc:
            refused.append(str(exc))
            continue
        audit.record("publish", user=by, address=CONSOLE, file=doc, title=record.title)
        console.print(f"Published {doc}: {record.provenance.describe()}", markup=False, highlight=False)
    if refused:
        raise UserError(" ".join(refused) + " See `icb-assistant docs`.")


@app.command("config")
def config_command() -> None:
    """Show the settings in force (secrets hidden) and where they can be changed."""
    from assistant.auth import users_file
    from assistant.config import ENV_PREFIX, Settings, config_file_path

    settings = _settings()
    table = Table(title="Settings")
    table.add_column("Setting")
    table.add_column("Value")
    table.add_column("Environment variable")
    for name in Settings.model_fields:
        value = getattr(settings, name)
        secret = name.endswith("api_key") or name == "ui_users"
        shown = ("(set)" if value else "None") if secret else str(value)
        if name == "ui_users_file" and value is None:  # the file sign-in reads when none is set
            default = users_file(settings)
            shown = f"{default} (default{'' if default.is_file() else ', not present'})"
        table.add_row(name, shown, ENV_PREFIX + name.upper())
    console.print(table)
    path = config_file_path()
    console.print(f"Config file: {path} ({'found' if path.is_file() else 'not present; optional'})")


def _require_index(indexer, settings) -> None:
    if indexer.catalog.chunk_count() == 0:
        raise UserError(
            f"The index in {settings.index_dir} is empty. Build it first with `icb-assistant index`."
        )


def _known_errors() -> tuple[type[BaseException], ...]:
    from index.catalog import CatalogError
    from index.embeddings import EmbeddingError
    from index.vectors import VectorStoreError

    return (UserError, CatalogError, EmbeddingError, VectorStoreError)


def main() -> None:
    """Entry point: run the CLI; turn every failure into a message and an exit code."""
    os.umask(0o077)  # what the assistant writes (index, feedback, uploads, users, exports) is its user's only
    try:
        # without standalone mode, click returns a command's `typer.Exit` code instead of exiting:
        # it must become the process's exit code (the evaluation gate's 1 on a regression)
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        errors.print("Aborted.")
        sys.exit(130)
    except KeyboardInterrupt:
        errors.print("Interrupted.")
        sys.exit(130)
    except Exception as exc:
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, _known_errors()):
            errors.print(f"Error: {exc}", markup=False, highlight=False)
            sys.exit(2)
        if os.environ.get("ICB_ASSISTANT_DEBUG"):
            raise
        errors.print(
            f"Unexpected error: {exc.__class__.__name__}: {exc}\n"
            "Set ICB_ASSISTANT_DEBUG=1 to see the details.",
            markup=False,
            highlight=False,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
