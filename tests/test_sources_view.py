"""The sources panel: escaped, highlighted, with title, section and page."""

from __future__ import annotations

from assistant.answers import Source
from assistant.sources_view import cited_sentences, highlight, render_source, render_sources, terms_of

EVIL = 'Plan <script>alert("x")</script> and <img src=x onerror=alert(1)> urgent care.'


def source(n: int = 1, text: str = "Urgent care will move into the community by 2026/27.", **kw) -> Source:
    values = dict(n=n, doc="plan.txt", title="The plan", section="5 Priorities > 5.2 Urgent care", page=12, text=text, start=10, end=60)
    values.update(kw)
    return Source(**values)


def test_cited_sentences_pick_the_sentences_with_the_marker():
    answer = "Urgent care moves to the community [1]. The deficit is £350m [2]. Both matter [1][2]."
    assert cited_sentences(answer, 1) == ["Urgent care moves to the community [1].", "Both matter [1][2]."]
    assert cited_sentences(answer, 3) == []


def test_terms_leave_out_stopwords_markers_and_short_words():
    assert terms_of("The urgent care is in 2026/27 [1] at £350m.") == {"urgent", "care", "2026/27", "£350m"}


def test_highlight_marks_words_and_merges_neighbours():
    marked = highlight("Urgent care will move into the community by 2026/27.", {"urgent", "care", "community", "2026/27"})
    assert marked == "<mark>Urgent care</mark> will move into the <mark>community</mark> by <mark>2026/27</mark>."


def test_highlight_escapes_everything_first():
    marked = highlight(EVIL, {"urgent", "script", "onerror"})
    assert "<script>" not in marked and "<img" not in marked
    assert "&lt;<mark>script</mark>&gt;" in marked
    assert "<mark>onerror</mark>=alert(1)&gt;" in marked
    assert "&quot;x&quot;" in marked


def test_render_source_shows_title_section_page_and_escapes():
    html = render_source(source(text=EVIL, title="<b>Board</b> paper", section='A & B > "C"'), "Urgent care first [1].")
    assert html.startswith('<details class="icb-source icb-official" data-n="1">')
    assert '<span class="icb-origin">Official</span>' in html
    assert "&lt;b&gt;Board&lt;/b&gt; paper" in html
    assert "A &amp; B &gt; &quot;C&quot; · page 12" in html
    assert "<script" not in html and "<img" not in html
    assert "<mark>urgent care</mark>" in html


def test_an_uploaded_source_says_who_uploaded_it_and_when():
    from index.documents import Provenance

    uploaded = Provenance("uploaded", "alice<b>", "2026-12-02T06:30:00+00:00")
    html = render_source(source(title="LSC2030 Roadmap", provenance=uploaded))
    assert html.startswith('<details class="icb-source icb-uploaded" data-n="1">')
    assert "Uploaded by alice&lt;b&gt; on 2026-12-02 (not yet published)" in html and "<b>" not in html


def test_render_source_without_page_or_section():
    html = render_source(source(page=None, section=""))
    assert "No section heading" in html and "page" not in html.split("icb-where")[1].split("</span>")[0]


def test_render_sources_lists_cited_sources_or_the_closest_passages():
    answer = "Urgent care moves [1]."
    cited = render_sources(answer, [source()], [source(), source(2)])
    assert "Sources cited in this answer" in cited and cited.count("<details") == 1
    closest = render_sources("The documents don't cover this.", [], [source(), source(2)], status="unanswerable")
    assert "Closest passages found" in closest and "do not answer" in closest and closest.count("<details") == 2
    assert "Sources for the answer appear here" in render_sources("", [], [])


def test_a_citation_after_the_full_stop_belongs_to_the_sentence_before_it():
    """Extractive answers quote whole sentences and cite after them: "… (£20m). [1]"."""
    answer = "- Five areas of focus: urgent care (£60m), corporate services (£20m). [1]\nSDEC runs 12 hours a day. [2]"
    assert cited_sentences(answer, 1) == ["Five areas of focus: urgent care (£60m), corporate services (£20m). [1]"]
    assert "corporate" in terms_of(" ".join(cited_sentences(answer, 1)))
