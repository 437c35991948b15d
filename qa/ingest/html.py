"""Saved web pages (`.html`, `.htm`): the article, its metadata and its reader comments.

trafilatura finds the article and drops navigation, sidebars, share buttons and footers; htmldate
finds the publication date from the page's markup (meta tags, `<time>`, the URL), never from
dates the text mentions. trafilatura reads comments as flat text without names or dates, so the
comment markup is read here (`qa.ingest.html_comments`) and its element removed before the
article is extracted.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from qa.errors import IngestError
from qa.ingest.html_comments import find_comments
from qa.ingest.markup import element_text
from qa.ingest.page import COMMENT_MARKER, MAX_TITLE_CHARS
from qa.types import Comment, Document

_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_DATA_URI = re.compile(r"""(\s(?:src|href|srcset)\s*=\s*)(["'])data:[^"']{200,}\2""", re.IGNORECASE)
_LXML_DEPTH = 256  # libxml2's nesting limit for HTML
MAX_MARKUP_CHARS = 5 * 2**20  # without inline images and scripts; the extractor slows faster than linearly
_SCRIPT = re.compile(r"<(script|style)\b([^>]{0,500})>", re.IGNORECASE)
_SCRIPT_END = re.compile(r"</(?:script|style)\s*>", re.IGNORECASE)
_SENTENCES = re.compile(r"[.!?…][\"”’)\]]*(?:\s|$)")  # an article has at least one paragraph of sentences
_WINDOWS = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252",
            "ascii": "cp1252"}  # what browsers decode these labels as


def decode_html(data: bytes) -> str:
    """Page text in its declared charset (UTF-8 when it declares none); ValueError saying why not."""
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValueError("binary file (contains NUL bytes)")
    if data.startswith(b"\xef\xbb\xbf"):
        charset = "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        charset = "utf-16"
    elif m := _CHARSET.search(data[:4096]):
        charset = m[1].decode("ascii").lower()
        charset = _WINDOWS.get(charset, charset)
    else:
        charset = "utf-8"
    try:
        return data.decode(charset)
    except LookupError:
        raise ValueError(f"the page declares an unknown charset {charset!r}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"not valid {charset} (byte {exc.start}), the page's declared charset; "
                         f"convert it, e.g. iconv -f WINDOWS-1252 -t UTF-8, and fix its <meta charset>") from None


def _without_bulk(text: str) -> str:
    """The page without what is bulk and no text: inline images (`data:` URIs) and the bodies of
    scripts and styles (JSON-LD metadata kept). One pass; an unclosed script keeps the rest."""
    text = _DATA_URI.sub(r"\1\2\2", _XML_DECLARATION.sub("", text, count=1))
    parts, pos = [], 0
    while (m := _SCRIPT.search(text, pos)) is not None:
        end = _SCRIPT_END.search(text, m.end())
        if end is None:
            break
        keep = "ld+json" in m[2].lower()
        parts.append(text[pos:end.start()] if keep else text[pos:m.end()])
        pos = end.start()
        parts.append(text[pos:end.end()])
        pos = end.end()
    parts.append(text[pos:])
    return "".join(parts)


# The readers saved pages need, as (module, the package that installs it), in the order that names the
# missing one: jusText imports lxml's HTML cleaner, and trafilatura imports jusText.
READERS = (("lxml.html", "lxml"), ("lxml_html_clean", "lxml_html_clean"), ("justext", "jusText"),
           ("htmldate", "htmldate"), ("trafilatura", "trafilatura"))


def require_readers() -> None:
    """IngestError (one line, naming the package to install) when a reader of saved pages cannot be imported."""
    for module, package in READERS:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise IngestError(f"Reading saved pages (.html) needs the Python package {package}, which cannot be "
                              f"imported ({why}): pip install '{package}'") from None


def _tree(text: str) -> Any:
    from lxml import etree
    from lxml import html as lxml_html

    text = _without_bulk(text)
    if len(text) > MAX_MARKUP_CHARS:
        raise ValueError(f"the page's markup is {len(text) / 2**20:.1f} MiB without inline images and scripts, "
                         f"over the {MAX_MARKUP_CHARS / 2**20:.0f} MiB limit: not one article")
    try:
        root = lxml_html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise ValueError(f"not an HTML page ({exc})") from None
    if root.find("body") is None:
        raise ValueError("not an HTML page (no <body>)")
    return root


def _cut_at_comments(paras: list[str], comments: list[Comment]) -> list[str]:
    """The article's paragraphs before the one that starts the first comment ("NAME says:")."""
    if not comments:
        return paras
    for i, para in enumerate(paras):
        line = para.split("\n", 1)[0]
        if (m := COMMENT_MARKER.match(line)) and m["name"].strip() == comments[0].author:
            return paras[:i]
    return paras


def _extract(root: Any) -> Any:
    import trafilatura

    try:
        return trafilatura.bare_extraction(root, include_comments=False, with_metadata=True,
                                           date_extraction_params={"extensive_search": False, "original_date": True})
    except Exception as exc:  # the extractor's own faults on odd markup: this page is skipped, not the build
        raise ValueError(f"the article extractor failed on this page ({type(exc).__name__}: {exc})") from None


def _title(meta: Any, root: Any) -> str:
    title = " ".join((getattr(meta, "title", None) or "").split())
    if not title:
        heads = root.xpath("//h1") or root.xpath("//title")
        title = " ".join(" ".join(heads[0].itertext()).split()) if heads else ""
    if not title:
        raise ValueError("no title (no <title>, og:title or <h1>)")
    if len(title) > MAX_TITLE_CHARS:
        raise ValueError(f"title is {len(title):,} characters long, not a title")
    return title


def _byline(root: Any) -> str | None:
    """The author named in the article's byline markup (`<span class="author vcard">`), for themes
    whose byline the extractor misses."""
    token = 'contains(concat(" ", normalize-space(@class), " "), " {} ")'.format
    found = root.xpath(f'//*[{token("entry-meta")} or {token("byline")} or {token("post-meta")}]'
                       f'//*[{token("author")} or @rel="author"]')
    for el in found:
        fn = el.xpath(f'.//*[{token("fn")}]')
        if name := " ".join(" ".join((fn[0] if fn else el).itertext()).split()):
            return name
    return None


_LISTING_CLASSES = frozenset("archive category tag author search home blog date paged".split())


def _listing(root: Any) -> str | None:
    """Why the page is a list of posts rather than one (a mirrored site's category, tag, author,
    date and front pages), or None: WordPress marks them in `<body class>`; elsewhere, several
    `<article>` teasers and no `og:type` article."""
    body = root.find("body")
    classes = set((body.get("class") or "").split()) if body is not None else set()
    if classes & _LISTING_CLASSES and not classes & {"single", "page", "single-post"}:
        return f"a listing of posts (body class {' '.join(sorted(classes & _LISTING_CLASSES))!r}), not an article"
    teasers = [a for a in root.iter("article") if "comment" not in (a.get("class") or "")]
    og_type = root.xpath('string(//meta[@property="og:type"]/@content)').strip().lower()
    if len(teasers) >= 3 and og_type != "article":
        return f"a listing of posts ({len(teasers)} <article> teasers), not an article"
    return None


def parse_html(text: str, doc_id: str, path: str | None = None) -> Document:
    """Read one saved page. Raises ValueError with a reason when it holds no article, IngestError when
    a reader it needs is not installed."""
    require_readers()
    import htmldate

    root = _tree(text)
    if reason := _listing(root):
        raise ValueError(reason)
    comments, container = find_comments(root)
    if container is not None and container.getparent() is not None:
        container.drop_tree()
    published = htmldate.find_date(root, extensive_search=False, original_date=True)
    meta = _extract(root)
    paras = element_text(meta.body).split("\n\n") if meta is not None and meta.body is not None else []
    paras = _cut_at_comments([p for p in paras if p], comments if container is None else [])
    title = _title(meta, root)
    body_paras = paras[1:] if paras and " ".join(paras[0].split()) == title else paras  # the headline
    if not any(_SENTENCES.search(p) and len(p.split()) >= 8 for p in body_paras):
        if any(len(el.xpath("ancestor::*")) >= _LXML_DEPTH - 2 for el in root.iter()):
            raise ValueError(f"no article on the page (elements nested over {_LXML_DEPTH} deep, where the HTML "
                             f"parser stops: a malformed or hostile page)")
        found = "no main text found" if not body_paras else "only menu or link text, no sentences"
        raise ValueError(f"no article on the page ({found}; an index, tag or search page?)")
    categories = [*(meta.categories or []), *(meta.tags or [])]
    return Document(
        doc_id=doc_id,
        title=title,
        body="\n\n".join(body_paras),
        source=meta.sitename or None,
        url=meta.url or None,
        author=meta.author or _byline(root),
        published_at=published or meta.date or None,
        category=", ".join(dict.fromkeys(c.strip() for c in categories if c.strip())) or None,
        path=path,
        comments=tuple(comments),
    )
