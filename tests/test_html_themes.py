"""Reader comments on saved pages in the comment markup of each default WordPress theme (Twenty Ten to
Twenty Twenty-Five: classic lists, Twenty Twenty's `<div class="comment">`, the block themes' Comments
block) and of Disqus: every comment with its commenter and date, replies after what they answer, the
pingback left out, and none of it in the article's text. The pages' text is invented."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.ingest import Skipped, iter_documents
from qa.types import Comment

THEMES = Path(__file__).resolve().parent / "fixtures" / "themes"
PAGES = sorted(p.stem for p in THEMES.glob("*.html"))
WORDPRESS = ["twentyten", "twentyeleven", "twentytwelve", "twentythirteen", "twentyfourteen", "twentyfifteen",
             "twentysixteen", "twentyseventeen", "twentynineteen", "twentytwenty", "twentytwentyone",
             "twentytwentytwo", "twentytwentythree", "twentytwentyfour", "twentytwentyfive"]
EXPECTED = (
    Comment("Marta K.", "The ferry was late again this morning.\n\nForty minutes at the pier in the rain.",
            "2024-05-12"),
    Comment("Harbour Watch", "It left on time from our side of the sound.", "2024-05-13"),
    Comment("J. Olsen", "Good news for the island’s school.", "2024-05-14"),
)


def test_every_default_theme_and_disqus_has_a_page() -> None:
    assert PAGES == sorted([*WORDPRESS, "disqus"])


@pytest.mark.parametrize("theme", PAGES)
def test_comments_read_in_each_theme(theme: str) -> None:
    skipped: list[Skipped] = []
    (doc,) = list(iter_documents([THEMES / f"{theme}.html"], skipped))
    assert skipped == []
    assert doc.title == "Ferry service to Lask Island resumes after the storm"
    assert doc.comments == EXPECTED
    assert doc.body.startswith("The ferry between Port Calvera and Lask Island sailed again on Saturday")
    assert doc.body.endswith("before the summer timetable begins in June.")
    for text in ("ferry was late", "from our side", "island’s school", "Pingback", "Leave a Reply", "Reply",
                 "thoughts on", "replies on", "responses to", "Marta"):
        assert text not in doc.body, (theme, text)


def test_comments_inside_the_article_element_are_taken_out_one_by_one() -> None:
    """A theme that puts the comment list inside the element holding the article: the comments are read
    and removed, the article kept."""
    html = (THEMES / "twentytwenty.html").read_text(encoding="utf-8")
    start, end = html.index('<div class="comments-wrapper'), html.index("</main>")
    comments = html[start:end]
    moved = html[:start] + html[end:]
    moved = moved.replace("</div>\n</article>", "</div>\n" + comments + "</article>", 1)
    from qa.ingest.html import parse_html

    doc = parse_html(moved, "inside")
    assert doc.comments == EXPECTED
    assert doc.body.endswith("before the summer timetable begins in June.") and "Marta" not in doc.body


def test_build_summary_counts_comments_per_page(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from qa.cli import cli

    folder = tmp_path / "pages"
    folder.mkdir()
    for name in ("twentytwenty", "twentyten"):
        text = (THEMES / f"{name}.html").read_text(encoding="utf-8")
        text = text.replace("Lask Island", f"Lask Island ({name})").replace("lask-ferry", f"{name}-ferry")
        (folder / f"{name}.html").write_text(text, encoding="utf-8")
    bare = (THEMES / "twentyten.html").read_text(encoding="utf-8")
    bare = bare[:bare.index('<div id="comments"')] + bare[bare.index("</main>"):]
    bare = bare.replace("Lask Island", "Lask Island (bare)").replace("lask-ferry", "bare-ferry")
    (folder / "bare.html").write_text(bare, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--model", "hash", "index", "build", str(folder), "--index",
                                      str(tmp_path / "index"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "Indexed 3 documents, 6 comments" in result.output
    assert "comments per page: bare 0, twentyten 3, twentytwenty 3;" in result.output


def test_comments_per_page_over_many_pages() -> None:
    from qa.build import comments_per_page

    many = [(f"p{i:02}", 0 if i in (3, 7, 8, 20) else i) for i in range(30)]
    many[0] = ("p00", 5)
    assert comments_per_page(many) == "comments per page: none on 4 of 30 (p03, p07, p08, …), at most 29; "
    assert comments_per_page([("a", 0), ("b", 0)]) == "comments per page: a 0, b 0; "
    assert comments_per_page([]) == ""
