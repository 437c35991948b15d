"""Reader comments in saved HTML pages, with commenter and date, in the order the page shows them.

Four shapes, tried in turn: WordPress's own comment classes, whatever element holds the list (each
comment an element of class `comment` — `<li>`, `<div>` or `<article>` — with its text in
`comment-content`, or `comment-body` in Twenty Ten's markup, or the block themes'
`wp-block-comment-content`; its commenter in `comment-author` (`.fn`) or `wp-block-comment-author-name`;
its date in a `<time datetime>` or a dated permalink; replies nested, read in page order), the
`comment-list` of themes that put a comment's paragraphs in the list item itself, Disqus's markup (the rendered
thread's `li.post` with `.author`, `time-ago` and `.post-message`, and the WordPress plugin's static
`dsq-comment` fallback), and, failing both, the "NAME says:" lines of a theme's plain markup.
Each returns the comments and the element holding them, which the article extractor must not see.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qa.dates import mentioned_dates, parse_date
from qa.ingest.markup import element_text
from qa.ingest.page import COMMENT_MARKER, markers, split_comments
from qa.types import Comment

Found = tuple[list[Comment], Any]  # comments and their container element (or None)


def _has_class(name: str) -> str:
    return f'contains(concat(" ", normalize-space(@class), " "), " {name} ")'


def _own(item: Any, xpath: str, item_tag: str = "li") -> list[Any]:
    """Elements under `item` that belong to it, not to a reply nested inside it."""
    return [el for el in item.xpath(xpath) if next(el.iterancestors(item_tag), None) is item]


def _date(el: Any | None) -> str | None:
    """A date from a `<time datetime>`, a `title`, or the text ("March 9, 2024 at 10:02 am")."""
    if el is None:
        return None
    for node in [el, *el.iter("time")]:
        for attr in ("datetime", "title", "data-date"):
            if (value := node.get(attr)) and (iso := parse_date(value) or next(iter(mentioned_dates(value)), None)):
                return iso
    return next(iter(mentioned_dates(" ".join(el.itertext()))), None)


def _name(el: Any | None) -> str | None:
    if el is None:
        return None
    fn = el.xpath(f'.//*[{_has_class("fn")}]')
    text = " ".join(" ".join((fn[0] if fn else el).itertext()).split())
    text = text.removesuffix("says:").strip()
    return text or None


_ITEM = " or ".join(_has_class(c) for c in ("comment", "pingback", "trackback"))
_CONTENT = (f'//*[{_has_class("comment-content")} or {_has_class("wp-block-comment-content")}]'
            f' | //*[{_has_class("comment-body")} and not(.//*[{_has_class("comment-author")}])'
            f' and not(.//*[{_has_class("comment-content")}])]')
_AUTHOR = f'.//*[{_has_class("comment-author")} or {_has_class("wp-block-comment-author-name")}]'
_META = (f'.//*[{_has_class("comment-metadata")} or {_has_class("comment-meta")} or {_has_class("commentmetadata")}'
         f' or {_has_class("wp-block-comment-date")}]')
_HOLDER = ("comments", "comments-area", "wp-block-comments", "wp-block-post-comments", "commentlist", "comment-list")
_ARTICLE = (f'.//*[({_has_class("entry-content")} or {_has_class("post-content")} or self::h1)'
            f' and not({_has_class("comment-content")})]')


def _item_of(el: Any) -> Any | None:
    """The comment an element belongs to: its nearest ancestor of class comment (or pingback, trackback)."""
    return next((a for a in el.iterancestors() if a.xpath(f"self::*[{_ITEM}]")), None)


def _by_classes(root: Any) -> Found | None:
    """Comments found by WordPress's comment classes, in any theme's elements; None when there are none."""
    items: list[tuple[Any, Any]] = []  # (comment element, its text element), in page order
    for content in root.xpath(_CONTENT):
        item = _item_of(content)
        if item is None or not item.xpath(f"self::*[{_has_class('comment')}]") or any(i is item for i, _ in items):
            continue  # a pingback or trackback, or a second text element of one comment
        items.append((item, content))
    comments = []
    for item, content in items:
        if not (text := element_text(content)):
            continue
        authors = [el for el in item.xpath(_AUTHOR) if _item_of(el) is item]
        meta = [el for el in item.xpath(_META) if _item_of(el) is item]
        times = [el for el in item.xpath(".//time") if _item_of(el) is item and content not in el.iterancestors()]
        date = _date(meta[0] if meta else None) or _date(times[0] if times else None)
        comments.append(Comment(author=_name(authors[0] if authors else None) or "anonymous", text=text, date=date))
    if not comments:
        return None
    return comments, _container([item for item, _ in items])


def _container(items: list[Any]) -> Any | None:
    """The element holding every comment and nothing of the article (the `#comments` area when there is one),
    or None after taking the comments out one by one when only an element holding the article holds them all."""
    chains = [[item, *item.iterancestors()] for item in items]
    common = next((el for el in chains[0] if all(any(el is c for c in chain) for chain in chains[1:])), None)
    if common is None:
        return None
    for el in [common, *common.iterancestors()]:
        if el.tag in ("body", "html") or el.xpath(_ARTICLE):
            break
        if el.get("id") == "comments" or set((el.get("class") or "").split()) & set(_HOLDER):
            common = el
    if common.tag in ("body", "html") or common.xpath(_ARTICLE):
        for item in items:
            if item.getparent() is not None and not any(a in items for a in item.iterancestors()):
                item.drop_tree()
        return None
    return common


def _wordpress(root: Any) -> Found | None:
    lists = root.xpath(f'//ol[{_has_class("comment-list")} or {_has_class("commentlist")}]'
                       f' | //ul[{_has_class("comment-list")} or {_has_class("commentlist")}]')
    if not lists:
        return None
    container = lists[0]
    comments = []
    for item in container.xpath(f'.//li[{_has_class("comment")}]'):
        authors = _own(item, f'.//*[{_has_class("comment-author")}]')
        meta = _own(item, f'.//*[{_has_class("comment-metadata")} or {_has_class("comment-meta")}]')
        body = (_own(item, f'.//*[{_has_class("comment-content")}]')
                or [el for el in _own(item, f'.//*[{_has_class("comment-body")}]')
                    if not el.xpath(f'.//*[{_has_class("comment-author")}]')])
        if body:
            text = element_text(body[0])
        else:  # old themes: the comment's paragraphs sit in the list item itself
            text = "\n\n".join(element_text(p) for p in _own(item, "./p | ./div/p"))
        if text:
            comments.append(Comment(author=_name(authors[0] if authors else None) or "anonymous", text=text,
                                    date=_date(meta[0] if meta else None)))
    holder = container.getparent()
    return comments, holder if holder is not None and holder.get("id") == "comments" else container


def _disqus(root: Any) -> Found | None:
    rendered = root.xpath(f'//li[{_has_class("post")} and .//*[{_has_class("post-message")}]]')
    static = root.xpath(f'//li[.//*[{_has_class("dsq-comment-message")}]]')
    items, message, author, when = (
        (rendered, "post-message", "author", "time-ago") if rendered
        else (static, "dsq-comment-message", "dsq-comment-header", "dsq-comment-date"))
    if not items:
        return None
    comments = []
    for item in items:
        body = _own(item, f'.//*[{_has_class(message)}]')
        names = _own(item, f'.//*[{_has_class(author)}]')
        dates = _own(item, f'.//*[{_has_class(when)}] | .//time')
        name = " ".join(" ".join(names[0].xpath(".//cite//text() | .//a//text()") or names[0].itertext()).split()) \
            if names else ""
        if body and (text := element_text(body[0])):
            comments.append(Comment(author=name or "anonymous", text=text, date=_date(dates[0] if dates else None)))
    thread = root.xpath('//*[@id="disqus_thread" or @id="dsq-content"]')
    container = thread[0] if thread else items[0].getparent()
    return comments, container


def _text_owner(node: Any) -> Any:
    """The element a text node is inside: for the text after `</b>`, the element holding the `<b>`."""
    el = node.getparent()
    return el.getparent() if el is not None and node.is_tail else el


def _says(root: Any) -> Found | None:
    """"NAME says:" markers: the comments are the text of the smallest element holding them all.
    No container comes back: the markers may sit in the article's own element, so the caller cuts
    the article text at the first marker instead."""
    holders = [el for node in root.xpath('//body//text()[contains(., "says:")]')
               if (el := _text_owner(node)) is not None and el.tag not in ("script", "style")
               and COMMENT_MARKER.match(" ".join(" ".join(el.itertext()).split()))]
    if not holders:
        return None
    chains = [[h, *h.iterancestors()] for h in holders]
    common = next((el for el in chains[0] if all(el in chain for chain in chains[1:])), None)
    if common is None:
        return None
    if len(holders) == 1 and (parent := common.getparent()) is not None:
        common = parent  # one comment: its marker's element holds only the name
    lines = element_text(common).split("\n")
    found = markers(lines)
    if not found:
        return None
    first = min(found)
    return split_comments(lines[first:], {i - first for i in found}), None


SHAPES: dict[str, Callable[[Any], Found | None]] = {"wordpress": _by_classes, "wordpress-list": _wordpress,
                                                    "disqus": _disqus, "says": _says}


def find_comments(root: Any) -> Found:
    """The page's comments and their container (None when it has no comments)."""
    for shape in SHAPES.values():
        if (found := shape(root)) is not None:
            return found
    return [], None
