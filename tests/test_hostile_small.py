"""Smaller attacks and slips: UTF-16 files, bidi controls in a model's reply, a re-sealed manifest
with false counts, "1 documents", and a date filter that leaves undated documents out silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.ingest import Skipped, iter_documents
from tests.conftest import SAMPLE

PAGE = "Grey Hand seizes the Tal Ossa crossing\n\nMarch 9, 2024\n\nThe Grey Hand militia took the crossing.\n"
RECORDS = '[{"title": "Grey Hand seizes the crossing", "body": "The Grey Hand militia took the crossing.", ' \
          '"date": "2024-03-09"}]'


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be-bom", "utf-32"])
def test_utf16_and_utf32_text_and_json_with_a_byte_order_mark_are_read(tmp_path: Path, encoding: str) -> None:
    def encode(text: str) -> bytes:
        if encoding == "utf-16-be-bom":
            return b"\xfe\xff" + text.encode("utf-16-be")
        return text.encode(encoding)  # Python's utf-16 and utf-32 write a byte-order mark

    (tmp_path / "page.txt").write_bytes(encode(PAGE))
    (tmp_path / "records.json").write_bytes(encode(RECORDS))
    skipped: list[Skipped] = []
    docs = list(iter_documents([tmp_path], skipped))
    assert not skipped, skipped
    assert sorted(d.title for d in docs) == ["Grey Hand seizes the Tal Ossa crossing", "Grey Hand seizes the crossing"]
    assert all("Grey Hand militia took the crossing" in d.body for d in docs)


def test_utf16_without_a_byte_order_mark_is_skipped_naming_the_encoding(tmp_path: Path) -> None:
    (tmp_path / "page.txt").write_bytes(PAGE.encode("utf-16-le"))
    (tmp_path / "records.json").write_bytes(RECORDS.encode("utf-16-be"))
    skipped: list[Skipped] = []
    assert list(iter_documents([tmp_path], skipped)) == []
    reasons = {Path(s.path).name: s.reason for s in skipped}
    assert "UTF-16LE" in reasons["page.txt"] and "iconv -f UTF-16LE -t UTF-8" in reasons["page.txt"]
    assert "UTF-16BE" in reasons["records.json"]


def test_bidi_controls_are_removed_from_a_model_reply() -> None:
    from tests.test_llm import HITS, FakeEndpoint, answerer, settings_for

    endpoint = FakeEndpoint()
    try:
        endpoint.reply = "The Grey Hand \u202eaissur\u202c militia \u2066controls\u2069 the crossing\u200f [1]."
        answer = answerer(settings_for(endpoint.url)).answer("Who controls the Tal Ossa crossing?", HITS)
    finally:
        endpoint.server.shutdown()
    assert not answer.abstained
    assert answer.text == "The Grey Hand aissur militia controls the crossing [1]."
    assert not any(ch in answer.text for ch in "\u202e\u202c\u2066\u2069\u200f")


def test_the_sample_is_still_read_as_before() -> None:
    skipped: list[Skipped] = []
    assert len(list(iter_documents([SAMPLE], skipped))) == 12 and not skipped


@pytest.mark.parametrize(("field", "change"), [("documents", 1), ("comments", -3), ("article_chunks", 1),
                                               ("comment_chunks", -1), ("sentence_vectors", 5)])
def test_index_verify_catches_a_resealed_manifest_with_false_counts(tmp_path: Path, field: str, change: int) -> None:
    import json

    from click.testing import CliRunner

    from qa.build import build_index
    from qa.cli import cli
    from qa.config import load_settings
    from qa.index import live_build
    from qa.index.folder import manifest_checksum

    settings = load_settings({"index": tmp_path / "index", "model": "hash"}, env={})
    build_index([SAMPLE], settings)
    args = ["--model", "hash", "index", "verify", "--index", str(settings.index)]
    assert CliRunner().invoke(cli, args, env={"QA_CONFIG": ""}).exit_code == 0
    path = live_build(settings.index) / "manifest.json"  # type: ignore[operator]
    manifest = json.loads(path.read_text())
    manifest["counts"][field] += change
    manifest["checksum"] = manifest_checksum(manifest)  # re-sealed, as an editor who knows the scheme would
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    bad = CliRunner().invoke(cli, args, env={"QA_CONFIG": ""})
    assert bad.exit_code == 1 and "all match" not in bad.output
    assert f"{field.replace('_', ' ')}, but the files hold" in bad.output and "Rebuild it: qa" in bad.output


def test_one_document_is_one_document_everywhere(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from qa.build import build_index, update_index
    from qa.cli import cli
    from qa.config import load_settings
    from qa.errors import QAError

    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / "page.txt").write_text(PAGE, encoding="utf-8")
    settings = load_settings({"index": tmp_path / "index", "model": "hash"}, env={})
    built = build_index([tmp_path / "archive"], settings).summary()
    assert "Indexed 1 document, 0 comments, 1 chunk (" in built
    updated = update_index([tmp_path / "archive"], settings).summary()
    assert "1 unchanged document;" in updated and "0 chunks embedded" in updated
    stats = CliRunner().invoke(cli, ["--model", "hash", "index", "stats", "--index", str(settings.index)],
                               env={"QA_CONFIG": ""})
    assert stats.exit_code == 0 and "1 document, 0 comments, 1 chunk " in stats.output
    with pytest.raises(QAError, match="Removing 1 of 1 document would"):
        from qa.build import remove_documents

        remove_documents(["page"], settings)
    for text in (built, updated, stats.output):
        assert " 1 documents" not in text and " 1 chunks" not in text


def test_a_date_filter_that_drops_undated_documents_says_how_many(tmp_path: Path) -> None:
    from qa.build import build_index
    from qa.config import load_settings
    from qa.pipeline import Pipeline
    from qa.search.retrieve import Filters

    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "dated.txt").write_text("Harvest festival opens in Lumen\n\nMay 2, 2024\n\nThe harvest festival "
                                       "opened in Lumen with music and bread stalls.\n", encoding="utf-8")
    for name, who in (("undated_a", "trucks"), ("undated_b", "buses")):
        (archive / f"{name}.txt").write_text(f"Tal Ossa crossing reopens\n\nThe Tal Ossa crossing reopened to "
                                             f"{who} after the Grey Hand militia left it.\n", encoding="utf-8")
    settings = load_settings({"index": tmp_path / "index", "model": "hash"}, env={})
    build_index([archive], settings)
    pipeline = Pipeline.open(settings)
    try:
        dated = pipeline.ask("When did the Tal Ossa crossing reopen?", filters=Filters(date_from="2024-06-01"))
        assert dated.abstained
        assert any("left out 2 undated documents" in n for n in dated.notes), dated.notes
        unfiltered = pipeline.ask("When did the Tal Ossa crossing reopen?")
        assert not any("undated" in n for n in unfiltered.notes)
        articles = pipeline.undated_note(Filters(date_to="2024-12-31", kinds=("comment",)))
        assert articles is None  # no comments at all, so none undated
    finally:
        pipeline.close()
