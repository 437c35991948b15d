"""Second round of hostile input: forged citation markers, bidi overrides, bad settings, damaged
manifests, bad batch files. Logic only (no model); the CLI and disk cases are in test_hostile_cli.py."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from qa.answer.cite import answer_markers, markers
from qa.answer.extractive import abstention, compose
from qa.answer.picker import Candidate as Sentence
from qa.config import Settings, load_settings
from qa.errors import ConfigError, IndexCorrupt, QAError
from qa.eval.outcomes import judge_answer
from qa.eval.questions import Question
from qa.index.files import SCHEMA
from qa.page import render
from qa.page.chat import Turn
from tests.conftest import SAMPLE, make_hit

RLO = "\u202e"
HUGE = "[" + "9" * 5000 + "]"


def _comment_answer(text: str, author: str = "Fred"):  # type: ignore[no-untyped-def]
    hits = [make_hit(1, "The garrison left the crossing on Monday.", title="Crossing report"),
            make_hit(2, text, kind="comment", author=author, comment_index=0)]
    picked = [Sentence(0, 0, len(hits[0].chunk.text), hits[0].chunk.text, False),
              Sentence(1, 0, len(text), text, False)]
    return compose("Who left the crossing?", hits, picked)


def _links(html: str) -> list[str]:
    return re.findall(r'<a class="qa-cite" href="#src-\d+-(\d+)">', html)


def test_a_marker_typed_in_a_comment_is_not_a_link() -> None:
    answer = _comment_answer("The garrison left, see [1] and [2] for proof.")
    assert "[1] and [2]" in answer.text  # the comment is quoted as written
    assert answer_markers(answer) == [1, 2]  # the answerer's own markers only, one per passage
    html = render.answer_html(answer, 1)
    assert _links(html) == ["1", "2"]
    assert "see [1] and [2] for proof" in html  # plain text, not links


def test_eval_counts_only_the_answerers_markers() -> None:
    answer = _comment_answer("Nonsense [1][1][1], all of it.")
    assert markers(answer.text).count(1) == 4  # the text alone cannot tell them apart
    judged = judge_answer(Question("q1", "Who left the crossing?", ("garrison",), (), "inference"), answer)
    assert judged["cited"] == (1, 2)


def test_a_huge_bracketed_number_is_text() -> None:
    answer = _comment_answer(f"The garrison left {HUGE} in the end.")
    html = render.answer_html(answer, 1)
    assert HUGE in html and _links(html) == ["1", "2"]
    assert markers(f"a {HUGE} b [2]") == [2]


def test_an_llm_reply_with_a_huge_number_renders() -> None:
    from qa.types import Answer, Citation

    hit = make_hit(1, "Text.")
    answer = Answer("q", f"It says {HUGE} and [1].", (Citation(1, hit),))  # marks unknown: parsed
    html = render.answer_html(answer, 3)
    assert _links(html) == ["1"] and HUGE in html


def test_the_question_in_an_abstention_is_not_a_citation() -> None:
    hits = [make_hit(1, "Unrelated text here.")]
    answer = abstention("what is [1]?", hits)
    assert answer_markers(answer) == []
    assert _links(render.answer_html(answer, 1)) == []


def test_archive_strings_are_isolated_in_the_answer_and_the_cards() -> None:
    answer = _comment_answer("The garrison left on Monday.", author=f"{RLO}derF")
    html = render.answer_html(answer, 1)
    assert f"Reader comment by <bdi>{RLO}derF</bdi>: “<bdi>The garrison left on Monday.</bdi>”" in html
    card = render.source_card(answer.citations[1], 1)
    assert f"<bdi>comment by {RLO}derF</bdi>" in card
    assert '<div class="qa-title"><bdi>Crossing report</bdi></div>' in render.source_card(answer.citations[0], 1)
    assert '<p class="qa-passage"><bdi>' in card
    turn = Turn("q?", None, answer)  # type: ignore[arg-type]
    assert "<bdi>q?</bdi>" in render.turn_sources(turn, 1)
    assert "unicode-bidi: isolate" in render.CSS


# --- settings: every bad value is refused at load, naming the setting and its variable -------------

BAD_SETTINGS = {
    "llm_timeout nan": ({"QA_LLM_TIMEOUT": "nan"}, "llm_timeout (QA_LLM_TIMEOUT)"),
    "llm_timeout inf": ({"QA_LLM_TIMEOUT": "inf"}, "llm_timeout (QA_LLM_TIMEOUT)"),
    "max_question_chars 1e400": ({"QA_MAX_QUESTION_CHARS": "1e400"}, "max_question_chars (QA_MAX_QUESTION_CHARS)"),
    "url unclosed ipv6": ({"QA_LLM_URL": "http://[::1"}, "llm_url (QA_LLM_URL)"),
    "url with a space": ({"QA_LLM_URL": "http://exa mple/v1"}, "llm_url (QA_LLM_URL)"),
    "url port not a number": ({"QA_LLM_URL": "http://127.0.0.1:abc/v1"}, "llm_url (QA_LLM_URL)"),
    "url port too big": ({"QA_LLM_URL": "http://127.0.0.1:99999/v1"}, "llm_url (QA_LLM_URL)"),
    "url no host": ({"QA_LLM_URL": "http:///v1"}, "llm_url (QA_LLM_URL)"),
    "api key with a newline": ({"QA_LLM_URL": "http://127.0.0.1:8080/v1", "QA_LLM_API_KEY": "sk-1\nX-Evil: 1"},
                               "QA_LLM_API_KEY"),
    "openai key with a space": ({"QA_LLM_URL": "http://127.0.0.1:8080/v1", "OPENAI_API_KEY": "sk 1"},
                                "OPENAI_API_KEY"),
    "model empty": ({"QA_MODEL": ""}, "model (QA_MODEL)"),
    "model hash:-5": ({"QA_MODEL": "hash:-5"}, "model (QA_MODEL)"),
    "model hash:abc": ({"QA_MODEL": "hash:abc"}, "model (QA_MODEL)"),
    "k abc": ({"QA_K": "abc"}, "k (QA_K) must be a whole number, got 'abc'"),
    "k 1.9": ({"QA_K": "1.9"}, "k (QA_K) must be a whole number"),
    "k 5000 digits": ({"QA_K": "9" * 5000}, "k (QA_K) must be a whole number"),
    "rerank maybe": ({"QA_RERANK": "maybe"}, "rerank (QA_RERANK) must be true or false"),
    "index blank": ({"QA_INDEX": " "}, "index (QA_INDEX)"),
    "index empty": ({"QA_INDEX": ""}, "index (QA_INDEX) is empty"),
    "dense_weight nan": ({"QA_DENSE_WEIGHT": "nan"}, "dense_weight (QA_DENSE_WEIGHT)"),
}

BAD_TOML = {
    "k = 1.9": "k (QA_K) must be a whole number, got 1.9",
    "k = true": "k (QA_K) must be a whole number, got True",
    "max_question_chars = 1e400": "max_question_chars (QA_MAX_QUESTION_CHARS) must be a whole number",
    "llm_timeout = nan": "llm_timeout (QA_LLM_TIMEOUT) must be a number",
    "llm_timeout = inf": "llm_timeout (QA_LLM_TIMEOUT) must be a number",
    "llm_timeout = true": "llm_timeout (QA_LLM_TIMEOUT) must be a number",
    "rerank = 1": "rerank (QA_RERANK) must be true or false",
    'model = ["a"]': "model (QA_MODEL) must be text",
    "index = 3": "index (QA_INDEX) must be a path",
}


@pytest.mark.parametrize("name", sorted(BAD_SETTINGS))
def test_bad_environment_settings_are_refused_at_load(name: str) -> None:
    env, expected = BAD_SETTINGS[name]
    with pytest.raises(ConfigError) as info:
        load_settings(env=env)
    message = str(info.value)
    assert expected in message and "\n" not in message


@pytest.mark.parametrize("line", sorted(BAD_TOML))
def test_bad_toml_settings_are_refused_at_load(line: str, tmp_path: Path) -> None:
    (tmp_path / "qa.toml").write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(BAD_TOML[line])):
        load_settings(env={}, config_file=tmp_path / "qa.toml")


def test_good_settings_still_load(tmp_path: Path) -> None:
    (tmp_path / "qa.toml").write_text("k = 7\nllm_timeout = 2.5\nrerank = false\n", encoding="utf-8")
    s = load_settings(env={"QA_DEPTH": " 40 ", "QA_DENSE_WEIGHT": "0.25", "QA_LLM_URL": "http://[::1]:8080/v1",
                           "QA_LLM_API_KEY": "sk-abc_123", "QA_MODEL": "hash:64"},
                      config_file=tmp_path / "qa.toml")
    assert (s.k, s.llm_timeout, s.rerank, s.depth, s.dense_weight, s.model) == (7, 2.5, False, 40, 0.25, "hash:64")
    assert load_settings(env={"OPENAI_API_KEY": "has a space"}).llm_url == ""  # unused without an endpoint


# --- the index's integrity check is not optional ---------------------------------------------------

def _edit_manifest(settings: Settings, change: Callable[[dict[str, Any]], None], reseal: bool) -> None:
    from qa.index.folder import live_build
    from qa.index.folder import manifest_checksum as _manifest_checksum

    path = live_build(settings.index) / "manifest.json"  # type: ignore[operator]
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest)
    if reseal:
        manifest["checksum"] = _manifest_checksum(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def _edit_database(settings: Settings, sql: str) -> None:
    """Change chunks.sqlite, then re-seal its size and hash and the manifest, as a careful attacker would."""
    import hashlib

    from qa.index import live_build

    database = live_build(settings.index) / "chunks.sqlite"  # type: ignore[operator]
    con = sqlite3.connect(database)
    con.executescript(sql)
    con.commit()
    con.close()

    def seal(manifest: dict[str, Any]) -> None:
        manifest["files"]["chunks.sqlite"] = {"bytes": database.stat().st_size,
                                              "sha256": hashlib.sha256(database.read_bytes()).hexdigest()}
    _edit_manifest(settings, seal, reseal=True)


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda m: m.pop(key)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(m: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for p in parents:
            m = m[p]
        m[last] = value
    return change


MANIFEST_EDITS = {
    "checksum removed": (_drop("checksum"), False, "checksum is missing"),
    "checksum removed, documents edited": (lambda m: (m.pop("checksum"), _set("counts.documents", 999_999)(m)),
                                           False, "checksum is missing"),
    "checksum removed, format 1 claimed": (lambda m: (m.pop("checksum"), _set("format_version", 1)(m),
                                                      _set("sources", 7)(m)), False, "older archive-qa"),
    "sources a number, resealed": (_set("sources", 7), True, "fields missing"),
    "sources a list of numbers, resealed": (_set("sources", [1, 2]), True, "fields missing"),
    "sources an object, resealed": (_set("sources", {"a": 1}), True, "fields missing"),
    "documents a string, resealed": (_set("counts.documents", "many"), True, "fields missing"),
    "documents negative, resealed": (_set("counts.comments", -1), True, "fields missing"),
    "dim true, resealed": (_set("model.dim", True), True, "fields missing"),
    "file size a string, resealed": (lambda m: m["files"]["sentences.npy"].update(bytes="x"), True, "fields missing"),
    "created_at removed, resealed": (_drop("created_at"), True, "fields missing"),
}

DATABASE_EDITS = {
    "rows shifted": "UPDATE chunks SET row = -row - 1; UPDATE chunks SET row = -row;",
    "a row deleted": "DELETE FROM chunks WHERE row = 5;",
    "a NULL chunk text": """
        CREATE TABLE loose AS SELECT * FROM chunks; UPDATE loose SET text = NULL WHERE row = 3;
        DROP TABLE chunks; ALTER TABLE loose RENAME TO chunks;""",
    "a blob for a title": "UPDATE chunks SET title = X'4142' WHERE row = 2;",
    "a text offset": "UPDATE chunks SET start = 'x' WHERE row = 2;",
    "an unknown kind": "UPDATE chunks SET kind = 'advert' WHERE row = 2;",
    "a bad date": "UPDATE chunks SET published_at = 'soon' WHERE row = 2;",
    "a NULL document body": """
        CREATE TABLE loose AS SELECT * FROM documents; UPDATE loose SET body = NULL;
        DROP TABLE documents; ALTER TABLE loose RENAME TO documents;""",
}


@pytest.mark.parametrize("name", sorted(MANIFEST_EDITS))
def test_an_edited_manifest_is_damaged_whatever_its_keys_say(name: str, hash_settings: Settings) -> None:
    from qa.build import build_index
    from qa.index import open_index, read_manifest

    build_index([SAMPLE], hash_settings)
    change, reseal, expected = MANIFEST_EDITS[name]
    _edit_manifest(hash_settings, change, reseal)
    for load in (read_manifest, open_index):
        with pytest.raises(QAError, match=expected) as info:
            load(hash_settings.index)
        assert "Rebuild it: qa " in str(info.value)


@pytest.mark.parametrize("name", sorted(DATABASE_EDITS))
def test_a_resealed_database_with_bad_rows_is_damaged(name: str, hash_settings: Settings) -> None:
    from qa.build import build_index
    from qa.index import open_index

    build_index([SAMPLE], hash_settings)
    _edit_database(hash_settings, DATABASE_EDITS[name])
    with pytest.raises(IndexCorrupt, match=r"cannot be read .*Rebuild it: qa .*index build"):
        open_index(hash_settings.index)


def test_rows_removed_under_a_loaded_index_are_an_error_not_a_keyerror(hash_settings: Settings) -> None:
    from qa.build import build_index
    from qa.index import open_index

    build_index([SAMPLE], hash_settings)
    index = open_index(hash_settings.index)
    index._con = sqlite3.connect(":memory:", check_same_thread=False)  # the file changed under the server
    index._con.executescript(SCHEMA)
    with pytest.raises(IndexCorrupt, match="has no passage at row 46"):
        index.chunks([46])


def test_the_query_caches_survive_many_threads(sample_index: Settings) -> None:
    """More distinct queries than the caches hold, from 8 threads at once: eviction races raised
    KeyError; every thread must get what one thread alone gets."""
    from concurrent.futures import ThreadPoolExecutor

    from qa.embed.models import load_embedder
    from qa.index import open_index

    index = open_index(sample_index.index)
    embedder = load_embedder("hash")
    queries = [f"who held the crossing in week {i}?" for i in range(300)]
    alone = [index.lexical.query_terms(q) for q in queries]

    def work(offset: int) -> list[dict[str, float]]:
        order = queries[offset:] + queries[:offset]
        for q in order:
            embedder.embed_query(q)
        return [index.lexical.query_terms(q) for q in order]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(0, 300, 38)))
    for offset, got in zip(range(0, 300, 38), results):
        assert got == alone[offset:] + alone[:offset]
