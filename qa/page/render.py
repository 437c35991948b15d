"""HTML for the chat page: answers with clickable `[n]` markers, numbered source cards, the index status.

Everything that comes from the archive or the user goes through `html.escape` here and nowhere
else is it put into markup, so a comment holding `<script>` or `<img onerror=...>` shows as text.
Pure functions of their arguments; the page (`qa.page.web`) puts the strings on screen.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from qa.answer import answer_marks
from qa.dates import format_date
from qa.page.chat import Turn
from qa.page.picture import timeline_svg
from qa.text import plural
from qa.types import Answer, Citation, Document

BADGES = {"article": "Article", "comment": "Reader comment · opinion"}
EARLIER_TURNS = 9  # sources of this many earlier answers stay in the panel, folded
MAX_DOCUMENT_CHARS = 200_000  # of a document's text shown in its card's panel


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def iso(text: object) -> str:
    """Escaped and isolated: a right-to-left override (U+202E) in an archive string or a question
    cannot reorder the text around it. `iso("a<b")` -> `'<bdi>a&lt;b</bdi>'`"""
    return f"<bdi>{esc(text)}</bdi>"


def card_id(turn: int, n: int) -> str:
    return f"src-{turn}-{n}"


def status_html(manifest: dict[str, Any]) -> str:
    """`12 documents · 44 comments · 75 chunks · built 2025-05-01 09:30 UTC · model all-MiniLM-L6-v2`"""
    c = manifest.get("counts", {})
    built = str(manifest.get("created_at", "?"))[:16].replace("T", " ")
    model = manifest.get("model", {}).get("id", "?")
    parts = [plural(c.get("documents", 0), "document"), plural(c.get("comments", 0), "comment"),
             plural(c.get("chunks", 0), "chunk"), f"built {built} UTC", f"model {model}"]
    return '<div class="qa-status">' + " · ".join(esc(p) for p in parts) + "</div>"


def date_span(days: np.ndarray) -> tuple[str, str] | None:
    """Earliest and latest ISO date among day ordinals (-1 = undated); None when nothing is dated."""
    dated = days[days >= 0]
    if not len(dated):
        return None
    return date.fromordinal(int(dated.min())).isoformat(), date.fromordinal(int(dated.max())).isoformat()


def highlight(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """Escaped text with the spans in `<mark>`. `highlight("a <b> c", [(2, 5)])` -> `'a <mark>&lt;b&gt;</mark> c'`"""
    out, last = [], 0
    for a, b in sorted(spans):
        a, b = max(a, last), min(b, len(text))
        if a >= b:
            continue
        out += [esc(text[last:a]), f"<mark>{esc(text[a:b])}</mark>"]
        last = b
    out.append(esc(text[last:]))
    return "".join(out)


def safe_url(url: str | None) -> str | None:
    """The URL when it is http(s), else None: a `javascript:` link in an archive must not become a link."""
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in ("http", "https") else None


def source_card(citation: Citation, turn: int, document: Document | None = None) -> str:
    """One numbered source: its title links to the web address when it has one; the card holds its whole
    `document` in a folded panel, when given."""
    hit, chunk = citation.hit, citation.hit.chunk
    url = safe_url(hit.url)
    title = iso(chunk.title)
    if url:
        title = f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer nofollow">{title}</a>'
    meta = [f"{'comment by' if chunk.kind == 'comment' else 'by'} {chunk.author}" if chunk.author else
            ("comment by anonymous" if chunk.kind == "comment" else ""),
            format_date(chunk.published_at), hit.source or (PurePath(hit.path).name if hit.path else "")]
    # the search's rank, not its fused score: a score of 1.000 reads as confidence, and is none
    rank = (f'<span class="qa-rank" title="Its place among the passages the search found (1 = nearest to the '
            f'question); not a measure of confidence">search rank {hit.rank}</span>')
    used = '<span class="qa-used">quoted in the answer</span>' if citation.used_sentences else ""
    badge = esc(BADGES.get(chunk.kind, chunk.kind))
    return (
        f'<article class="qa-card qa-{esc(chunk.kind)}" id="{card_id(turn, citation.n)}">'
        f'<div class="qa-card-head"><span class="qa-num">[{citation.n}]</span> '
        f'<span class="qa-badge qa-badge-{esc(chunk.kind)}">{badge}</span>{used}</div>'
        f'<div class="qa-title">{title}</div>'
        f'<div class="qa-meta">{" · ".join([*(iso(m) for m in meta if m), rank])}</div>'
        f'<p class="qa-passage"><bdi>{highlight(chunk.text, citation.used_sentences)}</bdi></p>'
        f'{"" if document is None else whole_document(document)}</article>'
    )


def whole_document(doc: Document) -> str:
    """A folded panel with the whole document a card's passage comes from:
    title, byline, date, text and its reader comments, as indexed — escaped, never the file's own markup."""
    head = " · ".join(p for p in (f"by {doc.author}" if doc.author else "", format_date(doc.published_at),
                                  PurePath(doc.path).name if doc.path else "") if p)
    body = doc.body[:MAX_DOCUMENT_CHARS] + (f" … ({len(doc.body) - MAX_DOCUMENT_CHARS:,} more characters)"
                                            if len(doc.body) > MAX_DOCUMENT_CHARS else "")
    comments = "".join(f'<div class="qa-doc-comment"><div class="qa-doc-meta">comment by {esc(c.author)}'
                       f'{" · " + esc(format_date(c.date)) if c.date else ""}</div>'
                       f'<p class="qa-doc-text"><bdi>{esc(c.text)}</bdi></p></div>' for c in doc.comments)
    return (f'<details class="qa-doc"><summary>Open the whole document</summary>'
            f'<div class="qa-doc-body"><div class="qa-doc-title">{iso(doc.title)}</div>'
            f'<div class="qa-doc-meta">{esc(head)}</div><p class="qa-doc-text"><bdi>{esc(body)}</bdi></p>'
            + (f'<div class="qa-doc-title">{plural(len(doc.comments), "reader comment")}</div>{comments}'
               if doc.comments else "") + "</div></details>")


def turn_sources(turn: Turn, number: int, documents: Mapping[str, Document] | None = None) -> str:
    a = turn.answer
    note = "Nearest passages (none answers the question)" if a.abstained else "Sources"
    docs = documents or {}
    cards = ("".join(source_card(c, number, docs.get(c.hit.chunk.doc_id)) for c in a.citations)
             or '<p class="qa-empty">No passages found.</p>')
    return (f'<div class="qa-turn-title">{note} for Q{number}: {iso(turn.question)}</div>'
            f'{timeline_svg(a.timeline, number)}<div class="qa-cards">{cards}</div>')


def shown_documents(turns: Sequence[Turn]) -> list[str]:
    """The ids of the documents whose cards `evidence_html` shows (for their whole-document panels)."""
    shown = turns[max(0, len(turns) - 1 - EARLIER_TURNS):]
    return list(dict.fromkeys(c.hit.chunk.doc_id for t in shown for c in t.answer.citations))


def evidence_html(turns: Sequence[Turn], documents: Mapping[str, Document] | None = None) -> str:
    """The sources of the latest answer, then those of up to `EARLIER_TURNS` earlier answers, folded;
    `documents` (by id) fill the cards' whole-document panels; an answer with a timeline has its picture."""
    if not turns:
        return '<div class="qa-evidence"><p class="qa-empty">Numbered sources appear here with each answer.</p></div>'
    parts = [f'<section class="qa-turn" id="turn-{len(turns)}">{turn_sources(turns[-1], len(turns), documents)}'
             '</section>']
    for number in range(len(turns) - 1, max(0, len(turns) - 1 - EARLIER_TURNS), -1):
        parts.append(f'<details class="qa-turn" id="turn-{number}"><summary>Q{number}: '
                     f'{iso(turns[number - 1].question)}</summary>'
                     f'{turn_sources(turns[number - 1], number, documents)}</details>')
    return '<div class="qa-evidence">' + "".join(parts) + "</div>"


def answer_html(answer: Answer, number: int) -> str:
    """Escaped answer text: the answerer's own `[n]` markers link to the cards of this turn; the
    spans copied from the archive are isolated and never linked (a `[1]` in a comment is its text)."""
    cited = {c.n for c in answer.citations}
    text = answer.text
    cuts = sorted([(a, b, "mark", n) for a, b, n in answer_marks(answer)]
                  + [(a, b, "quote", 0) for a, b in answer.quoted])
    out, last = [], 0
    for a, b, kind, n in cuts:
        if a < last:
            continue
        out.append(esc(text[last:a]))
        if kind == "quote":
            out.append(f"<bdi>{esc(text[a:b])}</bdi>")
        elif n in cited:
            out.append(f'<a class="qa-cite" href="#{card_id(number, n)}">[{n}]</a>')
        else:
            out.append(esc(text[a:b]))
        last = b
    out.append(esc(text[last:]))
    return "".join(out).replace("\n", "<br>")


def searched_html(query: str, scope: str) -> str:
    return f'<div class="qa-searched">Searched {esc(scope)}: <q>{esc(query)}</q></div>'


def messages(turns: Sequence[Turn], pending: tuple[str, str, str] | None = None,
             partial: str = "") -> list[dict[str, str]]:
    """Chat messages for the turns; `pending` = (question, query, scope) of one being answered, and
    `partial` the text a language model has written of its answer so far (shown as plain text)."""
    out = []
    for number, t in enumerate(turns, start=1):
        out += [{"role": "user", "content": esc(t.question)},
                {"role": "assistant", "content": searched_html(t.plan.query, t.plan.scope)
                 + f'<div class="qa-answer">{answer_html(t.answer, number)}</div>'
                 + "".join(f'<div class="qa-note">{esc(n)}</div>' for n in t.answer.notes)}]
    if pending:
        question, query, scope = pending
        out += [{"role": "user", "content": esc(question)},
                {"role": "assistant", "content": searched_html(query, scope) + (
                    f'<div class="qa-streaming">{esc(partial).replace(chr(10), "<br>")}</div>'
                    '<div class="qa-pending">The model is writing; its citations are checked when it ends…</div>'
                    if partial else '<div class="qa-pending">Searching the archive and reading the passages…</div>')}]
    return out


def notice_html(message: str) -> str:
    return f'<div class="qa-notice" role="alert">{esc(message)}</div>' if message else ""


def info_html(message: str) -> str:
    """A line that reports, not warns (a rating kept)."""
    return f'<div class="qa-info" role="status">{esc(message)}</div>' if message else ""


CSS = """
.qa-status { font-size: 0.85em; opacity: 0.8; }
.qa-searched { font-size: 0.8em; opacity: 0.75; margin-bottom: 0.3em; }
.qa-searched q { font-style: italic; }
.qa-pending { font-style: italic; opacity: 0.8; }
.qa-pending::after { content: " ⏳"; }
.qa-answer { white-space: normal; }
bdi { unicode-bidi: isolate; }
.qa-note { font-size: 0.8em; opacity: 0.8; margin-top: 0.4em; font-style: italic; }
a.qa-cite { font-weight: 600; text-decoration: none; padding: 0 1px; color: var(--link-text-color, #2563eb); }
.qa-notice { border: 1px solid #dc2626; background: rgba(220, 38, 38, 0.08); color: inherit;
  border-radius: 6px; padding: 0.5em 0.75em; margin: 0.25em 0; }
.qa-info { border: 1px solid #059669; background: rgba(5, 150, 105, 0.08); border-radius: 6px;
  padding: 0.5em 0.75em; margin: 0.25em 0; }
.qa-export { font-size: 0.85em; margin: 0 0 0.5em; }
a.qa-export-link { display: inline-block; border: 1px solid rgba(127, 127, 127, 0.5); border-radius: 6px;
  padding: 0.1em 0.6em; margin-left: 0.3em; text-decoration: none; }
.qa-evidence { max-height: 78vh; overflow-y: auto; padding-right: 4px; }
.qa-turn-title { font-weight: 600; margin: 0.2em 0 0.5em; }
details.qa-turn { margin-top: 0.8em; }
details.qa-turn summary { cursor: pointer; opacity: 0.85; }
.qa-card { border: 1px solid rgba(127, 127, 127, 0.35); border-left: 5px solid #2563eb; border-radius: 6px;
  padding: 0.5em 0.7em; margin: 0 0 0.6em; scroll-margin: 12px; }
.qa-card.qa-comment { border-left-color: #d97706; }
.qa-card.qa-flash { outline: 3px solid #f59e0b; transition: outline 0.2s; }
.qa-card-head { display: flex; gap: 0.5em; align-items: center; flex-wrap: wrap; }
.qa-num { font-weight: 700; }
.qa-badge { font-size: 0.75em; font-weight: 600; border-radius: 999px; padding: 0.1em 0.6em; }
.qa-badge-article { background: #dbeafe; color: #1e3a8a; }
.qa-badge-comment { background: #fef3c7; color: #78350f; }
.qa-used { font-size: 0.75em; opacity: 0.75; }
.qa-title { font-weight: 600; margin-top: 0.25em; }
.qa-meta { font-size: 0.8em; opacity: 0.75; }
.qa-passage { white-space: pre-line; margin: 0.4em 0 0; font-size: 0.9em; }
.qa-passage mark { background: #fde68a; color: #111827; padding: 0 1px; }
.qa-empty { opacity: 0.7; }
.qa-rank { cursor: help; }
figure.qa-timeline { margin: 0 0 0.6em; }
figure.qa-timeline figcaption { font-size: 0.8em; opacity: 0.75; }
.qa-timeline-svg { display: block; max-width: 100%; overflow: visible; }
.qa-timeline-svg a.qa-point { cursor: pointer; }
.qa-timeline-svg a.qa-point:hover circle, .qa-timeline-svg a.qa-point:focus circle { stroke: #111827;
  stroke-width: 2.5; }
details.qa-doc { margin-top: 0.4em; font-size: 0.9em; }
details.qa-doc summary { cursor: pointer; color: var(--link-text-color, #2563eb); }
.qa-doc-body { max-height: 50vh; overflow-y: auto; border-top: 1px solid rgba(127, 127, 127, 0.35);
  margin-top: 0.3em; padding-top: 0.3em; }
.qa-doc-comment { border-left: 3px solid #d97706; padding-left: 0.5em; margin-top: 0.4em; }
.qa-doc-title { font-weight: 600; margin-top: 0.4em; overflow-wrap: anywhere; }
.qa-doc-meta { font-size: 0.8em; opacity: 0.75; overflow-wrap: anywhere; }
.qa-doc-text { white-space: pre-line; margin: 0.3em 0 0; overflow-wrap: anywhere; }
/* Narrow screens: the chat's "Conversation" label and its buttons float over the top of the messages, where
   they hid the question; there the messages start below them */
@media (max-width: 640px) {
  #qa-chat .bubble-wrap { margin-top: 2.4em; max-height: calc(100% - 2.4em); }
}
/* Layout: long words and links wrap inside their card or bubble; a long question scrolls inside a
   capped box instead of stretching the box and the buttons beside it; long echoed questions fold. */
.qa-card, .qa-title, .qa-meta, .qa-passage, .qa-answer, .qa-searched, .qa-turn-title, details.qa-turn summary,
  #qa-chat .message, #qa-status { overflow-wrap: anywhere; min-width: 0; }
.qa-turn-title, details.qa-turn summary, .qa-searched { display: -webkit-box; -webkit-box-orient: vertical;
  -webkit-line-clamp: 3; overflow: hidden; }
#qa-question textarea { max-height: 9em; overflow-y: auto !important; }
#qa-ask, #qa-new { align-self: flex-start; flex: 0 0 auto !important; min-width: 6em !important;
  white-space: nowrap; }
.form:has(#qa-question) { flex: 1 1 16em !important; }
"""

# Clicking `[n]` opens the turn's sources if folded, scrolls the card into view and flashes it.
HEAD = """<script>
document.addEventListener("click", function (event) {
  var link = event.target.closest ? event.target.closest("a.qa-cite") : null;
  if (!link) return;
  event.preventDefault();
  var card = document.getElementById((link.getAttribute("href") || "").slice(1));
  if (!card) return;
  var folded = card.closest("details");
  if (folded) folded.open = true;
  card.scrollIntoView({behavior: "smooth", block: "center"});
  card.classList.remove("qa-flash"); void card.offsetWidth; card.classList.add("qa-flash");
  setTimeout(function () { card.classList.remove("qa-flash"); }, 1600);
}, true);
</script>"""
