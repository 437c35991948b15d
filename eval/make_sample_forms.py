"""Write the bundled sample archive (qa/data/sample_archive, fictional text pages) as the two
other shapes an archive comes in: saved WordPress pages and a WordPress export (WXR).

    python eval/make_sample_forms.py        # writes qa/data/sample_html/*.html, qa/data/sample_wxr/*.xml

Each page is read with the text-page reader, then written out in the site's markup with the
boilerplate a real page has around its content (navigation, share buttons, the author bio, the
donation appeal, a sidebar, the footer) and, in the export, the items a real export holds besides
posts (a page, an attachment, a draft, a comment held for moderation, a pingback). A test checks
that `qa index build` reads the same documents and comments from all three forms.
"""

from __future__ import annotations

import html
import re
from datetime import date
from pathlib import Path

from qa.ingest.page import parse_page
from qa.types import Document

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "qa" / "data" / "sample_archive"
HTML_DIR = ROOT / "qa" / "data" / "sample_html"
WXR_FILE = ROOT / "qa" / "data" / "sample_wxr" / "thefrontiermonitor.WordPress.2025-04-30.xml"
SITE = "The Frontier Monitor"
HOME = "https://frontier-monitor.example"


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60].rstrip("-")


def _login(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def _url(doc: Document) -> str:
    d = date.fromisoformat(doc.published_at or "2024-01-01")
    return f"{HOME}/{d.year}/{d.month:02d}/{d.day:02d}/{_slug(doc.title)}/"


def _paras(text: str) -> str:
    return "\n".join(f"<p>{'<br>'.join(html.escape(line) for line in p.split(chr(10)))}</p>"
                     for p in text.split("\n\n"))


def _boilerplate(text: str, author: str | None) -> tuple[str, str]:
    """The page's bio and donation appeal, as written on it."""
    paras = [p.strip() for p in text.split("\n\n")]
    bio = next((p for p in paras if author and p.startswith(f"{author} is")), "")
    appeal = next((p for p in paras if "donation" in p), "")
    return bio, appeal


def page_html(doc: Document, text: str, others: list[Document]) -> str:
    bio, appeal = _boilerplate(text, doc.author)
    comments = "\n".join(
        f'<li id="comment-{n}" class="comment even thread-even depth-1"><article class="comment-body">'
        f'<footer class="comment-meta"><div class="comment-author vcard"><b class="fn">{html.escape(c.author)}</b> '
        f'<span class="says">says:</span></div></footer>'
        f'<div class="comment-content">{_paras(c.text)}</div>'
        f'<div class="reply"><a class="comment-reply-link" href="#">Reply</a></div></article></li>'
        for n, c in enumerate(doc.comments, start=1))
    thread = (f'<div id="comments" class="comments-area"><h2 class="comments-title">{len(doc.comments)} Comments</h2>'
              f'<ol class="comment-list">\n{comments}\n</ol></div>') if doc.comments else ""
    most_read = "".join(f'<li><a href="{_url(o)}">{html.escape(o.title)}</a></li>' for o in others[:4])
    when = doc.published_at or ""
    shown = f"{date.fromisoformat(when):%B} {int(when[8:])}, {when[:4]}" if when else ""
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="UTF-8">
<title>{html.escape(doc.title)} &#8211; {SITE}</title>
<link rel="canonical" href="{_url(doc)}">
<meta property="og:site_name" content="{SITE}">
<meta property="og:type" content="article">
<meta property="og:title" content="{html.escape(doc.title)}">
<meta property="article:published_time" content="{when}T09:00:00+00:00">
</head>
<body class="post-template-default single single-post">
<header id="masthead" class="site-header"><p class="site-title"><a href="{HOME}/">{SITE}</a></p>
<nav class="main-navigation"><ul><li><a href="/">Home</a></li><li><a href="/valdoria/">Valdoria</a></li>
<li><a href="/karvelia/">Karvelia</a></li><li><a href="/donate/">Donate</a></li></ul></nav></header>
<div id="content" class="site-content"><main id="main" class="site-main">
<article class="post type-post status-publish format-standard hentry">
<header class="entry-header"><h1 class="entry-title">{html.escape(doc.title)}</h1>
<div class="entry-meta"><span class="posted-on">Posted on <a href="{_url(doc)}" rel="bookmark">
<time class="entry-date published" datetime="{when}T09:00:00+00:00">{shown}</time></a></span>
<span class="byline"> by <span class="author vcard"><a class="url fn n" href="/author/{_login(doc.author or '')}/">
{html.escape(doc.author or '')}</a></span></span></div></header>
<div class="entry-content">
{_paras(doc.body)}
<div class="sharedaddy sd-sharing-enabled"><h3 class="sd-title">Share this:</h3><ul>
<li><a class="share-twitter" href="#">Share on X</a></li><li><a class="share-facebook" href="#">Facebook</a></li>
<li><a class="share-email" href="#">Email</a></li></ul></div>
</div>
<div class="author-info"><div class="author-description"><p class="author-bio">{html.escape(bio)}</p></div></div>
<div class="donation-appeal"><p>{html.escape(appeal)}</p><p><a class="button" href="/donate/">Donate</a></p></div>
<footer class="entry-footer"><span class="tags-links">Tags: </span></footer>
</article>
{thread}
</main>
<aside id="secondary" class="widget-area"><section class="widget"><h2 class="widget-title">Most read</h2>
<ul>{most_read}</ul></section></aside></div>
<footer id="colophon" class="site-footer"><p>&#169; {SITE}. Reader-funded reporting from the Serran frontier.</p>
</footer>
</body>
</html>
"""


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _comment(n: int, author: str, text: str, approved: str = "1", kind: str = "comment", parent: int = 0) -> str:
    return (f"<wp:comment><wp:comment_id>{n}</wp:comment_id><wp:comment_author>{_cdata(author)}</wp:comment_author>"
            f"<wp:comment_author_email></wp:comment_author_email><wp:comment_content>{_cdata(text)}"
            f"</wp:comment_content><wp:comment_approved>{approved}</wp:comment_approved>"
            f"<wp:comment_type>{kind}</wp:comment_type><wp:comment_parent>{parent}</wp:comment_parent></wp:comment>")


def _item(n: int, doc: Document, slug: str, kind: str = "post", status: str = "publish", extra: str = "") -> str:
    when = f"{doc.published_at} 09:00:00" if doc.published_at else "0000-00-00 00:00:00"
    comments = "".join(_comment(n * 100 + i, c.author, c.text) for i, c in enumerate(doc.comments, start=1))
    return f"""<item>
<title>{_cdata(doc.title)}</title>
<link>{_url(doc)}</link>
<dc:creator>{_cdata(_login(doc.author or ''))}</dc:creator>
<guid isPermaLink="false">{HOME}/?p={n}</guid>
<content:encoded>{_cdata(doc.body)}</content:encoded>
<excerpt:encoded><![CDATA[]]></excerpt:encoded>
<wp:post_id>{n}</wp:post_id>
<wp:post_date>{_cdata(when)}</wp:post_date>
<wp:post_date_gmt>{_cdata(when)}</wp:post_date_gmt>
<wp:post_name>{_cdata(slug)}</wp:post_name>
<wp:status>{_cdata(status)}</wp:status>
<wp:post_type>{_cdata(kind)}</wp:post_type>
{comments}{extra}
</item>"""


def export_wxr(docs: list[tuple[str, Document]]) -> str:
    authors = sorted({d.author for _, d in docs if d.author})
    people = "\n".join(
        f"<wp:author><wp:author_id>{i}</wp:author_id><wp:author_login>{_cdata(_login(a))}</wp:author_login>"
        f"<wp:author_email>{_cdata(_login(a) + '@frontier-monitor.example')}</wp:author_email>"
        f"<wp:author_display_name>{_cdata(a)}</wp:author_display_name></wp:author>"
        for i, a in enumerate(authors, start=2))
    items = [_item(n, d, stem, extra=_comment(n * 100 + 99, "Cheap Flights", "Great post! Visit my site.", "spam")
                   + _comment(n * 100 + 98, "Another Blog", "[…] as The Frontier Monitor reported […]", "1",
                              "pingback") if n == 1 else "")
             for n, (stem, d) in enumerate(docs, start=1)]
    about = Document("about", "About us", f"{SITE} is reader-funded.", author=docs[0][1].author,
                     published_at="2019-05-01")
    items.append(_item(90, about, "about", kind="page"))
    items.append(_item(91, Document("map", "Serran valley map", ""), "serran-valley-map", kind="attachment",
                       status="inherit"))
    items.append(_item(92, Document("draft", "Draft: notes from Stavrin", "Not for publication yet."),
                       "draft-notes", status="draft"))
    return ('<?xml version="1.0" encoding="UTF-8" ?>\n'
            '<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:wfw="http://wellformedweb.org/CommentAPI/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
            f"<title>{SITE}</title>\n<link>{HOME}</link>\n<description>Reporting from the Serran frontier"
            f"</description>\n<language>en-GB</language>\n<wp:wxr_version>1.2</wp:wxr_version>\n{people}\n"
            + "\n".join(items) + "\n</channel>\n</rss>\n")


def main() -> None:
    pages = sorted(SAMPLE.glob("*.txt"))
    texts = {p.stem: p.read_text(encoding="utf-8") for p in pages}
    docs = [(stem, parse_page(text, stem)) for stem, text in texts.items()]
    HTML_DIR.mkdir(parents=True, exist_ok=True)
    for stem, doc in docs:
        others = [d for s, d in docs if s != stem]
        (HTML_DIR / f"{stem}.html").write_text(page_html(doc, texts[stem], others), encoding="utf-8")
    WXR_FILE.parent.mkdir(parents=True, exist_ok=True)
    WXR_FILE.write_text(export_wxr(docs), encoding="utf-8")
    print(f"wrote {len(docs)} pages to {HTML_DIR} and {len(docs)} posts to {WXR_FILE}")


if __name__ == "__main__":
    main()
