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
    from assistant.retrieval import Retriever

    query = query.strip()
    if not query:
        raise UserError("The query is empty: type some words to search for.")
    settings = _settings()
    indexer = _open_indexer(settings)
    _require_index(indexer, settings)
    retriever = Retriever(indexer.catalog, indexer.vectors)
    passages = retriever.search(query, k=k or settings.search_top_k, docs=doc or None)
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
    for column in ("Document", "Title", "Date", "Kind", "Chunks", "State"):
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
