"""HTML to the archive's plain text: paragraphs apart by a blank line, line breaks kept inside them.

Used on the article body trafilatura extracts, on comment markup, and on the post and comment
HTML of a WordPress export (where, as on the site, a blank line starts a paragraph and a single
newline is a line break).
"""

from __future__ import annotations

import re
from typing import Any

_BLOCKS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 head li item ul ol list blockquote quote pre figure figcaption table tr row "
    "section article header footer aside dl dt dd hr address details summary".split()
)
_BREAKS = frozenset({"br", "lb"})
_SKIP = frozenset({"script", "style", "noscript", "template", "iframe", "svg", "button", "form", "select"})
_SPACE = re.compile(r"[ \t\r\n\f\v]+")  # not U+00A0: a no-break space shows
_BLOCK_START = re.compile(r"^\s*<(?:p|div|h[1-6]|ul|ol|li|blockquote|pre|figure|table|hr|!--)\b", re.IGNORECASE)


def _tag(el: Any) -> str:
    tag = el.tag
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _walk(el: Any, out: list[str]) -> None:
    """Append text pieces: "\n" for a line break, "\n\n" around blocks, text with its spaces collapsed."""
    tag = _tag(el)
    if tag in _SKIP or not tag:  # comments and processing instructions have a non-str tag
        return
    if tag in _BREAKS:
        out.append("\n")
        return
    block = tag in _BLOCKS
    if block:
        out.append("\n\n")
    if el.text:
        out.append(_SPACE.sub(" ", el.text))
    for child in el:
        _walk(child, out)
        if child.tail:
            out.append(_SPACE.sub(" ", child.tail))
    if block:
        out.append("\n\n")


def element_text(el: Any) -> str:
    """`<div><p>One <b>two</b></p><p>Three<br>four</p></div>` -> `'One two\\n\\nThree\\nfour'`."""
    out: list[str] = []
    if el.text:
        out.append(_SPACE.sub(" ", el.text))
    for child in el:
        _walk(child, out)
        if child.tail:
            out.append(_SPACE.sub(" ", child.tail))
    return tidy("".join(out))


def tidy(text: str) -> str:
    """Paragraphs at runs of blank lines, each line stripped, empty lines and paragraphs dropped."""
    paras = []
    for para in re.split(r"\n[ \t]*\n+", text):
        lines = [line.strip() for line in para.split("\n")]
        if kept := [line for line in lines if line]:
            paras.append("\n".join(kept))
    return "\n\n".join(paras)


def autop(html: str) -> str:
    """WordPress's stored post and comment HTML as the site shows it: a blank line starts a
    paragraph and a single newline is a line break (blocks that already have tags are left)."""
    parts = []
    for chunk in re.split(r"\n\s*\n", html.replace("\r\n", "\n").replace("\r", "\n")):
        if not chunk.strip():
            continue
        parts.append(chunk if _BLOCK_START.match(chunk) else "<p>" + chunk.strip().replace("\n", "<br>\n") + "</p>")
    return "\n".join(parts)


def stored_html_text(html: str) -> str:
    """Text of WordPress-stored HTML (post content, comment content): `'a\\n\\nb'` -> `'a\\n\\nb'`."""
    if "<" not in html and "&" not in html:
        return tidy(html)
    from lxml import html as lxml_html

    root = lxml_html.fragment_fromstring(autop(html), create_parent="div")
    return element_text(root)
