"""Read a file into text: .txt, .md, .pdf (with pages), .docx, .html.

Each format is read with its well-kept library (pypdf, python-docx, BeautifulSoup). Headings
the format marks are written as Markdown ``#`` lines so the chunker sees one structure.
A file that cannot be read raises :class:`LoadError` with a reason a person can act on.
"""

from __future__ import annotations

import re
import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
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
# Paragraphs (table cells' included) past this, about 5,000 pages, are refused before the DOCX is parsed:
# a small file can hold millions of empty paragraphs, and each costs time and memory.
MAX_DOCX_PARAGRAPHS = 200_000
# Reading one PDF or DOCX may take this long; then it is refused, so one file cannot hold up the others.
MAX_LOAD_SECONDS = 300
# Text files are sampled here (at the start, middle and end) to tell text from binary before reading.
BINARY_SAMPLE_BYTES = 8192


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
    if plain and _looks_binary(path, size):
        raise LoadError("the file looks binary, not text (wrong extension?)")
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


def _too_slow() -> str:
    return (f"reading the file took longer than the limit of {MAX_LOAD_SECONDS // 60} minutes for one document: "
            "split it into smaller files")


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


def _looks_binary(path: Path, size: int) -> bool:
    """Whether a file named as text holds NUL bytes (UTF-16 with a byte order mark aside) at its start,
    middle or end: a file that is binary, or mostly NUL bytes, is not read as text."""
    try:
        with path.open("rb") as stream:
            head = stream.read(BINARY_SAMPLE_BYTES)
            if head.startswith((b"\xff\xfe", b"\xfe\xff")):
                return False
            samples = [head]
            for offset in (size // 2, max(0, size - BINARY_SAMPLE_BYTES)):
                stream.seek(offset)
                samples.append(stream.read(BINARY_SAMPLE_BYTES))
    except OSError as exc:
        raise LoadError(f"cannot open the file ({exc.strerror or exc})") from exc
    return any(b"\x00" in sample for sample in samples)


def _load_text(path: Path, markdown: bool) -> Extracted:
    raw = path.read_bytes()
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
        deadline = time.monotonic() + MAX_LOAD_SECONDS
        pages = []
        for page in reader.pages:
            if time.monotonic() > deadline:
                raise LoadError(_too_slow())
            pages.append(_normalise(page.extract_text() or "").strip())
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

DOCX_BODY = "word/document.xml"


def _check_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(item.file_size for item in archive.infolist())
            if DOCX_BODY not in archive.namelist():
                raise LoadError("not a Word document (no word/document.xml inside)")
    except zipfile.BadZipFile as exc:
        raise LoadError("the DOCX is damaged or not a DOCX (not a ZIP archive)") from exc
    if total > MAX_DOCX_UNZIPPED_BYTES:
        raise LoadError(f"the DOCX unpacks to {total / 2**20:.0f} MB, over the {MAX_DOCX_UNZIPPED_BYTES // 2**20} MB limit")


def _check_paragraph_count(path: Path) -> None:
    """Refuse a DOCX with more paragraphs than :data:`MAX_DOCX_PARAGRAPHS`, counted while streaming its
    XML (nothing is kept in memory, and counting stops at the limit), before the whole file is parsed."""
    from docx.oxml.ns import qn
    from lxml import etree

    paragraphs = 0
    try:
        with zipfile.ZipFile(path) as archive, archive.open(DOCX_BODY) as stream:
            for _, element in etree.iterparse(stream, events=("end",), tag=qn("w:p"), resolve_entities=False,
                                              no_network=True, load_dtd=False):
                paragraphs += 1
                if paragraphs > MAX_DOCX_PARAGRAPHS:
                    raise LoadError(_too_many_paragraphs())
                element.clear(keep_tail=True)
                while element.getprevious() is not None:
                    del element.getparent()[0]
    except (etree.XMLSyntaxError, zipfile.BadZipFile, OSError) as exc:
        raise LoadError(f"the DOCX could not be read ({exc.__class__.__name__})") from exc


def _too_many_paragraphs() -> str:
    return (f"the DOCX has more than {MAX_DOCX_PARAGRAPHS:,} paragraphs, the limit for one document (about "
            "5,000 pages): split it into smaller files")


def _load_docx(path: Path) -> Extracted:
    _check_zip(path)
    _check_paragraph_count(path)
    import docx
    from docx.oxml.ns import qn
    from docx.table import Table

    deadline = time.monotonic() + MAX_LOAD_SECONDS
    try:
        document = docx.Document(str(path))
    except Exception as exc:
        raise LoadError(f"the DOCX could not be read ({exc.__class__.__name__})") from exc

    style_of = _paragraph_styles(document)
    paragraph, table = qn("w:p"), qn("w:tbl")
    lines: list[str] = []
    for number, block in enumerate(document.element.body.iterchildren(paragraph, table)):
        if number % 1000 == 0 and time.monotonic() > deadline:
            raise LoadError(_too_slow())
        if block.tag == paragraph:
            text = block.text.strip()
            if not text:
                continue
            style = style_of(block.style)
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
        else:
            lines.append("")
            for row in Table(block, document).rows:
                cells = [cell.text.strip().replace("\n", " ") for cell in row.cells]
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
    props = document.core_properties
    title = (props.title or "").strip()
    return Extracted(text=re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n", title=title,
                     date=_docx_year(props, path))


def _paragraph_styles(document):
    """A function from a paragraph's style id (or None) to its style's name, read from the styles part
    once. It answers as python-docx's ``Paragraph.style.name`` does (an unknown id, or one of another
    type, is the default paragraph style), without scanning every style for every paragraph."""
    from docx.enum.style import WD_STYLE_TYPE

    styles = document.styles
    by_id: dict[str, tuple] = {}
    for style in styles:
        if style.style_id is not None:
            by_id.setdefault(style.style_id, (style.type, style.name or ""))
    default = styles.default(WD_STYLE_TYPE.PARAGRAPH)
    default_name = (default.name or "") if default is not None else ""

    def name_of(style_id: str | None) -> str:
        kind, name = by_id.get(style_id, (None, ""))
        return name if kind == WD_STYLE_TYPE.PARAGRAPH else default_name

    return name_of


# python-docx's blank template says every document it makes was created (and last saved) at this moment
PYTHON_DOCX_TEMPLATE_DATE = datetime(2013, 12, 23, 23, 15)


def _docx_year(props, path: Path) -> str:
    """The year the document was written: its core properties' date, unless that is python-docx's
    template date (then the file's own modification date)."""
    created = props.created
    if created is None:
        return ""
    if created.replace(tzinfo=None) != PYTHON_DOCX_TEMPLATE_DATE:
        return str(created.year)
    return str(datetime.fromtimestamp(path.stat().st_mtime).year)


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
