"""Readers: archive pages (real ones from ../shared/archive), JSON and JSON Lines, folder walking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.errors import IngestError
from qa.ingest import Skipped, iter_documents
from qa.ingest.page import parse_page
from qa.ingest.records import read_jsonl

BOILERPLATE = ("donation", "Tags:", "Comments", "Support our independent", "Thanks for reading")


def _read(path: Path):  # type: ignore[no-untyped-def]
    skipped: list[Skipped] = []
    docs = list(iter_documents([path], skipped))
    return docs, skipped


def test_real_pages_title_author_comments(archive_dir: Path) -> None:
    docs = {d.doc_id: d for d in _read(archive_dir)[0]}
    anbar = docs["000_9dc300ccb2d8f7e5"]
    assert anbar.title == "ISIS seizes border crossing in western Anbar"
    assert anbar.author == "Bill Roggio"
    assert [c.author for c in anbar.comments] == ["Fred", "minnor", "RJ"]
    waleed = docs["002_0d6c977a6e8992b4"]
    assert waleed.author == "Caleb Weiss"
    assert [c.author for c in waleed.comments] == [
        "Rasputin", "mike merlo", "AndyFMF", "mike merlo", "Oberron", "codejnkie", "mike merlo"]
    andy = waleed.comments[2]
    assert andy.text.startswith("This means that the passport office")
    assert "\n\nThe hotel will serve as a phenomenal COC." in andy.text  # paragraphs kept
    assert waleed.body.startswith("Just days after capturing the Syrian side")
    assert waleed.body.endswith("The Iraqi government still maintains control over the Trebil crossing.")


def test_real_pages_drop_bio_boilerplate_and_navigation(archive_dir: Path) -> None:
    for doc in _read(archive_dir)[0]:
        texts = [doc.body, *(c.text for c in doc.comments)]
        for text in texts:
            for phrase in BOILERPLATE:
                assert phrase not in text, (doc.doc_id, phrase)
            assert " is a Senior Fellow" not in text and " is an editor of" not in text
        last = doc.comments[-1].text.splitlines()[-1]
        assert last not in ("Isis", "Boko Haram", "Al shabaab", "Islamic state")


def _page(*, indent: str = "    ", date: str = "") -> str:
    return "\n".join([
        "Rebels take the Tal Ossa bridge", "", *([date, ""] if date else []),
        "Rebels of the Grey Hand took the bridge on Monday.", "",
        "The army said it would return.", "",
        "Ana Petrova is a correspondent for The Ledger.", "",
        "Please support our work with a donation.", "", "Tags: , ,", "", "3 Comments", "",
        "  • Kim says:", "", f"{indent}The bridge was already mined.", "",
        "  • Lee says:", "", f"{indent}I doubt it.", f"{indent}Second line.", "", "",
        "Grey Hand", "", "Bridges",
    ])


@pytest.mark.parametrize("indent", ["    ", ""])
def test_synthetic_page_with_and_without_indentation(indent: str) -> None:
    doc = parse_page(_page(indent=indent, date="March 4, 2024"), "p1")
    assert doc.published_at == "2024-03-04"
    assert doc.author == "Ana Petrova"
    assert doc.body == "Rebels of the Grey Hand took the bridge on Monday.\n\nThe army said it would return."
    assert [(c.author, c.text) for c in doc.comments] == [
        ("Kim", "The bridge was already mined."), ("Lee", "I doubt it.\nSecond line.")]


def test_page_errors() -> None:
    with pytest.raises(ValueError, match="empty"):
        parse_page("\n\n  \n", "x")
    with pytest.raises(ValueError, match="no article text"):
        parse_page("Just a title\n\nTags: ,", "x")
    only_comments = parse_page("Title\n\n  • Ann says:\n\n    First!\n", "x")
    assert only_comments.body == "" and only_comments.comments[0].text == "First!"


def test_multihop_corpus_loads_as_is(multihop_dir: Path) -> None:
    docs, skipped = _read(multihop_dir / "corpus.json")
    assert len(docs) == 609 and not skipped
    assert len({d.doc_id for d in docs}) == 609
    first = json.loads((multihop_dir / "corpus.json").read_text())[0]
    doc = next(d for d in docs if d.title == first["title"])
    assert doc.body == first["body"].strip() and doc.source == first["source"]
    assert doc.published_at == first["published_at"][:10]


def test_jsonl_bad_lines_reported_rest_kept(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join([
        json.dumps({"title": "One", "text": "Body one.", "date": "2024-01-02",
                    "comments": [{"author": "Zed", "text": "Nice.", "date": "2024-01-03"}]}),
        "{not json",
        json.dumps({"title": "Two", "body": ["wrong", "type"]}),
        json.dumps({"title": "Three", "content": "Body three."}),
        json.dumps([1, 2]),
    ]), encoding="utf-8")
    docs, skipped = _read(path)
    assert [d.title for d in docs] == ["One", "Three"]
    assert docs[0].comments[0].author == "Zed" and docs[0].comments[0].date == "2024-01-03"
    assert [s.path.rsplit(":", 1)[1] for s in skipped] == ["line 2", "line 3", "line 5"]
    assert "invalid JSON" in skipped[0].reason and "must be text" in skipped[1].reason


def test_folder_walk_skips_unreadable_files_and_goes_on(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "good.txt").write_text(_page(), encoding="utf-8")
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 title\n\nBody.".encode("latin-1"))
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    (tmp_path / "broken.json").write_text("[{", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text(_page(), encoding="utf-8")
    docs, skipped = _read(tmp_path)
    assert [d.doc_id for d in docs] == ["good"]
    reasons = {Path(s.path.split(":")[0]).name: s.reason for s in skipped}
    assert set(reasons) == {"bin.txt", "latin1.txt", "notes.pdf", "broken.json"}
    assert "binary" in reasons["bin.txt"] and "UTF-8" in reasons["latin1.txt"]
    assert "unsupported" in reasons["notes.pdf"]


def test_duplicates_skipped_and_clashing_ids_kept_apart(tmp_path: Path) -> None:
    for folder in ("a", "b", "c"):
        (tmp_path / folder).mkdir()
    (tmp_path / "a" / "p.txt").write_text(_page(), encoding="utf-8")
    (tmp_path / "b" / "p.txt").write_text(_page(), encoding="utf-8")  # same content: a duplicate
    (tmp_path / "c" / "p.txt").write_text(_page().replace("Monday", "Friday"), encoding="utf-8")
    docs, skipped = _read(tmp_path)
    assert len(docs) == 2 and docs[0].doc_id == "p" and docs[1].doc_id.startswith("p-")
    assert "duplicate" in skipped[0].reason


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="No such file"):
        _read(tmp_path / "nope")


def test_read_jsonl_directly_yields_errors_in_order() -> None:
    items = list(read_jsonl('{"title": "A", "body": "x"}\n\n[]\n', "f.jsonl"))
    assert items[0].title == "A" and items[1].where == "line 3"  # type: ignore[union-attr]
