"""Each loader on real small files the tests make, and a clear reason for every bad file."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from index.loaders import LoadError, load_file


def make_pdf(path: Path, pages: list[str], title: str = "") -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    pdf.output(str(path))
    return path


def make_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = "Community care plan"
    document.add_heading("Community care plan", level=1)
    document.add_paragraph("This plan sets out how we will improve community services.")
    document.add_heading("Frailty", level=2)
    document.add_paragraph("Our priorities for frailty are:")
    document.add_paragraph("Expand virtual wards", style="List Bullet")
    document.add_paragraph("Train care home staff", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Year", "Target"
    table.cell(1, 0).text, table.cell(1, 1).text = "2026/27", "20% fewer admissions"
    document.save(str(path))
    return path


def test_text_file_utf8(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("Hello café\r\nSecond line\n", encoding="utf-8")
    extracted = load_file(path)
    assert extracted.text == "Hello café\nSecond line\n"
    assert extracted.page_starts == []


def test_text_file_not_utf8_is_decoded(tmp_path):
    path = tmp_path / "legacy.txt"
    path.write_bytes("The ICB’s deficit was £350 million – a challenge for the whole system.".encode("cp1252"))
    assert "£350 million" in load_file(path).text


def test_markdown_title_and_headings(tmp_path):
    path = tmp_path / "plan.md"
    path.write_text("# Our plan\n\nIntro text.\n\n## Urgent care\n\nMore text.\n", encoding="utf-8")
    extracted = load_file(path)
    assert extracted.title == "Our plan"
    assert "## Urgent care" in extracted.text


def test_pdf_two_pages_with_page_numbers(tmp_path):
    path = make_pdf(tmp_path / "paper.pdf", ["First page about urgent care.", "Second page about cancer services."], title="Board paper")
    extracted = load_file(path)
    assert extracted.title == "Board paper"
    assert len(extracted.page_starts) == 2
    second = extracted.page_starts[1]
    assert "urgent care" in extracted.text[:second]
    assert "cancer services" in extracted.text[second:]


def test_pdf_page_lookup_in_chunks(tmp_path, indexer):
    long_page = " ".join(["Urgent care services will be redesigned this year."] * 60)
    path = make_pdf(tmp_path / "long.pdf", [long_page, "Cancer services on the second page."])
    indexer.run([path])
    chunks = indexer.catalog.neighbours("long.pdf", 0, before=0, after=100)
    assert chunks[0].page == 1 and chunks[0].page_end == 1
    last = chunks[-1]
    assert "Cancer services" in last.text
    assert last.page_end == 2  # the chunk runs onto page 2 (page says where it starts)


def test_docx_headings_lists_and_tables(tmp_path):
    extracted = load_file(make_docx(tmp_path / "plan.docx"))
    assert extracted.title == "Community care plan"
    assert "# Community care plan" in extracted.text
    assert "## Frailty" in extracted.text
    assert "- Expand virtual wards" in extracted.text
    assert "| 2026/27 | 20% fewer admissions |" in extracted.text


def test_html_headings_without_scripts(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Maternity services</title><script>alert('x')</script></head><body>"
        "<nav>Menu Home About</nav><h1>Maternity</h1><p>We will open a new <b>birth centre</b>.</p>"
        "<h2>Staffing</h2><ul><li>Recruit midwives</li><li>Retain staff</li></ul>"
        "<style>p {color: red}</style></body></html>",
        encoding="utf-8",
    )
    extracted = load_file(path)
    assert extracted.title == "Maternity services"
    assert "# Maternity" in extracted.text and "## Staffing" in extracted.text
    assert "We will open a new birth centre ." in extracted.text or "new birth centre" in extracted.text
    assert "- Recruit midwives" in extracted.text
    assert "alert" not in extracted.text and "color" not in extracted.text and "Menu" not in extracted.text


# -- bad files: each raises LoadError with a reason a person understands ---------------------


def test_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(LoadError, match="empty"):
        load_file(path)


@pytest.mark.parametrize("name, megabytes, reason", [
    ("huge-scan.pdf", 201, "too large (201 MB; the limit is 200 MB)"),
    ("export.txt", 25, "too much text for one document (26 million characters"),
    ("page.html", 30, "too much text for one document"),
])
def test_huge_files_are_refused_without_reading_them(tmp_path, name, megabytes, reason):
    import time

    path = tmp_path / name
    with path.open("wb") as f:
        if name.endswith(".pdf"):  # a sparse file: its size without writing it
            f.write(b"%PDF-1.4\n")
            f.truncate(megabytes * 2**20)
        else:  # text all through (a file of NUL bytes is refused as binary)
            line = b"The board noted the plan for urgent care services. " * 20 + b"\n"
            f.write(line * (megabytes * 2**20 // len(line) + 1))
    started = time.perf_counter()
    with pytest.raises(LoadError) as error:
        load_file(path)
    assert reason in str(error.value)
    assert time.perf_counter() - started < 1, "refused by its size, not after reading it"


def test_unknown_type(tmp_path):
    path = tmp_path / "sheet.xlsx"
    path.write_bytes(b"PK\x03\x04 whatever")
    with pytest.raises(LoadError, match="unsupported file type '.xlsx'"):
        load_file(path)


def test_corrupt_pdf(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage garbage\n")
    with pytest.raises(LoadError, match="PDF"):
        load_file(path)


def _encrypted_copy(tmp_path, user_password: str, owner_password: str) -> Path:
    from pypdf import PdfReader, PdfWriter

    plain = make_pdf(tmp_path / "plain.pdf", ["Board minutes about estates."])
    writer = PdfWriter()
    for page in PdfReader(str(plain)).pages:
        writer.add_page(page)
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-256")
    locked = tmp_path / "locked.pdf"
    with locked.open("wb") as handle:
        writer.write(handle)
    return locked


def test_encrypted_pdf_needing_a_password(tmp_path):
    with pytest.raises(LoadError, match="encrypted"):
        load_file(_encrypted_copy(tmp_path, user_password="secret", owner_password="owner"))


def test_pdf_protected_only_against_editing_is_read(tmp_path):
    # many published PDFs carry an owner password only: anyone may open and read them
    extracted = load_file(_encrypted_copy(tmp_path, user_password="", owner_password="owner"))
    assert "Board minutes about estates." in extracted.text


def test_pdf_without_text_layer(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")  # a drawing, as a scan would be: no text
    path = tmp_path / "scan.pdf"
    pdf.output(str(path))
    with pytest.raises(LoadError, match="no text layer"):
        load_file(path)


def test_binary_file_with_text_extension(tmp_path):
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(LoadError, match="binary"):
        load_file(path)


def test_docx_that_is_not_a_zip(tmp_path):
    path = tmp_path / "fake.docx"
    path.write_text("I am not a Word document", encoding="utf-8")
    with pytest.raises(LoadError, match="not a ZIP"):
        load_file(path)


def test_docx_zip_bomb_is_refused(tmp_path):
    path = tmp_path / "bomb.docx"
    # the fastest deflate level: still a bomb (about 1.4 MB that unpacks to 310 MB), made in half the time
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("word/padding.bin", b"\x00" * (310 * 1024 * 1024))
    assert path.stat().st_size < 2 * 1024 * 1024
    with pytest.raises(LoadError, match="unpacks to"):
        load_file(path)


# -- binary files named as text --------------------------------------------------------------


@pytest.mark.parametrize("content", [
    pytest.param(b"\x00" * 4096, id="a small file of NUL bytes"),
    pytest.param(b"Board minutes\n" * 400 + b"\x00" * 2**20, id="text, then mostly NUL bytes"),
    pytest.param(bytes(range(256)) * 64, id="a binary blob"),
])
def test_a_binary_file_named_txt_is_refused_as_not_text(tmp_path, content):
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    with pytest.raises(LoadError, match="looks binary, not text"):
        load_file(path)


def test_a_huge_file_of_nul_bytes_is_refused_as_not_text_not_as_too_much_text(tmp_path):
    path = tmp_path / "zeros.txt"
    with path.open("wb") as f:  # a sparse file: 199 MB of NUL bytes without writing them
        f.truncate(199 * 2**20)
    with pytest.raises(LoadError) as error:
        load_file(path)
    assert "looks binary, not text" in str(error.value)
    assert "characters" not in str(error.value)


def test_utf16_text_with_a_byte_order_mark_is_still_read(tmp_path):
    path = tmp_path / "utf16.txt"
    path.write_bytes("Urgent care plan\n".encode("utf-16"))
    assert load_file(path).text.strip() == "Urgent care plan"


# -- DOCX: linear loading, bounded, same structure as before ---------------------------------


def docx_text_as_before(path: Path) -> str:
    """The DOCX loader's text before it was made linear (python-docx's ``Paragraph.style`` for every
    paragraph): the reference the new loader must match."""
    import re

    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    from index.loaders import _docx_heading_level

    lines: list[str] = []
    # ``Paragraph.style`` looks its style id up in the styles part on every call, which is most of this
    # function's time; the answer depends on the id alone, so each id is looked up once (same result)
    resolved: dict = {}
    for block in docx.Document(str(path)).iter_inner_content():
        if isinstance(block, Paragraph):
            text = block.text.strip()
            if not text:
                continue
            style_id = block._p.style
            if style_id not in resolved:
                resolved[style_id] = (block.style.name if block.style is not None else "") or ""
            style = resolved[style_id]
            level = _docx_heading_level(style)
            if level:
                lines += ["", "#" * level + " " + text, ""]
            elif "list" in style.lower():
                lines.append("- " + text)
            else:
                lines += ["", text]
        elif isinstance(block, Table):
            lines.append("")
            for row in block.rows:
                lines.append("| " + " | ".join(c.text.strip().replace("\n", " ") for c in row.cells) + " |")
            lines.append("")
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def docx_like_the_corpus(source: Path, target: Path) -> Path:
    """A Word version of one shipped corpus document: numbered headings as Heading styles, bullets as
    list styles, pipe tables as Word tables, the rest as paragraphs; plus the odd cases (a Title, a
    Subtitle, a quote, an unknown style id, a character style's id, empty paragraphs)."""
    import re

    import docx
    from docx.oxml.ns import qn

    document = docx.Document()
    document.add_paragraph(source.stem.replace("-", " ").title(), style="Title")
    document.add_paragraph("A Word copy for testing", style="Subtitle")
    rows: list[list[str]] = []

    def flush_table() -> None:
        if rows:
            width = max(len(row) for row in rows)
            table = document.add_table(rows=len(rows), cols=width)
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
            rows.clear()

    for line in source.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if text.startswith("|"):
            if not re.fullmatch(r"[|\s:-]+", text):
                rows.append([cell.strip() for cell in text.strip("|").split("|")])
            continue
        flush_table()
        heading = re.match(r"^(\d+(?:\.\d+)*)\.?\s+\S", text)
        if heading and len(text) < 90:
            document.add_heading(text, level=min(heading.group(1).count(".") + 1, 9))
        elif text.startswith(("- ", "• ", "* ")):
            document.add_paragraph(text[2:], style="List Bullet" if len(text) % 2 else "List Number 2")
        else:
            document.add_paragraph(text)  # empty lines make empty paragraphs
    flush_table()
    document.add_paragraph("A pull quote from the chair", style="Intense Quote")
    for style_id in ("NoSuchStyle", "Strong"):  # unknown, and a character style's id: both the default style
        paragraph = document.add_paragraph(f"Paragraph styled {style_id}")
        paragraph._p.get_or_add_pPr().insert(0, paragraph._p.makeelement(qn("w:pStyle"), {qn("w:val"): style_id}))
    document.save(str(target))
    return target


def test_docx_text_is_as_before_on_the_corpus_in_word(tmp_path):
    from tests.conftest import CORPUS

    for source in sorted(CORPUS.glob("*.txt")):
        path = docx_like_the_corpus(source, tmp_path / (source.stem + ".docx"))
        text = load_file(path).text
        assert text == docx_text_as_before(path), source.name
        assert text.startswith("# ") and "\n- " in text


def test_docx_text_is_as_before_with_headings_lists_and_tables(tmp_path):
    path = make_docx(tmp_path / "plan.docx")
    assert load_file(path).text == docx_text_as_before(path)


def make_long_docx(path: Path, paragraphs: int) -> Path:
    """A heading, then "Finding 0" ... one paragraph each. The paragraphs are copies of the first
    one's XML set one after another: python-docx's add_paragraph looks for the end of the body each
    time, which takes minutes for 25,000."""
    import copy

    import docx

    document = docx.Document()
    document.add_heading("Long report", level=1)
    last = document.add_paragraph("Finding 0")._p
    first = copy.deepcopy(last)
    for n in range(1, paragraphs - 1):
        paragraph = copy.deepcopy(first)
        paragraph.xpath(".//w:t")[0].text = f"Finding {n}"
        last.addnext(paragraph)
        last = paragraph
    document.save(str(path))
    return path


def test_a_docx_with_25000_paragraphs_loads_whole(tmp_path):
    extracted = load_file(make_long_docx(tmp_path / "long.docx", 25_000))
    assert extracted.text.startswith("# Long report\n")
    assert "\nFinding 0\n" in extracted.text and extracted.text.endswith("\nFinding 24998\n")
    assert extracted.text.count("Finding ") == 24_999


def test_a_docx_with_too_many_paragraphs_is_refused_before_it_is_read(tmp_path, monkeypatch):
    import index.loaders

    path = make_long_docx(tmp_path / "many.docx", 1_001)
    monkeypatch.setattr(index.loaders, "MAX_DOCX_PARAGRAPHS", 1_000)
    monkeypatch.setattr("docx.Document", lambda *a, **k: pytest.fail("the DOCX was parsed before it was refused"))
    with pytest.raises(LoadError) as error:
        load_file(path)
    assert str(error.value) == ("the DOCX has more than 1,000 paragraphs, the limit for one document (about "
                                "5,000 pages): split it into smaller files")


def test_a_docx_at_the_paragraph_limit_loads(tmp_path, monkeypatch):
    import index.loaders

    monkeypatch.setattr(index.loaders, "MAX_DOCX_PARAGRAPHS", 1_000)
    assert load_file(make_long_docx(tmp_path / "many.docx", 1_000)).text.count("Finding ") == 999


@pytest.mark.parametrize("maker", ["docx", "pdf"])
def test_a_file_that_takes_too_long_to_read_is_refused(tmp_path, monkeypatch, maker):
    import index.loaders

    path = (make_long_docx(tmp_path / "long.docx", 3_000) if maker == "docx"
            else make_pdf(tmp_path / "long.pdf", ["Page one.", "Page two."]))
    monkeypatch.setattr(index.loaders, "MAX_LOAD_SECONDS", -1)  # every check finds the time up
    with pytest.raises(LoadError, match="reading the file took longer than the limit"):
        load_file(path)


def test_a_docx_made_by_python_docx_is_dated_by_its_file_not_2013(tmp_path):
    import os
    from datetime import datetime

    path = make_docx(tmp_path / "plan.docx")
    os.utime(path, (datetime(2024, 5, 1).timestamp(),) * 2)
    assert load_file(path).date == "2024"


def test_a_docx_with_its_own_creation_date_keeps_it(tmp_path):
    from datetime import datetime

    import docx

    document = docx.Document()
    document.core_properties.created = datetime(2021, 3, 4, 9, 0)
    document.add_paragraph("Estates strategy")
    path = tmp_path / "estates.docx"
    document.save(str(path))
    assert load_file(path).date == "2021"
