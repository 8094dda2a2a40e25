"""The structure-aware chunker on the shipped documents and on small made-up ones."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from index.chunking import Chunker, ChunkerSettings, classify
from index.documents import DocumentInfo, LoadedDocument
from index.loaders import load_file
from index.tokens import count_tokens

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
MANIFEST = {entry["file"]: entry for entry in json.loads((CORPUS / "manifest.json").read_text())}


def load(name: str) -> LoadedDocument:
    path = CORPUS / name
    extracted = load_file(path)
    entry = MANIFEST[name]
    info = DocumentInfo(path, entry["title"], entry.get("date", ""), entry.get("kind", ""), entry.get("publisher", ""))
    return LoadedDocument(info, extracted.text, extracted.page_starts)


def from_text(text: str, name: str = "doc.txt") -> LoadedDocument:
    return LoadedDocument(DocumentInfo(Path(name), "Doc"), text)


@pytest.fixture(scope="module")
def chunker() -> Chunker:
    return Chunker()


@pytest.fixture(scope="module")
def corpus_chunks(chunker) -> dict[str, tuple[LoadedDocument, list]]:
    return {name: (doc := load(name), chunker.chunk(doc)) for name in MANIFEST}


def test_heading_path_of_a_numbered_section(corpus_chunks):
    _, chunks = corpus_chunks["lsc-icb-commissioning-intentions-2025-26.txt"]
    urgent = [c for c in chunks if c.section.endswith("5.2.1. Urgent care")]
    assert urgent, "no chunk under 5.2.1. Urgent care"
    assert urgent[0].section == (
        "5. Priority intentions for 2025/26 > 5.2. Additional local priorities > 5.2.1. Urgent care"
    )
    assert "urgent" in urgent[0].text.lower()


def test_heading_path_of_a_roadmap_year(corpus_chunks):
    _, chunks = corpus_chunks["lsc-2030-roadmap-programme-timelines-2025.txt"]
    sections = {c.section for c in chunks}
    assert "LSC2030 Roadmap > Cancer > 2027/28" in sections
    cancer_2027 = next(c for c in chunks if c.section == "LSC2030 Roadmap > Cancer > 2027/28")
    assert "Gynaecology Cancer pathway" in cancer_2027.text
    # "Enablers" sits beside the years of its programme, not above the next year
    assert "LSC2030 Roadmap > Long-Term Condition Management > Enablers" in sections
    assert "LSC2030 Roadmap > Long-Term Condition Management > 2027/28" in sections
    assert not any("Enablers >" in s for s in sections)


def test_contents_page_gives_top_level_headings(corpus_chunks):
    _, chunks = corpus_chunks["lsc-icb-state-of-the-system-report-2024.txt"]
    sections = {c.section for c in chunks}
    assert "Review of the year > Preventing hypertension (high blood pressure)" in sections
    assert "Our financial position" in sections


def test_board_paper_numbered_sections(corpus_chunks):
    _, chunks = corpus_chunks["lsc-icb-board-2030-roadmap-paper-2025-05-22.txt"]
    sections = [c.section for c in chunks]
    assert "3. Developing the LSC 2030 Vision and Roadmap" in sections
    assert "Executive summary" in sections


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_every_chunk_is_an_exact_span_within_budget(corpus_chunks, name):
    document, chunks = corpus_chunks[name]
    assert chunks
    assert [c.index for c in chunks] == list(range(len(chunks)))
    previous_end = 0
    for chunk in chunks:
        assert chunk.text == document.text[chunk.start : chunk.end]
        assert chunk.text == chunk.text.strip() and chunk.text, "a chunk starts and ends with text"
        assert chunk.start >= previous_end, "chunks overlap"
        previous_end = chunk.end
        assert chunk.tokens == count_tokens(chunk.text)
        assert chunk.tokens <= 320, f"{chunk.tokens} tokens in {chunk.section}"


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_no_chunk_ends_mid_sentence(corpus_chunks, name):
    document, chunks = corpus_chunks[name]
    for chunk in chunks:
        rest_of_line = document.text[chunk.end :].split("\n", 1)[0]
        last = chunk.text[-1]
        # a chunk ends at the end of a line, or after a sentence's closing punctuation
        assert not rest_of_line.strip() or last in ".!?:;)\"'’”", (chunk.text[-60:], rest_of_line[:40])


def test_list_stays_with_its_lead_in(corpus_chunks):
    _, chunks = corpus_chunks["lsc-icb-commissioning-intentions-2025-26.txt"]
    lead = "The 2030 Roadmap's emerging four priority areas of transformation are:"
    holder = next(c for c in chunks if lead in c.text)
    assert "- Service configuration" in holder.text


def test_long_list_is_split_between_items_and_repeats_its_lead_in(chunker):
    items = "\n".join(f"- Item number {i} describes a planned change to community services in detail." for i in range(80))
    document = from_text("Introduction\n\nOur plans for next year are:\n" + items + "\n")
    chunks = chunker.chunk(document)
    assert len(chunks) > 2
    assert chunks[0].text.startswith("Our plans for next year are:")
    for chunk in chunks[1:]:
        assert chunk.lead_in == "Our plans for next year are:"
        assert chunk.text.startswith("- Item number"), "a later part must start at an item"
        assert "Our plans for next year are:" in chunk.embedding_text()
    joined = "".join(c.text for c in chunks)
    assert joined.count("- Item number") == 80


def test_a_label_above_a_long_list_is_its_lead_in(chunker):
    """A short line standing alone above a list ("Staying healthy and well") says what the list is
    about: every part of a long list carries it, so an item deep in the list is found by it."""
    items = "\n".join(f"- Item number {i} describes a planned change to community services in detail." for i in range(80))
    numbered = "1. Introduction\n\nSome prose about the plans comes first.\n\n2. Plans\n\n{}\n\n3. Next steps\n\nMore prose.\n"
    chunks = chunker.chunk(from_text(numbered.format("Staying healthy and well\n\n" + items)))
    parts = [c for c in chunks if "Item number" in c.text]
    assert len(parts) > 2 and parts[0].text.startswith("Staying healthy and well")
    for chunk in parts[1:]:
        assert chunk.lead_in == "Staying healthy and well"
        assert "Staying healthy and well" in chunk.embedding_text()
    # a sentence above a list is prose, not a label
    chunks = chunker.chunk(from_text(numbered.format("The plans are set out below in full.\n\n" + items)))
    assert all(not c.lead_in for c in chunks)


def test_a_short_item_in_a_labelled_list_is_chunked_with_its_label(corpus_chunks):
    _, chunks = corpus_chunks["lsc-icb-commissioning-intentions-2025-26.txt"]
    holder = next(c for c in chunks if "(Burnley)" in c.text)
    assert "Staying healthy and well" in holder.text + holder.lead_in


def test_long_paragraph_is_cut_between_sentences(chunker):
    sentences = [f"Sentence {i} explains the financial recovery plan for the system." for i in range(120)]
    document = from_text(" ".join(sentences))
    chunks = chunker.chunk(document)
    assert len(chunks) > 3
    for chunk in chunks:
        assert re.match(r"^Sentence \d+ ", chunk.text)
        assert chunk.text.endswith("system.")


def test_chunks_never_cross_a_heading(chunker):
    document = from_text("# Urgent care\n\nShort text on urgent care.\n\n# Cancer\n\nShort text on cancer.\n", "x.md")
    chunks = chunker.chunk(document)
    assert [c.section for c in chunks] == ["Urgent care", "Cancer"]


def test_markdown_headings_nest(chunker):
    text = "# Plan\n\nIntro.\n\n## Maternity\n\nText.\n\n### Staffing\n\nMore.\n\n## Cancer\n\nEnd.\n"
    sections = [c.section for c in chunker.chunk(from_text(text, "plan.md"))]
    assert sections == ["Plan", "Plan > Maternity", "Plan > Maternity > Staffing", "Plan > Cancer"]


def test_smaller_target_makes_more_chunks():
    document = load("lsc-icb-commissioning-intentions-2025-26.txt")
    small = Chunker(ChunkerSettings(target_tokens=100, max_tokens=150)).chunk(document)
    large = Chunker(ChunkerSettings(target_tokens=400, max_tokens=600)).chunk(document)
    assert len(small) > len(large)
    assert max(c.tokens for c in small) <= 150


def test_wrapped_lines_are_not_mistaken_for_headings():
    text = (
        " Introduction\nHealthier Lancashire is a partnership of NHS, councils and\n"
        "voluntary groups working together\nto support 1.7 million people.\n"
    )
    headings = [line.title for line in classify(text) if line.kind == "heading"]
    assert headings == ["Introduction"]


def test_the_items_of_a_lead_in_set_out_like_headings_are_text_under_it():
    text = (
        "The power of place\n\nWe work with our places. The four places are:\n\n\n\nLancashire\n\n"
        "Split into three localities – east, north, and central\n\nSouth Cumbria\n\nThe boundary crosses three councils\n\n"
        "Blackburn with Darwen\n\nBlackpool\n\nIt is our ambition to have places at the heart of our system.\n\n"
        "Delegation of budget\n\nBudgets were delegated to place in 2024.\n"
    )
    headings = [line.title for line in classify(text) if line.kind == "heading"]
    assert headings == ["The power of place", "Delegation of budget"]  # the places are the lead-in's items
    # one slide's items, the first set off by a space like a slide's title, opening as the next line does
    ambitions = (" Our vision\nOur vision is that people live longer.\nAt the heart of this are the following ambitions:\n"
                 " We will have healthy communities\nWe will have high quality services\n")
    assert [line.title for line in classify(ambitions) if line.kind == "heading"] == ["Our vision"]
    # a heading that names itself a section is one, even straight after a lead-in
    named = " Our vision\nOur vision is set out in two parts:\nSection 1: A case for change\nWe spend more than we receive.\n"
    assert [line.title for line in classify(named) if line.kind == "heading"] == ["Our vision", "Section 1: A case for change"]
    # a slide's title after "... on the next slide:" is still one
    slide = (" Our challenges\nThe scale of these challenges is illustrated on the next slide:\n A case for changing the way we work\n"
             "We are not taking sufficient action to\ntackle health inequalities.\n")
    assert [line.title for line in classify(slide) if line.kind == "heading"] == ["Our challenges", "A case for changing the way we work"]
    # a title whose text opens with it is a title, even after "... on the next slide:"
    titled = (" Our priorities\nThe scale of these challenges is illustrated on the next slide:\n Our challenges\n"
              "Our challenges are significant and growing.\n")
    assert [line.title for line in classify(titled) if line.kind == "heading"] == ["Our priorities", "Our challenges"]
    # a marked list ends the lead-in's items, and so does a sentence ending in a quote or bracket
    bulleted = "Intro\n\nWe will focus on three things:\n\n- prevention\n- value\n\nFinance\n\nThe budget is £5bn.\n"
    assert [line.title for line in classify(bulleted) if line.kind == "heading"] == ["Intro", "Finance"]
    quoted = ("Intro\n\nAs the patient survey put it in the report:\n\n\"I was seen quickly and treated well.\"\n\n"
              "Our priorities\n\nWe will improve access to care.\n")
    assert [line.title for line in classify(quoted) if line.kind == "heading"] == ["Intro", "Our priorities"]
    # nor does a long line of prose keep the run going
    long_line = ("Intro\n\nWe have two places, which are:\n\nLancashire\n\n" + "the county has many towns and villages and " * 4
                 + "coast\n\nBlackpool\n\nA town on the coast.\n")
    assert [line.title for line in classify(long_line) if line.kind == "heading"] == ["Intro", "Blackpool"]
    # after a full stop the lead-in's list has ended: a heading is a heading again
    ended = "Intro\n\nWe have two places, which are:\n\nLancashire\n\nIt has three localities.\n\nBlackpool\n\nA town on the coast.\n"
    assert [line.title for line in classify(ended) if line.kind == "heading"] == ["Intro", "Blackpool"]


def test_the_four_places_are_in_the_passage_that_leads_into_them(corpus_chunks):
    _, chunks = corpus_chunks["lsc-icb-state-of-the-system-report-2024.txt"]
    lead = next(chunk for chunk in chunks if "The four places are:" in chunk.text)
    assert lead.section == "The power of place"
    assert all(place in lead.text for place in ("Lancashire", "South Cumbria", "Blackburn with Darwen", "Blackpool"))
    _, chunks = corpus_chunks["healthier-lsc-our-next-steps-2019.txt"]
    vision = next(chunk for chunk in chunks if "following ambitions:" in chunk.text)
    assert "We will have healthy communities" in vision.text and "works for everyone" in vision.text


def test_a_bold_run_wrapped_over_two_lines_is_not_a_heading():
    lines = classify((CORPUS / "lsc-icb-commissioning-intentions-2025-26.txt").read_text(encoding="utf-8"))
    headings = [line.title for line in lines if line.kind == "heading"]
    assert "Lancashire and" not in headings and "South Cumbria" not in headings
    assert "Contents" in headings
    # the title page's line has nothing under it before "Contents": it is text, not a heading
    assert "Commissioning Intentions 2025/26" not in headings


def test_long_chunks_are_embedded_whole_and_in_small_windows():
    from index.chunking import Chunker, ChunkerSettings
    from index.documents import DocumentInfo, LoadedDocument

    sentences = " ".join(f"Sentence {n} says the plan for item {n} is to improve service {n} quickly." for n in range(30))
    text = f"1. Plans\n\n1.1. Urgent care\n\n{sentences}\n\n1.2. Short\n\nOne line only.\n"
    chunker = Chunker(ChunkerSettings(target_tokens=400, max_tokens=500, window_tokens=64))
    document = LoadedDocument(info=DocumentInfo(Path("plans.md"), "Plans", "", "", ""), text=text)
    chunks = chunker.chunk(document)
    long_chunk = chunks[0]
    short_chunk = next(chunk for chunk in chunks if chunk.section.endswith("1.2. Short"))

    texts = chunker.embedding_texts(long_chunk)
    assert texts[0] == long_chunk.embedding_text()  # the whole chunk first
    windows = texts[1:]
    assert len(windows) >= 4
    for window in windows:
        heading, body = window.split("\n", 1)
        assert heading == "1.1. Urgent care"
        assert chunker.tokens(body) <= 64 + 20  # one sentence may carry a window past the target
        assert body in long_chunk.text  # windows are whole sentences of the chunk
    bodies = [window.split("\n", 1)[1] for window in windows]
    assert long_chunk.text.startswith(bodies[0]) and long_chunk.text.endswith(bodies[-1])  # nothing left out
    assert chunker.embedding_texts(short_chunk) == [short_chunk.embedding_text()]
    no_windows = Chunker(ChunkerSettings(target_tokens=400, max_tokens=500, window_tokens=0))
    assert no_windows.embedding_texts(long_chunk) == [long_chunk.embedding_text()]


def test_a_sign_off_and_a_title_page_are_text_in_a_chunk(corpus_chunks):
    """Lines that look like headings but head nothing (a title page, "Kevin Lavery" /
    "Chief executive, ...") are kept as text: as headings their words were in no chunk."""
    _, chunks = corpus_chunks["lsc-icb-state-of-the-system-report-2024.txt"]
    signed = [c for c in chunks if "Kevin Lavery" in c.text]
    assert len(signed) == 1 and "Chief executive, NHS Lancashire" in signed[0].text
    assert signed[0].section == "Introduction"  # kept with the section it signs
    assert signed[0].context.startswith("Signed by (author): Kevin Lavery, Chief executive")
    assert "Beyond the challenge: moving into delivery" in chunks[0].text


def test_the_first_chunk_carries_the_front_matter(corpus_chunks):
    _, chunks = corpus_chunks["lsc-icb-board-2030-roadmap-paper-2025-05-22.txt"]
    first = chunks[0]
    assert "Presented by" in first.text  # the cover sheet
    assert first.context.startswith("LSC ICB 2030 Roadmap (ICB Board paper, agenda item 11) (board paper, 22 May 2025)")
    assert "Published by NHS Lancashire" in first.context
    assert "22 May 2025" in first.search_text("t") and "(board paper, 22 May 2025)" in first.embedding_text()
    assert not any(c.context for c in chunks[1:])  # the board paper has no sign-off line pair
