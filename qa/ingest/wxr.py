"""WordPress exports (WXR, `.xml`): every published post with its author, date, categories, tags,
link and approved reader comments, replies under what they answer.

The file is streamed: each `<item>` is read, turned into a `Document` and dropped from the tree,
so memory stays flat however large the export. The parser is defusedxml's: a file that declares
XML entities (the "billion laughs" bomb) or points at outside resources is refused. Bytes that are
not valid UTF-8 are marked while decoding, and a post holding any is reported and skipped.
"""

from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from qa.dates import parse_date
from qa.ingest.markup import stored_html_text
from qa.ingest.records import RecordError
from qa.types import Comment, Document

_WP = "http://wordpress.org/export/"  # followed by the format version: 1.0/, 1.1/, 1.2/
_PREFIXES = {"http://purl.org/rss/1.0/modules/content/": "content", "http://purl.org/dc/elements/1.1/": "dc"}
BAD_BYTE = "\ufdd0"  # a noncharacter: stands in for each byte sequence that is not valid UTF-8
codecs.register_error("qa.wxr.mark", lambda exc: (BAD_BYTE, exc.end))  # type: ignore[attr-defined]
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_.:-]+)["']""")
_NO_DATE = "0000-00-00"


class _Text:
    """A binary file read as text in its declared encoding (UTF-8 by default), bad bytes marked.

    pyexpat, fed text, parses it as already decoded, so the marks reach the elements."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        head = raw.peek(256)[:256] if hasattr(raw, "peek") else b""
        declared = m[1].decode("ascii").lower() if (m := _DECLARED.match(head)) else "utf-8"
        try:
            info = codecs.lookup(declared)
        except LookupError:
            raise ValueError(f"the export declares an unknown encoding {declared!r}") from None
        if not getattr(info, "_is_text_encoding", True):  # rot13, zlib, hex, base64, bz2, uu, quopri
            raise ValueError(f"the export declares {declared!r}, which is not a text encoding; "
                             "save it as UTF-8")
        self.decoder = info.incrementaldecoder("qa.wxr.mark")
        self.started = False

    def read(self, size: int = -1) -> str:
        data = self.raw.read(size)
        text = self.decoder.decode(data, final=not data)
        if not self.started and text:
            text, self.started = text.removeprefix("\ufeff"), True
        return text


def _name(tag: str) -> str:
    """`'{http://wordpress.org/export/1.2/}post_type'` -> `'wp:post_type'`; `'title'` -> `'title'`."""
    if not tag.startswith("{"):
        return tag
    ns, local = tag[1:].split("}", 1)
    if ns.startswith(_WP):
        return ("excerpt:" if ns.rstrip("/").endswith("excerpt") else "wp:") + local
    return f"{_PREFIXES.get(ns, ns)}:{local}"


def _fields(el: ET.Element) -> dict[str, str]:
    """First text of each child, by prefixed name."""
    fields: dict[str, str] = {}
    for child in el:
        fields.setdefault(_name(child.tag), (child.text or "").strip())
    return fields


def _rfc822(value: str | None) -> str | None:
    """`'Tue, 20 May 2025 06:15:00 +0000'` (RSS `pubDate`) -> `'2025-05-20'`."""
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(value).date().isoformat() if value else None
    except (TypeError, ValueError, IndexError):
        return None


def _date(gmt: str | None, local: str | None) -> str | None:
    for value in (gmt, local):
        if value and not value.startswith(_NO_DATE) and (iso := parse_date(value)):
            return iso
    return None


def _comments(item: ET.Element) -> tuple[Comment, ...]:
    """Approved reader comments (no pingbacks), each root comment followed by its replies, by date."""
    found: list[tuple[str, str, tuple[str, int], Comment]] = []  # id, parent, sort key, comment
    for el in item:
        if _name(el.tag) != "wp:comment":
            continue
        f = _fields(el)
        if f.get("wp:comment_approved") != "1" or f.get("wp:comment_type", "") not in ("", "comment"):
            continue
        text = stored_html_text(f.get("wp:comment_content", ""))
        if not text:
            continue
        date = _date(f.get("wp:comment_date_gmt"), f.get("wp:comment_date"))
        key = (f.get("wp:comment_date_gmt") or f.get("wp:comment_date") or "", int(f.get("wp:comment_id") or 0))
        comment = Comment(author=" ".join(f.get("wp:comment_author", "").split()) or "anonymous", text=text, date=date)
        found.append((f.get("wp:comment_id", ""), f.get("wp:comment_parent", "0"), key, comment))
    ids = {cid for cid, *_ in found}
    replies: dict[str, list[tuple[tuple[str, int], str, Comment]]] = defaultdict(list)
    for cid, parent, key, comment in found:
        replies[parent if parent in ids and parent != cid else "0"].append((key, cid, comment))
    ordered: list[Comment] = []
    seen: set[str] = set()
    stack = sorted(replies.get("0", []), key=lambda r: r[0], reverse=True)
    while stack:  # depth first, without recursion: a reply chain may be thousands deep
        _, cid, comment = stack.pop()
        if cid not in seen:
            seen.add(cid)
            ordered.append(comment)
            stack += sorted(replies.get(cid, []), key=lambda r: r[0], reverse=True)
    ordered += [c for cid, _, _, c in found if cid not in seen]  # parents that form a loop: keep, in file order
    return tuple(ordered)


def _post(item: ET.Element, authors: dict[str, str], site: str | None, path: str) -> Document | None:
    """The item as a document, or None when it is not a published post."""
    f = _fields(item)
    if f.get("wp:post_type") != "post" or f.get("wp:status") != "publish":
        return None
    terms = [(el.get("domain"), (el.text or "").strip()) for el in item if _name(el.tag) == "category"]
    topics = [t for d, t in terms if d == "category"] + [t for d, t in terms if d == "post_tag"]
    login = f.get("dc:creator", "")
    doc_id = f.get("wp:post_name") or (f"post-{f['wp:post_id']}" if f.get("wp:post_id") else "")
    return Document(
        doc_id=doc_id or f"post-{abs(hash(f.get('link', ''))) % 10**8}",
        title=" ".join(f.get("title", "").split()),
        body=stored_html_text(f.get("content:encoded", "")),
        source=site,
        url=f.get("link") or None,
        author=authors.get(login, login) or None,
        published_at=_date(f.get("wp:post_date_gmt"), f.get("wp:post_date")) or _rfc822(f.get("pubDate")),
        category=", ".join(dict.fromkeys(t for t in topics if t)) or None,
        path=path,
        comments=_comments(item),
    )


def _problem(doc: Document) -> str | None:
    texts = [doc.title, doc.body, doc.author or "", *(f"{c.author}{c.text}" for c in doc.comments)]
    if bad := sum(t.count(BAD_BYTE) for t in texts):
        return (f"holds {bad} byte sequence(s) that are not valid UTF-8; re-export it, or convert the file "
                f"(e.g. iconv -f WINDOWS-1252 -t UTF-8) if it was saved in another encoding")
    if not doc.title:
        return "post has no title"
    if not doc.body and not doc.comments:
        return "post has no content and no approved comments"
    return None


def _refusal(exc: Exception) -> str:
    import defusedxml

    if isinstance(exc, defusedxml.EntitiesForbidden):
        return (f"refused: the file declares XML entities ({getattr(exc, 'name', '?')!r}), the way an XML bomb "
                f"expands a few bytes into gigabytes or a file reads others off this machine; a WordPress export "
                f"declares none")
    if isinstance(exc, defusedxml.ExternalReferenceForbidden):
        return "refused: the file refers to outside resources (external entities); a WordPress export has none"
    if isinstance(exc, ET.ParseError):
        line, column = exc.position
        what = re.sub(r":? line \d+, column \d+$", "", str(exc))
        return f"not well-formed XML at line {line}, column {column} ({what})"
    return str(exc)


def read_wxr(path: Path) -> Iterator[Document | RecordError]:
    """Stream one export. Bad posts come back as RecordError; a file that is not a readable
    export raises ValueError (after the posts before the fault, for a fault midway)."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser

    authors: dict[str, str] = {}
    site: str | None = None
    kinds: Counter[str] = Counter()
    depth, channel, posts = 0, None, 0
    with path.open("rb") as raw:
        parser = DefusedXMLParser(target=ET.TreeBuilder(), forbid_dtd=False, forbid_entities=True,
                                  forbid_external=True)
        try:
            for event, el in ET.iterparse(_Text(raw), events=("start", "end"), parser=parser):  # type: ignore[arg-type]
                if event == "start":
                    depth += 1
                    if depth == 1 and el.tag != "rss":
                        raise ValueError(f"not a WordPress export (its root element is <{_name(el.tag)}>, not <rss>)")
                    if depth == 2 and el.tag == "channel":
                        channel = el
                    continue
                depth -= 1
                if depth != 2 or channel is None:
                    continue
                name = _name(el.tag)
                if name == "title" and site is None:
                    site = " ".join((el.text or "").split()) or None
                elif name == "wp:author":
                    f = _fields(el)
                    login = f.get("wp:author_login", "")
                    authors[login] = f.get("wp:author_display_name") or login
                elif name == "item":
                    f = _fields(el)
                    kind, status = f.get("wp:post_type", "?"), f.get("wp:status", "?")
                    kinds[f"{status} post" if kind == "post" and status != "publish" else kind] += 1
                    doc = _post(el, authors, site, str(path))
                    if doc is not None:
                        posts += 1
                        reason = _problem(doc)
                        yield RecordError(f"post {posts} ({doc.doc_id})", reason) if reason else doc
                channel.remove(el)
        except (ET.ParseError, DefusedXmlException) as exc:
            raise ValueError(_refusal(exc)) from None
    if not posts:
        held = ", ".join(f"{n} {kind}" for kind, n in kinds.most_common()) or "no items"
        raise ValueError(f"no published posts in this WordPress export ({held})")
