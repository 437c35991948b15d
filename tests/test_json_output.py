"""`qa search --json` and `qa ask --json` name where each passage came from, and `quote` is what was quoted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.answer.cite import citation_record, hit_record, link, quoted
from qa.cli import cli
from qa.types import Citation
from tests.conftest import SAMPLE, make_hit


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("json") / "index"
    result = CliRunner().invoke(cli, ["--model", "hash", "index", "build", str(SAMPLE), "--index", str(index),
                                      "--quiet"])
    assert result.exit_code == 0, result.output
    return index


def run(*args: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(cli, ["--model", "hash", *args], env={"QA_CONFIG": ""})
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_search_json_fills_source_and_url_for_text_pages(built: Path) -> None:
    hits = run("search", "Who seized the crossing?", "--json", "--index", str(built))["hits"]
    assert hits
    for h in hits:
        assert h["source"] and Path(h["source"]).is_file() and Path(h["source"]).parent == SAMPLE.resolve()
        assert h["url"] == Path(h["source"]).resolve().as_uri()
        assert h["outlet"] is None  # the sample's pages name no outlet


def test_ask_json_quote_is_the_quoted_sentences_and_text_the_passage(built: Path) -> None:
    data = run("ask", "Who seized the Tal Varesh crossing?", "--json", "--index", str(built))
    assert not data["abstained"]
    used = [c for c in data["citations"] if c["used"]]
    assert used
    for c in data["citations"]:
        assert c["source"] and c["url"] and c["text"]
        if c["used"]:
            assert 0 < len(c["quote"]) < len(" ".join(c["text"].split()))
            for piece in c["quote"].split(" … "):
                assert piece in " ".join(c["text"].split())
        else:
            assert c["quote"] == ""
    # every quoted sentence shows up in the answer itself
    answer = " ".join(data["answer"].split())
    assert any(c["quote"].split(" … ")[0][:40] in answer for c in used)


def test_quoted_joins_spans_and_marks_gaps() -> None:
    hit = make_hit(1, "A one. B two. C three.")
    assert quoted(Citation(1, hit, ((0, 6), (14, 22)))) == "A one. … C three."
    assert quoted(Citation(1, hit, ((7, 13), (0, 6)))) == "A one. B two."
    assert quoted(Citation(1, hit)) == ""


def test_records_prefer_the_documents_url() -> None:
    hit = make_hit(1, "Text.", source="Reuters", path="page.txt")
    web = make_hit(1, "Text.", source="Reuters", path=None)
    web = type(web)(chunk=web.chunk, score=web.score, rank=1, source="Reuters", url="https://example.org/a")
    assert hit_record(web)["source"] == "https://example.org/a" == hit_record(web)["url"]
    assert hit_record(web)["outlet"] == "Reuters"
    assert hit_record(hit)["source"] == "page.txt" and link(hit) == Path("page.txt").resolve().as_uri()
    assert citation_record(Citation(2, hit, ((0, 5),)))["quote"] == "Text."
    assert link(make_hit(1, "x", path=None)) is None
