"""Read a file into text: .txt, .md, .pdf (with pages), .docx, .html.

Each format is read with its well-kept library (pypdf, python-docx, BeautifulSoup). Headings
the format marks are written as Markdown ``#`` lines so the chunker sees one structure.
A file that cannot be read raises :class:`LoadError` with a reason a person can act on.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
PDF_SUFFIXES = {".pdf"}
DOCX_SUFFIXES = {".docx"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | PDF_SUFFIXES | DOCX_SUFFIXES | HTML_SUFFIXES

MAX_FILE_BYTES = 200 * 1024 * 1024  # a larger file is refused, not read into memory
# Text past this (about 5,000 pages) is refused: it would take hours to embed on a small server,
# and one such "document" is more likely an export or a log than a paper. Split it instead.
MAX_TEXT_CHARS = 20_000_000
MAX_DOCX_UNZIPPED_BYTES = 300 * 1024 * 1024  # guards against zip bombs dressed as .docx


class LoadError(Exception):
    """A file that could not be read; the message says why."""


@dataclass
class Extracted:
    """What a loader found in a file."""

    text: str
    page_starts: list[int] = field(default_factory=list)
    title: str = ""
    date: str = ""


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_SUFFIXES


def load_file(path: Path) -> Extracted:
    """Extract the text of one file, or raise LoadError."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(
            f"unsupported file type '{suffix or '(none)'}'; supported: "
            + ", ".join(sorted(SUPPORTED_SUFFIXES))
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoadError(f"cannot open the file ({exc.strerror or exc})") from exc
    if size == 0:
        raise LoadError("the file is empty (0 bytes)")
    if size > MAX_FILE_BYTES:
        raise LoadError(f"the file is too large ({size / 2**20:.0f} MB; the limit is {MAX_FILE_BYTES // 2**20} MB)")
    plain = suffix in TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES
    if plain and size > MAX_TEXT_CHARS:  # text files: bytes are (at least) characters, so refuse unread
        raise LoadError(_too_much_text(size))

    if suffix in PDF_SUFFIXES:
        extracted = _load_pdf(path)
    elif suffix in DOCX_SUFFIXES:
        extracted = _load_docx(path)
    elif suffix in HTML_SUFFIXES:
        extracted = _load_html(path)
    else:
        extracted = _load_text(path, markdown=suffix in MARKDOWN_SUFFIXES)

    extracted.text = _normalise(extracted.text) if not extracted.page_starts else extracted.text
    if not extracted.text.strip():
        raise LoadError("no text could be extracted")
    if len(extracted.text) > MAX_TEXT_CHARS:
        raise LoadError(_too_much_text(len(extracted.text)))
    return extracted


def _too_much_text(characters: int) -> str:
    return (f"the file holds too much text for one document ({characters / 1e6:.0f} million characters; the limit "
            f"is {MAX_TEXT_CHARS // 1_000_000} million, about 5,000 pages): split it into smaller files")


# -- plain text and Markdown ------------------------------------------------------------


def decode_text(raw: bytes) -> str:
    """Decode bytes as UTF-8 (with or without BOM); otherwise detect the encoding."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise LoadError("the file is not text (no character encoding fits it)")
    return str(best)


def _load_text(path: Path, markdown: bool) -> Extracted:
    raw = path.read_bytes()
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LoadError("the file looks binary, not text (wrong extension?)")
    text = decode_text(raw)
    title = ""
    if markdown:
        match = re.search(r"^#\s+(.+?)\s*#*\s*$", text, flags=re.MULTILINE)
        title = match.group(1).strip() if match else ""
    return Extracted(text=text, title=title)


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if ch in "\n\t" or ch >= " " or ch == "\f")


# -- PDF --------------------------------------------------------------------------------


def _load_pdf(path: Path) -> Extracted:
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf warns loudly on odd files
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                unlocked = reader.decrypt("")
            except Exception as exc:  # pypdf raises several types for unsupported crypto
                raise LoadError("the PDF is encrypted and cannot be opened without a password") from exc
            if not unlocked:
                raise LoadError("the PDF is encrypted and cannot be opened without a password")
        pages = [(_normalise(page.extract_text() or "")).strip() for page in reader.pages]
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise LoadError(f"the PDF is damaged or not a PDF ({exc.__class__.__name__})") from exc
    except Exception as exc:  # pypdf can fail in many ways on a corrupt file
        raise LoadError(f"the PDF could not be read ({exc.__class__.__name__}: {exc})") from exc

    if not any(pages):
        raise LoadError("the PDF has no text layer (a scanned image?); run OCR on it first")

    parts: list[str] = []
    page_starts: list[int] = []
    offset = 0
    for page_text in pages:
        page_starts.append(offset)
        parts.append(page_text)
        offset += len(page_text) + 2
    text = "\n\n".join(parts)

    title, date = "", ""
    try:
        meta = reader.metadata
        if meta is not None:
            title = (meta.title or "").strip()
            created = meta.get("/CreationDate") or ""
            found = re.search(r"(19|20)\d{2}", str(created))
            date = found.group(0) if found else ""
    except Exception:  # metadata is optional; a broken info dict must not lose the text
        pass
    return Extracted(text=text, page_starts=page_starts, title=title, date=date)


# -- DOCX -------------------------------------------------------------------------------


def _check_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(item.file_size for item in archive.infolist())
            if "word/document.xml" not in archive.namelist():
                raise LoadError("not a Word document (no word/document.xml inside)")
    except zipfile.BadZipFile as exc:
        raise LoadError("the DOCX is damaged or not a DOCX (not a ZIP archive)") from exc
    if total > MAX_DOCX_UNZIPPED_BYTES:
        raise LoadError(f"the DOCX unpacks to {total / 2**20:.0f} MB, over the {MAX_DOCX_UNZIPPED_BYTES // 2**20} MB limit")


def _load_docx(path: Path) -> Extracted:
    _check_zip(path)
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except Exception as exc:
        raise LoadError(f"the DOCX could not be read ({exc.__class__.__name__})") from exc

    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            text = block.text.strip()
            if not text:
                continue
            style = (block.style.name if block.style is not None else "") or ""
            level = _docx_heading_level(style)
            if level:
                lines.append("")
                lines.append("#" * level + " " + text)
                lines.append("")
            elif "list" in style.lower():
                lines.append("- " + text)
            else:
                lines.append("")
                lines.append(text)
        elif isinstance(block, Table):
            lines.append("")
            for row in block.rows:
                cells = [cell.text.strip().replace("\n", " ") for cell in row.cells]
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
    props = document.core_properties
    title = (props.title or "").strip()
    date = str(props.created.year) if props.created else ""
    return Extracted(text=re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n", title=title, date=date)


def _docx_heading_level(style: str) -> int:
    if style == "Title":
        return 1
    match = re.fullmatch(r"Heading (\d)", style)
    return min(int(match.group(1)), 6) if match else 0


# -- HTML -------------------------------------------------------------------------------

_HTML_BLOCKS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "pre", "blockquote", "dt", "dd"]


def _load_html(path: Path) -> Extracted:
    from bs4 import BeautifulSoup

    markup = decode_text(path.read_bytes())
    soup = BeautifulSoup(markup, "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(["script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "svg"]):
        tag.decompose()
    body = soup.body or soup
    lines: list[str] = []
    for element in body.find_all(_HTML_BLOCKS):
        if element.find_parent(_HTML_BLOCKS) is not None and element.name not in ("tr",):
            continue  # its text is part of the enclosing block
        name = element.name
        if name == "tr":
            cells = [cell.get_text(" ", strip=True) for cell in element.find_all(["td", "th"])]
            if any(cells):
                lines.append("| " + " | ".join(cells) + " |")
            continue
        text = re.sub(r"\s+", " ", element.get_text(" ", strip=True))
        if not text:
            continue
        if name[0] == "h" and name[1:].isdigit():
            lines += ["", "#" * int(name[1]) + " " + text, ""]
        elif name == "li":
            lines.append("- " + text)
        else:
            lines += ["", text]
    if not lines:  # no block elements: fall back to all visible text
        lines = [body.get_text("\n", strip=True)]
    if not title:
        heading = soup.find("h1")
        title = heading.get_text(" ", strip=True) if heading else ""
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"
    return Extracted(text=text, title=title)
