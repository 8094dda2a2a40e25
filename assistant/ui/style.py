"""How the app looks: the NHS-blue theme and CSS (system fonts only), and the escaping of any text
shown in a Markdown message (``md``) or a coloured box (``callout``)."""

from __future__ import annotations

import html

import gradio as gr

NHS_BLUE = "#005EB8"
CSS = f"""
.gradio-container {{ max-width: 1400px !important; }}
#icb-header {{ background: {NHS_BLUE}; color: #fff; padding: 14px 20px; border-radius: 6px; }}
#icb-header h1 {{ color: #fff; margin: 0; font-size: 1.5rem; }}
#icb-header p {{ color: #e8f1fa; margin: 4px 0 0 0; }}
#icb-header a {{ color: #fff; }}
.icb-sources h3 {{ margin: 0 0 4px 0; font-size: 1.05rem; }}
.icb-sources .icb-note {{ color: #4c6272; margin: 0 0 8px 0; font-size: 0.9rem; }}
.icb-source {{ border: 1px solid #d8dde0; border-left: 4px solid {NHS_BLUE}; border-radius: 4px;
               margin: 0 0 8px 0; background: #fff; }}
.icb-source summary {{ cursor: pointer; padding: 8px 12px; list-style: none; }}
.icb-source summary::-webkit-details-marker {{ display: none; }}
.icb-source .icb-toggle {{ display: block; color: {NHS_BLUE}; font-size: 0.85rem; margin-top: 2px;
                           text-decoration: underline; }}
.icb-source .icb-toggle::before {{ content: "Show the passage"; }}
.icb-source[open] .icb-toggle::before {{ content: "Hide the passage"; }}
.icb-source .icb-n {{ font-weight: 700; color: {NHS_BLUE}; }}
.icb-source .icb-title {{ font-weight: 600; }}
.icb-source .icb-where {{ display: block; color: #4c6272; font-size: 0.88rem; }}
.icb-source .icb-origin {{ display: block; color: #4c6272; font-size: 0.82rem; }}
.icb-source.icb-uploaded {{ border-left-color: #ffb81c; }}
.icb-source.icb-uploaded .icb-origin {{ color: #7a4b00; font-weight: 600; }}
.icb-passage {{ white-space: pre-wrap; padding: 8px 12px; border-top: 1px solid #eef0f1; font-size: 0.92rem;
                line-height: 1.45; max-height: 420px; overflow-y: auto; }}
.icb-passage mark {{ background: #fff3a3; padding: 0 1px; }}
.icb-meta {{ color: #6b7c87; font-size: 0.8rem; padding: 0 12px 8px 12px; }}
.icb-empty {{ color: #4c6272; border: 1px dashed #c4cbd0; border-radius: 6px; padding: 12px; }}
#icb-feedback-note p {{ margin: 0; }}
.icb-table * {{ font-family: var(--font) !important; }}
.icb-callout {{ border-radius: 4px; padding: 10px 12px; margin: 4px 0; border-left: 6px solid; }}
.icb-callout strong {{ display: block; margin-bottom: 2px; }}
.icb-unanswerable {{ background: #fff9e6; border-color: #ffb81c; color: #212b32; }}
.icb-error {{ background: #fdecea; border-color: #d5281b; color: #212b32; }}
.icb-notice {{ background: #eef7ff; border-color: {NHS_BLUE}; color: #212b32; font-size: 0.92rem; }}
.icb-notice strong {{ display: inline; margin-right: 4px; }}
.icb-support-mark {{ display: inline-block; border: 1px solid #d5281b; border-radius: 3px; padding: 0 4px;
                     margin-left: 2px; font-size: 0.8rem; font-weight: 600; color: #8a1c12; background: #fff;
                     cursor: help; text-decoration: none; }}
#icb-chat table td:first-child {{ min-width: 11em; }}
.icb-support-list {{ font-size: 0.9rem; border-left: 4px solid #d5281b; padding: 4px 10px; margin: 6px 0; }}
"""


def theme() -> gr.themes.Base:
    """NHS blue, system fonts only (nothing fetched from a font server)."""
    return gr.themes.Default(
        primary_hue=gr.themes.colors.blue,
        font=("Arial", "Helvetica", "system-ui", "sans-serif"),
        font_mono=("ui-monospace", "Consolas", "monospace"),
    ).set(button_primary_background_fill=NHS_BLUE, button_primary_background_fill_hover="#003d78")


def md(text: str) -> str:
    """Text for a Markdown message: HTML escaped, images and links disarmed; emphasis and lists kept."""
    text = html.escape(text or "", quote=False)
    text = text.replace("![", "!\\[").replace("](", "]\\(")
    return text


def callout(kind: str, heading: str, text: str) -> str:
    """A coloured box in a chat message (HTML; heading and text escaped)."""
    return (f'<div class="icb-callout {kind}"><strong>{html.escape(heading)}</strong>'
            f'<span>{html.escape(text)}</span></div>')


def notice_box(text: str) -> str:
    return callout("icb-notice", "Note:", text)


SUPPORT_LABELS = {"unsupported": "not supported", "uncited": "no source cited"}


def support_mark(sentence) -> str:
    """The mark after a sentence the check did not find supported: words, not only colour, and the
    reason on hover (HTML; the reason escaped)."""
    label = SUPPORT_LABELS[sentence.support]
    return f' <abbr class="icb-support-mark" title="{html.escape(sentence.reason, quote=True)}">⚠ {label}</abbr>'


def with_support_marks(text: str, sentences) -> str:
    """The answer (Markdown, escaped) with a mark after each sentence that the sentence-support check
    (assistant/support.py) did not find supported, then a list of those sentences with the reasons,
    readable without hovering."""
    flagged = [s for s in sentences if s.support != "supported"]
    if not flagged:
        return md(text)
    pieces, at = [], 0
    for sentence in flagged:
        where = text.find(sentence.text, at)
        if where < 0:
            continue
        end = where + len(sentence.text)
        pieces += [md(text[at:end]), support_mark(sentence)]
        at = end
    pieces.append(md(text[at:]))
    listed = "".join(
        f"<li>“{html.escape(_short(s.text))}”: {html.escape(s.reason)}</li>" for s in flagged
    )
    heading = f"{len(flagged)} sentence{'s' if len(flagged) > 1 else ''} to check against the sources"
    return "".join(pieces) + f'\n\n<div class="icb-support-list"><strong>⚠ {heading}</strong><ul>{listed}</ul></div>'


def _short(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
