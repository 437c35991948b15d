"""Hostile and broken input: files that are not what they claim, and questions nobody should ask.

Each bad file is skipped with a reason (or indexed correctly) and reported, and nothing else in the
build is lost; each bad question is answered or refused with a BadQuestion. Property tests run the
readers and the question path over generated input; the page reader must recover generated pages
exactly and never let the site's boilerplate through (boilerplate read from the real pages in
../shared/archive and from the bundled sample, never copied here).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from qa.build import build_index
from qa.config import Settings, load_settings
from qa.dates import parse_date
from qa.errors import BadQuestion
from qa.index import open_index
from qa.ingest import Skipped, iter_documents
from qa.ingest.page import parse_page
from qa.ingest.records import read_json, read_jsonl, record_to_document
from qa.pipeline import Pipeline, clean_question
from qa.types import Answer, Document

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "qa" / "data" / "sample_archive"
ARCHIVE = ROOT.parent / "shared" / "archive"
MB50 = 50 * 2**20


def _comments_only(page: str) -> str:
    """The page with its body, bio and appeal cut out: title, then "Tags:" and everything after."""
    lines = page.split("\n")
    tags = next(i for i, line in enumerate(lines) if line.startswith("Tags:"))
    return "\n".join([lines[0], "", *lines[tags:]])


def _hostile_files(folder: Path) -> dict[str, str]:
    """Write the bad files; return file name -> the reason its report must give."""
    files: dict[str, bytes | str] = {
        "binary.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8,
        "controls.txt": "".join(chr(i % 31 + 1) for i in range(5000)),
        "latin1.txt": "Caf\xe9 owner says the crossing is open\n\nBody text.\n".encode("latin-1"),
        "huge.txt": "x" * MB50,
        "huge.jsonl": json.dumps({"title": "Huge", "body": "word " * (MB50 // 5)}),
        "deep.json": "[" * 100_000 + "]" * 100_000,
        "top.json": "42",
        "empty.txt": "",
        "blank.txt": "  \n\n\t \n",
        "empty.json": "",
        "empty.jsonl": "\n\n",
        "title_only.txt": "Just a title\n",
        "page_03_copy.txt": (SAMPLE / "page_03.txt").read_bytes(),
        "notes.pdf": b"%PDF-1.4\n",
    }
    for name, data in files.items():
        path = folder / name
        path.write_bytes(data) if isinstance(data, bytes) else path.write_text(data, encoding="utf-8")
    return {
        "binary.txt": "binary file (contains NUL bytes)",
        "controls.txt": "binary file (control characters)",
        "latin1.txt": "not valid UTF-8 (byte 3)",
        "huge.txt": "file is 50.0 MiB, over the 5 MiB limit",
        "huge.jsonl": "over the 5,000,000 limit",
        "deep.json": "JSON nested too deeply",
        "top.json": "expected a list of articles, got int",
        "empty.txt": "empty page",
        "blank.txt": "empty page",
        "empty.json": "invalid JSON",
        "empty.jsonl": "no documents in this file",
        "title_only.txt": "no article text or comments",
        "page_03_copy.txt": "duplicate of document page_03",
        "notes.pdf": "unsupported file type .pdf",
    }


MIXED_JSON = [  # in one 50 MB single-line file: bad records beside good ones
    1, "text", None, [], {"title": 5, "body": ["a list"]}, {"title": True, "body": "b"},
    {"title": "Object body", "body": {"a": 1}}, {"title": "No body"}, {"body": "No title"},
    {"title": "Comments not a list", "body": "b", "comments": "x"},
    {"title": "Deep comment", "body": "b", "comments": [[[[[[[[["deep"]]]]]]]]]},
    {"title": "Good wire record", "body": "A ferry carrying diesel was seized on the Serran.", "id": 7,
     "published_at": "2024-07-01", "comments": [{"author": "eng", "text": "About time."}, {"text": "No name."}]},
    {"title": "Too big", "body": "y" * (MB50 - 1000)},
    {"title": "Second good record", "body": "Engineers inspected the bridge at Tal Varesh.", "id": "wire-2"},
]
MIXED_JSONL = "\n".join([
    "[" * 50_000 + "]" * 50_000,
    "{broken",
    json.dumps({"id": "dup", "title": "Same id", "body": "First version."}),
    json.dumps({"id": "dup", "title": "Same id", "body": "Second version."}),
    json.dumps({"id": "dup", "title": "Same id", "body": "Third version."}),
    json.dumps({"id": "dup", "title": "Same id", "body": "Second version."}),  # a true duplicate
    json.dumps({"id": "dup", "title": "Same id", "body": "Third version."}),  # and another
])


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("hostile") / "archive"
    shutil.copytree(SAMPLE, folder)
    reasons = _hostile_files(folder)
    (folder / "mixed.json").write_text(json.dumps(MIXED_JSON), encoding="utf-8")  # one line, ~50 MB
    (folder / "mixed.jsonl").write_text(MIXED_JSONL, encoding="utf-8")
    (folder / "comments_only.txt").write_text(_comments_only((SAMPLE / "page_08.txt").read_text(encoding="utf-8")),
                                              encoding="utf-8")
    return folder, reasons


@pytest.fixture(scope="module")
def hostile_index(hostile: tuple[Path, dict[str, str]], tmp_path_factory: pytest.TempPathFactory) -> Any:
    settings = load_settings({"index": tmp_path_factory.mktemp("hostile-index"), "model": "hash"}, env={})
    return build_index([hostile[0]], settings), settings


def test_every_bad_file_is_skipped_with_its_reason(hostile: tuple[Path, dict[str, str]], hostile_index: Any) -> None:
    folder, reasons = hostile
    report, _ = hostile_index
    by_file: dict[str, list[str]] = {}
    for s in report.skipped:
        by_file.setdefault(Path(s.path.split(":")[0]).name, []).append(s.reason)
    for name, reason in reasons.items():
        assert any(reason in r for r in by_file.get(name, [])), (name, by_file.get(name))
    mixed = by_file["mixed.json"]
    assert len(mixed) == len(MIXED_JSON) - 2  # all but the two good records, each with its reason
    assert any("over the 5,000,000 limit" in r for r in mixed)
    assert any("field 'body' must be text, not list" in r for r in mixed)
    jsonl = by_file["mixed.jsonl"]
    assert sum("duplicate of document dup" in r for r in jsonl) == 2
    assert any("JSON nested too deeply" in r for r in jsonl) and any("invalid JSON" in r for r in jsonl)


def test_nothing_good_is_lost(hostile_index: Any, tmp_path: Path) -> None:
    _, settings = hostile_index
    index = open_index(settings.index)
    docs = index.documents()
    clean = load_settings({"index": tmp_path / "clean", "model": "hash"}, env={})
    build_index([SAMPLE], clean)
    expected = {c.chunk_id for c, _ in open_index(clean.index).all_chunks()}
    got = {c.chunk_id for c, _ in index.all_chunks()}
    assert expected <= got  # every passage of every good page: documents lost 0
    sample_ids = {p.stem for p in SAMPLE.glob("*.txt")}
    assert sample_ids | {"7", "wire-2", "comments_only"} <= set(docs)
    dups = sorted(i for i in docs if i.startswith("dup"))
    assert len(dups) == 3 and {docs[i].body for i in dups} == {"First version.", "Second version.", "Third version."}
    assert docs["7"].comments[1].author == "anonymous" and docs["7"].published_at == "2024-07-01"
    assert len(docs) == len(sample_ids) + 2 + 3 + 1


def test_a_page_with_only_comments_is_indexed_as_comments(hostile_index: Any) -> None:
    _, settings = hostile_index
    index = open_index(settings.index)
    doc = index.documents(["comments_only"])["comments_only"]
    original = parse_page((SAMPLE / "page_08.txt").read_text(encoding="utf-8"), "page_08")
    assert doc.body == "" and doc.comments == original.comments and len(doc.comments) == 6
    chunks = [c for c, _ in index.all_chunks() if c.doc_id == "comments_only"]
    assert chunks and {c.kind for c in chunks} == {"comment"}
    assert not any("Tags:" in c.text or re.search(r"^\s*\d+ Comments", c.text, re.M) for c in chunks)


def test_cli_build_reports_each_skip_and_succeeds(hostile: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    folder, reasons = hostile
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "qa.cli", "--model", "hash", "index", "build", str(folder),
                          "--index", str(tmp_path / "index"), "--quiet"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0 and "Traceback" not in run.stderr
    skipped = [line for line in run.stderr.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == len(run.stderr.splitlines())  # nothing but the skip reports
    for name, reason in reasons.items():
        assert any(name in line and reason in line for line in skipped), name
    assert re.search(r"Indexed 18 documents, .* skipped", run.stdout)


# --- questions -----------------------------------------------------------------------------------

REFUSED = {
    "empty": "",
    "whitespace": " \t\n\r ",
    "100,000 characters": ("crossing " * 11_112)[:100_000],
    "only invisible characters": "\u200b\u200d\ufeff\u2060",
    "only control characters": "\x00\x01\x1b\x7f",
}
ANSWERED = {
    "control characters": "who\x00controls\x07the\x1bTal\tVaresh\x7fcrossing?",
    "right-to-left (Arabic)": "من يسيطر على معبر تل فاريش؟",
    "right-to-left (Hebrew)": "מי שולט במעבר?",
    "CJK": "谁控制着边境口岸？",
    "mixed scripts": "Tal Varesh 口岸 المعبر crossing",
    "emoji": "🚧 crossing? 🚧",
    "lone surrogate": "crossing \ud800 guards",
    "combining marks only": "\u0301\u0301\u0301",
    "punctuation only": "???!!!",
    "markup": "<script>alert(1)</script> who controls the crossing?",
    "bidi override": "\u202ewho controls the crossing\u202c",
    "2,000 characters": ("crossing " * 300)[:2000],
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_bad_questions_are_refused_with_a_reason(name: str, pipeline: Pipeline) -> None:
    for call in (pipeline.ask, pipeline.search):
        with pytest.raises(BadQuestion, match=r"The question is (empty|[\d,]+ characters long)"):
            call(REFUSED[name])


@pytest.mark.parametrize("name", sorted(ANSWERED))
def test_odd_questions_are_answered(name: str, pipeline: Pipeline) -> None:
    answer = pipeline.ask(ANSWERED[name])
    assert isinstance(answer, Answer) and answer.text
    hits = pipeline.search(ANSWERED[name])
    assert len(hits) <= pipeline.settings.k and [h.rank for h in hits] == list(range(1, len(hits) + 1))


def test_control_characters_do_not_change_the_answer(pipeline: Pipeline) -> None:
    plain = pipeline.ask("who controls the Tal Varesh crossing?")
    noisy = pipeline.ask(ANSWERED["control characters"])
    assert [c.hit.chunk.chunk_id for c in noisy.citations] == [c.hit.chunk.chunk_id for c in plain.citations]


@pytest.mark.parametrize("question, refused", [
    ("", True), ("   ", True), ("crossing " * 11_112, True),
    ("who\x07controls\x1bthe\x7fcrossing?", False),  # (a NUL cannot be passed in argv)
    (ANSWERED["right-to-left (Arabic)"], False), (ANSWERED["CJK"], False),
])
def test_cli_answers_or_refuses_in_one_line(question: str, refused: bool, sample_index: Settings) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "qa.cli", "--model", "hash", "ask", question, "--index",
                          str(sample_index.index)], capture_output=True, text=True, env=env, timeout=120)
    assert "Traceback" not in run.stderr
    if refused:
        assert run.returncode == 1 and run.stdout == "" and run.stderr.count("\n") == 1
        assert run.stderr.startswith("Error: The question is ")
    else:
        assert run.returncode == 0 and run.stdout.strip()


# --- property tests ------------------------------------------------------------------------------

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOME = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
PAGE_LINES = st.lists(st.one_of(
    st.text(max_size=80),
    st.sampled_from(["", "   ", "  • Bob says:", "• Al says:", "Bob says:", "Tags: , ,", "3 Comments",
                     "John Smith is a reporter.", "Please donate today", "May 22, 2024", "\ufeff", "\r", "    x"]),
), max_size=40)


@FAST
@given(PAGE_LINES)
def test_parse_page_gives_a_document_or_a_value_error(lines: list[str]) -> None:
    try:
        doc = parse_page("\n".join(lines), "x")
    except ValueError as exc:
        assert str(exc)
        return
    assert isinstance(doc, Document) and doc.title == doc.title.strip() and 0 < len(doc.title) <= 500
    assert doc.body or doc.comments
    assert all(c.text and c.author for c in doc.comments)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["title", "body", "text", "content", "comments", "id", "url", "date", "published_at",
                         "author", "name", "source", "category"]) | st.text(max_size=5), inner, max_size=6),
    max_leaves=25,
)


@FAST
@given(JSON)
def test_records_give_a_document_or_a_value_error(record: Any) -> None:
    try:
        doc = record_to_document(record, "p.json")
    except ValueError:
        doc = None
    if doc is not None:
        assert doc.title and (doc.body or doc.comments) and isinstance(doc.doc_id, str)
    try:
        items = list(read_json(json.dumps(record), "p.json"))
    except ValueError:  # not an array of records (or an object holding one)
        items = []
    for item in items:
        assert isinstance(item, Document) and item.title or isinstance(item, ValueError) and str(item)
    # one line of JSON: the record read as `record_to_document` reads it, or one error naming line 1
    lines = list(read_jsonl(json.dumps(record), "p.jsonl"))
    if doc is not None:
        assert lines == [record_to_document(record, "p.jsonl")]
    else:
        assert len(lines) == 1 and isinstance(lines[0], ValueError) and str(lines[0]).startswith("line 1: ")


@FAST
@given(st.text())
def test_json_readers_never_raise_anything_but_value_error(text: str) -> None:
    try:
        list(read_json(text, "p.json"))
    except ValueError:
        pass
    # each non-blank line gives one item: a document, or an error that names the line
    items = list(read_jsonl(text, "p.jsonl"))
    numbers = [n for n, line in enumerate(text.split("\n"), start=1) if line.strip()]
    assert len(items) == len(numbers)
    for n, item in zip(numbers, items):
        assert isinstance(item, Document) or str(item).startswith(f"line {n}: ")


@SOME
@given(st.lists(st.tuples(st.sampled_from([".txt", ".json", ".jsonl", ".md"]), st.binary(max_size=400)),
                max_size=6))
def test_any_files_are_read_or_reported(files: list[tuple[str, bytes]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for n, (suffix, data) in enumerate(files):
            Path(tmp, f"f{n}{suffix}").write_bytes(data)
        skipped: list[Skipped] = []
        docs = list(iter_documents([Path(tmp)], skipped))
        assert len({d.doc_id for d in docs}) == len(docs)
        files_reported = {Path(s.path.split(":")[0]).name for s in skipped} | {Path(d.path or "").name for d in docs}
        assert files_reported == {f"f{n}{suffix}" for n, (suffix, _) in enumerate(files)}


@FAST
@given(st.text(max_size=3000))
def test_clean_question_refuses_or_cleans(question: str) -> None:
    try:
        text = clean_question(question, 2000)
    except BadQuestion as exc:
        assert str(exc).startswith("The question is ")
        return
    assert text and text == text.strip() and len(text) <= 2000 and "  " not in text
    assert not any(unicodedata.category(ch).startswith("C") for ch in text)


@SOME
@given(st.text(max_size=300) | st.text(alphabet=st.characters(min_codepoint=0x0590, max_codepoint=0x30FF)))
def test_search_and_ask_answer_or_refuse_anything(pipeline: Pipeline, question: str) -> None:
    try:
        hits = pipeline.search(question)
        answer = pipeline.ask(question)
    except BadQuestion:
        return
    assert len(hits) <= pipeline.settings.k and isinstance(answer.text, str)


# --- the page reader never lets the site's boilerplate through ----------------------------------

def _boilerplate(page: Path) -> dict[str, Any]:
    """The parts of a real page around its content: bio, appeal, tags line, counter, navigation."""
    lines = page.read_text(encoding="utf-8").split("\n")
    tags = next(i for i, line in enumerate(lines) if line.startswith("Tags:"))
    before = [line for line in lines[:tags] if line.strip()]
    last_indented = max(i for i, line in enumerate(lines) if line[:1].isspace() and line.strip())
    counter = [line for line in lines[tags + 1:] if re.fullmatch(r"\d+ Comments?", line.strip())]
    return {"bio": before[-2], "appeal": before[-1], "tags": lines[tags], "counter": counter[:1],
            "nav": [line for line in lines[last_indented + 1:] if line.strip()],
            "author": parse_page("\n".join(lines), "x").author}


def _pages() -> list[Path]:
    real = sorted(ARCHIVE.glob("*.txt")) if ARCHIVE.is_dir() else []
    return real + sorted(SAMPLE.glob("*.txt"))[:3]


SENTENCE = st.from_regex(r"[A-Z][a-z]{1,9}( [a-z0-9,;'’\-]{1,9}){0,12}[.!?]", fullmatch=True)
PARAGRAPH = st.lists(SENTENCE, min_size=1, max_size=4).map(" ".join)
COMMENT = st.tuples(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,14}", fullmatch=True),
                    st.lists(PARAGRAPH, min_size=1, max_size=3))


# One page's boilerplate in the quick run (`make test-fast`); every page's in the full suite.
@pytest.mark.parametrize("page", [p if i == 0 else pytest.param(p, marks=pytest.mark.slow)
                                  for i, p in enumerate(sorted(_pages(), key=lambda p: p.parent != SAMPLE))],
                         ids=lambda p: p.name)
def test_generated_pages_are_recovered_exactly_without_boilerplate(page: Path) -> None:
    parts = _boilerplate(page)

    @SOME
    @given(title=SENTENCE, body=st.lists(PARAGRAPH, min_size=1, max_size=6),
           comments=st.lists(COMMENT, max_size=4), quoted=st.booleans())
    def check(title: str, body: list[str], comments: list[tuple[str, list[str]]], quoted: bool) -> None:
        assume(parse_date(body[0]) is None)  # a first paragraph that reads as a date is the date line
        if quoted and comments:  # a line that reads like a comment marker, inside the article
            body = [*body[:1], "The minister says:", *body[1:]]
        text = "\n\n".join([title, *body, parts["bio"], parts["appeal"], parts["tags"], *parts["counter"]])
        for name, paras in comments:
            text += f"\n\n  • {name} says:\n\n" + "\n\n".join(f"    {p}" for p in paras)
        text += "\n\n\n" + "\n\n".join(parts["nav"]) + "\n"
        doc = parse_page(text, "generated")
        assert doc.title == title and doc.author == parts["author"]
        assert doc.body == "\n\n".join(body)
        assert [(c.author, c.text) for c in doc.comments] == [(n, "\n\n".join(p)) for n, p in comments]
        content = [doc.body, *(c.text for c in doc.comments)]
        for part in (parts["bio"], parts["appeal"], parts["tags"], *parts["counter"]):
            assert not any(part.strip() in c for c in content)

    check()
