"""Hostile HTML pages and WordPress exports: each is skipped, or read, with its reason reported,
and nothing else in the build is lost. The big files are generated here, never committed."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.build import build_index
from qa.config import load_settings
from qa.index import open_index
from qa.ingest import Skipped, iter_documents

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "qa" / "data" / "sample_archive"
EXPORT = (ROOT / "tests" / "fixtures" / "formats" / "export.xml").read_bytes()

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<rss><channel><item><title>&lol9;</title></item></channel></rss>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss><channel><item><title>&secret;</title></item></channel></rss>"""


def _files(folder: Path) -> dict[str, str]:
    """Write the bad files; return file name -> what its report must say."""
    first_post = EXPORT.index(b"<item>")
    second_post = EXPORT.index(b"<item>", first_post + 1)
    broken = EXPORT.replace(b"Finally. The bakery", "Finally. The bäkery".encode("latin-1"))  # in post 1 only
    files: dict[str, bytes] = {
        "bomb.xml": BOMB,
        "external.xml": EXTERNAL,
        "latin1_export.xml": broken,
        "truncated_export.xml": EXPORT[:second_post + 200],
        "sitemap.xml": b'<?xml version="1.0"?><urlset><url><loc>https://x.example/</loc></url></urlset>',
        "not_xml.xml": b"this is not xml at all",
        "only_pages.xml": EXPORT[:first_post] + EXPORT[EXPORT.index(b"<item>", second_post + 1):],
        "huge.html": b"<html><body><article><p>" + b"word " * (50 * 2**20 // 5) + b"</p></article></body></html>",
        "inline_image.html": b"<html><head><title>Orlek depot rebuilt</title></head><body><article><img src='data:"
                             b"image/png;base64," + b"QUJD" * (50 * 2**20 // 4) + b"'><p>The army said the Orlek "
                             b"ammunition depot destroyed by a drone strike last July had been rebuilt.</p></article>"
                             b"</body></html>",
        "deep.html": b"<html><head><title>Deep</title></head><body>" + b"<div>" * 20_000 + b"<p>Guards at the "
                     b"Stavrin post were rotated on Tuesday after six weeks on duty.</p>" + b"</div>" * 20_000
                     + b"</body></html>",
        "category_page.html": b"<html><head><title>Valdoria</title></head><body class='archive category'>"
                              + b"".join(b"<article><h2><a href='/p%d'>Post %d</a></h2><p>The border guards at the "
                                         b"Stavrin post were rotated on Tuesday after six weeks on duty.</p></article>"
                                         % (i, i) for i in range(5)) + b"</body></html>",
        "binary.html": b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)) * 4,
        "empty.html": b"",
        "index_page.html": b"<html><head><title>Valdoria archives</title></head><body><nav><ul>"
                           + b"".join(b'<li><a href="/p%d">Post %d</a></li>' % (i, i) for i in range(30))
                           + b"</ul></nav></body></html>",
        "bad_charset.html": b'<html><head><meta charset="utf-8"><title>T</title></head>'
                            b"<body><p>Caf\xe9</p></body></html>",
        "soup.html": b"<html><head><title>Border guards rotate at Stavrin</title><body><div><p>Border guards at the"
                     b" Stavrin post were rotated on Tuesday after six weeks on duty, the regional command said, and"
                     b" the new detachment arrived by road from Dravosk with fresh supplies of fuel and food.<p>The"
                     b" command said the rotation had been delayed twice by shelling on the road<div></span></b>"
                     b"</table><p>A third rotation is planned for the spring, before the river rises.",
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return {
        "bomb.xml": "refused: the file declares XML entities",
        "external.xml": "refused: the file declares XML entities",
        "latin1_export.xml": "holds 1 byte sequence(s) that are not valid UTF-8",
        "truncated_export.xml": "not well-formed XML",
        "sitemap.xml": "not a WordPress export (its root element is <urlset>, not <rss>)",
        "not_xml.xml": "not well-formed XML at line 1",
        "only_pages.xml": "no published posts in this WordPress export (1 draft post, 1 page, 1 attachment)",
        "huge.html": "the page's markup is 50.0 MiB without inline images and scripts, over the 5 MiB limit",
        "deep.html": "no article on the page (elements nested over 256 deep, where the HTML parser stops",
        "category_page.html": "a listing of posts (body class 'archive category'), not an article",
        "binary.html": "binary file (contains NUL bytes)",
        "empty.html": "not an HTML page",
        "index_page.html": "no article on the page",
        "bad_charset.html": "not valid utf-8 (byte",
    }


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], list[Skipped], dict]:  # type: ignore[type-arg]
    folder = tmp_path_factory.mktemp("hostile-formats")
    for page in SAMPLE.glob("*.txt"):
        (folder / page.name).write_bytes(page.read_bytes())
    reasons = _files(folder)
    settings = load_settings({"index": tmp_path_factory.mktemp("hostile-formats-index") / "index", "model": "hash"},
                             env={})
    report = build_index([folder], settings)
    return folder, reasons, list(report.skipped), open_index(settings.index).documents()


def test_each_bad_file_is_reported_with_its_reason(hostile: tuple) -> None:  # type: ignore[type-arg]
    _, reasons, skipped, _ = hostile
    by_file: dict[str, list[str]] = {}
    for s in skipped:
        by_file.setdefault(Path(s.path.split(":")[0]).name, []).append(s.reason)
    for name, reason in reasons.items():
        assert any(reason in r for r in by_file.get(name, [])), (name, by_file.get(name))
    assert set(by_file) == set(reasons)  # the malformed page is read, nothing else is reported


def test_nothing_good_is_lost(hostile: tuple) -> None:  # type: ignore[type-arg]
    _, _, skipped, docs = hostile
    assert {p.stem for p in SAMPLE.glob("*.txt")} <= set(docs)
    assert docs["soup"].title == "Border guards rotate at Stavrin"
    assert docs["inline_image"].body.startswith("The army said the Orlek ammunition depot")  # 50 MB, most of it image
    assert docs["soup"].body.startswith("Border guards at the Stavrin post were rotated on Tuesday")
    # the export with one broken byte: its other post is read; the truncated one keeps the post before the cut
    second = [d for d in docs.values() if d.title == "Second IDRB checkpoint appears on the Dolna road"]
    assert len(second) == 1 and second[0].path and second[0].path.endswith("latin1_export.xml")
    first = [d for d in docs.values() if d.title == "Stavrin lifts night curfew after three months"]
    assert len(first) == 1 and first[0].path and first[0].path.endswith("truncated_export.xml")
    assert len(first[0].comments) == 3
    truncated = [s.reason for s in skipped if s.path.endswith("truncated_export.xml")]
    assert truncated and "; the item before it was read" in truncated[0]


def test_bomb_is_refused_before_any_expansion(tmp_path: Path) -> None:
    (tmp_path / "bomb.xml").write_bytes(BOMB.replace(b"&lol9;", b"&lol9;" * 1000))
    skipped: list[Skipped] = []
    assert list(iter_documents([tmp_path], skipped)) == []
    assert len(skipped) == 1 and "'lol'" in skipped[0].reason


PIECES = ["<html>", "<body>", "<p>", "</p>", "<div class='comment-list'>", "<ol class='comment-list'>",
          "<li class='comment'>", "<b class='fn'>", "says:", "<time datetime='2024-01-02'>",
          "<!DOCTYPE x [<!ENTITY a 'b'>]>", "<rss>", "<channel>", "<item>", "&a;", "<![CDATA[", "]]>",
          "<wp:status>", "publish", "\x00", "\xe9", "Word. ", "</item>", "<?xml version='1.0'?>"]
MARKUP = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from([".html", ".htm", ".xml"]),
                          st.binary(max_size=300) | MARKUP.map(lambda s: s.encode("utf-8", "surrogatepass"))),
                min_size=1, max_size=4))
def test_any_html_or_xml_file_is_read_or_reported(files: list[tuple[str, bytes]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for n, (suffix, data) in enumerate(files):
            Path(tmp, f"f{n}{suffix}").write_bytes(data)
        skipped: list[Skipped] = []
        docs = list(iter_documents([Path(tmp)], skipped))
        reported = {Path(s.path.split(":")[0]).name for s in skipped} | {Path(d.path or "").name for d in docs}
        assert reported == {f"f{n}{suffix}" for n, (suffix, _) in enumerate(files)}
