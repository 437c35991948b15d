"""The shared text layer: folding, stems, the one stop-word list, the sentence splitter (pure, no model)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from qa import text
from qa.text import CONVERSATION_STOPWORDS, NAME_PARTICLES, STOPWORDS, analyze, fold, split_sentences, stem

ROOT = Path(__file__).resolve().parent.parent


def _sentences(t: str) -> list[str]:
    return [t[s:e] for s, e in split_sentences(t)]


def test_stems_are_snowball_english() -> None:
    assert stem("news") != stem("new")
    assert stem("states") == stem("state") == "state"
    assert stem("crossings") == stem("crossing")
    assert stem("forces") == stem("force")
    assert analyze("The News of the States") == ["news", "state"]
    assert fold("Al-Walíd’s") == "al-walid's"


@pytest.mark.parametrize("passage, expected", [
    ("A.J. Hinch managed the Astros. He was fired.", ["A.J. Hinch managed the Astros.", "He was fired."]),
    ("J. R. R. Tolkien wrote it. Then he slept.", ["J. R. R. Tolkien wrote it.", "Then he slept."]),
    ("The vote closes at 5 p.m. Monday. Results follow.", ["The vote closes at 5 p.m. Monday.", "Results follow."]),
    ("They landed at 10 a.m. ET and left.", ["They landed at 10 a.m. ET and left."]),
    ("The shelling stopped at 5 p.m. The next day was quiet.",
     ["The shelling stopped at 5 p.m.", "The next day was quiet."]),
    ('He said, "We will hold. We will not leave." Then he left.',
     ['He said, "We will hold. We will not leave."', "Then he left."]),
    ("“Stay. Please stay,” she said. Nobody did.", ["“Stay. Please stay,” she said.", "Nobody did."]),
    ("He said “no.” Then he left.", ["He said “no.”", "Then he left."]),
    ("Gen. Smith met Lt. Col. Jones on Nov. 25. They talked.",
     ["Gen. Smith met Lt. Col. Jones on Nov. 25.", "They talked."]),
    ("The U.S. Army left. See No. 5 here. Done.", ["The U.S. Army left.", "See No. 5 here.", "Done."]),
    ("Hi there. Gen. Smith came.\nOk", ["Hi there.", "Gen. Smith came.", "Ok"]),
    ('An open quote " never closes. So this splits.', ['An open quote " never closes.', "So this splits."]),
    ("", []),
])
def test_sentence_splitter(passage: str, expected: list[str]) -> None:
    assert _sentences(passage) == expected


def test_a_quotation_unclosed_in_its_paragraph_holds_nothing_back() -> None:
    assert _sentences("“First line. Still quoted\nNew paragraph. Two.”") == [
        "“First line.", "Still quoted", "New paragraph.", "Two.”"]


def test_one_list_of_stop_words_and_of_name_particles() -> None:
    assert STOPWORDS <= CONVERSATION_STOPWORDS
    assert {"who", "what", "readers"} <= CONVERSATION_STOPWORDS and "who" in STOPWORDS
    assert {"al", "bin", "von", "de"} <= NAME_PARTICLES
    # no other module defines a word list of its own: each reads them from qa/text.py
    for path in (ROOT / "qa").rglob("*.py"):
        if path.name == "text.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Set):
                names = {t.id.strip("_").upper() for t in node.targets if isinstance(t, ast.Name)}
                assert not names & {"STOP", "STOPWORDS", "WH", "NAME_JOINERS", "CONNECTORS"}, f"{path.name}: {names}"


def test_text_modules_import_at_the_top() -> None:
    """No function-level import of the text, lexical or alias modules (the old way to hide a cycle)."""
    for path in (ROOT / "qa").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.ImportFrom) and inner.module in {"qa.text", "qa.index.lexical",
                                                                              "qa.aliases"}:
                        pytest.fail(f"{path.name}:{inner.lineno} imports {inner.module} inside {node.name}")
    assert text.__name__ == "qa.text"
