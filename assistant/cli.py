"""The `icb-assistant` command line.

Heavy libraries (Chroma, onnxruntime, LangChain, Gradio) are imported inside the commands
that need them, so `icb-assistant --help` stays quick.
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


def _open_indexer(settings):
    from assistant.components import open_indexer

    return open_indexer(settings)


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
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    settings = _settings()
    targets = list(paths) if paths else [settings.corpus_dir]
    indexer = _open_indexer(settings)
    if rebuild:
        indexer.rebuild()
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

        report = indexer.run(targets, progress=progress, prune=prune)

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
    passages = retriever.search(query, k=k or settings.search_top_k, filters=Filters(docs=doc or []))
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
    if backend is not None and backend not in ("local", "openai", "extractive"):
        raise UserError(f"Unknown backend '{backend}': choose local, openai or extractive.")


def _open_assistant(settings, backend):
    from assistant.engine import Assistant

    assistant = Assistant(settings, backend=backend)
    _require_index(assistant.indexer, settings)
    return assistant


def _print_answer(answer, show_question: str = "") -> None:
    from rich.markup import escape

    if answer.rewritten_question and show_question and answer.rewritten_question != show_question:
        console.print(f"[dim](understood as: {escape(answer.rewritten_question)})[/dim]")
    for notice in answer.notices:
        console.print(f"[yellow]Note:[/yellow] {escape(notice)}")
    if answer.status == "answered":
        console.print(escape(answer.answer))
    elif answer.status == "unanswerable":
        console.print(f"[bold magenta]Not in the documents.[/bold magenta] {escape(answer.answer)}")
    else:
        console.print(f"[bold red]Could not answer:[/bold red] {escape(answer.answer)}")
    if answer.citations:
        console.print("\n[bold]Sources[/bold]")
        for source in answer.citations:
            console.print(f"  {escape(source.label())} [dim]({escape(source.doc)}, characters {source.start}-{source.end})[/dim]")


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
    batch: Annotated[Optional[Path], typer.Option("--batch", help="A JSONL file of {id, question, history?} to answer.")] = None,
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
    """Print tokens as they come; return the final answer (printed afterwards, checked)."""
    final = None
    streamed = False
    for event in assistant.stream(question, history=history, audience=audience, filters=filters):
        if event.kind == "token" and assistant.backend != "extractive":
            errors.print(event.text, end="", markup=False, highlight=False, soft_wrap=True)
            streamed = True
        elif event.kind == "reset" and streamed:
            errors.print()
            streamed = False
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
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            raise UserError(f"{batch}, line {number}: each line must be a JSON object with a 'question' string.")
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


@app.command("docs")
def docs_command() -> None:
    """List the indexed documents."""
    settings = _settings()
    from assistant.components import open_catalog

    catalog = open_catalog(settings)
    records = catalog.documents()
    if not records:
        console.print("Nothing is indexed yet. Run `icb-assistant index`.")
        return
    table = Table(title=f"Indexed documents ({settings.index_dir})")
    table.add_column("Document", overflow="fold")  # never cut: it is what --doc and remove take
    for column in ("Title", "Date", "Kind", "Chunks", "State"):
        table.add_column(column)
    for record in records:
        table.add_row(record.doc, record.title, record.date, record.kind, str(record.chunks), record.state)
    console.print(table)


@app.command("remove")
def remove_command(
    docs: Annotated[list[str], typer.Argument(help="File names of indexed documents, as `docs` lists them.")],
) -> None:
    """Remove documents from the index."""
    settings = _settings()
    indexer = _open_indexer(settings)
    missing = [doc for doc in docs if not indexer.remove(doc)]
    for doc in docs:
        if doc not in missing:
            console.print(f"Removed {doc}")
    if missing:
        raise UserError("Not in the index: " + ", ".join(missing) + ". See `icb-assistant docs`.")


@app.command("config")
def config_command() -> None:
    """Show the settings in force (secrets hidden) and where they can be changed."""
    from assistant.config import ENV_PREFIX, Settings, config_file_path

    settings = _settings()
    table = Table(title="Settings")
    table.add_column("Setting")
    table.add_column("Value")
    table.add_column("Environment variable")
    for name in Settings.model_fields:
        value = getattr(settings, name)
        shown = "(set)" if name.endswith("api_key") and value else str(value)
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
    try:
        app(standalone_mode=False)
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
