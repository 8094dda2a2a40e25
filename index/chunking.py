"""Structure-aware chunking of ICB strategy documents.

The documents have numbered sections ("5.2.1. Urgent care"), contents lists, bullet lists with
lead-in lines, board-paper cover tables, slide titles, and roadmap timelines where a programme
heading and a financial-year heading ("2026/27") govern the bullets beneath them. The chunker:

1. classifies every line (heading, list item, table row, text, blank) and keeps a heading
   stack, so each chunk knows its heading path ("5. Priority intentions for 2025/26 >
   5.2. Additional local priorities > 5.2.1. Urgent care", "LSC2030 Roadmap > Cancer > 2027/28");
2. groups lines into blocks: paragraphs, lists (with the line that introduces them), tables;
3. packs the blocks of one section into chunks of about ``target_tokens`` tiktoken tokens,
   never crossing a heading, never cutting a sentence, keeping a list with its lead-in line
   (a list too long for one chunk carries its lead-in into every part);
4. gives each chunk its texts to embed: the whole chunk with its headings, and small windows
   of a few sentences or bullets (about ``window_tokens``) under the chunk's own heading. A
   small embedding model averages a long passage into mush; a window about "three big shifts"
   still matches a question about them. Every window finds its chunk ("small finds, big answers").

Every chunk is the exact span ``text[start:end]`` of the extracted text.

Why one module of ~480 lines: the four steps share one line classification and one notion of a
block, and the chunker is the project's own value (the structure of these documents); its shared
text rules (sentence ends, words) live in ``index/text.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from index.documents import Chunk, LoadedDocument
from index.text import ITEM_LINE_WORDS, MONTH_NAMES, opens_alike, sentence_spans
from index.tokens import get_encoding

CHUNKER_VERSION = "5"  # bump when chunk boundaries change, so the index re-chunks

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_NUMBERED_HEADING = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,4})\.?\s+([A-Z0-9(‘'\"].*)$")
_YEAR_HEADING = re.compile(r"^((?:19|20)\d{2}/\d{2}(?:\s*(?:-|–|to)\s*(?:19|20)?\d{2}/\d{2})?)\s*:?$")
_SECTION_PREFIX = re.compile(r"^(section|part|chapter|appendix)\s+[\dA-Z]+\b", re.IGNORECASE)
_LIST_ITEM = re.compile(r"^\s*(?:[-•·*–—▪●◦‣]|\d{1,2}[.)]|[a-z][.)]|\([a-z0-9]{1,3}\))\s+\S")
_BARE_BULLET = re.compile(r"^\s*[-•·*–—▪●◦‣]\s*$")
# after a lead-in ("The four places are:"), lines of at most ITEM_LINE_WORDS words, none ending a sentence,
# are its items ("Lancashire", a line on it, "South Cumbria", ...), not headings
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")
_TOC_LINE = re.compile(r"^\|?\s*(.+?)\s*(?:\.{2,}\s*|\t+|\s{2,}|\s*\|\s*)\|?\s*(\d{1,3})\s*\|?\s*$")


@dataclass
class Line:
    start: int
    end: int  # end of the line's text, without its newline
    text: str  # the line as written
    kind: str = "text"  # blank | heading | list | table | text
    level: int = 0
    title: str = ""
    guessed: bool = False  # a heading only by its look (not Markdown, numbered or a financial year)


@dataclass
class Block:
    """A unit never split unless it alone exceeds the chunk ceiling."""

    kind: str  # paragraph | list | table
    lines: list[Line]
    section: tuple[str, ...]
    lead_in: Line | None = None  # the paragraph line introducing a list

    @property
    def start(self) -> int:
        return (self.lead_in or self.lines[0]).start

    @property
    def end(self) -> int:
        return self.lines[-1].end


@dataclass
class ChunkerSettings:
    target_tokens: int = 220
    max_tokens: int = 320
    window_tokens: int = 64  # 0: embed whole chunks only
    encoding: str = "cl100k_base"


@dataclass
class _Piece:
    start: int
    end: int
    tokens: int
    lead_in: str = ""


@dataclass
class _Section:
    path: tuple[str, ...]
    blocks: list[Block] = field(default_factory=list)


# -- line classification ------------------------------------------------------------------


def split_lines(text: str) -> list[Line]:
    lines, offset = [], 0
    for raw in text.split("\n"):
        lines.append(Line(start=offset, end=offset + len(raw), text=raw))
        offset += len(raw) + 1
    return lines


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("**", "")).strip()


def contents_titles(lines: list[Line]) -> set[str]:
    """Titles listed in a contents page near the start ("Introduction<TAB>3", "| 2. Intro.... | 2 |")."""
    titles: set[str] = set()
    for line in lines[:120]:
        match = _TOC_LINE.match(line.text.strip())
        if match:
            title = re.sub(r"^\d{1,2}(?:\.\d{1,2})*\.?\s+", "", match.group(1)).rstrip(". ").strip()
            if 1 <= len(title.split()) <= 14 and re.search(r"[A-Za-z]", title):
                titles.add(title.lower())
    return titles if len(titles) >= 3 else set()


def _looks_like_heading(text: str, next_text: str | None, prev_text: str | None) -> bool:
    """A short, unpunctuated line standing on its own above body text."""
    stripped = _clean(text)
    words = stripped.split()
    if not (1 <= len(words) <= 12) or len(stripped) > 90 or next_text is None:
        return False
    if text.count("**") % 2:
        return False  # "**Lancashire and" / "South Cumbria**": one bold run wrapped over lines, not a heading
    if not (stripped[0].isupper() or stripped[0].isdigit()):
        return False
    if stripped[-1] in ".,;?!–-" or stripped.startswith(("|", "**", "#", "<")) or "\t" in text.strip():
        return False
    if re.search(r"\s[-–]\s\S", stripped):
        return False  # "Digital - Shared Care Record": a labelled line, not a heading
    if stripped.endswith(":") and (len(words) > 3 or _LIST_ITEM.match(next_text)):
        return False  # a lead-in line
    if prev_text is not None and prev_text.strip() and prev_text.rstrip()[-1:] not in ".:!?)”\"'":
        return False  # the tail of a wrapped paragraph, not a heading
    return True


def classify(text: str) -> list[Line]:
    """Mark each line's kind; heading lines get a level and a title.

    Headings come from, in order of trust: Markdown ``#`` lines (then nothing else is
    guessed), numbered section titles (then unnumbered lines after the first are body text),
    financial years, and finally short unpunctuated lines. Of those, a line listed in the
    contents page, a "Section 2: ..." line, or a slide title set off by one leading space is
    a top-level heading; the rest are placed by :func:`_assign_levels`.
    """
    lines = split_lines(text)
    markdown = any(_MD_HEADING.match(line.text) for line in lines)
    toc = set() if markdown else contents_titles(lines)
    numbered = 0 if markdown else sum(
        1 for line in lines if _NUMBERED_HEADING.match(line.text.strip()) and _short_title(line.text)
    )
    body = [i for i, line in enumerate(lines) if line.text.strip()]
    wrapped = _is_hard_wrapped(lines)
    seen_numbered = False
    listing = False  # within the items of a lead-in line

    for k, i in enumerate(body):
        line = lines[i]
        stripped = line.text.strip()
        prev_line = lines[i - 1].text if i > 0 else None
        prev_body = lines[body[k - 1]] if k > 0 else None
        next_line = lines[body[k + 1]].text if k + 1 < len(body) else None
        if prev_body is not None:  # a marked list, a table or a heading ends the lead-in's items
            said = prev_body.text.strip()
            listing = prev_body.kind == "text" and (
                said.endswith(":")
                or (listing and not _SENTENCE_END.search(said) and len(said.split()) <= ITEM_LINE_WORDS)
            )
        if _BARE_BULLET.match(stripped):
            line.kind = "list"
            continue
        if markdown:
            match = _MD_HEADING.match(stripped)
            if match:
                line.kind, line.level, line.title = "heading", len(match.group(1)), _clean(match.group(2))
                continue
        elif numbered >= 3:
            match = _NUMBERED_HEADING.match(stripped)
            if match and _short_title(stripped):
                seen_numbered = True
                line.kind, line.level, line.title = "heading", match.group(1).count(".") + 1, _clean(stripped)
                continue
        year = _YEAR_HEADING.match(stripped)
        if year:
            line.kind, line.level, line.title = "heading", -1, year.group(1)  # placed under its parent
            continue
        if stripped.startswith("|") or "\t" in stripped:
            line.kind = "table"
            continue
        if _LIST_ITEM.match(stripped):
            line.kind = "list"
            continue
        if markdown or (numbered >= 3 and seen_numbered):
            continue
        if _clean(stripped).lower() in toc:
            line.kind, line.level, line.title, line.guessed = "heading", 1, _clean(stripped), True
            continue
        if prev_body is not None and prev_body.kind == "heading" and prev_body.text.rstrip().endswith(":"):
            continue  # the content of a label such as "Enablers:"
        if not _looks_like_heading(line.text, next_line, prev_line):
            continue
        title = _clean(stripped).rstrip(":")
        named = title.lower() in toc or bool(_SECTION_PREFIX.match(title))
        slide_title = line.text.startswith(" ") and not line.text.startswith("  ")
        strong = named or slide_title
        if listing and not named and (not slide_title or _same_opening(stripped, next_line)):
            # an item of the lead-in above ("The four places are:" / "Lancashire"), set out like a heading; a
            # slide's title after "... on the next slide:" stays one, unless the next line opens as it does
            # (" We will have healthy communities" / "We will have high quality ...": the first of its items)
            continue
        if strong:
            line.kind, line.level, line.title, line.guessed = "heading", 1, title, True
        elif not wrapped and (prev_line is None or not prev_line.strip()):
            line.kind, line.level, line.title, line.guessed = "heading", 0, title, True
    has_strong = bool(toc) or any(
        line.kind == "heading" and line.level == 1 and not _NUMBERED_HEADING.match(line.text.strip())
        for line in lines
    )
    _assign_levels([lines[i] for i in body], has_strong)
    _demote_empty_headings([lines[i] for i in body])
    return lines


def _same_opening(text: str, other: str | None) -> bool:
    """Both lines open with the same two words ("We will have ..."), the second not with the whole of
    the first (" Our challenges" / "Our challenges are growing.": a title and its text)."""
    first, second = text.lower().split(), (other or "").lower().split()
    return opens_alike(text, other or "") and second[: len(first)] != first


def _demote_empty_headings(body: list[Line]) -> None:
    """A guessed heading with nothing under it (the next line is a heading of its level or
    above, or the text ends) is text: a title page's lines, a sign-off ("Kevin Lavery" /
    "Chief executive, ..."). As a heading its words would be in no passage's text."""
    for k, line in enumerate(body):
        if line.kind != "heading" or not line.guessed:
            continue
        after = body[k + 1] if k + 1 < len(body) else None
        if after is None or (after.kind == "heading" and after.level <= line.level):
            line.kind, line.level, line.title, line.guessed = "text", 0, "", False


def _is_hard_wrapped(lines: list[Line]) -> bool:
    """True when most prose lines run straight into another prose line (no blank between):
    then paragraphs were wrapped at a fixed width and a short line is a wrap tail."""

    def prose(line: Line) -> bool:
        stripped = line.text.strip()
        return bool(stripped) and not (_LIST_ITEM.match(stripped) or stripped.startswith("|") or "\t" in stripped)

    prose_lines = [i for i, line in enumerate(lines) if prose(line)]
    if not prose_lines:
        return False
    running_on = sum(1 for i in prose_lines if i + 1 < len(lines) and prose(lines[i + 1]))
    return running_on > 0.5 * len(prose_lines)


def _short_title(text: str) -> bool:
    stripped = _clean(text)
    return len(stripped) <= 110 and len(stripped.split()) <= 14 and stripped[-1:] not in ".,;"


def _assign_levels(body: list[Line], has_strong: bool) -> None:
    """Levels for financial years (one below their programme) and unnumbered headings.

    An unnumbered heading sits below the top-level ones when the document has those;
    otherwise a run of headings with nothing between them nests ("LSC2030 Roadmap" >
    "Cancer"), and a lone heading is a sibling of the heading just before it.
    """
    deepest = 0  # level of the most recent heading
    parent = 0  # level of the most recent heading that is not a year
    for k, line in enumerate(body):
        if line.kind != "heading":
            continue
        before = body[k - 1] if k > 0 else None
        after = body[k + 1] if k + 1 < len(body) else None
        if line.level == -1:
            line.level = parent + 1
        elif line.level == 0:
            if has_strong:
                line.level = 2
            elif before is not None and before.kind == "heading":
                line.level = before.level + 1
            elif after is not None and after.kind == "heading" and after.level in (0, -1):
                line.level = 1  # the first of a run
            else:
                line.level = deepest or 1
        beside_year = line.level > parent and before is not None and before.kind != "heading"
        deepest = line.level
        if not _YEAR_HEADING.match(line.title) and not beside_year:
            parent = line.level  # "Enablers" beside a year is not the parent of the next year


# -- blocks -------------------------------------------------------------------------------


def build_sections(lines: list[Line]) -> list[_Section]:
    """Group classified lines into blocks, and blocks into sections by heading path."""
    stack: list[tuple[int, str]] = []
    sections: list[_Section] = [_Section(path=())]
    current: list[Line] = []
    current_kind = ""

    def flush() -> None:
        nonlocal current, current_kind
        if current:
            kind = {"text": "paragraph", "list": "list", "table": "table"}[current_kind]
            sections[-1].blocks.append(Block(kind=kind, lines=current, section=sections[-1].path))
        current, current_kind = [], ""

    for line in lines:
        if not line.text.strip():
            if current_kind != "list":  # blank lines inside a list do not end it
                flush()
            continue
        if line.kind == "heading":
            flush()
            level = line.level
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, line.title))
            sections.append(_Section(path=tuple(title for _, title in stack)))
            continue
        kind = line.kind
        if kind == "text" and current_kind == "list" and line.text[:1].isspace():
            current.append(line)  # an indented continuation of a list item
            continue
        if kind != current_kind:
            flush()
            current_kind = kind
        current.append(line)
    flush()

    # a paragraph ending in ':' introduces the list after it, and so does a label standing alone
    # above it ("Staying healthy and well" over a list of places): a long list carries it into
    # every part, so a short item deep in the list is still found by what the list is about
    for section in sections:
        merged: list[Block] = []
        for block in section.blocks:
            if (
                block.kind == "list"
                and merged
                and merged[-1].kind == "paragraph"
                and (merged[-1].lines[-1].text.rstrip().endswith(":") or _is_label(merged[-1].lines))
                and merged[-1].lead_in is None
            ):
                intro = merged.pop()
                if len(intro.lines) > 1:
                    merged.append(Block("paragraph", intro.lines[:-1], section.path))
                block.lead_in = intro.lines[-1]
            merged.append(block)
        section.blocks = merged
    return [section for section in sections if section.blocks]


def _is_label(lines: list[Line]) -> bool:
    """A paragraph of one short line without a sentence's end: a label, not prose."""
    text = _clean(lines[-1].text)
    return len(lines) == 1 and 1 <= len(text.split()) <= 8 and text[-1:] not in ".!?;,"


# -- context: words indexed with a chunk that its span does not say ---------------------------

_NAME_LINE = re.compile(
    r"^(?:(?:Professor|Prof\.?|Dr\.?|Mr\.?|Mrs\.?|Ms\.?|Miss|Sir|Dame|Cllr\.?)\s+)*"
    r"[A-Z][a-z]+(?:[-'’][A-Z][a-z]+)?(?:\s+[A-Z]\.?)?(?:\s+[A-Z][a-z]+(?:[-'’][A-Z][a-z]+)?){1,2}$"
)
_ROLE_LINE = re.compile(
    r"^(?:(?:Interim|Acting|Deputy|Associate|Joint|Executive|Medical|Clinical|Managing|Programme|Finance|Nursing)\s+)*"
    r"(?:Chief|Director|Chair(?:man|woman|person)?|President|Secretary|Head|Lead|Manager|Officer|Executive|Leader)\b",
    re.IGNORECASE,
)


def front_matter(document: LoadedDocument) -> str:
    """What the document is, in words: its title, kind, date and publisher (from the manifest or
    the file), indexed with its first chunk so that "when was the board paper published?" and
    "who published the strategy?" find the title page or cover sheet. Plain words, no labels such
    as "Document:" that a question about "the documents" would match in every first chunk."""
    info = document.info
    about = ", ".join(part for part in (info.kind, _readable_date(info.date) if info.date else "") if part)
    head = f"{info.title} ({about})" if about else info.title
    return ". ".join(part for part in (head, f"Published by {info.publisher}" if info.publisher else "") if part)


def _readable_date(date: str) -> str:
    """"2025-05-22" as "22 May 2025", "2019-10" as "October 2019"; anything else as given."""
    match = re.fullmatch(r"((?:19|20)\d{2})(?:-(\d{2}))?(?:-(\d{2}))?", date.strip())
    if not match or not match.group(2) or not 1 <= int(match.group(2)) <= 12:
        return date
    month = MONTH_NAMES[int(match.group(2)) - 1]
    return f"{int(match.group(3))} {month} {match.group(1)}" if match.group(3) else f"{month} {match.group(1)}"


def _signed(text: str) -> str:
    """"Signed by: Kevin Lavery, Chief executive, ..." for a chunk holding a name line followed by
    a role line (a foreword's or a report's author), so "who wrote ..." can find it; else ""."""
    lines = [line.strip().strip("*").strip() for line in text.split("\n") if line.strip()]
    for name, role in zip(lines, lines[1:]):
        if _NAME_LINE.match(name) and _ROLE_LINE.match(role) and len(role.split()) <= 14:
            return f"Signed by (author): {name}, {role}"
    return ""


def _context(*parts: str) -> str:
    return "\n".join(part for part in parts if part)


# -- packing ------------------------------------------------------------------------------


class Chunker:
    """Cut a loaded document into chunks. Stateless apart from its settings."""

    def __init__(self, settings: ChunkerSettings | None = None):
        self.settings = settings or ChunkerSettings()
        self._encoding = get_encoding(self.settings.encoding)

    def tokens(self, text: str) -> int:
        return len(self._encoding.encode(text, disallowed_special=()))

    def chunk(self, document: LoadedDocument) -> list[Chunk]:
        text = document.text
        chunks: list[Chunk] = []
        for section in build_sections(classify(text)):
            path = " > ".join(section.path)
            for piece in self._pack(text, section.blocks):
                piece = self._trim(text, piece)
                body = text[piece.start : piece.end]
                chunks.append(
                    Chunk(
                        doc=document.info.doc,
                        index=len(chunks),
                        text=body,
                        start=piece.start,
                        end=piece.end,
                        section=path,
                        page=document.page_at(piece.start),
                        page_end=document.page_at(max(piece.start, piece.end - 1)),
                        lead_in=piece.lead_in,
                        context=_signed(body),
                        tokens=piece.tokens,
                    )
                )
        if chunks:  # the front matter: what the document is, kept as words a search can find
            chunks[0] = replace(chunks[0], context=_context(front_matter(document), chunks[0].context))
        return chunks

    def embedding_texts(self, chunk: Chunk) -> list[str]:
        """What to embed for a chunk: the whole chunk, then its windows when it has more than one."""
        whole = chunk.embedding_text()
        size = self.settings.window_tokens
        if not size or chunk.tokens <= size:
            return [whole]
        units: list[str] = []
        for line in chunk.text.split("\n"):
            if line.strip():
                units += [line[a:b] for a, b in sentence_spans(line)]
        windows: list[str] = []
        current: list[str] = []
        count = 0
        for unit in units:
            tokens = self.tokens(unit)
            if current and count + tokens > size:
                windows.append(" ".join(current))
                current, count = [], 0
            current.append(unit)
            count += tokens
        if current:
            windows.append(" ".join(current))
        if len(windows) < 2:
            return [whole]
        heading = "\n".join(part for part in (chunk.section.split(" > ")[-1], chunk.lead_in) if part)
        return [whole] + [f"{heading}\n{window}" if heading else window for window in windows]

    def _trim(self, text: str, piece: _Piece) -> _Piece:
        """Drop whitespace at either end of a piece (table rows end in tabs)."""
        body = text[piece.start : piece.end]
        start = piece.start + len(body) - len(body.lstrip())
        end = piece.start + len(body.rstrip())
        if (start, end) == (piece.start, piece.end):
            return piece
        return _Piece(start, end, self.tokens(text[start:end]), piece.lead_in)

    def _pack(self, text: str, blocks: list[Block]) -> list[_Piece]:
        target, ceiling = self.settings.target_tokens, self.settings.max_tokens
        pieces: list[_Piece] = []
        for block in blocks:
            pieces.extend(self._split_block(text, block))
        merged: list[_Piece] = []
        for piece in pieces:  # greedy: join neighbours while they fit the target
            if merged and not piece.lead_in:
                last = merged[-1]
                joined = text[last.start : piece.end]
                if last.tokens + piece.tokens <= target or (
                    last.tokens < target // 2 and last.tokens + piece.tokens <= ceiling
                ):
                    merged[-1] = _Piece(last.start, piece.end, self.tokens(joined), last.lead_in)
                    continue
            merged.append(piece)
        return merged

    def _split_block(self, text: str, block: Block) -> list[_Piece]:
        """One piece if the block fits the ceiling; else parts that never cut a sentence."""
        whole = self.tokens(text[block.start : block.end])
        if whole <= self.settings.max_tokens:
            return [_Piece(block.start, block.end, whole)]
        if block.kind == "paragraph":
            units = sentence_spans(text, block.start, block.end)
            lead = ""
        elif block.kind == "list":
            units = self._list_items(block)
            lead = _clean(block.lead_in.text) if block.lead_in else ""
            if block.lead_in is not None:
                units[0] = (block.lead_in.start, units[0][1])
        else:  # table: rows; later parts repeat the header row as their lead-in
            units = [(line.start, line.end) for line in block.lines]
            lead = _clean(block.lines[0].text)
        return self._group(text, units, lead)

    def _list_items(self, block: Block) -> list[tuple[int, int]]:
        items: list[list[Line]] = []
        for line in block.lines:
            if line.kind == "list" or not items:
                items.append([line])
            else:
                items[-1].append(line)
        return [(item[0].start, item[-1].end) for item in items]

    def _group(self, text: str, units: list[tuple[int, int]], lead: str) -> list[_Piece]:
        target, ceiling = self.settings.target_tokens, self.settings.max_tokens
        pieces: list[_Piece] = []
        start, end, count = None, None, 0
        for unit_start, unit_end in units:
            size = self.tokens(text[unit_start:unit_end])
            if start is not None and count + size > target:
                pieces.append(_Piece(start, end, self.tokens(text[start:end]), lead if pieces else ""))
                start, count = None, 0
            if size > ceiling:  # a "sentence" longer than a chunk: cut between words, as a last resort
                for word_start, word_end in self._word_windows(text, unit_start, unit_end):
                    pieces.append(_Piece(word_start, word_end, self.tokens(text[word_start:word_end]), lead if pieces else ""))
                continue
            if start is None:
                start = unit_start
            end, count = unit_end, count + size
        if start is not None:
            pieces.append(_Piece(start, end, self.tokens(text[start:end]), lead if pieces else ""))
        return pieces

    def _word_windows(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        windows, window_start, count = [], None, 0
        for match in re.finditer(r"\S+", text[start:end]):
            size = self.tokens(match.group(0)) + 1
            if window_start is not None and count + size > self.settings.target_tokens:
                windows.append((window_start, previous_end))
                window_start, count = None, 0
            if window_start is None:
                window_start = start + match.start()
            previous_end = start + match.end()
            count += size
        if window_start is not None:
            windows.append((window_start, previous_end))
        return windows
