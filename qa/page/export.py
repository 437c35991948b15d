"""The conversation with its citations, for download: Markdown and JSON, made from the page's turns.

Archive text is treated as hostile here too: in the Markdown every character that Markdown or HTML would
read as markup is backslash-escaped (a comment holding `<script>` or `[x](javascript:…)` stays text in any
viewer), control and bidi-override characters are dropped, and only http(s) addresses become links. The
JSON is `json.dumps` of plain fields. `export_html` gives the page's two download links (data URLs, so
the conversation is never written to the server's disk).
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from qa.dates import format_date
from qa.page.chat import Turn
from qa.types import Citation

FORMAT = "archive-qa-conversation/1"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_MARKUP = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&\"'=:$])")


def clean(text: object) -> str:
    """Text without control or bidi-override characters (tabs and line breaks kept)."""
    return _CONTROL.sub("", str(text).replace("\r\n", "\n").replace("\r", "\n"))


def md(text: object) -> str:
    """Markdown-escaped text: `md("<b>[x](javascript:y)")` -> `'\\<b\\>\\[x\\]\\(javascript\\:y\\)'`"""
    return _MARKUP.sub(r"\\\1", clean(text))


def _line(text: object) -> str:
    return md(" ".join(clean(text).split()))


def _http(url: str | None) -> str | None:
    if not url:
        return None
    try:
        ok = urlsplit(url.strip()).scheme.lower() in ("http", "https")
    except ValueError:
        return None
    return url.strip() if ok else None


def _source(c: Citation) -> dict[str, Any]:
    hit, chunk = c.hit, c.hit.chunk
    return {"n": c.n, "kind": chunk.kind, "title": clean(chunk.title), "author": clean(chunk.author or "") or None,
            "date": chunk.published_at, "outlet": clean(hit.source) if hit.source else None,
            "url": _http(hit.url), "document": clean(chunk.doc_id), "passage": clean(chunk.text),
            "quoted": [clean(chunk.text[a:b]) for a, b in c.used_sentences]}


def to_json(turns: Sequence[Turn]) -> str:
    """The conversation as one JSON document: each turn's question, what was searched, the answer, its notes,
    its timeline and its numbered sources."""
    return json.dumps({"format": FORMAT, "turns": [
        {"question": clean(t.question), "searched": clean(t.plan.query), "scope": clean(t.plan.scope),
         "answer": clean(t.answer.text), "abstained": t.answer.abstained,
         "notes": [clean(n) for n in t.answer.notes],
         "timeline": [{"day": p.day, "what": clean(p.what), "n": p.n, "holder": clean(p.holder) if p.holder else None}
                      for p in t.answer.timeline],
         "sources": [_source(c) for c in t.answer.citations]} for t in turns]}, ensure_ascii=False, indent=1)


def to_markdown(turns: Sequence[Turn]) -> str:
    """The conversation as Markdown: a section per question, its answer, and its sources numbered as `[n]`."""
    out = ["# Archive QA conversation", ""]
    for number, t in enumerate(turns, start=1):
        out += [f"## Q{number}. {_line(t.question)}", "", f"*Searched {_line(t.plan.scope)}: {_line(t.plan.query)}*",
                ""]
        out += ["  \n".join(md(line) for line in clean(t.answer.text).split("\n")), ""]
        out += [f"> {_line(n)}" for n in t.answer.notes] + ([""] if t.answer.notes else [])
        if t.answer.timeline:
            out += ["**Timeline**", ""]
            out += [f"- {md(format_date(p.day))} — {_line(p.what)} \\[{p.n}\\]"
                    + (f" (held by {_line(p.holder)})" if p.holder else "") for p in t.answer.timeline]
            out.append("")
        if t.answer.citations:
            out += ["**Sources**", ""]
        for c in t.answer.citations:
            s = _source(c)
            title = _line(s["title"])
            if s["url"]:  # the address inside <…>, which takes no markup; escaped for the <> it cannot hold
                title = f"[{title}](<{s['url'].replace('<', '%3C').replace('>', '%3E').replace(' ', '%20')}>)"
            meta = [("comment by " if s["kind"] == "comment" else "by ") + _line(s["author"]) if s["author"] else "",
                    md(format_date(s["date"])) if s["date"] else "", _line(s["outlet"]) if s["outlet"] else ""]
            kind = "Reader comment (opinion)" if s["kind"] == "comment" else "Article"
            out.append(f"{c.n}\\. {kind}: {title}" + "".join(f" · {m}" for m in meta if m))
            out += [f"   > {_line(q)}" for q in s["quoted"]] or [f"   > {_line(s['passage'])}"]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _data_url(text: str, mime: str) -> str:
    return f"data:{mime};charset=utf-8;base64," + base64.b64encode(text.encode("utf-8")).decode("ascii")


def export_html(turns: Sequence[Turn]) -> str:
    """Two download links for the conversation (Markdown, JSON); "" before the first answer."""
    if not turns:
        return ""
    links = [(_data_url(to_markdown(turns), "text/markdown"), "archive-qa-conversation.md", "Markdown", "qa-export-md"),
             (_data_url(to_json(turns), "application/json"), "archive-qa-conversation.json", "JSON", "qa-export-json")]
    return ('<div class="qa-export">Export this conversation with its citations: ' + " ".join(
        f'<a class="qa-export-link" id="{i}" download="{f}" href="{html.escape(u, quote=True)}">{label}</a>'
        for u, f, label, i in links) + "</div>")
