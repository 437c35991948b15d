"""Saved HTML pages and WordPress exports: each reader on its fixtures (fields exact), dates in
text pages, the bundled sample read the same from all three forms, and one question per format
answered with the right dated citation (hash embedder, no model)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.build import build_index
from qa.cli import cli
from qa.config import Settings, load_settings
from qa.index import open_index
from qa.ingest import Skipped, iter_documents
from qa.ingest.page import parse_page
from qa.pipeline import Pipeline
from qa.types import Comment, Document

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "formats"
DATA = ROOT / "qa" / "data"


def _read(name: str) -> list[Document]:
    skipped: list[Skipped] = []
    docs = list(iter_documents([FIXTURES / name], skipped))
    assert skipped == []
    return docs


def test_wordpress_page_fields_exact() -> None:
    (doc,) = _read("wp_modern.html")
    assert doc.doc_id == "wp_modern"
    assert doc.title == "Valdoria orders 40 armoured ambulances for the Serran front"
    assert doc.body == (
        "The Valdorian Ministry of Defence has ordered 40 armoured ambulances from the state works at Orlek, "
        "to be delivered to units on the Serran front before the end of the year.\n\n"
        "Deputy Minister Aron Belic said the vehicles would replace unarmoured vans that medics had used since "
        "2022.\n“Our medics should not be the least protected people on the road,” he said.\n\n"
        "The contract is worth 61 million crowns, according to the ministry’s procurement notice.")
    assert (doc.source, doc.url, doc.author, doc.published_at, doc.category) == (
        "The Frontier Monitor", "https://frontier-monitor.example/2024/06/03/valdoria-orders-armoured-ambulances/",
        "Irina Vask", "2024-06-03", "Procurement, Orlek, Medics")
    assert doc.comments == (  # the reply under its parent, the pingback left out
        Comment("Ridgewatcher", "Forty is a start. The Northern Command lost more vans than that last winter.",
                "2024-06-03"),
        Comment("Field Medic", "It is not only the vans.\n\nWe need the armoured ones at the battalion aid posts,"
                               "\nnot at brigade.", "2024-06-04"),
        Comment("old_sapper", "Orlek has never delivered anything on time.", "2024-06-03"),
    )
    for boilerplate in ("Share this", "Donate", "donation", "Most read", "covers defence procurement", "Reply"):
        assert boilerplate not in doc.body and not any(boilerplate in c.text for c in doc.comments)


def test_classic_wordpress_page_in_its_declared_charset() -> None:
    (doc,) = _read("wp_classic.html")  # windows-1252, old theme: <cite class="fn">, dated permalink text
    assert (doc.title, doc.author, doc.published_at, doc.category) == (
        "Marsh patrols find fuel cache near Vellen", "Tomas Kerel", "2014-06-23", "Vellen Marshes")
    assert doc.url == "http://serran-notes.example/2014/06/marsh-patrols-find-fuel-cache/"
    assert doc.body.endswith("two men had been detained near the village of Brestìn.")
    assert doc.body.count("\n\n") == 1
    assert doc.comments == (Comment("Reedcutter", "Every fisherman in Brestìn knew about those drums.", "2014-06-24"),
                            Comment("Anna P.", "Three thousand litres is a week of smuggling, not a season.",
                                    "2014-06-25"))


def test_plain_theme_comments_read_from_says_lines() -> None:
    (doc,) = _read("wp_says.html")
    assert (doc.title, doc.author, doc.published_at, doc.source) == (
        "Karvelia reopens its side of the Tal Varesh bridge", "Lena Marsh", "2024-08-12", "The Frontier Monitor")
    assert doc.body.startswith("Karvelian border police reopened") and "says:" not in doc.body
    assert doc.comments == (
        Comment("StavrinLocal", "Empty lorries both ways means the queue moves, at least.", "2024-08-12"),
        Comment("Tomas K.", "Empty going in, full coming out. Nobody checks the return trip.", "2024-08-13"))


def test_news_page_with_disqus_thread() -> None:
    (doc,) = _read("news_disqus.html")
    assert (doc.title, doc.author, doc.published_at, doc.source, doc.url) == (
        "Merelund talks: mediators propose a customs commission for Tal Varesh", "Hanne Solberg", "2025-03-14",
        "Balkan Defence Review", "https://bdr.example/news/merelund-customs-commission")
    assert doc.body.startswith("Mediators at the Merelund talks") and doc.body.endswith("answer within a week.")
    assert "Sign up" not in doc.body and "Related" not in doc.body
    assert doc.comments == (
        Comment("Ridgewatcher", "A commission with an outside chair is how the Calvera port dispute was settled too.",
                "2025-03-14"),
        Comment("Merelund Watcher", "And it took three years there.", "2025-03-15"))


def test_wordpress_export_fields_exact() -> None:
    first, second = _read("export.xml")  # the draft, the page and the attachment are not articles
    assert (first.doc_id, first.title, first.author, first.published_at, first.category, first.source) == (
        "stavrin-lifts-night-curfew", "Stavrin lifts night curfew after three months", "Elena Kovač",
        "2025-05-20", "Security, curfew, Stavrin", "Stavrin Dispatch")
    assert first.url == "https://stavrin-dispatch.example/2025/05/20/stavrin-lifts-night-curfew/"
    assert first.body == (
        "The town council of Stavrin lifted the night curfew on Monday, three months after it was imposed when "
        "shells fell on the market district.\n\nMayor Ilija Doran said shops could stay open until 11 p.m.\n"
        "The army’s checkpoint on the Dolna road stays.\n\n“People have been living in the dark,” said a baker "
        "on Market Street.")
    assert first.comments == (  # approved only, no pingback; the reply right after what it answers
        Comment("Market Street", "Finally. The bakery can run a second shift again.", "2025-05-20"),
        Comment("Elena Kovač", "The council says the checkpoint hours will be reviewed in June.\n\n"
                               "It will publish them on its noticeboard.", "2025-05-21"),
        Comment("Dolna road driver", "The checkpoint still closes at nine.\nNobody told the soldiers.", "2025-05-20"),
    )
    assert (second.author, second.published_at, second.category, second.comments) == (
        "David Rennick", "2025-05-28", "Security", ())
    assert second.body == (
        "Drivers reported a second checkpoint run by the Iron Dawn Revolutionary Brigades on the Dolna road on "
        "Wednesday, four kilometres east of the army's post.\n\nFighters at the checkpoint checked papers and "
        "asked drivers where they were going.\nNone was charged a fee, drivers said.")


def test_text_page_reads_dates_from_its_boilerplate() -> None:
    page = ("Guards detained at Orlek\n\nPosted on June 23, 2014 at 9:05 am by Bill Kade\n\n"
            "Two guards were detained on Monday.\n\nTags: ,\n\n2 Comments\n\n"
            "  • Fred says:\n\n    June 23, 2014 at 3:14 pm\n\n    Not the first time.\n\n"
            "  • RJ says:\n\n    Not the last.\n\n\nOrlek\n")
    doc = parse_page(page, "p")
    assert (doc.published_at, doc.author) == ("2014-06-23", "Bill Kade")
    assert doc.body == "Two guards were detained on Monday."
    assert doc.comments == (Comment("Fred", "Not the first time.", "2014-06-23"), Comment("RJ", "Not the last."))


def test_real_pages_hold_no_publication_date(archive_dir: Path) -> None:
    """The seed pages have no date line and no comment dates; a date in the text ("on June 22,
    2014") is an event, not the publication date, and must not be taken for one."""
    for path in sorted(archive_dir.glob("*.txt")):
        doc = parse_page(path.read_text(encoding="utf-8"), path.stem)
        assert doc.published_at is None and all(c.date is None for c in doc.comments)


def _forms() -> dict[str, Path]:
    return {"text": DATA / "sample_archive", "html": DATA / "sample_html", "wxr": DATA / "sample_wxr"}


def test_committed_sample_forms_are_what_the_script_writes() -> None:
    spec = importlib.util.spec_from_file_location("make_sample_forms", ROOT / "eval" / "make_sample_forms.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    texts = {p.stem: p.read_text(encoding="utf-8") for p in sorted((DATA / "sample_archive").glob("*.txt"))}
    docs = [(stem, parse_page(text, stem)) for stem, text in texts.items()]
    for stem, doc in docs:
        expected = module.page_html(doc, texts[stem], [d for s, d in docs if s != stem])
        assert (DATA / "sample_html" / f"{stem}.html").read_text(encoding="utf-8") == expected
    assert module.WXR_FILE.read_text(encoding="utf-8") == module.export_wxr(docs)


def test_sample_reads_the_same_from_text_html_and_wxr(tmp_path: Path) -> None:
    def content(form: str) -> dict[str, tuple[object, ...]]:
        settings = load_settings({"index": tmp_path / form, "model": "hash"}, env={})
        report = build_index([_forms()[form]], settings)
        assert report.skipped == ()
        docs = open_index(settings.index).documents()
        return {i: (d.title, d.body, d.author, d.published_at, d.comments) for i, d in docs.items()}

    text = content("text")
    assert len(text) == 12 and sum(len(c[4]) for c in text.values()) == 44  # type: ignore[arg-type]
    assert content("html") == text
    assert content("wxr") == text


def test_an_article_saved_as_a_page_and_exported_is_indexed_once(tmp_path: Path) -> None:
    skipped: list[Skipped] = []
    docs = list(iter_documents([_forms()["html"], _forms()["wxr"]], skipped))
    assert sorted(d.doc_id for d in docs) == sorted(p.stem for p in _forms()["html"].glob("*.html"))
    assert all(Path(d.path or "").suffix == ".html" for d in docs)  # the first met is kept
    assert len(skipped) == 12 and all(s.reason.startswith("duplicate of document page_") for s in skipped)
    page = (_forms()["html"] / "page_01.html").read_text(encoding="utf-8")
    (tmp_path / "page_01.html").write_text(page.replace("<p>Fighters of", "<p>Updated. Fighters of"), encoding="utf-8")
    (tmp_path / "z.xml").write_bytes(next(_forms()["wxr"].glob("*.xml")).read_bytes())
    skipped = []
    docs = list(iter_documents([tmp_path], skipped))
    assert len(docs) == 12 and sum("(the same URL, https://frontier-monitor.example/2024/03/09/" in s.reason
                                   for s in skipped) == 1  # other content, same address


def test_mixed_folder_summary_counts_each_format(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for src in [*sorted((DATA / "sample_archive").glob("*.txt"))[:2], *sorted(FIXTURES.iterdir())]:
        (folder / src.name).write_bytes(src.read_bytes())
    (folder / "wire.jsonl").write_text('{"title": "Wire", "body": "Fire at the Orlek depot.", "date": "2024-07-16"}\n')
    (folder / "wire.json").write_text('[{"title": "Wire 2", "body": "The depot burned for a day.", "url": "https://w.example/2"}]')
    result = CliRunner().invoke(cli, ["--model", "hash", "index", "build", str(folder), "--index",
                                      str(tmp_path / "index"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "Indexed 10 documents, 20 comments" in result.output
    assert "by format: 4 HTML, 2 WordPress export, 2 text, 1 JSON, 1 JSON Lines;" in result.output


@pytest.fixture(scope="module")
def formats_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("formats")
    for src in [*sorted((DATA / "sample_archive").glob("*.txt")), *sorted(FIXTURES.iterdir())]:
        (folder / src.name).write_bytes(src.read_bytes())
    settings = load_settings({"index": tmp_path_factory.mktemp("formats-index") / "index", "model": "hash"}, env={})
    build_index([folder], settings)
    return settings


@pytest.mark.parametrize(("question", "doc_id", "date"), [
    ("How many armoured ambulances did the Valdorian Ministry of Defence order?", "wp_modern", "2024-06-03"),
    ("How much diesel did the marsh patrols find near Vellen?", "wp_classic", "2014-06-23"),
    ("When did Stavrin lift the night curfew?", "stavrin-lifts-night-curfew", "2025-05-20"),
    ("How many trucks a day used the Tal Varesh crossing in 2023?", "page_01", "2024-03-09"),
], ids=["html-wordpress", "html-classic", "wxr", "text"])
def test_one_question_per_format_cites_the_dated_source(formats_index: Settings, question: str, doc_id: str,
                                                        date: str) -> None:
    answer = Pipeline.open(formats_index).ask(question)
    assert not answer.abstained
    cited = [c for c in answer.citations if c.hit.chunk.doc_id == doc_id and c.hit.chunk.kind == "article"]
    assert cited and cited[0].hit.chunk.published_at == date, [(c.hit.chunk.doc_id, c.hit.chunk.kind)
                                                               for c in answer.citations]
    assert f"[{cited[0].n}]" in answer.text


def test_export_post_without_wordpress_dates_takes_its_rss_date(tmp_path: Path) -> None:
    export = (FIXTURES / "export.xml").read_text(encoding="utf-8")
    for tag in ("wp:post_date_gmt", "wp:post_date"):
        export = export.replace(f"<{tag}><![CDATA[2025-05-28", f"<{tag}><![CDATA[0000-00-00")
    export = export.replace("Wed, 28 May 2025 17:40:00 +0000", "Thu, 29 May 2025 01:10:00 +0000")
    (tmp_path / "export.xml").write_text(export, encoding="utf-8")
    skipped: list[Skipped] = []
    docs = {d.doc_id: d for d in iter_documents([tmp_path], skipped)}
    assert skipped == [] and docs["second-checkpoint-dolna-road"].published_at == "2025-05-29"
